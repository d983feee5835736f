//! The `include` action: the steps of another plan file, expanded in place before the run.

use crate::action::ActionKind;
use crate::plan::control::Include;
use crate::run::context::{Eval, RunContext, StepError, StepResult};
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;

/// The `include` action.
#[derive(Debug)]
pub struct IncludeDef;

impl ActionKind for IncludeDef {
    type Plan = Include;

    fn destructive(_plan: &Self::Plan, _eval: Eval<'_>) -> StepResult<Option<String>> {
        // Expanded into their steps before anything runs; each is judged on its own.
        Ok(None)
    }

    fn execute(_plan: &Self::Plan, _ctx: &mut RunContext, _env: StepEnv<'_>) -> StepResult<ActionOutput> {
        Err(StepError::Invalid("groups and includes are expanded before running".into()))
    }
}
