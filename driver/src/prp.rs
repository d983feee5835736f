//! Host-side PRP construction.
//!
//! A transfer of `len` bytes starting at IOVA `addr` (which may carry an
//! offset into its page) is described by PRP1 = `addr` and PRP2 = either
//! nothing (the data ends in the first page), the second page (the data ends
//! in the second page) or a pointer to a PRP list holding one entry per
//! further page. A list page holds 512 entries; when more are needed, the
//! last entry of a full list page points to the next list page (a chained
//! list), so any transfer size works.
//!
//! List pages are preallocated ([`PrpListPages`], a view of DMA memory owned
//! by the queue's tracker slot), so building PRPs for any transfer up to the
//! queue's maximum never allocates. A larger transfer (a command over MDTS
//! sent on purpose, for the device to refuse) gets list pages of its own,
//! held by its tracker until it completes.

use crate::PAGE_SIZE;
use crate::error::DriverError;
use std::ptr::NonNull;

/// PRP entries per list page.
pub const ENTRIES_PER_PAGE: usize = PAGE_SIZE / 8;

const PAGE: u64 = PAGE_SIZE as u64;
const PAGE_MASK: u64 = PAGE - 1;

/// List pages needed to hold `entries` PRP entries, chaining as needed
/// (0 entries need no list).
pub const fn pages_for_entries(entries: usize) -> usize {
    if entries == 0 {
        0
    } else if entries <= ENTRIES_PER_PAGE {
        1
    } else {
        1 + (entries - ENTRIES_PER_PAGE).div_ceil(ENTRIES_PER_PAGE - 1)
    }
}

/// PRP list entries a transfer of `len` bytes at `addr` needs (0 when PRP2
/// is unused or is the second data page).
pub const fn list_entries(addr: u64, len: usize) -> usize {
    let first = PAGE - (addr & PAGE_MASK);
    if (len as u64) <= first {
        return 0;
    }
    let remaining = len as u64 - first;
    if remaining <= PAGE { 0 } else { remaining.div_ceil(PAGE) as usize }
}

/// List pages needed so that any transfer of up to `max_len` bytes, at any
/// offset, can be described.
pub const fn pages_for_transfer(max_len: usize) -> usize {
    pages_for_entries(max_len.div_ceil(PAGE_SIZE))
}

/// A view of `pages` contiguous, preallocated DMA pages that hold PRP lists.
#[derive(Debug)]
pub struct PrpListPages {
    host: NonNull<u64>,
    iova: u64,
    pages: usize,
}

// SAFETY: the view only points into DMA memory owned by the queue (or test)
// that created it, which outlives it; it is used by one thread at a time
// through `&mut self`.
unsafe impl Send for PrpListPages {}

impl PrpListPages {
    /// A view of `pages` list pages at `host` (device address `iova`).
    ///
    /// # Safety
    /// `host` must be 8-byte aligned and valid for writes of
    /// `pages * PAGE_SIZE` bytes for as long as the view is used, the device
    /// must see the same memory at `iova`, and nothing else may write it
    /// while the view builds lists.
    pub unsafe fn new(host: NonNull<u8>, iova: u64, pages: usize) -> Self {
        PrpListPages { host: host.cast(), iova, pages }
    }

    /// An empty view (for transfers that never need a list).
    pub fn empty() -> Self {
        PrpListPages { host: NonNull::dangling(), iova: 0, pages: 0 }
    }

    /// Number of list pages.
    pub fn pages(&self) -> usize {
        self.pages
    }

    /// The IOVA of list page 0.
    pub fn iova(&self) -> u64 {
        self.iova
    }

    fn write(&mut self, index: usize, value: u64) {
        debug_assert!(index < self.pages * ENTRIES_PER_PAGE);
        // SAFETY: `index` is below `pages * ENTRIES_PER_PAGE` (checked by
        // the caller's page count), so the write stays inside the memory
        // `new`'s contract makes valid and exclusive.
        unsafe { self.host.as_ptr().add(index).write(value.to_le()) }
    }
}

/// Builds PRP1 and PRP2 for `len` bytes of IOVA-contiguous memory at `addr`,
/// writing list pages into `lists` when needed. Returns `(prp1, prp2)`.
///
/// `addr` is used as given, so an offset that is not dword aligned reaches
/// the device (which must answer `prp_offset_invalid`).
pub fn build(addr: u64, len: usize, lists: &mut PrpListPages) -> Result<(u64, u64), DriverError> {
    let first = PAGE - (addr & PAGE_MASK);
    if (len as u64) <= first {
        return Ok((addr, 0));
    }
    let next_page = (addr & !PAGE_MASK) + PAGE;
    let remaining = len as u64 - first;
    if remaining <= PAGE {
        return Ok((addr, next_page));
    }
    let entries = remaining.div_ceil(PAGE) as usize;
    let pages = pages_for_entries(entries);
    if pages > lists.pages {
        return Err(DriverError::TransferTooLarge {
            len,
            mdts: (lists.pages * (ENTRIES_PER_PAGE - 1) + 1) * PAGE_SIZE,
        });
    }
    let mut page = 0usize;
    let mut slot = 0usize;
    for i in 0..entries {
        if slot == ENTRIES_PER_PAGE - 1 && entries - i > 1 {
            let next_list = lists.iova + ((page + 1) * PAGE_SIZE) as u64;
            lists.write(page * ENTRIES_PER_PAGE + slot, next_list);
            page += 1;
            slot = 0;
        }
        lists.write(page * ENTRIES_PER_PAGE + slot, next_page + i as u64 * PAGE);
        slot += 1;
    }
    Ok((addr, lists.iova))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST_IOVA: u64 = 0x9_0000_0000;

    /// Walks a built PRP set the way a device does; returns the data pages.
    fn walk(prp1: u64, prp2: u64, len: usize, mem: &[u64]) -> Vec<(u64, usize)> {
        let mut out = vec![];
        let first = (PAGE - (prp1 & PAGE_MASK)).min(len as u64) as usize;
        out.push((prp1, first));
        let mut remaining = len - first;
        if remaining == 0 {
            return out;
        }
        if remaining <= PAGE_SIZE {
            out.push((prp2, remaining));
            return out;
        }
        let mut idx = ((prp2 - LIST_IOVA) / 8) as usize;
        while remaining > 0 {
            let slot = idx % ENTRIES_PER_PAGE;
            let needed = remaining.div_ceil(PAGE_SIZE);
            if slot == ENTRIES_PER_PAGE - 1 && needed > 1 {
                idx = ((u64::from_le(mem[idx]) - LIST_IOVA) / 8) as usize;
                continue;
            }
            let this = remaining.min(PAGE_SIZE);
            out.push((u64::from_le(mem[idx]), this));
            remaining -= this;
            idx += 1;
        }
        out
    }

    fn check(addr: u64, len: usize, pages: usize) {
        let mut mem = vec![0u64; pages.max(1) * ENTRIES_PER_PAGE];
        // SAFETY: `mem` is 8-byte aligned, holds `pages` pages and outlives `lists`.
        let mut lists =
            unsafe { PrpListPages::new(NonNull::new(mem.as_mut_ptr().cast()).unwrap(), LIST_IOVA, pages) };
        let (prp1, prp2) = build(addr, len, &mut lists).unwrap();
        assert_eq!(prp1, addr);
        let segs = walk(prp1, prp2, len, &mem);
        let mut expect = addr;
        let mut total = 0;
        for (i, (a, l)) in segs.iter().enumerate() {
            assert_eq!(*a, expect, "segment {i} of len {len} at {addr:#x}");
            if i > 0 {
                assert_eq!(a & PAGE_MASK, 0);
            }
            expect = a + *l as u64;
            total += l;
        }
        assert_eq!(total, len);
        assert_eq!(
            list_entries(addr, len) > 0,
            prp2 == LIST_IOVA && len > 2 * PAGE_SIZE - (addr & PAGE_MASK) as usize
        );
    }

    #[test]
    fn page_counts() {
        assert_eq!(pages_for_entries(0), 0);
        assert_eq!(pages_for_entries(1), 1);
        assert_eq!(pages_for_entries(512), 1);
        assert_eq!(pages_for_entries(513), 2);
        assert_eq!(pages_for_entries(1023), 2);
        assert_eq!(pages_for_entries(1024), 3);
        assert_eq!(list_entries(0x1000, 4096), 0);
        assert_eq!(list_entries(0x1000, 8192), 0);
        assert_eq!(list_entries(0x1000, 8193), 2);
        assert_eq!(list_entries(0x1200, 8192), 2);
        assert_eq!(pages_for_transfer(2 << 20), 1);
        assert_eq!(pages_for_transfer((2 << 20) + 4096), 2);
    }

    #[test]
    fn single_and_two_pages() {
        let mut none = PrpListPages::empty();
        assert_eq!(build(0x1_0000_0000, 4096, &mut none).unwrap(), (0x1_0000_0000, 0));
        assert_eq!(build(0x1_0000_0200, 3584, &mut none).unwrap(), (0x1_0000_0200, 0));
        assert_eq!(build(0x1_0000_0200, 3585, &mut none).unwrap(), (0x1_0000_0200, 0x1_0000_1000));
        assert_eq!(build(0x1_0000_0000, 8192, &mut none).unwrap(), (0x1_0000_0000, 0x1_0000_1000));
        assert!(matches!(build(0x1_0000_0000, 8193, &mut none), Err(DriverError::TransferTooLarge { .. })));
    }

    #[test]
    fn lists_including_chains() {
        for &(addr, len) in &[
            (0x1_0000_0000u64, 3 * 4096usize),
            (0x1_0000_0004, 3 * 4096),
            (0x1_0000_0000, 128 << 10),
            (0x1_0000_0000, 513 * 4096),
            (0x1_0000_0000, 514 * 4096),
            (0x1_0000_0800, 513 * 4096),
            (0x1_0000_0000, 1024 * 4096),
            (0x1_0000_0000, 1025 * 4096),
            (0x1_0000_0010, (4 << 20) + 100),
        ] {
            check(addr, len, pages_for_transfer(len + 4096));
        }
    }

    #[test]
    fn too_few_pages_is_reported() {
        let mut mem = vec![0u64; ENTRIES_PER_PAGE];
        // SAFETY: `mem` is one aligned page and outlives `lists`.
        let mut lists =
            unsafe { PrpListPages::new(NonNull::new(mem.as_mut_ptr().cast()).unwrap(), LIST_IOVA, 1) };
        assert!(build(0x1_0000_0000, 513 * 4096, &mut lists).is_ok());
        assert!(matches!(
            build(0x1_0000_0000, 514 * 4096, &mut lists),
            Err(DriverError::TransferTooLarge { .. })
        ));
    }
}
