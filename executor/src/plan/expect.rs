//! What a step expects: completion status, dwords, fields, and IO worker
//! results. A step without `expect` expects `success`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::values::{Compare, DurationValue, StatusName};

/// One acceptable status or a list of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum StatusExpect {
    /// Exactly this status.
    One(StatusName),
    /// Any of these statuses.
    AnyOf(Vec<StatusName>),
}

impl StatusExpect {
    /// The acceptable statuses.
    pub fn statuses(&self) -> Vec<nvmeplan_spec::Status> {
        match self {
            StatusExpect::One(s) => vec![s.0],
            StatusExpect::AnyOf(list) => list.iter().map(|s| s.0).collect(),
        }
    }
}

/// Completion dword 0, compared after masking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cdw0Expect {
    /// The expected value (after the mask).
    pub value: u32,
    /// Bits to compare (default: all).
    #[serde(default)]
    pub mask: Option<u32>,
}

/// Latency percentiles of an IO worker, each a comparison of durations
/// (`{ le: 200us }`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LatencyExpect {
    /// Median.
    #[serde(default)]
    pub p50: Option<DurationCompare>,
    /// 90th percentile.
    #[serde(default)]
    pub p90: Option<DurationCompare>,
    /// 99th percentile.
    #[serde(default)]
    pub p99: Option<DurationCompare>,
    /// 99.9th percentile.
    #[serde(default)]
    pub p999: Option<DurationCompare>,
    /// Maximum.
    #[serde(default)]
    pub max: Option<DurationCompare>,
    /// Mean.
    #[serde(default)]
    pub mean: Option<DurationCompare>,
    /// Reads alone (`latency: { read: { p99: { le: 2ms } } }`).
    #[serde(default)]
    pub read: Option<OpLatencyExpect>,
    /// Writes alone.
    #[serde(default)]
    pub write: Option<OpLatencyExpect>,
    /// Trims alone.
    #[serde(default)]
    pub trim: Option<OpLatencyExpect>,
    /// Write zeroes alone.
    #[serde(default)]
    pub write_zeroes: Option<OpLatencyExpect>,
    /// Flushes alone.
    #[serde(default)]
    pub flush: Option<OpLatencyExpect>,
    /// Compares alone.
    #[serde(default)]
    pub compare: Option<OpLatencyExpect>,
    /// Verifies alone.
    #[serde(default)]
    pub verify: Option<OpLatencyExpect>,
}

impl LatencyExpect {
    /// The bounds on all operations together.
    pub fn all(&self) -> OpLatencyExpect {
        OpLatencyExpect {
            p50: self.p50.clone(),
            p90: self.p90.clone(),
            p99: self.p99.clone(),
            p999: self.p999.clone(),
            max: self.max.clone(),
            mean: self.mean.clone(),
        }
    }

    /// The bounds on single operations, by their `latency_by_op` name.
    pub fn by_op(&self) -> [(&'static str, Option<&OpLatencyExpect>); 7] {
        [
            ("read", self.read.as_ref()),
            ("write", self.write.as_ref()),
            ("trim", self.trim.as_ref()),
            ("write_zeroes", self.write_zeroes.as_ref()),
            ("flush", self.flush.as_ref()),
            ("compare", self.compare.as_ref()),
            ("verify", self.verify.as_ref()),
        ]
    }
}

/// Latency bounds of one operation of an IO worker (`latency.read`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpLatencyExpect {
    /// Median.
    #[serde(default)]
    pub p50: Option<DurationCompare>,
    /// 90th percentile.
    #[serde(default)]
    pub p90: Option<DurationCompare>,
    /// 99th percentile.
    #[serde(default)]
    pub p99: Option<DurationCompare>,
    /// 99.9th percentile.
    #[serde(default)]
    pub p999: Option<DurationCompare>,
    /// Maximum.
    #[serde(default)]
    pub max: Option<DurationCompare>,
    /// Mean.
    #[serde(default)]
    pub mean: Option<DurationCompare>,
}

/// Bounds on a duration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DurationCompare {
    /// Less than.
    #[serde(default)]
    pub lt: Option<DurationValue>,
    /// Less than or equal to.
    #[serde(default)]
    pub le: Option<DurationValue>,
    /// Greater than.
    #[serde(default)]
    pub gt: Option<DurationValue>,
    /// Greater than or equal to.
    #[serde(default)]
    pub ge: Option<DurationValue>,
}

/// Data verification results.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DataExpect {
    /// Number of logical blocks whose data did not verify (default 0).
    #[serde(default)]
    pub mismatches: Option<Compare>,
    /// Number of logical blocks read that could not be checked because
    /// nothing was known about their data (never written through the
    /// verify map, deallocated, or written by a run whose verify state was
    /// not kept). `unchecked: 0` demands that every block was checked.
    /// Without it, unchecked blocks are counted and reported but pass.
    #[serde(default)]
    pub unchecked: Option<Compare>,
}

/// The expected outcome of a step. Without `expect`, a step expects `success`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The status: a spec name (`lba_out_of_range`), `SCT/SC` in hex
    /// (`0x0/0x80`), or a list of acceptable ones.
    #[serde(default)]
    pub status: Option<StatusExpect>,
    /// The Do Not Retry bit of the completion.
    #[serde(default)]
    pub dnr: Option<bool>,
    /// Completion dword 0, with an optional mask.
    #[serde(default)]
    pub cdw0: Option<Cdw0Expect>,
    /// Fields of the identify data, log page or feature the step read, by
    /// spec name (`nn`, `mdts`, `nsze`, `critical_warning`, `wce`).
    #[serde(default)]
    pub fields: Option<BTreeMap<String, Compare>>,
    /// IO worker: number of IOs that failed (default 0).
    #[serde(default)]
    pub errors: Option<Compare>,
    /// IO worker: IOs per second.
    #[serde(default)]
    pub iops: Option<Compare>,
    /// IO worker: latency percentiles.
    #[serde(default)]
    pub latency: Option<LatencyExpect>,
    /// Data verification (reads with `verify`, compares, IO workers with `verify`).
    #[serde(default)]
    pub data: Option<DataExpect>,
}
