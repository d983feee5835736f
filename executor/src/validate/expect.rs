//! `expect` checks: the ioworker-only and data-only expectations on other
//! actions, and the field names of `expect.fields` against the identify,
//! log page or feature data the action reads.

use super::Validator;
use super::actions::fid_name;
use crate::diagnostic::{code, did_you_mean};
use crate::fields;
use crate::load::LoadedFile;
use crate::plan::admin::{Cns, LogId};
use crate::plan::{Action, Step};
use crate::positions::join;

impl Validator<'_> {
    /// Checks `step.expect` against the step's action.
    pub(super) fn check_expect(&mut self, file: &LoadedFile, pointer: &str, step: &Step) {
        let name = step.action.name();
        let Some(expect) = &step.common.expect else { return };
        let ep = join(pointer, "expect");
        let is_worker = matches!(step.action, Action::Ioworker(_));
        for (key, present) in [
            ("errors", expect.errors.is_some()),
            ("iops", expect.iops.is_some()),
            ("latency", expect.latency.is_some()),
        ] {
            if present && !is_worker {
                let span = file.positions.key_or_value(&join(&ep, key));
                self.error(
                    file,
                    code::EXPECT,
                    format!("`expect.{key}` applies to `ioworker` steps, not `{name}`"),
                    span,
                );
            }
        }
        if expect.data.is_some()
            && !matches!(step.action, Action::Read(_) | Action::Compare(_) | Action::Ioworker(_))
        {
            let span = file.positions.key_or_value(&join(&ep, "data"));
            self.error(
                file,
                code::EXPECT,
                format!("`expect.data` applies to `read`, `compare` and `ioworker` steps, not `{name}`"),
                span,
            );
        }
        if let Some(data) = &expect.data
            && data.unchecked.is_some()
            && let Some(why) = verifies_nothing(&step.action)
        {
            let span = file.positions.key_or_value(&join(&join(&ep, "data"), "unchecked"));
            let d = self.error(file, code::EXPECT, format!("`expect.data.unchecked`: {why}"), span);
            d.help = Some(
                "`unchecked` applies to `read` with `verify: true` or a `pattern`, `compare` with `pattern: stamp` \
                 and `ioworker` with `verify: true`"
                    .into(),
            );
        }
        if let Some(fields) = &expect.fields {
            let (what, known): (String, Option<Vec<&'static str>>) = match &step.action {
                Action::Identify(i) => match i.cns {
                    Cns::Controller => ("identify controller".into(), Some(fields::identify_controller())),
                    Cns::Namespace | Cns::AllocatedNamespace => {
                        ("identify namespace".into(), Some(fields::identify_namespace()))
                    }
                    other => (
                        format!(
                            "identify `{}`",
                            serde_json::to_value(other)
                                .ok()
                                .and_then(|v| v.as_str().map(str::to_string))
                                .unwrap_or_default()
                        ),
                        Some(Vec::new()),
                    ),
                },
                Action::GetLogPage(l) => {
                    let lid = match l.lid {
                        LogId::Named(n) => n.lid(),
                        LogId::Raw(v) => v,
                    };
                    (format!("log page {lid:#04x}"), fields::log_page(lid))
                }
                Action::GetFeatures(g) => match g.fid.fid() {
                    Some(fid) => {
                        (format!("feature {}", fid_name(fid)), Some(fields::feature_fields(fid).to_vec()))
                    }
                    None => ("feature".into(), None),
                },
                _ => {
                    let span = file.positions.key_or_value(&join(&ep, "fields"));
                    let d = self.error(
                        file,
                        code::EXPECT,
                        format!("`expect.fields` needs an action that reads named data, not `{name}`"),
                        span,
                    );
                    d.help = Some("`fields` applies to `identify`, `get_log_page` and `get_features`".into());
                    return;
                }
            };
            if let Some(known) = known {
                for key in fields.keys() {
                    if !known.contains(&key.as_str()) {
                        let span = file.positions.key_or_value(&join(&join(&ep, "fields"), key));
                        let d = self.error(
                            file,
                            code::UNKNOWN_FIELD,
                            format!("unknown field `{key}` of {what}{}", did_you_mean(key, &known)),
                            span,
                        );
                        d.help = Some(if known.is_empty() {
                            format!("{what} has no named fields")
                        } else if known.len() <= 30 {
                            format!("fields: {}", known.join(", "))
                        } else {
                            "field names are the spec's lowercase abbreviations (`nn`, `mdts`, `oacs`, `nsze`, ...)".into()
                        });
                    }
                }
            }
        }
    }
}

/// Why a `read`, `compare` or `ioworker` step verifies no data (so it has
/// no unchecked count); `None` when it does, or for other actions (their
/// `expect.data` is reported on its own).
fn verifies_nothing(action: &Action) -> Option<String> {
    match action {
        Action::Read(r) if !r.verify && r.pattern.is_none() => {
            Some("this `read` verifies nothing (add `verify: true` or a `pattern`)".into())
        }
        Action::Compare(c) if c.pattern != crate::plan::Pattern::Stamp => {
            Some("a `compare` with a pattern is checked by the device, block by block; it counts no unchecked blocks".into())
        }
        Action::Ioworker(w) if !w.workers().iter().any(|w| w.verify) => {
            Some("this `ioworker` verifies nothing (add `verify: true`)".into())
        }
        _ => None,
    }
}
