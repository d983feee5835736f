//! Copy: data movement, the limit checks in their order, and failures that
//! leave the destination untouched.

use super::*;
use nvmeplan_spec::dwords::{CopyCdw12, CopySourceRange};
use zerocopy::IntoBytes;

/// A Copy of `ranges` to `sdlba`, its source range entries in page 3.
fn copy_cmd(rig: &mut Rig, sdlba: u64, ranges: &[(u64, u32)]) -> Command {
    let list: Vec<u8> =
        ranges.iter().flat_map(|&(slba, nlb)| CopySourceRange::new(slba, nlb).as_bytes().to_vec()).collect();
    // 256 entries fill two pages: page 3 and, through PRP2, page 4.
    let first = list.len().min(PAGE);
    rig.host(3, first).copy_from_slice(&list[..first]);
    rig.host(4, list.len() - first).copy_from_slice(&list[first..]);
    let mut cmd = Command::new(NvmOpcode::Copy as u8, 1);
    cmd.set_slba(sdlba);
    cmd.cdw12 = CopyCdw12::from_ranges(ranges.len(), 0).into();
    cmd.prp1 = page(3);
    cmd.prp2 = page(4);
    cmd
}

fn run_copy(rig: &mut Rig, sdlba: u64, ranges: &[(u64, u32)]) -> IoResult {
    let cmd = copy_cmd(rig, sdlba, ranges);
    rig.run(&cmd)
}

fn media(rig: &Rig, slba: u64, nlb: usize) -> Vec<u8> {
    let mut out = vec![0u8; nlb * LBA];
    rig.ns.read(slba, &mut out).unwrap();
    out
}

#[test]
fn copies_ranges_in_order_to_one_destination() {
    let mut rig = Rig::new(DataMode::Normal);
    let data = pattern(16 * LBA, 5);
    rig.ns.write(0, &data, false);
    let cmd = copy_cmd(&mut rig, 500, &[(8, 8), (0, 8)]);
    assert_eq!(rig.run(&cmd), IoResult::success());
    assert_eq!(media(&rig, 500, 8), data[8 * LBA..]);
    assert_eq!(media(&rig, 508, 8), data[..8 * LBA]);
    // One host read and one host write command, no host data units.
    assert_eq!(rig.count(&rig.counters.read_commands), 1);
    assert_eq!(rig.count(&rig.counters.write_commands), 1);
    assert_eq!(rig.count(&rig.counters.bytes_read), 0);
    assert_eq!(rig.count(&rig.counters.bytes_written), 0);
    // Unwritten sources copy as zeroes over older data.
    let cmd = copy_cmd(&mut rig, 0, &[(900, 2)]);
    assert!(rig.run(&cmd).status.is_success());
    assert_eq!(media(&rig, 0, 2), vec![0u8; 2 * LBA]);
    assert_eq!(media(&rig, 2, 14), data[2 * LBA..]);
}

#[test]
fn overlapping_ranges_copy_what_the_sources_held_before() {
    let mut rig = Rig::new(DataMode::Normal);
    let data = pattern(8 * LBA, 9);
    rig.ns.write(0, &data, false);
    // Destination 2..10 overlaps the first source 0..4 and the second 4..8.
    let cmd = copy_cmd(&mut rig, 2, &[(0, 4), (4, 4)]);
    assert!(rig.run(&cmd).status.is_success());
    assert_eq!(media(&rig, 0, 2), data[..2 * LBA]);
    assert_eq!(media(&rig, 2, 8), data);
}

#[test]
fn an_uncorrectable_source_fails_and_writes_nothing() {
    let mut rig = Rig::new(DataMode::Normal);
    let data = pattern(8 * LBA, 1);
    rig.ns.write(0, &data, false);
    rig.ns.write(100, &data, false);
    rig.ns.mark_uncorrectable(5, 1);
    let result = run_copy(&mut rig, 100, &[(0, 2), (4, 2)]);
    assert_eq!(
        (result.status, result.dnr, result.error_lba),
        (Status::UNRECOVERED_READ_ERROR, true, Some(5))
    );
    assert_eq!(media(&rig, 100, 8), data);
    assert_eq!(rig.count(&rig.counters.media_errors), 1);
    assert_eq!(rig.count(&rig.counters.write_commands), 0);
    // A copy onto an uncorrectable block makes it readable again.
    assert!(run_copy(&mut rig, 5, &[(0, 1)]).status.is_success());
    assert_eq!(media(&rig, 5, 1), data[..LBA]);
    // The null data mode checks the same marks.
    let mut null = Rig::new(DataMode::Null);
    null.ns.mark_uncorrectable(3, 1);
    let cmd = copy_cmd(&mut null, 10, &[(3, 1)]);
    assert_eq!(null.run(&cmd).status, Status::UNRECOVERED_READ_ERROR);
    null.ns.mark_uncorrectable(10, 1);
    assert!(run_copy(&mut null, 10, &[(0, 1)]).status.is_success());
    assert_eq!(null.ns.first_uncorrectable(10, 1), None);
}

#[test]
fn fields_and_ranges_are_checked_before_anything_moves() {
    let mut rig = Rig::new(DataMode::Normal);
    let data = pattern(4 * LBA, 3);
    rig.ns.write(0, &data, false);
    // Descriptor format 1 is not claimed: Invalid Field in Command.
    let mut cmd = copy_cmd(&mut rig, 10, &[(0, 1)]);
    cmd.cdw12 = CopyCdw12::from_ranges(1, 1).into();
    let result = rig.run(&cmd);
    assert_eq!((result.status, result.dnr), (Status::INVALID_FIELD_IN_COMMAND, true));
    // Source or destination outside the namespace (1000 blocks).
    for (sdlba, ranges) in [
        (10, vec![(999, 2)]),
        (10, vec![(0, 1), (u64::MAX, 1)]),
        (999, vec![(0, 2)]),
        (u64::MAX, vec![(0, 1)]),
        (998, vec![(0, 2), (2, 1)]),
    ] {
        let result = run_copy(&mut rig, sdlba, &ranges);
        assert_eq!((result.status, result.dnr), (Status::LBA_OUT_OF_RANGE, true), "{sdlba} {ranges:?}");
    }
    // An unmapped descriptor list is a transfer error.
    let mut cmd = copy_cmd(&mut rig, 10, &[(0, 1)]);
    cmd.prp1 = BASE - PAGE as u64;
    assert_eq!(rig.run(&cmd).status, Status::DATA_TRANSFER_ERROR);
    assert_eq!(media(&rig, 0, 4), data);
    assert_eq!(media(&rig, 998, 2), vec![0u8; 2 * LBA]);
    assert_eq!(rig.count(&rig.counters.write_commands), 0);
}

/// What the checks should answer for `ranges` under `limits`, in their
/// documented order: NR against MSRC, the total against MCL, then per
/// range its length against MSSRL and its place in the namespace.
fn expected(limits: CopyLimits, ranges: &[(u64, u32)], capacity: u64) -> Status {
    if ranges.len() > usize::from(limits.msrc) + 1 {
        return Status::COMMAND_SIZE_LIMIT_EXCEEDED;
    }
    let total: u64 = ranges.iter().map(|&(_, n)| u64::from(n)).sum();
    if total > u64::from(limits.mcl) {
        return Status::COMMAND_SIZE_LIMIT_EXCEEDED;
    }
    for &(slba, nlb) in ranges {
        if nlb > u32::from(limits.mssrl) {
            return Status::COMMAND_SIZE_LIMIT_EXCEEDED;
        }
        if slba + u64::from(nlb) > capacity {
            return Status::LBA_OUT_OF_RANGE;
        }
    }
    Status::SUCCESS
}

#[test]
fn limit_checks_exhaustively_on_small_limits() {
    let mut rig = Rig::new(DataMode::Normal);
    rig.copy = CopyLimits { mssrl: 3, mcl: 5, msrc: 1 };
    let mut seen = std::collections::BTreeSet::new();
    // Every combination of one to three ranges of 1 to 4 blocks, the last
    // range starting in or past the namespace's end.
    for count in 1..=3usize {
        for lens in 0..4u32.pow(count as u32) {
            for last_slba in [0u64, 997, 998] {
                let ranges: Vec<(u64, u32)> = (0..count)
                    .map(|i| {
                        let nlb = lens / 4u32.pow(i as u32) % 4 + 1;
                        let slba = if i + 1 == count { last_slba } else { 10 * i as u64 };
                        (slba, nlb)
                    })
                    .collect();
                let want = expected(rig.copy, &ranges, 1000);
                let got = run_copy(&mut rig, 500, &ranges);
                assert_eq!(got.status, want, "{ranges:?}");
                assert_eq!(got.dnr, !want.is_success());
                seen.insert(want.to_string());
            }
        }
    }
    // Every outcome was exercised.
    assert_eq!(seen.len(), 3, "{seen:?}");
    // The largest count: 256 entries when MSRC allows 256.
    rig.copy = CopyLimits { mssrl: 1, mcl: 256, msrc: 255 };
    let ranges: Vec<(u64, u32)> = (0..256).map(|i| (i, 1)).collect();
    assert!(run_copy(&mut rig, 600, &ranges).status.is_success());
    rig.copy.msrc = 254;
    assert_eq!(run_copy(&mut rig, 600, &ranges).status, Status::COMMAND_SIZE_LIMIT_EXCEEDED);
}

#[test]
fn limits_are_validated() {
    assert_eq!(CopyLimits::default(), CopyLimits { mssrl: 128, mcl: 128, msrc: 127 });
    assert!(CopyLimits::default().check().is_ok());
    assert!(CopyLimits { mssrl: 0, ..Default::default() }.check().is_err());
    let err = CopyLimits { mssrl: 64, mcl: 32, msrc: 0 }.check().unwrap_err();
    assert!(err.contains("mcl 32 is smaller than mssrl 64"), "{err}");
    assert!(CopyLimits { mcl: CopyLimits::MAX_MCL + 1, ..Default::default() }.check().is_err());
}
