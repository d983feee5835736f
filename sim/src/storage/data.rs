//! The data path of a [`NamespaceStore`]: Read, Write (to the media or the
//! volatile write cache), Write Zeroes and Deallocate.
//!
//! Memory media and the write cache are chunk maps under the shard locks;
//! file media goes through the `file` module. Reads of blocks that still
//! hold an overwrite fill are painted with its pattern, and every write
//! that reaches the media takes its blocks out of the fill.

use super::file::zero_file_range;
use super::geometry::Geometry;
use super::{
    Chunk, DataMode, MediaError, NamespaceStore, SCAN_THRESHOLD, Shard, StorageError, all_zero, io_error,
};
use std::os::unix::fs::FileExt;
use std::sync::atomic::Ordering;

impl NamespaceStore {
    /// Reads `out.len()` bytes (whole blocks) starting at block `slba`.
    ///
    /// Blocks never written, deallocated or zeroed read as zeros; blocks
    /// still holding an overwrite fill read as its pattern. A marked
    /// block fails the read with the first such LBA, as does a range beyond
    /// the namespace end or a failed read of the backing file. In
    /// [`DataMode::Null`] `out` is left untouched.
    pub fn read(&self, slba: u64, out: &mut [u8]) -> Result<(), MediaError> {
        let g = self.geometry.read();
        let nlb = (out.len() as u64).div_ceil(u64::from(g.lba_size));
        if Self::check_range(&g, slba, nlb).is_err() {
            return Err(MediaError::Uncorrectable { lba: slba.max(g.nlb) });
        }
        if let Some(lba) = self.first_uncorrectable(slba, nlb) {
            return Err(MediaError::Uncorrectable { lba });
        }
        if self.mode == DataMode::Null {
            return Ok(());
        }
        match &self.file {
            None => {
                g.pieces(slba, out.len(), |chunk, at, pos, n| {
                    let shard = self.shard(chunk).read();
                    let dst = &mut out[pos..pos + n];
                    if let Some(data) = shard.cache.get(&chunk) {
                        if data.is_empty() {
                            dst.fill(0);
                        } else {
                            dst.copy_from_slice(&data[at..at + n]);
                        }
                        return;
                    }
                    match shard.media.get(&chunk) {
                        Some(data) => dst.copy_from_slice(&data[at..at + n]),
                        None => dst.fill(0),
                    }
                    // Under the shard lock: a flush cannot slip in between.
                    self.paint_fill(&g, slba + (pos / g.lba_size as usize) as u64, dst);
                });
                Ok(())
            }
            Some(backing) => self.read_file(&g, backing, slba, out),
        }
    }

    /// Writes whole blocks starting at `slba`, reporting failures.
    ///
    /// Clears the uncorrectable marks of the written blocks. With the
    /// volatile write cache enabled and `fua` false the data goes to the
    /// cache; otherwise it goes to the media (and updates any cached copy)
    /// and the blocks leave the overwrite fill. A FUA write to a file store
    /// syncs the image (`fdatasync`) before it returns.
    /// Fails for a range beyond the namespace end or a failed file write.
    pub fn try_write(&self, slba: u64, data: &[u8], fua: bool) -> Result<(), StorageError> {
        let g = self.geometry.read();
        let nlb = (data.len() as u64).div_ceil(u64::from(g.lba_size));
        Self::check_range(&g, slba, nlb)?;
        self.clear_marks(&g, slba, nlb);
        if self.mode == DataMode::Null {
            return Ok(());
        }
        let to_cache = !fua && self.cache_enabled.load(Ordering::Acquire);
        let mut result = Ok(());
        g.pieces(slba, data.len(), |chunk, at, pos, n| {
            if result.is_err() {
                return;
            }
            let src = &data[pos..pos + n];
            let mut shard = self.shard(chunk).write();
            if to_cache {
                result = self.write_cached(&g, &mut shard, chunk, at, src);
            } else {
                if let Some(cached) = shard.cache.get_mut(&chunk) {
                    if cached.is_empty() {
                        *cached = vec![0u8; g.chunk_bytes].into_boxed_slice();
                        self.resident.fetch_add(g.chunk_bytes as u64, Ordering::Relaxed);
                    }
                    cached[at..at + n].copy_from_slice(src);
                }
                result = self.write_media(&g, &mut shard, chunk, at, src);
            }
        });
        if !to_cache {
            // After the data is on the media: a concurrent read sees the
            // old pattern or the new data, never zeros.
            self.unfill(&g, slba, slba + nlb, true);
        }
        if fua
            && result.is_ok()
            && let Some(backing) = &self.file
        {
            result = backing.sync();
        }
        result
    }

    /// Writes whole blocks starting at `slba` (see [`NamespaceStore::try_write`]).
    ///
    /// A failed write of the backing file is logged and the blocks are
    /// marked uncorrectable, as a device does after a write fault.
    pub fn write(&self, slba: u64, data: &[u8], fua: bool) {
        if let Err(e) = self.try_write(slba, data, fua) {
            tracing::error!("{e}");
            if !matches!(e, StorageError::OutOfRange { .. }) {
                let lba_size = u64::from(self.lba_size());
                self.mark_uncorrectable(slba, (data.len() as u64).div_ceil(lba_size));
            }
        }
    }

    /// Stores `src` at byte `at` of `chunk` in the write cache.
    fn write_cached(
        &self,
        g: &Geometry,
        shard: &mut Shard,
        chunk: u64,
        at: usize,
        src: &[u8],
    ) -> Result<(), StorageError> {
        if let Some(cached) = shard.cache.get_mut(&chunk) {
            if cached.is_empty() {
                if all_zero(src) {
                    return Ok(());
                }
                *cached = vec![0u8; g.chunk_bytes].into_boxed_slice();
                self.resident.fetch_add(g.chunk_bytes as u64, Ordering::Relaxed);
            }
            cached[at..at + src.len()].copy_from_slice(src);
            return Ok(());
        }
        let chunk_data: Chunk = if src.len() == g.chunk_bytes {
            if all_zero(src) { Box::default() } else { src.into() }
        } else {
            let mut base = vec![0u8; g.chunk_bytes].into_boxed_slice();
            match &self.file {
                None => {
                    if let Some(media) = shard.media.get(&chunk) {
                        base.copy_from_slice(media);
                    }
                }
                Some(backing) => {
                    let valid = g.chunk_valid_bytes(chunk);
                    let offset = g.byte(chunk * g.chunk_lbas);
                    backing
                        .file
                        .read_exact_at(&mut base[..valid], offset)
                        .map_err(|e| io_error(&backing.path, format!("read at offset {offset}"), e))?;
                }
            }
            // The rest of the chunk keeps the pattern of an overwrite fill.
            self.paint_fill(g, chunk * g.chunk_lbas, &mut base);
            base[at..at + src.len()].copy_from_slice(src);
            base
        };
        self.charge(chunk_data.len());
        self.cached_chunks.fetch_add(1, Ordering::AcqRel);
        shard.cache.insert(chunk, chunk_data);
        Ok(())
    }

    /// Stores `src` at byte `at` of `chunk` on the media.
    fn write_media(
        &self,
        g: &Geometry,
        shard: &mut Shard,
        chunk: u64,
        at: usize,
        src: &[u8],
    ) -> Result<(), StorageError> {
        if let Some(backing) = &self.file {
            let offset = g.byte(chunk * g.chunk_lbas) + at as u64;
            return backing
                .file
                .write_all_at(src, offset)
                .map_err(|e| io_error(&backing.path, format!("write at offset {offset}"), e));
        }
        let whole = src.len() == g.chunk_bytes;
        match shard.media.get_mut(&chunk) {
            Some(existing) => {
                if whole && all_zero(src) {
                    shard.media.remove(&chunk);
                    self.refund(g.chunk_bytes);
                } else {
                    existing[at..at + src.len()].copy_from_slice(src);
                }
            }
            None => {
                if all_zero(src) {
                    return Ok(());
                }
                let data: Chunk = if whole {
                    src.into()
                } else {
                    let mut base = vec![0u8; g.chunk_bytes].into_boxed_slice();
                    base[at..at + src.len()].copy_from_slice(src);
                    base
                };
                self.charge(data.len());
                shard.media.insert(chunk, data);
            }
        }
        Ok(())
    }

    /// Zeroes `[slba, slba + nlb)` (Write Zeroes). Clears marks and takes
    /// the blocks out of an overwrite fill. The range is clipped to the
    /// namespace.
    pub fn write_zeroes(&self, slba: u64, nlb: u64) {
        self.zero_range(slba, nlb);
    }

    /// Deallocates `[slba, slba + nlb)`: the blocks read as zeros and their
    /// memory (or, for a file store, their disk space: holes are punched)
    /// is freed. Clears marks and takes the blocks out of an overwrite
    /// fill. The range is clipped to the namespace.
    pub fn deallocate(&self, slba: u64, nlb: u64) {
        self.zero_range(slba, nlb);
    }

    fn zero_range(&self, slba: u64, nlb: u64) {
        let g = self.geometry.read();
        let end = slba.saturating_add(nlb).min(g.nlb);
        if slba >= end {
            return;
        }
        self.clear_marks(&g, slba, end - slba);
        if self.mode == DataMode::Null {
            return;
        }
        let lba = g.lba_size as usize;
        let first_chunk = slba / g.chunk_lbas;
        let last_chunk = (end - 1) / g.chunk_lbas;
        // Byte range of the zeroed blocks inside `chunk`.
        let part = |chunk: u64| -> (usize, usize) {
            let chunk_start = chunk * g.chunk_lbas;
            let lo = slba.max(chunk_start) - chunk_start;
            let hi = end.min(chunk_start + g.chunk_lbas) - chunk_start;
            (lo as usize * lba, hi as usize * lba)
        };
        let is_whole = |chunk: u64| part(chunk) == (0, g.chunk_bytes);
        let mut file_error = None;
        let mut zero_chunk = |shard: &mut Shard, chunk: u64| {
            let (lo, hi) = part(chunk);
            let whole = (lo, hi) == (0, g.chunk_bytes);
            if let Some(cached) = shard.cache.get_mut(&chunk) {
                if whole {
                    let freed = cached.len();
                    shard.cache.remove(&chunk);
                    self.refund(freed);
                    self.cached_chunks.fetch_sub(1, Ordering::AcqRel);
                } else if !cached.is_empty() {
                    cached[lo..hi].fill(0);
                }
            }
            match &self.file {
                None => {
                    if let Some(media) = shard.media.get_mut(&chunk) {
                        if !whole {
                            media[lo..hi].fill(0);
                        }
                        if whole || all_zero(media) {
                            shard.media.remove(&chunk);
                            self.refund(g.chunk_bytes);
                        }
                    }
                }
                Some(backing) if !whole => {
                    // Partial chunks are zeroed under the shard lock so a
                    // concurrent cached write to the rest of the chunk
                    // cannot pick up the old bytes.
                    let offset = g.byte(chunk * g.chunk_lbas) + lo as u64;
                    if let Err(e) = zero_file_range(&backing.file, offset, (hi - lo) as u64) {
                        file_error.get_or_insert(io_error(
                            &backing.path,
                            format!("zero at offset {offset}"),
                            e,
                        ));
                    }
                }
                Some(_) => {}
            }
        };
        if last_chunk - first_chunk < SCAN_THRESHOLD {
            for chunk in first_chunk..=last_chunk {
                zero_chunk(&mut self.shard(chunk).write(), chunk);
            }
        } else {
            for shard in self.shards.iter() {
                let mut shard = shard.write();
                let mut keys: Vec<u64> = shard
                    .cache
                    .keys()
                    .chain(shard.media.keys())
                    .copied()
                    .filter(|c| (first_chunk..=last_chunk).contains(c))
                    .collect();
                keys.sort_unstable();
                keys.dedup();
                for chunk in keys {
                    zero_chunk(&mut shard, chunk);
                }
            }
            // Partial edge chunks of a file store need their file bytes
            // zeroed even when nothing of them is cached.
            if self.file.is_some() {
                for chunk in [first_chunk, last_chunk] {
                    if !is_whole(chunk) {
                        zero_chunk(&mut self.shard(chunk).write(), chunk);
                    }
                }
            }
        }
        if let Some(backing) = &self.file {
            // Whole chunks of the file (partial ones were zeroed above).
            let whole_start = if is_whole(first_chunk) { first_chunk } else { first_chunk + 1 };
            let start_lba = (whole_start * g.chunk_lbas).min(g.nlb);
            let start = g.byte(start_lba);
            let outcome = if end == g.nlb {
                // A range that reaches the end of the file is freed by
                // truncating and re-extending: instant and sparse.
                let size = g.byte(g.nlb);
                if start < size {
                    backing.file.set_len(start).and_then(|()| backing.file.set_len(size))
                } else {
                    Ok(())
                }
            } else {
                let whole_end = if is_whole(last_chunk) { last_chunk + 1 } else { last_chunk };
                let stop = g.byte((whole_end * g.chunk_lbas).min(g.nlb));
                // A hole is punched: fast whatever the size.
                if start < stop { zero_file_range(&backing.file, start, stop - start) } else { Ok(()) }
            };
            if let Err(e) = outcome {
                file_error.get_or_insert(io_error(&backing.path, format!("zero at offset {start}"), e));
            }
        }
        self.unfill(&g, slba, end, true);
        if let Some(e) = file_error {
            tracing::error!("{e}");
            drop(g);
            self.mark_uncorrectable(slba, end - slba);
        }
    }
}
