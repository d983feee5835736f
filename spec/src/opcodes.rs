//! Admin and NVM command set opcodes.

macro_rules! opcodes {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $value:literal, $text:literal;)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum $name {
            $($(#[$vmeta])* $variant = $value,)*
        }

        impl $name {
            /// Every opcode of this set.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The opcode for a raw value, if it is one this set defines.
            pub const fn from_u8(value: u8) -> Option<Self> {
                match value {
                    $($value => Some($name::$variant),)*
                    _ => None,
                }
            }

            /// The command's name in snake_case, as plans spell it.
            pub const fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            /// The opcode for a raw value, unknown values included.
            pub const fn open(value: u8) -> Opcode<Self> {
                match Self::from_u8(value) {
                    Some(op) => Opcode::Known(op),
                    None => Opcode::Unknown(value),
                }
            }

            /// The opcode for a snake_case name (or its kebab-case alias,
            /// in any ASCII case).
            pub fn from_name(name: &str) -> Option<Self> {
                match crate::names::canonical(name).as_str() {
                    $($text => Some($name::$variant),)*
                    _ => None,
                }
            }
        }

        impl From<$name> for u8 {
            fn from(op: $name) -> u8 {
                op as u8
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

opcodes! {
    /// Admin command set opcodes.
    AdminOpcode {
        /// Delete I/O Submission Queue.
        DeleteIoSq = 0x00, "delete_io_sq";
        /// Create I/O Submission Queue.
        CreateIoSq = 0x01, "create_io_sq";
        /// Get Log Page.
        GetLogPage = 0x02, "get_log_page";
        /// Delete I/O Completion Queue.
        DeleteIoCq = 0x04, "delete_io_cq";
        /// Create I/O Completion Queue.
        CreateIoCq = 0x05, "create_io_cq";
        /// Identify.
        Identify = 0x06, "identify";
        /// Abort.
        Abort = 0x08, "abort";
        /// Set Features.
        SetFeatures = 0x09, "set_features";
        /// Get Features.
        GetFeatures = 0x0A, "get_features";
        /// Asynchronous Event Request.
        AsyncEventRequest = 0x0C, "async_event_request";
        /// Namespace Management.
        NamespaceManagement = 0x0D, "namespace_management";
        /// Firmware Commit.
        FirmwareCommit = 0x10, "firmware_commit";
        /// Firmware Image Download.
        FirmwareImageDownload = 0x11, "firmware_image_download";
        /// Device Self-test.
        DeviceSelfTest = 0x14, "device_self_test";
        /// Namespace Attachment.
        NamespaceAttachment = 0x15, "namespace_attachment";
        /// Keep Alive.
        KeepAlive = 0x18, "keep_alive";
        /// Format NVM.
        FormatNvm = 0x80, "format_nvm";
        /// Sanitize.
        Sanitize = 0x84, "sanitize";
    }
}

opcodes! {
    /// NVM command set opcodes.
    NvmOpcode {
        /// Flush.
        Flush = 0x00, "flush";
        /// Write.
        Write = 0x01, "write";
        /// Read.
        Read = 0x02, "read";
        /// Write Uncorrectable.
        WriteUncorrectable = 0x04, "write_uncorrectable";
        /// Compare.
        Compare = 0x05, "compare";
        /// Write Zeroes.
        WriteZeroes = 0x08, "write_zeroes";
        /// Dataset Management.
        DatasetManagement = 0x09, "dataset_management";
        /// Verify.
        Verify = 0x0C, "verify";
        /// Copy (NVM Command Set Specification 1.0, section 3.2.2): copies
        /// source ranges named by a descriptor list to one destination range.
        Copy = 0x19, "copy";
    }
}

/// An opcode as a controller receives it: one of the set `T` names, or any
/// other value, kept so that it can be reported and answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Opcode<T> {
    /// An opcode the set defines.
    Known(T),
    /// A value the set does not define.
    Unknown(u8),
}

impl<T: Copy + Into<u8>> Opcode<T> {
    /// The raw opcode value.
    pub fn value(self) -> u8 {
        match self {
            Opcode::Known(op) => op.into(),
            Opcode::Unknown(v) => v,
        }
    }

    /// The known opcode, if it is one.
    pub fn known(self) -> Option<T> {
        match self {
            Opcode::Known(op) => Some(op),
            Opcode::Unknown(_) => None,
        }
    }
}

impl<T: std::fmt::Display> std::fmt::Display for Opcode<T> {
    /// The snake_case name, or the value in hex when the set does not name it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Opcode::Known(op) => op.fmt(f),
            Opcode::Unknown(v) => write!(f, "{v:#04x}"),
        }
    }
}

impl AdminOpcode {
    /// Whether the command transfers data from the host to the controller
    /// (opcode bits 1:0 = 01b) or the other way (10b).
    pub const fn data_direction(self) -> DataDirection {
        DataDirection::from_opcode(self as u8)
    }
}

impl NvmOpcode {
    /// The data transfer direction encoded in the opcode.
    pub const fn data_direction(self) -> DataDirection {
        DataDirection::from_opcode(self as u8)
    }
}

/// Data transfer direction, encoded in opcode bits 1:0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataDirection {
    /// No data transfer.
    None,
    /// Host to controller.
    HostToController,
    /// Controller to host.
    ControllerToHost,
    /// Both directions.
    Bidirectional,
}

impl DataDirection {
    /// The direction encoded in the two low bits of any opcode.
    pub const fn from_opcode(opcode: u8) -> Self {
        match opcode & 0x3 {
            0 => DataDirection::None,
            1 => DataDirection::HostToController,
            2 => DataDirection::ControllerToHost,
            _ => DataDirection::Bidirectional,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for op in AdminOpcode::ALL {
            assert_eq!(AdminOpcode::from_name(op.name()), Some(*op));
            assert_eq!(AdminOpcode::from_u8(*op as u8), Some(*op));
        }
        for op in NvmOpcode::ALL {
            assert_eq!(NvmOpcode::from_name(op.name()), Some(*op));
            assert_eq!(NvmOpcode::from_u8(*op as u8), Some(*op));
        }
        assert_eq!(NvmOpcode::Write.data_direction(), DataDirection::HostToController);
        assert_eq!(AdminOpcode::open(0x06), Opcode::Known(AdminOpcode::Identify));
        assert_eq!(AdminOpcode::open(0xC1), Opcode::Unknown(0xC1));
        assert_eq!(AdminOpcode::open(0xC1).value(), 0xC1);
        assert_eq!(NvmOpcode::open(0x02).value(), 0x02);
        assert_eq!(NvmOpcode::open(0x02).to_string(), "read");
        assert_eq!(NvmOpcode::open(0x7E).to_string(), "0x7e");
        assert_eq!(AdminOpcode::Identify.data_direction(), DataDirection::ControllerToHost);
        // The descriptor list travels from the host to the controller.
        assert_eq!(NvmOpcode::from_u8(0x19), Some(NvmOpcode::Copy));
        assert_eq!(NvmOpcode::Copy.data_direction(), DataDirection::HostToController);
    }
}
