//! Executing one action against the device: admin commands ([`admin`]),
//! NVM and raw commands ([`io`]), control actions ([`control`]) and IO
//! workers ([`ioworker`]). Every action returns an [`ActionOutput`] that
//! expectations check and `save:` stores.

pub mod admin;
pub mod control;
pub mod io;
pub mod ioworker;

use std::time::{Duration, Instant};

use nvmeplan_spec::Completion;
use serde_json::{Map, Value};

use super::context::{Eval, RunContext, StepResult};
use super::result::{ExpectationResult, IoWorkerStats};
use crate::plan::Action;

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

/// What an action needs besides the context: the step's timeout, its
/// deadline ([`crate::run::limits`]) and the evaluation of its values.
#[derive(Clone, Copy)]
pub struct StepEnv<'a> {
    /// Values and conditions.
    pub eval: Eval<'a>,
    /// The step's timeout (of each command).
    pub timeout: Duration,
    /// When the step must end.
    pub deadline: Instant,
    /// How long the step may take (`deadline` less its start).
    pub limit: Duration,
}

/// Runs `action`.
pub fn execute(ctx: &mut RunContext, env: StepEnv<'_>, action: &Action) -> StepResult<ActionOutput> {
    use Action as A;
    match action {
        A::Identify(a) => admin::identify(ctx, env, a),
        A::GetLogPage(a) => admin::get_log_page(ctx, env, a),
        A::GetFeatures(a) => admin::get_features(ctx, env, a),
        A::SetFeatures(a) => admin::set_features(ctx, env, a),
        A::Format(a) => admin::format(ctx, env, a),
        A::Sanitize(a) => admin::sanitize(ctx, env, a),
        A::FirmwareDownload(a) => admin::firmware_download(ctx, env, a),
        A::FirmwareCommit(a) => admin::firmware_commit(ctx, env, a),
        A::NamespaceCreate(a) => admin::namespace_create(ctx, env, a),
        A::NamespaceDelete(a) => admin::namespace_delete(ctx, env, a),
        A::NamespaceAttach(a) => admin::namespace_attachment(ctx, env, a, false),
        A::NamespaceDetach(a) => admin::namespace_attachment(ctx, env, a, true),
        A::CreateIoCq(a) => admin::create_io_cq(ctx, env, a),
        A::CreateIoSq(a) => admin::create_io_sq(ctx, env, a),
        A::DeleteIoSq(a) => admin::delete_queue(ctx, env, a, false),
        A::DeleteIoCq(a) => admin::delete_queue(ctx, env, a, true),
        A::CreateIoQueues(a) => admin::create_io_queues(ctx, env, a),
        A::DeleteIoQueues(a) => admin::delete_io_queues(ctx, env, a),
        A::Abort(a) => admin::abort(ctx, env, a),
        A::AsyncEvent(a) => admin::async_event(ctx, env, a),
        A::SelfTest(a) => admin::self_test(ctx, env, a),
        A::AdminRaw(a) => io::raw(ctx, env, a, true),
        A::IoRaw(a) => io::raw(ctx, env, a, false),
        A::Read(a) => io::read(ctx, env, a),
        A::Write(a) => io::write(ctx, env, a),
        A::Compare(a) => io::compare(ctx, env, a),
        A::Flush(a) => io::flush(ctx, env, a),
        A::WriteZeroes(a) => io::write_zeroes(ctx, env, a),
        A::WriteUncorrectable(a) => io::write_uncorrectable(ctx, env, a),
        A::Deallocate(a) => io::deallocate(ctx, env, a),
        A::Verify(a) => io::verify(ctx, env, a),
        A::Ioworker(a) => ioworker::run(ctx, env, a),
        A::Reset(a) => control::reset(ctx, *a),
        A::Shutdown(a) => control::shutdown(ctx, *a),
        A::Register(a) => control::register(ctx, env, a),
        A::Sleep(d) => {
            super::limits::sleep(ctx, env, d.0)?;
            Ok(ActionOutput::default())
        }
        A::Log(text) => control::log(&env, text),
        A::Assert(c) => control::assert(env, c),
        A::Inject(a) => control::inject(ctx, env, a),
        A::Group(_) | A::Include(_) => {
            Err(super::context::StepError::Invalid("groups and includes are expanded before running".into()))
        }
    }
}
