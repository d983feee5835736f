//! The `admin_raw` action: an admin command given dword by dword, judged destructive by its opcode
//! class.

use crate::action::ActionKind;
use crate::plan::io::RawCommand;
use crate::run::commands::io::raw;
use crate::run::context::{Eval, RunContext, StepResult};
use crate::run::guard::{AdminClass, admin_class, set_features_destructive};
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;

/// The `admin_raw` action.
#[derive(Debug)]
pub struct AdminRawDef;

impl ActionKind for AdminRawDef {
    type Plan = RawCommand;

    fn destructive(plan: &Self::Plan, eval: Eval<'_>) -> StepResult<Option<String>> {
        let destructive = match admin_class(plan.opcode) {
            AdminClass::SetFeatures => set_features_destructive(eval.or(plan.cdw10.as_ref(), 0)?),
            class => class.is_destructive(),
        };
        Ok(destructive.then(|| format!("admin_raw opcode {:#04x}", plan.opcode)))
    }

    fn execute(plan: &Self::Plan, ctx: &mut RunContext, env: StepEnv<'_>) -> StepResult<ActionOutput> {
        raw(ctx, env, plan, true)
    }
}
