//! What ioworker results say, on the simulator: mismatch lists name each
//! LBA once, the message after a reset under IO counts what the status
//! counts say, partial results of a step cut short keep their rates over
//! the time it ran, and latency is given per operation.

use nvmeplan::run::result::{Outcome, StepResult};
use nvmeplan::run::{PlanSource, RunOptions, RunResult, open_device, run_plan};
use nvmeplan::{Options, validate_str};

fn run_with(steps: &str, options: &RunOptions) -> RunResult {
    run_on("sim", steps, options)
}

fn run_on(device: &str, steps: &str, options: &RunOptions) -> RunResult {
    let text = format!("plan_version: 1\nname: t\ndevice: \"{device}\"\nsteps:\n{steps}");
    let report = validate_str("t.yaml", &text, &Options::default());
    assert!(!report.has_errors(), "{}", nvmeplan::render_text(&report.diagnostics, &report.sources));
    let plan = report.plan.expect("plan");
    let uri = nvmeplan::run::device_uri(&plan, None);
    let ctrl = open_device(&uri).expect("sim opens");
    let source = PlanSource { path: "t.yaml".into(), text };
    run_plan(&plan, &source, ctrl, &uri, options, &mut |_| {}).expect("run")
}

fn run(steps: &str) -> RunResult {
    run_with(steps, &RunOptions { seed: Some(5), ..RunOptions::default() })
}

fn step<'a>(r: &'a RunResult, id: &str) -> &'a StepResult {
    r.steps.iter().find(|s| s.id == id).unwrap_or_else(|| panic!("no step {id}"))
}

#[test]
fn the_mismatch_list_names_each_lba_once() {
    let r = run("  - name: fill
    ioworker: { io_size: 8, read_percentage: 0, region_end: 64, io_count: 8, verify: true }
  - name: corrupt
    inject: { match: { opcode: read, lba_start: 0, lba_end: 4 }, action: corrupt }
  - name: reread
    ioworker: { io_size: 4, lba_random: true, region_end: 64, qdepth: 4, io_count: 400, verify: true }
    expect: { data: { mismatches: { ge: 1 } } }
");
    let s = step(&r, "reread");
    assert_eq!(s.outcome, Outcome::Pass, "{:?}", s.reason);
    let io = s.ioworker.as_ref().unwrap();
    let t = &io.total;
    let lbas: Vec<u64> = t.mismatches.iter().map(|m| m.lba).collect();
    let mut unique = lbas.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(lbas.len(), unique.len(), "repeated LBAs in {lbas:?}");
    assert!(!lbas.is_empty() && lbas.iter().all(|&l| l < 4), "{lbas:?}");
    // The corrupt blocks were read many times: the count says so.
    assert!(t.mismatch_count > lbas.len() as u64, "{} for {lbas:?}", t.mismatch_count);
    assert_eq!(s.mismatches.len(), lbas.len(), "{:?}", s.mismatches);
}

#[test]
fn the_reset_message_agrees_with_the_status_counts() {
    // Commands take 100 us, so the reset finds all 32 outstanding.
    let r = run_on(
        "sim:latency=100us",
        "  - name: reset under io
    ioworker:
      io_size: 8
      read_percentage: 50
      lba_random: true
      region_end: 4096
      qdepth: 32
      time: 3s
      reset: { kind: controller, after: 200ms }
    expect: { errors: { gt: 0 } }
",
        &RunOptions { seed: Some(5), ..RunOptions::default() },
    );
    let s = step(&r, "reset under io");
    assert_eq!(s.outcome, Outcome::Pass, "{:?}", s.reason);
    let t = &s.ioworker.as_ref().unwrap().total;
    let message = s.message.as_deref().unwrap();
    assert!(message.starts_with("controller reset "), "{message}");
    let failed: u64 = t.status_counts.iter().filter(|(k, _)| k.as_str() != "success").map(|(_, v)| v).sum();
    let aborted = t.status_counts["command_aborted_by_host"];
    assert_eq!(failed, aborted, "{:?}", t.status_counts);
    assert!(aborted > 0 && aborted <= 32, "{:?}", t.status_counts);
    // One error more than the aborts: the reset of the worker's queue,
    // and the message counts both the way the numbers do.
    assert_eq!(t.errors, aborted + 1, "{message}");
    let expected = format!(
        "; {} errors: command_aborted_by_host {aborted}, the reset of the workers' queues 1",
        t.errors
    );
    assert!(message.ends_with(&expected), "{message} vs {:?} errors {}", t.status_counts, t.errors);
    let stopped = s.ioworker.as_ref().unwrap().stopped.as_ref().map(|s| s.to_string());
    assert!(stopped.is_some_and(|s| s.contains("the controller was reset")), "{message}");
}

#[test]
fn a_mixed_worker_has_latency_per_operation_in_the_results_and_the_reports() {
    let r = run("  - name: mix
    ioworker:
      - { io_size: 8, read_percentage: 70, lba_random: true, region_end: 4096, qdepth: 8, io_count: 3000 }
      - { io_size: 8, read_percentage: 100, region_start: 4096, region_end: 8192, io_count: 500 }
");
    let s = step(&r, "mix");
    assert_eq!(s.outcome, Outcome::Pass, "{:?}", s.reason);
    let io = s.ioworker.as_ref().unwrap();
    let w0 = &io.workers[0];
    assert_eq!(w0.latency_by_op.keys().collect::<Vec<_>>(), ["read", "write"]);
    let (read, write) = (&w0.latency_by_op["read"], &w0.latency_by_op["write"]);
    let all = w0.latency.unwrap();
    // Together is the union of the operations.
    assert_eq!(all.min_ns, read.min_ns.min(write.min_ns));
    assert_eq!(all.max_ns, read.max_ns.max(write.max_ns));
    assert!(read.p50_ns > 0 && write.p50_ns > 0);
    assert_eq!(io.workers[1].latency_by_op.keys().collect::<Vec<_>>(), ["read"]);
    assert_eq!(io.workers[1].latency_by_op["read"], io.workers[1].latency.unwrap());
    // The total merges each operation over the workers.
    let total = &io.total.latency_by_op;
    assert_eq!(total.keys().collect::<Vec<_>>(), ["read", "write"]);
    assert_eq!(total["write"], *write);
    assert_eq!(total["read"].max_ns, read.max_ns.max(io.workers[1].latency_by_op["read"].max_ns));

    let html = nvmeplan_reports::html::render_report(&r).unwrap();
    for label in ["worker 0 read", "worker 0 write", "total read", "total write"] {
        assert!(html.contains(&format!("<th>{label}</th>")), "no row {label}");
    }
    assert!(!html.contains("<th>worker 1 read</th>"), "a single-operation worker has no op rows");
    assert!(html.contains("<tr class=\"op\">"));
    let md = nvmeplan_reports::markdown::render_report(&r);
    assert!(md.contains("| mix (read) | ") && md.contains("| mix (write) | "), "{md}");
}

#[test]
fn a_step_cut_short_by_its_timeout_keeps_rates_over_the_time_it_ran() {
    let r = run("  - name: short
    ioworker: { io_size: 8, read_percentage: 50, qdepth: 4, time: 20s }
    timeout: 60ms
");
    let s = step(&r, "short");
    assert_eq!(s.outcome, Outcome::Error);
    assert_eq!(s.reason.as_deref(), Some("timed out after 60ms"));
    let io = s.ioworker.as_ref().unwrap();
    assert_eq!(io.stopped.as_ref().map(|s| s.as_str()), Some("timed out after 60ms"));
    let t = &io.total;
    assert!(t.io_total > 0 && t.ios.read > 0 && t.ios.write > 0, "{t:?}");
    assert!(t.elapsed_us > 0 && t.elapsed_us < 1_000_000, "ran {} us", t.elapsed_us);
    let expected = t.io_total as f64 / (t.elapsed_us as f64 / 1e6);
    assert!((t.iops - expected).abs() / expected < 1e-9, "iops {} vs {expected}", t.iops);
    assert!(t.latency.is_some() && t.latency_by_op.len() == 2);
    assert_eq!(t.iops_per_second.iter().sum::<u64>(), t.io_total);
    // Its IOPS chart has its one short second, not "no data".
    let html = nvmeplan_reports::html::render_report(&r).unwrap();
    let start = html.find("short: IOPS per second").expect("an IOPS chart");
    let chart = &html[start..];
    let chart = &chart[..chart.find("</svg>").unwrap()];
    assert!(!chart.contains("no data"), "{chart}");
}

#[test]
fn a_step_that_stops_a_fail_fast_run_keeps_its_ioworker_results() {
    let r = run_with(
        "  - name: bad range
    inject:
      match: { opcode: read, lba_start: 0, lba_end: 16 }
      action: { status: unrecovered_read_error }
  - name: scan
    ioworker: { io_size: 8, lba_random: true, region_end: 64, time: 10s, max_errors: 2 }
  - name: never
    flush: {}
",
        &RunOptions { seed: Some(5), fail_fast: true, ..RunOptions::default() },
    );
    assert!(r.steps.iter().all(|s| s.id != "never"));
    assert_eq!(r.stopped.as_ref().map(|s| s.as_str()), Some("--fail-fast: a step failed"));
    let s = step(&r, "scan");
    assert_eq!(s.outcome, Outcome::Fail);
    let io = s.ioworker.as_ref().unwrap();
    assert_eq!(
        io.stopped.as_ref().map(|s| s.as_str()),
        Some("IO errors: more than max_errors 2 (stopped at error 3)")
    );
    assert_eq!(io.total.errors, 3);
    assert!(io.total.status_counts["success"] > 0, "{:?}", io.total.status_counts);
    assert!(io.total.latency.is_some() && !io.total.iops_per_second.is_empty());
}

#[test]
fn latency_expectations_take_one_operation_alone() {
    let r = run("  - name: bounded
    ioworker: { io_size: 8, read_percentage: 50, qdepth: 4, io_count: 1000 }
    expect: { latency: { p99: { le: 1s }, read: { p99: { le: 1s } }, write: { max: { lt: 1ns } }, trim: { p50: { le: 1s } } } }
");
    let s = step(&r, "bounded");
    assert_eq!(s.outcome, Outcome::Fail);
    let verdict = |what: &str| {
        let e = s.expectations.iter().find(|e| e.what == what).unwrap_or_else(|| panic!("no {what}"));
        (e.verdict, e.actual.clone())
    };
    let io = s.ioworker.as_ref().unwrap();
    assert_eq!(verdict("latency.p99").0, nvmeplan::run::result::Verdict::Pass);
    assert_eq!(verdict("latency.read.p99").0, nvmeplan::run::result::Verdict::Pass);
    let (write, actual) = verdict("latency.write.max");
    assert_eq!(write, nvmeplan::run::result::Verdict::Fail);
    assert!(io.total.latency_by_op["write"].max_ns > 0 && !actual.is_empty());
    assert_eq!(
        verdict("latency.trim.p50"),
        (nvmeplan::run::result::Verdict::Fail, "no latency recorded".into())
    );
}
