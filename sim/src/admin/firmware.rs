//! Firmware Image Download and Firmware Commit.
//!
//! An image is downloaded in pieces (NUMD and OFST in dwords) that must
//! follow each other: a piece at offset 0 starts a new image, a piece that
//! overlaps what was already received fails with overlapping-range and a
//! gap fails with invalid-field-in-command. Firmware Commit validates the
//! image ([`crate::firmware::parse_image`]) and stores it in a slot; the
//! new revision runs after the next reset (controller reset, NVM subsystem
//! reset, function reset or power cycle), when Identify FR and the
//! Firmware Slot log change. The controller does not support activation
//! without reset (FRMW bit 4 is 0): commit action 011b replaces the image,
//! schedules it for the next reset and completes with
//! firmware-activation-requires-conventional-reset.

use super::AdminResult;
use crate::controller::Controller;
use crate::firmware::{MAX_IMAGE_LEN, parse_image};
use nvmeplan_spec::dwords::{FirmwareCommitCdw10, FirmwareDownloadCdw10, FirmwareDownloadCdw11};
use nvmeplan_spec::{Command, Status};

/// Firmware Image Download.
pub(crate) fn download(ctrl: &Controller, cmd: &Command) -> AdminResult {
    let len = (u64::from(FirmwareDownloadCdw10::from(cmd.cdw10).numd()) + 1) * 4;
    let offset = u64::from(FirmwareDownloadCdw11::from(cmd.cdw11).ofst()) * 4;
    let limit = ctrl.cfg.mdts_bytes().map_or(u64::MAX, |m| m as u64);
    if len > limit || offset + len > MAX_IMAGE_LEN as u64 {
        return Err(Status::INVALID_FIELD_IN_COMMAND);
    }
    {
        let fw = ctrl.fw.lock();
        let have = fw.download.len() as u64;
        if offset != 0 && offset < have {
            return Err(Status::OVERLAPPING_RANGE);
        }
        if offset > have {
            return Err(Status::INVALID_FIELD_IN_COMMAND);
        }
    }
    let data = ctrl.read_host(cmd, len as usize)?;
    let mut fw = ctrl.fw.lock();
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
pub(crate) fn commit(ctrl: &Controller, cmd: &Command) -> AdminResult {
    let cdw10 = FirmwareCommitCdw10::from(cmd.cdw10);
    let (fs, action) = (cdw10.fs(), cdw10.ca());
    if action > 3 {
        return Err(Status::INVALID_FIELD_IN_COMMAND);
    }
    let mut fw = ctrl.fw.lock();
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
    ctrl.persist(false);
    result
}
