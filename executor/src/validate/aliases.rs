//! Aliases of names: every status, feature, log page and option name of a
//! plan is snake_case, and the kebab-case spelling of a known name (or one
//! in another ASCII case) is accepted in its place. This pass rewrites such
//! values in the loaded document to their canonical spelling before the
//! schema pass and deserialization see it, so that everything downstream
//! (checks, the run, reports) knows one spelling only.

use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

use super::schema::schemas;
use nvmeplan_spec::names::canonical;

/// Rounds of rewriting: a rewrite can uncover a nested value that a failed
/// parent hid, so the pass repeats until nothing changes (a plan with names
/// nested deeper than this keeps the rest for the schema pass to report).
const MAX_ROUNDS: usize = 4;

/// Rewrites every string value whose canonical spelling is one of the
/// values the schema allows at its place; returns how many were rewritten.
pub(super) fn canonicalize_names(document: &mut Value) -> usize {
    let mut rewritten = 0;
    for _ in 0..MAX_ROUNDS {
        let mut patches = Vec::new();
        for error in schemas().root.iter_errors(document) {
            collect(&error, document, &mut patches);
        }
        patches.sort();
        patches.dedup();
        let mut changed = 0;
        for (pointer, name) in patches {
            if let Some(slot) = document.pointer_mut(&pointer)
                && slot.as_str() != Some(name.as_str())
            {
                *slot = Value::String(name);
                changed += 1;
            }
        }
        if changed == 0 {
            break;
        }
        rewritten += changed;
    }
    rewritten
}

/// The rewrites one error (and the alternatives inside it) asks for.
fn collect(error: &jsonschema::ValidationError<'_>, document: &Value, patches: &mut Vec<(String, String)>) {
    let allowed: Vec<&str> = match error.kind() {
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            for e in context.iter().flatten() {
                collect(e, document, patches);
            }
            return;
        }
        ValidationErrorKind::Enum { options } => {
            options.as_array().into_iter().flatten().filter_map(Value::as_str).collect()
        }
        ValidationErrorKind::Constant { expected_value } => expected_value.as_str().into_iter().collect(),
        _ => return,
    };
    let pointer = error.instance_path().as_str().to_string();
    let Some(text) = document.pointer(&pointer).and_then(Value::as_str) else { return };
    let wanted = canonical(text);
    if wanted != text && allowed.contains(&wanted.as_str()) {
        patches.push((pointer, wanted));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(status: &str, lid: &str) -> Value {
        serde_json::json!({
            "plan_version": 1,
            "name": "aliases",
            "steps": [
                { "name": "a", "read": { "slba": 0, "nlb": 1 }, "expect": { "status": status } },
                { "name": "b", "get_log_page": { "lid": lid } },
                { "name": "c", "get_features": { "fid": "Number-Of-Queues" } },
            ]
        })
    }

    #[test]
    fn kebab_case_names_become_snake_case() {
        let mut doc = plan("lba-out-of-range", "firmware-slot");
        assert_eq!(canonicalize_names(&mut doc), 3);
        assert_eq!(doc.pointer("/steps/0/expect/status"), Some(&Value::from("lba_out_of_range")));
        assert_eq!(doc.pointer("/steps/1/get_log_page/lid"), Some(&Value::from("firmware_slot")));
        assert_eq!(doc.pointer("/steps/2/get_features/fid"), Some(&Value::from("number_of_queues")));
        assert!(schemas().root.is_valid(&doc));
    }

    #[test]
    fn unknown_and_canonical_names_are_left_alone() {
        let mut doc = plan("lba-out-of-rang", "firmware_slot");
        let before = doc.clone();
        assert_eq!(canonicalize_names(&mut doc), 1, "only the feature alias is rewritten");
        assert_eq!(doc.pointer("/steps/0/expect/status"), before.pointer("/steps/0/expect/status"));
        assert_eq!(doc.pointer("/steps/1/get_log_page/lid"), before.pointer("/steps/1/get_log_page/lid"));
    }
}
