//! The `write_zeroes` action: Write Zeroes; the verify map then expects zeroes.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::action::{ActionCheck, ActionKind};
use crate::plan::size::Size;
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
    /// Starting LBA, or a byte offset with a unit (`1MiB`).
    pub slba: Expr<Size>,
    /// Number of logical blocks, or a byte size with a unit (`4k`); give
    /// `nlb` or `size`.
    #[serde(default)]
    pub nlb: Option<Expr<Size>>,
    /// The same length as `nlb`, usually written in bytes (`size: 1MiB`);
    /// give `nlb` or `size`.
    #[serde(default)]
    pub size: Option<Expr<Size>>,
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
        cx.length(plan.nsid.as_ref(), &plan.slba, plan.nlb.as_ref(), plan.size.as_ref());
    }

    fn destructive(_plan: &Self::Plan, _eval: Eval<'_>) -> StepResult<Option<String>> {
        Ok(Some("write_zeroes".to_string()))
    }

    fn execute(a: &Self::Plan, ctx: &mut RunContext, env: StepEnv<'_>) -> StepResult<ActionOutput> {
        let r = range(ctx, env, a.nsid.as_ref(), &a.slba, a.nlb.as_ref(), a.size.as_ref())?;
        let qid = env.eval.opt(a.qid.as_ref())?;
        let qp = ctx.io_queue(qid, r.nsid, env.timeout)?;
        Ok(ActionOutput::completion(qp.write_zeroes(r.nsid, r.slba, r.nlb, a.deac)?))
    }
}
