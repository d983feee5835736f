//! The `get_log_page` action: reads a log page (named or raw id) and names its fields.

use nvmeplan_driver::commands::NSID_ALL;
use nvmeplan_spec::AdminOpcode;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::action::{ActionKind, ExpectKey, NamedData, captured_read};
use crate::fields;
use crate::plan::values::Expr;
use crate::run::commands::admin::{default_log_len, log_fields, read_log};
use crate::run::context::{Eval, RunContext, StepError, StepResult};
use crate::run::guard::typed_admin;
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;
use crate::run::result::{Captured, CapturedKind};

/// A log page, by name or by log page identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LogPage {
    /// Error Information (01h).
    Error,
    /// SMART / Health Information (02h).
    Smart,
    /// Firmware Slot Information (03h).
    FirmwareSlot,
    /// Changed Namespace List (04h).
    ChangedNamespaces,
    /// Commands Supported and Effects (05h).
    CommandsSupported,
    /// Device Self-test (06h).
    SelfTest,
    /// Sanitize Status (81h).
    Sanitize,
}

impl LogPage {
    /// The log page identifier.
    pub const fn lid(self) -> u8 {
        use nvmeplan_spec::log::lid;
        match self {
            LogPage::Error => lid::ERROR_INFORMATION,
            LogPage::Smart => lid::SMART_HEALTH,
            LogPage::FirmwareSlot => lid::FIRMWARE_SLOT,
            LogPage::ChangedNamespaces => lid::CHANGED_NAMESPACE_LIST,
            LogPage::CommandsSupported => lid::COMMANDS_SUPPORTED,
            LogPage::SelfTest => lid::DEVICE_SELF_TEST,
            LogPage::Sanitize => lid::SANITIZE_STATUS,
        }
    }
}

/// A log page: a known name or a raw log page identifier (0 to 255).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum LogId {
    /// A named log page.
    Named(LogPage),
    /// A raw log page identifier.
    Raw(u8),
}

/// Get Log Page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetLogPage {
    /// The log page (`smart`, `error`, `firmware_slot`, `self_test`, `sanitize`, ... or a number).
    pub lid: LogId,
    /// Namespace ID (default 0xFFFFFFFF, the controller).
    #[serde(default)]
    pub nsid: Option<Expr<u32>>,
    /// Bytes to read (default: the page's size, 512 for SMART).
    #[serde(default)]
    pub len: Option<Expr<u32>>,
    /// Byte offset into the log page.
    #[serde(default)]
    pub offset: Option<Expr<u64>>,
    /// Log Specific Field.
    #[serde(default)]
    pub lsp: Option<u8>,
    /// Retain Asynchronous Event.
    #[serde(default)]
    pub rae: bool,
}

/// The `get_log_page` action.
#[derive(Debug)]
pub struct GetLogPageDef;

impl ActionKind for GetLogPageDef {
    type Plan = GetLogPage;
    const EXPECT: &'static [ExpectKey] = &[ExpectKey::Fields];

    fn named_data(plan: &Self::Plan) -> Option<NamedData> {
        let lid = match plan.lid {
            LogId::Named(n) => n.lid(),
            LogId::Raw(v) => v,
        };
        Some(NamedData { what: format!("log page {lid:#04x}"), known: fields::log_page(lid) })
    }

    fn destructive(_plan: &Self::Plan, _eval: Eval<'_>) -> StepResult<Option<String>> {
        Ok(typed_admin("get_log_page", AdminOpcode::GetLogPage))
    }

    fn execute(a: &Self::Plan, ctx: &mut RunContext, env: StepEnv<'_>) -> StepResult<ActionOutput> {
        let id = match a.lid {
            LogId::Named(page) => page.lid(),
            LogId::Raw(id) => id,
        };
        let nsid = env.eval.or(a.nsid.as_ref(), NSID_ALL)?;
        let len = env.eval.or(a.len.as_ref(), default_log_len(id))?;
        let offset = env.eval.or(a.offset.as_ref(), 0)?;
        if len == 0 {
            return Err(StepError::Invalid("get_log_page: `len` must be at least 1".into()));
        }
        let (cqe, data) = read_log(ctx, env, id, nsid, len as usize, offset, a.lsp.unwrap_or(0), a.rae)?;
        let mut out = ActionOutput::completion(cqe);
        if out.succeeded() {
            out.fields = if offset == 0 { log_fields(id, &data) } else { None };
            let shown = &data[..data.len().min(512)];
            out.values
                .insert("data".into(), shown.iter().map(|b| format!("{b:02x}")).collect::<String>().into());
        }
        Ok(out)
    }

    fn captured(plan: &Self::Plan, out: &ActionOutput) -> Option<Captured> {
        captured_read(CapturedKind::LogPage, serde_json::to_value(plan.lid), out)
    }
}
