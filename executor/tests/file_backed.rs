//! A file-backed simulator across `nvmeplan run` processes: what one run
//! writes, the next reads back (normal end of run, Ctrl-C, SIGTERM,
//! `--fail-fast`); `finish: power_loss` loses only what a power cut may;
//! two runs on one image exclude each other; opening never destroys a file.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::text;

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nvmeplan")).arg("run").args(args).current_dir(dir).output().unwrap()
}

/// Runs `nvmeplan run ARGS` in `dir`, asserts its exit code (naming
/// `what` and the output on a mismatch) and returns stdout and stderr.
fn run_expect(dir: &Path, args: &[&str], code: i32, what: &str) -> (String, String) {
    let o = run(dir, args);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(code), "{what}{out}{err}");
    (out, err)
}

fn spawn(dir: &Path, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_nvmeplan"))
        .arg("run")
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Writes a plan on `device` (none when empty) with extra top-level keys.
fn plan(dir: &Path, name: &str, device: &str, top: &str, steps: &str) -> PathBuf {
    let path = dir.join(name);
    let device = if device.is_empty() { String::new() } else { format!("device: \"{device}\"\n") };
    std::fs::write(&path, format!("plan_version: 1\nname: {name}\n{device}{top}steps:\n{steps}")).unwrap();
    path
}

fn arg(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The SMART check every second run ends with.
fn smart(power_cycles: u32, unsafe_shutdowns: u32) -> String {
    format!(
        "  - name: smart\n    get_log_page: {{ lid: smart }}\n    expect: {{ fields: {{ power_cycles: {power_cycles}, unsafe_shutdowns: {unsafe_shutdowns} }} }}\n"
    )
}

const WRITE_A5: &str = "  - { name: write, write: { slba: 0, nlb: 8, pattern: { byte: 0xA5 } } }\n";
const READ_A5: &str = "  - { name: read back, read: { slba: 0, nlb: 8, pattern: { byte: 0xA5 } }, expect: { data: { mismatches: 0 } } }\n";

/// Waits until `report` records a step named `step`.
fn wait_for_step(report: &Path, step: &str, child: &mut Child) {
    let start = Instant::now();
    while !std::fs::read_to_string(report).is_ok_and(|t| t.contains(&format!("\"{step}\""))) {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the first run ended early with {status}");
        }
        assert!(start.elapsed() < Duration::from_secs(30), "the first run did not reach `{step}`");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn signal(child: &Child, name: &str) {
    let sent = Command::new("kill").args([name, &child.id().to_string()]).status().unwrap();
    assert!(sent.success());
}

#[test]
fn cached_writes_survive_a_normal_end_of_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let device = "sim:capacity=64M,file=disk.img";
    let first = plan(d, "first.yaml", device, "", &format!("{WRITE_A5}{}", smart(1, 0)));
    run_expect(d, &[arg(&first)], 0, "");
    let second = plan(d, "second.yaml", device, "", &format!("{READ_A5}{}", smart(2, 0)));
    let o = run(d, &[arg(&second)]);
    let (out, err) = text(&o);
    assert_eq!(
        o.status.code(),
        Some(0),
        "data written without a flush is kept, no unsafe shutdown:\n{out}{err}"
    );
    assert!(d.join("disk.img.state.json").is_file() && d.join("disk.img.lock").is_file());
}

#[cfg(unix)]
#[test]
fn interrupted_and_fail_fast_runs_shut_down_too() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let device = "sim:capacity=64M,file=disk.img";
    let long = plan(
        d,
        "long.yaml",
        device,
        "",
        &format!("{WRITE_A5}  - {{ name: long, sleep: 30s, timeout: 60s }}\n"),
    );
    for (signal_name, power_cycles) in [("-INT", 2), ("-TERM", 4)] {
        let out = d.join(format!("out{signal_name}"));
        let mut child = spawn(d, &[arg(&long), "--out", arg(&out)]);
        wait_for_step(&out.join("report.json"), "write", &mut child);
        signal(&child, signal_name);
        let o = child.wait_with_output().unwrap();
        let (stdout, stderr) = text(&o);
        assert_eq!(o.status.code(), Some(130), "{signal_name}: {stdout}{stderr}");
        let check = plan(d, "check.yaml", device, "", &format!("{READ_A5}{}", smart(power_cycles, 0)));
        let o = run(d, &[arg(&check)]);
        let (stdout, stderr) = text(&o);
        assert_eq!(o.status.code(), Some(0), "after {signal_name}: {stdout}{stderr}");
    }
    let failing = plan(
        d,
        "failing.yaml",
        device,
        "",
        "  - { name: write, write: { slba: 8, nlb: 8, pattern: { byte: 0x3C } } }\n  - { name: fails, read: { slba: \"${{ ns[1].nsze }}\", nlb: 1 } }\n  - { name: never, sleep: 1ms }\n",
    );
    let (stdout, _) = run_expect(d, &["--fail-fast", arg(&failing)], 1, "");
    assert!(stdout.contains("FAIL  fails") && !stdout.contains("never"), "{stdout}");
    let check = plan(
        d,
        "check.yaml",
        device,
        "",
        &format!(
            "  - {{ name: read back, read: {{ slba: 8, nlb: 8, pattern: {{ byte: 0x3C }} }}, expect: {{ data: {{ mismatches: 0 }} }} }}\n{}",
            smart(6, 0)
        ),
    );
    run_expect(d, &[arg(&check)], 0, "after --fail-fast: ");
}

#[test]
fn finish_power_loss_loses_only_the_volatile_cache() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let device = "sim:capacity=64M,file=disk.img";
    let first = plan(
        d,
        "cut.yaml",
        device,
        "finish: power_loss\n",
        "  - { name: flushed, write: { slba: 16, nlb: 8, pattern: { byte: 0x11 } } }\n  - { name: flush, flush: {} }\n  - { name: fua, write: { slba: 8, nlb: 8, pattern: { byte: 0x5A }, fua: true } }\n  - { name: cached, write: { slba: 0, nlb: 8, pattern: { byte: 0xA5 } } }\n",
    );
    run_expect(d, &[arg(&first)], 0, "");
    let second = plan(
        d,
        "after.yaml",
        device,
        "",
        &format!(
            "  - {{ name: cached is lost, read: {{ slba: 0, nlb: 8, pattern: zeros }}, expect: {{ data: {{ mismatches: 0 }} }} }}\n  - {{ name: fua is kept, read: {{ slba: 8, nlb: 8, pattern: {{ byte: 0x5A }} }}, expect: {{ data: {{ mismatches: 0 }} }} }}\n  - {{ name: flushed is kept, read: {{ slba: 16, nlb: 8, pattern: {{ byte: 0x11 }} }}, expect: {{ data: {{ mismatches: 0 }} }} }}\n{}",
            smart(2, 1)
        ),
    );
    run_expect(d, &[arg(&second)], 0, "");
}

#[test]
fn finish_is_validated() {
    let dir = tempfile::tempdir().unwrap();
    let bad = plan(dir.path(), "bad.yaml", "", "finish: reboot\n", "  - { name: f, flush: {} }\n");
    let (_, err) = run_expect(dir.path(), &[arg(&bad)], 2, "");
    assert!(err.contains("finish") && err.contains("reboot"), "{err}");
}

#[cfg(unix)]
#[test]
fn a_second_run_on_an_image_in_use_exits_3_naming_the_pid() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let device = "sim:capacity=64M,file=disk.img";
    let long = plan(
        d,
        "long.yaml",
        device,
        "",
        &format!("{WRITE_A5}  - {{ name: long, sleep: 30s, timeout: 60s }}\n"),
    );
    let out = d.join("out");
    let mut holder = spawn(d, &[arg(&long), "--out", arg(&out)]);
    let pid = holder.id();
    wait_for_step(&out.join("report.json"), "write", &mut holder);
    let second = plan(d, "second.yaml", device, "", READ_A5);
    let o = run(d, &[arg(&second)]);
    let (stdout, stderr) = text(&o);
    signal(&holder, "-INT");
    let held = holder.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(3), "{stdout}{stderr}");
    assert!(stderr.contains("disk.img.lock") && stderr.contains(&format!("in use by PID {pid}")), "{stderr}");
    assert_eq!(held.status.code(), Some(130));
    // Released with its holder: the image opens, with the data written.
    run_expect(d, &[arg(&second)], 0, "");
}

#[test]
fn foreign_files_are_refused_and_left_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("notes.txt"), b"precious").unwrap();
    let p = plan(
        d,
        "clobber.yaml",
        "sim:capacity=64M,file=notes.txt",
        "",
        "  - { name: w, write: { slba: 0, nlb: 8 } }\n",
    );
    let (_, err) = run_expect(d, &[arg(&p)], 3, "");
    assert!(
        err.contains("notes.txt") && err.contains("not part of an nvmeplan simulator image set"),
        "{err}"
    );
    assert_eq!(std::fs::read(d.join("notes.txt")).unwrap(), b"precious");
    // A directory is no image either, and a missing parent is not created.
    let o = run(d, &["--device", &format!("sim:file={}", d.display()), arg(&p)]);
    assert_eq!(o.status.code(), Some(3), "{:?}", text(&o));
    let (_, err) = run_expect(d, &["--device", "sim:file=no/such/disk.img", arg(&p)], 3, "");
    assert!(err.contains("no/such") && err.contains("does not exist"), "{err}");
    assert!(!d.join("no").exists());
}

#[test]
fn a_plan_device_stays_in_the_plan_directory() {
    let dir = tempfile::tempdir().unwrap();
    let plans = dir.path().join("plans");
    std::fs::create_dir(&plans).unwrap();
    let outside = dir.path().join("outside.img");
    let steps = "  - { name: w, write: { slba: 0, nlb: 8 } }\n";
    let abs = plan(&plans, "abs.yaml", &format!("sim:capacity=64M,file={}", outside.display()), "", steps);
    let (_, err) = run_expect(dir.path(), &[arg(&abs)], 2, "");
    assert!(
        err.contains(&outside.display().to_string())
            && err.contains("absolute path")
            && err.contains("--device"),
        "{err}"
    );
    let up = plan(&plans, "up.yaml", "sim:capacity=64M,file=../outside.img", "", steps);
    let (_, err) = run_expect(dir.path(), &[arg(&up)], 2, "");
    assert!(err.contains("leaves the plan's directory"), "{err}");
    assert!(!outside.exists());
    // Relative to the plan's directory, not the working directory.
    let rel = plan(&plans, "rel.yaml", "sim:capacity=64M,file=disk.img", "", steps);
    let o = run(dir.path(), &[arg(&rel)]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert!(plans.join("disk.img").is_file() && !dir.path().join("disk.img").exists());
    // The command line may name any place.
    let o =
        run(dir.path(), &["--device", &format!("sim:capacity=64M,file={}", outside.display()), arg(&abs)]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert!(outside.is_file());
}

#[test]
fn a_layout_that_contradicts_the_image_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let steps = "  - { name: w, write: { slba: 0, nlb: 8 } }\n";
    let p = plan(d, "p.yaml", "", "", steps);
    let o = run(d, &["--device", "sim:capacity=64M,file=disk.img", arg(&p)]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let size = std::fs::metadata(d.join("disk.img")).unwrap().len();
    for params in ["capacity=128M", "capacity=64M,lba=4096", "namespaces=2,capacity=128M"] {
        let o = run(d, &["--device", &format!("sim:{params},file=disk.img"), arg(&p)]);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(3), "{params}: {out}{err}");
        assert!(
            err.contains("disk.img.state.json")
                && err.contains("the stored image set has ns 1: 131072 blocks of 512 bytes"),
            "{err}"
        );
        assert_eq!(std::fs::metadata(d.join("disk.img")).unwrap().len(), size, "never resized");
    }
    // Without layout keys it opens as stored.
    let o = run(d, &["--device", "sim:file=disk.img", arg(&p)]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    // A stored image that no longer has its recorded size is refused.
    std::fs::OpenOptions::new().write(true).open(d.join("disk.img")).unwrap().set_len(4096).unwrap();
    let (_, err) = run_expect(d, &["--device", "sim:file=disk.img", arg(&p)], 3, "");
    assert!(err.contains("holds 4096 bytes"), "{err}");
}

#[test]
fn create_yes_and_no() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let p = plan(d, "p.yaml", "", "", "  - { name: f, flush: {} }\n");
    let (_, err) = run_expect(d, &["--device", "sim:capacity=64M,dir=set,create=no", arg(&p)], 3, "");
    assert!(err.contains("create=no") && !d.join("set").exists(), "{err}");
    let o = run(d, &["--device", "sim:capacity=64M,dir=set,create=yes", arg(&p)]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert!(d.join("set/ns1.img").is_file() && d.join("set/state.json").is_file());
    let (_, err) = run_expect(d, &["--device", "sim:capacity=64M,dir=set,create=yes", arg(&p)], 3, "");
    assert!(err.contains("create=yes"), "{err}");
    let o = run(d, &["--device", "sim:dir=set,create=no", arg(&p)]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
}
