//! The `identify` action: reads an identify data structure (controller, namespace, lists) and names
//! its fields.

use nvmeplan_driver::PAGE_SIZE;
use nvmeplan_driver::commands;
use nvmeplan_spec::AdminOpcode;
use nvmeplan_spec::identify::{IdentifyController, IdentifyNamespace, NamespaceList};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use zerocopy::FromBytes;

use crate::action::{ActionKind, ExpectKey, NamedData, captured_read};
use crate::fields;
use crate::plan::values::Expr;
use crate::run::commands::admin::{decode, send};
use crate::run::context::{Eval, RunContext, StepResult};
use crate::run::guard::typed_admin;
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;
use crate::run::result::{Captured, CapturedKind};

/// Which identify data structure to read (CNS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Cns {
    /// Identify Namespace (CNS 00h) of `nsid`.
    Namespace,
    /// Identify Controller (CNS 01h).
    Controller,
    /// Active namespace ID list (CNS 02h).
    ActiveNamespaces,
    /// Namespace identification descriptors of `nsid` (CNS 03h).
    NsDescriptors,
    /// Allocated namespace ID list (CNS 10h).
    AllocatedNamespaces,
    /// Identify Namespace of an allocated namespace (CNS 11h).
    AllocatedNamespace,
    /// Controller list (CNS 13h).
    Controllers,
}

impl Cns {
    /// The CNS value.
    pub const fn value(self) -> u8 {
        match self {
            Cns::Namespace => 0x00,
            Cns::Controller => 0x01,
            Cns::ActiveNamespaces => 0x02,
            Cns::NsDescriptors => 0x03,
            Cns::AllocatedNamespaces => 0x10,
            Cns::AllocatedNamespace => 0x11,
            Cns::Controllers => 0x13,
        }
    }
}

impl Cns {
    /// The named data structure with CNS value `value`, if one is named here.
    pub fn from_value(value: u8) -> Option<Cns> {
        [
            Cns::Namespace,
            Cns::Controller,
            Cns::ActiveNamespaces,
            Cns::NsDescriptors,
            Cns::AllocatedNamespaces,
            Cns::AllocatedNamespace,
            Cns::Controllers,
        ]
        .into_iter()
        .find(|c| c.value() == value)
    }
}

/// A data structure to identify: a known name or a raw CNS value (0 to
/// 255), so that reserved and unsupported values can be tested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum CnsId {
    /// A named data structure.
    Named(Cns),
    /// A raw CNS value (`0x1f`); a value named above decodes as that name.
    Raw(u8),
}

impl CnsId {
    /// The CNS field value.
    pub fn value(self) -> u8 {
        match self {
            CnsId::Named(c) => c.value(),
            CnsId::Raw(v) => v,
        }
    }

    /// The named data structure, for a name or a raw value that has one.
    pub fn known(self) -> Option<Cns> {
        match self {
            CnsId::Named(c) => Some(c),
            CnsId::Raw(v) => Cns::from_value(v),
        }
    }
}

/// Identify: read an identify data structure. Save it to compare fields
/// later or use it in expressions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Identify {
    /// The data structure (CNS): a name (`controller`, `namespace`, ...)
    /// or a number (`0x1f`).
    pub cns: CnsId,
    /// Namespace ID, for namespace data structures (default: `defaults.nsid`).
    #[serde(default)]
    pub nsid: Option<Expr<u32>>,
    /// Controller ID (CDW10 CNTID), for controller lists.
    #[serde(default)]
    pub cntid: Option<u16>,
}

/// The `identify` action.
#[derive(Debug)]
pub struct IdentifyDef;

impl ActionKind for IdentifyDef {
    type Plan = Identify;
    const EXPECT: &'static [ExpectKey] = &[ExpectKey::Fields];

    fn named_data(plan: &Self::Plan) -> Option<NamedData> {
        Some(match plan.cns.known() {
            None => {
                NamedData { what: format!("identify CNS {:#04x}", plan.cns.value()), known: Some(Vec::new()) }
            }
            Some(Cns::Controller) => {
                NamedData { what: "identify controller".into(), known: Some(fields::identify_controller()) }
            }
            Some(Cns::Namespace | Cns::AllocatedNamespace) => {
                NamedData { what: "identify namespace".into(), known: Some(fields::identify_namespace()) }
            }
            Some(other) => NamedData {
                what: format!(
                    "identify `{}`",
                    serde_json::to_value(other)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default()
                ),
                known: Some(Vec::new()),
            },
        })
    }

    fn destructive(_plan: &Self::Plan, _eval: Eval<'_>) -> StepResult<Option<String>> {
        Ok(typed_admin("identify", AdminOpcode::Identify))
    }

    fn execute(a: &Self::Plan, ctx: &mut RunContext, env: StepEnv<'_>) -> StepResult<ActionOutput> {
        let default_nsid = match a.cns.known() {
            Some(Cns::Namespace | Cns::NsDescriptors | Cns::AllocatedNamespace) => ctx.default_nsid,
            _ => 0,
        };
        let nsid = env.eval.or(a.nsid.as_ref(), default_nsid)?;
        let buf = ctx.ctrl.alloc_buffer(PAGE_SIZE)?;
        let cqe = send(
            ctx,
            env,
            commands::identify(a.cns.value(), nsid, a.cntid.unwrap_or(0)),
            Some((&buf, PAGE_SIZE)),
        )?;
        let mut out = ActionOutput::completion(cqe);
        if !out.succeeded() {
            return Ok(out);
        }
        let data = buf.as_slice();
        let Some(cns) = a.cns.known() else { return Ok(out) };
        match cns {
            Cns::Controller => out.fields = decode::<IdentifyController>(data),
            Cns::Namespace | Cns::AllocatedNamespace => out.fields = decode::<IdentifyNamespace>(data),
            Cns::ActiveNamespaces | Cns::AllocatedNamespaces => {
                let ids: Vec<Value> = NamespaceList::read_from_prefix(data)
                    .map(|(l, _)| l.iter().map(Value::from).collect())
                    .unwrap_or_default();
                let mut fields = Map::new();
                fields.insert("count".into(), ids.len().into());
                fields.insert("nsids".into(), Value::Array(ids));
                out.fields = Some(fields);
            }
            Cns::NsDescriptors => {
                let list: Vec<Value> = nvmeplan_spec::identify::decode_ns_descriptors(data)
                    .into_iter()
                    .map(|(nidt, id)| {
                        let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
                        serde_json::json!({ "nidt": nidt, "nid": hex })
                    })
                    .collect();
                let mut fields = Map::new();
                fields.insert("count".into(), list.len().into());
                fields.insert("descriptors".into(), Value::Array(list));
                out.fields = Some(fields);
            }
            Cns::Controllers => {
                let n = usize::from(u16::from_le_bytes([data[0], data[1]])).min(2047);
                let ids: Vec<Value> = (0..n)
                    .map(|i| Value::from(u16::from_le_bytes([data[2 + 2 * i], data[3 + 2 * i]])))
                    .collect();
                let mut fields = Map::new();
                fields.insert("count".into(), n.into());
                fields.insert("controllers".into(), Value::Array(ids));
                out.fields = Some(fields);
            }
        }
        Ok(out)
    }

    fn captured(plan: &Self::Plan, out: &ActionOutput) -> Option<Captured> {
        captured_read(CapturedKind::Identify, serde_json::to_value(plan.cns), out)
    }
}
