//! `nvmeplan diff` with several runs per side, as a process: same-config
//! runs do not regress with the default thresholds, a slower firmware does,
//! the HTML shows thresholds and marks the changed device rows, and bad
//! arguments get a message and exit code 2.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn nvmeplan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nvmeplan"))
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .output()
        .expect("nvmeplan runs")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// A short plan with two ioworker steps, so that each run takes about a second.
const PLAN: &str = "plan_version: 1
name: noise
steps:
  - name: identify controller
    identify: { cns: controller }
  - name: random read
    ioworker: { io_size: 8, lba_random: true, read_percentage: 100, qdepth: 8, time: 400ms }
    expect: { errors: 0 }
  - name: sequential write
    ioworker: { io_size: 8, read_percentage: 0, qdepth: 4, time: 400ms }
    expect: { errors: 0 }
";

/// Runs the plan on `device` into `dir/name` and returns the report's path.
fn run(dir: &Path, plan: &Path, device: &str, name: &str) -> PathBuf {
    let out = dir.join(name);
    let o = nvmeplan(&["run", plan.to_str().unwrap(), "--device", device, "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    out.join("report.json")
}

fn plan(dir: &Path) -> PathBuf {
    let p = dir.join("noise.yaml");
    std::fs::write(&p, PLAN).unwrap();
    p
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn several_runs_of_the_same_config_do_not_regress() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan(dir.path());
    let base: Vec<PathBuf> = (0..3).map(|i| run(dir.path(), &plan, "sim:", &format!("a{i}"))).collect();
    let new: Vec<PathBuf> = (0..2).map(|i| run(dir.path(), &plan, "sim:", &format!("b{i}"))).collect();
    let md = dir.path().join("diff.md");
    let mut args = vec!["diff", "--markdown", s(&md)];
    args.extend(base.iter().map(|p| s(p)));
    args.push("--");
    args.extend(new.iter().map(|p| s(p)));
    let o = nvmeplan(&args);
    let md = std::fs::read_to_string(&md).unwrap();
    assert_eq!(o.status.code(), Some(0), "{}\n{md}", text(&o));
    assert!(text(&o).contains("no regression"), "{}", text(&o));
    assert!(md.contains("Values are medians of 3 base and 2 new runs"), "{md}");
    assert!(md.contains("| delta | spread | threshold |"), "{md}");
    // Every report is named in the header.
    for p in base.iter().chain(&new) {
        assert!(md.contains(s(p)), "{md}");
    }
    // The old two-report form still works.
    let o = nvmeplan(&["diff", s(&base[0]), s(&base[1])]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn slower_firmware_regresses_and_the_html_marks_it() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan(dir.path());
    let base = run(dir.path(), &plan, "sim:fw=1.0", "a");
    let new = run(dir.path(), &plan, "sim:fw=1.1,latency=300us", "b");
    let html = dir.path().join("diff.html");
    let o = nvmeplan(&["diff", "--html", s(&html), s(&base), "--", s(&new)]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("regression: 0 status, "), "{out}");
    assert!(out.contains("| firmware (changed) | 1.0 | 1.1 |"), "{out}");
    assert!(out.contains("| device (changed) | sim:fw=1.0 | sim:fw=1.1,latency=300us |"), "{out}");
    let html = std::fs::read_to_string(&html).unwrap();
    assert!(html.contains("<th>delta</th><th>spread</th><th>threshold</th>"), "{html}");
    assert!(html.contains("<td>latency.p50</td>"), "{html}");
    assert!(html.contains("<td>±100%</td>"), "the p50 threshold is shown: {html}");
    assert!(html.contains(r#"<tr class="bad"><th>device (changed)</th>"#), "{html}");
    assert!(html.contains(r#"<tr class="bad"><th>firmware (changed)</th>"#), "{html}");
    assert!(!html.contains(r#"<tr class="bad"><th>report"#), "report paths always differ: {html}");
}

#[test]
fn bad_arguments_say_how_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let plan = plan(dir.path());
    let a = run(dir.path(), &plan, "sim:", "a");
    let missing = dir.path().join("missing.json");
    for (args, wanted) in [
        (vec!["diff", s(&a), s(&a), s(&a)], "3 reports and no `--`: separate the base reports"),
        (vec!["diff", s(&a)], "a new report is required"),
        (vec!["diff", "--", s(&a)], "diff needs base reports before `--`"),
        (vec!["diff", s(&a), "--", s(&missing)], "missing.json"),
        (vec!["diff", s(&missing), s(&a)], "missing.json"),
        (vec!["diff", "--latency-floor", "fast", s(&a), s(&a)], "--latency-floor: invalid duration `fast`"),
    ] {
        let o = nvmeplan(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(err.contains(wanted), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    // `--` with nothing after it names no new report.
    let o = nvmeplan(&["diff", s(&a), s(&a), "--"]);
    assert_eq!(o.status.code(), Some(0), "two reports and an empty `--` are BASE NEW: {}", text(&o));
}
