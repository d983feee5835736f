//! The `format` action: Format NVM; the verify maps then expect zeroes.

use nvmeplan_driver::commands::{self, NSID_ALL};
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

/// Secure erase setting of Format NVM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SecureErase {
    /// No secure erase.
    #[default]
    None,
    /// User data erase.
    UserData,
    /// Cryptographic erase.
    Crypto,
}

/// Format NVM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Format {
    /// Namespace ID (0xFFFFFFFF for all namespaces; default `defaults.nsid`).
    #[serde(default)]
    pub nsid: Option<Expr<u32>>,
    /// LBA format index (default 0).
    #[serde(default)]
    pub lbaf: Option<Expr<u8>>,
    /// Secure erase setting.
    #[serde(default)]
    pub ses: SecureErase,
    /// Protection information type (0 to 3).
    #[serde(default)]
    pub pi: Option<u8>,
    /// Metadata settings: extended LBA when true.
    #[serde(default)]
    pub mset: bool,
}

/// The `format` action.
#[derive(Debug)]
pub struct FormatDef;

impl ActionKind for FormatDef {
    type Plan = Format;

    fn destructive(_plan: &Self::Plan, _eval: Eval<'_>) -> StepResult<Option<String>> {
        Ok(typed_admin("format", AdminOpcode::FormatNvm))
    }

    fn execute(a: &Self::Plan, ctx: &mut RunContext, env: StepEnv<'_>) -> StepResult<ActionOutput> {
        let nsid = env.eval.or(a.nsid.as_ref(), ctx.default_nsid)?;
        let lbaf = env.eval.or(a.lbaf.as_ref(), 0)?;
        let ses = match a.ses {
            SecureErase::None => 0,
            SecureErase::UserData => 1,
            SecureErase::Crypto => 2,
        };
        let cmd = commands::format_nvm(nsid, lbaf, ses, a.mset, a.pi.unwrap_or(0), false);
        let cqe = send(ctx, env, cmd, None)?;
        if cqe.status().is_success() {
            if nsid == NSID_ALL {
                ctx.verify_maps().iter().for_each(|m| m.mark_all_zeroes());
            } else {
                ctx.verify_map(nsid).mark_all_zeroes();
            }
            ctx.ctrl.rescan_namespaces()?;
            ctx.refresh_identity();
        }
        Ok(ActionOutput::completion(cqe))
    }
}
