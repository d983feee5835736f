//! The report as the HTML template sees it: every number already formatted,
//! every chart already drawn, failures listed first.
//!
//! Keeping the formatting here rather than in the template keeps the
//! template to layout and lets these rules be unit tested.

use std::collections::BTreeMap;

use serde::Serialize;

use super::charts::{self, BarChart, LineChart, Series};
use super::failures::FailureView;
use super::ioworker;
use crate::model::{
    IoWorkerStats, LatencyStats, Outcome, Report, RunVerdict, StepResult, StopReason, Verdict, WorkerStats,
};

/// The top of the page and everything below it.
#[derive(Debug, Serialize)]
pub(crate) struct ReportView {
    pub title: String,
    pub verdict: RunVerdict,
    pub counts: Counts,
    pub complete: bool,
    pub stopped: Option<StopReason>,
    pub run: RunView,
    pub plan: PlanView,
    pub device: DeviceView,
    pub failures: Vec<FailureView>,
    pub steps: Vec<StepView>,
    pub tags: Vec<String>,
    pub matrix_charts: Vec<MatrixChart>,
}

/// Where and how the run happened: the tool, when, how long, the seed and
/// the host.
#[derive(Debug, Serialize)]
pub(crate) struct RunView {
    pub tool: String,
    pub started_at: String,
    pub duration: String,
    pub seed: u64,
    pub host: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct Counts {
    pub total: usize,
    pub passed: u64,
    pub failed: u64,
    pub errored: u64,
    pub skipped: u64,
}

#[derive(Debug, Serialize)]
pub(crate) struct PlanView {
    pub name: String,
    pub path: String,
    pub sha256: String,
    pub source: String,
    pub spec_revision: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct DeviceView {
    pub uri: String,
    pub backend: String,
    pub model: String,
    pub serial: String,
    pub firmware: String,
    /// Further identity rows: (label, value).
    pub rows: Vec<(String, String)>,
    pub namespaces: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct StepView {
    pub id: String,
    pub anchor: String,
    pub name: String,
    pub action: String,
    pub outcome: &'static str,
    pub label: &'static str,
    pub tags: Vec<String>,
    pub spec: Option<String>,
    pub location: String,
    pub duration: String,
    pub reason: Option<String>,
    pub message: Option<String>,
    pub expectations: Vec<ExpectationView>,
    pub commands: Vec<CommandView>,
    pub commands_more: u64,
    pub saved: Option<(String, String)>,
    pub captured: Option<CapturedView>,
    pub mismatches: Vec<String>,
    /// Blocks verified and unchecked (`8 blocks verified, 8 unchecked`).
    pub verification: Option<String>,
    pub forensic: Option<ForensicView>,
    pub ioworker: Option<IoWorkerView>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct ExpectationView {
    pub what: String,
    pub expected: String,
    pub actual: String,
    pub pass: bool,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct CommandView {
    pub qid: u16,
    pub text: String,
    pub status: String,
    pub ok: bool,
    pub latency: String,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct CapturedView {
    pub kind: &'static str,
    pub name: String,
    pub fields: Vec<(String, String)>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct ForensicView {
    pub csts: String,
    pub cap: String,
    pub cmdlog_tail: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct IoWorkerView {
    /// One row per worker, then the total when there are several workers.
    pub rows: Vec<WorkerRow>,
    pub first_errors: Vec<(String, String)>,
    pub mismatches: Vec<String>,
    pub iops_chart: Option<String>,
    pub latency_chart: Option<String>,
    /// Why the workers stopped early, and each worker's error completions
    /// after its first error.
    pub early: ioworker::EarlyStop,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct WorkerRow {
    pub label: String,
    /// A row of one operation of the worker above (its latency only).
    pub op: bool,
    pub ios: String,
    pub ops: String,
    pub iops: String,
    pub mbps: String,
    pub lat_min: String,
    pub lat_avg: String,
    pub lat_p50: String,
    pub lat_p99: String,
    pub lat_p999: String,
    pub lat_p9999: String,
    pub lat_max: String,
    pub consistency: String,
    pub cpu: String,
    pub errors: String,
    pub mismatches: String,
    pub statuses: String,
}

/// A metric plotted against a matrix parameter for one matrix step.
#[derive(Debug, Serialize)]
pub(crate) struct MatrixChart {
    pub step: String,
    pub svgs: Vec<String>,
}

/// `1.25 s`, `340 ms`.
pub(crate) fn duration(ms: u64) -> String {
    if ms >= 10_000 {
        format!("{:.1} s", ms as f64 / 1e3)
    } else if ms >= 1_000 {
        format!("{:.2} s", ms as f64 / 1e3)
    } else {
        format!("{ms} ms")
    }
}

/// A latency in the unit that suits it: `850 ns`, `12.3 µs`, `4.56 ms`.
pub(crate) fn latency(ns: u64) -> String {
    let v = ns as f64;
    if ns < 1_000 {
        format!("{ns} ns")
    } else if ns < 1_000_000 {
        format!("{:.1} µs", v / 1e3)
    } else if ns < 1_000_000_000 {
        format!("{:.2} ms", v / 1e6)
    } else {
        format!("{:.2} s", v / 1e9)
    }
}

/// An integer with thousands separators: `1,234,567`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// An HTML id for a step id (letters, digits and `-` only, unique per report).
fn anchor(index: usize, id: &str) -> String {
    let slug: String = id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    format!("step-{index}-{slug}")
}

pub(crate) fn json_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl ReportView {
    pub(crate) fn new(report: &Report) -> ReportView {
        let steps: Vec<StepView> =
            report.steps.iter().enumerate().map(|(i, s)| StepView::new(i, s)).collect();
        // The failures section repeats the failed steps; they are drawn once.
        let failures = steps
            .iter()
            .zip(&report.steps)
            .filter(|(v, _)| matches!(v.outcome, "fail" | "error"))
            .map(|(v, s)| FailureView::new(v, s))
            .collect();
        let mut tags: Vec<String> = report.steps.iter().flat_map(|s| s.tags.iter().cloned()).collect();
        tags.sort();
        tags.dedup();
        let d = &report.device;
        let mut rows = vec![
            ("PCI vendor".to_string(), format!("{:#06x} (subsystem {:#06x})", d.vid, d.ssvid)),
            ("NVMe version".to_string(), d.version.clone()),
            ("namespaces (nn)".to_string(), d.nn.to_string()),
            ("MDTS".to_string(), d.mdts.to_string()),
            ("OACS".to_string(), format!("{:#06x}", d.oacs)),
            ("ONCS".to_string(), format!("{:#06x}", d.oncs)),
        ];
        rows.retain(|(_, v)| !v.is_empty());
        let namespaces = d
            .namespaces
            .iter()
            .map(|ns| {
                format!(
                    "nsid {}: {} blocks of {} bytes ({} GB), capacity {} blocks",
                    ns.nsid,
                    thousands(ns.nsze),
                    ns.lba_size,
                    format_args!("{:.2}", (ns.nsze as f64) * (ns.lba_size as f64) / 1e9),
                    thousands(ns.ncap)
                )
            })
            .collect();
        let h = &report.host;
        let host = [h.hostname.as_str(), h.os.as_str(), h.kernel.as_str(), h.cpu_model.as_str()]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" · ");
        let host = if h.cores > 0 { format!("{host} · {} cores", h.cores) } else { host };
        ReportView {
            title: format!("{} — {}", report.plan.name, report.verdict()),
            verdict: report.verdict(),
            counts: Counts {
                total: report.steps.len(),
                passed: report.summary.passed,
                failed: report.summary.failed,
                errored: report.summary.errored,
                skipped: report.summary.skipped,
            },
            complete: report.complete,
            stopped: report.stopped.clone(),
            run: RunView {
                tool: format!("{} {}", report.tool, report.version),
                started_at: report.started_at.clone(),
                duration: duration(report.duration_ms),
                seed: report.seed,
                host,
            },
            plan: PlanView {
                name: report.plan.name.clone(),
                path: report.plan.path.clone(),
                sha256: report.plan.sha256.clone(),
                source: report.plan.source.clone(),
                spec_revision: report.plan.spec_revision.clone(),
            },
            device: DeviceView {
                uri: d.uri.clone(),
                backend: d.backend.clone(),
                model: d.mn.clone(),
                serial: d.sn.clone(),
                firmware: d.fr.clone(),
                rows,
                namespaces,
            },
            failures,
            steps,
            tags,
            matrix_charts: matrix_charts(&report.steps),
        }
    }
}

impl StepView {
    fn new(index: usize, s: &StepResult) -> StepView {
        let (outcome, label) = match s.outcome {
            Outcome::Pass => ("pass", "PASS"),
            Outcome::Fail => ("fail", "FAIL"),
            Outcome::Error => ("error", "ERROR"),
            Outcome::Skip => ("skip", "SKIP"),
        };
        StepView {
            id: s.id.clone(),
            anchor: anchor(index, &s.id),
            name: s.name.clone(),
            action: s.action.clone(),
            outcome,
            label,
            tags: s.tags.clone(),
            spec: s.spec.clone(),
            location: s.location.clone(),
            duration: duration(s.duration_ms),
            reason: s.reason.clone(),
            message: s.message.clone(),
            expectations: s
                .expectations
                .iter()
                .map(|e| ExpectationView {
                    what: e.what.clone(),
                    expected: e.expected.clone(),
                    actual: e.actual.clone(),
                    pass: e.verdict == Verdict::Pass,
                })
                .collect(),
            commands: s
                .commands
                .iter()
                .map(|c| CommandView {
                    qid: c.qid,
                    text: c.text.clone(),
                    status: c.status.clone().unwrap_or_else(|| "outstanding".into()),
                    ok: c.status.as_deref() == Some("success"),
                    latency: c.latency_us.map(|us| latency((us * 1e3) as u64)).unwrap_or_default(),
                })
                .collect(),
            commands_more: s.commands_total.saturating_sub(s.commands.len() as u64),
            saved: s.saved.as_ref().map(|v| {
                (
                    v.name.clone(),
                    serde_json::to_string_pretty(&v.value).unwrap_or_else(|_| v.value.to_string()),
                )
            }),
            captured: s.captured.as_ref().map(|c| CapturedView {
                kind: c.kind.label(),
                name: c.name.clone(),
                fields: c.fields.iter().map(|(k, v)| (k.clone(), json_text(v))).collect(),
            }),
            mismatches: s.mismatches.clone(),
            verification: s.verification.map(|v| v.summary()),
            forensic: s.forensic.as_ref().map(|f| ForensicView {
                csts: f.csts.clone(),
                cap: f.cap.clone(),
                cmdlog_tail: f.cmdlog_tail.clone(),
            }),
            ioworker: s.ioworker.as_ref().map(|w| IoWorkerView::new(&s.id, w)),
        }
    }
}

fn lat(l: Option<&LatencyStats>, f: impl Fn(&LatencyStats) -> u64) -> String {
    l.map(|l| latency(f(l))).unwrap_or_else(|| "—".into())
}

fn worker_row(label: String, w: &WorkerStats) -> WorkerRow {
    let ops: Vec<String> = w
        .ios
        .by_name()
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(name, n)| format!("{name} {}", thousands(*n)))
        .collect();
    let l = w.latency.as_ref();
    WorkerRow {
        label,
        op: false,
        ios: thousands(w.io_total),
        ops: ops.join(", "),
        iops: thousands(w.iops.round() as u64),
        mbps: format!("{:.1}", w.mbps),
        lat_min: lat(l, |l| l.min_ns),
        lat_avg: lat(l, |l| l.avg_ns),
        lat_p50: lat(l, |l| l.p50_ns),
        lat_p99: lat(l, |l| l.p99_ns),
        lat_p999: lat(l, |l| l.p999_ns),
        lat_p9999: lat(l, |l| l.p9999_ns),
        lat_max: lat(l, |l| l.max_ns),
        consistency: format!("{:.2}", w.consistency),
        cpu: format!("{:.0}%", w.cpu_percent),
        errors: w.errors.to_string(),
        mismatches: w.mismatch_count.to_string(),
        statuses: w
            .status_counts
            .iter()
            .map(|(k, v)| format!("{k} {}", thousands(*v)))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

impl IoWorkerView {
    fn new(step: &str, stats: &IoWorkerStats) -> IoWorkerView {
        // Each worker's row, then a row per operation of a mixed worker.
        let mut rows: Vec<WorkerRow> = Vec::new();
        for (i, w) in stats.workers.iter().enumerate() {
            let label = format!("worker {i}");
            rows.push(worker_row(label.clone(), w));
            rows.extend(ioworker::op_rows(&label, w));
        }
        if stats.workers.len() != 1 {
            rows.push(worker_row("total".into(), &stats.total));
            rows.extend(ioworker::op_rows("total", &stats.total));
        }
        let first_errors = stats
            .workers
            .iter()
            .enumerate()
            .filter_map(|(i, w)| {
                w.first_error.as_ref().map(|e| (format!("worker {i}"), ioworker::error_line(e)))
            })
            .collect();
        let mismatches = stats
            .workers
            .iter()
            .enumerate()
            .flat_map(|(i, w)| {
                w.mismatches.iter().map(move |m| {
                    format!(
                        "worker {i}: LBA {} {} expected {:#x} found {:#x}",
                        m.lba, m.kind, m.expected, m.found
                    )
                })
            })
            .collect();
        // Per-second IOPS: one series per worker (the total is their sum, so
        // a single worker's series is the whole story).
        let series: Vec<Series> = stats
            .workers
            .iter()
            .enumerate()
            .filter(|(_, w)| !w.iops_per_second.is_empty())
            .map(|(i, w)| Series { label: format!("worker {i}"), points: per_second_rates(w) })
            .collect();
        let iops_chart = (!series.is_empty()).then(|| {
            charts::line_chart(&LineChart {
                title: format!("{step}: IOPS per second"),
                x_label: "second".into(),
                y_label: "IOPS".into(),
                series,
            })
        });
        let groups: Vec<(String, Vec<f64>)> = stats
            .workers
            .iter()
            .enumerate()
            .flat_map(|(i, w)| {
                let label = format!("worker {i}");
                let own = w.latency.as_ref().map(|l| (label.clone(), ioworker::chart_values(l)));
                own.into_iter().chain(ioworker::op_groups(&label, w))
            })
            .collect();
        let latency_chart = (!groups.is_empty()).then(|| {
            charts::bar_chart(&BarChart {
                title: format!("{step}: latency percentiles"),
                y_label: "µs".into(),
                categories: ["p50", "p90", "p99", "p99.9", "p99.99", "max"]
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
                groups,
                log_scale: true,
            })
        });
        let early = ioworker::early_stop(stats);
        IoWorkerView { rows, first_errors, mismatches, iops_chart, latency_chart, early }
    }
}

/// IOPS second by second for a chart: the last, partial second scaled to
/// a rate (so a 1.01 s run does not end in a plunge to zero), or left out
/// when it is too short to say anything and earlier seconds have data.
fn per_second_rates(w: &WorkerStats) -> Vec<(f64, f64)> {
    let n = w.iops_per_second.len();
    let mut points: Vec<(f64, f64)> = Vec::with_capacity(n);
    for (i, &count) in w.iops_per_second.iter().enumerate() {
        let second = (i + 1) as f64;
        if i + 1 < n {
            points.push((second, count as f64));
            continue;
        }
        let fraction = w.elapsed_us as f64 / 1e6 - i as f64;
        if fraction >= 0.999 {
            points.push((second, count as f64));
        } else if fraction >= 0.1 || (points.is_empty() && count > 0) {
            // A run shorter than a tenth of a second still has its rate: a
            // chart with data never says "no data".
            let fraction = fraction.max(1e-6);
            points.push((i as f64 + fraction, count as f64 / fraction));
        }
    }
    points
}

/// The step id without its matrix suffix: `qd sweep[qd=4]` -> `qd sweep`.
pub(crate) fn matrix_base(id: &str) -> &str {
    match id.rfind('[') {
        Some(i) if id.ends_with(']') => &id[..i],
        _ => id,
    }
}

/// Items of matrix steps grouped by the step they were expanded from
/// ([`matrix_base`] of their id), groups in the order they first appear.
pub(crate) fn group_by_matrix_step<'a, T>(
    items: impl IntoIterator<Item = &'a T>,
    id: impl Fn(&'a T) -> &'a str,
) -> Vec<(&'a str, Vec<&'a T>)> {
    let mut groups: Vec<(&str, Vec<&T>)> = Vec::new();
    for item in items {
        let base = matrix_base(id(item));
        match groups.iter_mut().find(|(b, _)| *b == base) {
            Some((_, members)) => members.push(item),
            None => groups.push((base, vec![item])),
        }
    }
    groups
}

/// For each matrix step whose expansions ran ioworkers, IOPS and p99
/// latency against each numeric matrix parameter; expansions that differ
/// in the other parameters become separate series.
fn matrix_charts(steps: &[StepResult]) -> Vec<MatrixChart> {
    let groups = group_by_matrix_step(
        steps.iter().filter(|s| !s.matrix.is_empty() && s.ioworker.is_some() && s.outcome != Outcome::Skip),
        |s| &s.id,
    );
    let mut out = Vec::new();
    for (base, members) in groups {
        if members.len() < 2 {
            continue;
        }
        let keys: Vec<&String> = members[0].matrix.keys().collect();
        let mut svgs = Vec::new();
        for key in keys
            .iter()
            .filter(|k| members.iter().all(|m| m.matrix.get(**k).and_then(|v| v.as_f64()).is_some()))
        {
            // Series by the values of the other parameters.
            let mut series: BTreeMap<String, Vec<(f64, f64, f64)>> = BTreeMap::new();
            for m in &members {
                let x = m.matrix[*key].as_f64().unwrap_or_default();
                let others: Vec<String> = m
                    .matrix
                    .iter()
                    .filter(|(k, _)| k != key)
                    .map(|(k, v)| format!("{k}={}", json_text(v)))
                    .collect();
                let label = if others.is_empty() { base.to_string() } else { others.join(", ") };
                let Some(w) = m.ioworker.as_ref() else { continue };
                let total = &w.total;
                let p99 = total.latency.map(|l| l.p99_ns as f64 / 1e3).unwrap_or(f64::NAN);
                series.entry(label).or_default().push((x, total.iops, p99));
            }
            for points in series.values_mut() {
                points.sort_by(|a, b| a.0.total_cmp(&b.0));
            }
            let iops = series
                .iter()
                .map(|(label, p)| Series {
                    label: label.clone(),
                    points: p.iter().map(|&(x, y, _)| (x, y)).collect(),
                })
                .collect();
            svgs.push(charts::line_chart(&LineChart {
                title: format!("{base}: IOPS vs {key}"),
                x_label: (*key).clone(),
                y_label: "IOPS".into(),
                series: iops,
            }));
            let p99: Vec<Series> = series
                .iter()
                .map(|(label, p)| Series {
                    label: label.clone(),
                    points: p.iter().filter(|t| t.2.is_finite()).map(|&(x, _, y)| (x, y)).collect(),
                })
                .filter(|s| !s.points.is_empty())
                .collect();
            if !p99.is_empty() {
                svgs.push(charts::line_chart(&LineChart {
                    title: format!("{base}: p99 latency vs {key}"),
                    x_label: (*key).clone(),
                    y_label: "p99 µs".into(),
                    series: p99,
                }));
            }
        }
        if !svgs.is_empty() {
            out.push(MatrixChart { step: base.to_string(), svgs });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting() {
        assert_eq!(duration(340), "340 ms");
        assert_eq!(duration(1_250), "1.25 s");
        assert_eq!(duration(61_000), "61.0 s");
        assert_eq!(latency(850), "850 ns");
        assert_eq!(latency(12_340), "12.3 µs");
        assert_eq!(latency(4_560_000), "4.56 ms");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn anchors_are_unique_and_plain() {
        assert_eq!(anchor(3, "qd sweep[qd=4]"), "step-3-qd-sweep-qd-4");
        assert_eq!(anchor(0, "setup/write"), "step-0-setup-write");
        assert_ne!(anchor(1, "a b"), anchor(2, "a-b"));
    }

    #[test]
    fn a_partial_last_second_is_scaled_or_left_out() {
        let mut w = WorkerStats {
            iops_per_second: vec![1000, 1000, 500],
            elapsed_us: 2_500_000,
            ..Default::default()
        };
        assert_eq!(per_second_rates(&w), [(1.0, 1000.0), (2.0, 1000.0), (2.5, 1000.0)]);
        w.elapsed_us = 2_010_000;
        w.iops_per_second = vec![1000, 1000, 10];
        assert_eq!(per_second_rates(&w), [(1.0, 1000.0), (2.0, 1000.0)]);
        w.elapsed_us = 3_000_000;
        w.iops_per_second = vec![1000, 1000, 1000];
        assert_eq!(per_second_rates(&w).len(), 3);
        // A run cut short after 50 ms keeps its only point.
        w.elapsed_us = 50_000;
        w.iops_per_second = vec![100];
        assert_eq!(per_second_rates(&w), [(0.05, 2000.0)]);
    }

    #[test]
    fn matrix_base_strips_only_the_suffix() {
        assert_eq!(matrix_base("qd sweep[qd=4]"), "qd sweep");
        assert_eq!(matrix_base("plain"), "plain");
        assert_eq!(matrix_base("odd[name"), "odd[name");
    }
}
