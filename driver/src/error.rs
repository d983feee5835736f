//! The driver's error type, [`DriverError`].
//!
//! Every message names what failed: the queue id, command id and opcode of a
//! command, or the register and bit a bring-up step waited on.

use crate::transport::TransportError;
use nvmeplan_spec::{AdminOpcode, NvmOpcode, Status};
use std::fmt;
use std::time::Duration;

/// An opcode together with the queue type it was sent on, so it prints as
/// its spec name (`write`, `identify`) instead of a bare number.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct OpcodeName {
    /// The raw opcode.
    pub opcode: u8,
    /// Whether it was an admin command (sent on queue 0).
    pub admin: bool,
}

impl OpcodeName {
    /// The opcode `opcode` as sent on queue `qid` (0 = admin).
    pub const fn new(opcode: u8, qid: u16) -> Self {
        OpcodeName { opcode, admin: qid == 0 }
    }

    /// The spec name of the opcode, if the admin or NVM command set names it.
    pub fn name(&self) -> Option<&'static str> {
        if self.admin {
            AdminOpcode::from_u8(self.opcode).map(AdminOpcode::name)
        } else {
            NvmOpcode::from_u8(self.opcode).map(NvmOpcode::name)
        }
    }
}

impl fmt::Display for OpcodeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} ({:#04x})", self.opcode),
            None => write!(f, "{} opcode {:#04x}", if self.admin { "admin" } else { "io" }, self.opcode),
        }
    }
}

impl fmt::Debug for OpcodeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Everything that can go wrong in the driver.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// A command did not complete within its timeout. Its CID stays
    /// reserved until the queue is deleted or the controller reset, because
    /// the device may still complete it.
    #[error("command {opcode} cid {cid} on queue {qid} timed out after {} ms", elapsed.as_millis())]
    Timeout {
        /// Queue id.
        qid: u16,
        /// Command id.
        cid: u16,
        /// The command's opcode.
        opcode: OpcodeName,
        /// Time since submission.
        elapsed: Duration,
    },
    /// The controller was reset (or shut down) since the queue was created;
    /// its outstanding commands were completed host-side and it accepts no
    /// new commands.
    #[error("queue {qid}: the controller was reset; the queue must be re-created")]
    ControllerReset {
        /// Queue id.
        qid: u16,
    },
    /// CSTS.CFS (controller fatal status) is set.
    #[error("controller fatal status (CSTS.CFS) set while {during}")]
    ControllerFatal {
        /// What the driver was doing.
        during: String,
    },
    /// A register did not reach the expected state in time.
    #[error("{what} not reached after {waited:?}")]
    NotReady {
        /// The register condition waited for, e.g. `CSTS.RDY=1`.
        what: String,
        /// How long the driver waited.
        waited: Duration,
    },
    /// No free submission queue slot or command id.
    #[error("queue {qid} is full ({outstanding} commands outstanding, depth {depth})")]
    QueueFull {
        /// Queue id.
        qid: u16,
        /// Commands outstanding (including timed-out ones whose CID is reserved).
        outstanding: usize,
        /// Queue depth (entries).
        depth: u16,
    },
    /// A command a helper needed to succeed completed with an error status.
    #[error("command {opcode} on queue {qid} failed: {status:?} (cdw0 {dw0:#x}, dnr {dnr})")]
    CommandFailed {
        /// Queue id.
        qid: u16,
        /// The command's opcode.
        opcode: OpcodeName,
        /// Completion status.
        status: Status,
        /// Completion dword 0.
        dw0: u32,
        /// Do Not Retry bit.
        dnr: bool,
    },
    /// The transport failed.
    #[error("transport: {0}")]
    Transport(#[from] TransportError),
    /// An argument was out of range or inconsistent.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A transfer exceeds what the controller (MDTS) or the queue's
    /// preallocated PRP lists allow.
    #[error("transfer of {len} bytes exceeds the maximum of {mdts} bytes")]
    TransferTooLarge {
        /// Requested length in bytes.
        len: usize,
        /// The maximum in bytes.
        mdts: usize,
    },
    /// The namespace is not active on this controller.
    #[error("namespace {nsid} is not active")]
    NoSuchNamespace {
        /// The namespace id.
        nsid: u32,
    },
    /// The controller is not in a state that allows the operation.
    #[error("invalid controller state: {0}")]
    InvalidState(String),
    /// The controller does not support the operation.
    #[error("not supported by the controller: {0}")]
    Unsupported(String),
    /// The controller's cancellation flag ([`crate::ControllerOptions::cancel`])
    /// was set while the driver waited. A command given up this way stays
    /// outstanding with its CID reserved, like a timed-out one.
    #[error("cancelled while waiting for {what}")]
    Cancelled {
        /// What the driver was waiting for.
        what: String,
    },
}

impl DriverError {
    /// `Ok(cqe)` when `cqe` reports success, otherwise
    /// [`DriverError::CommandFailed`] naming the command.
    pub fn check(
        qid: u16,
        opcode: u8,
        cqe: nvmeplan_spec::Completion,
    ) -> Result<nvmeplan_spec::Completion, Self> {
        let status = cqe.status();
        if status.is_success() {
            Ok(cqe)
        } else {
            Err(DriverError::CommandFailed {
                qid,
                opcode: OpcodeName::new(opcode, qid),
                status,
                dw0: cqe.dw0,
                dnr: cqe.dnr(),
            })
        }
    }
}
