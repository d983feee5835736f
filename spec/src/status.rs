//! Completion status codes, named by their NVMe specification names.
//!
//! Every status is a pair of status code type (SCT) and status code (SC).
//! Plans and reports spell a status by its spec name in kebab-case
//! (`lba-out-of-range`) or as `SCT/SC` in hex (`0x0/0x80`); both parse here.

use std::fmt;
use std::str::FromStr;

/// Status code type: generic command status.
pub const SCT_GENERIC: u8 = 0;
/// Status code type: command specific status.
pub const SCT_COMMAND_SPECIFIC: u8 = 1;
/// Status code type: media and data integrity errors.
pub const SCT_MEDIA: u8 = 2;
/// Status code type: path related status.
pub const SCT_PATH: u8 = 3;
/// Status code type: vendor specific.
pub const SCT_VENDOR: u8 = 7;

/// A completion status: status code type and status code.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Status {
    sct: u8,
    sc: u8,
}

macro_rules! statuses {
    ($($konst:ident = ($sct:expr, $sc:literal), $name:literal;)*) => {
        impl Status {
            $(
                #[doc = concat!("`", $name, "`")]
                pub const $konst: Status = Status::new($sct, $sc);
            )*
        }

        /// Every named status, in the order the specification lists them.
        pub const NAMED_STATUSES: &[(Status, &str)] = &[$((Status::new($sct, $sc), $name)),*];
    };
}

statuses! {
    // Generic command status (SCT 0).
    SUCCESS = (SCT_GENERIC, 0x00), "success";
    INVALID_COMMAND_OPCODE = (SCT_GENERIC, 0x01), "invalid-command-opcode";
    INVALID_FIELD_IN_COMMAND = (SCT_GENERIC, 0x02), "invalid-field-in-command";
    COMMAND_ID_CONFLICT = (SCT_GENERIC, 0x03), "command-id-conflict";
    DATA_TRANSFER_ERROR = (SCT_GENERIC, 0x04), "data-transfer-error";
    ABORTED_POWER_LOSS = (SCT_GENERIC, 0x05), "commands-aborted-due-to-power-loss-notification";
    INTERNAL_ERROR = (SCT_GENERIC, 0x06), "internal-error";
    COMMAND_ABORT_REQUESTED = (SCT_GENERIC, 0x07), "command-abort-requested";
    ABORTED_SQ_DELETION = (SCT_GENERIC, 0x08), "command-aborted-due-to-sq-deletion";
    ABORTED_FAILED_FUSED = (SCT_GENERIC, 0x09), "command-aborted-due-to-failed-fused-command";
    ABORTED_MISSING_FUSED = (SCT_GENERIC, 0x0A), "command-aborted-due-to-missing-fused-command";
    INVALID_NAMESPACE_OR_FORMAT = (SCT_GENERIC, 0x0B), "invalid-namespace-or-format";
    COMMAND_SEQUENCE_ERROR = (SCT_GENERIC, 0x0C), "command-sequence-error";
    INVALID_SGL_SEGMENT_DESCRIPTOR = (SCT_GENERIC, 0x0D), "invalid-sgl-segment-descriptor";
    INVALID_NUMBER_OF_SGL_DESCRIPTORS = (SCT_GENERIC, 0x0E), "invalid-number-of-sgl-descriptors";
    DATA_SGL_LENGTH_INVALID = (SCT_GENERIC, 0x0F), "data-sgl-length-invalid";
    METADATA_SGL_LENGTH_INVALID = (SCT_GENERIC, 0x10), "metadata-sgl-length-invalid";
    SGL_DESCRIPTOR_TYPE_INVALID = (SCT_GENERIC, 0x11), "sgl-descriptor-type-invalid";
    INVALID_USE_OF_CMB = (SCT_GENERIC, 0x12), "invalid-use-of-controller-memory-buffer";
    PRP_OFFSET_INVALID = (SCT_GENERIC, 0x13), "prp-offset-invalid";
    ATOMIC_WRITE_UNIT_EXCEEDED = (SCT_GENERIC, 0x14), "atomic-write-unit-exceeded";
    OPERATION_DENIED = (SCT_GENERIC, 0x15), "operation-denied";
    SGL_OFFSET_INVALID = (SCT_GENERIC, 0x16), "sgl-offset-invalid";
    HOST_IDENTIFIER_INCONSISTENT_FORMAT = (SCT_GENERIC, 0x18), "host-identifier-inconsistent-format";
    KEEP_ALIVE_TIMER_EXPIRED = (SCT_GENERIC, 0x19), "keep-alive-timer-expired";
    KEEP_ALIVE_TIMEOUT_INVALID = (SCT_GENERIC, 0x1A), "keep-alive-timeout-invalid";
    ABORTED_PREEMPT_AND_ABORT = (SCT_GENERIC, 0x1B), "command-aborted-due-to-preempt-and-abort";
    SANITIZE_FAILED = (SCT_GENERIC, 0x1C), "sanitize-failed";
    SANITIZE_IN_PROGRESS = (SCT_GENERIC, 0x1D), "sanitize-in-progress";
    SGL_DATA_BLOCK_GRANULARITY_INVALID = (SCT_GENERIC, 0x1E), "sgl-data-block-granularity-invalid";
    COMMAND_NOT_SUPPORTED_FOR_QUEUE_IN_CMB = (SCT_GENERIC, 0x1F), "command-not-supported-for-queue-in-cmb";
    NAMESPACE_IS_WRITE_PROTECTED = (SCT_GENERIC, 0x20), "namespace-is-write-protected";
    COMMAND_INTERRUPTED = (SCT_GENERIC, 0x21), "command-interrupted";
    TRANSIENT_TRANSPORT_ERROR = (SCT_GENERIC, 0x22), "transient-transport-error";
    COMMAND_PROHIBITED_BY_LOCKDOWN = (SCT_GENERIC, 0x23), "command-prohibited-by-command-and-feature-lockdown";
    ADMIN_COMMAND_MEDIA_NOT_READY = (SCT_GENERIC, 0x24), "admin-command-media-not-ready";
    LBA_OUT_OF_RANGE = (SCT_GENERIC, 0x80), "lba-out-of-range";
    CAPACITY_EXCEEDED = (SCT_GENERIC, 0x81), "capacity-exceeded";
    NAMESPACE_NOT_READY = (SCT_GENERIC, 0x82), "namespace-not-ready";
    RESERVATION_CONFLICT = (SCT_GENERIC, 0x83), "reservation-conflict";
    FORMAT_IN_PROGRESS = (SCT_GENERIC, 0x84), "format-in-progress";
    // Command specific status (SCT 1).
    COMPLETION_QUEUE_INVALID = (SCT_COMMAND_SPECIFIC, 0x00), "completion-queue-invalid";
    INVALID_QUEUE_IDENTIFIER = (SCT_COMMAND_SPECIFIC, 0x01), "invalid-queue-identifier";
    INVALID_QUEUE_SIZE = (SCT_COMMAND_SPECIFIC, 0x02), "invalid-queue-size";
    ABORT_COMMAND_LIMIT_EXCEEDED = (SCT_COMMAND_SPECIFIC, 0x03), "abort-command-limit-exceeded";
    ASYNC_EVENT_REQUEST_LIMIT_EXCEEDED = (SCT_COMMAND_SPECIFIC, 0x05), "asynchronous-event-request-limit-exceeded";
    INVALID_FIRMWARE_SLOT = (SCT_COMMAND_SPECIFIC, 0x06), "invalid-firmware-slot";
    INVALID_FIRMWARE_IMAGE = (SCT_COMMAND_SPECIFIC, 0x07), "invalid-firmware-image";
    INVALID_INTERRUPT_VECTOR = (SCT_COMMAND_SPECIFIC, 0x08), "invalid-interrupt-vector";
    INVALID_LOG_PAGE = (SCT_COMMAND_SPECIFIC, 0x09), "invalid-log-page";
    INVALID_FORMAT = (SCT_COMMAND_SPECIFIC, 0x0A), "invalid-format";
    FIRMWARE_ACTIVATION_REQUIRES_CONVENTIONAL_RESET = (SCT_COMMAND_SPECIFIC, 0x0B), "firmware-activation-requires-conventional-reset";
    INVALID_QUEUE_DELETION = (SCT_COMMAND_SPECIFIC, 0x0C), "invalid-queue-deletion";
    FEATURE_IDENTIFIER_NOT_SAVEABLE = (SCT_COMMAND_SPECIFIC, 0x0D), "feature-identifier-not-saveable";
    FEATURE_NOT_CHANGEABLE = (SCT_COMMAND_SPECIFIC, 0x0E), "feature-not-changeable";
    FEATURE_NOT_NAMESPACE_SPECIFIC = (SCT_COMMAND_SPECIFIC, 0x0F), "feature-not-namespace-specific";
    FIRMWARE_ACTIVATION_REQUIRES_NVM_SUBSYSTEM_RESET = (SCT_COMMAND_SPECIFIC, 0x10), "firmware-activation-requires-nvm-subsystem-reset";
    FIRMWARE_ACTIVATION_REQUIRES_CONTROLLER_LEVEL_RESET = (SCT_COMMAND_SPECIFIC, 0x11), "firmware-activation-requires-controller-level-reset";
    FIRMWARE_ACTIVATION_REQUIRES_MAXIMUM_TIME_VIOLATION = (SCT_COMMAND_SPECIFIC, 0x12), "firmware-activation-requires-maximum-time-violation";
    FIRMWARE_ACTIVATION_PROHIBITED = (SCT_COMMAND_SPECIFIC, 0x13), "firmware-activation-prohibited";
    OVERLAPPING_RANGE = (SCT_COMMAND_SPECIFIC, 0x14), "overlapping-range";
    NAMESPACE_INSUFFICIENT_CAPACITY = (SCT_COMMAND_SPECIFIC, 0x15), "namespace-insufficient-capacity";
    NAMESPACE_IDENTIFIER_UNAVAILABLE = (SCT_COMMAND_SPECIFIC, 0x16), "namespace-identifier-unavailable";
    NAMESPACE_ALREADY_ATTACHED = (SCT_COMMAND_SPECIFIC, 0x18), "namespace-already-attached";
    NAMESPACE_IS_PRIVATE = (SCT_COMMAND_SPECIFIC, 0x19), "namespace-is-private";
    NAMESPACE_NOT_ATTACHED = (SCT_COMMAND_SPECIFIC, 0x1A), "namespace-not-attached";
    THIN_PROVISIONING_NOT_SUPPORTED = (SCT_COMMAND_SPECIFIC, 0x1B), "thin-provisioning-not-supported";
    CONTROLLER_LIST_INVALID = (SCT_COMMAND_SPECIFIC, 0x1C), "controller-list-invalid";
    DEVICE_SELF_TEST_IN_PROGRESS = (SCT_COMMAND_SPECIFIC, 0x1D), "device-self-test-in-progress";
    BOOT_PARTITION_WRITE_PROHIBITED = (SCT_COMMAND_SPECIFIC, 0x1E), "boot-partition-write-prohibited";
    INVALID_CONTROLLER_IDENTIFIER = (SCT_COMMAND_SPECIFIC, 0x1F), "invalid-controller-identifier";
    INVALID_SECONDARY_CONTROLLER_STATE = (SCT_COMMAND_SPECIFIC, 0x20), "invalid-secondary-controller-state";
    INVALID_NUMBER_OF_CONTROLLER_RESOURCES = (SCT_COMMAND_SPECIFIC, 0x21), "invalid-number-of-controller-resources";
    INVALID_RESOURCE_IDENTIFIER = (SCT_COMMAND_SPECIFIC, 0x22), "invalid-resource-identifier";
    SANITIZE_PROHIBITED_WHILE_PMR_ENABLED = (SCT_COMMAND_SPECIFIC, 0x23), "sanitize-prohibited-while-persistent-memory-region-is-enabled";
    ANA_GROUP_IDENTIFIER_INVALID = (SCT_COMMAND_SPECIFIC, 0x24), "ana-group-identifier-invalid";
    ANA_ATTACH_FAILED = (SCT_COMMAND_SPECIFIC, 0x25), "ana-attach-failed";
    INSUFFICIENT_CAPACITY = (SCT_COMMAND_SPECIFIC, 0x26), "insufficient-capacity";
    NAMESPACE_ATTACHMENT_LIMIT_EXCEEDED = (SCT_COMMAND_SPECIFIC, 0x27), "namespace-attachment-limit-exceeded";
    PROHIBITION_OF_COMMAND_EXECUTION_NOT_SUPPORTED = (SCT_COMMAND_SPECIFIC, 0x28), "prohibition-of-command-execution-not-supported";
    IO_COMMAND_SET_NOT_SUPPORTED = (SCT_COMMAND_SPECIFIC, 0x29), "io-command-set-not-supported";
    IO_COMMAND_SET_NOT_ENABLED = (SCT_COMMAND_SPECIFIC, 0x2A), "io-command-set-not-enabled";
    IO_COMMAND_SET_COMBINATION_REJECTED = (SCT_COMMAND_SPECIFIC, 0x2B), "io-command-set-combination-rejected";
    INVALID_IO_COMMAND_SET = (SCT_COMMAND_SPECIFIC, 0x2C), "invalid-io-command-set";
    IDENTIFIER_UNAVAILABLE = (SCT_COMMAND_SPECIFIC, 0x2D), "identifier-unavailable";
    CONFLICTING_ATTRIBUTES = (SCT_COMMAND_SPECIFIC, 0x80), "conflicting-attributes";
    INVALID_PROTECTION_INFORMATION = (SCT_COMMAND_SPECIFIC, 0x81), "invalid-protection-information";
    ATTEMPTED_WRITE_TO_READ_ONLY_RANGE = (SCT_COMMAND_SPECIFIC, 0x82), "attempted-write-to-read-only-range";
    COMMAND_SIZE_LIMIT_EXCEEDED = (SCT_COMMAND_SPECIFIC, 0x83), "command-size-limit-exceeded";
    // Media and data integrity errors (SCT 2).
    WRITE_FAULT = (SCT_MEDIA, 0x80), "write-fault";
    UNRECOVERED_READ_ERROR = (SCT_MEDIA, 0x81), "unrecovered-read-error";
    END_TO_END_GUARD_CHECK_ERROR = (SCT_MEDIA, 0x82), "end-to-end-guard-check-error";
    END_TO_END_APPLICATION_TAG_CHECK_ERROR = (SCT_MEDIA, 0x83), "end-to-end-application-tag-check-error";
    END_TO_END_REFERENCE_TAG_CHECK_ERROR = (SCT_MEDIA, 0x84), "end-to-end-reference-tag-check-error";
    COMPARE_FAILURE = (SCT_MEDIA, 0x85), "compare-failure";
    ACCESS_DENIED = (SCT_MEDIA, 0x86), "access-denied";
    DEALLOCATED_OR_UNWRITTEN_LOGICAL_BLOCK = (SCT_MEDIA, 0x87), "deallocated-or-unwritten-logical-block";
    END_TO_END_STORAGE_TAG_CHECK_ERROR = (SCT_MEDIA, 0x88), "end-to-end-storage-tag-check-error";
    // Path related status (SCT 3).
    INTERNAL_PATH_ERROR = (SCT_PATH, 0x00), "internal-path-error";
    ASYMMETRIC_ACCESS_PERSISTENT_LOSS = (SCT_PATH, 0x01), "asymmetric-access-persistent-loss";
    ASYMMETRIC_ACCESS_INACCESSIBLE = (SCT_PATH, 0x02), "asymmetric-access-inaccessible";
    ASYMMETRIC_ACCESS_TRANSITION = (SCT_PATH, 0x03), "asymmetric-access-transition";
    CONTROLLER_PATHING_ERROR = (SCT_PATH, 0x60), "controller-pathing-error";
    HOST_PATHING_ERROR = (SCT_PATH, 0x70), "host-pathing-error";
    COMMAND_ABORTED_BY_HOST = (SCT_PATH, 0x71), "command-aborted-by-host";
}

impl Status {
    /// A status from its status code type (3 bits) and status code.
    pub const fn new(sct: u8, sc: u8) -> Self {
        Status { sct: sct & 0x7, sc }
    }

    /// The status code type.
    pub const fn sct(self) -> u8 {
        self.sct
    }

    /// The status code.
    pub const fn sc(self) -> u8 {
        self.sc
    }

    /// Whether this is `success`.
    pub const fn is_success(self) -> bool {
        self.sct == 0 && self.sc == 0
    }

    /// The spec name in kebab-case, if the specification names this status.
    pub fn name(self) -> Option<&'static str> {
        NAMED_STATUSES.iter().find(|(status, _)| *status == self).map(|(_, name)| *name)
    }

    /// The status named `name` (kebab-case spec name).
    pub fn from_name(name: &str) -> Option<Status> {
        NAMED_STATUSES.iter().find(|(_, n)| *n == name).map(|(status, _)| *status)
    }

    /// The `SCT/SC` form in hex, e.g. `0x0/0x80`.
    pub fn code(self) -> String {
        format!("{:#x}/{:#04x}", self.sct, self.sc)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "{:#x}/{:#04x}", self.sct, self.sc),
        }
    }
}

impl fmt::Debug for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} ({:#x}/{:#04x})", self.sct, self.sc),
            None => write!(f, "{:#x}/{:#04x}", self.sct, self.sc),
        }
    }
}

/// Why a status spelling did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseStatusError {
    /// Not a known spec name; carries the closest known name when one is near.
    #[error("unknown status `{input}`{}", suggestion.map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownName {
        /// What was given.
        input: String,
        /// The closest known name.
        suggestion: Option<&'static str>,
    },
    /// Looked like `SCT/SC` but a part was not a number in range.
    #[error("invalid status code `{input}`: expected SCT/SC such as 0x0/0x80 (SCT 0 to 7, SC 0 to 0xff)")]
    BadCode {
        /// What was given.
        input: String,
    },
}

fn parse_number(text: &str) -> Option<u32> {
    let text = text.trim();
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

impl FromStr for Status {
    type Err = ParseStatusError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let text = input.trim();
        if let Some((sct, sc)) = text.split_once('/') {
            return match (parse_number(sct), parse_number(sc)) {
                (Some(sct), Some(sc)) if sct <= 7 && sc <= 0xFF => Ok(Status::new(sct as u8, sc as u8)),
                _ => Err(ParseStatusError::BadCode { input: input.to_string() }),
            };
        }
        let normalized = text.to_ascii_lowercase().replace('_', "-");
        if let Some(status) = Status::from_name(&normalized) {
            return Ok(status);
        }
        let suggestion = crate::names::closest(&normalized, NAMED_STATUSES.iter().map(|(_, name)| *name));
        Err(ParseStatusError::UnknownName { input: input.to_string(), suggestion })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_are_unique_and_kebab_case() {
        for (i, (status, name)) in NAMED_STATUSES.iter().enumerate() {
            assert!(name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'), "{name}");
            for (other, other_name) in &NAMED_STATUSES[i + 1..] {
                assert_ne!(status, other, "{name} and {other_name} share a code");
                assert_ne!(name, other_name);
            }
        }
    }

    #[test]
    fn parses_names_and_codes() {
        assert_eq!("lba-out-of-range".parse(), Ok(Status::LBA_OUT_OF_RANGE));
        assert_eq!("0x0/0x80".parse(), Ok(Status::LBA_OUT_OF_RANGE));
        assert_eq!("2/0x81".parse(), Ok(Status::UNRECOVERED_READ_ERROR));
        assert_eq!("LBA_OUT_OF_RANGE".parse(), Ok(Status::LBA_OUT_OF_RANGE));
        assert_eq!(Status::COMPLETION_QUEUE_INVALID.name(), Some("completion-queue-invalid"));
        assert_eq!(Status::new(1, 0x42).to_string(), "0x1/0x42");
        assert_eq!(Status::LBA_OUT_OF_RANGE.code(), "0x0/0x80");
        match "lba-out-of-rnage".parse::<Status>() {
            Err(ParseStatusError::UnknownName { suggestion, .. }) => {
                assert_eq!(suggestion, Some("lba-out-of-range"))
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!("0x8/0x1".parse::<Status>(), Err(ParseStatusError::BadCode { .. })));
        assert!(matches!("0x0/0x100".parse::<Status>(), Err(ParseStatusError::BadCode { .. })));
    }

    proptest! {
        #[test]
        fn display_parses_back(sct in 0u8..8, sc in any::<u8>()) {
            let status = Status::new(sct, sc);
            prop_assert_eq!(status.to_string().parse::<Status>(), Ok(status));
            prop_assert_eq!(status.code().parse::<Status>(), Ok(status));
        }
    }
}
