//! Every shipped example plan validates cleanly and resolves.

use std::path::{Path, PathBuf};

use nvmeplan::{Options, StepKind, validate_path};

fn plans_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../plans")
}

fn plan_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            plan_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
}

#[test]
fn every_shipped_plan_validates() {
    let mut files = Vec::new();
    plan_files(&plans_dir(), &mut files);
    assert!(files.len() >= 3, "{files:?}");
    for file in files {
        // plans/qemu/smoke.yaml includes ../smoke.yaml, as its runs allow.
        let options = Options { allow_paths: vec![plans_dir()], ..Options::default() };
        let report = validate_path(&file, &options);
        let text = nvmeplan::render_text(&report.diagnostics, &report.sources);
        assert!(report.diagnostics.is_empty(), "{}:\n{text}", file.display());
        assert!(report.plan.is_some());
    }
}

#[test]
fn smoke_plan_covers_the_issue() {
    let report = validate_path(&plans_dir().join("smoke.yaml"), &Options::default());
    let plan = report.plan.expect("smoke validates");
    let ids: Vec<&str> = plan.steps.iter().map(|s| s.id.as_str()).collect();
    assert!(ids.len() >= 12);
    for id in
        ["identify controller", "qd sweep[qd=1]", "qd sweep[qd=4]", "qd sweep[qd=16]", "read past the end"]
    {
        assert!(ids.contains(&id), "{id} in {ids:?}");
    }
    let names: Vec<&str> = plan
        .steps
        .iter()
        .filter_map(|s| match &s.kind {
            StepKind::Action(a) => Some(a.name()),
            StepKind::Group(_) => None,
        })
        .collect();
    for action in ["identify", "get_features", "set_features", "get_log_page", "write", "read", "ioworker"] {
        assert!(names.contains(&action), "{action}");
    }
    let past_end = plan.steps.iter().find(|s| s.id == "read past the end").unwrap();
    let status = past_end.expect.as_ref().unwrap().status.as_ref().unwrap().statuses();
    assert_eq!(status, [nvmeplan_spec::Status::LBA_OUT_OF_RANGE]);
    assert_eq!(past_end.location.line, 71);
    assert_eq!(past_end.timeout, std::time::Duration::from_secs(5));
}

#[test]
fn includes_are_spliced_as_groups() {
    let report = validate_path(&plans_dir().join("faults.yaml"), &Options::default());
    let plan = report.plan.expect("faults validates");
    let StepKind::Group(children) = &plan.steps[0].kind else { panic!("include is a group") };
    assert_eq!(children[0].id, "prepare/identify namespace");
    assert!(children[1].location.file.ends_with("prepare.yaml"), "{:?}", children[1].location);
    assert_eq!(children[1].bindings.vars["region_blocks"], 128);
    let ctx = plan.context(&children[1], &serde_json::Map::new());
    assert_eq!(ctx["region_blocks"], 128);
}

#[test]
fn cli_exit_codes() {
    let bin = env!("CARGO_BIN_EXE_nvmeplan");
    let ok =
        std::process::Command::new(bin).arg("validate").arg(plans_dir().join("smoke.yaml")).output().unwrap();
    assert_eq!(ok.status.code(), Some(0), "{}", String::from_utf8_lossy(&ok.stderr));
    let broken = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/broken/nlb_range.yaml");
    let bad =
        std::process::Command::new(bin).args(["validate", "--format", "json"]).arg(&broken).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let json: serde_json::Value = serde_json::from_slice(&bad.stdout).unwrap();
    assert_eq!(json[0]["line"], 5);
    assert_eq!(json[0]["code"], "out-of-range");
    let usage = std::process::Command::new(bin).arg("frobnicate").output().unwrap();
    assert_eq!(usage.status.code(), Some(2));
    let schema = std::process::Command::new(bin).arg("schema").output().unwrap();
    assert_eq!(schema.status.code(), Some(0));
    assert_eq!(String::from_utf8(schema.stdout).unwrap(), nvmeplan::schema::plan_schema_string());
}

#[test]
fn errors_in_included_files_point_into_them() {
    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().join("main.yaml");
    let inner = dir.path().join("inner.yaml");
    std::fs::write(&main, "plan_version: 1\nname: m\nsteps:\n  - name: inc\n    include: inner.yaml\n")
        .unwrap();
    std::fs::write(&inner, "plan_version: 1\nname: i\nsteps:\n  - name: r\n    read: { slba: 0, nlb: 0 }\n")
        .unwrap();
    let report = validate_path(&main, &Options::default());
    let inner_error = report.diagnostics.iter().find(|d| d.file.ends_with("inner.yaml")).unwrap();
    assert_eq!((inner_error.line, inner_error.code), (5, "out-of-range"));
    assert!(report.diagnostics.iter().any(|d| d.file.ends_with("main.yaml") && d.line == 5));

    // A cycle is reported, not followed forever.
    std::fs::write(&inner, "plan_version: 1\nname: i\nsteps:\n  - name: back\n    include: main.yaml\n")
        .unwrap();
    let report = validate_path(&main, &Options::default());
    assert!(
        report.diagnostics.iter().any(|d| d.message.contains("include cycle")),
        "{:#?}",
        report.diagnostics
    );
}
