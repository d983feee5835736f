//! The in-flight LBA lock of one worker (used when `verify` is on).
//!
//! # Policy
//!
//! An IO that modifies its range (write, trim, write zeroes, raw opcode)
//! must not be outstanding together with any other IO that overlaps it,
//! and a read-type IO (read, compare, verify) must not overlap an
//! outstanding modifying IO. Flush has no range and never conflicts.
//!
//! When the generator picks an IO that conflicts, the worker **holds** it:
//! it submits nothing else until the conflicting commands have completed,
//! then submits the held IO. Holding (rather than picking again) keeps the
//! generated order, so a sequence replays exactly in order and the
//! workload's statistics (op mix, sizes, distribution) are unchanged; the
//! price is a briefly lower queue depth, which random workloads over a
//! large region rarely pay.
//!
//! The table is indexed by queue slot; outstanding slots are kept in a
//! dense list, so a check scans at most `qdepth` ranges, and a read skips
//! the scan entirely while no modifying IO is outstanding.

/// Outstanding LBA ranges by slot.
#[derive(Debug)]
pub struct InflightLock {
    /// `(slba, end, modifies)` per slot.
    ranges: Box<[(u64, u64, bool)]>,
    /// Outstanding slots with a range, densely packed.
    active: Vec<u16>,
    /// Position of each slot in `active` (`u16::MAX` when absent).
    pos: Box<[u16]>,
    /// Outstanding modifying IOs.
    modifying: usize,
}

impl InflightLock {
    /// A lock for `slots` queue slots.
    pub fn new(slots: usize) -> Self {
        InflightLock {
            ranges: vec![(0, 0, false); slots].into_boxed_slice(),
            active: Vec::with_capacity(slots),
            pos: vec![u16::MAX; slots].into_boxed_slice(),
            modifying: 0,
        }
    }

    /// Whether an IO over `slba..slba+nlb` (modifying or not) conflicts
    /// with an outstanding one.
    #[inline]
    pub fn conflicts(&self, slba: u64, nlb: u32, modifies: bool) -> bool {
        if !modifies && self.modifying == 0 {
            return false;
        }
        let end = slba + u64::from(nlb);
        self.active.iter().any(|&s| {
            let (lo, hi, m) = self.ranges[usize::from(s)];
            (modifies || m) && slba < hi && lo < end
        })
    }

    /// Records that `slot` now holds an IO over `slba..slba+nlb`.
    #[inline]
    pub fn insert(&mut self, slot: u16, slba: u64, nlb: u32, modifies: bool) {
        let s = usize::from(slot);
        self.ranges[s] = (slba, slba + u64::from(nlb), modifies);
        self.pos[s] = self.active.len() as u16;
        self.active.push(slot);
        self.modifying += usize::from(modifies);
    }

    /// Releases `slot` (no-op when it holds no range).
    #[inline]
    pub fn remove(&mut self, slot: u16) {
        let s = usize::from(slot);
        let p = self.pos[s];
        if p == u16::MAX {
            return;
        }
        self.pos[s] = u16::MAX;
        let last = self.active.pop().expect("active holds the slot");
        if last != slot {
            self.active[usize::from(p)] = last;
            self.pos[usize::from(last)] = p;
        }
        self.modifying -= usize::from(self.ranges[s].2);
    }

    /// Outstanding ranges.
    pub fn len(&self) -> usize {
        self.active.len()
    }

    /// Whether no range is outstanding.
    pub fn is_empty(&self) -> bool {
        self.active.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_share_writes_exclude() {
        let mut l = InflightLock::new(8);
        l.insert(0, 100, 8, false);
        assert!(!l.conflicts(104, 8, false), "reads may overlap reads");
        assert!(l.conflicts(104, 8, true), "a write may not overlap a read");
        assert!(!l.conflicts(108, 8, true), "adjacent ranges do not overlap");
        l.insert(3, 200, 8, true);
        assert!(l.conflicts(207, 1, false));
        assert!(!l.conflicts(208, 1, false));
        l.remove(0);
        assert!(!l.conflicts(100, 8, true));
        l.remove(3);
        assert!(l.is_empty());
        assert!(!l.conflicts(200, 8, true));
        l.remove(3);
        assert_eq!(l.len(), 0);
    }
}
