//! The serialized form of a [`VerifyMap`], so that a later process can check
//! what an earlier one wrote ([`VerifyMap::to_bytes`], [`VerifyMap::from_bytes`]).
//!
//! Little endian throughout:
//!
//! ```text
//! magic        8 bytes  "NVPVMAP" and format version 1
//! default      u64      the state of LBAs in absent chunks
//! chunks       u32      number of chunk records, in ascending index order
//!   index      u64      chunk index (LBA / CHUNK_LBAS)
//!   runs       u32      number of runs
//!     offset   u16      first LBA of the run within the chunk
//!     length   u16      LBAs in the run (1 to CHUNK_LBAS - offset)
//!     state    u64      their state
//! crc32        u32      of every byte before it
//! ```
//!
//! Only state that differs from the default is written: a run covers
//! consecutive LBAs with the same state (zeroes, uncorrectable, relocated, unknown),
//! and a CRC-tracked block is a run of one. Decoding validates every field,
//! so a truncated or damaged file is an error, never a wrong map.

use super::{CHUNK_LBAS, Expectation, VerifyMap};
use std::sync::atomic::{AtomicU64, Ordering};

const MAGIC: &[u8; 8] = b"NVPVMAP\x01";

/// Why serialized verify state could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MapFormatError {
    /// The data ends before the structure does.
    #[error("verify state is truncated")]
    Truncated,
    /// The data does not start with the format's magic and version.
    #[error("not verify state of this format (bad magic or version)")]
    BadMagic,
    /// The trailing CRC32 does not match the contents.
    #[error("verify state is damaged (checksum mismatch)")]
    BadChecksum,
    /// A field holds a value the format does not allow.
    #[error("verify state is invalid: {0}")]
    Invalid(String),
}

/// Whether `v` is the encoding of some [`Expectation`].
fn valid_state(v: u64) -> bool {
    Expectation::decode(v).encode() == v
}

struct Reader<'a> {
    data: &'a [u8],
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], MapFormatError> {
        if self.data.len() < N {
            return Err(MapFormatError::Truncated);
        }
        let (head, rest) = self.data.split_at(N);
        self.data = rest;
        Ok(head.try_into().expect("N bytes"))
    }
    fn u16(&mut self) -> Result<u16, MapFormatError> {
        self.take::<2>().map(u16::from_le_bytes)
    }
    fn u32(&mut self) -> Result<u32, MapFormatError> {
        self.take::<4>().map(u32::from_le_bytes)
    }
    fn u64(&mut self) -> Result<u64, MapFormatError> {
        self.take::<8>().map(u64::from_le_bytes)
    }
}

impl VerifyMap {
    /// The map in its serialized form (see the module docs).
    pub fn to_bytes(&self) -> Vec<u8> {
        let map = self.chunks.read();
        let default = self.default.load(Ordering::Relaxed);
        let mut indices: Vec<u64> = map.keys().copied().collect();
        indices.sort_unstable();
        let mut out = Vec::with_capacity(24 + map.len() * 64);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&default.to_le_bytes());
        let count_at = out.len();
        out.extend_from_slice(&0u32.to_le_bytes());
        let mut chunks = 0u32;
        for idx in indices {
            let chunk = &map[&idx];
            let mut runs: Vec<(u16, u16, u64)> = Vec::new();
            let mut off = 0usize;
            while off < chunk.len() {
                let v = chunk[off].load(Ordering::Relaxed);
                let start = off;
                while off < chunk.len() && chunk[off].load(Ordering::Relaxed) == v {
                    off += 1;
                }
                if v != default {
                    runs.push((start as u16, (off - start) as u16, v));
                }
            }
            if runs.is_empty() {
                continue;
            }
            chunks += 1;
            out.extend_from_slice(&idx.to_le_bytes());
            out.extend_from_slice(&(runs.len() as u32).to_le_bytes());
            for (offset, len, v) in runs {
                out.extend_from_slice(&offset.to_le_bytes());
                out.extend_from_slice(&len.to_le_bytes());
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        out[count_at..count_at + 4].copy_from_slice(&chunks.to_le_bytes());
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// Decodes a map serialized by [`VerifyMap::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<VerifyMap, MapFormatError> {
        if bytes.len() < MAGIC.len() + 4 {
            return Err(if bytes.starts_with(&MAGIC[..bytes.len().min(8)]) {
                MapFormatError::Truncated
            } else {
                MapFormatError::BadMagic
            });
        }
        if &bytes[..8] != MAGIC {
            return Err(MapFormatError::BadMagic);
        }
        let (body, crc) = bytes.split_at(bytes.len() - 4);
        if crc32fast::hash(body) != u32::from_le_bytes(crc.try_into().expect("4 bytes")) {
            return Err(MapFormatError::BadChecksum);
        }
        let mut r = Reader { data: &body[8..] };
        let default = r.u64()?;
        if !valid_state(default) {
            return Err(MapFormatError::Invalid(format!("default state {default:#x}")));
        }
        let map = VerifyMap::new();
        map.default.store(default, Ordering::Relaxed);
        let count = r.u32()?;
        let mut table = map.chunks.write();
        let mut last: Option<u64> = None;
        for _ in 0..count {
            let idx = r.u64()?;
            if last.is_some_and(|l| idx <= l) || idx > u64::MAX / CHUNK_LBAS {
                return Err(MapFormatError::Invalid(format!("chunk index {idx} out of order or range")));
            }
            last = Some(idx);
            let chunk: Box<[AtomicU64]> = (0..CHUNK_LBAS).map(|_| AtomicU64::new(default)).collect();
            let runs = r.u32()?;
            for _ in 0..runs {
                let (offset, len, v) = (u64::from(r.u16()?), u64::from(r.u16()?), r.u64()?);
                if len == 0 || offset + len > CHUNK_LBAS || !valid_state(v) {
                    return Err(MapFormatError::Invalid(format!(
                        "run of {len} LBAs at {offset} in chunk {idx} with state {v:#x}"
                    )));
                }
                for e in &chunk[offset as usize..(offset + len) as usize] {
                    e.store(v, Ordering::Relaxed);
                }
            }
            table.insert(idx, chunk);
        }
        if !r.data.is_empty() {
            return Err(MapFormatError::Invalid(format!("{} bytes after the last chunk", r.data.len())));
        }
        drop(table);
        Ok(map)
    }
}
