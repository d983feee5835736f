//! The event stream of a run: the runner ([`super::run_events`]) tells one
//! [`RunEventSink`] everything that happens as a [`RunEvent`], and the
//! outputs (the console, the live `report.json`, the HTML report and JUnit
//! at the end) are sinks that render those events. [`FanOut`] hands every
//! event to a list of sinks, in order.
//!
//! All events reach the sink on the runner's thread, in the order they
//! happen, so a sink needs neither locks nor `Send`. IO worker progress
//! starts on the worker's progress thread: it is sent over a channel (no
//! lock, no allocation beyond the channel's own blocks) to the runner's
//! thread, which waits on that channel while a step runs on a thread of its
//! own ([`super::progress`]).
//!
//! An `Err` from a sink names the outputs it could not write. During the run
//! it stops the run after the current step (the step is recorded, the
//! device ends as the plan's `finish` says); for [`RunEvent::RunStarted`] no
//! step runs and no other event follows; every error reaches the caller in
//! [`super::RunError`]. A sink whose failure must not stop the run keeps
//! its failure to itself and returns `Ok`.
//!
//! Adding an output is one more sink in the list, without a change to the
//! runner: a status socket, for example, is a sink that serialises each
//! event it cares about and hands the bytes over a channel to its own
//! thread serving the clients, returning at once; a client that goes away
//! is that thread's concern, so the sink returns `Ok` and the run goes on.

use std::fmt;
use std::time::Duration;

use nvmeplan_reports::ReportError;

use super::result::{Report, RunResult, StepResult};

/// One thing that happened in a run.
#[derive(Debug, Clone, Copy)]
pub enum RunEvent<'a> {
    /// The run starts: nothing has been sent to the device by the plan yet.
    RunStarted {
        /// The plan's name.
        plan: &'a str,
        /// The plan file's path as given.
        path: &'a str,
        /// The device URI.
        uri: &'a str,
        /// The run's seed.
        seed: u64,
        /// How many action steps the plan has (groups expanded).
        steps: usize,
        /// The report as it starts: header, no steps.
        report: &'a Report,
    },
    /// An action step starts running (skipped steps are not announced).
    StepStarted {
        /// The step's id.
        id: &'a str,
        /// The step's action name.
        action: &'a str,
    },
    /// An IO worker of the running step reports, about once per second.
    IoWorkerProgress(&'a IoWorkerProgress),
    /// A step (run, skipped or refused) is recorded.
    StepFinished {
        /// The step's result.
        step: &'a StepResult,
        /// The report so far: `step` is the last of its steps.
        report: &'a Report,
    },
    /// A warning of the run (verify state that could not be loaded or
    /// saved, ...); it is also in the final report's `warnings`.
    Warning(&'a str),
    /// The run ended: the device is finished, the report is final.
    RunFinished {
        /// The final result.
        result: &'a RunResult,
        /// The run's stop flag was set (Ctrl-C, SIGTERM).
        interrupted: bool,
    },
}

/// Live progress of one IO worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IoWorkerProgress {
    /// The worker's index in the step.
    pub worker: usize,
    /// IOs completed so far.
    pub ios: u64,
    /// IOs completed in the last second.
    pub iops_last_second: u64,
    /// Time since the workers started.
    pub elapsed: Duration,
}

/// Receives the events of a run.
pub trait RunEventSink {
    /// Handles `event`; `Err` names the outputs that could not be written
    /// (see the module documentation for what the runner does with it).
    fn event(&mut self, event: &RunEvent<'_>) -> Result<(), SinkError>;
}

/// Outputs a sink could not write: one or more report errors, in the order
/// they happened.
#[derive(Debug)]
pub struct SinkError {
    first: ReportError,
    more: Vec<ReportError>,
}

impl SinkError {
    /// Every error, the first first.
    pub fn errors(&self) -> impl Iterator<Item = &ReportError> {
        std::iter::once(&self.first).chain(&self.more)
    }

    /// `self` followed by `later`'s errors.
    pub fn merge(mut self, later: SinkError) -> SinkError {
        self.more.push(later.first);
        self.more.extend(later.more);
        self
    }

    /// The first error, which names the run's stop reason.
    pub fn first(&self) -> &ReportError {
        &self.first
    }
}

impl From<ReportError> for SinkError {
    fn from(first: ReportError) -> SinkError {
        SinkError { first, more: Vec::new() }
    }
}

impl fmt::Display for SinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.first.fmt(f)
    }
}

impl std::error::Error for SinkError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.first)
    }
}

/// Merges an optional earlier error with a later one.
pub fn merge(earlier: Option<SinkError>, later: Result<(), SinkError>) -> Option<SinkError> {
    match (earlier, later) {
        (Some(e), Err(l)) => Some(e.merge(l)),
        (Some(e), Ok(())) => Some(e),
        (None, Err(l)) => Some(l),
        (None, Ok(())) => None,
    }
}

/// Hands every event to each of its sinks, in order; every sink sees every
/// event, also after another one failed, and the errors are merged.
#[derive(Default)]
pub struct FanOut<'a> {
    sinks: Vec<&'a mut dyn RunEventSink>,
}

impl<'a> FanOut<'a> {
    /// No sinks yet.
    pub fn new() -> FanOut<'a> {
        FanOut { sinks: Vec::new() }
    }

    /// Adds `sink` after the others.
    pub fn push(&mut self, sink: &'a mut dyn RunEventSink) -> &mut Self {
        self.sinks.push(sink);
        self
    }
}

impl RunEventSink for FanOut<'_> {
    fn event(&mut self, event: &RunEvent<'_>) -> Result<(), SinkError> {
        let mut failed = None;
        for sink in &mut self.sinks {
            failed = merge(failed, sink.event(event));
        }
        failed.map_or(Ok(()), Err)
    }
}

/// A sink that calls a closure with each finished step (the observer of
/// [`super::run_plan`]).
pub struct StepObserver<'a>(pub &'a mut dyn FnMut(&StepResult));

impl RunEventSink for StepObserver<'_> {
    fn event(&mut self, event: &RunEvent<'_>) -> Result<(), SinkError> {
        if let RunEvent::StepFinished { step, .. } = event {
            (self.0)(step);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    struct Failing(&'static str);

    impl RunEventSink for Failing {
        fn event(&mut self, _: &RunEvent<'_>) -> Result<(), SinkError> {
            let source = std::io::Error::other(self.0);
            Err(ReportError::Io { action: "write", path: PathBuf::from(self.0), source }.into())
        }
    }

    struct Count(usize);

    impl RunEventSink for Count {
        fn event(&mut self, _: &RunEvent<'_>) -> Result<(), SinkError> {
            self.0 += 1;
            Ok(())
        }
    }

    #[test]
    fn a_fan_out_reaches_every_sink_and_keeps_every_error_in_order() {
        let (mut a, mut b, mut count) = (Failing("a"), Failing("b"), Count(0));
        let mut fan = FanOut::new();
        fan.push(&mut a).push(&mut count).push(&mut b);
        let err = fan.event(&RunEvent::Warning("w")).unwrap_err();
        let texts: Vec<String> = err.errors().map(ToString::to_string).collect();
        assert_eq!(texts, ["cannot write `a`: a", "cannot write `b`: b"]);
        assert_eq!(err.to_string(), texts[0]);
        drop(fan);
        assert_eq!(count.0, 1);
    }
}
