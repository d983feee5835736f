//! The Copy command through the driver against the simulator: data lands
//! where the ranges say, the verify map follows it, and the device's copy
//! limits (MSRC, MSSRL, MCL) and the namespace's bounds are answered with
//! the spec's statuses.

mod common;

use common::*;
use nvmeplan_driver::{CheckCounts, VerifyMap, WriteOptions, commands};
use nvmeplan_spec::Status;
use nvmeplan_spec::identify::oncs;
use std::sync::Arc;

#[test]
fn two_ranges_copy_sixteen_blocks_and_read_back_verified() {
    let ctrl = open_sim("");
    let lba = lba_size(&ctrl);
    assert_ne!(ctrl.identify().unwrap().oncs & oncs::COPY, 0);
    let mut qp = qpair(&ctrl, 16);
    let map = Arc::new(VerifyMap::new());
    qp.attach_verify_map(1, map.clone());
    let mut wbuf = buffer(&ctrl, 16 * lba);
    wbuf.fill(nvmeplan_driver::Pattern::Random { seed: 7 });
    assert!(qp.write(1, 0, 16, &mut wbuf, WriteOptions::default()).unwrap().status().is_success());
    let cqe = qp.copy(1, 1000, &[(0, 8), (8, 8)], false).unwrap();
    assert!(cqe.status().is_success(), "{}", cqe.status());
    // Byte for byte what was written, stamps of the source LBAs included.
    let mut rbuf = buffer(&ctrl, 16 * lba);
    let out = qp.read(1, 1000, 16, &mut rbuf, None).unwrap();
    assert!(out.is_clean(), "{:?}", out.mismatches);
    assert_eq!(out.counts, CheckCounts { checked: 16, ..Default::default() });
    assert!(wbuf.data_eq(&rbuf, 16 * lba));
    // The ranges in the other order, with FUA: the halves swap.
    assert!(qp.copy(1, 2000, &[(8, 8), (0, 8)], true).unwrap().status().is_success());
    let out = qp.read(1, 2000, 16, &mut rbuf, None).unwrap();
    assert!(out.is_clean(), "{:?}", out.mismatches);
    assert_eq!(&rbuf.data()[..8 * lba], &wbuf.data()[8 * lba..16 * lba]);
    // Zeroed and uncorrectable sources carry their state over.
    assert!(qp.write_zeroes(1, 100, 2, false).unwrap().status().is_success());
    assert!(qp.copy(1, 3000, &[(100, 2)], false).unwrap().status().is_success());
    let out = qp.read(1, 3000, 2, &mut rbuf, None).unwrap();
    assert_eq!(out.counts, CheckCounts { checked: 2, ..Default::default() });
    // A copy that reads an uncorrectable block fails and moves nothing.
    assert!(qp.write_uncorrectable(1, 4, 1).unwrap().status().is_success());
    let cqe = qp.copy(1, 1000, &[(0, 8)], false).unwrap();
    assert_eq!((cqe.status(), cqe.dnr()), (Status::UNRECOVERED_READ_ERROR, true));
    let out = qp.read(1, 1008, 8, &mut rbuf, None).unwrap();
    assert!(out.is_clean(), "{:?}", out.mismatches);
}

#[test]
fn copy_limits_get_command_size_limit_exceeded() {
    // MSRC 3 (zero-based: four ranges), MSSRL 8, MCL 20.
    let ctrl = open_sim("msrc=3,mssrl=8,mcl=20");
    let id = ctrl.identify_namespace(1).unwrap();
    assert_eq!((id.msrc, id.mssrl, id.mcl), (3, 8, 20));
    let mut qp = qpair(&ctrl, 16);
    let four: Vec<(u64, u32)> = (0..4).map(|i| (i * 10, 5)).collect();
    assert!(qp.copy(1, 500, &four, false).unwrap().status().is_success());
    let cases: [(&str, Vec<(u64, u32)>); 3] = [
        ("NR beyond MSRC", (0..5).map(|i| (i * 10, 1)).collect()),
        ("a range beyond MSSRL", vec![(0, 9)]),
        ("the total beyond MCL", vec![(0, 8), (10, 8), (20, 5)]),
    ];
    for (what, ranges) in cases {
        let cqe = qp.copy(1, 500, &ranges, false).unwrap();
        assert_eq!(cqe.status(), Status::COMMAND_SIZE_LIMIT_EXCEEDED, "{what}");
        assert_eq!((cqe.status().sct(), cqe.status().sc()), (1, 0x83), "{what}");
        assert!(cqe.dnr(), "{what}");
    }
}

#[test]
fn out_of_range_source_or_destination_and_bad_format() {
    let ctrl = open_sim("");
    let nsze = ctrl.identify_namespace(1).unwrap().nsze;
    let mut qp = qpair(&ctrl, 16);
    for (sdlba, ranges) in
        [(0, vec![(nsze - 1, 2)]), (nsze - 1, vec![(0, 2)]), (0, vec![(0, 1), (u64::MAX, 1)])]
    {
        let cqe = qp.copy(1, sdlba, &ranges, false).unwrap();
        assert_eq!((cqe.status(), cqe.dnr()), (Status::LBA_OUT_OF_RANGE, true), "{sdlba} {ranges:?}");
    }
    // Descriptor format 1 is not in OCFS: Invalid Field in Command.
    let mut cmd = commands::copy(1, 0, 1, false);
    cmd.cdw12 |= 1 << 8;
    let mut list = buffer(&ctrl, 32);
    list.as_mut_slice()[..32].copy_from_slice(&commands::copy_range(0, 1));
    let cqe = qp.execute(cmd, Some(&mut list), None).unwrap();
    assert_eq!(cqe.status(), Status::INVALID_FIELD_IN_COMMAND);
    // The driver refuses what no Copy can carry.
    assert!(qp.copy(1, 0, &[], false).is_err());
    assert!(qp.copy(1, 0, &[(0, 0)], false).is_err());
    assert!(qp.copy(1, 0, &vec![(0, 1); 257], false).is_err());
}

#[test]
fn a_failed_copy_leaves_the_destination_unchecked_not_wrong() {
    let ctrl = open_sim("msrc=0");
    let lba = lba_size(&ctrl);
    let mut qp = qpair(&ctrl, 16);
    let map = Arc::new(VerifyMap::new());
    qp.attach_verify_map(1, map.clone());
    let mut buf = buffer(&ctrl, 4 * lba);
    assert!(qp.write(1, 0, 4, &mut buf, WriteOptions::default()).unwrap().status().is_success());
    assert!(qp.write(1, 50, 4, &mut buf, WriteOptions::default()).unwrap().status().is_success());
    let cqe = qp.copy(1, 50, &[(0, 2), (2, 2)], false).unwrap();
    assert_eq!(cqe.status(), Status::COMMAND_SIZE_LIMIT_EXCEEDED);
    // The simulator wrote nothing; the map no longer claims to know.
    let out = qp.read(1, 50, 4, &mut buf, None).unwrap();
    assert!(out.is_clean(), "{:?}", out.mismatches);
    assert_eq!(out.counts, CheckCounts { unchecked: 4, ..Default::default() });
}
