use super::*;
use crate::storage::DataMode;

mod copy;

const PAGE: usize = 4096;
const BASE: u64 = 0x1_0000_0000;
const LBA: usize = 512;

/// Host memory of `pages` pages mapped at BASE, plus a namespace.
struct Rig {
    space: DmaSpace,
    memory: Vec<u8>,
    ns: NamespaceStore,
    counters: IoCounters,
    mdts: Option<usize>,
    corrupt: bool,
    copy: CopyLimits,
}

impl Rig {
    fn new(mode: DataMode) -> Rig {
        let mut memory = vec![0u8; 64 * PAGE];
        let space = DmaSpace::new();
        space.set_bus_master(true);
        // SAFETY: `memory` is owned by the rig next to `space`; its heap
        // buffer never moves, and `Drop for Rig` unmaps it before the
        // vector is freed.
        assert!(unsafe { space.map(BASE, memory.as_mut_ptr(), memory.len()) });
        Rig {
            space,
            memory,
            ns: NamespaceStore::new_memory(LBA as u32, 1000, mode),
            counters: IoCounters::default(),
            mdts: Some(32 * 1024),
            corrupt: false,
            copy: CopyLimits::default(),
        }
    }

    fn run(&self, cmd: &Command) -> IoResult {
        let ctx = IoContext {
            dma: &self.space,
            ns: &self.ns,
            page_size: PAGE,
            mdts_bytes: self.mdts,
            corrupt_read: self.corrupt,
            counters: &self.counters,
            copy_limits: self.copy,
        };
        execute(&ctx, cmd)
    }

    /// Host bytes at page `page` (mapped memory of the rig).
    fn host(&mut self, page: usize, len: usize) -> &mut [u8] {
        &mut self.memory[page * PAGE..page * PAGE + len]
    }

    fn count(&self, counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        self.space.unmap(BASE);
    }
}

fn page(n: u64) -> u64 {
    BASE + n * PAGE as u64
}

/// An IO command on namespace 1 with PRP1 = page(1), PRP2 = page(2).
fn io(opcode: NvmOpcode, slba: u64, nlb: u32) -> Command {
    let mut cmd = Command::new(opcode as u8, 1);
    cmd.set_slba(slba);
    cmd.cdw12 = nlb.wrapping_sub(1) & 0xFFFF;
    cmd.prp1 = page(1);
    cmd.prp2 = page(2);
    cmd
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(7).wrapping_add(seed) | 1).collect()
}

#[test]
fn write_then_read_round_trips_and_counts() {
    let mut rig = Rig::new(DataMode::Normal);
    let data = pattern(8 * LBA, 3);
    rig.host(1, 8 * LBA).copy_from_slice(&data);
    assert_eq!(rig.run(&io(NvmOpcode::Write, 10, 8)), IoResult::success());
    rig.host(1, 8 * LBA).fill(0);
    assert_eq!(rig.run(&io(NvmOpcode::Read, 10, 8)), IoResult::success());
    assert_eq!(rig.host(1, 8 * LBA), &data[..]);
    assert_eq!(rig.count(&rig.counters.bytes_written), 4096);
    assert_eq!(rig.count(&rig.counters.write_commands), 1);
    assert_eq!(rig.count(&rig.counters.bytes_read), 4096);
    assert_eq!(rig.count(&rig.counters.read_commands), 1);
    assert_eq!(rig.count(&rig.counters.media_errors), 0);
    // Two pages through PRP1 + PRP2, PRP1 with an offset.
    let data = pattern(12 * LBA, 9);
    let mut cmd = io(NvmOpcode::Write, 100, 12);
    cmd.prp1 = page(1) + 512;
    rig.host(1, PAGE)[512..].copy_from_slice(&data[..PAGE - 512]);
    rig.host(2, 2560).copy_from_slice(&data[PAGE - 512..]);
    assert!(rig.run(&cmd).status.is_success());
    let mut out = vec![0u8; 12 * LBA];
    rig.ns.read(100, &mut out).unwrap();
    assert_eq!(out, data);
    // 32 KiB through a PRP list in page 2 naming pages 3 to 9.
    let data = pattern(64 * LBA, 11);
    for (i, entry) in (3..10).map(page).enumerate() {
        rig.host(2, PAGE)[i * 8..i * 8 + 8].copy_from_slice(&entry.to_le_bytes());
    }
    rig.host(1, PAGE).copy_from_slice(&data[..PAGE]);
    rig.memory[3 * PAGE..10 * PAGE].copy_from_slice(&data[PAGE..]);
    assert!(rig.run(&io(NvmOpcode::Write, 200, 64)).status.is_success());
    rig.memory[PAGE..10 * PAGE].fill(0);
    for (i, entry) in (3..10).map(page).enumerate() {
        rig.host(2, PAGE)[i * 8..i * 8 + 8].copy_from_slice(&entry.to_le_bytes());
    }
    assert!(rig.run(&io(NvmOpcode::Read, 200, 64)).status.is_success());
    assert_eq!(rig.host(1, PAGE), &data[..PAGE]);
    assert_eq!(rig.memory[3 * PAGE..10 * PAGE], data[PAGE..]);
}

#[test]
fn field_checks_come_in_controller_order() {
    let rig = Rig::new(DataMode::Normal);
    let bad_opcode = Command::new(0x7F, 1);
    assert_eq!(rig.run(&bad_opcode).status, Status::INVALID_COMMAND_OPCODE);
    assert!(rig.run(&bad_opcode).dnr);
    // PSDT (SGLs) before the LBA range.
    let mut sgl = io(NvmOpcode::Read, u64::MAX, 1);
    sgl.cdw0.set_psdt(1);
    assert_eq!(rig.run(&sgl).status, Status::INVALID_FIELD_IN_COMMAND);
    let mut fused = io(NvmOpcode::Compare, 0, 1);
    fused.cdw0.set_fuse(1);
    assert_eq!(rig.run(&fused).status, Status::INVALID_FIELD_IN_COMMAND);
    // The LBA range before MDTS.
    let out_of_range = rig.run(&io(NvmOpcode::Read, 999, 2));
    assert_eq!(out_of_range.status, Status::LBA_OUT_OF_RANGE);
    assert!(out_of_range.dnr);
    for (slba, nlb) in [(u64::MAX, 1), (u64::MAX - 10, 65536), (1000, 1), (0, 65536)] {
        for op in [NvmOpcode::Read, NvmOpcode::Write, NvmOpcode::Verify, NvmOpcode::WriteZeroes] {
            assert_eq!(rig.run(&io(op, slba, nlb)).status, Status::LBA_OUT_OF_RANGE, "{op} {slba}+{nlb}");
        }
    }
    assert_eq!(rig.run(&io(NvmOpcode::Read, 0, 65)).status, Status::INVALID_FIELD_IN_COMMAND, "MDTS");
    assert_eq!(rig.run(&io(NvmOpcode::Write, 0, 65)).status, Status::INVALID_FIELD_IN_COMMAND, "MDTS");
    assert!(rig.run(&io(NvmOpcode::Read, 0, 8)).status.is_success());
    // Write Zeroes and Verify move no data: MDTS does not apply.
    assert!(rig.run(&io(NvmOpcode::WriteZeroes, 0, 500)).status.is_success());
    assert!(rig.run(&io(NvmOpcode::Verify, 0, 500)).status.is_success());
    assert_eq!(rig.count(&rig.counters.read_commands), 2);
}

#[test]
fn prp_errors_fail_the_transfer() {
    let rig = Rig::new(DataMode::Normal);
    let mut unmapped = io(NvmOpcode::Read, 0, 1);
    unmapped.prp1 = BASE - PAGE as u64;
    let result = rig.run(&unmapped);
    assert_eq!(result.status, Status::DATA_TRANSFER_ERROR);
    assert!(!result.dnr);
    let mut write = io(NvmOpcode::Write, 0, 1);
    write.prp1 = 0xDEAD_0000;
    assert_eq!(rig.run(&write).status, Status::DATA_TRANSFER_ERROR);
    let mut misaligned = io(NvmOpcode::Read, 0, 1);
    misaligned.prp1 = page(1) + 2;
    assert_eq!(rig.run(&misaligned).status, Status::PRP_OFFSET_INVALID);
    // A PRP list full of garbage for a 32 KiB read.
    let mut list = io(NvmOpcode::Read, 0, 64);
    list.prp2 = page(3);
    assert_eq!(rig.run(&list).status, Status::DATA_TRANSFER_ERROR);
    rig.space.set_bus_master(false);
    assert_eq!(rig.run(&io(NvmOpcode::Read, 0, 1)).status, Status::DATA_TRANSFER_ERROR);
    assert_eq!(rig.count(&rig.counters.read_commands), 0);
    assert_eq!(rig.count(&rig.counters.write_commands), 0);
}

#[test]
fn compare_detects_mismatch() {
    let mut rig = Rig::new(DataMode::Normal);
    let data = pattern(4 * LBA, 1);
    rig.ns.write(20, &data, false);
    rig.host(1, 4 * LBA).copy_from_slice(&data);
    assert!(rig.run(&io(NvmOpcode::Compare, 20, 4)).status.is_success());
    rig.host(1, 4 * LBA)[2 * LBA + 5] ^= 1;
    let result = rig.run(&io(NvmOpcode::Compare, 20, 4));
    assert_eq!(result.status, Status::COMPARE_FAILURE);
    assert_eq!(result.status.sct(), 2);
    assert_eq!(result.error_lba, Some(22));
    assert!(result.dnr);
    assert_eq!(rig.count(&rig.counters.read_commands), 1);
}

#[test]
fn uncorrectable_blocks_fail_reads() {
    let mut rig = Rig::new(DataMode::Normal);
    assert!(rig.run(&io(NvmOpcode::WriteUncorrectable, 30, 2)).status.is_success());
    for op in [NvmOpcode::Read, NvmOpcode::Verify, NvmOpcode::Compare] {
        let result = rig.run(&io(op, 28, 4));
        assert_eq!(result.status, Status::UNRECOVERED_READ_ERROR, "{op}");
        assert_eq!(result.status.sct(), 2);
        assert_eq!(result.error_lba, Some(30));
        assert!(result.dnr);
    }
    assert_eq!(rig.count(&rig.counters.media_errors), 3);
    assert_eq!(rig.count(&rig.counters.read_commands), 0);
    // Writing the blocks clears the marks.
    rig.host(1, 2 * LBA).copy_from_slice(&pattern(2 * LBA, 5));
    assert!(rig.run(&io(NvmOpcode::Write, 30, 2)).status.is_success());
    assert!(rig.run(&io(NvmOpcode::Read, 28, 4)).status.is_success());
    assert_eq!(rig.host(1, 4 * LBA)[2 * LBA..], pattern(2 * LBA, 5)[..]);
}

#[test]
fn write_zeroes_and_deallocate_bit() {
    let rig = Rig::new(DataMode::Normal);
    rig.ns.write(0, &pattern(40 * LBA, 2), false);
    assert!(rig.run(&io(NvmOpcode::WriteZeroes, 5, 5)).status.is_success());
    let mut deac = io(NvmOpcode::WriteZeroes, 20, 10);
    deac.cdw12 |= 1 << 25;
    assert!(rig.run(&deac).status.is_success());
    let mut out = vec![0u8; 40 * LBA];
    rig.ns.read(0, &mut out).unwrap();
    let expect = pattern(40 * LBA, 2);
    for lba in 0..40 {
        let got = &out[lba * LBA..(lba + 1) * LBA];
        if (5..10).contains(&lba) || (20..30).contains(&lba) {
            assert!(got.iter().all(|&b| b == 0), "lba {lba}");
        } else {
            assert_eq!(got, &expect[lba * LBA..(lba + 1) * LBA], "lba {lba}");
        }
    }
    assert_eq!(rig.count(&rig.counters.write_commands), 0, "Write Zeroes is not a host write");
}

fn dsm_ranges(rig: &mut Rig, ranges: &[(u32, u64)]) {
    let buf = rig.host(1, PAGE);
    buf.fill(0);
    for (i, &(len, slba)) in ranges.iter().enumerate() {
        buf[i * 16..i * 16 + 4].copy_from_slice(&0xABCDu32.to_le_bytes());
        buf[i * 16 + 4..i * 16 + 8].copy_from_slice(&len.to_le_bytes());
        buf[i * 16 + 8..i * 16 + 16].copy_from_slice(&slba.to_le_bytes());
    }
}

fn dsm(nr: usize, deallocate: bool) -> Command {
    let mut cmd = Command::new(NvmOpcode::DatasetManagement as u8, 1);
    cmd.prp1 = page(1);
    cmd.cdw10 = (nr - 1) as u32;
    cmd.cdw11 = if deallocate { 1 << 2 } else { 0 };
    cmd
}

#[test]
fn dataset_management_deallocates_ranges() {
    let mut rig = Rig::new(DataMode::Normal);
    rig.ns.write(0, &pattern(100 * LBA, 4), false);
    dsm_ranges(&mut rig, &[(10, 0), (0, 50), (5, 90)]);
    assert!(rig.run(&dsm(3, false)).status.is_success(), "hints only");
    assert!(rig.ns.resident_bytes() > 0);
    let mut out = vec![0u8; 100 * LBA];
    rig.ns.read(0, &mut out).unwrap();
    assert_eq!(out, pattern(100 * LBA, 4));
    assert!(rig.run(&dsm(3, true)).status.is_success());
    rig.ns.read(0, &mut out).unwrap();
    assert!(out[..10 * LBA].iter().all(|&b| b == 0));
    assert!(out[90 * LBA..95 * LBA].iter().all(|&b| b == 0));
    assert_eq!(out[10 * LBA..90 * LBA], pattern(100 * LBA, 4)[10 * LBA..90 * LBA]);

    // One bad range fails the command before anything is deallocated.
    dsm_ranges(&mut rig, &[(10, 10), (2, 999), (1, u64::MAX)]);
    let result = rig.run(&dsm(3, true));
    assert_eq!(result.status, Status::LBA_OUT_OF_RANGE);
    assert_eq!(result.error_lba, Some(999));
    rig.ns.read(10, &mut out[..LBA]).unwrap();
    assert!(out[..LBA].iter().any(|&b| b != 0));

    // NR = 255: 256 ranges of garbage, then 256 valid ranges.
    for (i, b) in rig.host(1, PAGE).iter_mut().enumerate() {
        *b = (i * 37) as u8 | 0x80;
    }
    assert_eq!(rig.run(&dsm(256, true)).status, Status::LBA_OUT_OF_RANGE);
    let all: Vec<(u32, u64)> = (0..256u32).map(|i| (u32::from(i % 3 == 0), u64::from(i) * 3)).collect();
    dsm_ranges(&mut rig, &all);
    assert!(rig.run(&dsm(256, true)).status.is_success());
    let mut unmapped = dsm(256, true);
    unmapped.prp1 = 0x1000;
    assert_eq!(rig.run(&unmapped).status, Status::DATA_TRANSFER_ERROR);
}

#[test]
fn flush_and_fua_with_write_cache() {
    let mut rig = Rig::new(DataMode::Normal);
    rig.ns.set_write_cache(true);
    rig.host(1, LBA).copy_from_slice(&pattern(LBA, 1));
    assert!(rig.run(&io(NvmOpcode::Write, 1, 1)).status.is_success());
    let mut fua = io(NvmOpcode::Write, 2, 1);
    fua.cdw12 |= 1 << 30;
    assert!(rig.run(&fua).status.is_success());
    rig.ns.power_loss();
    let mut out = vec![0u8; 2 * LBA];
    rig.ns.read(1, &mut out).unwrap();
    assert!(out[..LBA].iter().all(|&b| b == 0), "cached write lost");
    assert_eq!(out[LBA..], pattern(LBA, 1)[..], "FUA write durable");
    assert!(rig.run(&io(NvmOpcode::Write, 1, 1)).status.is_success());
    assert!(rig.run(&Command::new(NvmOpcode::Flush as u8, 1)).status.is_success());
    rig.ns.power_loss();
    rig.ns.read(1, &mut out[..LBA]).unwrap();
    assert_eq!(out[..LBA], pattern(LBA, 1)[..]);
}

#[test]
fn corrupt_read_keeps_the_stamp_and_the_media() {
    let mut rig = Rig::new(DataMode::Normal);
    let data = pattern(2 * LBA, 6);
    rig.ns.write(0, &data, false);
    rig.corrupt = true;
    assert!(rig.run(&io(NvmOpcode::Read, 0, 2)).status.is_success());
    let host = rig.host(1, 2 * LBA).to_vec();
    assert_eq!(host[..16], data[..16], "stamp intact");
    assert_ne!(host[16..LBA], data[16..LBA], "first block corrupted");
    assert_eq!(host[LBA..], data[LBA..]);
    let mut media = vec![0u8; 2 * LBA];
    rig.ns.read(0, &mut media).unwrap();
    assert_eq!(media, data, "media intact");
}

#[test]
fn null_mode_moves_no_data() {
    let mut rig = Rig::new(DataMode::Null);
    rig.host(1, LBA).fill(0x5A);
    let mut garbage = io(NvmOpcode::Read, 0, 8);
    garbage.prp1 = 0xBAD;
    garbage.prp2 = 0xBAD;
    assert!(rig.run(&garbage).status.is_success());
    assert!(rig.run(&io(NvmOpcode::Read, 0, 8)).status.is_success());
    assert!(rig.host(1, LBA).iter().all(|&b| b == 0x5A), "host memory untouched");
    assert!(rig.run(&io(NvmOpcode::Write, 0, 8)).status.is_success());
    assert_eq!(rig.ns.resident_bytes(), 0);
    assert_eq!(rig.count(&rig.counters.bytes_read), 8192);
    assert_eq!(rig.count(&rig.counters.bytes_written), 4096);
    // Range, MDTS and marks are still checked.
    assert_eq!(rig.run(&io(NvmOpcode::Read, 999, 2)).status, Status::LBA_OUT_OF_RANGE);
    assert_eq!(rig.run(&io(NvmOpcode::Write, 0, 65)).status, Status::INVALID_FIELD_IN_COMMAND);
    assert!(rig.run(&io(NvmOpcode::WriteUncorrectable, 5, 1)).status.is_success());
    assert_eq!(rig.run(&io(NvmOpcode::Read, 0, 8)).status, Status::UNRECOVERED_READ_ERROR);
    assert!(rig.run(&io(NvmOpcode::Write, 5, 1)).status.is_success());
    assert!(rig.run(&io(NvmOpcode::Read, 0, 8)).status.is_success());
    assert!(rig.run(&dsm(256, true)).status.is_success());
}
