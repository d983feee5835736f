//! Names of the fields `expect.fields` can compare, taken from the spec
//! crate's [`NamedFields`] layouts, plus the dword fields of features.

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
/// command dword 11 of Set Features), from the spec crate's layouts.
pub fn feature_fields(id: u8) -> &'static [&'static str] {
    nvmeplan_spec::features::feature_field_names(id)
}

/// A feature for messages: its name in backquotes, else its id in hex.
pub fn feature_label(fid: u8) -> String {
    nvmeplan_spec::features::feature_name(fid).map_or_else(|| format!("{fid:#04x}"), |n| format!("`{n}`"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nvmeplan_spec::features::fid;

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
