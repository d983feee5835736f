//! The plan JSON Schema (draft-07), generated from the plan types.
//!
//! The committed copy lives at `schemas/plan.schema.json`; a test fails when
//! it is stale (`UPDATE_SCHEMAS=1 cargo test -p nvmeplan` rewrites it), and
//! `nvmeplan schema` prints it.

use schemars::generate::SchemaSettings;
use serde_json::Value;

use crate::plan::Plan;

/// Where the committed schema lives, relative to the workspace root.
pub const SCHEMA_PATH: &str = "schemas/plan.schema.json";

/// The plan schema as a JSON value.
pub fn plan_schema() -> Value {
    let generator = SchemaSettings::draft07().into_generator();
    let mut value = generator.into_root_schema_for::<Plan>().to_value();
    if let Some(obj) = value.as_object_mut() {
        obj.insert(
            "$comment".into(),
            "Generated from the nvmeplan crate's types; regenerate with `UPDATE_SCHEMAS=1 cargo test -p nvmeplan`.".into(),
        );
    }
    tidy(&mut value);
    value
}

/// The plan schema as pretty-printed JSON with a trailing newline.
pub fn plan_schema_string() -> String {
    let mut text = serde_json::to_string_pretty(&plan_schema()).unwrap_or_default();
    text.push('\n');
    text
}

/// Optional fields are written by leaving them out: drop the `null`
/// alternatives and `default: null` that `Option` adds, so editors and error
/// messages do not offer `null`.
fn tidy(value: &mut Value) {
    match value {
        Value::Object(obj) => {
            if obj.get("default") == Some(&Value::Null) {
                obj.remove("default");
            }
            if let Some(Value::Array(types)) = obj.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let single = types[0].clone();
                    obj.insert("type".into(), single);
                }
            }
            for key in ["anyOf", "oneOf"] {
                if let Some(Value::Array(branches)) = obj.get_mut(key) {
                    branches.retain(|b| b != &serde_json::json!({ "type": "null" }));
                    if branches.len() == 1 {
                        let only = branches.remove(0);
                        obj.remove(key);
                        if let Value::Object(inner) = &only
                            && inner.contains_key("$ref")
                            && !obj.is_empty()
                        {
                            obj.insert("allOf".into(), Value::Array(vec![only]));
                        } else if let Value::Object(inner) = only {
                            for (k, v) in inner {
                                obj.entry(k).or_insert(v);
                            }
                        }
                    }
                }
            }
            for v in obj.values_mut() {
                tidy(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(tidy),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_draft_07_and_closed() {
        let schema = plan_schema();
        assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
        assert_eq!(schema["additionalProperties"], false);
        let defs = schema["definitions"].as_object().unwrap();
        for name in ["ReadStep", "IoworkerStep", "Expect", "Step"] {
            assert!(defs.contains_key(name), "{name}");
        }
        assert_eq!(defs["ReadStep"]["additionalProperties"], false);
        assert!(defs["ReadStep"]["properties"]["expect"].is_object());
        assert!(!plan_schema_string().contains("\"null\""));
    }

    #[test]
    fn every_property_is_documented() {
        fn walk(v: &Value, path: &str, missing: &mut Vec<String>) {
            if let Some(obj) = v.as_object() {
                // Externally tagged enum variants carry the doc on the
                // branch object that has the single property.
                let documented_here = obj.contains_key("description");
                if let Some(Value::Object(props)) = obj.get("properties") {
                    for (k, p) in props {
                        if p.get("description").is_none() && !(documented_here && props.len() == 1) {
                            missing.push(format!("{path}/{k}"));
                        }
                    }
                }
                for (k, child) in obj {
                    walk(child, &format!("{path}/{k}"), missing);
                }
            } else if let Some(items) = v.as_array() {
                for (i, child) in items.iter().enumerate() {
                    walk(child, &format!("{path}/{i}"), missing);
                }
            }
        }
        let mut missing = Vec::new();
        walk(&plan_schema(), "", &mut missing);
        assert!(missing.is_empty(), "undocumented properties: {missing:#?}");
    }
}
