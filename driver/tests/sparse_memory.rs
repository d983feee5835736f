//! A 16 TiB simulated namespace opens instantly and costs memory only for
//! what is written. Kept in its own test binary so the process's resident
//! memory is this test's alone.

mod common;

use common::*;
use nvmeplan_driver::{Pattern, VerifyMap, WriteOptions};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Resident set size of this process in bytes (Linux).
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS line");
    kib * 1024
}

#[test]
fn sixteen_tib_namespace_written_at_1000_scattered_lbas_uses_under_64_mib() {
    let rss_before = rss_bytes();
    let start = Instant::now();
    let ctrl = open_sim("capacity=16T,lba=4096");
    let opened = start.elapsed();
    let ns = ctrl.namespace(1).unwrap();
    assert_eq!(ns.lba_size, 4096);
    assert_eq!(ns.nsze * 4096, 16 << 40);
    assert!(opened < Duration::from_secs(2), "opening took {opened:?}");

    let mut qp = qpair(&ctrl, 32);
    let map = Arc::new(VerifyMap::new());
    qp.attach_verify_map(1, map.clone());
    let mut buf = buffer(&ctrl, 4096);
    // 1000 LBAs spread over the whole namespace (a multiplicative hash keeps
    // them scattered and distinct).
    let lbas: Vec<u64> = (0..1000u64).map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) % ns.nsze).collect();
    for (i, &lba) in lbas.iter().enumerate() {
        buf.fill(Pattern::Random { seed: i as u64 });
        let cqe = qp.write(1, lba, 1, &mut buf, WriteOptions::default()).unwrap();
        assert!(cqe.status().is_success(), "write {lba}: {}", cqe.status());
    }
    for &lba in &lbas {
        let out = qp.read(1, lba, 1, &mut buf, None).unwrap();
        assert!(out.is_clean(), "LBA {lba}: {:?} {:?}", out.completion.status(), out.mismatches);
    }
    assert_eq!(map.tracked_lbas(), 1000);
    let grown = rss_bytes().saturating_sub(rss_before);
    assert!(grown < 64 << 20, "resident memory grew by {} MiB", grown >> 20);
}
