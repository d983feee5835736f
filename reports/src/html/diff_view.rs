//! The diff of two reports as the HTML template sees it: a header row per
//! identity field, status changes, metric deltas with their flags, changed
//! fields, and charts of base against new.

use serde::Serialize;

use super::charts::{self, BarChart, LineChart, Series};
use super::view::{group_by_matrix_step, json_text};
use crate::diff::{Diff, Direction, Metric, MetricDelta};
use crate::markdown::{
    CHANGE_MARKED, delta_text, metric_value, runs_text, spread_text, summary_text, threshold_text,
    thresholds_text,
};

#[derive(Debug, Serialize)]
pub(crate) struct DiffView {
    pub title: String,
    pub verdict: String,
    pub regression: bool,
    pub header: Vec<HeaderRow>,
    pub notes: Vec<String>,
    pub steps_compared: usize,
    pub status_changes: Vec<StatusRow>,
    pub thresholds: String,
    /// How many runs the medians are of, when a side has several.
    pub runs: Option<String>,
    pub metric_counts: (usize, usize, usize),
    pub metrics: Vec<MetricRow>,
    pub identify_changes: Vec<(String, String, String)>,
    pub captured_changes: Vec<CapturedGroup>,
    pub charts: Vec<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct HeaderRow {
    pub name: &'static str,
    pub base: String,
    pub new: String,
    pub changed: bool,
}

#[derive(Debug, Serialize)]
pub(crate) struct StatusRow {
    pub step: String,
    pub base: &'static str,
    pub new: &'static str,
    pub kind: &'static str,
    pub regression: bool,
    pub reason: String,
    pub spec: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct MetricRow {
    pub step: String,
    pub metric: &'static str,
    pub base: String,
    pub new: String,
    pub delta: String,
    /// `±10%`, or `—` when the metric is not judged.
    pub threshold: String,
    /// The run-to-run spread the change had to pass, `—` with one run per side.
    pub spread: String,
    /// `regression`, `improvement` or empty.
    pub flag: &'static str,
}

#[derive(Debug, Serialize)]
pub(crate) struct CapturedGroup {
    pub step: String,
    pub what: String,
    pub changes: Vec<(String, String, String)>,
}

fn opt_json(v: &Option<serde_json::Value>) -> String {
    v.as_ref().map_or_else(|| "—".to_string(), json_text)
}

/// The most steps a base-against-new IOPS bar chart shows; a longer plan
/// has its matrix charts and the table.
const MAX_BAR_STEPS: usize = 16;

impl DiffView {
    pub(crate) fn new(diff: &Diff) -> DiffView {
        let (b, n) = (&diff.base, &diff.new);
        // The device's identity and URI, the plan and whether the runs
        // completed are marked when the sides differ.
        let row = |name: &'static str, base: &str, new: &str, identity: bool| HeaderRow {
            name,
            base: base.to_string(),
            new: new.to_string(),
            changed: (identity || CHANGE_MARKED.contains(&name)) && base != new,
        };
        let header = vec![
            row("report", &b.paths.join(", "), &n.paths.join(", "), false),
            row("plan", &b.plan, &n.plan, true),
            row("plan sha256", &b.plan_sha256, &n.plan_sha256, true),
            row("model", &b.mn, &n.mn, true),
            row("serial", &b.sn, &n.sn, true),
            row("firmware", &b.fr, &n.fr, true),
            row("device", &b.uri, &n.uri, true),
            row("started", &b.started_at, &n.started_at, false),
            row(
                "complete",
                if b.complete { "yes" } else { "no" },
                if n.complete { "yes" } else { "no" },
                true,
            ),
            row("summary", &summary_text(&b.summary), &summary_text(&n.summary), false),
        ];
        let status_changes = diff
            .status_changes
            .iter()
            .map(|c| StatusRow {
                step: c.step.clone(),
                base: c.base.map_or("—", |o| o.name()),
                new: c.new.map_or("—", |o| o.name()),
                kind: c.kind.label(),
                regression: c.regression,
                reason: c.reason.clone().unwrap_or_default(),
                spec: c.spec.clone().unwrap_or_default(),
            })
            .collect();
        let metrics = diff
            .metrics
            .iter()
            .map(|m| MetricRow {
                step: m.step.clone(),
                metric: m.metric.name(),
                base: metric_value(m.metric, m.base),
                new: metric_value(m.metric, m.new),
                delta: delta_text(m),
                threshold: threshold_text(m),
                spread: spread_text(m),
                flag: match (m.flagged, m.direction) {
                    (true, Direction::Worse) => "regression",
                    (true, Direction::Better) => "improvement",
                    _ => "",
                },
            })
            .collect();
        let flagged = diff.metrics.iter().filter(|m| m.flagged).count();
        DiffView {
            title: format!("nvmeplan diff: {}", b.plan),
            verdict: diff.verdict(),
            regression: diff.has_regression(),
            header,
            notes: diff.notes.clone(),
            steps_compared: diff.steps_compared,
            status_changes,
            thresholds: thresholds_text(diff),
            runs: runs_text(diff),
            metric_counts: (
                diff.perf_regressions().count(),
                diff.improvements().count(),
                diff.metrics.len() - flagged,
            ),
            metrics,
            identify_changes: diff
                .identify_changes
                .iter()
                .map(|c| (c.field.clone(), opt_json(&c.base), opt_json(&c.new)))
                .collect(),
            captured_changes: diff
                .captured_changes
                .iter()
                .map(|c| CapturedGroup {
                    step: c.step.clone(),
                    what: format!("{} {}", c.kind.label(), c.name),
                    changes: c
                        .changes
                        .iter()
                        .map(|f| (f.field.clone(), opt_json(&f.base), opt_json(&f.new)))
                        .collect(),
                })
                .collect(),
            charts: charts(&diff.metrics),
        }
    }
}

/// IOPS base against new per ioworker step, and for matrix steps IOPS
/// and p99 latency of both reports against each numeric matrix parameter.
fn charts(metrics: &[MetricDelta]) -> Vec<String> {
    let mut out = Vec::new();
    let iops: Vec<&MetricDelta> = metrics.iter().filter(|m| m.metric == Metric::Iops).collect();
    if !iops.is_empty() && iops.len() <= MAX_BAR_STEPS {
        out.push(charts::bar_chart(&BarChart {
            title: "IOPS per ioworker step".into(),
            y_label: "IOPS".into(),
            categories: iops.iter().map(|m| m.step.clone()).collect(),
            groups: vec![
                ("base".into(), iops.iter().map(|m| m.base).collect()),
                ("new".into(), iops.iter().map(|m| m.new).collect()),
            ],
            log_scale: false,
        }));
    }
    for (metric, label, scale) in [(Metric::Iops, "IOPS", 1.0), (Metric::LatencyP99, "p99 µs", 1e-3)] {
        let groups = group_by_matrix_step(
            metrics.iter().filter(|m| m.metric == metric && !m.matrix.is_empty()),
            |m| &m.step,
        );
        for (step, members) in groups {
            if members.len() < 2 || members.iter().any(|m| m.matrix.len() != 1) {
                continue;
            }
            let Some((key, _)) = members[0].matrix.iter().next() else { continue };
            let mut points: Vec<(f64, f64, f64)> = members
                .iter()
                .filter_map(|m| {
                    m.matrix.get(key).and_then(|v| v.as_f64()).map(|x| (x, m.base * scale, m.new * scale))
                })
                .collect();
            if points.len() != members.len() {
                continue;
            }
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            out.push(charts::line_chart(&LineChart {
                title: format!("{step}: {label} vs {key}"),
                x_label: key.clone(),
                y_label: label.into(),
                series: vec![
                    Series { label: "base".into(), points: points.iter().map(|p| (p.0, p.1)).collect() },
                    Series { label: "new".into(), points: points.iter().map(|p| (p.0, p.2)).collect() },
                ],
            }));
        }
    }
    out
}
