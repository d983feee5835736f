//! The `inject` action: installs (or clears) a simulator fault rule for the following commands.

use nvmeplan_sim::faults::{FaultAction, FaultMatch, FaultRule, QueueMatch};
use nvmeplan_spec::{AdminOpcode, NvmOpcode};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::action::{ActionCheck, ActionKind};
use crate::diagnostic::{code, did_you_mean};
use crate::plan::values::{DurationValue, Expr, StatusName};
use crate::run::commands::control::describe_rule;
use crate::run::context::{Eval, RunContext, StepError, StepResult};
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;

/// Which commands a fault applies to; every condition given must hold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InjectMatch {
    /// Command name (`read`, `identify`, ...) or raw opcode number.
    #[serde(default)]
    pub opcode: Option<OpcodeName>,
    /// Match admin commands (true) or I/O commands (false); default: both.
    #[serde(default)]
    pub admin: Option<bool>,
    /// Namespace ID.
    #[serde(default)]
    pub nsid: Option<Expr<u32>>,
    /// First LBA of the range (I/O commands overlapping it match).
    #[serde(default)]
    pub lba_start: Option<Expr<u64>>,
    /// End of the range (exclusive).
    #[serde(default)]
    pub lba_end: Option<Expr<u64>>,
    /// Only the nth matching command (1-based).
    #[serde(default)]
    pub nth: Option<u32>,
    /// Probability that a matching command is affected (0.0 to 1.0).
    #[serde(default)]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub probability: Option<f64>,
}

/// A command name or raw opcode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum OpcodeName {
    /// A raw opcode.
    Raw(u8),
    /// An admin or NVM command name (`read`, `identify`, `format_nvm`, ...).
    Named(String),
}

/// What happens to a matching command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum InjectAction {
    /// Complete with this status.
    Status(StatusName),
    /// Complete normally after this delay.
    Delay(DurationValue),
    /// Never complete the command (the host times out).
    Drop,
    /// Corrupt the data read.
    Corrupt,
    /// Set CSTS.CFS (controller fatal status).
    Fatal,
    /// Stop processing commands until a reset.
    Hang,
}

/// Inject a fault into the simulator for the following steps. On a real
/// device the step fails with a clear error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Inject {
    /// Which commands.
    #[serde(default, rename = "match")]
    pub matches: InjectMatch,
    /// What happens to them (required unless `clear`).
    #[serde(default)]
    pub action: Option<InjectAction>,
    /// Stop after affecting this many commands (default: no limit).
    #[serde(default)]
    pub count: Option<u32>,
    /// Remove every fault injected so far instead of adding one.
    #[serde(default)]
    pub clear: bool,
}

/// The `inject` action.
#[derive(Debug)]
pub struct InjectDef;

impl ActionKind for InjectDef {
    type Plan = Inject;
    fn check(plan: &Self::Plan, cx: &mut ActionCheck<'_, '_>) {
        if plan.action.is_none() && !plan.clear {
            let span = cx.key_at(&[]);
            cx.error(code::SCHEMA, "an `inject` needs an `action` (or `clear: true`)", span);
        }
        if let Some(device) = cx.plan_device()
            && !device.starts_with("sim")
        {
            let message = format!("`inject` needs the simulator, but this plan's device is `{device}`");
            let span = cx.key_at(&[]);
            cx.error(code::CONFLICT, message, span);
        }
        if let Some(OpcodeName::Named(op)) = &plan.matches.opcode
            && AdminOpcode::from_name(op).is_none()
            && NvmOpcode::from_name(op).is_none()
        {
            let mut names: Vec<&str> = AdminOpcode::ALL.iter().map(|o| o.name()).collect();
            names.extend(NvmOpcode::ALL.iter().map(|o| o.name()));
            let message = format!("unknown command `{op}`{}", did_you_mean(op, &names));
            let span = cx.at(&["match", "opcode"]);
            cx.error(code::SCHEMA, message, span);
        }
    }

    fn destructive(_plan: &Self::Plan, _eval: Eval<'_>) -> StepResult<Option<String>> {
        // Faults exist only in the simulator, which is never refused.
        Ok(None)
    }

    fn execute(a: &Self::Plan, ctx: &mut RunContext, env: StepEnv<'_>) -> StepResult<ActionOutput> {
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
            InjectAction::Status(s) => FaultAction::Status { status: s.0, dnr: false },
            InjectAction::Delay(d) => FaultAction::Delay(d.0),
            InjectAction::Drop => FaultAction::DropCompletion,
            InjectAction::Corrupt => FaultAction::CorruptData,
            InjectAction::Fatal => FaultAction::ControllerFatal,
            InjectAction::Hang => FaultAction::Hang,
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
}

/// The queue and opcode of an `inject` match.
fn queue_and_opcode(m: &InjectMatch) -> StepResult<(QueueMatch, Option<u8>)> {
    let by_flag = match m.admin {
        Some(true) => Some(QueueMatch::Admin),
        Some(false) => Some(QueueMatch::Io),
        None => None,
    };
    Ok(match &m.opcode {
        None => (by_flag.unwrap_or(QueueMatch::Any), None),
        Some(OpcodeName::Raw(op)) => (by_flag.unwrap_or(QueueMatch::Any), Some(*op)),
        Some(OpcodeName::Named(name)) => {
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
