//! `nvmeplan run` as a process: exit codes, console output, `--out`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn nvmeplan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nvmeplan"))
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .output()
        .expect("nvmeplan runs")
}

fn write_plan(dir: &Path, name: &str, steps: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("plan_version: 1\nname: {name}\nsteps:\n{steps}")).unwrap();
    path
}

fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

#[test]
fn passing_plan_exits_0_and_prints_the_summary_last() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(
        dir.path(),
        "ok.yaml",
        "  - { name: identify controller, identify: { cns: controller } }\n  - { name: cmb, requires: [cap.cmbs], flush: {} }\n",
    );
    let o = nvmeplan(&["run", plan.to_str().unwrap()]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(out.contains("PASS  identify controller ("), "{out}");
    assert!(out.contains("SKIP  cmb (requires cap.cmbs"), "{out}");
    assert_eq!(out.lines().last(), Some("1 passed, 0 failed, 1 skipped"));
}

#[test]
fn failing_plan_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(
        dir.path(),
        "fail.yaml",
        "  - { name: read past the end, read: { slba: \"${{ ns[1].nsze }}\", nlb: 1 } }\n  - { name: ok, flush: {} }\n",
    );
    let o = nvmeplan(&["run", plan.to_str().unwrap()]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(out.contains("FAIL  read past the end: expected status success, got lba_out_of_range"), "{out}");
    assert_eq!(out.lines().last(), Some("1 passed, 1 failed, 0 skipped"));
    let o = nvmeplan(&["run", "--fail-fast", plan.to_str().unwrap()]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(out.lines().last(), Some("0 passed, 1 failed, 0 skipped"));
}

#[test]
fn usage_and_plan_errors_exit_2_and_run_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write_plan(dir.path(), "bad.yaml", "  - { name: x, read: { slba: 0, nlb: 0 } }\n");
    let o = nvmeplan(&["run", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!text(&o).0.contains("passed"));
    let good = write_plan(dir.path(), "good.yaml", "  - { name: f, flush: {} }\n");
    let g = good.to_str().unwrap();
    for args in [
        vec!["run"],
        vec!["run", g, "--bogus"],
        vec!["run", g, "--seed", "x"],
        vec!["run", g, "--var", "novalue"],
        vec!["run", g, "--device", "sim:nosuchkey=1"],
        vec!["run", g, "--device", "sim:lba=513"],
        vec!["run", g, "--device", "nvme-over-carrier-pigeon"],
        vec!["run", "/nonexistent/plan.yaml"],
    ] {
        let o = nvmeplan(&args);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {out}{err}");
        assert!(!out.contains("PASS"), "{args:?}");
    }
    let (_, err) = text(&nvmeplan(&["run", g, "--device", "sim:nosuchkey=1"]));
    assert!(err.contains("nosuchkey"), "{err}");
}

#[test]
fn unopenable_device_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), "p.yaml", "  - { name: f, flush: {} }\n");
    let o = nvmeplan(&["run", plan.to_str().unwrap(), "--device", "pci:0000:99:00.0"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(3), "{out}{err}");
    assert!(err.contains("cannot open device"), "{err}");
}

#[test]
fn out_writes_valid_json() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(
        dir.path(),
        "p.yaml",
        "  - { name: w, write: { slba: 0, nlb: \"${{ x * 8 }}\" }, tags: [io] }\n  - { name: r, read: { slba: 0, nlb: 8, verify: true }, save: rd }\n",
    );
    let out = dir.path().join("out");
    let o = nvmeplan(&[
        "run",
        plan.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--seed",
        "42",
        "--var",
        "x=1",
    ]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let json = common::valid_report(&out.join("report.json"));
    assert_eq!(json["report_version"], 1);
    assert_eq!(json["tool"], "nvmeplan");
    assert_eq!(json["complete"], true);
    assert_eq!(json["seed"], 42);
    assert_eq!(json["plan"]["name"], "p.yaml");
    assert_eq!(json["plan"]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(json["device"]["backend"], "sim");
    assert_eq!(json["summary"]["passed"], 2);
    assert_eq!(json["steps"][0]["tags"][0], "io");
    assert_eq!(json["steps"][1]["saved"]["name"], "rd");
    assert_eq!(json["steps"][1]["commands"][0]["opcode"], "read");
    let run: nvmeplan::RunResult = serde_json::from_value(json).unwrap();
    assert_eq!(run.steps.len(), 2);
    // Only the outputs are left behind (temporary files were renamed).
    let mut names: Vec<_> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name()).collect();
    names.sort();
    assert_eq!(names, ["junit.xml", "report.html", "report.json", "run.log"]);
    let log = std::fs::read_to_string(out.join("run.log")).unwrap();
    assert!(log.contains("run started") && log.contains("step finished step=r outcome=\"pass\""), "{log}");
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert!(junit.contains("<testsuite name=\"p.yaml\" tests=\"2\""), "{junit}");
}

#[test]
fn help_documents_exit_codes() {
    let (out, _) = text(&nvmeplan(&["run", "--help"]));
    for code in ["0 ", "1 ", "2 ", "3 ", "130"] {
        assert!(out.contains(code), "{out}");
    }
    assert!(out.contains("--fail-fast") && out.contains("--skip-tags") && out.contains("--out"));
}

#[cfg(unix)]
#[test]
fn ctrl_c_records_the_step_and_exits_130() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(
        dir.path(),
        "long.yaml",
        "  - { name: first, flush: {} }\n  - { name: long, sleep: 30s, timeout: 60s }\n  - { name: never, flush: {} }\n",
    );
    let out = dir.path().join("out");
    let child = Command::new(env!("CARGO_BIN_EXE_nvmeplan"))
        .args(["run", plan.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the first step is recorded, then interrupt.
    let result = out.join("report.json");
    let start = std::time::Instant::now();
    while !std::fs::read_to_string(&result).is_ok_and(|t| t.contains("\"first\"")) {
        assert!(start.elapsed() < std::time::Duration::from_secs(20), "the run did not start");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let killed = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let o = child.wait_with_output().unwrap();
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(130), "{stdout}{stderr}");
    assert!(stdout.contains("ERROR long: interrupted"), "{stdout}");
    assert_eq!(stdout.lines().last(), Some("1 passed, 1 failed, 0 skipped"));
    assert!(stdout.contains("(1 of the 1 failed steps errored"), "{stdout}");
    let json = common::valid_report(&result);
    assert_eq!(json["complete"], false);
    assert_eq!(json["stopped"], "interrupted");
    // The JUnit file is written for the stopped plan too.
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert!(junit.contains("<property name=\"complete\" value=\"false\"/>"), "{junit}");
    assert!(junit.contains("<error message=\"interrupted\""), "{junit}");
    assert_eq!(json["steps"].as_array().unwrap().len(), 2);
}
