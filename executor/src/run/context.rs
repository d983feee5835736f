//! The state a run carries from step to step: the controller (and the
//! simulator's control handle), the runner's I/O queue pair, one verify map per namespace, saved results, the
//! expression runtime (`ctrl`, `ns`, `env`) and injected faults.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nvmeplan_device::{Device, SimHandle};
use nvmeplan_driver::{
    CmdLog, CmdLogEntry, Controller, DmaBuffer, DriverError, QueuePair, QueuePairOptions, VerifyMap,
};
use nvmeplan_sim::faults::FaultId;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::device::{fields_json, register_json};
use super::result::{CommandRecord, MAX_COMMANDS};
use crate::expr::{Engine, ExprError};
use crate::plan::size::Size;
use crate::plan::values::{Expr, Scalar, Text};

/// Entries of the runner's I/O queue.
pub const IO_QUEUE_DEPTH: u16 = 64;

/// Why a step could not run to the end (its outcome is `error`).
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// The driver failed: timeout, reset, transport, bad argument.
    #[error("{0}")]
    Driver(#[from] DriverError),
    /// An expression could not be evaluated.
    #[error("{0}")]
    Expression(#[from] ExprError),
    /// The step asks for something the runner or device cannot do.
    #[error("{0}")]
    Invalid(String),
    /// A file could not be read.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The run was interrupted.
    #[error("interrupted")]
    Interrupted,
    /// The step reached its deadline ([`super::limits`]); `command` is the
    /// command the deadline cut short, if one was in flight.
    #[error("timed out after {after:?}{}", command.as_ref().map(|c| format!(" ({c})")).unwrap_or_default())]
    TimedOut {
        /// The step's limit.
        after: Duration,
        /// The command timeout the deadline caused.
        #[source]
        command: Option<DriverError>,
    },
    /// The step ended early (`error`: interrupted or timed out) after it
    /// had produced part of its output, which the result keeps.
    #[error("{error}")]
    Partial {
        /// Why it ended.
        error: Box<StepError>,
        /// What it produced until then.
        output: Box<super::output::ActionOutput>,
    },
}

impl StepError {
    /// Whether the controller should be reset after this error: a command
    /// timed out or the controller reported a fatal status.
    pub fn needs_reset(&self) -> bool {
        match self {
            StepError::Driver(
                DriverError::Timeout { .. }
                | DriverError::ControllerFatal { .. }
                | DriverError::NotReady { .. },
            )
            | StepError::TimedOut { command: Some(_), .. } => true,
            StepError::Partial { error, .. } => error.needs_reset(),
            _ => false,
        }
    }
}

/// Shorthand for step results.
pub type StepResult<T> = Result<T, StepError>;

/// Evaluates a step's values against its expression context.
#[derive(Clone, Copy)]
pub struct Eval<'a> {
    /// The expression engine.
    pub engine: &'a Engine,
    /// The step's context ([`crate::ValidatedPlan::context`]).
    pub ctx: &'a Value,
}

/// Converts a JSON value to `T`, accepting integral floats for integers.
fn convert<T: DeserializeOwned>(value: Value, what: &str) -> StepResult<T> {
    match serde_json::from_value::<T>(value.clone()) {
        Ok(v) => Ok(v),
        Err(first) => {
            let retry = match &value {
                Value::Number(n) => n
                    .as_f64()
                    .filter(|f| f.fract() == 0.0)
                    .map(|f| if f < 0.0 { Value::from(f as i64) } else { Value::from(f as u64) }),
                Value::String(s) => parse_int(s).map(Value::from),
                _ => None,
            };
            retry.and_then(|v| serde_json::from_value::<T>(v).ok()).ok_or_else(|| {
                StepError::Invalid(format!("{what}: `{value}` is not a valid value ({first})"))
            })
        }
    }
}

/// Parses a decimal or `0x` hex integer.
pub fn parse_int(text: &str) -> Option<u64> {
    let t = text.trim();
    match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => t.parse().ok(),
    }
}

impl Eval<'_> {
    /// The value of `expr`.
    pub fn get<T: DeserializeOwned + Clone>(&self, expr: &Expr<T>) -> StepResult<T> {
        match expr {
            Expr::Literal(v) => Ok(v.clone()),
            Expr::Expression(t) => convert(t.eval(self.engine, self.ctx)?, t.source()),
        }
    }

    /// The value of an optional `expr`, else `default`.
    pub fn or<T: DeserializeOwned + Clone>(&self, expr: Option<&Expr<T>>, default: T) -> StepResult<T> {
        expr.map_or(Ok(default), |e| self.get(e))
    }

    /// The value of an optional `expr`.
    pub fn opt<T: DeserializeOwned + Clone>(&self, expr: Option<&Expr<T>>) -> StepResult<Option<T>> {
        expr.map(|e| self.get(e)).transpose()
    }

    /// The value of the size `expr` in blocks of `lba_size` bytes; `key`
    /// names it in the error of a byte size that is not a whole number of
    /// blocks.
    pub fn blocks(&self, key: &str, expr: &Expr<Size>, lba_size: u64) -> StepResult<u64> {
        self.get(expr)?.blocks(lba_size).map_err(|e| StepError::Invalid(format!("{key}: {e}")))
    }

    /// [`Eval::blocks`] of an optional size.
    pub fn opt_blocks(&self, key: &str, expr: Option<&Expr<Size>>, lba_size: u64) -> StepResult<Option<u64>> {
        expr.map(|e| self.blocks(key, e, lba_size)).transpose()
    }

    /// Renders a text with `${{ }}` parts.
    pub fn text(&self, text: &Text) -> StepResult<String> {
        Ok(text.0.render(self.engine, self.ctx)?)
    }

    /// A comparison scalar, with a `${{ }}` string evaluated.
    pub fn scalar(&self, scalar: &Scalar) -> StepResult<Value> {
        match &scalar.0 {
            Value::String(s) if s.contains(crate::expr::OPEN) => {
                Ok(crate::expr::Template::new(s.clone()).eval(self.engine, self.ctx)?)
            }
            other => Ok(other.clone()),
        }
    }

    /// A condition (`when`, `assert`).
    pub fn condition(&self, condition: &str) -> StepResult<bool> {
        Ok(self.engine.eval_condition(condition, self.ctx)?)
    }
}

/// Where the command logs stood when a step started.
pub struct CmdLogMark {
    logs: Vec<(Arc<CmdLog>, u64)>,
}

/// The state of a run.
pub struct RunContext {
    /// The controller under test.
    pub ctrl: Controller,
    /// The simulator's controls (faults, power, its image set); `None` on
    /// a real device.
    pub sim: Option<SimHandle>,
    /// The device URI.
    pub uri: String,
    /// The expression engine.
    pub engine: Engine,
    /// The run's seed.
    pub seed: u64,
    /// Set to stop the run (Ctrl-C).
    pub stop: Arc<AtomicBool>,
    /// The directory of the plan file (firmware images are relative to it).
    pub plan_dir: PathBuf,
    /// Where firmware files may come from.
    pub paths: crate::input::paths::PathPolicy,
    /// The namespace of commands that name none.
    pub default_nsid: u32,
    /// The runner's I/O queue pair, created on first use and after resets.
    io: Option<QueuePair>,
    /// Memory of queues the plan created with `create_io_*`, by (qid, is_cq).
    pub raw_queues: BTreeMap<(u16, bool), DmaBuffer>,
    /// One verify map per namespace, for the whole run.
    verify: BTreeMap<u32, Arc<VerifyMap>>,
    /// `ctrl`, `ns`, `env` and saved results for expressions.
    pub runtime: Map<String, Value>,
    /// Faults injected, per enclosing group (the last is the innermost).
    pub faults: Vec<Vec<FaultId>>,
    /// A counter that varies random data between steps.
    pub data_counter: u64,
    /// Live progress of IO workers, if a console wants it.
    pub progress: Option<super::progress::ProgressHook>,
}

impl RunContext {
    /// A context for `device`.
    pub fn new(
        device: Device,
        uri: &str,
        seed: u64,
        stop: Arc<AtomicBool>,
        plan_dir: PathBuf,
        default_nsid: u32,
    ) -> Self {
        let Device { controller: ctrl, sim } = device;
        if let Some(sim) = &sim {
            sim.faults().set_seed(seed);
        }
        let env = crate::input::env::visible(&[]);
        let mut ctx = RunContext {
            ctrl,
            sim,
            uri: uri.to_string(),
            engine: Engine::new(),
            seed,
            stop,
            paths: crate::input::paths::PathPolicy {
                root: if plan_dir.as_os_str().is_empty() { PathBuf::from(".") } else { plan_dir.clone() },
                allowed: Vec::new(),
            },
            plan_dir,
            default_nsid,
            io: None,
            raw_queues: BTreeMap::new(),
            verify: BTreeMap::new(),
            runtime: Map::new(),
            faults: vec![Vec::new()],
            data_counter: 0,
            progress: None,
        };
        ctx.runtime.insert("env".into(), Value::Object(env));
        ctx.refresh_identity();
        ctx
    }

    /// Whether the run was asked to stop.
    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Sleeps up to `d`, returning early with `Interrupted` when the run stops.
    pub fn sleep(&self, d: Duration) -> StepResult<()> {
        let end = Instant::now() + d;
        loop {
            if self.stopped() {
                return Err(StepError::Interrupted);
            }
            let now = Instant::now();
            if now >= end {
                return Ok(());
            }
            std::thread::sleep((end - now).min(Duration::from_millis(20)));
        }
    }

    /// Re-reads `ctrl`, `ns` and `cap` for expressions from the driver's state.
    pub fn refresh_identity(&mut self) {
        let cap = self.ctrl.transport().bar0_read64(nvmeplan_spec::registers::CAP);
        self.runtime.insert("cap".into(), Value::Object(register_json("cap", cap)));
        if let Ok(id) = self.ctrl.identify() {
            self.runtime.insert("ctrl".into(), Value::Object(fields_json(&*id)));
        }
        if let Ok(namespaces) = self.ctrl.namespaces() {
            let max = namespaces.iter().map(|n| n.nsid).max().unwrap_or(0) as usize;
            let mut list = vec![Value::Null; max + 1];
            for ns in &namespaces {
                let mut fields = fields_json(&*ns.identify);
                fields.insert("nsid".into(), ns.nsid.into());
                list[ns.nsid as usize] = Value::Object(fields);
            }
            self.runtime.insert("ns".into(), Value::Array(list));
        }
    }

    /// Sets `interrupts` for expressions: the MSI-X messages counted so far
    /// on each enabled vector (`interrupts[0]` is the admin queue's).
    pub fn refresh_interrupts(&mut self) {
        let vectors = self.ctrl.msix_vectors().unwrap_or(0);
        let t = self.ctrl.transport();
        let counts: Vec<Value> = (0..vectors).map(|v| Value::from(t.interrupt_count(v))).collect();
        self.runtime.insert("interrupts".into(), Value::Array(counts));
    }

    /// Saves a step result under `name`.
    pub fn save(&mut self, name: &str, value: Value) {
        self.runtime.insert(name.to_string(), value);
    }

    /// The verify map of namespace `nsid` (created on first use).
    pub fn verify_map(&mut self, nsid: u32) -> Arc<VerifyMap> {
        self.verify.entry(nsid).or_insert_with(|| Arc::new(VerifyMap::new())).clone()
    }

    /// Every verify map.
    pub fn verify_maps(&self) -> Vec<Arc<VerifyMap>> {
        self.verify.values().cloned().collect()
    }

    /// Every verify map with its namespace.
    pub fn verify_entries(&self) -> Vec<(u32, Arc<VerifyMap>)> {
        self.verify.iter().map(|(nsid, map)| (*nsid, map.clone())).collect()
    }

    /// Uses `map` as namespace `nsid`'s verify map (state saved by an earlier run).
    pub fn set_verify_map(&mut self, nsid: u32, map: Arc<VerifyMap>) {
        self.verify.insert(nsid, map);
    }

    /// Forgets the verify map of `nsid` (the namespace was deleted).
    pub fn drop_verify_map(&mut self, nsid: u32) {
        self.verify.remove(&nsid);
    }

    /// The runner's I/O queue pair with `nsid`'s verify map attached and
    /// `timeout` as its command timeout; `qid` must name it when given.
    pub fn io_queue(&mut self, qid: Option<u16>, nsid: u32, timeout: Duration) -> StepResult<&mut QueuePair> {
        if self.io.as_ref().is_some_and(QueuePair::is_stale) {
            self.io = None;
        }
        if self.io.is_none() {
            let mqes = self.ctrl.cap().map(|c| c.mqes()).unwrap_or(1);
            let depth = IO_QUEUE_DEPTH.min(mqes.saturating_add(1)).max(2);
            // With MSI-X, the queue's completions raise its vector and waits
            // sleep on it (plans check `interrupts`).
            let interrupts = self.ctrl.msix_vectors().unwrap_or(0) > 1;
            let options = QueuePairOptions { timeout, interrupts, ..QueuePairOptions::default() };
            self.io = Some(self.ctrl.create_qpair(depth, options)?);
        }
        let map = self.verify_map(nsid);
        let qp = self.io.as_mut().ok_or_else(|| StepError::Invalid("no I/O queue".into()))?;
        if let Some(q) = qid
            && q != qp.qid()
        {
            return Err(StepError::Invalid(format!(
                "I/O queue {q} is not one the runner can submit on (its I/O queue is {}); queues created with \
                 create_io_* are for admin-command tests",
                qp.qid()
            )));
        }
        qp.attach_verify_map(nsid, map);
        qp.set_timeout(timeout);
        Ok(qp)
    }

    /// Forgets the I/O queue and queue memory after a reset (the device
    /// forgot them).
    pub fn after_reset(&mut self) {
        self.io = None;
        self.raw_queues.clear();
        self.refresh_identity();
    }

    /// The command logs of the admin queue and the runner's I/O queue.
    fn logs(&self) -> Vec<Arc<CmdLog>> {
        let mut logs = Vec::new();
        if let Ok(admin) = self.ctrl.admin_cmdlog() {
            logs.push(admin);
        }
        if let Some(io) = &self.io {
            logs.push(io.cmdlog());
        }
        logs
    }

    /// Marks where the command logs stand.
    pub fn mark(&self) -> CmdLogMark {
        CmdLogMark {
            logs: self
                .logs()
                .into_iter()
                .map(|l| {
                    let n = l.recorded();
                    (l, n)
                })
                .collect(),
        }
    }

    /// The commands issued since `mark` (at most [`MAX_COMMANDS`], the
    /// latest), in submission order, and how many there were.
    pub fn commands_since(&self, mark: &CmdLogMark) -> (Vec<CommandRecord>, u64) {
        let mut logs: Vec<(Arc<CmdLog>, u64)> = mark.logs.clone();
        for log in self.logs() {
            if !logs.iter().any(|(l, _)| Arc::ptr_eq(l, &log)) {
                logs.push((log, 0));
            }
        }
        let mut total = 0;
        let mut entries: Vec<(Instant, CmdLogEntry)> = Vec::new();
        for (log, from) in &logs {
            let n = log.recorded().saturating_sub(*from);
            total += n;
            let take = usize::try_from(n).unwrap_or(usize::MAX).min(MAX_COMMANDS);
            for e in log.snapshot(take) {
                entries.push((log.base() + Duration::from_nanos(e.submit_ns), e));
            }
        }
        entries.sort_by_key(|(t, _)| *t);
        let skip = entries.len().saturating_sub(MAX_COMMANDS);
        (entries.into_iter().skip(skip).map(|(_, e)| command_record(&e)).collect(), total)
    }

    /// The last `n` commands of each queue (the admin queue and the
    /// runner's I/O queue), merged in submission order, as text. Each
    /// queue keeps its own `n` so that a failing IO's queue is not crowded
    /// out of the tail by admin commands, or the other way round.
    pub fn cmdlog_tail(&self, n: usize) -> Vec<String> {
        let mut entries: Vec<(Instant, CmdLogEntry)> = Vec::new();
        for log in self.logs() {
            for e in log.snapshot(n) {
                entries.push((log.base() + Duration::from_nanos(e.submit_ns), e));
            }
        }
        entries.sort_by_key(|(t, _)| *t);
        entries.into_iter().map(|(_, e)| e.to_string()).collect()
    }
}

impl Clone for CmdLogMark {
    fn clone(&self) -> Self {
        CmdLogMark { logs: self.logs.clone() }
    }
}

/// A command log entry as a result record.
pub fn command_record(e: &CmdLogEntry) -> CommandRecord {
    let words: [u32; 16] = zerocopy::transmute!(e.sqe);
    let op = e.opcode();
    CommandRecord {
        qid: e.qid,
        text: e.to_string(),
        opcode: op.name().map_or_else(|| format!("opcode {:#04x}", op.opcode), str::to_string),
        sqe: words.to_vec(),
        cqe: e.cqe.map(|c| {
            let w: [u32; 4] = zerocopy::transmute!(c);
            w.to_vec()
        }),
        status: e.cqe.map(|c| c.status().to_string()),
        latency_us: e.latency_ns().map(|ns| ns as f64 / 1e3),
    }
}
