//! Comparing runs of the same plan: a base side (firmware A) and a new
//! one (firmware B), each of one or more reports.
//!
//! [`diff_runs`] (and [`diff`] for one report per side) matches steps by
//! their stable id and finds:
//!
//! * status changes: pass -> fail, fail -> pass, new and removed steps;
//! * metric deltas of ioworker steps (their totals): IOPS and MB/s are
//!   better higher, latency is better lower; a delta is flagged only when
//!   the metric has a threshold ([`Thresholds`]) and the change goes past it;
//!   with several runs per side the medians are compared, and the change
//!   must also go past the run-to-run spread of the sides (`noise`);
//! * changed identify fields and namespaces of the device, and changed
//!   fields of the identify data, log pages and features the plan read.
//!
//! A step's outcome on a side is its worst over the side's runs (error,
//! fail, pass, skip): a step that now fails or errors in any new run (and
//! passed in every base run, or is new) is a status regression; a flagged delta in the worse direction is a perf
//! regression. [`Diff::has_regression`] decides with [`FailOn`].
//!
//! Reports of different plans (by name), or with no step id in common,
//! are [`NotComparable`].
//!
//! The `options` submodule owns what a diff is asked to judge (metrics, thresholds,
//! `--fail-on`); this module owns the comparison and its result.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

mod noise;
mod options;

pub use noise::{median, spread_percent};
pub use options::{DEFAULT_LATENCY_FLOOR_NS, DiffOptions, FailOn, Metric, OptionError, Thresholds};

use crate::{CapturedKind, Outcome, Report, Summary};

/// Why two reports cannot be compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the reports are not comparable: {0}")]
pub struct NotComparable(pub String);

/// One side of a diff: one or more runs. Identity fields whose runs
/// disagree hold every distinct value, comma separated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Side {
    /// Where the first report was read from.
    pub path: String,
    /// Where every report of this side was read from, in the order given.
    #[serde(default)]
    pub paths: Vec<String>,
    /// The plan's name.
    pub plan: String,
    /// The plan file's SHA-256.
    pub plan_sha256: String,
    /// The device URI.
    pub uri: String,
    /// Model number.
    pub mn: String,
    /// Serial number.
    pub sn: String,
    /// Firmware revision.
    pub fr: String,
    /// When the first run started.
    pub started_at: String,
    /// Whether every run got to its end.
    pub complete: bool,
    /// Counts of outcomes of the first run.
    pub summary: Summary,
}

/// One report of a side: where it was read from, and the report.
pub type Run<'a> = (&'a str, &'a Report);

impl Side {
    fn of(runs: &[Run<'_>]) -> Side {
        let (path, r) = runs[0];
        let distinct = |f: fn(&Report) -> &str| -> String {
            let mut seen: Vec<&str> = Vec::new();
            for (_, r) in runs {
                if !seen.contains(&f(r)) {
                    seen.push(f(r));
                }
            }
            seen.join(", ")
        };
        Side {
            path: path.to_string(),
            paths: runs.iter().map(|(p, _)| p.to_string()).collect(),
            plan: r.plan.name.clone(),
            plan_sha256: distinct(|r| &r.plan.sha256),
            uri: distinct(|r| &r.device.uri),
            mn: distinct(|r| &r.device.mn),
            sn: distinct(|r| &r.device.sn),
            fr: distinct(|r| &r.device.fr),
            started_at: r.started_at.clone(),
            complete: runs.iter().all(|(_, r)| r.complete),
            summary: r.summary,
        }
    }

    /// How many runs this side has (at least one).
    pub fn runs(&self) -> usize {
        self.paths.len().max(1)
    }
}

/// How a step's status changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusChangeKind {
    /// It passed (or was skipped) and now fails or errors.
    Regressed,
    /// It failed or errored and now passes.
    Fixed,
    /// Another change (fail -> error, pass -> skip, ...).
    Changed,
    /// Only the new report has it.
    New,
    /// Only the base report has it.
    Removed,
}

impl StatusChangeKind {
    /// `regressed`, `fixed`, `changed`, `new` or `removed`.
    pub fn label(self) -> &'static str {
        match self {
            StatusChangeKind::Regressed => "regressed",
            StatusChangeKind::Fixed => "fixed",
            StatusChangeKind::Changed => "changed",
            StatusChangeKind::New => "new",
            StatusChangeKind::Removed => "removed",
        }
    }
}

/// A step whose outcome differs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusChange {
    /// The step id.
    pub step: String,
    /// The outcome in the base report (absent for a new step).
    pub base: Option<Outcome>,
    /// The outcome in the new report (absent for a removed step).
    pub new: Option<Outcome>,
    /// What kind of change.
    pub kind: StatusChangeKind,
    /// Whether it is a status regression (it now fails or errors).
    pub regression: bool,
    /// Why the step fails or errors now, if it does.
    pub reason: Option<String>,
    /// The spec section the step checks (the new report's, else the base's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<String>,
}

/// Whether a metric moved to better or worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Better (IOPS up, latency down).
    Better,
    /// Worse.
    Worse,
    /// Unchanged.
    Same,
}

/// A metric of an ioworker step in both reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricDelta {
    /// The step id.
    pub step: String,
    /// The step's matrix parameters (for charts of a metric against them).
    pub matrix: BTreeMap<String, serde_json::Value>,
    /// The metric.
    pub metric: Metric,
    /// Its value in the base report (latency in nanoseconds): the median
    /// over the base runs.
    pub base: f64,
    /// Its value in the new report: the median over the new runs.
    pub new: f64,
    /// How many base runs have the step's metric.
    #[serde(default = "one")]
    pub base_runs: usize,
    /// How many new runs have it.
    #[serde(default = "one")]
    pub new_runs: usize,
    /// The base runs' largest deviation from their median, in percent
    /// (absent with one run: no spread was seen).
    #[serde(default)]
    pub base_spread_percent: Option<f64>,
    /// The same for the new runs.
    #[serde(default)]
    pub new_spread_percent: Option<f64>,
    /// The change in percent of the base (absent when the base is 0).
    pub delta_percent: Option<f64>,
    /// Better or worse.
    pub direction: Direction,
    /// The threshold in percent (absent: the metric is shown, not judged).
    pub threshold_percent: Option<f64>,
    /// Whether the change goes past the threshold and the noise.
    pub flagged: bool,
    /// Flagged and worse.
    pub regression: bool,
}

fn one() -> usize {
    1
}

impl MetricDelta {
    /// The run-to-run spread a change must go past: the larger of the two
    /// sides' spreads, in percent (absent when neither side has two runs).
    pub fn noise_percent(&self) -> Option<f64> {
        match (self.base_spread_percent, self.new_spread_percent) {
            (Some(b), Some(n)) => Some(b.max(n)),
            (b, n) => b.or(n),
        }
    }
}

/// A field with different values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    /// The field (`fr`, `ns1.nsze`).
    pub field: String,
    /// The base value (absent when only the new report has the field).
    pub base: Option<serde_json::Value>,
    /// The new value (absent when only the base report has the field).
    pub new: Option<serde_json::Value>,
}

/// Changed fields of identify data, a log page or a feature a step read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapturedChange {
    /// The step id.
    pub step: String,
    /// What was read.
    pub kind: CapturedKind,
    /// Which one (`smart`, `controller`, `volatile_write_cache`).
    pub name: String,
    /// The fields that differ.
    pub changes: Vec<FieldChange>,
}

/// The differences between two reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diff {
    /// The base report.
    pub base: Side,
    /// The new report.
    pub new: Side,
    /// The thresholds and failure kinds used.
    pub options: DiffOptions,
    /// Remarks: different plan files, incomplete runs.
    pub notes: Vec<String>,
    /// Steps whose outcome differs, in the new report's order (removed steps last).
    pub status_changes: Vec<StatusChange>,
    /// Steps compared, present in both reports.
    pub steps_compared: usize,
    /// Metrics of ioworker steps present in both reports.
    pub metrics: Vec<MetricDelta>,
    /// Changed identify fields and namespace fields of the device.
    pub identify_changes: Vec<FieldChange>,
    /// Changed identify data, log pages and features read by steps.
    pub captured_changes: Vec<CapturedChange>,
}

impl Diff {
    /// Status regressions: steps that now fail or error.
    pub fn status_regressions(&self) -> impl Iterator<Item = &StatusChange> {
        self.status_changes.iter().filter(|c| c.regression)
    }

    /// Perf regressions: metrics worse past their threshold.
    pub fn perf_regressions(&self) -> impl Iterator<Item = &MetricDelta> {
        self.metrics.iter().filter(|m| m.regression)
    }

    /// Metrics better past their threshold.
    pub fn improvements(&self) -> impl Iterator<Item = &MetricDelta> {
        self.metrics.iter().filter(|m| m.flagged && !m.regression)
    }

    /// Whether there is a regression of a kind `options.fail_on` names.
    pub fn has_regression(&self) -> bool {
        let f = self.options.fail_on;
        (f.status && self.status_regressions().next().is_some())
            || (f.perf && self.perf_regressions().next().is_some())
    }

    /// `regression` or `no regression`, with counts.
    pub fn verdict(&self) -> String {
        let status = self.status_regressions().count();
        let perf = self.perf_regressions().count();
        if self.has_regression() {
            format!("regression: {status} status, {perf} perf")
        } else if status + perf > 0 {
            format!("no regression counted by --fail-on ({status} status, {perf} perf changes ignored)")
        } else {
            "no regression".to_string()
        }
    }
}

fn value_changes(
    prefix: &str,
    base: &BTreeMap<String, serde_json::Value>,
    new: &BTreeMap<String, serde_json::Value>,
) -> Vec<FieldChange> {
    let keys: BTreeSet<&String> = base.keys().chain(new.keys()).collect();
    keys.into_iter()
        .filter_map(|k| {
            let (b, n) = (base.get(k), new.get(k));
            (b != n).then(|| FieldChange { field: format!("{prefix}{k}"), base: b.cloned(), new: n.cloned() })
        })
        .collect()
}

fn to_map<T: Serialize>(value: &T) -> BTreeMap<String, serde_json::Value> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::Object(m)) => m.into_iter().collect(),
        _ => BTreeMap::new(),
    }
}

fn status_change(
    step: &str,
    spec: Option<&String>,
    base: Option<Outcome>,
    new: Option<Outcome>,
    reason: Option<String>,
) -> Option<StatusChange> {
    let kind = match (base, new) {
        (Some(b), Some(n)) if b == n => return None,
        (Some(b), Some(n)) if !b.is_failure() && n.is_failure() => StatusChangeKind::Regressed,
        (Some(b), Some(Outcome::Pass)) if b.is_failure() => StatusChangeKind::Fixed,
        (Some(_), Some(_)) => StatusChangeKind::Changed,
        (None, Some(_)) => StatusChangeKind::New,
        (Some(_), None) => StatusChangeKind::Removed,
        (None, None) => return None,
    };
    let regression = match kind {
        StatusChangeKind::Regressed => true,
        StatusChangeKind::New => new.is_some_and(Outcome::is_failure),
        _ => false,
    };
    let reason = if new.is_some_and(Outcome::is_failure) { reason } else { None };
    Some(StatusChange { step: step.to_string(), base, new, kind, regression, reason, spec: spec.cloned() })
}

fn metric_delta(
    step: &str,
    matrix: &BTreeMap<String, serde_json::Value>,
    metric: Metric,
    base_values: &[f64],
    new_values: &[f64],
    threshold: Option<f64>,
    latency_floor_ns: u64,
) -> Option<MetricDelta> {
    let (base, new) = (median(base_values)?, median(new_values)?);
    let (base_spread_percent, new_spread_percent) = (spread_percent(base_values), spread_percent(new_values));
    let noise = match (base_spread_percent, new_spread_percent) {
        (Some(b), Some(n)) => b.max(n),
        (b, n) => b.or(n).unwrap_or(0.0),
    };
    let delta_percent = (base != 0.0).then(|| (new - base) / base * 100.0);
    let direction = if new == base {
        Direction::Same
    } else if (new > base) == metric.higher_is_better() {
        Direction::Better
    } else {
        Direction::Worse
    };
    let past_floor = !metric.is_latency() || (new - base).abs() > latency_floor_ns as f64;
    let flagged = past_floor
        && match (threshold, delta_percent) {
            (None, _) => false,
            (Some(t), Some(d)) => d.abs() > t && d.abs() > noise,
            // From zero to something: an infinite relative change.
            (Some(_), None) => new != base,
        };
    Some(MetricDelta {
        step: step.to_string(),
        matrix: matrix.clone(),
        metric,
        base,
        new,
        base_runs: base_values.len(),
        new_runs: new_values.len(),
        base_spread_percent,
        new_spread_percent,
        delta_percent,
        direction,
        threshold_percent: threshold,
        flagged,
        regression: flagged && direction == Direction::Worse,
    })
}

/// How bad an outcome is, for a step's worst outcome over a side's runs.
fn severity(o: Outcome) -> u8 {
    match o {
        Outcome::Skip => 0,
        Outcome::Pass => 1,
        Outcome::Fail => 2,
        Outcome::Error => 3,
    }
}

/// A step's worst outcome over `runs` and, when that is a failure, its reason.
fn worst_outcome(runs: &[Run<'_>], id: &str) -> Option<(Outcome, Option<String>)> {
    runs.iter()
        .filter_map(|(_, r)| r.step(id))
        .max_by_key(|s| severity(s.outcome))
        .map(|s| (s.outcome, s.reason.clone()))
}

/// Compares `base` (read from `base_path`) with `new` (from `new_path`).
pub fn diff(
    base_path: &str,
    base: &Report,
    new_path: &str,
    new: &Report,
    options: &DiffOptions,
) -> Result<Diff, NotComparable> {
    diff_runs(&[(base_path, base)], &[(new_path, new)], options)
}

/// Compares the base runs with the new runs (each side at least one
/// report). Steps, captured data and identify fields come from each side's
/// first report; outcomes are each step's worst over the side's runs;
/// metrics are medians over the runs that have the step, judged against
/// thresholds and the run-to-run spread (see the `noise` module).
pub fn diff_runs(base: &[Run<'_>], new: &[Run<'_>], options: &DiffOptions) -> Result<Diff, NotComparable> {
    let (Some(&(base_path, b0)), Some(&(new_path, n0))) = (base.first(), new.first()) else {
        return Err(NotComparable("each side of a diff needs at least one report".into()));
    };
    for &(path, r) in base.iter().chain(new) {
        if r.plan.name != b0.plan.name {
            return Err(NotComparable(format!(
                "{base_path} ran plan `{}` and {path} ran plan `{}`; diff compares runs of the same plan",
                b0.plan.name, r.plan.name
            )));
        }
    }
    let base_ids: BTreeSet<&str> = b0.steps.iter().map(|s| s.id.as_str()).collect();
    let new_ids: BTreeSet<&str> = n0.steps.iter().map(|s| s.id.as_str()).collect();
    let common = base_ids.intersection(&new_ids).count();
    if common == 0 && !(b0.steps.is_empty() && n0.steps.is_empty()) {
        return Err(NotComparable(format!(
            "{base_path} and {new_path} have no step id in common ({} and {} steps)",
            b0.steps.len(),
            n0.steps.len()
        )));
    }
    let mut notes = Vec::new();
    if b0.plan.sha256 != n0.plan.sha256 {
        notes.push(format!(
            "the plan files differ (sha256 {} vs {}): steps are matched by id",
            short(&b0.plan.sha256),
            short(&n0.plan.sha256)
        ));
    }
    for (side, runs) in [("base", base), ("new", new)] {
        let first = runs[0].1;
        for &(path, r) in &runs[1..] {
            if r.device.fr != first.device.fr || r.device.uri != first.device.uri {
                notes.push(format!(
                    "the {side} runs are of different devices: {path} is {} firmware {}, {} is {} firmware {}",
                    r.device.uri, r.device.fr, runs[0].0, first.device.uri, first.device.fr
                ));
            }
        }
    }
    for &(path, r) in base.iter().chain(new) {
        if !r.complete {
            notes.push(format!(
                "{path} is incomplete ({}): steps it lacks show as new or removed",
                r.stopped.as_deref().unwrap_or("the run did not finish")
            ));
        }
    }
    if b0.seed != n0.seed {
        notes.push(format!("the seeds differ ({} vs {})", b0.seed, n0.seed));
    }

    let mut status_changes = Vec::new();
    for step in &n0.steps {
        let before = worst_outcome(base, &step.id).map(|(o, _)| o);
        let (now, reason) = worst_outcome(new, &step.id).unwrap_or((step.outcome, step.reason.clone()));
        status_changes.extend(status_change(&step.id, step.spec.as_ref(), before, Some(now), reason));
    }
    for step in b0.steps.iter().filter(|s| !new_ids.contains(s.id.as_str())) {
        let (before, _) = worst_outcome(base, &step.id).unwrap_or((step.outcome, None));
        status_changes.extend(status_change(&step.id, step.spec.as_ref(), Some(before), None, None));
    }

    let values = |runs: &[Run<'_>], id: &str, metric: Metric| -> Vec<f64> {
        runs.iter()
            .filter_map(|(_, r)| r.step(id)?.ioworker.as_ref().and_then(|w| metric.value(&w.total)))
            .collect()
    };
    let mut metrics = Vec::new();
    let mut captured_changes = Vec::new();
    for step in &n0.steps {
        let Some(before) = b0.step(&step.id) else { continue };
        if step.ioworker.is_some() || before.ioworker.is_some() {
            for metric in Metric::ALL {
                let (bv, nv) = (values(base, &step.id, metric), values(new, &step.id, metric));
                let threshold = options.thresholds.get(metric);
                metrics.extend(metric_delta(
                    &step.id,
                    &step.matrix,
                    metric,
                    &bv,
                    &nv,
                    threshold,
                    options.latency_floor_ns,
                ));
            }
        }
        if let (Some(b), Some(n)) = (&before.captured, &step.captured)
            && b.kind == n.kind
            && b.name == n.name
        {
            let changes = value_changes("", &b.fields, &n.fields);
            if !changes.is_empty() {
                captured_changes.push(CapturedChange {
                    step: step.id.clone(),
                    kind: n.kind,
                    name: n.name.clone(),
                    changes,
                });
            }
        }
    }

    let mut identify_changes = value_changes("", &b0.device.identify, &n0.device.identify);
    let ns = |r: &Report| -> BTreeMap<u32, BTreeMap<String, serde_json::Value>> {
        r.device.namespaces.iter().map(|n| (n.nsid, to_map(n))).collect()
    };
    let (base_ns, new_ns) = (ns(b0), ns(n0));
    let nsids: BTreeSet<u32> = base_ns.keys().chain(new_ns.keys()).copied().collect();
    let empty = BTreeMap::new();
    for nsid in nsids {
        identify_changes.extend(value_changes(
            &format!("ns{nsid}."),
            base_ns.get(&nsid).unwrap_or(&empty),
            new_ns.get(&nsid).unwrap_or(&empty),
        ));
    }

    Ok(Diff {
        base: Side::of(base),
        new: Side::of(new),
        options: options.clone(),
        notes,
        status_changes,
        steps_compared: common,
        metrics,
        identify_changes,
        captured_changes,
    })
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{IoWorkerStats, LatencyStats, StepResult, WorkerStats};

    fn report(fr: &str, outcomes: &[(&str, Outcome)], iops: f64, p99: u64) -> Report {
        let mut r = Report::new_empty("plan");
        r.complete = true;
        r.device.fr = fr.into();
        r.device.identify.insert("fr".into(), fr.into());
        for (id, o) in outcomes {
            let mut s = StepResult::new(id, id, "ioworker", *o);
            if *o == Outcome::Fail {
                s.reason = Some("expected status success, got lba_out_of_range".into());
            }
            s.ioworker = Some(IoWorkerStats {
                workers: Vec::new(),
                total: WorkerStats {
                    iops,
                    mbps: iops * 4096.0 / 1e6,
                    latency: Some(LatencyStats { p99_ns: p99, ..LatencyStats::default() }),
                    ..WorkerStats::default()
                },
                stopped: None,
            });
            r.summary.add(*o);
            r.steps.push(s);
        }
        r
    }

    #[test]
    fn a_report_diffed_with_itself_has_no_change() {
        let r = report("1.0", &[("a", Outcome::Pass), ("b", Outcome::Fail)], 1000.0, 50_000);
        let d = diff("x", &r, "x", &r, &DiffOptions::default()).unwrap();
        assert!(d.status_changes.is_empty() && d.identify_changes.is_empty());
        assert_eq!(d.metrics.len(), 2 * Metric::ALL.len());
        assert!(d.metrics.iter().all(|m| !m.flagged && m.direction == Direction::Same));
        assert!(!d.has_regression());
        assert_eq!(d.verdict(), "no regression");
    }

    #[test]
    fn status_metrics_and_identify_changes() {
        let base = report(
            "1.0",
            &[("a", Outcome::Pass), ("b", Outcome::Fail), ("gone", Outcome::Pass)],
            1000.0,
            50_000,
        );
        let new = report(
            "1.1",
            &[("a", Outcome::Fail), ("b", Outcome::Pass), ("added", Outcome::Pass)],
            900.0,
            54_000,
        );
        let old_defaults = DiffOptions {
            thresholds: Thresholds::parse("iops=5%,mbps=5%,latency.avg=10%,latency.p99=10%").unwrap(),
            latency_floor_ns: 0,
            ..DiffOptions::default()
        };
        let d = diff("base", &base, "new", &new, &old_defaults).unwrap();
        let kinds: Vec<(&str, StatusChangeKind, bool)> =
            d.status_changes.iter().map(|c| (c.step.as_str(), c.kind, c.regression)).collect();
        assert_eq!(
            kinds,
            [
                ("a", StatusChangeKind::Regressed, true),
                ("b", StatusChangeKind::Fixed, false),
                ("added", StatusChangeKind::New, false),
                ("gone", StatusChangeKind::Removed, false),
            ]
        );
        assert_eq!(
            d.status_changes[0].reason.as_deref(),
            Some("expected status success, got lba_out_of_range")
        );
        // IOPS -10% is past 5%: worse; p99 +8% is within 10%.
        let iops = d.metrics.iter().find(|m| m.step == "a" && m.metric == Metric::Iops).unwrap();
        assert!(iops.flagged && iops.regression && iops.direction == Direction::Worse);
        assert!((iops.delta_percent.unwrap() + 10.0).abs() < 1e-9);
        let p99 = d.metrics.iter().find(|m| m.step == "a" && m.metric == Metric::LatencyP99).unwrap();
        assert!(!p99.flagged && p99.direction == Direction::Worse);
        assert_eq!(
            d.identify_changes,
            [FieldChange { field: "fr".into(), base: Some("1.0".into()), new: Some("1.1".into()) }]
        );
        assert!(d.has_regression());
        // Only perf counts, and a looser IOPS threshold hides the perf regression.
        let options = DiffOptions {
            thresholds: Thresholds::parse("iops=15%,mbps=15%").unwrap(),
            fail_on: FailOn::parse("perf").unwrap(),
            latency_floor_ns: 0,
        };
        let d = diff("base", &base, "new", &new, &options).unwrap();
        assert!(!d.has_regression(), "{:?}", d.perf_regressions().collect::<Vec<_>>());
        // Better past the threshold is an improvement, not a regression.
        let d = diff("new", &new, "base", &base, &old_defaults).unwrap();
        assert!(d.improvements().any(|m| m.metric == Metric::Iops));
        assert!(d.perf_regressions().next().is_none());
    }

    #[test]
    fn several_runs_compare_medians_past_the_spread() {
        let runs = |iops: &[f64]| -> Vec<Report> {
            iops.iter().map(|i| report("1.0", &[("a", Outcome::Pass)], *i, 50_000)).collect()
        };
        let side = |rs: &[Report]| -> Vec<(String, Report)> {
            rs.iter().enumerate().map(|(i, r)| (format!("r{i}.json"), r.clone())).collect()
        };
        let (base, new) = (side(&runs(&[1000.0, 880.0, 1040.0])), side(&runs(&[900.0, 910.0])));
        let b: Vec<Run<'_>> = base.iter().map(|(p, r)| (p.as_str(), r)).collect();
        let n: Vec<Run<'_>> = new.iter().map(|(p, r)| (p.as_str(), r)).collect();
        let options =
            DiffOptions { thresholds: Thresholds::parse("iops=5%").unwrap(), ..DiffOptions::default() };
        let d = diff_runs(&b, &n, &options).unwrap();
        let iops = d.metrics.iter().find(|m| m.metric == Metric::Iops).unwrap();
        // Median 1000 -> 905 is -9.5%: past 5%, but within the base's 12% spread.
        assert_eq!((iops.base, iops.new, iops.base_runs, iops.new_runs), (1000.0, 905.0, 3, 2));
        assert!((iops.base_spread_percent.unwrap() - 12.0).abs() < 1e-9);
        assert!((iops.noise_percent().unwrap() - 12.0).abs() < 1e-9);
        assert!(!iops.flagged && iops.direction == Direction::Worse);
        assert_eq!(d.base.paths, ["r0.json", "r1.json", "r2.json"]);
        // A drop past the spread is flagged.
        let far = side(&runs(&[700.0, 720.0]));
        let n: Vec<Run<'_>> = far.iter().map(|(p, r)| (p.as_str(), r)).collect();
        let d = diff_runs(&b, &n, &options).unwrap();
        assert!(d.perf_regressions().any(|m| m.metric == Metric::Iops));
        // A step failing in one of the new runs is a status regression.
        let mut flaky = runs(&[1000.0, 1000.0]);
        flaky[1] = report("1.0", &[("a", Outcome::Fail)], 1000.0, 50_000);
        let flaky = side(&flaky);
        let n: Vec<Run<'_>> = flaky.iter().map(|(p, r)| (p.as_str(), r)).collect();
        let d = diff_runs(&b, &n, &DiffOptions::default()).unwrap();
        assert_eq!(d.status_regressions().count(), 1, "{:?}", d.status_changes);
        assert!(diff_runs(&[], &n, &DiffOptions::default()).is_err());
    }

    #[test]
    fn the_default_judges_the_median_latency_past_the_floor() {
        let with_p50 = |p50: u64| {
            let mut r = report("1.0", &[("a", Outcome::Pass)], 1000.0, 50_000);
            r.steps[0].ioworker.as_mut().unwrap().total.latency.as_mut().unwrap().p50_ns = p50;
            r
        };
        let p50 = |d: &Diff| d.metrics.iter().find(|m| m.metric == Metric::LatencyP50).unwrap().clone();
        // 0.7 µs -> 28 µs is 40x but under the 50 µs floor: simulator noise.
        let d = diff("a", &with_p50(700), "b", &with_p50(28_000), &DiffOptions::default()).unwrap();
        assert!(!p50(&d).flagged && !d.has_regression(), "{:?}", p50(&d));
        // 180 µs -> 280 µs is past the floor but within 100%.
        let d = diff("a", &with_p50(180_000), "b", &with_p50(280_000), &DiffOptions::default()).unwrap();
        assert!(!d.has_regression());
        // 27 µs -> 330 µs (300 µs added) is a regression.
        let d = diff("a", &with_p50(27_000), "b", &with_p50(330_000), &DiffOptions::default()).unwrap();
        assert!(p50(&d).regression && d.has_regression());
        // IOPS -50% is shown, not judged, by default.
        let half = report("1.0", &[("a", Outcome::Pass)], 500.0, 50_000);
        let d = diff("a", &with_p50(0), "b", &half, &DiffOptions::default()).unwrap();
        assert!(!d.has_regression());
    }

    #[test]
    fn different_plans_are_not_comparable() {
        let a = report("1.0", &[("a", Outcome::Pass)], 1.0, 1);
        let mut b = a.clone();
        b.plan.name = "other".into();
        assert!(diff("a", &a, "b", &b, &DiffOptions::default()).unwrap_err().0.contains("plan `other`"));
        let c = report("1.0", &[("z", Outcome::Pass)], 1.0, 1);
        assert!(
            diff("a", &a, "c", &c, &DiffOptions::default()).unwrap_err().0.contains("no step id in common")
        );
    }
}
