//! Signals and step timeouts, through the `nvmeplan` binary on the simulator:
//! Ctrl-C (SIGINT) and SIGTERM end a run within a second or two even during
//! a command the controller never completes or an event wait, leaving
//! report.json (incomplete), report.html and junit.xml; a second Ctrl-C
//! exits at once after rendering them; and a step's `timeout` bounds every
//! kind of step, keeping what ran.

#![cfg(unix)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn write_plan(dir: &Path, name: &str, steps: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("plan_version: 1\nname: {name}\nsteps:\n{steps}")).unwrap();
    path
}

fn spawn(plan: &Path, out: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_nvmeplan"))
        .args(["run", plan.to_str().unwrap(), "--out", out.to_str().unwrap(), "--seed", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until report.json in `out` records the step `id`.
fn wait_for_step(out: &Path, id: &str) {
    let report = out.join("report.json");
    let start = Instant::now();
    let recorded = |text: String| {
        serde_json::from_str::<Value>(&text).is_ok_and(|json| {
            json["steps"].as_array().is_some_and(|steps| steps.iter().any(|s| s["id"] == id))
        })
    };
    while !std::fs::read_to_string(&report).is_ok_and(recorded) {
        assert!(start.elapsed() < Duration::from_secs(30), "step `{id}` was never recorded");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn signal(child: &Child, sig: libc::c_int) {
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: kill(2) with the pid of a child this test spawned and has not
    // reaped yet; it touches no memory of this process.
    let rc = unsafe { libc::kill(pid, sig) };
    assert_eq!(rc, 0, "kill failed");
}

/// Waits for the child, at most `limit`; its exit code, stdout and stderr.
fn finish(mut child: Child, limit: Duration) -> (Option<i32>, String, String, Duration) {
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let o = child.wait_with_output().unwrap();
            let (out, err) = common::text(&o);
            panic!("the run did not end within {limit:?}:\n{out}\n{err}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let took = start.elapsed();
    let o = child.wait_with_output().unwrap();
    let (out, err) = common::text(&o);
    (o.status.code(), out, err, took)
}

/// The outputs an interrupted run leaves: an incomplete report.json valid
/// against the schema, report.html and junit.xml naming `step`.
fn assert_interrupted_outputs(out: &Path, step: &str) -> Value {
    let json = common::valid_report(&out.join("report.json"));
    assert_eq!(json["complete"], false, "{json}");
    let html = std::fs::read_to_string(out.join("report.html")).expect("report.html");
    assert!(html.contains(step), "report.html lacks `{step}`");
    let junit = std::fs::read_to_string(out.join("junit.xml")).expect("junit.xml");
    assert!(junit.contains("<property name=\"complete\" value=\"false\"/>"), "{junit}");
    json
}

fn step<'a>(json: &'a Value, id: &str) -> &'a Value {
    json["steps"].as_array().unwrap().iter().find(|s| s["id"] == id).unwrap_or_else(|| panic!("no step {id}"))
}

const HUNG_READ: &str = "  - { name: first, flush: {} }
  - { name: hang reads, inject: { match: { opcode: read }, action: hang } }
  - { name: hung read, read: { slba: 0, nlb: 1 }, timeout: 60s }
  - { name: never, flush: {} }
";

fn interrupt_a_hung_read(sig: libc::c_int) {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), "hang.yaml", HUNG_READ);
    let out = dir.path().join("out");
    let child = spawn(&plan, &out);
    wait_for_step(&out, "hang reads");
    // Give the read time to be submitted and waited on.
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, sig);
    let (code, stdout, stderr, took) = finish(child, Duration::from_secs(10));
    assert_eq!(code, Some(130), "{stdout}{stderr}");
    assert!(took < Duration::from_secs(2), "the run took {took:?} to stop");
    assert!(stdout.contains("ERROR hung read: interrupted"), "{stdout}");
    let json = assert_interrupted_outputs(&out, "hung read");
    assert_eq!(json["stopped"], "interrupted");
    assert_eq!(step(&json, "hung read")["reason"], "interrupted");
    assert!(json["steps"].as_array().unwrap().iter().all(|s| s["id"] != "never"));
}

#[test]
fn ctrl_c_during_a_hung_command_exits_130_within_two_seconds() {
    interrupt_a_hung_read(libc::SIGINT);
}

#[test]
fn sigterm_during_a_hung_command_exits_130_within_two_seconds() {
    interrupt_a_hung_read(libc::SIGTERM);
}

#[test]
fn the_first_ctrl_c_during_an_event_wait_is_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(
        dir.path(),
        "aer.yaml",
        "  - { name: first, flush: {} }\n  - { name: wait for an event, async_event: { wait: 60s }, timeout: 90s }\n",
    );
    let out = dir.path().join("out");
    let child = spawn(&plan, &out);
    wait_for_step(&out, "first");
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, libc::SIGINT);
    let (code, stdout, stderr, took) = finish(child, Duration::from_secs(10));
    assert_eq!(code, Some(130), "{stdout}{stderr}");
    assert!(took < Duration::from_secs(2), "the run took {took:?} to stop");
    let json = assert_interrupted_outputs(&out, "wait for an event");
    assert_eq!(step(&json, "wait for an event")["reason"], "interrupted");
}

#[test]
fn a_second_ctrl_c_exits_at_once_and_leaves_html_and_junit() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), "hang.yaml", HUNG_READ);
    let out = dir.path().join("out");
    let mut child = spawn(&plan, &out);
    wait_for_step(&out, "hang reads");
    std::thread::sleep(Duration::from_millis(300));
    // The second signal follows as soon as the first was handled.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    signal(&child, libc::SIGINT);
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(line.starts_with("interrupted:"), "{line}");
    signal(&child, libc::SIGINT);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let (code, stdout, _, took) = finish(child, Duration::from_secs(10));
    assert_eq!(code, Some(130), "{stdout}{rest}");
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert!(rest.contains("interrupted again"), "{rest}");
    assert_interrupted_outputs(&out, "hang reads");
}

/// Runs a plan to its end; its report.
fn run_to_end(steps: &str) -> (Value, String, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), "t.yaml", steps);
    let out = dir.path().join("out");
    let start = Instant::now();
    let (code, stdout, stderr, _) = finish(spawn(&plan, &out), Duration::from_secs(60));
    let took = start.elapsed();
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    (common::valid_report(&out.join("report.json")), stdout, took)
}

#[test]
fn a_sleep_ends_at_its_timeout_as_an_error() {
    let (json, stdout, took) = run_to_end("  - { name: nap, sleep: 10s, timeout: 200ms }\n");
    assert!(took < Duration::from_secs(2), "took {took:?}");
    let nap = step(&json, "nap");
    assert_eq!(nap["outcome"], "error", "{stdout}");
    assert_eq!(nap["reason"], "timed out after 200ms");
    assert!(nap["duration_ms"].as_u64().unwrap() < 1000);
}

#[test]
fn an_ioworker_stopped_at_its_timeout_keeps_its_partial_statistics() {
    let (json, stdout, took) = run_to_end(
        "  - name: load
    ioworker: { io_size: 8, qdepth: 4, read_percentage: 50, time: 10s }
    timeout: 1500ms
",
    );
    assert!(took < Duration::from_secs(6), "took {took:?}");
    let load = step(&json, "load");
    assert_eq!(load["outcome"], "error", "{stdout}");
    assert_eq!(load["reason"], "timed out after 1.5s");
    let io = &load["ioworker"];
    assert_eq!(io["stopped"], "timed out after 1.5s", "{io}");
    let total = &io["total"];
    assert!(total["io_total"].as_u64().unwrap() > 0, "{total}");
    assert!(total["ios"]["read"].as_u64().unwrap() > 0 && total["ios"]["write"].as_u64().unwrap() > 0);
    assert!(total["latency"]["p99_ns"].as_u64().unwrap() > 0, "{total}");
    assert!(!total["iops_per_second"].as_array().unwrap().is_empty(), "{total}");
    assert_eq!(total["errors"], 0);
    let elapsed = total["elapsed_ms"].as_u64().unwrap();
    assert!((1000..3000).contains(&elapsed), "ran {elapsed} ms");
}

#[test]
fn an_interrupted_ioworker_keeps_its_partial_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(
        dir.path(),
        "io.yaml",
        "  - { name: first, flush: {} }\n  - { name: load, ioworker: { io_size: 8, qdepth: 4, time: 30s } }\n",
    );
    let out = dir.path().join("out");
    let child = spawn(&plan, &out);
    wait_for_step(&out, "first");
    std::thread::sleep(Duration::from_millis(1500));
    signal(&child, libc::SIGINT);
    let (code, stdout, stderr, took) = finish(child, Duration::from_secs(10));
    assert_eq!(code, Some(130), "{stdout}{stderr}");
    assert!(took < Duration::from_secs(2), "took {took:?}");
    let json = assert_interrupted_outputs(&out, "load");
    let load = step(&json, "load");
    assert_eq!(load["reason"], "interrupted");
    assert_eq!(load["ioworker"]["stopped"], "interrupted");
    assert!(load["ioworker"]["total"]["io_total"].as_u64().unwrap() > 0, "{load}");
    assert!(!load["ioworker"]["total"]["iops_per_second"].as_array().unwrap().is_empty());
}

#[test]
fn a_register_wait_ends_at_its_timeout() {
    let (json, _, took) = run_to_end(
        "  - { name: never ready, register: { field: csts.rdy, expect: 0, wait: 10s }, timeout: 200ms }\n",
    );
    assert!(took < Duration::from_secs(2), "took {took:?}");
    let s = step(&json, "never ready");
    assert_eq!(s["outcome"], "error");
    assert_eq!(s["reason"], "timed out after 200ms");
}

#[test]
fn an_event_wait_ends_at_its_timeout() {
    let (json, _, took) = run_to_end("  - { name: no event, async_event: { wait: 10s }, timeout: 300ms }\n");
    assert!(took < Duration::from_secs(2), "took {took:?}");
    let s = step(&json, "no event");
    assert_eq!(s["outcome"], "error");
    assert_eq!(s["reason"], "timed out after 300ms");
}

#[test]
fn a_firmware_download_ends_at_its_timeout_keeping_the_chunks_sent() {
    let (json, _, took) = run_to_end(
        "  - { name: slow downloads, inject: { match: { admin: true, opcode: 0x11 }, action: { delay: 100ms } } }
  - name: download
    firmware_download: { image: { sim_revision: \"2.0\" }, chunk_size: 512 }
    timeout: 350ms
",
    );
    assert!(took < Duration::from_secs(3), "took {took:?}");
    let s = step(&json, "download");
    assert_eq!(s["outcome"], "error");
    let reason = s["reason"].as_str().unwrap();
    assert!(reason.starts_with("timed out after 350ms"), "{reason}");
    // Three chunks completed, the fourth was cut short; 16 would be the whole image.
    let sent =
        s["commands"].as_array().unwrap().iter().filter(|c| c["opcode"] == "firmware_image_download").count();
    assert!((3..=5).contains(&sent), "{sent} chunks: {s}");
}

#[test]
fn without_a_timeout_a_sleep_runs_its_length() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), "t.yaml", "  - { name: nap, sleep: 300ms }\n");
    let out = dir.path().join("out");
    let (code, stdout, stderr, _) = finish(spawn(&plan, &out), Duration::from_secs(30));
    assert_eq!(code, Some(0), "{stdout}{stderr}");
}
