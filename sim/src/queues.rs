//! The queue engine: submission and completion queues and their workers.
//!
//! This module owns the device side of the queue protocol. Every submission
//! queue (the admin SQ included) has one worker thread that fetches entries
//! by DMA between its head and the tail the host rang, applies fault
//! injection, holds each command for its latency ([`crate::latency`]) and
//! then executes it and posts the completion. A doorbell write only stores
//! the new tail and unparks the worker if it sleeps.
//!
//! Completion queues may be shared by several SQs; posting is serialized by
//! the CQ's lock. Entries carry the SQ head, SQID, CID and the phase tag
//! (1 on the first pass, inverted on every wrap), and a full CQ is never
//! overwritten: the worker waits for the host's CQ head doorbell. Interrupts
//! follow the CQ's IEN/IV with interrupt coalescing (aggregation threshold,
//! aggregation time; a time of 0 flushes when the worker goes idle).

use crate::controller::Controller;
use crate::latency::{Inflight, Pending, PendingAction};
use nvmeplan_spec::{Command, Completion, CompletionStatus, Status};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::{JoinHandle, Thread};
use std::time::{Duration, Instant};
use zerocopy::{FromBytes, IntoBytes};

/// Size of a submission queue entry (CC.IOSQES = 6).
pub const SQE_SIZE: u64 = 64;
/// Size of a completion queue entry (CC.IOCQES = 4).
pub const CQE_SIZE: u64 = 16;
/// Longest a worker sleeps before it re-checks its flags.
const MAX_PARK: Duration = Duration::from_millis(50);
/// How long a worker spins for a new doorbell before it parks.
const SPIN: Duration = Duration::from_micros(20);

/// Wakes a worker thread that may be parked.
#[derive(Default)]
pub(crate) struct Waker {
    sleeping: AtomicBool,
    thread: OnceLock<Thread>,
}

impl Waker {
    /// Unparks the worker if it is (about to be) asleep.
    pub fn wake(&self) {
        if self.sleeping.load(Ordering::SeqCst) {
            self.force();
        }
    }

    /// Unparks the worker unconditionally.
    pub fn force(&self) {
        if let Some(t) = self.thread.get() {
            t.unpark();
        }
    }
}

struct CqState {
    tail: u32,
    phase: bool,
    dead: bool,
    pending_irq: u32,
    first_pending: Option<Instant>,
}

/// A completion queue.
pub(crate) struct Cq {
    /// Queue identifier.
    pub id: u16,
    /// IOVA of entry 0.
    pub base: u64,
    /// Number of entries.
    pub size: u32,
    /// Interrupts enabled.
    pub ien: bool,
    /// Interrupt vector.
    pub iv: u16,
    /// Head pointer the host last wrote to the doorbell.
    pub head: AtomicU32,
    /// Number of SQs that post here.
    pub sq_count: AtomicU32,
    state: Mutex<CqState>,
    waiters: Mutex<Vec<Thread>>,
    full_waiters: AtomicU32,
}

/// Whether a completion reached host memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Posted {
    /// Written to the CQ.
    Yes,
    /// Dropped: the queue was torn down or the write faulted.
    No,
}

impl Cq {
    /// A new, empty completion queue.
    pub fn new(id: u16, base: u64, size: u32, ien: bool, iv: u16) -> Cq {
        Cq {
            id,
            base,
            size,
            ien,
            iv,
            head: AtomicU32::new(0),
            sq_count: AtomicU32::new(0),
            state: Mutex::new(CqState {
                tail: 0,
                phase: true,
                dead: false,
                pending_irq: 0,
                first_pending: None,
            }),
            waiters: Mutex::new(Vec::new()),
            full_waiters: AtomicU32::new(0),
        }
    }

    /// Marks the queue dead: nothing is posted from now on.
    pub fn kill(&self) {
        self.state.lock().dead = true;
        self.wake_waiters();
    }

    /// Host head doorbell write (already validated).
    pub fn set_head(&self, head: u32) {
        self.head.store(head, Ordering::SeqCst);
        if self.full_waiters.load(Ordering::SeqCst) > 0 {
            self.wake_waiters();
        }
    }

    fn wake_waiters(&self) {
        for t in self.waiters.lock().drain(..) {
            t.unpark();
        }
    }

    /// Posts one completion for `sq`, waiting while the queue is full.
    pub fn post(&self, ctrl: &Controller, sq: &Sq, cid: u16, status: Status, dnr: bool, dw0: u32) -> Posted {
        loop {
            let mut st = self.state.lock();
            if st.dead || sq.stop.load(Ordering::Acquire) {
                return Posted::No;
            }
            let head = self.head.load(Ordering::SeqCst);
            if (st.tail + 1) % self.size == head {
                drop(st);
                {
                    let me = std::thread::current();
                    let mut waiters = self.waiters.lock();
                    if !waiters.iter().any(|t| t.id() == me.id()) {
                        waiters.push(me);
                    }
                }
                self.full_waiters.fetch_add(1, Ordering::SeqCst);
                if (self.state.lock().tail + 1) % self.size == self.head.load(Ordering::SeqCst) {
                    std::thread::park_timeout(Duration::from_millis(5));
                }
                self.full_waiters.fetch_sub(1, Ordering::SeqCst);
                continue;
            }
            let field = CompletionStatus::from_status(status, dnr).with_phase(st.phase);
            let cqe = Completion {
                dw0,
                dw1: 0,
                sqhd: sq.head.load(Ordering::Relaxed) as u16,
                sqid: sq.id,
                cid,
                status: field.into(),
            };
            let mut bytes = [0u8; 16];
            bytes.copy_from_slice(cqe.as_bytes());
            let addr = self.base + u64::from(st.tail) * CQE_SIZE;
            if let Err(fault) = ctrl.dma.write_completion(addr, &bytes) {
                drop(st);
                ctrl.fatal(&format!("completion write to CQ {} failed: {fault}", self.id));
                return Posted::No;
            }
            st.tail += 1;
            if st.tail == self.size {
                st.tail = 0;
                st.phase = !st.phase;
            }
            if self.ien {
                self.after_post(ctrl, &mut st);
            }
            return Posted::Yes;
        }
    }

    fn after_post(&self, ctrl: &Controller, st: &mut CqState) {
        let (thr, time) = ctrl.coalescing(self.iv);
        if self.id == 0 || (thr == 0 && time == 0) {
            ctrl.irq.signal(self.iv);
            return;
        }
        st.pending_irq += 1;
        if st.first_pending.is_none() {
            st.first_pending = Some(Instant::now());
        }
        if st.pending_irq > u32::from(thr) {
            st.pending_irq = 0;
            st.first_pending = None;
            ctrl.irq.signal(self.iv);
        }
    }

    /// Signals a coalesced interrupt whose time has come (or, with an
    /// aggregation time of 0, any pending one). Returns when to check again.
    pub fn flush_irq(&self, ctrl: &Controller, now: Instant) -> Option<Instant> {
        let mut st = self.state.lock();
        let first = st.first_pending?;
        if st.pending_irq == 0 || st.dead {
            return None;
        }
        let (_, time) = ctrl.coalescing(self.iv);
        let due = first + Duration::from_micros(100 * u64::from(time));
        if now >= due {
            st.pending_irq = 0;
            st.first_pending = None;
            ctrl.irq.signal(self.iv);
            None
        } else {
            Some(due)
        }
    }
}

/// A completion produced outside the worker (an Asynchronous Event Request
/// completing), posted by the worker of the SQ the command came from.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Injected {
    /// Command identifier.
    pub cid: u16,
    /// Status.
    pub status: Status,
    /// Completion dword 0.
    pub dw0: u32,
}

/// A submission queue and the handle of its worker.
pub(crate) struct Sq {
    /// Queue identifier.
    pub id: u16,
    /// IOVA of entry 0.
    pub base: u64,
    /// Number of entries.
    pub size: u32,
    /// The completion queue it posts to.
    pub cq: Arc<Cq>,
    /// Tail pointer the host last wrote to the doorbell.
    pub tail: AtomicU32,
    /// Head pointer: the next entry the worker fetches.
    pub head: AtomicU32,
    /// Wakes the worker.
    pub waker: Waker,
    /// Reset: stop now, post nothing more.
    pub stop: AtomicBool,
    /// Deletion: abort outstanding commands, then stop.
    pub delete: AtomicBool,
    /// Fetched commands waiting for their latency.
    pub inflight: Mutex<Inflight>,
    /// Completions to post on behalf of other threads.
    pub injected: Mutex<Vec<Injected>>,
    handle: Mutex<Option<JoinHandle<()>>>,
}

impl Sq {
    /// A new submission queue posting to `cq`.
    pub fn new(id: u16, base: u64, size: u32, cq: Arc<Cq>) -> Sq {
        cq.sq_count.fetch_add(1, Ordering::SeqCst);
        Sq {
            id,
            base,
            size,
            cq,
            tail: AtomicU32::new(0),
            head: AtomicU32::new(0),
            waker: Waker::default(),
            stop: AtomicBool::new(false),
            delete: AtomicBool::new(false),
            inflight: Mutex::new(Inflight::default()),
            injected: Mutex::new(Vec::new()),
            handle: Mutex::new(None),
        }
    }

    /// Starts the worker thread.
    pub fn start(self: &Arc<Self>, ctrl: &Arc<Controller>) -> std::io::Result<()> {
        let sq = self.clone();
        let ctrl = ctrl.clone();
        let handle = std::thread::Builder::new()
            .name(format!("nvmeplan-sim-sq{}", self.id))
            .spawn(move || worker(&ctrl, &sq))?;
        let _ = self.waker.thread.set(handle.thread().clone());
        *self.handle.lock() = Some(handle);
        Ok(())
    }

    /// Stops the worker without posting anything more (reset).
    pub fn signal_stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.waker.force();
    }

    /// Waits for the worker to exit (never from the worker itself).
    pub fn join(&self) {
        let handle = self.handle.lock().take();
        if let Some(h) = handle
            && h.thread().id() != std::thread::current().id()
        {
            let _ = h.join();
        }
    }

    /// Stops counting this SQ as a user of its CQ (after deletion).
    pub fn detach(&self) {
        self.cq.sq_count.fetch_sub(1, Ordering::SeqCst);
    }

    /// Adds a completion for the worker to post and wakes it.
    pub fn inject(&self, completion: Injected) {
        self.injected.lock().push(completion);
        self.waker.force();
    }
}

/// The result of executing one command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Outcome {
    /// Status to post.
    pub status: Status,
    /// Do Not Retry.
    pub dnr: bool,
    /// Completion dword 0.
    pub dw0: u32,
}

impl Outcome {
    /// Success with `dw0`.
    pub fn ok(dw0: u32) -> Outcome {
        Outcome { status: Status::SUCCESS, dnr: false, dw0 }
    }

    /// An error status, with DNR set unless the condition is transient.
    pub fn err(status: Status) -> Outcome {
        let transient = [
            Status::SANITIZE_IN_PROGRESS,
            Status::FORMAT_IN_PROGRESS,
            Status::NAMESPACE_NOT_READY,
            Status::COMMAND_ABORT_REQUESTED,
            Status::ABORTED_SQ_DELETION,
            Status::INTERNAL_ERROR,
            Status::DEVICE_SELF_TEST_IN_PROGRESS,
            Status::FIRMWARE_ACTIVATION_REQUIRES_CONVENTIONAL_RESET,
        ];
        Outcome { status, dnr: !status.is_success() && !transient.contains(&status), dw0: 0 }
    }
}

fn worker(ctrl: &Arc<Controller>, sq: &Arc<Sq>) {
    tracing::debug!(sqid = sq.id, size = sq.size, cqid = sq.cq.id, "queue worker started");
    let mut head = 0u32;
    let cap = sq.size as usize;
    loop {
        if sq.stop.load(Ordering::Acquire) {
            break;
        }
        if sq.delete.load(Ordering::Acquire) {
            let pending = sq.inflight.lock().drain();
            for p in pending {
                if !p.drop_completion {
                    let o = Outcome::err(Status::ABORTED_SQ_DELETION);
                    sq.cq.post(ctrl, sq, p.cmd.cid(), o.status, o.dnr, 0);
                }
            }
            break;
        }
        if ctrl.halted() {
            park(sq, Some(Instant::now() + MAX_PARK));
            continue;
        }
        let mut progressed = false;
        let injected: Vec<Injected> = std::mem::take(&mut *sq.injected.lock());
        for c in injected {
            let o = Outcome { dw0: c.dw0, ..Outcome::err(c.status) };
            sq.cq.post(ctrl, sq, c.cid, o.status, o.dnr, o.dw0);
            progressed = true;
        }
        // Fetch what the host submitted.
        let tail = sq.tail.load(Ordering::SeqCst);
        while head != tail && sq.inflight.lock().len() < cap && !ctrl.halted() {
            let mut raw = [0u8; SQE_SIZE as usize];
            if let Err(fault) = ctrl.dma.read(sq.base + u64::from(head) * SQE_SIZE, &mut raw) {
                ctrl.fatal(&format!("command fetch from SQ {} failed: {fault}", sq.id));
                break;
            }
            head = (head + 1) % sq.size;
            sq.head.store(head, Ordering::Relaxed);
            let Ok(cmd) = Command::read_from_bytes(&raw) else { continue };
            fetched(ctrl, sq, cmd);
            progressed = true;
        }
        // Complete what is due.
        loop {
            if sq.stop.load(Ordering::Acquire) || sq.delete.load(Ordering::Acquire) || ctrl.halted() {
                break;
            }
            let next = sq.inflight.lock().pop_due(Instant::now());
            let Some(p) = next else { break };
            complete(ctrl, sq, p);
            progressed = true;
        }
        if progressed {
            continue;
        }
        // Idle: flush coalesced interrupts, spin briefly, then sleep.
        let now = Instant::now();
        let irq_due = sq.cq.flush_irq(ctrl, now);
        let due = sq.inflight.lock().next_due();
        let deadline = [irq_due, due].into_iter().flatten().min();
        if deadline.is_none_or(|d| d > now + SPIN) {
            let spin_until = now + SPIN;
            while Instant::now() < spin_until && sq.tail.load(Ordering::SeqCst) == head {
                std::hint::spin_loop();
            }
            if sq.tail.load(Ordering::SeqCst) != head {
                continue;
            }
        }
        park(sq, deadline.or(Some(now + MAX_PARK)));
    }
    tracing::debug!(sqid = sq.id, "queue worker stopped");
}

fn park(sq: &Sq, until: Option<Instant>) {
    sq.waker.sleeping.store(true, Ordering::SeqCst);
    let head = sq.head.load(Ordering::Relaxed);
    let work = sq.tail.load(Ordering::SeqCst) != head
        || sq.stop.load(Ordering::SeqCst)
        || sq.delete.load(Ordering::SeqCst)
        || !sq.injected.lock().is_empty();
    if !work {
        let now = Instant::now();
        let limit = now + MAX_PARK;
        let until = until.map_or(limit, |u| u.min(limit));
        if until > now {
            std::thread::park_timeout(until - now);
        }
    }
    sq.waker.sleeping.store(false, Ordering::SeqCst);
}

/// A fetched command: apply fault injection, then execute now or hold it
/// for its latency.
fn fetched(ctrl: &Arc<Controller>, sq: &Arc<Sq>, cmd: Command) {
    use crate::faults::FaultAction;
    let admin = sq.id == 0;
    let mut pending = Pending { cmd, action: PendingAction::Execute, drop_completion: false, corrupt: false };
    let mut extra = Duration::ZERO;
    match ctrl.faults.evaluate(sq.id, &cmd) {
        None => {}
        Some(FaultAction::Status { status, dnr }) => pending.action = PendingAction::Status { status, dnr },
        Some(FaultAction::Delay(d)) => extra = d,
        Some(FaultAction::DropCompletion) => pending.drop_completion = true,
        Some(FaultAction::CorruptData) => pending.corrupt = true,
        Some(FaultAction::ControllerFatal) => {
            ctrl.fatal(&format!("fault injection on SQ {} CID {}", sq.id, cmd.cid()));
            return;
        }
        Some(FaultAction::Hang) => {
            ctrl.hang();
            return;
        }
    }
    let latency = ctrl.cfg.latency.latency(admin, cmd.opcode()) + extra;
    if latency.is_zero() {
        complete(ctrl, sq, pending);
    } else {
        sq.inflight.lock().insert(Instant::now() + latency, pending);
    }
}

/// A command whose time has come: execute it and post the completion.
fn complete(ctrl: &Arc<Controller>, sq: &Arc<Sq>, p: Pending) {
    let cid = p.cmd.cid();
    let (outcome, lba) = match p.action {
        PendingAction::Status { status, dnr } => (Outcome { status, dnr, dw0: 0 }, None),
        PendingAction::Aborted => (Outcome::err(Status::COMMAND_ABORT_REQUESTED), None),
        PendingAction::Execute => {
            if sq.id == 0 {
                match crate::admin::execute(ctrl, sq, &p.cmd) {
                    Some(o) => (o, None),
                    None => return,
                }
            } else {
                ctrl.execute_io(&p.cmd, p.corrupt)
            }
        }
    };
    if !outcome.status.is_success()
        && outcome.status != Status::COMMAND_ABORT_REQUESTED
        && outcome.status != Status::FIRMWARE_ACTIVATION_REQUIRES_CONVENTIONAL_RESET
    {
        ctrl.record_error(sq.id, cid, outcome.status, outcome.dnr, lba, p.cmd.nsid);
    }
    if p.drop_completion {
        tracing::debug!(sqid = sq.id, cid, "completion dropped by fault injection");
        return;
    }
    sq.cq.post(ctrl, sq, cid, outcome.status, outcome.dnr, outcome.dw0);
}
