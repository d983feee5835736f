//! [`ActionOutput`]: what one action produced, the value that
//! expectations check ([`crate::run::expect`]), that `save:` stores and
//! that a failing step keeps in its error.

use nvmeplan_spec::Completion;
use serde_json::{Map, Value};

use super::result::{ExpectationResult, IoWorkerStats};

/// What an action produced.
#[derive(Debug, Clone, Default)]
pub struct ActionOutput {
    /// The completion of the command (the last one, or the first failing
    /// one, for actions that send several).
    pub completion: Option<Completion>,
    /// Named fields of the data read (identify, log page, feature dword).
    pub fields: Option<Map<String, Value>>,
    /// Other values to save (`nsids`, `data`, ...).
    pub values: Map<String, Value>,
    /// Whether data was verified.
    pub verified: bool,
    /// Blocks that did not verify.
    pub mismatches: u64,
    /// Blocks checked (mismatched ones included).
    pub checked: u64,
    /// Blocks read that nothing was known about, so they were not checked.
    pub unchecked: u64,
    /// The first mismatches, as text.
    pub mismatch_details: Vec<String>,
    /// IO worker results (their total is what `errors`, `iops` and
    /// `latency` expectations check).
    pub ioworker: Option<IoWorkerStats>,
    /// A worker continues on IO errors (`continue_on_error`,
    /// `max_errors`): without `expect.errors`, the step passes while no
    /// worker's errors stopped it, instead of expecting none.
    pub errors_tolerated: bool,
    /// A message for the report (`log`).
    pub message: Option<String>,
    /// Checks the action made itself (`register` expect, `assert`).
    pub checks: Vec<ExpectationResult>,
}

impl ActionOutput {
    /// An output with a completion.
    pub fn completion(cqe: Completion) -> Self {
        ActionOutput { completion: Some(cqe), ..ActionOutput::default() }
    }

    /// Whether the completion reports success (false without one).
    pub fn succeeded(&self) -> bool {
        self.completion.is_some_and(|c| c.status().is_success())
    }

    /// The value `save:` stores: the fields, other values, `status`,
    /// `cdw0`, `dnr`, `mismatches`, `checked`, `unchecked` and IO worker
    /// results.
    pub fn saved_value(&self) -> Value {
        let mut out = self.fields.clone().unwrap_or_default();
        out.extend(self.values.clone());
        if let Some(c) = &self.completion {
            out.insert("status".into(), c.status().to_string().into());
            out.insert("cdw0".into(), c.dw0.into());
            out.insert("dnr".into(), c.dnr().into());
        }
        if self.verified {
            out.insert("mismatches".into(), self.mismatches.into());
            out.insert("checked".into(), self.checked.into());
            out.insert("unchecked".into(), self.unchecked.into());
        }
        if let Some(Ok(Value::Object(io))) = self.ioworker.as_ref().map(serde_json::to_value) {
            // The totals at the top (`w.iops`, `w.errors`), the workers beside them.
            if let Some(Value::Object(total)) = io.get("total") {
                out.extend(total.clone());
            }
            if let Some(workers) = io.get("workers") {
                out.insert("workers".into(), workers.clone());
            }
        }
        if let Some(m) = &self.message {
            out.insert("message".into(), m.clone().into());
        }
        Value::Object(out)
    }
}
