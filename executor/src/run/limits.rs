//! How long a step may run. A step's `timeout` (its own or
//! `defaults.timeout`) bounds the whole step, whatever it does: commands,
//! `sleep`, `register { wait }`, `async_event { wait }`, the chunks of a
//! `firmware_download`, the workers of an `ioworker`. With neither set, a
//! step that names its own length (`sleep`, `wait`, an ioworker's `time`)
//! may run that long plus the built-in timeout. A step that reaches its
//! deadline ends as `error` "timed out after X", keeping what ran.
//! This module owns [`StepEnv`], the limits an action runs within.

use std::time::{Duration, Instant};

use super::context::{Eval, RunContext, StepError, StepResult};
use crate::expand::ResolvedStep;
use crate::plan::Action;

/// What an action needs besides the context: the step's timeout, its
/// deadline and the evaluation of its values.
#[derive(Clone, Copy)]
pub struct StepEnv<'a> {
    /// Values and conditions.
    pub eval: Eval<'a>,
    /// The step's timeout (of each command).
    pub timeout: Duration,
    /// When the step must end.
    pub deadline: Instant,
    /// How long the step may take (`deadline` less its start).
    pub limit: Duration,
}

/// How long `step` (running `action`) may take.
pub fn step_limit(step: &ResolvedStep, action: &Action) -> Duration {
    if step.timeout_set { step.timeout } else { step.timeout.saturating_add(own_length(action)) }
}

/// The length an action asks for itself: a sleep, a wait, the longest
/// worker `time` (or the last `at` of a sequence).
fn own_length(action: &Action) -> Duration {
    match action {
        Action::Sleep(d) => d.0,
        Action::Register(r) => r.wait.map_or(Duration::ZERO, |d| d.0),
        Action::AsyncEvent(a) => a.wait.map_or(Duration::ZERO, |d| d.0),
        Action::Ioworker(w) => w
            .workers()
            .iter()
            .flat_map(|w| {
                let at = w.io_sequence.iter().flatten().filter_map(|e| e.at.map(|d| d.0));
                w.time.map(|d| d.0).into_iter().chain(at)
            })
            .max()
            .unwrap_or_default(),
        _ => Duration::ZERO,
    }
}

impl StepEnv<'_> {
    /// The error of a step that reached its deadline.
    pub fn timed_out(&self) -> StepError {
        StepError::TimedOut { after: self.limit, command: None }
    }

    /// The time left before the step's deadline; `Err` once it passed.
    pub fn remaining(&self) -> StepResult<Duration> {
        match self.deadline.checked_duration_since(Instant::now()) {
            Some(left) if !left.is_zero() => Ok(left),
            _ => Err(self.timed_out()),
        }
    }

    /// The timeout of the step's next command: the step's timeout, cut to
    /// the time left. `Err` once the deadline passed.
    pub fn command_timeout(&self) -> StepResult<Duration> {
        Ok(self.timeout.min(self.remaining()?))
    }

    /// A driver error of a command sent with [`StepEnv::command_timeout`]:
    /// a command timeout that the step's deadline cut short is the step's
    /// timeout (the controller is still reset, the command is outstanding).
    pub fn command_error(&self, e: nvmeplan_driver::DriverError) -> StepError {
        let cut =
            matches!(e, nvmeplan_driver::DriverError::Timeout { .. }) && Instant::now() >= self.deadline;
        if cut { StepError::TimedOut { after: self.limit, command: Some(e) } } else { StepError::Driver(e) }
    }
}

/// Sleeps `d`, or until the step's deadline (then `Err` timed out), or until
/// the run stops (`Err` interrupted).
pub fn sleep(ctx: &RunContext, env: StepEnv<'_>, d: Duration) -> StepResult<()> {
    let left = env.remaining()?;
    if d <= left {
        return ctx.sleep(d);
    }
    ctx.sleep(left)?;
    Err(env.timed_out())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expand::StepKind;
    use crate::plan::DurationValue;

    /// The first step of a plan of one flush, with `timeout` ms set or defaulted.
    fn flush_step(timeout: u64, set: bool) -> (ResolvedStep, Action) {
        let plan = "plan_version: 1\nname: t\nsteps:\n  - { name: s, flush: {} }\n";
        let report = crate::validate_str("t.yaml", plan, &crate::Options::default());
        let mut step = report.plan.expect("valid").steps.remove(0);
        step.timeout = Duration::from_millis(timeout);
        step.timeout_set = set;
        let StepKind::Action(action) = &step.kind else { unreachable!("a leaf") };
        let action = (**action).clone();
        (step, action)
    }

    #[test]
    fn a_set_timeout_bounds_the_step_and_the_default_adds_the_steps_own_length() {
        let sleep = Action::Sleep(DurationValue(Duration::from_secs(30)));
        let (set, flush) = flush_step(200, true);
        assert_eq!(step_limit(&set, &sleep), Duration::from_millis(200));
        let (default, _) = flush_step(10_000, false);
        assert_eq!(step_limit(&default, &sleep), Duration::from_secs(40));
        assert_eq!(step_limit(&default, &flush), Duration::from_secs(10));
    }
}
