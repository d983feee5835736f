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
