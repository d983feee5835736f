//! Control actions: resets, shutdown, registers, sleep, log, assert, groups,
//! includes and fault injection.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Step;
use super::values::{Compare, DurationValue, Expr, Text};

/// Reset kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResetKind {
    /// Controller reset: CC.EN to 0, wait for CSTS.RDY = 0, re-enable.
    Controller,
    /// NVM subsystem reset (NSSR), when CAP.NSSRS is set.
    Subsystem,
    /// PCI function level reset.
    Function,
    /// Power off and on (abrupt power loss on the simulator).
    PowerCycle,
}

/// Shutdown kinds (CC.SHN).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ShutdownKind {
    /// Normal shutdown notification.
    Normal,
    /// Abrupt shutdown notification.
    Abrupt,
}

/// How a run ends for its device (the plan's `finish`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Finish {
    /// A normal shutdown notification, waiting for CSTS.SHST = complete, as a
    /// careful host does before power off: the device keeps every write
    /// and counts no unsafe shutdown.
    #[default]
    Shutdown,
    /// The device is removed without a shutdown notification, as at a power
    /// cut: the simulator loses writes still in its volatile write cache and
    /// counts an unsafe shutdown at the next power-on.
    PowerLoss,
}

/// When the runner creates the I/O queue pair that `read`, `write` and the
/// other buffered IO steps submit on (the plan's `queues`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Queues {
    /// `lazy` (default) or `early`.
    #[serde(default)]
    pub create: QueueCreation,
}

/// The moment the runner's I/O queue pair is created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum QueueCreation {
    /// At the first step that submits IO, and again at the first one after
    /// a reset dropped it: admin steps before it see a controller without
    /// I/O queues (Set Features Number of Queues is still allowed).
    #[default]
    Lazy,
    /// Before every step, when it does not exist: right after bring-up and
    /// after each reset, as a host driver does, so admin steps always see a
    /// controller with I/O queues.
    Early,
}

/// Read or write a controller register or register field and check it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Register {
    /// The register (`csts`, `cc`, `cap`, ...) or field (`csts.rdy`, `cc.en`, `cap.mqes`).
    pub field: RegisterName,
    /// Write this value (the field's bits only, read-modify-write for fields).
    #[serde(default)]
    pub write: Option<Expr<u64>>,
    /// Check the value read (after the write, if any).
    #[serde(default)]
    pub expect: Option<Compare>,
    /// Poll until `expect` holds or this much time has passed.
    #[serde(default)]
    pub wait: Option<DurationValue>,
}

/// A register or register field name such as `csts.rdy`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RegisterName(pub String);

/// Registers, each with whether plans may write it, and its fields.
pub const REGISTERS: &[(&str, bool, &[&str])] = &[
    (
        "cap",
        false,
        &[
            "mqes", "cqr", "ams", "to", "dstrd", "nssrs", "css", "bps", "cps", "mpsmin", "mpsmax", "pmrs",
            "cmbs", "nsss", "crms",
        ],
    ),
    ("vs", false, &["ter", "mnr", "mjr"]),
    ("intms", true, &[]),
    ("intmc", true, &[]),
    ("cc", true, &["en", "css", "mps", "ams", "shn", "iosqes", "iocqes", "crime"]),
    ("csts", false, &["rdy", "cfs", "shst", "nssro", "pp", "st"]),
    ("nssr", true, &[]),
    ("aqa", true, &["asqs", "acqs"]),
    ("asq", true, &[]),
    ("acq", true, &[]),
];

impl RegisterName {
    /// Every register and field name.
    pub fn all() -> Vec<String> {
        let mut out = Vec::new();
        for (reg, _, fields) in REGISTERS {
            out.push((*reg).to_string());
            out.extend(fields.iter().map(|f| format!("{reg}.{f}")));
        }
        out
    }

    /// Whether the name is a known register or field.
    pub fn is_known(&self) -> bool {
        Self::all().contains(&self.0)
    }

    /// Whether the register may be written.
    pub fn is_writable(&self) -> bool {
        let reg = self.0.split('.').next().unwrap_or_default();
        REGISTERS.iter().any(|(r, w, _)| *r == reg && *w)
    }
}

impl JsonSchema for RegisterName {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "RegisterName".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A controller register (`cap`, `cc`, `csts`, ...) or field (`csts.rdy`, `cc.en`, `cap.mqes`).",
            "type": "string",
            "enum": RegisterName::all()
        })
    }
}

/// A group of steps that run in order, with their own `when`, `repeat` or
/// `matrix` applied to the whole group.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Group {
    /// What the group does.
    #[serde(default)]
    pub description: Option<String>,
    /// The steps.
    pub steps: Vec<Step>,
}

/// Include the steps of another plan file at this position. Its `vars` are
/// merged below this plan's; its `device` and `defaults` are ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Include {
    /// The path, relative to the including plan.
    Path(String),
    /// The path with variables for the included plan.
    Detailed(IncludeDetailed),
}

/// An include with variables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IncludeDetailed {
    /// The path, relative to the including plan.
    pub path: String,
    /// Variables set for the included steps (override its own `vars`).
    #[serde(default)]
    pub vars: BTreeMap<String, serde_json::Value>,
}

impl Include {
    /// The path as written.
    pub fn path(&self) -> &str {
        match self {
            Include::Path(p) => p,
            Include::Detailed(d) => &d.path,
        }
    }
}

/// Log a message (may contain `${{ }}`).
pub type LogMessage = Text;
