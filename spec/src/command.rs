//! Submission queue entries (64 bytes) and completion queue entries (16 bytes).

use crate::status::Status;
use bitfield_struct::bitfield;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

/// A submission queue entry (NVMe Base Specification, figure "Common Command Format").
///
/// Command dword 0 holds the opcode (bits 7:0), fused operation (9:8), PRP or
/// SGL selection (15:14) and the command identifier (31:16).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct Command {
    /// Command dword 0: opcode, fuse, PSDT and CID.
    pub cdw0: u32,
    /// Namespace identifier.
    pub nsid: u32,
    /// Command dword 2.
    pub cdw2: u32,
    /// Command dword 3.
    pub cdw3: u32,
    /// Metadata pointer.
    pub mptr: u64,
    /// PRP entry 1.
    pub prp1: u64,
    /// PRP entry 2 (a second page or a PRP list pointer).
    pub prp2: u64,
    /// Command dword 10.
    pub cdw10: u32,
    /// Command dword 11.
    pub cdw11: u32,
    /// Command dword 12.
    pub cdw12: u32,
    /// Command dword 13.
    pub cdw13: u32,
    /// Command dword 14.
    pub cdw14: u32,
    /// Command dword 15.
    pub cdw15: u32,
}

const _: () = assert!(size_of::<Command>() == 64);

impl Command {
    /// A command with the given opcode and namespace, every other field zero.
    pub const fn new(opcode: u8, nsid: u32) -> Self {
        Command {
            cdw0: opcode as u32,
            nsid,
            cdw2: 0,
            cdw3: 0,
            mptr: 0,
            prp1: 0,
            prp2: 0,
            cdw10: 0,
            cdw11: 0,
            cdw12: 0,
            cdw13: 0,
            cdw14: 0,
            cdw15: 0,
        }
    }

    /// The opcode (CDW0 bits 7:0).
    pub const fn opcode(&self) -> u8 {
        self.cdw0 as u8
    }

    /// Fused operation (CDW0 bits 9:8).
    pub const fn fuse(&self) -> u8 {
        ((self.cdw0 >> 8) & 0x3) as u8
    }

    /// PRP or SGL for data transfer (CDW0 bits 15:14; 0 means PRPs).
    pub const fn psdt(&self) -> u8 {
        ((self.cdw0 >> 14) & 0x3) as u8
    }

    /// The command identifier (CDW0 bits 31:16).
    pub const fn cid(&self) -> u16 {
        (self.cdw0 >> 16) as u16
    }

    /// Replaces the command identifier.
    pub fn set_cid(&mut self, cid: u16) {
        self.cdw0 = (self.cdw0 & 0xFFFF) | ((cid as u32) << 16);
    }

    /// The starting LBA of an NVM read/write-style command (CDW11:CDW10).
    pub const fn slba(&self) -> u64 {
        ((self.cdw11 as u64) << 32) | self.cdw10 as u64
    }

    /// Sets the starting LBA of an NVM read/write-style command.
    pub fn set_slba(&mut self, slba: u64) {
        self.cdw10 = slba as u32;
        self.cdw11 = (slba >> 32) as u32;
    }

    /// The number of logical blocks of an NVM read/write-style command,
    /// one-based (CDW12 bits 15:0 hold it zero-based).
    pub const fn nlb(&self) -> u32 {
        (self.cdw12 & 0xFFFF) + 1
    }

    /// Command dwords 10 to 15 as an array.
    pub const fn cdw10_15(&self) -> [u32; 6] {
        [self.cdw10, self.cdw11, self.cdw12, self.cdw13, self.cdw14, self.cdw15]
    }
}

/// The status field of a completion queue entry, with the phase tag in bit 0
/// (completion dword 3 bits 31:16).
#[bitfield(u16)]
#[derive(PartialEq, Eq)]
pub struct CompletionStatus {
    /// Phase tag.
    pub phase: bool,
    /// Status code.
    pub sc: u8,
    /// Status code type.
    #[bits(3)]
    pub sct: u8,
    /// Command retry delay.
    #[bits(2)]
    pub crd: u8,
    /// More: further information is in the Error Information log page.
    pub more: bool,
    /// Do Not Retry.
    pub dnr: bool,
}

impl CompletionStatus {
    /// The status code type and code as a [`Status`].
    pub fn status(&self) -> Status {
        Status::new(self.sct(), self.sc())
    }

    /// A status field carrying `status` and `dnr`, with phase tag zero.
    pub fn from_status(status: Status, dnr: bool) -> Self {
        CompletionStatus::new().with_sct(status.sct()).with_sc(status.sc()).with_dnr(dnr)
    }
}

/// A completion queue entry.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct Completion {
    /// Command specific dword 0.
    pub dw0: u32,
    /// Command specific dword 1.
    pub dw1: u32,
    /// Submission queue head pointer.
    pub sqhd: u16,
    /// Submission queue identifier.
    pub sqid: u16,
    /// Command identifier.
    pub cid: u16,
    /// Status field and phase tag (see [`CompletionStatus`]).
    pub status: u16,
}

const _: () = assert!(size_of::<Completion>() == 16);

impl Completion {
    /// The decoded status field.
    pub fn status_field(&self) -> CompletionStatus {
        CompletionStatus::from(self.status)
    }

    /// The status code type and code.
    pub fn status(&self) -> Status {
        self.status_field().status()
    }

    /// The phase tag.
    pub fn phase(&self) -> bool {
        self.status & 1 == 1
    }

    /// The Do Not Retry bit.
    pub fn dnr(&self) -> bool {
        self.status_field().dnr()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zerocopy::IntoBytes;

    #[test]
    fn command_fields_sit_at_spec_offsets() {
        let mut cmd = Command::new(0x02, 1);
        cmd.set_cid(0xBEEF);
        cmd.prp1 = 0x1122_3344_5566_7788;
        cmd.set_slba(0x1_0000_0002);
        cmd.cdw12 = 7;
        let bytes = cmd.as_bytes();
        assert_eq!(bytes[0], 0x02);
        assert_eq!(&bytes[2..4], &0xBEEFu16.to_le_bytes());
        assert_eq!(&bytes[4..8], &1u32.to_le_bytes());
        assert_eq!(&bytes[24..32], &0x1122_3344_5566_7788u64.to_le_bytes());
        assert_eq!(&bytes[40..44], &2u32.to_le_bytes());
        assert_eq!(&bytes[44..48], &1u32.to_le_bytes());
        assert_eq!(cmd.cid(), 0xBEEF);
        assert_eq!(cmd.opcode(), 2);
        assert_eq!(cmd.slba(), 0x1_0000_0002);
        assert_eq!(cmd.nlb(), 8);
    }

    #[test]
    fn completion_status_bits() {
        let st = CompletionStatus::from_status(Status::new(0, 0x80), true).with_phase(true);
        let raw: u16 = st.into();
        assert_eq!(raw, 1 | (0x80 << 1) | (1 << 15));
        let cqe = Completion { status: raw, ..Default::default() };
        assert!(cqe.phase());
        assert!(cqe.dnr());
        assert_eq!(cqe.status(), Status::new(0, 0x80));
    }
}
