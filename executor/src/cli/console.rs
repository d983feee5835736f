//! The run's console, a sink of the run's events: one line per plan start
//! and per finished step (the same on a terminal and in a log), the run's
//! warnings when it ends, and on a terminal a live progress line
//! (indicatif) with the running step and the live IOPS of its IO workers.
//! When stdout is not a terminal (tests, CI logs) only the plain lines are
//! printed.

use std::io::IsTerminal as _;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use nvmeplan::run::events::{IoWorkerProgress, RunEvent, RunEventSink, SinkError};

/// The running step and its IO workers.
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
    live: Live,
}

impl Console {
    /// A console that draws a progress line when stdout is a terminal.
    pub fn new() -> Console {
        let bar = std::io::stdout().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stdout());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Console { bar, live: Live::default() }
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

    fn step_started(&mut self, id: &str, action: &str) {
        self.live = Live { step: id.to_string(), ..Live::default() };
        if let Some(bar) = &self.bar {
            bar.reset_elapsed();
            bar.set_message(format!("{id} ({action})"));
        }
    }

    fn ioworker(&mut self, p: &IoWorkerProgress) {
        let live = &mut self.live;
        if live.iops.len() <= p.worker {
            live.iops.resize(p.worker + 1, 0);
            live.ios.resize(p.worker + 1, 0);
        }
        live.iops[p.worker] = p.iops_last_second;
        live.ios[p.worker] = p.ios;
        let iops: u64 = live.iops.iter().sum();
        let total: u64 = live.ios.iter().sum();
        let workers = live.iops.len();
        let elapsed_ms = p.elapsed.as_millis() as u64;
        tracing::debug!(step = %live.step, iops, ios = total, elapsed_ms, "ioworker progress");
        if let Some(bar) = &self.bar {
            bar.set_message(format!("{}: {iops} IOPS ({total} IOs, {workers} worker(s))", live.step));
        }
    }
}

impl RunEventSink for Console {
    fn event(&mut self, event: &RunEvent<'_>) -> Result<(), SinkError> {
        match event {
            RunEvent::RunStarted { plan, path, uri, .. } => {
                self.line(&format!("plan {plan} ({path}) on {uri}"))
            }
            RunEvent::StepStarted { id, action } => self.step_started(id, action),
            RunEvent::IoWorkerProgress(p) => self.ioworker(p),
            RunEvent::StepFinished { step, .. } => self.line(&nvmeplan::run::console_line(step)),
            // Printed together when the run ends, after its step lines.
            RunEvent::Warning(_) => {}
            RunEvent::RunFinished { result, .. } => {
                for w in &result.warnings {
                    self.line(&format!("warning: {w}"));
                }
            }
        }
        Ok(())
    }
}
