//! Parts of the HTML ioworker section: latency rows for each operation of
//! a worker under its own row (like fio's read and write sections), the
//! operations' groups in the latency chart, and why the workers stopped
//! early with the error completions after each worker's first.

use serde::Serialize;

use crate::model::{IoWorkerStats, LatencyStats, WorkerError, WorkerStats};

/// Why the workers of a step stopped before their end, and the errors
/// each listed after its first (`worker 0`, `command -> status`).
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct EarlyStop {
    /// The step's workers' stop reason (interrupted, timed out, IO errors).
    pub stopped: Option<String>,
    /// Per worker that a reason of its own stopped: label and reason.
    pub workers: Vec<(String, String)>,
    /// Per worker with more than one listed error: label and the errors
    /// after the first, as `command -> status`.
    pub more_errors: Vec<(String, Vec<String>)>,
}

/// The early stop of a step's workers.
/// An error completion as one line: the command log line, which already
/// ends in its completion (` -> status ...`), or the command and the status
/// when the command never completed.
pub(crate) fn error_line(e: &WorkerError) -> String {
    if e.command.contains(" -> ") { e.command.clone() } else { format!("{} -> {}", e.command, e.status) }
}

pub(crate) fn early_stop(stats: &IoWorkerStats) -> EarlyStop {
    let label = |i: usize| format!("worker {i}");
    EarlyStop {
        stopped: stats.stopped.as_ref().map(|s| s.to_string()),
        workers: stats
            .workers
            .iter()
            .enumerate()
            .filter_map(|(i, w)| w.stopped.as_ref().map(|s| (label(i), s.to_string())))
            .collect(),
        more_errors: stats
            .workers
            .iter()
            .enumerate()
            .filter(|(_, w)| w.error_completions.len() > 1)
            .map(|(i, w)| {
                let rest = w.error_completions[1..].iter().map(error_line);
                (label(i), rest.collect())
            })
            .collect(),
    }
}

use super::view::{WorkerRow, latency, thousands};

/// The latency percentiles the chart shows, in microseconds.
pub(crate) fn chart_values(l: &LatencyStats) -> Vec<f64> {
    let us = |ns: u64| ns as f64 / 1e3;
    vec![us(l.p50_ns), us(l.p90_ns), us(l.p99_ns), us(l.p999_ns), us(l.p9999_ns), us(l.max_ns)]
}

/// Whether a worker ran more than one operation with latency recorded:
/// only then do its operations get rows and chart groups of their own.
fn mixed(w: &WorkerStats) -> bool {
    w.latency_by_op.len() > 1
}

/// One row per operation of a mixed worker, labelled `LABEL read`: its
/// IOs, their rate over the worker's elapsed time and their latency.
pub(crate) fn op_rows(label: &str, w: &WorkerStats) -> Vec<WorkerRow> {
    if !mixed(w) {
        return Vec::new();
    }
    let counts = w.ios.by_name();
    let secs = w.elapsed_us as f64 / 1e6;
    w.latency_by_op
        .iter()
        .map(|(op, l)| {
            let n = counts.iter().find(|(name, _)| name == op).map_or(0, |(_, n)| *n);
            let iops = if secs > 0.0 { thousands((n as f64 / secs).round() as u64) } else { "—".into() };
            WorkerRow {
                label: format!("{label} {op}"),
                op: true,
                ios: thousands(n),
                ops: op.clone(),
                iops,
                mbps: String::new(),
                lat_min: latency(l.min_ns),
                lat_avg: latency(l.avg_ns),
                lat_p50: latency(l.p50_ns),
                lat_p99: latency(l.p99_ns),
                lat_p999: latency(l.p999_ns),
                lat_p9999: latency(l.p9999_ns),
                lat_max: latency(l.max_ns),
                consistency: String::new(),
                cpu: String::new(),
                errors: String::new(),
                mismatches: String::new(),
                statuses: String::new(),
            }
        })
        .collect()
}

/// The latency chart groups of a mixed worker's operations.
pub(crate) fn op_groups(label: &str, w: &WorkerStats) -> Vec<(String, Vec<f64>)> {
    if !mixed(w) {
        return Vec::new();
    }
    w.latency_by_op.iter().map(|(op, l)| (format!("{label} {op}"), chart_values(l))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::OpCounts;

    fn lat(p99_ns: u64) -> LatencyStats {
        LatencyStats { p50_ns: p99_ns / 2, p99_ns, max_ns: p99_ns * 2, ..LatencyStats::default() }
    }

    #[test]
    fn a_mixed_worker_gets_a_row_and_a_group_per_operation() {
        let mut w = WorkerStats {
            ios: OpCounts { read: 700, write: 300, ..OpCounts::default() },
            elapsed_us: 2_000_000,
            ..WorkerStats::default()
        };
        w.latency_by_op.insert("read".into(), lat(80_000));
        w.latency_by_op.insert("write".into(), lat(20_000));
        let rows = op_rows("worker 0", &w);
        let labels: Vec<&str> = rows.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(labels, ["worker 0 read", "worker 0 write"]);
        assert_eq!((rows[0].ios.as_str(), rows[0].iops.as_str()), ("700", "350"));
        assert_eq!(rows[0].lat_p99, latency(80_000));
        assert_eq!(rows[1].lat_p99, latency(20_000));
        let groups = op_groups("worker 0", &w);
        assert_eq!(groups[1].0, "worker 0 write");
        assert_eq!(groups[1].1[2], 20.0);
        // One operation alone is the worker's own row.
        w.latency_by_op.remove("write");
        assert!(op_rows("worker 0", &w).is_empty() && op_groups("worker 0", &w).is_empty());
    }

    #[test]
    fn early_stop_names_the_reasons_and_the_later_errors() {
        use crate::model::{StopReason, WorkerError as FirstError};
        let e = |cmd: &str| FirstError {
            command: cmd.into(),
            status: "unrecovered_read_error".into(),
            cqe: None,
            cmdlog_tail: Vec::new(),
        };
        let w = WorkerStats {
            stopped: Some(StopReason::error_budget(1)),
            error_completions: vec![e("read slba 0"), e("read slba 8")],
            ..WorkerStats::default()
        };
        let stats = IoWorkerStats {
            workers: vec![WorkerStats::default(), w.clone()],
            total: w,
            stopped: Some(StopReason::error_budget(1)),
        };
        let early = early_stop(&stats);
        assert_eq!(early.stopped.as_deref(), Some("IO errors: more than max_errors 1 (stopped at error 2)"));
        assert_eq!(early.workers.len(), 1);
        assert_eq!(early.workers[0].0, "worker 1");
        assert_eq!(
            early.more_errors,
            [("worker 1".to_string(), vec!["read slba 8 -> unrecovered_read_error".to_string()])]
        );
    }
}
