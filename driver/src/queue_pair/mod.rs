//! [`QueuePair`]: one submission queue and its completion queue, owned by
//! one thread.
//!
//! # Design
//!
//! * The SQ and CQ rings live in DMA memory. Submissions write the SQE into
//!   the ring and advance a local tail; the tail doorbell is written once
//!   per batch ([`QueuePair::ring_doorbell`], or implicitly by
//!   [`QueuePair::poll`] and the synchronous calls), after a release fence.
//! * Completions are found by the CQ phase tag (read volatile, then an
//!   acquire fence before the rest of the entry is read); the CQ head
//!   doorbell is written once per poll batch. The SQ head comes from
//!   CQE.SQHD, and a submission that would overrun the SQ fails with
//!   [`DriverError::QueueFull`].
//! * Command ids index a preallocated tracker table; each tracker slot owns
//!   preallocated PRP list pages. The hot path ([`QueuePair::submit_raw`] +
//!   [`QueuePair::poll`]) neither allocates nor locks.
//! * Device data is never trusted: a CQE with an SQID other than this
//!   queue's, an unknown or idle CID, or an out-of-range SQHD is logged and
//!   counted in [`QueueStats::invalid_completions`].
//!
//! # Delivery rule
//!
//! Every submitted command is delivered exactly once: to the `poll` closure
//! (raw commands, by token), to its callback, or to the waiting `execute`.
//! The completion is the device's, or, when the controller is reset or the
//! queue deleted with the command outstanding, a completion synthesized by
//! the host with status [`SYNTHESIZED_STATUS`] (`command_aborted_by_host`,
//! DNR set); see [`QueuePair::is_synthesized`].
//!
//! A cancelled wait (the controller's cancellation flag, see
//! [`Controller`](crate::Controller)) does not deliver anything either: it
//! returns [`DriverError::Cancelled`] once the flag is set and the command
//! has had [`CANCEL_GRACE`]; the command stays outstanding as after a timeout.
//!
//! A timeout does not deliver anything: `poll` (and the waits) return
//! [`DriverError::Timeout`] naming the command, which stays outstanding with
//! its CID reserved, because the device may still complete it. A later
//! device completion is then delivered normally (and counted in
//! [`QueueStats::late_completions`]). `execute` gives up its command on
//! timeout; a late completion for it is only counted.
//!
//! # Resets
//!
//! The queue shares a generation counter with its [`Controller`](crate::Controller).
//! A reset bumps it; the queue then refuses submissions with
//! [`DriverError::ControllerReset`], and the next `poll` delivers every
//! outstanding command with a synthesized completion and returns that error.
//!
//! # Files
//!
//! This file holds the queue's state, reaping, timeouts and resets;
//! `submit.rs` the submission path (SQEs, CIDs, PRPs, the SQ tail
//! doorbell); `wait.rs` the waits and synchronous execution.

use crate::PAGE_SIZE;
use crate::cmdlog::{CmdLog, DEFAULT_ENTRIES};
use crate::dma::DmaBuffer;
use crate::error::{DriverError, OpcodeName};
use crate::namespace::Namespace;
use crate::prp;
use crate::transport::Transport;
use nvmeplan_spec::registers::{cq_head_doorbell, sq_tail_doorbell};
use nvmeplan_spec::{Command, Completion, CompletionStatus, Status};
use std::collections::VecDeque;
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering, fence};
use std::time::{Duration, Instant};

mod submit;
mod wait;

/// The default per-command timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// The status of completions the host synthesizes for commands that can no
/// longer complete (controller reset, queue deleted).
pub const SYNTHESIZED_STATUS: Status = Status::COMMAND_ABORTED_BY_HOST;
/// Transfer size the PRP lists are sized for when the controller reports no
/// MDTS limit.
pub const DEFAULT_MAX_TRANSFER: usize = 4 << 20;
/// How often outstanding commands are checked against their deadlines.
const TIMEOUT_SCAN_NS: u64 = 1_000_000;
/// How long a command may still take once the controller's cancellation
/// flag is set before a wait gives it up: long enough for the quick
/// commands a cancelled host still sends (deleting a worker's queue), short
/// enough that a cancelled wait ends at once for a person.
pub const CANCEL_GRACE: Duration = Duration::from_millis(5);

/// A completion callback for [`QueuePair::submit_with_callback`].
pub type Callback = Box<dyn FnOnce(&Completion) + Send>;

/// Options for an I/O queue pair.
#[derive(Clone, Debug)]
pub struct QueuePairOptions {
    /// Create the CQ with interrupts enabled, so waits can sleep on the
    /// vector instead of polling.
    pub interrupts: bool,
    /// Default per-command timeout.
    pub timeout: Duration,
    /// Number of command log entries.
    pub cmdlog_entries: usize,
    /// Largest transfer the preallocated PRP lists cover; `None` uses the
    /// controller's MDTS (or [`DEFAULT_MAX_TRANSFER`] when it has none).
    pub max_transfer: Option<usize>,
    /// Submission queue priority (QPRIO, for weighted round robin).
    pub priority: u8,
}

impl Default for QueuePairOptions {
    fn default() -> Self {
        QueuePairOptions {
            interrupts: false,
            timeout: DEFAULT_TIMEOUT,
            cmdlog_entries: DEFAULT_ENTRIES,
            max_transfer: None,
            priority: 0,
        }
    }
}

/// Counters of one queue pair.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// Commands submitted.
    pub submitted: u64,
    /// Device completions processed.
    pub completed: u64,
    /// SQ tail doorbell writes.
    pub doorbells: u64,
    /// Completions ignored because their SQID, CID or SQHD was invalid.
    pub invalid_completions: u64,
    /// Commands that passed their deadline.
    pub timeouts: u64,
    /// Device completions of commands that had timed out.
    pub late_completions: u64,
    /// Completions synthesized by the host (reset, queue deletion).
    pub synthesized: u64,
}

enum Waiter {
    Raw(u64),
    Callback(Callback),
    Sync,
    Discard,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Free,
    Busy,
    TimedOut,
}

struct Tracker {
    state: State,
    opcode: u8,
    waiter: Waiter,
    submit_ns: u64,
    deadline_ns: u64,
    log_index: u64,
    /// PRP list pages of a command larger than the slot's preallocated
    /// pages can describe (a transfer over the queue's maximum, sent on
    /// purpose); the device may read them until the command completes.
    oversize_lists: Option<DmaBuffer>,
}

/// What an I/O queue pair needs from the controller that created it: the
/// queue's deletion and the release of its id when the pair is dropped,
/// and the namespaces it may address. The controller implements it; the
/// queue pair knows nothing else of the controller.
pub(crate) trait QueueOwner: Send + Sync {
    /// Deletes I/O SQ then CQ `qid` if the controller is still at
    /// `generation`, logging a failure.
    fn delete_io_queue(&self, qid: u16, generation: u64);
    /// Marks queue id `qid` free.
    fn release_qid(&self, qid: u16);
    /// The active namespace `nsid`.
    fn namespace(&self, nsid: u32) -> Option<Namespace>;
}

/// Everything a [`QueuePair`] is built from (internal).
pub(crate) struct QueueSetup {
    pub transport: Arc<dyn Transport>,
    pub qid: u16,
    pub depth: u16,
    pub dstrd: u8,
    pub generation: Arc<AtomicU64>,
    pub vector: Option<u16>,
    pub timeout: Duration,
    pub cmdlog_entries: usize,
    pub max_transfer: usize,
    pub owner: Option<Arc<dyn QueueOwner>>,
    pub cancel: Arc<AtomicBool>,
}

/// One submission/completion queue pair. `Send` but not `Sync`: one thread
/// owns it and every method takes `&mut self`.
pub struct QueuePair {
    transport: Arc<dyn Transport>,
    qid: u16,
    depth: u16,
    sq_mem: DmaBuffer,
    cq_mem: DmaBuffer,
    prp_mem: DmaBuffer,
    sq: NonNull<Command>,
    cq: NonNull<Completion>,
    prp_host: NonNull<u8>,
    pages_per_slot: usize,
    max_transfer: usize,
    sq_db: u64,
    cq_db: u64,
    sq_tail: u16,
    sq_head: u16,
    doorbell_pending: bool,
    cq_head: u16,
    phase: bool,
    trackers: Box<[Tracker]>,
    free_cids: Vec<u16>,
    outstanding: usize,
    deferred: VecDeque<(u64, Completion, u64)>,
    timed_out: VecDeque<u16>,
    sync_result: Option<(u16, Completion)>,
    generation: Arc<AtomicU64>,
    my_generation: u64,
    dead: bool,
    vector: Option<u16>,
    timeout: Duration,
    /// `timeout` in nanoseconds (saturated), for the submission path.
    timeout_ns: u64,
    base: Instant,
    last_ns: u64,
    cq_db_batch: usize,
    cq_unreported: usize,
    next_scan_ns: u64,
    cmdlog: Arc<CmdLog>,
    stats: QueueStats,
    cancel: Arc<AtomicBool>,
    pub(crate) owner: Option<Arc<dyn QueueOwner>>,
    pub(crate) verify_maps: Vec<(u32, Arc<crate::verify::VerifyMap>)>,
    _not_sync: PhantomData<std::cell::Cell<()>>,
}

// SAFETY: the raw pointers point into DMA memory owned by this QueuePair
// (the DmaBuffer fields), which is valid from any thread; the queue is used
// through `&mut self` by one thread at a time. Callbacks are `Send`.
unsafe impl Send for QueuePair {}

impl std::fmt::Debug for QueuePair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueuePair")
            .field("qid", &self.qid)
            .field("depth", &self.depth)
            .field("outstanding", &self.outstanding)
            .field("stats", &self.stats)
            .finish()
    }
}

impl QueuePair {
    /// Allocates the rings, trackers and PRP pages (the device-side queues
    /// are created by the controller afterwards).
    pub(crate) fn new(setup: QueueSetup) -> Result<Self, DriverError> {
        let QueueSetup {
            transport,
            qid,
            depth,
            dstrd,
            generation,
            vector,
            timeout,
            cmdlog_entries,
            max_transfer,
            owner,
            cancel,
        } = setup;
        if depth < 2 {
            return Err(DriverError::InvalidArgument(format!("queue {qid}: depth {depth} is below 2")));
        }
        let sq_mem = DmaBuffer::new(&transport, usize::from(depth) * 64)?;
        let cq_mem = DmaBuffer::new(&transport, usize::from(depth) * 16)?;
        let pages_per_slot = prp::pages_for_transfer(max_transfer + PAGE_SIZE).max(1);
        let prp_mem = DmaBuffer::new(&transport, usize::from(depth) * pages_per_slot * PAGE_SIZE)?;
        let sq = NonNull::new(sq_mem.as_slice().as_ptr() as *mut Command).expect("DMA memory is non-null");
        let cq = NonNull::new(cq_mem.as_slice().as_ptr() as *mut Completion).expect("DMA memory is non-null");
        let prp_host = NonNull::new(prp_mem.as_slice().as_ptr() as *mut u8).expect("DMA memory is non-null");
        let trackers = (0..depth)
            .map(|_| Tracker {
                state: State::Free,
                opcode: 0,
                waiter: Waiter::Discard,
                submit_ns: 0,
                deadline_ns: 0,
                log_index: 0,
                oversize_lists: None,
            })
            .collect();
        let base = Instant::now();
        let my_generation = generation.load(Ordering::Acquire);
        Ok(QueuePair {
            qid,
            depth,
            sq,
            cq,
            prp_host,
            pages_per_slot,
            max_transfer,
            sq_db: sq_tail_doorbell(qid, dstrd),
            cq_db: cq_head_doorbell(qid, dstrd),
            sq_tail: 0,
            sq_head: 0,
            doorbell_pending: false,
            cq_head: 0,
            phase: true,
            trackers,
            free_cids: (0..depth).rev().collect(),
            outstanding: 0,
            deferred: VecDeque::with_capacity(usize::from(depth)),
            timed_out: VecDeque::with_capacity(usize::from(depth)),
            sync_result: None,
            generation,
            my_generation,
            dead: false,
            vector,
            timeout,
            timeout_ns: duration_ns(timeout),
            base,
            last_ns: 0,
            cq_db_batch: 1,
            cq_unreported: 0,
            next_scan_ns: 0,
            cmdlog: Arc::new(CmdLog::new(qid, cmdlog_entries, base)),
            stats: QueueStats::default(),
            cancel,
            owner,
            verify_maps: Vec::new(),
            transport,
            sq_mem,
            cq_mem,
            prp_mem,
            _not_sync: PhantomData,
        })
    }

    /// IOVA of the submission queue ring.
    pub(crate) fn sq_iova(&self) -> u64 {
        self.sq_mem.iova()
    }

    /// IOVA of the completion queue ring.
    pub(crate) fn cq_iova(&self) -> u64 {
        self.cq_mem.iova()
    }

    /// The queue id.
    pub fn qid(&self) -> u16 {
        self.qid
    }

    /// Number of entries in each ring (at most `depth - 1` commands can be
    /// outstanding).
    pub fn depth(&self) -> u16 {
        self.depth
    }

    /// Commands outstanding, including timed-out ones whose CID is reserved.
    pub fn outstanding(&self) -> usize {
        self.outstanding
    }

    /// The command log, shareable with other threads.
    pub fn cmdlog(&self) -> Arc<CmdLog> {
        self.cmdlog.clone()
    }

    /// The counters.
    pub fn stats(&self) -> QueueStats {
        self.stats
    }

    /// The default per-command timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Sets the default per-command timeout.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
        self.timeout_ns = duration_ns(timeout);
    }

    /// The interrupt vector of the CQ, if it was created with interrupts.
    pub fn vector(&self) -> Option<u16> {
        self.vector
    }

    /// The largest transfer the preallocated PRP lists cover.
    pub fn max_transfer(&self) -> usize {
        self.max_transfer
    }

    /// The transport the queue lives on.
    pub fn transport(&self) -> &Arc<dyn Transport> {
        &self.transport
    }

    /// Whether the controller was reset (or the queue otherwise retired)
    /// since the queue was created.
    pub fn is_stale(&self) -> bool {
        self.dead || self.generation.load(Ordering::Acquire) != self.my_generation
    }

    /// Whether the controller's cancellation flag is set: waits end with
    /// [`DriverError::Cancelled`] (after [`CANCEL_GRACE`]) and IO workers stop.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// Whether `cqe` was synthesized by the host rather than posted by the
    /// device (see the module's delivery rule).
    pub fn is_synthesized(cqe: &Completion) -> bool {
        cqe.status() == SYNTHESIZED_STATUS && cqe.dw1 == SYNTHESIZED_MARK
    }

    fn now_ns(&self) -> u64 {
        self.base.elapsed().as_nanos() as u64
    }

    /// Reads the queue's clock: nanoseconds since the queue was created
    /// (the time base of latencies, deadlines and the cmdlog).
    pub fn clock_ns(&mut self) -> u64 {
        self.last_ns = self.now_ns();
        self.last_ns
    }

    /// The clock value the queue read last (by [`QueuePair::clock_ns`], or
    /// by [`QueuePair::poll`] when it reaped completions or checked
    /// deadlines), without reading the clock again.
    pub fn last_clock_ns(&self) -> u64 {
        self.last_ns
    }

    /// The CQE at the head if its phase tag is current.
    fn peek(&self) -> Option<Completion> {
        // SAFETY: `cq_head < depth`, so the entry is inside the CQ ring
        // (depth * 16 bytes of DMA memory owned by this queue), and its
        // status field is the aligned u16 at byte 14 (index 7). The device
        // writes the status dword last (after a release), so once the phase
        // matches, the acquire fence makes the whole entry visible.
        unsafe {
            let entry = self.cq.add(usize::from(self.cq_head));
            let status = CompletionStatus::from_bits((entry.as_ptr() as *const u16).add(7).read_volatile());
            if status.phase() != self.phase {
                return None;
            }
            fence(Ordering::Acquire);
            Some(entry.read_volatile())
        }
    }

    /// Whether a completion (device or deferred) is ready.
    fn ready(&self) -> bool {
        !self.deferred.is_empty() || self.peek().is_some()
    }

    fn release(&mut self, cid: u16) -> Waiter {
        let t = &mut self.trackers[usize::from(cid)];
        t.state = State::Free;
        t.oversize_lists = None;
        let waiter = std::mem::replace(&mut t.waiter, Waiter::Discard);
        self.free_cids.push(cid);
        self.outstanding -= 1;
        waiter
    }

    fn deliver<F: FnMut(u64, &Completion, u64)>(
        &mut self,
        cid: u16,
        waiter: Waiter,
        cqe: &Completion,
        latency: u64,
        f: &mut F,
        defer_raw: bool,
    ) {
        match waiter {
            Waiter::Raw(token) if defer_raw => self.deferred.push_back((token, *cqe, latency)),
            Waiter::Raw(token) => f(token, cqe, latency),
            Waiter::Callback(cb) => cb(cqe),
            Waiter::Sync => self.sync_result = Some((cid, *cqe)),
            Waiter::Discard => {}
        }
    }

    /// Reaps up to `max` device completions; returns how many.
    fn reap<F: FnMut(u64, &Completion, u64)>(&mut self, max: usize, f: &mut F, defer_raw: bool) -> usize {
        let mut reaped = 0;
        let mut now = None;
        while reaped < max {
            let Some(cqe) = self.peek() else { break };
            self.cq_head += 1;
            if self.cq_head == self.depth {
                self.cq_head = 0;
                self.phase = !self.phase;
            }
            reaped += 1;
            let now = *now.get_or_insert_with(|| self.now_ns());
            self.last_ns = now;
            self.complete_one(&cqe, now, f, defer_raw);
        }
        if reaped > 0 {
            self.cq_unreported += reaped;
            if self.cq_unreported >= self.cq_db_batch {
                self.transport.bar0_write32(self.cq_db, u32::from(self.cq_head));
                self.cq_unreported = 0;
            }
        }
        reaped
    }

    /// Writes the CQ head doorbell only once at least `n` consumed entries
    /// are unreported (default 1: after every poll that reaped something),
    /// clamped to `1..=depth - 1`.
    ///
    /// This never stalls the device: it sees the CQ full only when the
    /// posted-but-unreaped entries plus the unreported ones fill the ring;
    /// once the host reaps the posted ones, the unreported count reaches
    /// `depth - 1 >= n` and the doorbell is written.
    pub fn set_cq_doorbell_batch(&mut self, n: u16) {
        self.cq_db_batch = usize::from(n.clamp(1, self.depth - 1));
    }

    fn complete_one<F: FnMut(u64, &Completion, u64)>(
        &mut self,
        cqe: &Completion,
        now: u64,
        f: &mut F,
        defer_raw: bool,
    ) {
        if cqe.sqhd < self.depth {
            self.sq_head = cqe.sqhd;
        } else {
            self.stats.invalid_completions += 1;
            tracing::warn!(qid = self.qid, sqhd = cqe.sqhd, "completion with SQHD beyond the queue; ignored");
        }
        let cid = cqe.cid;
        let state = self.trackers.get(usize::from(cid)).map(|t| t.state);
        if cqe.sqid != self.qid || !matches!(state, Some(State::Busy | State::TimedOut)) {
            self.stats.invalid_completions += 1;
            tracing::warn!(
                qid = self.qid,
                sqid = cqe.sqid,
                cid,
                status = %cqe.status(),
                "completion for an unknown command or another queue; ignored"
            );
            return;
        }
        self.stats.completed += 1;
        if state == Some(State::TimedOut) {
            self.stats.late_completions += 1;
            tracing::warn!(qid = self.qid, cid, "late completion of a timed-out command");
        }
        let t = &self.trackers[usize::from(cid)];
        let latency = now.saturating_sub(t.submit_ns);
        self.cmdlog.record_completion(t.log_index, cqe, now);
        let waiter = self.release(cid);
        self.deliver(cid, waiter, cqe, latency, f, defer_raw);
    }

    /// Marks commands past their deadline as timed out (queued for report).
    fn scan_timeouts(&mut self, now: u64) {
        if self.outstanding == 0 || now < self.next_scan_ns {
            return;
        }
        self.next_scan_ns = now + TIMEOUT_SCAN_NS;
        for (cid, t) in self.trackers.iter_mut().enumerate() {
            if t.state == State::Busy && t.deadline_ns <= now {
                t.state = State::TimedOut;
                self.stats.timeouts += 1;
                self.timed_out.push_back(cid as u16);
            }
        }
    }

    fn timeout_error(&self, cid: u16, now: u64) -> DriverError {
        let t = &self.trackers[usize::from(cid)];
        DriverError::Timeout {
            qid: self.qid,
            cid,
            opcode: OpcodeName::new(t.opcode, self.qid),
            elapsed: Duration::from_nanos(now.saturating_sub(t.submit_ns)),
        }
    }

    /// The next reported timeout, skipping commands completed meanwhile.
    fn pop_timeout(&mut self, now: u64) -> Option<DriverError> {
        while let Some(cid) = self.timed_out.pop_front() {
            if self.trackers[usize::from(cid)].state == State::TimedOut {
                return Some(self.timeout_error(cid, now));
            }
        }
        None
    }

    /// Completes every outstanding command host-side with a synthesized
    /// completion and retires the queue.
    fn abort_all<F: FnMut(u64, &Completion, u64)>(&mut self, f: &mut F, defer_raw: bool) {
        self.dead = true;
        let now = self.now_ns();
        for cid in 0..self.depth {
            let t = &self.trackers[usize::from(cid)];
            if !matches!(t.state, State::Busy | State::TimedOut) {
                continue;
            }
            let status = CompletionStatus::from_status(SYNTHESIZED_STATUS, true).with_phase(self.phase);
            let cqe =
                Completion { dw0: 0, dw1: SYNTHESIZED_MARK, sqhd: self.sq_head, sqid: self.qid, cid, status };
            let latency = now.saturating_sub(t.submit_ns);
            self.cmdlog.record_completion(t.log_index, &cqe, now);
            self.stats.synthesized += 1;
            let waiter = self.release(cid);
            self.deliver(cid, waiter, &cqe, latency, f, defer_raw);
        }
        self.timed_out.clear();
    }

    /// Retires the queue if the controller generation moved on; true if so.
    fn check_reset<F: FnMut(u64, &Completion, u64)>(&mut self, f: &mut F, defer_raw: bool) -> bool {
        if self.is_stale() {
            if self.outstanding > 0 || !self.dead {
                self.abort_all(f, defer_raw);
            }
            return true;
        }
        false
    }

    /// Hot path: publishes pending submissions, then reaps up to `max`
    /// completions, calling `f(token, cqe, latency_ns)` for raw commands
    /// (callback commands run their callbacks). Returns the number of
    /// completions processed.
    ///
    /// Errors: [`DriverError::ControllerReset`] after delivering every
    /// outstanding command with a synthesized completion;
    /// [`DriverError::Timeout`] for a command past its deadline (one per
    /// call; completions delivered to `f` before the error are valid).
    pub fn poll<F: FnMut(u64, &Completion, u64)>(
        &mut self,
        max: usize,
        mut f: F,
    ) -> Result<usize, DriverError> {
        if self.check_reset(&mut f, false) {
            return Err(DriverError::ControllerReset { qid: self.qid });
        }
        self.ring_doorbell();
        let mut done = 0;
        while done < max {
            let Some((token, cqe, latency)) = self.deferred.pop_front() else { break };
            f(token, &cqe, latency);
            done += 1;
        }
        let reaped = self.reap(max - done, &mut f, false);
        done += reaped;
        if self.outstanding > 0 {
            // Reaping read the clock already.
            let now = if reaped > 0 { self.last_ns } else { self.clock_ns() };
            self.scan_timeouts(now);
            if let Some(e) = self.pop_timeout(now) {
                return Err(e);
            }
        }
        Ok(done)
    }

    /// Deletes nothing on the device; delivers every outstanding command
    /// with a synthesized completion (callbacks run, raw tokens are kept
    /// for the next `poll`) and retires the queue.
    pub(crate) fn retire(&mut self) {
        let mut noop = |_: u64, _: &Completion, _: u64| {};
        self.abort_all(&mut noop, true);
    }
}

/// `d` in nanoseconds, saturated at `u64::MAX`.
fn duration_ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Completion dword 1 of synthesized completions ("HOST").
pub const SYNTHESIZED_MARK: u32 = 0x5453_4F48;

impl Drop for QueuePair {
    fn drop(&mut self) {
        if let Some(owner) = self.owner.take() {
            if !self.is_stale() {
                owner.delete_io_queue(self.qid, self.my_generation);
            }
            owner.release_qid(self.qid);
        }
        if self.outstanding > 0 {
            self.retire();
        }
    }
}
