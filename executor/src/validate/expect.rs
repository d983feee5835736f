//! `expect` checks: the ioworker-only and data-only expectations on other
//! actions, and the field names of `expect.fields` against the identify,
//! log page or feature data the action reads.

use super::Validator;
use crate::action::{Action, ExpectKey, NamedData};
use crate::diagnostic::{code, did_you_mean};
use crate::load::LoadedFile;
use crate::plan::Step;
use crate::positions::join;

/// `` `a`, `b` and `c` ``: the actions that support a key, for messages.
fn and_list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

impl Validator<'_> {
    /// Checks `step.expect` against the step's action.
    pub(super) fn check_expect(&mut self, file: &LoadedFile, pointer: &str, step: &Step) {
        let name = step.action.name();
        let Some(expect) = &step.common.expect else { return };
        let ep = join(pointer, "expect");
        let supported = step.action.expect_keys();
        for (key, present) in [
            (ExpectKey::Errors, expect.errors.is_some()),
            (ExpectKey::Iops, expect.iops.is_some()),
            (ExpectKey::Latency, expect.latency.is_some()),
            (ExpectKey::Data, expect.data.is_some()),
        ] {
            if present && !supported.contains(&key) {
                let span = file.positions.key_or_value(&join(&ep, key.name()));
                let message = format!(
                    "`expect.{}` applies to {} steps, not `{name}`",
                    key.name(),
                    and_list(&Action::supporting(key))
                );
                self.error(file, code::EXPECT, message, span);
            }
        }
        if let Some(data) = &expect.data
            && data.unchecked.is_some()
            && supported.contains(&ExpectKey::Data)
            && let Some(why) = step.action.verifies_nothing()
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
            let named = supported.contains(&ExpectKey::Fields).then(|| step.action.named_data()).flatten();
            let Some(NamedData { what, known }) = named else {
                let span = file.positions.key_or_value(&join(&ep, "fields"));
                let d = self.error(
                    file,
                    code::EXPECT,
                    format!("`expect.fields` needs an action that reads named data, not `{name}`"),
                    span,
                );
                d.help =
                    Some(format!("`fields` applies to {}", and_list(&Action::supporting(ExpectKey::Fields))));
                return;
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
