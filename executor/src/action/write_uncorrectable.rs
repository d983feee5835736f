//! The `write_uncorrectable` action: marks blocks unreadable until they are written again.

use crate::action::{ActionCheck, ActionKind};
use crate::plan::io::BlockRange;
use crate::run::commands::io::range;
use crate::run::context::{Eval, RunContext, StepResult};
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;

/// The `write_uncorrectable` action.
#[derive(Debug)]
pub struct WriteUncorrectableDef;

impl ActionKind for WriteUncorrectableDef {
    type Plan = BlockRange;

    fn check(plan: &Self::Plan, cx: &mut ActionCheck<'_, '_>) {
        cx.length(plan.nsid.as_ref(), &plan.slba, plan.nlb.as_ref(), plan.size.as_ref());
    }

    fn destructive(_plan: &Self::Plan, _eval: Eval<'_>) -> StepResult<Option<String>> {
        Ok(Some("write_uncorrectable".to_string()))
    }

    fn execute(a: &Self::Plan, ctx: &mut RunContext, env: StepEnv<'_>) -> StepResult<ActionOutput> {
        let r = range(ctx, env, a.nsid.as_ref(), &a.slba, a.nlb.as_ref(), a.size.as_ref())?;
        let qid = env.eval.opt(a.qid.as_ref())?;
        let qp = ctx.io_queue(qid, r.nsid, env.timeout)?;
        Ok(ActionOutput::completion(qp.write_uncorrectable(r.nsid, r.slba, r.nlb)?))
    }
}
