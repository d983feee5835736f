//! The ioworker: parallel IO generation with inline data verification.
//!
//! [`run_workers`] runs each [`IoWorkerConfig`] on its own thread and its
//! own [`QueuePair`](crate::QueuePair), all released together, and
//! returns per-worker and total [`WorkerResult`]s: IO counts per
//! operation, IOPS, MB/s, an HDR latency histogram summary, IOPS per
//! second and their consistency, thread CPU use, status counts, the first
//! error with the cmdlog tail, and verify mismatches.
//!
//! * [`config`]: what a worker does, and validation.
//! * [`generator`]: operation, size, LBA and timing of each IO.
//! * [`inflight`]: the in-flight LBA lock (its module docs state the
//!   ordering policy).
//! * [`worker`](self): the per-thread loop (submit a window, ring once,
//!   reap a batch).
//! * [`results`]: measurements into the shared result types
//!   (`nvmeplan-results`), and the thread CPU clock.
//!
//! # Errors and timeouts
//!
//! A command that completes with an error status is counted in
//! `status_counts` and `errors`; the first
//! [`MAX_ERROR_COMPLETIONS`](results::MAX_ERROR_COMPLETIONS) are kept in
//! `error_completions` with their decoded command (the first, also
//! `first_error`, with the cmdlog tail), and the worker stops submitting
//! (and drains what is outstanding) unless `continue_on_error`; with
//! `max_errors` it stops at error `max_errors + 1`. A worker its errors
//! stopped says why in `stopped` (and so does the call's result). A command that
//! does not complete within the per-command timeout (default 5 s) stops
//! the worker at once with `timed_out` set; the queue pair is deleted
//! afterwards, so nothing hangs. When the controller's cancellation flag
//! is set, workers stop submitting, give what is outstanding
//! [`CANCEL_GRACE`](crate::CANCEL_GRACE) and end, returning what they
//! measured so far.
//!
//! # Verification
//!
//! With `verify`, writes stamp every block with its LBA and a write token
//! unique in the process and record their CRCs in the [`VerifyMap`] when
//! they succeed; reads check every block against it (stamp, then CRC);
//! write zeroes expects zeroes and trim forgets the range (or expects
//! zeroes when the namespace's DLFEAT says so). Reads count the blocks
//! they checked and those the map knew nothing about
//! ([`WorkerResult::blocks_checked`], [`WorkerResult::blocks_unchecked`]);
//! an unknown block is caught only when its stamp names another LBA. The
//! map is shared by the
//! workers of a call and, when the caller passes it in, survives across
//! calls. Workers that verify must not overlap each other's regions
//! while one of them modifies data: [`run_workers`] rejects that.

pub mod config;
pub mod generator;
pub mod inflight;
pub mod results;
mod worker;

pub use config::{Align, IoOp, IoSizeSpec, IoWorkerConfig, MAX_NLB, SequenceEntry};
pub use results::{
    CqeFields, FirstError, HistogramSummary, IoWorkerResults, LatencySummary, OpCounts, TraceEntry,
    WorkerResult, thread_cpu_time,
};

use crate::controller::Controller;
use crate::error::DriverError;
use crate::queue_pair::QueuePairOptions;
use crate::verify::VerifyMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Progress of one worker, reported about once per second.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Index of the worker's config.
    pub worker: usize,
    /// IOs completed so far.
    pub ios: u64,
    /// Time since the workers started.
    pub elapsed: Duration,
    /// IOs completed during the last second.
    pub iops_last_second: u64,
}

/// A progress counter on its own cache line.
#[repr(align(64))]
#[derive(Default)]
struct Counter(AtomicU64);

/// Runs every config on its own thread and queue pair, started together,
/// and returns when all are done or `stop` is set.
///
/// `verify` is the namespace's verify map, shared by the workers and kept
/// by the caller across steps; when it is `None` and a config verifies, a
/// map for this call alone is used. `progress`, when given, is called on
/// the calling thread about once per second for each worker.
///
/// Errors: an invalid config or one the controller cannot run
/// ([`DriverError::InvalidArgument`] naming the parameter), or a failure
/// to set a worker up (queue creation, DMA memory). Device errors,
/// timeouts and mismatches are reported in the results, not as `Err`.
pub fn run_workers(
    ctrl: &Controller,
    configs: &[IoWorkerConfig],
    verify: Option<Arc<VerifyMap>>,
    stop: &AtomicBool,
    progress: Option<&(dyn Fn(&Progress) + Sync)>,
) -> Result<IoWorkerResults, DriverError> {
    if configs.is_empty() {
        return Ok(IoWorkerResults::default());
    }
    let mqes = ctrl.cap()?.mqes();
    let mdts = ctrl.mdts_bytes();
    let mut namespaces = Vec::with_capacity(configs.len());
    for (i, cfg) in configs.iter().enumerate() {
        let ns = ctrl.namespace(cfg.nsid)?;
        cfg.validate(&ns, mqes).map_err(|e| prefix(configs.len(), i, e))?;
        let bytes = cfg.max_io_bytes(ns.lba_size);
        if let Some(max) = mdts
            && bytes > max as u64
        {
            return Err(prefix(
                configs.len(),
                i,
                DriverError::InvalidArgument(format!(
                    "ioworker io_size: {bytes} bytes exceed the controller's maximum transfer (MDTS) of {max} bytes"
                )),
            ));
        }
        namespaces.push(ns);
    }
    check_verify_overlap(configs, &namespaces)?;
    let map = match verify {
        None if configs.iter().any(|c| c.verify) => Some(Arc::new(VerifyMap::new())),
        other => other,
    };

    let mut qpairs = Vec::with_capacity(configs.len());
    for (cfg, ns) in configs.iter().zip(&namespaces) {
        let options = QueuePairOptions {
            timeout: cfg.command_timeout(),
            max_transfer: Some((cfg.max_io_bytes(ns.lba_size) as usize).max(crate::PAGE_SIZE)),
            ..Default::default()
        };
        let mut qp = ctrl.create_qpair(cfg.qdepth + 1, options)?;
        qp.set_cq_doorbell_batch(cfg.doorbell_batch());
        qpairs.push(qp);
    }

    let counters: Vec<Counter> = configs.iter().map(|_| Counter::default()).collect();
    let ready = AtomicUsize::new(0);
    let go = AtomicBool::new(false);
    let abort = AtomicBool::new(false);
    let done = AtomicUsize::new(0);
    let outputs = std::thread::scope(|s| {
        let mut handles = Vec::with_capacity(configs.len());
        for (i, ((cfg, ns), qp)) in configs.iter().zip(&namespaces).zip(qpairs).enumerate() {
            let setup = worker::WorkerSetup {
                cfg,
                ns: ns.clone(),
                qp,
                map: map.clone(),
                stop,
                progress: &counters[i].0,
            };
            let (ready, go, abort, done) = (&ready, &go, &abort, &done);
            let spawned =
                std::thread::Builder::new().name(format!("ioworker-{i}")).spawn_scoped(s, move || {
                    let r = worker::run(setup, ready, go, abort);
                    done.fetch_add(1, Ordering::AcqRel);
                    r
                });
            match spawned {
                Ok(h) => handles.push(h),
                Err(e) => {
                    abort.store(true, Ordering::Release);
                    return Err(DriverError::InvalidState(format!("cannot start ioworker thread {i}: {e}")));
                }
            }
        }
        while ready.load(Ordering::Acquire) < handles.len() {
            std::thread::yield_now();
        }
        let start = Instant::now();
        go.store(true, Ordering::Release);
        monitor(&done, handles.len(), &counters, start, progress);
        Ok(handles.into_iter().map(|h| h.join()).collect::<Vec<_>>())
    })?;

    let mut workers = Vec::with_capacity(outputs.len());
    let mut merged = results::new_histogram();
    let mut by_op: worker::OpHistograms = Default::default();
    for (i, out) in outputs.into_iter().enumerate() {
        let (result, hists) = match out {
            Ok(r) => r.map_err(|e| prefix(configs.len(), i, e))?,
            Err(_) => return Err(DriverError::InvalidState(format!("ioworker thread {i} panicked"))),
        };
        for (sum, h) in by_op.iter_mut().zip(hists) {
            if let Some(h) = h {
                let _ = merged.add(&h);
                match sum {
                    Some(sum) => {
                        let _ = sum.add(&h);
                    }
                    None => *sum = Some(h),
                }
            }
        }
        workers.push(result);
    }
    if let Some(map) = &map {
        // Data written without verification is no longer known.
        for (cfg, ns) in configs.iter().zip(&namespaces) {
            if !cfg.verify && modifies(cfg) {
                let (lo, hi) = extent(cfg, ns);
                map.mark_unknown(lo, hi.saturating_sub(lo));
            }
        }
    }
    let mut total = WorkerResult::total(&workers, LatencySummary::from_histogram(&merged));
    for (name, h) in nvmeplan_results::OP_COUNTER_NAMES.iter().zip(&by_op) {
        if let Some(summary) = h.as_ref().and_then(LatencySummary::from_histogram) {
            total.latency_by_op.insert((*name).to_string(), summary);
        }
    }
    let stopped = workers.iter().find_map(|w| w.stopped.clone());
    Ok(IoWorkerResults { workers, total, stopped })
}

/// Waits for the workers on the calling thread, reporting progress once per
/// second.
fn monitor(
    done: &AtomicUsize,
    n: usize,
    counters: &[Counter],
    start: Instant,
    progress: Option<&(dyn Fn(&Progress) + Sync)>,
) {
    let mut last: Vec<u64> = vec![0; counters.len()];
    let mut next = Duration::from_secs(1);
    while done.load(Ordering::Acquire) < n {
        std::thread::sleep(Duration::from_millis(5));
        let elapsed = start.elapsed();
        if elapsed < next {
            continue;
        }
        next += Duration::from_secs(1);
        if let Some(report) = progress {
            for (i, c) in counters.iter().enumerate() {
                let ios = c.0.load(Ordering::Relaxed);
                report(&Progress { worker: i, ios, elapsed, iops_last_second: ios - last[i] });
                last[i] = ios;
            }
        }
    }
}

fn prefix(n: usize, i: usize, e: DriverError) -> DriverError {
    match e {
        DriverError::InvalidArgument(m) if n > 1 => DriverError::InvalidArgument(format!("worker {i}: {m}")),
        other => other,
    }
}

/// The LBA range a config touches: its region, or its sequence's extent.
fn extent(cfg: &IoWorkerConfig, ns: &crate::controller::Namespace) -> (u64, u64) {
    match &cfg.io_sequence {
        Some(seq) => {
            let ranged = seq.iter().filter(|e| e.op.has_range());
            let lo = ranged.clone().map(|e| e.slba).min().unwrap_or(0);
            let hi = ranged.map(|e| e.slba + u64::from(e.nlb)).max().unwrap_or(0);
            (lo, hi)
        }
        None => (cfg.region_start, cfg.region_end_for(ns)),
    }
}

fn modifies(cfg: &IoWorkerConfig) -> bool {
    match &cfg.io_sequence {
        Some(seq) => seq.iter().any(|e| e.op.modifies()),
        None => cfg.op_mix.iter().any(|(op, w)| *w > 0 && op.modifies()),
    }
}

/// Verifying workers on the same namespace may not overlap while one of
/// them modifies data: their IOs are not ordered against each other, so
/// reads would report false mismatches.
fn check_verify_overlap(
    configs: &[IoWorkerConfig],
    namespaces: &[crate::controller::Namespace],
) -> Result<(), DriverError> {
    for i in 0..configs.len() {
        for j in i + 1..configs.len() {
            let (a, b) = (&configs[i], &configs[j]);
            if a.nsid != b.nsid || !(a.verify || b.verify) || !(modifies(a) || modifies(b)) {
                continue;
            }
            let (alo, ahi) = extent(a, &namespaces[i]);
            let (blo, bhi) = extent(b, &namespaces[j]);
            if alo < bhi && blo < ahi {
                return Err(DriverError::InvalidArgument(format!(
                    "ioworker region: workers {i} ({alo}..{ahi}) and {j} ({blo}..{bhi}) overlap on namespace {} \
                     while verifying and writing; give them disjoint regions",
                    a.nsid
                )));
            }
        }
    }
    Ok(())
}
