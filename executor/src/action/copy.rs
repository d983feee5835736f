//! The `copy` action: the NVM Copy command (NVM Command Set 1.0, section
//! 3.2.2), source ranges in descriptor format 0 copied in order to the
//! blocks from `sdlba`. The device's limits (MSRC, MSSRL, MCL in Identify
//! Namespace) are the device's to enforce: a plan may exceed them on
//! purpose and expect `command_size_limit_exceeded`. The verify map then
//! expects at the destination what the sources held.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::action::{ActionCheck, ActionKind};
use crate::diagnostic::code;
use crate::plan::io::{LbaRange, MAX_NLB};
use crate::plan::size::Size;
use crate::plan::values::Expr;
use crate::run::commands::io::lba_size;
use crate::run::context::{Eval, RunContext, StepError, StepResult};
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;

/// Most source ranges one command can carry (NR is an 8-bit, 0's based field).
const MAX_RANGES: usize = 256;

/// Copy: blocks of one namespace, from source ranges to one destination.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Copy {
    /// Namespace ID (default: `defaults.nsid`).
    #[serde(default)]
    pub nsid: Option<Expr<u32>>,
    /// The first destination LBA (or its byte offset with a unit); the
    /// ranges land one after another from here.
    pub sdlba: Expr<Size>,
    /// The source ranges, copied in order (1 to 256, each of 1 to 65536 blocks).
    pub ranges: Vec<LbaRange>,
    /// I/O queue to submit on.
    #[serde(default)]
    pub qid: Option<Expr<u16>>,
    /// Force Unit Access: the copied data is durable before the command completes.
    #[serde(default)]
    pub fua: bool,
}

/// The `copy` action.
#[derive(Debug)]
pub struct CopyDef;

impl ActionKind for CopyDef {
    type Plan = Copy;

    fn check(plan: &Self::Plan, cx: &mut ActionCheck<'_, '_>) {
        if plan.ranges.is_empty() || plan.ranges.len() > MAX_RANGES {
            let span = cx.at(&["ranges"]);
            let message = format!("a copy has 1 to {MAX_RANGES} source ranges, found {}", plan.ranges.len());
            cx.error(code::RANGE, message, span);
        }
        cx.blocks(&["sdlba"], &plan.sdlba, plan.nsid.as_ref());
        for (i, r) in plan.ranges.iter().enumerate() {
            cx.blocks(&["ranges", &i.to_string(), "slba"], &r.slba, plan.nsid.as_ref());
            cx.nlb(&["ranges", &i.to_string(), "nlb"], &r.nlb);
        }
    }

    fn destructive(_plan: &Self::Plan, _eval: Eval<'_>) -> StepResult<Option<String>> {
        Ok(Some("copy".to_string()))
    }

    fn execute(a: &Self::Plan, ctx: &mut RunContext, env: StepEnv<'_>) -> StepResult<ActionOutput> {
        let nsid = env.eval.or(a.nsid.as_ref(), ctx.default_nsid)?;
        let qid = env.eval.opt(a.qid.as_ref())?;
        let lba_size = lba_size(ctx, nsid)?;
        let sdlba = env.eval.blocks("sdlba", &a.sdlba, lba_size)?;
        let mut ranges = Vec::with_capacity(a.ranges.len());
        for r in &a.ranges {
            let nlb = env.eval.blocks("nlb", &r.nlb, lba_size)?;
            let nlb = u32::try_from(nlb).ok().filter(|n| (1..=MAX_NLB).contains(&u64::from(*n))).ok_or_else(
                || StepError::Invalid(format!("copy source range of {nlb} blocks: 1 to {MAX_NLB} allowed")),
            )?;
            ranges.push((env.eval.blocks("slba", &r.slba, lba_size)?, nlb));
        }
        let qp = ctx.io_queue(qid, nsid, env.timeout)?;
        Ok(ActionOutput::completion(qp.copy(nsid, sdlba, &ranges, a.fua)?))
    }
}
