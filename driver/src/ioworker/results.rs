//! What an ioworker measures. The result types themselves live in the
//! `nvmeplan-results` crate, shared with the reports that render them;
//! this module turns the driver's measurements into them: the latency
//! histogram ([`new_histogram`], [`HistogramSummary`]), completions
//! ([`cqe_fields`]) and the thread CPU clock ([`thread_cpu_time`]).

use hdrhistogram::Histogram;
use nvmeplan_spec::Completion;
use std::time::Duration;

pub use nvmeplan_results::{
    CqeFields, FirstError, IoWorkerResults, LatencySummary, MAX_ERROR_COMPLETIONS, MAX_MISMATCHES, Mismatch,
    OpCounts, TraceEntry, WorkerResult,
};

/// Cmdlog entries kept with the first error.
pub const CMDLOG_TAIL: usize = 32;

/// A summary of a latency histogram.
pub trait HistogramSummary: Sized {
    /// The summary of a histogram of nanoseconds; `None` when empty.
    fn from_histogram(h: &Histogram<u64>) -> Option<Self>;
}

impl HistogramSummary for LatencySummary {
    fn from_histogram(h: &Histogram<u64>) -> Option<Self> {
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

/// A completion, field by field, with its status by spec name.
pub fn cqe_fields(c: &Completion) -> CqeFields {
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
    fn cpu_clock_advances() {
        let a = thread_cpu_time();
        let t = std::time::Instant::now();
        while t.elapsed() < Duration::from_millis(30) {
            std::hint::spin_loop();
        }
        assert!(thread_cpu_time() > a);
    }
}
