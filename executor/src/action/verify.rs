//! The `verify` action: the NVM Verify command (the controller checks the blocks; no data moves).

use crate::action::{ActionCheck, ActionKind, RangeCheck};
use crate::plan::io::BlockRange;
use crate::run::commands::io::range;
use crate::run::commands::split::{self, Transfer};
use crate::run::context::{Eval, RunContext, StepResult};
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;

/// The `verify` action.
#[derive(Debug)]
pub struct VerifyDef;

impl ActionKind for VerifyDef {
    type Plan = BlockRange;

    fn check(plan: &Self::Plan, cx: &mut ActionCheck<'_, '_>) {
        cx.length(RangeCheck {
            nsid: plan.nsid.as_ref(),
            slba: &plan.slba,
            nlb: plan.nlb.as_ref(),
            size: plan.size.as_ref(),
            split: plan.split,
            transfer: Transfer::NoData,
        });
    }

    fn destructive(_plan: &Self::Plan, _eval: Eval<'_>) -> StepResult<Option<String>> {
        Ok(None)
    }

    fn execute(a: &Self::Plan, ctx: &mut RunContext, env: StepEnv<'_>) -> StepResult<ActionOutput> {
        let r = range(ctx, env, a.nsid.as_ref(), &a.slba, a.nlb.as_ref(), a.size.as_ref())?;
        let qid = env.eval.opt(a.qid.as_ref())?;
        let commands = split::plan(ctx, &r, Transfer::NoData, a.split)?;
        let qp = ctx.io_queue(qid, r.nsid, env.timeout)?;
        let (cqe, sent) = split::each(&commands, |c| Ok(qp.verify(r.nsid, c.slba, c.nlb)?))?;
        Ok(split::output(&commands, cqe, sent))
    }
}
