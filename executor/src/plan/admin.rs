//! Admin command actions.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::values::{DurationValue, Expr, Pattern};

/// Which identify data structure to read (CNS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Cns {
    /// Identify Namespace (CNS 00h) of `nsid`.
    Namespace,
    /// Identify Controller (CNS 01h).
    Controller,
    /// Active namespace ID list (CNS 02h).
    ActiveNamespaces,
    /// Namespace identification descriptors of `nsid` (CNS 03h).
    NsDescriptors,
    /// Allocated namespace ID list (CNS 10h).
    AllocatedNamespaces,
    /// Identify Namespace of an allocated namespace (CNS 11h).
    AllocatedNamespace,
    /// Controller list (CNS 13h).
    Controllers,
}

impl Cns {
    /// The CNS value.
    pub const fn value(self) -> u8 {
        match self {
            Cns::Namespace => 0x00,
            Cns::Controller => 0x01,
            Cns::ActiveNamespaces => 0x02,
            Cns::NsDescriptors => 0x03,
            Cns::AllocatedNamespaces => 0x10,
            Cns::AllocatedNamespace => 0x11,
            Cns::Controllers => 0x13,
        }
    }
}

/// Identify: read an identify data structure. Save it to compare fields
/// later or use it in expressions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Identify {
    /// The data structure (CNS).
    pub cns: Cns,
    /// Namespace ID, for namespace data structures (default: `defaults.nsid`).
    #[serde(default)]
    pub nsid: Option<Expr<u32>>,
    /// Controller ID (CDW10 CNTID), for controller lists.
    #[serde(default)]
    pub cntid: Option<u16>,
}

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

/// A feature: a known name (`volatile_write_cache`, `number_of_queues`, ...)
/// or a raw feature identifier (0 to 255).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FeatureId {
    /// A raw feature identifier.
    Raw(u8),
    /// A feature name as the spec crate spells it.
    Named(String),
}

impl JsonSchema for FeatureId {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "FeatureId".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names: Vec<&str> = nvmeplan_spec::features::FEATURES.iter().map(|(_, n)| *n).collect();
        schemars::json_schema!({
            "description": "A feature: a name (`volatile_write_cache`, `number_of_queues`, ...) or a raw feature identifier (0 to 255).",
            "anyOf": [
                { "type": "string", "enum": names },
                { "type": "integer", "minimum": 0, "maximum": 255 }
            ]
        })
    }
}

impl FeatureId {
    /// The feature identifier, if the name is known.
    pub fn fid(&self) -> Option<u8> {
        match self {
            FeatureId::Raw(v) => Some(*v),
            FeatureId::Named(name) => nvmeplan_spec::features::feature_from_name(name),
        }
    }
}

/// Get Features Select field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FeatureSelect {
    /// The current value.
    #[default]
    Current,
    /// The default value.
    Default,
    /// The saved value.
    Saved,
    /// The supported capabilities.
    Supported,
}

/// Get Features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetFeatures {
    /// The feature, by name (`volatile_write_cache`) or identifier.
    pub fid: FeatureId,
    /// Which value to read.
    #[serde(default)]
    pub sel: FeatureSelect,
    /// Namespace ID, for namespace-specific features.
    #[serde(default)]
    pub nsid: Option<Expr<u32>>,
    /// Command dword 11 (feature specific).
    #[serde(default)]
    pub cdw11: Option<Expr<u32>>,
}

/// Set Features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetFeatures {
    /// The feature, by name (`volatile_write_cache`) or identifier.
    pub fid: FeatureId,
    /// The raw value of command dword 11.
    #[serde(default)]
    pub value: Option<Expr<u32>>,
    /// Named fields of the feature's dword 11 (`{ wce: 1 }`), combined with `value`.
    #[serde(default)]
    pub fields: Option<std::collections::BTreeMap<String, Expr<u32>>>,
    /// Save the value across power cycles (SV bit).
    #[serde(default)]
    pub save: bool,
    /// Namespace ID, for namespace-specific features.
    #[serde(default)]
    pub nsid: Option<Expr<u32>>,
    /// Command dword 12.
    #[serde(default)]
    pub cdw12: Option<Expr<u32>>,
}

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
    #[serde(default = "yes")]
    pub wait: bool,
}

pub(crate) fn yes() -> bool {
    true
}

/// Where a firmware image comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum FirmwareImage {
    /// A file, relative to the plan.
    File(String),
    /// A simulator image for this revision (`NVMPSIM1` magic and the revision).
    SimRevision(String),
    /// Bytes filled with a pattern (an invalid image, for negative tests).
    Pattern {
        /// Image length in bytes.
        len: u32,
        /// The data.
        pattern: Pattern,
    },
}

/// Firmware Image Download: transfer an image in chunks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FirmwareDownload {
    /// The image.
    pub image: FirmwareImage,
    /// Bytes per command (default: the firmware update granularity, else 4096).
    #[serde(default)]
    pub chunk_size: Option<u32>,
    /// Byte offset of the first chunk.
    #[serde(default)]
    pub offset: Option<u32>,
}

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

/// Namespace Management, delete.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NamespaceDelete {
    /// The namespace to delete (0xFFFFFFFF: all).
    pub nsid: Expr<u32>,
}

/// Namespace Attachment (attach or detach).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NamespaceAttachment {
    /// The namespace.
    pub nsid: Expr<u32>,
    /// Controller IDs (default: this controller).
    #[serde(default)]
    pub controllers: Option<Vec<u16>>,
}

/// Create I/O Completion Queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateIoCq {
    /// Queue identifier (1 or more).
    pub qid: Expr<u16>,
    /// Number of entries (2 to CAP.MQES + 1).
    pub qsize: Expr<u32>,
    /// Interrupts enabled.
    #[serde(default = "yes")]
    pub ien: bool,
    /// MSI-X vector.
    #[serde(default)]
    pub vector: Option<u16>,
    /// Physically contiguous.
    #[serde(default = "yes")]
    pub pc: bool,
}

/// Submission queue priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum QueuePriority {
    /// Urgent.
    Urgent,
    /// High.
    High,
    /// Medium.
    #[default]
    Medium,
    /// Low.
    Low,
}

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
    #[serde(default = "yes")]
    pub pc: bool,
}

/// Delete I/O Submission or Completion Queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteQueue {
    /// Queue identifier.
    pub qid: Expr<u16>,
}

/// Create an I/O queue pair (a completion queue and its submission queue).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateIoQueues {
    /// Queue identifier of both queues.
    pub qid: Expr<u16>,
    /// Entries per queue.
    pub qsize: Expr<u32>,
    /// Interrupts enabled on the completion queue.
    #[serde(default = "yes")]
    pub ien: bool,
}

/// Abort.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Abort {
    /// Submission queue of the command to abort.
    pub sqid: Expr<u16>,
    /// Command identifier to abort.
    pub cid: Expr<u16>,
}

/// Asynchronous Event Request: submit requests and optionally wait for one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AsyncEvent {
    /// Requests to keep outstanding (default 1).
    #[serde(default)]
    pub count: Option<u8>,
    /// Wait this long for an event to complete; without it the step
    /// completes after submitting.
    #[serde(default)]
    pub wait: Option<DurationValue>,
}

/// Device self-test code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SelfTestCode {
    /// Short device self-test (1h).
    Short,
    /// Extended device self-test (2h).
    Extended,
    /// Abort the running self-test (Fh).
    Abort,
}

/// Device Self-test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SelfTest {
    /// Which test.
    pub code: SelfTestCode,
    /// Namespace ID (default 0xFFFFFFFF: all namespaces).
    #[serde(default)]
    pub nsid: Option<Expr<u32>>,
    /// Wait until the self-test log reports the result.
    #[serde(default)]
    pub wait: bool,
}
