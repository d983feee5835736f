//! The submitting half of [`QueuePair`]: writing SQEs into the ring with
//! their CIDs and PRPs, tracking each command until it completes, and the
//! SQ tail doorbell.

use super::{Callback, QueuePair, State, Waiter};
use crate::PAGE_SIZE;
use crate::dma::DmaBuffer;
use crate::error::DriverError;
use crate::prp::{self, PrpListPages};
use nvmeplan_spec::Command;
use std::ptr::NonNull;
use std::sync::atomic::{Ordering, fence};
use std::time::Duration;

impl QueuePair {
    fn deadline(&self, now: u64, timeout: Option<Duration>) -> u64 {
        let ns = match timeout {
            Some(t) => super::duration_ns(t),
            None => self.timeout_ns,
        };
        now.saturating_add(ns)
    }

    pub(super) fn submit_inner(
        &mut self,
        mut cmd: Command,
        data: Option<(u64, usize)>,
        waiter: Waiter,
        timeout: Option<Duration>,
        at: Option<u64>,
    ) -> Result<u16, DriverError> {
        if self.is_stale() {
            return Err(DriverError::ControllerReset { qid: self.qid });
        }
        let next_tail = if self.sq_tail + 1 == self.depth { 0 } else { self.sq_tail + 1 };
        if next_tail == self.sq_head {
            return Err(DriverError::QueueFull {
                qid: self.qid,
                outstanding: self.outstanding,
                depth: self.depth,
            });
        }
        let Some(cid) = self.free_cids.pop() else {
            return Err(DriverError::QueueFull {
                qid: self.qid,
                outstanding: self.outstanding,
                depth: self.depth,
            });
        };
        if let Some((iova, len)) = data {
            let needed = prp::pages_for_entries(prp::list_entries(iova, len));
            let built = if needed <= self.pages_per_slot {
                let slot_offset = usize::from(cid) * self.pages_per_slot * PAGE_SIZE;
                // SAFETY: the slot's pages lie inside `prp_mem` (depth *
                // pages_per_slot pages, page aligned) and belong to this free
                // CID alone; the device reads them only after the doorbell.
                let mut lists = unsafe {
                    PrpListPages::new(
                        self.prp_host.add(slot_offset),
                        self.prp_mem.iova() + slot_offset as u64,
                        self.pages_per_slot,
                    )
                };
                prp::build(iova, len, &mut lists)
            } else {
                self.oversize_prps(cid, iova, len, needed)
            };
            match built {
                Ok((prp1, prp2)) => {
                    cmd.prp1 = prp1;
                    cmd.prp2 = prp2;
                }
                Err(e) => {
                    self.trackers[usize::from(cid)].oversize_lists = None;
                    self.free_cids.push(cid);
                    return Err(e);
                }
            }
        }
        cmd.set_cid(cid);
        // SAFETY: `sq_tail < depth`, so the slot is inside the SQ ring
        // (depth * 64 bytes of DMA memory owned by this queue). The device
        // does not read the slot before the tail doorbell covers it.
        unsafe { self.sq.add(usize::from(self.sq_tail)).write_volatile(cmd) };
        let now = match at {
            Some(t) => t,
            None => self.now_ns(),
        };
        let log_index = self.cmdlog.record_submission(&cmd, now);
        let deadline_ns = self.deadline(now, timeout);
        let t = &mut self.trackers[usize::from(cid)];
        t.state = State::Busy;
        t.opcode = cmd.opcode();
        t.waiter = waiter;
        t.submit_ns = now;
        t.deadline_ns = deadline_ns;
        t.log_index = log_index;
        self.sq_tail = next_tail;
        self.doorbell_pending = true;
        self.outstanding += 1;
        self.stats.submitted += 1;
        Ok(cid)
    }

    /// PRPs of a transfer larger than the queue's maximum (a command sent
    /// over MDTS on purpose, for the device to refuse): list pages of its
    /// own, kept by the CID's tracker until the command completes. Never
    /// taken by transfers the queue was sized for, so the hot path does not
    /// allocate.
    fn oversize_prps(
        &mut self,
        cid: u16,
        iova: u64,
        len: usize,
        pages: usize,
    ) -> Result<(u64, u64), DriverError> {
        let mut mem = DmaBuffer::new(&self.transport, pages * PAGE_SIZE)?;
        let host = NonNull::new(mem.as_mut_slice().as_mut_ptr()).expect("DMA memory is non-null");
        // SAFETY: `mem` is `pages` pages of page-aligned DMA memory owned by
        // this tracker until the command completes (`release` drops it), so
        // nothing else writes it, and the device sees it at `mem.iova()`.
        let mut lists = unsafe { PrpListPages::new(host, mem.iova(), pages) };
        let built = prp::build(iova, len, &mut lists);
        self.trackers[usize::from(cid)].oversize_lists = Some(mem);
        built
    }

    /// Hot path: queues `cmd` (its CID and, when `data` is given, its PRPs
    /// are filled in) without ringing the doorbell. `data` is `(iova, len)`
    /// of IOVA-contiguous memory. The completion is delivered to the `poll`
    /// closure with `token`. Returns the CID.
    pub fn submit_raw(
        &mut self,
        cmd: Command,
        data: Option<(u64, usize)>,
        token: u64,
    ) -> Result<u16, DriverError> {
        self.submit_inner(cmd, data, Waiter::Raw(token), None, None)
    }

    /// [`QueuePair::submit_raw`] stamped with `now_ns`, a recent value of
    /// the queue's clock ([`QueuePair::clock_ns`] or
    /// [`QueuePair::last_clock_ns`]) instead of reading the clock for every
    /// command: the submission time of the latency and the deadline are
    /// taken from it, so it must not be older than the caller can accept.
    pub fn submit_raw_at(
        &mut self,
        cmd: Command,
        data: Option<(u64, usize)>,
        token: u64,
        now_ns: u64,
    ) -> Result<u16, DriverError> {
        self.submit_inner(cmd, data, Waiter::Raw(token), None, Some(now_ns))
    }

    /// [`QueuePair::submit_raw`] with a per-command timeout.
    pub fn submit_raw_with_timeout(
        &mut self,
        cmd: Command,
        data: Option<(u64, usize)>,
        token: u64,
        timeout: Duration,
    ) -> Result<u16, DriverError> {
        self.submit_inner(cmd, data, Waiter::Raw(token), Some(timeout), None)
    }

    /// Queues `cmd` with PRPs describing `buffer` from its data offset to its
    /// end; `callback` runs in a later `poll`/`execute` on this thread.
    /// See the module's access rule for the buffer in [`crate::dma`].
    pub fn submit_with_callback(
        &mut self,
        cmd: Command,
        buffer: Option<&DmaBuffer>,
        callback: Callback,
    ) -> Result<u16, DriverError> {
        let data = buffer.map(|b| (b.data_iova(), b.data_len()));
        self.submit_inner(cmd, data, Waiter::Callback(callback), None, None)
    }

    /// [`QueuePair::submit_with_callback`] with a per-command timeout.
    pub fn submit_with_callback_timeout(
        &mut self,
        cmd: Command,
        buffer: Option<&DmaBuffer>,
        callback: Callback,
        timeout: Duration,
    ) -> Result<u16, DriverError> {
        let data = buffer.map(|b| (b.data_iova(), b.data_len()));
        self.submit_inner(cmd, data, Waiter::Callback(callback), Some(timeout), None)
    }

    /// Publishes queued submissions with one SQ tail doorbell write.
    pub fn ring_doorbell(&mut self) {
        if self.doorbell_pending {
            // Make the SQEs and PRP lists visible before the device can see
            // the new tail.
            fence(Ordering::Release);
            self.transport.bar0_write32(self.sq_db, u32::from(self.sq_tail));
            self.doorbell_pending = false;
            self.stats.doorbells += 1;
        }
    }
}
