//! What the NVM rooms share: the block range of a step, DMA buffers (with
//! a chosen page offset), and commands on the runner's I/O queue pair with
//! the namespace's verify map attached (writes record, reads check).

use nvmeplan_driver::{CheckCounts, DmaBuffer};
use nvmeplan_spec::Command;

use super::data::{MAX_MISMATCH_DETAILS, fill};
use crate::plan::io as plan;
use crate::plan::size::Size;
use crate::plan::values::{Expr, Pattern};
use crate::run::context::{RunContext, StepError, StepResult};
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;

pub(crate) struct Range {
    pub(crate) nsid: u32,
    pub(crate) slba: u64,
    /// Blocks of the whole step (it may be split into several commands).
    pub(crate) nlb: u64,
    pub(crate) lba_size: usize,
}

/// The LBA size of namespace `nsid`, which byte sizes are divided by.
/// Commands to namespaces that are not active still go out (the device
/// answers them): their sizes and buffers use the first namespace's.
pub(crate) fn lba_size(ctx: &RunContext, nsid: u32) -> StepResult<u64> {
    Ok(match ctx.ctrl.namespace(nsid) {
        Ok(ns) => ns.lba_size,
        Err(_) => ctx.ctrl.namespaces()?.first().map_or(512, |ns| ns.lba_size),
    })
}

pub(crate) fn range(
    ctx: &RunContext,
    env: StepEnv<'_>,
    nsid: Option<&Expr<u32>>,
    slba: &Expr<Size>,
    nlb: Option<&Expr<Size>>,
    size: Option<&Expr<Size>>,
) -> StepResult<Range> {
    let nsid = env.eval.or(nsid, ctx.default_nsid)?;
    let lba_size = lba_size(ctx, nsid)? as usize;
    let slba = env.eval.blocks("slba", slba, lba_size as u64)?;
    let (key, length) = match (nlb, size) {
        (Some(n), None) => ("nlb", n),
        (None, Some(s)) => ("size", s),
        _ => return Err(StepError::Invalid("give exactly one of `nlb` and `size`".into())),
    };
    let nlb = env.eval.blocks(key, length, lba_size as u64)?;
    if nlb == 0 {
        return Err(StepError::Invalid(format!("{key}: a range has at least one block")));
    }
    Ok(Range { nsid, slba, nlb, lba_size })
}

/// The block count of a range sent as one command without splitting
/// (commands to namespaces that are not active go out raw).
pub(crate) fn one_command(r: &Range) -> StepResult<u32> {
    u32::try_from(r.nlb)
        .ok()
        .filter(|n| u64::from(*n) <= crate::plan::io::MAX_NLB)
        .ok_or_else(|| StepError::Invalid(format!("{} blocks cannot be one command (at most 65536)", r.nlb)))
}

pub(crate) fn buffer(ctx: &RunContext, r: &Range) -> StepResult<DmaBuffer> {
    Ok(ctx.ctrl.alloc_buffer(r.nlb as usize * r.lba_size)?)
}

/// A buffer whose data starts `offset` bytes in (the PRP1 page offset).
pub(crate) fn offset_buffer(
    ctx: &RunContext,
    env: StepEnv<'_>,
    r: &Range,
    offset: Option<&Expr<u32>>,
) -> StepResult<DmaBuffer> {
    let offset = env.eval.or(offset, 0)? as usize;
    let mut buf = ctx.ctrl.alloc_buffer(r.nlb as usize * r.lba_size + offset)?;
    buf.set_offset(offset)?;
    Ok(buf)
}

pub(crate) fn next_seed(ctx: &mut RunContext) -> u64 {
    ctx.data_counter += 1;
    ctx.seed ^ ctx.data_counter.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// Sends a command for a namespace that may not be active (the driver's
/// helpers need active namespaces): the raw path with the range's buffer.
pub(crate) fn send_raw(
    ctx: &mut RunContext,
    env: StepEnv<'_>,
    qid: Option<u16>,
    nsid: u32,
    cmd: Command,
    buf: Option<(&DmaBuffer, usize)>,
) -> StepResult<ActionOutput> {
    let qp = ctx.io_queue(qid, nsid, env.timeout)?;
    let data = buf.map(|(b, len)| (b.data_iova(), len));
    Ok(ActionOutput::completion(qp.execute_data(cmd, data, None)?))
}

pub(crate) fn record_mismatches(
    out: &mut ActionOutput,
    mismatches: &[nvmeplan_driver::Mismatch],
    counts: CheckCounts,
) {
    out.verified = true;
    out.mismatches = mismatches.len() as u64;
    out.checked = counts.checked;
    out.unchecked = counts.unchecked;
    out.mismatch_details = mismatches.iter().take(MAX_MISMATCH_DETAILS).map(ToString::to_string).collect();
}

/// A raw admin or I/O command.
pub fn raw(
    ctx: &mut RunContext,
    env: StepEnv<'_>,
    a: &plan::RawCommand,
    admin: bool,
) -> StepResult<ActionOutput> {
    let nsid = env.eval.or(a.nsid.as_ref(), 0)?;
    let mut cmd = Command::new(a.opcode, nsid);
    let e = env.eval;
    cmd.cdw2 = e.or(a.cdw2.as_ref(), 0)?;
    cmd.cdw3 = e.or(a.cdw3.as_ref(), 0)?;
    cmd.cdw10 = e.or(a.cdw10.as_ref(), 0)?;
    cmd.cdw11 = e.or(a.cdw11.as_ref(), 0)?;
    cmd.cdw12 = e.or(a.cdw12.as_ref(), 0)?;
    cmd.cdw13 = e.or(a.cdw13.as_ref(), 0)?;
    cmd.cdw14 = e.or(a.cdw14.as_ref(), 0)?;
    cmd.cdw15 = e.or(a.cdw15.as_ref(), 0)?;
    let (buf, len, incoming) = match &a.data {
        None => (None, 0, false),
        Some(plan::RawData::In(len)) => {
            let len = e.get(len)? as usize;
            (Some(ctx.ctrl.alloc_buffer(len.max(1))?), len, true)
        }
        Some(plan::RawData::Out { len, pattern }) => {
            let len = e.get(len)? as usize;
            let mut b = ctx.ctrl.alloc_buffer(len.max(1))?;
            fill(&mut b.as_mut_slice()[..len], pattern.as_ref().unwrap_or(&Pattern::Zeros), ctx.seed);
            (Some(b), len, false)
        }
    };
    let data = buf.as_ref().filter(|_| len > 0).map(|b| (b, len));
    forget_raw_writes(ctx, &cmd, admin);
    let mut out = if admin {
        ActionOutput::completion(super::admin::send(ctx, env, cmd, data)?)
    } else {
        let qid = e.opt(a.qid.as_ref())?;
        send_raw(ctx, env, qid, nsid, cmd, data)?
    };
    if incoming
        && out.succeeded()
        && let Some(b) = &buf
    {
        let shown = &b.as_slice()[..len.min(4096)];
        out.values.insert("data".into(), shown.iter().map(|x| format!("{x:02x}")).collect::<String>().into());
    }
    Ok(out)
}

/// Keeps the verify maps truthful around a raw command, whatever its
/// outcome (a failed command may have changed part of its range): the
/// range of a raw write, write uncorrectable or write zeroes becomes
/// unknown; any other I/O command that may change data (dataset
/// management, copy, vendor-specific) forgets its namespace, and admin
/// commands that may (format, sanitize, namespace management and
/// attachment, vendor-specific) forget every namespace.
pub(crate) fn forget_raw_writes(ctx: &mut RunContext, cmd: &Command, admin: bool) {
    const READ_ONLY_IO: &[u8] = &[0x00, 0x02, 0x05, 0x0C];
    const DATA_CHANGING_ADMIN: &[u8] = &[0x0D, 0x15, 0x80, 0x84];
    let opcode = cmd.opcode();
    if admin {
        if DATA_CHANGING_ADMIN.contains(&opcode) || opcode >= 0xC0 {
            ctx.verify_maps().iter().for_each(|m| m.clear_all());
        }
        return;
    }
    if READ_ONLY_IO.contains(&opcode) {
        return;
    }
    if cmd.nsid == u32::MAX {
        ctx.verify_maps().iter().for_each(|m| m.clear_all());
        return;
    }
    let map = ctx.verify_map(cmd.nsid);
    match opcode {
        0x01 | 0x04 | 0x08 => {
            map.mark_unknown(cmd.slba(), u64::from(cmd.nlb()));
        }
        _ => map.clear_all(),
    }
}
