//! The ioworker's results reach report.json as the driver measured them:
//! the busy time per IO and every latency percentile by name.

mod common;

use std::time::Duration;

use common::{nvmeplan, text, valid_report};

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
