//! Anonymous host memory on 2 MiB boundaries, advised for transparent huge
//! pages: the simulator transport's large DMA buffers. The VFIO transport
//! takes explicit hugetlbfs pages for the same reason: a buffer on 4 KiB
//! pages costs a TLB miss, and restarts the CPU's stream prefetcher, every
//! 4 KiB, which is every block the data check reads.

use std::ptr::NonNull;

/// Size of a transparent huge page.
pub const HUGE_PAGE: usize = 2 << 20;

/// The host bytes behind a mapping of `len` bytes.
pub fn mapped_len(len: usize) -> Option<usize> {
    len.checked_next_multiple_of(HUGE_PAGE)
}

/// Maps `mapped_len(len)` zeroed bytes starting on a 2 MiB boundary and
/// asks the kernel to back them with huge pages (a hint: with transparent
/// huge pages off, they stay 4 KiB pages). Freed by [`unmap`].
pub fn map(len: usize) -> Option<NonNull<u8>> {
    let map_len = mapped_len(len)?;
    let span = map_len.checked_add(HUGE_PAGE)?;
    // SAFETY: a fresh private anonymous mapping at a kernel-chosen address
    // replaces nothing; the result is checked.
    let base = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            span,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if base == libc::MAP_FAILED {
        return None;
    }
    let start = base as usize;
    let head = start.next_multiple_of(HUGE_PAGE) - start;
    let tail = span - head - map_len;
    let aligned = base.cast::<u8>().wrapping_add(head);
    // SAFETY: the head and tail trimmed here lie inside the mapping made
    // above, outside `aligned..aligned + map_len`, and nothing uses them.
    unsafe {
        if head > 0 {
            libc::munmap(base, head);
        }
        if tail > 0 {
            libc::munmap(aligned.wrapping_add(map_len).cast(), tail);
        }
        // A hint only; failure (THP disabled) leaves 4 KiB pages.
        libc::madvise(aligned.cast(), map_len, libc::MADV_HUGEPAGE);
    }
    NonNull::new(aligned)
}

/// # Safety
/// `host` must come from [`map`] with the same `len`, and nothing (host or
/// device) may use the memory any more.
pub unsafe fn unmap(host: NonNull<u8>, len: usize) {
    let Some(map_len) = mapped_len(len) else { return };
    // SAFETY: guaranteed by the caller.
    if unsafe { libc::munmap(host.as_ptr().cast(), map_len) } != 0 {
        tracing::warn!(error = %std::io::Error::last_os_error(), "munmap of DMA memory failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mappings_are_aligned_zeroed_and_writable() {
        for len in [HUGE_PAGE, HUGE_PAGE + 4096, 3 * HUGE_PAGE] {
            let p = map(len).expect("mmap");
            assert_eq!(p.as_ptr() as usize % HUGE_PAGE, 0);
            // SAFETY: `map` returned `mapped_len(len) >= len` writable bytes.
            let bytes = unsafe { std::slice::from_raw_parts_mut(p.as_ptr(), len) };
            assert!(bytes.iter().all(|&b| b == 0));
            bytes.fill(0x5A);
            assert_eq!(bytes[len - 1], 0x5A);
            // SAFETY: mapped above with `len`, no longer used.
            unsafe { unmap(p, len) };
        }
    }
}
