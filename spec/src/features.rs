//! Feature identifiers of Get Features and Set Features, the encodings of
//! their command dword 11 (Set) and completion dword 0 (Get), and the
//! completion dword 0 of Asynchronous Event Requests (NVMe Base
//! Specification 2.0).

use crate::dwords::{GetFeaturesCdw10, SetFeaturesCdw10};
use crate::layout::{BitField, bits};

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
    let norm = crate::names::canonical(name);
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

/// Get Features CDW10: the feature identifier and select field (the low
/// three bits of `select`).
pub const fn get_features_cdw10(fid: u8, select: u8) -> u32 {
    GetFeaturesCdw10::new()
        .with_fid(fid)
        .with_sel(crate::dwords::truncate(select as u32, 3) as u8)
        .into_bits()
}

/// Set Features CDW10: the feature identifier and the Save bit (bit 31).
pub const fn set_features_cdw10(fid: u8, save: bool) -> u32 {
    SetFeaturesCdw10::new().with_fid(fid).with_sv(save).into_bits()
}

/// The feature identifier of a Get or Set Features CDW10.
pub const fn cdw10_fid(cdw10: u32) -> u8 {
    GetFeaturesCdw10::from_bits(cdw10).fid()
}

/// The Select field of a Get Features CDW10.
pub const fn cdw10_select(cdw10: u32) -> u8 {
    GetFeaturesCdw10::from_bits(cdw10).sel()
}

/// The Save bit of a Set Features CDW10.
pub const fn cdw10_save(cdw10: u32) -> bool {
    SetFeaturesCdw10::from_bits(cdw10).sv()
}

bits! {
    /// Arbitration (FID 01h).
    pub struct Arbitration: u32 {
        pub ab: u8 [3] "Arbitration Burst, as a power of two; 7 means no limit.",
        __: u32 [5] "",
        pub lpw: u8 [8] "Low Priority Weight, zero-based.",
        pub mpw: u8 [8] "Medium Priority Weight, zero-based.",
        pub hpw: u8 [8] "High Priority Weight, zero-based.",
    }
}

bits! {
    /// Power Management (FID 02h).
    pub struct PowerManagement: u32 {
        pub ps: u8 [5] "Power State.",
        pub wh: u8 [3] "Workload Hint.",
        __: u32 [24] "",
    }
}

bits! {
    /// Temperature Threshold (FID 04h).
    pub struct TemperatureThreshold: u32 {
        pub tmpth: u16 [16] "Temperature Threshold, in Kelvin.",
        pub tmpsel: u8 [4] "Threshold Temperature Select: 0 composite, 1 to 8 sensors, Fh all.",
        pub thsel: u8 [2] "Threshold Type Select: 0 over, 1 under.",
        __: u32 [10] "",
    }
}

impl TemperatureThreshold {
    /// THSEL: over temperature threshold.
    pub const THSEL_OVER: u8 = 0;
    /// THSEL: under temperature threshold.
    pub const THSEL_UNDER: u8 = 1;
    /// TMPSEL: the composite temperature.
    pub const TMPSEL_COMPOSITE: u8 = 0;
}

bits! {
    /// Error Recovery (FID 05h).
    pub struct ErrorRecovery: u32 {
        pub tler: u16 [16] "Time Limited Error Recovery, in 100 ms units; 0 means no limit.",
        pub dulbe: bool [1] "Deallocated or Unwritten Logical Block Error Enable.",
        __: u32 [15] "",
    }
}

bits! {
    /// Volatile Write Cache (FID 06h).
    pub struct VolatileWriteCache: u32 {
        pub wce: bool [1] "Volatile Write Cache Enable.",
        __: u32 [31] "",
    }
}

bits! {
    /// Number of Queues (FID 07h): requested in CDW11, allocated in CDW0.
    pub struct NumberOfQueues: u32 {
        pub nsqr: u16 [16] "Number of I/O Submission Queues, zero-based.",
        pub ncqr: u16 [16] "Number of I/O Completion Queues, zero-based.",
    }
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

bits! {
    /// Interrupt Coalescing (FID 08h).
    pub struct InterruptCoalescing: u32 {
        pub thr: u8 [8] "Aggregation Threshold, zero-based completion entries.",
        pub time: u8 [8] "Aggregation Time, in 100 microsecond units.",
        __: u32 [16] "",
    }
}

bits! {
    /// Interrupt Vector Configuration (FID 09h).
    pub struct InterruptVectorConfiguration: u32 {
        pub iv: u16 [16] "Interrupt Vector.",
        pub cd: bool [1] "Coalescing Disable.",
        __: u32 [15] "",
    }
}

bits! {
    /// Write Atomicity Normal (FID 0Ah).
    pub struct WriteAtomicityNormal: u32 {
        pub dn: bool [1] "Disable Normal: only AWUPF / NAWUPF atomicity applies.",
        __: u32 [31] "",
    }
}

bits! {
    /// Asynchronous Event Configuration (FID 0Bh).
    pub struct AsyncEventConfiguration: u32 {
        pub shcw: u8 [8] "SMART / Health Critical Warnings that generate events (bits as in the Critical Warning field).",
        pub nans: bool [1] "Namespace Attribute Notices.",
        pub fans: bool [1] "Firmware Activation Notices.",
        pub tlns: bool [1] "Telemetry Log Notices.",
        pub anacns: bool [1] "Asymmetric Namespace Access Change Notices.",
        pub pleacns: bool [1] "Predictable Latency Event Aggregate Log Change Notices.",
        pub lsins: bool [1] "LBA Status Information Notices.",
        pub egealcns: bool [1] "Endurance Group Event Aggregate Log Change Notices.",
        __: u32 [17] "",
    }
}

bits! {
    /// Autonomous Power State Transition (FID 0Ch).
    pub struct AutonomousPowerStateTransition: u32 {
        pub apste: bool [1] "Autonomous Power State Transition Enable.",
        __: u32 [31] "",
    }
}

bits! {
    /// Host Memory Buffer (FID 0Dh) CDW11.
    pub struct HostMemoryBuffer: u32 {
        pub ehm: bool [1] "Enable Host Memory.",
        pub mr: bool [1] "Memory Return.",
        __: u32 [30] "",
    }
}

/// The names of the fields of a feature's dword, low bits first; empty for
/// features without a layout here.
pub fn feature_field_names(fid: u8) -> &'static [&'static str] {
    match fid {
        fid::ARBITRATION => Arbitration::NAMES,
        fid::POWER_MANAGEMENT => PowerManagement::NAMES,
        fid::TEMPERATURE_THRESHOLD => TemperatureThreshold::NAMES,
        fid::ERROR_RECOVERY => ErrorRecovery::NAMES,
        fid::VOLATILE_WRITE_CACHE => VolatileWriteCache::NAMES,
        fid::NUMBER_OF_QUEUES => NumberOfQueues::NAMES,
        fid::INTERRUPT_COALESCING => InterruptCoalescing::NAMES,
        fid::INTERRUPT_VECTOR_CONFIGURATION => InterruptVectorConfiguration::NAMES,
        fid::WRITE_ATOMICITY_NORMAL => WriteAtomicityNormal::NAMES,
        fid::ASYNC_EVENT_CONFIGURATION => AsyncEventConfiguration::NAMES,
        fid::AUTONOMOUS_POWER_STATE_TRANSITION => AutonomousPowerStateTransition::NAMES,
        fid::HOST_MEMORY_BUFFER => HostMemoryBuffer::NAMES,
        _ => &[],
    }
}

/// The field table of a feature's dword (command dword 11 of Set Features,
/// completion dword 0 of Get Features); empty for features without a
/// layout here.
pub fn feature_fields(fid: u8) -> &'static [BitField] {
    match fid {
        fid::ARBITRATION => Arbitration::FIELDS,
        fid::POWER_MANAGEMENT => PowerManagement::FIELDS,
        fid::TEMPERATURE_THRESHOLD => TemperatureThreshold::FIELDS,
        fid::ERROR_RECOVERY => ErrorRecovery::FIELDS,
        fid::VOLATILE_WRITE_CACHE => VolatileWriteCache::FIELDS,
        fid::NUMBER_OF_QUEUES => NumberOfQueues::FIELDS,
        fid::INTERRUPT_COALESCING => InterruptCoalescing::FIELDS,
        fid::INTERRUPT_VECTOR_CONFIGURATION => InterruptVectorConfiguration::FIELDS,
        fid::WRITE_ATOMICITY_NORMAL => WriteAtomicityNormal::FIELDS,
        fid::ASYNC_EVENT_CONFIGURATION => AsyncEventConfiguration::FIELDS,
        fid::AUTONOMOUS_POWER_STATE_TRANSITION => AutonomousPowerStateTransition::FIELDS,
        fid::HOST_MEMORY_BUFFER => HostMemoryBuffer::FIELDS,
        _ => &[],
    }
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

    use crate::dwords::AsyncEventDw0;

    /// Completion dword 0 for an event: type in bits 2:0, information in
    /// bits 15:8, the associated log page in bits 23:16 (bits of
    /// `event_type` above the three the field holds are dropped).
    pub const fn encode_dw0(event_type: u8, info: u8, log_page: u8) -> u32 {
        AsyncEventDw0::new()
            .with_event_type(crate::dwords::truncate(event_type as u32, 3) as u8)
            .with_event_info(info)
            .with_log_page(log_page)
            .into_bits()
    }

    /// Splits completion dword 0 into `(event_type, info, log_page)`.
    pub const fn decode_dw0(dw0: u32) -> (u8, u8, u8) {
        let d = AsyncEventDw0::from_bits(dw0);
        (d.event_type(), d.event_info(), d.log_page())
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
        let names: Vec<_> = crate::layout::named(feature_fields(fid::TEMPERATURE_THRESHOLD))
            .map(|f| (f.name, f.offset, f.width))
            .collect();
        assert_eq!(names, [("tmpth", 0, 16), ("tmpsel", 16, 4), ("thsel", 20, 2)]);
        assert!(feature_fields(fid::TIMESTAMP).is_empty());
        for f in 0..=255u8 {
            let named: Vec<_> = crate::layout::named(feature_fields(f)).map(|x| x.name).collect();
            assert_eq!(named, feature_field_names(f), "fid {f:#x}");
        }
    }

    #[test]
    fn async_event_dw0() {
        let dw0 =
            async_event::encode_dw0(async_event::NOTICE, async_event::FIRMWARE_ACTIVATION_STARTING, 0x03);
        assert_eq!(dw0, 0x0003_0102);
        assert_eq!(async_event::decode_dw0(dw0), (2, 1, 3));
    }
}
