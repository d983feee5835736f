//! The `compare` action: the device compares blocks with a buffer of the expected data.

use nvmeplan_driver::CheckCounts;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::action::{ActionCheck, ActionKind, ExpectKey};
use crate::plan::size::Size;
use crate::plan::values::Expr;
use crate::plan::values::Pattern;
use crate::run::commands::data::fill;
use crate::run::commands::io::{buffer, range, record_mismatches};
use crate::run::context::{Eval, RunContext, StepResult};
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;

/// Compare.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Compare {
    /// Namespace ID (default: `defaults.nsid`).
    #[serde(default)]
    pub nsid: Option<Expr<u32>>,
    /// Starting LBA, or a byte offset with a unit (`1MiB`).
    pub slba: Expr<Size>,
    /// Number of logical blocks, or a byte size with a unit (`4k`); give
    /// `nlb` or `size`.
    #[serde(default)]
    pub nlb: Option<Expr<Size>>,
    /// The same length as `nlb`, usually written in bytes (`size: 1MiB`);
    /// give `nlb` or `size`.
    #[serde(default)]
    pub size: Option<Expr<Size>>,
    /// I/O queue to submit on.
    #[serde(default)]
    pub qid: Option<Expr<u16>>,
    /// The data sent for comparison (default `stamp`: what this run wrote).
    #[serde(default)]
    pub pattern: Pattern,
}

/// The `compare` action.
#[derive(Debug)]
pub struct CompareDef;

impl ActionKind for CompareDef {
    type Plan = Compare;
    const EXPECT: &'static [ExpectKey] = &[ExpectKey::Data];

    fn check(plan: &Self::Plan, cx: &mut ActionCheck<'_, '_>) {
        cx.length(plan.nsid.as_ref(), &plan.slba, plan.nlb.as_ref(), plan.size.as_ref());
    }

    fn verifies_nothing(plan: &Self::Plan) -> Option<String> {
        (plan.pattern != Pattern::Stamp).then(|| {
            "a `compare` with a pattern is checked by the device, block by block; it counts no unchecked blocks".into()
        })
    }

    fn destructive(_plan: &Self::Plan, _eval: Eval<'_>) -> StepResult<Option<String>> {
        Ok(None)
    }

    fn execute(a: &Self::Plan, ctx: &mut RunContext, env: StepEnv<'_>) -> StepResult<ActionOutput> {
        let r = range(ctx, env, a.nsid.as_ref(), &a.slba, a.nlb.as_ref(), a.size.as_ref())?;
        let qid = env.eval.opt(a.qid.as_ref())?;
        let mut buf = buffer(ctx, &r)?;
        let len = r.nlb as usize * r.lba_size;
        let mut mismatches = Vec::new();
        let mut counts = CheckCounts::default();
        if a.pattern == Pattern::Stamp {
            let qp = ctx.io_queue(qid, r.nsid, env.timeout)?;
            let outcome = qp.read(r.nsid, r.slba, r.nlb, &mut buf, None)?;
            if !outcome.completion.status().is_success() {
                return Ok(ActionOutput::completion(outcome.completion));
            }
            mismatches = outcome.mismatches;
            counts = outcome.counts;
        } else {
            let seed = ctx.seed;
            fill(&mut buf.as_mut_slice()[..len], &a.pattern, seed);
        }
        let qp = ctx.io_queue(qid, r.nsid, env.timeout)?;
        let cqe = qp.compare(r.nsid, r.slba, r.nlb, &mut buf)?;
        let mut out = ActionOutput::completion(cqe);
        if a.pattern == Pattern::Stamp {
            record_mismatches(&mut out, &mismatches, counts);
        }
        Ok(out)
    }
}
