//! Comparing two reports of the same plan: a base (firmware A) and a new
//! one (firmware B).
//!
//! [`diff`] matches steps by their stable id and finds:
//!
//! * status changes: pass -> fail, fail -> pass, new and removed steps;
//! * metric deltas of ioworker steps (their totals): IOPS and MB/s are
//!   better higher, latency is better lower; a delta is flagged only when
//!   the metric has a threshold ([`Thresholds`]) and the change goes past it;
//! * changed identify fields and namespaces of the device, and changed
//!   fields of the identify data, log pages and features the plan read.
//!
//! A step that now fails or errors (and did not before, or is new) is a
//! status regression; a flagged delta in the worse direction is a perf
//! regression. [`Diff::has_regression`] decides with [`FailOn`].
//!
//! Reports of different plans (by name), or with no step id in common,
//! are [`NotComparable`].
//!
//! The `options` submodule owns what a diff is asked to judge (metrics, thresholds,
//! `--fail-on`); this module owns the comparison and its result.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

mod options;

pub use options::{DiffOptions, FailOn, Metric, OptionError, Thresholds};

use crate::{CapturedKind, Outcome, Report, Summary};

/// Why two reports cannot be compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the reports are not comparable: {0}")]
pub struct NotComparable(pub String);

/// One side of a diff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Side {
    /// Where the report was read from.
    pub path: String,
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
    /// When the run started.
    pub started_at: String,
    /// Whether the run got to its end.
    pub complete: bool,
    /// Counts of outcomes.
    pub summary: Summary,
}

impl Side {
    fn of(path: &str, r: &Report) -> Side {
        Side {
            path: path.to_string(),
            plan: r.plan.name.clone(),
            plan_sha256: r.plan.sha256.clone(),
            uri: r.device.uri.clone(),
            mn: r.device.mn.clone(),
            sn: r.device.sn.clone(),
            fr: r.device.fr.clone(),
            started_at: r.started_at.clone(),
            complete: r.complete,
            summary: r.summary,
        }
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
    /// Its value in the base report (latency in nanoseconds).
    pub base: f64,
    /// Its value in the new report.
    pub new: f64,
    /// The change in percent of the base (absent when the base is 0).
    pub delta_percent: Option<f64>,
    /// Better or worse.
    pub direction: Direction,
    /// The threshold in percent (absent: the metric is shown, not judged).
    pub threshold_percent: Option<f64>,
    /// Whether the change goes past the threshold.
    pub flagged: bool,
    /// Flagged and worse.
    pub regression: bool,
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
    Some(StatusChange { step: step.to_string(), base, new, kind, regression, reason })
}

fn metric_delta(
    step: &str,
    matrix: &BTreeMap<String, serde_json::Value>,
    metric: Metric,
    base: f64,
    new: f64,
    threshold: Option<f64>,
) -> MetricDelta {
    let delta_percent = (base != 0.0).then(|| (new - base) / base * 100.0);
    let direction = if new == base {
        Direction::Same
    } else if (new > base) == metric.higher_is_better() {
        Direction::Better
    } else {
        Direction::Worse
    };
    let flagged = match (threshold, delta_percent) {
        (None, _) => false,
        (Some(t), Some(d)) => d.abs() > t,
        // From zero to something: an infinite relative change.
        (Some(_), None) => new != base,
    };
    MetricDelta {
        step: step.to_string(),
        matrix: matrix.clone(),
        metric,
        base,
        new,
        delta_percent,
        direction,
        threshold_percent: threshold,
        flagged,
        regression: flagged && direction == Direction::Worse,
    }
}

/// Compares `base` (read from `base_path`) with `new` (from `new_path`).
pub fn diff(
    base_path: &str,
    base: &Report,
    new_path: &str,
    new: &Report,
    options: &DiffOptions,
) -> Result<Diff, NotComparable> {
    if base.plan.name != new.plan.name {
        return Err(NotComparable(format!(
            "{base_path} ran plan `{}` and {new_path} ran plan `{}`; diff compares runs of the same plan",
            base.plan.name, new.plan.name
        )));
    }
    let base_ids: BTreeSet<&str> = base.steps.iter().map(|s| s.id.as_str()).collect();
    let new_ids: BTreeSet<&str> = new.steps.iter().map(|s| s.id.as_str()).collect();
    let common = base_ids.intersection(&new_ids).count();
    if common == 0 && !(base.steps.is_empty() && new.steps.is_empty()) {
        return Err(NotComparable(format!(
            "{base_path} and {new_path} have no step id in common ({} and {} steps)",
            base.steps.len(),
            new.steps.len()
        )));
    }
    let mut notes = Vec::new();
    if base.plan.sha256 != new.plan.sha256 {
        notes.push(format!(
            "the plan files differ (sha256 {} vs {}): steps are matched by id",
            short(&base.plan.sha256),
            short(&new.plan.sha256)
        ));
    }
    for (path, r) in [(base_path, base), (new_path, new)] {
        if !r.complete {
            notes.push(format!(
                "{path} is incomplete ({}): steps it lacks show as new or removed",
                r.stopped.as_deref().unwrap_or("the run did not finish")
            ));
        }
    }
    if base.seed != new.seed {
        notes.push(format!("the seeds differ ({} vs {})", base.seed, new.seed));
    }

    let mut status_changes = Vec::new();
    for step in &new.steps {
        let before = base.step(&step.id).map(|s| s.outcome);
        status_changes.extend(status_change(&step.id, before, Some(step.outcome), step.reason.clone()));
    }
    for step in base.steps.iter().filter(|s| !new_ids.contains(s.id.as_str())) {
        status_changes.extend(status_change(&step.id, Some(step.outcome), None, None));
    }

    let mut metrics = Vec::new();
    let mut captured_changes = Vec::new();
    for step in &new.steps {
        let Some(before) = base.step(&step.id) else { continue };
        if let (Some(b), Some(n)) = (&before.ioworker, &step.ioworker) {
            for metric in Metric::ALL {
                if let (Some(bv), Some(nv)) = (metric.value(&b.total), metric.value(&n.total)) {
                    let threshold = options.thresholds.get(metric);
                    metrics.push(metric_delta(&step.id, &step.matrix, metric, bv, nv, threshold));
                }
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

    let mut identify_changes = value_changes("", &base.device.identify, &new.device.identify);
    let ns = |r: &Report| -> BTreeMap<u32, BTreeMap<String, serde_json::Value>> {
        r.device.namespaces.iter().map(|n| (n.nsid, to_map(n))).collect()
    };
    let (base_ns, new_ns) = (ns(base), ns(new));
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
        base: Side::of(base_path, base),
        new: Side::of(new_path, new),
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
        let d = diff("base", &base, "new", &new, &DiffOptions::default()).unwrap();
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
        };
        let d = diff("base", &base, "new", &new, &options).unwrap();
        assert!(!d.has_regression(), "{:?}", d.perf_regressions().collect::<Vec<_>>());
        // Better past the threshold is an improvement, not a regression.
        let d = diff("new", &new, "base", &base, &DiffOptions::default()).unwrap();
        assert!(d.improvements().any(|m| m.metric == Metric::Iops));
        assert!(d.perf_regressions().next().is_none());
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
