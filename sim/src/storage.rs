//! Namespace media: sparse memory or a sparse file, a volatile write cache,
//! uncorrectable-LBA marks and the pattern a sanitize overwrite leaves.
//!
//! A [`NamespaceStore`] holds the logical blocks of one namespace. Data is
//! kept in fixed-size chunks (4 KiB, or one block when blocks are larger) in
//! 64 sharded maps, so a 16 TiB namespace opens instantly, costs memory only
//! for what was written, and IO from several queue threads rarely contends
//! on one lock. Blocks never written, deallocated or zeroed read as zeros.
//!
//! With the volatile write cache enabled, writes without FUA land in a
//! separate sparse map of dirty chunks; reads see the newest data, a flush
//! merges the cache into the media and a power loss discards it.
//!
//! Blocks marked uncorrectable (Write Uncorrectable, or fault injection)
//! fail reads until they are written again. For a file-backed store the
//! marks are kept in a sidecar file `<path>.marks` so they survive a reopen.
//!
//! # Overwrite fill
//!
//! A sanitize overwrite ([`NamespaceStore::erase_with_pattern`]) leaves a
//! 32-bit pattern, repeated little-endian from the start of each block, in
//! every block. The pattern is not written out (that would materialize a
//! 16 TiB namespace): the media is erased as for a block erase and the
//! store keeps the pattern with the set of LBAs that still hold it,
//! initially all of them. Data the media returns for those blocks is
//! painted with the pattern as it is read. A write reaching the media,
//! Write Zeroes and Deallocate take their blocks out of the set; a write
//! into the write cache builds its chunk on top of the pattern, and the
//! chunk's blocks leave the set when it is flushed, so a power loss before
//! the flush brings the pattern back. Format, block and crypto erase and a
//! reformat drop the fill. A file-backed store saves the pattern and its
//! LBA set in the sidecar with the marks, rewritten whenever the set
//! changes, so the fill survives a reopen without a byte of the pattern
//! reaching the (sparse) image file.
//!
//! # Modules
//!
//! This module owns the store itself: its types, opening, marks, the write
//! cache and format. The data path (read, write, Write Zeroes, Deallocate)
//! is in `data`, block and chunk arithmetic in `geometry`, everything that
//! touches the image file and its sidecar in `file`, the overwrite pattern
//! in `fill` and the LBA range sets used for marks and fills in `ranges`.

mod data;
mod file;
mod fill;
mod geometry;
mod ranges;

use file::{FileBacking, file_size, save_marks_file, zero_file_range};
use fill::Fill;
use geometry::Geometry;
use parking_lot::RwLock;
use ranges::RangeSet;
use std::collections::HashMap;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Number of lock shards the chunk maps are split into.
const SHARDS: u64 = 64;
/// Bookkeeping bytes counted per stored chunk in [`NamespaceStore::resident_bytes`].
const ENTRY_OVERHEAD: u64 = 48;
/// Above this many chunks, range operations scan the maps instead of
/// looking every chunk of the range up.
const SCAN_THRESHOLD: u64 = 1024;

/// A namespace's block size and capacity at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    /// Block size in bytes.
    pub lba_size: u32,
    /// Number of blocks.
    pub nlb: u64,
}

/// Whether the store keeps data at all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DataMode {
    /// Data is stored and read back.
    #[default]
    Normal,
    /// No data is moved or stored: reads leave the buffer untouched and
    /// writes store nothing. Used to benchmark the host path.
    Null,
}

/// A media error reported by a read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    /// A block of the range cannot be read.
    #[error("unrecovered read error at LBA {lba}")]
    Uncorrectable {
        /// The first unreadable LBA of the range.
        lba: u64,
    },
}

/// Why a store could not be opened or a file operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The geometry is unusable (zero-sized block, or too large for a file).
    #[error("namespace file {path}: invalid geometry of {nlb} blocks of {lba_size} bytes: {reason}")]
    Geometry {
        /// The backing file.
        path: PathBuf,
        /// Requested block size.
        lba_size: u32,
        /// Requested number of blocks.
        nlb: u64,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A file operation on the backing file or its sidecar failed.
    #[error("namespace file {path}: cannot {op}: {source}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// What was attempted ("open", "resize to 4096 bytes", ...).
        op: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An existing file is not one the store may use as it is (not a
    /// regular file, another size), or a directory it needs is missing.
    #[error("{}: {reason}", path.display())]
    Refused {
        /// The file or directory concerned.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The uncorrectable-marks sidecar exists but does not parse.
    #[error("namespace marks file {path} is corrupt: {source}")]
    Marks {
        /// The sidecar file.
        path: PathBuf,
        /// The parse error.
        source: serde_json::Error,
    },
    /// An access names blocks beyond the end of the namespace.
    #[error("LBA range {slba}+{nlb} is beyond the namespace end ({capacity} blocks)")]
    OutOfRange {
        /// First LBA of the access.
        slba: u64,
        /// Number of blocks of the access.
        nlb: u64,
        /// Blocks in the namespace.
        capacity: u64,
    },
}

/// A chunk of data; an empty slice stands for a chunk of zeros (cache only).
type Chunk = Box<[u8]>;

#[derive(Default)]
struct Shard {
    /// Durable data (memory-backed stores only).
    media: HashMap<u64, Chunk>,
    /// Dirty chunks of the volatile write cache: full chunks, newest data.
    cache: HashMap<u64, Chunk>,
}

/// What the sidecar keeps: uncorrectable marks and the overwrite fill.
/// One lock covers both so that a sidecar write sees a consistent pair.
#[derive(Default)]
struct Marks {
    /// Blocks whose reads fail.
    uncorrectable: RangeSet,
    /// The pattern left by a sanitize overwrite and the blocks still
    /// holding it; `None` when no block does.
    fill: Option<Fill>,
}

/// The logical blocks of one namespace.
///
/// All methods take `&self`; the store locks internally and may be used
/// from several queue threads at once. Accesses are not atomic across
/// chunks, as on a real device beyond its atomic write unit.
///
/// Locks are taken in the order geometry, shard, marks.
pub struct NamespaceStore {
    geometry: RwLock<Geometry>,
    mode: DataMode,
    shards: Box<[RwLock<Shard>]>,
    file: Option<FileBacking>,
    marks: RwLock<Marks>,
    has_marks: AtomicBool,
    has_fill: AtomicBool,
    cache_enabled: AtomicBool,
    cached_chunks: AtomicU64,
    resident: AtomicU64,
}

fn all_zero(data: &[u8]) -> bool {
    data.iter().all(|&b| b == 0)
}

fn io_error(path: &Path, op: impl Into<String>, source: std::io::Error) -> StorageError {
    StorageError::Io { path: path.to_path_buf(), op: op.into(), source }
}

impl NamespaceStore {
    fn with_parts(geometry: Geometry, mode: DataMode, file: Option<FileBacking>) -> Self {
        NamespaceStore {
            geometry: RwLock::new(geometry),
            mode,
            shards: (0..SHARDS).map(|_| RwLock::new(Shard::default())).collect(),
            file,
            marks: RwLock::new(Marks::default()),
            has_marks: AtomicBool::new(false),
            has_fill: AtomicBool::new(false),
            cache_enabled: AtomicBool::new(false),
            cached_chunks: AtomicU64::new(0),
            resident: AtomicU64::new(0),
        }
    }

    /// A sparse in-memory namespace of `nlb` blocks of `lba_size` bytes.
    ///
    /// Opening costs no memory regardless of the size; memory is used only
    /// for chunks that hold non-zero data. The write cache starts disabled.
    /// A `lba_size` of zero is treated as one byte.
    pub fn new_memory(lba_size: u32, nlb: u64, mode: DataMode) -> Self {
        Self::with_parts(Geometry::new(lba_size, nlb), mode, None)
    }

    /// A namespace backed by the sparse file at `path`: an existing regular
    /// file of exactly `nlb * lba_size` bytes, or a new one created where
    /// nothing exists (in an existing directory). Any other existing path
    /// is refused: nothing is resized or overwritten.
    ///
    /// Data written earlier to the same path reads back; uncorrectable
    /// marks and an overwrite fill are restored from `<path>.marks` when
    /// its geometry matches. The write cache lives in memory and starts
    /// disabled.
    pub fn open_file(path: &Path, lba_size: u32, nlb: u64) -> Result<Self, StorageError> {
        let (backing, saved) = FileBacking::open(path, lba_size, nlb)?;
        let store = Self::with_parts(Geometry::new(lba_size, nlb), DataMode::Normal, Some(backing));
        if let Some(saved) = saved {
            store.restore_marks(saved);
        }
        Ok(store)
    }

    /// A namespace backed by a new sparse file at `path`, which must not
    /// exist yet (see [`NamespaceStore::open_file`]); used for a namespace
    /// that did not exist before, so that no file is ever taken over.
    pub fn create_file(path: &Path, lba_size: u32, nlb: u64) -> Result<Self, StorageError> {
        if std::fs::symlink_metadata(path).is_ok() {
            return Err(StorageError::Refused {
                path: path.to_path_buf(),
                reason: "exists already; a new namespace's image is never written over a file".into(),
            });
        }
        Self::open_file(path, lba_size, nlb)
    }

    /// Block size and number of blocks, read together.
    pub fn shape(&self) -> Shape {
        let g = self.geometry.read();
        Shape { lba_size: g.lba_size, nlb: g.nlb }
    }

    /// Block size in bytes.
    pub fn lba_size(&self) -> u32 {
        self.geometry.read().lba_size
    }

    /// Number of blocks.
    pub fn nlb(&self) -> u64 {
        self.geometry.read().nlb
    }

    /// Whether data is stored ([`DataMode::Normal`]) or discarded.
    pub fn data_mode(&self) -> DataMode {
        self.mode
    }

    /// Whether the media is a file.
    pub fn is_file_backed(&self) -> bool {
        self.file.is_some()
    }

    /// The backing file, for a file-backed store.
    pub fn path(&self) -> Option<&Path> {
        self.file.as_ref().map(|f| f.path.as_path())
    }

    /// Bytes of memory the store holds for data: stored and cached chunks
    /// plus a small per-chunk bookkeeping estimate. File data on disk is
    /// not counted; its cached chunks are.
    pub fn resident_bytes(&self) -> u64 {
        self.resident.load(Ordering::Relaxed)
    }

    /// Bytes of dirty data in the volatile write cache.
    pub fn cached_bytes(&self) -> u64 {
        self.cached_chunks.load(Ordering::Relaxed) * self.geometry.read().chunk_bytes as u64
    }

    fn shard(&self, chunk: u64) -> &RwLock<Shard> {
        &self.shards[(chunk % SHARDS) as usize]
    }

    fn charge(&self, bytes: usize) {
        self.resident.fetch_add(bytes as u64 + ENTRY_OVERHEAD, Ordering::Relaxed);
    }

    fn refund(&self, bytes: usize) {
        self.resident.fetch_sub(bytes as u64 + ENTRY_OVERHEAD, Ordering::Relaxed);
    }

    fn check_range(g: &Geometry, slba: u64, nlb: u64) -> Result<(), StorageError> {
        match slba.checked_add(nlb) {
            Some(end) if end <= g.nlb => Ok(()),
            _ => Err(StorageError::OutOfRange { slba, nlb, capacity: g.nlb }),
        }
    }

    // ---- uncorrectable marks ----

    /// The first LBA of `[slba, slba + nlb)` marked uncorrectable.
    ///
    /// One atomic load when nothing is marked.
    pub fn first_uncorrectable(&self, slba: u64, nlb: u64) -> Option<u64> {
        if !self.has_marks.load(Ordering::Acquire) {
            return None;
        }
        self.marks.read().uncorrectable.first_in(slba, slba.saturating_add(nlb))
    }

    /// Every marked range, as `(first LBA, end LBA exclusive)`.
    pub fn uncorrectable_ranges(&self) -> Vec<(u64, u64)> {
        self.marks.read().uncorrectable.iter().collect()
    }

    /// Marks `[slba, slba + nlb)` uncorrectable: reads of these blocks fail
    /// until they are written, zeroed or deallocated. The range is clipped
    /// to the namespace.
    pub fn mark_uncorrectable(&self, slba: u64, nlb: u64) {
        let g = self.geometry.read();
        let end = slba.saturating_add(nlb).min(g.nlb);
        if slba >= end {
            return;
        }
        let mut marks = self.marks.write();
        marks.uncorrectable.insert(slba, end);
        self.has_marks.store(true, Ordering::Release);
        self.save_marks(&g, &marks);
    }

    /// Removes uncorrectable marks from `[slba, slba + nlb)`, as a write of
    /// those blocks does. One atomic load when nothing is marked.
    pub fn clear_uncorrectable(&self, slba: u64, nlb: u64) {
        if self.has_marks.load(Ordering::Acquire) {
            let g = self.geometry.read();
            self.clear_marks(&g, slba, nlb);
        }
    }

    /// [`NamespaceStore::clear_uncorrectable`] with the geometry lock held.
    fn clear_marks(&self, g: &Geometry, slba: u64, nlb: u64) {
        if !self.has_marks.load(Ordering::Acquire) {
            return;
        }
        let mut marks = self.marks.write();
        if marks.uncorrectable.remove(slba, slba.saturating_add(nlb)) {
            self.has_marks.store(!marks.uncorrectable.is_empty(), Ordering::Release);
            self.save_marks(g, &marks);
        }
    }

    fn save_marks(&self, g: &Geometry, marks: &Marks) {
        if let Some(backing) = &self.file
            && let Err(e) = save_marks_file(backing, g, marks)
        {
            tracing::error!("{e}");
        }
    }

    // ---- overwrite fill ----

    /// The pattern a sanitize overwrite left, while at least one block
    /// still holds it (see the module documentation).
    pub fn fill_pattern(&self) -> Option<u32> {
        if !self.has_fill.load(Ordering::Acquire) {
            return None;
        }
        self.marks.read().fill.as_ref().map(Fill::pattern)
    }

    /// Paints the overwrite fill over `out`, media data starting at block
    /// `slba`. One atomic load when there is no fill.
    fn paint_fill(&self, g: &Geometry, slba: u64, out: &mut [u8]) {
        if self.has_fill.load(Ordering::Acquire)
            && let Some(fill) = &self.marks.read().fill
        {
            fill.paint(g.lba_size, slba, out);
        }
    }

    /// Takes `[slba, end)` out of the overwrite fill (the media got new
    /// data there); returns whether the fill changed. With `save`, a
    /// changed fill is written to the sidecar; otherwise the caller saves.
    fn unfill(&self, g: &Geometry, slba: u64, end: u64, save: bool) -> bool {
        if !self.has_fill.load(Ordering::Acquire) {
            return false;
        }
        let mut marks = self.marks.write();
        let Some(fill) = &mut marks.fill else { return false };
        if !fill.remove(slba, end) {
            return false;
        }
        if fill.is_empty() {
            marks.fill = None;
            self.has_fill.store(false, Ordering::Release);
        }
        if save {
            self.save_marks(g, &marks);
        }
        true
    }

    // ---- write cache ----

    /// Enables or disables the volatile write cache; disabling flushes first.
    pub fn set_write_cache(&self, enabled: bool) {
        if enabled {
            self.cache_enabled.store(true, Ordering::Release);
        } else {
            self.cache_enabled.store(false, Ordering::Release);
            self.flush();
        }
    }

    /// Whether the volatile write cache is enabled.
    pub fn write_cache_enabled(&self) -> bool {
        self.cache_enabled.load(Ordering::Acquire)
    }

    /// Writes the cached data to the media.
    ///
    /// A failed file write is logged and its blocks are marked
    /// uncorrectable; [`NamespaceStore::try_flush`] reports it instead.
    pub fn flush(&self) {
        if let Err(e) = self.try_flush() {
            tracing::error!("{e}");
        }
    }

    /// Writes the cached data to the media, reporting the first failure;
    /// a file store then syncs its image to stable storage (`fdatasync`).
    /// Chunks that fail to reach the file are marked uncorrectable.
    pub fn try_flush(&self) -> Result<(), StorageError> {
        let written = self.write_back();
        let synced = self.file.as_ref().map_or(Ok(()), FileBacking::sync);
        written.and(synced)
    }

    /// Moves the write cache to the media (without syncing a file).
    fn write_back(&self) -> Result<(), StorageError> {
        if self.cached_chunks.load(Ordering::Acquire) == 0 {
            return Ok(());
        }
        let g = self.geometry.read();
        let mut failed = Vec::new();
        let mut first_error = None;
        let mut unfilled = false;
        for shard in self.shards.iter() {
            let mut shard = shard.write();
            if shard.cache.is_empty() {
                continue;
            }
            let cache = std::mem::take(&mut shard.cache);
            self.cached_chunks.fetch_sub(cache.len() as u64, Ordering::AcqRel);
            for (chunk, data) in cache {
                let len = data.len();
                match &self.file {
                    None => {
                        if len == 0 || all_zero(&data) {
                            self.refund(len);
                            if shard.media.remove(&chunk).is_some() {
                                self.refund(g.chunk_bytes);
                            }
                        } else if shard.media.insert(chunk, data).is_some() {
                            self.refund(g.chunk_bytes);
                        }
                    }
                    Some(backing) => {
                        self.refund(len);
                        let valid = g.chunk_valid_bytes(chunk);
                        let offset = g.byte(chunk * g.chunk_lbas);
                        let outcome = if len == 0 {
                            zero_file_range(&backing.file, offset, valid as u64)
                        } else {
                            backing.file.write_all_at(&data[..valid], offset)
                        };
                        if let Err(e) = outcome {
                            failed.push(chunk);
                            first_error.get_or_insert(io_error(
                                &backing.path,
                                format!("write cached data at offset {offset}"),
                                e,
                            ));
                        }
                    }
                }
                // The whole chunk is on the media now (the cache built it
                // on top of the fill); under the shard lock, so no reader
                // paints the pattern over the flushed data.
                let first = chunk * g.chunk_lbas;
                unfilled |= self.unfill(&g, first, (first + g.chunk_lbas).min(g.nlb), false);
            }
        }
        if unfilled {
            self.save_marks(&g, &self.marks.read());
        }
        drop(g);
        let chunk_lbas = self.geometry.read().chunk_lbas;
        for chunk in failed {
            self.mark_uncorrectable(chunk * chunk_lbas, chunk_lbas);
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Power lost without a flush: cached writes are discarded, so reads
    /// return the data last flushed or written with FUA.
    pub fn power_loss(&self) {
        let _g = self.geometry.write();
        for shard in self.shards.iter() {
            let mut shard = shard.write();
            for (_, data) in shard.cache.drain() {
                self.refund(data.len());
            }
        }
        self.cached_chunks.store(0, Ordering::Release);
    }

    // ---- format ----

    /// Format or sanitize: every block reads zero, marks and any overwrite
    /// fill are cleared and the cache is dropped. A file is truncated and
    /// re-extended (sparse).
    pub fn erase_all(&self) {
        let g = self.geometry.write();
        self.erase_locked(&g, None);
    }

    /// Sanitize overwrite: as [`NamespaceStore::erase_all`], then every
    /// block reads as `pattern` repeated (little-endian, from the start of
    /// each block) until it is written, zeroed or deallocated. The pattern
    /// is kept as a fill rather than written out (see the module
    /// documentation); a file store saves it in its sidecar. In
    /// [`DataMode::Null`] this is [`NamespaceStore::erase_all`].
    pub fn erase_with_pattern(&self, pattern: u32) {
        let g = self.geometry.write();
        let fill = (self.mode == DataMode::Normal && g.nlb > 0).then(|| Fill::new(pattern, g.nlb));
        self.erase_locked(&g, fill);
    }

    fn erase_locked(&self, g: &Geometry, fill: Option<Fill>) {
        for shard in self.shards.iter() {
            let mut shard = shard.write();
            shard.cache = HashMap::new();
            shard.media = HashMap::new();
        }
        self.cached_chunks.store(0, Ordering::Release);
        self.resident.store(0, Ordering::Release);
        let mut marks = self.marks.write();
        marks.uncorrectable.clear();
        self.has_marks.store(false, Ordering::Release);
        self.has_fill.store(fill.is_some(), Ordering::Release);
        marks.fill = fill;
        if let Some(backing) = &self.file {
            if let Err(e) = save_marks_file(backing, g, &marks) {
                tracing::error!("{e}");
            }
            let size = g.byte(g.nlb);
            if let Err(e) = backing.file.set_len(0).and_then(|()| backing.file.set_len(size)) {
                tracing::error!("{}", io_error(&backing.path, "erase", e));
            }
        }
    }

    /// Erases everything and changes the geometry (Format NVM with another
    /// LBA format, or a namespace resize). A file is resized to match.
    ///
    /// For a file store a geometry that does not fit a file is refused
    /// (logged) and the old geometry kept; [`NamespaceStore::try_reformat`]
    /// reports it instead.
    pub fn reformat(&self, lba_size: u32, nlb: u64) {
        if let Err(e) = self.try_reformat(lba_size, nlb) {
            tracing::error!("{e}");
        }
    }

    /// [`NamespaceStore::reformat`], reporting an unusable geometry or a
    /// failed resize of the backing file.
    pub fn try_reformat(&self, lba_size: u32, nlb: u64) -> Result<(), StorageError> {
        let mut g = self.geometry.write();
        if let Some(backing) = &self.file {
            file_size(&backing.path, lba_size, nlb)?;
        }
        *g = Geometry::new(lba_size, nlb);
        self.erase_locked(&g, None);
        Ok(())
    }
}

impl Drop for NamespaceStore {
    /// A file store writes its cache back when dropped (an orderly
    /// shutdown); use [`NamespaceStore::power_loss`] first to model a crash.
    fn drop(&mut self) {
        if self.file.is_some() {
            self.flush();
        }
    }
}

impl std::fmt::Debug for NamespaceStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let g = *self.geometry.read();
        f.debug_struct("NamespaceStore")
            .field("lba_size", &g.lba_size)
            .field("nlb", &g.nlb)
            .field("mode", &self.mode)
            .field("path", &self.path())
            .field("write_cache", &self.write_cache_enabled())
            .field("resident_bytes", &self.resident_bytes())
            .field("fill_pattern", &self.fill_pattern())
            .finish()
    }
}

#[cfg(test)]
mod tests;
