//! How IO worker progress reaches the run's event sink.
//!
//! The `ioworker` action reports progress from the workers' progress
//! thread through the [`ProgressHook`] in the run context. The runner's
//! hook ([`ProgressChannel::hook`]) only sends the numbers over a channel:
//! the progress thread never waits on a lock or on a sink. Meanwhile the
//! step runs on a thread of its own ([`ProgressChannel::run_step`]) and the
//! runner's thread receives the progress and hands it to the sink, so every
//! event of a run reaches the sink on one thread, in order.

use std::fmt;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::Duration;

use super::events::IoWorkerProgress;

/// Stack of a step's thread: the size of a main thread's, for the
/// recursion of expressions and nested data.
const STEP_STACK: usize = 8 << 20;

/// Receives live IO worker progress, on the workers' progress thread.
pub trait RunProgress: Send + Sync {
    /// An IO worker of the running step reports, about once per second:
    /// worker index, IOs completed so far, IOs completed in the last
    /// second, time since the workers started.
    fn ioworker(&self, worker: usize, ios: u64, iops_last_second: u64, elapsed: Duration);
}

/// A shared [`RunProgress`].
#[derive(Clone)]
pub struct ProgressHook(pub Arc<dyn RunProgress>);

impl fmt::Debug for ProgressHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProgressHook")
    }
}

/// What the step's threads tell the runner's thread.
enum Message {
    Progress(IoWorkerProgress),
    /// The step returned.
    Done,
}

struct Forward(Sender<Message>);

impl RunProgress for Forward {
    fn ioworker(&self, worker: usize, ios: u64, iops_last_second: u64, elapsed: Duration) {
        // The runner's thread is gone only when the run ended.
        let _ = self.0.send(Message::Progress(IoWorkerProgress { worker, ios, iops_last_second, elapsed }));
    }
}

/// The channel from a run's steps to the runner's thread.
pub struct ProgressChannel {
    sender: Sender<Message>,
    receiver: Receiver<Message>,
}

impl Default for ProgressChannel {
    fn default() -> Self {
        ProgressChannel::new()
    }
}

impl ProgressChannel {
    /// A channel with nothing in it.
    pub fn new() -> ProgressChannel {
        let (sender, receiver) = mpsc::channel();
        ProgressChannel { sender, receiver }
    }

    /// The hook that sends IO worker progress to this channel.
    pub fn hook(&self) -> ProgressHook {
        ProgressHook(Arc::new(Forward(self.sender.clone())))
    }

    /// Runs `step` on a thread of its own and, until it returns, hands
    /// each progress report to `deliver` on this thread. When no thread
    /// can be started the step runs here, without live progress.
    pub fn run_step<T: Send>(
        &self,
        step: impl FnOnce() -> T + Send,
        mut deliver: impl FnMut(&IoWorkerProgress),
    ) -> T {
        let mut slot = Some(step);
        let ran = std::thread::scope(|s| {
            let (slot, done) = (&mut slot, self.sender.clone());
            let spawned = std::thread::Builder::new()
                .name("step".into())
                .stack_size(STEP_STACK)
                .spawn_scoped(s, move || {
                    let out = slot.take().map(|step| step());
                    let _ = done.send(Message::Done);
                    out
                });
            let handle = spawned.ok()?;
            // `self.sender` keeps the channel open: `Done` ends the wait.
            while let Ok(Message::Progress(p)) = self.receiver.recv() {
                deliver(&p);
            }
            match handle.join() {
                Ok(out) => out,
                Err(panic) => std::panic::resume_unwind(panic),
            }
        });
        match ran {
            Some(out) => out,
            None => match slot.take() {
                Some(step) => step(),
                None => unreachable!("a step that ran returned its output"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_from_another_thread_arrives_in_order_before_the_step_returns() {
        let channel = ProgressChannel::new();
        let hook = channel.hook();
        let step_thread = std::sync::Mutex::new(None);
        let mut seen = Vec::new();
        let out = channel.run_step(
            || {
                *step_thread.lock().unwrap() = Some(std::thread::current().id());
                std::thread::scope(|s| {
                    s.spawn(|| {
                        for i in 0..3 {
                            hook.0.ioworker(0, i, 1, Duration::from_secs(i));
                        }
                    });
                });
                7
            },
            |p| seen.push((p.ios, std::thread::current().id())),
        );
        assert_eq!(out, 7);
        let here = std::thread::current().id();
        assert_eq!(seen, [(0, here), (1, here), (2, here)]);
        assert_ne!(*step_thread.lock().unwrap(), Some(here), "the step ran on its own thread");
        // Nothing is left over for the next step.
        assert_eq!(channel.run_step(|| 1, |_| panic!("no progress")), 1);
    }
}
