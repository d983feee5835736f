//! The serialisable results of nvmeplan's ioworker, defined once.
//!
//! The driver produces these types, the runner stores them in a step of
//! report.json, and the reports crate reads them back and renders them.
//! Producer and consumer share this crate so that a field exists in one
//! place: nothing is copied field by field, and whatever the driver
//! measures reaches the report.
//!
//! The crate holds plain data (serde and JSON Schema derives) and the
//! arithmetic that needs nothing but that data; measuring (histograms,
//! clocks, the device) stays in the driver.
//!
//! * [`op`]: the IO operations a worker issues ([`IoOp`]) and their counts
//!   ([`OpCounts`]).
//! * [`stop`]: why a run or its workers stopped early ([`StopReason`]).
//! * [`verify`]: data that did not read back as expected ([`Mismatch`]).
//! * [`worker`]: one worker's results ([`WorkerResult`]) and a whole call's
//!   ([`IoWorkerResults`]).

pub mod op;
pub mod stop;
pub mod verify;
pub mod worker;

pub use op::{IoOp, OP_COUNTER_NAMES, OpCounts};
pub use stop::{INTERRUPTED_AGAIN, StopReason};
pub use verify::{Mismatch, MismatchKind, keep_unique};
pub use worker::{
    CqeFields, FirstError, IoWorkerResults, LatencySummary, MAX_ERROR_COMPLETIONS, MAX_MISMATCHES,
    TraceEntry, WorkerResult,
};
