//! NVM command set dwords: the CDW12 of Read, Write, Compare, Verify, Write
//! Uncorrectable and Write Zeroes (CDW10 and CDW11 hold the starting LBA),
//! Dataset Management and its range descriptor, and Copy with its source
//! range entry (descriptor format 0).

use crate::layout::bits;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

bits! {
    /// CDW12 of Read, Write, Compare, Verify and Write Uncorrectable.
    pub struct ReadWriteCdw12: u32 {
        pub nlb: u16 [16] "Number of Logical Blocks, zero-based.",
        __: u32 [4] "",
        pub dtype: u8 [4] "Directive Type.",
        pub stc: bool [1] "Storage Tag Check.",
        __: u32 [1] "",
        pub prinfo: u8 [4] "Protection Information field.",
        pub fua: bool [1] "Force Unit Access.",
        pub lr: bool [1] "Limited Retry.",
    }
}

bits! {
    /// Write Zeroes CDW12.
    pub struct WriteZeroesCdw12: u32 {
        pub nlb: u16 [16] "Number of Logical Blocks, zero-based.",
        __: u32 [8] "",
        pub stc: bool [1] "Storage Tag Check.",
        pub deac: bool [1] "Deallocate.",
        pub prinfo: u8 [4] "Protection Information field.",
        pub fua: bool [1] "Force Unit Access.",
        pub lr: bool [1] "Limited Retry.",
    }
}

impl ReadWriteCdw12 {
    /// From a one-based block count (1 to 65536; the field keeps the low 16
    /// bits of the count minus one).
    pub const fn from_blocks(nlb: u32) -> Self {
        Self::new().with_nlb(nlb.saturating_sub(1) as u16)
    }

    /// The one-based block count.
    pub const fn blocks(&self) -> u32 {
        self.nlb() as u32 + 1
    }
}

impl WriteZeroesCdw12 {
    /// From a one-based block count, like [`ReadWriteCdw12::from_blocks`].
    pub const fn from_blocks(nlb: u32) -> Self {
        Self::new().with_nlb(nlb.saturating_sub(1) as u16)
    }
}

bits! {
    /// Dataset Management CDW10.
    pub struct DsmCdw10: u32 {
        pub nr: u8 [8] "Number of Ranges, zero-based.",
        __: u32 [24] "",
    }
}

bits! {
    /// Dataset Management CDW11: the attributes.
    pub struct DsmCdw11: u32 {
        pub idr: bool [1] "Integral Dataset for Read.",
        pub idw: bool [1] "Integral Dataset for Write.",
        pub ad: bool [1] "Attribute - Deallocate.",
        __: u32 [29] "",
    }
}

impl DsmCdw10 {
    /// From a one-based range count (1 to 256).
    pub const fn from_ranges(ranges: usize) -> Self {
        let n = if ranges == 0 {
            0
        } else if ranges > 256 {
            255
        } else {
            ranges - 1
        };
        Self::new().with_nr(n as u8)
    }

    /// The one-based range count.
    pub const fn ranges(&self) -> usize {
        self.nr() as usize + 1
    }
}

/// A Dataset Management range descriptor (16 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct DsmRange {
    /// Context Attributes.
    pub cattr: u32,
    /// Length in logical blocks (one-based).
    pub nlb: u32,
    /// Starting LBA.
    pub slba: u64,
}

const _: () = assert!(size_of::<DsmRange>() == 16);

bits! {
    /// Copy CDW12 (NVM Command Set Specification 1.0, section 3.2.2; CDW10
    /// and CDW11 hold the Starting Destination LBA, SDLBA).
    pub struct CopyCdw12: u32 {
        pub nr: u8 [8] "Number of Ranges, zero-based.",
        pub desfmt: u8 [4] "Descriptor Format of the source range entries.",
        pub prinfor: u8 [4] "Protection Information Field Read.",
        __: u32 [4] "",
        pub dtype: u8 [4] "Directive Type.",
        pub stcw: bool [1] "Storage Tag Check Write.",
        __: u32 [1] "",
        pub prinfow: u8 [4] "Protection Information Field Write.",
        pub fua: bool [1] "Force Unit Access.",
        pub lr: bool [1] "Limited Retry.",
    }
}

bits! {
    /// Copy CDW13.
    pub struct CopyCdw13: u32 {
        __: u32 [16] "",
        pub dspec: u16 [16] "Directive Specific.",
    }
}

bits! {
    /// Copy CDW15: the tags written to the destination when protection
    /// information is checked or generated (CDW14 holds the Initial Logical
    /// Block Reference Tag).
    pub struct CopyCdw15: u32 {
        pub lbat: u16 [16] "Logical Block Application Tag.",
        pub lbatm: u16 [16] "Logical Block Application Tag Mask.",
    }
}

impl CopyCdw12 {
    /// The most source range entries one Copy can carry (NR is 8 bits,
    /// zero-based).
    pub const MAX_RANGES: usize = 256;

    /// From a one-based range count (1 to 256) and descriptor format
    /// `desfmt` (only bits 3:0 are kept).
    pub const fn from_ranges(ranges: usize, desfmt: u8) -> Self {
        let n = if ranges == 0 {
            0
        } else if ranges > Self::MAX_RANGES {
            Self::MAX_RANGES - 1
        } else {
            ranges - 1
        };
        Self::new().with_nr(n as u8).with_desfmt(desfmt & 0xF)
    }

    /// The one-based range count.
    pub const fn ranges(&self) -> usize {
        self.nr() as usize + 1
    }
}

/// Copy descriptor formats (Copy CDW12 DESFMT; Identify Controller OCFS
/// says which a controller supports, see [`crate::identify::ocfs`]).
pub mod copy_format {
    /// Format 0h: [`super::CopySourceRange`], 32 bytes, 16-bit guard
    /// protection information.
    pub const FORMAT_0: u8 = 0;
}

/// A Copy source range entry in descriptor format 0h (32 bytes; NVM Command
/// Set Specification 1.0, section 3.2.2.1). The tags matter only to a
/// namespace formatted with protection information.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct CopySourceRange {
    /// Reserved (bytes 7:0).
    pub rsvd0: [u8; 8],
    /// Starting LBA (bytes 15:8).
    pub slba: u64,
    /// Number of Logical Blocks, zero-based (bytes 17:16).
    pub nlb: u16,
    /// Reserved (bytes 23:18).
    pub rsvd18: [u8; 6],
    /// Expected Initial Logical Block Reference Tag (bytes 27:24).
    pub elbt: u32,
    /// Expected Logical Block Application Tag (bytes 29:28).
    pub elbat: u16,
    /// Expected Logical Block Application Tag Mask (bytes 31:30).
    pub elbatm: u16,
}

const _: () = assert!(size_of::<CopySourceRange>() == 32);

impl CopySourceRange {
    /// An entry for `nlb` blocks (1 to 65536; the field keeps the low 16
    /// bits of the count minus one) from `slba`, without tags.
    pub const fn new(slba: u64, nlb: u32) -> Self {
        CopySourceRange {
            rsvd0: [0; 8],
            slba,
            nlb: nlb.saturating_sub(1) as u16,
            rsvd18: [0; 6],
            elbt: 0,
            elbat: 0,
            elbatm: 0,
        }
    }

    /// The one-based block count.
    pub const fn blocks(&self) -> u32 {
        self.nlb as u32 + 1
    }
}
