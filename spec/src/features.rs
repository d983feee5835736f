//! Feature identifiers of Get Features and Set Features, the encodings of
//! their command dword 11 (Set) and completion dword 0 (Get), and the
//! completion dword 0 of Asynchronous Event Requests (NVMe Base
//! Specification 2.0).

use bitfield_struct::bitfield;

/// Feature identifiers (CDW10 bits 7:0).
pub mod fid {
    /// Arbitration.
    pub const ARBITRATION: u8 = 0x01;
    /// Power Management.
    pub const POWER_MANAGEMENT: u8 = 0x02;
    /// LBA Range Type.
    pub const LBA_RANGE_TYPE: u8 = 0x03;
    /// Temperature Threshold.
    pub const TEMPERATURE_THRESHOLD: u8 = 0x04;
    /// Error Recovery.
    pub const ERROR_RECOVERY: u8 = 0x05;
    /// Volatile Write Cache.
    pub const VOLATILE_WRITE_CACHE: u8 = 0x06;
    /// Number of Queues.
    pub const NUMBER_OF_QUEUES: u8 = 0x07;
    /// Interrupt Coalescing.
    pub const INTERRUPT_COALESCING: u8 = 0x08;
    /// Interrupt Vector Configuration.
    pub const INTERRUPT_VECTOR_CONFIGURATION: u8 = 0x09;
    /// Write Atomicity Normal.
    pub const WRITE_ATOMICITY_NORMAL: u8 = 0x0A;
    /// Asynchronous Event Configuration.
    pub const ASYNC_EVENT_CONFIGURATION: u8 = 0x0B;
    /// Autonomous Power State Transition.
    pub const AUTONOMOUS_POWER_STATE_TRANSITION: u8 = 0x0C;
    /// Host Memory Buffer.
    pub const HOST_MEMORY_BUFFER: u8 = 0x0D;
    /// Timestamp.
    pub const TIMESTAMP: u8 = 0x0E;
    /// Keep Alive Timer.
    pub const KEEP_ALIVE_TIMER: u8 = 0x0F;
}

/// Every feature this crate names, as `(fid, snake_case name)`.
pub const FEATURES: &[(u8, &str)] = &[
    (fid::ARBITRATION, "arbitration"),
    (fid::POWER_MANAGEMENT, "power_management"),
    (fid::LBA_RANGE_TYPE, "lba_range_type"),
    (fid::TEMPERATURE_THRESHOLD, "temperature_threshold"),
    (fid::ERROR_RECOVERY, "error_recovery"),
    (fid::VOLATILE_WRITE_CACHE, "volatile_write_cache"),
    (fid::NUMBER_OF_QUEUES, "number_of_queues"),
    (fid::INTERRUPT_COALESCING, "interrupt_coalescing"),
    (fid::INTERRUPT_VECTOR_CONFIGURATION, "interrupt_vector_configuration"),
    (fid::WRITE_ATOMICITY_NORMAL, "write_atomicity_normal"),
    (fid::ASYNC_EVENT_CONFIGURATION, "async_event_configuration"),
    (fid::AUTONOMOUS_POWER_STATE_TRANSITION, "autonomous_power_state_transition"),
    (fid::HOST_MEMORY_BUFFER, "host_memory_buffer"),
    (fid::TIMESTAMP, "timestamp"),
    (fid::KEEP_ALIVE_TIMER, "keep_alive_timer"),
];

/// The snake_case name of a feature identifier.
pub fn feature_name(fid: u8) -> Option<&'static str> {
    FEATURES.iter().find(|(f, _)| *f == fid).map(|(_, n)| *n)
}

/// The feature identifier for a name, in snake_case or kebab-case, ignoring
/// ASCII case.
pub fn feature_from_name(name: &str) -> Option<u8> {
    let norm = name.trim().to_ascii_lowercase().replace('-', "_");
    FEATURES.iter().find(|(_, n)| *n == norm).map(|(f, _)| *f)
}

/// Get Features Select field values (CDW10 bits 10:8).
pub mod select {
    /// The current value.
    pub const CURRENT: u8 = 0;
    /// The default value.
    pub const DEFAULT: u8 = 1;
    /// The saved value.
    pub const SAVED: u8 = 2;
    /// The supported capabilities (see the `CAP_*` bits).
    pub const SUPPORTED_CAPABILITIES: u8 = 3;

    /// Capabilities bit: the feature is saveable.
    pub const CAP_SAVEABLE: u32 = 1 << 0;
    /// Capabilities bit: the feature is namespace specific.
    pub const CAP_NAMESPACE_SPECIFIC: u32 = 1 << 1;
    /// Capabilities bit: the feature is changeable.
    pub const CAP_CHANGEABLE: u32 = 1 << 2;
}

/// Get Features CDW10: the feature identifier and select field.
pub const fn get_features_cdw10(fid: u8, select: u8) -> u32 {
    fid as u32 | (((select & 0x7) as u32) << 8)
}

/// Set Features CDW10: the feature identifier and the Save bit (bit 31).
pub const fn set_features_cdw10(fid: u8, save: bool) -> u32 {
    fid as u32 | ((save as u32) << 31)
}

/// The feature identifier of a Get or Set Features CDW10.
pub const fn cdw10_fid(cdw10: u32) -> u8 {
    cdw10 as u8
}

/// The Select field of a Get Features CDW10.
pub const fn cdw10_select(cdw10: u32) -> u8 {
    ((cdw10 >> 8) & 0x7) as u8
}

/// The Save bit of a Set Features CDW10.
pub const fn cdw10_save(cdw10: u32) -> bool {
    cdw10 >> 31 == 1
}

/// Arbitration (FID 01h).
#[bitfield(u32)]
#[derive(PartialEq, Eq)]
pub struct Arbitration {
    /// Arbitration Burst, as a power of two; 7 means no limit.
    #[bits(3)]
    pub ab: u8,
    #[bits(5)]
    __: u8,
    /// Low Priority Weight, zero-based.
    pub lpw: u8,
    /// Medium Priority Weight, zero-based.
    pub mpw: u8,
    /// High Priority Weight, zero-based.
    pub hpw: u8,
}

/// Power Management (FID 02h).
#[bitfield(u32)]
#[derive(PartialEq, Eq)]
pub struct PowerManagement {
    /// Power State.
    #[bits(5)]
    pub ps: u8,
    /// Workload Hint.
    #[bits(3)]
    pub wh: u8,
    #[bits(24)]
    __: u32,
}

/// Temperature Threshold (FID 04h).
#[bitfield(u32)]
#[derive(PartialEq, Eq)]
pub struct TemperatureThreshold {
    /// Temperature Threshold, in Kelvin.
    pub tmpth: u16,
    /// Threshold Temperature Select: 0 composite, 1 to 8 sensors, Fh all.
    #[bits(4)]
    pub tmpsel: u8,
    /// Threshold Type Select, see [`TemperatureThreshold::THSEL_OVER`].
    #[bits(2)]
    pub thsel: u8,
    #[bits(10)]
    __: u16,
}

impl TemperatureThreshold {
    /// THSEL: over temperature threshold.
    pub const THSEL_OVER: u8 = 0;
    /// THSEL: under temperature threshold.
    pub const THSEL_UNDER: u8 = 1;
    /// TMPSEL: the composite temperature.
    pub const TMPSEL_COMPOSITE: u8 = 0;
}

/// Error Recovery (FID 05h).
#[bitfield(u32)]
#[derive(PartialEq, Eq)]
pub struct ErrorRecovery {
    /// Time Limited Error Recovery, in 100 ms units; 0 means no limit.
    pub tler: u16,
    /// Deallocated or Unwritten Logical Block Error Enable.
    pub dulbe: bool,
    #[bits(15)]
    __: u16,
}

/// Volatile Write Cache (FID 06h).
#[bitfield(u32)]
#[derive(PartialEq, Eq)]
pub struct VolatileWriteCache {
    /// Volatile Write Cache Enable.
    pub wce: bool,
    #[bits(31)]
    __: u32,
}

/// Number of Queues (FID 07h): requested in CDW11, allocated in CDW0.
#[bitfield(u32)]
#[derive(PartialEq, Eq)]
pub struct NumberOfQueues {
    /// Number of I/O Submission Queues, zero-based.
    pub nsqr: u16,
    /// Number of I/O Completion Queues, zero-based.
    pub ncqr: u16,
}

impl NumberOfQueues {
    /// From one-based counts (each at least 1; values are saturated to the
    /// field range).
    pub const fn from_counts(submission_queues: u32, completion_queues: u32) -> Self {
        const fn zero_based(n: u32) -> u16 {
            let n = if n == 0 { 0 } else { n - 1 };
            if n > u16::MAX as u32 { u16::MAX } else { n as u16 }
        }
        NumberOfQueues::new()
            .with_nsqr(zero_based(submission_queues))
            .with_ncqr(zero_based(completion_queues))
    }

    /// The number of I/O submission queues, one-based.
    pub const fn submission_queues(&self) -> u32 {
        self.nsqr() as u32 + 1
    }

    /// The number of I/O completion queues, one-based.
    pub const fn completion_queues(&self) -> u32 {
        self.ncqr() as u32 + 1
    }
}

/// Interrupt Coalescing (FID 08h).
#[bitfield(u32)]
#[derive(PartialEq, Eq)]
pub struct InterruptCoalescing {
    /// Aggregation Threshold, zero-based completion entries.
    pub thr: u8,
    /// Aggregation Time, in 100 microsecond units.
    pub time: u8,
    __: u16,
}

/// Interrupt Vector Configuration (FID 09h).
#[bitfield(u32)]
#[derive(PartialEq, Eq)]
pub struct InterruptVectorConfiguration {
    /// Interrupt Vector.
    pub iv: u16,
    /// Coalescing Disable.
    pub cd: bool,
    #[bits(15)]
    __: u16,
}

/// Write Atomicity Normal (FID 0Ah).
#[bitfield(u32)]
#[derive(PartialEq, Eq)]
pub struct WriteAtomicityNormal {
    /// Disable Normal: only AWUPF / NAWUPF atomicity applies.
    pub dn: bool,
    #[bits(31)]
    __: u32,
}

/// Asynchronous Event Configuration (FID 0Bh).
#[bitfield(u32)]
#[derive(PartialEq, Eq)]
pub struct AsyncEventConfiguration {
    /// SMART / Health Critical Warnings that generate events (bits as in the
    /// Critical Warning field).
    pub shcw: u8,
    /// Namespace Attribute Notices.
    pub nans: bool,
    /// Firmware Activation Notices.
    pub fans: bool,
    /// Telemetry Log Notices.
    pub tlns: bool,
    /// Asymmetric Namespace Access Change Notices.
    pub anacns: bool,
    /// Predictable Latency Event Aggregate Log Change Notices.
    pub pleacns: bool,
    /// LBA Status Information Notices.
    pub lsins: bool,
    /// Endurance Group Event Aggregate Log Change Notices.
    pub egealcns: bool,
    #[bits(17)]
    __: u32,
}

/// Autonomous Power State Transition (FID 0Ch).
#[bitfield(u32)]
#[derive(PartialEq, Eq)]
pub struct AutonomousPowerStateTransition {
    /// Autonomous Power State Transition Enable.
    pub apste: bool,
    #[bits(31)]
    __: u32,
}

/// Host Memory Buffer (FID 0Dh) CDW11.
#[bitfield(u32)]
#[derive(PartialEq, Eq)]
pub struct HostMemoryBuffer {
    /// Enable Host Memory.
    pub ehm: bool,
    /// Memory Return.
    pub mr: bool,
    #[bits(30)]
    __: u32,
}

/// Asynchronous Event Request completion dword 0: event types, event
/// information values and their encoding.
pub mod async_event {
    /// Event type: error status.
    pub const ERROR: u8 = 0;
    /// Event type: SMART / Health status.
    pub const SMART_HEALTH: u8 = 1;
    /// Event type: notice.
    pub const NOTICE: u8 = 2;
    /// Event type: immediate.
    pub const IMMEDIATE: u8 = 3;
    /// Event type: one-shot.
    pub const ONE_SHOT: u8 = 4;
    /// Event type: I/O command set specific status.
    pub const IO_COMMAND_SET: u8 = 6;
    /// Event type: vendor specific.
    pub const VENDOR: u8 = 7;

    /// Error info: write to an invalid doorbell register.
    pub const INVALID_DOORBELL: u8 = 0;
    /// Error info: invalid doorbell write value.
    pub const INVALID_DOORBELL_VALUE: u8 = 1;
    /// Error info: diagnostic failure.
    pub const DIAGNOSTIC_FAILURE: u8 = 2;
    /// Error info: persistent internal error.
    pub const PERSISTENT_INTERNAL_ERROR: u8 = 3;
    /// Error info: transient internal error.
    pub const TRANSIENT_INTERNAL_ERROR: u8 = 4;
    /// Error info: firmware image load error.
    pub const FIRMWARE_IMAGE_LOAD_ERROR: u8 = 5;

    /// SMART / Health info: NVM subsystem reliability.
    pub const RELIABILITY: u8 = 0;
    /// SMART / Health info: temperature threshold.
    pub const TEMPERATURE_THRESHOLD: u8 = 1;
    /// SMART / Health info: spare below threshold.
    pub const SPARE_BELOW_THRESHOLD: u8 = 2;

    /// Notice info: namespace attribute changed.
    pub const NAMESPACE_ATTRIBUTE_CHANGED: u8 = 0;
    /// Notice info: firmware activation starting.
    pub const FIRMWARE_ACTIVATION_STARTING: u8 = 1;
    /// Notice info: telemetry log changed.
    pub const TELEMETRY_LOG_CHANGED: u8 = 2;

    /// Completion dword 0 for an event: type in bits 2:0, information in
    /// bits 15:8, the associated log page in bits 23:16.
    pub const fn encode_dw0(event_type: u8, info: u8, log_page: u8) -> u32 {
        (event_type & 0x7) as u32 | ((info as u32) << 8) | ((log_page as u32) << 16)
    }

    /// Splits completion dword 0 into `(event_type, info, log_page)`.
    pub const fn decode_dw0(dw0: u32) -> (u8, u8, u8) {
        ((dw0 & 0x7) as u8, (dw0 >> 8) as u8, (dw0 >> 16) as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for &(f, n) in FEATURES {
            assert_eq!(feature_name(f), Some(n));
            assert_eq!(feature_from_name(n), Some(f));
        }
        assert_eq!(feature_from_name("Volatile-Write-Cache"), Some(fid::VOLATILE_WRITE_CACHE));
        assert_eq!(feature_from_name("nope"), None);
        assert_eq!(feature_name(0xC0), None);
    }

    #[test]
    fn cdw10_helpers() {
        let c = get_features_cdw10(fid::NUMBER_OF_QUEUES, select::SAVED);
        assert_eq!(c, 0x207);
        assert_eq!(cdw10_fid(c), 7);
        assert_eq!(cdw10_select(c), 2);
        let s = set_features_cdw10(fid::ARBITRATION, true);
        assert_eq!(s, 0x8000_0001);
        assert!(cdw10_save(s));
    }

    #[test]
    fn dword_encodings() {
        let arb = Arbitration::new().with_ab(7).with_lpw(1).with_mpw(2).with_hpw(3);
        assert_eq!(arb.into_bits(), 0x0302_0107);
        assert_eq!(PowerManagement::new().with_ps(3).with_wh(2).into_bits(), 0x43);
        let t = TemperatureThreshold::new()
            .with_tmpth(358)
            .with_tmpsel(1)
            .with_thsel(TemperatureThreshold::THSEL_UNDER);
        assert_eq!(t.into_bits(), 358 | (1 << 16) | (1 << 20));
        assert_eq!(ErrorRecovery::new().with_tler(5).with_dulbe(true).into_bits(), 0x1_0005);
        assert_eq!(VolatileWriteCache::new().with_wce(true).into_bits(), 1);
        let q = NumberOfQueues::from_counts(4, 8);
        assert_eq!(q.into_bits(), 0x0007_0003);
        assert_eq!(q.submission_queues(), 4);
        assert_eq!(q.completion_queues(), 8);
        assert_eq!(NumberOfQueues::from_counts(0, 1 << 20).into_bits(), 0xFFFF_0000);
        assert_eq!(InterruptCoalescing::new().with_thr(4).with_time(10).into_bits(), 0x0A04);
        assert_eq!(InterruptVectorConfiguration::new().with_iv(2).with_cd(true).into_bits(), 0x1_0002);
        let aec = AsyncEventConfiguration::new().with_shcw(0x1F).with_nans(true).with_fans(true);
        assert_eq!(aec.into_bits(), 0x31F);
    }

    #[test]
    fn async_event_dw0() {
        let dw0 =
            async_event::encode_dw0(async_event::NOTICE, async_event::FIRMWARE_ACTIVATION_STARTING, 0x03);
        assert_eq!(dw0, 0x0003_0102);
        assert_eq!(async_event::decode_dw0(dw0), (2, 1, 3));
    }
}
