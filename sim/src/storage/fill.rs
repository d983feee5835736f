//! The pattern a sanitize overwrite leaves in the media.
//!
//! Rather than writing the pattern into every block of a possibly huge,
//! sparse namespace, the store erases the media and keeps a [`Fill`]: the
//! 32-bit pattern plus the set of LBAs that still hold it. Whatever the
//! media returns for those blocks is painted over with the pattern when it
//! is read (see the `storage` module documentation for when blocks leave
//! the set).

use super::ranges::RangeSet;

/// A 32-bit pattern, repeated through every block of an LBA set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Fill {
    /// The pattern, stored little-endian: byte `k` of a block is byte
    /// `k % 4` of `pattern.to_le_bytes()`.
    pattern: u32,
    /// The blocks that read as the pattern.
    ranges: RangeSet,
}

impl Fill {
    /// `pattern` in every block of `[0, nlb)`.
    pub(super) fn new(pattern: u32, nlb: u64) -> Self {
        Self::from_ranges(pattern, [(0, nlb)], nlb)
    }

    /// `pattern` in the given blocks, clipped to `[0, nlb)`.
    pub(super) fn from_ranges(pattern: u32, ranges: impl IntoIterator<Item = (u64, u64)>, nlb: u64) -> Self {
        let mut set = RangeSet::default();
        for (start, end) in ranges {
            set.insert(start.min(nlb), end.min(nlb));
        }
        Fill { pattern, ranges: set }
    }

    /// The pattern.
    pub(super) fn pattern(&self) -> u32 {
        self.pattern
    }

    /// The blocks holding the pattern, as `(first LBA, end LBA exclusive)`.
    pub(super) fn ranges(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.ranges.iter()
    }

    /// Whether no block holds the pattern any more.
    pub(super) fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Takes `[start, end)` out of the set (the blocks got new data);
    /// returns whether anything changed.
    pub(super) fn remove(&mut self, start: u64, end: u64) -> bool {
        self.ranges.remove(start, end)
    }

    /// Writes the pattern over the blocks of `out` that hold it; `out`
    /// starts at block `slba` (blocks of `lba_size` bytes, the last one
    /// possibly partial).
    pub(super) fn paint(&self, lba_size: u32, slba: u64, out: &mut [u8]) {
        let lba = u64::from(lba_size.max(1));
        let end = slba.saturating_add((out.len() as u64).div_ceil(lba));
        let bytes = self.pattern.to_le_bytes();
        for (start, stop) in self.ranges.overlapping(slba, end) {
            let lo = ((start - slba) * lba) as usize;
            let hi = (((stop - slba) * lba) as usize).min(out.len());
            for block in out[lo..hi].chunks_mut(lba as usize) {
                for (k, byte) in block.iter_mut().enumerate() {
                    *byte = bytes[k % 4];
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paints_only_the_blocks_in_the_set() {
        let mut fill = Fill::new(0x1122_3344, 10);
        assert!(fill.remove(3, 5));
        assert!(!fill.remove(3, 5));
        let mut out = vec![0u8; 8 * 6];
        fill.paint(8, 1, &mut out);
        let pattern = [0x44, 0x33, 0x22, 0x11, 0x44, 0x33, 0x22, 0x11];
        let blocks: Vec<&[u8]> = out.chunks(8).collect();
        assert_eq!(blocks[0], pattern, "block 1");
        assert_eq!(blocks[1], pattern, "block 2");
        assert_eq!(blocks[2], [0; 8], "block 3 was removed");
        assert_eq!(blocks[3], [0; 8], "block 4 was removed");
        assert_eq!(blocks[4], pattern, "block 5");
        // A block size that is not a multiple of 4 restarts the pattern per block.
        let mut out = vec![0u8; 6];
        Fill::new(0x1122_3344, 10).paint(3, 0, &mut out);
        assert_eq!(out, [0x44, 0x33, 0x22, 0x44, 0x33, 0x22]);
        // A partial last block and ranges clipped to the namespace.
        let fill = Fill::from_ranges(0xFFFF_FFFF, [(8, 20)], 9);
        assert_eq!(fill.ranges().collect::<Vec<_>>(), vec![(8, 9)]);
        let mut out = vec![0u8; 12];
        fill.paint(8, 7, &mut out);
        assert_eq!(out, [0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]);
        assert!(!fill.is_empty());
        assert_eq!(fill.pattern(), 0xFFFF_FFFF);
    }
}
