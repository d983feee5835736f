//! The `get_features` action: reads a feature and names the fields of its dword.

use nvmeplan_driver::commands;
use nvmeplan_spec::AdminOpcode;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Map;

use crate::action::{ActionKind, ExpectKey, NamedData, captured_read};
use crate::fields;
use crate::plan::admin::FeatureId;
use crate::plan::values::Expr;
use crate::run::commands::admin::{feature_id, send};
use crate::run::context::{Eval, RunContext, StepResult};
use crate::run::device::feature_fields;
use crate::run::guard::typed_admin;
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;
use crate::run::result::{Captured, CapturedKind};

/// Get Features Select field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FeatureSelect {
    /// The current value.
    #[default]
    Current,
    /// The default value.
    Default,
    /// The saved value.
    Saved,
    /// The supported capabilities.
    Supported,
}

/// Get Features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetFeatures {
    /// The feature, by name (`volatile_write_cache`) or identifier.
    pub fid: FeatureId,
    /// Which value to read.
    #[serde(default)]
    pub sel: FeatureSelect,
    /// Namespace ID, for namespace-specific features.
    #[serde(default)]
    pub nsid: Option<Expr<u32>>,
    /// Command dword 11 (feature specific).
    #[serde(default)]
    pub cdw11: Option<Expr<u32>>,
}

/// The `get_features` action.
#[derive(Debug)]
pub struct GetFeaturesDef;

impl ActionKind for GetFeaturesDef {
    type Plan = GetFeatures;
    const EXPECT: &'static [ExpectKey] = &[ExpectKey::Fields];

    fn named_data(plan: &Self::Plan) -> Option<NamedData> {
        Some(match plan.fid.fid() {
            Some(fid) => NamedData {
                what: format!("feature {}", fields::feature_label(fid)),
                known: Some(fields::feature_fields(fid).to_vec()),
            },
            None => NamedData { what: "feature".into(), known: None },
        })
    }

    fn destructive(_plan: &Self::Plan, _eval: Eval<'_>) -> StepResult<Option<String>> {
        Ok(typed_admin("get_features", AdminOpcode::GetFeatures))
    }

    fn execute(a: &Self::Plan, ctx: &mut RunContext, env: StepEnv<'_>) -> StepResult<ActionOutput> {
        let fid = feature_id(&a.fid)?;
        let sel = match a.sel {
            FeatureSelect::Current => 0,
            FeatureSelect::Default => 1,
            FeatureSelect::Saved => 2,
            FeatureSelect::Supported => 3,
        };
        let nsid = env.eval.or(a.nsid.as_ref(), 0)?;
        let cdw11 = env.eval.or(a.cdw11.as_ref(), 0)?;
        let cqe = send(ctx, env, commands::get_features(fid, nsid, sel, cdw11), None)?;
        let mut out = ActionOutput::completion(cqe);
        if out.succeeded() {
            let mut fields = if sel == 3 { Map::new() } else { feature_fields(fid, cqe.dw0) };
            fields.insert("value".into(), cqe.dw0.into());
            out.fields = Some(fields);
        }
        Ok(out)
    }

    fn captured(plan: &Self::Plan, out: &ActionOutput) -> Option<Captured> {
        captured_read(CapturedKind::Feature, serde_json::to_value(&plan.fid), out)
    }
}
