//! Shared by the integration tests that write reports: every report a
//! test writes is validated against the committed report schema.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the `nvmeplan` binary from the workspace root.
pub fn nvmeplan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nvmeplan"))
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .output()
        .expect("nvmeplan runs")
}

/// stdout and stderr as text.
pub fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

/// The committed `schemas/report.schema.json`.
pub fn committed_report_schema() -> serde_json::Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../schemas/report.schema.json");
    serde_json::from_str(&std::fs::read_to_string(&path).expect("schemas/report.schema.json exists"))
        .expect("the committed report schema is JSON")
}

/// Reads a report file, validates it against the committed schema
/// (panicking with every error) and returns it as JSON.
pub fn valid_report(path: &Path) -> serde_json::Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let value: serde_json::Value = serde_json::from_str(&text).expect("report is JSON");
    let schema = committed_report_schema();
    let validator = jsonschema::draft7::new(&schema).expect("valid schema");
    let errors: Vec<String> =
        validator.iter_errors(&value).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(
        errors.is_empty(),
        "{} does not match schemas/report.schema.json:\n{}",
        path.display(),
        errors.join("\n")
    );
    // And the crate reads it back.
    nvmeplan_reports::json::parse(path, &text).expect("the reports crate reads the report");
    value
}
