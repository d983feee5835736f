//! The ioworker's results reach report.json as the driver measured them
//! (the busy time per IO, every latency percentile by name), and a report
//! written before they were shared still loads for `report` and `diff`.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{nvmeplan, text, valid_report};
use nvmeplan_reports::{RunVerdict, StopReason};

const PLAN: &str = r#"plan_version: 1
name: results model
steps:
  - name: write
    ioworker: { nsid: 1, io_size: 8, qdepth: 4, read_percentage: 0, io_count: 200, region_end: 4096, verify: true }
  - name: two readers
    ioworker:
      - { nsid: 1, io_size: 8, qdepth: 2, read_percentage: 100, io_count: 100, region_end: 4096, verify: true }
      - { nsid: 1, io_size: 8, qdepth: 2, read_percentage: 100, io_count: 100, region_end: 4096, verify: true }
    expect: { errors: 0, latency: { p50: { lt: 10s }, p90: { lt: 10s }, p99: { lt: 10s }, p999: { lt: 10s }, max: { lt: 10s }, mean: { lt: 10s } } }
    save: r
  - name: saved busy time
    assert: "${{ r.busy_ns_per_io > 0 }}"
"#;

#[test]
fn ioworker_results_keep_busy_time_and_named_percentiles() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.yaml");
    std::fs::write(&plan, PLAN).unwrap();
    let out = dir.path().join("out");
    let o = nvmeplan(&["run", plan.to_str().unwrap(), "--device", "sim", "--out", out.to_str().unwrap()]);
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stdout}{stderr}");
    let report = valid_report(&out.join("report.json"));
    let step = &report["steps"][1];
    let stats = &step["ioworker"];
    assert_eq!(stats["workers"].as_array().unwrap().len(), 2);
    for w in stats["workers"].as_array().unwrap().iter().chain([&stats["total"]]) {
        assert!(w["busy_ns_per_io"].as_f64().unwrap() > 0.0, "{w}");
        for p in ["min_ns", "avg_ns", "max_ns", "p50_ns", "p90_ns", "p99_ns", "p999_ns", "p9999_ns"] {
            assert!(w["latency"][p].as_u64().unwrap() > 0, "{p} in {w}");
        }
    }
    assert_eq!(stats["total"]["blocks_checked"], 200 * 8);
    // Each latency expectation checks the percentile of its own name.
    let checked: Vec<(String, String)> = step["expectations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["what"].as_str().unwrap().starts_with("latency."))
        .map(|e| (e["what"].as_str().unwrap().to_string(), e["actual"].as_str().unwrap().to_string()))
        .collect();
    let latency = &stats["total"]["latency"];
    let shown = |field: &str| format!("{:?}", Duration::from_nanos(latency[field].as_u64().unwrap()));
    let expected: Vec<(String, String)> = [
        ("p50", "p50_ns"),
        ("p90", "p90_ns"),
        ("p99", "p99_ns"),
        ("p999", "p999_ns"),
        ("max", "max_ns"),
        ("mean", "avg_ns"),
    ]
    .iter()
    .map(|(name, field)| (format!("latency.{name}"), shown(field)))
    .collect();
    assert_eq!(checked, expected);
    assert_eq!(report["steps"][2]["outcome"], "pass");
}

/// A report written by nvmeplan before the ioworker results moved to their
/// own crate (commit f23358c), from `plan.yaml` beside it run with
/// `--fail-fast`: no `busy_ns_per_io`, mismatch kinds and stop reasons as
/// plain strings.
const OLD_DIR: &str = "executor/tests/fixtures/report-before-results-crate";

#[test]
fn a_report_written_before_the_results_crate_still_loads() {
    let old = format!("{OLD_DIR}/report.json");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(&old);
    let report = nvmeplan_reports::json::read(&path).expect("the old report loads");
    assert_eq!(report.stopped, Some(StopReason::FailFast));
    assert_eq!(report.verdict(), RunVerdict::Failed);
    let readers = report.step("readers").unwrap().ioworker.as_ref().unwrap();
    assert_eq!(readers.workers.len(), 2);
    assert_eq!(readers.total.busy_ns_per_io, 0.0);
    assert!(readers.total.latency.unwrap().p99_ns > 0);

    let dir = tempfile::tempdir().unwrap();
    let md = dir.path().join("old.md");
    let html = dir.path().join("old.html");
    let o = nvmeplan(&["report", &old, "--markdown", md.to_str().unwrap(), "--html", html.to_str().unwrap()]);
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stdout}{stderr}");
    let md = std::fs::read_to_string(&md).unwrap();
    assert!(md.contains("--fail-fast: a step failed"), "{md}");
    let html = std::fs::read_to_string(&html).unwrap();
    assert!(html.contains("verdict-failed") && html.contains("--fail-fast: a step failed"));

    // The same plan run now, diffed against the old report.
    let out = dir.path().join("new");
    let plan = format!("{OLD_DIR}/plan.yaml");
    let o = nvmeplan(&["run", &plan, "--device", "sim", "--out", out.to_str().unwrap(), "--fail-fast"]);
    assert_eq!(o.status.code(), Some(1), "{:?}", text(&o));
    let new = valid_report(&out.join("report.json"));
    assert!(new["steps"][2]["ioworker"]["total"]["busy_ns_per_io"].as_f64().unwrap() > 0.0);
    let o = nvmeplan(&["diff", &old, out.join("report.json").to_str().unwrap(), "--fail-on", "status"]);
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("no regression"), "{stdout}");
}
