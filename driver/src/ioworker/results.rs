//! What an ioworker reports: [`WorkerResult`] per worker and in total,
//! with the latency histogram summary, per-second IOPS, status counts,
//! the first error and verify mismatches; and the thread CPU clock.

use super::config::IoOp;
use crate::verify::{Mismatch, MismatchKind};
use hdrhistogram::Histogram;
use nvmeplan_spec::Completion;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// Most mismatches a worker keeps (the count goes on in
/// [`WorkerResult::mismatch_count`]).
pub const MAX_MISMATCHES: usize = 100;
/// Cmdlog entries kept with the first error.
pub const CMDLOG_TAIL: usize = 32;

/// Latency statistics in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
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

impl LatencySummary {
    /// The summary of a histogram of nanoseconds; `None` when empty.
    pub fn from_histogram(h: &Histogram<u64>) -> Option<Self> {
        if h.is_empty() {
            return None;
        }
        Some(LatencySummary {
            min_ns: h.min(),
            avg_ns: h.mean().round() as u64,
            max_ns: h.max(),
            p50_ns: h.value_at_quantile(0.5),
            p90_ns: h.value_at_quantile(0.9),
            p99_ns: h.value_at_quantile(0.99),
            p999_ns: h.value_at_quantile(0.999),
            p9999_ns: h.value_at_quantile(0.9999),
        })
    }
}

/// A latency histogram of nanoseconds, 3 significant digits, 1 ns to 1 hour
/// (preallocated: recording never allocates).
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000_000, 3).expect("valid histogram bounds")
}

/// IOs completed per operation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpCounts {
    /// Reads.
    pub read: u64,
    /// Writes.
    pub write: u64,
    /// Trims (deallocate).
    pub trim: u64,
    /// Write zeroes.
    pub write_zeroes: u64,
    /// Flushes.
    pub flush: u64,
    /// Compares.
    pub compare: u64,
    /// Verifies.
    pub verify: u64,
    /// Raw opcodes.
    pub raw: u64,
}

impl OpCounts {
    /// The counter of `op`.
    pub fn get_mut(&mut self, op: IoOp) -> &mut u64 {
        match op {
            IoOp::Read => &mut self.read,
            IoOp::Write => &mut self.write,
            IoOp::Trim => &mut self.trim,
            IoOp::WriteZeroes => &mut self.write_zeroes,
            IoOp::Flush => &mut self.flush,
            IoOp::Compare => &mut self.compare,
            IoOp::Verify => &mut self.verify,
            IoOp::Raw(_) => &mut self.raw,
        }
    }

    /// The sum of all counters.
    pub fn total(&self) -> u64 {
        self.read
            + self.write
            + self.trim
            + self.write_zeroes
            + self.flush
            + self.compare
            + self.verify
            + self.raw
    }

    fn add(&mut self, o: &OpCounts) {
        self.read += o.read;
        self.write += o.write;
        self.trim += o.trim;
        self.write_zeroes += o.write_zeroes;
        self.flush += o.flush;
        self.compare += o.compare;
        self.verify += o.verify;
        self.raw += o.raw;
    }
}

/// A completion queue entry, field by field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CqeFields {
    /// Dword 0.
    pub dw0: u32,
    /// Dword 1.
    pub dw1: u32,
    /// SQ head pointer.
    pub sqhd: u16,
    /// SQ id.
    pub sqid: u16,
    /// Command id.
    pub cid: u16,
    /// Status, by spec name (or `SCT/SC`).
    pub status: String,
    /// Do Not Retry.
    pub dnr: bool,
}

impl From<&Completion> for CqeFields {
    fn from(c: &Completion) -> Self {
        CqeFields {
            dw0: c.dw0,
            dw1: c.dw1,
            sqhd: c.sqhd,
            sqid: c.sqid,
            cid: c.cid,
            status: c.status().to_string(),
            dnr: c.dnr(),
        }
    }
}

/// The first error of a worker: a failed command, a timeout or a driver
/// error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirstError {
    /// The command, decoded (`read nsid 1 slba 8 nlb 8`, from the cmdlog
    /// when it still holds it).
    pub command: String,
    /// The status by spec name, or `timeout` / the driver error.
    pub status: String,
    /// The completion, when the device posted one.
    pub cqe: Option<CqeFields>,
    /// The most recent commands of the worker's queue, oldest first.
    pub cmdlog_tail: Vec<String>,
}

/// A block that did not read back as written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MismatchRecord {
    /// The LBA.
    pub lba: u64,
    /// `stamp`, `crc`, `unexpected_data` or `read_succeeded` (see
    /// [`MismatchKind`]).
    pub kind: String,
    /// Expected value (LBA for `stamp`, CRC for `crc`).
    pub expected: u64,
    /// Found value.
    pub found: u64,
}

impl From<&Mismatch> for MismatchRecord {
    fn from(m: &Mismatch) -> Self {
        let kind = match m.kind {
            MismatchKind::Stamp => "stamp",
            MismatchKind::Crc => "crc",
            MismatchKind::UnexpectedData => "unexpected_data",
            MismatchKind::ReadSucceeded => "read_succeeded",
        };
        MismatchRecord { lba: m.lba, kind: kind.into(), expected: m.expected, found: m.found }
    }
}

/// One issued IO, recorded when [`super::IoWorkerConfig::trace`] asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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

/// The results of one worker (or the total of all).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkerResult {
    /// IOs completed per operation.
    pub ios: OpCounts,
    /// IOs completed.
    pub io_total: u64,
    /// Bytes transferred by completed reads, writes and compares.
    pub bytes: u64,
    /// Time from start to the last completion.
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
    pub latency: Option<LatencySummary>,
    /// IOs completed in each full or partial second.
    pub iops_per_second: Vec<u64>,
    /// Worst full second divided by the average of full seconds (1.0 when
    /// the run had no full second).
    pub consistency: f64,
    /// CPU time of the worker thread over its elapsed time, in percent
    /// (the total sums the workers).
    pub cpu_percent: f64,
    /// Completions per status name.
    pub status_counts: BTreeMap<String, u64>,
    /// Commands that failed (error status or timeout) and driver errors.
    pub errors: u64,
    /// The first error.
    pub first_error: Option<FirstError>,
    /// Blocks that did not verify (at most [`MAX_MISMATCHES`]).
    pub mismatches: Vec<MismatchRecord>,
    /// Whether a command timed out.
    pub timed_out: bool,
    /// Mismatches found, including those not kept (addition).
    pub mismatch_count: u64,
    /// Nanoseconds of thread CPU time per completed IO (addition).
    pub cpu_ns_per_io: f64,
    /// Blocks read with `verify` that were checked against a known
    /// expectation, mismatched ones included (addition).
    #[serde(default)]
    pub blocks_checked: u64,
    /// Blocks read with `verify` that nothing was known about, so they
    /// were not checked (addition).
    #[serde(default)]
    pub blocks_unchecked: u64,
    /// Nanoseconds per completed IO the worker spent in loop iterations
    /// that submitted or reaped something: its own cost, without the time
    /// it polled an idle queue waiting for the device (addition).
    pub busy_ns_per_io: f64,
    /// Issued IOs, when traced (addition).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trace: Vec<TraceEntry>,
}

impl WorkerResult {
    /// Fills the derived rates from the counts and times.
    pub(crate) fn finish_rates(&mut self, elapsed: Duration, cpu: Duration) {
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
    /// latency comes from the merged histogram, per-second counts add up
    /// second by second, the first error is the first worker's that has one.
    pub(crate) fn total(workers: &[WorkerResult], merged: &Histogram<u64>) -> WorkerResult {
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
            t.mismatch_count += w.mismatch_count;
            t.blocks_checked += w.blocks_checked;
            t.blocks_unchecked += w.blocks_unchecked;
            for m in &w.mismatches {
                if t.mismatches.len() < MAX_MISMATCHES {
                    t.mismatches.push(m.clone());
                }
            }
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
        t.latency = LatencySummary::from_histogram(merged);
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

/// The results of one `run_workers` call.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IoWorkerResults {
    /// One per config, in order.
    pub workers: Vec<WorkerResult>,
    /// The total.
    pub total: WorkerResult,
}

/// CPU time consumed by the calling thread so far.
pub fn thread_cpu_time() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a `rusage` into the valid, writable pointer;
    // RUSAGE_THREAD is supported by Linux since 2.6.26.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_THREAD, usage.as_mut_ptr()) };
    if rc != 0 {
        return Duration::ZERO;
    }
    // SAFETY: getrusage succeeded, so the struct is initialized (it was
    // also zeroed).
    let u = unsafe { usage.assume_init() };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, (t.tv_usec as u32) * 1000);
    tv(u.ru_utime) + tv(u.ru_stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_summary() {
        let mut h = new_histogram();
        for v in 1..=10_000u64 {
            h.record(v * 1000).unwrap();
        }
        let s = LatencySummary::from_histogram(&h).unwrap();
        assert!((s.p50_ns as i64 - 5_000_000).abs() < 10_000);
        assert!((s.p99_ns as i64 - 9_900_000).abs() < 20_000);
        assert_eq!(s.min_ns, 1000);
        assert!(LatencySummary::from_histogram(&new_histogram()).is_none());
    }

    #[test]
    fn consistency_uses_full_seconds() {
        assert_eq!(consistency(&[100, 50, 7], Duration::from_millis(2100)), 50.0 / 75.0);
        assert_eq!(consistency(&[7], Duration::from_millis(500)), 1.0);
    }

    #[test]
    fn cpu_clock_advances() {
        let a = thread_cpu_time();
        let t = std::time::Instant::now();
        while t.elapsed() < Duration::from_millis(30) {
            std::hint::spin_loop();
        }
        assert!(thread_cpu_time() > a);
    }
}
