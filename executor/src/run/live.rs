//! The live `report.json` of a run with an output directory.
//!
//! The report must be a valid, schema-conforming file (`complete: false`)
//! at every moment of the run, yet rewriting it after every step costs
//! O(steps) per step, O(steps²) per run. So each step is serialized once,
//! on the runner's thread, and handed to a writer thread that owns the
//! file: it rewrites it (compact JSON, synced, renamed) when something is
//! new and the time since its last write is at least [`WRITE_SPACING`]
//! times what that write cost. Writing then takes at most a fixed share of
//! the run however many steps it has, and a finished step reaches the file
//! within a few write times even while the next step runs for hours. The
//! final report is written once, pretty-printed, by [`LiveReport::finish`].
//!
//! [`LiveReporter`] drives a [`LiveReport`] from the run's events.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nvmeplan_reports::ReportError;
use serde_json::Value;

use super::events::{RunEvent, RunEventSink, SinkError};
use super::result::{Report, StepResult, StopReason, Summary};

/// How long the writer waits after a write, as a multiple of that write's
/// duration, before it writes again: the writer spends at most
/// 1 / (1 + `WRITE_SPACING`) of the time writing.
pub const WRITE_SPACING: u32 = 4;

/// What changed in the report since the last update.
struct Update {
    /// The finished step, serialized.
    step: String,
    summary: Summary,
    duration_ms: u64,
    stopped: Option<StopReason>,
}

/// The first write failure the writer thread has not reported yet.
#[derive(Default)]
struct Failure {
    error: Option<ReportError>,
}

/// The live `report.json` of a run.
pub struct LiveReport {
    path: PathBuf,
    updates: Option<Sender<Update>>,
    writer: Option<JoinHandle<()>>,
    failure: Arc<Mutex<Failure>>,
}

impl LiveReport {
    /// Writes the report's start (no steps yet) to `path` and starts the
    /// writer thread. `Err` when that first write fails: nothing ran.
    pub fn start(path: &Path, report: &Report) -> Result<LiveReport, ReportError> {
        let mut live = Live::new(path, report)?;
        live.write()?;
        let failure = Arc::new(Mutex::new(Failure::default()));
        let (updates, receiver) = mpsc::channel();
        let shared = failure.clone();
        let writer = std::thread::Builder::new()
            .name("report-writer".into())
            .spawn(move || live.serve(&receiver, &shared))
            .map_err(|source| ReportError::Io { action: "write", path: path.to_path_buf(), source })?;
        Ok(LiveReport { path: path.to_path_buf(), updates: Some(updates), writer: Some(writer), failure })
    }

    /// The report's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Hands a finished step (the last of `report.steps`) to the writer.
    pub fn step_recorded(&self, report: &Report) {
        let Some(step) = report.steps.last() else { return };
        let step = match step_json(step) {
            Ok(json) => json,
            Err(e) => return self.fail(e),
        };
        let update = Update {
            step,
            summary: report.summary,
            duration_ms: report.duration_ms,
            stopped: report.stopped.clone(),
        };
        if let Some(updates) = &self.updates {
            // A writer that ended early has recorded why in `failure`.
            let _ = updates.send(update);
        }
    }

    /// A write failure not taken before, if any (the writer goes on trying).
    pub fn take_failure(&self) -> Option<ReportError> {
        self.failure.lock().ok().and_then(|mut f| f.error.take())
    }

    fn fail(&self, error: ReportError) {
        if let Ok(mut f) = self.failure.lock() {
            f.error.get_or_insert(error);
        }
    }

    /// Stops the writer and writes the final report, pretty-printed.
    pub fn finish(mut self, report: &Report) -> Result<(), ReportError> {
        self.stop();
        nvmeplan_reports::json::write(&self.path, report)
    }

    fn stop(&mut self) {
        drop(self.updates.take());
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

impl Drop for LiveReport {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The live `report.json` as a sink of run events: the file is created at
/// [`RunEvent::RunStarted`] (an `Err` there means no step runs), gets each
/// [`RunEvent::StepFinished`], and is written in full at
/// [`RunEvent::RunFinished`].
pub struct LiveReporter {
    path: PathBuf,
    live: Option<LiveReport>,
    /// A write failure was returned: the final write's is not returned again.
    failed: bool,
}

impl LiveReporter {
    /// A reporter that keeps `path` up to date.
    pub fn new(path: PathBuf) -> LiveReporter {
        LiveReporter { path, live: None, failed: false }
    }
}

impl RunEventSink for LiveReporter {
    fn event(&mut self, event: &RunEvent<'_>) -> Result<(), SinkError> {
        match event {
            RunEvent::RunStarted { report, .. } => {
                self.live = Some(LiveReport::start(&self.path, report)?);
            }
            RunEvent::StepFinished { report, .. } => {
                if let Some(live) = &self.live {
                    live.step_recorded(report);
                    if let Some(e) = live.take_failure() {
                        self.failed = true;
                        return Err(e.into());
                    }
                }
            }
            RunEvent::RunFinished { result, .. } => {
                if let Some(live) = self.live.take() {
                    let written = live.finish(result);
                    if !self.failed {
                        written?;
                    }
                }
            }
            RunEvent::StepStarted { .. } | RunEvent::IoWorkerProgress(_) | RunEvent::Warning(_) => {}
        }
        Ok(())
    }
}

fn step_json(step: &StepResult) -> Result<String, ReportError> {
    serde_json::to_string(step).map_err(|e| ReportError::Render { what: "JSON", message: e.to_string() })
}

/// The writer thread's copy of the report: the header serialized once,
/// the steps as serialized by the runner.
struct Live {
    path: PathBuf,
    /// The report's fields without `steps`.
    header: serde_json::Map<String, Value>,
    steps: Vec<String>,
}

impl Live {
    fn new(path: &Path, report: &Report) -> Result<Live, ReportError> {
        let render = |e: serde_json::Error| ReportError::Render { what: "JSON", message: e.to_string() };
        let Value::Object(mut header) = serde_json::to_value(report).map_err(render)? else {
            return Err(ReportError::Render { what: "JSON", message: "a report is not an object".into() });
        };
        header.remove("steps");
        let steps = report.steps.iter().map(step_json).collect::<Result<_, _>>()?;
        Ok(Live { path: path.to_path_buf(), header, steps })
    }

    fn apply(&mut self, update: Update) {
        self.steps.push(update.step);
        self.header.insert("summary".into(), serde_json::to_value(update.summary).unwrap_or(Value::Null));
        self.header.insert("duration_ms".into(), update.duration_ms.into());
        match update.stopped {
            Some(why) => self.header.insert("stopped".into(), why.as_str().into()),
            None => self.header.remove("stopped"),
        };
    }

    /// The report as compact JSON.
    fn render(&self) -> String {
        let mut text = String::with_capacity(self.steps.iter().map(|s| s.len() + 1).sum::<usize>() + 4096);
        text.push('{');
        for (key, value) in &self.header {
            text.push_str(&Value::String(key.clone()).to_string());
            text.push(':');
            text.push_str(&value.to_string());
            text.push(',');
        }
        text.push_str("\"steps\":[");
        text.push_str(&self.steps.join(","));
        text.push_str("]}\n");
        text
    }

    fn write(&mut self) -> Result<(), ReportError> {
        nvmeplan_reports::json::write_atomic(&self.path, self.render().as_bytes())
    }

    /// Applies updates until the runner hangs up, writing at the bounded
    /// rate; the first failure goes to `failure` and the writer goes on.
    fn serve(mut self, updates: &Receiver<Update>, failure: &Mutex<Failure>) {
        let mut next_write = Instant::now();
        let mut dirty = false;
        loop {
            let received = if dirty {
                updates.recv_timeout(next_write.saturating_duration_since(Instant::now()))
            } else {
                updates.recv().map_err(|_| RecvTimeoutError::Disconnected)
            };
            match received {
                Ok(update) => {
                    self.apply(update);
                    dirty = true;
                }
                Err(RecvTimeoutError::Timeout) => {}
                // The final report replaces whatever is pending.
                Err(RecvTimeoutError::Disconnected) => return,
            }
            let now = Instant::now();
            if dirty && now >= next_write {
                let result = self.write();
                let cost = now.elapsed();
                next_write = Instant::now() + spacing(cost);
                dirty = false;
                if let Err(e) = result {
                    tracing::warn!("{e}");
                    if let Ok(mut f) = failure.lock() {
                        f.error.get_or_insert(e);
                    }
                }
            }
        }
    }
}

/// The pause after a write that took `cost`.
fn spacing(cost: Duration) -> Duration {
    cost.saturating_mul(WRITE_SPACING)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::result::Outcome;

    fn report(steps: usize) -> Report {
        let mut r = Report::new_empty("p");
        for i in 0..steps {
            let mut s = StepResult::new(&format!("s{i}"), &format!("s{i}"), "log", Outcome::Pass);
            s.message = Some("quote \" and \"steps\":[] inside".into());
            r.summary.add(s.outcome);
            r.steps.push(s);
        }
        r
    }

    #[test]
    fn the_live_text_is_the_report() {
        let full = report(3);
        let mut live = Live::new(Path::new("r.json"), &report(0)).unwrap();
        for (i, step) in full.steps.iter().enumerate() {
            let mut summary = Summary::default();
            full.steps[..=i].iter().for_each(|s| summary.add(s.outcome));
            live.apply(Update { step: step_json(step).unwrap(), summary, duration_ms: 0, stopped: None });
        }
        let text = live.render();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert_eq!(nvmeplan_reports::json::parse(Path::new("r.json"), &text).unwrap(), full);
        live.apply(Update {
            step: step_json(&full.steps[0]).unwrap(),
            summary: Summary::default(),
            duration_ms: 7,
            stopped: Some("interrupted".into()),
        });
        let parsed = nvmeplan_reports::json::parse(Path::new("r.json"), &live.render()).unwrap();
        assert_eq!((parsed.steps.len(), parsed.duration_ms), (4, 7));
        assert_eq!(parsed.stopped.as_deref(), Some("interrupted"));
    }

    #[test]
    fn a_finished_step_reaches_the_file_while_the_next_runs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        let mut full = report(0);
        let live = LiveReport::start(&path, &full).unwrap();
        full = report(1);
        live.step_recorded(&full);
        // No further update arrives: the pending step is written on time.
        let start = Instant::now();
        while nvmeplan_reports::json::read(&path).map_or(true, |r| r.steps.len() != 1) {
            assert!(start.elapsed() < Duration::from_secs(10), "the step was never written");
            std::thread::sleep(Duration::from_millis(5));
        }
        full.complete = true;
        live.finish(&full).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.lines().count() > 1, "the final report is pretty-printed");
        assert_eq!(nvmeplan_reports::json::parse(&path, &text).unwrap(), full);
    }
}
