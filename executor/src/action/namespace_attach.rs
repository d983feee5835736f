//! The `namespace_attach` action: Namespace Attachment, attach controllers.

use nvmeplan_spec::AdminOpcode;

use crate::action::ActionKind;
use crate::plan::admin::NamespaceAttachment;
use crate::run::commands::admin::namespace_attachment;
use crate::run::context::{Eval, RunContext, StepResult};
use crate::run::guard::typed_admin;
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;

/// The `namespace_attach` action.
#[derive(Debug)]
pub struct NamespaceAttachDef;

impl ActionKind for NamespaceAttachDef {
    type Plan = NamespaceAttachment;

    fn destructive(_plan: &Self::Plan, _eval: Eval<'_>) -> StepResult<Option<String>> {
        Ok(typed_admin("namespace_attach", AdminOpcode::NamespaceAttachment))
    }

    fn execute(plan: &Self::Plan, ctx: &mut RunContext, env: StepEnv<'_>) -> StepResult<ActionOutput> {
        namespace_attachment(ctx, env, plan, false)
    }
}
