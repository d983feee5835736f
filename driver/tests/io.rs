//! I/O through queue pairs against the simulator: data integrity across
//! PRP lists, the raw hot path, timeouts, and threads with their own queues.

mod common;

use common::*;
use nvmeplan_driver::queue_pair::QueuePairOptions;
use nvmeplan_driver::{CheckCounts, DriverError, MismatchKind, Pattern, VerifyMap, WriteOptions, commands};
use nvmeplan_sim::FaultAction;
use nvmeplan_sim::faults::{FaultMatch, FaultRule, QueueMatch};
use nvmeplan_spec::{NvmOpcode, Status};
use std::sync::Arc;
use std::time::Duration;

#[test]
fn write_read_verify_at_mdts_with_chained_prp_lists() {
    // MDTS 10 = 4 MiB: 1023 PRP list entries, so the list is chained.
    let ctrl = open_sim("mdts=10");
    let mdts = ctrl.mdts_bytes().unwrap();
    assert_eq!(mdts, 4 << 20);
    let lba = lba_size(&ctrl);
    let nlb = (mdts / lba) as u32;
    let mut qp = qpair(&ctrl, 16);
    let map = Arc::new(VerifyMap::new());
    qp.attach_verify_map(1, map.clone());
    for offset in [0usize, 4, 512] {
        let mut wbuf = buffer(&ctrl, mdts + 4096).with_offset(offset).unwrap();
        wbuf.fill(Pattern::Random { seed: offset as u64 });
        let slba = 1000 + offset as u64;
        let cqe = qp.write(1, slba, nlb, &mut wbuf, WriteOptions::default()).unwrap();
        assert!(cqe.status().is_success(), "{}", cqe.status());
        let mut rbuf = buffer(&ctrl, mdts + 4096).with_offset(offset).unwrap();
        let out = qp.read(1, slba, nlb, &mut rbuf, None).unwrap();
        assert!(
            out.is_clean(),
            "{:?} {:?}",
            out.completion.status(),
            &out.mismatches[..out.mismatches.len().min(4)]
        );
        assert!(wbuf.data_eq(&rbuf, mdts));
    }
    // Overwrite blocks behind the map's back: other data is a CRC
    // mismatch, another LBA's stamped block a stamp mismatch.
    let mut one = buffer(&ctrl, lba);
    one.fill(Pattern::Ones);
    qp.execute(commands::write(1, 1000, 1, false), Some(&mut one), None).unwrap();
    let mut other = buffer(&ctrl, lba);
    qp.read(1, 1003, 1, &mut other, None).unwrap();
    qp.execute(commands::write(1, 1001, 1, false), Some(&mut other), None).unwrap();
    let mut rbuf = buffer(&ctrl, lba * 3);
    let out = qp.read(1, 1000, 3, &mut rbuf, None).unwrap();
    let found: Vec<_> = out.mismatches.iter().map(|m| (m.lba, m.kind, m.found)).collect();
    assert_eq!((found[0].0, found[0].1), (1000, MismatchKind::Crc));
    assert_eq!(found[1], (1001, MismatchKind::Stamp, 1003));
    assert_eq!(out.counts, CheckCounts { checked: 3, unchecked: 0, mismatched: 2 });
    // Beyond MDTS the device refuses (PRP lists are sized for MDTS + a page).
    let mut big = buffer(&ctrl, mdts + lba);
    let cqe = qp.write(1, 0, nlb + 1, &mut big, WriteOptions::default()).unwrap();
    assert!(!cqe.status().is_success());
}

#[test]
fn zeroes_uncorrectable_and_deallocate_update_the_map() {
    let ctrl = open_sim("");
    let lba = lba_size(&ctrl);
    let mut qp = qpair(&ctrl, 16);
    let map = Arc::new(VerifyMap::new());
    qp.attach_verify_map(1, map.clone());
    let mut buf = buffer(&ctrl, lba * 8);
    assert!(qp.write(1, 0, 8, &mut buf, WriteOptions::default()).unwrap().status().is_success());
    assert!(qp.write_zeroes(1, 0, 2, false).unwrap().status().is_success());
    assert_eq!(map.expect(1), nvmeplan_driver::Expectation::Zeroes);
    assert!(qp.write_uncorrectable(1, 4, 1).unwrap().status().is_success());
    let out = qp.read(1, 4, 1, &mut buf, None).unwrap();
    assert_eq!(out.completion.status(), Status::UNRECOVERED_READ_ERROR);
    assert!(out.mismatches.is_empty());
    assert_eq!(out.counts, CheckCounts { checked: 1, ..Default::default() }, "the expected error is a check");
    let out = qp.read(1, 0, 4, &mut buf, None).unwrap();
    assert!(out.is_clean(), "{:?}", out.mismatches);
    assert_eq!(out.counts, CheckCounts { checked: 4, ..Default::default() });
    // Blocks never written are counted, not passed silently.
    let out = qp.read(1, 100, 4, &mut buf, None).unwrap();
    assert!(out.is_clean());
    assert_eq!(out.counts, CheckCounts { unchecked: 4, ..Default::default() });
    assert!(qp.deallocate(1, &[(0, 8)]).unwrap().status().is_success());
    assert!(qp.flush(1).unwrap().status().is_success());
    assert!(qp.verify(1, 0, 1).unwrap().status().is_success());
    // Out of range.
    let nsze = ctrl.namespace(1).unwrap().nsze;
    assert_eq!(qp.read(1, nsze, 1, &mut buf, None).unwrap().completion.status(), Status::LBA_OUT_OF_RANGE);
}

#[test]
fn prp_offset_not_dword_aligned_is_refused_by_the_device() {
    let ctrl = open_sim("");
    let lba = lba_size(&ctrl);
    let mut qp = qpair(&ctrl, 16);
    let mut buf = buffer(&ctrl, lba + 4096).with_offset(2).unwrap();
    let out = qp.read(1, 0, 1, &mut buf, None).unwrap();
    assert_eq!(out.completion.status(), Status::PRP_OFFSET_INVALID);
}

#[test]
fn raw_batches_use_one_doorbell() {
    let ctrl = open_sim("");
    let lba = lba_size(&ctrl);
    let mut qp = qpair(&ctrl, 64);
    let buf = buffer(&ctrl, lba * 32);
    let before = qp.stats().doorbells;
    for i in 0..32u64 {
        qp.submit_raw(commands::read(1, i, 1), Some((buf.iova() + i * lba as u64, lba)), 100 + i).unwrap();
    }
    assert_eq!(qp.stats().doorbells, before);
    let mut seen = [false; 32];
    let mut done = 0;
    while done < 32 {
        done += qp
            .poll(8, |token, cqe, _lat| {
                assert!(cqe.status().is_success());
                seen[(token - 100) as usize] = true;
            })
            .unwrap();
    }
    assert!(seen.iter().all(|&s| s));
    assert_eq!(qp.stats().doorbells, before + 1);
    assert_eq!(qp.outstanding(), 0);
    // Overrun protection: at most depth - 1 commands.
    let mut n = 0;
    let err = loop {
        match qp.submit_raw(commands::flush(1), None, n) {
            Ok(_) => n += 1,
            Err(e) => break e,
        }
    };
    assert_eq!(n, 63);
    assert!(matches!(err, DriverError::QueueFull { .. }));
    let mut left = 63;
    while left > 0 {
        left -= qp.poll(64, |_, _, _| {}).unwrap();
    }
    let entries = qp.cmdlog().snapshot(5);
    assert_eq!(entries.len(), 5);
    assert!(entries.iter().all(|e| e.cqe.is_some()));
    assert!(entries[0].to_string().contains("flush"), "{}", entries[0]);
}

#[test]
fn callbacks_and_interrupt_waits() {
    let ctrl = open_sim("");
    let options = QueuePairOptions { interrupts: true, ..Default::default() };
    let mut qp = ctrl.create_qpair(16, options).unwrap();
    assert!(qp.vector().is_some());
    let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for _ in 0..4 {
        let hits = hits.clone();
        qp.submit_with_callback(
            commands::flush(1),
            None,
            Box::new(move |cqe| {
                assert!(cqe.status().is_success());
                hits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }),
        )
        .unwrap();
    }
    while hits.load(std::sync::atomic::Ordering::Relaxed) < 4 {
        assert!(qp.wait_for_completions(Duration::from_secs(5)).unwrap());
        qp.poll(16, |_, _, _| panic!("no raw commands")).unwrap();
    }
}

#[test]
fn dropped_completion_times_out_and_keeps_the_cid() {
    let (ctrl, sim) = open_sim_device("");
    let mut qp = qpair(&ctrl, 16);
    let rule = FaultRule::new(
        FaultMatch {
            queue: QueueMatch::Sq(qp.qid()),
            opcode: Some(NvmOpcode::Flush as u8),
            ..Default::default()
        },
        FaultAction::DropCompletion,
    )
    .times(1);
    sim.faults().add(rule);
    let err = qp.execute(commands::flush(1), None, Some(Duration::from_millis(100))).unwrap_err();
    match err {
        DriverError::Timeout { qid, elapsed, ref opcode, .. } => {
            assert_eq!(qid, qp.qid());
            assert!(elapsed >= Duration::from_millis(100));
            assert_eq!(opcode.name(), Some("flush"));
        }
        ref e => panic!("{e}"),
    }
    assert!(err.to_string().contains("flush"), "{err}");
    assert_eq!(qp.outstanding(), 1, "the timed-out CID stays reserved");
    assert!(qp.flush(1).unwrap().status().is_success());
    // Raw timeouts are reported by poll.
    sim.faults().add(
        FaultRule::new(
            FaultMatch { queue: QueueMatch::Sq(qp.qid()), ..Default::default() },
            FaultAction::DropCompletion,
        )
        .times(1),
    );
    qp.submit_raw_with_timeout(commands::flush(1), None, 7, Duration::from_millis(50)).unwrap();
    let start = std::time::Instant::now();
    let err = loop {
        match qp.poll(16, |_, _, _| {}) {
            Ok(_) => assert!(start.elapsed() < Duration::from_secs(5), "never timed out"),
            Err(e) => break e,
        }
    };
    assert!(matches!(err, DriverError::Timeout { .. }), "{err}");
    assert_eq!(qp.stats().timeouts, 2);
}

#[test]
fn four_threads_each_with_a_qpair_on_disjoint_regions() {
    let ctrl = Arc::new(open_sim(""));
    let map = Arc::new(VerifyMap::new());
    let lba = lba_size(&ctrl);
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let ctrl = ctrl.clone();
            let map = map.clone();
            std::thread::spawn(move || {
                let mut qp = qpair(&ctrl, 32);
                qp.attach_verify_map(1, map);
                let mut wbuf = buffer(&ctrl, lba * 16);
                let mut rbuf = buffer(&ctrl, lba * 16);
                let base = t * 100_000;
                for i in 0..64u64 {
                    wbuf.fill(Pattern::Random { seed: t * 1000 + i });
                    let slba = base + i * 16;
                    assert!(
                        qp.write(1, slba, 16, &mut wbuf, WriteOptions::default())
                            .unwrap()
                            .status()
                            .is_success()
                    );
                }
                for i in 0..64u64 {
                    let out = qp.read(1, base + i * 16, 16, &mut rbuf, None).unwrap();
                    assert!(out.is_clean(), "thread {t}: {:?}", out.mismatches);
                }
                qp.stats().completed
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), 128);
    }
    assert_eq!(map.tracked_lbas(), 4 * 64 * 16);
}
