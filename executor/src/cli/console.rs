//! The run's console: one line per finished step (the same on a terminal
//! and in a log), and on a terminal a live progress line (indicatif) with the running step
//! and the live IOPS of its IO workers. When stdout is not a terminal
//! (tests, CI logs) only the plain lines are printed.

use std::io::IsTerminal as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use nvmeplan::run::progress::{ProgressHook, RunProgress};

#[derive(Default)]
struct Live {
    step: String,
    /// IOs completed in the last second, per worker.
    iops: Vec<u64>,
    /// IOs completed so far, per worker.
    ios: Vec<u64>,
}

/// The console of `nvmeplan run`.
pub struct Console {
    bar: Option<ProgressBar>,
    live: Mutex<Live>,
}

impl Console {
    /// A console that draws a progress line when stdout is a terminal.
    pub fn new() -> Arc<Console> {
        let bar = std::io::stdout().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stdout());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Arc::new(Console { bar, live: Mutex::new(Live::default()) })
    }

    /// The hook the runner reports progress to.
    pub fn hook(self: &Arc<Self>) -> ProgressHook {
        ProgressHook(self.clone())
    }

    /// Prints a line (above the progress line on a terminal).
    pub fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => super::stdout::println(text),
        }
    }

    /// Removes the progress line (before the summary lines).
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl RunProgress for Console {
    fn step_started(&self, id: &str, action: &str) {
        if let Ok(mut live) = self.live.lock() {
            *live = Live { step: id.to_string(), ..Live::default() };
        }
        if let Some(bar) = &self.bar {
            bar.reset_elapsed();
            bar.set_message(format!("{id} ({action})"));
        }
    }

    fn ioworker(&self, worker: usize, ios: u64, iops_last_second: u64, elapsed: Duration) {
        let Ok(mut live) = self.live.lock() else { return };
        if live.iops.len() <= worker {
            live.iops.resize(worker + 1, 0);
            live.ios.resize(worker + 1, 0);
        }
        live.iops[worker] = iops_last_second;
        live.ios[worker] = ios;
        let iops: u64 = live.iops.iter().sum();
        let total: u64 = live.ios.iter().sum();
        let workers = live.iops.len();
        let message = format!("{}: {iops} IOPS ({total} IOs, {workers} worker(s))", live.step);
        tracing::debug!(step = %live.step, iops, ios = total, elapsed_ms = elapsed.as_millis() as u64, "ioworker progress");
        if let Some(bar) = &self.bar {
            bar.set_message(message);
        }
    }
}
