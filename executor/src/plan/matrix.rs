//! `matrix`: run a step once per combination of values.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer};

/// The largest product of axis lengths [`Matrix::count`] walks to count
/// exactly; a larger matrix counts as its product (plus `include`).
pub const MAX_COUNTED_PRODUCT: u64 = 1 << 20;

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

impl Matrix {
    /// How many combinations [`Matrix::combinations`] gives, without making
    /// them: exact up to a product of [`MAX_COUNTED_PRODUCT`], else the
    /// product plus the `include` entries (an upper bound, already far
    /// beyond what a plan may expand to).
    pub fn count(&self) -> u64 {
        let axes: Vec<(&String, &Vec<serde_json::Value>)> = self.axes.iter().collect();
        let product = if axes.is_empty() {
            0
        } else {
            axes.iter().try_fold(1u64, |p, (_, v)| p.checked_mul(v.len() as u64)).unwrap_or(u64::MAX)
        };
        if product > MAX_COUNTED_PRODUCT {
            return product.saturating_add(self.include.len() as u64);
        }
        // Each exclude entry as (axis index, value) pairs; an entry naming a
        // key that is no axis matches no combination.
        let excludes: Vec<Vec<(usize, &serde_json::Value)>> = self
            .exclude
            .iter()
            .filter_map(|ex| {
                ex.iter().map(|(k, v)| axes.iter().position(|(name, _)| *name == k).map(|a| (a, v))).collect()
            })
            .collect();
        let excluded =
            |index: &[usize]| excludes.iter().any(|ex| ex.iter().all(|(a, v)| axes[*a].1[index[*a]] == **v));
        let mut count = 0u64;
        if product > 0 {
            let mut index = vec![0usize; axes.len()];
            loop {
                if !excluded(&index) {
                    count += 1;
                }
                // The next index tuple, the last axis fastest.
                let mut a = axes.len();
                loop {
                    if a == 0 {
                        break;
                    }
                    a -= 1;
                    index[a] += 1;
                    if index[a] < axes[a].1.len() {
                        break;
                    }
                    index[a] = 0;
                }
                if index.iter().all(|i| *i == 0) {
                    break;
                }
            }
        }
        // An include entry adds a combination unless it is one already: a
        // kept product combination or an earlier include entry.
        let in_product = |c: &Combination| {
            c.len() == axes.len()
                && axes
                    .iter()
                    .map(|(name, values)| c.get(*name).and_then(|v| values.iter().position(|x| x == v)))
                    .collect::<Option<Vec<usize>>>()
                    .is_some_and(|index| !excluded(&index))
        };
        let mut seen = HashSet::new();
        for extra in &self.include {
            let key = serde_json::to_string(extra).unwrap_or_default();
            if !in_product(extra) && seen.insert(key) {
                count += 1;
            }
        }
        count
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
    fn count_is_the_number_of_combinations_without_making_them() {
        for m in [
            json!({ "qd": [1, 4], "bs": [8, 64], "exclude": [{ "qd": 4, "bs": 64 }], "include": [{ "qd": 32, "bs": 8 }, { "qd": 1, "bs": 8 }] }),
            json!({ "a": [1, 2, 3], "b": [1, 2], "exclude": [{ "a": 2 }, { "c": 1 }] }),
            json!({ "a": [1, 1, 2], "include": [{ "a": 3 }, { "a": 3 }, { "a": 1, "b": 2 }] }),
            json!({ "include": [{ "a": 1 }, { "a": 2 }] }),
            json!({ "a": [1, 2], "exclude": [{ "a": 1 }, { "a": 2 }], "include": [{ "a": 1 }] }),
        ] {
            let m: Matrix = serde_json::from_value(m).unwrap();
            assert_eq!(m.count(), m.combinations().len() as u64, "{m:?}");
        }
        let axis: Vec<u32> = (0..1000).collect();
        let big: Matrix =
            serde_json::from_value(json!({ "a": axis, "b": axis, "exclude": [{ "a": 0 }] })).unwrap();
        let start = std::time::Instant::now();
        assert_eq!(big.count(), 999_000);
        assert!(start.elapsed() < std::time::Duration::from_secs(1), "{:?}", start.elapsed());
        let huge: Matrix = serde_json::from_value(json!({ "a": axis, "b": axis, "c": axis })).unwrap();
        assert_eq!(huge.count(), 1_000_000_000);
    }

    #[test]
    fn rejects_scalars() {
        assert!(serde_json::from_value::<Matrix>(json!({ "qd": 4 })).is_err());
        assert!(serde_json::from_value::<Matrix>(json!({ "qd": [] })).is_err());
    }
}
