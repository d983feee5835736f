//! Expansion of `matrix` and `repeat` into resolved steps with stable ids,
//! and the resolved plan a runner consumes.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use crate::plan::{Action, Capability, Defaults, Expect, Step};

/// Timeout of a step when neither it nor `defaults.timeout` sets one.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Namespace ID of commands that give none when `defaults.nsid` is not set.
pub const DEFAULT_NSID: u32 = 1;

/// Where a step was written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceLocation {
    /// The file.
    pub file: String,
    /// Line, 1-based.
    pub line: usize,
    /// Column, 1-based.
    pub column: usize,
}

/// Values a step's expressions see besides the plan's: matrix values,
/// the repeat iteration and variables of an include.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Bindings {
    /// `matrix.<key>` values of this expansion.
    pub matrix: BTreeMap<String, Value>,
    /// The 1-based `iteration` of a repeated step.
    pub iteration: Option<u32>,
    /// Variables of the include(s) this step came from, over the plan's.
    pub vars: BTreeMap<String, Value>,
}

/// What a resolved step does.
#[derive(Debug, Clone, PartialEq)]
pub enum StepKind {
    /// One action; never [`Action::Group`] or [`Action::Include`].
    Action(Box<Action>),
    /// A group or an include: the steps run in order.
    Group(Vec<ResolvedStep>),
}

/// A step after validation and expansion: what a runner executes.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedStep {
    /// The stable id: parent ids, `/`, the name, and `[key=value,...]` for a
    /// matrix expansion and `[n]` for a repetition (`qd sweep[qd=4]`,
    /// `soak[2]`, `setup/identify`).
    pub id: String,
    /// The step's name as written.
    pub name: String,
    /// What the step does.
    pub kind: StepKind,
    /// The expected outcome; `None` means `success`.
    pub expect: Option<Expect>,
    /// Save the result under this name.
    pub save: Option<String>,
    /// Run only when this condition is true (see [`crate::expr::Engine::eval_condition`]).
    pub when: Option<String>,
    /// Tags of the step.
    pub tags: Vec<String>,
    /// Capabilities the device must have, or the step is skipped.
    pub requires: Vec<Capability>,
    /// The step's timeout (its own, else `defaults.timeout`, else 10 s).
    pub timeout: Duration,
    /// Whether `timeout` is the step's own or `defaults.timeout` (not the
    /// built-in 10 s), so that it bounds a step's own length too.
    pub timeout_set: bool,
    /// Keep running after this step fails.
    pub continue_on_error: bool,
    /// Spec section or test-case id.
    pub spec: Option<String>,
    /// Matrix, iteration and include variables.
    pub bindings: Bindings,
    /// Where the step was written.
    pub location: SourceLocation,
}

impl ResolvedStep {
    /// How long the step may take when it runs `action`: its timeout when
    /// set, else the default timeout plus the length the action asks for
    /// itself (a sleep, a wait, a worker's `time`).
    pub fn limit(&self, action: &Action) -> std::time::Duration {
        if self.timeout_set { self.timeout } else { self.timeout.saturating_add(action.own_length()) }
    }
}

/// A validated plan with its steps resolved: includes spliced in as groups,
/// matrices and repeats expanded, defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedPlan {
    /// The plan's name.
    pub name: String,
    /// What it tests.
    pub description: Option<String>,
    /// The specification revision the steps' `spec` references follow.
    pub spec_revision: Option<String>,
    /// Plan tags.
    pub tags: Vec<String>,
    /// The default device URI, if the plan names one.
    pub device: Option<String>,
    /// Plan variables with `--var` overrides applied.
    pub vars: BTreeMap<String, Value>,
    /// The plan's defaults.
    pub defaults: Defaults,
    /// How the run ends for the device.
    pub finish: crate::plan::control::Finish,
    /// When the runner's I/O queue pair is created.
    pub queues: crate::plan::control::Queues,
    /// The steps, in order.
    pub steps: Vec<ResolvedStep>,
}

impl ValidatedPlan {
    /// The namespace ID for commands that give none.
    pub fn default_nsid(&self) -> u32 {
        self.defaults.nsid.unwrap_or(DEFAULT_NSID)
    }

    /// The expression context of a step: plan variables, the step's
    /// bindings (`matrix`, `iteration`, include variables) and `vars`, then
    /// `runtime` entries on top (the runner's `ctrl`, `ns` (a list indexed by
    /// NSID), `env` and saved results).
    pub fn context(&self, step: &ResolvedStep, runtime: &serde_json::Map<String, Value>) -> Value {
        let mut vars = self.vars.clone();
        vars.extend(step.bindings.vars.clone());
        let mut ctx: serde_json::Map<String, Value> = vars.clone().into_iter().collect();
        ctx.insert("vars".into(), Value::Object(vars.into_iter().collect()));
        if !step.bindings.matrix.is_empty() {
            ctx.insert("matrix".into(), Value::Object(step.bindings.matrix.clone().into_iter().collect()));
        }
        if let Some(i) = step.bindings.iteration {
            ctx.insert("iteration".into(), i.into());
        }
        for (k, v) in runtime {
            ctx.insert(k.clone(), v.clone());
        }
        Value::Object(ctx)
    }

    /// Every step in run order, groups before their children.
    pub fn walk(&self) -> Vec<&ResolvedStep> {
        fn go<'a>(steps: &'a [ResolvedStep], out: &mut Vec<&'a ResolvedStep>) {
            for s in steps {
                out.push(s);
                if let StepKind::Group(children) = &s.kind {
                    go(children, out);
                }
            }
        }
        let mut out = Vec::new();
        go(&self.steps, &mut out);
        out
    }
}

/// A typed step with what expansion needs to know about where it came from.
#[derive(Debug, Clone)]
pub struct SourceStep {
    /// The step.
    pub step: Step,
    /// Where it was written.
    pub location: SourceLocation,
    /// Children of a group, or the steps of an included file.
    pub children: Vec<SourceStep>,
    /// Variables an include sets for its steps.
    pub vars: BTreeMap<String, Value>,
}

fn format_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The id suffix of a matrix combination: `[k1=v1,k2=v2]`.
pub fn matrix_suffix(combination: &BTreeMap<String, Value>) -> String {
    let parts: Vec<String> = combination.iter().map(|(k, v)| format!("{k}={}", format_value(v))).collect();
    format!("[{}]", parts.join(","))
}

/// Expands steps: every matrix combination and every repetition becomes its
/// own step with a stable id.
pub fn expand(steps: &[SourceStep], defaults: &Defaults) -> Vec<ResolvedStep> {
    expand_in("", steps, defaults, &Bindings::default(), None)
}

/// Expands `steps` under `prefix`; `spec` is the enclosing group's, which a
/// step without its own inherits.
fn expand_in(
    prefix: &str,
    steps: &[SourceStep],
    defaults: &Defaults,
    outer: &Bindings,
    spec: Option<&str>,
) -> Vec<ResolvedStep> {
    let mut out = Vec::new();
    for source in steps {
        let common = &source.step.common;
        let spec = common.spec.as_deref().or(spec);
        let combos = match &common.matrix {
            Some(m) => m.combinations().into_iter().map(Some).collect(),
            None => vec![None],
        };
        let iterations: Vec<Option<u32>> = match common.repeat {
            Some(n) => (1..=n).map(Some).collect(),
            None => vec![None],
        };
        for combo in &combos {
            for iteration in &iterations {
                let mut id = format!("{prefix}{}", common.name);
                let mut bindings = outer.clone();
                bindings.vars.extend(source.vars.clone());
                if let Some(c) = combo {
                    id.push_str(&matrix_suffix(c));
                    bindings.matrix.extend(c.clone());
                }
                if let Some(i) = iteration {
                    id.push_str(&format!("[{i}]"));
                    bindings.iteration = Some(*i);
                }
                let kind = match &source.step.action {
                    Action::Group(_) | Action::Include(_) => StepKind::Group(expand_in(
                        &format!("{id}/"),
                        &source.children,
                        defaults,
                        &bindings,
                        spec,
                    )),
                    action => StepKind::Action(Box::new(action.clone())),
                };
                out.push(ResolvedStep {
                    id,
                    name: common.name.clone(),
                    kind,
                    expect: common.expect.clone(),
                    save: common.save.clone(),
                    when: common.when.clone(),
                    tags: common.tags.clone(),
                    requires: common.requires.clone(),
                    timeout: common.timeout.or(defaults.timeout).map_or(DEFAULT_TIMEOUT, |d| d.0),
                    timeout_set: common.timeout.or(defaults.timeout).is_some(),
                    continue_on_error: common.continue_on_error.unwrap_or(defaults.continue_on_error),
                    spec: spec.map(str::to_string),
                    bindings,
                    location: source.location.clone(),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn step(v: Value) -> SourceStep {
        SourceStep {
            step: serde_json::from_value(v).unwrap(),
            location: SourceLocation::default(),
            children: vec![],
            vars: BTreeMap::new(),
        }
    }

    #[test]
    fn matrix_ids_are_stable() {
        let s = step(json!({ "name": "qd sweep", "matrix": { "qd": [1, 4, 16] }, "sleep": "1ms" }));
        let out = expand(&[s], &Defaults::default());
        let ids: Vec<&str> = out.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["qd sweep[qd=1]", "qd sweep[qd=4]", "qd sweep[qd=16]"]);
        assert_eq!(out[1].bindings.matrix["qd"], json!(4));
    }

    #[test]
    fn two_axes_and_repeat() {
        let s = step(json!({
            "name": "mix", "matrix": { "qd": [1, 2], "bs": ["a"], "exclude": [{ "qd": 2 }] },
            "repeat": 2, "sleep": "1ms"
        }));
        let out = expand(&[s], &Defaults::default());
        let ids: Vec<&str> = out.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["mix[bs=a,qd=1][1]", "mix[bs=a,qd=1][2]"]);
        assert_eq!(out[1].bindings.iteration, Some(2));
    }

    #[test]
    fn steps_inherit_the_group_spec() {
        let mut g = step(json!({ "name": "g", "spec": "base:5.17", "group": { "steps": [] } }));
        g.children = vec![
            step(json!({ "name": "own", "spec": "nvm:3.2.4", "sleep": "1ms" })),
            step(json!({ "name": "inherits", "sleep": "1ms" })),
        ];
        let out = expand(&[g, step(json!({ "name": "none", "sleep": "1ms" }))], &Defaults::default());
        let StepKind::Group(children) = &out[0].kind else { panic!("not a group") };
        assert_eq!(out[0].spec.as_deref(), Some("base:5.17"));
        assert_eq!(children[0].spec.as_deref(), Some("nvm:3.2.4"));
        assert_eq!(children[1].spec.as_deref(), Some("base:5.17"));
        assert_eq!(out[1].spec, None);
    }

    #[test]
    fn repeat_and_groups() {
        let mut g = step(json!({ "name": "soak", "repeat": 2, "group": { "steps": [] } }));
        g.children = vec![step(json!({ "name": "w", "sleep": "1ms" }))];
        let out = expand(&[g], &Defaults { timeout: None, nsid: None, continue_on_error: true, seed: None });
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].id, "soak[2]");
        let StepKind::Group(children) = &out[1].kind else { panic!("not a group") };
        assert_eq!(children[0].id, "soak[2]/w");
        assert_eq!(children[0].bindings.iteration, Some(2));
        assert!(children[0].continue_on_error);
        assert_eq!(children[0].timeout, DEFAULT_TIMEOUT);
    }

    #[test]
    fn context_layers() {
        let s = step(json!({ "name": "m", "matrix": { "qd": [8] }, "sleep": "1ms" }));
        let plan = ValidatedPlan {
            name: "p".into(),
            description: None,
            spec_revision: None,
            tags: vec![],
            device: None,
            vars: [("blocks".to_string(), json!(8))].into(),
            defaults: Defaults::default(),
            finish: Default::default(),
            queues: Default::default(),
            steps: expand(&[s], &Defaults::default()),
        };
        let mut runtime = serde_json::Map::new();
        runtime.insert("ctrl".into(), json!({ "nn": 1 }));
        let ctx = plan.context(&plan.steps[0], &runtime);
        assert_eq!(ctx["blocks"], 8);
        assert_eq!(ctx["vars"]["blocks"], 8);
        assert_eq!(ctx["matrix"]["qd"], 8);
        assert_eq!(ctx["ctrl"]["nn"], 1);
        assert_eq!(plan.walk().len(), 1);
    }
}

#[cfg(test)]
mod limit_tests {
    use super::*;
    use crate::plan::DurationValue;
    use std::time::Duration;

    /// The first step of a plan of one flush, with `timeout` ms set or defaulted.
    fn flush_step(timeout: u64, set: bool) -> (ResolvedStep, Action) {
        let plan = "plan_version: 1\nname: t\nsteps:\n  - { name: s, flush: {} }\n";
        let report = crate::validate_str("t.yaml", plan, &crate::Options::default());
        let mut step = report.plan.expect("valid").steps.remove(0);
        step.timeout = Duration::from_millis(timeout);
        step.timeout_set = set;
        let StepKind::Action(action) = &step.kind else { unreachable!("a leaf") };
        let action = (**action).clone();
        (step, action)
    }

    #[test]
    fn a_set_timeout_bounds_the_step_and_the_default_adds_the_steps_own_length() {
        let sleep = Action::Sleep(DurationValue(Duration::from_secs(30)));
        let (set, flush) = flush_step(200, true);
        assert_eq!(set.limit(&sleep), Duration::from_millis(200));
        let (default, _) = flush_step(10_000, false);
        assert_eq!(default.limit(&sleep), Duration::from_secs(40));
        assert_eq!(default.limit(&flush), Duration::from_secs(10));
    }
}
