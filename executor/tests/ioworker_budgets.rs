//! ioworker error budgets on the simulator with an injected media error on
//! a range: `continue_on_error` runs the whole `time` counting the errors
//! by status and listing the first completions; `max_errors: N` stops the
//! worker at error N + 1 with the reason.

use std::time::Duration;

use nvmeplan::run::result::StopReason;
use nvmeplan::run::result::{Outcome, StepResult};
use nvmeplan::run::{PlanSource, RunOptions, RunResult, open_device, run_plan};
use nvmeplan::{Options, validate_str};
use nvmeplan_driver::ioworker::results::MAX_ERROR_COMPLETIONS;

fn run(steps: &str) -> RunResult {
    let text = format!("plan_version: 1\nname: t\ndevice: sim\nsteps:\n{steps}");
    let report = validate_str("t.yaml", &text, &Options::default());
    assert!(!report.has_errors(), "{}", nvmeplan::render_text(&report.diagnostics, &report.sources));
    let plan = report.plan.expect("plan");
    let uri = nvmeplan::run::device_uri(&plan, None);
    let ctrl = open_device(&uri).expect("sim opens");
    let source = PlanSource { path: "t.yaml".into(), text };
    run_plan(&plan, &source, ctrl, &uri, &RunOptions { seed: Some(3), ..RunOptions::default() }, &mut |_| {})
        .expect("run")
}

fn step<'a>(r: &'a RunResult, id: &str) -> &'a StepResult {
    r.steps.iter().find(|s| s.id == id).unwrap_or_else(|| panic!("no step {id}"))
}

/// Reads of LBAs 0..16 fail with Unrecovered Read Error; the rest of the
/// 64-block region reads fine.
const MEDIA_ERROR: &str = "  - name: bad range
    inject:
      match: { opcode: read, lba_start: 0, lba_end: 16 }
      action: { status: unrecovered_read_error }
";

#[test]
fn continue_on_error_runs_its_whole_time_and_counts_errors_by_status() {
    let r = run(&format!(
        "{MEDIA_ERROR}  - name: scan
    ioworker: {{ io_size: 8, lba_random: true, region_end: 64, qdepth: 4, time: 1s, continue_on_error: true }}
"
    ));
    let s = step(&r, "scan");
    assert_eq!(s.outcome, Outcome::Pass, "{:?}", s.reason);
    let io = s.ioworker.as_ref().unwrap();
    let t = &io.total;
    assert!(t.elapsed_ms >= 990, "stopped early after {} ms", t.elapsed_ms);
    assert_eq!(io.stopped, None);
    let failed = t.status_counts["unrecovered_read_error"];
    assert_eq!(failed, t.errors);
    assert!(failed > 10, "{t:?}");
    assert!(t.status_counts["success"] > 10, "{:?}", t.status_counts);
    assert_eq!(t.status_counts.values().sum::<u64>(), t.io_total);
    // The first completions are listed, bounded; only the first has the tail.
    let list = &t.error_completions;
    assert_eq!(list.len(), MAX_ERROR_COMPLETIONS);
    assert_eq!(t.first_error.as_ref(), list.first());
    assert!(!list[0].cmdlog_tail.is_empty());
    for e in list {
        assert_eq!(e.status, "unrecovered_read_error");
        assert_eq!(e.cqe.as_ref().unwrap().status, "unrecovered_read_error");
        assert!(e.command.contains(" read nsid 1 "), "{}", e.command);
        let slba: u64 = e.command.split("slba ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
        assert!(slba < 16, "{}", e.command);
    }
    assert!(list[1..].iter().all(|e| e.cmdlog_tail.is_empty()));
    // The step's expectation says what it checked.
    let errors = s.expectations.iter().find(|e| e.what == "errors").unwrap();
    assert_eq!(errors.expected, "within each worker's budget");
    assert_eq!(errors.actual, failed.to_string());
}

#[test]
fn max_errors_stops_the_worker_at_one_error_more_with_the_reason() {
    let r = run(&format!(
        "{MEDIA_ERROR}  - name: scan
    ioworker: {{ io_size: 8, lba_random: true, region_end: 64, time: 10s, max_errors: 3 }}
  - name: counted
    ioworker: {{ io_size: 8, lba_random: true, region_end: 64, time: 10s, max_errors: 3 }}
    expect: {{ errors: 4 }}
"
    ));
    let s = step(&r, "scan");
    assert_eq!(s.outcome, Outcome::Fail, "{:?}", s.reason);
    let io = s.ioworker.as_ref().unwrap();
    // QD 1: nothing is outstanding when error 4 arrives, so it is the last.
    assert_eq!(io.total.errors, 4);
    assert_eq!(io.total.status_counts["unrecovered_read_error"], 4);
    assert_eq!(io.total.error_completions.len(), 4);
    assert!(io.total.elapsed_ms < 5000, "ran {} ms", io.total.elapsed_ms);
    let why = StopReason::error_budget(3);
    assert_eq!(why.as_str(), "IO errors: more than max_errors 3 (stopped at error 4)");
    assert_eq!(io.stopped.as_ref(), Some(&why));
    assert_eq!(io.workers[0].stopped.as_ref(), Some(&why));
    let reason = s.reason.as_deref().unwrap();
    assert!(reason.contains("errors") && reason.contains("max_errors 3"), "{reason}");
    // The HTML ioworker section says why and lists the later errors.
    let html = nvmeplan_reports::html::render_report(&r).unwrap();
    assert!(html.contains(&format!("workers stopped early: {why}")), "no stop reason in the HTML");
    assert!(html.contains("worker 0: 3 more error completions"));
    // An explicit expectation replaces the budget check.
    assert_eq!(step(&r, "counted").outcome, Outcome::Pass, "{:?}", step(&r, "counted").reason);
}

#[test]
fn without_a_budget_the_first_error_stops_the_worker_and_says_so() {
    let r = run(&format!(
        "{MEDIA_ERROR}  - name: scan
    ioworker: {{ io_size: 8, lba_random: true, region_end: 64, time: 10s }}
    expect: {{ errors: 1 }}
"
    ));
    let s = step(&r, "scan");
    assert_eq!(s.outcome, Outcome::Pass, "{:?}", s.reason);
    let io = s.ioworker.as_ref().unwrap();
    assert_eq!(io.total.errors, 1);
    assert_eq!(io.total.error_completions.len(), 1);
    assert_eq!(io.stopped, Some(StopReason::first_io_error()));
    assert!(Duration::from_millis(io.total.elapsed_ms) < Duration::from_secs(5));
}

#[test]
fn the_plan_schema_takes_the_budget_keys() {
    let schema = nvmeplan::schema::plan_schema();
    let text = serde_json::to_string(&schema).unwrap();
    assert!(text.contains("\"max_errors\"") && text.contains("\"continue_on_error\""));
}
