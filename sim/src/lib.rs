//! A software NVMe controller that speaks the real register and queue
//! protocol.
//!
//! The simulator models one PCI function: BAR0 registers and doorbells, PCI
//! configuration space with bus mastering and MSI-X, a DMA window through
//! which it reads and writes host memory ([`DmaSpace`]), and the NVMe
//! controller behind them. Host software drives it exactly as it would drive
//! hardware: it maps buffers into the window, writes registers and doorbells,
//! and waits for completions and interrupts. The simulator never trusts the
//! host: every DMA address is bounds-checked and malformed commands complete
//! with the status a real controller returns.
//!
//! Commands are fetched and completed by device threads (one per submission
//! queue plus a timer thread), asynchronously from the doorbell writes.

pub mod dma;
pub mod faults;
pub mod io;
pub mod msix;
pub mod prp;
pub mod storage;

pub(crate) mod admin;
pub mod config;
pub(crate) mod controller;
pub mod device;
pub(crate) mod durable;
pub mod firmware;
pub mod health;
pub(crate) mod image;
pub(crate) mod latency;
pub(crate) mod queues;

pub use config::{ConfigError, CreateMode, LatencyModel, NamespaceConfig, SimConfig, Storage};
pub use device::SimDevice;
pub use dma::{DmaFault, DmaSpace};
pub use faults::{FaultAction, FaultInjector};
pub use io::CopyLimits;
pub use msix::InterruptController;
pub use storage::{DataMode, NamespaceStore};

use std::path::PathBuf;

/// Why a simulated device could not be created.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A namespace store could not be opened.
    #[error(transparent)]
    Storage(#[from] storage::StorageError),
    /// A file in the storage directory could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Another device (in this or another process) has the image set open.
    #[error("{}: the simulator image is in use by {}", path.display(), match pid {
        Some(pid) => format!("PID {pid}"),
        None => "another process".to_string(),
    })]
    InUse {
        /// The lock file of the image set.
        path: PathBuf,
        /// The process holding it, when the lock file names one.
        pid: Option<u32>,
    },
    /// A path of the image set cannot be used: not an image of ours, a
    /// missing directory, a layout that contradicts the stored one.
    #[error("{}: {reason}", path.display())]
    Image {
        /// The file or directory concerned.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The saved state file is unusable.
    #[error("{}: invalid simulator state: {reason}", path.display())]
    State {
        /// The state file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A device thread could not be started.
    #[error("cannot start a simulator thread: {0}")]
    Thread(std::io::Error),
}
