//! Steps: typed deserialization of the plan header and of each step that
//! passed the schema, duplicate step names, what each step saves, matrix
//! keys that a step must use, nested groups and included files.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use serde_json::Value;

use super::expressions::collect_strings;
use super::size::{MAX_STEPS, SizeCounter};
use super::{FilePlan, Scope, Validator};
use crate::diagnostic::code;
use crate::expand::{SourceLocation, SourceStep};
use crate::input::InputKind;
use crate::input::paths::{PathError, plan_dir};
use crate::load::{LoadedFile, load_input};
use crate::plan::{Action, Plan, Step, StepCommon};
use crate::positions::{Span, join};

impl Validator<'_> {
    pub(super) fn typed(&mut self, file: &LoadedFile, schema_errors: &[String]) -> Option<FilePlan> {
        let Value::Object(root) = &file.value else { return None };
        let plan = self.header(file, schema_errors)?;
        if self.include_stack.len() <= 1 {
            self.plan_device = plan.device.clone();
            self.plan_sim =
                plan.device.as_deref().and_then(|uri| match nvmeplan_device::DeviceUri::parse(uri) {
                    Ok(parsed) => match parsed.target() {
                        nvmeplan_device::DeviceTarget::Sim(config) => Some((**config).clone()),
                        nvmeplan_device::DeviceTarget::Pci(_) => None,
                    },
                    Err(_) => None,
                });
        }
        self.variables.extend(plan.vars.keys().cloned());
        let mut scope = Scope {
            vars: plan.vars.keys().cloned().chain(self.options.vars.keys().cloned()).collect(),
            ..Scope::default()
        };
        if self.include_stack.len() <= 1 && self.too_large(file) {
            return Some(FilePlan { plan, steps: Vec::new() });
        }
        let steps = match root.get("steps") {
            Some(Value::Array(items)) => {
                collect_saves(items, &mut self.all_saved);
                self.steps(file, "/steps", items, schema_errors, &mut scope)
            }
            _ => Vec::new(),
        };
        Some(FilePlan { plan, steps })
    }

    /// Whether the plan `file` expands to more than [`MAX_STEPS`] steps; if
    /// so, one error says so at the step that makes most of them.
    fn too_large(&mut self, file: &LoadedFile) -> bool {
        let size = SizeCounter::new(&self.paths).plan(file.path.as_deref(), &file.value);
        if size.total <= MAX_STEPS {
            return false;
        }
        let (index, most) = size.largest.unwrap_or((0, size.total));
        let pointer = format!("/steps/{index}");
        let name = file.value.pointer(&format!("{pointer}/name")).and_then(Value::as_str).unwrap_or("?");
        let span = file.positions.nearest(&pointer).value;
        let message = format!(
            "the plan expands to {} steps, more than the limit of {MAX_STEPS}; step `{name}` alone expands to {most}",
            size.total
        );
        self.error(file, code::RANGE, message, span).help = Some(
            "matrix combinations, repeats, groups and included files multiply: shrink the matrix or repeat, or split the plan".into(),
        );
        true
    }

    /// Deserializes the header of `file` (the plan without its steps); a
    /// failure is reported unless the schema found an error outside the
    /// steps already.
    fn header(&mut self, file: &LoadedFile, schema_errors: &[String]) -> Option<Plan> {
        let mut header = file.value.as_object().cloned().unwrap_or_default();
        header.insert("steps".into(), Value::Array(Vec::new()));
        match serde_json::from_value::<Plan>(Value::Object(header)) {
            Ok(plan) => Some(plan),
            Err(e) => {
                if !schema_errors.iter().any(|p| !p.starts_with("/steps")) {
                    let span = file.positions.nearest("").value;
                    self.error(file, code::TYPE, e.to_string(), span);
                }
                None
            }
        }
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
                    let error = TypeError::locate(item).unwrap_or(TypeError {
                        pointer: String::new(),
                        message: e.to_string(),
                        code: code::TYPE,
                    });
                    let span = file.positions.nearest(&format!("{pointer}{}", error.pointer)).value;
                    self.error(file, error.code, error.message, span);
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

        self.check_action(file, pointer, &source.step);
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
        let from = file.path.as_deref().map_or_else(|| PathBuf::from("."), plan_dir);
        let (path, canonical) = match self.paths.resolve(&from, include.path(), InputKind::Include) {
            Ok(r) => (r.path, r.canonical),
            Err(e) => {
                let help = match e {
                    PathError::Input(_) => "include paths are relative to the including plan's directory",
                    _ => "includes may name files in the plan's directory and its subdirectories",
                };
                self.error(file, code::INCLUDE, e.to_string(), span).help = Some(help.into());
                return;
            }
        };
        if self.include_stack.iter().any(|p| p.canonicalize().unwrap_or_else(|_| p.clone()) == canonical) {
            self.error(
                file,
                code::INCLUDE,
                format!("`{}` includes itself (include cycle)", path.display()),
                span,
            );
            return;
        }
        let mut loaded = match load_input(&path, InputKind::Include) {
            Ok(f) => f,
            Err(error) => {
                // A file that was not read has no diagnostics of its own
                // to show: its reason is this include's error.
                if error.text.is_none() {
                    self.error(file, code::INCLUDE, error.diagnostic.message, span);
                    return;
                }
                self.load_failed(*error);
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
        super::aliases::canonicalize_names(&mut loaded.value);
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
        self.variables.extend(vars.keys().cloned());
        if let Some(Value::Array(items)) = loaded.value.get("steps") {
            collect_saves(items, &mut self.all_saved);
            source.children = self.steps(&loaded, "/steps", items, &schema_errors, &mut scope);
        }
        // Check the included header too.
        self.header(&loaded, &schema_errors);
        self.include_stack.pop();
        outer.saved.extend(scope.saved);
        source.vars = vars;
        if self.diagnostics.iter().filter(|d| d.is_error()).count() > errors_before {
            self.error(file, code::INCLUDE, format!("included file `{}` has errors", path.display()), span);
        }
    }
}

/// A step that failed typed deserialization: where in it, and why.
struct TypeError {
    /// The pointer of the bad value below the step's.
    pointer: String,
    message: String,
    code: &'static str,
}

impl TypeError {
    /// Finds the value that fails in the step mapping `item`, deserializing
    /// its common keys and its action apart (as [`Step`] does) with their
    /// paths tracked. `None` when the step has no single action (the
    /// schema pass says so) or both parts deserialize.
    fn locate(item: &Value) -> Option<TypeError> {
        let Value::Object(map) = item else { return None };
        let (common, action) = crate::plan::split_step(map.clone()).ok()?;
        let error = match serde_path_to_error::deserialize::<_, StepCommon>(Value::Object(common)) {
            Err(e) => e,
            Ok(_) => serde_path_to_error::deserialize::<_, Action>(Value::Object(action)).err()?,
        };
        let mut pointer = String::new();
        let mut field = None;
        for segment in error.path().iter() {
            match segment {
                serde_path_to_error::Segment::Seq { index } => pointer = join(&pointer, index.to_string()),
                serde_path_to_error::Segment::Map { key }
                | serde_path_to_error::Segment::Enum { variant: key } => {
                    pointer = join(&pointer, key);
                    field = Some(key.clone());
                }
                serde_path_to_error::Segment::Unknown => break,
            }
        }
        let inner = error.into_inner().to_string();
        let (code, reason) = match out_of_range(&inner) {
            Some(reason) => (code::RANGE, reason),
            None => (code::TYPE, inner),
        };
        let message = match field {
            Some(f) => format!("`{f}`: {reason}"),
            None => reason,
        };
        Some(TypeError { pointer, message, code })
    }
}

/// serde's "invalid value: integer `N`, expected u32" in plan words: the
/// value and the range of the integer type.
fn out_of_range(message: &str) -> Option<String> {
    let rest = message.strip_prefix("invalid value: integer `")?;
    let (value, ty) = rest.split_once("`, expected ")?;
    let (min, max): (i128, i128) = match ty {
        "u8" => (0, u8::MAX.into()),
        "u16" => (0, u16::MAX.into()),
        "u32" => (0, u32::MAX.into()),
        "u64" => (0, u64::MAX.into()),
        "i8" => (i8::MIN.into(), i8::MAX.into()),
        "i16" => (i16::MIN.into(), i16::MAX.into()),
        "i32" => (i32::MIN.into(), i32::MAX.into()),
        "i64" => (i64::MIN.into(), i64::MAX.into()),
        _ => return None,
    };
    Some(format!("`{value}` is out of range: {min} to {max}"))
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
