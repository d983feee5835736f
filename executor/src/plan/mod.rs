//! The plan model: the serde types a plan file deserializes into.
//!
//! These types are what the JSON Schema is generated from (every doc comment
//! becomes a description) and what [`crate::validate`] checks. A runner does
//! not consume them directly: it takes the [`crate::ValidatedPlan`] that
//! validation builds, whose steps are expanded and resolved.
//!
//! A step is a mapping with a `name`, exactly one action key and optional
//! common keys (`expect`, `save`, `when`, ...). Its JSON Schema is shaped by
//! hand from these types: one branch per action, each listing the common
//! properties next to its action so that editors can complete both.

pub mod admin;
pub mod capability;
pub mod control;
pub mod expect;
pub mod io;
pub mod ioworker;
pub mod matrix;
pub mod size;
pub mod values;

use std::borrow::Cow;
use std::collections::BTreeMap;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer};

pub use crate::action::Action;
pub use capability::Capability;
pub use expect::Expect;
pub use matrix::Matrix;
pub use size::Size;
pub use values::{Compare, CompareOps, DurationValue, Expr, Pattern, Scalar, StatusName, Text};

/// The JSON Schema pattern of a step's `spec` reference.
pub const SPEC_PATTERN: &str = r"^(base|nvm|pcie):[0-9]+(\.[0-9]+)*$";

/// The plan language version this crate reads.
pub const PLAN_VERSION: u32 = 1;

/// A test plan.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "nvmeplan test plan")]
pub struct Plan {
    /// The plan language version; must be 1.
    #[schemars(range(min = 1, max = 1))]
    pub plan_version: u32,
    /// The plan's name, used in reports.
    #[schemars(length(min = 1))]
    pub name: String,
    /// What the plan tests.
    #[serde(default)]
    pub description: Option<String>,
    /// The revision of the NVMe specifications the steps' `spec` references
    /// follow (`spec_revision: "2.1"`).
    #[serde(default)]
    pub spec_revision: Option<String>,
    /// Tags of every step of the plan, for selecting them with `--tags`
    /// and `--skip-tags` (`tags: [smoke]`).
    #[serde(default)]
    pub tags: Vec<String>,
    /// The default device URI (`sim`, `sim:capacity=1G`, `pci:0000:01:00.0`);
    /// the command line can override it.
    #[serde(default)]
    pub device: Option<String>,
    /// Variables for `${{ }}` expressions; `--var name=value` overrides them.
    #[serde(default)]
    pub vars: BTreeMap<String, serde_json::Value>,
    /// Defaults applied to every step.
    #[serde(default)]
    pub defaults: Defaults,
    /// How the run ends for the device: `shutdown` (default, a normal
    /// shutdown notification) or `power_loss` (no shutdown: the simulator
    /// loses its volatile write cache and counts an unsafe shutdown).
    #[serde(default)]
    pub finish: control::Finish,
    /// When the runner creates its I/O queue pair: `{ create: lazy }` (the
    /// default: at the first step that submits IO) or `{ create: early }`
    /// (before the first step, and again after a reset).
    #[serde(default)]
    pub queues: control::Queues,
    /// The steps, run in order.
    pub steps: Vec<Step>,
}

/// Defaults applied to every step.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// Timeout of a step without its own `timeout` (default 10s).
    #[serde(default)]
    pub timeout: Option<DurationValue>,
    /// Namespace ID of commands that do not give one (default 1).
    #[serde(default)]
    pub nsid: Option<u32>,
    /// Keep running after a failed step (default false).
    #[serde(default)]
    pub continue_on_error: bool,
    /// Seed of random data and IO workers (default: chosen per run and reported).
    #[serde(default)]
    pub seed: Option<u64>,
}

/// The keys every step may have besides its action.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepCommon {
    /// The step's name: unique among its siblings and the stable id reports use.
    /// Must not contain `[` or `]` (matrix and repeat suffixes of ids); a
    /// `/` is allowed, as long as the ids stay unique.
    #[schemars(length(min = 1), regex(pattern = r"^[^\[\]]+$"))]
    pub name: String,
    /// The expected outcome; without it the step expects `success`.
    #[serde(default)]
    pub expect: Option<Expect>,
    /// Save the result under this name for later expressions (`${{ ctrl.mdts }}`).
    #[serde(default)]
    #[schemars(regex(pattern = r"^[A-Za-z_][A-Za-z0-9_]*$"))]
    pub save: Option<String>,
    /// Run the step only when this expression is true (`${{ }}` optional).
    #[serde(default)]
    pub when: Option<String>,
    /// Tags for selecting steps with `--tags` and `--skip-tags` (a step also
    /// has its groups' and the plan's tags).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Capabilities the device must have; otherwise the step is skipped with
    /// the reason (`oacs.format`, `cap.nssrs`, `oncs.write_zeroes`, ...).
    #[serde(default)]
    pub requires: Vec<Capability>,
    /// How long the step may take (default: `defaults.timeout`).
    #[serde(default)]
    pub timeout: Option<DurationValue>,
    /// Run the step this many times, as `name[1]`, `name[2]`, ...; `iteration`
    /// holds the 1-based count in expressions.
    #[serde(default)]
    #[schemars(range(min = 1, max = 100000))]
    pub repeat: Option<u32>,
    /// Run the step once per combination of values, as `name[key=value]`;
    /// `matrix.key` holds the value in expressions.
    #[serde(default)]
    pub matrix: Option<Matrix>,
    /// Keep running the plan when this step fails.
    #[serde(default)]
    pub continue_on_error: Option<bool>,
    /// The specification section this step checks, carried into reports:
    /// `base:5.17.2` (NVM Express Base Specification), `nvm:3.2.4` (NVM
    /// Command Set Specification) or `pcie:3.1` (PCIe Transport
    /// Specification), of the plan's `spec_revision`. Steps without one take
    /// their group's.
    #[serde(default)]
    #[schemars(regex(pattern = r"^(base|nvm|pcie):[0-9]+(\.[0-9]+)*$"))]
    pub spec: Option<String>,
}

/// A step: common keys and exactly one action.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The common keys.
    pub common: StepCommon,
    /// The action.
    pub action: Action,
}

/// Splits a step mapping into its action keys and its other keys.
pub fn action_keys(map: &serde_json::Map<String, serde_json::Value>) -> Vec<&str> {
    map.keys().map(String::as_str).filter(|k| Action::NAMES.contains(k)).collect()
}

/// A YAML/JSON mapping.
pub type JsonMap = serde_json::Map<String, serde_json::Value>;

/// Splits a step mapping into its common keys and its one action (a
/// mapping of the action key to its payload); `Err` says why when the step
/// does not name exactly one action.
pub fn split_step(mut map: JsonMap) -> Result<(JsonMap, JsonMap), String> {
    let keys: Vec<String> = action_keys(&map).into_iter().map(str::to_string).collect();
    match keys.as_slice() {
        [] => return Err(format!("a step needs one action (one of {})", Action::NAMES.join(", "))),
        [_] => {}
        _ => return Err(format!("a step has exactly one action, found {}: {}", keys.len(), keys.join(", "))),
    }
    let mut action = serde_json::Map::new();
    for key in keys {
        if let Some(v) = map.remove(&key) {
            action.insert(key, v);
        }
    }
    Ok((map, action))
}

impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let map = serde_json::Map::<String, serde_json::Value>::deserialize(deserializer)?;
        let (common, action) = split_step(map).map_err(D::Error::custom)?;
        let common: StepCommon =
            serde_json::from_value(serde_json::Value::Object(common)).map_err(D::Error::custom)?;
        let action: Action =
            serde_json::from_value(serde_json::Value::Object(action)).map_err(D::Error::custom)?;
        Ok(Step { common, action })
    }
}

impl JsonSchema for Step {
    fn schema_name() -> Cow<'static, str> {
        "Step".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let common = StepCommon::json_schema(generator);
        let common_props = common.get("properties").cloned().unwrap_or_else(|| serde_json::json!({}));
        let mut refs = Vec::new();
        for (key, doc, payload, definition) in Action::branches(generator) {
            let mut props = common_props.as_object().cloned().unwrap_or_default();
            let doc = doc.lines().map(str::trim).collect::<Vec<_>>().join(" ").trim().to_string();
            let mut payload = payload.to_value();
            if let Some(obj) = payload.as_object_mut() {
                if obj.contains_key("$ref") {
                    // Draft-07 ignores siblings of `$ref`; wrap it.
                    let reference = serde_json::Value::Object(std::mem::take(obj));
                    obj.insert("allOf".into(), serde_json::json!([reference]));
                }
                obj.insert("description".into(), doc.clone().into());
            }
            props.insert(key.to_string(), payload);
            let branch = json_schema!({
                "description": format!("A `{key}` step. {doc}"),
                "type": "object",
                "properties": props,
                "required": ["name", key],
                "additionalProperties": false
            });
            generator.definitions_mut().insert(definition.to_string(), branch.to_value());
            refs.push(serde_json::json!({ "$ref": format!("#/definitions/{definition}") }));
        }
        json_schema!({
            "description": "A step: a `name`, exactly one action key (`identify`, `read`, `ioworker`, ...) and optional `expect`, `save`, `when`, `tags`, `requires`, `timeout`, `repeat`, `matrix`, `continue_on_error` and `spec`.",
            "anyOf": refs
        })
    }
}
