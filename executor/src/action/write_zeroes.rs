//! The `write_zeroes` action: Write Zeroes; the verify map then expects zeroes.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::action::{ActionCheck, ActionKind};
use crate::plan::values::Expr;
use crate::run::commands::io::range;
use crate::run::context::{Eval, RunContext, StepResult};
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;

/// Write Zeroes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WriteZeroes {
    /// Namespace ID (default: `defaults.nsid`).
    #[serde(default)]
    pub nsid: Option<Expr<u32>>,
    /// Starting LBA.
    pub slba: Expr<u64>,
    /// Number of logical blocks, 1 to 65536.
    pub nlb: Expr<u64>,
    /// I/O queue to submit on.
    #[serde(default)]
    pub qid: Option<Expr<u16>>,
    /// Deallocate the blocks (DEAC).
    #[serde(default)]
    pub deac: bool,
}

/// The `write_zeroes` action.
#[derive(Debug)]
pub struct WriteZeroesDef;

impl ActionKind for WriteZeroesDef {
    type Plan = WriteZeroes;

    fn check(plan: &Self::Plan, cx: &mut ActionCheck<'_, '_>) {
        cx.nlb(&["nlb"], &plan.nlb);
    }

    fn destructive(_plan: &Self::Plan, _eval: Eval<'_>) -> StepResult<Option<String>> {
        Ok(Some("write_zeroes".to_string()))
    }

    fn execute(a: &Self::Plan, ctx: &mut RunContext, env: StepEnv<'_>) -> StepResult<ActionOutput> {
        let r = range(ctx, env, a.nsid.as_ref(), &a.slba, &a.nlb)?;
        let qid = env.eval.opt(a.qid.as_ref())?;
        let qp = ctx.io_queue(qid, r.nsid, env.timeout)?;
        Ok(ActionOutput::completion(qp.write_zeroes(r.nsid, r.slba, r.nlb, a.deac)?))
    }
}
