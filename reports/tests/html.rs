//! The HTML report: self-contained, failures first, every part of a step
//! shown, user text escaped, charts for ioworkers and matrix steps.

use std::collections::BTreeMap;

use nvmeplan_reports::html::render_report;
use nvmeplan_reports::{
    CommandRecord, ExpectationResult, Forensic, IoWorkerStats, LatencyStats, Outcome, Report, StepResult,
    Verdict, WorkerStats,
};

fn worker(iops: f64, per_second: &[u64]) -> WorkerStats {
    WorkerStats {
        io_total: per_second.iter().sum(),
        iops,
        mbps: iops * 4096.0 / 1e6,
        elapsed_ms: per_second.len() as u64 * 1000,
        elapsed_us: per_second.len() as u64 * 1_000_000,
        iops_per_second: per_second.to_vec(),
        latency: Some(LatencyStats {
            min_ns: 900,
            avg_ns: 20_000,
            max_ns: 2_000_000,
            p50_ns: 15_000,
            p90_ns: 30_000,
            p99_ns: (1e9 / iops) as u64 * 32,
            p999_ns: 400_000,
            p9999_ns: 900_000,
        }),
        consistency: 0.93,
        ..WorkerStats::default()
    }
}

fn sample() -> Report {
    let mut r = Report::new_empty("smoke <plan>");
    r.version = "0.1.0".into();
    r.complete = true;
    r.device.uri = "sim:fw=1.1".into();
    r.device.mn = "nvmeplan simulated NVMe".into();
    r.device.sn = "SIM0001".into();
    r.device.fr = "1.1".into();
    r.plan.source = "name: smoke\nsteps: [] # <script>alert(1)</script>\n".into();

    let mut ok = StepResult::new("identify controller", "identify controller", "identify", Outcome::Pass);
    ok.tags = vec!["admin".into()];
    ok.commands.push(CommandRecord {
        qid: 0,
        text: "cid 1 identify cns 1 -> success".into(),
        opcode: "identify".into(),
        sqe: vec![0; 16],
        cqe: Some(vec![0; 4]),
        status: Some("success".into()),
        latency_us: Some(12.5),
    });
    ok.commands_total = 1;
    r.steps.push(ok);

    let mut bad = StepResult::new("read past the end", "read past the end", "read", Outcome::Fail);
    bad.reason = Some("expected status lba_out_of_range, got success".into());
    bad.expectations.push(ExpectationResult {
        what: "status".into(),
        expected: "lba_out_of_range".into(),
        actual: "success".into(),
        verdict: Verdict::Fail,
    });
    bad.forensic = Some(Forensic {
        cmdlog_tail: vec!["cid 9 read nsid 1 slba 2097152 nlb 1 -> success".into()],
        csts: "0x1 (rdy 1)".into(),
        cap: "0x2014030000ff".into(),
    });
    r.steps.push(bad);

    for (qd, iops) in [(1u64, 40_000.0), (4, 120_000.0), (16, 300_000.0)] {
        let mut s = StepResult::new(&format!("qd sweep[qd={qd}]"), "qd sweep", "ioworker", Outcome::Pass);
        s.matrix = BTreeMap::from([("qd".to_string(), serde_json::json!(qd))]);
        let w = worker(iops, &[iops as u64, iops as u64 - 10, iops as u64 + 10]);
        s.ioworker = Some(IoWorkerStats { workers: vec![w.clone()], total: w, stopped: None });
        r.steps.push(s);
    }
    let mut skipped = StepResult::new("format", "format", "format", Outcome::Skip);
    skipped.reason = Some("requires oacs.format".into());
    r.steps.push(skipped);
    for s in &r.steps {
        r.summary.add(s.outcome);
    }
    r
}

#[test]
fn report_is_one_self_contained_file() {
    let html = render_report(&sample()).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    // No fetch of anything: the only URL is the SVG namespace name.
    for needle in ["src=", "href=\"http", "@import", "url("] {
        assert!(!html.contains(needle), "found {needle}");
    }
    let urls = html.matches("http://").count() + html.matches("https://").count();
    assert_eq!(urls, html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count());
    assert!(html.contains("<style>") && html.contains("<script>"));
}

#[test]
fn verdict_counts_and_device_identity_come_first() {
    let html = render_report(&sample()).unwrap();
    let top = &html[..html.find("<main>").unwrap()];
    assert!(top.contains("FAILED"));
    assert!(top.contains("4 passed") && top.contains("1 failed") && top.contains("1 skipped"));
    assert!(top.contains("SIM0001") && top.contains("1.1"));
}

#[test]
fn failures_come_before_the_steps_with_expected_and_actual() {
    let html = render_report(&sample()).unwrap();
    let failures = html.find("id=\"failures\"").expect("failures section");
    let steps = html.find("id=\"steps\"").unwrap();
    assert!(failures < steps);
    let section = &html[failures..steps];
    assert!(section.contains("read past the end"));
    assert!(section.contains("lba_out_of_range") && section.contains("success"));
    assert!(section.contains("cid 9 read nsid 1 slba 2097152"), "cmdlog tail");
    assert!(section.contains("rdy 1"), "CSTS");
    // The failed step is expanded in the step list, the passing ones are not.
    assert!(html.contains("data-outcome=\"fail\" data-tags=\"\" open>"));
    assert!(!html.contains("data-outcome=\"pass\" data-tags=\"admin\" open>"));
}

#[test]
fn user_text_is_escaped() {
    let html = render_report(&sample()).unwrap();
    assert!(!html.contains("<script>alert(1)</script>"));
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;")
            || html.contains("&lt;script&gt;alert(1)")
    );
    assert!(html.contains("smoke &lt;plan&gt;"));
}

#[test]
fn ioworker_and_matrix_steps_get_charts() {
    let html = render_report(&sample()).unwrap();
    // One IOPS-over-time and one latency chart per ioworker step, and the
    // matrix section's IOPS and p99 against qd.
    assert_eq!(html.matches("IOPS per second</title>").count(), 3);
    assert_eq!(html.matches("latency percentiles</title>").count(), 3);
    assert!(html.contains("qd sweep: IOPS vs qd</title>"));
    assert!(html.contains("qd sweep: p99 latency vs qd</title>"));
    assert!(html.find("id=\"matrix\"").unwrap() < html.find("id=\"steps\"").unwrap());
    assert!(!html.contains("NaN"));
}

#[test]
fn filters_work_without_javascript() {
    let html = render_report(&sample()).unwrap();
    // The filter bar is hidden until the script shows it; steps are plain
    // <details> elements that open without script.
    assert!(html.contains("<nav id=\"filters\" class=\"filters\" hidden>"));
    assert_eq!(html.matches("<details class=\"step ").count(), 6);
    assert!(html.contains("<option value=\"admin\">admin</option>"));
}

#[test]
fn an_incomplete_run_says_so() {
    let mut r = sample();
    r.complete = false;
    r.stopped = Some("interrupted (Ctrl-C)".into());
    let html = render_report(&r).unwrap();
    assert!(html.contains("This run did not finish: interrupted (Ctrl-C)."));
}

#[test]
fn verified_steps_say_what_they_checked_in_html_and_markdown() {
    let mut r = Report::new_empty("verify");
    let mut read = StepResult::new("read back", "read back", "read", Outcome::Pass);
    read.verification = Some(nvmeplan_reports::Verification { checked: 8, unchecked: 8, mismatches: 0 });
    let mut all = StepResult::new("read all", "read all", "read", Outcome::Fail);
    all.reason = Some("expected data.unchecked == 0, got 1".into());
    all.verification = Some(nvmeplan_reports::Verification { checked: 1, unchecked: 1, mismatches: 0 });
    r.steps = vec![read, all];
    let html = render_report(&r).unwrap();
    assert!(html.contains("8 blocks verified, 8 unchecked"), "html");
    assert!(html.contains("<p class=\"verification\">1 block verified, 1 unchecked</p>"), "html failure");
    let md = nvmeplan_reports::markdown::render_report(&r);
    assert!(md.contains("| read back |  | pass | 0 ms | 8 blocks verified, 8 unchecked |"), "{md}");
    assert!(md.contains("got 1; 1 block verified, 1 unchecked |"), "{md}");
}
