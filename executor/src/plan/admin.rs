//! Admin command actions.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::values::Expr;

/// A feature: a known name (`volatile_write_cache`, `number_of_queues`, ...)
/// or a raw feature identifier (0 to 255).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FeatureId {
    /// A raw feature identifier.
    Raw(u8),
    /// A feature name as the spec crate spells it.
    Named(String),
}

impl JsonSchema for FeatureId {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "FeatureId".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names: Vec<&str> = nvmeplan_spec::features::FEATURES.iter().map(|(_, n)| *n).collect();
        schemars::json_schema!({
            "description": "A feature: a name (`volatile_write_cache`, `number_of_queues`, ...) or a raw feature identifier (0 to 255).",
            "anyOf": [
                { "type": "string", "enum": names },
                { "type": "integer", "minimum": 0, "maximum": 255 }
            ]
        })
    }
}

impl FeatureId {
    /// The feature identifier, if the name is known.
    pub fn fid(&self) -> Option<u8> {
        match self {
            FeatureId::Raw(v) => Some(*v),
            FeatureId::Named(name) => nvmeplan_spec::features::feature_from_name(name),
        }
    }
}

pub(crate) fn yes() -> bool {
    true
}

/// Namespace Attachment (attach or detach).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NamespaceAttachment {
    /// The namespace.
    pub nsid: Expr<u32>,
    /// Controller IDs (default: this controller).
    #[serde(default)]
    pub controllers: Option<Vec<u16>>,
}

/// Submission queue priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum QueuePriority {
    /// Urgent.
    Urgent,
    /// High.
    High,
    /// Medium.
    #[default]
    Medium,
    /// Low.
    Low,
}

/// Delete I/O Submission or Completion Queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteQueue {
    /// Queue identifier.
    pub qid: Expr<u16>,
}
