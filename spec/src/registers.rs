//! Controller registers in BAR0 (NVMe Base Specification, section 3.1).

use crate::layout::{BitField, bits};

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

bits! {
    /// Controller Capabilities (CAP).
    pub struct Cap: u64 {
        pub mqes: u16 [16] "Maximum Queue Entries Supported, zero-based.",
        pub cqr: bool [1] "Contiguous Queues Required.",
        pub ams: u8 [2] "Arbitration Mechanism Supported.",
        __: u64 [5] "",
        pub to: u8 [8] "Timeout, in 500 ms units: the worst-case time to wait for CSTS.RDY.",
        pub dstrd: u8 [4] "Doorbell Stride: doorbells are 4 << DSTRD bytes apart.",
        pub nssrs: bool [1] "NVM Subsystem Reset Supported.",
        pub css: u8 [8] "Command Sets Supported (bit 0: NVM command set).",
        pub bps: bool [1] "Boot Partition Support.",
        pub cps: u8 [2] "Controller Power Scope.",
        pub mpsmin: u8 [4] "Memory Page Size Minimum (2 ^ (12 + MPSMIN)).",
        pub mpsmax: u8 [4] "Memory Page Size Maximum (2 ^ (12 + MPSMAX)).",
        pub pmrs: bool [1] "Persistent Memory Region Supported.",
        pub cmbs: bool [1] "Controller Memory Buffer Supported.",
        pub nsss: bool [1] "NVM Subsystem Shutdown Supported.",
        pub crms: u8 [2] "Controller Ready Modes Supported.",
        __: u64 [3] "",
    }
}

bits! {
    /// Version (VS).
    pub struct Vs: u32 {
        pub ter: u8 [8] "Tertiary version number.",
        pub mnr: u8 [8] "Minor version number.",
        pub mjr: u16 [16] "Major version number.",
    }
}

bits! {
    /// Controller Configuration (CC).
    pub struct Cc: u32 {
        pub en: bool [1] "Enable.",
        __: u32 [3] "",
        pub css: u8 [3] "I/O Command Set Selected (0: NVM command set).",
        pub mps: u8 [4] "Memory Page Size (2 ^ (12 + MPS)).",
        pub ams: u8 [3] "Arbitration Mechanism Selected.",
        pub shn: u8 [2] "Shutdown Notification: 0 none, 1 normal, 2 abrupt.",
        pub iosqes: u8 [4] "I/O Submission Queue Entry Size (2 ^ IOSQES; must be 6).",
        pub iocqes: u8 [4] "I/O Completion Queue Entry Size (2 ^ IOCQES; must be 4).",
        pub crime: bool [1] "Controller Ready Independent of Media Enable.",
        __: u32 [7] "",
    }
}

/// CC.SHN: no notification.
pub const SHN_NONE: u8 = 0;
/// CC.SHN: normal shutdown notification.
pub const SHN_NORMAL: u8 = 1;
/// CC.SHN: abrupt shutdown notification.
pub const SHN_ABRUPT: u8 = 2;

bits! {
    /// Controller Status (CSTS).
    pub struct Csts: u32 {
        pub rdy: bool [1] "Ready.",
        pub cfs: bool [1] "Controller Fatal Status.",
        pub shst: u8 [2] "Shutdown Status: 0 normal, 1 occurring, 2 complete.",
        pub nssro: bool [1] "NVM Subsystem Reset Occurred.",
        pub pp: bool [1] "Processing Paused.",
        pub st: bool [1] "Shutdown Type.",
        __: u32 [25] "",
    }
}

/// CSTS.SHST: normal operation.
pub const SHST_NORMAL: u8 = 0;
/// CSTS.SHST: shutdown processing occurring.
pub const SHST_OCCURRING: u8 = 1;
/// CSTS.SHST: shutdown processing complete.
pub const SHST_COMPLETE: u8 = 2;

bits! {
    /// Admin Queue Attributes (AQA).
    pub struct Aqa: u32 {
        pub asqs: u16 [12] "Admin Submission Queue Size, zero-based.",
        __: u32 [4] "",
        pub acqs: u16 [12] "Admin Completion Queue Size, zero-based.",
        __: u32 [4] "",
    }
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

/// The field table of the register `name` (`cap`, `vs`, `cc`, `csts`,
/// `aqa`); empty for registers without fields and for unknown names.
pub fn register_fields(name: &str) -> &'static [BitField] {
    match name {
        "cap" => Cap::FIELDS,
        "vs" => Vs::FIELDS,
        "cc" => Cc::FIELDS,
        "csts" => Csts::FIELDS,
        "aqa" => Aqa::FIELDS,
        _ => &[],
    }
}

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
        let shst = crate::layout::find(register_fields("csts"), "shst").unwrap();
        assert_eq!((shst.offset, shst.width), (2, 2));
        let to = crate::layout::find(register_fields("cap"), "to").unwrap();
        assert_eq!(to.get(u64::from(cap)), 20);
        assert!(register_fields("asq").is_empty());
    }
}
