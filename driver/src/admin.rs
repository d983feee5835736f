//! Typed admin command helpers on [`Controller`].
//!
//! Rule: helpers that return a [`Completion`] return it whatever its status
//! (plans check expected failures); helpers that return data or `()` need
//! the command to succeed and fail with [`DriverError::CommandFailed`]
//! otherwise. [`Controller::admin`] runs any command.

use crate::PAGE_SIZE;
use crate::commands;
use crate::controller::{Controller, Namespace};
use crate::dma::DmaBuffer;
use crate::error::DriverError;
use crate::queue_pair::QueuePair;
use crate::verify::VerifyMap;
use nvmeplan_spec::identify::{
    IdentifyController, IdentifyNamespace, NamespaceList, cns, decode_ns_descriptors,
};
use nvmeplan_spec::log::{SanitizeStatusLog, sanitize};
use nvmeplan_spec::{AdminOpcode, Completion};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use zerocopy::FromBytes;

/// Log page id of the Sanitize Status log.
pub const LID_SANITIZE_STATUS: u8 = 0x81;

impl Controller {
    fn identify_data(&self, cns_value: u8, nsid: u32, cntid: u16) -> Result<DmaBuffer, DriverError> {
        let mut buf = self.alloc_buffer(PAGE_SIZE)?;
        let cqe = self.admin(commands::identify(cns_value, nsid, cntid), Some(&mut buf))?;
        DriverError::check(0, AdminOpcode::Identify as u8, cqe)?;
        Ok(buf)
    }

    /// Identify Controller (CNS 01h), read fresh from the device.
    pub fn identify_controller(&self) -> Result<IdentifyController, DriverError> {
        let buf = self.identify_data(cns::CONTROLLER, 0, 0)?;
        Ok(IdentifyController::read_from_bytes(buf.as_slice()).expect("4096 bytes"))
    }

    /// Identify Namespace (CNS 00h) for `nsid`.
    pub fn identify_namespace(&self, nsid: u32) -> Result<IdentifyNamespace, DriverError> {
        let buf = self.identify_data(cns::NAMESPACE, nsid, 0)?;
        Ok(IdentifyNamespace::read_from_bytes(buf.as_slice()).expect("4096 bytes"))
    }

    /// Active namespace ids above `start` (CNS 02h), up to 1024.
    pub fn identify_active_ns_list(&self, start: u32) -> Result<Vec<u32>, DriverError> {
        let buf = self.identify_data(cns::ACTIVE_NAMESPACE_LIST, start, 0)?;
        Ok(NamespaceList::read_from_bytes(buf.as_slice()).expect("4096 bytes").iter().collect())
    }

    /// Namespace identification descriptors (CNS 03h) as `(nidt, id)`.
    pub fn identify_ns_descriptors(&self, nsid: u32) -> Result<Vec<(u8, Vec<u8>)>, DriverError> {
        let buf = self.identify_data(cns::NAMESPACE_DESCRIPTORS, nsid, 0)?;
        Ok(decode_ns_descriptors(buf.as_slice()))
    }

    /// Get Log Page: `len` bytes of log `lid` from byte `offset`, split into
    /// MDTS-sized commands. `len` is rounded up to whole dwords.
    pub fn get_log_page(&self, lid: u8, nsid: u32, len: usize, offset: u64) -> Result<Vec<u8>, DriverError> {
        let total = len.next_multiple_of(4);
        if total == 0 {
            return Ok(Vec::new());
        }
        let chunk = self.mdts_bytes().unwrap_or(1 << 20).min(1 << 20).min(total);
        let mut buf = self.alloc_buffer(chunk)?;
        let mut out = Vec::with_capacity(total);
        let mut done = 0;
        while done < total {
            let this = chunk.min(total - done);
            let cmd = commands::get_log_page(lid, nsid, this, offset + done as u64);
            let cqe = self.admin_data(cmd, Some((buf.iova(), this)), None)?;
            DriverError::check(0, AdminOpcode::GetLogPage as u8, cqe)?;
            out.extend_from_slice(&buf.as_mut_slice()[..this]);
            done += this;
        }
        out.truncate(len);
        Ok(out)
    }

    /// Get Features `fid` with select `sel`; dword 0 of the completion holds
    /// the value. Returned whatever the status.
    pub fn get_features(
        &self,
        fid: u8,
        nsid: u32,
        sel: u8,
        cdw11: u32,
        data: Option<&mut DmaBuffer>,
    ) -> Result<Completion, DriverError> {
        self.admin(commands::get_features(fid, nsid, sel, cdw11), data)
    }

    /// Set Features `fid` to `cdw11` (saved when `save`). Returned whatever
    /// the status.
    pub fn set_features(
        &self,
        fid: u8,
        nsid: u32,
        cdw11: u32,
        save: bool,
        data: Option<&mut DmaBuffer>,
    ) -> Result<Completion, DriverError> {
        self.admin(commands::set_features(fid, nsid, cdw11, save), data)
    }

    /// Create I/O Completion Queue on caller-provided memory (for tests of
    /// the command itself; [`Controller::create_qpair`] is the normal way).
    pub fn create_io_cq(
        &self,
        qid: u16,
        entries: u16,
        iova: u64,
        vector: Option<u16>,
    ) -> Result<Completion, DriverError> {
        self.admin(commands::create_io_cq(qid, entries, iova, vector), None)
    }

    /// Create I/O Submission Queue on caller-provided memory.
    pub fn create_io_sq(
        &self,
        qid: u16,
        entries: u16,
        iova: u64,
        cqid: u16,
        qprio: u8,
    ) -> Result<Completion, DriverError> {
        self.admin(commands::create_io_sq(qid, entries, iova, cqid, qprio), None)
    }

    /// Delete I/O Submission Queue.
    pub fn delete_io_sq(&self, qid: u16) -> Result<Completion, DriverError> {
        self.admin(commands::delete_io_sq(qid), None)
    }

    /// Delete I/O Completion Queue.
    pub fn delete_io_cq(&self, qid: u16) -> Result<Completion, DriverError> {
        self.admin(commands::delete_io_cq(qid), None)
    }

    /// Abort command `cid` on submission queue `sqid`; dword 0 bit 0 clear
    /// means the command was aborted.
    pub fn abort(&self, sqid: u16, cid: u16) -> Result<Completion, DriverError> {
        self.admin(commands::abort(sqid, cid), None)
    }

    /// Waits up to `timeout` for an asynchronous event. An Asynchronous
    /// Event Request is submitted unless one is already outstanding; it
    /// stays outstanding (without a timeout) when nothing arrives, and the
    /// next call waits for the same request. Returns `None` on timeout and
    /// [`DriverError::Cancelled`] when the controller's cancellation flag is set.
    pub fn async_event_request(&self, timeout: Duration) -> Result<Option<Completion>, DriverError> {
        let shared = &self.shared;
        let start = Instant::now();
        loop {
            if let Some(cqe) = shared.aer.result.lock().take() {
                if QueuePair::is_synthesized(&cqe) {
                    return Err(DriverError::ControllerReset { qid: 0 });
                }
                return Ok(Some(cqe));
            }
            if !shared.aer.outstanding.swap(true, Ordering::AcqRel) {
                self.submit_aer()?;
                continue;
            }
            if start.elapsed() >= timeout {
                return Ok(None);
            }
            if self.is_cancelled() {
                return Err(DriverError::Cancelled { what: "an asynchronous event".into() });
            }
            {
                let mut admin = shared.admin.lock();
                if let Some(aq) = admin.as_mut() {
                    match aq.poll(usize::MAX, |_, _, _| {}) {
                        Ok(_) | Err(DriverError::Timeout { .. }) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            if shared.aer.result.lock().is_none() {
                std::thread::sleep(Duration::from_micros(500));
            }
        }
    }

    /// Submits an Asynchronous Event Request whose callback fills the AER
    /// slot (the caller has set `aer_outstanding`).
    fn submit_aer(&self) -> Result<(), DriverError> {
        let shared = &self.shared;
        let slot = shared.aer.clone();
        let mut admin = shared.admin.lock();
        let Some(aq) = admin.as_mut() else {
            shared.aer.outstanding.store(false, Ordering::Release);
            return Err(DriverError::InvalidState("no admin queue (controller shut down)".into()));
        };
        let callback = Box::new(move |cqe: &Completion| {
            *slot.result.lock() = Some(*cqe);
            slot.outstanding.store(false, Ordering::Release);
        });
        // Never time out an AER: the controller holds it until an event.
        let submitted =
            aq.submit_with_callback_timeout(commands::async_event_request(), None, callback, Duration::MAX);
        if let Err(e) = submitted {
            shared.aer.outstanding.store(false, Ordering::Release);
            return Err(e);
        }
        aq.ring_doorbell();
        Ok(())
    }

    /// Format NVM of `nsid` to LBA format `lbaf` with secure erase setting
    /// `ses`. On success, `verify` (if given) expects zeroes everywhere and
    /// the namespaces are re-identified. Returned whatever the status.
    pub fn format(
        &self,
        nsid: u32,
        lbaf: u8,
        ses: u8,
        verify: Option<&VerifyMap>,
    ) -> Result<Completion, DriverError> {
        let cmd = commands::format_nvm(nsid, lbaf, ses, false, 0, false);
        let cqe = self.admin_data(cmd, None, Some(self.options().long_timeout))?;
        if cqe.status().is_success() {
            if let Some(map) = verify {
                map.mark_all_zeroes();
            }
            self.rescan_namespaces()?;
        }
        Ok(cqe)
    }

    /// Starts a sanitize operation `sanact` (see `nvmeplan_spec::log::sanitize`).
    /// On success, `verify` expects zeroes (block/crypto erase) or forgets
    /// everything (overwrite, exit failure mode). Returned whatever the status;
    /// see [`Controller::wait_sanitize`].
    #[allow(clippy::too_many_arguments)]
    pub fn sanitize(
        &self,
        sanact: u8,
        ause: bool,
        owpass: u8,
        oipbp: bool,
        ndas: bool,
        ovrpat: u32,
        verify: Option<&VerifyMap>,
    ) -> Result<Completion, DriverError> {
        let cmd = commands::sanitize(sanact, ause, owpass, oipbp, ndas, ovrpat);
        let cqe = self.admin_data(cmd, None, Some(self.options().long_timeout))?;
        if cqe.status().is_success()
            && let Some(map) = verify
        {
            match sanact {
                sanitize::BLOCK_ERASE | sanitize::CRYPTO_ERASE => map.mark_all_zeroes(),
                _ => map.clear_all(),
            }
        }
        Ok(cqe)
    }

    /// The Sanitize Status log page.
    pub fn sanitize_status(&self) -> Result<SanitizeStatusLog, DriverError> {
        let data = self.get_log_page(LID_SANITIZE_STATUS, 0, 512, 0)?;
        Ok(SanitizeStatusLog::read_from_bytes(&data).expect("512 bytes"))
    }

    /// Polls the Sanitize Status log until no sanitize is in progress or
    /// `timeout` passes; returns the last log read.
    pub fn wait_sanitize(&self, timeout: Duration) -> Result<SanitizeStatusLog, DriverError> {
        let start = Instant::now();
        loop {
            let log = self.sanitize_status()?;
            if log.status() != sanitize::STATUS_IN_PROGRESS {
                return Ok(log);
            }
            if start.elapsed() >= timeout {
                return Err(DriverError::NotReady {
                    what: "sanitize status other than in-progress".into(),
                    waited: start.elapsed(),
                });
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Downloads a firmware image in chunks of at most MDTS (respecting the
    /// firmware update granularity). The image is zero-padded to whole dwords.
    pub fn firmware_download(&self, image: &[u8]) -> Result<(), DriverError> {
        if image.is_empty() {
            return Err(DriverError::InvalidArgument("empty firmware image".into()));
        }
        let fwug = self.identify()?.fwug;
        let mut chunk = self.mdts_bytes().unwrap_or(1 << 20).min(1 << 20);
        if fwug != 0 && fwug != 0xFF {
            let granule = usize::from(fwug) * 4096;
            chunk = (chunk / granule * granule).max(granule);
        }
        let cqe = self.firmware_download_chunks(image, chunk, 0, None)?;
        DriverError::check(0, AdminOpcode::FirmwareImageDownload as u8, cqe)?;
        Ok(())
    }

    /// Sends `image`, zero-padded to whole dwords, with Firmware Image
    /// Download commands of at most `chunk` bytes (a multiple of 4), the
    /// first at byte `offset` of the firmware image. Stops at the first
    /// command that does not succeed and returns the last completion,
    /// whatever its status.
    pub fn firmware_download_chunks(
        &self,
        image: &[u8],
        chunk: usize,
        offset: usize,
        timeout: Option<Duration>,
    ) -> Result<Completion, DriverError> {
        if image.is_empty() || chunk == 0 {
            return Err(DriverError::InvalidArgument(format!(
                "firmware download of {} bytes in chunks of {chunk}",
                image.len()
            )));
        }
        let total = image.len().next_multiple_of(4);
        let mut buf = self.alloc_buffer(chunk.min(total))?;
        let mut done = 0;
        loop {
            let this = chunk.min(total - done);
            let dst = &mut buf.as_mut_slice()[..this];
            dst.fill(0);
            let end = (done + this).min(image.len());
            dst[..end - done].copy_from_slice(&image[done..end]);
            let cqe = self.admin_data(
                commands::firmware_download(this, offset + done),
                Some((buf.iova(), this)),
                timeout,
            )?;
            done += this;
            if !cqe.status().is_success() || done >= total {
                return Ok(cqe);
            }
        }
    }

    /// Firmware Commit to `slot` with commit action `action`. Returned
    /// whatever the status (activation statuses such as
    /// `firmware_activation_requires_conventional_reset` are informational).
    pub fn firmware_commit(&self, slot: u8, action: u8) -> Result<Completion, DriverError> {
        self.admin_data(commands::firmware_commit(slot, action), None, Some(self.options().long_timeout))
    }

    /// Namespace Management create: returns the new namespace id.
    pub fn namespace_create(
        &self,
        nsze: u64,
        ncap: u64,
        flbas: u8,
        dps: u8,
        nmic: u8,
    ) -> Result<u32, DriverError> {
        let mut buf = self.alloc_buffer(PAGE_SIZE)?;
        let data = buf.as_mut_slice();
        data[0..8].copy_from_slice(&nsze.to_le_bytes());
        data[8..16].copy_from_slice(&ncap.to_le_bytes());
        data[26] = flbas;
        data[29] = dps;
        data[30] = nmic;
        let cqe = self.admin(commands::namespace_management(0, 0), Some(&mut buf))?;
        Ok(DriverError::check(0, AdminOpcode::NamespaceManagement as u8, cqe)?.dw0)
    }

    /// Namespace Management delete of `nsid`; re-reads the namespaces.
    pub fn namespace_delete(&self, nsid: u32) -> Result<(), DriverError> {
        let cqe = self.admin(commands::namespace_management(1, nsid), None)?;
        DriverError::check(0, AdminOpcode::NamespaceManagement as u8, cqe)?;
        self.rescan_namespaces()?;
        Ok(())
    }

    fn attachment(
        &self,
        nsid: u32,
        controllers: &[u16],
        detach: bool,
    ) -> Result<Vec<Namespace>, DriverError> {
        if controllers.is_empty() || controllers.len() > 2047 {
            return Err(DriverError::InvalidArgument(format!(
                "{} controller ids; 1 to 2047 allowed",
                controllers.len()
            )));
        }
        let mut buf = self.alloc_buffer(PAGE_SIZE)?;
        let data = buf.as_mut_slice();
        data[0..2].copy_from_slice(&(controllers.len() as u16).to_le_bytes());
        for (i, id) in controllers.iter().enumerate() {
            data[2 + 2 * i..4 + 2 * i].copy_from_slice(&id.to_le_bytes());
        }
        let cqe = self.admin(commands::namespace_attachment(nsid, detach), Some(&mut buf))?;
        DriverError::check(0, AdminOpcode::NamespaceAttachment as u8, cqe)?;
        self.rescan_namespaces()
    }

    /// Attaches `nsid` to `controllers` (this controller's id is
    /// `identify()?.cntlid`); returns the re-read active namespaces.
    pub fn namespace_attach(&self, nsid: u32, controllers: &[u16]) -> Result<Vec<Namespace>, DriverError> {
        self.attachment(nsid, controllers, false)
    }

    /// Detaches `nsid` from `controllers`; returns the re-read active namespaces.
    pub fn namespace_detach(&self, nsid: u32, controllers: &[u16]) -> Result<Vec<Namespace>, DriverError> {
        self.attachment(nsid, controllers, true)
    }

    /// Device Self-test with code `stc` (1 short, 2 extended, 0xF abort).
    /// Returned whatever the status.
    pub fn device_self_test(&self, nsid: u32, stc: u8) -> Result<Completion, DriverError> {
        self.admin(commands::device_self_test(nsid, stc), None)
    }
}
