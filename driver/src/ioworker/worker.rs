//! The per-thread worker loop.
//!
//! One worker owns one [`QueuePair`] and runs, until its end condition:
//!
//! 1. **Submit** as many IOs as the window allows (`qdepth` minus
//!    outstanding, once at least `submit_batch` slots are free; the rate
//!    limit, sequence times and the in-flight LBA lock permitting), each
//!    with [`QueuePair::submit_raw_at`] (stamped with the clock reading of
//!    the last poll, so there is one clock read per iteration, not per IO)
//!    and the queue slot as token; no doorbell yet.
//! 2. **Poll** with [`QueuePair::poll`], which rings the SQ doorbell once
//!    for the whole batch and reaps up to `qdepth` completions; the CQ
//!    head doorbell is written once `submit_batch` completions were
//!    consumed ([`QueuePair::set_cq_doorbell_batch`]).
//! 3. Per completion: count it, record its latency (a preallocated HDR
//!    histogram), check read data or update the verify map, release the
//!    slot and its LBA range.
//!
//! Nothing on this path allocates, locks or touches a shared atomic except
//! the relaxed per-iteration progress store and the verify map's own
//! per-LBA atomics when verify is on. Data buffers are preallocated: with
//! verify off, every write sends the same pattern buffer and every read
//! lands in one shared scratch buffer (the data is not looked at); with
//! verify on, each queue slot has a read region and a write region of
//! `max io size` bytes (reads need their data until checked; writes carry
//! per-block stamps on top of the pattern, which stays in place because
//! reads never land there), so nothing is copied per IO.

use super::config::{IoOp, IoWorkerConfig};
use super::generator::{Generator, IoRequest, RateLimiter};
use super::inflight::InflightLock;
use super::results::{
    CMDLOG_TAIL, FirstError, HistogramSummary, LatencySummary, MAX_ERROR_COMPLETIONS, MAX_MISMATCHES,
    TraceEntry, WorkerResult, cqe_fields, new_histogram, thread_cpu_time,
};
use crate::PAGE_SIZE;
use crate::cmdlog::CmdLog;
use crate::commands;
use crate::controller::Namespace;
use crate::dma::DmaBuffer;
use crate::error::DriverError;
use crate::queue_pair::{CANCEL_GRACE, QueuePair};
use crate::verify::{Mismatch, VerifyMap, next_write_token, stamp_block};
use hdrhistogram::Histogram;
use nvmeplan_results::{OP_COUNTER_NAMES, StopReason, keep_unique};
use nvmeplan_spec::{Command, Completion, Status};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// Spins (idle iterations, or looks at the CQ while waiting for the
/// device) before the loop starts yielding the CPU.
const SPINS_BEFORE_YIELD: u32 = 256;
/// [`CANCEL_GRACE`] in the loop's clock unit.
const CANCEL_GRACE_NS: u64 = CANCEL_GRACE.as_nanos() as u64;
/// Looks at the CQ per idle iteration before polling again (the poll
/// also reads the clock and scans for timeouts).
const IDLE_PEEKS: u32 = 32;

/// Latency histograms by [`IoOp::counter`].
pub(crate) type OpHistograms = [Option<Histogram<u64>>; 8];

/// Everything a worker thread starts from.
pub(crate) struct WorkerSetup<'a> {
    pub cfg: &'a IoWorkerConfig,
    pub ns: Namespace,
    pub qp: QueuePair,
    pub map: Option<Arc<VerifyMap>>,
    pub stop: &'a AtomicBool,
    /// Completed IOs, published once per loop iteration (relaxed).
    pub progress: &'a AtomicU64,
}

#[derive(Clone, Copy)]
struct Slot {
    op: IoOp,
    slba: u64,
    nlb: u32,
}

/// A DMA buffer with its host pointer and IOVA cached.
struct Region {
    buf: DmaBuffer,
    host: *mut u8,
    iova: u64,
}

impl Region {
    fn new(qp: &QueuePair, len: usize) -> Result<Self, DriverError> {
        let mut buf = DmaBuffer::new(qp.transport(), len.max(1))?;
        let host = buf.as_mut_slice().as_mut_ptr();
        let iova = buf.iova();
        Ok(Region { buf, host, iova })
    }

    /// `len` bytes at `offset`.
    ///
    /// # Safety
    ///
    /// `offset + len` must be within the buffer, no command the device may
    /// still be executing may use those bytes, and the caller must not
    /// hold another slice over them (the region is DMA memory shared with
    /// the device, so it hands out slices through `&self`, like a cell).
    #[allow(clippy::mut_from_ref)]
    unsafe fn slice_mut(&self, offset: usize, len: usize) -> &mut [u8] {
        debug_assert!(offset + len <= self.buf.len());
        // SAFETY: in bounds of the live DMA buffer (caller), and exclusive:
        // the device does not access it (caller) and the worker creates at
        // most one such slice at a time.
        unsafe { std::slice::from_raw_parts_mut(self.host.add(offset), len) }
    }
}

/// The state of one worker; the queue pair is kept apart so the poll
/// closure can borrow this mutably.
struct Worker<'a> {
    cfg: &'a IoWorkerConfig,
    nsid: u32,
    lba_size: usize,
    map: Option<Arc<VerifyMap>>,
    trim_reads_zeroes: bool,
    slots: Box<[Slot]>,
    free: Vec<u16>,
    lock: InflightLock,
    pattern: Region,
    scratch: Option<Region>,
    /// Per-slot read regions (verify on).
    slot_read: Option<Region>,
    /// Per-slot write regions, pattern-filled (verify on).
    slot_write: Option<Region>,
    slot_bytes: usize,
    dsm: Option<Region>,
    token_base: u64,
    writes: u64,
    cmdlog: Arc<CmdLog>,
    /// One latency histogram per [`IoOp::counter`] of the ops this worker
    /// issues (none when latency is not recorded): one record per IO, and
    /// the worker's overall latency is their sum.
    hists: OpHistograms,
    result: WorkerResult,
    success: u64,
    failures: Vec<(Status, u64)>,
    mismatches: Vec<Mismatch>,
    completed: u64,
    failed: bool,
    /// The errors stopped the worker: the first one without
    /// `continue_on_error`, or one more than `max_errors`.
    stop_on_errors: bool,
    /// The controller was reset (counted once, by [`Worker::reset_seen`]).
    reset: bool,
    /// Start, on the queue pair's clock.
    t0: u64,
    /// Time spent in iterations that neither submitted nor reaped.
    idle_ns: u64,
}

/// Runs one worker to its end; `go` releases it (all workers start
/// together), `abort` cancels it before it starts.
pub(crate) fn run(
    setup: WorkerSetup<'_>,
    ready: &std::sync::atomic::AtomicUsize,
    go: &AtomicBool,
    abort: &AtomicBool,
) -> Result<(WorkerResult, OpHistograms), DriverError> {
    let WorkerSetup { cfg, ns, mut qp, map, stop, progress } = setup;
    let prepared = Worker::new(cfg, &ns, &qp, map);
    ready.fetch_add(1, Ordering::AcqRel);
    while !go.load(Ordering::Acquire) {
        if abort.load(Ordering::Acquire) {
            return Err(DriverError::InvalidState("ioworker start cancelled".into()));
        }
        std::thread::yield_now();
    }
    let mut w = prepared?;
    let mut generator = Generator::new(cfg, &ns);
    let cpu0 = thread_cpu_time();
    w.t0 = qp.clock_ns();
    let elapsed = w.run_loop(&mut qp, &mut generator, stop, progress);
    let cpu = thread_cpu_time().saturating_sub(cpu0);
    Ok(w.finish(elapsed, cpu))
}

impl<'a> Worker<'a> {
    fn new(
        cfg: &'a IoWorkerConfig,
        ns: &Namespace,
        qp: &QueuePair,
        map: Option<Arc<VerifyMap>>,
    ) -> Result<Self, DriverError> {
        let lba_size = ns.lba_size as usize;
        let qd = usize::from(cfg.qdepth);
        let max_bytes = (cfg.max_io_bytes(ns.lba_size) as usize).max(lba_size);
        let slot_bytes = max_bytes.next_multiple_of(PAGE_SIZE);
        let verify = cfg.verify && map.is_some();
        let ops: Vec<IoOp> = match &cfg.io_sequence {
            Some(seq) => seq.iter().map(|e| e.op).collect(),
            None => cfg.op_mix.iter().filter(|(_, w)| *w > 0).map(|(op, _)| *op).collect(),
        };
        let mut pattern = Region::new(qp, slot_bytes)?;
        cfg.pattern.fill(pattern.buf.as_mut_slice());
        let reads = ops.contains(&IoOp::Read);
        let scratch = if reads && !verify { Some(Region::new(qp, slot_bytes)?) } else { None };
        let slot_read = if verify && reads { Some(Region::new(qp, slot_bytes * qd)?) } else { None };
        let slot_write = if verify && ops.contains(&IoOp::Write) {
            let mut r = Region::new(qp, slot_bytes * qd)?;
            for chunk in r.buf.as_mut_slice().chunks_exact_mut(slot_bytes) {
                cfg.pattern.fill(chunk);
            }
            Some(r)
        } else {
            None
        };
        let dsm = if ops.contains(&IoOp::Trim) { Some(Region::new(qp, 16 * qd)?) } else { None };
        let mut result = WorkerResult::default();
        if cfg.trace > 0 {
            result.trace.reserve_exact(cfg.trace);
        }
        Ok(Worker {
            cfg,
            nsid: cfg.nsid,
            lba_size,
            map: if verify { map } else { None },
            trim_reads_zeroes: ns.reads_zeroes_after_deallocate(),
            slots: vec![Slot { op: IoOp::Read, slba: 0, nlb: 0 }; qd].into_boxed_slice(),
            free: (0..cfg.qdepth).rev().collect(),
            lock: InflightLock::new(qd),
            pattern,
            scratch,
            slot_read,
            slot_write,
            slot_bytes,
            dsm,
            token_base: next_write_token() << 40,
            writes: 0,
            cmdlog: qp.cmdlog(),
            hists: if cfg.record_latency {
                let mut h = OpHistograms::default();
                for op in &ops {
                    h[op.counter()].get_or_insert_with(new_histogram);
                }
                h
            } else {
                OpHistograms::default()
            },
            result,
            success: 0,
            failures: Vec::new(),
            mismatches: Vec::new(),
            completed: 0,
            failed: false,
            stop_on_errors: false,
            reset: false,
            t0: 0,
            idle_ns: 0,
        })
    }

    /// The loop; returns the elapsed time.
    fn run_loop(
        &mut self,
        qp: &mut QueuePair,
        generator: &mut Generator,
        stop: &AtomicBool,
        progress: &AtomicU64,
    ) -> Duration {
        let cfg = self.cfg;
        let qdepth = usize::from(cfg.qdepth);
        let io_count = cfg.io_count.unwrap_or(u64::MAX);
        let time_ns = cfg.time.map_or(u64::MAX, |t| u64::try_from(t.as_nanos()).unwrap_or(u64::MAX));
        let rate = cfg.iops_limit.map(RateLimiter::new);
        let verify = self.map.is_some();
        let batch =
            if rate.is_some() || cfg.io_sequence.is_some() { 1 } else { usize::from(cfg.doorbell_batch()) };
        let reap_max = qdepth;
        let mut issued = 0u64;
        let mut held: Option<IoRequest> = None;
        let mut submitting = io_count > 0;
        let mut idle = 0u32;
        let mut next_second = 1_000_000_000u64;
        let mut at_last_second = 0u64;
        let mut per_second = Vec::with_capacity(cfg.time.map_or(16, |t| t.as_secs() as usize + 2));
        // Whether the queue pair's last clock reading is current (its poll
        // reads the clock when it reaps or has commands outstanding), so
        // one clock read serves the poll and the next submissions.
        let mut fresh = false;
        let mut cancelled_at: Option<u64> = None;
        let mut was_idle = false;
        let mut prev = 0u64;
        loop {
            let abs = if fresh { qp.last_clock_ns() } else { qp.clock_ns() };
            let now = abs - self.t0;
            if was_idle {
                self.idle_ns += now - prev;
            }
            prev = now;
            while now >= next_second {
                per_second.push(self.completed - at_last_second);
                at_last_second = self.completed;
                next_second += 1_000_000_000;
            }
            let cancelled = qp.is_cancelled();
            if now >= time_ns || stop.load(Ordering::Relaxed) || cancelled || self.stop_on_errors {
                submitting = false;
            }
            // Cancelled: what is outstanding gets the grace a cancelled
            // wait gives, then the worker leaves it to the queue's deletion.
            if cancelled && now - *cancelled_at.get_or_insert(now) >= CANCEL_GRACE_NS {
                break;
            }
            // Submit what the window allows.
            let mut wait_until = None;
            let mut submitted = 0;
            let window = qdepth - qp.outstanding();
            while submitting && window >= batch && qp.outstanding() < qdepth {
                if let Some(r) = &rate {
                    let due = r.due_ns(issued);
                    if due > now {
                        wait_until = Some(due);
                        break;
                    }
                }
                let req = match held.take().or_else(|| generator.next_io()) {
                    Some(r) => r,
                    None => {
                        submitting = false;
                        break;
                    }
                };
                if req.not_before_ns > now {
                    wait_until = Some(req.not_before_ns);
                    held = Some(req);
                    break;
                }
                if verify && req.op.has_range() && self.lock.conflicts(req.slba, req.nlb, req.op.modifies()) {
                    held = Some(req);
                    break;
                }
                if let Err(e) = self.submit(qp, req, abs) {
                    if !self.reset_seen(&e) {
                        self.driver_error(&e, None);
                    }
                    // The poll below reports the same reset (not counted twice).
                    submitting = false;
                    break;
                }
                issued += 1;
                submitted += 1;
                if issued >= io_count {
                    submitting = false;
                }
            }
            if !submitting && qp.outstanding() == 0 {
                break;
            }
            // Ring once and reap.
            let reaped = match qp.poll(reap_max, |token, cqe, lat| self.complete(token as u16, cqe, lat)) {
                Ok(n) => n,
                Err(e) if self.reset_seen(&e) => break,
                Err(e) => {
                    let timeout = matches!(e, DriverError::Timeout { .. });
                    self.result.timed_out |= timeout;
                    let cid = if let DriverError::Timeout { cid, .. } = e { Some(cid) } else { None };
                    self.driver_error(&e, cid);
                    break;
                }
            };
            progress.store(self.completed, Ordering::Relaxed);
            fresh = reaped > 0 || qp.outstanding() > 0;
            was_idle = reaped == 0 && submitted == 0;
            if !was_idle {
                idle = 0;
                continue;
            }
            idle += 1;
            match wait_until {
                // Nothing outstanding and the next IO is far: sleep.
                Some(due) if qp.outstanding() == 0 && due > now + 200_000 => {
                    std::thread::sleep(Duration::from_nanos((due - now - 100_000).min(1_000_000)));
                    fresh = false;
                }
                _ if idle > SPINS_BEFORE_YIELD => {
                    std::thread::yield_now();
                    fresh = false;
                }
                // Waiting for the device only: watch the CQ, not the clock.
                None if qp.outstanding() > 0 => {
                    qp.spin_until_ready(IDLE_PEEKS);
                    // Each peek counts as a spin towards yielding.
                    idle += IDLE_PEEKS - 1;
                    fresh = false;
                }
                _ => std::hint::spin_loop(),
            }
        }
        let ns = qp.clock_ns() - self.t0;
        if was_idle {
            self.idle_ns += ns - prev;
        }
        let elapsed = Duration::from_nanos(ns);

        while ns >= next_second {
            per_second.push(self.completed - at_last_second);
            at_last_second = self.completed;
            next_second += 1_000_000_000;
        }
        if self.completed > at_last_second || per_second.is_empty() {
            per_second.push(self.completed - at_last_second);
        }
        progress.store(self.completed, Ordering::Relaxed);
        self.result.iops_per_second = per_second;
        elapsed
    }

    /// Builds and queues one IO (no doorbell).
    #[inline]
    fn submit(&mut self, qp: &mut QueuePair, req: IoRequest, abs: u64) -> Result<(), DriverError> {
        let Some(slot) = self.free.pop() else {
            return Err(DriverError::InvalidState("ioworker: no free slot below qdepth".into()));
        };
        let s = usize::from(slot);
        let (nsid, slba, nlb) = (self.nsid, req.slba, req.nlb);
        let len = nlb as usize * self.lba_size;
        let (cmd, data) = match req.op {
            IoOp::Read => {
                let iova = match &self.slot_read {
                    Some(r) => r.iova + (s * self.slot_bytes) as u64,
                    None => self.scratch.as_ref().map_or(self.pattern.iova, |r| r.iova),
                };
                (commands::read(nsid, slba, nlb), Some((iova, len)))
            }
            IoOp::Write => match &self.slot_write {
                Some(r) => {
                    let offset = s * self.slot_bytes;
                    // SAFETY: the slot is free, so no command uses its
                    // region; `len` is at most `slot_bytes`.
                    let region = unsafe { r.slice_mut(offset, len) };
                    self.writes += 1;
                    let token = self.token_base | self.writes;
                    for (i, block) in region.chunks_exact_mut(self.lba_size).enumerate() {
                        stamp_block(block, slba + i as u64, token);
                    }
                    (commands::write(nsid, slba, nlb, false), Some((r.iova + offset as u64, len)))
                }
                None => (commands::write(nsid, slba, nlb, false), Some((self.pattern.iova, len))),
            },
            IoOp::Compare => (commands::compare(nsid, slba, nlb), Some((self.pattern.iova, len))),
            IoOp::Trim => {
                let r = self.dsm.as_ref().expect("trim buffer allocated when trim is in the mix");
                // SAFETY: the slot's 16 bytes are in bounds and unused (free slot).
                unsafe { r.slice_mut(s * 16, 16) }.copy_from_slice(&commands::dsm_range(slba, nlb));
                (commands::dataset_management(nsid, 1, true), Some((r.iova + (s * 16) as u64, 16)))
            }
            IoOp::WriteZeroes => (commands::write_zeroes(nsid, slba, nlb, false), None),
            IoOp::Verify => (commands::verify(nsid, slba, nlb), None),
            IoOp::Flush => (commands::flush(nsid), None),
            IoOp::Raw(op) => {
                let mut c = Command::new(op, nsid);
                c.set_slba(slba);
                c.cdw12 = nlb.saturating_sub(1) & 0xFFFF;
                (c, None)
            }
        };
        if let Err(e) = qp.submit_raw_at(cmd, data, u64::from(slot), abs) {
            self.free.push(slot);
            return Err(e);
        }
        self.slots[s] = Slot { op: req.op, slba, nlb };
        if self.map.is_some() && req.op.has_range() {
            self.lock.insert(slot, slba, nlb, req.op.modifies());
        }
        if self.result.trace.len() < self.cfg.trace {
            self.result.trace.push(TraceEntry { at_us: (abs - self.t0) / 1000, op: req.op, slba, nlb });
        }
        Ok(())
    }

    /// Handles one completion.
    #[inline]
    fn complete(&mut self, slot: u16, cqe: &Completion, latency_ns: u64) {
        let s = usize::from(slot);
        let Slot { op, slba, nlb, .. } = self.slots[s];
        *self.result.ios.get_mut(op) += 1;
        self.completed += 1;
        if let Some(h) = &mut self.hists[op.counter()] {
            h.saturating_record(latency_ns);
        }
        let len = nlb as usize * self.lba_size;
        let status = cqe.status();
        if status.is_success() {
            self.success += 1;
            if op.transfers_data() {
                self.result.bytes += len as u64;
            }
            if let Some(map) = &self.map {
                match op {
                    IoOp::Read => {
                        if let Some(r) = &self.slot_read {
                            // SAFETY: the read completed, so the device is
                            // done with the slot's region; in bounds.
                            let data = unsafe { r.slice_mut(s * self.slot_bytes, len) };
                            let before = self.mismatches.len();
                            let counts = map.check_blocks(slba, data, self.lba_size, &mut self.mismatches);
                            self.result.blocks_checked += counts.checked;
                            self.result.blocks_unchecked += counts.unchecked;
                            if counts.mismatched > 0 {
                                self.result.mismatch_count += counts.mismatched;
                                keep_unique(&mut self.mismatches, before, MAX_MISMATCHES);
                            }
                        }
                    }
                    IoOp::Write => {
                        if let Some(r) = &self.slot_write {
                            // SAFETY: the write completed; the region is in
                            // bounds and no longer used by the device.
                            let data = unsafe { r.slice_mut(s * self.slot_bytes, len) };
                            map.record_writes(slba, data, self.lba_size);
                        }
                    }
                    IoOp::WriteZeroes => map.mark_zeroes(slba, u64::from(nlb)),
                    IoOp::Trim if self.trim_reads_zeroes => map.mark_zeroes(slba, u64::from(nlb)),
                    IoOp::Trim | IoOp::Raw(_) => map.mark_unknown(slba, u64::from(nlb)),
                    IoOp::Flush | IoOp::Compare | IoOp::Verify => {}
                }
            }
        } else {
            self.failed_completion(op, slba, nlb, cqe);
        }
        if self.map.is_some() {
            self.lock.remove(slot);
        }
        self.free.push(slot);
    }

    /// A completion with an error status (cold path).
    #[cold]
    fn failed_completion(&mut self, op: IoOp, slba: u64, nlb: u32, cqe: &Completion) {
        let status = cqe.status();
        match self.failures.iter_mut().find(|(s, _)| *s == status) {
            Some((_, n)) => *n += 1,
            None => self.failures.push((status, 1)),
        }
        if let Some(map) = &self.map {
            if op == IoOp::Read
                && status == Status::UNRECOVERED_READ_ERROR
                && map.all_uncorrectable(slba, u64::from(nlb))
            {
                // Expected: the blocks were made uncorrectable.
                self.result.blocks_checked += u64::from(nlb);
                return;
            }
            if op.modifies() {
                // The range may hold old, new or partial data now.
                map.mark_unknown(slba, u64::from(nlb));
            }
        }
        self.count_error();
        if self.result.error_completions.len() < MAX_ERROR_COMPLETIONS {
            let first = self.result.error_completions.is_empty();
            let tail = self.cmdlog.snapshot(crate::cmdlog::DEFAULT_ENTRIES);
            let command = tail
                .iter()
                .rev()
                .find(|e| e.sqe.cid() == cqe.cid && e.cqe.is_some_and(|c| c.status == cqe.status))
                .map_or_else(|| describe(op, self.nsid, slba, nlb, cqe.cid), ToString::to_string);
            self.record_error(FirstError {
                command,
                status: status.to_string(),
                cqe: Some(cqe_fields(cqe)),
                cmdlog_tail: if first { tail_strings(&tail) } else { Vec::new() },
            });
        }
    }

    /// Counts one error and decides whether the errors stop the worker.
    #[cold]
    fn count_error(&mut self) {
        self.result.errors += 1;
        self.failed = true;
        let over_budget = self.cfg.max_errors.is_some_and(|max| self.result.errors > max);
        if (!self.cfg.continue_on_error || over_budget) && !self.stop_on_errors {
            self.stop_on_errors = true;
            self.result.stopped = Some(match self.cfg.max_errors {
                Some(max) if self.cfg.continue_on_error => StopReason::error_budget(max),
                _ => StopReason::first_io_error(),
            });
        }
    }

    /// Keeps one error completion (the first is also `first_error`).
    #[cold]
    fn record_error(&mut self, e: FirstError) {
        if self.result.first_error.is_none() {
            self.result.first_error = Some(e.clone());
        }
        self.result.error_completions.push(e);
    }

    /// Whether `e` says the controller was reset. The poll that says so
    /// has delivered every outstanding command with a synthesized abort
    /// (each counted by status); the reset itself counts as one more
    /// error (the worker lost its queue, even with nothing outstanding) and
    /// ends the worker, and is the reason given rather than the first of
    /// the aborts.
    #[cold]
    fn reset_seen(&mut self, e: &DriverError) -> bool {
        if !matches!(e, DriverError::ControllerReset { .. }) {
            return false;
        }
        if self.reset {
            return true;
        }
        self.reset = true;
        self.driver_error(e, None);
        self.result.stopped = Some(StopReason::Other(e.to_string()));
        true
    }

    /// A driver error: a timeout (with the CID of the command) or a failed
    /// submission or poll.
    #[cold]
    fn driver_error(&mut self, e: &DriverError, cid: Option<u16>) {
        self.count_error();
        if self.result.error_completions.len() >= MAX_ERROR_COMPLETIONS {
            return;
        }
        let first = self.result.error_completions.is_empty();
        let tail = self.cmdlog.snapshot(crate::cmdlog::DEFAULT_ENTRIES);
        let command = cid
            .and_then(|cid| tail.iter().rev().find(|e| e.sqe.cid() == cid && e.cqe.is_none()))
            .map_or_else(|| e.to_string(), ToString::to_string);
        let status =
            if matches!(e, DriverError::Timeout { .. }) { format!("timeout: {e}") } else { e.to_string() };
        let cmdlog_tail = if first { tail_strings(&tail) } else { Vec::new() };
        self.record_error(FirstError { command, status, cqe: None, cmdlog_tail });
    }

    fn finish(mut self, elapsed: Duration, cpu: Duration) -> (WorkerResult, OpHistograms) {
        let mut r = std::mem::take(&mut self.result);
        if self.success > 0 {
            r.status_counts.insert(Status::SUCCESS.to_string(), self.success);
        }
        for (status, n) in &self.failures {
            *r.status_counts.entry(status.to_string()).or_default() += n;
        }
        r.mismatches = std::mem::take(&mut self.mismatches);
        let mut all = new_histogram();
        for (name, h) in OP_COUNTER_NAMES.iter().zip(&self.hists) {
            if let Some(h) = h {
                let _ = all.add(h);
                if let Some(summary) = LatencySummary::from_histogram(h) {
                    r.latency_by_op.insert((*name).to_string(), summary);
                }
            }
        }
        r.latency = LatencySummary::from_histogram(&all);
        r.finish_rates(elapsed, cpu);
        if r.io_total > 0 {
            r.busy_ns_per_io =
                elapsed.as_nanos().saturating_sub(u128::from(self.idle_ns)) as f64 / r.io_total as f64;
        }
        (r, std::mem::take(&mut self.hists))
    }
}

fn describe(op: IoOp, nsid: u32, slba: u64, nlb: u32, cid: u16) -> String {
    if op.has_range() {
        format!("{} (opcode {:#04x}) cid {cid} nsid {nsid} slba {slba} nlb {nlb}", op.name(), op.opcode())
    } else {
        format!("{} (opcode {:#04x}) cid {cid} nsid {nsid}", op.name(), op.opcode())
    }
}

fn tail_strings(entries: &[crate::cmdlog::CmdLogEntry]) -> Vec<String> {
    let skip = entries.len().saturating_sub(CMDLOG_TAIL);
    entries[skip..].iter().map(ToString::to_string).collect()
}
