//! What a plan may read, as a process: the environment (`--env`), paths of
//! includes and firmware files (`--allow-path`), and input files that are
//! not regular files or too large.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn nvmeplan_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nvmeplan"));
    cmd.args(args).current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."));
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("nvmeplan runs")
}

/// Runs `nvmeplan` with stdin closed and fails the test if it has not ended
/// within a few seconds (so a blocking read fails instead of hanging).
fn nvmeplan_bounded(args: &[&str]) -> (Output, Duration) {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_nvmeplan"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("nvmeplan runs");
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed() > Duration::from_secs(5) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`nvmeplan {}` did not end within 5 s", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    (child.wait_with_output().expect("output"), start.elapsed())
}

fn write(path: &Path, text: &str) -> PathBuf {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    path.to_path_buf()
}

fn plan(steps: &str) -> String {
    format!("plan_version: 1\nname: p\nsteps:\n{steps}")
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: `c` is a valid NUL-terminated path that outlives the call.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

#[test]
fn only_nvmeplan_and_allowed_variables_reach_expressions_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir.path().join("env.yaml"),
        &plan(
            "  - { name: dump, log: \"${{ debug() }}\", save: dumped }\n  \
             - { name: visible, log: \"lab=${{ env.NVMEPLAN_LAB }} allowed=${{ env.H3_ALLOWED }}\" }\n  \
             - { name: again, log: \"${{ dumped }}\" }\n",
        ),
    );
    let out = dir.path().join("out");
    let env =
        [("NVMEPLAN_LAB", "lab-visible"), ("H3_ALLOWED", "allowed-value"), ("H3_SECRET_TOKEN", "s3cr3t")];
    let p = path.to_str().unwrap();
    let o = nvmeplan_env(&["run", p, "--env", "H3_ALLOWED", "--out", out.to_str().unwrap()], &env);
    let (stdout, stderr) = common::text(&o);
    assert_eq!(o.status.code(), Some(0), "{stdout}{stderr}");
    assert!(!stdout.contains("s3cr3t"), "{stdout}");
    for file in ["report.json", "report.html", "junit.xml"] {
        let text = std::fs::read_to_string(out.join(file)).unwrap();
        assert!(!text.contains("s3cr3t"), "{file} has the secret");
        assert!(!text.contains("H3_SECRET_TOKEN"), "{file} names the secret");
        assert!(text.contains("lab=lab-visible allowed=allowed-value"), "{file}");
    }
    // The report holds what `debug()` saw: the visible variables only.
    let report = common::valid_report(&out.join("report.json"));
    let dump = report["steps"][0]["message"].as_str().unwrap();
    assert!(dump.contains("NVMEPLAN_LAB") && dump.contains("H3_ALLOWED"), "{dump}");
    assert!(!dump.contains("PATH"), "{dump}");

    // Validation refuses a variable that would not be visible, with its position.
    let secret = write(
        &dir.path().join("secret.yaml"),
        &plan("  - { name: s, log: \"${{ env.H3_SECRET_TOKEN }}\" }\n"),
    );
    let s = secret.to_str().unwrap();
    let o = nvmeplan_env(&["validate", s], &env);
    let (_, stderr) = common::text(&o);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("environment variable `H3_SECRET_TOKEN` is not visible to plans"), "{stderr}");
    assert!(stderr.contains("secret.yaml:4:"), "{stderr}");
    assert_eq!(nvmeplan_env(&["validate", s, "--env", "H3_SECRET_TOKEN"], &env).status.code(), Some(0));
    // At run time an invisible variable is undefined, not read.
    let o = nvmeplan_env(&["run", s], &env);
    assert_eq!(o.status.code(), Some(2), "{}", common::text(&o).1);
}

#[test]
fn includes_stay_in_the_plan_directory_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let plans = dir.path().join("plans");
    let outside = dir.path().join("outside");
    let inc = "plan_version: 1\nname: inc\nsteps:\n  - { name: f, flush: {} }\n";
    write(&plans.join("common/ok.yaml"), inc);
    let escaped = write(&outside.join("inc.yaml"), inc);
    std::fs::create_dir_all(plans.join("adir")).unwrap();
    mkfifo(&plans.join("fifo.yaml"));
    let cases: [(&str, &str); 6] = [
        ("common/ok.yaml", ""),
        ("common/../common/ok.yaml", ""),
        ("../outside/inc.yaml", "is outside the plan's directory"),
        (escaped.to_str().unwrap(), "is an absolute path; pass --allow-path DIR"),
        ("adir", "included file `PLANS/adir` is a directory"),
        ("fifo.yaml", "included file `PLANS/fifo.yaml` is not a regular file (it is a FIFO)"),
    ];
    let shown = plans.display().to_string();
    for (include, expected) in cases {
        let main =
            write(&plans.join("main.yaml"), &plan(&format!("  - name: inc\n    include: {include}\n")));
        let (o, _) = nvmeplan_bounded(&["validate", main.to_str().unwrap()]);
        let (_, stderr) = common::text(&o);
        if expected.is_empty() {
            assert_eq!(o.status.code(), Some(0), "{include}: {stderr}");
            continue;
        }
        assert_eq!(o.status.code(), Some(2), "{include}: {stderr}");
        assert!(stderr.contains(&expected.replace("PLANS", &shown)), "{include}: {stderr}");
        assert!(stderr.contains("main.yaml:5:14"), "{include}: {stderr}");
    }
    let main = write(&plans.join("main.yaml"), &plan("  - name: inc\n    include: ../outside/inc.yaml\n"));
    let m = main.to_str().unwrap();
    let allow = outside.to_str().unwrap();
    let (o, _) = nvmeplan_bounded(&["validate", m, "--allow-path", allow]);
    assert_eq!(o.status.code(), Some(0), "{}", common::text(&o).1);
    let (o, _) = nvmeplan_bounded(&["run", m, "--allow-path", allow]);
    assert_eq!(o.status.code(), Some(0), "{}", common::text(&o).1);
}

#[test]
fn firmware_files_stay_in_the_plan_directory_and_are_regular() {
    let dir = tempfile::tempdir().unwrap();
    let plans = dir.path().join("plans");
    std::fs::create_dir_all(&plans).unwrap();
    std::fs::write(plans.join("fw.bin"), vec![0x5a; 8192]).unwrap();
    std::fs::write(dir.path().join("outside.bin"), vec![0x5a; 8192]).unwrap();
    std::fs::create_dir_all(plans.join("fwdir")).unwrap();
    let step =
        |file: &str| plan(&format!("  - name: dl\n    firmware_download: {{ image: {{ file: {file} }} }}\n"));
    let main = plans.join("fw.yaml");
    let m = main.to_str().unwrap();

    write(&main, &step("fw.bin"));
    let (o, _) = nvmeplan_bounded(&["run", m]);
    assert_eq!(o.status.code(), Some(0), "{}", common::text(&o).0);

    for (file, expected) in [
        ("../outside.bin", "firmware image `PLANS/../outside.bin` is outside the plan's directory"),
        ("/dev/zero", "firmware image `/dev/zero` is an absolute path"),
        ("fwdir", "firmware image `PLANS/fwdir` is a directory"),
    ] {
        write(&main, &step(file));
        let (o, _) = nvmeplan_bounded(&["validate", m]);
        let (_, stderr) = common::text(&o);
        assert_eq!(o.status.code(), Some(2), "{file}: {stderr}");
        assert!(
            stderr.contains(&expected.replace("PLANS", &plans.display().to_string())),
            "{file}: {stderr}"
        );
        assert!(stderr.contains("fw.yaml:5:"), "{file}: {stderr}");
    }
    // Allowed by --allow-path, /dev/zero is still not a regular file.
    write(&main, &step("/dev/zero"));
    let (o, _) = nvmeplan_bounded(&["validate", m, "--allow-path", "/dev"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(common::text(&o).1.contains("`/dev/zero` is not a regular file (it is a character device)"));
    write(&main, &step("../outside.bin"));
    let (o, _) = nvmeplan_bounded(&["run", m, "--allow-path", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", common::text(&o).0);
    // A missing file passes validation (it may exist where the plan runs)
    // and fails the step with "not found".
    write(&main, &step("missing.bin"));
    assert_eq!(nvmeplan_bounded(&["validate", m]).0.status.code(), Some(0));
    let (o, _) = nvmeplan_bounded(&["run", m]);
    let (stdout, _) = common::text(&o);
    assert_eq!(o.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("firmware image `") && stdout.contains("missing.bin` not found"), "{stdout}");
}

#[test]
fn devices_fifos_and_huge_files_exit_2_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("plan.yaml");
    mkfifo(&fifo);
    let big = dir.path().join("big.yaml");
    std::fs::File::create(&big).unwrap().set_len(nvmeplan::input::MAX_PLAN_BYTES + 1).unwrap();
    let big_report = dir.path().join("report.json");
    std::fs::File::create(&big_report).unwrap().set_len(nvmeplan::input::MAX_REPORT_BYTES + 1).unwrap();
    let f = fifo.to_str().unwrap();
    let cases: [(&[&str], &str); 8] = [
        (&["validate", "/dev/zero"], "plan `/dev/zero` is not a regular file (it is a character device)"),
        (&["run", "/dev/urandom"], "plan `/dev/urandom` is not a regular file"),
        (&["validate", f], "is not a regular file (it is a FIFO)"),
        (&["run", f], "is not a regular file (it is a FIFO)"),
        (&["validate", big.to_str().unwrap()], "is larger than the limit of 16777216 bytes"),
        (&["report", "/dev/zero"], "report `/dev/zero` is not a regular file"),
        (&["diff", "/dev/zero", "/dev/zero"], "report `/dev/zero` is not a regular file"),
        (&["report", big_report.to_str().unwrap()], "is larger than the limit of 268435456 bytes"),
    ];
    for (args, expected) in cases {
        let (o, took) = nvmeplan_bounded(args);
        let (_, stderr) = common::text(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(took < Duration::from_secs(2), "{args:?} took {took:?}");
    }
    let (o, _) = nvmeplan_bounded(&["report", dir.path().to_str().unwrap()]);
    assert!(common::text(&o).1.contains("is a directory"));
}

#[test]
fn markdown_of_report_and_diff_escapes_step_names_and_messages() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir.path().join("md.yaml"),
        &plan(
            "  - name: \"<img src=x onerror=alert(1)> | & <script>\"\n    log: \"<script>alert(1)</script>\"\n",
        ),
    );
    let out = dir.path().join("out");
    let o = nvmeplan_env(&["run", path.to_str().unwrap(), "--out", out.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", common::text(&o).1);
    let report = out.join("report.json");
    let r = report.to_str().unwrap();
    let md_file = dir.path().join("diff.md");
    let o = nvmeplan_env(&["report", r], &[]);
    assert_eq!(o.status.code(), Some(0));
    let report_md = common::text(&o).0;
    let o = nvmeplan_env(&["diff", r, r, "--markdown", md_file.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", common::text(&o).1);
    let diff_md = std::fs::read_to_string(&md_file).unwrap();
    for md in [&report_md, &diff_md] {
        assert!(!md.contains("<script>") && !md.contains("<img"), "{md}");
    }
    let row = "| &lt;img src=x onerror=alert(1)&gt; \\| &amp; &lt;script&gt; |  | pass |";
    assert!(report_md.contains(row), "{report_md}");
    assert!(report_md.contains("&lt;script&gt;alert(1)&lt;/script&gt; |"), "{report_md}");
}
