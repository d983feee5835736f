//! NVMe definitions shared by the host driver and the simulated controller.
//!
//! This crate owns only what the NVMe Base and NVM Command Set specifications
//! define: controller registers, submission and completion queue entries,
//! opcodes, status codes with their spec names, and the byte layouts of the
//! identify data structures, log pages and features; and one non-spec
//! module, [`duration`], the text form of a duration that the plan language
//! and the simulator both read. It has no `unsafe` code
//! and performs no I/O; byte layouts are checked at compile time.

#![forbid(unsafe_code)]

pub mod command;
pub mod duration;
pub mod dwords;
pub mod effects;
pub mod features;
pub mod identify;
pub mod layout;
pub mod log;
pub mod names;
pub mod opcodes;
pub mod registers;
pub mod status;

pub use command::{Cdw0, Command, Completion, CompletionStatus};
pub use opcodes::{AdminOpcode, NvmOpcode, Opcode};
pub use status::Status;

/// Size in bytes of the identify data structures and of the memory page the
/// driver and simulator use (CC.MPS = 0).
pub const PAGE_SIZE: usize = 4096;
