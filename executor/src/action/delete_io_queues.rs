//! The `delete_io_queues` action: a submission queue and then its completion queue.

use nvmeplan_spec::AdminOpcode;

use crate::action::ActionKind;
use crate::plan::admin::DeleteQueue;
use crate::run::commands::admin::delete_queue;
use crate::run::context::{Eval, RunContext, StepResult};
use crate::run::guard::typed_admin;
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;

/// The `delete_io_queues` action.
#[derive(Debug)]
pub struct DeleteIoQueuesDef;

impl ActionKind for DeleteIoQueuesDef {
    type Plan = DeleteQueue;

    fn destructive(_plan: &Self::Plan, _eval: Eval<'_>) -> StepResult<Option<String>> {
        Ok(typed_admin("delete_io_queues", AdminOpcode::DeleteIoSq)
            .or(typed_admin("delete_io_queues", AdminOpcode::DeleteIoCq)))
    }

    fn execute(a: &Self::Plan, ctx: &mut RunContext, env: StepEnv<'_>) -> StepResult<ActionOutput> {
        let out = delete_queue(ctx, env, a, false)?;
        if !out.succeeded() {
            return Ok(out);
        }
        delete_queue(ctx, env, a, true)
    }
}
