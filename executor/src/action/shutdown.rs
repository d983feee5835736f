//! The `shutdown` action: a normal or abrupt shutdown notification.

use nvmeplan_driver::ShutdownKind as DriverShutdown;

use crate::action::ActionKind;
use crate::plan::control::ShutdownKind;
use crate::run::context::{Eval, RunContext, StepResult};
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;

/// The `shutdown` action.
#[derive(Debug)]
pub struct ShutdownDef;

impl ActionKind for ShutdownDef {
    type Plan = ShutdownKind;

    fn destructive(_plan: &Self::Plan, _eval: Eval<'_>) -> StepResult<Option<String>> {
        // A shutdown changes controller state only.
        Ok(None)
    }

    fn execute(plan: &Self::Plan, ctx: &mut RunContext, _env: StepEnv<'_>) -> StepResult<ActionOutput> {
        shutdown(ctx, *plan)
    }
}

/// Shutdown notification; the controller stays shut down until a reset.
fn shutdown(ctx: &mut RunContext, kind: crate::plan::control::ShutdownKind) -> StepResult<ActionOutput> {
    let kind = match kind {
        crate::plan::control::ShutdownKind::Normal => DriverShutdown::Normal,
        crate::plan::control::ShutdownKind::Abrupt => DriverShutdown::Abrupt,
    };
    let result = ctx.ctrl.shutdown(kind);
    ctx.after_reset();
    result?;
    Ok(ActionOutput::default())
}
