//! The outputs of the binary under stress: `report.json` of long runs,
//! stdout that is closed or full, output files that cannot be written or
//! would overwrite an input, and the command line checked against the
//! plans (device addresses, report folders, `--var`, `--tags`).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{nvmeplan, text, valid_report};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn write_plan(dir: &Path, name: &str, steps: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("plan_version: 1\nname: {name}\nsteps:\n{steps}")).unwrap();
    path
}

/// A plan of `n` quick `log` steps.
fn log_plan(dir: &Path, n: usize) -> PathBuf {
    let steps: String = (0..n).map(|i| format!("  - {{ name: s{i}, log: step {i} }}\n")).collect();
    write_plan(dir, &format!("log{n}.yaml"), &steps)
}

/// The binary, run from the workspace root with `stdout` as its stdout.
fn nvmeplan_to(args: &[&str], stdout: impl Into<Stdio>) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nvmeplan"))
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .stdout(stdout)
        .stderr(Stdio::piped())
        .output()
        .expect("nvmeplan runs")
}

/// A pipe whose reading end is already closed: every write gets EPIPE.
fn closed_pipe() -> std::io::PipeWriter {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    writer
}

fn dev_full() -> std::fs::File {
    std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap()
}

fn stderr_of(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

// ---- 12: report.json of long runs ----

/// Wall time of `run --out` of `plan` into a fresh directory.
fn timed_run(plan: &Path, out: &Path) -> Duration {
    let _ = std::fs::remove_dir_all(out);
    let start = Instant::now();
    let o = nvmeplan(&["run", s(plan), "--out", s(out)]);
    let took = start.elapsed();
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    took
}

#[test]
fn report_json_costs_linear_time_in_the_steps() {
    let dir = tempfile::tempdir().unwrap();
    let (small, large) = (log_plan(dir.path(), 2000), log_plan(dir.path(), 6000));
    let out = dir.path().join("out");
    // The fastest of three runs each, interleaved, discounts a loaded machine.
    let (mut t_small, mut t_large) = (Duration::MAX, Duration::MAX);
    for _ in 0..3 {
        t_small = t_small.min(timed_run(&small, &out));
        t_large = t_large.min(timed_run(&large, &out));
    }
    let report = valid_report(&out.join("report.json"));
    assert_eq!(report["steps"].as_array().unwrap().len(), 6000);
    assert_eq!(report["complete"], true);
    // Linear costs give at most 3x (less with the fixed start-up); a
    // rewrite of the whole report after every step gives 9x.
    let ratio = t_large.as_secs_f64() / t_small.as_secs_f64();
    eprintln!("--out: 2000 steps {t_small:?}, 6000 steps {t_large:?}: {ratio:.2}x");
    assert!(ratio < 4.0, "6000 steps took {t_large:?}, 2000 steps {t_small:?}: {ratio:.1}x");
}

#[test]
fn report_json_is_a_valid_incomplete_report_while_a_long_step_runs() {
    let dir = tempfile::tempdir().unwrap();
    let mut steps: String = (0..50).map(|i| format!("  - {{ name: s{i}, log: step {i} }}\n")).collect();
    steps.push_str("  - { name: long, sleep: 3s, timeout: 20s }\n");
    let plan = write_plan(dir.path(), "long.yaml", &steps);
    let out = dir.path().join("out");
    let child = Command::new(env!("CARGO_BIN_EXE_nvmeplan"))
        .args(["run", s(&plan), "--out", s(&out)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let report = out.join("report.json");
    let start = Instant::now();
    // Every step before the sleep reaches the file while the sleep runs.
    loop {
        let steps = std::fs::read_to_string(&report)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .map_or(0, |v| v["steps"].as_array().map_or(0, Vec::len));
        if steps == 50 {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(2), "{steps} of 50 steps in report.json");
        std::thread::sleep(Duration::from_millis(10));
    }
    let live = valid_report(&report);
    assert_eq!(live["complete"], false);
    assert_eq!(live["summary"]["passed"], 50);
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let done = valid_report(&report);
    assert_eq!((done["complete"].as_bool(), done["steps"].as_array().map(Vec::len)), (Some(true), Some(51)));
    assert!(std::fs::read_to_string(&report).unwrap().lines().count() > 51, "pretty at the end");
}

// ---- 15: stdout that is closed or full ----

#[test]
fn a_closed_stdout_ends_quietly_with_the_commands_code() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), "p.yaml", "  - { name: f, flush: {} }\n");
    let out = dir.path().join("out");
    for (args, code) in [
        (vec!["schema"], 0),
        (vec!["schema", "--report"], 0),
        (vec!["validate", s(&plan)], 0),
        (vec!["run", s(&plan), "--out", s(&out)], 0),
    ] {
        let o = nvmeplan_to(&args, closed_pipe());
        let err = stderr_of(&o);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {err}");
        assert!(err.is_empty(), "{args:?}: {err}");
    }
    // The run went on to the end: its report is complete.
    assert_eq!(valid_report(&out.join("report.json"))["complete"], true);
    let report = out.join("report.json");
    for args in [vec!["report", s(&report)], vec!["diff", s(&report), s(&report)]] {
        let o = nvmeplan_to(&args, closed_pipe());
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr_of(&o));
        assert!(stderr_of(&o).is_empty(), "{args:?}: {}", stderr_of(&o));
    }
}

#[test]
fn run_piped_into_head_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let plan = log_plan(dir.path(), 300);
    let mut child = Command::new(env!("CARGO_BIN_EXE_nvmeplan"))
        .args(["run", s(&plan)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut first)
        .unwrap();
    assert!(first.starts_with("plan log300.yaml"), "{first}");
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr_of(&o));
    assert!(!stderr_of(&o).contains("panicked"), "{}", stderr_of(&o));
}

#[test]
fn a_full_stdout_is_reported_once_with_an_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), "p.yaml", "  - { name: f, flush: {} }\n  - { name: g, flush: {} }\n");
    let out = dir.path().join("out");
    let o = nvmeplan_to(&["schema"], dev_full());
    let err = stderr_of(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err, "error: cannot write to stdout: No space left on device (os error 28)\n");
    let o = nvmeplan_to(&["run", s(&plan), "--out", s(&out)], dev_full());
    let err = stderr_of(&o);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert_eq!(err.matches("cannot write to stdout").count(), 1, "{err}");
    assert_eq!(valid_report(&out.join("report.json"))["summary"]["passed"], 2);
}

// ---- 16: outputs that cannot be written, or would overwrite an input ----

#[test]
fn junit_naming_a_directory_is_exit_4_after_the_steps_ran() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), "p.yaml", "  - { name: f, flush: {} }\n");
    let junit = dir.path().join("junit-dir");
    std::fs::create_dir(&junit).unwrap();
    let o = nvmeplan(&["run", s(&plan), "--junit", s(&junit)]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(4), "{out}{err}");
    assert!(out.contains("PASS  f ("), "{out}");
    assert_eq!(out.lines().last(), Some("1 passed, 0 failed, 0 skipped"));
    assert_eq!(err, format!("error: cannot write `{}`: Is a directory (os error 21)\n", junit.display()));
}

#[test]
fn an_html_report_that_cannot_be_written_is_exit_4_and_junit_is_still_written() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), "p.yaml", "  - { name: f, flush: {} }\n");
    let out = dir.path().join("out");
    std::fs::create_dir_all(out.join("report.html")).unwrap();
    let o = nvmeplan(&["run", s(&plan), "--out", s(&out)]);
    let (stdout, err) = text(&o);
    assert_eq!(o.status.code(), Some(4), "{stdout}{err}");
    assert!(err.contains(&format!("cannot write `{}`", out.join("report.html").display())), "{err}");
    assert_eq!(stdout.lines().last(), Some("1 passed, 0 failed, 0 skipped"));
    assert!(std::fs::read_to_string(out.join("junit.xml")).unwrap().contains("<testsuite "));
    assert_eq!(valid_report(&out.join("report.json"))["complete"], true);
}

#[test]
fn a_report_folder_that_cannot_be_made_after_a_plan_ran_is_exit_4() {
    let dir = tempfile::tempdir().unwrap();
    let a = write_plan(dir.path(), "a.yaml", "  - { name: fa, flush: {} }\n");
    let b = write_plan(dir.path(), "b.yaml", "  - { name: fb, flush: {} }\n");
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("b"), "in the way").unwrap();
    let o = nvmeplan(&["run", s(&a), s(&b), "--out", s(&out)]);
    let (stdout, err) = text(&o);
    assert_eq!(o.status.code(), Some(4), "{stdout}{err}");
    assert!(stdout.contains("PASS  fa (") && !stdout.contains("fb"), "{stdout}");
    assert_eq!(stdout.lines().last(), Some("1 passed, 0 failed, 0 skipped"));
    assert!(err.contains(&format!("cannot write `{}`", out.join("b/report.json").display())), "{err}");
    assert_eq!(valid_report(&out.join("a/report.json"))["complete"], true);
}

#[test]
fn a_report_json_lost_during_the_run_stops_it_with_exit_4() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(
        dir.path(),
        "p.yaml",
        "  - { name: first, flush: {} }\n  - { name: pause, sleep: 1s }\n  - { name: a, flush: {} }\n  - { name: b, flush: {} }\n  - { name: c, flush: {} }\n  - { name: d, sleep: 1s }\n  - { name: e, flush: {} }\n",
    );
    let out = dir.path().join("out");
    let child = Command::new(env!("CARGO_BIN_EXE_nvmeplan"))
        .args(["run", s(&plan), "--out", s(&out)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let report = out.join("report.json");
    let start = Instant::now();
    while !std::fs::read_to_string(&report).is_ok_and(|t| t.contains("\"first\"")) {
        assert!(start.elapsed() < Duration::from_secs(20), "the run did not start");
        std::thread::sleep(Duration::from_millis(10));
    }
    // A directory where the report goes: every later write fails.
    std::fs::remove_file(&report).unwrap();
    std::fs::create_dir(&report).unwrap();
    let o = child.wait_with_output().unwrap();
    let (stdout, err) = text(&o);
    assert_eq!(o.status.code(), Some(4), "{stdout}{err}");
    assert!(err.contains(&format!("cannot write `{}`: Is a directory", report.display())), "{err}");
    assert!(!stdout.contains("PASS  e"), "the run stopped: {stdout}");
    assert!(stdout.lines().last().unwrap().contains(" passed, 0 failed, 0 skipped"), "{stdout}");
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert!(junit.contains("<property name=\"complete\" value=\"false\"/>"), "{junit}");
}

#[test]
fn output_options_may_not_name_an_input_or_each_other() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("inc.yaml"),
        "plan_version: 1\nname: inc\nsteps:\n  - { name: i, flush: {} }\n",
    )
    .unwrap();
    let plan = write_plan(
        dir.path(),
        "p.yaml",
        "  - { name: f, flush: {} }\n  - { name: inc, include: inc.yaml }\n",
    );
    let plan_text = std::fs::read_to_string(&plan).unwrap();
    let out = dir.path().join("out");
    let o = nvmeplan(&["run", s(&plan), "--out", s(&out)]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let report = out.join("report.json");
    let report_text = std::fs::read_to_string(&report).unwrap();
    let inc = dir.path().join("inc.yaml");
    let other = dir.path().join("x.html");
    for (args, message) in [
        (
            vec!["run", s(&plan), "--junit", s(&plan)],
            format!("`--junit {0}` would overwrite the plan file `{0}`", s(&plan)),
        ),
        (
            vec!["run", s(&plan), "--out", s(&plan)],
            format!("`--out {0}` would overwrite the plan file `{0}`", s(&plan)),
        ),
        (vec!["run", s(&plan), "--junit", s(&inc)], format!("would overwrite the plan file `{}`", s(&inc))),
        (
            vec!["run", s(&plan), "--out", s(&out), "--junit", s(&report)],
            format!("`--junit {}` would overwrite the output of `--out {}`", s(&report), s(&out)),
        ),
        (
            vec!["report", s(&report), "--html", s(&report)],
            format!("would overwrite the report `{}`", s(&report)),
        ),
        (vec!["report", s(&report), "--junit", s(&report)], "would overwrite the report".into()),
        (vec!["report", s(&report), "--markdown", s(&report)], "would overwrite the report".into()),
        (
            vec!["report", s(&report), "--html", s(&other), "--markdown", s(&other)],
            "would overwrite the output of `--html".into(),
        ),
        (
            vec!["diff", s(&report), s(&report), "--markdown", s(&report)],
            "would overwrite the base report".into(),
        ),
        (
            vec!["diff", s(&report), s(&report), "--html", s(&other), "--markdown", s(&other)],
            "would overwrite the output".into(),
        ),
    ] {
        let o = nvmeplan(&args);
        let (stdout, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {stdout}{err}");
        assert!(err.contains(&message), "{args:?}: {err}");
        assert!(!stdout.contains("passed"), "{args:?}: nothing runs: {stdout}");
    }
    assert_eq!(std::fs::read_to_string(&plan).unwrap(), plan_text);
    assert_eq!(std::fs::read_to_string(&report).unwrap(), report_text);
    assert!(!other.exists());
}

#[test]
fn help_documents_the_output_exit_code() {
    for args in [vec!["--help"], vec!["run", "--help"]] {
        let (out, _) = text(&nvmeplan(&args));
        assert!(out.contains("  4    ") && out.contains("could not be written"), "{out}");
        assert!(out.contains("A closed stdout (`| head`)"), "{out}");
    }
}

// ---- 17: devices, report folders, --var, --tags, messages ----

#[test]
fn bare_pci_addresses_are_device_uris() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), "p.yaml", "  - { name: f, flush: {} }\n");
    for (device, why) in [
        ("0000:01:00", "`0000:01:00` is not a PCI address (missing `.function`)"),
        ("01:20.0", "device 0x20 is above 0x1f"),
        ("pci:xyz", "`xyz` is not a PCI address"),
    ] {
        let o = nvmeplan(&["run", s(&plan), "--device", device]);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{device}: {out}{err}");
        assert!(err.contains(why), "{device}: {err}");
    }
    // A well-formed bare address reaches the VFIO backend (no machine has
    // a function on bus 0xfe, so nothing is opened).
    for device in ["0000:fe:1f.7", "fe:1f.7"] {
        let o = nvmeplan(&["run", s(&plan), "--device", device]);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(3), "{device}: {out}{err}");
        assert!(err.contains("there is no PCI function 0000:fe:1f.7"), "{device}: {err}");
        assert!(!err.contains("unknown scheme"), "{err}");
    }
}

#[test]
fn plans_with_one_file_stem_get_their_own_report_folders() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("a")).unwrap();
    std::fs::create_dir_all(dir.path().join("b")).unwrap();
    let a = write_plan(&dir.path().join("a"), "smoke.yaml", "  - { name: fa, flush: {} }\n");
    let b = write_plan(&dir.path().join("b"), "smoke.yaml", "  - { name: fb, flush: {} }\n");
    let out = dir.path().join("out");
    let o = nvmeplan(&["run", s(&a), s(&b), "--out", s(&out)]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let first = valid_report(&out.join("smoke/report.json"));
    let second = valid_report(&out.join("smoke-2/report.json"));
    assert_eq!(first["plan"]["path"], s(&a));
    assert_eq!(second["plan"]["path"], s(&b));
    assert_eq!(second["steps"][0]["id"], "fb");
    assert!(out.join("smoke-2/report.html").is_file());
}

#[test]
fn vars_and_tags_that_match_nothing_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let plan = std::path::PathBuf::from(dir.path()).join("p.yaml");
    std::fs::write(
        &plan,
        "plan_version: 1\nname: p\nvars: { blocks: 8 }\nsteps:\n  - { name: f, flush: {}, tags: [smoke] }\n  - { name: w, write: { slba: 0, nlb: \"${{ qd }}\" } }\n",
    )
    .unwrap();
    let p = s(&plan);
    for (args, message) in [
        (
            vec!["run", p, "--var", "qd=1", "--var", "block=4"],
            "`--var block`: no plan declares or uses a variable `block` (did you mean `blocks`?)",
        ),
        (
            vec!["validate", p, "--var", "qd=1", "--var", "nope=4"],
            "`--var nope`: no plan declares or uses a variable `nope`",
        ),
        (
            vec!["run", p, "--var", "qd=1", "--tags", "smoke,smok"],
            "`--tags smok`: no step is tagged `smok` (did you mean `smoke`?)",
        ),
        (
            vec!["run", p, "--var", "qd=1", "--skip-tags", "slow"],
            "`--skip-tags slow`: no step is tagged `slow`",
        ),
        (vec!["run", p, "--var", "=1"], "`--var =1`: expected NAME=VALUE, the name is empty"),
    ] {
        let o = nvmeplan(&args);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {out}{err}");
        assert!(err.contains(message), "{args:?}: {err}");
        assert!(!out.contains("passed"), "{args:?}: {out}");
    }
    // A declared variable and one the expressions read are both in use.
    let o = nvmeplan(&["run", p, "--var", "qd=1", "--var", "blocks=4", "--tags", "smoke"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert_eq!(out.lines().last(), Some("1 passed, 0 failed, 1 skipped"));
}

#[test]
fn messages_name_each_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    let o = nvmeplan(&["report", s(&missing)]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr_of(&o), format!("error: report `{}` not found\n", missing.display()));
    let o = nvmeplan(&["diff", s(&missing), s(&missing)]);
    assert_eq!(stderr_of(&o).matches("not found").count(), 1, "{}", stderr_of(&o));
}
