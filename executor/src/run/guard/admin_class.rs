//! What every admin opcode does to a device, per the NVMe Base
//! Specification 2.1 (Figure 28, "Opcodes for Admin Commands"), for the
//! destructive-step guard. [`admin_class`] is an exhaustive match over
//! 0x00..=0xFF with no wildcard, so a new opcode cannot fall into the
//! read-only class by default.

/// What an admin command may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminClass {
    /// Only returns data; nothing lasting changes (Identify, Get Log Page, ...).
    ReadOnly,
    /// Changes controller state that a Controller Level Reset clears
    /// (queue creation, Abort, Doorbell Buffer Config, ...): the runner
    /// itself issues these, and they touch neither media nor saved settings.
    ControllerState,
    /// Set Features: destructive when it saves the value across power
    /// cycles (SV) or the feature is persistent by nature (see
    /// [`persistent_feature`]), else controller state.
    SetFeatures,
    /// Changes media, namespaces, firmware, security, subsystem or
    /// saved state.
    Destructive,
    /// Vendor specific (0xC0..=0xFF): unknown effect, so destructive.
    Vendor,
    /// Reserved by the specification: unknown effect, so destructive.
    Reserved,
}

impl AdminClass {
    /// Whether the guard refuses the opcode on a real device (Set
    /// Features is judged by its dwords instead).
    pub fn is_destructive(self) -> bool {
        matches!(self, AdminClass::Destructive | AdminClass::Vendor | AdminClass::Reserved)
    }
}

/// The class of an admin opcode.
pub const fn admin_class(opcode: u8) -> AdminClass {
    use AdminClass::*;
    match opcode {
        // Get Log Page, Identify, Get Features, Asynchronous Event Request,
        // Keep Alive, Directive Receive, NVMe-MI Receive, Fabric Zoning
        // Receive, Fabric Zoning Lookup, Track Receive, Migration Receive,
        // Security Receive, Get LBA Status.
        0x02 | 0x06 | 0x0A | 0x0C | 0x18 | 0x1A | 0x1E | 0x22 | 0x25 | 0x3E | 0x42 | 0x82 | 0x86 => ReadOnly,
        // Delete/Create I/O Submission and Completion Queue, Abort, Track
        // Send (change tracking for migration, runtime only), Controller
        // Data Queue, Doorbell Buffer Config, Fabrics commands (Connect,
        // Property Get/Set: transport state).
        0x00 | 0x01 | 0x04 | 0x05 | 0x08 | 0x3D | 0x45 | 0x7C | 0x7F => ControllerState,
        0x09 => SetFeatures,
        // Namespace Management, Firmware Commit, Firmware Image Download,
        // Device Self-test (may abort I/O, writes the persistent self-test
        // log), Namespace Attachment, Directive Send (stream resources),
        // Virtualization Management, NVMe-MI Send (can write VPD and
        // configuration), Capacity Management, Discovery Information
        // Management, Lockdown, Clear Exported NVM Resource Configuration,
        // Fabric Zoning Send, Create / Manage Exported NVM Subsystem,
        // Manage Exported Namespace, Manage Exported Port, Cross-Controller
        // Reset, Send Discovery Log Page, Migration Send, Format NVM,
        // Security Send, Sanitize, Load Program, Program Activation
        // Management, Memory Range Set Management, Sanitize Namespace.
        0x0D | 0x10 | 0x11 | 0x14 | 0x15 | 0x19 | 0x1C | 0x1D | 0x20 | 0x21 | 0x24 | 0x28 | 0x29 | 0x2A
        | 0x2D | 0x31 | 0x35 | 0x38 | 0x39 | 0x41 | 0x80 | 0x81 | 0x84 | 0x85 | 0x88 | 0x89 | 0x8C => {
            Destructive
        }
        0xC0..=0xFF => Vendor,
        0x03
        | 0x07
        | 0x0B
        | 0x0E..=0x0F
        | 0x12..=0x13
        | 0x16..=0x17
        | 0x1B
        | 0x1F
        | 0x23
        | 0x26..=0x27
        | 0x2B..=0x2C
        | 0x2E..=0x30
        | 0x32..=0x34
        | 0x36..=0x37
        | 0x3A..=0x3C
        | 0x3F..=0x40
        | 0x43..=0x44
        | 0x46..=0x7B
        | 0x7D..=0x7E
        | 0x83
        | 0x87
        | 0x8A..=0x8B
        | 0x8D..=0xBF => Reserved,
    }
}

/// Features whose Set Features changes state that outlives a reset even
/// without SV: LBA Range Type (stored ranges), Sanitize Config, Flexible
/// Data Placement (endurance group configuration), Namespace Admin Label,
/// Enhanced Controller / Controller / Namespace Metadata, Software Progress
/// Marker, Reservation Persistence, Namespace Write Protection Config
/// (which can be permanent) and Boot Partition Write Protection Config;
/// vendor-specific features (0xC0..=0xFF) are unknown, so counted too.
pub const fn persistent_feature(fid: u8) -> bool {
    matches!(fid, 0x03 | 0x17 | 0x1D | 0x1F | 0x7D..=0x7F | 0x80 | 0x83 | 0x84 | 0x85 | 0xC0..=0xFF)
}

/// Whether a Set Features with these dwords is destructive: it saves the
/// value (SV, dword 10 bit 31) or sets a [`persistent_feature`].
pub const fn set_features_destructive(cdw10: u32) -> bool {
    let cdw10 = nvmeplan_spec::dwords::SetFeaturesCdw10::from_bits(cdw10);
    cdw10.sv() || persistent_feature(cdw10.fid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_opcode_has_a_class_and_the_spec_ones_are_right() {
        let mut counts = std::collections::BTreeMap::new();
        for op in 0..=u8::MAX {
            *counts.entry(format!("{:?}", admin_class(op))).or_insert(0) += 1;
        }
        assert_eq!(counts.values().sum::<u32>(), 256);
        assert_eq!(counts["ReadOnly"], 13);
        assert_eq!(counts["ControllerState"], 9);
        assert_eq!(counts["SetFeatures"], 1);
        assert_eq!(counts["Destructive"], 27);
        assert_eq!(counts["Vendor"], 64);
        assert_eq!(counts["Reserved"], 142);
        for (op, class) in [
            (0x81, AdminClass::Destructive),
            (0x24, AdminClass::Destructive),
            (0x1C, AdminClass::Destructive),
            (0x20, AdminClass::Destructive),
            (0x19, AdminClass::Destructive),
            (0x1D, AdminClass::Destructive),
            (0x41, AdminClass::Destructive),
            (0x7C, AdminClass::ControllerState),
            (0x18, AdminClass::ReadOnly),
            (0x82, AdminClass::ReadOnly),
            (0x03, AdminClass::Reserved),
            (0xC0, AdminClass::Vendor),
        ] {
            assert_eq!(admin_class(op), class, "{op:#04x}");
        }
    }

    #[test]
    fn set_features_by_save_bit_and_feature() {
        assert!(!set_features_destructive(0x06)); // volatile write cache, current only
        assert!(set_features_destructive(0x8000_0006)); // saved
        assert!(set_features_destructive(0x84)); // namespace write protection
        assert!(set_features_destructive(0xC1)); // vendor feature
        assert!(!set_features_destructive(0x07)); // number of queues
    }
}
