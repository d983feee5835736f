//! Builders for admin and NVM submission queue entries.
//!
//! Each function returns a [`Command`] with the opcode and command dwords
//! set; CID and PRPs are filled in at submission. Plans and tests use these
//! to send commands whose completion status they check themselves.

use nvmeplan_spec::dwords::{
    AbortCdw10, CopyCdw12, CopySourceRange, CreateIoCqCdw11, CreateIoQueueCdw10, CreateIoSqCdw11,
    DeleteIoQueueCdw10, DeviceSelfTestCdw10, DsmCdw10, DsmCdw11, DsmRange, FirmwareCommitCdw10,
    FirmwareDownloadCdw10, FirmwareDownloadCdw11, FormatNvmCdw10, GetLogPageCdw10, GetLogPageCdw11,
    IdentifyCdw10, NamespaceAttachmentCdw10, NamespaceManagementCdw10, ReadWriteCdw12, SanitizeCdw10,
    WriteZeroesCdw12, copy_format, split_u64, truncate,
};
use nvmeplan_spec::features::{get_features_cdw10, set_features_cdw10};
use nvmeplan_spec::{AdminOpcode, Command, NvmOpcode};
use zerocopy::IntoBytes;

/// The broadcast namespace id.
pub const NSID_ALL: u32 = 0xFFFF_FFFF;

/// The low `width` bits of a small argument, as the field keeps them.
const fn low(value: u8, width: u32) -> u8 {
    truncate(value as u32, width) as u8
}

/// Identify with CNS `cns` for `nsid` and controller id `cntid`.
pub fn identify(cns: u8, nsid: u32, cntid: u16) -> Command {
    let mut c = Command::new(AdminOpcode::Identify as u8, nsid);
    c.cdw10 = IdentifyCdw10::new().with_cns(cns).with_cntid(cntid).into();
    c
}

/// Get Log Page: `len` bytes (a multiple of 4) of log `lid` from byte `offset`.
pub fn get_log_page(lid: u8, nsid: u32, len: usize, offset: u64) -> Command {
    let numd = (len / 4).saturating_sub(1) as u32;
    let mut c = Command::new(AdminOpcode::GetLogPage as u8, nsid);
    c.cdw10 = GetLogPageCdw10::new().with_lid(lid).with_numd(numd).into();
    c.cdw11 = GetLogPageCdw11::new().with_numd(numd).into();
    (c.cdw12, c.cdw13) = split_u64(offset);
    c
}

/// Get Features for `fid` with select `sel` and CDW11 `cdw11`.
pub fn get_features(fid: u8, nsid: u32, sel: u8, cdw11: u32) -> Command {
    let mut c = Command::new(AdminOpcode::GetFeatures as u8, nsid);
    c.cdw10 = get_features_cdw10(fid, sel);
    c.cdw11 = cdw11;
    c
}

/// Set Features for `fid` with CDW11 `cdw11`, saving when `save`.
pub fn set_features(fid: u8, nsid: u32, cdw11: u32, save: bool) -> Command {
    let mut c = Command::new(AdminOpcode::SetFeatures as u8, nsid);
    c.cdw10 = set_features_cdw10(fid, save);
    c.cdw11 = cdw11;
    c
}

/// Create I/O Completion Queue `qid` with `entries` entries at `iova`,
/// physically contiguous, with interrupts on `vector` when `Some`.
pub fn create_io_cq(qid: u16, entries: u16, iova: u64, vector: Option<u16>) -> Command {
    let mut c = Command::new(AdminOpcode::CreateIoCq as u8, 0);
    c.prp1 = iova;
    c.cdw10 = CreateIoQueueCdw10::new().with_qid(qid).with_qsize(entries.saturating_sub(1)).into();
    let cdw11 = CreateIoCqCdw11::new().with_pc(true);
    c.cdw11 = vector.map_or(cdw11, |v| cdw11.with_ien(true).with_iv(v)).into();
    c
}

/// Create I/O Submission Queue `qid` with `entries` entries at `iova`,
/// physically contiguous, bound to completion queue `cqid`, priority `qprio`.
pub fn create_io_sq(qid: u16, entries: u16, iova: u64, cqid: u16, qprio: u8) -> Command {
    let mut c = Command::new(AdminOpcode::CreateIoSq as u8, 0);
    c.prp1 = iova;
    c.cdw10 = CreateIoQueueCdw10::new().with_qid(qid).with_qsize(entries.saturating_sub(1)).into();
    c.cdw11 = CreateIoSqCdw11::new().with_pc(true).with_qprio(low(qprio, 2)).with_cqid(cqid).into();
    c
}

/// Delete I/O Submission Queue `qid`.
pub fn delete_io_sq(qid: u16) -> Command {
    let mut c = Command::new(AdminOpcode::DeleteIoSq as u8, 0);
    c.cdw10 = DeleteIoQueueCdw10::new().with_qid(qid).into();
    c
}

/// Delete I/O Completion Queue `qid`.
pub fn delete_io_cq(qid: u16) -> Command {
    let mut c = Command::new(AdminOpcode::DeleteIoCq as u8, 0);
    c.cdw10 = DeleteIoQueueCdw10::new().with_qid(qid).into();
    c
}

/// Abort command `cid` on submission queue `sqid`.
pub fn abort(sqid: u16, cid: u16) -> Command {
    let mut c = Command::new(AdminOpcode::Abort as u8, 0);
    c.cdw10 = AbortCdw10::new().with_sqid(sqid).with_cid(cid).into();
    c
}

/// Asynchronous Event Request.
pub fn async_event_request() -> Command {
    Command::new(AdminOpcode::AsyncEventRequest as u8, 0)
}

/// Format NVM: LBA format `lbaf` (0 to 63), secure erase setting `ses`,
/// metadata settings `mset`, protection `pi` and `pil`.
pub fn format_nvm(nsid: u32, lbaf: u8, ses: u8, mset: bool, pi: u8, pil: bool) -> Command {
    let mut c = Command::new(AdminOpcode::FormatNvm as u8, nsid);
    c.cdw10 = FormatNvmCdw10::new()
        .with_lbaf(lbaf)
        .with_mset(mset)
        .with_pi(low(pi, 3))
        .with_pil(pil)
        .with_ses(low(ses, 3))
        .into();
    c
}

/// Sanitize with action `sanact` and the other CDW10 fields (see
/// `nvmeplan_spec::log::sanitize`), overwrite pattern `ovrpat`.
pub fn sanitize(sanact: u8, ause: bool, owpass: u8, oipbp: bool, ndas: bool, ovrpat: u32) -> Command {
    let mut c = Command::new(AdminOpcode::Sanitize as u8, 0);
    c.cdw10 = SanitizeCdw10::new()
        .with_sanact(low(sanact, 3))
        .with_ause(ause)
        .with_owpass(low(owpass, 4))
        .with_oipbp(oipbp)
        .with_ndas(ndas)
        .into();
    c.cdw11 = ovrpat;
    c
}

/// Firmware Image Download of `len` bytes (multiple of 4) at byte `offset`.
pub fn firmware_download(len: usize, offset: usize) -> Command {
    let mut c = Command::new(AdminOpcode::FirmwareImageDownload as u8, 0);
    c.cdw10 = FirmwareDownloadCdw10::new().with_numd((len / 4).saturating_sub(1) as u32).into();
    c.cdw11 = FirmwareDownloadCdw11::new().with_ofst((offset / 4) as u32).into();
    c
}

/// Firmware Commit to `slot` with commit action `action`.
pub fn firmware_commit(slot: u8, action: u8) -> Command {
    let mut c = Command::new(AdminOpcode::FirmwareCommit as u8, 0);
    c.cdw10 = FirmwareCommitCdw10::new().with_fs(low(slot, 3)).with_ca(low(action, 3)).into();
    c
}

/// Namespace Management: `sel` 0 creates (data: the host-specified fields of
/// Identify Namespace), 1 deletes `nsid`.
pub fn namespace_management(sel: u8, nsid: u32) -> Command {
    let mut c = Command::new(AdminOpcode::NamespaceManagement as u8, nsid);
    c.cdw10 = NamespaceManagementCdw10::new().with_sel(low(sel, 4)).into();
    c
}

/// Namespace Attachment: `detach` false attaches, true detaches `nsid`
/// (data: a controller list).
pub fn namespace_attachment(nsid: u32, detach: bool) -> Command {
    let mut c = Command::new(AdminOpcode::NamespaceAttachment as u8, nsid);
    c.cdw10 = NamespaceAttachmentCdw10::new().with_sel(u8::from(detach)).into();
    c
}

/// Device Self-test with self-test code `stc` (1 short, 2 extended, 0xF abort).
pub fn device_self_test(nsid: u32, stc: u8) -> Command {
    let mut c = Command::new(AdminOpcode::DeviceSelfTest as u8, nsid);
    c.cdw10 = DeviceSelfTestCdw10::new().with_stc(low(stc, 4)).into();
    c
}

fn rw(opcode: NvmOpcode, nsid: u32, slba: u64, cdw12: u32) -> Command {
    let mut c = Command::new(opcode as u8, nsid);
    c.set_slba(slba);
    c.cdw12 = cdw12;
    c
}

/// Read `nlb` (1 to 65536) blocks from `slba`.
pub fn read(nsid: u32, slba: u64, nlb: u32) -> Command {
    rw(NvmOpcode::Read, nsid, slba, ReadWriteCdw12::from_blocks(nlb).into())
}

/// Write `nlb` blocks at `slba`; `fua` sets Force Unit Access.
pub fn write(nsid: u32, slba: u64, nlb: u32, fua: bool) -> Command {
    rw(NvmOpcode::Write, nsid, slba, ReadWriteCdw12::from_blocks(nlb).with_fua(fua).into())
}

/// Compare `nlb` blocks at `slba` with the data sent.
pub fn compare(nsid: u32, slba: u64, nlb: u32) -> Command {
    rw(NvmOpcode::Compare, nsid, slba, ReadWriteCdw12::from_blocks(nlb).into())
}

/// Write Zeroes over `nlb` blocks at `slba`; `deallocate` sets DEAC.
pub fn write_zeroes(nsid: u32, slba: u64, nlb: u32, deallocate: bool) -> Command {
    rw(NvmOpcode::WriteZeroes, nsid, slba, WriteZeroesCdw12::from_blocks(nlb).with_deac(deallocate).into())
}

/// Write Uncorrectable over `nlb` blocks at `slba`.
pub fn write_uncorrectable(nsid: u32, slba: u64, nlb: u32) -> Command {
    rw(NvmOpcode::WriteUncorrectable, nsid, slba, ReadWriteCdw12::from_blocks(nlb).into())
}

/// Verify `nlb` blocks at `slba`.
pub fn verify(nsid: u32, slba: u64, nlb: u32) -> Command {
    rw(NvmOpcode::Verify, nsid, slba, ReadWriteCdw12::from_blocks(nlb).into())
}

/// Flush.
pub fn flush(nsid: u32) -> Command {
    Command::new(NvmOpcode::Flush as u8, nsid)
}

/// Dataset Management with `ranges` (1 to 256) range descriptors in the
/// data buffer and attributes: `deallocate` sets AD.
pub fn dataset_management(nsid: u32, ranges: usize, deallocate: bool) -> Command {
    let mut c = Command::new(NvmOpcode::DatasetManagement as u8, nsid);
    c.cdw10 = DsmCdw10::from_ranges(ranges).into();
    c.cdw11 = DsmCdw11::new().with_ad(deallocate).into();
    c
}

/// Encodes a DSM range descriptor (16 bytes): context attributes, length in
/// blocks, starting LBA.
pub fn dsm_range(slba: u64, nlb: u32) -> [u8; 16] {
    let mut r = [0u8; 16];
    r.copy_from_slice(DsmRange { cattr: 0, nlb, slba }.as_bytes());
    r
}

/// Copy of `ranges` (1 to 256) source range entries, descriptor format 0,
/// from the data buffer to the blocks from `sdlba`; `fua` sets Force Unit
/// Access.
pub fn copy(nsid: u32, sdlba: u64, ranges: usize, fua: bool) -> Command {
    let mut c = Command::new(NvmOpcode::Copy as u8, nsid);
    c.set_slba(sdlba);
    c.cdw12 = CopyCdw12::from_ranges(ranges, copy_format::FORMAT_0).with_fua(fua).into();
    c
}

/// Encodes a Copy source range entry in format 0 (32 bytes) for `nlb`
/// blocks (1 to 65536) from `slba`.
pub fn copy_range(slba: u64, nlb: u32) -> [u8; 32] {
    let mut r = [0u8; 32];
    r.copy_from_slice(CopySourceRange::new(slba, nlb).as_bytes());
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dwords() {
        let c = create_io_cq(3, 1024, 0x1000, Some(2));
        assert_eq!(c.cdw10, 3 | (1023 << 16));
        assert_eq!(c.cdw11, 1 | 2 | (2 << 16));
        let c = create_io_sq(3, 64, 0x2000, 3, 0);
        assert_eq!(c.cdw11, 1 | (3 << 16));
        let c = write(1, 0x1_0000_0000, 8, true);
        assert_eq!((c.cdw10, c.cdw11, c.cdw12), (0, 1, 7 | (1 << 30)));
        let c = get_log_page(2, NSID_ALL, 512, 0);
        assert_eq!(c.cdw10, 2 | (127 << 16));
        let c = format_nvm(1, 0x13, 1, false, 0, false);
        assert_eq!(c.cdw10, 3 | (1 << 9) | (1 << 12));
        assert_eq!(dsm_range(5, 3)[4], 3);
        assert_eq!(dsm_range(5, 3)[8], 5);
        let c = copy(1, 1000, 2, false);
        assert_eq!((c.opcode(), c.cdw10, c.cdw11, c.cdw12), (0x19, 1000, 0, 1));
        assert_eq!((copy_range(8, 8)[8], copy_range(8, 8)[16]), (8, 7));
    }
}
