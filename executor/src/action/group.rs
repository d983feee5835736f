//! The `group` action: nested steps, expanded in place before the run (validation of the list lives
//! with the step lists).

use crate::action::ActionKind;
use crate::plan::control::Group;
use crate::run::context::{Eval, RunContext, StepError, StepResult};
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;

/// The `group` action.
#[derive(Debug)]
pub struct GroupDef;

impl ActionKind for GroupDef {
    type Plan = Group;

    fn destructive(_plan: &Self::Plan, _eval: Eval<'_>) -> StepResult<Option<String>> {
        // Expanded into their steps before anything runs; each is judged on its own.
        Ok(None)
    }

    fn execute(_plan: &Self::Plan, _ctx: &mut RunContext, _env: StepEnv<'_>) -> StepResult<ActionOutput> {
        Err(StepError::Invalid("groups and includes are expanded before running".into()))
    }
}
