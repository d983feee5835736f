//! [`IovaAllocator`]: hands out ranges of device (IO virtual) address space
//! for DMA mappings; shared by the simulator and VFIO backends.

use std::collections::BTreeMap;

/// A first-fit IOVA range allocator with coalescing frees.
///
/// Allocation is not on the I/O hot path (buffers and queues are allocated
/// up front), so a `BTreeMap` of free ranges is plenty.
#[derive(Debug)]
pub struct IovaAllocator {
    /// Free ranges: start -> length.
    free: BTreeMap<u64, u64>,
}

impl IovaAllocator {
    /// An allocator for `[start, end)`.
    pub fn new(start: u64, end: u64) -> Self {
        let mut free = BTreeMap::new();
        if end > start {
            free.insert(start, end - start);
        }
        IovaAllocator { free }
    }

    /// Allocates `len` bytes of IOVA space starting at a multiple of `align`
    /// (a power of two; 1 for none). `len` should be a multiple of the page
    /// size.
    pub fn alloc_aligned(&mut self, len: u64, align: u64) -> Option<u64> {
        if len == 0 || !align.is_power_of_two() {
            return None;
        }
        let (start, size, at) = self.free.iter().find_map(|(&start, &size)| {
            let at = start.checked_next_multiple_of(align)?;
            let end = at.checked_add(len)?;
            (end <= start + size).then_some((start, size, at))
        })?;
        self.free.remove(&start);
        if at > start {
            self.free.insert(start, at - start);
        }
        if start + size > at + len {
            self.free.insert(at + len, start + size - (at + len));
        }
        Some(at)
    }

    /// Allocates `len` bytes (a multiple of the page size) of IOVA space.
    pub fn alloc(&mut self, len: u64) -> Option<u64> {
        self.alloc_aligned(len, 1)
    }

    /// Returns `[start, start + len)` to the free set, merging neighbours.
    pub fn free(&mut self, start: u64, len: u64) {
        let mut start = start;
        let mut len = len;
        if let Some((&prev, &prev_len)) = self.free.range(..start).next_back()
            && prev + prev_len == start
        {
            self.free.remove(&prev);
            start = prev;
            len += prev_len;
        }
        if let Some(&next_len) = self.free.get(&(start + len)) {
            self.free.remove(&(start + len));
            len += next_len;
        }
        self.free.insert(start, len);
    }

    /// Number of free ranges (fragmentation indicator).
    pub fn free_ranges(&self) -> usize {
        self.free.len()
    }

    /// Total free bytes.
    pub fn free_bytes(&self) -> u64 {
        self.free.values().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const BASE: u64 = 1 << 32;

    #[test]
    fn aligned_allocation_leaves_the_gap_free() {
        let mut a = IovaAllocator::new(BASE + 4096, BASE + (8 << 20));
        let huge = a.alloc_aligned(2 << 20, 2 << 20).unwrap();
        assert_eq!(huge, BASE + (2 << 20));
        // The gap before the aligned range is still usable.
        assert_eq!(a.alloc(4096), Some(BASE + 4096));
        a.free(huge, 2 << 20);
        a.free(BASE + 4096, 4096);
        assert_eq!(a.free_ranges(), 1);
        assert_eq!(a.free_bytes(), (8 << 20) - 4096);
    }

    #[test]
    fn rejects_zero_length_and_bad_alignment() {
        let mut a = IovaAllocator::new(BASE, BASE + (1 << 20));
        assert_eq!(a.alloc(0), None);
        assert_eq!(a.alloc_aligned(4096, 3), None);
        assert_eq!(a.alloc(2 << 20), None);
    }

    proptest! {
        /// Live ranges never overlap, stay inside the space, and freeing
        /// everything restores a single free range.
        #[test]
        fn ranges_are_disjoint_and_coalesce(ops in proptest::collection::vec((1u64..64, any::<bool>(), 0usize..8), 1..120)) {
            let end = BASE + (1 << 30);
            let mut a = IovaAllocator::new(BASE, end);
            let mut live: Vec<(u64, u64)> = Vec::new();
            for (pages, aligned, pick) in ops {
                if !live.is_empty() && pick < 3 {
                    let (s, l) = live.swap_remove(pick % live.len());
                    a.free(s, l);
                    continue;
                }
                let len = pages * 4096;
                let align = if aligned { 2 << 20 } else { 4096 };
                if let Some(s) = a.alloc_aligned(len, align) {
                    prop_assert_eq!(s % align, 0);
                    prop_assert!(s >= BASE && s + len <= end);
                    for &(o, ol) in &live {
                        prop_assert!(s + len <= o || o + ol <= s, "overlap {s:#x}+{len:#x} with {o:#x}+{ol:#x}");
                    }
                    live.push((s, len));
                }
            }
            for (s, l) in live.drain(..) {
                a.free(s, l);
            }
            prop_assert_eq!(a.free_ranges(), 1);
            prop_assert_eq!(a.free_bytes(), end - BASE);
        }
    }
}
