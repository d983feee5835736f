//! The `sleep` action: waits, within the step's deadline.

use std::time::Duration;

use crate::action::ActionKind;
use crate::plan::values::DurationValue;
use crate::run::context::{Eval, RunContext, StepResult};
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;

/// The `sleep` action.
#[derive(Debug)]
pub struct SleepDef;

impl ActionKind for SleepDef {
    type Plan = DurationValue;

    fn destructive(_plan: &Self::Plan, _eval: Eval<'_>) -> StepResult<Option<String>> {
        Ok(None)
    }

    fn execute(plan: &Self::Plan, ctx: &mut RunContext, env: StepEnv<'_>) -> StepResult<ActionOutput> {
        crate::run::limits::sleep(ctx, env, plan.0)?;
        Ok(ActionOutput::default())
    }

    fn own_length(plan: &Self::Plan) -> Duration {
        plan.0
    }
}
