//! The `flush` action: Flush of the volatile write cache.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::action::ActionKind;
use crate::plan::values::Expr;
use crate::run::context::{Eval, RunContext, StepResult};
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;

/// Flush.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Flush {
    /// Namespace ID (default: `defaults.nsid`; 0xFFFFFFFF flushes all).
    #[serde(default)]
    pub nsid: Option<Expr<u32>>,
    /// I/O queue to submit on.
    #[serde(default)]
    pub qid: Option<Expr<u16>>,
}

/// The `flush` action.
#[derive(Debug)]
pub struct FlushDef;

impl ActionKind for FlushDef {
    type Plan = Flush;

    fn destructive(_plan: &Self::Plan, _eval: Eval<'_>) -> StepResult<Option<String>> {
        Ok(None)
    }

    fn execute(a: &Self::Plan, ctx: &mut RunContext, env: StepEnv<'_>) -> StepResult<ActionOutput> {
        let nsid = env.eval.or(a.nsid.as_ref(), ctx.default_nsid)?;
        let qid = env.eval.opt(a.qid.as_ref())?;
        let qp = ctx.io_queue(qid, nsid, env.timeout)?;
        Ok(ActionOutput::completion(qp.flush(nsid)?))
    }
}
