//! The result model of a run: plain serde data that `--out DIR` writes as
//! `DIR/result.json` and that report generators read.
//!
//! A [`RunResult`] is rewritten after every step, so an interrupted run
//! leaves a valid file whose `complete` is `false`.

use serde::{Deserialize, Serialize};

/// The outcome of one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every expectation held.
    Pass,
    /// The device answered differently than expected.
    Fail,
    /// The tool or the transport failed (timeout, reset, bad expression, interrupted).
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
}

/// The whole run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
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
    /// The device under test.
    pub device: DeviceInfo,
    /// Counts of outcomes.
    pub summary: Summary,
    /// Every step that ran or was skipped, in order.
    pub steps: Vec<StepResult>,
    /// Whether the run got to its end (false while running, when
    /// interrupted, or after `--fail-fast` stopped it).
    pub complete: bool,
    /// Why the run stopped early, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
}

/// The plan of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlanInfo {
    /// The plan's name.
    pub name: String,
    /// The plan file as given.
    pub path: String,
    /// SHA-256 of the plan file, hex.
    pub sha256: String,
    /// The plan file's text.
    pub source: String,
}

/// The device under test.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
    /// The active namespaces.
    pub namespaces: Vec<NamespaceInfo>,
}

/// One active namespace.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NamespaceInfo {
    /// Namespace id.
    pub nsid: u32,
    /// Size in blocks.
    pub nsze: u64,
    /// Capacity in blocks.
    pub ncap: u64,
    /// Block size in bytes.
    pub lba_size: u64,
}

/// Counts of step outcomes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepResult {
    /// The stable id (`qd sweep[qd=4]`, `setup/write`).
    pub id: String,
    /// The step's name.
    pub name: String,
    /// The action key (`read`, `identify`, ...).
    pub action: String,
    /// Spec section or test-case id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<String>,
    /// Tags of the step.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Where the step is written (`file:line:column`).
    pub location: String,
    /// The outcome.
    pub outcome: Outcome,
    /// Why the step failed, errored or was skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A message the step produced (`log`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// How long the step took.
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
    /// IO worker results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ioworker: Option<serde_json::Value>,
    /// Data verification mismatches found (first ones).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mismatches: Vec<String>,
    /// Device state captured when the step failed or errored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forensic: Option<Forensic>,
}

/// The most commands recorded per step.
pub const MAX_COMMANDS: usize = 256;

/// A saved result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedValue {
    /// The name expressions use.
    pub name: String,
    /// The value.
    pub value: serde_json::Value,
}

/// One command and its completion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// It held.
    Pass,
    /// It did not.
    Fail,
}

/// One checked expectation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpectationResult {
    /// What was checked (`status`, `fields.nn`, `latency.p99`).
    pub what: String,
    /// The expectation, as text (`lba-out-of-range`, `>= 1`).
    pub expected: String,
    /// What the device gave.
    pub actual: String,
    /// Whether it held.
    pub verdict: Verdict,
}

/// Device state when a step failed or errored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Forensic {
    /// The most recent commands of the admin queue and the runner's I/O queue.
    pub cmdlog_tail: Vec<String>,
    /// CSTS, raw and decoded.
    pub csts: String,
    /// CAP, raw.
    pub cap: String,
}
