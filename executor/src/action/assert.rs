//! The `assert` action: fails the step unless its expression is true.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::action::ActionKind;
use crate::run::context::{Eval, RunContext, StepResult};
use crate::run::expect::check;
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;

/// An `assert` condition: an expression, optionally wrapped in `${{ }}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct Condition(pub String);

impl Condition {
    /// The expression without the optional `${{ }}` wrapper.
    pub fn expression(&self) -> &str {
        crate::expr::condition_expression(&self.0)
    }
}

/// The `assert` action.
#[derive(Debug)]
pub struct AssertDef;

impl ActionKind for AssertDef {
    type Plan = Condition;

    fn destructive(_plan: &Self::Plan, _eval: Eval<'_>) -> StepResult<Option<String>> {
        Ok(None)
    }

    fn execute(plan: &Self::Plan, _ctx: &mut RunContext, env: StepEnv<'_>) -> StepResult<ActionOutput> {
        assert(env, plan)
    }
}

/// Checks a condition.
fn assert(env: StepEnv<'_>, c: &Condition) -> StepResult<ActionOutput> {
    let holds = env.eval.condition(&c.0)?;
    let mut out = ActionOutput::default();
    out.checks.push(check("assert", c.expression().to_string(), holds.to_string(), holds));
    Ok(out)
}
