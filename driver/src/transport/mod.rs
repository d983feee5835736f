//! The [`Transport`] trait: everything the driver needs from a PCI NVMe
//! function (BAR0, configuration space, DMA memory, MSI-X, function reset),
//! and the [`DmaRegion`] handle of one DMA allocation.
//!
//! The driver's own backend is [`vfio::VfioTransport`] (a PCI function
//! bound to vfio-pci). Other backends implement the trait outside the
//! driver: the simulator's lives in the `nvmeplan-device` crate, which
//! also parses device URIs.

pub mod iova;
pub mod vfio;

use std::ptr::NonNull;
use std::time::Duration;

/// One DMA allocation: host memory the device can reach at `iova`.
///
/// The memory is page aligned, zeroed when allocated and mapped for device
/// access until it is passed back to [`Transport::dma_free`].
#[derive(Debug)]
pub struct DmaRegion {
    /// Host virtual address of the first byte.
    pub host: NonNull<u8>,
    /// The address the device uses for the first byte.
    pub iova: u64,
    /// Length in bytes (the requested length rounded up to whole pages).
    pub len: usize,
}

// SAFETY: a DmaRegion is a handle to memory owned by the transport, not to
// thread-local data; the host pointer stays valid until `dma_free`, no matter
// which thread holds the handle. Synchronising accesses to the memory is the
// job of the owner (DmaBuffer, QueuePair), which only hands out references
// under Rust's borrow rules.
unsafe impl Send for DmaRegion {}
// SAFETY: sharing `&DmaRegion` only exposes the pointer value, the IOVA and
// the length; dereferencing the pointer is `unsafe` and subject to the
// owner's rules.
unsafe impl Sync for DmaRegion {}

/// A transport operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// A DMA allocation could not be made.
    #[error("DMA allocation of {len} bytes failed: {reason}")]
    DmaAlloc {
        /// Requested length.
        len: usize,
        /// Why it failed.
        reason: String,
    },
    /// A PCI configuration space access failed.
    #[error("PCI config space access at {offset:#x} failed: {reason}")]
    Config {
        /// Offset in configuration space.
        offset: u16,
        /// Why it failed.
        reason: String,
    },
    /// The function has no usable MSI-X capability.
    #[error("MSI-X unavailable: {0}")]
    Msix(String),
    /// An interrupt vector is out of range or not enabled.
    #[error("interrupt vector {vector}: {reason}")]
    Interrupt {
        /// The vector.
        vector: u16,
        /// Why it failed.
        reason: String,
    },
    /// Opening or creating the device failed.
    #[error("opening {what} failed: {reason}")]
    Open {
        /// What was being opened.
        what: String,
        /// Why it failed.
        reason: String,
    },
    /// A reset failed.
    #[error("function reset failed: {0}")]
    Reset(String),
}

/// Access to one PCI NVMe function.
///
/// The driver holds transports as `Arc<dyn Transport>`; implementations are
/// shared by every thread that uses the controller.
pub trait Transport: Send + Sync {
    /// A short description of the device, e.g. `sim` or `pci:0000:01:00.0`.
    fn describe(&self) -> String;
    /// Reads a 32-bit BAR0 register.
    fn bar0_read32(&self, offset: u64) -> u32;
    /// Writes a 32-bit BAR0 register (including doorbells).
    fn bar0_write32(&self, offset: u64, value: u32);
    /// Reads a 64-bit BAR0 register (CAP, ASQ, ACQ).
    fn bar0_read64(&self, offset: u64) -> u64;
    /// Writes a 64-bit BAR0 register.
    fn bar0_write64(&self, offset: u64, value: u64);
    /// Reads a dword of PCI configuration space.
    fn config_read32(&self, offset: u16) -> Result<u32, TransportError>;
    /// Writes a dword of PCI configuration space.
    fn config_write32(&self, offset: u16, value: u32) -> Result<(), TransportError>;
    /// Allocates `len` bytes of page-aligned, zeroed DMA memory, mapped for
    /// device access.
    fn dma_alloc(&self, len: usize) -> Result<DmaRegion, TransportError>;
    /// Unmaps and frees a region returned by [`Transport::dma_alloc`]. Once
    /// this returns the device can no longer reach the memory.
    fn dma_free(&self, region: DmaRegion);
    /// Enables MSI-X with up to `vectors` vectors; returns how many are usable.
    fn enable_msix(&self, vectors: u16) -> Result<u16, TransportError>;
    /// Messages delivered on `vector` so far.
    fn interrupt_count(&self, vector: u16) -> u64;
    /// Waits until `vector` has delivered more than `seen` messages or
    /// `timeout` passes; returns the count then.
    fn wait_interrupt(&self, vector: u16, seen: u64, timeout: Duration) -> Result<u64, TransportError>;
    /// Resets the PCI function (FLR). Configuration space returns to its
    /// reset state (bus mastering off, MSI-X disabled).
    fn function_reset(&self) -> Result<(), TransportError>;
}
