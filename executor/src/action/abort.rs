//! The `abort` action: Abort of a command by submission queue and command id.

use nvmeplan_driver::commands;
use nvmeplan_spec::AdminOpcode;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::action::ActionKind;
use crate::plan::values::Expr;
use crate::run::commands::admin::send;
use crate::run::context::{Eval, RunContext, StepResult};
use crate::run::guard::typed_admin;
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;

/// Abort.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Abort {
    /// Submission queue of the command to abort.
    pub sqid: Expr<u16>,
    /// Command identifier to abort.
    pub cid: Expr<u16>,
}

/// The `abort` action.
#[derive(Debug)]
pub struct AbortDef;

impl ActionKind for AbortDef {
    type Plan = Abort;

    fn destructive(_plan: &Self::Plan, _eval: Eval<'_>) -> StepResult<Option<String>> {
        Ok(typed_admin("abort", AdminOpcode::Abort))
    }

    fn execute(a: &Self::Plan, ctx: &mut RunContext, env: StepEnv<'_>) -> StepResult<ActionOutput> {
        let sqid = env.eval.get(&a.sqid)?;
        let cid = env.eval.get(&a.cid)?;
        Ok(ActionOutput::completion(send(ctx, env, commands::abort(sqid, cid), None)?))
    }
}
