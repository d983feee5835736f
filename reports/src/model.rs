//! The report model: plain serde data that `nvmeplan run --out DIR` writes
//! as `DIR/report.json` and that every other output (JUnit, Markdown, HTML,
//! diff) is rendered from.
//!
//! A [`Report`] is rewritten after every step, so an interrupted run leaves
//! a valid file whose `complete` is `false`. [`REPORT_VERSION`] changes when
//! a field changes meaning or goes away; adding a field does not change it.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The version of the report format this crate writes and reads.
pub const REPORT_VERSION: u32 = 1;

/// The most commands recorded per step (see [`StepResult::commands_total`]).
pub const MAX_COMMANDS: usize = 256;

/// The outcome of one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every expectation held.
    Pass,
    /// The device answered differently than expected.
    Fail,
    /// The tool or the transport failed (timeout, reset, bad expression, interrupted, crash).
    Error,
    /// The step did not run (`when` false, tags filtered, `requires` not met).
    Skip,
}

impl Outcome {
    /// The console label: `PASS`, `FAIL`, `ERROR` or `SKIP`.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Pass => "PASS",
            Outcome::Fail => "FAIL",
            Outcome::Error => "ERROR",
            Outcome::Skip => "SKIP",
        }
    }

    /// The lowercase name used in JSON and Markdown: `pass`, `fail`, `error`, `skip`.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Error => "error",
            Outcome::Skip => "skip",
        }
    }

    /// Whether the step failed or errored.
    pub fn is_failure(self) -> bool {
        matches!(self, Outcome::Fail | Outcome::Error)
    }
}

/// The report of one plan run: the source of truth every output is rendered from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "nvmeplan report")]
pub struct Report {
    /// The report format's version ([`REPORT_VERSION`]).
    pub report_version: u32,
    /// Always `nvmeplan`.
    pub tool: String,
    /// The tool's version.
    pub version: String,
    /// The plan that ran.
    pub plan: PlanInfo,
    /// The seed of random data and workers.
    pub seed: u64,
    /// When the run started (RFC 3339, UTC).
    pub started_at: String,
    /// How long the run took, in milliseconds.
    pub duration_ms: u64,
    /// The machine that ran the plan.
    #[serde(default)]
    pub host: HostInfo,
    /// The device under test.
    pub device: DeviceInfo,
    /// Counts of outcomes.
    pub summary: Summary,
    /// Every step that ran or was skipped, in order.
    pub steps: Vec<StepResult>,
    /// Whether the run got to its end. `false` while running and when the
    /// run was interrupted (Ctrl-C), stopped by `--fail-fast`, or a step
    /// crashed; `stopped` then says why.
    pub complete: bool,
    /// Why the run stopped early, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<StopReason>,
    /// Warnings of the run that belong to no step (verify state of an
    /// earlier run discarded or not saved).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// The old name of [`Report`].
pub type RunResult = Report;

impl Report {
    /// The step with this id.
    pub fn step(&self, id: &str) -> Option<&StepResult> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// The overall verdict: failed when a step failed or errored, else
    /// incomplete when the run did not get to its end, else passed.
    pub fn verdict(&self) -> RunVerdict {
        if !self.summary.all_passed() {
            RunVerdict::Failed
        } else if !self.complete {
            RunVerdict::Incomplete
        } else {
            RunVerdict::Passed
        }
    }
}

/// The overall verdict of a run ([`Report::verdict`]), serialized and
/// shown as `passed`, `failed` or `incomplete`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunVerdict {
    /// Every step passed or was skipped, and the run got to its end.
    Passed,
    /// A step failed or errored.
    Failed,
    /// No step failed, but the run did not get to its end.
    Incomplete,
}

impl RunVerdict {
    /// `passed`, `failed` or `incomplete`.
    pub fn name(self) -> &'static str {
        match self {
            RunVerdict::Passed => "passed",
            RunVerdict::Failed => "failed",
            RunVerdict::Incomplete => "incomplete",
        }
    }
}

impl std::fmt::Display for RunVerdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A verdict equals its name.
impl PartialEq<&str> for RunVerdict {
    fn eq(&self, other: &&str) -> bool {
        self.name() == *other
    }
}

/// The plan of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PlanInfo {
    /// The plan's name.
    pub name: String,
    /// The plan file as given.
    pub path: String,
    /// SHA-256 of the plan file, hex.
    pub sha256: String,
    /// The plan file's text.
    pub source: String,
    /// The specification revision the steps' `spec` references follow
    /// (the plan's `spec_revision`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec_revision: Option<String>,
}

/// The machine that ran the plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HostInfo {
    /// The host name.
    #[serde(default)]
    pub hostname: String,
    /// The operating system (`linux`).
    #[serde(default)]
    pub os: String,
    /// The kernel release (`6.1.0-18-amd64`).
    #[serde(default)]
    pub kernel: String,
    /// The CPU model name.
    #[serde(default)]
    pub cpu_model: String,
    /// Logical CPUs available to the process.
    #[serde(default)]
    pub cores: u32,
}

/// The device under test: URI, backend and identify data.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeviceInfo {
    /// The device URI.
    pub uri: String,
    /// The transport's description (`sim`, `pci:...`).
    pub backend: String,
    /// PCI vendor id.
    pub vid: u16,
    /// PCI subsystem vendor id.
    pub ssvid: u16,
    /// Serial number.
    pub sn: String,
    /// Model number.
    pub mn: String,
    /// Firmware revision.
    pub fr: String,
    /// Number of namespaces.
    pub nn: u32,
    /// Maximum data transfer size (power of two of the minimum page size).
    pub mdts: u8,
    /// Optional admin command support.
    pub oacs: u16,
    /// Optional NVM command support.
    pub oncs: u16,
    /// The version register, `major.minor.tertiary`.
    pub version: String,
    /// Every named field of the Identify Controller data, by its spec
    /// abbreviation (integers as numbers, text as strings, byte arrays as hex).
    #[serde(default)]
    pub identify: BTreeMap<String, serde_json::Value>,
    /// The active namespaces.
    pub namespaces: Vec<NamespaceInfo>,
}

/// One active namespace.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NamespaceInfo {
    /// Namespace id.
    pub nsid: u32,
    /// Size in blocks.
    pub nsze: u64,
    /// Capacity in blocks.
    pub ncap: u64,
    /// Block size in bytes.
    pub lba_size: u64,
    /// The LBA format in use.
    #[serde(default)]
    pub lba_format: LbaFormatInfo,
    /// NLBAF: the number of LBA formats the namespace supports, minus one
    /// (0-based, as the spec counts it).
    #[serde(default)]
    pub nlbaf: u8,
}

/// An LBA format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LbaFormatInfo {
    /// Index of the format (FLBAS).
    pub index: u8,
    /// LBA data size as a power of two (9 = 512 bytes).
    pub lbads: u8,
    /// Metadata bytes per block.
    pub ms: u16,
    /// Relative performance (0 best, 3 degraded).
    pub rp: u8,
}

/// Counts of step outcomes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Summary {
    /// Steps that passed.
    pub passed: u64,
    /// Steps that failed.
    pub failed: u64,
    /// Steps that errored.
    pub errored: u64,
    /// Steps that were skipped.
    pub skipped: u64,
}

impl Summary {
    /// Counts one outcome.
    pub fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Pass => self.passed += 1,
            Outcome::Fail => self.failed += 1,
            Outcome::Error => self.errored += 1,
            Outcome::Skip => self.skipped += 1,
        }
    }

    /// Adds the counts of another summary.
    pub fn merge(&mut self, other: &Summary) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.errored += other.errored;
        self.skipped += other.skipped;
    }

    /// Steps counted.
    pub fn total(&self) -> u64 {
        self.passed + self.failed + self.errored + self.skipped
    }

    /// The console's last line, always `N passed, N failed, N skipped`;
    /// steps that errored count as failed there (the line before it says
    /// how many of them errored, see [`Summary::error_note`]).
    pub fn line(&self) -> String {
        format!("{} passed, {} failed, {} skipped", self.passed, self.failed + self.errored, self.skipped)
    }

    /// `(N of the failed steps errored: ...)` when any step errored, for
    /// the line before [`Summary::line`].
    pub fn error_note(&self) -> Option<String> {
        (self.errored > 0).then(|| {
            format!(
                "({} of the {} failed steps errored: the tool or transport failed or timed out)",
                self.errored,
                self.failed + self.errored
            )
        })
    }

    /// Whether every step passed or was skipped.
    pub fn all_passed(&self) -> bool {
        self.failed == 0 && self.errored == 0
    }
}

/// One step's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StepResult {
    /// The stable id (`qd sweep[qd=4]`, `setup/write`): the key diffs and
    /// JUnit test cases use.
    pub id: String,
    /// The step's name.
    pub name: String,
    /// The action key (`read`, `identify`, ...).
    pub action: String,
    /// Spec section or test-case id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<String>,
    /// Tags of the step (its own, its groups' and the plan's).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Where the step is written (`file:line:column`).
    pub location: String,
    /// The matrix parameters of this expansion of a matrix step
    /// (`{"qd": 4}`); empty for other steps.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub matrix: BTreeMap<String, serde_json::Value>,
    /// The 1-based iteration of a repeated step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iteration: Option<u32>,
    /// The outcome.
    pub outcome: Outcome,
    /// Why the step failed, errored or was skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A message the step produced (`log`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// How long the step took, in milliseconds.
    pub duration_ms: u64,
    /// The commands the step issued (at most [`MAX_COMMANDS`]; see `commands_total`).
    #[serde(default)]
    pub commands: Vec<CommandRecord>,
    /// How many commands the step issued on the runner's queues.
    #[serde(default)]
    pub commands_total: u64,
    /// Every expectation checked.
    #[serde(default)]
    pub expectations: Vec<ExpectationResult>,
    /// The value saved with `save:` (name and value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saved: Option<SavedValue>,
    /// Identify data, a log page or a feature the step read, by field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub captured: Option<Captured>,
    /// IO worker statistics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ioworker: Option<IoWorkerStats>,
    /// Data verification mismatches found (first ones).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mismatches: Vec<String>,
    /// What a step that verified data checked (reads with `verify` or a
    /// pattern, stamp compares, IO workers with `verify`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<Verification>,
    /// Device state captured when the step failed or errored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forensic: Option<Forensic>,
}

impl StepResult {
    /// A step result with only its identity and outcome filled in.
    pub fn new(id: &str, name: &str, action: &str, outcome: Outcome) -> StepResult {
        StepResult {
            id: id.to_string(),
            name: name.to_string(),
            action: action.to_string(),
            spec: None,
            tags: Vec::new(),
            location: String::new(),
            matrix: BTreeMap::new(),
            iteration: None,
            outcome,
            reason: None,
            message: None,
            duration_ms: 0,
            commands: Vec::new(),
            commands_total: 0,
            expectations: Vec::new(),
            saved: None,
            captured: None,
            ioworker: None,
            mismatches: Vec::new(),
            verification: None,
            forensic: None,
        }
    }

    /// The expectations that did not hold.
    pub fn failed_expectations(&self) -> impl Iterator<Item = &ExpectationResult> {
        self.expectations.iter().filter(|e| e.verdict == Verdict::Fail)
    }
}

/// The blocks a verifying step read, by what could be checked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Verification {
    /// Blocks checked against what was written (or expected: zeroes, a
    /// pattern, a read error), mismatched ones included.
    pub checked: u64,
    /// Blocks read that nothing was known about: they were not checked.
    pub unchecked: u64,
    /// Blocks that did not hold what was expected.
    pub mismatches: u64,
}

impl Verification {
    /// `8 blocks verified` or `8 blocks verified, 8 unchecked`.
    pub fn summary(&self) -> String {
        let blocks = if self.checked == 1 { "block" } else { "blocks" };
        match self.unchecked {
            0 => format!("{} {blocks} verified", self.checked),
            n => format!("{} {blocks} verified, {n} unchecked", self.checked),
        }
    }
}

/// A saved result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SavedValue {
    /// The name expressions use.
    pub name: String,
    /// The value.
    pub value: serde_json::Value,
}

/// What kind of device data a step read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CapturedKind {
    /// An Identify structure.
    Identify,
    /// A log page.
    LogPage,
    /// A feature (Get Features).
    Feature,
}

impl CapturedKind {
    /// `identify`, `log page` or `feature`.
    pub fn label(self) -> &'static str {
        match self {
            CapturedKind::Identify => "identify",
            CapturedKind::LogPage => "log page",
            CapturedKind::Feature => "feature",
        }
    }
}

/// Identify data, a log page or a feature read by a step, by field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Captured {
    /// What was read.
    pub kind: CapturedKind,
    /// Which one: the CNS, log page or feature as the plan names it
    /// (`controller`, `smart`, `volatile_write_cache`).
    pub name: String,
    /// The decoded fields.
    pub fields: BTreeMap<String, serde_json::Value>,
}

/// One command and its completion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CommandRecord {
    /// Queue id (0 = admin).
    pub qid: u16,
    /// Decoded command and completion, as the command log prints them.
    pub text: String,
    /// The opcode's spec name, or `opcode 0xNN`.
    pub opcode: String,
    /// The 16 dwords of the submission queue entry.
    pub sqe: Vec<u32>,
    /// The 4 dwords of the completion queue entry (absent while outstanding).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cqe: Option<Vec<u32>>,
    /// The completion status name (absent while outstanding).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Latency in microseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_us: Option<f64>,
}

/// Whether an expectation held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// It held.
    Pass,
    /// It did not.
    Fail,
}

/// One checked expectation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ExpectationResult {
    /// What was checked (`status`, `fields.nn`, `latency.p99`).
    pub what: String,
    /// The expectation, as text (`lba_out_of_range`, `>= 1`).
    pub expected: String,
    /// What the device gave.
    pub actual: String,
    /// Whether it held.
    pub verdict: Verdict,
}

/// Device state when a step failed or errored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Forensic {
    /// The most recent commands of the admin queue and the runner's I/O queue.
    pub cmdlog_tail: Vec<String>,
    /// CSTS, raw and decoded.
    pub csts: String,
    /// CAP, raw.
    pub cap: String,
}

/// The results of an `ioworker` step are the driver's own types from
/// `nvmeplan-results`, stored as they were measured. The names here are
/// the report's for them.
pub use nvmeplan_results::{
    CqeFields as CompletionFields, FirstError as WorkerError, INTERRUPTED_AGAIN, IoOp,
    IoWorkerResults as IoWorkerStats, LatencySummary as LatencyStats, Mismatch as VerifyMismatch,
    MismatchKind, OpCounts, StopReason, TraceEntry, WorkerResult as WorkerStats,
};
