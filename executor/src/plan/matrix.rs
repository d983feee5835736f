//! `matrix`: run a step once per combination of values.

use std::borrow::Cow;
use std::collections::BTreeMap;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer};

/// One combination of matrix values.
pub type Combination = BTreeMap<String, serde_json::Value>;

/// A matrix: axes (`qd: [1, 4, 16]`), extra combinations (`include`) and
/// combinations to leave out (`exclude`).
///
/// The combinations are the cartesian product of the axes (axes in name
/// order, values in the order written), minus every combination that
/// matches an `exclude` entry on all of the entry's keys, plus every
/// `include` entry not already present.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Matrix {
    /// The axes: name and values.
    pub axes: BTreeMap<String, Vec<serde_json::Value>>,
    /// Extra combinations.
    pub include: Vec<Combination>,
    /// Combinations (or partial combinations) to leave out.
    pub exclude: Vec<Combination>,
}

impl Matrix {
    /// Every key a combination can have: the axes and the keys of `include`.
    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.axes.keys().cloned().collect();
        for c in &self.include {
            for k in c.keys() {
                if !keys.contains(k) {
                    keys.push(k.clone());
                }
            }
        }
        keys
    }

    /// The combinations, in a stable order.
    pub fn combinations(&self) -> Vec<Combination> {
        let mut out: Vec<Combination> = if self.axes.is_empty() { Vec::new() } else { vec![BTreeMap::new()] };
        for (key, values) in &self.axes {
            let mut next = Vec::with_capacity(out.len() * values.len());
            for combo in &out {
                for value in values {
                    let mut c = combo.clone();
                    c.insert(key.clone(), value.clone());
                    next.push(c);
                }
            }
            out = next;
        }
        out.retain(|c| !self.exclude.iter().any(|ex| ex.iter().all(|(k, v)| c.get(k) == Some(v))));
        for extra in &self.include {
            if !out.contains(extra) {
                out.push(extra.clone());
            }
        }
        out
    }
}

impl<'de> Deserialize<'de> for Matrix {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let map = BTreeMap::<String, serde_json::Value>::deserialize(deserializer)?;
        let mut matrix = Matrix::default();
        for (key, value) in map {
            match key.as_str() {
                "include" => matrix.include = serde_json::from_value(value).map_err(D::Error::custom)?,
                "exclude" => matrix.exclude = serde_json::from_value(value).map_err(D::Error::custom)?,
                _ => match value {
                    serde_json::Value::Array(values) if !values.is_empty() => {
                        matrix.axes.insert(key, values);
                    }
                    _ => return Err(D::Error::custom(format!("matrix `{key}` must be a non-empty list"))),
                },
            }
        }
        Ok(matrix)
    }
}

impl JsonSchema for Matrix {
    fn schema_name() -> Cow<'static, str> {
        "Matrix".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let combination = json_schema!({
            "type": "object",
            "additionalProperties": { "type": ["integer", "number", "string", "boolean"] },
            "minProperties": 1
        });
        json_schema!({
            "description": "Axes of values (`qd: [1, 4, 16]`); the step runs once per combination with `matrix.<axis>` set, with ids like `name[qd=4]`. `include` adds combinations, `exclude` removes them.",
            "type": "object",
            "properties": {
                "include": { "description": "Extra combinations.", "type": "array", "items": combination.clone() },
                "exclude": { "description": "Combinations (or partial ones) to leave out.", "type": "array", "items": combination }
            },
            "additionalProperties": {
                "description": "An axis: the values the step runs with.",
                "type": "array",
                "items": { "type": ["integer", "number", "string", "boolean"] },
                "minItems": 1
            },
            "minProperties": 1
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn product_exclude_include() {
        let m: Matrix = serde_json::from_value(json!({
            "qd": [1, 4], "bs": [8, 64],
            "exclude": [{ "qd": 4, "bs": 64 }],
            "include": [{ "qd": 32, "bs": 8 }, { "qd": 1, "bs": 8 }]
        }))
        .unwrap();
        let combos = m.combinations();
        assert_eq!(combos.len(), 4);
        assert_eq!(combos[0], serde_json::from_value::<Combination>(json!({"bs": 8, "qd": 1})).unwrap());
        assert_eq!(combos[3], serde_json::from_value::<Combination>(json!({"bs": 8, "qd": 32})).unwrap());
        assert_eq!(m.keys(), vec!["bs".to_string(), "qd".to_string()]);
    }

    #[test]
    fn rejects_scalars() {
        assert!(serde_json::from_value::<Matrix>(json!({ "qd": 4 })).is_err());
        assert!(serde_json::from_value::<Matrix>(json!({ "qd": [] })).is_err());
    }
}
