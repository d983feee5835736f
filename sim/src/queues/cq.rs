//! Completion queues: posting entries, the full-queue wait and interrupts.
//!
//! A CQ may be shared by several SQs; posting is serialized by the CQ's
//! lock. Entries carry the SQ head, SQID, CID and the phase tag (1 on the
//! first pass, inverted on every wrap), and a full CQ is never overwritten:
//! the poster waits for the host's CQ head doorbell. Workers post the
//! completions of a pass in bursts ([`Cq::post_all`]): one lock, one
//! look at the host's head and one DMA batch for all of them. Interrupts
//! follow the CQ's IEN/IV with interrupt coalescing (aggregation threshold,
//! aggregation time; a time of 0 flushes when the worker goes idle).

use super::{Padded, QueueHost, Sq};
use nvmeplan_spec::{Completion, CompletionStatus, Status};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread::Thread;
use std::time::{Duration, Instant};
use zerocopy::IntoBytes;

/// Size of a completion queue entry (CC.IOCQES = 4).
pub const CQE_SIZE: u64 = 16;
/// Most entries written in one step of a burst (built on the stack).
const BURST: usize = 16;

/// A completion waiting to be posted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Done {
    /// Command identifier.
    pub cid: u16,
    /// Status.
    pub status: Status,
    /// Do Not Retry.
    pub dnr: bool,
    /// Completion dword 0.
    pub dw0: u32,
}

struct CqState {
    tail: u32,
    phase: bool,
    dead: bool,
    pending_irq: u32,
    first_pending: Option<Instant>,
}

/// What the host's head doorbell writes and reads, kept on cache lines of
/// its own so the device's posting does not bounce them between cores.
#[derive(Default)]
struct HostSide {
    /// Head pointer the host last wrote to the doorbell.
    head: AtomicU32,
    /// Posters waiting for the host to free entries.
    full_waiters: AtomicU32,
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
    /// Number of SQs that post here.
    pub sq_count: AtomicU32,
    host: Padded<HostSide>,
    state: Padded<Mutex<CqState>>,
    waiters: Mutex<Vec<Thread>>,
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
            sq_count: AtomicU32::new(0),
            host: Padded(HostSide::default()),
            state: Padded(Mutex::new(CqState {
                tail: 0,
                phase: true,
                dead: false,
                pending_irq: 0,
                first_pending: None,
            })),
            waiters: Mutex::new(Vec::new()),
        }
    }

    /// Marks the queue dead: nothing is posted from now on.
    pub fn kill(&self) {
        self.state.lock().dead = true;
        self.wake_waiters();
    }

    /// Host head doorbell write (already validated).
    pub fn set_head(&self, head: u32) {
        self.host.head.store(head, Ordering::SeqCst);
        if self.host.full_waiters.load(Ordering::SeqCst) > 0 {
            self.wake_waiters();
        }
    }

    fn wake_waiters(&self) {
        for t in self.waiters.lock().drain(..) {
            t.unpark();
        }
    }

    /// Posts one completion for `sq`, waiting while the queue is full.
    pub fn post(
        &self,
        ctrl: &impl QueueHost,
        sq: &Sq,
        cid: u16,
        status: Status,
        dnr: bool,
        dw0: u32,
    ) -> Posted {
        self.post_all(ctrl, sq, &[Done { cid, status, dnr, dw0 }])
    }

    /// Posts `done` in order for `sq`, waiting while the queue is full.
    /// Returns [`Posted::No`] if any of them was dropped (the queue was torn
    /// down or a write faulted, which also stops the controller).
    pub fn post_all(&self, ctrl: &impl QueueHost, sq: &Sq, mut done: &[Done]) -> Posted {
        while !done.is_empty() {
            let mut st = self.state.lock();
            if st.dead || sq.stop.load(Ordering::Acquire) {
                return Posted::No;
            }
            let head = self.host.head.load(Ordering::SeqCst);
            // Free entries: one always stays empty (full is tail + 1 == head).
            let free = (head + self.size - st.tail - 1) % self.size;
            if free == 0 {
                drop(st);
                self.wait_for_space();
                continue;
            }
            // Up to the end of the ring: one phase, one contiguous write.
            let n = done.len().min(free as usize).min((self.size - st.tail) as usize).min(BURST);
            let sqhd = sq.head() as u16;
            let mut entries = [[0u8; 16]; BURST];
            for (bytes, d) in entries.iter_mut().zip(&done[..n]) {
                let field = CompletionStatus::from_status(d.status, d.dnr).with_phase(st.phase);
                let cqe = Completion { dw0: d.dw0, dw1: 0, sqhd, sqid: sq.id, cid: d.cid, status: field };
                bytes.copy_from_slice(cqe.as_bytes());
            }
            let addr = self.base + u64::from(st.tail) * CQE_SIZE;
            if let Err(fault) = ctrl.dma().batch().write_completions(addr, &entries[..n]) {
                drop(st);
                ctrl.fatal(&format!("completion write to CQ {} failed: {fault}", self.id));
                return Posted::No;
            }
            st.tail += n as u32;
            if st.tail == self.size {
                st.tail = 0;
                st.phase = !st.phase;
            }
            if self.ien {
                self.after_posts(ctrl, &mut st, n);
            }
            done = &done[n..];
        }
        Posted::Yes
    }

    /// Sleeps until the host frees an entry (or 5 ms pass).
    fn wait_for_space(&self) {
        {
            let me = std::thread::current();
            let mut waiters = self.waiters.lock();
            if !waiters.iter().any(|t| t.id() == me.id()) {
                waiters.push(me);
            }
        }
        self.host.full_waiters.fetch_add(1, Ordering::SeqCst);
        if (self.state.lock().tail + 1) % self.size == self.host.head.load(Ordering::SeqCst) {
            std::thread::park_timeout(Duration::from_millis(5));
        }
        self.host.full_waiters.fetch_sub(1, Ordering::SeqCst);
    }

    /// Interrupts for `n` entries just posted: one message per entry
    /// without coalescing, else one per aggregation threshold crossed.
    fn after_posts(&self, ctrl: &impl QueueHost, st: &mut CqState, n: usize) {
        let (thr, time) = ctrl.coalescing(self.iv);
        for _ in 0..n {
            if self.id == 0 || (thr == 0 && time == 0) {
                ctrl.interrupts().signal(self.iv);
                continue;
            }
            st.pending_irq += 1;
            if st.first_pending.is_none() {
                st.first_pending = Some(Instant::now());
            }
            if st.pending_irq > u32::from(thr) {
                st.pending_irq = 0;
                st.first_pending = None;
                ctrl.interrupts().signal(self.iv);
            }
        }
    }

    /// Signals a coalesced interrupt whose time has come (or, with an
    /// aggregation time of 0, any pending one). Returns when to check again.
    pub fn flush_irq(&self, ctrl: &impl QueueHost, now: Instant) -> Option<Instant> {
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
            ctrl.interrupts().signal(self.iv);
            None
        } else {
            Some(due)
        }
    }
}
