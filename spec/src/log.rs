//! Log pages returned by Get Log Page (NVMe Base Specification 2.0).
//!
//! Counters the spec stores as 128-bit little-endian values at offsets that
//! are not 16-byte aligned are byte arrays with `u128` accessors. The
//! device self-test log, whose 28-byte entries leave their 64-bit fields
//! unaligned, uses zerocopy's alignment-1 little-endian integer types.

use crate::identify::{FieldValue, NamedFields, ascii_field, le_uint, set_ascii, set_le_uint};
use zerocopy::byteorder::little_endian::{U16, U32, U64};
use zerocopy::{FromBytes, FromZeros, Immutable, IntoBytes, KnownLayout};

/// Log page identifiers (Get Log Page CDW10 bits 7:0).
pub mod lid {
    /// Error Information.
    pub const ERROR_INFORMATION: u8 = 0x01;
    /// SMART / Health Information.
    pub const SMART_HEALTH: u8 = 0x02;
    /// Firmware Slot Information.
    pub const FIRMWARE_SLOT: u8 = 0x03;
    /// Changed Namespace List.
    pub const CHANGED_NAMESPACE_LIST: u8 = 0x04;
    /// Commands Supported and Effects.
    pub const COMMANDS_SUPPORTED: u8 = 0x05;
    /// Device Self-test.
    pub const DEVICE_SELF_TEST: u8 = 0x06;
    /// Sanitize Status.
    pub const SANITIZE_STATUS: u8 = 0x81;
}

/// An Error Information log entry (log page 01h, 64 bytes each).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct ErrorInformationEntry {
    /// Error Count: a unique, incrementing identifier of the error; 0 marks
    /// an invalid entry (bytes 7:0).
    pub error_count: u64,
    /// Submission Queue ID of the failed command (bytes 9:8).
    pub sqid: u16,
    /// Command ID of the failed command (bytes 11:10).
    pub cid: u16,
    /// Status Field, as in the completion (bit 0 is the phase tag)
    /// (bytes 13:12).
    pub status: u16,
    /// Parameter Error Location: bits 7:0 byte, bits 10:8 bit (bytes 15:14).
    pub parameter_error_location: u16,
    /// First LBA that experienced the error (bytes 23:16).
    pub lba: u64,
    /// Namespace of the error (bytes 27:24).
    pub nsid: u32,
    /// Vendor Specific Information Available: a log page ID or 0 (byte 28).
    pub vendor_specific: u8,
    /// Transport Type (byte 29).
    pub trtype: u8,
    /// Reserved (bytes 31:30).
    pub rsvd30: [u8; 2],
    /// Command Specific Information (bytes 39:32).
    pub command_specific: u64,
    /// Transport Type Specific Information (bytes 41:40).
    pub transport_specific: u16,
    /// Reserved (bytes 63:42).
    pub rsvd42: [u8; 22],
}

const _: () = assert!(size_of::<ErrorInformationEntry>() == 64);

impl NamedFields for ErrorInformationEntry {
    fn fields(&self) -> Vec<(&'static str, FieldValue)> {
        vec![
            ("error_count", self.error_count.into()),
            ("sqid", self.sqid.into()),
            ("cid", self.cid.into()),
            ("status", self.status.into()),
            ("sct", ((self.status >> 9) & 0x7).into()),
            ("sc", ((self.status >> 1) & 0xFF).into()),
            ("parameter_error_location", self.parameter_error_location.into()),
            ("lba", self.lba.into()),
            ("nsid", self.nsid.into()),
            ("vendor_specific", self.vendor_specific.into()),
            ("trtype", self.trtype.into()),
            ("command_specific", self.command_specific.into()),
            ("transport_specific", self.transport_specific.into()),
        ]
    }
}

/// Bits of the SMART / Health Critical Warning field.
pub mod critical_warning {
    /// Available spare capacity fell below the threshold.
    pub const SPARE: u8 = 1 << 0;
    /// A temperature is above an over temperature threshold or below an
    /// under temperature threshold.
    pub const TEMPERATURE: u8 = 1 << 1;
    /// NVM subsystem reliability is degraded by media or internal errors.
    pub const RELIABILITY: u8 = 1 << 2;
    /// All media is read-only.
    pub const READ_ONLY: u8 = 1 << 3;
    /// The volatile memory backup device failed.
    pub const VOLATILE_BACKUP_FAILED: u8 = 1 << 4;
    /// The persistent memory region became read-only or unreliable.
    pub const PMR_READ_ONLY: u8 = 1 << 5;
}

/// The SMART / Health Information log page (log page 02h, 512 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct SmartHealthLog {
    /// Critical Warning, see [`critical_warning`] (byte 0).
    pub critical_warning: u8,
    /// Composite Temperature in Kelvin, little-endian (bytes 2:1); see
    /// [`SmartHealthLog::composite_temperature`].
    pub composite_temperature: [u8; 2],
    /// Available Spare, percent (byte 3).
    pub available_spare: u8,
    /// Available Spare Threshold, percent (byte 4).
    pub available_spare_threshold: u8,
    /// Percentage Used (byte 5).
    pub percentage_used: u8,
    /// Endurance Group Critical Warning Summary (byte 6).
    pub endurance_group_critical_warning: u8,
    /// Reserved (bytes 31:7).
    pub rsvd7: [u8; 25],
    /// Data Units Read, in 1000 x 512-byte units (bytes 47:32).
    pub data_units_read: [u8; 16],
    /// Data Units Written, in 1000 x 512-byte units (bytes 63:48).
    pub data_units_written: [u8; 16],
    /// Host Read Commands (bytes 79:64).
    pub host_read_commands: [u8; 16],
    /// Host Write Commands (bytes 95:80).
    pub host_write_commands: [u8; 16],
    /// Controller Busy Time, in minutes (bytes 111:96).
    pub controller_busy_time: [u8; 16],
    /// Power Cycles (bytes 127:112).
    pub power_cycles: [u8; 16],
    /// Power On Hours (bytes 143:128).
    pub power_on_hours: [u8; 16],
    /// Unsafe Shutdowns (bytes 159:144).
    pub unsafe_shutdowns: [u8; 16],
    /// Media and Data Integrity Errors (bytes 175:160).
    pub media_errors: [u8; 16],
    /// Number of Error Information Log Entries (bytes 191:176).
    pub num_error_log_entries: [u8; 16],
    /// Warning Composite Temperature Time, in minutes (bytes 195:192).
    pub warning_temp_time: u32,
    /// Critical Composite Temperature Time, in minutes (bytes 199:196).
    pub critical_comp_time: u32,
    /// Temperature Sensors 1 to 8, in Kelvin, 0 when absent (bytes 215:200).
    pub temperature_sensors: [u16; 8],
    /// Thermal Management Temperature 1 Transition Count (bytes 219:216).
    pub tmt1_transition_count: u32,
    /// Thermal Management Temperature 2 Transition Count (bytes 223:220).
    pub tmt2_transition_count: u32,
    /// Total Time For Thermal Management Temperature 1, in seconds
    /// (bytes 227:224).
    pub tmt1_total_time: u32,
    /// Total Time For Thermal Management Temperature 2, in seconds
    /// (bytes 231:228).
    pub tmt2_total_time: u32,
    /// Reserved (bytes 511:232).
    pub rsvd232: [u8; 280],
}

const _: () = assert!(size_of::<SmartHealthLog>() == 512);

impl Default for SmartHealthLog {
    fn default() -> Self {
        Self::new_zeroed()
    }
}

macro_rules! u128_counters {
    ($($field:ident, $setter:ident;)*) => {
        impl SmartHealthLog {
            $(
                #[doc = concat!("The `", stringify!($field), "` counter.")]
                pub fn $field(&self) -> u128 {
                    le_uint(&self.$field)
                }

                #[doc = concat!("Sets the `", stringify!($field), "` counter.")]
                pub fn $setter(&mut self, value: u128) {
                    set_le_uint(&mut self.$field, value);
                }
            )*

            /// The 128-bit counters, by field name, in layout order.
            pub fn counters(&self) -> [(&'static str, u128); 10] {
                [$((stringify!($field), self.$field()),)*]
            }
        }
    };
}

u128_counters! {
    data_units_read, set_data_units_read;
    data_units_written, set_data_units_written;
    host_read_commands, set_host_read_commands;
    host_write_commands, set_host_write_commands;
    controller_busy_time, set_controller_busy_time;
    power_cycles, set_power_cycles;
    power_on_hours, set_power_on_hours;
    unsafe_shutdowns, set_unsafe_shutdowns;
    media_errors, set_media_errors;
    num_error_log_entries, set_num_error_log_entries;
}

impl SmartHealthLog {
    /// An all-zero log page.
    pub fn zeroed() -> Self {
        Self::new_zeroed()
    }

    /// The composite temperature in Kelvin.
    pub const fn composite_temperature(&self) -> u16 {
        u16::from_le_bytes(self.composite_temperature)
    }

    /// Sets the composite temperature in Kelvin.
    pub fn set_composite_temperature(&mut self, kelvin: u16) {
        self.composite_temperature = kelvin.to_le_bytes();
    }
}

impl NamedFields for SmartHealthLog {
    fn fields(&self) -> Vec<(&'static str, FieldValue)> {
        let mut v = vec![
            ("critical_warning", self.critical_warning.into()),
            ("composite_temperature", self.composite_temperature().into()),
            ("available_spare", self.available_spare.into()),
            ("available_spare_threshold", self.available_spare_threshold.into()),
            ("percentage_used", self.percentage_used.into()),
            ("endurance_group_critical_warning", self.endurance_group_critical_warning.into()),
        ];
        v.extend(self.counters().into_iter().map(|(n, c)| (n, FieldValue::Int(c))));
        v.push(("warning_temp_time", self.warning_temp_time.into()));
        v.push(("critical_comp_time", self.critical_comp_time.into()));
        const SENSORS: [&str; 8] = [
            "temperature_sensor1",
            "temperature_sensor2",
            "temperature_sensor3",
            "temperature_sensor4",
            "temperature_sensor5",
            "temperature_sensor6",
            "temperature_sensor7",
            "temperature_sensor8",
        ];
        v.extend(SENSORS.iter().zip(self.temperature_sensors).map(|(n, t)| (*n, t.into())));
        v.push(("tmt1_transition_count", self.tmt1_transition_count.into()));
        v.push(("tmt2_transition_count", self.tmt2_transition_count.into()));
        v.push(("tmt1_total_time", self.tmt1_total_time.into()));
        v.push(("tmt2_total_time", self.tmt2_total_time.into()));
        v
    }
}

/// The Firmware Slot Information log page (log page 03h, 512 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct FirmwareSlotLog {
    /// Active Firmware Info: bits 2:0 the active slot, bits 6:4 the slot
    /// activated at the next reset (0: none) (byte 0).
    pub afi: u8,
    /// Reserved (bytes 7:1).
    pub rsvd1: [u8; 7],
    /// Firmware Revision for slots 1 to 7, ASCII, space padded; all zero
    /// when the slot is empty (bytes 63:8).
    pub frs: [[u8; 8]; 7],
    /// Reserved (bytes 511:64).
    pub rsvd64: [u8; 448],
}

const _: () = assert!(size_of::<FirmwareSlotLog>() == 512);

impl Default for FirmwareSlotLog {
    fn default() -> Self {
        Self::new_zeroed()
    }
}

impl FirmwareSlotLog {
    /// An all-zero log page.
    pub fn zeroed() -> Self {
        Self::new_zeroed()
    }

    /// The slot the running firmware came from (AFI bits 2:0).
    pub const fn active_slot(&self) -> u8 {
        self.afi & 0x7
    }

    /// The slot to be activated at the next reset (AFI bits 6:4), if any.
    pub const fn next_slot(&self) -> Option<u8> {
        match (self.afi >> 4) & 0x7 {
            0 => None,
            s => Some(s),
        }
    }

    /// Sets AFI from the active slot and the slot for the next reset.
    pub fn set_afi(&mut self, active: u8, next: Option<u8>) {
        self.afi = (active & 0x7) | ((next.unwrap_or(0) & 0x7) << 4);
    }

    /// The revision in `slot` (1 to 7), or `None` when the slot number is out
    /// of range or the slot is empty.
    pub fn revision(&self, slot: u8) -> Option<String> {
        let frs = self.frs.get(usize::from(slot).checked_sub(1)?)?;
        if frs.iter().all(|&b| b == 0) {
            return None;
        }
        Some(ascii_field(frs))
    }

    /// Stores `revision` (space padded) in `slot` (1 to 7), or empties the
    /// slot for `None`. Out of range slots are ignored.
    pub fn set_revision(&mut self, slot: u8, revision: Option<&str>) {
        let Some(frs) = usize::from(slot).checked_sub(1).and_then(|i| self.frs.get_mut(i)) else {
            return;
        };
        match revision {
            Some(r) => set_ascii(frs, r),
            None => *frs = [0; 8],
        }
    }
}

impl NamedFields for FirmwareSlotLog {
    fn fields(&self) -> Vec<(&'static str, FieldValue)> {
        const NAMES: [&str; 7] = ["frs1", "frs2", "frs3", "frs4", "frs5", "frs6", "frs7"];
        let mut v = vec![
            ("afi", self.afi.into()),
            ("active_slot", self.active_slot().into()),
            ("next_slot", self.next_slot().unwrap_or(0).into()),
        ];
        v.extend(NAMES.iter().zip(&self.frs).map(|(n, frs)| (*n, FieldValue::Text(ascii_field(frs)))));
        v
    }
}

/// Device self-test codes (Device Self-test CDW10 bits 3:0, and bits 7:4 of
/// a result's status) and result codes (bits 3:0 of a result's status).
pub mod self_test {
    /// No device self-test operation in progress (current operation).
    pub const NONE: u8 = 0x0;
    /// Short device self-test.
    pub const SHORT: u8 = 0x1;
    /// Extended device self-test.
    pub const EXTENDED: u8 = 0x2;
    /// Vendor specific device self-test.
    pub const VENDOR: u8 = 0xE;
    /// Abort the device self-test in progress.
    pub const ABORT: u8 = 0xF;

    /// Operation completed without error.
    pub const COMPLETED_WITHOUT_ERROR: u8 = 0x0;
    /// Operation aborted by a Device Self-test command.
    pub const ABORTED_BY_COMMAND: u8 = 0x1;
    /// Operation aborted by a Controller Level Reset.
    pub const ABORTED_BY_RESET: u8 = 0x2;
    /// Operation aborted due to removal of a namespace.
    pub const ABORTED_BY_NS_REMOVAL: u8 = 0x3;
    /// Operation aborted due to a Format NVM command.
    pub const ABORTED_BY_FORMAT: u8 = 0x4;
    /// A fatal error or unknown test error occurred.
    pub const FATAL_ERROR: u8 = 0x5;
    /// Operation completed with a segment that failed, segment unknown.
    pub const UNKNOWN_SEGMENT_FAILED: u8 = 0x6;
    /// Operation completed with one or more failed segments.
    pub const ONE_OR_MORE_SEGMENTS_FAILED: u8 = 0x7;
    /// Operation aborted for an unknown reason.
    pub const ABORTED_UNKNOWN: u8 = 0x8;
    /// Operation aborted due to a sanitize operation.
    pub const ABORTED_BY_SANITIZE: u8 = 0x9;
    /// The entry does not contain a valid result.
    pub const ENTRY_NOT_USED: u8 = 0xF;

    /// Valid Diagnostic Information: the NSID field is valid.
    pub const NSID_VALID: u8 = 1 << 0;
    /// Valid Diagnostic Information: the Failing LBA field is valid.
    pub const FLBA_VALID: u8 = 1 << 1;
    /// Valid Diagnostic Information: the Status Code Type field is valid.
    pub const SCT_VALID: u8 = 1 << 2;
    /// Valid Diagnostic Information: the Status Code field is valid.
    pub const SC_VALID: u8 = 1 << 3;
}

/// A Self-test Result Data Structure (28 bytes, alignment 1).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct SelfTestResult {
    /// Device Self-test Status: bits 3:0 result, bits 7:4 self-test code
    /// (byte 0).
    pub status: u8,
    /// Segment Number of the first failed segment (byte 1).
    pub segment_number: u8,
    /// Valid Diagnostic Information, see the `*_VALID` constants in
    /// [`self_test`] (byte 2).
    pub valid_diagnostic_info: u8,
    /// Reserved (byte 3).
    pub rsvd3: u8,
    /// Power On Hours when the operation completed or aborted (bytes 11:4).
    pub power_on_hours: U64,
    /// Namespace Identifier (bytes 15:12).
    pub nsid: U32,
    /// Failing LBA (bytes 23:16).
    pub failing_lba: U64,
    /// Status Code Type (bits 2:0) (byte 24).
    pub status_code_type: u8,
    /// Status Code (byte 25).
    pub status_code: u8,
    /// Vendor Specific (bytes 27:26).
    pub vendor_specific: U16,
}

const _: () = assert!(size_of::<SelfTestResult>() == 28);

impl SelfTestResult {
    /// An entry marked unused (result Fh).
    pub fn unused() -> Self {
        SelfTestResult { status: self_test::ENTRY_NOT_USED, ..Default::default() }
    }

    /// A result of test `code` with `result`, everything else zero.
    pub fn new(code: u8, result: u8) -> Self {
        SelfTestResult { status: ((code & 0xF) << 4) | (result & 0xF), ..Default::default() }
    }

    /// The result (status bits 3:0).
    pub const fn result(&self) -> u8 {
        self.status & 0xF
    }

    /// The self-test code (status bits 7:4).
    pub const fn code(&self) -> u8 {
        self.status >> 4
    }

    /// Whether the entry holds a result.
    pub const fn is_used(&self) -> bool {
        self.result() != self_test::ENTRY_NOT_USED
    }
}

/// The Device Self-test log page (log page 06h, 564 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct SelfTestLog {
    /// Current Device Self-Test Operation (bits 3:0), 0 when none (byte 0).
    pub current_operation: u8,
    /// Current Device Self-Test Completion, percent (bits 6:0) (byte 1).
    pub current_completion: u8,
    /// Reserved (bytes 3:2).
    pub rsvd2: [u8; 2],
    /// The 20 most recent results, newest first (bytes 563:4).
    pub results: [SelfTestResult; 20],
}

const _: () = assert!(size_of::<SelfTestLog>() == 564);

impl Default for SelfTestLog {
    /// Same as [`SelfTestLog::new`].
    fn default() -> Self {
        Self::new()
    }
}

impl SelfTestLog {
    /// A log with no operation in progress and every entry unused.
    pub fn new() -> Self {
        let mut log = Self::new_zeroed();
        log.results = [SelfTestResult::unused(); 20];
        log
    }

    /// Adds `result` as the newest entry, dropping the oldest.
    pub fn push_result(&mut self, result: SelfTestResult) {
        self.results.copy_within(0..19, 1);
        self.results[0] = result;
    }

    /// The newest result, if any entry is used.
    pub fn newest(&self) -> Option<&SelfTestResult> {
        self.results.first().filter(|r| r.is_used())
    }
}

impl NamedFields for SelfTestLog {
    fn fields(&self) -> Vec<(&'static str, FieldValue)> {
        let r = &self.results[0];
        vec![
            ("current_operation", (self.current_operation & 0xF).into()),
            ("current_completion", (self.current_completion & 0x7F).into()),
            ("result0_status", r.status.into()),
            ("result0_result", r.result().into()),
            ("result0_code", r.code().into()),
            ("result0_segment_number", r.segment_number.into()),
            ("result0_valid_diagnostic_info", r.valid_diagnostic_info.into()),
            ("result0_power_on_hours", r.power_on_hours.get().into()),
            ("result0_nsid", r.nsid.get().into()),
            ("result0_failing_lba", r.failing_lba.get().into()),
            ("result0_status_code_type", r.status_code_type.into()),
            ("result0_status_code", r.status_code.into()),
            ("results_used", (self.results.iter().filter(|r| r.is_used()).count() as u64).into()),
        ]
    }
}

/// Sanitize actions (Sanitize CDW10 bits 2:0), CDW10 fields and Sanitize
/// Status (SSTAT) values.
pub mod sanitize {
    /// Exit Failure Mode.
    pub const EXIT_FAILURE_MODE: u8 = 1;
    /// Start a Block Erase sanitize operation.
    pub const BLOCK_ERASE: u8 = 2;
    /// Start an Overwrite sanitize operation.
    pub const OVERWRITE: u8 = 3;
    /// Start a Crypto Erase sanitize operation.
    pub const CRYPTO_ERASE: u8 = 4;

    /// CDW10 mask of the Sanitize Action.
    pub const CDW10_SANACT_MASK: u32 = 0x7;
    /// CDW10 Allow Unrestricted Sanitize Exit.
    pub const CDW10_AUSE: u32 = 1 << 3;
    /// CDW10 shift of the Overwrite Pass Count (bits 7:4).
    pub const CDW10_OWPASS_SHIFT: u32 = 4;
    /// CDW10 Overwrite Invert Pattern Between Passes.
    pub const CDW10_OIPBP: u32 = 1 << 8;
    /// CDW10 No-Deallocate After Sanitize.
    pub const CDW10_NDAS: u32 = 1 << 9;

    /// SSTAT: the NVM subsystem has never been sanitized.
    pub const STATUS_NEVER_SANITIZED: u8 = 0;
    /// SSTAT: the most recent sanitize operation completed successfully.
    pub const STATUS_COMPLETED: u8 = 1;
    /// SSTAT: a sanitize operation is in progress.
    pub const STATUS_IN_PROGRESS: u8 = 2;
    /// SSTAT: the most recent sanitize operation failed.
    pub const STATUS_FAILED: u8 = 3;
    /// SSTAT: completed successfully with deallocation of all user data
    /// not performed (no-deallocate).
    pub const STATUS_COMPLETED_NO_DEALLOCATE: u8 = 4;
    /// SSTAT mask of the status (bits 2:0).
    pub const SSTAT_STATUS_MASK: u16 = 0x7;
    /// SSTAT shift of the Overwrite Passes completed (bits 7:3).
    pub const SSTAT_PASSES_SHIFT: u16 = 3;
    /// SSTAT Global Data Erased (bit 8).
    pub const SSTAT_GLOBAL_DATA_ERASED: u16 = 1 << 8;
}

/// The Sanitize Status log page (log page 81h, 512 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct SanitizeStatusLog {
    /// Sanitize Progress: the numerator of a fraction of 65536 (bytes 1:0).
    pub sprog: u16,
    /// Sanitize Status, see [`sanitize`] (bytes 3:2).
    pub sstat: u16,
    /// Sanitize Command Dword 10 of the most recent sanitize (bytes 7:4).
    pub scdw10: u32,
    /// Estimated Time For Overwrite, in seconds; FFFFFFFFh no estimate
    /// (bytes 11:8).
    pub eto: u32,
    /// Estimated Time For Block Erase (bytes 15:12).
    pub etbe: u32,
    /// Estimated Time For Crypto Erase (bytes 19:16).
    pub etce: u32,
    /// Estimated Time For Overwrite With No-Deallocate (bytes 23:20).
    pub etond: u32,
    /// Estimated Time For Block Erase With No-Deallocate (bytes 27:24).
    pub etbend: u32,
    /// Estimated Time For Crypto Erase With No-Deallocate (bytes 31:28).
    pub etcend: u32,
    /// Reserved (bytes 511:32).
    pub rsvd32: [u8; 480],
}

const _: () = assert!(size_of::<SanitizeStatusLog>() == 512);

impl Default for SanitizeStatusLog {
    fn default() -> Self {
        Self::new_zeroed()
    }
}

impl SanitizeStatusLog {
    /// An all-zero log page (never sanitized).
    pub fn zeroed() -> Self {
        Self::new_zeroed()
    }

    /// The status of the most recent sanitize operation (SSTAT bits 2:0).
    pub const fn status(&self) -> u8 {
        (self.sstat & sanitize::SSTAT_STATUS_MASK) as u8
    }

    /// Completed overwrite passes (SSTAT bits 7:3).
    pub const fn overwrite_passes(&self) -> u8 {
        ((self.sstat >> sanitize::SSTAT_PASSES_SHIFT) & 0x1F) as u8
    }

    /// Global Data Erased (SSTAT bit 8).
    pub const fn global_data_erased(&self) -> bool {
        self.sstat & sanitize::SSTAT_GLOBAL_DATA_ERASED != 0
    }

    /// Sets SSTAT from its parts.
    pub fn set_sstat(&mut self, status: u8, overwrite_passes: u8, global_data_erased: bool) {
        self.sstat = (u16::from(status) & sanitize::SSTAT_STATUS_MASK)
            | ((u16::from(overwrite_passes) & 0x1F) << sanitize::SSTAT_PASSES_SHIFT)
            | if global_data_erased { sanitize::SSTAT_GLOBAL_DATA_ERASED } else { 0 };
    }

    /// Progress as a fraction in 0.0 to 1.0.
    pub fn progress(&self) -> f64 {
        f64::from(self.sprog) / 65536.0
    }
}

impl NamedFields for SanitizeStatusLog {
    fn fields(&self) -> Vec<(&'static str, FieldValue)> {
        vec![
            ("sprog", self.sprog.into()),
            ("sstat", self.sstat.into()),
            ("status", self.status().into()),
            ("overwrite_passes", self.overwrite_passes().into()),
            ("global_data_erased", self.global_data_erased().into()),
            ("scdw10", self.scdw10.into()),
            ("eto", self.eto.into()),
            ("etbe", self.etbe.into()),
            ("etce", self.etce.into()),
            ("etond", self.etond.into()),
            ("etbend", self.etbend.into()),
            ("etcend", self.etcend.into()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::offset_of;

    #[test]
    fn error_entry_offsets() {
        assert_eq!(offset_of!(ErrorInformationEntry, lba), 16);
        assert_eq!(offset_of!(ErrorInformationEntry, nsid), 24);
        assert_eq!(offset_of!(ErrorInformationEntry, vendor_specific), 28);
        assert_eq!(offset_of!(ErrorInformationEntry, trtype), 29);
        assert_eq!(offset_of!(ErrorInformationEntry, command_specific), 32);
        assert_eq!(offset_of!(ErrorInformationEntry, transport_specific), 40);
        let e = ErrorInformationEntry {
            error_count: 3,
            sqid: 1,
            cid: 0x1234,
            status: (0x2 << 9) | (0x81 << 1),
            lba: 0x55,
            nsid: 1,
            ..Default::default()
        };
        let b = e.as_bytes();
        assert_eq!(b[0], 3);
        assert_eq!(&b[10..12], &[0x34, 0x12]);
        assert_eq!(b[16], 0x55);
        assert_eq!(e.field("sct"), Some(FieldValue::Int(2)));
        assert_eq!(e.field("sc"), Some(FieldValue::Int(0x81)));
        assert_eq!(e.field("cid"), Some(FieldValue::Int(0x1234)));
    }

    #[test]
    fn smart_counters_at_spec_offsets() {
        assert_eq!(offset_of!(SmartHealthLog, data_units_read), 32);
        assert_eq!(offset_of!(SmartHealthLog, power_cycles), 112);
        assert_eq!(offset_of!(SmartHealthLog, unsafe_shutdowns), 144);
        assert_eq!(offset_of!(SmartHealthLog, media_errors), 160);
        assert_eq!(offset_of!(SmartHealthLog, num_error_log_entries), 176);
        assert_eq!(offset_of!(SmartHealthLog, warning_temp_time), 192);
        assert_eq!(offset_of!(SmartHealthLog, temperature_sensors), 200);
        assert_eq!(offset_of!(SmartHealthLog, tmt2_total_time), 228);

        let mut s = SmartHealthLog::zeroed();
        s.critical_warning = critical_warning::TEMPERATURE;
        s.set_composite_temperature(310);
        s.available_spare = 100;
        s.set_data_units_read(0x0102_0304_0506_0708_090A_0B0C_0D0E_0F10);
        s.set_power_cycles(7);
        s.set_unsafe_shutdowns(2);
        s.set_media_errors(u128::MAX);
        s.temperature_sensors[0] = 305;
        let b = s.as_bytes();
        assert_eq!(b[0], 2);
        assert_eq!(&b[1..3], &310u16.to_le_bytes());
        assert_eq!(b[3], 100);
        assert_eq!(b[32], 0x10);
        assert_eq!(b[47], 0x01);
        assert_eq!(b[112], 7);
        assert_eq!(b[144], 2);
        assert_eq!(&b[160..176], &[0xFF; 16]);
        assert_eq!(&b[200..202], &305u16.to_le_bytes());

        assert_eq!(s.data_units_read(), 0x0102_0304_0506_0708_090A_0B0C_0D0E_0F10);
        assert_eq!(s.composite_temperature(), 310);
        assert_eq!(s.field("composite_temperature"), Some(FieldValue::Int(310)));
        assert_eq!(s.field("power_cycles"), Some(FieldValue::Int(7)));
        assert_eq!(s.field("media_errors"), Some(FieldValue::Int(u128::MAX)));
        assert_eq!(s.field("temperature_sensor1"), Some(FieldValue::Int(305)));
        let back = SmartHealthLog::read_from_bytes(b).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn firmware_slots() {
        assert_eq!(offset_of!(FirmwareSlotLog, frs), 8);
        let mut f = FirmwareSlotLog::zeroed();
        f.set_afi(1, Some(2));
        f.set_revision(1, Some("FW1.0"));
        f.set_revision(2, Some("FW2.0"));
        f.set_revision(8, Some("bad"));
        let b = f.as_bytes();
        assert_eq!(b[0], 0x21);
        assert_eq!(&b[8..16], b"FW1.0   ");
        assert_eq!(&b[16..21], b"FW2.0");
        assert_eq!(f.active_slot(), 1);
        assert_eq!(f.next_slot(), Some(2));
        assert_eq!(f.revision(1).as_deref(), Some("FW1.0"));
        assert_eq!(f.revision(3), None);
        assert_eq!(f.revision(0), None);
        assert_eq!(f.revision(8), None);
        assert_eq!(f.field("frs2"), Some(FieldValue::Text("FW2.0".into())));
        assert_eq!(f.field("active_slot"), Some(FieldValue::Int(1)));
        f.set_revision(2, None);
        assert_eq!(f.revision(2), None);
    }

    #[test]
    fn self_test_log_layout() {
        assert_eq!(offset_of!(SelfTestLog, results), 4);
        assert_eq!(offset_of!(SelfTestResult, power_on_hours), 4);
        assert_eq!(offset_of!(SelfTestResult, nsid), 12);
        assert_eq!(offset_of!(SelfTestResult, failing_lba), 16);
        assert_eq!(offset_of!(SelfTestResult, status_code_type), 24);
        assert_eq!(offset_of!(SelfTestResult, vendor_specific), 26);

        let mut log = SelfTestLog::new();
        assert!(log.newest().is_none());
        assert_eq!(log.as_bytes()[4], 0x0F);
        let mut first = SelfTestResult::new(self_test::SHORT, self_test::COMPLETED_WITHOUT_ERROR);
        first.power_on_hours.set(10);
        log.push_result(first);
        let mut second = SelfTestResult::new(self_test::EXTENDED, self_test::ONE_OR_MORE_SEGMENTS_FAILED);
        second.segment_number = 3;
        second.valid_diagnostic_info = self_test::NSID_VALID | self_test::FLBA_VALID;
        second.nsid.set(1);
        second.failing_lba.set(0x1_0000_0001);
        log.push_result(second);
        log.current_operation = self_test::SHORT;
        log.current_completion = 40;

        let b = log.as_bytes();
        assert_eq!(b[0], 1);
        assert_eq!(b[1], 40);
        assert_eq!(b[4], 0x27);
        assert_eq!(b[5], 3);
        assert_eq!(&b[4 + 12..4 + 16], &[1, 0, 0, 0]);
        assert_eq!(&b[4 + 16..4 + 24], &0x1_0000_0001u64.to_le_bytes());
        assert_eq!(b[32], 0x10);
        assert_eq!(b[32 + 4], 10);
        assert_eq!(b[60], 0x0F);

        assert_eq!(log.newest().map(|r| r.code()), Some(self_test::EXTENDED));
        assert_eq!(log.field("result0_status"), Some(FieldValue::Int(0x27)));
        assert_eq!(log.field("result0_failing_lba"), Some(FieldValue::Int(0x1_0000_0001)));
        assert_eq!(log.field("current_completion"), Some(FieldValue::Int(40)));
        assert_eq!(log.field("results_used"), Some(FieldValue::Int(2)));
        let back = SelfTestLog::read_from_bytes(b).unwrap();
        assert_eq!(back, log);
    }

    #[test]
    fn sanitize_status() {
        let mut s = SanitizeStatusLog::zeroed();
        s.sprog = 0x8000;
        s.set_sstat(sanitize::STATUS_IN_PROGRESS, 2, true);
        s.scdw10 = u32::from(sanitize::BLOCK_ERASE);
        s.etbe = 60;
        let b = s.as_bytes();
        assert_eq!(&b[0..2], &[0x00, 0x80]);
        assert_eq!(&b[2..4], &[0x12, 0x01]);
        assert_eq!(b[4], 2);
        assert_eq!(b[12], 60);
        assert_eq!(s.status(), sanitize::STATUS_IN_PROGRESS);
        assert_eq!(s.overwrite_passes(), 2);
        assert!(s.global_data_erased());
        assert_eq!(s.progress(), 0.5);
        assert_eq!(s.field("status"), Some(FieldValue::Int(2)));
        assert_eq!(s.field("etbe"), Some(FieldValue::Int(60)));
    }
}
