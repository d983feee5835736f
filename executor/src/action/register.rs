//! The `register` action: reads, writes or waits for a register field (`csts.rdy`, `cc.en`,
//! `nssr`).

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::action::{ActionCheck, ActionKind};
use crate::diagnostic::code;
use crate::plan::control::Register;
use crate::run::commands::control::fields;
use crate::run::context::{Eval, RunContext, StepError, StepResult};
use crate::run::device::RegisterField;
use crate::run::expect::{check, compare};
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;

/// The `register` action.
#[derive(Debug)]
pub struct RegisterDef;

impl ActionKind for RegisterDef {
    type Plan = Register;
    fn check(plan: &Self::Plan, cx: &mut ActionCheck<'_, '_>) {
        if plan.write.is_some() && !plan.field.is_writable() {
            let span = cx.at(&["write"]);
            cx.error(code::CONFLICT, format!("register `{}` is read-only", plan.field.0), span);
        }
    }

    fn destructive(plan: &Self::Plan, _eval: Eval<'_>) -> StepResult<Option<String>> {
        // An NVM Subsystem Reset reaches every controller of the subsystem
        // (the other port of a dual-port drive too); the other registers a
        // plan may write hold controller state that a reset clears.
        Ok((plan.write.is_some() && plan.field.0.split('.').next() == Some("nssr"))
            .then(|| "register write to nssr (NVM Subsystem Reset)".to_string()))
    }

    fn own_length(plan: &Self::Plan) -> Duration {
        plan.wait.map_or(Duration::ZERO, |d| d.0)
    }

    fn execute(a: &Self::Plan, ctx: &mut RunContext, env: StepEnv<'_>) -> StepResult<ActionOutput> {
        let field = RegisterField::resolve(&a.field.0).map_err(|e| StepError::Invalid(e.to_string()))?;
        if let Some(value) = &a.write {
            let value = env.eval.get(value)?;
            field.write(&ctx.ctrl, value).map_err(|e| StepError::Invalid(format!("{}: {e}", a.field.0)))?;
        }
        let wait = a.wait.map_or(Duration::ZERO, |d| d.0);
        let start = Instant::now();
        let mut out = ActionOutput::default();
        loop {
            let value = field.read(&ctx.ctrl);
            let Some(expect) = &a.expect else {
                out.fields = Some(fields(&a.field.0, value));
                return Ok(out);
            };
            let (expected, pass) = compare(&Value::from(value), expect, env.eval)?;
            if pass || start.elapsed() >= wait {
                out.fields = Some(fields(&a.field.0, value));
                out.checks.push(check(&a.field.0, expected, value.to_string(), pass));
                return Ok(out);
            }
            crate::run::limits::sleep(ctx, env, Duration::from_millis(1).min(wait - start.elapsed()))?;
        }
    }
}
