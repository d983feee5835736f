//! NVM command actions and raw commands, on the runner's I/O queue pair
//! with the namespace's verify map attached (writes record, reads check).

use nvmeplan_driver::{CheckCounts, DmaBuffer, VerifyMap, WriteOptions, stamp_block};
use nvmeplan_spec::Command;

use super::data::{MAX_MISMATCH_DETAILS, fill};
use crate::plan::Pattern;
use crate::plan::io as plan;
use crate::run::context::{RunContext, StepError, StepResult};
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;

struct Range {
    nsid: u32,
    slba: u64,
    nlb: u32,
    lba_size: usize,
}

fn range(
    ctx: &RunContext,
    env: StepEnv<'_>,
    nsid: Option<&crate::plan::Expr<u32>>,
    slba: &crate::plan::Expr<u64>,
    nlb: &crate::plan::Expr<u64>,
) -> StepResult<Range> {
    let nsid = env.eval.or(nsid, ctx.default_nsid)?;
    let slba = env.eval.get(slba)?;
    let nlb = env.eval.get(nlb)?;
    let nlb = u32::try_from(nlb)
        .ok()
        .filter(|n| (1..=65536).contains(n))
        .ok_or_else(|| StepError::Invalid(format!("nlb {nlb} is outside 1..=65536")))?;
    // Commands to namespaces that are not active still go out (the device
    // answers them); size buffers with the first namespace's block size.
    let lba_size = match ctx.ctrl.namespace(nsid) {
        Ok(ns) => ns.lba_size as usize,
        Err(_) => ctx.ctrl.namespaces()?.first().map_or(512, |ns| ns.lba_size as usize),
    };
    Ok(Range { nsid, slba, nlb, lba_size })
}

fn buffer(ctx: &RunContext, r: &Range) -> StepResult<DmaBuffer> {
    Ok(ctx.ctrl.alloc_buffer(r.nlb as usize * r.lba_size)?)
}

/// A buffer whose data starts `offset` bytes in (the PRP1 page offset).
fn offset_buffer(
    ctx: &RunContext,
    env: StepEnv<'_>,
    r: &Range,
    offset: Option<&crate::plan::Expr<u32>>,
) -> StepResult<DmaBuffer> {
    let offset = env.eval.or(offset, 0)? as usize;
    let mut buf = ctx.ctrl.alloc_buffer(r.nlb as usize * r.lba_size + offset)?;
    buf.set_offset(offset)?;
    Ok(buf)
}

fn next_seed(ctx: &mut RunContext) -> u64 {
    ctx.data_counter += 1;
    ctx.seed ^ ctx.data_counter.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// Sends a command for a namespace that may not be active (the driver's
/// helpers need active namespaces): the raw path with the range's buffer.
fn send_raw(
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

/// Write (stamped by default).
pub fn write(ctx: &mut RunContext, env: StepEnv<'_>, a: &plan::Write) -> StepResult<ActionOutput> {
    let r = range(ctx, env, a.nsid.as_ref(), &a.slba, &a.nlb)?;
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
        let cmd = nvmeplan_driver::commands::write(r.nsid, r.slba, r.nlb, a.fua);
        return send_raw(ctx, env, qid, r.nsid, cmd, Some((&buf, len)));
    }
    let qp = ctx.io_queue(qid, r.nsid, env.timeout)?;
    let cqe = qp.write(r.nsid, r.slba, r.nlb, &mut buf, WriteOptions { fua: a.fua, stamp })?;
    Ok(ActionOutput::completion(cqe))
}

fn record_mismatches(out: &mut ActionOutput, mismatches: &[nvmeplan_driver::Mismatch], counts: CheckCounts) {
    out.verified = true;
    out.mismatches = mismatches.len() as u64;
    out.checked = counts.checked;
    out.unchecked = counts.unchecked;
    out.mismatch_details = mismatches.iter().take(MAX_MISMATCH_DETAILS).map(ToString::to_string).collect();
}

/// Read, verifying against the verify map (`verify: true`) or a pattern.
pub fn read(ctx: &mut RunContext, env: StepEnv<'_>, a: &plan::Read) -> StepResult<ActionOutput> {
    let r = range(ctx, env, a.nsid.as_ref(), &a.slba, &a.nlb)?;
    let qid = env.eval.opt(a.qid.as_ref())?;
    let mut buf = offset_buffer(ctx, env, &r, a.buffer_offset.as_ref())?;
    let len = r.nlb as usize * r.lba_size;
    if ctx.ctrl.namespace(r.nsid).is_err() {
        let cmd = nvmeplan_driver::commands::read(r.nsid, r.slba, r.nlb);
        return send_raw(ctx, env, qid, r.nsid, cmd, Some((&buf, len)));
    }
    let unchecked = VerifyMap::new();
    let verify_with_map = a.verify && a.pattern.is_none();
    let qp = ctx.io_queue(qid, r.nsid, env.timeout)?;
    let outcome =
        qp.read(r.nsid, r.slba, r.nlb, &mut buf, if verify_with_map { None } else { Some(&unchecked) })?;
    let mut out = ActionOutput::completion(outcome.completion);
    if verify_with_map {
        record_mismatches(&mut out, &outcome.mismatches, outcome.counts);
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
            out.checked = u64::from(r.nlb);
        }
    }
    Ok(out)
}

/// Compare: with `stamp`, the data sent is what this run wrote (read back
/// and checked against the verify map first); otherwise the pattern.
pub fn compare(ctx: &mut RunContext, env: StepEnv<'_>, a: &plan::Compare) -> StepResult<ActionOutput> {
    let r = range(ctx, env, a.nsid.as_ref(), &a.slba, &a.nlb)?;
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

/// Flush.
pub fn flush(ctx: &mut RunContext, env: StepEnv<'_>, a: &plan::Flush) -> StepResult<ActionOutput> {
    let nsid = env.eval.or(a.nsid.as_ref(), ctx.default_nsid)?;
    let qid = env.eval.opt(a.qid.as_ref())?;
    let qp = ctx.io_queue(qid, nsid, env.timeout)?;
    Ok(ActionOutput::completion(qp.flush(nsid)?))
}

/// Write Zeroes.
pub fn write_zeroes(
    ctx: &mut RunContext,
    env: StepEnv<'_>,
    a: &plan::WriteZeroes,
) -> StepResult<ActionOutput> {
    let r = range(ctx, env, a.nsid.as_ref(), &a.slba, &a.nlb)?;
    let qid = env.eval.opt(a.qid.as_ref())?;
    let qp = ctx.io_queue(qid, r.nsid, env.timeout)?;
    Ok(ActionOutput::completion(qp.write_zeroes(r.nsid, r.slba, r.nlb, a.deac)?))
}

/// Write Uncorrectable.
pub fn write_uncorrectable(
    ctx: &mut RunContext,
    env: StepEnv<'_>,
    a: &plan::BlockRange,
) -> StepResult<ActionOutput> {
    let r = range(ctx, env, a.nsid.as_ref(), &a.slba, &a.nlb)?;
    let qid = env.eval.opt(a.qid.as_ref())?;
    let qp = ctx.io_queue(qid, r.nsid, env.timeout)?;
    Ok(ActionOutput::completion(qp.write_uncorrectable(r.nsid, r.slba, r.nlb)?))
}

/// Verify.
pub fn verify(ctx: &mut RunContext, env: StepEnv<'_>, a: &plan::BlockRange) -> StepResult<ActionOutput> {
    let r = range(ctx, env, a.nsid.as_ref(), &a.slba, &a.nlb)?;
    let qid = env.eval.opt(a.qid.as_ref())?;
    let qp = ctx.io_queue(qid, r.nsid, env.timeout)?;
    Ok(ActionOutput::completion(qp.verify(r.nsid, r.slba, r.nlb)?))
}

/// Dataset Management deallocate.
pub fn deallocate(ctx: &mut RunContext, env: StepEnv<'_>, a: &plan::Deallocate) -> StepResult<ActionOutput> {
    let nsid = env.eval.or(a.nsid.as_ref(), ctx.default_nsid)?;
    let qid = env.eval.opt(a.qid.as_ref())?;
    let mut ranges = Vec::with_capacity(a.ranges.len());
    for r in &a.ranges {
        let nlb = env.eval.get(&r.nlb)?;
        let nlb = u32::try_from(nlb)
            .map_err(|_| StepError::Invalid(format!("range of {nlb} blocks is too long")))?;
        ranges.push((env.eval.get(&r.slba)?, nlb));
    }
    let qp = ctx.io_queue(qid, nsid, env.timeout)?;
    Ok(ActionOutput::completion(qp.deallocate(nsid, &ranges)?))
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
fn forget_raw_writes(ctx: &mut RunContext, cmd: &Command, admin: bool) {
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
