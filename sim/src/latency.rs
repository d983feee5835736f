//! Time inside the device: command due times and the device timer thread.
//!
//! This module owns two things. [`Inflight`] is the per-submission-queue set
//! of fetched commands waiting for their latency to pass, ordered by due
//! time, so a queue with 32 commands in flight completes them together and
//! queue depth matters as it does on a real SSD. [`Timer`] is the one
//! background thread per device that runs delayed controller work: CSTS.RDY
//! after the ready delay, shutdown completion, self-test and sanitize
//! progress. Tasks must be short and must not block on other device threads.

use nvmeplan_spec::Command;
use parking_lot::{Condvar, Mutex};
use std::collections::{BTreeMap, BinaryHeap};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What to do with a command when its due time comes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PendingAction {
    /// Execute it and post its completion.
    Execute,
    /// Complete with this status without executing (fault injection).
    Status {
        /// The status to post.
        status: nvmeplan_spec::Status,
        /// The DNR bit to post.
        dnr: bool,
    },
    /// Complete with command_abort_requested without executing (Abort).
    Aborted,
}

/// A fetched command waiting for its due time.
#[derive(Clone, Debug)]
pub(crate) struct Pending {
    /// The submission queue entry.
    pub cmd: Command,
    /// What to do when it is due.
    pub action: PendingAction,
    /// Execute but never post the completion.
    pub drop_completion: bool,
    /// Corrupt read data (I/O only).
    pub corrupt: bool,
}

/// The commands of one submission queue waiting for their latency, keyed by
/// (due time, fetch sequence).
#[derive(Default)]
pub(crate) struct Inflight {
    map: BTreeMap<(Instant, u64), Pending>,
    seq: u64,
}

impl Inflight {
    /// Adds a command due at `due`.
    pub fn insert(&mut self, due: Instant, pending: Pending) {
        self.seq += 1;
        self.map.insert((due, self.seq), pending);
    }

    /// Removes and returns the earliest command due at or before `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<Pending> {
        let (&key, _) = self.map.iter().next()?;
        if key.0 > now {
            return None;
        }
        self.map.remove(&key)
    }

    /// The earliest due time.
    pub fn next_due(&self) -> Option<Instant> {
        self.map.keys().next().map(|k| k.0)
    }

    /// Number of commands waiting.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether no command is waiting.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Takes every waiting command, in due order.
    pub fn drain(&mut self) -> Vec<Pending> {
        std::mem::take(&mut self.map).into_values().collect()
    }

    /// Marks the waiting command with `cid` as aborted and makes it due now.
    /// Returns whether one was found.
    pub fn abort(&mut self, cid: u16, now: Instant) -> bool {
        let Some(key) = self.map.iter().find(|(_, p)| p.cmd.cid() == cid).map(|(k, _)| *k) else {
            return false;
        };
        if let Some(mut pending) = self.map.remove(&key) {
            pending.action = PendingAction::Aborted;
            self.seq += 1;
            self.map.insert((now.min(key.0), self.seq), pending);
        }
        true
    }
}

type Task = Box<dyn FnOnce() + Send>;

struct Entry {
    at: Instant,
    seq: u64,
    task: Task,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    /// Reversed so that the max-heap pops the earliest entry first.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

#[derive(Default)]
struct TimerState {
    heap: BinaryHeap<Entry>,
    seq: u64,
    stop: bool,
}

struct TimerShared {
    state: Mutex<TimerState>,
    cv: Condvar,
}

/// The device timer thread: runs tasks at or after their time, in order.
pub(crate) struct Timer {
    shared: Arc<TimerShared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Timer {
    /// Starts the timer thread.
    pub fn start(name: &str) -> std::io::Result<Timer> {
        let shared = Arc::new(TimerShared { state: Mutex::new(TimerState::default()), cv: Condvar::new() });
        let thread_shared = shared.clone();
        let handle =
            std::thread::Builder::new().name(format!("{name}-timer")).spawn(move || run(&thread_shared))?;
        Ok(Timer { shared, thread: Mutex::new(Some(handle)) })
    }

    /// Runs `task` on the timer thread after `delay`.
    pub fn schedule(&self, delay: Duration, task: impl FnOnce() + Send + 'static) {
        let mut state = self.shared.state.lock();
        if state.stop {
            return;
        }
        state.seq += 1;
        let seq = state.seq;
        state.heap.push(Entry { at: Instant::now() + delay, seq, task: Box::new(task) });
        drop(state);
        self.shared.cv.notify_one();
    }

    /// Stops the thread, dropping tasks not yet run, and joins it.
    pub fn shutdown(&self) {
        {
            let mut state = self.shared.state.lock();
            state.stop = true;
            state.heap.clear();
        }
        self.shared.cv.notify_all();
        let handle = self.thread.lock().take();
        if let Some(handle) = handle
            && handle.thread().id() != std::thread::current().id()
        {
            let _ = handle.join();
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn run(shared: &TimerShared) {
    let mut state = shared.state.lock();
    loop {
        if state.stop {
            return;
        }
        let now = Instant::now();
        match state.heap.peek().map(|e| e.at) {
            Some(at) if at <= now => {
                let Some(entry) = state.heap.pop() else { continue };
                drop(state);
                (entry.task)();
                state = shared.state.lock();
            }
            Some(at) => {
                shared.cv.wait_until(&mut state, at);
            }
            None => shared.cv.wait(&mut state),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn timer_runs_tasks_in_time_order() {
        let timer = Timer::start("t").unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        for (delay, tag) in [(30u64, 3), (10, 1), (20, 2)] {
            let log = log.clone();
            timer.schedule(Duration::from_millis(delay), move || log.lock().push(tag));
        }
        std::thread::sleep(Duration::from_millis(80));
        assert_eq!(*log.lock(), vec![1, 2, 3]);
        let count = Arc::new(AtomicU32::new(0));
        let c = count.clone();
        timer.schedule(Duration::from_secs(60), move || {
            c.fetch_add(1, Ordering::SeqCst);
        });
        timer.shutdown();
        assert_eq!(count.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn inflight_orders_by_due_and_aborts() {
        let now = Instant::now();
        let mut set = Inflight::default();
        let mk = |cid| {
            let mut cmd = Command::new(2, 1);
            cmd.set_cid(cid);
            Pending { cmd, action: PendingAction::Execute, drop_completion: false, corrupt: false }
        };
        set.insert(now + Duration::from_millis(5), mk(1));
        set.insert(now + Duration::from_millis(1), mk(2));
        set.insert(now + Duration::from_millis(1), mk(3));
        assert_eq!(set.len(), 3);
        assert!(set.pop_due(now).is_none());
        assert!(set.abort(1, now));
        assert!(!set.abort(9, now));
        let first = set.pop_due(now).unwrap();
        assert_eq!((first.cmd.cid(), first.action), (1, PendingAction::Aborted));
        let later = now + Duration::from_millis(2);
        assert_eq!(set.pop_due(later).unwrap().cmd.cid(), 2);
        assert_eq!(set.pop_due(later).unwrap().cmd.cid(), 3);
        assert!(set.next_due().is_none());
    }
}
