//! The `compare` action: the device compares blocks with a buffer of the expected data.

use nvmeplan_driver::CheckCounts;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::action::{ActionCheck, ActionKind, ExpectKey, RangeCheck};
use crate::plan::size::Size;
use crate::plan::values::Expr;
use crate::plan::values::Pattern;
use crate::run::commands::data::fill;
use crate::run::commands::io::{buffer, range, record_mismatches};
use crate::run::commands::split::{self, Transfer};
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
    /// Split a range larger than one command may move (MDTS for data
    /// transfers, 65536 blocks) into several commands, one step result
    /// (default `true`); `false` sends one command whatever its size, for
    /// the device to answer.
    #[serde(default = "crate::plan::io::split_by_default")]
    pub split: bool,
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
        cx.length(RangeCheck {
            nsid: plan.nsid.as_ref(),
            slba: &plan.slba,
            nlb: plan.nlb.as_ref(),
            size: plan.size.as_ref(),
            split: plan.split,
            transfer: Transfer::Data,
        });
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
        let commands = split::plan(ctx, &r, Transfer::Data, a.split)?;
        let mut mismatches = Vec::new();
        let mut counts = CheckCounts::default();
        if a.pattern == Pattern::Stamp {
            // Read what the device holds (checked against the verify map),
            // then have the device compare it with itself.
            let qp = ctx.io_queue(qid, r.nsid, env.timeout)?;
            let read = split::each(&commands, |c| {
                buf.set_offset(c.offset)?;
                let outcome = qp.read(r.nsid, c.slba, c.nlb, &mut buf, None)?;
                mismatches.extend(outcome.mismatches);
                counts.checked += outcome.counts.checked;
                counts.unchecked += outcome.counts.unchecked;
                counts.mismatched += outcome.counts.mismatched;
                Ok(outcome.completion)
            });
            buf.set_offset(0)?;
            let (cqe, sent) = read?;
            if !cqe.status().is_success() {
                return Ok(split::output(&commands, cqe, sent));
            }
        } else {
            let seed = ctx.seed;
            fill(&mut buf.as_mut_slice()[..len], &a.pattern, seed);
        }
        let qp = ctx.io_queue(qid, r.nsid, env.timeout)?;
        let compared = split::each(&commands, |c| {
            buf.set_offset(c.offset)?;
            Ok(qp.compare(r.nsid, c.slba, c.nlb, &mut buf)?)
        });
        buf.set_offset(0)?;
        let (cqe, sent) = compared?;
        let mut out = split::output(&commands, cqe, sent);
        if a.pattern == Pattern::Stamp {
            record_mismatches(&mut out, &mismatches, counts);
        }
        Ok(out)
    }
}
