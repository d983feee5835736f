//! The `namespace_create` action: Namespace Management, create.

use nvmeplan_driver::PAGE_SIZE;
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

/// Namespace Management, create.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NamespaceCreate {
    /// Namespace size in logical blocks.
    pub nsze: Expr<u64>,
    /// Namespace capacity in logical blocks (default: `nsze`).
    #[serde(default)]
    pub ncap: Option<Expr<u64>>,
    /// Formatted LBA size index.
    #[serde(default)]
    pub flbas: Option<u8>,
    /// Shared namespace (NMIC bit 0).
    #[serde(default)]
    pub shared: bool,
}

/// The `namespace_create` action.
#[derive(Debug)]
pub struct NamespaceCreateDef;

impl ActionKind for NamespaceCreateDef {
    type Plan = NamespaceCreate;

    fn destructive(_plan: &Self::Plan, _eval: Eval<'_>) -> StepResult<Option<String>> {
        Ok(typed_admin("namespace_create", AdminOpcode::NamespaceManagement))
    }

    fn execute(a: &Self::Plan, ctx: &mut RunContext, env: StepEnv<'_>) -> StepResult<ActionOutput> {
        let nsze = env.eval.get(&a.nsze)?;
        let ncap = env.eval.or(a.ncap.as_ref(), nsze)?;
        let mut buf = ctx.ctrl.alloc_buffer(PAGE_SIZE)?;
        let data = buf.as_mut_slice();
        data[0..8].copy_from_slice(&nsze.to_le_bytes());
        data[8..16].copy_from_slice(&ncap.to_le_bytes());
        data[26] = a.flbas.unwrap_or(0);
        data[30] = u8::from(a.shared);
        let cqe = send(ctx, env, commands::namespace_management(0, 0), Some((&buf, PAGE_SIZE)))?;
        let mut out = ActionOutput::completion(cqe);
        if out.succeeded() {
            out.values.insert("nsid".into(), cqe.dw0.into());
        }
        Ok(out)
    }
}
