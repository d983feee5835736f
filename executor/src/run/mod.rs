//! The plan runner: executes a [`ValidatedPlan`] against a device.
//!
//! Steps run in order. Each ends as pass, fail (the device answered
//! differently than expected), error (the tool or transport failed, a
//! timeout) or skip (`when` false, tags filtered, `requires` not met), with
//! its duration, the commands it issued, every expectation, the value it
//! saved and, on failure, the tail of the command log with CSTS and CAP. A
//! timeout or a fatal controller status resets the controller and the run
//! goes on. Setting the stop flag ([`RunOptions::stop`], Ctrl-C in the
//! command line) ends the run after recording the current step as
//! `interrupted`. However it stops, a run ends with the plan's `finish`
//! (a normal shutdown of the device unless the plan asks for a power loss,
//! see [`finish`]); a shutdown that fails is noted in `stopped`.
//!
//! The runner reports what happens as [`events::RunEvent`]s to one
//! [`events::RunEventSink`] ([`run_events`]); the outputs of a run are
//! sinks: [`live::LiveReporter`] keeps `report.json`, the command line adds
//! its console, HTML and JUnit. [`run_plan`] is the short form with a
//! closure called with each finished step.
//!
//! ```no_run
//! use nvmeplan::run::{PlanSource, RunOptions, open_device, run_plan};
//!
//! let path = std::path::Path::new("plans/smoke.yaml");
//! let report = nvmeplan::validate_path(path, &nvmeplan::Options::default());
//! let plan = report.plan.expect("valid plan");
//! let source = PlanSource::read(path).expect("readable");
//! let ctrl = open_device("sim").expect("device");
//! let result = run_plan(&plan, &source, ctrl, "sim", &RunOptions::default(), &mut |step| {
//!     println!("{}", nvmeplan::run::console_line(step));
//! })
//! .expect("result written");
//! println!("{}", result.summary.line());
//! ```

pub mod commands;
pub mod context;
pub mod device;
pub mod events;
pub mod expect;
pub mod finish;
pub mod guard;
pub mod host;
pub mod limits;
pub mod live;
pub mod output;
pub mod plan_device;
pub mod progress;
pub mod result;
pub mod skip;
pub mod verify_state;

use crate::exit_code::ExitCode;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use nvmeplan_device::Device;
use sha2::{Digest, Sha256};

pub use context::{RunContext, StepError};
pub use device::{OpenError, open};
pub use plan_device::run_device_uri;
pub use result::{Outcome, Report, RunResult, StepResult, Summary};

use crate::expand::{ResolvedStep, StepKind, ValidatedPlan};
use crate::plan::control::QueueCreation;
use context::Eval;
use events::{RunEvent, RunEventSink, SinkError};
use limits::StepEnv;
use result::{Forensic, SavedValue};
use skip::SkipReason;

/// The default device when neither the command line nor the plan names one.
pub const DEFAULT_DEVICE: &str = "sim";

/// Commands of the command log kept in a failure's forensic record.
pub const FORENSIC_TAIL: usize = 16;

/// How to run a plan.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Run only steps with one of these tags (empty: every step).
    pub tags: Vec<String>,
    /// Skip steps with one of these tags.
    pub skip_tags: Vec<String>,
    /// Keep `report.json` here, up to date while the run goes: [`run_plan`]
    /// adds a [`live::LiveReporter`] for it. [`run_events`] does not read
    /// it: its caller chooses every output.
    pub out: Option<PathBuf>,
    /// The seed (default: `defaults.seed`, else derived from the clock).
    pub seed: Option<u64>,
    /// Stop after the first failed or errored step (unless it has
    /// `continue_on_error`).
    pub fail_fast: bool,
    /// `--env` names: environment variables expressions may read besides
    /// `NVMEPLAN_*`.
    pub env: Vec<String>,
    /// `--allow-path` directories firmware files may come from.
    pub allow_paths: Vec<PathBuf>,
    /// Set to stop the run; the current step is recorded as interrupted.
    pub stop: Arc<AtomicBool>,
    /// Which destructive steps may run on a real device.
    pub destructive: guard::DestructivePolicy,
}

/// A plan file's path and text, for the result.
#[derive(Debug, Clone, Default)]
pub struct PlanSource {
    /// The path as given.
    pub path: String,
    /// The text.
    pub text: String,
}

impl PlanSource {
    /// Reads the plan file (see [`crate::input`] for its size cap).
    pub fn read(path: &Path) -> Result<PlanSource, crate::input::InputError> {
        let text = crate::input::read_text(path, crate::input::InputKind::Plan)?;
        Ok(PlanSource { path: path.display().to_string(), text })
    }
}

/// Why a run could not record its result.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// An output could not start (`report.json` could not be written):
    /// no step ran.
    #[error("{0}")]
    Write(#[source] SinkError),
    /// An output could not be written during the run (which then stopped
    /// after the current step) or at its end.
    #[error("{source}")]
    Output {
        /// The failed writes.
        #[source]
        source: SinkError,
        /// The result of the steps that ran.
        result: Box<RunResult>,
    },
}

impl RunError {
    /// Every write that failed, in order.
    pub fn errors(&self) -> impl Iterator<Item = &nvmeplan_reports::ReportError> {
        match self {
            RunError::Write(source) | RunError::Output { source, .. } => source.errors(),
        }
    }
}

/// The device URI of a run: the command line's, else the plan's, else `sim`.
pub fn device_uri(plan: &ValidatedPlan, cli: Option<&str>) -> String {
    cli.map(str::to_string).or_else(|| plan.device.clone()).unwrap_or_else(|| DEFAULT_DEVICE.to_string())
}

/// Opens the device (exit code [`ExitCode::Device`] when this fails): its
/// controller and, for the simulator, its control handle.
pub fn open_device(uri: &str) -> Result<Device, OpenError> {
    device::open(uri)
}

/// The console line of a step: `PASS  identify controller (3 ms)`, with
/// what a verifying step checked (`PASS  read back (2 ms): 8 blocks
/// verified, 8 unchecked`).
pub fn console_line(step: &StepResult) -> String {
    let label = format!("{:<5}", step.outcome.label());
    let checked = step.verification.map(|v| v.summary());
    let message = match (&step.message, &checked) {
        (Some(m), Some(c)) => Some(format!("{m}; {c}")),
        (m, c) => m.clone().or(c.clone()),
    };
    let reason = match (&step.reason, &checked) {
        (Some(r), Some(c)) => Some(format!("{r}; {c}")),
        (r, _) => r.clone(),
    };
    match (step.outcome, &reason, &message) {
        (Outcome::Pass, _, Some(m)) => format!("{label} {} ({} ms): {m}", step.id, step.duration_ms),
        (Outcome::Pass, _, None) => format!("{label} {} ({} ms)", step.id, step.duration_ms),
        (Outcome::Skip, Some(r), _) => format!("{label} {} ({r})", step.id),
        (_, Some(r), _) => format!("{label} {}: {r} ({} ms)", step.id, step.duration_ms),
        (_, None, _) => format!("{label} {} ({} ms)", step.id, step.duration_ms),
    }
}

/// The exit code for a finished run.
pub fn exit_code(result: &RunResult, interrupted: bool) -> u8 {
    if interrupted {
        ExitCode::Interrupted.code()
    } else if result.summary.all_passed() {
        ExitCode::Success.code()
    } else {
        ExitCode::Failed.code()
    }
}

/// Formats a time as RFC 3339 UTC (`2024-05-01T12:00:00Z`).
pub fn rfc3339(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Runs `plan` on `device` (opened from `uri`), calling `observer` with
/// each step's result as it completes and, with [`RunOptions::out`],
/// keeping `report.json` there.
pub fn run_plan(
    plan: &ValidatedPlan,
    source: &PlanSource,
    device: Device,
    uri: &str,
    options: &RunOptions,
    observer: &mut dyn FnMut(&StepResult),
) -> Result<RunResult, RunError> {
    let mut steps = events::StepObserver(observer);
    let mut live = options
        .out
        .as_ref()
        .map(|dir| live::LiveReporter::new(dir.join(nvmeplan_reports::json::REPORT_FILE)));
    let mut sinks = events::FanOut::new();
    sinks.push(&mut steps);
    if let Some(live) = &mut live {
        sinks.push(live);
    }
    run_events(plan, source, device, uri, options, &mut sinks)
}

/// Runs `plan` on `device` (opened from `uri`), telling `sink` every
/// [`RunEvent`] of the run.
pub fn run_events(
    plan: &ValidatedPlan,
    source: &PlanSource,
    device: Device,
    uri: &str,
    options: &RunOptions,
    sink: &mut dyn RunEventSink,
) -> Result<RunResult, RunError> {
    let seed = options
        .seed
        .or(plan.defaults.seed)
        .unwrap_or_else(|| SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64));
    let plan_dir = Path::new(&source.path).parent().map(Path::to_path_buf).unwrap_or_default();
    let result = Report {
        report_version: result::REPORT_VERSION,
        tool: "nvmeplan".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        plan: result::PlanInfo {
            name: plan.name.clone(),
            path: source.path.clone(),
            sha256: Sha256::digest(source.text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect(),
            source: source.text.clone(),
            spec_revision: plan.spec_revision.clone(),
        },
        seed,
        started_at: rfc3339(SystemTime::now()),
        duration_ms: 0,
        host: host::describe(),
        device: device::describe(&device.controller, uri),
        summary: Summary::default(),
        steps: Vec::new(),
        complete: false,
        stopped: None,
        warnings: Vec::new(),
    };
    let mut ctx = RunContext::new(device, uri, seed, options.stop.clone(), plan_dir, plan.default_nsid());
    let channel = progress::ProgressChannel::new();
    ctx.progress = Some(channel.hook());
    ctx.runtime.insert("env".into(), serde_json::Value::Object(crate::input::env::visible(&options.env)));
    ctx.paths = crate::input::paths::PathPolicy::for_plan(Path::new(&source.path), &options.allow_paths);
    let warnings = verify_state::load(&mut ctx);
    let started = RunEvent::RunStarted {
        plan: &plan.name,
        path: &source.path,
        uri,
        seed,
        steps: plan.steps.iter().map(|s| leaves(s).len()).sum(),
        report: &result,
    };
    if let Err(e) = sink.event(&started) {
        // Nothing ran, but the device still ends the way the plan asks.
        if let Err(note) = finish::finish_device(&ctx.ctrl, plan.finish) {
            tracing::warn!("{note}");
        }
        return Err(RunError::Write(e));
    }
    let mut runner = Runner {
        plan,
        options,
        ctx,
        result,
        sink,
        channel,
        pending: None,
        start: Instant::now(),
        halted: false,
    };
    runner.warn(warnings);
    tracing::info!(plan = %plan.name, path = %source.path, device = uri, seed, "run started");
    let ran = runner.run_steps(&plan.steps, &plan.tags);
    if let Some(sim) = &runner.ctx.sim {
        sim.faults().clear();
    }
    if let Err(e) = &ran {
        runner.result.stopped = Some(result::StopReason::error(e));
    }
    // The verify maps are saved while the controller still answers (the
    // save flushes and reads SMART), and only when the run ends with a
    // shutdown: after a power loss the cache's writes are gone and the maps
    // would claim data the media does not hold.
    if plan.finish == crate::plan::control::Finish::Shutdown {
        let saved = verify_state::persist(&mut runner.ctx);
        runner.warn(saved.into_iter().collect());
    }
    if let Err(note) = finish::finish_device(&runner.ctx.ctrl, plan.finish) {
        tracing::warn!("{note}");
        runner.result.stopped = Some(match runner.result.stopped.take() {
            Some(why) => why.with_note(&note),
            None => result::StopReason::Other(note),
        });
    }
    runner.result.complete = !runner.halted && ran.is_ok();
    runner.result.duration_ms = runner.start.elapsed().as_millis() as u64;
    let interrupted = options.stop.load(Ordering::SeqCst);
    let finished = runner.sink.event(&RunEvent::RunFinished { result: &runner.result, interrupted });
    let failed = events::merge(events::merge(ran.err(), runner.pending.take().map_or(Ok(()), Err)), finished);
    if let Some(source) = failed {
        tracing::error!(plan = %plan.name, "{source}");
        return Err(RunError::Output { source, result: Box::new(runner.result) });
    }
    tracing::info!(
        plan = %plan.name,
        complete = runner.result.complete,
        summary = %runner.result.summary.line(),
        "run finished"
    );
    Ok(runner.result)
}

struct Runner<'a> {
    plan: &'a ValidatedPlan,
    options: &'a RunOptions,
    ctx: RunContext,
    result: RunResult,
    sink: &'a mut dyn RunEventSink,
    /// IO worker progress of the running step, for the sink.
    channel: progress::ProgressChannel,
    /// A sink's failure on an event between steps, returned after the
    /// current step.
    pending: Option<SinkError>,
    start: Instant,
    /// The run stopped early (interrupted or fail-fast).
    halted: bool,
}

fn leaves(step: &ResolvedStep) -> Vec<&ResolvedStep> {
    match &step.kind {
        StepKind::Action(_) => vec![step],
        StepKind::Group(children) => children.iter().flat_map(leaves).collect(),
    }
}

impl Runner<'_> {
    fn warn(&mut self, warnings: Vec<String>) {
        for w in warnings {
            tracing::warn!("{w}");
            self.emit(&RunEvent::Warning(&w));
            self.result.warnings.push(w);
        }
    }

    /// Tells the sink an event between steps; a failure is returned after
    /// the current step.
    fn emit(&mut self, event: &RunEvent<'_>) {
        let sent = self.sink.event(event);
        self.pending = events::merge(self.pending.take(), sent);
    }

    /// Tells the sink about the last recorded step; `Err` (which stops the
    /// run) when an output could not be written.
    fn write(&mut self) -> Result<(), SinkError> {
        self.result.duration_ms = self.start.elapsed().as_millis() as u64;
        let sent = match self.result.steps.last() {
            Some(step) => self.sink.event(&RunEvent::StepFinished { step, report: &self.result }),
            None => Ok(()),
        };
        events::merge(self.pending.take(), sent).map_or(Ok(()), Err)
    }

    fn record(&mut self, step: StepResult, continue_on_error: bool) -> Result<(), SinkError> {
        self.result.summary.add(step.outcome);
        tracing::info!(
            step = %step.id,
            outcome = step.outcome.name(),
            duration_ms = step.duration_ms,
            reason = step.reason.as_deref().unwrap_or(""),
            "step finished"
        );
        let stop = matches!(step.outcome, Outcome::Fail | Outcome::Error) && self.options.fail_fast;
        self.result.steps.push(step);
        if stop && !continue_on_error {
            self.halted = true;
            self.result.stopped = Some(result::StopReason::FailFast);
        }
        self.write()
    }

    fn base_result(
        step: &ResolvedStep,
        action: &str,
        outcome: Outcome,
        reason: Option<String>,
    ) -> StepResult {
        let mut r = StepResult::new(&step.id, &step.name, action, outcome);
        r.spec = step.spec.clone();
        r.tags = step.tags.clone();
        r.location = format!("{}:{}:{}", step.location.file, step.location.line, step.location.column);
        r.matrix = step.bindings.matrix.clone();
        r.iteration = step.bindings.iteration;
        r.reason = reason;
        r
    }

    fn action_name(step: &ResolvedStep) -> &'static str {
        match &step.kind {
            StepKind::Action(a) => a.name(),
            StepKind::Group(_) => "group",
        }
    }

    /// Records every leaf under `step` as skipped.
    fn skip(&mut self, step: &ResolvedStep, reason: &SkipReason) -> Result<(), SinkError> {
        for leaf in leaves(step) {
            let r = Self::base_result(leaf, Self::action_name(leaf), Outcome::Skip, Some(reason.to_string()));
            self.record(r, true)?;
        }
        Ok(())
    }

    /// Why `step` is skipped before it runs: tags, requires, `when`.
    /// `Err` holds an evaluation error of `when`.
    fn skip_reason(
        &self,
        step: &ResolvedStep,
        tags: &BTreeSet<String>,
    ) -> Result<Option<SkipReason>, StepError> {
        if !self.options.tags.is_empty() && !self.options.tags.iter().any(|t| tags.contains(t)) {
            return Ok(Some(SkipReason::NotTagged { wanted: self.options.tags.clone() }));
        }
        if let Some(t) = self.options.skip_tags.iter().find(|t| tags.contains(*t)) {
            return Ok(Some(SkipReason::Tagged { tag: t.clone() }));
        }
        for cap in &step.requires {
            if let Err(reason) = device::check_capability(&self.ctx.ctrl, self.ctx.sim.is_some(), cap) {
                return Ok(Some(SkipReason::Requires { reason }));
            }
        }
        if let Some(when) = &step.when {
            let ctx = self.plan.context(step, &self.ctx.runtime);
            let eval = Eval { engine: &self.ctx.engine, ctx: &ctx };
            if !eval.condition(when)? {
                let expression = crate::expr::condition_expression(when).to_string();
                return Ok(Some(SkipReason::WhenFalse { expression }));
            }
        }
        Ok(None)
    }

    fn run_steps(&mut self, steps: &[ResolvedStep], inherited: &[String]) -> Result<(), SinkError> {
        for step in steps {
            if self.halted {
                return Ok(());
            }
            if self.ctx.stopped() {
                self.halted = true;
                self.result.stopped = Some(result::StopReason::Interrupted);
                return Ok(());
            }
            let mut tags: Vec<String> = inherited.to_vec();
            tags.extend(step.tags.iter().cloned());
            match &step.kind {
                StepKind::Group(children) => match self.skip_reason(step, &tags.iter().cloned().collect()) {
                    Ok(Some(reason)) => {
                        if reason.applies_to_leaves_only() {
                            self.run_group(children, &tags)?;
                        } else {
                            self.skip(step, &reason)?;
                        }
                    }
                    Ok(None) => self.run_group(children, &tags)?,
                    Err(e) => {
                        let mut r = Self::base_result(step, "group", Outcome::Error, Some(e.to_string()));
                        r.tags = tags.clone();
                        self.record(r, step.continue_on_error)?;
                    }
                },
                StepKind::Action(action) => self.run_action(step, action, &tags)?,
            }
        }
        Ok(())
    }

    fn run_group(&mut self, children: &[ResolvedStep], tags: &[String]) -> Result<(), SinkError> {
        self.ctx.faults.push(Vec::new());
        let r = self.run_steps(children, tags);
        if let Some(ids) = self.ctx.faults.pop()
            && let Some(sim) = &self.ctx.sim
        {
            for id in ids {
                sim.faults().remove(id);
            }
        }
        r
    }

    fn run_action(
        &mut self,
        step: &ResolvedStep,
        action: &crate::plan::Action,
        tags: &[String],
    ) -> Result<(), SinkError> {
        let start = Instant::now();
        let mut r = Self::base_result(step, action.name(), Outcome::Pass, None);
        match self.skip_reason(step, &tags.iter().cloned().collect()) {
            Ok(Some(reason)) => {
                r.outcome = Outcome::Skip;
                r.reason = Some(reason.to_string());
                return self.record(r, step.continue_on_error);
            }
            Ok(None) => {}
            Err(e) => {
                r.outcome = Outcome::Error;
                r.reason = Some(e.to_string());
                return self.record(r, step.continue_on_error);
            }
        }
        tracing::debug!(step = %step.id, action = action.name(), "step started");
        self.emit(&RunEvent::StepStarted { id: &step.id, action: action.name() });
        let mark = self.ctx.mark();
        self.ctx.refresh_interrupts();
        let ctx_value = self.plan.context(step, &self.ctx.runtime);
        let engine = crate::expr::Engine::new();
        let limit = step.limit(action);
        let env = StepEnv {
            eval: Eval { engine: &engine, ctx: &ctx_value },
            timeout: step.timeout,
            deadline: start + limit,
            limit,
        };
        // The simulator is never refused; only a real device's serial is looked up.
        let is_sim = self.ctx.sim.is_some();
        let serial = if is_sim { None } else { self.ctx.ctrl.identify().ok().map(|id| id.serial()) };
        let refused = guard::refusal(
            &self.options.destructive,
            action,
            env.eval,
            &self.ctx.uri,
            serial.as_deref(),
            is_sim,
        )
        .unwrap_or_else(|e| Some(e.to_string()));
        if let Some(reason) = refused {
            r.outcome = Outcome::Error;
            r.reason = Some(reason);
            r.duration_ms = start.elapsed().as_millis() as u64;
            return self.record(r, step.continue_on_error);
        }
        if self.plan.queues.create == QueueCreation::Early
            && let Err(e) = self.ctx.io_queue(None, self.ctx.default_nsid, step.timeout)
        {
            r.outcome = Outcome::Error;
            r.reason = Some(format!("creating the runner's I/O queues (`queues: {{ create: early }}`): {e}"));
            r.duration_ms = start.elapsed().as_millis() as u64;
            return self.record(r, step.continue_on_error);
        }
        // The step runs on a thread of its own while this one hands its IO
        // worker progress to the sink (see `progress`).
        let (ctx, sink, pending) = (&mut self.ctx, &mut *self.sink, &mut self.pending);
        let ran = self.channel.run_step(
            || catch_crash(|| action.execute(ctx, env)),
            |p| *pending = events::merge(pending.take(), sink.event(&RunEvent::IoWorkerProgress(p))),
        );
        let outcome = match ran {
            Ok(outcome) => outcome,
            Err(what) => {
                // A bug in the tool: record the step, mark the run incomplete and stop.
                tracing::error!(step = %step.id, "step crashed: {what}");
                r.outcome = Outcome::Error;
                r.reason = Some(format!("step crashed: {what}"));
                r.duration_ms = start.elapsed().as_millis() as u64;
                self.halted = true;
                self.result.stopped = Some(result::StopReason::crashed(&step.id, &what));
                return self.record(r, false);
            }
        };
        let mut reset_needed = false;
        match outcome {
            Ok(out) => match expect::evaluate(step.expect.as_ref(), &out, env.eval) {
                Ok(expectations) => {
                    r.outcome = if expect::failure_reason(&expectations).is_some() {
                        Outcome::Fail
                    } else {
                        Outcome::Pass
                    };
                    r.reason = expect::failure_reason(&expectations);
                    r.expectations = expectations;
                    r.message = out.message.clone();
                    r.mismatches = out.mismatch_details.clone();
                    r.verification = out.verified.then_some(result::Verification {
                        checked: out.checked,
                        unchecked: out.unchecked,
                        mismatches: out.mismatches,
                    });
                    r.ioworker = out.ioworker.clone();
                    r.captured = action.captured(&out);
                    if let Some(name) = &step.save {
                        let value = out.saved_value();
                        self.ctx.save(name, value.clone());
                        r.saved = Some(SavedValue { name: name.clone(), value });
                    }
                }
                Err(e) => {
                    r.outcome = Outcome::Error;
                    r.reason = Some(e.to_string());
                }
            },
            Err(e) => {
                r.outcome = Outcome::Error;
                reset_needed = e.needs_reset();
                r.reason = Some(e.to_string());
                if let StepError::Partial { output, .. } = e {
                    r.message = output.message;
                    r.ioworker = output.ioworker;
                    r.mismatches = output.mismatch_details;
                }
            }
        }
        if self.ctx.stopped() {
            r.outcome = Outcome::Error;
            r.reason = Some("interrupted".into());
            if let Some(stats) = &mut r.ioworker {
                stats.stopped = Some(result::StopReason::Interrupted);
            }
            self.halted = true;
            self.result.stopped = Some(result::StopReason::Interrupted);
        }
        let (commands, total) = self.ctx.commands_since(&mark);
        r.commands = commands;
        r.commands_total = total;
        if matches!(r.outcome, Outcome::Fail | Outcome::Error) {
            r.forensic = Some(Forensic {
                cmdlog_tail: self.ctx.cmdlog_tail(FORENSIC_TAIL),
                csts: device::csts_text(&self.ctx.ctrl),
                cap: device::cap_text(&self.ctx.ctrl),
            });
        }
        if reset_needed || device::is_fatal(&self.ctx.ctrl) {
            let note = self.recover();
            r.reason = Some(match r.reason.take() {
                Some(reason) => format!("{reason}; {note}"),
                None => note,
            });
        }
        r.duration_ms = start.elapsed().as_millis() as u64;
        self.record(r, step.continue_on_error)
    }

    /// Resets the controller after a timeout or fatal status: a controller
    /// reset, else a function reset. Returns what happened, for the reason.
    fn recover(&mut self) -> String {
        tracing::warn!("recovering the controller after a timeout or fatal status");
        let note = match self.ctx.ctrl.reset() {
            Ok(()) => "controller reset".to_string(),
            Err(e) => match self.ctx.ctrl.function_reset() {
                Ok(()) => format!("controller reset failed ({e}); function reset"),
                Err(f) => format!("controller reset failed ({e}); function reset failed ({f})"),
            },
        };
        self.ctx.after_reset();
        note
    }
}

/// Runs `f`, turning a panic (a crash of the step) into `Err` with the
/// panic's message.
fn catch_crash<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crash_becomes_its_message() {
        assert_eq!(catch_crash(|| 7), Ok(7));
        let index = std::hint::black_box(9);
        let crashed = catch_crash(|| [1, 2, 3][index % 10]);
        assert!(crashed.unwrap_err().contains("index out of bounds"));
        assert_eq!(catch_crash(|| -> u8 { panic!("static text") }), Err("static text".to_string()));
    }
}
