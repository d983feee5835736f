//! The report JSON Schema (draft-07), generated from [`Report`].
//!
//! The committed copy lives at `schemas/report.schema.json`; a test fails
//! when it is stale (`UPDATE_SCHEMAS=1 cargo test -p nvmeplan-reports --test
//! schema` rewrites it), and `nvmeplan schema --report` prints it.

use schemars::generate::SchemaSettings;
use serde_json::Value;

use crate::Report;

/// Where the committed schema lives, relative to the workspace root.
pub const SCHEMA_PATH: &str = "schemas/report.schema.json";

/// The report schema as a JSON value.
pub fn report_schema() -> Value {
    let generator = SchemaSettings::draft07().into_generator();
    let mut value = generator.into_root_schema_for::<Report>().to_value();
    if let Some(obj) = value.as_object_mut() {
        obj.insert(
            "$comment".into(),
            "Generated from the nvmeplan-reports crate's types; regenerate with `UPDATE_SCHEMAS=1 cargo test -p nvmeplan-reports --test schema`."
                .into(),
        );
    }
    value
}

/// The report schema as pretty-printed JSON with a trailing newline.
pub fn report_schema_string() -> String {
    let mut text = serde_json::to_string_pretty(&report_schema()).unwrap_or_default();
    text.push('\n');
    text
}
