//! Snapshots of the diagnostics of broken plans (`tests/fixtures/broken`).
//!
//! Update with `INSTA_UPDATE=always cargo test -p nvmeplan --test diagnostics`
//! (or `cargo insta review`) and read the new `.snap` files before committing.

use std::path::{Path, PathBuf};

use nvmeplan::{Options, render_json, render_text, validate_path};

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new("tests/fixtures/broken");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn broken_plans() {
    // Paths in diagnostics are relative to the crate directory, where cargo
    // runs tests, so snapshots do not depend on the checkout location.
    let files = fixtures();
    assert!(files.len() >= 20, "{} fixtures", files.len());
    for file in files {
        let report = validate_path(&file, &Options::default());
        assert!(report.has_errors(), "{} should have errors", file.display());
        assert!(report.plan.is_none());
        for d in &report.diagnostics {
            assert!(d.line > 0 && d.column > 0, "{}: no position for {d}", file.display());
        }
        let name = file.file_stem().unwrap().to_string_lossy().to_string();
        insta::assert_snapshot!(name, render_text(&report.diagnostics, &report.sources));
    }
}

#[test]
fn json_format() {
    let report = validate_path(Path::new("tests/fixtures/broken/duplicate_names.yaml"), &Options::default());
    insta::assert_json_snapshot!("duplicate_names_json", render_json(&report.diagnostics));
}
