//! Plan validation: collects every problem of a plan at once.
//!
//! The passes, in order, each reporting all it finds:
//! 1. reading and YAML syntax (serde-saphyr), then the kebab-case aliases
//!    of names rewritten to their snake_case spelling;
//! 2. the JSON Schema (jsonschema), with errors mapped back to line and
//!    column through the [`PositionMap`](crate::positions::PositionMap) and, for steps, reported for the
//!    branch of the step's action only;
//! 3. typed deserialization of each step that passed the schema;
//! 4. semantic checks: duplicate names, expressions and their variables,
//!    field names, NLB limits, matrix keys, includes, action-specific rules.
//!
//! When nothing is an error, the steps are expanded into a [`ValidatedPlan`].
//!
//! This module owns the entry points ([`validate_path`], [`validate_str`]),
//! the [`Options`] and [`Report`] types and the validator's state; each pass
//! lives in its own file:
//!
//! | file | owns |
//! |---|---|
//! | `aliases.rs` | accepted alternative spellings of names (`lba-out-of-range`) |
//! | `schema.rs` | the JSON Schema pass and the wording of schema errors |
//! | `size.rs` | how many steps a plan expands to, and the cap on it |
//! | `steps.rs` | typed deserialization, step lists, duplicate names, matrices, includes |
//! | `ids.rs` | step ids that two steps share after expansion |
//! | `expressions.rs` | `${{ }}` expressions and the names they may use |
//! | `actions.rs` | action-specific rules: NLB limits, ioworkers, inject, registers, features |
//! | `expect.rs` | `expect` keys per action and the field names they check |
//! | `paths.rs` | files a plan names outside includes: `firmware_download { file }` |

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::diagnostic::{Diagnostic, Sources};
use crate::expand::{SourceStep, ValidatedPlan, expand};
use crate::expr::Engine;
use crate::input::paths::PathPolicy;
use crate::load::{LoadError, LoadedFile, load_file, parse_str};
use crate::plan::Plan;
use crate::positions::Span;

mod action_check;
mod actions;
mod aliases;
mod expect;
mod expressions;
mod ids;
mod paths;
mod schema;
mod size;
mod steps;

pub use action_check::{ActionCheck, RangeCheck};
pub use size::MAX_STEPS;
#[cfg(test)]
mod tests;

/// Options of a validation.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--var name=value` overrides: known variables in expressions.
    pub vars: BTreeMap<String, Value>,
    /// `--env NAME`: environment variables expressions may read besides
    /// `NVMEPLAN_*` (see [`crate::input::env`]).
    pub env: Vec<String>,
    /// `--allow-path DIR`: directories outside the plan's that `include`
    /// and firmware files may name (see [`crate::input::paths`]).
    pub allow_paths: Vec<PathBuf>,
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
    /// The variables the plan and its includes declare (`vars`) or their
    /// expressions read; a `--var` outside this set is used by nothing.
    pub variables: BTreeSet<String>,
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
            v.load_failed(*error);
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
    /// Where includes and firmware files may point, from the top plan.
    paths: PathPolicy,
    plan_device: Option<String>,
    /// The simulator the plan's device names, if it names one (for LBA
    /// sizes, MDTS and namespace sizes known before the run).
    plan_sim: Option<nvmeplan_sim::SimConfig>,
    /// Names saved by any step of the plan, to tell "saved later" apart.
    all_saved: BTreeSet<String>,
    /// Variables declared or read (see [`Report::variables`]).
    variables: BTreeSet<String>,
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
            paths: PathPolicy { root: PathBuf::from("."), allowed: options.allow_paths.clone() },
            plan_device: None,
            plan_sim: None,
            all_saved: BTreeSet::new(),
            variables: BTreeSet::new(),
        }
    }

    fn finish(mut self, plan: Option<FilePlan>) -> Report {
        self.diagnostics.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
        self.diagnostics.dedup();
        let plan = match plan {
            Some(fp) if !self.diagnostics.iter().any(Diagnostic::is_error) => {
                let mut vars = fp.plan.vars.clone();
                vars.extend(self.options.vars.clone());
                let steps = expand(&fp.steps, &fp.plan.defaults);
                self.diagnostics.extend(ids::duplicate_ids(&steps, &self.sources));
                Some(ValidatedPlan {
                    name: fp.plan.name.clone(),
                    description: fp.plan.description.clone(),
                    spec_revision: fp.plan.spec_revision.clone(),
                    tags: fp.plan.tags.clone(),
                    device: fp.plan.device.clone(),
                    vars,
                    steps,
                    defaults: fp.plan.defaults,
                    finish: fp.plan.finish,
                    queues: fp.plan.queues,
                })
            }
            _ => None,
        };
        let plan = plan.filter(|_| !self.diagnostics.iter().any(Diagnostic::is_error));
        Report { diagnostics: self.diagnostics, sources: self.sources, plan, variables: self.variables }
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

    /// Records a file that could not be read or parsed: its diagnostic, and
    /// its text when it was read.
    fn load_failed(&mut self, error: LoadError) {
        if let Some(text) = error.text {
            self.sources.insert(error.diagnostic.file.clone(), text);
        }
        self.diagnostics.push(error.diagnostic);
    }

    /// Validates one file as a plan; returns its typed plan when its header
    /// deserialized.
    fn plan(&mut self, mut file: LoadedFile) -> Option<FilePlan> {
        aliases::canonicalize_names(&mut file.value);
        self.sources.insert(file.name.clone(), file.text.clone());
        if let Some(p) = &file.path {
            if self.include_stack.is_empty() {
                self.paths = PathPolicy::for_plan(p, &self.options.allow_paths);
            }
            self.include_stack.push(p.clone());
        }
        let schema_errors = self.check_schema(&file);
        let result = self.typed(&file, &schema_errors);
        if file.path.is_some() {
            self.include_stack.pop();
        }
        result
    }
}
