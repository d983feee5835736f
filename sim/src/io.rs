//! NVM command set handlers: Read, Write, Flush, Write Zeroes, Dataset
//! Management, Compare, Write Uncorrectable and Verify; Copy in [`copy`].
//!
//! The caller (the queue engine) has already resolved the namespace: the
//! NSID is valid, the namespace attached and not being sanitized. This
//! module handles the command itself and checks in the order a controller
//! does: opcode, fields (PSDT, fused operation), LBA range, transfer size
//! (MDTS), then the data transfer and the media.

pub mod copy;

use crate::dma::DmaSpace;
use crate::prp;
use crate::storage::{DataMode, MediaError, NamespaceStore, Shape};
use nvmeplan_spec::dwords::{DsmCdw10, DsmCdw11, DsmRange, ReadWriteCdw12, WriteZeroesCdw12};
use nvmeplan_spec::{Command, NvmOpcode, Opcode, Status};
use std::sync::atomic::{AtomicU64, Ordering};
use zerocopy::FromBytes;

pub use copy::CopyLimits;

/// Size of one Dataset Management range descriptor.
const DSM_RANGE_BYTES: usize = size_of::<DsmRange>();

/// IO statistics of a controller, the raw material of the SMART log.
///
/// Following the SMART / Health Information definitions, read-type
/// commands are Read, Compare and Verify, and write commands are Write
/// only (Write Zeroes and Write Uncorrectable count in neither); a Copy
/// counts as one of each without bytes, as QEMU counts it (see [`copy`]).
/// Only commands that complete successfully are counted.
#[derive(Debug, Default)]
pub struct IoCounters {
    /// Bytes of logical blocks read by Read, Compare and Verify.
    pub bytes_read: AtomicU64,
    /// Bytes of logical blocks written by Write.
    pub bytes_written: AtomicU64,
    /// Completed Read, Compare and Verify commands.
    pub read_commands: AtomicU64,
    /// Completed Write commands.
    pub write_commands: AtomicU64,
    /// Commands that completed with a media error (unrecovered read error,
    /// write fault).
    pub media_errors: AtomicU64,
}

impl IoCounters {
    fn count_read(&self, bytes: u64) {
        self.bytes_read.fetch_add(bytes, Ordering::Relaxed);
        self.read_commands.fetch_add(1, Ordering::Relaxed);
    }

    fn count_write(&self, bytes: u64) {
        self.bytes_written.fetch_add(bytes, Ordering::Relaxed);
        self.write_commands.fetch_add(1, Ordering::Relaxed);
    }
}

/// What an IO command needs from its controller and namespace.
pub struct IoContext<'a> {
    /// The host memory window data is transferred through.
    pub dma: &'a DmaSpace,
    /// The namespace the command addresses.
    pub ns: &'a NamespaceStore,
    /// The memory page size (CC.MPS) for PRP walking.
    pub page_size: usize,
    /// The maximum data transfer size in bytes; `None` for no limit.
    pub mdts_bytes: Option<usize>,
    /// Fault injection: corrupt the data returned by a successful Read.
    pub corrupt_read: bool,
    /// Statistics to update.
    pub counters: &'a IoCounters,
    /// The limits Copy checks (those Identify Namespace reports).
    pub copy_limits: CopyLimits,
}

/// How an IO command completes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoResult {
    /// Completion status.
    pub status: Status,
    /// Do Not Retry.
    pub dnr: bool,
    /// Command specific dword 0.
    pub dw0: u32,
    /// The LBA an error concerns, for the Error Information log page.
    pub error_lba: Option<u64>,
}

impl IoResult {
    /// Successful completion.
    pub const fn success() -> Self {
        IoResult { status: Status::SUCCESS, dnr: false, dw0: 0, error_lba: None }
    }

    /// Completion with `status`; DNR is set when retrying the same command
    /// cannot succeed (everything except transient transfer errors).
    pub fn error(status: Status) -> Self {
        IoResult { status, dnr: status != Status::DATA_TRANSFER_ERROR, dw0: 0, error_lba: None }
    }

    /// Completion with `status` that names the LBA concerned.
    pub fn error_at(status: Status, lba: u64) -> Self {
        IoResult { error_lba: Some(lba), ..IoResult::error(status) }
    }
}

/// Executes one NVM command set command against `ctx.ns`.
///
/// Never panics on host input: every field is range-checked and every host
/// address goes through the DMA window.
pub fn execute(ctx: &IoContext, cmd: &Command) -> IoResult {
    let Opcode::Known(opcode) = cmd.nvm_opcode() else {
        return IoResult::error(Status::INVALID_COMMAND_OPCODE);
    };
    // Only PRPs are supported, and no fused operations.
    if cmd.psdt() != 0 || cmd.fuse() != 0 {
        return IoResult::error(Status::INVALID_FIELD_IN_COMMAND);
    }
    match execute_checked(ctx, cmd, opcode) {
        Ok(result) | Err(result) => result,
    }
}

/// `Err` carries the failing completion so `?` can be used throughout.
fn execute_checked(ctx: &IoContext, cmd: &Command, opcode: NvmOpcode) -> Result<IoResult, IoResult> {
    let ns = ctx.ns;
    let shape = ns.shape();
    match opcode {
        NvmOpcode::Flush => {
            ns.flush();
            Ok(IoResult::success())
        }
        NvmOpcode::Read => {
            let (slba, nlb) = lba_range(shape, cmd)?;
            let len = transfer_len(ctx, shape, nlb)?;
            if ns.data_mode() == DataMode::Null {
                check_readable(ctx, slba, nlb)?;
            } else {
                let mut data = vec![0u8; len];
                ns.read(slba, &mut data).map_err(|e| media_error(ctx, e))?;
                if ctx.corrupt_read {
                    corrupt(&mut data, shape.lba_size as usize);
                }
                prp::write_to_host(ctx.dma, cmd, &data, ctx.page_size).map_err(IoResult::error)?;
            }
            ctx.counters.count_read(len as u64);
            Ok(IoResult::success())
        }
        NvmOpcode::Write => {
            let (slba, nlb) = lba_range(shape, cmd)?;
            let len = transfer_len(ctx, shape, nlb)?;
            if ns.data_mode() == DataMode::Null {
                ns.clear_uncorrectable(slba, nlb);
            } else {
                let data = prp::read_from_host(ctx.dma, cmd, len, ctx.page_size).map_err(IoResult::error)?;
                if let Err(e) = ns.try_write(slba, &data, ReadWriteCdw12::from(cmd.cdw12).fua()) {
                    tracing::error!("write of LBA {slba}+{nlb} failed: {e}");
                    ctx.counters.media_errors.fetch_add(1, Ordering::Relaxed);
                    return Err(IoResult::error_at(Status::WRITE_FAULT, slba));
                }
            }
            ctx.counters.count_write(len as u64);
            Ok(IoResult::success())
        }
        NvmOpcode::Compare => {
            let (slba, nlb) = lba_range(shape, cmd)?;
            let len = transfer_len(ctx, shape, nlb)?;
            if ns.data_mode() == DataMode::Null {
                check_readable(ctx, slba, nlb)?;
            } else {
                let mut media = vec![0u8; len];
                ns.read(slba, &mut media).map_err(|e| media_error(ctx, e))?;
                let host = prp::read_from_host(ctx.dma, cmd, len, ctx.page_size).map_err(IoResult::error)?;
                if let Some(at) = media.iter().zip(&host).position(|(a, b)| a != b) {
                    let lba = slba + (at / shape.lba_size as usize) as u64;
                    return Err(IoResult::error_at(Status::COMPARE_FAILURE, lba));
                }
            }
            ctx.counters.count_read(len as u64);
            Ok(IoResult::success())
        }
        NvmOpcode::WriteZeroes => {
            let (slba, nlb) = lba_range(shape, cmd)?;
            if WriteZeroesCdw12::from(cmd.cdw12).deac() {
                ns.deallocate(slba, nlb);
            } else {
                ns.write_zeroes(slba, nlb);
            }
            Ok(IoResult::success())
        }
        NvmOpcode::WriteUncorrectable => {
            let (slba, nlb) = lba_range(shape, cmd)?;
            ns.mark_uncorrectable(slba, nlb);
            Ok(IoResult::success())
        }
        NvmOpcode::Verify => {
            let (slba, nlb) = lba_range(shape, cmd)?;
            check_readable(ctx, slba, nlb)?;
            ctx.counters.count_read(nlb * u64::from(shape.lba_size));
            Ok(IoResult::success())
        }
        NvmOpcode::DatasetManagement => dataset_management(ctx, cmd),
        NvmOpcode::Copy => copy::copy(ctx, cmd),
    }
}

/// The command's `(slba, nlb)` if it lies inside the namespace.
fn lba_range(shape: Shape, cmd: &Command) -> Result<(u64, u64), IoResult> {
    let slba = cmd.slba();
    let nlb = u64::from(cmd.nlb());
    match slba.checked_add(nlb) {
        Some(end) if end <= shape.nlb => Ok((slba, nlb)),
        _ => Err(IoResult::error_at(Status::LBA_OUT_OF_RANGE, slba)),
    }
}

/// Transfer length in bytes of `nlb` blocks, refused above MDTS.
fn transfer_len(ctx: &IoContext, shape: Shape, nlb: u64) -> Result<usize, IoResult> {
    let bytes = nlb.checked_mul(u64::from(shape.lba_size));
    let limit = ctx.mdts_bytes.map_or(usize::MAX as u64, |m| m as u64);
    match bytes {
        Some(bytes) if bytes <= limit && bytes <= usize::MAX as u64 => Ok(bytes as usize),
        _ => Err(IoResult::error(Status::INVALID_FIELD_IN_COMMAND)),
    }
}

fn media_error(ctx: &IoContext, error: MediaError) -> IoResult {
    let MediaError::Uncorrectable { lba } = error;
    ctx.counters.media_errors.fetch_add(1, Ordering::Relaxed);
    IoResult::error_at(Status::UNRECOVERED_READ_ERROR, lba)
}

/// Fails with an unrecovered read error if a block of the range is marked.
fn check_readable(ctx: &IoContext, slba: u64, nlb: u64) -> Result<(), IoResult> {
    match ctx.ns.first_uncorrectable(slba, nlb) {
        Some(lba) => Err(media_error(ctx, MediaError::Uncorrectable { lba })),
        None => Ok(()),
    }
}

/// Flips a few bytes of the first block at offset 16 and beyond, so a
/// block stamp at its start survives but any checksum breaks.
fn corrupt(data: &mut [u8], lba_size: usize) {
    let block_len = lba_size.min(data.len());
    let block = &mut data[..block_len];
    let end = block.len().min(24);
    for byte in block.iter_mut().take(end).skip(16) {
        *byte ^= 0xFF;
    }
    if block.len() <= 16
        && let Some(last) = block.last_mut()
    {
        *last ^= 0xFF;
    }
}

fn dataset_management(ctx: &IoContext, cmd: &Command) -> Result<IoResult, IoResult> {
    let ns = ctx.ns;
    if ns.data_mode() == DataMode::Null {
        // No PRP walking in null mode; nothing is stored to deallocate.
        return Ok(IoResult::success());
    }
    let ranges = DsmCdw10::from(cmd.cdw10).ranges();
    let buffer = prp::read_from_host(ctx.dma, cmd, ranges * DSM_RANGE_BYTES, ctx.page_size)
        .map_err(IoResult::error)?;
    let capacity = ns.nlb();
    let mut parsed = [(0u64, 0u64); 256];
    for (slot, raw) in parsed.iter_mut().zip(buffer.chunks_exact(DSM_RANGE_BYTES)) {
        let range = DsmRange::read_from_bytes(raw).map_err(|_| IoResult::error(Status::INTERNAL_ERROR))?;
        let (slba, len) = (range.slba, u64::from(range.nlb));
        match slba.checked_add(len) {
            Some(end) if end <= capacity => *slot = (slba, len),
            _ => return Err(IoResult::error_at(Status::LBA_OUT_OF_RANGE, slba)),
        }
    }
    if DsmCdw11::from(cmd.cdw11).ad() {
        for &(slba, len) in &parsed[..ranges] {
            if len > 0 {
                ns.deallocate(slba, len);
            }
        }
    }
    Ok(IoResult::success())
}

#[cfg(test)]
mod tests;
