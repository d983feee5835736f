//! What ioworker results say, on the simulator: mismatch lists name each
//! LBA once, the message after a reset under IO counts what the status
//! counts say, partial results of a step cut short keep their rates over
//! the time it ran, and latency is given per operation.

use nvmeplan::run::result::{Outcome, StepResult};
use nvmeplan::run::{PlanSource, RunOptions, RunResult, open_device, run_plan};
use nvmeplan::{Options, validate_str};

fn run_with(steps: &str, options: &RunOptions) -> RunResult {
    let text = format!("plan_version: 1\nname: t\ndevice: sim\nsteps:\n{steps}");
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
    let r = run("  - name: reset under io
    ioworker:
      io_size: 8
      read_percentage: 50
      lba_random: true
      region_end: 4096
      qdepth: 32
      time: 3s
      reset: { kind: controller, after: 200ms }
    expect: { errors: { gt: 0 } }
");
    let s = step(&r, "reset under io");
    assert_eq!(s.outcome, Outcome::Pass, "{:?}", s.reason);
    let t = &s.ioworker.as_ref().unwrap().total;
    let message = s.message.as_deref().unwrap();
    assert!(message.starts_with("controller reset "), "{message}");
    let failed: u64 = t.status_counts.iter().filter(|(k, _)| k.as_str() != "success").map(|(_, v)| v).sum();
    let without = t.errors - failed;
    let mut parts: Vec<String> = t
        .status_counts
        .iter()
        .filter(|(k, _)| k.as_str() != "success")
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    if without > 0 {
        let first = t.error_completions.iter().find(|e| e.cqe.is_none()).unwrap();
        parts.push(format!("{without} without a completion, the first: {}", first.status));
    }
    let ios = if t.errors == 1 { "IO" } else { "IOs" };
    let expected = format!("; {} {ios} ended with an error ({})", t.errors, parts.join(", "));
    assert!(message.ends_with(&expected), "{message} vs {:?} errors {}", t.status_counts, t.errors);
}
