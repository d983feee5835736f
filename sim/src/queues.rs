//! The queue engine: submission queues and their workers.
//!
//! This module owns the device side of the queue protocol. Every submission
//! queue (the admin SQ included) has one worker thread that fetches entries
//! by DMA between its head and the tail the host rang, applies fault
//! injection, holds each command for its latency ([`crate::latency`]) and
//! then executes it and posts the completion ([`cq`] owns the completion
//! queues). A doorbell write only stores the new tail and unparks the
//! worker if it sleeps.
//!
//! A worker works in passes: it reads the tail once, fetches the new
//! entries up to the end of the ring with one DMA batch, executes them,
//! and posts their completions in bursts of up to [`POST_BATCH`], so the
//! host can reap the first ones while the worker executes the rest. Fields
//! the host's doorbell writes and fields the worker writes sit on separate
//! cache lines. The module also owns the table of queues that exist
//! ([`QueueTable`]). Workers reach the controller only through
//! [`QueueHost`] ([`host`]), which the controller implements.

mod cq;
mod host;

pub(crate) use cq::{Cq, Done};
pub(crate) use host::{Outcome, QueueHost, Source};

use crate::latency::{Inflight, Pending, PendingAction};
use nvmeplan_spec::{Command, Status};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::{JoinHandle, Thread};
use std::time::{Duration, Instant};
use zerocopy::IntoBytes;

/// Size of a submission queue entry (CC.IOSQES = 6).
pub const SQE_SIZE: u64 = 64;
/// Completions a worker collects before it posts them (one CQ lock, one
/// look at the host's head, one fence per burst). Bursts far larger than
/// this make the host wait for the whole pass before it can reap.
const POST_BATCH: usize = 8;
/// Most entries a worker fetches in one pass.
const FETCH_BATCH: usize = 64;
/// Longest a worker sleeps before it re-checks its flags.
const MAX_PARK: Duration = Duration::from_millis(50);
/// How long a worker spins for a new doorbell before it parks.
const SPIN: Duration = Duration::from_micros(20);

/// A value on cache lines of its own (128 bytes: adjacent-line prefetch
/// pairs 64-byte lines), so that writes to it from one core do not
/// invalidate its neighbours in another core's cache.
#[repr(align(128))]
#[derive(Default)]
pub(crate) struct Padded<T>(pub T);

impl<T> std::ops::Deref for Padded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

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

/// What the host's tail doorbell writes and reads.
struct Doorbell {
    /// Tail pointer the host last wrote.
    tail: AtomicU32,
    /// The queue size (a copy, so a doorbell reads only these lines).
    size: u32,
    /// Wakes the worker.
    waker: Waker,
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
    /// Reset: stop now, post nothing more.
    pub stop: AtomicBool,
    /// Deletion: abort outstanding commands, then stop.
    pub delete: AtomicBool,
    /// Written by the host; its own cache lines.
    doorbell: Padded<Doorbell>,
    /// Head pointer: the next entry the worker fetches. Written by the
    /// worker; its own cache lines.
    head: Padded<AtomicU32>,
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
            stop: AtomicBool::new(false),
            delete: AtomicBool::new(false),
            doorbell: Padded(Doorbell { tail: AtomicU32::new(0), size, waker: Waker::default() }),
            head: Padded(AtomicU32::new(0)),
            inflight: Mutex::new(Inflight::default()),
            injected: Mutex::new(Vec::new()),
            handle: Mutex::new(None),
        }
    }

    /// Host tail doorbell write: stores the tail and wakes the worker if it
    /// sleeps. Returns false, storing nothing, for a tail beyond the queue.
    pub fn ring(&self, tail: u32) -> bool {
        if tail >= self.doorbell.size {
            return false;
        }
        self.doorbell.tail.store(tail, Ordering::SeqCst);
        self.doorbell.waker.wake();
        true
    }

    /// The tail the host rang last.
    fn tail(&self) -> u32 {
        self.doorbell.tail.load(Ordering::SeqCst)
    }

    /// The SQ head: the next entry the worker fetches.
    pub fn head(&self) -> u32 {
        self.head.load(Ordering::Relaxed)
    }

    /// Wakes the worker unconditionally.
    pub fn wake(&self) {
        self.doorbell.waker.force();
    }

    /// Starts the worker thread, which executes commands on `host`.
    pub fn start<H: QueueHost>(self: &Arc<Self>, host: Arc<H>) -> std::io::Result<()> {
        let sq = self.clone();
        let handle = std::thread::Builder::new()
            .name(format!("nvmeplan-sim-sq{}", self.id))
            .spawn(move || worker(&*host, &sq))?;
        let _ = self.doorbell.waker.thread.set(handle.thread().clone());
        *self.handle.lock() = Some(handle);
        Ok(())
    }

    /// Stops the worker without posting anything more (reset).
    pub fn signal_stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.wake();
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
        self.wake();
    }
}

/// The queues that exist.
#[derive(Default)]
pub(crate) struct QueueTable {
    /// Submission queues by id.
    pub sqs: Vec<Option<Arc<Sq>>>,
    /// Completion queues by id.
    pub cqs: Vec<Option<Arc<Cq>>>,
    /// An I/O queue was created since the last reset (Number of Queues
    /// can no longer be set).
    pub io_created: bool,
}

impl QueueTable {
    /// An empty table with room for `max_io` I/O queues and the admin queue.
    pub(crate) fn new(max_io: u16) -> Self {
        let n = usize::from(max_io) + 1;
        QueueTable { sqs: vec![None; n], cqs: vec![None; n], io_created: false }
    }

    /// The submission queue `id`, if it exists.
    pub fn sq(&self, id: u16) -> Option<&Arc<Sq>> {
        self.sqs.get(usize::from(id))?.as_ref()
    }

    /// The completion queue `id`, if it exists.
    pub fn cq(&self, id: u16) -> Option<&Arc<Cq>> {
        self.cqs.get(usize::from(id))?.as_ref()
    }
}

/// What a worker collects during one pass.
struct Pass<C> {
    /// Completions not posted yet.
    burst: Vec<Done>,
    /// What the host looked up during the pass.
    stores: C,
}

impl<C> Pass<C> {
    /// Adds a completion; posts the burst once it holds [`POST_BATCH`].
    fn push(&mut self, ctrl: &impl QueueHost, sq: &Sq, done: Done) {
        self.burst.push(done);
        if self.burst.len() >= POST_BATCH {
            self.post(ctrl, sq);
        }
    }

    /// Posts the collected completions; returns whether there were any.
    fn post(&mut self, ctrl: &impl QueueHost, sq: &Sq) -> bool {
        if self.burst.is_empty() {
            return false;
        }
        sq.cq.post_all(ctrl, sq, &self.burst);
        self.burst.clear();
        true
    }
}

fn worker<H: QueueHost>(ctrl: &H, sq: &Arc<Sq>) {
    tracing::debug!(sqid = sq.id, size = sq.size, cqid = sq.cq.id, "queue worker started");
    let mut head = 0u32;
    let cap = sq.size as usize;
    let mut pass = Pass { burst: Vec::with_capacity(POST_BATCH), stores: H::PassCache::default() };
    // Fetched entries of the current pass (allocated once, not zeroed per pass).
    let mut sqes = vec![Command::default(); FETCH_BATCH].into_boxed_slice();
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
            pass.push(ctrl, sq, Done { cid: c.cid, status: o.status, dnr: o.dnr, dw0: o.dw0 });
        }
        // Fetch and execute what the host submitted.
        let tail = sq.tail();
        if head != tail {
            let room = cap.saturating_sub(sq.inflight.lock().len());
            if room > 0 {
                head = fetch(ctrl, sq, (head, tail), room, &mut sqes, &mut pass);
                progressed = true;
            }
        }
        // Complete what is due.
        let mut now = None;
        let mut due = 0;
        while due < FETCH_BATCH
            && !sq.stop.load(Ordering::Acquire)
            && !sq.delete.load(Ordering::Acquire)
            && !ctrl.halted()
        {
            let next = {
                let mut inflight = sq.inflight.lock();
                if inflight.is_empty() {
                    None
                } else {
                    inflight.pop_due(*now.get_or_insert_with(Instant::now))
                }
            };
            let Some(p) = next else { break };
            if let Some(d) = complete(ctrl, sq, &p, &mut pass.stores) {
                pass.push(ctrl, sq, d);
            }
            due += 1;
            progressed = true;
        }
        // Post the rest of the pass's completions (those of commands
        // executed before a fatal error or hang included, as they
        // completed before it).
        pass.stores = H::PassCache::default();
        progressed |= pass.post(ctrl, sq);
        if progressed {
            continue;
        }
        // Idle: flush coalesced interrupts, spin briefly, then sleep.
        let now = Instant::now();
        let irq_due = sq.cq.flush_irq(ctrl, now);
        let due = sq.inflight.lock().next_due();
        let deadline = [irq_due, due].into_iter().flatten().min();
        if deadline.is_none_or(|d| d > now + SPIN) && spin_for_doorbell(sq, head, now + SPIN) {
            continue;
        }
        park(sq, deadline.or(Some(now + MAX_PARK)));
    }
    tracing::debug!(sqid = sq.id, "queue worker stopped");
}

/// Fetches up to `room` entries between `head` and `tail` (at most up to
/// the end of the ring and `sqes.len()`) into `sqes` with one DMA batch and
/// hands each to [`fetched`]; returns the new head.
fn fetch<H: QueueHost>(
    ctrl: &H,
    sq: &Arc<Sq>,
    (mut head, tail): (u32, u32),
    room: usize,
    sqes: &mut [Command],
    pass: &mut Pass<H::PassCache>,
) -> u32 {
    let ahead = if tail > head { tail - head } else { sq.size - head };
    let mut n = (ahead as usize).min(room).min(sqes.len());
    {
        let mut dma = ctrl.dma().batch();
        let at = sq.base + u64::from(head) * SQE_SIZE;
        if dma.read(at, sqes[..n].as_mut_bytes()).is_err() {
            // The entries need not share one mapping: fetch just the first
            // on its own, so a fault is reported for the entry that has it.
            n = 1;
            if let Err(fault) = dma.read(at, sqes[0].as_mut_bytes()) {
                drop(dma);
                ctrl.fatal(&format!("command fetch from SQ {} failed: {fault}", sq.id));
                return head;
            }
        }
    }
    for cmd in &sqes[..n] {
        if ctrl.halted() {
            break;
        }
        head = (head + 1) % sq.size;
        sq.head.store(head, Ordering::Relaxed);
        fetched(ctrl, sq, cmd, pass);
    }
    head
}

/// Spins until the host rings a tail other than `head` (true) or `until`
/// passes (false).
fn spin_for_doorbell(sq: &Sq, head: u32, until: Instant) -> bool {
    loop {
        // The clock is read once per 64 looks at the tail.
        for _ in 0..64 {
            if sq.tail() != head {
                return true;
            }
            std::hint::spin_loop();
        }
        if Instant::now() >= until {
            return sq.tail() != head;
        }
    }
}

fn park(sq: &Sq, until: Option<Instant>) {
    let waker = &sq.doorbell.waker;
    waker.sleeping.store(true, Ordering::SeqCst);
    let work = sq.tail() != sq.head()
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
    waker.sleeping.store(false, Ordering::SeqCst);
}

/// A fetched command: apply fault injection, then execute now (its
/// completion joins the pass's next burst) or hold it for its latency.
fn fetched<H: QueueHost>(ctrl: &H, sq: &Arc<Sq>, cmd: &Command, pass: &mut Pass<H::PassCache>) {
    use crate::faults::FaultAction;
    let admin = sq.id == 0;
    let mut pending =
        Pending { cmd: *cmd, action: PendingAction::Execute, drop_completion: false, corrupt: false };
    let mut extra = Duration::ZERO;
    match ctrl.fault(sq.id, cmd) {
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
    let latency = ctrl.latency(admin, cmd.opcode()) + extra;
    if latency.is_zero() {
        if let Some(d) = complete(ctrl, sq, &pending, &mut pass.stores) {
            pass.push(ctrl, sq, d);
        }
    } else {
        sq.inflight.lock().insert(Instant::now() + latency, pending);
    }
}

/// A command whose time has come: execute it; returns the completion to
/// post (none when it stays pending or fault injection drops it).
fn complete<H: QueueHost>(ctrl: &H, sq: &Sq, p: &Pending, stores: &mut H::PassCache) -> Option<Done> {
    let cid = p.cmd.cid();
    let (outcome, lba) = match p.action {
        PendingAction::Status { status, dnr } => (Outcome { status, dnr, dw0: 0 }, None),
        PendingAction::Aborted => (Outcome::err(Status::COMMAND_ABORT_REQUESTED), None),
        PendingAction::Execute => {
            let source = Source { sqid: sq.id, stopped: &sq.stop };
            ctrl.execute(source, &p.cmd, p.corrupt, stores)?
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
        return None;
    }
    Some(Done { cid, status: outcome.status, dnr: outcome.dnr, dw0: outcome.dw0 })
}
