//! How many steps a plan expands to, before it is expanded.
//!
//! Matrices multiply, repeats multiply, and an include names a file that
//! may include others: a plan of a few lines (a 1000 × 1000 matrix, a
//! diamond of includes 26 levels deep) expands to millions of steps, and
//! building them exhausts memory long before a run starts. So the plan's
//! expanded size is counted first, on the raw documents, with each included
//! file counted once and reused ([`SizeCounter`]); a plan over
//! [`MAX_STEPS`] gets one error naming the count, the limit and the step
//! that makes most of it, and is not validated further.
//!
//! Counting is forgiving: a step or include with errors counts as one step
//! and the rest of validation reports it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::input::InputKind;
use crate::input::paths::{PathPolicy, plan_dir};
use crate::load::load_input;
use crate::plan::matrix::Matrix;

/// The most steps a plan may expand to: every matrix combination, every
/// repetition, every group and include, counted through nested groups and
/// included files.
pub const MAX_STEPS: u64 = 100_000;

/// The expanded size of the top-level steps of a plan.
#[derive(Debug, Default)]
pub struct PlanSize {
    /// Steps in all.
    pub total: u64,
    /// The top-level step that expands to the most steps: its index in
    /// `steps` and its count.
    pub largest: Option<(usize, u64)>,
}

/// Counts expanded steps, remembering each included file's count.
pub struct SizeCounter<'p> {
    paths: &'p PathPolicy,
    /// Steps per included file (by canonical path).
    files: HashMap<PathBuf, u64>,
    /// The files being counted, to stop at include cycles.
    stack: Vec<PathBuf>,
}

impl<'p> SizeCounter<'p> {
    /// A counter resolving includes with `paths`.
    pub fn new(paths: &'p PathPolicy) -> Self {
        SizeCounter { paths, files: HashMap::new(), stack: Vec::new() }
    }

    /// The size of the plan `root` (the top document) at `file`.
    pub fn plan(&mut self, file: Option<&Path>, root: &Value) -> PlanSize {
        let dir = file.map_or_else(|| PathBuf::from("."), plan_dir);
        if let Some(f) = file {
            self.stack.push(f.canonicalize().unwrap_or_else(|_| f.to_path_buf()));
        }
        let mut size = PlanSize::default();
        for (i, step) in steps_of(root).iter().enumerate() {
            let n = self.step(&dir, step);
            size.total = size.total.saturating_add(n);
            if size.largest.is_none_or(|(_, most)| n > most) {
                size.largest = Some((i, n));
            }
        }
        self.stack.clear();
        size
    }

    fn steps(&mut self, dir: &Path, steps: &[Value]) -> u64 {
        steps.iter().fold(0u64, |sum, s| sum.saturating_add(self.step(dir, s)))
    }

    /// One step: its matrix combinations times its repetitions, each one
    /// step plus what it contains.
    fn step(&mut self, dir: &Path, step: &Value) -> u64 {
        let combinations = match step.get("matrix") {
            Some(m) => serde_json::from_value::<Matrix>(m.clone()).map_or(1, |m| m.count()),
            None => 1,
        };
        let repeat = step.get("repeat").and_then(Value::as_u64).unwrap_or(1);
        let inner = match (step.get("group"), step.get("include")) {
            (Some(group), _) => self.steps(dir, steps_of(group)),
            (None, Some(include)) => self.include(dir, include),
            _ => 0,
        };
        combinations.saturating_mul(repeat).saturating_mul(inner.saturating_add(1))
    }

    fn include(&mut self, dir: &Path, include: &Value) -> u64 {
        let Some(path) = include.as_str().or_else(|| include.get("path").and_then(Value::as_str)) else {
            return 0;
        };
        let Ok(resolved) = self.paths.resolve(dir, path, InputKind::Include) else { return 0 };
        if let Some(n) = self.files.get(&resolved.canonical) {
            return *n;
        }
        if self.stack.contains(&resolved.canonical) {
            return 0;
        }
        let Ok(file) = load_input(&resolved.path, InputKind::Include) else { return 0 };
        self.stack.push(resolved.canonical.clone());
        let n = self.steps(&plan_dir(&resolved.path), steps_of(&file.value));
        self.stack.pop();
        self.files.insert(resolved.canonical, n);
        n
    }
}

fn steps_of(document: &Value) -> &[Value] {
    document.get("steps").and_then(Value::as_array).map_or(&[], Vec::as_slice)
}
