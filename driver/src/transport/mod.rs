//! The [`Transport`] trait: everything the driver needs from a PCI NVMe
//! function (BAR0, configuration space, DMA memory, MSI-X, function reset),
//! the [`DmaRegion`] handle of one DMA allocation, and [`open_transport`],
//! which opens a transport from a device URI.
//!
//! Backends: [`sim::SimTransport`] (the in-process simulator) and
//! [`vfio::VfioTransport`] (a PCI function bound to vfio-pci).

mod host_pages;
pub mod iova;
pub mod sim;
pub mod vfio;

use nvmeplan_sim::SimDevice;
use std::ptr::NonNull;
use std::sync::Arc;
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
    /// A device URI was malformed or names an unsupported scheme.
    #[error("cannot open device `{uri}`: {reason}")]
    BadUri {
        /// The URI given.
        uri: String,
        /// Why it was refused.
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
    /// The simulated device behind this transport, for simulator-only
    /// controls (fault injection, power cycles).
    fn sim(&self) -> Option<&Arc<SimDevice>> {
        None
    }
}

/// The URI schemes [`open_transport`] understands.
pub const SUPPORTED_SCHEMES: &str =
    "`sim`, `sim:key=value,...`, `pci:DDDD:BB:DD.F` or a bare PCI address such as 0000:01:00.0";

/// Opens a transport from a device URI.
///
/// Accepts `sim` (the simulator with default parameters) and
/// `sim:key=value,...` (parameters as `SimConfig::from_params` reads them),
/// `pci:DDDD:BB:DD.F` and a bare PCI address (a function bound to vfio-pci,
/// opened through [`vfio::VfioTransport`]).
pub fn open_transport(uri: &str) -> Result<Arc<dyn Transport>, TransportError> {
    let uri_trimmed = uri.trim();
    let (scheme, rest) = match uri_trimmed.split_once(':') {
        Some((scheme, rest)) => (scheme, Some(rest)),
        None => (uri_trimmed, None),
    };
    match scheme {
        "sim" => {
            let transport = sim::SimTransport::open(rest.unwrap_or(""))?;
            Ok(Arc::new(transport))
        }
        "pci" => {
            let address = vfio::PciAddress::from_uri(uri_trimmed)
                .map_err(|e| TransportError::BadUri { uri: uri.to_string(), reason: e.to_string() })?;
            Ok(Arc::new(vfio::VfioTransport::open(address)?))
        }
        _ if let Ok(address) = uri_trimmed.parse::<vfio::PciAddress>() => {
            Ok(Arc::new(vfio::VfioTransport::open(address)?))
        }
        _ => Err(TransportError::BadUri {
            uri: uri.to_string(),
            reason: format!("unsupported scheme `{scheme}`; supported: {SUPPORTED_SCHEMES}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open_err(uri: &str) -> String {
        match open_transport(uri) {
            Ok(t) => panic!("{uri} opened {}", t.describe()),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn pci_uris_reach_the_vfio_backend() {
        // Bus 0xfe device 0x1f function 7 does not exist on any test machine.
        for uri in ["pci:0000:fe:1f.7", "0000:fe:1f.7", "fe:1f.7"] {
            let e = open_err(uri);
            assert!(
                e.contains("opening pci:0000:fe:1f.7 failed: there is no PCI function 0000:fe:1f.7"),
                "{uri}: {e}"
            );
        }
        let e = open_err("pci:0000:fe:20.0");
        assert!(e.contains("device 0x20 is above 0x1f"), "{e}");
        let e = open_err("nvme:0");
        assert!(e.contains("unsupported scheme `nvme`"), "{e}");
    }
}
