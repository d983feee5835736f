//! Expressions: every `${{ }}` of a step and every `when`/`assert`
//! condition is parsed, and the names it uses are checked against what the
//! step can see (plan and `--var` variables, saved results, its matrix keys,
//! `iteration` under a `repeat`, the built-in roots).

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Scope, Validator};
use crate::diagnostic::{code, did_you_mean};
use crate::expr::{BUILTIN_ROOTS, ExprError, Segment, Template};
use crate::input::env;
use crate::load::LoadedFile;
use crate::positions::join;

impl Validator<'_> {
    pub(super) fn matrix_uses_in(&self, items: &[Value]) -> BTreeSet<String> {
        let mut strings = Vec::new();
        for (i, item) in items.iter().enumerate() {
            collect_strings(&format!("/{i}"), item, &mut strings);
        }
        let mut used = BTreeSet::new();
        for (_, text, _) in strings {
            for expr in expressions_of(&text, false).unwrap_or_default() {
                if let Ok(names) = self.engine.check(&expr) {
                    note_matrix_uses(&names, &mut used);
                }
            }
        }
        used
    }

    pub(super) fn check_expressions(
        &mut self,
        file: &LoadedFile,
        pointer: &str,
        text: &str,
        condition: bool,
        scope: &Scope,
        used: &mut BTreeSet<String>,
    ) {
        let span = file.positions.nearest(pointer).value;
        let exprs = match expressions_of(text, condition) {
            Ok(exprs) => exprs,
            Err(e) => {
                self.error(file, code::EXPRESSION, format!("{e} in `{text}`"), span);
                return;
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
                if root == "env"
                    && let Some(var) = name.split('.').nth(1)
                    && !env::is_visible(var, &self.options.env)
                {
                    let d = self.error(
                        file,
                        code::UNKNOWN_VARIABLE,
                        format!("environment variable `{var}` is not visible to plans"),
                        span,
                    );
                    d.help = Some(format!(
                        "expressions see only `{}*` variables and those named with `--env {var}`",
                        env::PREFIX
                    ));
                    continue;
                }
                if scope.vars.contains(&root) {
                    self.variables.insert(root.clone());
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
                        "expressions can use plan `vars`, `--var` overrides, saved results, `matrix`, `iteration`, `ctrl`, `ns`, `cap`, `env`, `interrupts`; defined here: {}",
                        if known.is_empty() { "(none)".to_string() } else { known.join(", ") }
                    ));
                }
            }
        }
    }
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

/// The expressions in `text`: the whole text of a condition (`when`,
/// `assert`), otherwise the source of each `${{ }}` of the template.
fn expressions_of(text: &str, condition: bool) -> Result<Vec<String>, ExprError> {
    if condition {
        return Ok(vec![crate::expr::condition_expression(text).to_string()]);
    }
    let template = Template::new(text);
    let segments = template.segments()?;
    Ok(segments
        .into_iter()
        .filter_map(|s| match s {
            Segment::Expr(e, _) => Some(e.to_string()),
            Segment::Text(_) => None,
        })
        .collect())
}

/// Every string with `${{` below `value` (and every `when`/`assert`).
pub(super) fn collect_strings(pointer: &str, value: &Value, out: &mut Vec<(String, String, bool)>) {
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
