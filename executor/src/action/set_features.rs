//! The `set_features` action: sets a feature from a value or named fields, saved or not.

use nvmeplan_driver::commands;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::action::{ActionCheck, ActionKind};
use crate::diagnostic::{code, did_you_mean};
use crate::fields;
use crate::plan::admin::FeatureId;
use crate::plan::values::Expr;
use crate::run::commands::admin::{feature_id, send};
use crate::run::context::{Eval, RunContext, StepError, StepResult};
use crate::run::device::{feature_fields, set_feature_field};
use crate::run::guard::persistent_feature;
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;

/// Set Features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetFeatures {
    /// The feature, by name (`volatile_write_cache`) or identifier.
    pub fid: FeatureId,
    /// The raw value of command dword 11.
    #[serde(default)]
    pub value: Option<Expr<u32>>,
    /// Named fields of the feature's dword 11 (`{ wce: 1 }`), combined with `value`.
    #[serde(default)]
    pub fields: Option<std::collections::BTreeMap<String, Expr<u32>>>,
    /// Save the value across power cycles (SV bit).
    #[serde(default)]
    pub save: bool,
    /// Namespace ID, for namespace-specific features.
    #[serde(default)]
    pub nsid: Option<Expr<u32>>,
    /// Command dword 12.
    #[serde(default)]
    pub cdw12: Option<Expr<u32>>,
}

/// The `set_features` action.
#[derive(Debug)]
pub struct SetFeaturesDef;

impl ActionKind for SetFeaturesDef {
    type Plan = SetFeatures;
    fn check(plan: &Self::Plan, cx: &mut ActionCheck<'_, '_>) {
        if plan.value.is_none() && plan.fields.is_none() {
            let span = cx.key_at(&[]);
            cx.error(code::SCHEMA, "`set_features` needs a `value` or `fields`", span);
        }
        if let (Some(given), Some(fid)) = (&plan.fields, plan.fid.fid()) {
            let known = fields::feature_fields(fid);
            for key in given.keys() {
                if !known.contains(&key.as_str()) {
                    let span = cx.key_at(&["fields", key]);
                    let message = format!(
                        "unknown field `{key}` of feature {}{}",
                        fields::feature_label(fid),
                        did_you_mean(key, known)
                    );
                    let d = cx.error(code::UNKNOWN_FIELD, message, span);
                    d.help = Some(format!(
                        "fields of this feature: {}",
                        if known.is_empty() { "(none)".to_string() } else { known.join(", ") }
                    ));
                }
            }
        }
    }

    fn destructive(plan: &Self::Plan, _eval: Eval<'_>) -> StepResult<Option<String>> {
        // An unknown feature name fails validation; a raw one is judged by its id.
        Ok(if plan.save {
            Some("set_features with save".to_string())
        } else if plan.fid.fid().is_some_and(persistent_feature) {
            Some("set_features of a persistent feature".to_string())
        } else {
            None
        })
    }

    fn execute(a: &Self::Plan, ctx: &mut RunContext, env: StepEnv<'_>) -> StepResult<ActionOutput> {
        let fid = feature_id(&a.fid)?;
        let mut value = env.eval.or(a.value.as_ref(), 0)?;
        for (name, v) in a.fields.iter().flatten() {
            let v = env.eval.get(v)?;
            value = set_feature_field(fid, value, name, v).ok_or_else(|| {
                StepError::Invalid(format!("feature {fid:#04x} has no field `{name}` that holds {v}"))
            })?;
        }
        let nsid = env.eval.or(a.nsid.as_ref(), 0)?;
        let mut cmd = commands::set_features(fid, nsid, value, a.save);
        cmd.cdw12 = env.eval.or(a.cdw12.as_ref(), 0)?;
        let cqe = send(ctx, env, cmd, None)?;
        let mut out = ActionOutput::completion(cqe);
        let mut fields = feature_fields(fid, cqe.dw0);
        fields.insert("value".into(), cqe.dw0.into());
        out.fields = Some(fields);
        out.values.insert("cdw11".into(), value.into());
        Ok(out)
    }
}
