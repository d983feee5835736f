//! Ctrl-C during a long ioworker step, through the `nvmeplan` binary: the
//! written report.json is valid and keeps the partial ioworker result
//! (counts, rates over the time it ran, latency per operation, per-second
//! IOPS), marked as interrupted, and report.html charts it.

#![cfg(unix)]

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

#[test]
fn ctrl_c_keeps_the_partial_ioworker_result_in_a_valid_report() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("long.yaml");
    std::fs::write(
        &plan,
        "plan_version: 1\nname: long\nsteps:\n  - { name: first, flush: {} }\n  - name: load\n    ioworker: { io_size: 8, read_percentage: 70, qdepth: 4, time: 60s, continue_on_error: true }\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_nvmeplan"))
        .args(["run", plan.to_str().unwrap(), "--out", out.to_str().unwrap(), "--seed", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until `first` is recorded, then let the workers run a while.
    let report = out.join("report.json");
    let start = Instant::now();
    let recorded = |text: String| text.contains("\"id\": \"first\"") || text.contains("\"id\":\"first\"");
    while !std::fs::read_to_string(&report).is_ok_and(recorded) {
        assert!(start.elapsed() < Duration::from_secs(30), "`first` was never recorded");
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(1300));
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: kill(2) with the pid of the child spawned above, not yet
    // reaped; it touches no memory of this process.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let waited = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if waited.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("the run did not end after Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let o = child.wait_with_output().unwrap();
    let (stdout, stderr) = common::text(&o);
    assert_eq!(o.status.code(), Some(130), "{stdout}{stderr}");

    let json = common::valid_report(&report);
    assert_eq!(json["complete"], false);
    assert_eq!(json["stopped"], "interrupted");
    let steps = json["steps"].as_array().unwrap();
    let load: &Value = steps.iter().find(|s| s["id"] == "load").expect("the ioworker step is recorded");
    assert_eq!(load["reason"], "interrupted");
    let io = &load["ioworker"];
    assert_eq!(io["stopped"], "interrupted");
    let t = &io["total"];
    let ios = t["io_total"].as_u64().unwrap();
    let elapsed_us = t["elapsed_us"].as_u64().unwrap();
    assert!(
        ios > 0 && t["ios"]["read"].as_u64().unwrap() > 0 && t["ios"]["write"].as_u64().unwrap() > 0,
        "{t}"
    );
    assert!((1_000_000..10_000_000).contains(&elapsed_us), "ran {elapsed_us} us of 60 s");
    let expected = ios as f64 / (elapsed_us as f64 / 1e6);
    let iops = t["iops"].as_f64().unwrap();
    assert!((iops - expected).abs() / expected < 1e-6, "iops {iops} vs {expected}");
    assert!(t["latency"]["p99_ns"].as_u64().unwrap() > 0);
    assert!(t["latency_by_op"]["read"]["p50_ns"].as_u64().unwrap() > 0, "{t}");
    assert!(t["latency_by_op"]["write"]["p50_ns"].as_u64().unwrap() > 0, "{t}");
    let per_second: u64 = t["iops_per_second"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!(per_second, ios);
    assert_eq!(t["errors"], 0);

    let html = std::fs::read_to_string(out.join("report.html")).expect("report.html");
    let at = html.find("load: IOPS per second").expect("an IOPS chart of the interrupted step");
    let chart = &html[at..];
    assert!(!chart[..chart.find("</svg>").unwrap()].contains("no data"));
    assert!(html.contains("<th>worker 0 write</th>"));
}
