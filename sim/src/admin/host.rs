//! What the admin command families need from the controller around them.
//!
//! Each family owns its own state; this module owns the [`AdminHost`]
//! trait, the narrow set of controller services the families use besides
//! that state: the configuration, transfers to and from host buffers, the
//! queue table, the delayed-work timer, the lifetime counters, persistence
//! and the interrupt coalescing the completion path reads. The controller
//! implements it, so the families never name the controller.

use crate::config::SimConfig;
use crate::health::Health;
use crate::io::IoCounters;
use crate::latency::Timer;
use crate::queues::{QueueTable, Sq};
use nvmeplan_spec::registers::Cc;
use nvmeplan_spec::{Command, Status};
use parking_lot::RwLock;
use std::sync::Arc;

/// The controller services an admin command may use.
pub(crate) trait AdminHost {
    /// The configuration the controller was built from.
    fn config(&self) -> &SimConfig;
    /// Transfers `data` to the host buffer the command describes.
    fn write_host(&self, cmd: &Command, data: &[u8]) -> Result<(), Status>;
    /// Reads `len` bytes from the host buffer the command describes.
    fn read_host(&self, cmd: &Command, len: usize) -> Result<Vec<u8>, Status>;
    /// Saves the persistent state of a file-backed device.
    fn persist(&self);
    /// Delayed work (self-test and sanitize completion).
    fn timer(&self) -> &Timer;
    /// Lifetime counters.
    fn health(&self) -> &Arc<Health>;
    /// I/O counters.
    fn io_counters(&self) -> &IoCounters;
    /// The queues that exist.
    fn queues(&self) -> &RwLock<QueueTable>;
    /// The memory page size selected at enable.
    fn page_size(&self) -> usize;
    /// The Controller Configuration register.
    fn cc(&self) -> Cc;
    /// Whether MSI-X is enabled.
    fn msix_enabled(&self) -> bool;
    /// Starts the worker of a new I/O submission queue.
    fn start_sq(&self, sq: &Arc<Sq>) -> std::io::Result<()>;
    /// Publishes the coalescing settings (the dword Set Features kept and
    /// the per-vector disable bits) to the completion path.
    fn publish_coalescing(&self, value: u32, vector_cd: &[bool]);
}
