//! NVM command set dwords: the CDW12 of Read, Write, Compare, Verify, Write
//! Uncorrectable and Write Zeroes (CDW10 and CDW11 hold the starting LBA),
//! Dataset Management and its range descriptor.

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
