//! Plan actions, one room each.
//!
//! Every action a step can name (`identify`, `write`, `ioworker`, ...)
//! lives in one file of this folder that implements [`ActionKind`]: the
//! action's plan type (and so its JSON Schema branch), the checks
//! validation runs on it, the `expect` keys it accepts, whether it is
//! destructive on a real device (a required method: there is no default),
//! and how it runs. [`registry`] names every action once and generates the
//! [`Action`] enum and its dispatch from that list, so adding an action is
//! one new file here and one line in `registry.rs`.
//!
//! What several actions share stays outside the rooms: value types of the
//! plan language in [`crate::plan`], command helpers in
//! [`crate::run::commands`], field names in [`crate::fields`].

use std::fmt::Debug;
use std::time::Duration;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use crate::run::context::{Eval, RunContext, StepResult};
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;
use crate::run::result::Captured;
pub use crate::validate::{ActionCheck, RangeCheck};

pub mod registry;

pub mod abort;
pub mod admin_raw;
pub mod assert;
pub mod async_event;
pub mod compare;
pub mod copy;
pub mod create_io_cq;
pub mod create_io_queues;
pub mod create_io_sq;
pub mod deallocate;
pub mod delete_io_cq;
pub mod delete_io_queues;
pub mod delete_io_sq;
pub mod firmware_commit;
pub mod firmware_download;
pub mod flush;
pub mod format;
pub mod get_features;
pub mod get_log_page;
pub mod group;
pub mod identify;
pub mod include;
pub mod inject;
pub mod io_raw;
pub mod ioworker;
pub mod log;
pub mod namespace_attach;
pub mod namespace_create;
pub mod namespace_delete;
pub mod namespace_detach;
pub mod read;
pub mod register;
pub mod reset;
pub mod sanitize;
pub mod self_test;
pub mod set_features;
pub mod shutdown;
pub mod sleep;
pub mod verify;
pub mod write;
pub mod write_uncorrectable;
pub mod write_zeroes;

pub use registry::Action;

/// An `expect` key beyond `status` (which every action accepts) that only
/// some actions can satisfy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectKey {
    /// `expect.data`: the data a read returned.
    Data,
    /// `expect.errors`: IO errors of workers.
    Errors,
    /// `expect.iops`: workers' IOPS.
    Iops,
    /// `expect.latency`: workers' latency percentiles.
    Latency,
    /// `expect.fields`: named fields of the data the action read.
    Fields,
}

impl ExpectKey {
    /// The key as written under `expect`.
    pub fn name(self) -> &'static str {
        match self {
            ExpectKey::Data => "data",
            ExpectKey::Errors => "errors",
            ExpectKey::Iops => "iops",
            ExpectKey::Latency => "latency",
            ExpectKey::Fields => "fields",
        }
    }
}

/// What `expect.fields` of an action compares against: a description for
/// messages (`identify controller`) and the field names it has, or `None`
/// when the names are not known (a raw log page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedData {
    /// What the action reads, for messages.
    pub what: String,
    /// Its field names, when known.
    pub known: Option<Vec<&'static str>>,
}

/// One plan action. Implemented by a unit type per action (several actions
/// may share a plan type: `namespace_attach` and `namespace_detach` both
/// take a controller list).
pub trait ActionKind {
    /// The action's value in the plan (`write: { slba: 0, nlb: 8 }`).
    type Plan: Debug + Clone + PartialEq + DeserializeOwned + JsonSchema;

    /// The `expect` keys beyond `status` this action supports.
    const EXPECT: &'static [ExpectKey] = &[];

    /// Checks what the schema cannot say about one action (limits, names,
    /// combinations), reporting each problem through `cx`.
    fn check(plan: &Self::Plan, cx: &mut ActionCheck<'_, '_>) {
        let _ = (plan, cx);
    }

    /// What `expect.fields` compares, for actions with [`ExpectKey::Fields`].
    fn named_data(plan: &Self::Plan) -> Option<NamedData> {
        let _ = plan;
        None
    }

    /// Why this step verifies no data although `expect.data.unchecked` asks
    /// how many blocks went unchecked; `None` when it verifies some.
    fn verifies_nothing(plan: &Self::Plan) -> Option<String> {
        let _ = plan;
        None
    }

    /// Why the step changes data or persistent device state (`None` when it
    /// only reads); a real device runs it only with the user's consent.
    fn destructive(plan: &Self::Plan, eval: Eval<'_>) -> StepResult<Option<String>>;

    /// Runs the action.
    fn execute(plan: &Self::Plan, ctx: &mut RunContext, env: StepEnv<'_>) -> StepResult<ActionOutput>;

    /// How long the action asks to run by itself (a sleep, a wait, a
    /// worker's `time`), added to the default timeout.
    fn own_length(plan: &Self::Plan) -> Duration {
        let _ = plan;
        Duration::ZERO
    }

    /// The identify data, log page or feature the action read, kept in the
    /// report so that diffs compare it field by field.
    fn captured(plan: &Self::Plan, out: &ActionOutput) -> Option<Captured> {
        let _ = (plan, out);
        None
    }
}

/// The record of data an action read, named by the serialized plan value
/// that chose it (`controller`, `smart`, `volatile_write_cache`).
pub(crate) fn captured_read(
    kind: crate::run::result::CapturedKind,
    which: serde_json::Result<serde_json::Value>,
    out: &ActionOutput,
) -> Option<Captured> {
    let name = match which {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    };
    let fields = out.fields.as_ref()?;
    Some(Captured { kind, name, fields: fields.clone().into_iter().collect() })
}
