//! The `sanitize` action: starts a sanitize operation and, with `wait`, polls its status log to the
//! end.

use std::time::{Duration, Instant};

use nvmeplan_driver::commands;
use nvmeplan_spec::AdminOpcode;
use nvmeplan_spec::log::{self, lid};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use zerocopy::FromBytes;

use crate::action::ActionKind;
use crate::run::commands::admin::{log_fields, read_log, send};
use crate::run::context::{Eval, RunContext, StepError, StepResult};
use crate::run::guard::typed_admin;
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;

/// Sanitize action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SanitizeAction {
    /// Exit failure mode.
    ExitFailure,
    /// Block erase.
    BlockErase,
    /// Overwrite.
    Overwrite,
    /// Crypto erase.
    CryptoErase,
}

/// Sanitize.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Sanitize {
    /// The sanitize action.
    pub action: SanitizeAction,
    /// Allow unrestricted sanitize exit.
    #[serde(default)]
    pub ause: bool,
    /// Overwrite pass count (1 to 16).
    #[serde(default)]
    pub owpass: Option<u8>,
    /// Overwrite pattern (command dword 11).
    #[serde(default)]
    pub ovrpat: Option<u32>,
    /// No deallocate after sanitize.
    #[serde(default)]
    pub no_dealloc: bool,
    /// Wait until the sanitize status log reports completion.
    #[serde(default = "crate::plan::admin::yes")]
    pub wait: bool,
}

/// The `sanitize` action.
#[derive(Debug)]
pub struct SanitizeDef;

impl ActionKind for SanitizeDef {
    type Plan = Sanitize;

    fn destructive(_plan: &Self::Plan, _eval: Eval<'_>) -> StepResult<Option<String>> {
        Ok(typed_admin("sanitize", AdminOpcode::Sanitize))
    }

    fn execute(a: &Self::Plan, ctx: &mut RunContext, env: StepEnv<'_>) -> StepResult<ActionOutput> {
        use nvmeplan_spec::log::sanitize as s;
        let sanact = match a.action {
            SanitizeAction::ExitFailure => s::EXIT_FAILURE_MODE,
            SanitizeAction::BlockErase => s::BLOCK_ERASE,
            SanitizeAction::Overwrite => s::OVERWRITE,
            SanitizeAction::CryptoErase => s::CRYPTO_ERASE,
        };
        let cmd = commands::sanitize(
            sanact,
            a.ause,
            a.owpass.unwrap_or(1),
            false,
            a.no_dealloc,
            a.ovrpat.unwrap_or(0),
        );
        let cqe = send(ctx, env, cmd, None)?;
        let mut out = ActionOutput::completion(cqe);
        if !out.succeeded() {
            return Ok(out);
        }
        for map in ctx.verify_maps() {
            match sanact {
                s::BLOCK_ERASE | s::CRYPTO_ERASE if !a.no_dealloc => map.mark_all_zeroes(),
                _ => map.clear_all(),
            }
        }
        if a.wait {
            let start = Instant::now();
            loop {
                let (lcqe, data) = read_log(ctx, env, lid::SANITIZE_STATUS, 0, 512, 0, 0, false)?;
                if !lcqe.status().is_success() {
                    return Err(StepError::Invalid(format!("sanitize status log: {}", lcqe.status())));
                }
                let fields = log_fields(lid::SANITIZE_STATUS, &data);
                let status =
                    log::SanitizeStatusLog::read_from_prefix(&data).map(|(l, _)| l.status()).unwrap_or(0);
                if status != s::STATUS_IN_PROGRESS {
                    out.fields = fields;
                    break;
                }
                if start.elapsed() >= env.timeout {
                    return Err(StepError::Invalid(format!(
                        "sanitize still in progress after {:?}",
                        env.timeout
                    )));
                }
                ctx.sleep(Duration::from_millis(5))?;
            }
            ctx.ctrl.rescan_namespaces()?;
            ctx.refresh_identity();
        }
        Ok(out)
    }
}
