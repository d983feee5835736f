//! Plan validation: collects every problem of a plan at once.
//!
//! The passes, in order, each reporting all it finds:
//! 1. reading and YAML syntax (serde-saphyr);
//! 2. the JSON Schema (jsonschema), with errors mapped back to line and
//!    column through the [`PositionMap`](crate::positions::PositionMap) and, for steps, reported for the
//!    branch of the step's action only;
//! 3. typed deserialization of each step that passed the schema;
//! 4. semantic checks: duplicate names, expressions and their variables,
//!    field names, NLB limits, matrix keys, includes, action-specific rules.
//!
//! When nothing is an error, the steps are expanded into a [`ValidatedPlan`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

use crate::diagnostic::{Diagnostic, Sources, closest, code, did_you_mean};
use crate::expand::{SourceLocation, SourceStep, ValidatedPlan, expand};
use crate::expr::{BUILTIN_ROOTS, Engine, Segment, Template};
use crate::fields;
use crate::load::{LoadedFile, load_file, parse_str, resolve_include};
use crate::plan::admin::{Cns, LogId};
use crate::plan::io::MAX_NLB;
use crate::plan::ioworker::{IO_OPS, IoSize};
use crate::plan::{Action, Plan, Step, StepCommon, action_keys};
use crate::positions::{Span, join};
use crate::schema::plan_schema;

/// Options of a validation.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--var name=value` overrides: known variables in expressions.
    pub vars: BTreeMap<String, Value>,
}

/// The outcome of validating a plan.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Every problem found, in file and position order.
    pub diagnostics: Vec<Diagnostic>,
    /// The text of every file read, for rendering snippets.
    pub sources: Sources,
    /// The resolved plan, when there is no error.
    pub plan: Option<ValidatedPlan>,
}

impl Report {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Validates the plan file at `path` and the files it includes.
pub fn validate_path(path: &Path, options: &Options) -> Report {
    let mut v = Validator::new(options);
    let plan = match load_file(path) {
        Ok(file) => v.plan(file),
        Err(error) => {
            let error = *error;
            if let Some(text) = error.text {
                v.sources.insert(error.diagnostic.file.clone(), text);
            }
            v.diagnostics.push(error.diagnostic);
            None
        }
    };
    v.finish(plan)
}

/// Validates plan text; `name` is the file name diagnostics use and
/// includes resolve relative to it.
pub fn validate_str(name: &str, text: &str, options: &Options) -> Report {
    let mut v = Validator::new(options);
    let plan = match parse_str(name, text) {
        Ok(mut file) => {
            file.path = Some(PathBuf::from(name));
            v.plan(file)
        }
        Err(diagnostic) => {
            v.sources.insert(name, text);
            v.diagnostics.push(*diagnostic);
            None
        }
    };
    v.finish(plan)
}

struct Schemas {
    document: Value,
    root: jsonschema::Validator,
    branches: Mutex<HashMap<String, std::sync::Arc<(Value, jsonschema::Validator)>>>,
}

fn schemas() -> &'static Schemas {
    static SCHEMAS: OnceLock<Schemas> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let document = plan_schema();
        #[allow(clippy::expect_used)]
        let root = jsonschema::draft7::new(&document).expect("the generated plan schema compiles");
        Schemas { document, root, branches: Mutex::new(HashMap::new()) }
    })
}

fn branch_definition(action: &str) -> String {
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

fn is_step_pointer(pointer: &str) -> bool {
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

/// Scope of names an expression may use.
#[derive(Debug, Clone, Default)]
struct Scope {
    vars: BTreeSet<String>,
    saved: BTreeSet<String>,
    matrix: Option<Vec<String>>,
    iteration: bool,
}

struct Validator<'o> {
    options: &'o Options,
    engine: Engine,
    diagnostics: Vec<Diagnostic>,
    sources: Sources,
    include_stack: Vec<PathBuf>,
    plan_device: Option<String>,
    /// Names saved by any step of the plan, to tell "saved later" apart.
    all_saved: BTreeSet<String>,
}

struct FilePlan {
    plan: Plan,
    steps: Vec<SourceStep>,
}

impl<'o> Validator<'o> {
    fn new(options: &'o Options) -> Self {
        Validator {
            options,
            engine: Engine::new(),
            diagnostics: Vec::new(),
            sources: Sources::default(),
            include_stack: Vec::new(),
            plan_device: None,
            all_saved: BTreeSet::new(),
        }
    }

    fn finish(mut self, plan: Option<FilePlan>) -> Report {
        self.diagnostics.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
        self.diagnostics.dedup();
        let plan = match plan {
            Some(fp) if !self.diagnostics.iter().any(Diagnostic::is_error) => {
                let mut vars = fp.plan.vars.clone();
                vars.extend(self.options.vars.clone());
                Some(ValidatedPlan {
                    name: fp.plan.name.clone(),
                    description: fp.plan.description.clone(),
                    tags: fp.plan.tags.clone(),
                    device: fp.plan.device.clone(),
                    vars,
                    steps: expand(&fp.steps, &fp.plan.defaults),
                    defaults: fp.plan.defaults,
                })
            }
            _ => None,
        };
        Report { diagnostics: self.diagnostics, sources: self.sources, plan }
    }

    fn error(
        &mut self,
        file: &LoadedFile,
        code: &'static str,
        message: impl Into<String>,
        span: Span,
    ) -> &mut Diagnostic {
        self.diagnostics.push(Diagnostic::error(code, message, &file.name, Some(span)));
        let last = self.diagnostics.len() - 1;
        &mut self.diagnostics[last]
    }

    /// Validates one file as a plan; returns its typed plan when its header
    /// deserialized.
    fn plan(&mut self, file: LoadedFile) -> Option<FilePlan> {
        self.sources.insert(file.name.clone(), file.text.clone());
        if let Some(p) = &file.path {
            self.include_stack.push(p.clone());
        }
        let schema_errors = self.check_schema(&file);
        let result = self.typed(&file, &schema_errors);
        if file.path.is_some() {
            self.include_stack.pop();
        }
        result
    }

    // ---- schema -----------------------------------------------------------

    /// Runs the schema; returns the pointers that have errors.
    fn check_schema(&mut self, file: &LoadedFile) -> Vec<String> {
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
                for key in unexpected {
                    let child = join(&pointer, key);
                    let span = file.positions.key_or_value(&child);
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
            ValidationErrorKind::Type { kind } => {
                let expected = match kind {
                    jsonschema::error::TypeKind::Single(t) => type_name(&t.to_string()).to_string(),
                    jsonschema::error::TypeKind::Multiple(ts) => ts
                        .iter()
                        .map(|t| type_name(&t.to_string()).to_string())
                        .collect::<Vec<_>>()
                        .join(" or "),
                };
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
                let message = if pattern.as_str() == crate::plan::values::DURATION_PATTERN {
                    format!(
                        "invalid duration `{text}`: expected a number with a unit (ns, us, ms, s, m, h), such as `500ms`"
                    )
                } else if pattern.contains("\\[\\]") {
                    format!("invalid step name `{text}`: names must not contain `/`, `[` or `]`")
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
        if options.iter().any(|o| o == "lba-out-of-range") {
            let message = match text.parse::<nvmeplan_spec::Status>() {
                Err(e) => e.to_string(),
                Ok(_) => format!("unknown status `{text}`"),
            };
            return (
                code::UNKNOWN_STATUS,
                message,
                Some(
                    "write a spec name such as `lba-out-of-range` or `SCT/SC` in hex such as `0x0/0x80`"
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
                    ValidationErrorKind::Type { kind } => expected.push(match kind {
                        jsonschema::error::TypeKind::Single(t) => type_name(&t.to_string()).to_string(),
                        jsonschema::error::TypeKind::Multiple(ts) => ts
                            .iter()
                            .map(|t| type_name(&t.to_string()).to_string())
                            .collect::<Vec<_>>()
                            .join(" or "),
                    }),
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

    // ---- typed ------------------------------------------------------------

    fn typed(&mut self, file: &LoadedFile, schema_errors: &[String]) -> Option<FilePlan> {
        let Value::Object(root) = &file.value else { return None };
        let mut header = root.clone();
        let steps_value = header.insert("steps".into(), Value::Array(Vec::new()));
        let header_has_errors = schema_errors.iter().any(|p| !p.starts_with("/steps"));
        let plan: Option<Plan> = match serde_json::from_value::<Plan>(Value::Object(header)) {
            Ok(p) => Some(p),
            Err(e) => {
                if !header_has_errors {
                    let span = file.positions.nearest("").value;
                    self.error(file, code::TYPE, e.to_string(), span);
                }
                None
            }
        };
        let plan = plan?;
        if self.include_stack.len() <= 1 {
            self.plan_device = plan.device.clone();
        }
        let mut scope = Scope {
            vars: plan.vars.keys().cloned().chain(self.options.vars.keys().cloned()).collect(),
            ..Scope::default()
        };
        let steps = match steps_value {
            Some(Value::Array(items)) => {
                collect_saves(&items, &mut self.all_saved);
                self.steps(file, "/steps", &items, schema_errors, &mut scope)
            }
            _ => Vec::new(),
        };
        Some(FilePlan { plan, steps })
    }

    fn steps(
        &mut self,
        file: &LoadedFile,
        base: &str,
        items: &[Value],
        schema_errors: &[String],
        scope: &mut Scope,
    ) -> Vec<SourceStep> {
        let mut out = Vec::new();
        let mut names: HashMap<String, Span> = HashMap::new();
        for (i, item) in items.iter().enumerate() {
            let pointer = join(base, i.to_string());
            // Duplicate names are checked even for steps with schema errors.
            if let Some(name) = item.get("name").and_then(Value::as_str) {
                let name_pointer = join(&pointer, "name");
                let span = file.positions.nearest(&name_pointer).value;
                if let Some(first) = names.get(name) {
                    let message = format!("duplicate step name `{name}` (first used on line {})", first.line);
                    let d = self.error(file, code::DUPLICATE_NAME, message, span);
                    d.help = Some("step names are stable ids: make each unique among its siblings".into());
                } else {
                    names.insert(name.to_string(), span);
                }
            }
            let prefix = format!("{pointer}/");
            let broken = schema_errors.iter().any(|p| *p == pointer || p.starts_with(&prefix));
            if broken {
                // Still learn what it saves, so later steps do not get
                // spurious unknown-variable errors.
                if let Some(save) = item.get("save").and_then(Value::as_str) {
                    scope.saved.insert(save.to_string());
                }
                continue;
            }
            let step = match serde_json::from_value::<Step>(item.clone()) {
                Ok(step) => step,
                Err(e) => {
                    let span = file.positions.nearest(&pointer).value;
                    self.error(file, code::TYPE, e.to_string(), span);
                    continue;
                }
            };
            let position = file.positions.nearest(&pointer).value;
            let location =
                SourceLocation { file: file.name.clone(), line: position.line, column: position.column };
            let mut source = SourceStep { step, location, children: Vec::new(), vars: BTreeMap::new() };
            self.check_step(file, &pointer, item, &mut source, schema_errors, scope);
            if let Some(save) = &source.step.common.save {
                scope.saved.insert(save.clone());
            }
            out.push(source);
        }
        out
    }

    fn check_step(
        &mut self,
        file: &LoadedFile,
        pointer: &str,
        raw: &Value,
        source: &mut SourceStep,
        schema_errors: &[String],
        outer: &mut Scope,
    ) {
        let common = source.step.common.clone();
        let mut scope = outer.clone();
        if let Some(m) = &common.matrix {
            let mut keys = scope.matrix.clone().unwrap_or_default();
            keys.extend(m.keys());
            scope.matrix = Some(keys);
        }
        if common.repeat.is_some() {
            scope.iteration = true;
        }
        let action_name = source.step.action.name();
        let action_pointer = join(pointer, action_name);

        // Expressions in this step (not in nested steps).
        let mut used = BTreeSet::new();
        let mut strings = Vec::new();
        if let Value::Object(map) = raw {
            for (key, value) in map {
                match key.as_str() {
                    "name" | "matrix" | "spec" | "tags" | "requires" | "save" | "include" => {}
                    "when" => {
                        if let Some(text) = value.as_str() {
                            strings.push((join(pointer, key), text.to_string(), true));
                        }
                    }
                    "assert" => {
                        if let Some(text) = value.as_str() {
                            strings.push((join(pointer, key), text.to_string(), true));
                        }
                    }
                    "group" => {
                        if let Some(d) = value.get("description") {
                            collect_strings(&join(&join(pointer, key), "description"), d, &mut strings);
                        }
                    }
                    _ => collect_strings(&join(pointer, key), value, &mut strings),
                }
            }
        }
        for (p, text, condition) in strings {
            self.check_expressions(file, &p, &text, condition, &scope, &mut used);
        }

        // Nested steps: groups and includes.
        match &source.step.action {
            Action::Group(_) => {
                if let Some(Value::Array(items)) = raw.pointer("/group/steps") {
                    let mut inner = scope.clone();
                    let base = join(&action_pointer, "steps");
                    source.children = self.steps(file, &base, items, schema_errors, &mut inner);
                    outer.saved.extend(inner.saved.difference(&scope.saved).cloned());
                    // Expressions of children count as uses of the matrix.
                    used.extend(self.matrix_uses_in(items));
                }
            }
            Action::Include(include) => {
                let include = include.clone();
                self.include(file, pointer, &include, source, outer);
            }
            _ => {}
        }

        // Matrix keys must be used.
        if let Some(m) = &common.matrix {
            for key in m.axes.keys() {
                if !used.contains(key) && !used.contains("*") {
                    let span = file.positions.key_or_value(&join(&join(pointer, "matrix"), key));
                    let d = self.error(
                        file,
                        code::UNUSED_MATRIX_KEY,
                        format!("matrix key `{key}` is not used by the step"),
                        span,
                    );
                    d.help = Some(format!("use `${{{{ matrix.{key} }}}}` in the step, or remove the key"));
                }
            }
        }

        self.check_action(file, pointer, &source.step, raw);
    }

    fn matrix_uses_in(&self, items: &[Value]) -> BTreeSet<String> {
        let mut strings = Vec::new();
        for (i, item) in items.iter().enumerate() {
            collect_strings(&format!("/{i}"), item, &mut strings);
        }
        let mut used = BTreeSet::new();
        for (_, text, _) in strings {
            for expr in expressions_of(&text, false) {
                if let Ok(names) = self.engine.check(&expr) {
                    note_matrix_uses(&names, &mut used);
                }
            }
        }
        used
    }

    fn check_expressions(
        &mut self,
        file: &LoadedFile,
        pointer: &str,
        text: &str,
        condition: bool,
        scope: &Scope,
        used: &mut BTreeSet<String>,
    ) {
        let span = file.positions.nearest(pointer).value;
        let exprs: Vec<String> = if condition {
            vec![crate::expr::condition_expression(text).to_string()]
        } else {
            match Template::new(text).segments() {
                Ok(segments) => segments
                    .into_iter()
                    .filter_map(|s| match s {
                        Segment::Expr(e, _) => Some(e.to_string()),
                        Segment::Text(_) => None,
                    })
                    .collect(),
                Err(e) => {
                    self.error(file, code::EXPRESSION, format!("{e} in `{text}`"), span);
                    return;
                }
            }
        };
        for expr in exprs {
            let names = match self.engine.check(&expr) {
                Ok(names) => names,
                Err(e) => {
                    self.error(file, code::EXPRESSION, e.to_string(), span);
                    continue;
                }
            };
            note_matrix_uses(&names, used);
            for name in names {
                let root = name.split('.').next().unwrap_or(&name).to_string();
                if root == "matrix" {
                    match &scope.matrix {
                        None => {
                            let d = self.error(
                                file,
                                code::UNKNOWN_VARIABLE,
                                format!("`{name}` used in a step without a `matrix`"),
                                span,
                            );
                            d.help = Some("add `matrix:` to this step or an enclosing group".into());
                        }
                        Some(keys) => {
                            if let Some(key) = name.split('.').nth(1)
                                && !keys.iter().any(|k| k == key)
                            {
                                used.insert("*".to_string());
                                let message =
                                    format!("unknown matrix key `{key}`{}", did_you_mean(key, keys));
                                let d = self.error(file, code::UNKNOWN_VARIABLE, message, span);
                                d.help = Some(format!("this step's matrix has: {}", keys.join(", ")));
                            }
                        }
                    }
                    continue;
                }
                if root == "iteration" {
                    if !scope.iteration {
                        let d = self.error(
                            file,
                            code::UNKNOWN_VARIABLE,
                            "`iteration` used in a step without `repeat`",
                            span,
                        );
                        d.help = Some("add `repeat: N` to this step or an enclosing group".into());
                    }
                    continue;
                }
                if BUILTIN_ROOTS.contains(&root.as_str())
                    || scope.vars.contains(&root)
                    || scope.saved.contains(&root)
                {
                    continue;
                }
                let mut known: Vec<String> = scope.vars.iter().chain(scope.saved.iter()).cloned().collect();
                known.extend(BUILTIN_ROOTS.iter().map(|s| s.to_string()));
                if self.all_saved.contains(&root) {
                    let d = self.error(
                        file,
                        code::UNKNOWN_VARIABLE,
                        format!("`{root}` is used before the step that saves it"),
                        span,
                    );
                    d.help = Some("move this step after the step with `save: ".to_string() + &root + "`");
                } else {
                    let context = if expr.trim() == root { String::new() } else { format!(" in `{expr}`") };
                    let message =
                        format!("unknown variable `{root}`{context}{}", did_you_mean(&root, &known));
                    let d = self.error(file, code::UNKNOWN_VARIABLE, message, span);
                    d.help = Some(format!(
                        "expressions can use plan `vars`, `--var` overrides, saved results, `matrix`, `iteration`, `ctrl`, `ns`, `env`; defined here: {}",
                        if known.is_empty() { "(none)".to_string() } else { known.join(", ") }
                    ));
                }
            }
        }
    }

    fn include(
        &mut self,
        file: &LoadedFile,
        pointer: &str,
        include: &crate::plan::control::Include,
        source: &mut SourceStep,
        outer: &mut Scope,
    ) {
        let value_pointer = match include {
            crate::plan::control::Include::Path(_) => join(pointer, "include"),
            crate::plan::control::Include::Detailed(_) => join(&join(pointer, "include"), "path"),
        };
        let span = file.positions.nearest(&value_pointer).value;
        let path = resolve_include(file.path.as_deref(), include.path());
        if !path.is_file() {
            let d = self.error(
                file,
                code::INCLUDE,
                format!("included file `{}` not found", path.display()),
                span,
            );
            d.help = Some("include paths are relative to the including plan's directory".into());
            return;
        }
        let canonical = path.canonicalize().unwrap_or_else(|_| path.clone());
        if self.include_stack.iter().any(|p| p.canonicalize().unwrap_or_else(|_| p.clone()) == canonical) {
            self.error(
                file,
                code::INCLUDE,
                format!("`{}` includes itself (include cycle)", path.display()),
                span,
            );
            return;
        }
        let loaded = match load_file(&path) {
            Ok(f) => f,
            Err(error) => {
                let error = *error;
                if let Some(text) = error.text {
                    self.sources.insert(error.diagnostic.file.clone(), text);
                }
                self.diagnostics.push(error.diagnostic);
                self.error(
                    file,
                    code::INCLUDE,
                    format!("included file `{}` has errors", path.display()),
                    span,
                );
                return;
            }
        };
        let errors_before = self.diagnostics.iter().filter(|d| d.is_error()).count();
        // Included steps see this plan's names plus the included plan's vars
        // and the include's vars.
        self.sources.insert(loaded.name.clone(), loaded.text.clone());
        self.include_stack.push(path.clone());
        let schema_errors = self.check_schema(&loaded);
        let mut vars = BTreeMap::new();
        if let Some(Value::Object(v)) = loaded.value.get("vars") {
            vars.extend(v.clone());
        }
        if let crate::plan::control::Include::Detailed(d) = include {
            vars.extend(d.vars.clone());
        }
        let mut scope = outer.clone();
        scope.vars.extend(vars.keys().cloned());
        if let Some(Value::Array(items)) = loaded.value.get("steps") {
            collect_saves(items, &mut self.all_saved);
            source.children = self.steps(&loaded, "/steps", items, &schema_errors, &mut scope);
        }
        // Check the included header too.
        let mut header = loaded.value.as_object().cloned().unwrap_or_default();
        header.insert("steps".into(), Value::Array(Vec::new()));
        if let Err(e) = serde_json::from_value::<Plan>(Value::Object(header))
            && !schema_errors.iter().any(|p| !p.starts_with("/steps"))
        {
            let span = loaded.positions.nearest("").value;
            self.error(&loaded, code::TYPE, e.to_string(), span);
        }
        self.include_stack.pop();
        outer.saved.extend(scope.saved);
        source.vars = vars;
        if self.diagnostics.iter().filter(|d| d.is_error()).count() > errors_before {
            self.error(file, code::INCLUDE, format!("included file `{}` has errors", path.display()), span);
        }
    }

    // ---- action rules ------------------------------------------------------

    fn check_action(&mut self, file: &LoadedFile, pointer: &str, step: &Step, raw: &Value) {
        let name = step.action.name();
        let ap = join(pointer, name);
        let at = |p: &str| file.positions.nearest(p).value;
        let key_at = |p: &str| file.positions.key_or_value(p);
        let mut nlb_checks: Vec<(String, u64)> = Vec::new();
        let mut push_nlb = |p: String, v: &crate::plan::Expr<u64>| {
            if let Some(n) = v.literal() {
                nlb_checks.push((p, *n));
            }
        };
        match &step.action {
            Action::Read(r) => push_nlb(join(&ap, "nlb"), &r.nlb),
            Action::Write(w) => push_nlb(join(&ap, "nlb"), &w.nlb),
            Action::Compare(c) => push_nlb(join(&ap, "nlb"), &c.nlb),
            Action::WriteZeroes(w) => push_nlb(join(&ap, "nlb"), &w.nlb),
            Action::WriteUncorrectable(b) | Action::Verify(b) => push_nlb(join(&ap, "nlb"), &b.nlb),
            Action::Deallocate(d) => {
                for (i, r) in d.ranges.iter().enumerate() {
                    if let Some(n) = r.nlb.literal()
                        && (*n == 0 || *n > u64::from(u32::MAX))
                    {
                        let span = at(&join(&join(&join(&ap, "ranges"), i.to_string()), "nlb"));
                        self.error(
                            file,
                            code::RANGE,
                            format!("nlb {n} is out of range: a deallocate range has 1 to 4294967295 blocks"),
                            span,
                        );
                    }
                }
                if d.ranges.is_empty() || d.ranges.len() > 256 {
                    let span = at(&join(&ap, "ranges"));
                    self.error(
                        file,
                        code::RANGE,
                        format!("a deallocate has 1 to 256 ranges, found {}", d.ranges.len()),
                        span,
                    );
                }
            }
            _ => {}
        }
        for (p, n) in nlb_checks {
            if n == 0 || n > MAX_NLB {
                let d = self.error(
                    file,
                    code::RANGE,
                    format!("nlb {n} is out of range: a command moves 1 to {MAX_NLB} blocks"),
                    at(&p),
                );
                d.help = Some("`nlb` counts blocks from 1 (the command's NLB field is zero-based); use an ioworker for larger transfers".into());
            }
        }

        match &step.action {
            Action::Ioworker(workers) => {
                for (i, w) in workers.workers().iter().enumerate() {
                    let wp = match workers {
                        crate::plan::ioworker::IoWorkers::One(_) => ap.clone(),
                        crate::plan::ioworker::IoWorkers::Parallel(_) => join(&ap, i.to_string()),
                    };
                    self.check_ioworker(file, &wp, w);
                }
            }
            Action::Inject(inject) => {
                if inject.action.is_none() && !inject.clear {
                    self.error(
                        file,
                        code::SCHEMA,
                        "an `inject` needs an `action` (or `clear: true`)",
                        key_at(&ap),
                    );
                }
                if let Some(device) = &self.plan_device
                    && !device.starts_with("sim")
                {
                    let message =
                        format!("`inject` needs the simulator, but this plan's device is `{device}`");
                    self.error(file, code::CONFLICT, message, key_at(&ap));
                }
                if let Some(crate::plan::control::OpcodeName::Named(op)) = &inject.matches.opcode
                    && nvmeplan_spec::AdminOpcode::from_name(op).is_none()
                    && nvmeplan_spec::NvmOpcode::from_name(op).is_none()
                {
                    let mut names: Vec<&str> =
                        nvmeplan_spec::AdminOpcode::ALL.iter().map(|o| o.name()).collect();
                    names.extend(nvmeplan_spec::NvmOpcode::ALL.iter().map(|o| o.name()));
                    let message = format!("unknown command `{op}`{}", did_you_mean(op, &names));
                    self.error(file, code::SCHEMA, message, at(&join(&join(&ap, "match"), "opcode")));
                }
            }
            Action::Register(r) if r.write.is_some() && !r.field.is_writable() => {
                let message = format!("register `{}` is read-only", r.field.0);
                self.error(file, code::CONFLICT, message, at(&join(&ap, "write")));
            }
            Action::SetFeatures(s) => {
                if s.value.is_none() && s.fields.is_none() {
                    self.error(file, code::SCHEMA, "`set_features` needs a `value` or `fields`", key_at(&ap));
                }
                if let (Some(fields), Some(fid)) = (&s.fields, s.fid.fid()) {
                    let known = fields::feature_fields(fid);
                    for key in fields.keys() {
                        if !known.contains(&key.as_str()) {
                            let span = file.positions.key_or_value(&join(&join(&ap, "fields"), key));
                            let message = format!(
                                "unknown field `{key}` of feature {}{}",
                                fid_name(fid),
                                did_you_mean(key, known)
                            );
                            let d = self.error(file, code::UNKNOWN_FIELD, message, span);
                            d.help = Some(format!("fields of this feature: {}", list_or_none(known)));
                        }
                    }
                }
            }
            _ => {}
        }

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
        let _ = raw;
    }

    fn check_ioworker(&mut self, file: &LoadedFile, wp: &str, w: &crate::plan::ioworker::IoWorker) {
        let at = |p: &str| file.positions.nearest(p).value;
        let key_at = |p: &str| file.positions.key_or_value(p);
        if w.read_percentage.is_some() && w.op_percentage.is_some() {
            let span = key_at(&join(wp, "op_percentage"));
            self.error(
                file,
                code::CONFLICT,
                "`read_percentage` and `op_percentage` exclude each other",
                span,
            );
        }
        if let Some(crate::plan::Expr::Literal(p)) = &w.read_percentage
            && *p > 100
        {
            self.error(
                file,
                code::RANGE,
                format!("read_percentage {p} is above 100"),
                at(&join(wp, "read_percentage")),
            );
        }
        if let Some(ops) = &w.op_percentage {
            let op_pointer = join(wp, "op_percentage");
            for key in ops.keys() {
                let raw_opcode = key
                    .strip_prefix("0x")
                    .map(|h| u8::from_str_radix(h, 16).is_ok())
                    .unwrap_or_else(|| key.parse::<u8>().is_ok());
                if !IO_OPS.contains(&key.as_str()) && !raw_opcode {
                    let span = file.positions.key_or_value(&join(&op_pointer, key));
                    let d = self.error(
                        file,
                        code::SCHEMA,
                        format!("unknown operation `{key}`{}", did_you_mean(key, IO_OPS)),
                        span,
                    );
                    d.help =
                        Some(format!("operations: {} or a raw opcode such as `0x99`", IO_OPS.join(", ")));
                }
            }
            let sum: u32 = ops.values().map(|v| u32::from(*v)).sum();
            if sum != 100 {
                self.error(
                    file,
                    code::RANGE,
                    format!("op_percentage adds up to {sum}, not 100"),
                    at(&op_pointer),
                );
            }
        }
        if w.time.is_none() && w.io_count.is_none() && w.io_sequence.is_none() {
            let d = self.error(
                file,
                code::SCHEMA,
                "an ioworker needs `time`, `io_count` or `io_sequence` to know when to stop",
                key_at(wp),
            );
            d.help = Some("add e.g. `time: 10s`".into());
        }
        if let Some(dist) = &w.distribution {
            let sum: u64 = dist.iter().map(|v| u64::from(*v)).sum();
            if dist.len() != 100 || sum != 10_000 {
                let message = format!(
                    "`distribution` needs 100 buckets summing to 10000, found {} summing to {sum}",
                    dist.len()
                );
                self.error(file, code::RANGE, message, at(&join(wp, "distribution")));
            }
        }
        if let (Some(crate::plan::Expr::Literal(s)), Some(crate::plan::Expr::Literal(e))) =
            (&w.region_start, &w.region_end)
            && e <= s
        {
            self.error(
                file,
                code::RANGE,
                format!("region_end {e} is not after region_start {s}"),
                at(&join(wp, "region_end")),
            );
        }
        let size_pointer = join(wp, "io_size");
        let sizes: Vec<u64> = match &w.io_size {
            Some(IoSize::Fixed(crate::plan::Expr::Literal(n))) => vec![u64::from(*n)],
            Some(IoSize::List(v)) => v.iter().map(|n| u64::from(*n)).collect(),
            Some(IoSize::Range(r)) => {
                if r.min > r.max {
                    self.error(
                        file,
                        code::RANGE,
                        format!("io_size min {} is above max {}", r.min, r.max),
                        at(&size_pointer),
                    );
                }
                vec![u64::from(r.min), u64::from(r.max)]
            }
            Some(IoSize::Weighted(m)) => m.keys().filter_map(|k| k.parse().ok()).collect(),
            _ => Vec::new(),
        };
        if let Some(bad) = sizes.iter().find(|n| **n == 0 || **n > MAX_NLB) {
            self.error(
                file,
                code::RANGE,
                format!("io_size {bad} is out of range: 1 to {MAX_NLB} blocks"),
                at(&size_pointer),
            );
        }
    }
}

fn list_or_none(list: &[&str]) -> String {
    if list.is_empty() { "(none)".into() } else { list.join(", ") }
}

fn fid_name(fid: u8) -> String {
    nvmeplan_spec::features::feature_name(fid).map_or_else(|| format!("{fid:#04x}"), |n| format!("`{n}`"))
}

fn note_matrix_uses(names: &BTreeSet<String>, used: &mut BTreeSet<String>) {
    for name in names {
        let mut parts = name.split('.');
        if parts.next() == Some("matrix") {
            match parts.next() {
                Some(key) => used.insert(key.to_string()),
                None => used.insert("*".to_string()),
            };
        }
    }
}

fn expressions_of(text: &str, condition: bool) -> Vec<String> {
    if condition {
        return vec![crate::expr::condition_expression(text).to_string()];
    }
    Template::new(text)
        .segments()
        .map(|segs| {
            segs.into_iter()
                .filter_map(|s| match s {
                    Segment::Expr(e, _) => Some(e.to_string()),
                    Segment::Text(_) => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Every string with `${{` below `value` (and every `when`/`assert`).
fn collect_strings(pointer: &str, value: &Value, out: &mut Vec<(String, String, bool)>) {
    match value {
        Value::String(s) => {
            let condition = pointer.ends_with("/when") || pointer.ends_with("/assert");
            if condition || s.contains("${{") {
                out.push((pointer.to_string(), s.clone(), condition));
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                collect_strings(&join(pointer, i.to_string()), v, out);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                collect_strings(&join(pointer, k), v, out);
            }
        }
        _ => {}
    }
}

fn collect_saves(items: &[Value], out: &mut BTreeSet<String>) {
    for item in items {
        if let Some(s) = item.get("save").and_then(Value::as_str) {
            out.insert(s.to_string());
        }
        if let Some(Value::Array(children)) = item.pointer("/group/steps") {
            collect_saves(children, out);
        }
    }
}

impl StepCommon {
    /// The common step keys, sorted.
    pub const KEYS: &'static [&'static str] = &[
        "continue_on_error",
        "expect",
        "matrix",
        "name",
        "repeat",
        "requires",
        "save",
        "spec",
        "tags",
        "timeout",
        "when",
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_pointers() {
        assert!(is_step_pointer("/steps/3"));
        assert!(is_step_pointer("/steps/3/group/steps/0"));
        assert!(!is_step_pointer("/steps/3/read"));
        assert!(!is_step_pointer("/steps"));
    }

    #[test]
    fn branch_names() {
        assert_eq!(branch_definition("get_log_page"), "GetLogPageStep");
        let defs = &schemas().document["definitions"];
        for name in Action::NAMES {
            assert!(defs.get(branch_definition(name)).is_some(), "{name}");
        }
    }

    #[test]
    fn common_keys_match_schema() {
        let defs = &schemas().document["definitions"];
        let props = defs["SleepStep"]["properties"].as_object().unwrap();
        let mut keys: Vec<&str> = props.keys().map(String::as_str).filter(|k| *k != "sleep").collect();
        keys.sort_unstable();
        assert_eq!(keys, StepCommon::KEYS);
    }

    #[test]
    fn valid_plan_resolves() {
        let text = "plan_version: 1\nname: t\nvars: { n: 2 }\nsteps:\n  - name: w\n    matrix: { qd: [1, 2] }\n    write: { slba: 0, nlb: \"${{ matrix.qd * n }}\" }\n";
        let report = validate_str("t.yaml", text, &Options::default());
        assert!(report.diagnostics.is_empty(), "{:#?}", report.diagnostics);
        let plan = report.plan.unwrap();
        assert_eq!(plan.steps.len(), 2);
        assert_eq!(plan.steps[1].id, "w[qd=2]");
    }

    #[test]
    fn many_problems_at_once() {
        let text = "plan_version: 1\nname: t\nsteps:\n  - name: a\n    read: { slba: 0, nlb: 0 }\n  - name: a\n    sleep: 1s\n  - name: b\n    log: \"${{ nope }}\"\n";
        let report = validate_str("t.yaml", text, &Options::default());
        let codes: Vec<&str> = report.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(
            codes,
            [code::RANGE, code::DUPLICATE_NAME, code::UNKNOWN_VARIABLE],
            "{:#?}",
            report.diagnostics
        );
        assert!(report.plan.is_none());
    }

    #[test]
    fn var_overrides_are_known() {
        let text = "plan_version: 1\nname: t\nsteps:\n  - name: b\n    log: \"${{ extra }}\"\n";
        let mut options = Options::default();
        options.vars.insert("extra".into(), 1.into());
        assert!(!validate_str("t.yaml", text, &options).has_errors());
    }
}
