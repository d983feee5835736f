//! End-to-end data verification: [`VerifyMap`] (what each LBA should hold)
//! and [`stamp_block`].
//!
//! Writes stamp each block with its LBA (bytes 0..8, little endian) and a
//! write token unique per write (bytes 8..16); when the write succeeds the
//! block's CRC32 is recorded. Reads check the stamp and the CRC.
//!
//! The map is sparse: LBAs are grouped in chunks of [`CHUNK_LBAS`], and a
//! chunk's memory (8 bytes per LBA) is allocated on the first change to it,
//! so memory follows what was written, never the namespace's capacity.
//! LBAs in absent chunks have the map's default state (unknown, or zeroes
//! after a format/sanitize). Per-LBA states are atomics, so threads on
//! their own queues share one map (`Arc<VerifyMap>`) without locking each
//! other out beyond a brief read lock on the chunk table.

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

static NEXT_TOKEN: AtomicU64 = AtomicU64::new(1);

/// A write token unique within this process.
pub fn next_write_token() -> u64 {
    NEXT_TOKEN.fetch_add(1, Ordering::Relaxed)
}

/// Stamps `block` with `lba` (bytes 0..8) and `token` (bytes 8..16); blocks
/// shorter than 16 bytes get as much as fits.
pub fn stamp_block(block: &mut [u8], lba: u64, token: u64) {
    let mut stamp = [0u8; 16];
    stamp[..8].copy_from_slice(&lba.to_le_bytes());
    stamp[8..].copy_from_slice(&token.to_le_bytes());
    let n = block.len().min(16);
    block[..n].copy_from_slice(&stamp[..n]);
}

/// What a read of an LBA is expected to return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expectation {
    /// Never written through this map (or deallocated): not checked.
    Unknown,
    /// The data written last, by CRC32; `stamped` when it carries the LBA stamp.
    Crc {
        /// CRC32 of the block.
        crc: u32,
        /// Whether bytes 0..8 hold the LBA.
        stamped: bool,
    },
    /// All zeroes (write zeroes, format, sanitize, deallocate with DLFEAT
    /// read-zeroes).
    Zeroes,
    /// Write Uncorrectable: reads must fail with `unrecovered-read-error`.
    Uncorrectable,
}

impl Expectation {
    fn encode(self) -> u64 {
        match self {
            Expectation::Unknown => UNKNOWN,
            Expectation::Crc { crc, stamped: true } => CRC_STAMPED | u64::from(crc),
            Expectation::Crc { crc, stamped: false } => CRC_RAW | u64::from(crc),
            Expectation::Zeroes => ZEROES,
            Expectation::Uncorrectable => UNCORRECTABLE,
        }
    }

    fn decode(v: u64) -> Self {
        match v & TAG_MASK {
            CRC_STAMPED => Expectation::Crc { crc: v as u32, stamped: true },
            CRC_RAW => Expectation::Crc { crc: v as u32, stamped: false },
            ZEROES => Expectation::Zeroes,
            UNCORRECTABLE => Expectation::Uncorrectable,
            _ => Expectation::Unknown,
        }
    }
}

/// What kind of mismatch a check found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MismatchKind {
    /// Bytes 0..8 do not hold the block's LBA (data from another LBA).
    /// `expected` is the LBA, `found` the stamped value.
    Stamp,
    /// The CRC32 differs from the one recorded at the write. `expected` and
    /// `found` are CRCs.
    Crc,
    /// Zeroes were expected but the block holds data. `expected` is 0,
    /// `found` the offset of the first non-zero byte.
    UnexpectedData,
    /// The LBA was made uncorrectable, yet the read succeeded. `expected`
    /// and `found` are 0.
    ReadSucceeded,
}

/// A block that did not hold what the map expected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// The LBA.
    pub lba: u64,
    /// What differed.
    pub kind: MismatchKind,
    /// Expected value (see [`MismatchKind`]).
    pub expected: u64,
    /// Found value (see [`MismatchKind`]).
    pub found: u64,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            MismatchKind::Stamp => {
                write!(f, "lba {}: stamp holds lba {} ({:#x})", self.lba, self.found, self.found)
            }
            MismatchKind::Crc => {
                write!(f, "lba {}: crc {:#010x}, expected {:#010x}", self.lba, self.found, self.expected)
            }
            MismatchKind::UnexpectedData => {
                write!(f, "lba {}: expected zeroes, non-zero byte at offset {}", self.lba, self.found)
            }
            MismatchKind::ReadSucceeded => {
                write!(f, "lba {}: expected unrecovered-read-error, but the read succeeded", self.lba)
            }
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

    /// Records a successful write of `block` at `lba` (its CRC32; whether it
    /// carries the LBA stamp is detected from bytes 0..8).
    pub fn record_write(&self, lba: u64, block: &[u8]) {
        let stamped = block.len() >= 16 && block[..8] == lba.to_le_bytes();
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
                let stamped = block.len() >= 16 && block[..8] == lba.to_le_bytes();
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
    /// `unrecovered-read-error`.
    pub fn mark_uncorrectable(&self, slba: u64, nlb: u64) {
        self.set_range(slba, nlb, UNCORRECTABLE);
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

    /// Checks one block read from `lba`.
    pub fn check_block(&self, lba: u64, block: &[u8]) -> Result<(), Mismatch> {
        Self::check_expected(lba, block, self.expect(lba))
    }

    fn check_expected(lba: u64, block: &[u8], expected: Expectation) -> Result<(), Mismatch> {
        let mismatch = |kind, expected, found| Err(Mismatch { lba, kind, expected, found });
        match expected {
            Expectation::Unknown => Ok(()),
            Expectation::Zeroes => match all_zero(block) {
                None => Ok(()),
                Some(offset) => mismatch(MismatchKind::UnexpectedData, 0, offset as u64),
            },
            Expectation::Uncorrectable => mismatch(MismatchKind::ReadSucceeded, 0, 0),
            Expectation::Crc { crc, stamped } => {
                if stamped && block.len() >= 8 {
                    let found = u64::from_le_bytes(block[..8].try_into().expect("8 bytes"));
                    if found != lba {
                        return mismatch(MismatchKind::Stamp, lba, found);
                    }
                }
                let found = crc32fast::hash(block);
                if found != crc {
                    mismatch(MismatchKind::Crc, u64::from(crc), u64::from(found))
                } else {
                    Ok(())
                }
            }
        }
    }

    /// Checks consecutive blocks of `lba_size` bytes read from `slba`,
    /// appending mismatches to `out`; returns how many were found.
    /// The chunk table's read lock is taken once per chunk the range
    /// touches, not once per block.
    pub fn check_blocks(&self, slba: u64, data: &[u8], lba_size: usize, out: &mut Vec<Mismatch>) -> usize {
        let before = out.len();
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
                if let Err(m) = Self::check_expected(lba, block, Expectation::decode(value)) {
                    out.push(m);
                }
                blocks.next();
            }
        }
        out.len() - before
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
        assert_eq!(map.check_blocks(0, &data, 512, &mut out), 0);
        assert_eq!(map.check_blocks(1, &data, 512, &mut out), 4);
    }
}
