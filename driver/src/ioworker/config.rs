//! What an ioworker does: [`IoWorkerConfig`] and its parts, with
//! validation that names the offending parameter.

use crate::controller::Namespace;
use crate::dma::Pattern;
use crate::error::DriverError;
pub use nvmeplan_results::IoOp;
use std::time::Duration;

/// The largest number of blocks one command can carry (NLB is 16 bits,
/// zero-based).
pub const MAX_NLB: u32 = 65536;

/// IO size in logical blocks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IoSizeSpec {
    /// Every IO has this many blocks.
    Fixed(u32),
    /// Each IO picks one of these sizes uniformly.
    List(Vec<u32>),
    /// Each IO picks a size uniformly in `min..=max`.
    Range {
        /// Smallest size.
        min: u32,
        /// Largest size.
        max: u32,
    },
    /// Each IO picks a size with probability proportional to its weight:
    /// `(size, weight)` pairs.
    Weighted(Vec<(u32, u32)>),
}

impl IoSizeSpec {
    /// The largest size the spec can produce.
    pub fn max(&self) -> u32 {
        match self {
            IoSizeSpec::Fixed(n) => *n,
            IoSizeSpec::List(v) => v.iter().copied().max().unwrap_or(0),
            IoSizeSpec::Range { max, .. } => *max,
            IoSizeSpec::Weighted(v) => v.iter().map(|(s, _)| *s).max().unwrap_or(0),
        }
    }

    fn sizes(&self) -> Vec<u32> {
        match self {
            IoSizeSpec::Fixed(n) => vec![*n],
            IoSizeSpec::List(v) => v.clone(),
            IoSizeSpec::Range { min, max } => vec![*min, *max],
            IoSizeSpec::Weighted(v) => v.iter().map(|(s, _)| *s).collect(),
        }
    }
}

/// Alignment of starting LBAs, in blocks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Align {
    /// Every IO starts at a multiple of this many blocks.
    All(u32),
    /// `(io size, alignment)` pairs: an IO of a listed size starts at a
    /// multiple of its alignment; sizes not listed are aligned to 1.
    PerSize(Vec<(u32, u32)>),
}

impl Default for Align {
    fn default() -> Self {
        Align::All(1)
    }
}

impl Align {
    /// The alignment of an IO of `size` blocks.
    pub fn for_size(&self, size: u32) -> u32 {
        match self {
            Align::All(a) => *a,
            Align::PerSize(v) => v.iter().find(|(s, _)| *s == size).map_or(1, |(_, a)| *a),
        }
    }
}

/// One IO of an explicit sequence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SequenceEntry {
    /// Submit no earlier than this long after the worker starts; `None`
    /// submits as soon as the previous entries are submitted.
    pub at: Option<Duration>,
    /// The operation.
    pub op: IoOp,
    /// Starting LBA (ignored for flush).
    pub slba: u64,
    /// Number of blocks (ignored for flush).
    pub nlb: u32,
}

/// One worker: an IO mix on one namespace, run on its own thread and queue
/// pair. See [`IoWorkerConfig::new`] for the defaults.
#[derive(Clone, Debug)]
pub struct IoWorkerConfig {
    /// Namespace id.
    pub nsid: u32,
    /// IO size in logical blocks.
    pub io_size: IoSizeSpec,
    /// Alignment of starting LBAs (random and sequential).
    pub lba_align: Align,
    /// Sequential stride in blocks (may be negative or zero); `None` =
    /// the size of the previous IO.
    pub lba_step: Option<i64>,
    /// Percentage of IOs with a random LBA (0 = sequential, 100 = random).
    pub lba_random_percent: u8,
    /// Operations with relative weights (usually summing to 100);
    /// `read_percentage p` is `[(Read, p), (Write, 100 - p)]`.
    pub op_mix: Vec<(IoOp, u32)>,
    /// Commands kept outstanding: 1..=MQES (the queue is created with
    /// `qdepth + 1` entries).
    pub qdepth: u16,
    /// How long to run; with `io_count`, whichever ends first.
    pub time: Option<Duration>,
    /// How many IOs to issue; with `time`, whichever ends first.
    pub io_count: Option<u64>,
    /// First LBA of the region (inclusive).
    pub region_start: u64,
    /// End of the region (exclusive); `None` = the namespace size.
    pub region_end: Option<u64>,
    /// First sequential LBA; `None` = `region_start`.
    pub lba_start: Option<u64>,
    /// Limit of IOs per second (submissions are paced).
    pub iops_limit: Option<u32>,
    /// JEDEC-style hot spots: 100 buckets summing to 10000. Bucket `i`
    /// covers the `i`th hundredth of the region and receives
    /// `distribution[i] / 10000` of the random IOs.
    pub distribution: Option<Vec<u32>>,
    /// The data written (writes are stamped on top when `verify` is on).
    pub pattern: Pattern,
    /// Stamp writes, check reads against the verify map, and keep
    /// overlapping IOs of this worker apart (in-flight LBA lock).
    pub verify: bool,
    /// Replay these IOs in order instead of generating them.
    pub io_sequence: Option<Vec<SequenceEntry>>,
    /// Seed of the worker's random generator.
    pub seed: u64,
    /// Keep going after a device error (default: stop at the first).
    /// Errors are counted by status either way.
    pub continue_on_error: bool,
    /// With `continue_on_error`: the errors the worker tolerates; the one
    /// after them (error `max_errors + 1`) stops it, with
    /// [`super::WorkerResult::stopped`] saying so. `None` = no limit.
    pub max_errors: Option<u64>,
    /// Record per-IO latency into the histogram.
    pub record_latency: bool,
    /// Per-command timeout; `None` = 5 s.
    pub timeout: Option<Duration>,
    /// Doorbell batching: submit only when at
    /// least this many queue slots are free, and write the CQ head doorbell
    /// once this many completions were consumed. Fewer doorbell writes
    /// cost the outstanding count a dip to `qdepth - submit_batch + 1`.
    /// `None` = `qdepth / 8` (at least 1); clamped to `1..=qdepth`; the SQ
    /// side is 1 with a rate limit or an IO sequence.
    pub submit_batch: Option<u16>,
    /// Record the first `trace` issued IOs in [`super::WorkerResult::trace`]
    /// (for tests and debugging); 0 = off.
    pub trace: usize,
}

impl IoWorkerConfig {
    /// The defaults: 8-block (4 KiB at 512 B) reads, sequential from LBA 0
    /// over the whole namespace, QD 1, 1000 IOs, align 1, pattern zeros,
    /// no verify, seed 0, stop at the first error, latency recorded,
    /// 5 s command timeout.
    pub fn new(nsid: u32) -> Self {
        IoWorkerConfig {
            nsid,
            io_size: IoSizeSpec::Fixed(8),
            lba_align: Align::All(1),
            lba_step: None,
            lba_random_percent: 0,
            op_mix: vec![(IoOp::Read, 100)],
            qdepth: 1,
            time: None,
            io_count: Some(1000),
            region_start: 0,
            region_end: None,
            lba_start: None,
            iops_limit: None,
            distribution: None,
            pattern: Pattern::Zeros,
            verify: false,
            io_sequence: None,
            seed: 0,
            continue_on_error: false,
            max_errors: None,
            record_latency: true,
            timeout: None,
            submit_batch: None,
            trace: 0,
        }
    }

    /// Sets the mix to `percent`% reads and the rest writes.
    pub fn read_percentage(mut self, percent: u8) -> Self {
        let p = u32::from(percent.min(100));
        self.op_mix = [(IoOp::Read, p), (IoOp::Write, 100 - p)].into_iter().filter(|(_, w)| *w > 0).collect();
        self
    }

    /// The region end, resolved against the namespace.
    pub fn region_end_for(&self, ns: &Namespace) -> u64 {
        self.region_end.unwrap_or(ns.nsze)
    }

    /// The doorbell batch in force (see [`IoWorkerConfig::submit_batch`]).
    pub fn doorbell_batch(&self) -> u16 {
        self.submit_batch.unwrap_or(self.qdepth / 8).clamp(1, self.qdepth.max(1))
    }

    /// The per-command timeout in force.
    pub fn command_timeout(&self) -> Duration {
        self.timeout.unwrap_or(crate::queue_pair::DEFAULT_TIMEOUT)
    }

    /// Bytes of the largest IO.
    pub fn max_io_bytes(&self, lba_size: u64) -> u64 {
        let seq_max = self
            .io_sequence
            .as_ref()
            .map_or(0, |s| s.iter().filter(|e| e.op.transfers_data()).map(|e| e.nlb).max().unwrap_or(0));
        let gen_max = if self.io_sequence.is_some() { 0 } else { self.io_size.max() };
        u64::from(seq_max.max(gen_max)) * lba_size
    }

    /// Checks the config against namespace `ns` and the controller's
    /// CAP.MQES (zero-based). Errors are [`DriverError::InvalidArgument`]
    /// naming the parameter.
    pub fn validate(&self, ns: &Namespace, mqes: u16) -> Result<(), DriverError> {
        let bad =
            |param: &str, why: String| Err(DriverError::InvalidArgument(format!("ioworker {param}: {why}")));
        if self.nsid != ns.nsid {
            return bad("nsid", format!("{} does not match namespace {}", self.nsid, ns.nsid));
        }
        if self.qdepth == 0 || self.qdepth > mqes {
            return bad("qdepth", format!("{} is outside 1..={mqes} (CAP.MQES)", self.qdepth));
        }
        if self.time.is_none() && self.io_count.is_none() && self.io_sequence.is_none() {
            return bad("time", "neither time nor io_count is set".into());
        }
        if self.iops_limit == Some(0) {
            return bad("iops", "the rate limit must be at least 1 IO per second".into());
        }
        if self.timeout.is_some_and(|t| t.is_zero()) {
            return bad("timeout", "the command timeout must be above zero".into());
        }
        if let Some(seq) = &self.io_sequence {
            return validate_sequence(seq, ns);
        }
        let sizes = self.io_size.sizes();
        if sizes.is_empty() {
            return bad("io_size", "the list of sizes is empty".into());
        }
        if let Some(s) = sizes.iter().find(|&&s| s == 0 || s > MAX_NLB) {
            return bad("io_size", format!("{s} blocks is outside 1..={MAX_NLB}"));
        }
        match &self.io_size {
            IoSizeSpec::Range { min, max } if min > max => {
                return bad("io_size", format!("range min {min} is above max {max}"));
            }
            IoSizeSpec::Weighted(v) if v.iter().map(|(_, w)| u64::from(*w)).sum::<u64>() == 0 => {
                return bad("io_size", "the weights sum to zero".into());
            }
            _ => {}
        }
        match &self.lba_align {
            Align::All(0) => return bad("lba_align", "alignment 0; use 1 for none".into()),
            Align::PerSize(v) => {
                if let Some((s, _)) = v.iter().find(|(_, a)| *a == 0) {
                    return bad("lba_align", format!("alignment 0 for io size {s}; use 1 for none"));
                }
            }
            _ => {}
        }
        if self.lba_random_percent > 100 {
            return bad("lba_random", format!("{}% is above 100", self.lba_random_percent));
        }
        if self.op_mix.is_empty() || self.op_mix.iter().map(|(_, w)| u64::from(*w)).sum::<u64>() == 0 {
            return bad("op_percentage", "no operation has a non-zero share".into());
        }
        let end = self.region_end_for(ns);
        if end > ns.nsze {
            return bad("region_end", format!("{end} is beyond the namespace size {}", ns.nsze));
        }
        if self.region_start >= end {
            return bad("region_start", format!("{} is not below region_end {end}", self.region_start));
        }
        let region = end - self.region_start;
        let max = u64::from(self.io_size.max());
        if max > region {
            return bad("io_size", format!("{max} blocks do not fit the region of {region} blocks"));
        }
        for s in &sizes {
            let a = u64::from(self.lba_align.for_size(*s));
            let first = self.region_start.next_multiple_of(a);
            if first.saturating_add(u64::from(*s)) > end {
                return bad(
                    "lba_align",
                    format!("no LBA aligned to {a} leaves room for {s} blocks in the region"),
                );
            }
        }
        if let Some(start) = self.lba_start
            && !(self.region_start..end).contains(&start)
        {
            return bad("lba_start", format!("{start} is outside the region {}..{end}", self.region_start));
        }
        if let Some(d) = &self.distribution {
            if d.len() != 100 {
                return bad("distribution", format!("{} buckets, expected 100", d.len()));
            }
            let sum: u64 = d.iter().map(|&x| u64::from(x)).sum();
            if sum != 10000 {
                return bad("distribution", format!("the buckets sum to {sum}, expected 10000"));
            }
            if region < 100 {
                return bad(
                    "distribution",
                    format!("the region of {region} blocks has fewer than 100 blocks"),
                );
            }
        }
        Ok(())
    }
}

fn validate_sequence(seq: &[SequenceEntry], ns: &Namespace) -> Result<(), DriverError> {
    for (i, e) in seq.iter().enumerate() {
        let bad =
            |why: String| Err(DriverError::InvalidArgument(format!("ioworker io_sequence[{i}]: {why}")));
        if !e.op.has_range() {
            continue;
        }
        if e.nlb == 0 || e.nlb > MAX_NLB {
            return bad(format!("nlb {} is outside 1..={MAX_NLB}", e.nlb));
        }
        if e.slba.saturating_add(u64::from(e.nlb)) > ns.nsze {
            return bad(format!("{}+{} is beyond the namespace size {}", e.slba, e.nlb, ns.nsze));
        }
    }
    Ok(())
}
