//! The `read` action: reads blocks and checks them against the verify map (`verify: true`) or a
//! pattern.

use nvmeplan_driver::{CheckCounts, VerifyMap};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::action::{ActionCheck, ActionKind, ExpectKey, RangeCheck};
use crate::plan::size::Size;
use crate::plan::values::Expr;
use crate::plan::values::Pattern;
use crate::run::commands::data::{MAX_MISMATCH_DETAILS, fill};
use crate::run::commands::io::{offset_buffer, one_command, range, record_mismatches, send_raw};
use crate::run::commands::split::{self, Transfer};
use crate::run::context::{Eval, RunContext, StepResult};
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;

/// Read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Read {
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
    /// Verify the data against what this run wrote (stamps and CRC per LBA);
    /// mismatches fail the step unless `expect.data` says otherwise.
    #[serde(default)]
    pub verify: bool,
    /// Compare the data with this pattern instead of the written stamps.
    #[serde(default)]
    pub pattern: Option<Pattern>,
    /// Byte offset of the data in its DMA buffer (default 0): a non-zero
    /// offset puts it in PRP1's page offset, to test PRP handling (NVMe
    /// needs a multiple of 4).
    #[serde(default)]
    pub buffer_offset: Option<Expr<u32>>,
}

/// The `read` action.
#[derive(Debug)]
pub struct ReadDef;

impl ActionKind for ReadDef {
    type Plan = Read;
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
        (!plan.verify && plan.pattern.is_none())
            .then(|| "this `read` verifies nothing (add `verify: true` or a `pattern`)".into())
    }

    fn destructive(_plan: &Self::Plan, _eval: Eval<'_>) -> StepResult<Option<String>> {
        Ok(None)
    }

    fn execute(a: &Self::Plan, ctx: &mut RunContext, env: StepEnv<'_>) -> StepResult<ActionOutput> {
        let r = range(ctx, env, a.nsid.as_ref(), &a.slba, a.nlb.as_ref(), a.size.as_ref())?;
        let qid = env.eval.opt(a.qid.as_ref())?;
        let mut buf = offset_buffer(ctx, env, &r, a.buffer_offset.as_ref())?;
        let len = r.nlb as usize * r.lba_size;
        if ctx.ctrl.namespace(r.nsid).is_err() {
            let cmd = nvmeplan_driver::commands::read(r.nsid, r.slba, one_command(&r)?);
            return send_raw(ctx, env, qid, r.nsid, cmd, Some((&buf, len)));
        }
        let unchecked = VerifyMap::new();
        let verify_with_map = a.verify && a.pattern.is_none();
        let commands = split::plan(ctx, &r, Transfer::Data, a.split)?;
        let base = buf.offset();
        let qp = ctx.io_queue(qid, r.nsid, env.timeout)?;
        let mut mismatches = Vec::new();
        let mut counts = CheckCounts::default();
        let sent = split::each(&commands, |c| {
            buf.set_offset(base + c.offset)?;
            let map = if verify_with_map { None } else { Some(&unchecked) };
            let outcome = qp.read(r.nsid, c.slba, c.nlb, &mut buf, map)?;
            mismatches.extend(outcome.mismatches);
            counts.checked += outcome.counts.checked;
            counts.unchecked += outcome.counts.unchecked;
            counts.mismatched += outcome.counts.mismatched;
            Ok(outcome.completion)
        });
        buf.set_offset(base)?;
        let (cqe, sent) = sent?;
        let mut out = split::output(&commands, cqe, sent);
        if verify_with_map {
            record_mismatches(&mut out, &mismatches, counts);
        } else if let Some(pattern) = &a.pattern {
            let mut expected = vec![0u8; len];
            fill(&mut expected, pattern, ctx.seed);
            let data = &buf.data()[..len];
            let mut details = Vec::new();
            let mut count = 0u64;
            if out.succeeded() {
                for (i, (got, want)) in data.chunks(r.lba_size).zip(expected.chunks(r.lba_size)).enumerate() {
                    if let Some(off) = got.iter().zip(want).position(|(g, w)| g != w) {
                        count += 1;
                        if details.len() < MAX_MISMATCH_DETAILS {
                            details.push(format!(
                                "lba {}: byte {off} is {:#04x}, pattern has {:#04x}",
                                r.slba + i as u64,
                                got[off],
                                want[off]
                            ));
                        }
                    }
                }
            }
            out.verified = true;
            out.mismatches = count;
            out.mismatch_details = details;
            if out.succeeded() {
                out.checked = r.nlb;
            }
        }
        Ok(out)
    }
}
