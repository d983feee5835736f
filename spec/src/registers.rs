//! Controller registers in BAR0 (NVMe Base Specification, section 3.1).

use bitfield_struct::bitfield;

/// Controller Capabilities (64-bit, read-only).
pub const CAP: u64 = 0x00;
/// Version (32-bit).
pub const VS: u64 = 0x08;
/// Interrupt Mask Set (32-bit).
pub const INTMS: u64 = 0x0C;
/// Interrupt Mask Clear (32-bit).
pub const INTMC: u64 = 0x10;
/// Controller Configuration (32-bit).
pub const CC: u64 = 0x14;
/// Controller Status (32-bit).
pub const CSTS: u64 = 0x1C;
/// NVM Subsystem Reset (32-bit, write "NVMe" to reset).
pub const NSSR: u64 = 0x20;
/// Admin Queue Attributes (32-bit).
pub const AQA: u64 = 0x24;
/// Admin Submission Queue base address (64-bit).
pub const ASQ: u64 = 0x28;
/// Admin Completion Queue base address (64-bit).
pub const ACQ: u64 = 0x30;
/// Offset of the first doorbell register.
pub const DOORBELL_BASE: u64 = 0x1000;
/// The value written to NSSR to start an NVM subsystem reset ("NVMe").
pub const NSSR_RESET_VALUE: u32 = 0x4E56_4D65;

/// Offset of the submission queue `qid` tail doorbell for a doorbell stride
/// of `dstrd` (CAP.DSTRD: the stride is `4 << dstrd` bytes).
pub const fn sq_tail_doorbell(qid: u16, dstrd: u8) -> u64 {
    DOORBELL_BASE + (2 * qid as u64) * (4u64 << dstrd)
}

/// Offset of the completion queue `qid` head doorbell for a doorbell stride
/// of `dstrd`.
pub const fn cq_head_doorbell(qid: u16, dstrd: u8) -> u64 {
    DOORBELL_BASE + (2 * qid as u64 + 1) * (4u64 << dstrd)
}

/// Decodes a doorbell offset into `(qid, is_completion_queue)`, or `None`
/// when the offset is not the start of a doorbell register.
pub const fn decode_doorbell(offset: u64, dstrd: u8) -> Option<(u16, bool)> {
    if offset < DOORBELL_BASE {
        return None;
    }
    let stride = 4u64 << dstrd;
    let rel = offset - DOORBELL_BASE;
    if !rel.is_multiple_of(stride) {
        return None;
    }
    let index = rel / stride;
    let qid = index / 2;
    if qid > u16::MAX as u64 {
        return None;
    }
    Some((qid as u16, index % 2 == 1))
}

/// Controller Capabilities (CAP).
#[bitfield(u64)]
#[derive(PartialEq, Eq)]
pub struct Cap {
    /// Maximum Queue Entries Supported, zero-based.
    pub mqes: u16,
    /// Contiguous Queues Required.
    pub cqr: bool,
    /// Arbitration Mechanism Supported.
    #[bits(2)]
    pub ams: u8,
    #[bits(5)]
    __: u8,
    /// Timeout, in 500 ms units: the worst-case time to wait for CSTS.RDY.
    pub to: u8,
    /// Doorbell Stride: doorbells are `4 << dstrd` bytes apart.
    #[bits(4)]
    pub dstrd: u8,
    /// NVM Subsystem Reset Supported.
    pub nssrs: bool,
    /// Command Sets Supported (bit 0: NVM command set).
    pub css: u8,
    /// Boot Partition Support.
    pub bps: bool,
    /// Controller Power Scope.
    #[bits(2)]
    pub cps: u8,
    /// Memory Page Size Minimum (2 ^ (12 + mpsmin)).
    #[bits(4)]
    pub mpsmin: u8,
    /// Memory Page Size Maximum (2 ^ (12 + mpsmax)).
    #[bits(4)]
    pub mpsmax: u8,
    /// Persistent Memory Region Supported.
    pub pmrs: bool,
    /// Controller Memory Buffer Supported.
    pub cmbs: bool,
    /// NVM Subsystem Shutdown Supported.
    pub nsss: bool,
    /// Controller Ready Modes Supported.
    #[bits(2)]
    pub crms: u8,
    #[bits(3)]
    __: u8,
}

/// Version (VS).
#[bitfield(u32)]
#[derive(PartialEq, Eq)]
pub struct Vs {
    /// Tertiary version number.
    pub ter: u8,
    /// Minor version number.
    pub mnr: u8,
    /// Major version number.
    pub mjr: u16,
}

/// Controller Configuration (CC).
#[bitfield(u32)]
#[derive(PartialEq, Eq)]
pub struct Cc {
    /// Enable.
    pub en: bool,
    #[bits(3)]
    __: u8,
    /// I/O Command Set Selected (0: NVM command set).
    #[bits(3)]
    pub css: u8,
    /// Memory Page Size (2 ^ (12 + mps)).
    #[bits(4)]
    pub mps: u8,
    /// Arbitration Mechanism Selected.
    #[bits(3)]
    pub ams: u8,
    /// Shutdown Notification (see [`SHN_NORMAL`], [`SHN_ABRUPT`]).
    #[bits(2)]
    pub shn: u8,
    /// I/O Submission Queue Entry Size (2 ^ iosqes; must be 6).
    #[bits(4)]
    pub iosqes: u8,
    /// I/O Completion Queue Entry Size (2 ^ iocqes; must be 4).
    #[bits(4)]
    pub iocqes: u8,
    /// Controller Ready Independent of Media Enable.
    pub crime: bool,
    #[bits(7)]
    __: u8,
}

/// CC.SHN: no notification.
pub const SHN_NONE: u8 = 0;
/// CC.SHN: normal shutdown notification.
pub const SHN_NORMAL: u8 = 1;
/// CC.SHN: abrupt shutdown notification.
pub const SHN_ABRUPT: u8 = 2;

/// Controller Status (CSTS).
#[bitfield(u32)]
#[derive(PartialEq, Eq)]
pub struct Csts {
    /// Ready.
    pub rdy: bool,
    /// Controller Fatal Status.
    pub cfs: bool,
    /// Shutdown Status (see [`SHST_NORMAL`], [`SHST_OCCURRING`], [`SHST_COMPLETE`]).
    #[bits(2)]
    pub shst: u8,
    /// NVM Subsystem Reset Occurred.
    pub nssro: bool,
    /// Processing Paused.
    pub pp: bool,
    /// Shutdown Type.
    pub st: bool,
    #[bits(25)]
    __: u32,
}

/// CSTS.SHST: normal operation.
pub const SHST_NORMAL: u8 = 0;
/// CSTS.SHST: shutdown processing occurring.
pub const SHST_OCCURRING: u8 = 1;
/// CSTS.SHST: shutdown processing complete.
pub const SHST_COMPLETE: u8 = 2;

/// Admin Queue Attributes (AQA).
#[bitfield(u32)]
#[derive(PartialEq, Eq)]
pub struct Aqa {
    /// Admin Submission Queue Size, zero-based.
    #[bits(12)]
    pub asqs: u16,
    #[bits(4)]
    __: u8,
    /// Admin Completion Queue Size, zero-based.
    #[bits(12)]
    pub acqs: u16,
    #[bits(4)]
    __: u8,
}

/// Names of the registers, for diagnostics and plans (`register: cc.en`).
pub const REGISTER_NAMES: &[(&str, u64, u8)] = &[
    ("cap", CAP, 8),
    ("vs", VS, 4),
    ("intms", INTMS, 4),
    ("intmc", INTMC, 4),
    ("cc", CC, 4),
    ("csts", CSTS, 4),
    ("nssr", NSSR, 4),
    ("aqa", AQA, 4),
    ("asq", ASQ, 8),
    ("acq", ACQ, 8),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doorbells_follow_the_stride() {
        assert_eq!(sq_tail_doorbell(0, 0), 0x1000);
        assert_eq!(cq_head_doorbell(0, 0), 0x1004);
        assert_eq!(sq_tail_doorbell(3, 0), 0x1018);
        assert_eq!(cq_head_doorbell(1, 2), 0x1000 + 3 * 16);
        assert_eq!(decode_doorbell(0x1018, 0), Some((3, false)));
        assert_eq!(decode_doorbell(0x1000 + 3 * 16, 2), Some((1, true)));
        assert_eq!(decode_doorbell(0x1002, 0), None);
        assert_eq!(decode_doorbell(0x14, 0), None);
    }

    #[test]
    fn register_fields_land_on_spec_bits() {
        let cap =
            Cap::new().with_mqes(1023).with_to(20).with_dstrd(1).with_nssrs(true).with_css(1).with_mpsmax(4);
        let raw: u64 = cap.into();
        assert_eq!(raw & 0xFFFF, 1023);
        assert_eq!((raw >> 24) & 0xFF, 20);
        assert_eq!((raw >> 32) & 0xF, 1);
        assert_eq!((raw >> 36) & 1, 1);
        assert_eq!((raw >> 37) & 0xFF, 1);
        assert_eq!((raw >> 52) & 0xF, 4);

        let cc = Cc::new().with_en(true).with_iosqes(6).with_iocqes(4).with_shn(SHN_ABRUPT);
        assert_eq!(u32::from(cc), 1 | (2 << 14) | (6 << 16) | (4 << 20));
        let csts = Csts::from(0b1101u32);
        assert!(csts.rdy() && !csts.cfs());
        assert_eq!(csts.shst(), SHST_OCCURRING | 2);
        let aqa = Aqa::new().with_asqs(31).with_acqs(63);
        assert_eq!(u32::from(aqa), 31 | (63 << 16));
        assert_eq!(u32::from(Vs::new().with_mjr(2).with_mnr(1)), 0x0002_0100);
    }
}
