//! Value types shared by many actions: expressions, durations, data patterns,
//! status spellings and comparisons.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use nvmeplan_spec::Status;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::expr::Template;

/// A value that is either a literal `T` or a `${{ expression }}` that the
/// runner evaluates when the step runs.
///
/// An expression that is the whole value keeps the expression's type: the
/// runner evaluates it with [`Template::eval`] and converts the result to `T`.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr<T> {
    /// A value written literally in the plan.
    Literal(T),
    /// A value computed when the step runs.
    Expression(Template),
}

impl<T> Expr<T> {
    /// The literal value, if this is not an expression.
    pub fn literal(&self) -> Option<&T> {
        match self {
            Expr::Literal(v) => Some(v),
            Expr::Expression(_) => None,
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Expr<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        if let serde_json::Value::String(text) = &value
            && text.contains("${{")
        {
            let template = Template::new(text.clone());
            if !template.is_single_expression() {
                return Err(serde::de::Error::custom(format!(
                    "`{text}` mixes text and expressions; a value of this kind must be a literal or exactly one `${{{{ expression }}}}`"
                )));
            }
            return Ok(Expr::Expression(template));
        }
        T::deserialize(value).map(Expr::Literal).map_err(serde::de::Error::custom)
    }
}

impl<T: Serialize> Serialize for Expr<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Expr::Literal(v) => v.serialize(serializer),
            Expr::Expression(t) => serializer.serialize_str(t.source()),
        }
    }
}

impl<T: JsonSchema> JsonSchema for Expr<T> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        format!("Expr_{}", T::schema_name()).into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let literal = generator.subschema_for::<T>();
        let expression = generator.subschema_for::<ExpressionString>();
        json_schema!({ "anyOf": [literal, expression] })
    }
}

/// The schema of a string that is exactly one `${{ expression }}`.
pub struct ExpressionString;

impl JsonSchema for ExpressionString {
    fn schema_name() -> Cow<'static, str> {
        "Expression".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A `${{ expression }}` evaluated when the step runs (minijinja syntax). Context: plan `vars`, `--var` overrides, `matrix`, `iteration`, saved step results, `ctrl`, `ns[n]`, `cap`, `env`, `interrupts[v]`.",
            "type": "string",
            "pattern": "^\\s*\\$\\{\\{[\\s\\S]*\\}\\}\\s*$"
        })
    }
}

/// A string that may contain `${{ expression }}` parts; the runner renders it
/// to text with [`Template::render`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Text(pub Template);

impl JsonSchema for Text {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "Text".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string" })
    }
}

/// A duration such as `1s`, `500ms`, `20us`, `2m` or `1h`; the unit is
/// required (see [`nvmeplan_spec::duration::parse_duration`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct DurationValue(pub Duration);

pub use nvmeplan_spec::duration::ParseDurationError;

impl FromStr for DurationValue {
    type Err = ParseDurationError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        nvmeplan_spec::duration::parse_duration(input).map(DurationValue)
    }
}

impl fmt::Display for DurationValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl<'de> Deserialize<'de> for DurationValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::String(s) => s.parse().map_err(serde::de::Error::custom),
            // A YAML number such as `sleep: 5` has no unit: the same error as `"5"`.
            serde_json::Value::Number(n) => {
                Err(serde::de::Error::custom(ParseDurationError::MissingUnit(n.to_string())))
            }
            other => {
                Err(serde::de::Error::custom(format!("expected a duration such as `1s`, found {other}")))
            }
        }
    }
}

impl Serialize for DurationValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format!("{}us", self.0.as_micros()))
    }
}

/// Pattern of a duration string: a number and a unit, as
/// [`nvmeplan_spec::duration::parse_duration`] reads it.
pub const DURATION_PATTERN: &str = "^\\s*[0-9]+(\\.[0-9]+)?\\s*(ns|us|µs|ms|s|m|min|h)\\s*$";

impl JsonSchema for DurationValue {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A duration: a number with a unit (ns, us, ms, s, m, h) such as `500ms` or `2s`; a bare number is an error.",
            "type": "string",
            "pattern": DURATION_PATTERN
        })
    }
}

/// A completion status, written by spec name (`lba_out_of_range`) or as
/// `SCT/SC` in hex (`0x0/0x80`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusName(pub Status);

impl<'de> Deserialize<'de> for StatusName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse::<Status>().map(StatusName).map_err(serde::de::Error::custom)
    }
}

impl Serialize for StatusName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0.to_string())
    }
}

/// Pattern of the `SCT/SC` status spelling.
pub const STATUS_CODE_PATTERN: &str = "^0[xX][0-7]/0[xX][0-9a-fA-F]{1,2}$";

impl JsonSchema for StatusName {
    fn schema_name() -> Cow<'static, str> {
        "Status".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = nvmeplan_spec::status::NAMED_STATUSES.iter().map(|(_, n)| *n).collect();
        json_schema!({
            "description": "A completion status: the spec name in snake_case (`lba_out_of_range`; nvmeplan also accepts the kebab-case alias `lba-out-of-range`) or `SCT/SC` in hex (`0x0/0x80`).",
            "anyOf": [
                { "type": "string", "enum": names },
                { "type": "string", "pattern": STATUS_CODE_PATTERN }
            ]
        })
    }
}

/// A scalar compared against a result: integer, number, boolean or text
/// (text may be a `${{ expression }}`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Scalar(pub serde_json::Value);

impl<'de> Deserialize<'de> for Scalar {
    /// Accepts numbers, strings and booleans only, so that an untagged
    /// [`Compare`] reads a mapping as operators rather than as a value.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(deserializer)? {
            v
            @ (serde_json::Value::Number(_) | serde_json::Value::String(_) | serde_json::Value::Bool(_)) => {
                Ok(Scalar(v))
            }
            other => {
                Err(serde::de::Error::custom(format!("expected a number, string or boolean, found {other}")))
            }
        }
    }
}

impl JsonSchema for Scalar {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "Scalar".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": ["integer", "number", "string", "boolean"] })
    }
}

/// A comparison: a bare scalar means `eq`; otherwise any combination of
/// operators, all of which must hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Compare {
    /// Shorthand for `{ eq: value }`.
    Eq(Scalar),
    /// One or more operators.
    Ops(CompareOps),
}

/// Comparison operators; every operator given must hold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompareOps {
    /// Equal to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eq: Option<Scalar>,
    /// Not equal to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ne: Option<Scalar>,
    /// Less than.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lt: Option<Scalar>,
    /// Less than or equal to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub le: Option<Scalar>,
    /// Greater than.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gt: Option<Scalar>,
    /// Greater than or equal to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ge: Option<Scalar>,
    /// One of these values.
    #[serde(default, rename = "in", skip_serializing_if = "Option::is_none")]
    pub one_of: Option<Vec<Scalar>>,
    /// Bit mask applied to the actual value before the other operators
    /// compare it (`{ mask: 0x4, eq: 0x4 }` tests one bit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mask: Option<u64>,
}

/// A data pattern written by writes and compared by reads.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Pattern {
    /// Per-LBA stamps (LBA, write counter and CRC) that reads verify; the default.
    #[default]
    Stamp,
    /// All bytes zero.
    Zeros,
    /// All bytes 0xFF.
    Ones,
    /// Pseudo-random bytes from the plan's seed.
    Random,
    /// Bytes counting up from 0, wrapping at 0xFF.
    Incrementing,
    /// Every byte set to this value.
    Byte(u8),
    /// Every 32-bit little-endian word set to this value.
    Dword(u32),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duration_without_a_unit_does_not_deserialize() {
        for json in ["5", "1.5", "\"500\""] {
            let err = serde_json::from_str::<DurationValue>(json).unwrap_err().to_string();
            assert!(err.contains("write `500ms` or `2s`: a duration needs a unit"), "{json}: {err}");
        }
        let d: DurationValue = serde_json::from_str("\"1.5s\"").unwrap();
        assert_eq!(d.0, Duration::from_millis(1500));
    }
}
