//! Firmware Image Download and Firmware Commit.
//!
//! An image is downloaded in pieces (NUMD and OFST in dwords) that must
//! follow each other: a piece at offset 0 starts a new image, a piece that
//! overlaps what was already received fails with overlapping_range and a
//! gap fails with invalid_field_in_command. Firmware Commit validates the
//! image ([`crate::firmware::parse_image`]) and stores it in a slot; the
//! new revision runs after the next reset (controller reset, NVM subsystem
//! reset, function reset or power cycle), when Identify FR and the
//! Firmware Slot log change. The controller does not support activation
//! without reset (FRMW bit 4 is 0): commit action 011b replaces the image,
//! schedules it for the next reset and completes with
//! firmware_activation_requires_conventional_reset.
//!
//! The slots themselves ([`FirmwareSlots`]) are owned by the caller and
//! passed in; this module also builds the Firmware Slot log page from them.

use super::common::AdminResult;
use super::host::AdminHost;
use crate::firmware::{FirmwareSlots, MAX_IMAGE_LEN, parse_image};
use nvmeplan_spec::dwords::{FirmwareCommitCdw10, FirmwareDownloadCdw10, FirmwareDownloadCdw11};
use nvmeplan_spec::log::FirmwareSlotLog;
use nvmeplan_spec::{Command, Status};
use parking_lot::Mutex;

/// Firmware Image Download.
pub(crate) fn download(host: &dyn AdminHost, slots: &Mutex<FirmwareSlots>, cmd: &Command) -> AdminResult {
    let len = (u64::from(FirmwareDownloadCdw10::from(cmd.cdw10).numd()) + 1) * 4;
    let offset = u64::from(FirmwareDownloadCdw11::from(cmd.cdw11).ofst()) * 4;
    let limit = host.config().mdts_bytes().map_or(u64::MAX, |m| m as u64);
    if len > limit || offset + len > MAX_IMAGE_LEN as u64 {
        return Err(Status::INVALID_FIELD_IN_COMMAND);
    }
    {
        let fw = slots.lock();
        let have = fw.download.len() as u64;
        if offset != 0 && offset < have {
            return Err(Status::OVERLAPPING_RANGE);
        }
        if offset > have {
            return Err(Status::INVALID_FIELD_IN_COMMAND);
        }
    }
    let data = host.read_host(cmd, len as usize)?;
    let mut fw = slots.lock();
    if offset == 0 {
        fw.download.clear();
    }
    if fw.download.len() as u64 != offset {
        return Err(Status::OVERLAPPING_RANGE);
    }
    fw.download.extend_from_slice(&data);
    Ok(0)
}

/// Firmware Commit.
pub(crate) fn commit(host: &dyn AdminHost, slots: &Mutex<FirmwareSlots>, cmd: &Command) -> AdminResult {
    let cdw10 = FirmwareCommitCdw10::from(cmd.cdw10);
    let (fs, action) = (cdw10.fs(), cdw10.ca());
    if action > 3 {
        return Err(Status::INVALID_FIELD_IN_COMMAND);
    }
    let mut fw = slots.lock();
    if fs > fw.count() {
        return Err(Status::INVALID_FIRMWARE_SLOT);
    }
    let result = if action == 2 {
        let slot = if fs != 0 { fs } else { fw.last_replaced.unwrap_or(fw.active) };
        if fw.revision(slot).is_none() {
            return Err(Status::INVALID_FIRMWARE_IMAGE);
        }
        fw.pending = Some(slot);
        Ok(0)
    } else {
        let slot = if fs != 0 {
            fs
        } else {
            let empty = (1..=fw.count()).find(|&s| fw.revision(s).is_none());
            empty.or_else(|| (1..=fw.count()).find(|&s| s != fw.active)).unwrap_or(1)
        };
        let Some(revision) = parse_image(&fw.download) else {
            return Err(Status::INVALID_FIRMWARE_IMAGE);
        };
        tracing::debug!(slot, revision, action, "firmware image committed");
        fw.slots[usize::from(slot) - 1] = Some(revision);
        fw.download.clear();
        fw.last_replaced = Some(slot);
        match action {
            0 => Ok(0),
            1 => {
                fw.pending = Some(slot);
                Ok(0)
            }
            _ => {
                fw.pending = Some(slot);
                Err(Status::FIRMWARE_ACTIVATION_REQUIRES_CONVENTIONAL_RESET)
            }
        }
    };
    drop(fw);
    host.persist();
    result
}

/// The Firmware Slot log page.
pub(crate) fn slot_log(fw: &FirmwareSlots) -> FirmwareSlotLog {
    let mut log = FirmwareSlotLog::zeroed();
    log.set_afi(fw.active, fw.pending);
    for slot in 1..=fw.count() {
        log.set_revision(slot, fw.revision(slot));
    }
    log
}
