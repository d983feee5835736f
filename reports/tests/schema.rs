//! The committed report JSON Schema must match the one generated from the types.

use std::path::PathBuf;

fn committed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(nvmeplan_reports::schema::SCHEMA_PATH)
}

#[test]
fn committed_schema_is_current() {
    let path = committed_path();
    let fresh = nvmeplan_reports::schema::report_schema_string();
    if std::env::var_os("UPDATE_SCHEMAS").is_some() {
        std::fs::write(&path, &fresh).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{} is stale or missing: the report types changed.\n\
         Regenerate it with `UPDATE_SCHEMAS=1 cargo test -p nvmeplan-reports --test schema` and commit it.",
        path.display()
    );
}

#[test]
fn committed_schema_is_a_valid_draft_07_schema_and_accepts_a_report() {
    let schema: serde_json::Value =
        serde_json::from_str(&nvmeplan_reports::schema::report_schema_string()).unwrap();
    assert!(jsonschema::draft7::meta::is_valid(&schema));
    let validator = jsonschema::draft7::new(&schema).unwrap();
    let report = serde_json::to_value(nvmeplan_reports::Report::new_empty("p")).unwrap();
    assert!(validator.is_valid(&report));
    let mut broken = report.clone();
    broken["summary"]["passed"] = "many".into();
    assert!(!validator.is_valid(&broken));
}
