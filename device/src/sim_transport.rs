//! The simulator backend of the driver's [`Transport`] trait:
//! [`SimTransport`] drives an in-process [`SimDevice`] the way the VFIO
//! backend drives a PCI function.
//!
//! DMA memory is page-aligned, zeroed host memory from the global allocator,
//! mapped into the device's DMA window at an IOVA from [`IovaAllocator`]
//! (starting at 4 GiB, so an IOVA never equals the host address; an unmapped
//! guard page follows every allocation so a device overrun faults instead of
//! reaching the next buffer).

use crate::host_pages;
use nvmeplan_driver::PAGE_SIZE;
pub use nvmeplan_driver::transport::iova::IovaAllocator;
use nvmeplan_driver::{DmaRegion, Transport, TransportError};
use nvmeplan_sim::{SimConfig, SimDevice};
use parking_lot::Mutex;
use std::alloc::Layout;
use std::ptr::NonNull;
use std::sync::Arc;
use std::time::Duration;

/// First IOVA handed out.
pub const IOVA_BASE: u64 = 1 << 32;
/// End of the IOVA space handed out (48-bit addresses).
pub const IOVA_END: u64 = 1 << 48;

/// A [`Transport`] backed by a simulated device.
pub struct SimTransport {
    device: Arc<SimDevice>,
    iova: Mutex<IovaAllocator>,
}

impl SimTransport {
    /// Wraps an existing simulated device.
    pub fn new(device: Arc<SimDevice>) -> Self {
        SimTransport { device, iova: Mutex::new(IovaAllocator::new(IOVA_BASE, IOVA_END)) }
    }

    /// Powers on a simulated device built from `config` and wraps it.
    pub fn open(config: SimConfig) -> Result<Self, TransportError> {
        let device = SimDevice::new(config).map_err(|e| TransportError::Open {
            what: "simulated device".to_string(),
            reason: e.to_string(),
        })?;
        Ok(SimTransport::new(device))
    }

    /// The simulated device.
    pub fn device(&self) -> &Arc<SimDevice> {
        &self.device
    }

    fn layout(len: usize) -> Option<Layout> {
        Layout::from_size_align(len, PAGE_SIZE).ok()
    }

    /// Zeroed, page-aligned host memory of `len` (whole pages) bytes: from
    /// the heap below 2 MiB, on 2 MiB pages (when the kernel grants them)
    /// from there up, as the VFIO transport's large buffers are.
    fn alloc_host(len: usize) -> Option<NonNull<u8>> {
        if len >= host_pages::HUGE_PAGE {
            return host_pages::map(len);
        }
        let layout = Self::layout(len)?;
        // SAFETY: `layout` has a non-zero size (at least one page).
        NonNull::new(unsafe { std::alloc::alloc_zeroed(layout) })
    }

    /// # Safety
    /// `host` must come from `alloc_host(len)` and be used by nothing any more.
    unsafe fn free_host(host: NonNull<u8>, len: usize) {
        if len >= host_pages::HUGE_PAGE {
            // SAFETY: guaranteed by the caller.
            unsafe { host_pages::unmap(host, len) };
        } else if let Some(layout) = Self::layout(len) {
            // SAFETY: guaranteed by the caller: allocated with this layout.
            unsafe { std::alloc::dealloc(host.as_ptr(), layout) };
        }
    }

    /// Finds the MSI-X capability in configuration space; returns its offset.
    fn find_msix(&self) -> Result<u16, TransportError> {
        let mut ptr = (self.config_read32(0x34)? & 0xFC) as u16;
        let mut hops = 0;
        while ptr != 0 && hops < 48 {
            let header = self.config_read32(ptr)?;
            if header & 0xFF == 0x11 {
                return Ok(ptr);
            }
            ptr = ((header >> 8) & 0xFC) as u16;
            hops += 1;
        }
        Err(TransportError::Msix("no MSI-X capability (id 0x11) in the capability list".into()))
    }
}

impl Transport for SimTransport {
    fn describe(&self) -> String {
        "sim".to_string()
    }

    fn bar0_read32(&self, offset: u64) -> u32 {
        self.device.bar_read32(offset)
    }

    fn bar0_write32(&self, offset: u64, value: u32) {
        self.device.bar_write32(offset, value)
    }

    fn bar0_read64(&self, offset: u64) -> u64 {
        self.device.bar_read64(offset)
    }

    fn bar0_write64(&self, offset: u64, value: u64) {
        self.device.bar_write64(offset, value)
    }

    fn config_read32(&self, offset: u16) -> Result<u32, TransportError> {
        if !offset.is_multiple_of(4) {
            return Err(TransportError::Config { offset, reason: "offset is not dword aligned".into() });
        }
        Ok(self.device.config_read32(offset))
    }

    fn config_write32(&self, offset: u16, value: u32) -> Result<(), TransportError> {
        if !offset.is_multiple_of(4) {
            return Err(TransportError::Config { offset, reason: "offset is not dword aligned".into() });
        }
        self.device.config_write32(offset, value);
        Ok(())
    }

    fn dma_alloc(&self, len: usize) -> Result<DmaRegion, TransportError> {
        let fail = |reason: &str| TransportError::DmaAlloc { len, reason: reason.to_string() };
        let rounded =
            len.max(1).checked_next_multiple_of(PAGE_SIZE).ok_or_else(|| fail("length overflows"))?;
        let host = Self::alloc_host(rounded).ok_or_else(|| fail("host memory allocation failed"))?;
        let ptr = host.as_ptr();
        // One unmapped guard page after the region.
        let span = rounded as u64 + PAGE_SIZE as u64;
        let Some(iova) = self.iova.lock().alloc(span) else {
            // SAFETY: allocated above with `rounded` bytes and never shared.
            unsafe { Self::free_host(host, rounded) };
            return Err(fail("IOVA space exhausted"));
        };
        // SAFETY: `host..host + rounded` is a live allocation owned by this
        // region; it stays valid until `dma_free`, which unmaps it before
        // deallocating.
        let mapped = unsafe { self.device.dma().map(iova, ptr, rounded) };
        if !mapped {
            self.iova.lock().free(iova, span);
            // SAFETY: as above; the memory was never mapped.
            unsafe { Self::free_host(host, rounded) };
            return Err(fail("the device refused the IOVA mapping (overlap)"));
        }
        Ok(DmaRegion { host, iova, len: rounded })
    }

    fn dma_free(&self, region: DmaRegion) {
        if !self.device.dma().unmap(region.iova) {
            tracing::warn!(iova = region.iova, "dma_free: IOVA was not mapped; leaking the host memory");
            return;
        }
        self.iova.lock().free(region.iova, region.len as u64 + PAGE_SIZE as u64);
        // SAFETY: `region` came from `dma_alloc`, which allocated exactly
        // `region.len` bytes with `alloc_host`; the unmap above guarantees
        // the device no longer accesses it, and the region handle is consumed.
        unsafe { Self::free_host(region.host, region.len) };
    }

    fn enable_msix(&self, vectors: u16) -> Result<u16, TransportError> {
        let cap = self.find_msix()?;
        let header = self.config_read32(cap)?;
        let table_size = ((header >> 16) & 0x7FF) as u16 + 1;
        // Message control is the upper half: set enable (bit 15), clear
        // function mask (bit 14).
        let value = (header & !(1 << 30)) | (1 << 31);
        self.config_write32(cap, value)?;
        Ok(table_size.min(vectors.max(1)))
    }

    fn interrupt_count(&self, vector: u16) -> u64 {
        self.device.interrupts().count(vector)
    }

    fn wait_interrupt(&self, vector: u16, seen: u64, timeout: Duration) -> Result<u64, TransportError> {
        let irq = self.device.interrupts();
        if vector >= irq.vector_count() {
            return Err(TransportError::Interrupt {
                vector,
                reason: format!("the function has {} vectors", irq.vector_count()),
            });
        }
        Ok(irq.wait_beyond(vector, seen, timeout))
    }

    fn function_reset(&self) -> Result<(), TransportError> {
        self.device.function_reset();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iova_allocator_coalesces() {
        let mut a = IovaAllocator::new(IOVA_BASE, IOVA_BASE + 16 * 4096);
        let x = a.alloc(4096).unwrap();
        let y = a.alloc(8192).unwrap();
        let z = a.alloc(4096).unwrap();
        assert_eq!(x, IOVA_BASE);
        assert_eq!(y, IOVA_BASE + 4096);
        assert_eq!(z, IOVA_BASE + 3 * 4096);
        a.free(y, 8192);
        assert_eq!(a.alloc(4096), Some(y));
        a.free(y, 4096);
        a.free(x, 4096);
        a.free(z, 4096);
        assert_eq!(a.free_ranges(), 1);
        assert_eq!(a.alloc(16 * 4096), Some(IOVA_BASE));
        assert_eq!(a.alloc(4096), None);
    }
}
