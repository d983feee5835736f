//! The `firmware_commit` action: commits a downloaded image to a slot and activates it as asked.

use nvmeplan_driver::commands;
use nvmeplan_spec::AdminOpcode;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::action::ActionKind;
use crate::run::commands::admin::send;
use crate::run::context::{Eval, RunContext, StepResult};
use crate::run::guard::typed_admin;
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;

/// Firmware Commit action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CommitAction {
    /// Replace the image in the slot (CA 000b).
    Replace,
    /// Replace and activate at the next reset (CA 001b).
    ReplaceActivate,
    /// Activate the image in the slot at the next reset (CA 010b).
    Activate,
    /// Replace and activate immediately (CA 011b).
    ReplaceActivateImmediate,
}

/// Firmware Commit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FirmwareCommit {
    /// Firmware slot (0 lets the controller choose; 1 to 7).
    pub slot: u8,
    /// What to do with the image.
    pub action: CommitAction,
}

/// The `firmware_commit` action.
#[derive(Debug)]
pub struct FirmwareCommitDef;

impl ActionKind for FirmwareCommitDef {
    type Plan = FirmwareCommit;

    fn destructive(_plan: &Self::Plan, _eval: Eval<'_>) -> StepResult<Option<String>> {
        Ok(typed_admin("firmware_commit", AdminOpcode::FirmwareCommit))
    }

    fn execute(a: &Self::Plan, ctx: &mut RunContext, env: StepEnv<'_>) -> StepResult<ActionOutput> {
        let ca = match a.action {
            CommitAction::Replace => 0,
            CommitAction::ReplaceActivate => 1,
            CommitAction::Activate => 2,
            CommitAction::ReplaceActivateImmediate => 3,
        };
        Ok(ActionOutput::completion(send(ctx, env, commands::firmware_commit(a.slot, ca), None)?))
    }
}
