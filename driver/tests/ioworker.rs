//! The ioworker against the simulator: every parameter's effect, verify
//! (clean runs, injected corruption), errors and timeouts, parallel workers.

mod common;

use common::*;
use nvmeplan_driver::ioworker::{
    Align, IoOp, IoSizeSpec, IoWorkerConfig, IoWorkerResults, Progress, SequenceEntry, WorkerResult,
    run_workers,
};
use nvmeplan_driver::{Controller, DriverError, Pattern, VerifyMap};
use nvmeplan_sim::FaultAction;
use nvmeplan_sim::faults::{FaultMatch, FaultRule, QueueMatch};
use nvmeplan_spec::Status;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const NULL: &str = "data=null,latency=none";

fn run(ctrl: &Controller, cfgs: &[IoWorkerConfig], map: Option<Arc<VerifyMap>>) -> IoWorkerResults {
    let stop = AtomicBool::new(false);
    run_workers(ctrl, cfgs, map, &stop, None).expect("run_workers")
}

fn run1(ctrl: &Controller, cfg: IoWorkerConfig, map: Option<Arc<VerifyMap>>) -> WorkerResult {
    run(ctrl, &[cfg], map).workers.remove(0)
}

fn random(count: u64, qdepth: u16) -> IoWorkerConfig {
    let mut c = IoWorkerConfig::new(1);
    c.lba_random_percent = 100;
    c.qdepth = qdepth;
    c.io_count = Some(count);
    c
}

fn share(n: u64, total: u64) -> f64 {
    n as f64 * 100.0 / total as f64
}

fn invalid(ctrl: &Controller, cfgs: &[IoWorkerConfig]) -> String {
    let stop = AtomicBool::new(false);
    match run_workers(ctrl, cfgs, None, &stop, None) {
        Err(DriverError::InvalidArgument(m)) => m,
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
}

#[test]
fn read_percentage_holds_within_two_percent() {
    let ctrl = open_sim(NULL);
    let w = run1(&ctrl, random(100_000, 32).read_percentage(70), None);
    assert_eq!(w.io_total, 100_000);
    assert_eq!(w.ios.read + w.ios.write, 100_000);
    let reads = share(w.ios.read, w.io_total);
    assert!((68.0..=72.0).contains(&reads), "reads {reads}%");
    assert_eq!(w.status_counts.get("success"), Some(&100_000));
    assert_eq!(w.errors, 0);
    assert!(w.iops > 0.0 && w.mbps > 0.0 && w.elapsed_ms < 60_000);
    let lat = w.latency.expect("latency recorded");
    assert!(lat.min_ns <= lat.p50_ns && lat.p50_ns <= lat.p99_ns && lat.p9999_ns <= lat.max_ns);
    assert_eq!(w.bytes, 100_000 * 8 * 512);
    assert!(w.cpu_percent > 0.0);
}

#[test]
fn op_mix_covers_every_operation() {
    let ctrl = open_sim("latency=none");
    let mut c = random(7_000, 8);
    c.op_mix = vec![
        (IoOp::Read, 1),
        (IoOp::Write, 1),
        (IoOp::Trim, 1),
        (IoOp::WriteZeroes, 1),
        (IoOp::Flush, 1),
        (IoOp::Verify, 1),
        (IoOp::Compare, 1),
    ];
    c.continue_on_error = true; // compares of unwritten or stamped data may miscompare
    c.region_end = Some(4096);
    let w = run1(&ctrl, c, None);
    let i = w.ios;
    for (name, n) in [
        ("read", i.read),
        ("write", i.write),
        ("trim", i.trim),
        ("write_zeroes", i.write_zeroes),
        ("flush", i.flush),
        ("verify", i.verify),
        ("compare", i.compare),
    ] {
        assert!((800..1200).contains(&n), "{name}: {n} of 7000");
    }
    assert_eq!(w.io_total, 7_000);
    // Only compares may fail.
    let failures: u64 = w.status_counts.iter().filter(|(k, _)| *k != "success").map(|(_, v)| v).sum();
    assert!(failures <= i.compare, "{:?}", w.status_counts);
}

#[test]
fn raw_opcode_is_sent_and_its_status_counted() {
    let ctrl = open_sim(NULL);
    let mut c = random(10, 1);
    c.op_mix = vec![(IoOp::Raw(0x99), 100)];
    c.continue_on_error = true;
    let w = run1(&ctrl, c, None);
    assert_eq!(w.ios.raw, 10);
    assert_eq!(w.errors, 10);
    assert_eq!(w.status_counts.get("invalid_command_opcode"), Some(&10), "{:?}", w.status_counts);
    let e = w.first_error.expect("first error");
    assert_eq!(e.status, "invalid_command_opcode");
    assert!(e.command.contains("0x99"), "{}", e.command);
    assert!(!e.cmdlog_tail.is_empty());
}

#[test]
fn alignment_and_region_are_never_violated() {
    let ctrl = open_sim(NULL);
    let mut c = random(20_000, 16);
    c.io_size = IoSizeSpec::List(vec![1, 8, 16, 24]);
    c.lba_align = Align::PerSize(vec![(8, 8), (16, 16), (24, 4)]);
    c.region_start = 1001;
    c.region_end = Some(50_003);
    c.trace = 20_000;
    let w = run1(&ctrl, c, None);
    assert_eq!(w.trace.len(), 20_000);
    let mut sizes = std::collections::BTreeSet::new();
    for t in &w.trace {
        let align = match t.nlb {
            8 => 8,
            16 => 16,
            24 => 4,
            _ => 1,
        };
        assert!(t.slba.is_multiple_of(align), "{t:?}");
        assert!(t.slba >= 1001 && t.slba + u64::from(t.nlb) <= 50_003, "{t:?}");
        sizes.insert(t.nlb);
    }
    assert_eq!(sizes.into_iter().collect::<Vec<_>>(), vec![1, 8, 16, 24]);
    // A size range with one alignment for all.
    let mut c = random(5_000, 4);
    c.io_size = IoSizeSpec::Range { min: 1, max: 64 };
    c.lba_align = Align::All(64);
    c.region_end = Some(10_000);
    c.trace = 5_000;
    let w = run1(&ctrl, c, None);
    assert!(
        w.trace
            .iter()
            .all(|t| t.slba.is_multiple_of(64) && t.slba + u64::from(t.nlb) <= 10_000 && t.nlb <= 64)
    );
    assert!(w.trace.iter().any(|t| t.nlb == 1) && w.trace.iter().any(|t| t.nlb == 64));
}

#[test]
fn sequential_with_lba_step_wraps_in_the_region() {
    let ctrl = open_sim(NULL);
    let mut c = IoWorkerConfig::new(1);
    c.io_size = IoSizeSpec::Fixed(8);
    c.lba_step = Some(16);
    c.region_start = 64;
    c.region_end = Some(64 + 16 * 10);
    c.lba_start = Some(96);
    c.io_count = Some(12);
    c.qdepth = 4;
    c.trace = 100;
    let w = run1(&ctrl, c, None);
    let lbas: Vec<u64> = w.trace.iter().map(|t| t.slba).collect();
    assert_eq!(lbas, vec![96, 112, 128, 144, 160, 176, 192, 208, 64, 80, 96, 112]);
    // Default step = io size; negative steps walk down and wrap to the end.
    let mut c = IoWorkerConfig::new(1);
    c.io_size = IoSizeSpec::Fixed(8);
    c.lba_start = Some(16);
    c.region_end = Some(64);
    c.io_count = Some(4);
    c.trace = 10;
    assert_eq!(
        run1(&ctrl, c.clone(), None).trace.iter().map(|t| t.slba).collect::<Vec<_>>(),
        vec![16, 24, 32, 40]
    );
    c.lba_step = Some(-8);
    c.io_count = Some(5);
    assert_eq!(run1(&ctrl, c, None).trace.iter().map(|t| t.slba).collect::<Vec<_>>(), vec![16, 8, 0, 56, 48]);
}

#[test]
fn partly_random_lbas() {
    let ctrl = open_sim(NULL);
    let mut c = random(20_000, 8);
    c.lba_random_percent = 50;
    c.trace = 20_000;
    let w = run1(&ctrl, c, None);
    // Sequential IOs continue from the previous sequential one, so about
    // half of the IOs start where an earlier IO ended.
    let mut seq = 0u64;
    let mut expect = 0u64;
    for t in &w.trace {
        if t.slba == expect {
            seq += 1;
            expect = t.slba + 8;
        }
    }
    let p = share(seq, 20_000);
    assert!((47.0..=53.0).contains(&p), "sequential {p}%");
}

#[test]
fn weighted_sizes_hold_within_two_percent() {
    let ctrl = open_sim(NULL);
    let mut c = random(100_000, 32);
    c.io_size = IoSizeSpec::Weighted(vec![(8, 70), (64, 25), (1, 5)]);
    c.trace = 100_000;
    let w = run1(&ctrl, c, None);
    let count = |n| w.trace.iter().filter(|t| t.nlb == n).count() as u64;
    let (a, b, d) = (share(count(8), 100_000), share(count(64), 100_000), share(count(1), 100_000));
    assert!(
        (68.0..=72.0).contains(&a) && (23.0..=27.0).contains(&b) && (3.0..=7.0).contains(&d),
        "{a} {b} {d}"
    );
}

#[test]
fn distribution_buckets_get_their_share() {
    let ctrl = open_sim(NULL);
    let mut c = random(100_000, 32);
    let mut dist = vec![0u32; 100];
    dist[0] = 3000;
    dist[10] = 5000;
    dist[99] = 2000;
    c.distribution = Some(dist);
    c.region_start = 10_000;
    c.region_end = Some(1_010_000);
    c.trace = 100_000;
    let w = run1(&ctrl, c, None);
    let mut buckets = [0u64; 100];
    for t in &w.trace {
        assert!(t.slba >= 10_000 && t.slba + 8 <= 1_010_000);
        buckets[((t.slba - 10_000) / 10_000) as usize] += 1;
    }
    let (b0, b10, b99) =
        (share(buckets[0], 100_000), share(buckets[10], 100_000), share(buckets[99], 100_000));
    assert!((28.0..=32.0).contains(&b0) && (48.0..=52.0).contains(&b10) && (18.0..=22.0).contains(&b99));
    assert_eq!(buckets.iter().sum::<u64>(), buckets[0] + buckets[10] + buckets[99]);
}

#[test]
fn rate_limit_holds_within_five_percent() {
    let ctrl = open_sim(NULL);
    let mut c = random(0, 4);
    c.io_count = None;
    c.time = Some(Duration::from_secs(2));
    c.iops_limit = Some(2000);
    let w = run1(&ctrl, c, None);
    assert!((3800..=4200).contains(&w.io_total), "{} IOs", w.io_total);
    let rate = w.io_total as f64 * 1000.0 / w.elapsed_ms as f64;
    assert!((1900.0..=2100.0).contains(&rate), "{rate} IOPS");
    assert!((2..=3).contains(&w.iops_per_second.len()), "{:?}", w.iops_per_second);
    assert!(w.consistency > 0.9 && w.consistency <= 1.0, "{}", w.consistency);
    // The rate limiter sleeps instead of spinning.
    assert!(w.cpu_percent < 50.0, "cpu {}%", w.cpu_percent);
}

#[test]
fn io_sequence_replays_in_order_and_on_time() {
    let ctrl = open_sim("latency=none");
    let map = Arc::new(VerifyMap::new());
    let e =
        |at: Option<u64>, op, slba, nlb| SequenceEntry { at: at.map(Duration::from_millis), op, slba, nlb };
    let seq = vec![
        e(None, IoOp::Write, 100, 8),
        e(None, IoOp::Read, 100, 8),
        e(None, IoOp::WriteZeroes, 100, 4),
        e(Some(50), IoOp::Read, 100, 8),
        e(None, IoOp::Flush, 0, 0),
        e(Some(80), IoOp::Trim, 104, 4),
        e(None, IoOp::Read, 96, 16),
    ];
    let mut c = IoWorkerConfig::new(1);
    c.io_count = None;
    c.io_sequence = Some(seq.clone());
    c.qdepth = 8;
    c.verify = true;
    c.trace = 100;
    let w = run1(&ctrl, c, Some(map.clone()));
    assert_eq!(w.io_total, 7);
    assert_eq!(w.errors, 0, "{:?}", w.first_error);
    assert_eq!(w.mismatch_count, 0, "{:?}", w.mismatches);
    let got: Vec<(IoOp, u64, u32)> = w.trace.iter().map(|t| (t.op, t.slba, t.nlb)).collect();
    let want: Vec<(IoOp, u64, u32)> = seq.iter().map(|e| (e.op, e.slba, e.nlb)).collect();
    assert_eq!(got, want);
    assert!(w.trace[3].at_us >= 50_000 && w.trace[5].at_us >= 80_000, "{:?}", w.trace);
    assert!(w.elapsed_ms >= 80);
    // The map saw the write, the zeroes and the trim.
    assert_eq!(map.expect(100), nvmeplan_driver::Expectation::Zeroes);
    assert!(matches!(
        map.expect(104),
        nvmeplan_driver::Expectation::Unknown | nvmeplan_driver::Expectation::Zeroes
    ));
    assert!(matches!(
        map.expect(105),
        nvmeplan_driver::Expectation::Unknown | nvmeplan_driver::Expectation::Zeroes
    ));
}

#[test]
fn iops_scale_with_qdepth() {
    let ctrl = open_sim("data=null,latency=200us");
    let mk = |qd| {
        let mut c = random(0, qd);
        c.io_count = None;
        c.time = Some(Duration::from_millis(500));
        c
    };
    let qd1 = run1(&ctrl, mk(1), None);
    let qd8 = run1(&ctrl, mk(8), None);
    assert!(qd8.iops > 3.0 * qd1.iops, "qd1 {} qd8 {}", qd1.iops, qd8.iops);
    assert!(qd1.latency.unwrap().p50_ns >= 200_000);
}

#[test]
fn mixed_random_verify_at_qd64_has_no_mismatch() {
    let ctrl = open_sim("latency=none");
    let map = Arc::new(VerifyMap::new());
    let mut c = random(0, 64).read_percentage(70);
    c.io_count = None;
    c.time = Some(Duration::from_secs(3));
    c.io_size = IoSizeSpec::List(vec![1, 8, 32]);
    c.region_end = Some(4096); // small: overlaps are frequent
    c.verify = true;
    c.pattern = Pattern::Random { seed: 5 };
    let w = run1(&ctrl, c.clone(), Some(map.clone()));
    assert_eq!(w.errors, 0, "{:?}", w.first_error);
    assert_eq!(w.mismatch_count, 0, "{:?}", w.mismatches);
    assert!(w.ios.read > 1000 && w.ios.write > 1000, "{:?}", w.ios);
    assert!(map.tracked_lbas() > 3000);
    // The map survives the step: a read-only pass verifies what was written.
    let mut r = random(20_000, 32);
    r.region_end = Some(4096);
    r.verify = true;
    let again = run1(&ctrl, r, Some(map.clone()));
    assert_eq!(again.mismatch_count, 0, "{:?}", again.mismatches);
    assert_eq!(again.errors, 0);
}

#[test]
#[ignore = "long: 60 s of verified mixed IO; run with --ignored"]
fn mixed_random_verify_for_a_minute() {
    let ctrl = open_sim("latency=none");
    let map = Arc::new(VerifyMap::new());
    let mut c = random(0, 64).read_percentage(70);
    c.io_count = None;
    c.time = Some(Duration::from_secs(60));
    c.io_size = IoSizeSpec::List(vec![1, 8, 32, 128]);
    c.region_end = Some(1 << 16);
    c.verify = true;
    let w = run1(&ctrl, c, Some(map));
    assert_eq!(w.errors, 0, "{:?}", w.first_error);
    assert_eq!(w.mismatch_count, 0, "{:?}", w.mismatches);
}

#[test]
fn corrupted_read_is_reported_with_its_lba() {
    let (ctrl, sim) = open_sim_device("latency=none");
    let map = Arc::new(VerifyMap::new());
    let mut fill = IoWorkerConfig::new(1);
    fill.op_mix = vec![(IoOp::Write, 100)];
    fill.region_end = Some(2048);
    fill.io_count = Some(256);
    fill.qdepth = 16;
    fill.verify = true;
    assert_eq!(run1(&ctrl, fill, Some(map.clone())).errors, 0);
    let rule = FaultRule::new(
        FaultMatch { queue: QueueMatch::Io, opcode: Some(0x02), nth: Some(37), ..Default::default() },
        FaultAction::CorruptData,
    );
    let id = sim.faults().add(rule);
    let mut c = random(500, 16);
    c.region_end = Some(2048);
    c.verify = true;
    c.trace = 500;
    let w = run1(&ctrl, c, Some(map));
    sim.faults().remove(id);
    let nth = w.trace[36];
    assert_eq!(w.mismatch_count, 1, "{:?}", w.mismatches);
    assert_eq!(w.mismatches[0].lba, nth.slba);
    assert_eq!(w.mismatches[0].kind, "crc");
    assert_ne!(w.mismatches[0].expected, w.mismatches[0].found);
    assert_eq!(w.io_total, 500);
    assert_eq!(w.errors, 0);
}

#[test]
fn dropped_completion_times_out_with_the_cmdlog_tail() {
    let (ctrl, sim) = open_sim_device(NULL);
    let id = sim.faults().add(FaultRule::new(
        FaultMatch { queue: QueueMatch::Io, opcode: Some(0x02), nth: Some(5), ..Default::default() },
        FaultAction::DropCompletion,
    ));
    let mut c = random(100, 4);
    c.timeout = Some(Duration::from_millis(300));
    let t = Instant::now();
    let w = run1(&ctrl, c, None);
    sim.faults().remove(id);
    assert!(t.elapsed() < Duration::from_secs(5));
    assert!(w.timed_out);
    assert_eq!(w.errors, 1);
    let e = w.first_error.expect("first error");
    assert!(e.status.starts_with("timeout"), "{}", e.status);
    assert!(e.command.contains("read") && e.command.contains("outstanding"), "{}", e.command);
    assert!(!e.cmdlog_tail.is_empty() && e.cmdlog_tail.len() <= 32);
    assert!(w.io_total < 100);
    // The controller is still usable.
    assert_eq!(run1(&ctrl, random(100, 4), None).io_total, 100);
}

#[test]
fn error_status_stops_the_worker_unless_continue_on_error() {
    let (ctrl, sim) = open_sim_device(NULL);
    let rule = || {
        FaultRule::new(
            FaultMatch { queue: QueueMatch::Io, opcode: Some(0x02), nth: Some(10), ..Default::default() },
            FaultAction::Status { status: Status::INTERNAL_ERROR, dnr: false },
        )
    };
    let id = sim.faults().add(rule());
    let w = run1(&ctrl, random(1000, 1), None);
    sim.faults().remove(id);
    assert_eq!(w.errors, 1);
    assert_eq!(w.io_total, 10);
    assert_eq!(w.status_counts.get("internal_error"), Some(&1));
    let e = w.first_error.expect("first error");
    assert_eq!(e.status, "internal_error");
    assert_eq!(e.cqe.as_ref().map(|c| c.status.as_str()), Some("internal_error"));
    assert!(e.command.contains("read"), "{}", e.command);
    let id = sim.faults().add(rule());
    let mut c = random(1000, 8);
    c.continue_on_error = true;
    let w = run1(&ctrl, c, None);
    sim.faults().remove(id);
    assert_eq!((w.errors, w.io_total), (1, 1000));
}

#[test]
fn parallel_workers_on_disjoint_regions_all_verify() {
    let ctrl = open_sim("latency=none");
    let map = Arc::new(VerifyMap::new());
    let cfgs: Vec<IoWorkerConfig> = (0..3u64)
        .map(|i| {
            let mut c = random(15_000, 16).read_percentage(60);
            c.region_start = i * 4096;
            c.region_end = Some((i + 1) * 4096);
            c.verify = true;
            c.seed = i;
            c
        })
        .collect();
    let calls = AtomicUsize::new(0);
    let report = |_p: &Progress| {
        calls.fetch_add(1, Ordering::Relaxed);
    };
    let stop = AtomicBool::new(false);
    let r = run_workers(&ctrl, &cfgs, Some(map.clone()), &stop, Some(&report)).unwrap();
    assert_eq!(r.workers.len(), 3);
    for w in &r.workers {
        assert_eq!(w.io_total, 15_000);
        assert_eq!((w.errors, w.mismatch_count), (0, 0), "{:?} {:?}", w.first_error, w.mismatches);
    }
    assert_eq!(r.total.io_total, 45_000);
    assert_eq!(r.total.ios.read, r.workers.iter().map(|w| w.ios.read).sum::<u64>());
    assert!(r.total.latency.is_some());
    // Overlapping verifying writers are refused.
    let mut overlapping = cfgs.clone();
    overlapping[1].region_start = 4000;
    let m = invalid(&ctrl, &overlapping);
    assert!(m.contains("overlap"), "{m}");
}

#[test]
fn stop_flag_and_progress() {
    let ctrl = open_sim("data=null,latency=none");
    let mut c = random(0, 8);
    c.io_count = None;
    c.time = Some(Duration::from_secs(60));
    let stop = AtomicBool::new(false);
    let seen = AtomicUsize::new(0);
    let report = |p: &Progress| {
        assert_eq!(p.worker, 0);
        assert!(p.ios > 0 && p.iops_last_second > 0);
        seen.fetch_add(1, Ordering::Relaxed);
    };
    let t = Instant::now();
    let r = std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(1300));
            stop.store(true, Ordering::Relaxed);
        });
        run_workers(&ctrl, &[c], None, &stop, Some(&report)).unwrap()
    });
    assert!(t.elapsed() < Duration::from_secs(5));
    assert!(seen.load(Ordering::Relaxed) >= 1);
    let w = &r.workers[0];
    assert!(w.io_total > 0);
    assert_eq!(w.iops_per_second.len(), 2, "{:?}", w.iops_per_second);
    assert_eq!(w.iops_per_second.iter().sum::<u64>(), w.io_total);
}

#[test]
fn latency_recording_can_be_off() {
    let ctrl = open_sim(NULL);
    let mut c = random(1000, 4);
    c.record_latency = false;
    let r = run(&ctrl, &[c], None);
    assert!(r.workers[0].latency.is_none() && r.total.latency.is_none());
    let json = serde_json::to_string(&r).unwrap();
    let back: IoWorkerResults = serde_json::from_str(&json).unwrap();
    assert_eq!(back.total.io_total, 1000);
}

#[test]
fn bad_configs_name_the_parameter() {
    let ctrl = open_sim(NULL);
    let base = random(10, 1);
    type Change = Box<dyn Fn(&mut IoWorkerConfig)>;
    let cases: Vec<(&str, Change)> = vec![
        ("qdepth", Box::new(|c| c.qdepth = 0)),
        ("qdepth", Box::new(|c| c.qdepth = 5000)),
        ("io_size", Box::new(|c| c.io_size = IoSizeSpec::Fixed(0))),
        ("io_size", Box::new(|c| c.io_size = IoSizeSpec::List(vec![]))),
        ("io_size", Box::new(|c| c.io_size = IoSizeSpec::Range { min: 9, max: 8 })),
        ("io_size", Box::new(|c| c.io_size = IoSizeSpec::Weighted(vec![(8, 0)]))),
        ("io_size", Box::new(|c| c.io_size = IoSizeSpec::Fixed(1024))), // beyond MDTS (128 KiB)
        ("lba_align", Box::new(|c| c.lba_align = Align::All(0))),
        ("lba_random", Box::new(|c| c.lba_random_percent = 101)),
        ("op_percentage", Box::new(|c| c.op_mix = vec![])),
        ("time", Box::new(|c| c.io_count = None)),
        ("region_end", Box::new(|c| c.region_end = Some(u64::MAX))),
        ("region_start", Box::new(|c| c.region_start = 1 << 40)),
        ("lba_start", Box::new(|c| c.lba_start = Some(1 << 40))),
        ("iops", Box::new(|c| c.iops_limit = Some(0))),
        ("distribution", Box::new(|c| c.distribution = Some(vec![100; 99]))),
        ("distribution", Box::new(|c| c.distribution = Some(vec![99; 100]))),
        ("nsid", Box::new(|c| c.nsid = 7)),
        (
            "io_sequence[1]",
            Box::new(|c| {
                c.io_sequence = Some(vec![
                    SequenceEntry { at: None, op: IoOp::Flush, slba: 0, nlb: 0 },
                    SequenceEntry { at: None, op: IoOp::Read, slba: u64::MAX - 1, nlb: 8 },
                ])
            }),
        ),
    ];
    for (param, change) in cases {
        let mut c = base.clone();
        change(&mut c);
        let stop = AtomicBool::new(false);
        let msg = match run_workers(&ctrl, &[c], None, &stop, None) {
            Err(DriverError::InvalidArgument(m)) => m,
            Err(DriverError::NoSuchNamespace { .. }) if param == "nsid" => continue,
            other => panic!("{param}: expected InvalidArgument, got {other:?}"),
        };
        assert!(msg.contains(param), "{param}: {msg}");
    }
}

#[test]
fn largest_doorbell_batches_never_stall() {
    // CQ head doorbell only after qdepth completions: the device must still
    // always find room to post.
    let ctrl = open_sim("latency=none");
    for qd in [1u16, 2, 8, 31] {
        let mut c = random(5_000, qd).read_percentage(50);
        c.submit_batch = Some(qd);
        c.timeout = Some(Duration::from_secs(2));
        let w = run1(&ctrl, c, None);
        assert_eq!((w.io_total, w.errors), (5_000, 0), "qd {qd}: {:?}", w.first_error);
    }
}

#[test]
fn a_run_shorter_than_a_millisecond_still_has_a_total_rate() {
    let ctrl = open_sim("data=null,latency=none");
    let mut config = IoWorkerConfig::new(1);
    config.io_count = Some(8);
    config.time = None;
    config.qdepth = 4;
    let stop = AtomicBool::new(false);
    let results = run_workers(&ctrl, &[config], None, &stop, None).unwrap();
    let total = &results.total;
    assert_eq!(total.io_total, 8);
    assert!(total.elapsed_us > 0);
    assert!(total.iops > 0.0, "total iops {} over {} us", total.iops, total.elapsed_us);
    // One worker: the total's rate is its rate, up to the microsecond
    // rounding of the total's elapsed time.
    let rounding = 1.0 / total.elapsed_us as f64;
    let diff = (total.iops - results.workers[0].iops).abs() / total.iops;
    assert!(diff <= rounding + 1e-9, "total {} vs worker {}", total.iops, results.workers[0].iops);
}
