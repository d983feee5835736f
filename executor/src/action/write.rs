//! The `write` action: writes blocks (stamped per LBA by default) and records them in the verify
//! map.

use nvmeplan_driver::{WriteOptions, stamp_block};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::action::{ActionCheck, ActionKind, RangeCheck};
use crate::plan::size::Size;
use crate::plan::values::Expr;
use crate::plan::values::Pattern;
use crate::run::commands::data::fill;
use crate::run::commands::io::{next_seed, offset_buffer, one_command, range, send_raw};
use crate::run::commands::split::{self, Transfer};
use crate::run::context::{Eval, RunContext, StepResult};
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;

/// Write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Write {
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
    /// Force Unit Access.
    #[serde(default)]
    pub fua: bool,
    /// Split a range larger than one command may move (MDTS for data
    /// transfers, 65536 blocks) into several commands, one step result
    /// (default `true`); `false` sends one command whatever its size, for
    /// the device to answer.
    #[serde(default = "crate::plan::io::split_by_default")]
    pub split: bool,
    /// The data written (default `stamp`: per-LBA stamps that later reads verify).
    #[serde(default)]
    pub pattern: Pattern,
    /// Byte offset of the data in its DMA buffer (default 0): a non-zero
    /// offset puts it in PRP1's page offset, to test PRP handling (NVMe
    /// needs a multiple of 4).
    #[serde(default)]
    pub buffer_offset: Option<Expr<u32>>,
}

/// The `write` action.
#[derive(Debug)]
pub struct WriteDef;

impl ActionKind for WriteDef {
    type Plan = Write;

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

    fn destructive(_plan: &Self::Plan, _eval: Eval<'_>) -> StepResult<Option<String>> {
        Ok(Some("write".to_string()))
    }

    fn execute(a: &Self::Plan, ctx: &mut RunContext, env: StepEnv<'_>) -> StepResult<ActionOutput> {
        let r = range(ctx, env, a.nsid.as_ref(), &a.slba, a.nlb.as_ref(), a.size.as_ref())?;
        let qid = env.eval.opt(a.qid.as_ref())?;
        let mut buf = offset_buffer(ctx, env, &r, a.buffer_offset.as_ref())?;
        let len = r.nlb as usize * r.lba_size;
        let seed = next_seed(ctx);
        fill(&mut buf.data_mut()[..len], &a.pattern, seed);
        let stamp = a.pattern == Pattern::Stamp;
        if ctx.ctrl.namespace(r.nsid).is_err() {
            if stamp {
                for (i, block) in buf.data_mut()[..len].chunks_exact_mut(r.lba_size).enumerate() {
                    stamp_block(block, r.slba + i as u64, seed);
                }
            }
            let cmd = nvmeplan_driver::commands::write(r.nsid, r.slba, one_command(&r)?, a.fua);
            return send_raw(ctx, env, qid, r.nsid, cmd, Some((&buf, len)));
        }
        let commands = split::plan(ctx, &r, Transfer::Data, a.split)?;
        let base = buf.offset();
        let qp = ctx.io_queue(qid, r.nsid, env.timeout)?;
        let options = WriteOptions { fua: a.fua, stamp };
        let sent = split::each(&commands, |c| {
            buf.set_offset(base + c.offset)?;
            Ok(qp.write(r.nsid, c.slba, c.nlb, &mut buf, options)?)
        });
        buf.set_offset(base)?;
        let (cqe, sent) = sent?;
        Ok(split::output(&commands, cqe, sent))
    }
}
