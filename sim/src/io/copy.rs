//! The Copy command (NVM Command Set Specification 1.0, section 3.2.2) and
//! the copy limits a namespace reports in Identify Namespace: MSSRL (the
//! longest source range), MCL (the most blocks in one command) and MSRC
//! (the most source ranges, zero-based).
//!
//! The checks come in the order QEMU's NVMe controller (`hw/nvme/ctrl.c`,
//! `nvme_copy`) makes them, with the statuses it and the specification
//! give:
//!
//! 1. the descriptor format is one OCFS claims, else Invalid Field in
//!    Command;
//! 2. the range count (NR) is at most MSRC, both zero-based, else Command
//!    Size Limit Exceeded;
//! 3. the source range entries are transferred from the host (a bad PRP is
//!    a Data Transfer Error);
//! 4. the ranges' blocks together are at most MCL, else Command Size Limit
//!    Exceeded;
//! 5. per source range, in order: its length is at most MSSRL (Command Size
//!    Limit Exceeded), its blocks lie inside the namespace (LBA Out of
//!    Range);
//! 6. the destination range lies inside the namespace (LBA Out of Range).
//!
//! Every status carries Do Not Retry. Unlike QEMU, which reads and writes
//! one range at a time, every check passes before a block moves and every
//! source range is read before the destination is written: a failed Copy
//! changes nothing (completion dword 0 stays 0, the lowest range not
//! copied), and where source and destination overlap the destination gets
//! what the sources held before the command. A source block made
//! uncorrectable fails the command with Unrecovered Read Error, as the read
//! half of a read-then-write would.
//!
//! Like QEMU, the SMART counters take a Copy as one host read command and
//! one host write command that move no host data units: the blocks never
//! cross the host interface.

use super::{IoContext, IoResult, check_readable, media_error};
use crate::prp;
use crate::storage::DataMode;
use nvmeplan_spec::dwords::{CopyCdw12, CopySourceRange};
use nvmeplan_spec::identify::{IdentifyNamespace, ocfs};
use nvmeplan_spec::{Command, Status};
use std::sync::atomic::Ordering;
use zerocopy::FromBytes;

/// The descriptor formats the simulator accepts (Identify Controller OCFS).
pub const SUPPORTED_FORMATS: u16 = ocfs::FORMAT_0;

/// Size of one format 0 source range entry.
const RANGE_BYTES: usize = size_of::<CopySourceRange>();

/// The Copy limits of every namespace, as Identify Namespace reports them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CopyLimits {
    /// Maximum Single Source Range Length, in logical blocks (1 to 65535).
    pub mssrl: u16,
    /// Maximum Copy Length, in logical blocks (MSSRL to [`CopyLimits::MAX_MCL`]).
    pub mcl: u32,
    /// Maximum Source Range Count, zero-based (0 to 255).
    pub msrc: u8,
}

impl Default for CopyLimits {
    /// QEMU's defaults: 128-block ranges, 128 blocks in all, 128 ranges.
    fn default() -> Self {
        CopyLimits { mssrl: 128, mcl: 128, msrc: 127 }
    }
}

impl CopyLimits {
    /// The largest MCL the simulator accepts: a Copy reads all its source
    /// blocks into memory before it writes, so MCL bounds that buffer
    /// (4 GiB with 4 KiB blocks).
    pub const MAX_MCL: u32 = 1 << 20;

    /// Why the limits cannot work together, if they cannot.
    pub fn check(&self) -> Result<(), String> {
        if self.mssrl == 0 {
            return Err("copy limit mssrl must be at least 1".into());
        }
        if self.mcl < u32::from(self.mssrl) {
            return Err(format!(
                "copy limit mcl {} is smaller than mssrl {}: a full-length source range could never be copied",
                self.mcl, self.mssrl
            ));
        }
        if self.mcl > Self::MAX_MCL {
            return Err(format!("copy limit mcl {} is larger than {}", self.mcl, Self::MAX_MCL));
        }
        Ok(())
    }

    /// Writes MSSRL, MCL and MSRC into `id`.
    pub fn fill(&self, id: &mut IdentifyNamespace) {
        id.mssrl = self.mssrl;
        id.mcl = self.mcl;
        id.msrc = self.msrc;
    }
}

/// Whether `nlb` blocks from `slba` lie inside `capacity` blocks.
fn inside(slba: u64, nlb: u64, capacity: u64) -> bool {
    slba.checked_add(nlb).is_some_and(|end| end <= capacity)
}

/// Executes a Copy; `Err` carries the failing completion.
pub(super) fn copy(ctx: &IoContext, cmd: &Command) -> Result<IoResult, IoResult> {
    let cdw12 = CopyCdw12::from(cmd.cdw12);
    let limits = ctx.copy_limits;
    if !ocfs::supports(SUPPORTED_FORMATS, cdw12.desfmt()) {
        return Err(IoResult::error(Status::INVALID_FIELD_IN_COMMAND));
    }
    if cdw12.nr() > limits.msrc {
        return Err(IoResult::error(Status::COMMAND_SIZE_LIMIT_EXCEEDED));
    }
    let list = prp::read_from_host(ctx.dma, cmd, cdw12.ranges() * RANGE_BYTES, ctx.page_size)
        .map_err(IoResult::error)?;
    let mut ranges = Vec::with_capacity(cdw12.ranges());
    for raw in list.chunks_exact(RANGE_BYTES) {
        let entry =
            CopySourceRange::read_from_bytes(raw).map_err(|_| IoResult::error(Status::INTERNAL_ERROR))?;
        ranges.push((entry.slba, u64::from(entry.blocks())));
    }
    let total: u64 = ranges.iter().map(|&(_, nlb)| nlb).sum();
    if total > u64::from(limits.mcl) {
        return Err(IoResult::error(Status::COMMAND_SIZE_LIMIT_EXCEEDED));
    }
    let capacity = ctx.ns.nlb();
    for &(slba, nlb) in &ranges {
        if nlb > u64::from(limits.mssrl) {
            return Err(IoResult::error_at(Status::COMMAND_SIZE_LIMIT_EXCEEDED, slba));
        }
        if !inside(slba, nlb, capacity) {
            return Err(IoResult::error_at(Status::LBA_OUT_OF_RANGE, slba));
        }
    }
    let sdlba = cmd.slba();
    if !inside(sdlba, total, capacity) {
        return Err(IoResult::error_at(Status::LBA_OUT_OF_RANGE, sdlba));
    }
    if ctx.ns.data_mode() == DataMode::Null {
        for &(slba, nlb) in &ranges {
            check_readable(ctx, slba, nlb)?;
        }
        ctx.ns.clear_uncorrectable(sdlba, total);
    } else {
        let lba_size = ctx.ns.lba_size() as usize;
        // `total` is at most MCL, so the buffer is bounded by the config.
        let mut data = vec![0u8; total as usize * lba_size];
        let mut at = 0;
        for &(slba, nlb) in &ranges {
            let len = nlb as usize * lba_size;
            ctx.ns.read(slba, &mut data[at..at + len]).map_err(|e| media_error(ctx, e))?;
            at += len;
        }
        if let Err(e) = ctx.ns.try_write(sdlba, &data, cdw12.fua()) {
            tracing::error!("copy to LBA {sdlba}+{total} failed: {e}");
            ctx.counters.media_errors.fetch_add(1, Ordering::Relaxed);
            return Err(IoResult::error_at(Status::WRITE_FAULT, sdlba));
        }
    }
    ctx.counters.count_read(0);
    ctx.counters.count_write(0);
    Ok(IoResult::success())
}
