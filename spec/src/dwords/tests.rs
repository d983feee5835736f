//! Known encodings from the specification's field tables.

use super::*;
use crate::layout::{BitField, named};

fn offsets(fields: &'static [BitField]) -> Vec<(&'static str, u32, u32)> {
    named(fields).map(|f| (f.name, f.offset, f.width)).collect()
}

#[test]
fn queue_creation() {
    // A 1024-entry CQ 3 on vector 2: QSIZE 1023 in bits 31:16, PC and IEN
    // in bits 0 and 1, IV in bits 31:16.
    let cdw10 = CreateIoQueueCdw10::new().with_qid(3).with_qsize(1023);
    assert_eq!(cdw10.into_bits(), 0x03FF_0003);
    let cdw11 = CreateIoCqCdw11::new().with_pc(true).with_ien(true).with_iv(2);
    assert_eq!(cdw11.into_bits(), 0x0002_0003);
    let back = CreateIoCqCdw11::from_bits(0x0002_0003);
    assert!(back.pc() && back.ien());
    assert_eq!(back.iv(), 2);
    let sq = CreateIoSqCdw11::new().with_pc(true).with_qprio(2).with_cqid(3);
    assert_eq!(sq.into_bits(), 0x0003_0005);
    assert_eq!(DeleteIoQueueCdw10::new().with_qid(7).into_bits(), 7);
    assert_eq!(offsets(CreateIoSqCdw11::FIELDS), [("pc", 0, 1), ("qprio", 1, 2), ("cqid", 16, 16)]);
}

#[test]
fn get_log_page() {
    // 512 bytes of SMART / Health: NUMD 127, LID 02h, RAE set.
    let numd = 127;
    let cdw10 = GetLogPageCdw10::new().with_lid(2).with_rae(true).with_numd(numd);
    assert_eq!(cdw10.into_bits(), 0x007F_8002);
    let cdw11 = GetLogPageCdw11::new().with_numd(0x3_0000 | numd);
    assert_eq!(cdw11.into_bits(), 3);
    assert_eq!(get_log_page_numd(GetLogPageCdw10::from_bits(0x007F_8002), cdw11), 0x3_007F);
    let cdw10 = GetLogPageCdw10::from_bits(0x0005_2A0D);
    assert_eq!((cdw10.lid(), cdw10.lsp(), cdw10.rae()), (0x0D, 0x2A, false));
    assert!(GetLogPageCdw14::from_bits(1 << 23).ot());
    assert_eq!(join_u64(2, 1), 0x1_0000_0002);
    assert_eq!(split_u64(0x1_0000_0002), (2, 1));
}

#[test]
fn features_and_identify() {
    let get = GetFeaturesCdw10::new().with_fid(0x07).with_sel(2);
    assert_eq!(get.into_bits(), 0x207);
    let set = SetFeaturesCdw10::new().with_fid(0x01).with_sv(true);
    assert_eq!(set.into_bits(), 0x8000_0001);
    let id = IdentifyCdw10::new().with_cns(0x12).with_cntid(0x41);
    assert_eq!(id.into_bits(), 0x0041_0012);
    assert_eq!(IdentifyCdw11::new().with_csi(2).into_bits(), 0x0200_0000);
}

#[test]
fn format_sanitize_firmware() {
    // LBA format 19 (LBAFL 3, LBAFU 1), SES 1.
    let f = FormatNvmCdw10::new().with_lbaf(0x13).with_ses(1);
    assert_eq!(f.into_bits(), 3 | (1 << 9) | (1 << 12));
    assert_eq!(f.lbaf(), 0x13);
    let f = FormatNvmCdw10::from_bits(0x0000_01B2);
    assert_eq!((f.lbafl(), f.mset(), f.pi(), f.pil()), (2, true, 5, true));
    let s = SanitizeCdw10::new().with_sanact(3).with_ause(true).with_owpass(2).with_oipbp(true);
    assert_eq!(s.into_bits(), 3 | (1 << 3) | (2 << 4) | (1 << 8));
    assert!(SanitizeCdw10::from_bits(1 << 9).ndas());
    let c = FirmwareCommitCdw10::new().with_fs(2).with_ca(3);
    assert_eq!(c.into_bits(), 0x1A);
    assert_eq!(FirmwareDownloadCdw10::new().with_numd(1023).into_bits(), 1023);
    assert_eq!(FirmwareDownloadCdw11::from_bits(256).ofst(), 256);
}

#[test]
fn namespaces_self_test_abort_async_event() {
    assert_eq!(NamespaceManagementCdw10::new().with_sel(1).into_bits(), 1);
    assert_eq!(NamespaceManagementCdw11::from_bits(0x0200_0000).csi(), 2);
    assert_eq!(NamespaceAttachmentCdw10::new().with_sel(1).into_bits(), 1);
    assert_eq!(DeviceSelfTestCdw10::new().with_stc(0xF).into_bits(), 0xF);
    let a = AbortCdw10::new().with_sqid(1).with_cid(0xBEEF);
    assert_eq!(a.into_bits(), 0xBEEF_0001);
    // A firmware activation notice: type 2, info 1, log page 03h.
    let e = AsyncEventDw0::from_bits(0x0003_0102);
    assert_eq!((e.event_type(), e.event_info(), e.log_page()), (2, 1, 3));
}

#[test]
fn nvm_commands() {
    // Write of 8 blocks with FUA: NLB 7, bit 30.
    let w = ReadWriteCdw12::from_blocks(8).with_fua(true);
    assert_eq!(w.into_bits(), 7 | (1 << 30));
    assert_eq!(w.blocks(), 8);
    assert_eq!(ReadWriteCdw12::from_blocks(65536).nlb(), 0xFFFF);
    let r = ReadWriteCdw12::from_bits(0xA400_0000);
    assert_eq!((r.lr(), r.fua(), r.prinfo()), (true, false, 0x9));
    let z = WriteZeroesCdw12::from_blocks(5).with_deac(true);
    assert_eq!(z.into_bits(), 4 | (1 << 25));
    assert_eq!(DsmCdw10::from_ranges(3).into_bits(), 2);
    assert_eq!(DsmCdw10::from_ranges(1000).ranges(), 256);
    assert_eq!(DsmCdw11::new().with_ad(true).into_bits(), 4);
    let range = DsmRange { cattr: 0, nlb: 3, slba: 5 };
    let bytes = zerocopy::IntoBytes::as_bytes(&range);
    assert_eq!((bytes[4], bytes[8]), (3, 5));
}

#[test]
fn copy_command() {
    // Two ranges in format 0 with FUA: NR 1 (bits 7:0), DESFMT 0, bit 30.
    let c = CopyCdw12::from_ranges(2, copy_format::FORMAT_0).with_fua(true);
    assert_eq!(c.into_bits(), 1 | (1 << 30));
    assert_eq!(c.ranges(), 2);
    assert_eq!(CopyCdw12::from_ranges(1000, 0).ranges(), 256);
    assert_eq!(CopyCdw12::from_ranges(1, 0x1F).desfmt(), 0xF);
    // PRINFOR bits 15:12, DTYPE 23:20, STCW 24, PRINFOW 29:26, LR 31.
    let raw = CopyCdw12::from_bits((0x9 << 12) | (0x2 << 20) | (1 << 24) | (0x5 << 26) | (1 << 31));
    assert_eq!((raw.prinfor(), raw.dtype(), raw.stcw(), raw.prinfow(), raw.lr()), (9, 2, true, 5, true));
    assert_eq!(CopyCdw13::new().with_dspec(0xABCD).into_bits(), 0xABCD_0000);
    assert_eq!(CopyCdw15::new().with_lbat(1).with_lbatm(2).into_bits(), 0x0002_0001);
    // The source range entry: SLBA at bytes 15:8, NLB (zero-based) at 17:16,
    // the expected tags at 31:24.
    let mut range = CopySourceRange::new(0x0102_0304_0506_0708, 8);
    range.elbt = 0xAABB_CCDD;
    range.elbat = 0x1122;
    range.elbatm = 0x3344;
    let bytes = zerocopy::IntoBytes::as_bytes(&range);
    assert_eq!(bytes.len(), 32);
    assert_eq!(&bytes[8..16], &0x0102_0304_0506_0708u64.to_le_bytes());
    assert_eq!(&bytes[16..18], &[7, 0]);
    assert_eq!(&bytes[24..28], &0xAABB_CCDDu32.to_le_bytes());
    assert_eq!(&bytes[28..32], &[0x22, 0x11, 0x44, 0x33]);
    assert!(bytes[..8].iter().chain(&bytes[18..24]).all(|&b| b == 0));
    assert_eq!(CopySourceRange::new(0, 65536).blocks(), 65536);
}
