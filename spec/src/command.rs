//! Submission queue entries (64 bytes) and completion queue entries (16 bytes).

use crate::dwords::{join_u64, split_u64};
use crate::layout::bits;
use crate::opcodes::{AdminOpcode, NvmOpcode, Opcode};
use crate::status::Status;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

bits! {
    /// Command dword 0, common to every command.
    pub struct Cdw0: u32 [derive(FromBytes, IntoBytes, Immutable, KnownLayout)] {
        pub opcode: u8 [8] "Opcode.",
        pub fuse: u8 [2] "Fused Operation: 0 normal, 1 first, 2 second command.",
        __: u32 [4] "",
        pub psdt: u8 [2] "PRP or SGL for Data Transfer: 0 means PRPs.",
        pub cid: u16 [16] "Command Identifier.",
    }
}

/// A submission queue entry (NVMe Base Specification, figure "Common Command Format").
///
/// Command dword 0 holds the opcode (bits 7:0), fused operation (9:8), PRP or
/// SGL selection (15:14) and the command identifier (31:16).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct Command {
    /// Command dword 0: opcode, fuse, PSDT and CID.
    pub cdw0: Cdw0,
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
            cdw0: Cdw0::new().with_opcode(opcode),
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
        self.cdw0.opcode()
    }

    /// The opcode read as an admin command's.
    pub const fn admin_opcode(&self) -> Opcode<AdminOpcode> {
        AdminOpcode::open(self.cdw0.opcode())
    }

    /// The opcode read as an NVM command set command's.
    pub const fn nvm_opcode(&self) -> Opcode<NvmOpcode> {
        NvmOpcode::open(self.cdw0.opcode())
    }

    /// Fused operation (CDW0 bits 9:8).
    pub const fn fuse(&self) -> u8 {
        self.cdw0.fuse()
    }

    /// PRP or SGL for data transfer (CDW0 bits 15:14; 0 means PRPs).
    pub const fn psdt(&self) -> u8 {
        self.cdw0.psdt()
    }

    /// The command identifier (CDW0 bits 31:16).
    pub const fn cid(&self) -> u16 {
        self.cdw0.cid()
    }

    /// Replaces the command identifier.
    pub fn set_cid(&mut self, cid: u16) {
        self.cdw0.set_cid(cid);
    }

    /// The starting LBA of an NVM read/write-style command (CDW11:CDW10).
    pub const fn slba(&self) -> u64 {
        join_u64(self.cdw10, self.cdw11)
    }

    /// Sets the starting LBA of an NVM read/write-style command.
    pub fn set_slba(&mut self, slba: u64) {
        (self.cdw10, self.cdw11) = split_u64(slba);
    }

    /// The number of logical blocks of an NVM read/write-style command,
    /// one-based (CDW12 bits 15:0 hold it zero-based).
    pub const fn nlb(&self) -> u32 {
        crate::dwords::ReadWriteCdw12::from_bits(self.cdw12).blocks()
    }

    /// Command dwords 10 to 15 as an array.
    pub const fn cdw10_15(&self) -> [u32; 6] {
        [self.cdw10, self.cdw11, self.cdw12, self.cdw13, self.cdw14, self.cdw15]
    }
}

bits! {
    /// The status field of a completion queue entry, with the phase tag in
    /// bit 0 (completion dword 3 bits 31:16).
    pub struct CompletionStatus: u16 [derive(FromBytes, IntoBytes, Immutable, KnownLayout)] {
        pub phase: bool [1] "Phase Tag.",
        pub sc: u8 [8] "Status Code.",
        pub sct: u8 [3] "Status Code Type.",
        pub crd: u8 [2] "Command Retry Delay.",
        pub more: bool [1] "More: further information is in the Error Information log page.",
        pub dnr: bool [1] "Do Not Retry.",
    }
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
    /// Status field and phase tag.
    pub status: CompletionStatus,
}

const _: () = assert!(size_of::<Completion>() == 16);

impl Completion {
    /// The status field with the phase tag.
    pub fn status_field(&self) -> CompletionStatus {
        self.status
    }

    /// The status code type and code.
    pub fn status(&self) -> Status {
        self.status_field().status()
    }

    /// The phase tag.
    pub fn phase(&self) -> bool {
        self.status.phase()
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
    fn cdw0_fields() {
        // Read, second command of a fused pair, SGL, CID 0x1234.
        let cdw0 = Cdw0::new().with_opcode(0x02).with_fuse(2).with_psdt(1).with_cid(0x1234);
        assert_eq!(cdw0.into_bits(), 0x1234_4202);
        let back = Cdw0::from_bits(0x1234_4202);
        assert_eq!((back.opcode(), back.fuse(), back.psdt(), back.cid()), (2, 2, 1, 0x1234));
        let mut cmd = Command::new(0xC1, 0);
        assert_eq!(cmd.admin_opcode(), Opcode::Unknown(0xC1));
        cmd.cdw0.set_psdt(2);
        assert_eq!(cmd.as_bytes()[1], 0x80);
        let names: Vec<_> = crate::layout::named(Cdw0::FIELDS).map(|f| (f.name, f.offset)).collect();
        assert_eq!(names, [("opcode", 0), ("fuse", 8), ("psdt", 14), ("cid", 16)]);
    }

    #[test]
    fn completion_status_bits() {
        let st = CompletionStatus::from_status(Status::new(0, 0x80), true).with_phase(true);
        let raw: u16 = st.into();
        assert_eq!(raw, 1 | (0x80 << 1) | (1 << 15));
        let cqe = Completion { status: st, ..Default::default() };
        assert!(cqe.phase());
        assert!(cqe.dnr());
        assert_eq!(cqe.status(), Status::new(0, 0x80));
    }
}
