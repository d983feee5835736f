//! Live progress of a run, for consoles: which step is running and how
//! fast its IO workers go. The runner calls a [`RunProgress`] it is given
//! in [`super::RunOptions::progress`]; results still arrive through the
//! observer of [`super::run_plan`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Receives live progress. Methods are called on the runner's thread.
pub trait RunProgress: Send + Sync {
    /// A step starts running (skipped steps are not announced).
    fn step_started(&self, id: &str, action: &str);

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
