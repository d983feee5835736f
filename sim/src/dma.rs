//! The device's view of host memory: an IOMMU-like window.
//!
//! The host maps buffers into the window at an I/O virtual address (IOVA),
//! exactly as a VFIO driver maps memory with `VFIO_IOMMU_MAP_DMA`. Every
//! device access names an IOVA range; a range that is not wholly inside one
//! mapping, or that writes to a read-only mapping, is a DMA fault and never
//! touches memory. The simulator never dereferences an address the host
//! did not map.
//!
//! Queue workers move many small pieces (SQEs, CQEs) per doorbell; they do
//! so through a [`DmaBatch`], which takes the window's lock once for the
//! batch and remembers the mapping it hit last, so consecutive accesses to
//! one ring cost a range compare instead of a tree look-up. Every access
//! is still checked against the mapping it lands in.

use parking_lot::{RwLock, RwLockReadGuard};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

/// A device access that the window refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DmaFault {
    /// No mapping covers the whole range.
    #[error("DMA to unmapped IOVA range {iova:#x}+{len:#x}")]
    Unmapped {
        /// Start of the refused range.
        iova: u64,
        /// Length of the refused range.
        len: usize,
    },
    /// The range crosses the end of the address space.
    #[error("DMA range {iova:#x}+{len:#x} overflows the address space")]
    Overflow {
        /// Start of the refused range.
        iova: u64,
        /// Length of the refused range.
        len: usize,
    },
    /// Bus mastering is disabled in the PCI command register.
    #[error("DMA attempted with bus mastering disabled")]
    BusMasterDisabled,
}

#[derive(Clone, Copy)]
struct Mapping {
    host: usize,
    len: usize,
}

type MapTree = BTreeMap<u64, Mapping>;

/// The mapping that wholly holds `iova..iova + len`, with its start IOVA.
fn locate(maps: &MapTree, iova: u64, len: usize) -> Result<(u64, Mapping), DmaFault> {
    let end = iova.checked_add(len as u64).ok_or(DmaFault::Overflow { iova, len })?;
    let (&start, m) = maps.range(..=iova).next_back().ok_or(DmaFault::Unmapped { iova, len })?;
    if end > start + m.len as u64 {
        return Err(DmaFault::Unmapped { iova, len });
    }
    Ok((start, *m))
}

/// Host address of `iova` inside mapping `m` that starts at `start`.
fn host_addr(start: u64, m: Mapping, iova: u64) -> *mut u8 {
    (m.host + (iova - start) as usize) as *mut u8
}

/// Writes completion entries at `host`: every entry's first 12 bytes, a
/// release fence, then every entry's last dword (the one with the phase
/// tag), so a host that polls the phase never sees a new phase with stale
/// contents.
///
/// # Safety
/// `host..host + 16 * entries.len()` must be valid for writes.
unsafe fn store_completions(host: *mut u8, entries: &[[u8; 16]]) {
    for (i, e) in entries.iter().enumerate() {
        // SAFETY: entry `i` lies inside the range the caller vouches for.
        unsafe { std::ptr::copy_nonoverlapping(e.as_ptr(), host.add(i * 16), 12) };
    }
    std::sync::atomic::fence(Ordering::Release);
    for (i, e) in entries.iter().enumerate() {
        // The entry's bytes as they are, in one 32-bit store.
        let last = u32::from_ne_bytes([e[12], e[13], e[14], e[15]]);
        // SAFETY: as above; the dword is at offset 12 of entry `i`. The
        // host polls it concurrently, so an aligned dword (CQ bases are
        // page aligned) is written with one volatile store; a misaligned
        // queue, which the spec forbids, gets an unaligned store.
        unsafe {
            let at = host.add(i * 16 + 12) as *mut u32;
            if at.is_aligned() { at.write_volatile(last) } else { at.write_unaligned(last) }
        }
    }
}

/// The set of host buffers the device may access, keyed by IOVA.
pub struct DmaSpace {
    maps: RwLock<MapTree>,
    bus_master: AtomicBool,
}

impl Default for DmaSpace {
    fn default() -> Self {
        Self::new()
    }
}

impl DmaSpace {
    /// An empty window with bus mastering disabled, as after power-on.
    pub fn new() -> Self {
        DmaSpace { maps: RwLock::new(BTreeMap::new()), bus_master: AtomicBool::new(false) }
    }

    /// Enables or disables bus mastering (PCI command register bit 2).
    pub fn set_bus_master(&self, enabled: bool) {
        self.bus_master.store(enabled, Ordering::Release);
    }

    /// Whether bus mastering is enabled.
    pub fn bus_master(&self) -> bool {
        self.bus_master.load(Ordering::Acquire)
    }

    /// Maps `len` bytes of host memory at `host` to `iova`.
    ///
    /// Returns `false` (and maps nothing) when the range overlaps an
    /// existing mapping or is empty.
    ///
    /// # Safety
    /// `host..host + len` must be valid for reads and writes until the
    /// mapping is removed with [`DmaSpace::unmap`]; the device may access it
    /// from any thread at any time while it is mapped.
    pub unsafe fn map(&self, iova: u64, host: *mut u8, len: usize) -> bool {
        if len == 0 || iova.checked_add(len as u64).is_none() {
            return false;
        }
        let mut maps = self.maps.write();
        let end = iova + len as u64;
        if let Some((&start, m)) = maps.range(..end).next_back()
            && start + m.len as u64 > iova
        {
            return false;
        }
        maps.insert(iova, Mapping { host: host as usize, len });
        true
    }

    /// Removes the mapping that starts at `iova`; returns whether one did.
    ///
    /// Waits for device accesses in progress to finish, so once this returns
    /// the device no longer touches the memory.
    pub fn unmap(&self, iova: u64) -> bool {
        self.maps.write().remove(&iova).is_some()
    }

    /// Number of live mappings.
    pub fn mapping_count(&self) -> usize {
        self.maps.read().len()
    }

    fn with_range<R>(&self, iova: u64, len: usize, access: impl FnOnce(*mut u8) -> R) -> Result<R, DmaFault> {
        if !self.bus_master() {
            return Err(DmaFault::BusMasterDisabled);
        }
        let maps = self.maps.read();
        let (start, m) = locate(&maps, iova, len)?;
        // The read guard is held for the whole access so an unmap cannot
        // free the memory underneath it.
        Ok(access(host_addr(start, m, iova)))
    }

    /// Starts a batch of accesses (see [`DmaBatch`]).
    pub fn batch(&self) -> DmaBatch<'_> {
        // A recursive read: the batch's owner may make single accesses
        // (which take the lock again) while it holds the batch, and must
        // not deadlock behind an unmap that is waiting for the batch.
        DmaBatch { space: self, maps: self.maps.read_recursive(), last: None }
    }

    /// Copies `buf.len()` bytes from host memory at `iova` into `buf`.
    pub fn read(&self, iova: u64, buf: &mut [u8]) -> Result<(), DmaFault> {
        self.with_range(iova, buf.len(), |host| {
            // SAFETY: `with_range` proved that `host..host + buf.len()` lies
            // inside one mapping, which `map`'s contract keeps valid while
            // the read guard is held; `buf` is a distinct Rust buffer. The
            // host may write the memory concurrently, as with real DMA; the
            // copy then observes some mix of old and new bytes, which is
            // what a device would see.
            unsafe { std::ptr::copy_nonoverlapping(host as *const u8, buf.as_mut_ptr(), buf.len()) }
        })
    }

    /// Copies `data` into host memory at `iova`.
    pub fn write(&self, iova: u64, data: &[u8]) -> Result<(), DmaFault> {
        self.with_range(iova, data.len(), |host| {
            // SAFETY: as in `read`: the range is inside a live mapping and
            // `data` is a separate Rust buffer.
            unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), host, data.len()) }
        })
    }

    /// Fills `len` bytes of host memory at `iova` with `byte`.
    pub fn fill(&self, iova: u64, len: usize, byte: u8) -> Result<(), DmaFault> {
        self.with_range(iova, len, |host| {
            // SAFETY: the range is inside a live mapping (see `read`).
            unsafe { std::ptr::write_bytes(host, byte, len) }
        })
    }

    /// Reads a little-endian u64 (a PRP list entry) at `iova`.
    pub fn read_u64(&self, iova: u64) -> Result<u64, DmaFault> {
        let mut bytes = [0u8; 8];
        self.read(iova, &mut bytes)?;
        Ok(u64::from_le_bytes(bytes))
    }
}

/// Several device accesses under one hold of the window's lock.
///
/// Unmapping waits while a batch is alive, so a batch must be short: a
/// queue worker holds one for fetching the entries of one doorbell or for
/// posting one burst of completions. The batch remembers the last mapping
/// it hit and checks each access against it first; an access outside it
/// is looked up (and checked) as [`DmaSpace`] does.
pub struct DmaBatch<'a> {
    space: &'a DmaSpace,
    maps: RwLockReadGuard<'a, MapTree>,
    last: Option<(u64, Mapping)>,
}

impl DmaBatch<'_> {
    /// Host address of `iova..iova + len`, if wholly inside one mapping.
    fn range(&mut self, iova: u64, len: usize) -> Result<*mut u8, DmaFault> {
        if !self.space.bus_master() {
            return Err(DmaFault::BusMasterDisabled);
        }
        if let Some((start, m)) = self.last
            && iova >= start
            && let Some(end) = iova.checked_add(len as u64)
            && end <= start + m.len as u64
        {
            return Ok(host_addr(start, m, iova));
        }
        let (start, m) = locate(&self.maps, iova, len)?;
        self.last = Some((start, m));
        Ok(host_addr(start, m, iova))
    }

    /// Copies `buf.len()` bytes from host memory at `iova` into `buf`.
    pub fn read(&mut self, iova: u64, buf: &mut [u8]) -> Result<(), DmaFault> {
        let host = self.range(iova, buf.len())?;
        // SAFETY: `range` proved that `host..host + buf.len()` lies inside
        // one mapping, which `map`'s contract keeps valid while this batch
        // holds the read guard; `buf` is a distinct Rust buffer. Concurrent
        // host writes are seen as a device would see them (see
        // `DmaSpace::read`).
        unsafe { std::ptr::copy_nonoverlapping(host as *const u8, buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }

    /// Writes consecutive 16-byte completion entries starting at `iova`,
    /// each one's phase dword last, after a release fence, so a host that
    /// polls the phase tag never sees a new phase with stale contents.
    pub fn write_completions(&mut self, iova: u64, entries: &[[u8; 16]]) -> Result<(), DmaFault> {
        let host = self.range(iova, entries.len() * 16)?;
        // SAFETY: the whole range is inside a mapping kept alive by the
        // guard this batch holds.
        unsafe { store_completions(host, entries) };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accesses_are_bounds_checked() {
        let mut backing = vec![0u8; 8192];
        let space = DmaSpace::new();
        // SAFETY: `backing` outlives every access below and is unmapped
        // before it is dropped.
        assert!(unsafe { space.map(0x10_0000, backing.as_mut_ptr(), 8192) });
        assert_eq!(space.write(0x10_0000, &[1]), Err(DmaFault::BusMasterDisabled));
        space.set_bus_master(true);
        space.write(0x10_0000 + 8190, &[7, 8]).unwrap();
        let mut two = [0u8; 2];
        space.read(0x10_0000 + 8190, &mut two).unwrap();
        assert_eq!(two, [7, 8]);
        assert!(matches!(space.write(0x10_0000 + 8191, &[1, 2]), Err(DmaFault::Unmapped { .. })));
        assert!(matches!(space.read(0x0F_FFFF, &mut two), Err(DmaFault::Unmapped { .. })));
        assert!(matches!(space.read(u64::MAX, &mut two), Err(DmaFault::Overflow { .. })));
        // SAFETY: overlapping map is refused before anything is recorded.
        assert!(!unsafe { space.map(0x10_1000, backing.as_mut_ptr(), 4096) });
        assert!(space.unmap(0x10_0000));
        assert!(matches!(space.read(0x10_0000, &mut two), Err(DmaFault::Unmapped { .. })));
        drop(backing);
    }

    #[test]
    fn batches_check_every_access() {
        let mut a = vec![0u8; 8192];
        let mut b = vec![0u8; 4096];
        let space = DmaSpace::new();
        // SAFETY: both buffers outlive every access and are unmapped first.
        assert!(unsafe { space.map(0x10_0000, a.as_mut_ptr(), a.len()) });
        // SAFETY: as above.
        assert!(unsafe { space.map(0x20_0000, b.as_mut_ptr(), b.len()) });
        {
            let mut batch = space.batch();
            let mut buf = [0u8; 16];
            assert_eq!(batch.read(0x10_0000, &mut buf), Err(DmaFault::BusMasterDisabled));
        }
        space.set_bus_master(true);
        let entry = |n: u8| [n; 16];
        {
            let mut batch = space.batch();
            batch.write_completions(0x10_0000 + 8192 - 32, &[entry(1), entry(2)]).unwrap();
            // One past the end of the cached mapping, and a range that
            // starts inside it but ends outside: both refused.
            assert!(matches!(
                batch.write_completions(0x10_0000 + 8192 - 16, &[entry(3), entry(4)]),
                Err(DmaFault::Unmapped { .. })
            ));
            let mut buf = [0u8; 16];
            assert!(matches!(batch.read(0x10_0000 + 8192, &mut buf), Err(DmaFault::Unmapped { .. })));
            assert!(matches!(batch.read(u64::MAX - 4, &mut buf), Err(DmaFault::Overflow { .. })));
            // Another mapping, then back to the first.
            batch.write_completions(0x20_0000, &[entry(5)]).unwrap();
            batch.read(0x10_0000 + 8192 - 16, &mut buf).unwrap();
            assert_eq!(buf, entry(2));
        }
        assert!(space.unmap(0x10_0000));
        assert!(matches!(space.batch().read(0x10_0000, &mut [0u8; 4]), Err(DmaFault::Unmapped { .. })));
        assert!(space.unmap(0x20_0000));
        assert_eq!(&a[8192 - 32..8192], &[[1u8; 16], [2u8; 16]].concat()[..]);
        assert_eq!(&b[..16], &[5u8; 16]);
        drop((a, b));
    }
}
