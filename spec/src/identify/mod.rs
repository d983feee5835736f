//! Identify data structures (NVMe Base Specification 2.0, Identify command,
//! CNS 00h, 01h, 02h and 03h) and the [`NamedFields`] facility plans and
//! reports use to read fields by their spec names.
//!
//! Multi-byte integers use native types where the spec offset is naturally
//! aligned (this crate supports little-endian hosts only) and byte arrays
//! otherwise, so every `repr(C)` layout is free of padding. Field offsets are
//! checked by the tests against the spec's byte ranges.

#[cfg(not(target_endian = "little"))]
compile_error!("nvmeplan-spec lays NVMe structures out with native integers and needs a little-endian host");

use bitfield_struct::bitfield;
use std::fmt;
use zerocopy::{FromBytes, FromZeros, Immutable, IntoBytes, KnownLayout};

mod controller;
mod fields;
mod namespace;
#[cfg(test)]
mod tests;

pub use controller::*;
pub use fields::*;
pub use namespace::*;

/// Controller or Namespace Structure (CNS) values of the Identify command
/// (CDW10 bits 7:0).
pub mod cns {
    /// Identify Namespace data structure for the NSID (CNS 00h).
    pub const NAMESPACE: u8 = 0x00;
    /// Identify Controller data structure (CNS 01h).
    pub const CONTROLLER: u8 = 0x01;
    /// Active Namespace ID list: active NSIDs greater than the NSID (CNS 02h).
    pub const ACTIVE_NAMESPACE_LIST: u8 = 0x02;
    /// Namespace Identification Descriptor list for the NSID (CNS 03h).
    pub const NAMESPACE_DESCRIPTORS: u8 = 0x03;
    /// Allocated Namespace ID list (CNS 10h).
    pub const ALLOCATED_NAMESPACE_LIST: u8 = 0x10;
    /// Identify Namespace data structure for an allocated NSID (CNS 11h).
    pub const ALLOCATED_NAMESPACE: u8 = 0x11;
    /// Controllers attached to the NSID (CNS 12h).
    pub const ATTACHED_CONTROLLER_LIST: u8 = 0x12;
    /// Controllers in the NVM subsystem (CNS 13h).
    pub const CONTROLLER_LIST: u8 = 0x13;
}

/// Optional Admin Command Support (OACS, Identify Controller bytes 257:256).
pub mod oacs {
    /// Security Send and Security Receive.
    pub const SECURITY: u16 = 1 << 0;
    /// Format NVM.
    pub const FORMAT_NVM: u16 = 1 << 1;
    /// Firmware Commit and Firmware Image Download.
    pub const FIRMWARE: u16 = 1 << 2;
    /// Namespace Management and Namespace Attachment.
    pub const NS_MANAGEMENT: u16 = 1 << 3;
    /// Device Self-test.
    pub const SELF_TEST: u16 = 1 << 4;
    /// Directives.
    pub const DIRECTIVES: u16 = 1 << 5;
    /// NVMe-MI Send and NVMe-MI Receive.
    pub const NVME_MI: u16 = 1 << 6;
    /// Virtualization Management.
    pub const VIRTUALIZATION: u16 = 1 << 7;
    /// Doorbell Buffer Config.
    pub const DOORBELL_BUFFER: u16 = 1 << 8;
    /// Get LBA Status.
    pub const LBA_STATUS: u16 = 1 << 9;
}

/// Optional NVM Command Support (ONCS, Identify Controller bytes 521:520).
pub mod oncs {
    /// Compare.
    pub const COMPARE: u16 = 1 << 0;
    /// Write Uncorrectable.
    pub const WRITE_UNCORRECTABLE: u16 = 1 << 1;
    /// Dataset Management.
    pub const DSM: u16 = 1 << 2;
    /// Write Zeroes.
    pub const WRITE_ZEROES: u16 = 1 << 3;
    /// The Save field of Set Features and the Select field of Get Features.
    pub const SAVE_SELECT: u16 = 1 << 4;
    /// Reservations.
    pub const RESERVATIONS: u16 = 1 << 5;
    /// Timestamp feature.
    pub const TIMESTAMP: u16 = 1 << 6;
    /// Verify.
    pub const VERIFY: u16 = 1 << 7;
    /// Copy.
    pub const COPY: u16 = 1 << 8;
}

/// Optional Copy Formats Supported (OCFS, Identify Controller bytes 535:534;
/// the field is [`IdentifyController::cdfs`]): bit N set means Copy accepts
/// descriptor format N (NVMe Base Specification 2.0, Identify Controller).
pub mod ocfs {
    /// Copy descriptor format 0h (see [`crate::dwords::CopySourceRange`]).
    pub const FORMAT_0: u16 = 1 << 0;

    /// Whether an OCFS value claims descriptor format `desfmt` (0 to 15).
    pub const fn supports(ocfs: u16, desfmt: u8) -> bool {
        desfmt < 16 && ocfs & (1 << desfmt) != 0
    }
}

/// Sanitize Capabilities (SANICAP, Identify Controller bytes 331:328).
pub mod sanicap {
    /// Crypto Erase sanitize operation supported.
    pub const CRYPTO_ERASE: u32 = 1 << 0;
    /// Block Erase sanitize operation supported.
    pub const BLOCK_ERASE: u32 = 1 << 1;
    /// Overwrite sanitize operation supported.
    pub const OVERWRITE: u32 = 1 << 2;
    /// No-Deallocate Inhibited.
    pub const NO_DEALLOCATE_INHIBITED: u32 = 1 << 29;
}

/// Firmware Updates (FRMW, Identify Controller byte 260).
pub mod frmw {
    /// Firmware slot 1 is read-only.
    pub const SLOT1_READ_ONLY: u8 = 1 << 0;
    /// Shift of the number of firmware slots (bits 3:1).
    pub const NSLOTS_SHIFT: u8 = 1;
    /// Mask of the number of firmware slots after shifting.
    pub const NSLOTS_MASK: u8 = 0x7;
    /// Firmware activation without reset is supported.
    pub const ACTIVATION_WITHOUT_RESET: u8 = 1 << 4;

    /// The number of firmware slots (1 to 7) a FRMW value reports.
    pub const fn nslots(frmw: u8) -> u8 {
        (frmw >> NSLOTS_SHIFT) & NSLOTS_MASK
    }

    /// Builds a FRMW value.
    pub const fn encode(slot1_read_only: bool, nslots: u8, activation_without_reset: bool) -> u8 {
        let mut v = (nslots & NSLOTS_MASK) << NSLOTS_SHIFT;
        if slot1_read_only {
            v |= SLOT1_READ_ONLY;
        }
        if activation_without_reset {
            v |= ACTIVATION_WITHOUT_RESET;
        }
        v
    }
}

/// Log Page Attributes (LPA, Identify Controller byte 261).
pub mod lpa {
    /// The SMART / Health log page is available per namespace.
    pub const SMART_PER_NAMESPACE: u8 = 1 << 0;
    /// The Commands Supported and Effects log page is supported.
    pub const COMMANDS_EFFECTS: u8 = 1 << 1;
    /// Extended data (NUMDU, LPOL/LPOU) for Get Log Page is supported.
    pub const EXTENDED_DATA: u8 = 1 << 2;
    /// Telemetry Host-Initiated and Controller-Initiated log pages.
    pub const TELEMETRY: u8 = 1 << 3;
    /// Persistent Event log page.
    pub const PERSISTENT_EVENT: u8 = 1 << 4;
}

/// Volatile Write Cache (VWC, Identify Controller byte 525).
pub mod vwc {
    /// A volatile write cache is present.
    pub const PRESENT: u8 = 1 << 0;
    /// Bits 2:1 = 10b: Flush with NSID FFFFFFFFh is not supported.
    pub const FLUSH_BROADCAST_NOT_SUPPORTED: u8 = 0b10 << 1;
    /// Bits 2:1 = 11b: Flush with NSID FFFFFFFFh is supported.
    pub const FLUSH_BROADCAST_SUPPORTED: u8 = 0b11 << 1;
}

/// Formatted LBA Size (FLBAS, Identify Namespace byte 26).
pub mod flbas {
    /// Metadata is transferred at the end of each LBA (extended LBA).
    pub const EXTENDED_METADATA: u8 = 1 << 4;

    /// The LBA format index FLBAS selects (bits 3:0 low, bits 6:5 high).
    pub const fn format_index(flbas: u8) -> usize {
        ((flbas & 0x0F) | (((flbas >> 5) & 0x3) << 4)) as usize
    }

    /// FLBAS with `index` (0 to 63) stored, keeping the other bits of `flbas`.
    pub const fn with_format_index(flbas: u8, index: usize) -> u8 {
        let index = (index & 0x3F) as u8;
        (flbas & !0x6F) | (index & 0x0F) | ((index >> 4) << 5)
    }
}

/// Optional Asynchronous Events Supported (OAES, Identify Controller bytes
/// 95:92).
pub mod oaes {
    /// Namespace Attribute Notices.
    pub const NAMESPACE_ATTRIBUTE_NOTICES: u32 = 1 << 8;
    /// Firmware Activation Notices.
    pub const FIRMWARE_ACTIVATION_NOTICES: u32 = 1 << 9;
}

/// Format NVM Attributes (FNA, Identify Controller byte 522).
pub mod fna {
    /// Format NVM applies to every namespace.
    pub const FORMAT_ALL_NAMESPACES: u8 = 1 << 0;
    /// A secure erase applies to every namespace.
    pub const SECURE_ERASE_ALL_NAMESPACES: u8 = 1 << 1;
    /// Cryptographic erase is supported.
    pub const CRYPTO_ERASE_SUPPORTED: u8 = 1 << 2;
}

/// Deallocate Logical Block Features (DLFEAT, Identify Namespace byte 33).
pub mod dlfeat {
    /// Read behaviour (bits 2:0): deallocated blocks read as all zeroes.
    pub const READ_ZEROES: u8 = 0b001;

    /// The read behaviour of deallocated blocks (bits 2:0).
    pub const fn read_behavior(dlfeat: u8) -> u8 {
        dlfeat & 0x7
    }
}
