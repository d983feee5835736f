//! One worker's results ([`WorkerResult`]) and those of a whole
//! `run_workers` call ([`IoWorkerResults`]), with the latency summary, the
//! first error and the IO trace they carry.

use std::collections::BTreeMap;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::op::{IoOp, OpCounts};
use crate::stop::StopReason;
use crate::verify::Mismatch;

/// Most mismatches a worker keeps (the count goes on in
/// [`WorkerResult::mismatch_count`]).
pub const MAX_MISMATCHES: usize = 100;

/// Most error completions a worker keeps in
/// [`WorkerResult::error_completions`] (the count goes on in
/// [`WorkerResult::errors`] and [`WorkerResult::status_counts`]).
pub const MAX_ERROR_COMPLETIONS: usize = 16;

/// Latency statistics in nanoseconds, from an HDR histogram (3 significant
/// digits). Every percentile is a named field.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LatencySummary {
    /// Smallest.
    pub min_ns: u64,
    /// Mean.
    pub avg_ns: u64,
    /// Largest.
    pub max_ns: u64,
    /// Median.
    pub p50_ns: u64,
    /// 90th percentile.
    pub p90_ns: u64,
    /// 99th percentile.
    pub p99_ns: u64,
    /// 99.9th percentile.
    pub p999_ns: u64,
    /// 99.99th percentile.
    pub p9999_ns: u64,
}

/// A completion queue entry, field by field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CqeFields {
    /// Dword 0 (command specific).
    pub dw0: u32,
    /// Dword 1 (command specific).
    pub dw1: u32,
    /// Submission queue head pointer.
    pub sqhd: u16,
    /// Submission queue id.
    pub sqid: u16,
    /// Command id.
    pub cid: u16,
    /// The status by spec name (or `SCT/SC`).
    pub status: String,
    /// Do Not Retry.
    pub dnr: bool,
}

/// The first error of a worker: a failed command, a timeout or a driver
/// error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FirstError {
    /// The command, decoded (`read nsid 1 slba 8 nlb 8`, from the cmdlog
    /// when it still holds it).
    pub command: String,
    /// The status by spec name, or `timeout` / the driver error.
    pub status: String,
    /// The completion, when the device posted one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cqe: Option<CqeFields>,
    /// The most recent commands of the worker's queue, oldest first.
    #[serde(default)]
    pub cmdlog_tail: Vec<String>,
}

/// One issued IO, recorded when the worker's configuration asks for a
/// trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TraceEntry {
    /// Microseconds since the worker started.
    pub at_us: u64,
    /// The operation.
    pub op: IoOp,
    /// Starting LBA (0 for flush).
    pub slba: u64,
    /// Blocks (0 for flush).
    pub nlb: u32,
}

/// The results of one worker, or of all workers of a call together.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WorkerResult {
    /// IOs completed per operation.
    pub ios: OpCounts,
    /// IOs completed.
    pub io_total: u64,
    /// Bytes transferred by completed reads, writes and compares.
    pub bytes: u64,
    /// Time from start to the last completion, in milliseconds.
    pub elapsed_ms: u64,
    /// The same time in microseconds: rates are derived from it, so a run
    /// shorter than a millisecond still has a rate.
    #[serde(default)]
    pub elapsed_us: u64,
    /// IOs per second.
    pub iops: f64,
    /// Megabytes (10^6 bytes) per second.
    pub mbps: f64,
    /// Latency statistics, when recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<LatencySummary>,
    /// Latency statistics of each operation that completed (`read`,
    /// `write`, `trim`, ... by [`OpCounts`] name; raw opcodes together as
    /// `raw`), when recorded; `latency` is all of them together.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub latency_by_op: BTreeMap<String, LatencySummary>,
    /// IOs completed in each full or partial second.
    pub iops_per_second: Vec<u64>,
    /// Worst full second divided by the average of full seconds (1.0 when
    /// the run had no full second).
    pub consistency: f64,
    /// CPU time of the worker thread over its elapsed time, in percent
    /// (the total sums the workers).
    pub cpu_percent: f64,
    /// Nanoseconds of thread CPU time per completed IO.
    #[serde(default)]
    pub cpu_ns_per_io: f64,
    /// Completions per status name.
    pub status_counts: BTreeMap<String, u64>,
    /// Commands that failed (error status or timeout) and driver errors.
    pub errors: u64,
    /// The first error (also the first of `error_completions`), with the
    /// tail of the worker's queue's cmdlog.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_error: Option<FirstError>,
    /// The first errors in the order they happened (at most
    /// [`MAX_ERROR_COMPLETIONS`]; a worker that stops at its first error
    /// has one): each failed command with its completion. Only the first
    /// carries a cmdlog tail.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub error_completions: Vec<FirstError>,
    /// Why this worker stopped submitting before its `time` or
    /// `io_count`, when its IO errors stopped it (see
    /// [`StopReason::IoErrors`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<StopReason>,
    /// Block checks that failed, including those not kept in `mismatches`
    /// (a block read and found wrong twice counts twice).
    pub mismatch_count: u64,
    /// Blocks read with `verify` that were checked against a known
    /// expectation, mismatched ones included.
    #[serde(default)]
    pub blocks_checked: u64,
    /// Blocks read with `verify` that nothing was known about, so they
    /// were not checked.
    #[serde(default)]
    pub blocks_unchecked: u64,
    /// The first blocks that did not verify, one entry per LBA (the first
    /// time it was found wrong), at most [`MAX_MISMATCHES`].
    #[serde(default)]
    pub mismatches: Vec<Mismatch>,
    /// Whether a command timed out.
    pub timed_out: bool,
    /// Nanoseconds per completed IO the worker spent in loop iterations
    /// that submitted or reaped something: its own cost, without the time
    /// it polled an idle queue waiting for the device.
    #[serde(default)]
    pub busy_ns_per_io: f64,
    /// Issued IOs, when traced.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trace: Vec<TraceEntry>,
}

impl WorkerResult {
    /// Fills the derived figures (IO total, rates, CPU share, consistency)
    /// from the counts, the elapsed time and the thread CPU time.
    pub fn finish_rates(&mut self, elapsed: Duration, cpu: Duration) {
        let secs = elapsed.as_secs_f64();
        self.elapsed_ms = elapsed.as_millis() as u64;
        self.elapsed_us = elapsed.as_micros() as u64;
        self.io_total = self.ios.total();
        if secs > 0.0 {
            self.iops = self.io_total as f64 / secs;
            self.mbps = self.bytes as f64 / secs / 1e6;
            self.cpu_percent = cpu.as_secs_f64() / secs * 100.0;
        }
        if self.io_total > 0 {
            self.cpu_ns_per_io = cpu.as_nanos() as f64 / self.io_total as f64;
        }
        self.consistency = consistency(&self.iops_per_second, elapsed);
    }

    /// The total of several workers: counts add up, elapsed is the longest,
    /// per-IO costs are weighted by each worker's IOs, per-second counts
    /// add up second by second, the first error is the first worker's that
    /// has one. `latency` (and `latency_by_op`, which the caller fills)
    /// are summaries of the merged histograms (the caller holds them).
    pub fn total(workers: &[WorkerResult], latency: Option<LatencySummary>) -> WorkerResult {
        let mut t = WorkerResult::default();
        let mut cpu_ns = 0.0;
        let mut busy_ns = 0.0;
        for w in workers {
            busy_ns += w.busy_ns_per_io * w.io_total as f64;
            t.ios.add(&w.ios);
            t.bytes += w.bytes;
            t.elapsed_ms = t.elapsed_ms.max(w.elapsed_ms);
            t.elapsed_us = t.elapsed_us.max(w.elapsed_us);
            t.cpu_percent += w.cpu_percent;
            cpu_ns += w.cpu_ns_per_io * w.io_total as f64;
            if t.iops_per_second.len() < w.iops_per_second.len() {
                t.iops_per_second.resize(w.iops_per_second.len(), 0);
            }
            for (a, b) in t.iops_per_second.iter_mut().zip(&w.iops_per_second) {
                *a += b;
            }
            for (k, v) in &w.status_counts {
                *t.status_counts.entry(k.clone()).or_default() += v;
            }
            t.errors += w.errors;
            if t.first_error.is_none() {
                t.first_error = w.first_error.clone();
            }
            let room = MAX_ERROR_COMPLETIONS.saturating_sub(t.error_completions.len());
            t.error_completions.extend(w.error_completions.iter().take(room).cloned());
            t.mismatch_count += w.mismatch_count;
            t.blocks_checked += w.blocks_checked;
            t.blocks_unchecked += w.blocks_unchecked;
            let from = t.mismatches.len();
            t.mismatches.extend(w.mismatches.iter().take(MAX_MISMATCHES));
            crate::verify::keep_unique(&mut t.mismatches, from, MAX_MISMATCHES);
            t.timed_out |= w.timed_out;
        }
        t.io_total = t.ios.total();
        let secs = t.elapsed_us as f64 / 1e6;
        if secs > 0.0 {
            t.iops = t.io_total as f64 / secs;
            t.mbps = t.bytes as f64 / secs / 1e6;
        }
        if t.io_total > 0 {
            t.cpu_ns_per_io = cpu_ns / t.io_total as f64;
            t.busy_ns_per_io = busy_ns / t.io_total as f64;
        }
        t.latency = latency;
        t.consistency = consistency(&t.iops_per_second, Duration::from_micros(t.elapsed_us));
        t
    }
}

/// Worst full second over the average of full seconds.
fn consistency(per_second: &[u64], elapsed: Duration) -> f64 {
    let full = (elapsed.as_secs() as usize).min(per_second.len());
    let seconds = &per_second[..full];
    if seconds.is_empty() {
        return 1.0;
    }
    let avg = seconds.iter().sum::<u64>() as f64 / seconds.len() as f64;
    let worst = seconds.iter().copied().min().unwrap_or(0) as f64;
    if avg > 0.0 { worst / avg } else { 1.0 }
}

/// The results of one `run_workers` call: one entry per worker and their
/// total.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct IoWorkerResults {
    /// One per worker, in the configured (plan) order.
    pub workers: Vec<WorkerResult>,
    /// All workers together: counts add up, latency comes from the merged
    /// histogram, IOPS per second add up second by second.
    pub total: WorkerResult,
    /// Why the workers were stopped before their end (`interrupted`,
    /// `timed out after 500ms`); the statistics are what they measured
    /// until then. Absent when they ran to their end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<StopReason>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::MismatchKind;

    #[test]
    fn consistency_uses_full_seconds() {
        assert_eq!(consistency(&[100, 50, 7], Duration::from_millis(2100)), 50.0 / 75.0);
        assert_eq!(consistency(&[7], Duration::from_millis(500)), 1.0);
    }

    #[test]
    fn total_weights_per_io_costs_and_caps_mismatches() {
        let m = Mismatch { lba: 1, kind: MismatchKind::Crc, expected: 2, found: 3 };
        let a = WorkerResult {
            ios: OpCounts { read: 100, ..OpCounts::default() },
            io_total: 100,
            elapsed_us: 1_000_000,
            cpu_ns_per_io: 10.0,
            busy_ns_per_io: 4.0,
            mismatches: (0..MAX_MISMATCHES as u64).map(|lba| Mismatch { lba, ..m }).collect(),
            mismatch_count: MAX_MISMATCHES as u64,
            ..WorkerResult::default()
        };
        let b = WorkerResult {
            ios: OpCounts { write: 300, ..OpCounts::default() },
            io_total: 300,
            elapsed_us: 2_000_000,
            cpu_ns_per_io: 20.0,
            busy_ns_per_io: 8.0,
            mismatches: vec![m],
            mismatch_count: 1,
            ..WorkerResult::default()
        };
        let t = WorkerResult::total(&[a, b], None);
        assert_eq!(t.io_total, 400);
        assert_eq!(t.iops, 200.0);
        assert_eq!(t.cpu_ns_per_io, 17.5);
        assert_eq!(t.busy_ns_per_io, 7.0);
        assert_eq!(t.mismatches.len(), MAX_MISMATCHES);
        assert_eq!(t.mismatch_count, MAX_MISMATCHES as u64 + 1);
        // Two workers reading the same bad block list it once.
        let bad = |lba| WorkerResult {
            mismatches: vec![Mismatch { lba, ..m }],
            mismatch_count: 1,
            ..WorkerResult::default()
        };
        let t = WorkerResult::total(&[bad(5), bad(5), bad(6)], None);
        assert_eq!(t.mismatches.iter().map(|m| m.lba).collect::<Vec<_>>(), [5, 6]);
        assert_eq!(t.mismatch_count, 3);
    }

    #[test]
    fn old_results_without_busy_time_or_trace_load() {
        let json = r#"{"ios":{"read":1,"write":0,"trim":0,"write_zeroes":0,"flush":0,"compare":0,
            "verify":0,"raw":0},"io_total":1,"bytes":512,"elapsed_ms":1,"elapsed_us":1000,"iops":1000.0,
            "mbps":0.5,"iops_per_second":[1],"consistency":1.0,"cpu_percent":3.0,"status_counts":{},
            "errors":0,"mismatch_count":0,"mismatches":[{"lba":7,"kind":"stamp","expected":7,"found":9}],
            "timed_out":false}"#;
        let w: WorkerResult = serde_json::from_str(json).unwrap();
        assert_eq!((w.busy_ns_per_io, w.trace.len()), (0.0, 0));
        assert_eq!(w.mismatches[0].kind, MismatchKind::Stamp);
    }

    #[test]
    fn busy_time_and_trace_serialize() {
        let w = WorkerResult {
            busy_ns_per_io: 12.5,
            trace: vec![TraceEntry { at_us: 3, op: IoOp::Raw(0x80), slba: 8, nlb: 1 }],
            ..WorkerResult::default()
        };
        let v = serde_json::to_value(&w).unwrap();
        assert_eq!(v["busy_ns_per_io"], 12.5);
        assert_eq!(v["trace"][0]["op"], serde_json::json!({ "raw": 128 }));
        assert_eq!(serde_json::from_value::<WorkerResult>(v).unwrap(), w);
    }
}
