//! The `reset` action: controller, subsystem (NSSR), function (FLR) reset or a simulator power
//! cycle.

use crate::action::ActionKind;
use crate::plan::control::ResetKind;
use crate::run::context::{Eval, RunContext, StepError, StepResult};
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;

/// The `reset` action.
#[derive(Debug)]
pub struct ResetDef;

impl ActionKind for ResetDef {
    type Plan = ResetKind;

    fn destructive(_plan: &Self::Plan, _eval: Eval<'_>) -> StepResult<Option<String>> {
        // A reset changes controller state only.
        Ok(None)
    }

    fn execute(plan: &Self::Plan, ctx: &mut RunContext, _env: StepEnv<'_>) -> StepResult<ActionOutput> {
        reset(ctx, *plan)
    }
}

/// Resets the controller (the runner's queue and plan-created queues are
/// forgotten; expressions see the re-read identify data).
fn reset(ctx: &mut RunContext, kind: crate::plan::control::ResetKind) -> StepResult<ActionOutput> {
    let result = match kind {
        crate::plan::control::ResetKind::Controller => ctx.ctrl.reset(),
        crate::plan::control::ResetKind::Subsystem => ctx.ctrl.subsystem_reset(),
        crate::plan::control::ResetKind::Function => ctx.ctrl.function_reset(),
        crate::plan::control::ResetKind::PowerCycle => {
            let Some(sim) = &ctx.sim else {
                return Err(StepError::Invalid(format!(
                    "power_cycle needs the simulator; device `{}` is not one",
                    ctx.uri
                )));
            };
            sim.power_cycle(true);
            ctx.ctrl.reinitialize()
        }
    };
    ctx.after_reset();
    result?;
    Ok(ActionOutput::default())
}
