//! [`BarMapping`]: a PCI BAR mapped into the process with `mmap` on the VFIO
//! device file, accessed with volatile 32-bit loads and stores.
//!
//! Register access goes through the mapping rather than through
//! `pread`/`pwrite` on the region, because the crate's region helpers only
//! log failures and every access would be a system call.

use super::super::TransportError;
use std::os::fd::RawFd;
use std::ptr::NonNull;

/// A BAR mapped with `mmap`; unmapped on drop.
#[derive(Debug)]
pub struct BarMapping {
    base: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is device memory shared by all threads; every access
// is a volatile, naturally aligned 32-bit load or store, which is how the
// device expects concurrent register access (doorbells from several queue
// threads). The pointer stays valid until drop.
unsafe impl Send for BarMapping {}
// SAFETY: as above; `&BarMapping` only allows those volatile accesses.
unsafe impl Sync for BarMapping {}

impl BarMapping {
    /// Maps `len` bytes of the region at `offset` in the device file `fd`.
    pub fn map(fd: RawFd, offset: u64, len: usize) -> Result<BarMapping, TransportError> {
        let fail = |reason: String| TransportError::Open { what: "BAR0 mapping".into(), reason };
        if len < 0x1000 {
            return Err(fail(format!("BAR0 is {len} bytes; an NVMe controller has at least 4 KiB")));
        }
        let file_offset =
            libc::off_t::try_from(offset).map_err(|_| fail(format!("offset {offset:#x} too large")))?;
        // SAFETY: a fresh shared mapping chosen by the kernel (no fixed
        // address), so no existing memory is replaced; the result is checked.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd,
                file_offset,
            )
        };
        if ptr == libc::MAP_FAILED {
            let e = std::io::Error::last_os_error();
            return Err(fail(format!(
                "mmap of {len} bytes failed: {e} (the kernel's vfio-pci refuses to map BARs that are not \
                 page-aligned or are I/O ports)"
            )));
        }
        let base = NonNull::new(ptr.cast::<u8>()).ok_or_else(|| fail("mmap returned null".into()))?;
        Ok(BarMapping { base, len })
    }

    /// Mapped length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the mapping is empty (never: mapping refuses that).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn dword(&self, offset: u64) -> Option<*mut u32> {
        let offset = usize::try_from(offset).ok()?;
        if !offset.is_multiple_of(4) || offset.checked_add(4)? > self.len {
            return None;
        }
        // SAFETY: `offset + 4 <= len`, so the pointer stays inside the
        // mapping; the base is page aligned and the offset a multiple of 4.
        Some(unsafe { self.base.as_ptr().add(offset) }.cast::<u32>())
    }

    /// Reads the dword at `offset`; all ones (what a PCI read of nothing
    /// returns) when the offset is outside the BAR or unaligned.
    pub fn read32(&self, offset: u64) -> u32 {
        match self.dword(offset) {
            // SAFETY: `dword` checked bounds and alignment; the mapping is
            // live for `self`'s lifetime; volatile because it is MMIO.
            Some(p) => unsafe { p.read_volatile() },
            None => {
                tracing::warn!(offset, len = self.len, "BAR0 read outside the mapping or unaligned");
                u32::MAX
            }
        }
    }

    /// Writes the dword at `offset`; ignored (and logged) outside the BAR.
    pub fn write32(&self, offset: u64, value: u32) {
        match self.dword(offset) {
            // SAFETY: as in `read32`.
            Some(p) => unsafe { p.write_volatile(value) },
            None => {
                tracing::warn!(offset, len = self.len, "BAR0 write outside the mapping or unaligned; dropped")
            }
        }
    }
}

impl Drop for BarMapping {
    fn drop(&mut self) {
        // SAFETY: `base..base + len` is the mapping made in `map`, owned by
        // this value and not used after drop.
        let rc = unsafe { libc::munmap(self.base.as_ptr().cast(), self.len) };
        if rc != 0 {
            tracing::warn!(error = %std::io::Error::last_os_error(), "munmap of BAR0 failed");
        }
    }
}
