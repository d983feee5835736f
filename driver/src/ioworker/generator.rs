//! The IO generator: which operation, where and how large each IO is, and
//! when it may be submitted (rate limit, sequence times).
//!
//! * Random numbers come from [`WyRand`], a tiny non-cryptographic
//!   generator (one multiply per draw), seeded per worker, so a run is
//!   reproducible for a given seed.
//! * The operation and weighted sizes are drawn from cumulative weight
//!   tables; uniform choices use Lemire's multiply-shift reduction (no
//!   division).
//! * Random LBAs are uniform over the aligned start positions that keep
//!   the whole IO inside the region, or, with a `distribution`, first a
//!   bucket by its share and then a position inside the bucket.
//! * Sequential LBAs start at `lba_start` and advance by `lba_step` (or
//!   the IO size), wrapping to the other end of the region.
//! * An `io_sequence` is replayed entry by entry.

use super::config::{Align, IoOp, IoSizeSpec, IoWorkerConfig, SequenceEntry};
use crate::controller::Namespace;

/// wyrand: a fast 64-bit generator (Wang Yi), good enough for workloads.
#[derive(Clone, Debug)]
pub struct WyRand(u64);

impl WyRand {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        WyRand(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0xA076_1D64_78BD_642F);
        let t = u128::from(self.0) * u128::from(self.0 ^ 0xE703_7ED1_A0B4_28DB);
        ((t >> 64) as u64) ^ (t as u64)
    }

    /// A value in `0..n` (`n > 0`), by multiply-shift.
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
}

/// One IO to issue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoRequest {
    /// The operation.
    pub op: IoOp,
    /// Starting LBA (0 for flush).
    pub slba: u64,
    /// Blocks (0 for flush).
    pub nlb: u32,
    /// Earliest submission, nanoseconds after the worker's start.
    pub not_before_ns: u64,
}

/// A cumulative weight table.
#[derive(Clone, Debug)]
struct Weighted<T: Copy> {
    cumulative: Vec<(u64, T)>,
    total: u64,
}

impl<T: Copy> Weighted<T> {
    fn new(items: impl IntoIterator<Item = (T, u32)>) -> Self {
        let mut total = 0u64;
        let cumulative = items
            .into_iter()
            .filter(|(_, w)| *w > 0)
            .map(|(t, w)| {
                total += u64::from(w);
                (total, t)
            })
            .collect();
        Weighted { cumulative, total }
    }

    #[inline]
    fn pick(&self, rng: &mut WyRand) -> T {
        if self.cumulative.len() == 1 {
            return self.cumulative[0].1;
        }
        let x = rng.below(self.total);
        match self.cumulative.iter().find(|(c, _)| x < *c) {
            Some((_, t)) => *t,
            None => self.cumulative[self.cumulative.len() - 1].1,
        }
    }
}

#[derive(Clone, Debug)]
enum Sizes {
    Fixed(u32),
    List(Vec<u32>),
    Range { min: u32, span: u64 },
    Weighted(Weighted<u32>),
}

#[derive(Clone, Debug)]
enum Mode {
    Generated {
        ops: Weighted<IoOp>,
        sizes: Sizes,
        align: Align,
        align_all: Option<u64>,
        step: Option<i64>,
        random_percent: u8,
        next_seq: u64,
        buckets: Option<(Weighted<u8>, u64)>,
    },
    Sequence {
        entries: Vec<SequenceEntry>,
        next: usize,
    },
}

/// Generates the IOs of one worker.
#[derive(Clone, Debug)]
pub struct Generator {
    rng: WyRand,
    start: u64,
    end: u64,
    mode: Mode,
}

impl Generator {
    /// The generator of `cfg` (which must have passed validation) on `ns`.
    pub fn new(cfg: &IoWorkerConfig, ns: &Namespace) -> Self {
        let start = cfg.region_start;
        let end = cfg.region_end_for(ns);
        let mode = match &cfg.io_sequence {
            Some(entries) => Mode::Sequence { entries: entries.clone(), next: 0 },
            None => {
                let sizes = match &cfg.io_size {
                    IoSizeSpec::Fixed(n) => Sizes::Fixed(*n),
                    IoSizeSpec::List(v) if v.len() == 1 => Sizes::Fixed(v[0]),
                    IoSizeSpec::List(v) => Sizes::List(v.clone()),
                    IoSizeSpec::Range { min, max } => {
                        Sizes::Range { min: *min, span: u64::from(*max - *min) + 1 }
                    }
                    IoSizeSpec::Weighted(v) => Sizes::Weighted(Weighted::new(v.iter().copied())),
                };
                let align_all = match &cfg.lba_align {
                    Align::All(a) => Some(u64::from(*a)),
                    Align::PerSize(_) => None,
                };
                let buckets = cfg.distribution.as_ref().map(|d| {
                    (Weighted::new(d.iter().enumerate().map(|(i, w)| (i as u8, *w))), (end - start) / 100)
                });
                Mode::Generated {
                    ops: Weighted::new(cfg.op_mix.iter().copied()),
                    sizes,
                    align: cfg.lba_align.clone(),
                    align_all,
                    step: cfg.lba_step,
                    random_percent: cfg.lba_random_percent,
                    next_seq: cfg.lba_start.unwrap_or(start),
                    buckets,
                }
            }
        };
        Generator { rng: WyRand::new(cfg.seed), start, end, mode }
    }

    /// The next IO, or `None` when a sequence is exhausted (generated
    /// workloads never end by themselves).
    #[inline]
    pub fn next_io(&mut self) -> Option<IoRequest> {
        let (start, end) = (self.start, self.end);
        match &mut self.mode {
            Mode::Sequence { entries, next } => {
                let e = entries.get(*next)?;
                *next += 1;
                let ns = e.at.map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
                let (slba, nlb) = if e.op.has_range() { (e.slba, e.nlb) } else { (0, 0) };
                Some(IoRequest { op: e.op, slba, nlb, not_before_ns: ns })
            }
            Mode::Generated { ops, sizes, align, align_all, step, random_percent, next_seq, buckets } => {
                let rng = &mut self.rng;
                let op = ops.pick(rng);
                if !op.has_range() {
                    return Some(IoRequest { op, slba: 0, nlb: 0, not_before_ns: 0 });
                }
                let nlb = match sizes {
                    Sizes::Fixed(n) => *n,
                    Sizes::List(v) => v[rng.below(v.len() as u64) as usize],
                    Sizes::Range { min, span } => *min + rng.below(*span) as u32,
                    Sizes::Weighted(w) => w.pick(rng),
                };
                let a = match align_all {
                    Some(a) => *a,
                    None => u64::from(align.for_size(nlb)),
                };
                let n = u64::from(nlb);
                let random = match *random_percent {
                    0 => false,
                    100 => true,
                    p => rng.below(100) < u64::from(p),
                };
                let slba = if random {
                    match buckets {
                        Some((w, width)) => {
                            let b = u64::from(w.pick(rng));
                            let lo = start + b * *width;
                            let hi = if b == 99 { end } else { lo + *width };
                            random_in(rng, lo, hi.min(end), n, a, start, end)
                        }
                        None => random_in(rng, start, end, n, a, start, end),
                    }
                } else {
                    let mut lba = next_seq.next_multiple_of(a);
                    if lba + n > end || lba < start {
                        lba = start.next_multiple_of(a);
                    }
                    let stride = step.unwrap_or(nlb as i64);
                    let mut following = lba as i64 + stride;
                    if following < start as i64 {
                        // Wrap backwards to the last position that fits.
                        following = ((end - n) / a * a) as i64;
                    }
                    *next_seq = following as u64;
                    lba
                };
                Some(IoRequest { op, slba, nlb, not_before_ns: 0 })
            }
        }
    }
}

/// A random start aligned to `a` in `lo..hi` such that the IO of `n`
/// blocks stays inside `start..end`; when the bucket `lo..hi` has no such
/// position, the nearest valid one.
#[inline]
fn random_in(rng: &mut WyRand, lo: u64, hi: u64, n: u64, a: u64, start: u64, end: u64) -> u64 {
    let first = lo.next_multiple_of(a);
    // The last start inside lo..hi that keeps the IO inside the region.
    let last_fit = end - n;
    let last = (hi - 1).min(last_fit);
    if first > last {
        // The bucket cannot hold an aligned start: clamp into the region.
        let clamped = last_fit / a * a;
        return clamped.max(start.next_multiple_of(a));
    }
    if a == 1 { first + rng.below(last - first + 1) } else { first + rng.below((last - first) / a + 1) * a }
}

/// Paces submissions to a rate: IO `k` (from 0) may be submitted at
/// `k / iops` seconds.
#[derive(Clone, Copy, Debug)]
pub struct RateLimiter {
    iops: u64,
}

impl RateLimiter {
    /// A limiter of `iops` IOs per second (at least 1).
    pub fn new(iops: u32) -> Self {
        RateLimiter { iops: u64::from(iops.max(1)) }
    }

    /// When IO number `issued` may be submitted, in ns after the start.
    #[inline]
    pub fn due_ns(&self, issued: u64) -> u64 {
        ((u128::from(issued) * 1_000_000_000) / u128::from(self.iops)) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_is_uniform_enough() {
        let mut r = WyRand::new(1);
        let mut hist = [0u32; 10];
        for _ in 0..100_000 {
            hist[r.below(10) as usize] += 1;
        }
        assert!(hist.iter().all(|&h| (9_000..11_000).contains(&h)), "{hist:?}");
    }

    #[test]
    fn random_in_respects_bounds() {
        let mut r = WyRand::new(3);
        for _ in 0..10_000 {
            let l = random_in(&mut r, 10, 1000, 8, 4, 10, 1000);
            assert!(l >= 10 && l + 8 <= 1000 && l.is_multiple_of(4), "{l}");
        }
        // A bucket at the end of the region that cannot hold the IO.
        assert_eq!(random_in(&mut r, 996, 1000, 8, 4, 0, 1000), 992);
    }

    #[test]
    fn rate_schedule() {
        let r = RateLimiter::new(2000);
        assert_eq!(r.due_ns(0), 0);
        assert_eq!(r.due_ns(2000), 1_000_000_000);
    }
}
