//! The `create_io_queues` action: a completion queue and its submission queue with one id.

use nvmeplan_spec::AdminOpcode;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::action::ActionKind;
use crate::plan::values::Expr;
use crate::run::commands::admin::{create_cq, create_sq, qsize};
use crate::run::context::{Eval, RunContext, StepResult};
use crate::run::guard::typed_admin;
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;

/// Create an I/O queue pair (a completion queue and its submission queue).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateIoQueues {
    /// Queue identifier of both queues.
    pub qid: Expr<u16>,
    /// Entries per queue.
    pub qsize: Expr<u32>,
    /// Interrupts enabled on the completion queue.
    #[serde(default = "crate::plan::admin::yes")]
    pub ien: bool,
}

/// The `create_io_queues` action.
#[derive(Debug)]
pub struct CreateIoQueuesDef;

impl ActionKind for CreateIoQueuesDef {
    type Plan = CreateIoQueues;

    fn destructive(_plan: &Self::Plan, _eval: Eval<'_>) -> StepResult<Option<String>> {
        Ok(typed_admin("create_io_queues", AdminOpcode::CreateIoCq)
            .or(typed_admin("create_io_queues", AdminOpcode::CreateIoSq)))
    }

    fn execute(a: &Self::Plan, ctx: &mut RunContext, env: StepEnv<'_>) -> StepResult<ActionOutput> {
        let qid = env.eval.get(&a.qid)?;
        let size = qsize(env, &a.qsize)?;
        let cqe = create_cq(ctx, env, qid, size, a.ien.then_some(0), true)?;
        if !cqe.status().is_success() {
            return Ok(ActionOutput::completion(cqe));
        }
        Ok(ActionOutput::completion(create_sq(ctx, env, qid, size, qid, 2, true)?))
    }
}
