//! Names of the fields `expect.fields` can compare, taken from the spec
//! crate's [`NamedFields`] layouts, plus the dword fields of features.

use nvmeplan_spec::features::fid;
use nvmeplan_spec::identify::{IdentifyController, IdentifyNamespace, NamedFields};
use nvmeplan_spec::log::{self, lid};

fn names(fields: &dyn NamedFields) -> Vec<&'static str> {
    fields.fields().into_iter().map(|(n, _)| n).collect()
}

/// Field names of Identify Controller (`nn`, `mdts`, `oacs`, ...).
pub fn identify_controller() -> Vec<&'static str> {
    names(&IdentifyController::zeroed())
}

/// Field names of Identify Namespace (`nsze`, `flbas`, `lba_size`, ...).
pub fn identify_namespace() -> Vec<&'static str> {
    names(&IdentifyNamespace::zeroed())
}

/// Field names of a log page, if this crate knows its layout.
pub fn log_page(id: u8) -> Option<Vec<&'static str>> {
    Some(match id {
        lid::ERROR_INFORMATION => names(&log::ErrorInformationEntry::default()),
        lid::SMART_HEALTH => names(&log::SmartHealthLog::zeroed()),
        lid::FIRMWARE_SLOT => names(&log::FirmwareSlotLog::zeroed()),
        lid::DEVICE_SELF_TEST => names(&log::SelfTestLog::new()),
        lid::SANITIZE_STATUS => names(&log::SanitizeStatusLog::zeroed()),
        _ => return None,
    })
}

/// Field names of a feature's dword (completion dword 0 of Get Features,
/// command dword 11 of Set Features).
pub fn feature_fields(id: u8) -> &'static [&'static str] {
    match id {
        fid::ARBITRATION => &["ab", "lpw", "mpw", "hpw"],
        fid::POWER_MANAGEMENT => &["ps", "wh"],
        fid::TEMPERATURE_THRESHOLD => &["tmpth", "tmpsel", "thsel"],
        fid::ERROR_RECOVERY => &["tler", "dulbe"],
        fid::VOLATILE_WRITE_CACHE => &["wce"],
        fid::NUMBER_OF_QUEUES => &["nsqr", "ncqr"],
        fid::INTERRUPT_COALESCING => &["thr", "time"],
        fid::INTERRUPT_VECTOR_CONFIGURATION => &["iv", "cd"],
        fid::WRITE_ATOMICITY_NORMAL => &["dn"],
        fid::ASYNC_EVENT_CONFIGURATION => {
            &["shcw", "nans", "fans", "tlns", "anacns", "pleacns", "lsins", "egealcns"]
        }
        fid::AUTONOMOUS_POWER_STATE_TRANSITION => &["apste"],
        fid::HOST_MEMORY_BUFFER => &["ehm", "mr"],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_names() {
        assert!(identify_controller().contains(&"nn"));
        assert!(identify_controller().contains(&"mdts"));
        assert!(identify_namespace().contains(&"nsze"));
        assert!(identify_namespace().contains(&"lba_size"));
        assert!(log_page(lid::SMART_HEALTH).unwrap().contains(&"critical_warning"));
        assert!(log_page(0x42).is_none());
        assert_eq!(feature_fields(fid::VOLATILE_WRITE_CACHE), ["wce"]);
    }
}
