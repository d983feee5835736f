//! Get Log Page and the Error Information log.
//!
//! Supported pages: Error Information (01h, ELPE+1 entries, newest first),
//! SMART / Health (02h, live counters), Firmware Slot (03h), Changed
//! Namespace List (04h), Commands Supported and Effects (05h), Device
//! Self-test (06h) and Sanitize Status (81h). NUMD (NUMDL/NUMDU) and the
//! byte offset (LPOL/LPOU) are honoured; data past the end of a page reads
//! as zeros, an offset past the end fails with invalid_field_in_command.
//!
//! This module owns the Error Information log ([`ErrorLog`]), the SMART /
//! Health and Commands Supported and Effects pages and the framing of
//! every page; the other pages come from the families that own their
//! state, through the caller.

use super::common::NSID_ALL;
use super::features::FeatureState;
use super::host::AdminHost;
use crate::health::{COMPOSITE_TEMPERATURE, data_units};
use nvmeplan_spec::dwords::{GetLogPageCdw10, GetLogPageCdw11, GetLogPageCdw14, get_log_page_numd, join_u64};
use nvmeplan_spec::effects::CommandEffects;
use nvmeplan_spec::log::{ErrorInformationEntry, SmartHealthLog, critical_warning, lid};
use nvmeplan_spec::{AdminOpcode, Command, CompletionStatus, NvmOpcode, Status};
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use zerocopy::IntoBytes;

/// ELPE: Error Log Page Entries, zero-based.
pub(crate) const ELPE: u8 = 63;

/// The Error Information log: the newest ELPE+1 entries.
#[derive(Default)]
pub(crate) struct ErrorLog {
    entries: VecDeque<ErrorInformationEntry>,
}

impl ErrorLog {
    /// Records an error as the newest entry.
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        count: u64,
        sqid: u16,
        cid: u16,
        status: Status,
        dnr: bool,
        lba: Option<u64>,
        nsid: u32,
    ) {
        let entry = ErrorInformationEntry {
            error_count: count,
            sqid,
            cid,
            status: CompletionStatus::from_status(status, dnr).into(),
            parameter_error_location: 0xFFFF,
            lba: lba.unwrap_or(0),
            nsid,
            ..Default::default()
        };
        self.entries.push_front(entry);
        self.entries.truncate(usize::from(ELPE) + 1);
    }

    fn page(&self) -> Vec<u8> {
        let mut page = vec![0u8; (usize::from(ELPE) + 1) * 64];
        for (i, e) in self.entries.iter().enumerate() {
            page[i * 64..(i + 1) * 64].copy_from_slice(e.as_bytes());
        }
        page
    }
}

fn smart(host: &dyn AdminHost, features: &Mutex<FeatureState>) -> SmartHealthLog {
    let mut log = SmartHealthLog::zeroed();
    let io = host.io_counters();
    let health = host.health();
    if features.lock().temperature_warning() {
        log.critical_warning |= critical_warning::TEMPERATURE;
    }
    log.set_composite_temperature(COMPOSITE_TEMPERATURE);
    log.temperature_sensors[0] = COMPOSITE_TEMPERATURE;
    log.available_spare = 100;
    log.available_spare_threshold = 10;
    log.set_data_units_read(data_units(io.bytes_read.load(Ordering::Relaxed)));
    log.set_data_units_written(data_units(io.bytes_written.load(Ordering::Relaxed)));
    log.set_host_read_commands(io.read_commands.load(Ordering::Relaxed).into());
    log.set_host_write_commands(io.write_commands.load(Ordering::Relaxed).into());
    log.set_power_cycles(health.power_cycles.load(Ordering::Relaxed).into());
    log.set_power_on_hours(health.power_on_hours().into());
    log.set_unsafe_shutdowns(health.unsafe_shutdowns.load(Ordering::Relaxed).into());
    log.set_media_errors(io.media_errors.load(Ordering::Relaxed).into());
    log.set_num_error_log_entries(health.error_entries.load(Ordering::Relaxed).into());
    log
}

fn effects() -> Vec<u8> {
    let mut page = vec![0u8; 4096];
    let mut set =
        |index: usize, bits: u32| page[index * 4..index * 4 + 4].copy_from_slice(&bits.to_le_bytes());
    let supported = CommandEffects::new().with_csupp(true);
    for op in AdminOpcode::ALL {
        let bits = match op {
            AdminOpcode::FormatNvm | AdminOpcode::Sanitize => supported
                .with_lbcc(true)
                .with_ncc(true)
                .with_nic(true)
                .with_cse(CommandEffects::CSE_SINGLE_PER_NAMESPACE),
            AdminOpcode::NamespaceManagement | AdminOpcode::NamespaceAttachment => {
                supported.with_ncc(true).with_nic(true)
            }
            AdminOpcode::FirmwareCommit => supported.with_ccc(true),
            _ => supported,
        };
        set(*op as usize, bits.into());
    }
    for op in NvmOpcode::ALL {
        let bits = match op {
            NvmOpcode::Write | NvmOpcode::WriteZeroes | NvmOpcode::WriteUncorrectable | NvmOpcode::Copy => {
                supported.with_lbcc(true)
            }
            NvmOpcode::DatasetManagement => supported.with_lbcc(true),
            _ => supported,
        };
        set(256 + *op as usize, bits.into());
    }
    page
}

/// The pages this module builds itself.
pub(crate) struct OwnPages<'a> {
    /// The Error Information log.
    pub errors: &'a Mutex<ErrorLog>,
    /// The feature values (the SMART critical warning reads the
    /// temperature thresholds).
    pub features: &'a Mutex<FeatureState>,
}

/// Get Log Page. `other(lid, retain)` builds the pages of other families
/// (`None`: no such page). Returns the page read and RAE, for the
/// asynchronous events that wait for it.
pub(crate) fn get_log_page(
    host: &dyn AdminHost,
    own: OwnPages<'_>,
    cmd: &Command,
    other: &mut dyn FnMut(u8, bool) -> Option<Vec<u8>>,
) -> Result<(u8, bool), Status> {
    let cdw10 = GetLogPageCdw10::from(cmd.cdw10);
    let id = cdw10.lid();
    let retain = cdw10.rae();
    let numd = u64::from(get_log_page_numd(cdw10, GetLogPageCdw11::from(cmd.cdw11)));
    let len = (numd + 1) * 4;
    let offset = join_u64(cmd.cdw12, cmd.cdw13);
    let offset_type_index = GetLogPageCdw14::from(cmd.cdw14).ot();
    let limit = host.config().mdts_bytes().unwrap_or(16 << 20) as u64;
    if len > limit || !offset.is_multiple_of(4) || offset_type_index {
        return Err(Status::INVALID_FIELD_IN_COMMAND);
    }
    let page: Vec<u8> = match id {
        lid::ERROR_INFORMATION => own.errors.lock().page(),
        lid::SMART_HEALTH => {
            if cmd.nsid != 0 && cmd.nsid != NSID_ALL {
                return Err(Status::INVALID_FIELD_IN_COMMAND);
            }
            smart(host, own.features).as_bytes().to_vec()
        }
        lid::COMMANDS_SUPPORTED => effects(),
        _ => other(id, retain).ok_or(Status::INVALID_LOG_PAGE)?,
    };
    if offset > page.len() as u64 {
        return Err(Status::INVALID_FIELD_IN_COMMAND);
    }
    let mut data = vec![0u8; len as usize];
    let start = offset as usize;
    let n = (page.len() - start).min(data.len());
    data[..n].copy_from_slice(&page[start..start + n]);
    host.write_host(cmd, &data)?;
    Ok((id, retain))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_log_is_newest_first_and_capped() {
        let mut log = ErrorLog::default();
        for i in 1..=70u64 {
            log.push(i, 1, i as u16, Status::INVALID_FIELD_IN_COMMAND, true, Some(i * 10), 1);
        }
        let page = log.page();
        assert_eq!(page.len(), 64 * 64);
        assert_eq!(u64::from_le_bytes(page[0..8].try_into().unwrap()), 70);
        assert_eq!(u64::from_le_bytes(page[64..72].try_into().unwrap()), 69);
        assert_eq!(u64::from_le_bytes(page[63 * 64..63 * 64 + 8].try_into().unwrap()), 7);
        let status = CompletionStatus::from_bits(u16::from_le_bytes([page[12], page[13]]));
        assert_eq!(status.sc(), 0x02);
        assert!(status.dnr(), "DNR recorded");
    }

    #[test]
    fn effects_mark_supported_commands() {
        let page = effects();
        assert_eq!(page[0x06 * 4] & 1, 1);
        assert_eq!(page[0x03 * 4] & 1, 0);
        assert_eq!(page[(256 + 2) * 4] & 1, 1);
    }
}
