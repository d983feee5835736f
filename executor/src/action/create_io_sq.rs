//! The `create_io_sq` action: Create I/O Submission Queue.

use nvmeplan_spec::AdminOpcode;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::action::ActionKind;
use crate::plan::admin::QueuePriority;
use crate::plan::values::Expr;
use crate::run::commands::admin::{create_sq, priority, qsize};
use crate::run::context::{Eval, RunContext, StepResult};
use crate::run::guard::typed_admin;
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;

/// Create I/O Submission Queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateIoSq {
    /// Queue identifier (1 or more).
    pub qid: Expr<u16>,
    /// Number of entries (2 to CAP.MQES + 1).
    pub qsize: Expr<u32>,
    /// The completion queue this queue posts to.
    pub cqid: Expr<u16>,
    /// Priority, for weighted round robin arbitration.
    #[serde(default)]
    pub qprio: QueuePriority,
    /// Physically contiguous.
    #[serde(default = "crate::plan::admin::yes")]
    pub pc: bool,
}

/// The `create_io_sq` action.
#[derive(Debug)]
pub struct CreateIoSqDef;

impl ActionKind for CreateIoSqDef {
    type Plan = CreateIoSq;

    fn destructive(_plan: &Self::Plan, _eval: Eval<'_>) -> StepResult<Option<String>> {
        Ok(typed_admin("create_io_sq", AdminOpcode::CreateIoSq))
    }

    fn execute(a: &Self::Plan, ctx: &mut RunContext, env: StepEnv<'_>) -> StepResult<ActionOutput> {
        let qid = env.eval.get(&a.qid)?;
        let size = qsize(env, &a.qsize)?;
        let cqid = env.eval.get(&a.cqid)?;
        Ok(ActionOutput::completion(create_sq(ctx, env, qid, size, cqid, priority(a.qprio), a.pc)?))
    }
}
