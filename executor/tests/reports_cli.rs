//! The report outputs through the real binary: `run --out` (report.json,
//! junit.xml), `nvmeplan report`, `nvmeplan diff` with its exit codes,
//! SIGTERM, snapshots of the JSON report and JUnit, and every shipped plan's
//! report validated against the committed schema.

mod common;

use std::path::{Path, PathBuf};

use common::{nvmeplan, text, valid_report};

/// A plan with identify, a log page, a feature, a failing step, a skipped
/// step, an erroring step and an ioworker matrix.
const PLAN: &str = r#"plan_version: 1
name: firmware check
steps:
  - name: identify controller
    identify: { cns: controller }
  - name: firmware slots
    get_log_page: { lid: firmware_slot }
  - name: number of queues
    get_features: { fid: number_of_queues }
  - name: read past the end
    read: { nsid: 1, slba: "${{ ns[1].nsze }}", nlb: 1 }
    tags: [negative]
  - name: needs cmb
    requires: [cap.cmbs]
    flush: {}
  - name: bad expression
    read: { nsid: 1, slba: "${{ 1 / 0 }}", nlb: 1 }
  - name: qd sweep
    matrix: { qd: [1, 4] }
    ioworker: { nsid: 1, io_size: 8, qdepth: "${{ matrix.qd }}", read_percentage: 100, io_count: 300 }
    expect: { errors: 0 }
"#;

fn write_plan(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `plan` on `device` into `out`; returns the exit code.
fn run(plan: &Path, device: &str, out: &Path) -> i32 {
    let o = nvmeplan(&[
        "run",
        plan.to_str().unwrap(),
        "--device",
        device,
        "--out",
        out.to_str().unwrap(),
        "--seed",
        "11",
    ]);
    let (stdout, stderr) = text(&o);
    assert!(stdout.lines().last().is_some_and(|l| l.ends_with("skipped")), "{stdout}{stderr}");
    o.status.code().unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Replaces values that change from run to run.
fn redact(value: &mut serde_json::Value) {
    const VOLATILE: &[&str] = &[
        "started_at",
        "duration_ms",
        "host",
        "path",
        "location",
        "latency_us",
        "text",
        "cmdlog_tail",
        "elapsed_ms",
        "elapsed_us",
        "iops",
        "mbps",
        "latency",
        "iops_per_second",
        "consistency",
        "cpu_percent",
        "cpu_ns_per_io",
        "busy_ns_per_io",
        "version",
    ];
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if VOLATILE.contains(&k.as_str()) && !v.is_object() || k == "host" || k == "latency" {
                    *v = "[redacted]".into();
                } else if let ("latency_by_op", serde_json::Value::Object(ops)) = (k.as_str(), &mut *v) {
                    // Which operations have latency is stable; their figures are not.
                    ops.values_mut().for_each(|l| *l = "[redacted]".into());
                } else {
                    redact(v);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

/// Replaces `time="1.234"` attributes and command latencies (`(12.5 us)`).
fn redact_times(xml: &str) -> String {
    let lines: Vec<String> = xml
        .lines()
        .map(|line| match (line.strip_suffix(" us)"), line.rfind(" (")) {
            (Some(_), Some(i)) => format!("{} ([latency] us)", &line[..i]),
            _ => line.to_string(),
        })
        .collect();
    let xml = lines.join("\n");
    let mut out = String::new();
    let mut rest = xml.as_str();
    while let Some(i) = rest.find(" time=\"") {
        out.push_str(&rest[..i]);
        out.push_str(" time=\"[t]\"");
        let after = &rest[i + 7..];
        rest = &after[after.find('"').map_or(after.len(), |j| j + 1)..];
    }
    out.push_str(rest);
    out
}

#[test]
fn json_report_and_junit_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), "plan.yaml", PLAN);
    let out = dir.path().join("out");
    assert_eq!(run(&plan, "sim:fw=1.0", &out), 1);
    let mut report = valid_report(&out.join("report.json"));
    assert_eq!(report["complete"], true);
    assert_eq!(report["summary"], serde_json::json!({"passed": 5, "failed": 1, "errored": 1, "skipped": 1}));
    let sweep = &report["steps"][7];
    assert_eq!(sweep["id"], "qd sweep[qd=4]");
    assert_eq!(sweep["matrix"], serde_json::json!({"qd": 4}));
    assert_eq!(sweep["ioworker"]["total"]["io_total"], 300);
    assert!(sweep["ioworker"]["total"]["iops"].as_f64().unwrap() > 0.0);
    assert!(sweep["ioworker"]["total"]["latency"]["p99_ns"].as_u64().unwrap() > 0);
    assert!(!report["host"]["kernel"].as_str().unwrap().is_empty());
    redact(&mut report);
    insta::assert_json_snapshot!("report_json", report);

    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert!(junit.contains("<failure message=\"status: expected success, got lba_out_of_range\""), "{junit}");
    insta::assert_snapshot!("junit_xml", redact_times(&junit));
}

#[test]
fn acceptance_firmware_diff_flags_the_slower_build() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), "plan.yaml", PLAN);
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    assert_eq!(run(&plan, "sim:fw=1.0", &a), 1);
    // Every read takes at least 2 ms on "firmware 1.1": IOPS drop and the
    // median latency rises far past any scheduling noise of the base run.
    assert_eq!(run(&plan, "sim:fw=1.1,latency=read:2ms", &b), 1);
    let (ra, rb) = (a.join("report.json"), b.join("report.json"));
    valid_report(&rb);

    // B against A: the firmware change, the slower metrics, exit 1.
    let md = dir.path().join("diff.md");
    let o = nvmeplan(&[
        "diff",
        s(&ra),
        s(&rb),
        "--threshold",
        "iops=5%,latency.p50=10%",
        "--threshold",
        "latency.min=10%",
        "--markdown",
        s(&md),
    ]);
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{stdout}{stderr}");
    let diff = std::fs::read_to_string(&md).unwrap();
    assert!(diff.contains("| firmware (changed) | 1.0 | 1.1 |"), "{diff}");
    assert!(diff.contains("| fr | 1.0 | 1.1 |"), "{diff}");
    assert!(diff.contains("| frs1 | 1.0 | 1.1 |"), "{diff}");
    for step in ["qd sweep[qd=1]", "qd sweep[qd=4]"] {
        let row = |metric: &str| {
            diff.lines()
                .find(|l| l.starts_with(&format!("| {step} | {metric} |")))
                .unwrap_or_else(|| panic!("no {step} {metric} row:\n{diff}"))
                .to_string()
        };
        for metric in ["iops", "latency.p50", "latency.min"] {
            assert!(row(metric).ends_with("% | **regression** |"), "{}", row(metric));
        }
        // MB/s fell as much as IOPS, but only the listed metrics are judged.
        assert!(row("mbps").ends_with("| — |  |"), "{}", row("mbps"));
    }
    assert!(diff.contains("| qd sweep[qd=1] | latency.p99 |"), "{diff}");
    assert!(stdout.trim_end().lines().last().unwrap().starts_with("regression: 0 status"), "{stdout}");

    // A report diffed with itself: exit 0.
    let o = nvmeplan(&["diff", s(&ra), s(&ra)]);
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("No step changed its outcome (8 steps compared)."), "{stdout}");
    assert_eq!(stdout.lines().last(), Some("no regression"));

    // Only status regressions count: the slower build passes.
    let o = nvmeplan(&["diff", s(&ra), s(&rb), "--fail-on", "status"]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));

    // A step that now fails is a status regression.
    let fixed = write_plan(dir.path(), "plan.yaml", &PLAN.replace("slba: \"${{ ns[1].nsze }}\"", "slba: 0"));
    let c = dir.path().join("c");
    run(&fixed, "sim:fw=1.0", &c);
    let o = nvmeplan(&["diff", s(&c.join("report.json")), s(&ra), "--fail-on", "status"]);
    let (stdout, _) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("| read past the end |  | pass | fail | regressed **(regression)** |"),
        "{stdout}"
    );
    assert!(stdout.contains("Note: the plan files differ"), "{stdout}");
}

#[test]
fn diff_exits_2_when_not_comparable_or_misused() {
    let dir = tempfile::tempdir().unwrap();
    let plan =
        write_plan(dir.path(), "p.yaml", "plan_version: 1\nname: one\nsteps:\n  - { name: f, flush: {} }\n");
    let other =
        write_plan(dir.path(), "q.yaml", "plan_version: 1\nname: two\nsteps:\n  - { name: f, flush: {} }\n");
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    assert_eq!(run(&plan, "sim", &a), 0);
    assert_eq!(run(&other, "sim", &b), 0);
    let (ra, rb) = (a.join("report.json"), b.join("report.json"));
    let o = nvmeplan(&["diff", s(&ra), s(&rb)]);
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{stdout}{stderr}");
    assert!(stderr.contains("the reports are not comparable") && stderr.contains("plan `two`"), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");

    let not_json = write_plan(dir.path(), "x.json", "{ not json");
    let future = dir.path().join("future.json");
    let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&ra).unwrap()).unwrap();
    v["report_version"] = 99.into();
    std::fs::write(&future, v.to_string()).unwrap();
    for (args, message) in [
        (vec!["diff", s(&ra), s(&not_json)], "is not an nvmeplan report"),
        (vec!["diff", s(&ra), s(&future)], "report_version 99"),
        (vec!["diff", s(&ra), "/nonexistent.json"], "report `/nonexistent.json` not found"),
        (vec!["diff", s(&ra), s(&ra), "--threshold", "speed=5%"], "unknown metric `speed`"),
        (vec!["diff", s(&ra), s(&ra), "--threshold", "iops=fast"], "not a percentage"),
        (vec!["diff", s(&ra), s(&ra), "--fail-on", "everything"], "unknown kind"),
        (vec!["diff", s(&ra)], "required"),
    ] {
        let o = nvmeplan(&args);
        let (stdout, stderr) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {stdout}{stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}

#[test]
fn report_command_renders_again() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), "plan.yaml", PLAN);
    let out = dir.path().join("out");
    run(&plan, "sim", &out);
    let (junit, md) = (dir.path().join("again.xml"), dir.path().join("report.md"));
    let report = out.join("report.json");
    let o = nvmeplan(&["report", s(&report), "--junit", s(&junit), "--markdown", s(&md)]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert_eq!(
        std::fs::read_to_string(&junit).unwrap(),
        std::fs::read_to_string(out.join("junit.xml")).unwrap()
    );
    let md = std::fs::read_to_string(&md).unwrap();
    assert!(md.starts_with(
        "# nvmeplan report: firmware check\n\n**failed**: 5 passed, 1 failed, 1 errored, 1 skipped"
    ));
    assert!(md.contains("| status | success | lba_out_of_range |"), "{md}");
    assert!(md.contains("| qd sweep[qd=4] | 300 |"), "{md}");
    // `run --junit FILE` without `--out` writes only the JUnit file.
    let only = dir.path().join("only").join("j.xml");
    let o = nvmeplan(&["run", s(&plan), "--junit", s(&only)]);
    assert_eq!(o.status.code(), Some(1), "{:?}", text(&o));
    let xml = std::fs::read_to_string(&only).unwrap();
    assert!(xml.contains("<testsuite name=\"firmware check\" tests=\"8\""), "{xml}");
    let names: Vec<_> =
        std::fs::read_dir(only.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, ["j.xml"]);
    // Without output options the Markdown goes to stdout.
    let o = nvmeplan(&["report", s(&report)]);
    assert!(text(&o).0.contains("## Failures"));
    let o = nvmeplan(&["report", "/nonexistent/report.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("report `/nonexistent/report.json` not found"));
}

#[test]
fn schema_report_prints_the_committed_schema() {
    let o = nvmeplan(&["schema", "--report"]);
    assert_eq!(o.status.code(), Some(0));
    let printed: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(printed, common::committed_report_schema());
    let (help, _) = text(&nvmeplan(&["diff", "--help"]));
    assert!(
        help.contains("0    no regression") && help.contains("2    the reports are not comparable"),
        "{help}"
    );
}

#[test]
fn every_shipped_plan_writes_a_report_matching_the_schema() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plans");
    let dir = tempfile::tempdir().unwrap();
    let mut plans: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    plans.sort();
    assert!(plans.len() >= 3);
    let out = dir.path().join("all");
    let mut args =
        vec!["run".to_string(), "--out".into(), out.display().to_string(), "--seed".into(), "3".into()];
    args.extend(plans.iter().map(|p| p.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = nvmeplan(&args);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{:?}", text(&o));
    for plan in &plans {
        let stem = plan.file_stem().unwrap().to_str().unwrap();
        let report = valid_report(&out.join(stem).join("report.json"));
        assert_eq!(report["complete"], true, "{stem}");
    }
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert_eq!(junit.matches("<testsuite ").count(), plans.len(), "{junit}");
}

#[cfg(unix)]
#[test]
fn sigterm_leaves_a_valid_incomplete_report() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(
        dir.path(),
        "long.yaml",
        "plan_version: 1\nname: long\nsteps:\n  - { name: first, flush: {} }\n  - { name: long, ioworker: { io_size: 8, qdepth: 4, time: 30s }, timeout: 60s }\n",
    );
    let out = dir.path().join("out");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_nvmeplan"))
        .args(["run", s(&plan), "--out", s(&out)])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let report = out.join("report.json");
    let start = std::time::Instant::now();
    while !std::fs::read_to_string(&report).is_ok_and(|t| t.contains("\"first\"")) {
        assert!(start.elapsed() < std::time::Duration::from_secs(20), "the run did not start");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    let killed =
        std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let o = child.wait_with_output().unwrap();
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(130), "{stdout}{stderr}");
    assert!(start.elapsed() < std::time::Duration::from_secs(20));
    let json = valid_report(&report);
    assert_eq!(json["complete"], false);
    assert_eq!(json["stopped"], "interrupted");
    assert_eq!(json["steps"][1]["outcome"], "error");
}

/// On a terminal (a pseudo-terminal made by util-linux `script`) the console
/// shows a live line with the running step and its IOPS; the plain lines
/// and the summary line stay.
#[cfg(target_os = "linux")]
#[test]
fn terminal_shows_live_ioworker_iops() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(
        dir.path(),
        "tty.yaml",
        "plan_version: 1\nname: tty\nsteps:\n  - { name: f, flush: {} }\n  - { name: load, ioworker: { io_size: 8, qdepth: 4, time: 2500ms } }\n",
    );
    let command = format!("{} run {}", env!("CARGO_BIN_EXE_nvmeplan"), s(&plan));
    let transcript = dir.path().join("transcript");
    let o = std::process::Command::new("script")
        .args(["-qec", &command, s(&transcript)])
        .output()
        .expect("util-linux `script` is installed (Debian: bsdutils)");
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let tty = String::from_utf8_lossy(&std::fs::read(&transcript).unwrap()).into_owned();
    assert!(tty.contains("load (ioworker)"), "{tty}");
    assert!(tty.contains("load: ") && tty.contains(" IOPS (") && tty.contains("1 worker(s))"), "{tty}");
    assert!(tty.contains("PASS  load ("), "{tty}");
    assert!(tty.contains("2 passed, 0 failed, 0 skipped"), "{tty}");
    // Without a terminal there is no live line.
    let (plain, _) = text(&nvmeplan(&["run", s(&plan)]));
    assert!(!plain.contains("IOPS") && !plain.contains('\r'), "{plain}");
    assert_eq!(plain.lines().last(), Some("2 passed, 0 failed, 0 skipped"));
}
