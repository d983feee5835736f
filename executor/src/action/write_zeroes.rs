//! The `write_zeroes` action: Write Zeroes; the verify map then expects zeroes.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::action::{ActionCheck, ActionKind, RangeCheck};
use crate::plan::size::Size;
use crate::plan::values::Expr;
use crate::run::commands::io::range;
use crate::run::commands::split::{self, Transfer};
use crate::run::context::{Eval, RunContext, StepResult};
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;

/// Write Zeroes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WriteZeroes {
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
    /// Deallocate the blocks (DEAC).
    #[serde(default)]
    pub deac: bool,
}

/// The `write_zeroes` action.
#[derive(Debug)]
pub struct WriteZeroesDef;

impl ActionKind for WriteZeroesDef {
    type Plan = WriteZeroes;

    fn check(plan: &Self::Plan, cx: &mut ActionCheck<'_, '_>) {
        cx.length(RangeCheck {
            nsid: plan.nsid.as_ref(),
            slba: &plan.slba,
            nlb: plan.nlb.as_ref(),
            size: plan.size.as_ref(),
            split: plan.split,
            transfer: Transfer::NoData,
        });
    }

    fn destructive(_plan: &Self::Plan, _eval: Eval<'_>) -> StepResult<Option<String>> {
        Ok(Some("write_zeroes".to_string()))
    }

    fn execute(a: &Self::Plan, ctx: &mut RunContext, env: StepEnv<'_>) -> StepResult<ActionOutput> {
        let r = range(ctx, env, a.nsid.as_ref(), &a.slba, a.nlb.as_ref(), a.size.as_ref())?;
        let qid = env.eval.opt(a.qid.as_ref())?;
        let commands = split::plan(ctx, &r, Transfer::NoData, a.split)?;
        let qp = ctx.io_queue(qid, r.nsid, env.timeout)?;
        let (cqe, sent) = split::each(&commands, |c| Ok(qp.write_zeroes(r.nsid, c.slba, c.nlb, a.deac)?))?;
        Ok(split::output(&commands, cqe, sent))
    }
}
