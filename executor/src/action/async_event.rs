//! The `async_event` action: posts an Asynchronous Event Request and, with `wait`, waits for its
//! completion.

use std::time::Duration;

use nvmeplan_spec::dwords::AsyncEventDw0;
use nvmeplan_spec::{AdminOpcode, layout};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::action::ActionKind;
use crate::plan::values::DurationValue;
use crate::run::context::{Eval, RunContext, StepResult};
use crate::run::guard::typed_admin;
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;

/// Asynchronous Event Request: submit requests and optionally wait for one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AsyncEvent {
    /// Requests to keep outstanding (default 1).
    #[serde(default)]
    pub count: Option<u8>,
    /// Wait this long for an event to complete; without it the step
    /// completes after submitting.
    #[serde(default)]
    pub wait: Option<DurationValue>,
}

/// The `async_event` action.
#[derive(Debug)]
pub struct AsyncEventDef;

impl ActionKind for AsyncEventDef {
    type Plan = AsyncEvent;

    fn destructive(_plan: &Self::Plan, _eval: Eval<'_>) -> StepResult<Option<String>> {
        Ok(typed_admin("async_event", AdminOpcode::AsyncEventRequest))
    }

    fn execute(a: &Self::Plan, ctx: &mut RunContext, env: StepEnv<'_>) -> StepResult<ActionOutput> {
        let wait = a.wait.map_or(Duration::ZERO, |d| d.0);
        let left = env.remaining()?;
        let event = ctx.ctrl.async_event_request(wait.min(left))?;
        if event.is_none() && left < wait {
            return Err(env.timed_out());
        }
        let mut out = ActionOutput { completion: event, ..ActionOutput::default() };
        if let Some(cqe) = event {
            let dw0 = u64::from(cqe.dw0);
            let fields =
                layout::named(AsyncEventDw0::FIELDS).map(|f| (f.name.to_string(), f.get(dw0).into()));
            out.fields = Some(fields.collect());
        } else if a.wait.is_some() {
            out.checks.push(crate::run::expect::check(
                "event",
                format!("an asynchronous event within {:?}", wait),
                "none".into(),
                false,
            ));
        }
        Ok(out)
    }

    fn own_length(plan: &Self::Plan) -> Duration {
        plan.wait.map_or(Duration::ZERO, |d| d.0)
    }
}
