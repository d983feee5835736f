//! Synchronous NVM I/O helpers on [`QueuePair`], used by plans and tests:
//! write, read, flush, write zeroes, deallocate, compare, write
//! uncorrectable, verify and copy.
//!
//! Each helper runs one command to completion and returns the device's
//! [`Completion`] whatever its status (an `Err` means the command could not
//! be run or did not complete: timeout, reset, bad arguments). A
//! [`VerifyMap`] attached to the queue for the namespace
//! ([`QueuePair::attach_verify_map`]) is updated when a command succeeds:
//! writes record CRCs, write zeroes expect zeroes, deallocate forgets the
//! range (or expects zeroes when the namespace's DLFEAT says deallocated
//! blocks read as zeroes), write uncorrectable expects read errors, copy
//! moves the source ranges' expectations to the destination. A read
//! checked against a map says how many blocks it checked and how many the
//! map knew nothing about ([`ReadOutcome::counts`]).

use crate::commands;
use crate::controller::Namespace;
use crate::dma::DmaBuffer;
use crate::error::DriverError;
use crate::queue_pair::QueuePair;
use crate::verify::{CheckCounts, Mismatch, VerifyMap, next_write_token, stamp_block};
use nvmeplan_spec::{Completion, Status};
use std::sync::Arc;

/// Options of [`QueuePair::write`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteOptions {
    /// Force Unit Access.
    pub fua: bool,
    /// Stamp each block with its LBA and a write token before writing.
    pub stamp: bool,
}

impl Default for WriteOptions {
    /// Stamped, without FUA.
    fn default() -> Self {
        WriteOptions { fua: false, stamp: true }
    }
}

/// The result of [`QueuePair::read`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadOutcome {
    /// The device's completion.
    pub completion: Completion,
    /// Blocks that did not hold what the verify map expected.
    pub mismatches: Vec<Mismatch>,
    /// Blocks checked and blocks the map knew nothing about (unchecked);
    /// all zero without a map. A read that failed with
    /// `unrecovered_read_error` on blocks made uncorrectable counts them
    /// as checked.
    pub counts: CheckCounts,
}

impl ReadOutcome {
    /// Whether the read succeeded and every block verified.
    pub fn is_clean(&self) -> bool {
        self.completion.status().is_success() && self.mismatches.is_empty()
    }
}

impl QueuePair {
    /// Attaches `map` for namespace `nsid`: the helpers keep it up to date
    /// and [`QueuePair::read`] checks against it.
    pub fn attach_verify_map(&mut self, nsid: u32, map: Arc<VerifyMap>) {
        self.verify_maps.retain(|(n, _)| *n != nsid);
        self.verify_maps.push((nsid, map));
    }

    /// Detaches the verify map of namespace `nsid`.
    pub fn detach_verify_map(&mut self, nsid: u32) {
        self.verify_maps.retain(|(n, _)| *n != nsid);
    }

    /// The verify map attached for `nsid`.
    pub fn verify_map(&self, nsid: u32) -> Option<Arc<VerifyMap>> {
        self.verify_maps.iter().find(|(n, _)| *n == nsid).map(|(_, m)| m.clone())
    }

    /// The namespace's geometry, from the controller that created the queue.
    pub fn namespace(&self, nsid: u32) -> Result<Namespace, DriverError> {
        let owner = self.owner.as_ref().ok_or_else(|| {
            DriverError::InvalidState(format!("queue {} has no controller to look namespaces up", self.qid()))
        })?;
        owner.namespace(nsid).ok_or(DriverError::NoSuchNamespace { nsid })
    }

    fn blocks(&self, nsid: u32, nlb: u32) -> Result<(Namespace, usize), DriverError> {
        if !(1..=65536).contains(&nlb) {
            return Err(DriverError::InvalidArgument(format!("nlb {nlb} is outside 1..=65536")));
        }
        let ns = self.namespace(nsid)?;
        let len = usize::try_from(u64::from(nlb) * ns.lba_size)
            .map_err(|_| DriverError::InvalidArgument("transfer length overflows".into()))?;
        Ok((ns, len))
    }

    /// Writes `nlb` blocks at `slba` from `buf` (from its data offset),
    /// stamping them first when `options.stamp`.
    pub fn write(
        &mut self,
        nsid: u32,
        slba: u64,
        nlb: u32,
        buf: &mut DmaBuffer,
        options: WriteOptions,
    ) -> Result<Completion, DriverError> {
        let (ns, len) = self.blocks(nsid, nlb)?;
        let lba_size = ns.lba_size as usize;
        let data = buf.transfer(len)?;
        if options.stamp {
            let token = next_write_token();
            for (i, block) in buf.data_mut()[..len].chunks_exact_mut(lba_size).enumerate() {
                stamp_block(block, slba + i as u64, token);
            }
        }
        let cqe = self.execute_data(commands::write(nsid, slba, nlb, options.fua), Some(data), None)?;
        if cqe.status().is_success()
            && let Some(map) = self.verify_map(nsid)
        {
            map.record_writes(slba, &buf.data()[..len], lba_size);
        }
        Ok(cqe)
    }

    /// Reads `nlb` blocks at `slba` into `buf` (from its data offset) and
    /// checks them against `verify`, or the attached map when `None`.
    ///
    /// A read that fails with `unrecovered_read_error` where the map expects
    /// uncorrectable blocks is not a mismatch; a successful read of such a
    /// block is.
    pub fn read(
        &mut self,
        nsid: u32,
        slba: u64,
        nlb: u32,
        buf: &mut DmaBuffer,
        verify: Option<&VerifyMap>,
    ) -> Result<ReadOutcome, DriverError> {
        let (ns, len) = self.blocks(nsid, nlb)?;
        let data = buf.transfer(len)?;
        let completion = self.execute_data(commands::read(nsid, slba, nlb), Some(data), None)?;
        let attached = if verify.is_none() { self.verify_map(nsid) } else { None };
        let map = verify.or(attached.as_deref());
        let mut mismatches = Vec::new();
        let mut counts = CheckCounts::default();
        if let Some(map) = map {
            if completion.status().is_success() {
                counts = map.check_blocks(slba, &buf.data()[..len], ns.lba_size as usize, &mut mismatches);
            } else if completion.status() == Status::UNRECOVERED_READ_ERROR {
                if map.all_uncorrectable(slba, nlb.into()) {
                    counts.checked = nlb.into();
                } else if !map.any_uncorrectable(slba, nlb.into()) {
                    tracing::debug!(
                        nsid,
                        slba,
                        nlb,
                        "unrecovered read error on blocks not marked uncorrectable"
                    );
                }
            }
        }
        Ok(ReadOutcome { completion, mismatches, counts })
    }

    /// Flush.
    pub fn flush(&mut self, nsid: u32) -> Result<Completion, DriverError> {
        self.execute_data(commands::flush(nsid), None, None)
    }

    /// Write Zeroes over `nlb` blocks at `slba` (`deallocate` sets DEAC).
    pub fn write_zeroes(
        &mut self,
        nsid: u32,
        slba: u64,
        nlb: u32,
        deallocate: bool,
    ) -> Result<Completion, DriverError> {
        self.blocks(nsid, nlb)?;
        let cqe = self.execute_data(commands::write_zeroes(nsid, slba, nlb, deallocate), None, None)?;
        if cqe.status().is_success()
            && let Some(map) = self.verify_map(nsid)
        {
            map.mark_zeroes(slba, nlb.into());
        }
        Ok(cqe)
    }

    /// Dataset Management deallocate of `(slba, nlb)` ranges (1 to 256).
    pub fn deallocate(&mut self, nsid: u32, ranges: &[(u64, u32)]) -> Result<Completion, DriverError> {
        if ranges.is_empty() || ranges.len() > 256 {
            return Err(DriverError::InvalidArgument(format!(
                "{} DSM ranges; 1 to 256 allowed",
                ranges.len()
            )));
        }
        let ns = self.namespace(nsid)?;
        let mut buf = DmaBuffer::new(self.transport(), ranges.len() * 16)?;
        for (i, &(slba, nlb)) in ranges.iter().enumerate() {
            buf.as_mut_slice()[i * 16..(i + 1) * 16].copy_from_slice(&commands::dsm_range(slba, nlb));
        }
        let cqe =
            self.execute(commands::dataset_management(nsid, ranges.len(), true), Some(&mut buf), None)?;
        if cqe.status().is_success()
            && let Some(map) = self.verify_map(nsid)
        {
            for &(slba, nlb) in ranges {
                if ns.reads_zeroes_after_deallocate() {
                    map.mark_zeroes(slba, nlb.into());
                } else {
                    map.mark_unknown(slba, nlb.into());
                }
            }
        }
        Ok(cqe)
    }

    /// Compare `nlb` blocks at `slba` with `buf` (from its data offset).
    pub fn compare(
        &mut self,
        nsid: u32,
        slba: u64,
        nlb: u32,
        buf: &mut DmaBuffer,
    ) -> Result<Completion, DriverError> {
        let (_, len) = self.blocks(nsid, nlb)?;
        let data = buf.transfer(len)?;
        self.execute_data(commands::compare(nsid, slba, nlb), Some(data), None)
    }

    /// Write Uncorrectable over `nlb` blocks at `slba`.
    pub fn write_uncorrectable(&mut self, nsid: u32, slba: u64, nlb: u32) -> Result<Completion, DriverError> {
        self.blocks(nsid, nlb)?;
        let cqe = self.execute_data(commands::write_uncorrectable(nsid, slba, nlb), None, None)?;
        if cqe.status().is_success()
            && let Some(map) = self.verify_map(nsid)
        {
            map.mark_uncorrectable(slba, nlb.into());
        }
        Ok(cqe)
    }

    /// Verify `nlb` blocks at `slba`.
    pub fn verify(&mut self, nsid: u32, slba: u64, nlb: u32) -> Result<Completion, DriverError> {
        self.blocks(nsid, nlb)?;
        self.execute_data(commands::verify(nsid, slba, nlb), None, None)
    }

    /// Copy of the `(slba, nlb)` source ranges (1 to 256 ranges of 1 to
    /// 65536 blocks) to the blocks from `sdlba`, in order, with source
    /// range entries in descriptor format 0; `fua` sets Force Unit Access.
    /// The device's limits (MSRC, MSSRL, MCL) are not checked here: the
    /// device answers a Copy beyond them.
    ///
    /// On success the attached map expects at the destination what it
    /// expected of the sources ([`VerifyMap::record_copy`]). On failure,
    /// completion dword 0 names the lowest source range not copied: the
    /// ranges before it are recorded as copied and the rest of the
    /// destination becomes unchecked ([`VerifyMap::mark_relocated`]), since
    /// the device may have written part of it.
    pub fn copy(
        &mut self,
        nsid: u32,
        sdlba: u64,
        ranges: &[(u64, u32)],
        fua: bool,
    ) -> Result<Completion, DriverError> {
        if ranges.is_empty() || ranges.len() > 256 {
            return Err(DriverError::InvalidArgument(format!(
                "{} copy source ranges; 1 to 256 allowed",
                ranges.len()
            )));
        }
        if let Some(&(slba, nlb)) = ranges.iter().find(|r| !(1..=65536).contains(&r.1)) {
            return Err(DriverError::InvalidArgument(format!(
                "copy source range at LBA {slba} has nlb {nlb}; 1 to 65536 allowed"
            )));
        }
        self.namespace(nsid)?;
        let mut buf = DmaBuffer::new(self.transport(), ranges.len() * 32)?;
        for (i, &(slba, nlb)) in ranges.iter().enumerate() {
            buf.as_mut_slice()[i * 32..(i + 1) * 32].copy_from_slice(&commands::copy_range(slba, nlb));
        }
        let cqe = self.execute(commands::copy(nsid, sdlba, ranges.len(), fua), Some(&mut buf), None)?;
        if let Some(map) = self.verify_map(nsid) {
            let ranges: Vec<(u64, u64)> = ranges.iter().map(|&(s, n)| (s, u64::from(n))).collect();
            if cqe.status().is_success() {
                map.record_copy(sdlba, &ranges);
            } else {
                let copied = (cqe.dw0 as usize).min(ranges.len());
                map.record_copy(sdlba, &ranges[..copied]);
                let done: u64 = ranges[..copied].iter().map(|r| r.1).sum();
                let rest: u64 = ranges[copied..].iter().map(|r| r.1).sum();
                map.mark_relocated(sdlba.saturating_add(done), rest);
            }
        }
        Ok(cqe)
    }
}
