//! JUnit and Markdown rendered from fixed reports: how outcomes map to
//! JUnit elements, and snapshots of the Markdown diff and report.

use std::collections::BTreeMap;

use nvmeplan_reports::diff::{self, DiffOptions, Thresholds};
use nvmeplan_reports::{
    Captured, CapturedKind, ExpectationResult, IoWorkerStats, LatencyStats, Outcome, Report, StepResult,
    Verdict, WorkerStats,
};

fn io_stats(iops: f64, p99_us: u64) -> IoWorkerStats {
    let total = WorkerStats {
        io_total: 1000,
        iops,
        mbps: iops * 4096.0 / 1e6,
        latency: Some(LatencyStats {
            min_ns: 20_000,
            avg_ns: 60_000,
            max_ns: p99_us * 2000,
            p50_ns: 55_000,
            p90_ns: 80_000,
            p99_ns: p99_us * 1000,
            p999_ns: p99_us * 1500,
            p9999_ns: p99_us * 1900,
        }),
        status_counts: BTreeMap::from([("success".to_string(), 1000)]),
        ..WorkerStats::default()
    };
    IoWorkerStats { workers: vec![total.clone()], total, stopped: None }
}

/// A report of firmware `fr` with IOPS scaled by `speed`.
fn report(fr: &str, speed: f64, read_fails: bool) -> Report {
    let mut r = Report::new_empty("smoke");
    r.version = "0.1.0".into();
    r.seed = 7;
    r.started_at = "2026-01-01T00:00:00Z".into();
    r.duration_ms = 1234;
    r.plan.path = "plans/smoke.yaml".into();
    r.plan.sha256 = "ab".repeat(32);
    r.plan.spec_revision = Some("2.0".into());
    r.device.uri = format!("sim:fw={fr}");
    r.device.mn = "nvmeplan simulated NVMe controller".into();
    r.device.sn = "NVMPSIM0001".into();
    r.device.fr = fr.into();
    r.device.identify = BTreeMap::from([("fr".into(), fr.into()), ("nn".into(), 1.into())]);
    r.complete = true;

    let mut identify =
        StepResult::new("identify controller", "identify controller", "identify", Outcome::Pass);
    identify.spec = Some("base:5.17.2.1".into());
    identify.duration_ms = 1;
    let mut slots = StepResult::new("firmware slots", "firmware slots", "get_log_page", Outcome::Pass);
    slots.captured = Some(Captured {
        kind: CapturedKind::LogPage,
        name: "firmware_slot".into(),
        fields: BTreeMap::from([("afi".into(), 1.into()), ("frs1".into(), fr.into())]),
    });
    let mut read = StepResult::new("read past the end", "read past the end", "read", Outcome::Pass);
    read.spec = Some("nvm:3.2.4".into());
    read.expectations.push(ExpectationResult {
        what: "status".into(),
        expected: "lba_out_of_range".into(),
        actual: if read_fails { "success".into() } else { "lba_out_of_range".into() },
        verdict: if read_fails { Verdict::Fail } else { Verdict::Pass },
    });
    if read_fails {
        read.outcome = Outcome::Fail;
        read.reason = Some("expected status lba_out_of_range, got success".into());
    }
    let mut skipped = StepResult::new("cmb", "cmb", "flush", Outcome::Skip);
    skipped.reason = Some("requires cap.cmbs (a controller memory buffer not supported)".into());
    let mut timeout = StepResult::new("hang", "hang", "flush", Outcome::Error);
    timeout.reason = Some("timed out after 5s; controller reset".into());
    timeout.duration_ms = 5000;
    let mut steps = vec![identify, slots, read, skipped, timeout];
    for (qd, base_iops) in [(1u64, 10_000.0), (4, 30_000.0)] {
        let mut s = StepResult::new(&format!("qd sweep[qd={qd}]"), "qd sweep", "ioworker", Outcome::Pass);
        s.matrix = BTreeMap::from([("qd".into(), qd.into())]);
        s.tags = vec!["perf".into()];
        s.duration_ms = 500;
        s.ioworker = Some(io_stats(base_iops * speed, (100.0 / speed) as u64));
        steps.push(s);
    }
    for s in &steps {
        r.summary.add(s.outcome);
    }
    r.steps = steps;
    r
}

#[test]
fn junit_maps_outcomes() {
    let r = report("1.0", 1.0, true);
    let xml = nvmeplan_reports::junit::render(&[&r]).unwrap();
    assert!(
        xml.contains("<testsuite name=\"smoke\" tests=\"7\" skipped=\"1\" errors=\"1\" failures=\"1\""),
        "{xml}"
    );
    assert!(xml.contains(
        "<failure message=\"status: expected lba_out_of_range, got success\" type=\"fail\">expected status lba_out_of_range, got success\nstatus: expected lba_out_of_range, got success\n</failure>"
    ), "{xml}");
    assert!(xml.contains("<error message=\"timed out after 5s; controller reset\" type=\"error\">"), "{xml}");
    assert!(xml.contains("<skipped message=\"requires cap.cmbs"), "{xml}");
    assert!(
        xml.contains("<testcase name=\"qd sweep[qd=1]\"")
            && xml.contains("<testcase name=\"qd sweep[qd=4]\"")
    );
    assert!(xml.contains("name=\"hang\" classname=\"smoke\" time=\"5.000\""), "{xml}");
    insta::assert_snapshot!("junit", xml);
    // Several reports: one suite each.
    let two = nvmeplan_reports::junit::render(&[&r, &report("1.1", 1.0, false)]).unwrap();
    assert_eq!(two.matches("<testsuite ").count(), 2);
}

#[test]
fn markdown_diff_of_a_slower_firmware() {
    let base = report("1.0", 1.0, false);
    let new = report("1.1", 0.5, true);
    let options = DiffOptions {
        thresholds: Thresholds::parse("iops=5%,latency.p99=10%").unwrap(),
        ..Default::default()
    };
    let d = diff::diff("base/report.json", &base, "new/report.json", &new, &options).unwrap();
    assert!(d.has_regression());
    insta::assert_snapshot!("diff_markdown", nvmeplan_reports::markdown::render_diff(&d));
    let same = diff::diff("base/report.json", &base, "base/report.json", &base, &options).unwrap();
    assert!(!same.has_regression());
    insta::assert_snapshot!("diff_markdown_same", nvmeplan_reports::markdown::render_diff(&same));
}

#[test]
fn markdown_report() {
    insta::assert_snapshot!(
        "report_markdown",
        nvmeplan_reports::markdown::render_report(&report("1.1", 0.5, true))
    );
}
