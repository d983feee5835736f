//! The `log` action: writes a message (expressions allowed) to the report, capped in size.

use crate::action::ActionKind;
use crate::plan::values::Text;
use crate::run::commands::control::capped_message;
use crate::run::context::{Eval, RunContext, StepResult};
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;

/// The `log` action.
#[derive(Debug)]
pub struct LogDef;

impl ActionKind for LogDef {
    type Plan = Text;

    fn destructive(_plan: &Self::Plan, _eval: Eval<'_>) -> StepResult<Option<String>> {
        Ok(None)
    }

    fn execute(plan: &Self::Plan, _ctx: &mut RunContext, env: StepEnv<'_>) -> StepResult<ActionOutput> {
        log(&env, plan)
    }
}

/// `log`: the message, cut to [`MAX_LOG_BYTES`] with a note of what was cut.
fn log(env: &StepEnv, text: &Text) -> StepResult<ActionOutput> {
    Ok(ActionOutput { message: Some(capped_message(env.eval.text(text)?)), ..ActionOutput::default() })
}
