//! A set of LBAs kept as disjoint, non-adjacent half-open ranges.

use std::collections::BTreeMap;

/// Disjoint `[start, end)` ranges keyed by start; adjacent ranges are merged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RangeSet {
    map: BTreeMap<u64, u64>,
}

impl RangeSet {
    /// Whether the set holds no LBA.
    pub(crate) fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The ranges in ascending order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.map.iter().map(|(&s, &e)| (s, e))
    }

    /// Removes everything.
    pub(crate) fn clear(&mut self) {
        self.map.clear();
    }

    /// Adds `[start, end)`.
    pub(crate) fn insert(&mut self, start: u64, end: u64) {
        if start >= end {
            return;
        }
        let (mut s, mut e) = (start, end);
        if let Some((&ps, &pe)) = self.map.range(..=s).next_back()
            && pe >= s
        {
            s = ps;
            e = e.max(pe);
            self.map.remove(&ps);
        }
        while let Some((&ns, &ne)) = self.map.range(s..=e).next() {
            e = e.max(ne);
            self.map.remove(&ns);
        }
        self.map.insert(s, e);
    }

    /// Removes `[start, end)`; returns whether anything was removed.
    pub(crate) fn remove(&mut self, start: u64, end: u64) -> bool {
        if start >= end {
            return false;
        }
        let mut changed = false;
        if let Some((&ps, &pe)) = self.map.range(..start).next_back()
            && pe > start
        {
            changed = true;
            self.map.insert(ps, start);
            if pe > end {
                self.map.insert(end, pe);
                return true;
            }
        }
        while let Some((&s, &e)) = self.map.range(start..end).next() {
            changed = true;
            self.map.remove(&s);
            if e > end {
                self.map.insert(end, e);
            }
        }
        changed
    }

    /// The members of `[start, end)`, as ranges clipped to it, in order.
    pub(crate) fn overlapping(&self, start: u64, end: u64) -> impl Iterator<Item = (u64, u64)> + '_ {
        let first = self
            .map
            .range(..start)
            .next_back()
            .filter(|&(_, &pe)| pe > start && start < end)
            .map(|(_, &pe)| (start, pe.min(end)));
        let rest = self.map.range(start..end.max(start)).map(move |(&s, &e)| (s, e.min(end)));
        first.into_iter().chain(rest)
    }

    /// The first member of `[start, end)`, if any.
    pub(crate) fn first_in(&self, start: u64, end: u64) -> Option<u64> {
        if start >= end {
            return None;
        }
        if let Some((_, &pe)) = self.map.range(..=start).next_back()
            && pe > start
        {
            return Some(start);
        }
        self.map.range(start..end).next().map(|(&s, _)| s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranges(set: &RangeSet) -> Vec<(u64, u64)> {
        set.iter().collect()
    }

    #[test]
    fn insert_merges_and_remove_splits() {
        let mut set = RangeSet::default();
        set.insert(10, 20);
        set.insert(30, 40);
        set.insert(20, 25);
        assert_eq!(ranges(&set), vec![(10, 25), (30, 40)]);
        set.insert(5, 35);
        assert_eq!(ranges(&set), vec![(5, 40)]);
        assert!(set.remove(10, 12));
        assert_eq!(ranges(&set), vec![(5, 10), (12, 40)]);
        assert!(!set.remove(10, 12));
        assert!(set.remove(0, 6));
        assert!(set.remove(39, u64::MAX));
        assert_eq!(ranges(&set), vec![(6, 10), (12, 39)]);
        assert_eq!(set.first_in(0, 6), None);
        assert_eq!(set.first_in(0, 7), Some(6));
        assert_eq!(set.first_in(8, 100), Some(8));
        assert_eq!(set.first_in(10, 12), None);
        assert_eq!(set.first_in(10, 13), Some(12));
        assert_eq!(set.overlapping(0, 100).collect::<Vec<_>>(), vec![(6, 10), (12, 39)]);
        assert_eq!(set.overlapping(8, 13).collect::<Vec<_>>(), vec![(8, 10), (12, 13)]);
        assert_eq!(set.overlapping(10, 12).count(), 0);
        assert_eq!(set.overlapping(13, 13).count(), 0);
        assert_eq!(set.overlapping(20, 5).count(), 0);
        set.insert(u64::MAX - 1, u64::MAX);
        assert_eq!(set.first_in(u64::MAX - 5, u64::MAX), Some(u64::MAX - 1));
        assert!(set.remove(0, u64::MAX));
        assert!(set.is_empty());
    }
}
