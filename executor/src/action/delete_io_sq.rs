//! The `delete_io_sq` action: Delete I/O Submission Queue.

use nvmeplan_spec::AdminOpcode;

use crate::action::ActionKind;
use crate::plan::admin::DeleteQueue;
use crate::run::commands::admin::delete_queue;
use crate::run::context::{Eval, RunContext, StepResult};
use crate::run::guard::typed_admin;
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;

/// The `delete_io_sq` action.
#[derive(Debug)]
pub struct DeleteIoSqDef;

impl ActionKind for DeleteIoSqDef {
    type Plan = DeleteQueue;

    fn destructive(_plan: &Self::Plan, _eval: Eval<'_>) -> StepResult<Option<String>> {
        Ok(typed_admin("delete_io_sq", AdminOpcode::DeleteIoSq))
    }

    fn execute(plan: &Self::Plan, ctx: &mut RunContext, env: StepEnv<'_>) -> StepResult<ActionOutput> {
        delete_queue(ctx, env, plan, false)
    }
}
