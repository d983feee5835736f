//! DMA memory for a VFIO device: anonymous host memory (2 MiB hugepages for
//! allocations of 1 MiB and more when the kernel has free hugepages, 4 KiB
//! pages otherwise), mapped into the device's IOMMU domain with
//! `VFIO_IOMMU_MAP_DMA` at an address from an [`IovaAllocator`].
//!
//! Every mapping is followed by one unmapped guard page of IOVA space, so a
//! device overrun faults in the IOMMU instead of reaching the next buffer.

use super::super::iova::IovaAllocator;
use super::super::{DmaRegion, TransportError};
use crate::PAGE_SIZE;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::ptr::NonNull;
use std::sync::Arc;
use vfio_ioctls::VfioContainer;

/// Size of a huge page.
pub const HUGE_PAGE: usize = 2 << 20;
/// Allocations of at least this many bytes try hugepages first.
pub const HUGE_THRESHOLD: usize = 1 << 20;
/// First IOVA handed out (4 GiB: clear of the x86 MSI window at 0xFEE00000).
pub const VFIO_IOVA_BASE: u64 = 1 << 32;
/// End of the IOVA space handed out: 39 bits, the smallest address width
/// Intel VT-d implementations (and QEMU's intel-iommu) support.
pub const VFIO_IOVA_END: u64 = 1 << 39;

/// One live mapping.
#[derive(Debug)]
struct Mapping {
    host: NonNull<u8>,
    /// Bytes mapped (host allocation length).
    map_len: usize,
    /// IOVA bytes reserved (mapping plus guard page).
    iova_span: u64,
}

/// Anonymous host memory from `mmap`, unmapped by [`unmap_host`].
fn map_host(len: usize, huge: bool) -> Option<NonNull<u8>> {
    let mut flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_POPULATE;
    if huge {
        // MAP_HUGE_2MB: log2(2 MiB) in the MAP_HUGE_SHIFT bits.
        flags |= libc::MAP_HUGETLB | (21 << libc::MAP_HUGE_SHIFT);
    }
    // SAFETY: a fresh private anonymous mapping at a kernel-chosen address
    // replaces nothing; the result is checked.
    let ptr =
        unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ | libc::PROT_WRITE, flags, -1, 0) };
    if ptr == libc::MAP_FAILED { None } else { NonNull::new(ptr.cast()) }
}

/// # Safety
/// `host..host + len` must be a mapping made by [`map_host`] that nothing
/// (host or device) uses any more.
unsafe fn unmap_host(host: NonNull<u8>, len: usize) {
    // SAFETY: guaranteed by the caller.
    if unsafe { libc::munmap(host.as_ptr().cast(), len) } != 0 {
        tracing::warn!(error = %std::io::Error::last_os_error(), "munmap of DMA memory failed");
    }
}

/// DMA allocations of one VFIO container.
pub struct DmaAllocator {
    container: Arc<VfioContainer>,
    iova: Mutex<IovaAllocator>,
    live: Mutex<HashMap<u64, Mapping>>,
}

impl DmaAllocator {
    /// An allocator mapping into `container`.
    pub fn new(container: Arc<VfioContainer>) -> Self {
        DmaAllocator {
            container,
            iova: Mutex::new(IovaAllocator::new(VFIO_IOVA_BASE, VFIO_IOVA_END)),
            live: Mutex::new(HashMap::new()),
        }
    }

    /// Allocates and maps `len` bytes (rounded up to whole 4 KiB pages).
    pub fn alloc(&self, len: usize) -> Result<DmaRegion, TransportError> {
        let fail = |reason: String| TransportError::DmaAlloc { len, reason };
        let rounded =
            len.max(1).checked_next_multiple_of(PAGE_SIZE).ok_or_else(|| fail("length overflows".into()))?;
        let huge = (rounded >= HUGE_THRESHOLD)
            .then(|| rounded.checked_next_multiple_of(HUGE_PAGE))
            .flatten()
            .and_then(|huge_len| map_host(huge_len, true).map(|p| (p, huge_len)));
        let (host, map_len, align) = match huge {
            Some((p, huge_len)) => (p, huge_len, HUGE_PAGE as u64),
            None => {
                let p = map_host(rounded, false).ok_or_else(|| {
                    fail(format!("mmap of host memory failed: {}", std::io::Error::last_os_error()))
                })?;
                (p, rounded, PAGE_SIZE as u64)
            }
        };
        let iova_span = map_len as u64 + PAGE_SIZE as u64;
        let Some(iova) = self.iova.lock().alloc_aligned(iova_span, align) else {
            // SAFETY: mapped above, never shared.
            unsafe { unmap_host(host, map_len) };
            return Err(fail("IOVA space exhausted".into()));
        };
        // SAFETY: `host..host + map_len` is a private mapping owned by this
        // allocator until `free` unmaps it from the IOMMU (before munmap).
        // The driver touches the memory only through `DmaRegion`'s raw
        // pointer under the access rule in `crate::dma` (no host access
        // while a command using it is outstanding).
        let mapped = unsafe { self.container.vfio_dma_map(iova, map_len, host.as_ptr()) };
        if let Err(e) = mapped {
            self.iova.lock().free(iova, iova_span);
            // SAFETY: never mapped for the device, never shared.
            unsafe { unmap_host(host, map_len) };
            return Err(fail(format!(
                "VFIO_IOMMU_MAP_DMA of {map_len} bytes at IOVA {iova:#x} failed: {e} (ENOMEM usually means the \
                 locked-memory limit is too low: raise `ulimit -l`)"
            )));
        }
        self.live.lock().insert(iova, Mapping { host, map_len, iova_span });
        Ok(DmaRegion { host, iova, len: rounded })
    }

    /// Unmaps a region from the IOMMU, then frees its host memory. When the
    /// IOMMU unmap fails the host memory is leaked rather than reused while
    /// the device might still reach it.
    pub fn free(&self, region: DmaRegion) {
        let Some(mapping) = self.live.lock().remove(&region.iova) else {
            tracing::warn!(iova = region.iova, "dma_free: no such VFIO DMA mapping");
            return;
        };
        self.release(region.iova, mapping);
    }

    fn release(&self, iova: u64, mapping: Mapping) {
        if let Err(e) = self.container.vfio_dma_unmap(iova, mapping.map_len) {
            tracing::warn!(iova, error = %e, "VFIO_IOMMU_UNMAP_DMA failed; leaking the host memory");
            return;
        }
        self.iova.lock().free(iova, mapping.iova_span);
        // SAFETY: the IOMMU mapping is gone, so the device cannot reach the
        // memory, and the region handle was consumed by `free` (or the
        // transport is being dropped).
        unsafe { unmap_host(mapping.host, mapping.map_len) };
    }

    /// Number of live mappings.
    pub fn live(&self) -> usize {
        self.live.lock().len()
    }

    /// Unmaps and frees everything still mapped (at transport drop).
    pub fn release_all(&self) {
        let all: Vec<(u64, Mapping)> = self.live.lock().drain().collect();
        for (iova, mapping) in all {
            self.release(iova, mapping);
        }
    }
}

// SAFETY: the raw host pointers in `live` are only used to unmap memory this
// allocator owns, under the mutex; the container is Send + Sync.
unsafe impl Send for DmaAllocator {}
// SAFETY: as above; all mutable state is behind mutexes.
unsafe impl Sync for DmaAllocator {}
