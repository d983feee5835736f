//! Host-side userspace NVMe driver for nvmeplan.
//!
//! The driver talks to a controller only through the [`Transport`] trait
//! (BAR0 registers, PCI configuration space, DMA memory and MSI-X), so the
//! same code drives real hardware through VFIO ([`transport::vfio`]) and the
//! simulator (whose backend lives in the `nvmeplan-device` crate).
//!
//! * [`Controller`] brings a controller up exactly as the NVMe specification
//!   orders it, keeps identify data and namespaces, runs admin commands and
//!   resets, and hands out I/O queue pairs.
//! * [`QueuePair`] is one I/O submission/completion queue pair, owned by one
//!   thread, with an allocation-free hot path ([`QueuePair::submit_raw`],
//!   [`QueuePair::poll`]) and synchronous helpers ([`QueuePair::write`],
//!   [`QueuePair::read`], ...).
//! * [`DmaBuffer`] is DMA-able memory with fill patterns and hexdumps.
//! * [`CmdLog`] records recent commands per queue, readable from any thread.
//! * [`VerifyMap`] tracks per-LBA CRCs for end-to-end data verification.

#![deny(unsafe_op_in_unsafe_fn)]

pub mod admin;
pub mod cmdlog;
pub mod commands;
pub mod controller;
pub mod dma;
pub mod error;
pub mod io;
pub mod ioworker;
pub mod namespace;
pub mod prp;
pub mod queue_pair;
pub mod transport;
pub mod verify;

pub use cmdlog::{CmdLog, CmdLogEntry};
pub use controller::{Controller, ControllerOptions, Namespace, ShutdownKind};
pub use dma::{DmaBuffer, Pattern};
pub use error::DriverError;
pub use io::{ReadOutcome, WriteOptions};
pub use ioworker::{IoOp, IoWorkerConfig, IoWorkerResults, WorkerResult, run_workers};
pub use queue_pair::{CANCEL_GRACE, QueuePair, QueuePairOptions};
pub use transport::{DmaRegion, Transport, TransportError};
pub use verify::{
    CheckCounts, Expectation, MapFormatError, Mismatch, MismatchKind, STAMP_BYTES, Stamp, VerifyMap,
    stamp_block, stamp_of,
};

/// The memory page size the driver configures (CC.MPS = 0): 4 KiB.
pub const PAGE_SIZE: usize = nvmeplan_spec::PAGE_SIZE;
