//! Control actions: resets, shutdown, registers, assert, log messages and
//! fault injection (`sleep` is a one-liner in [`super::execute`]).

use std::time::{Duration, Instant};

use nvmeplan_driver::ShutdownKind as DriverShutdown;
use nvmeplan_sim::faults::{FaultAction, FaultMatch, FaultRule, QueueMatch};
use nvmeplan_spec::{AdminOpcode, NvmOpcode};
use serde_json::{Map, Value};

use crate::plan::control as plan;
use crate::plan::values::Text;
use crate::run::context::{RunContext, StepError, StepResult};
use crate::run::device::RegisterField;
use crate::run::expect::{check, compare};
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;

/// Resets the controller (the runner's queue and plan-created queues are
/// forgotten; expressions see the re-read identify data).
pub fn reset(ctx: &mut RunContext, kind: plan::ResetKind) -> StepResult<ActionOutput> {
    let result = match kind {
        plan::ResetKind::Controller => ctx.ctrl.reset(),
        plan::ResetKind::Subsystem => ctx.ctrl.subsystem_reset(),
        plan::ResetKind::Function => ctx.ctrl.function_reset(),
        plan::ResetKind::PowerCycle => {
            let Some(sim) = &ctx.sim else {
                return Err(StepError::Invalid(format!(
                    "power_cycle needs the simulator; device `{}` is not one",
                    ctx.uri
                )));
            };
            sim.power_cycle(true);
            ctx.ctrl.reinitialize()
        }
    };
    ctx.after_reset();
    result?;
    Ok(ActionOutput::default())
}

/// Shutdown notification; the controller stays shut down until a reset.
pub fn shutdown(ctx: &mut RunContext, kind: plan::ShutdownKind) -> StepResult<ActionOutput> {
    let kind = match kind {
        plan::ShutdownKind::Normal => DriverShutdown::Normal,
        plan::ShutdownKind::Abrupt => DriverShutdown::Abrupt,
    };
    let result = ctx.ctrl.shutdown(kind);
    ctx.after_reset();
    result?;
    Ok(ActionOutput::default())
}

/// Reads (after writing, if asked) a register field and checks it,
/// polling until `wait` passes or the step's deadline (an error).
pub fn register(ctx: &mut RunContext, env: StepEnv<'_>, a: &plan::Register) -> StepResult<ActionOutput> {
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

fn fields(name: &str, value: u64) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("value".into(), value.into());
    let short = name.rsplit('.').next().unwrap_or(name);
    m.insert(short.to_string(), value.into());
    m
}

/// Checks a condition.
pub fn assert(env: StepEnv<'_>, c: &plan::Condition) -> StepResult<ActionOutput> {
    let holds = env.eval.condition(&c.0)?;
    let mut out = ActionOutput::default();
    out.checks.push(check("assert", c.expression().to_string(), holds.to_string(), holds));
    Ok(out)
}

/// The queue and opcode of an `inject` match.
fn queue_and_opcode(m: &plan::InjectMatch) -> StepResult<(QueueMatch, Option<u8>)> {
    let by_flag = match m.admin {
        Some(true) => Some(QueueMatch::Admin),
        Some(false) => Some(QueueMatch::Io),
        None => None,
    };
    Ok(match &m.opcode {
        None => (by_flag.unwrap_or(QueueMatch::Any), None),
        Some(plan::OpcodeName::Raw(op)) => (by_flag.unwrap_or(QueueMatch::Any), Some(*op)),
        Some(plan::OpcodeName::Named(name)) => {
            let io = NvmOpcode::from_name(name).map(|o| o as u8);
            let admin = AdminOpcode::from_name(name).map(|o| o as u8);
            match (by_flag, io, admin) {
                (Some(QueueMatch::Admin), _, Some(op)) | (None, None, Some(op)) => {
                    (QueueMatch::Admin, Some(op))
                }
                (Some(QueueMatch::Io), Some(op), _) | (None, Some(op), _) => (QueueMatch::Io, Some(op)),
                _ => {
                    return Err(StepError::Invalid(format!(
                        "inject: `{name}` is not a command of that queue type"
                    )));
                }
            }
        }
    })
}

/// Adds a simulator fault rule for the following steps of the enclosing
/// group (or plan), or removes every injected fault (`clear`).
pub fn inject(ctx: &mut RunContext, env: StepEnv<'_>, a: &plan::Inject) -> StepResult<ActionOutput> {
    let Some(sim) = ctx.sim.clone() else {
        return Err(StepError::Invalid(format!(
            "inject needs the simulator; device `{}` is not one",
            ctx.uri
        )));
    };
    let mut out = ActionOutput::default();
    if a.clear {
        sim.faults().clear();
        ctx.faults.iter_mut().for_each(Vec::clear);
        out.message = Some("every injected fault removed".into());
        return Ok(out);
    }
    let Some(action) = &a.action else {
        return Err(StepError::Invalid("inject needs an `action` (or `clear: true`)".into()));
    };
    let (queue, opcode) = queue_and_opcode(&a.matches)?;
    let start = env.eval.opt(a.matches.lba_start.as_ref())?;
    let end = env.eval.opt(a.matches.lba_end.as_ref())?;
    let lba = (start.is_some() || end.is_some()).then(|| (start.unwrap_or(0), end.unwrap_or(u64::MAX)));
    let matcher = FaultMatch {
        queue,
        opcode,
        nsid: env.eval.opt(a.matches.nsid.as_ref())?,
        lba,
        nth: a.matches.nth.map(u64::from),
        probability: a.matches.probability,
    };
    let action = match action {
        plan::InjectAction::Status(s) => FaultAction::Status { status: s.0, dnr: false },
        plan::InjectAction::Delay(d) => FaultAction::Delay(d.0),
        plan::InjectAction::Drop => FaultAction::DropCompletion,
        plan::InjectAction::Corrupt => FaultAction::CorruptData,
        plan::InjectAction::Fatal => FaultAction::ControllerFatal,
        plan::InjectAction::Hang => FaultAction::Hang,
    };
    let mut rule = FaultRule::new(matcher, action);
    if let Some(n) = a.count {
        rule = rule.times(u64::from(n));
    }
    let text = describe_rule(&rule);
    let id = sim.faults().add(rule);
    if let Some(scope) = ctx.faults.last_mut() {
        scope.push(id);
    }
    out.message = Some(format!("{id}: {text}"));
    Ok(out)
}

/// A short description of a fault rule: `status=unrecovered-read-error on io
/// opcode 0x02, nsid 1, nth 1, 1 time`.
pub fn describe_rule(rule: &FaultRule) -> String {
    let m = &rule.matcher;
    let mut parts = vec![format!("{} on {} commands", rule.action, m.queue)];
    if let Some(op) = m.opcode {
        parts.push(format!("opcode {op:#04x}"));
    }
    if let Some(nsid) = m.nsid {
        parts.push(format!("nsid {nsid}"));
    }
    if let Some((start, end)) = m.lba {
        parts.push(format!("lba {start}..{end}"));
    }
    if let Some(n) = m.nth {
        parts.push(format!("nth {n}"));
    }
    if let Some(p) = m.probability {
        parts.push(format!("probability {p}"));
    }
    if let Some(n) = rule.count {
        parts.push(format!("{n} time(s)"));
    }
    parts.join(", ")
}

/// The longest `log:` message kept, in bytes: the console line, the report
/// and its HTML carry every message, so one expression printing a whole
/// saved structure must not swamp them.
pub const MAX_LOG_BYTES: usize = 16 * 1024;

/// `log`: the message, cut to [`MAX_LOG_BYTES`] with a note of what was cut.
pub fn log(env: &StepEnv, text: &Text) -> StepResult<ActionOutput> {
    Ok(ActionOutput { message: Some(capped_message(env.eval.text(text)?)), ..ActionOutput::default() })
}

fn capped_message(mut message: String) -> String {
    if message.len() <= MAX_LOG_BYTES {
        return message;
    }
    let mut end = MAX_LOG_BYTES;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    let cut = message.len() - end;
    message.truncate(end);
    message.push_str(&format!("... ({cut} more bytes not shown; a log message keeps {MAX_LOG_BYTES})"));
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_log_messages_are_cut_at_a_character_boundary_saying_so() {
        assert_eq!(capped_message("short".into()), "short");
        let long = format!("{}é{}", "a".repeat(MAX_LOG_BYTES - 1), "b".repeat(100));
        let cut = capped_message(long);
        assert!(cut.starts_with(&"a".repeat(MAX_LOG_BYTES - 1)), "kept the start");
        assert!(
            cut.ends_with("... (102 more bytes not shown; a log message keeps 16384)"),
            "{}",
            &cut[MAX_LOG_BYTES - 8..]
        );
    }
}
