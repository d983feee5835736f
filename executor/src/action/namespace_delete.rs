//! The `namespace_delete` action: Namespace Management, delete.

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

/// Namespace Management, delete.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NamespaceDelete {
    /// The namespace to delete (0xFFFFFFFF: all).
    pub nsid: Expr<u32>,
}

/// The `namespace_delete` action.
#[derive(Debug)]
pub struct NamespaceDeleteDef;

impl ActionKind for NamespaceDeleteDef {
    type Plan = NamespaceDelete;

    fn destructive(_plan: &Self::Plan, _eval: Eval<'_>) -> StepResult<Option<String>> {
        Ok(typed_admin("namespace_delete", AdminOpcode::NamespaceManagement))
    }

    fn execute(a: &Self::Plan, ctx: &mut RunContext, env: StepEnv<'_>) -> StepResult<ActionOutput> {
        let nsid = env.eval.get(&a.nsid)?;
        let cqe = send(ctx, env, commands::namespace_management(1, nsid), None)?;
        if cqe.status().is_success() {
            ctx.drop_verify_map(nsid);
            ctx.ctrl.rescan_namespaces()?;
            ctx.refresh_identity();
        }
        Ok(ActionOutput::completion(cqe))
    }
}
