//! The `create_io_cq` action: Create I/O Completion Queue.

use nvmeplan_spec::AdminOpcode;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::action::ActionKind;
use crate::plan::values::Expr;
use crate::run::commands::admin::{create_cq, qsize};
use crate::run::context::{Eval, RunContext, StepResult};
use crate::run::guard::typed_admin;
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;

/// Create I/O Completion Queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateIoCq {
    /// Queue identifier (1 or more).
    pub qid: Expr<u16>,
    /// Number of entries (2 to CAP.MQES + 1).
    pub qsize: Expr<u32>,
    /// Interrupts enabled.
    #[serde(default = "crate::plan::admin::yes")]
    pub ien: bool,
    /// MSI-X vector.
    #[serde(default)]
    pub vector: Option<u16>,
    /// Physically contiguous.
    #[serde(default = "crate::plan::admin::yes")]
    pub pc: bool,
}

/// The `create_io_cq` action.
#[derive(Debug)]
pub struct CreateIoCqDef;

impl ActionKind for CreateIoCqDef {
    type Plan = CreateIoCq;

    fn destructive(_plan: &Self::Plan, _eval: Eval<'_>) -> StepResult<Option<String>> {
        Ok(typed_admin("create_io_cq", AdminOpcode::CreateIoCq))
    }

    fn execute(a: &Self::Plan, ctx: &mut RunContext, env: StepEnv<'_>) -> StepResult<ActionOutput> {
        let qid = env.eval.get(&a.qid)?;
        let size = qsize(env, &a.qsize)?;
        let vector = a.ien.then_some(a.vector.unwrap_or(0));
        Ok(ActionOutput::completion(create_cq(ctx, env, qid, size, vector, a.pc)?))
    }
}
