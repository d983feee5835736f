//! What the queue engine needs from the controller behind it.
//!
//! This module owns the contract between the queue workers and the code
//! that executes commands: the [`QueueHost`] trait (the host memory
//! window, interrupts, the halt state, fault injection, latency, command
//! execution and the error log) and the [`Outcome`] of one command. The
//! workers know nothing else of the controller, so the controller may
//! depend on the queue engine and never the other way round.

use crate::dma::DmaSpace;
use crate::faults::FaultAction;
use crate::msix::InterruptController;
use nvmeplan_spec::{Command, Status};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

/// The result of executing one command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Outcome {
    /// Status to post.
    pub status: Status,
    /// Do Not Retry.
    pub dnr: bool,
    /// Completion dword 0.
    pub dw0: u32,
}

impl Outcome {
    /// Success with `dw0`.
    pub fn ok(dw0: u32) -> Outcome {
        Outcome { status: Status::SUCCESS, dnr: false, dw0 }
    }

    /// An error status, with DNR set unless the condition is transient.
    pub fn err(status: Status) -> Outcome {
        let transient = [
            Status::SANITIZE_IN_PROGRESS,
            Status::FORMAT_IN_PROGRESS,
            Status::NAMESPACE_NOT_READY,
            Status::COMMAND_ABORT_REQUESTED,
            Status::ABORTED_SQ_DELETION,
            Status::INTERNAL_ERROR,
            Status::DEVICE_SELF_TEST_IN_PROGRESS,
            Status::FIRMWARE_ACTIVATION_REQUIRES_CONVENTIONAL_RESET,
        ];
        Outcome { status, dnr: !status.is_success() && !transient.contains(&status), dw0: 0 }
    }
}

/// The submission queue a command was fetched from.
#[derive(Clone, Copy)]
pub(crate) struct Source<'a> {
    /// Queue identifier (0 is the admin queue).
    pub sqid: u16,
    /// Set when the queue is being torn down by a reset.
    pub stopped: &'a AtomicBool,
}

/// The controller as the queue workers see it.
pub(crate) trait QueueHost: Send + Sync + 'static {
    /// What the host may keep between the commands of one worker pass
    /// (look-ups it can reuse); the worker starts every pass with a fresh
    /// one.
    type PassCache: Default;

    /// The host memory window.
    fn dma(&self) -> &DmaSpace;
    /// The MSI-X vectors.
    fn interrupts(&self) -> &InterruptController;
    /// Interrupt coalescing for `vector`: (threshold, time), or zeros when
    /// coalescing is off or disabled for the vector.
    fn coalescing(&self, vector: u16) -> (u8, u8);
    /// Whether queue processing is stopped (fatal status or hang).
    fn halted(&self) -> bool;
    /// Sets the controller fatal status.
    fn fatal(&self, reason: &str);
    /// Stops queue processing without a fatal status.
    fn hang(&self);
    /// The fault injection rule that matches a fetched command, if any.
    fn fault(&self, sqid: u16, cmd: &Command) -> Option<FaultAction>;
    /// How long a command is held before it executes.
    fn latency(&self, admin: bool, opcode: u8) -> Duration;
    /// Executes a command; returns its outcome and the LBA for the error
    /// log, or `None` when it completes later (Asynchronous Event Request).
    fn execute(
        &self,
        source: Source<'_>,
        cmd: &Command,
        corrupt_read: bool,
        cache: &mut Self::PassCache,
    ) -> Option<(Outcome, Option<u64>)>;
    /// Appends an Error Information log entry.
    fn record_error(&self, sqid: u16, cid: u16, status: Status, dnr: bool, lba: Option<u64>, nsid: u32);
}
