//! The JSON Schema pass: runs the plan schema (and, for a step, the schema
//! of its action's branch) and words each error for a plan author, at the
//! line and column of the value or key it is about.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::Value;

use super::Validator;
use crate::diagnostic::{closest, code, did_you_mean};
use crate::load::LoadedFile;
use crate::plan::size::{SIZE_PATTERN, Size};
use crate::plan::values::{DURATION_PATTERN, ParseDurationError};
use crate::plan::{Action, SPEC_PATTERN, StepCommon, action_keys};
use crate::positions::join;
use crate::schema::plan_schema;

pub(super) struct Schemas {
    pub(super) document: Value,
    pub(super) root: jsonschema::Validator,
    branches: Mutex<HashMap<String, std::sync::Arc<(Value, jsonschema::Validator)>>>,
}

pub(super) fn schemas() -> &'static Schemas {
    static SCHEMAS: OnceLock<Schemas> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let document = plan_schema();
        #[allow(clippy::expect_used)]
        let root = jsonschema::draft7::new(&document).expect("the generated plan schema compiles");
        Schemas { document, root, branches: Mutex::new(HashMap::new()) }
    })
}

pub(super) fn branch_definition(action: &str) -> String {
    let camel: String = action
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect();
    format!("{camel}Step")
}

impl Schemas {
    fn branch(&self, action: &str) -> Option<std::sync::Arc<(Value, jsonschema::Validator)>> {
        let mut cache = self.branches.lock().ok()?;
        if let Some(b) = cache.get(action) {
            return Some(b.clone());
        }
        let doc = serde_json::json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "$ref": format!("#/definitions/{}", branch_definition(action)),
            "definitions": self.document.get("definitions").cloned().unwrap_or_default(),
        });
        let validator = jsonschema::draft7::new(&doc).ok()?;
        let b = std::sync::Arc::new((doc, validator));
        cache.insert(action.to_string(), b.clone());
        Some(b)
    }
}

/// The node of `schema` that an evaluation path leads to.
fn schema_at<'a>(root: &'a Value, evaluation_path: &str) -> Option<&'a Value> {
    let mut node = root;
    for seg in evaluation_path.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if seg == "$ref" {
            let r = node.get("$ref")?.as_str()?;
            node = root.pointer(r.trim_start_matches('#'))?;
        } else {
            node = match node {
                Value::Object(m) => m.get(&seg)?,
                Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
    }
    Some(node)
}

/// Whether the schema node that raised `error` is a [`DurationValue`](crate::plan::DurationValue).
fn is_duration(root: &Value, error: &jsonschema::ValidationError<'_>) -> bool {
    let path = error.evaluation_path().as_str();
    let node = path.rsplit_once('/').and_then(|(parent, _)| schema_at(root, parent));
    node.and_then(|n| n.get("pattern")).and_then(Value::as_str) == Some(DURATION_PATTERN)
}

/// Whether `error`, or an alternative below it, failed on `pattern`.
fn mentions_pattern(error: &jsonschema::ValidationError<'_>, pattern: &str) -> bool {
    match error.kind() {
        ValidationErrorKind::Pattern { pattern: p } => p.as_str() == pattern,
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            context.iter().flatten().any(|e| mentions_pattern(e, pattern))
        }
        _ => false,
    }
}

/// Why `text` is not a [`Size`].
fn size_message(text: &str) -> String {
    match text.parse::<Size>() {
        Err(e) => e.to_string(),
        Ok(_) => format!("`{text}` is not a size"),
    }
}

pub(super) fn is_step_pointer(pointer: &str) -> bool {
    let mut segs = pointer.rsplit('/');
    let last = segs.next().unwrap_or_default();
    segs.next() == Some("steps") && !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit())
}

fn describe_value(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("`{b}`"),
        Value::Number(n) => format!("`{n}`"),
        Value::String(s) => format!("`{s}`"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
    }
}

fn type_name(kind: &str) -> &str {
    match kind {
        "object" => "a mapping",
        "array" => "a list",
        "string" => "a string",
        "integer" => "an integer",
        "number" => "a number",
        "boolean" => "true or false",
        "null" => "null",
        other => other,
    }
}

/// What a type error expected, in words: `a mapping`, `an integer or a string`.
fn expected_type(kind: &TypeKind) -> String {
    match kind {
        TypeKind::Single(t) => type_name(&t.to_string()).to_string(),
        TypeKind::Multiple(ts) => {
            ts.iter().map(|t| type_name(&t.to_string()).to_string()).collect::<Vec<_>>().join(" or ")
        }
    }
}

impl Validator<'_> {
    /// Runs the schema; returns the pointers that have errors.
    pub(super) fn check_schema(&mut self, file: &LoadedFile) -> Vec<String> {
        let schemas = schemas();
        let before = self.diagnostics.len();
        let mut pointers = Vec::new();
        if !file.value.is_object() {
            let span = file.positions.nearest("").value;
            self.error(
                file,
                code::SCHEMA,
                "a plan must be a mapping with `plan_version`, `name` and `steps`",
                span,
            );
            return vec![String::new()];
        }
        let errors: Vec<_> = schemas.root.iter_errors(&file.value).collect();
        for e in &errors {
            self.explain(file, &schemas.document, e, "", &mut pointers);
        }
        let _ = before;
        pointers
    }

    fn explain(
        &mut self,
        file: &LoadedFile,
        schema: &Value,
        error: &jsonschema::ValidationError<'_>,
        prefix: &str,
        pointers: &mut Vec<String>,
    ) {
        let pointer = format!("{prefix}{}", error.instance_path().as_str());
        let instance = file.value.pointer(&pointer).cloned().unwrap_or(Value::Null);
        let value_span = file.positions.nearest(&pointer).value;
        let key_span = file.positions.key_or_value(&pointer);
        pointers.push(pointer.clone());
        match error.kind() {
            ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
                if is_step_pointer(&pointer)
                    && let Value::Object(map) = &instance
                {
                    self.explain_step(file, &pointer, map, pointers);
                    return;
                }
                self.explain_alternatives(file, schema, prefix, &pointer, &instance, context, pointers);
            }
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                let parent = schema_at(
                    schema,
                    error.evaluation_path().as_str().trim_end_matches("/additionalProperties"),
                );
                let known: Vec<String> = parent
                    .and_then(|p| p.get("properties"))
                    .and_then(Value::as_object)
                    .map(|p| p.keys().cloned().collect())
                    .unwrap_or_default();
                let context =
                    if pointer.is_empty() { "the plan".to_string() } else { self.describe_node(&pointer) };
                let size_keys = parent
                    .and_then(|p| p.get("patternProperties"))
                    .and_then(Value::as_object)
                    .is_some_and(|p| p.contains_key(SIZE_PATTERN));
                for key in unexpected {
                    let child = join(&pointer, key);
                    let span = file.positions.key_or_value(&child);
                    if size_keys {
                        let message = format!("{}: {}", self.describe_node(&pointer), size_message(key));
                        self.error(file, code::SCHEMA, message, span);
                        continue;
                    }
                    let mut suggestion = did_you_mean(key, &known);
                    if suggestion.is_empty() && is_step_pointer(&pointer) {
                        suggestion = did_you_mean(key, Action::NAMES);
                    }
                    let d = self.error(
                        file,
                        code::SCHEMA,
                        format!("unknown key `{key}` in {context}{suggestion}"),
                        span,
                    );
                    if !known.is_empty() && known.len() <= 24 {
                        d.help = Some(format!("expected one of: {}", known.join(", ")));
                    }
                }
            }
            ValidationErrorKind::Required { property } => {
                let property = property.as_str().unwrap_or_default().to_string();
                let context =
                    if pointer.is_empty() { "the plan".to_string() } else { self.describe_node(&pointer) };
                self.error(
                    file,
                    code::SCHEMA,
                    format!("missing required key `{property}` in {context}"),
                    key_span,
                );
            }
            ValidationErrorKind::Enum { options } => {
                let options: Vec<String> = options
                    .as_array()
                    .map(|a| {
                        a.iter().map(|o| o.as_str().map_or_else(|| o.to_string(), str::to_string)).collect()
                    })
                    .unwrap_or_default();
                let text = instance.as_str().map_or_else(|| instance.to_string(), str::to_string);
                let (code, message, help) = self.enum_message(&pointer, &text, &options);
                let d = self.error(file, code, message, value_span);
                d.help = help;
            }
            ValidationErrorKind::Type { .. } if instance.is_number() && is_duration(schema, error) => {
                let message = ParseDurationError::MissingUnit(instance.to_string()).to_string();
                self.error(file, code::SCHEMA, message, value_span);
            }
            ValidationErrorKind::Type { kind } => {
                let expected = expected_type(kind);
                let what = self.describe_node(&pointer);
                self.error(
                    file,
                    code::SCHEMA,
                    format!("{what} must be {expected}, found {}", describe_value(&instance)),
                    value_span,
                );
            }
            ValidationErrorKind::Pattern { pattern } => {
                let text = instance.as_str().unwrap_or_default();
                let message = if pattern.as_str() == DURATION_PATTERN {
                    match nvmeplan_spec::duration::parse_duration(text) {
                        Err(e @ ParseDurationError::MissingUnit(_)) => e.to_string(),
                        _ => format!(
                            "invalid duration `{text}`: expected a number with a unit (ns, us, ms, s, m, h), such as `500ms`"
                        ),
                    }
                } else if pattern.as_str() == SIZE_PATTERN {
                    size_message(text)
                } else if pattern.as_str() == SPEC_PATTERN {
                    format!(
                        "invalid spec reference `{text}`: expected `base:`, `nvm:` or `pcie:` and a section number, such as `base:5.17.2`"
                    )
                } else if pattern.contains("\\[\\]") {
                    format!("invalid step name `{text}`: names must not contain `[` or `]`")
                } else if pattern.starts_with("^[A-Za-z_]") {
                    format!(
                        "invalid name `{text}` for `save`: use letters, digits and `_`, not starting with a digit"
                    )
                } else if pattern.contains("\\$\\{\\{") {
                    format!("`{text}` is not a `${{{{ expression }}}}`")
                } else {
                    format!("{} `{text}` does not match `{pattern}`", self.describe_node(&pointer))
                };
                self.error(file, code::SCHEMA, message, value_span);
            }
            _ => {
                let what = self.describe_node(&pointer);
                let mut message = error.to_string();
                if let Some(rest) = message.strip_prefix(&instance.to_string()) {
                    message = format!("{} {}", describe_value(&instance), rest.trim_start());
                }
                self.error(file, code::SCHEMA, format!("{what}: {message}"), value_span);
            }
        }
    }

    fn describe_node(&self, pointer: &str) -> String {
        let segs: Vec<&str> = pointer.split('/').skip(1).collect();
        match segs.as_slice() {
            [] => "the plan".into(),
            [.., "steps", i] => format!("step {}", i.parse::<usize>().map_or(0, |i| i + 1)),
            [.., last] if last.bytes().all(|b| b.is_ascii_digit()) => {
                format!("item {} of `{}`", last.parse::<usize>().map_or(0, |i| i + 1), segs[segs.len() - 2])
            }
            [.., last] => format!("`{}`", last.replace("~1", "/").replace("~0", "~")),
        }
    }

    fn enum_message(
        &self,
        pointer: &str,
        text: &str,
        options: &[String],
    ) -> (&'static str, String, Option<String>) {
        if options.iter().any(|o| o == "lba_out_of_range") {
            let message = match text.parse::<nvmeplan_spec::Status>() {
                Err(e) => e.to_string(),
                Ok(_) => format!("unknown status `{text}`"),
            };
            return (
                code::UNKNOWN_STATUS,
                message,
                Some(
                    "write a spec name such as `lba_out_of_range` or `SCT/SC` in hex such as `0x0/0x80`"
                        .into(),
                ),
            );
        }
        if options.iter().any(|o| o == "oacs.format") {
            return (
                code::UNKNOWN_CAPABILITY,
                format!("unknown capability `{text}`{}", did_you_mean(text, options)),
                Some(format!("known capabilities: {}", options.join(", "))),
            );
        }
        if options.iter().any(|o| o == "volatile_write_cache") {
            return (
                code::SCHEMA,
                format!("unknown feature `{text}`{}", did_you_mean(text, options)),
                Some(format!("known features: {} (or a feature identifier number)", options.join(", "))),
            );
        }
        let what = self.describe_node(pointer);
        let help = (options.len() <= 20).then(|| format!("expected one of: {}", options.join(", ")));
        (code::SCHEMA, format!("unknown value `{text}` for {what}{}", did_you_mean(text, options)), help)
    }

    fn explain_step(
        &mut self,
        file: &LoadedFile,
        pointer: &str,
        map: &serde_json::Map<String, Value>,
        pointers: &mut Vec<String>,
    ) {
        let keys = action_keys(map);
        let name = map.get("name").and_then(Value::as_str).map(|n| format!(" `{n}`")).unwrap_or_default();
        match keys.as_slice() {
            [] => {
                let span = file.positions.nearest(pointer).value;
                let unknown: Vec<&String> =
                    map.keys().filter(|k| StepCommon::KEYS.binary_search(&k.as_str()).is_err()).collect();
                let hint = unknown
                    .iter()
                    .find_map(|k| closest(k, Action::NAMES).map(|c| format!(" (`{k}`: did you mean `{c}`?)")))
                    .unwrap_or_default();
                let d = self.error(file, code::ACTION, format!("step{name} has no action{hint}"), span);
                d.help = Some(format!("a step needs exactly one of: {}", Action::NAMES.join(", ")));
            }
            [key] => {
                let key = key.to_string();
                let Some(branch) = schemas().branch(&key) else { return };
                let instance = Value::Object(map.clone());
                let errors: Vec<_> = branch.1.iter_errors(&instance).collect();
                for e in &errors {
                    self.explain(file, &branch.0, e, pointer, pointers);
                }
            }
            [_, second, ..] => {
                let span = file.positions.key_or_value(&join(pointer, second));
                let list = keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
                let d = self.error(
                    file,
                    code::ACTION,
                    format!("step{name} has {} actions ({list}); a step has exactly one", keys.len()),
                    span,
                );
                d.help = Some("split it into one step per action, or put them in a `group`".into());
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn explain_alternatives(
        &mut self,
        file: &LoadedFile,
        schema: &Value,
        prefix: &str,
        pointer: &str,
        instance: &Value,
        context: &[Vec<jsonschema::ValidationError<'static>>],
        pointers: &mut Vec<String>,
    ) {
        let span = file.positions.nearest(pointer).value;
        if let Some(text) = instance.as_str()
            && context.iter().flatten().any(|e| mentions_pattern(e, SIZE_PATTERN))
        {
            let what = self.describe_node(pointer);
            if text.contains("${{") {
                let d = self.error(
                    file,
                    code::TYPE,
                    format!("{what} must be a literal or exactly one `${{{{ expression }}}}`; `{text}` mixes text and expressions"),
                    span,
                );
                d.help =
                    Some("write the whole computation inside one `${{ }}`, e.g. `${{ blocks * 2 }}`".into());
            } else {
                self.error(file, code::SCHEMA, format!("{what}: {}", size_message(text)), span);
            }
            return;
        }
        let here = |e: &jsonschema::ValidationError<'_>| {
            format!("{prefix}{}", e.instance_path().as_str()) == pointer
        };
        // Leaf mismatch: every alternative failed right here on its type,
        // pattern or value set.
        let leaf = context.iter().all(|branch| {
            branch.iter().all(|e| {
                here(e)
                    && matches!(
                        e.kind(),
                        ValidationErrorKind::Type { .. }
                            | ValidationErrorKind::Pattern { .. }
                            | ValidationErrorKind::Enum { .. }
                            | ValidationErrorKind::Constant { .. }
                    )
            })
        });
        if leaf {
            let mut options: Vec<String> = Vec::new();
            let mut expected: Vec<String> = Vec::new();
            let mut pattern_error = None;
            let mut expression_allowed = false;
            for e in context.iter().flatten() {
                match e.kind() {
                    ValidationErrorKind::Enum { options: o } => options.extend(
                        o.as_array().into_iter().flatten().filter_map(|v| v.as_str().map(str::to_string)),
                    ),
                    ValidationErrorKind::Constant { expected_value } => options.push(
                        expected_value.as_str().map_or_else(|| expected_value.to_string(), str::to_string),
                    ),
                    ValidationErrorKind::Pattern { pattern } if pattern.contains("\\$\\{\\{") => {
                        expression_allowed = true;
                        expected.push("a `${{ expression }}`".into());
                    }
                    ValidationErrorKind::Pattern { pattern } => {
                        if instance.is_string() {
                            pattern_error.get_or_insert(e);
                        } else {
                            expected.push(format!("a string matching `{pattern}`"));
                        }
                    }
                    ValidationErrorKind::Type { kind } => expected.push(expected_type(kind)),
                    _ => {}
                }
            }
            if let Some(text) = instance.as_str() {
                if !options.is_empty() {
                    let (code, message, help) = self.enum_message(pointer, text, &options);
                    let d = self.error(file, code, message, span);
                    d.help = help;
                    return;
                }
                if let Some(e) = pattern_error {
                    self.explain(file, schema, e, prefix, pointers);
                    return;
                }
                if expression_allowed && text.contains("${{") {
                    let what = self.describe_node(pointer);
                    let d = self.error(
                        file,
                        code::TYPE,
                        format!("{what} must be a literal or exactly one `${{{{ expression }}}}`; `{text}` mixes text and expressions"),
                        span,
                    );
                    d.help = Some(
                        "write the whole computation inside one `${{ }}`, e.g. `${{ blocks * 2 }}`".into(),
                    );
                    return;
                }
            }
            if !options.is_empty() {
                expected.push(if options.len() <= 8 {
                    format!(
                        "one of {}",
                        options.iter().map(|o| format!("`{o}`")).collect::<Vec<_>>().join(", ")
                    )
                } else {
                    "a known name".into()
                });
            }
            let mut unique = Vec::new();
            for e in expected {
                if !unique.contains(&e) {
                    unique.push(e);
                }
            }
            let what = self.describe_node(pointer);
            self.error(
                file,
                code::SCHEMA,
                format!("{what} must be {}, found {}", unique.join(" or "), describe_value(instance)),
                span,
            );
            return;
        }
        // Otherwise report the alternative that got furthest: deepest
        // errors first, then alternatives whose type matched, then fewest.
        let best = context.iter().filter(|b| !b.is_empty()).max_by_key(|branch| {
            let depth =
                branch.iter().map(|e| e.instance_path().as_str().matches('/').count()).max().unwrap_or(0);
            let type_matched =
                !branch.iter().any(|e| here(e) && matches!(e.kind(), ValidationErrorKind::Type { .. }));
            (depth, type_matched, usize::MAX - branch.len())
        });
        if let Some(branch) = best {
            for e in branch {
                self.explain(file, schema, e, prefix, pointers);
            }
        }
    }
}
