//! End-to-end data verification: [`VerifyMap`] (what each LBA should hold)
//! and [`stamp_block`].
//!
//! Writes stamp each block with its LBA (bytes 0..8, little endian), a
//! write token unique per write (bytes 8..16) and a check word derived from
//! both (bytes 16..24, see [`stamp_of`]); when the write succeeds the
//! block's CRC32 is recorded. Reads check the stamp and the CRC. The check
//! word makes a stamped block recognisable without any map state: a block
//! whose stamp names another LBA is a [`MismatchKind::Stamp`] mismatch even
//! where the map knows nothing, while zeroed or random data practically
//! never looks stamped (one chance in 2^64).
//!
//! Every check counts the blocks it could check and those it could not
//! ([`CheckCounts`]): a block the map knows nothing about is *unchecked*,
//! never silently passed.
//!
//! The map is sparse: LBAs are grouped in chunks of [`CHUNK_LBAS`], and a
//! chunk's memory (8 bytes per LBA) is allocated on the first change to it,
//! so memory follows what was written, never the namespace's capacity.
//! LBAs in absent chunks have the map's default state (unknown, or zeroes
//! after a format/sanitize). Per-LBA states are atomics, so threads on
//! their own queues share one map (`Arc<VerifyMap>`) without locking each
//! other out beyond a brief read lock on the chunk table.

mod persist;

pub use nvmeplan_results::{Mismatch, MismatchKind};
pub use persist::MapFormatError;

use parking_lot::RwLock;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// LBAs per chunk.
pub const CHUNK_LBAS: u64 = 4096;

const TAG_MASK: u64 = 0xF << 32;
const UNKNOWN: u64 = 0;
const CRC_STAMPED: u64 = 1 << 32;
const CRC_RAW: u64 = 2 << 32;
const ZEROES: u64 = 3 << 32;
const UNCORRECTABLE: u64 = 4 << 32;
const RELOCATED: u64 = 5 << 32;

static NEXT_TOKEN: AtomicU64 = AtomicU64::new(1);

/// Bytes of a full stamp: LBA, write token and check word.
pub const STAMP_BYTES: usize = 24;

/// Mixed into the check word so that it differs from what a plain
/// function of LBA and token would give ("nvmeplan" in ASCII).
const STAMP_KEY: u64 = 0x6E76_6D65_706C_616E;

/// The check word of a stamp: a 64-bit finaliser (SplitMix64's) of the LBA,
/// the token and [`STAMP_KEY`]. It is a bijection of its input, which is
/// never zero for LBA 0 and token 0, so an all-zero block never passes.
#[inline]
fn check_word(lba: u64, token: u64) -> u64 {
    let mut z = lba ^ token.rotate_left(29) ^ STAMP_KEY;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The stamp a block carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// The LBA the block was written to.
    pub lba: u64,
    /// The write token.
    pub token: u64,
}

#[inline]
fn word(block: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(block[at..at + 8].try_into().expect("8 bytes"))
}

/// The stamp of `block`, when it carries a whole one whose check word
/// matches its LBA and token; `None` for shorter blocks and for data that
/// was not stamped (zeroes, random bytes, patterns).
#[inline]
pub fn stamp_of(block: &[u8]) -> Option<Stamp> {
    if block.len() < STAMP_BYTES {
        return None;
    }
    let (lba, token) = (word(block, 0), word(block, 8));
    (word(block, 16) == check_word(lba, token)).then_some(Stamp { lba, token })
}

/// A write token unique within this process.
pub fn next_write_token() -> u64 {
    NEXT_TOKEN.fetch_add(1, Ordering::Relaxed)
}

/// Stamps `block` with `lba` (bytes 0..8), `token` (bytes 8..16) and their
/// check word (bytes 16..24); blocks shorter than [`STAMP_BYTES`] get as
/// much as fits (and are not recognised as stamped).
#[inline]
pub fn stamp_block(block: &mut [u8], lba: u64, token: u64) {
    let mut stamp = [0u8; STAMP_BYTES];
    stamp[..8].copy_from_slice(&lba.to_le_bytes());
    stamp[8..16].copy_from_slice(&token.to_le_bytes());
    stamp[16..].copy_from_slice(&check_word(lba, token).to_le_bytes());
    let n = block.len().min(STAMP_BYTES);
    block[..n].copy_from_slice(&stamp[..n]);
}

/// Whether `block` carries a valid stamp naming `lba`.
#[inline]
fn stamped_for(block: &[u8], lba: u64) -> bool {
    stamp_of(block).is_some_and(|s| s.lba == lba)
}

/// How many blocks a check covered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CheckCounts {
    /// Blocks checked against a known expectation (or found to carry the
    /// stamp of another LBA); includes the mismatched ones.
    pub checked: u64,
    /// Blocks with no known expectation: they were not checked.
    pub unchecked: u64,
    /// Blocks that did not hold what was expected.
    pub mismatched: u64,
}

impl CheckCounts {
    /// Adds `other`'s counts.
    pub fn add(&mut self, other: CheckCounts) {
        self.checked += other.checked;
        self.unchecked += other.unchecked;
        self.mismatched += other.mismatched;
    }
}

/// What a read of an LBA is expected to return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expectation {
    /// Never written through this map (or deallocated): only a stamp that
    /// names another LBA is caught; otherwise the block counts as unchecked.
    Unknown,
    /// The data written last, by CRC32; `stamped` when it carries the LBA stamp.
    Crc {
        /// CRC32 of the block.
        crc: u32,
        /// Whether the block carried a valid stamp naming the LBA.
        stamped: bool,
    },
    /// All zeroes (write zeroes, format, sanitize, deallocate with DLFEAT
    /// read-zeroes).
    Zeroes,
    /// Write Uncorrectable: reads must fail with `unrecovered_read_error`.
    Uncorrectable,
    /// Copied there from a block the map knew nothing about: unchecked like
    /// [`Expectation::Unknown`], but a stamp naming another LBA is expected
    /// (the block may carry its source's stamp), so it is no mismatch.
    Relocated,
}

impl Expectation {
    fn encode(self) -> u64 {
        match self {
            Expectation::Unknown => UNKNOWN,
            Expectation::Crc { crc, stamped: true } => CRC_STAMPED | u64::from(crc),
            Expectation::Crc { crc, stamped: false } => CRC_RAW | u64::from(crc),
            Expectation::Zeroes => ZEROES,
            Expectation::Uncorrectable => UNCORRECTABLE,
            Expectation::Relocated => RELOCATED,
        }
    }

    fn decode(v: u64) -> Self {
        match v & TAG_MASK {
            CRC_STAMPED => Expectation::Crc { crc: v as u32, stamped: true },
            CRC_RAW => Expectation::Crc { crc: v as u32, stamped: false },
            ZEROES => Expectation::Zeroes,
            UNCORRECTABLE => Expectation::Uncorrectable,
            RELOCATED => Expectation::Relocated,
            _ => Expectation::Unknown,
        }
    }
}

type Chunk = Box<[AtomicU64]>;

/// Per-LBA expectations of one namespace. See the module docs.
pub struct VerifyMap {
    chunks: RwLock<HashMap<u64, Chunk>>,
    default: AtomicU64,
}

impl Default for VerifyMap {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for VerifyMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyMap")
            .field("chunks", &self.chunks.read().len())
            .field("default", &Expectation::decode(self.default.load(Ordering::Relaxed)))
            .finish()
    }
}

fn all_zero(block: &[u8]) -> Option<usize> {
    let mut words = block.chunks_exact(8);
    let mut offset = 0;
    for w in &mut words {
        if u64::from_ne_bytes(w.try_into().expect("8 bytes")) != 0 {
            return w.iter().position(|&b| b != 0).map(|p| offset + p);
        }
        offset += 8;
    }
    words.remainder().iter().position(|&b| b != 0).map(|p| offset + p)
}

impl VerifyMap {
    /// An empty map: every LBA unknown.
    pub fn new() -> Self {
        VerifyMap { chunks: RwLock::new(HashMap::new()), default: AtomicU64::new(UNKNOWN) }
    }

    fn split(lba: u64) -> (u64, usize) {
        (lba / CHUNK_LBAS, (lba % CHUNK_LBAS) as usize)
    }

    fn set(&self, lba: u64, value: u64) {
        let (idx, off) = Self::split(lba);
        {
            let map = self.chunks.read();
            if let Some(chunk) = map.get(&idx) {
                chunk[off].store(value, Ordering::Relaxed);
                return;
            }
            if value == self.default.load(Ordering::Relaxed) {
                return;
            }
        }
        let mut map = self.chunks.write();
        let default = self.default.load(Ordering::Relaxed);
        let chunk =
            map.entry(idx).or_insert_with(|| (0..CHUNK_LBAS).map(|_| AtomicU64::new(default)).collect());
        chunk[off].store(value, Ordering::Relaxed);
    }

    fn get(&self, lba: u64) -> u64 {
        let (idx, off) = Self::split(lba);
        let map = self.chunks.read();
        match map.get(&idx) {
            Some(chunk) => chunk[off].load(Ordering::Relaxed),
            None => self.default.load(Ordering::Relaxed),
        }
    }

    /// Sets `nlb` LBAs from `slba` to `value`; whole chunks that end up at
    /// the default are freed.
    fn set_range(&self, slba: u64, nlb: u64, value: u64) {
        let end = slba.saturating_add(nlb);
        let mut lba = slba;
        while lba < end {
            let (idx, off) = Self::split(lba);
            let chunk_end = ((idx + 1) * CHUNK_LBAS).min(end);
            let whole = off == 0 && chunk_end - lba == CHUNK_LBAS;
            if whole && value == self.default.load(Ordering::Relaxed) {
                self.chunks.write().remove(&idx);
            } else {
                for l in lba..chunk_end {
                    self.set(l, value);
                }
            }
            lba = chunk_end;
        }
    }

    /// Records a successful write of `block` at `lba` (its CRC32, and
    /// whether it carries a valid stamp naming `lba`).
    pub fn record_write(&self, lba: u64, block: &[u8]) {
        let stamped = stamped_for(block, lba);
        let crc = crc32fast::hash(block);
        self.set(lba, Expectation::Crc { crc, stamped }.encode());
    }

    /// Records a successful write of consecutive blocks of `lba_size` bytes.
    /// The chunk table's read lock is taken once per chunk the range
    /// touches, not once per block.
    pub fn record_writes(&self, slba: u64, data: &[u8], lba_size: usize) {
        let mut blocks = data.chunks_exact(lba_size).enumerate().peekable();
        while let Some(&(i, _)) = blocks.peek() {
            let (idx, _) = Self::split(slba + i as u64);
            let map = self.chunks.read();
            let Some(chunk) = map.get(&idx) else {
                drop(map);
                // First write to this chunk: allocate it through `set`.
                let (i, block) = blocks.next().expect("peeked");
                self.record_write(slba + i as u64, block);
                continue;
            };
            while let Some(&(i, block)) = blocks.peek() {
                let (bidx, off) = Self::split(slba + i as u64);
                if bidx != idx {
                    break;
                }
                let lba = slba + i as u64;
                let stamped = stamped_for(block, lba);
                let crc = crc32fast::hash(block);
                chunk[off].store(Expectation::Crc { crc, stamped }.encode(), Ordering::Relaxed);
                blocks.next();
            }
        }
    }

    /// Expects zeroes in `nlb` blocks from `slba`.
    pub fn mark_zeroes(&self, slba: u64, nlb: u64) {
        self.set_range(slba, nlb, ZEROES);
    }

    /// Forgets `nlb` blocks from `slba` (they are no longer checked).
    pub fn mark_unknown(&self, slba: u64, nlb: u64) {
        self.set_range(slba, nlb, UNKNOWN);
    }

    /// Expects reads of `nlb` blocks from `slba` to fail with
    /// `unrecovered_read_error`.
    pub fn mark_uncorrectable(&self, slba: u64, nlb: u64) {
        self.set_range(slba, nlb, UNCORRECTABLE);
    }

    /// Records a successful Copy: the blocks from `sdlba` expect what the
    /// `(slba, nlb)` source ranges held, in order and concatenated, as the
    /// map knew them before the copy (so source ranges the destination
    /// overlaps are taken as they were, which is what the simulator does;
    /// NVM Command Set 1.0 leaves overlapping Copy ranges to the
    /// controller). Zeroes, uncorrectable blocks and CRCs carry over; a
    /// stamped block keeps its CRC but, away from its own LBA, is no longer
    /// expected to carry a stamp naming the destination; a block the map
    /// knew nothing about becomes [`Expectation::Relocated`].
    pub fn record_copy(&self, sdlba: u64, ranges: &[(u64, u64)]) {
        let mut states = Vec::new();
        for &(slba, nlb) in ranges {
            for lba in slba..slba.saturating_add(nlb) {
                states.push((lba, self.get(lba)));
            }
        }
        for (i, (source, value)) in states.into_iter().enumerate() {
            let lba = sdlba.saturating_add(i as u64);
            let moved = lba != source;
            let value = match value & TAG_MASK {
                CRC_STAMPED if moved => CRC_RAW | (value & 0xFFFF_FFFF),
                UNKNOWN if moved => RELOCATED,
                _ => value,
            };
            self.set(lba, value);
        }
    }

    /// Marks `nlb` blocks from `slba` as [`Expectation::Relocated`]: they may
    /// hold data copied from anywhere (a Copy that failed part way).
    pub fn mark_relocated(&self, slba: u64, nlb: u64) {
        self.set_range(slba, nlb, RELOCATED);
    }

    /// Forgets everything: every LBA unknown, all memory freed.
    pub fn clear_all(&self) {
        let mut map = self.chunks.write();
        map.clear();
        self.default.store(UNKNOWN, Ordering::Relaxed);
    }

    /// Expects zeroes everywhere (after format or sanitize), freeing memory.
    pub fn mark_all_zeroes(&self) {
        let mut map = self.chunks.write();
        map.clear();
        self.default.store(ZEROES, Ordering::Relaxed);
    }

    /// What a read of `lba` should return.
    pub fn expect(&self, lba: u64) -> Expectation {
        Expectation::decode(self.get(lba))
    }

    /// Checks one block read from `lba`. A block the map knows nothing
    /// about passes unless its stamp names another LBA.
    pub fn check_block(&self, lba: u64, block: &[u8]) -> Result<(), Mismatch> {
        Self::check_expected(lba, block, self.expect(lba)).map(|_| ())
    }

    /// Checks `block` read from `lba` against `expected`: `Ok(true)` when it
    /// was checked and held what was expected, `Ok(false)` when nothing was
    /// known to check it against.
    #[inline]
    fn check_expected(lba: u64, block: &[u8], expected: Expectation) -> Result<bool, Mismatch> {
        let mismatch = |kind, expected, found| Err(Mismatch { lba, kind, expected, found });
        match expected {
            Expectation::Unknown => match stamp_of(block) {
                Some(stamp) if stamp.lba != lba => mismatch(MismatchKind::Stamp, lba, stamp.lba),
                _ => Ok(false),
            },
            Expectation::Relocated => Ok(false),
            Expectation::Zeroes => match all_zero(block) {
                None => Ok(true),
                Some(offset) => mismatch(MismatchKind::UnexpectedData, 0, offset as u64),
            },
            Expectation::Uncorrectable => mismatch(MismatchKind::ReadSucceeded, 0, 0),
            Expectation::Crc { crc, stamped } => {
                // Data from another LBA is reported as such when it carries
                // that LBA's stamp; anything else (zeroes, other data) is a
                // CRC mismatch.
                if stamped
                    && block.len() >= 8
                    && word(block, 0) != lba
                    && let Some(stamp) = stamp_of(block)
                {
                    return mismatch(MismatchKind::Stamp, lba, stamp.lba);
                }
                let found = crc32fast::hash(block);
                if found != crc {
                    mismatch(MismatchKind::Crc, u64::from(crc), u64::from(found))
                } else {
                    Ok(true)
                }
            }
        }
    }

    /// Checks consecutive blocks of `lba_size` bytes read from `slba`,
    /// appending mismatches to `out`; returns how many blocks were checked,
    /// unchecked and mismatched. The chunk table's read lock is taken once
    /// per chunk the range touches, not once per block.
    pub fn check_blocks(
        &self,
        slba: u64,
        data: &[u8],
        lba_size: usize,
        out: &mut Vec<Mismatch>,
    ) -> CheckCounts {
        let mut counts = CheckCounts::default();
        let mut blocks = data.chunks_exact(lba_size).enumerate().peekable();
        while let Some(&(i, _)) = blocks.peek() {
            let (idx, _) = Self::split(slba + i as u64);
            let map = self.chunks.read();
            let chunk = map.get(&idx);
            let default = self.default.load(Ordering::Relaxed);
            while let Some(&(i, block)) = blocks.peek() {
                let lba = slba + i as u64;
                let (bidx, off) = Self::split(lba);
                if bidx != idx {
                    break;
                }
                let value = chunk.map_or(default, |c| c[off].load(Ordering::Relaxed));
                match Self::check_expected(lba, block, Expectation::decode(value)) {
                    Ok(true) => counts.checked += 1,
                    Ok(false) => counts.unchecked += 1,
                    Err(m) => {
                        counts.checked += 1;
                        counts.mismatched += 1;
                        out.push(m);
                    }
                }
                blocks.next();
            }
        }
        counts
    }

    /// Whether every one of `nlb` blocks from `slba` is expected to be uncorrectable.
    pub fn all_uncorrectable(&self, slba: u64, nlb: u64) -> bool {
        (slba..slba.saturating_add(nlb)).all(|l| self.expect(l) == Expectation::Uncorrectable)
    }

    /// Whether any of `nlb` blocks from `slba` is expected to be uncorrectable.
    pub fn any_uncorrectable(&self, slba: u64, nlb: u64) -> bool {
        (slba..slba.saturating_add(nlb)).any(|l| self.expect(l) == Expectation::Uncorrectable)
    }

    /// LBAs with a known state in allocated chunks (LBAs covered only by the
    /// default are not counted).
    pub fn tracked_lbas(&self) -> u64 {
        let map = self.chunks.read();
        map.values().map(|c| c.iter().filter(|v| v.load(Ordering::Relaxed) != UNKNOWN).count() as u64).sum()
    }

    /// Bytes of per-LBA state currently allocated.
    pub fn resident_bytes(&self) -> usize {
        self.chunks.read().len() * CHUNK_LBAS as usize * std::mem::size_of::<AtomicU64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn block(lba: u64, token: u64) -> Vec<u8> {
        let mut b = vec![0xA5u8; 512];
        stamp_block(&mut b, lba, token);
        b
    }

    #[test]
    fn states_and_checks() {
        let map = VerifyMap::new();
        assert_eq!(map.expect(5), Expectation::Unknown);
        assert!(map.check_block(5, &[1u8; 512]).is_ok());
        let b = block(5, 1);
        map.record_write(5, &b);
        assert!(matches!(map.expect(5), Expectation::Crc { stamped: true, .. }));
        assert!(map.check_block(5, &b).is_ok());
        let mut other = b.clone();
        other[100] ^= 1;
        assert_eq!(map.check_block(5, &other).unwrap_err().kind, MismatchKind::Crc);
        let wrong = block(6, 1);
        let m = map.check_block(5, &wrong).unwrap_err();
        assert_eq!((m.kind, m.expected, m.found), (MismatchKind::Stamp, 5, 6));
        assert!(m.to_string().contains("stamp holds lba 6"));
        // Zeroes where a stamped block belongs are a CRC mismatch, not the
        // stamp of LBA 0.
        assert_eq!(map.check_block(5, &[0u8; 512]).unwrap_err().kind, MismatchKind::Crc);
        // Unstamped data is CRC-checked only.
        map.record_write(7, &[3u8; 512]);
        assert_eq!(map.expect(7), Expectation::Crc { crc: crc32fast::hash(&[3u8; 512]), stamped: false });
        map.mark_zeroes(0, 10);
        assert!(map.check_block(5, &[0u8; 512]).is_ok());
        let mut z = [0u8; 512];
        z[300] = 1;
        let m = map.check_block(5, &z).unwrap_err();
        assert_eq!((m.kind, m.found), (MismatchKind::UnexpectedData, 300));
        map.mark_uncorrectable(2, 2);
        assert_eq!(map.check_block(3, &[0u8; 512]).unwrap_err().kind, MismatchKind::ReadSucceeded);
        assert!(map.all_uncorrectable(2, 2) && !map.all_uncorrectable(2, 3) && map.any_uncorrectable(0, 3));
        map.mark_unknown(0, 10);
        assert_eq!(map.expect(3), Expectation::Unknown);
        assert_eq!(map.tracked_lbas(), 0);
    }

    #[test]
    fn sparse_memory() {
        let map = VerifyMap::new();
        // A 16 TiB namespace of 512-byte blocks: write at both ends.
        let last = (16u64 << 40) / 512 - 1;
        map.record_write(0, &block(0, 1));
        map.record_write(last, &block(last, 2));
        assert_eq!(map.resident_bytes(), 2 * CHUNK_LBAS as usize * 8);
        assert_eq!(map.tracked_lbas(), 2);
        // Marking a huge range unknown frees whole chunks without allocating.
        map.mark_unknown(0, last + 1);
        assert_eq!(map.resident_bytes(), 0);
        map.mark_all_zeroes();
        assert_eq!(map.expect(last), Expectation::Zeroes);
        assert_eq!(map.resident_bytes(), 0);
        map.record_write(10, &block(10, 3));
        assert_eq!(map.expect(11), Expectation::Zeroes);
        assert_eq!(map.resident_bytes(), CHUNK_LBAS as usize * 8);
        map.clear_all();
        assert_eq!(map.expect(11), Expectation::Unknown);
        assert_eq!(map.resident_bytes(), 0);
    }

    #[test]
    fn shared_between_threads() {
        let map = Arc::new(VerifyMap::new());
        let threads: Vec<_> = (0..4u64)
            .map(|t| {
                let map = map.clone();
                std::thread::spawn(move || {
                    let base = t * 100_000;
                    for lba in base..base + 10_000 {
                        map.record_write(lba, &block(lba, next_write_token()));
                    }
                    for lba in base..base + 10_000 {
                        assert!(matches!(map.expect(lba), Expectation::Crc { stamped: true, .. }));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(map.tracked_lbas(), 40_000);
        let mut out = Vec::new();
        let data: Vec<u8> = (0..4).flat_map(|i| block(i, 9)).collect();
        map.record_writes(0, &data, 512);
        assert_eq!(map.check_blocks(0, &data, 512, &mut out).mismatched, 0);
        assert_eq!(map.check_blocks(1, &data, 512, &mut out).mismatched, 4);
    }

    #[test]
    fn stamps_identify_themselves() {
        let b = block(77, 12345);
        assert_eq!(stamp_of(&b), Some(Stamp { lba: 77, token: 12345 }));
        // Zeroed, patterned and random blocks do not look stamped.
        assert_eq!(stamp_of(&[0u8; 512]), None);
        assert_eq!(stamp_of(&[0xFFu8; 512]), None);
        let mut random = vec![0u8; 512];
        let mut x = 0x1234_5678_9ABC_DEF0u64;
        for _ in 0..1000 {
            for b in random.iter_mut() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = x as u8;
            }
            assert_eq!(stamp_of(&random), None);
        }
        // An LBA and token without their check word, or any changed stamp
        // byte, is not a stamp.
        let mut bare = vec![0u8; 512];
        bare[..8].copy_from_slice(&77u64.to_le_bytes());
        bare[8..16].copy_from_slice(&12345u64.to_le_bytes());
        assert_eq!(stamp_of(&bare), None);
        for i in 0..STAMP_BYTES {
            let mut flipped = b.clone();
            flipped[i] ^= 0x10;
            assert_eq!(stamp_of(&flipped), None, "byte {i} flipped");
        }
        // A short block gets a partial stamp and is not recognised.
        let mut short = [0u8; 20];
        stamp_block(&mut short, 1, 1);
        assert_eq!(stamp_of(&short), None);
    }

    #[test]
    fn a_stamp_of_another_lba_is_a_mismatch_without_state() {
        let map = VerifyMap::new();
        let m = map.check_block(5, &block(9, 3)).unwrap_err();
        assert_eq!((m.kind, m.expected, m.found), (MismatchKind::Stamp, 5, 9));
        // Its own stamp, zeroes or random data cannot be checked: unchecked.
        assert!(map.check_block(5, &block(5, 3)).is_ok());
        let data: Vec<u8> = [block(0, 1), block(7, 1), vec![0u8; 512], vec![0x5Au8; 512]].concat();
        let mut out = Vec::new();
        let counts = map.check_blocks(0, &data, 512, &mut out);
        assert_eq!(counts, CheckCounts { checked: 1, unchecked: 3, mismatched: 1 });
        assert_eq!((out[0].lba, out[0].found), (1, 7));
    }

    #[test]
    fn counts_checked_and_unchecked_blocks() {
        let map = VerifyMap::new();
        let data: Vec<u8> = (0..8).flat_map(|i| block(i, 4)).collect();
        let mut out = Vec::new();
        assert_eq!(
            map.check_blocks(0, &data, 512, &mut out),
            CheckCounts { unchecked: 8, ..Default::default() }
        );
        map.record_writes(0, &data[..4 * 512], 512);
        let counts = map.check_blocks(0, &data, 512, &mut out);
        assert_eq!(counts, CheckCounts { checked: 4, unchecked: 4, mismatched: 0 });
        let mut bad = data.clone();
        bad[2 * 512 + 100] ^= 1;
        let counts = map.check_blocks(0, &bad, 512, &mut out);
        assert_eq!(counts, CheckCounts { checked: 4, unchecked: 4, mismatched: 1 });
        map.mark_zeroes(4, 4);
        let mut zeroed = data.clone();
        zeroed[4 * 512..].fill(0);
        let mut total = CheckCounts::default();
        total.add(map.check_blocks(0, &zeroed, 512, &mut out));
        total.add(map.check_blocks(0, &zeroed, 512, &mut out));
        assert_eq!(total, CheckCounts { checked: 16, unchecked: 0, mismatched: 0 });
    }

    #[test]
    fn a_copy_moves_expectations_to_the_destination() {
        let map = VerifyMap::new();
        // Source 0..4 stamped, 4..6 raw data, 6 zeroes, 7 uncorrectable,
        // 8 unknown.
        let stamped: Vec<u8> = (0..4).flat_map(|i| block(i, 5)).collect();
        map.record_writes(0, &stamped, 512);
        map.record_write(4, &[7u8; 512]);
        map.record_write(5, &[8u8; 512]);
        map.mark_zeroes(6, 1);
        map.mark_uncorrectable(7, 1);
        map.record_copy(1000, &[(4, 5), (0, 4)]);
        assert_eq!(map.expect(1000), map.expect(4));
        assert_eq!(map.expect(1002), Expectation::Zeroes);
        assert_eq!(map.expect(1003), Expectation::Uncorrectable);
        assert_eq!(map.expect(1004), Expectation::Relocated);
        // The copied stamped blocks read back as they are, source stamps and all.
        let mut out = Vec::new();
        let counts = map.check_blocks(1005, &stamped, 512, &mut out);
        assert_eq!(counts, CheckCounts { checked: 4, unchecked: 0, mismatched: 0 }, "{out:?}");
        let data: Vec<u8> = [vec![7u8; 512], vec![8u8; 512], vec![0u8; 512]].concat();
        assert_eq!(map.check_blocks(1000, &data, 512, &mut out).checked, 3);
        // Other data in a copied block is still caught, and a relocated block
        // with some other LBA's stamp is unchecked, not a mismatch.
        assert_eq!(map.check_block(1005, &block(3, 5)).unwrap_err().kind, MismatchKind::Crc);
        let counts = map.check_blocks(1004, &block(0, 5), 512, &mut out);
        assert_eq!(counts, CheckCounts { checked: 0, unchecked: 1, mismatched: 0 });
        // The sources keep their own expectations.
        assert_eq!(map.check_blocks(0, &stamped, 512, &mut out).checked, 4);
    }

    #[test]
    fn an_overlapping_copy_takes_the_sources_as_they_were() {
        let map = VerifyMap::new();
        let data: Vec<u8> = (0..8).flat_map(|i| block(i, 2)).collect();
        map.record_writes(0, &data, 512);
        let before: Vec<Expectation> = (0..8).map(|l| map.expect(l)).collect();
        // Destination 2..10 overlaps both sources.
        map.record_copy(2, &[(0, 4), (4, 4)]);
        let crc = |e: Expectation| match e {
            Expectation::Crc { crc, .. } => crc,
            other => panic!("{other:?}"),
        };
        for i in 0..8u64 {
            assert_eq!(crc(map.expect(2 + i)), crc(before[i as usize]), "lba {}", 2 + i);
        }
        assert_eq!(&(0..2).map(|l| map.expect(l)).collect::<Vec<_>>()[..], &before[..2]);
        // What the simulator leaves there (the sources as they were) verifies.
        let mut out = Vec::new();
        assert_eq!(map.check_blocks(2, &data, 512, &mut out).mismatched, 0, "{out:?}");
        // A copy onto itself keeps stamps and unknowns as they are.
        let map = VerifyMap::new();
        map.record_write(3, &block(3, 1));
        map.record_copy(3, &[(3, 2)]);
        assert!(matches!(map.expect(3), Expectation::Crc { stamped: true, .. }));
        assert_eq!(map.expect(4), Expectation::Unknown);
        map.mark_relocated(3, 2);
        assert_eq!(map.expect(3), Expectation::Relocated);
        let back = VerifyMap::from_bytes(&map.to_bytes()).unwrap();
        assert_eq!(back.expect(4), Expectation::Relocated);
    }

    #[test]
    fn serialization_round_trips() {
        let map = VerifyMap::new();
        let empty = VerifyMap::from_bytes(&map.to_bytes()).unwrap();
        assert_eq!((empty.expect(0), empty.resident_bytes()), (Expectation::Unknown, 0));
        let last = (1u64 << 40) / 512 - 1;
        for lba in (0..100).chain([CHUNK_LBAS + 1, last]) {
            map.record_write(lba, &block(lba, 7));
        }
        map.record_write(200, &[3u8; 512]);
        map.mark_zeroes(300, 50);
        map.mark_uncorrectable(400, 2);
        map.mark_all_zeroes();
        map.record_write(10, &block(10, 8));
        map.mark_unknown(20, 5);
        map.mark_uncorrectable(30, 1);
        let bytes = map.to_bytes();
        // Sparse: a few dozen bytes per tracked block at most.
        assert!(bytes.len() < 200, "{} bytes", bytes.len());
        let back = VerifyMap::from_bytes(&bytes).unwrap();
        for lba in (0..CHUNK_LBAS * 2).chain([last - 1, last]) {
            assert_eq!(back.expect(lba), map.expect(lba), "lba {lba}");
        }
        assert_eq!(back.tracked_lbas(), map.tracked_lbas());

        let map = VerifyMap::new();
        let data: Vec<u8> = (0..64).flat_map(|i| block(i, 9)).collect();
        map.record_writes(0, &data, 512);
        map.mark_uncorrectable(100, 3);
        let bytes = map.to_bytes();
        let back = VerifyMap::from_bytes(&bytes).unwrap();
        let mut out = Vec::new();
        assert_eq!(back.check_blocks(0, &data, 512, &mut out).checked, 64);
        assert_eq!(back.expect(101), Expectation::Uncorrectable);
        assert_eq!(back.expect(64), Expectation::Unknown);

        // Damage is detected, never decoded into a wrong map.
        assert_eq!(
            VerifyMap::from_bytes(&bytes[..bytes.len() - 1]).unwrap_err(),
            MapFormatError::BadChecksum
        );
        assert_eq!(VerifyMap::from_bytes(b"NVPV").unwrap_err(), MapFormatError::Truncated);
        assert_eq!(VerifyMap::from_bytes(b"{\"json\": true}").unwrap_err(), MapFormatError::BadMagic);
        let mut flipped = bytes.clone();
        flipped[30] ^= 4;
        assert_eq!(VerifyMap::from_bytes(&flipped).unwrap_err(), MapFormatError::BadChecksum);
        // A well-formed file with an impossible state is refused.
        let mut forged = bytes[..bytes.len() - 4].to_vec();
        forged[8..16].copy_from_slice(&(9u64 << 32).to_le_bytes());
        let crc = crc32fast::hash(&forged);
        forged.extend_from_slice(&crc.to_le_bytes());
        assert!(matches!(VerifyMap::from_bytes(&forged), Err(MapFormatError::Invalid(_))));
    }
}
