//! The `deallocate` action: Dataset Management with the deallocate attribute (trim) over ranges.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::action::{ActionCheck, ActionKind};
use crate::diagnostic::code;
use crate::plan::io::LbaRange;
use crate::plan::values::Expr;
use crate::run::commands::io::lba_size;
use crate::run::context::{Eval, RunContext, StepError, StepResult};
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;

/// Dataset Management with the deallocate attribute (trim).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Deallocate {
    /// Namespace ID (default: `defaults.nsid`).
    #[serde(default)]
    pub nsid: Option<Expr<u32>>,
    /// The ranges (1 to 256).
    pub ranges: Vec<LbaRange>,
    /// I/O queue to submit on.
    #[serde(default)]
    pub qid: Option<Expr<u16>>,
}

/// The `deallocate` action.
#[derive(Debug)]
pub struct DeallocateDef;

impl ActionKind for DeallocateDef {
    type Plan = Deallocate;
    fn check(plan: &Self::Plan, cx: &mut ActionCheck<'_, '_>) {
        for (i, r) in plan.ranges.iter().enumerate() {
            let here = ["ranges", &i.to_string(), "nlb"];
            cx.blocks(&["ranges", &i.to_string(), "slba"], &r.slba, plan.nsid.as_ref());
            if let Some(n) = cx.blocks(&here, &r.nlb, plan.nsid.as_ref())
                && (n == 0 || n > u64::from(u32::MAX))
            {
                let span = cx.at(&["ranges", &i.to_string(), "nlb"]);
                cx.error(
                    code::RANGE,
                    format!("nlb {n} is out of range: a deallocate range has 1 to 4294967295 blocks"),
                    span,
                );
            }
        }
        if plan.ranges.is_empty() || plan.ranges.len() > 256 {
            let span = cx.at(&["ranges"]);
            cx.error(
                code::RANGE,
                format!("a deallocate has 1 to 256 ranges, found {}", plan.ranges.len()),
                span,
            );
        }
    }

    fn destructive(_plan: &Self::Plan, _eval: Eval<'_>) -> StepResult<Option<String>> {
        Ok(Some("deallocate".to_string()))
    }

    fn execute(a: &Self::Plan, ctx: &mut RunContext, env: StepEnv<'_>) -> StepResult<ActionOutput> {
        let nsid = env.eval.or(a.nsid.as_ref(), ctx.default_nsid)?;
        let qid = env.eval.opt(a.qid.as_ref())?;
        let lba_size = lba_size(ctx, nsid)?;
        let mut ranges = Vec::with_capacity(a.ranges.len());
        for r in &a.ranges {
            let nlb = env.eval.blocks("nlb", &r.nlb, lba_size)?;
            let nlb = u32::try_from(nlb)
                .map_err(|_| StepError::Invalid(format!("range of {nlb} blocks is too long")))?;
            ranges.push((env.eval.blocks("slba", &r.slba, lba_size)?, nlb));
        }
        let qp = ctx.io_queue(qid, nsid, env.timeout)?;
        Ok(ActionOutput::completion(qp.deallocate(nsid, &ranges)?))
    }
}
