//! Namespace media: sparse memory or a sparse file, a volatile write cache
//! and uncorrectable-LBA marks.
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

mod ranges;

use parking_lot::RwLock;
use ranges::RangeSet;
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Number of lock shards the chunk maps are split into.
const SHARDS: u64 = 64;
/// Chunk size the store aims for; a chunk is never smaller than one block.
const TARGET_CHUNK_BYTES: u32 = 4096;
/// Bookkeeping bytes counted per stored chunk in [`NamespaceStore::resident_bytes`].
const ENTRY_OVERHEAD: u64 = 48;
/// Above this many chunks, range operations scan the maps instead of
/// looking every chunk of the range up.
const SCAN_THRESHOLD: u64 = 1024;
/// Size of the zero buffer used to clear ranges of a backing file.
const ZERO_PIECE: usize = 1 << 20;

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

#[derive(Clone, Copy, Debug)]
struct Geometry {
    lba_size: u32,
    nlb: u64,
    chunk_lbas: u64,
    chunk_bytes: usize,
}

impl Geometry {
    fn new(lba_size: u32, nlb: u64) -> Self {
        let lba_size = lba_size.max(1);
        let chunk_lbas = u64::from((TARGET_CHUNK_BYTES / lba_size).max(1));
        Geometry { lba_size, nlb, chunk_lbas, chunk_bytes: chunk_lbas as usize * lba_size as usize }
    }

    /// Byte offset of `lba` in a backing file (checked at open to fit).
    fn byte(&self, lba: u64) -> u64 {
        lba * u64::from(self.lba_size)
    }

    /// Bytes of `chunk` that lie inside the namespace.
    fn chunk_valid_bytes(&self, chunk: u64) -> usize {
        let first = chunk * self.chunk_lbas;
        let lbas = self.chunk_lbas.min(self.nlb.saturating_sub(first));
        lbas as usize * self.lba_size as usize
    }

    /// Calls `f(chunk, offset_in_chunk, offset_in_buffer, len)` for every
    /// chunk piece of a `len`-byte access starting at `slba`.
    fn pieces(&self, slba: u64, len: usize, mut f: impl FnMut(u64, usize, usize, usize)) {
        let lba = self.lba_size as usize;
        let mut lba_no = slba;
        let mut done = 0usize;
        while done < len {
            let chunk = lba_no / self.chunk_lbas;
            let in_chunk = (lba_no % self.chunk_lbas) as usize * lba;
            let n = (self.chunk_bytes - in_chunk).min(len - done);
            f(chunk, in_chunk, done, n);
            done += n;
            lba_no += (n / lba) as u64;
        }
    }
}

struct FileBacking {
    file: File,
    path: PathBuf,
    marks_path: PathBuf,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct MarksFile {
    lba_size: u32,
    nlb: u64,
    uncorrectable: Vec<(u64, u64)>,
}

/// The logical blocks of one namespace.
///
/// All methods take `&self`; the store locks internally and may be used
/// from several queue threads at once. Accesses are not atomic across
/// chunks, as on a real device beyond its atomic write unit.
pub struct NamespaceStore {
    geometry: RwLock<Geometry>,
    mode: DataMode,
    shards: Box<[RwLock<Shard>]>,
    file: Option<FileBacking>,
    marks: RwLock<RangeSet>,
    has_marks: AtomicBool,
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
            marks: RwLock::new(RangeSet::default()),
            has_marks: AtomicBool::new(false),
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

    /// A namespace backed by the sparse file at `path`, created if missing
    /// and resized to `nlb * lba_size` bytes.
    ///
    /// Data written earlier to the same path reads back; uncorrectable
    /// marks are restored from `<path>.marks` when its geometry matches.
    /// The write cache lives in memory and starts disabled.
    pub fn open_file(path: &Path, lba_size: u32, nlb: u64) -> Result<Self, StorageError> {
        let geometry_error =
            |reason| StorageError::Geometry { path: path.to_path_buf(), lba_size, nlb, reason };
        if lba_size == 0 {
            return Err(geometry_error("the block size is zero"));
        }
        let size = nlb
            .checked_mul(u64::from(lba_size))
            .filter(|&size| size <= i64::MAX as u64)
            .ok_or_else(|| geometry_error("the namespace is larger than a file can be"))?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| io_error(path, "open", e))?;
        let current = file.metadata().map_err(|e| io_error(path, "read the size", e))?.len();
        if current != size {
            file.set_len(size).map_err(|e| io_error(path, format!("resize to {size} bytes"), e))?;
        }
        let mut marks_path = path.as_os_str().to_owned();
        marks_path.push(".marks");
        let marks_path = PathBuf::from(marks_path);
        let geometry = Geometry::new(lba_size, nlb);
        let store = Self::with_parts(
            geometry,
            DataMode::Normal,
            Some(FileBacking { file, path: path.to_path_buf(), marks_path: marks_path.clone() }),
        );
        match std::fs::read(&marks_path) {
            Ok(bytes) => {
                let saved: MarksFile = serde_json::from_slice(&bytes)
                    .map_err(|source| StorageError::Marks { path: marks_path.clone(), source })?;
                if saved.lba_size == lba_size {
                    let mut marks = store.marks.write();
                    for (start, end) in saved.uncorrectable {
                        marks.insert(start.min(nlb), end.min(nlb));
                    }
                    store.has_marks.store(!marks.is_empty(), Ordering::Release);
                } else {
                    tracing::warn!(
                        path = %marks_path.display(),
                        "ignoring uncorrectable marks saved for {}-byte blocks",
                        saved.lba_size
                    );
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error(&marks_path, "read", e)),
        }
        Ok(store)
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
        self.marks.read().first_in(slba, slba.saturating_add(nlb))
    }

    /// Every marked range, as `(first LBA, end LBA exclusive)`.
    pub fn uncorrectable_ranges(&self) -> Vec<(u64, u64)> {
        self.marks.read().iter().collect()
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
        marks.insert(slba, end);
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
        if marks.remove(slba, slba.saturating_add(nlb)) {
            self.has_marks.store(!marks.is_empty(), Ordering::Release);
            self.save_marks(g, &marks);
        }
    }

    fn save_marks(&self, g: &Geometry, marks: &RangeSet) {
        if let Some(backing) = &self.file
            && let Err(e) = save_marks_file(backing, g, marks)
        {
            tracing::error!("{e}");
        }
    }

    // ---- data path ----

    /// Reads `out.len()` bytes (whole blocks) starting at block `slba`.
    ///
    /// Blocks never written, deallocated or zeroed read as zeros. A marked
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
                    match shard.cache.get(&chunk).or_else(|| shard.media.get(&chunk)) {
                        Some(data) if !data.is_empty() => dst.copy_from_slice(&data[at..at + n]),
                        _ => dst.fill(0),
                    }
                });
                Ok(())
            }
            Some(backing) => self.read_file(&g, backing, slba, out),
        }
    }

    /// File read: cache hits are copied first, then the remaining runs are
    /// read from the file. Checking the cache before the file is what makes
    /// a concurrent flush (cache to file) safe without holding locks.
    fn read_file(
        &self,
        g: &Geometry,
        backing: &FileBacking,
        slba: u64,
        out: &mut [u8],
    ) -> Result<(), MediaError> {
        let lba = u64::from(g.lba_size);
        let mut run: Option<(usize, usize)> = None; // (buffer offset, length) still to read from the file
        let mut result = Ok(());
        let mut read_run = |out: &mut [u8], pos: usize, len: usize| {
            let offset = g.byte(slba) + pos as u64;
            if let Err(e) = backing.file.read_exact_at(&mut out[pos..pos + len], offset) {
                tracing::error!(path = %backing.path.display(), offset, "namespace file read failed: {e}");
                if result.is_ok() {
                    result = Err(MediaError::Uncorrectable { lba: slba + pos as u64 / lba });
                }
            }
        };
        let mut hits = self.cached_chunks.load(Ordering::Acquire) > 0;
        g.pieces(slba, out.len(), |chunk, at, pos, n| {
            if hits {
                let shard = self.shard(chunk).read();
                if let Some(data) = shard.cache.get(&chunk) {
                    let dst = &mut out[pos..pos + n];
                    if data.is_empty() {
                        dst.fill(0)
                    } else {
                        dst.copy_from_slice(&data[at..at + n])
                    }
                    drop(shard);
                    if let Some((start, len)) = run.take() {
                        read_run(out, start, len);
                    }
                    return;
                }
                hits = self.cached_chunks.load(Ordering::Acquire) > 0;
            }
            run = match run {
                Some((start, len)) => Some((start, len + n)),
                None => Some((pos, n)),
            };
        });
        if let Some((start, len)) = run {
            read_run(out, start, len);
        }
        result
    }

    /// Writes whole blocks starting at `slba`, reporting failures.
    ///
    /// Clears the uncorrectable marks of the written blocks. With the
    /// volatile write cache enabled and `fua` false the data goes to the
    /// cache; otherwise it goes to the media (and updates any cached copy).
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

    /// Zeroes `[slba, slba + nlb)` (Write Zeroes). Clears marks. The range
    /// is clipped to the namespace.
    pub fn write_zeroes(&self, slba: u64, nlb: u64) {
        self.zero_range(slba, nlb);
    }

    /// Deallocates `[slba, slba + nlb)`: the blocks read as zeros and their
    /// memory is freed. Clears marks. The range is clipped to the namespace.
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
                    if let Err(e) = write_zeros(&backing.file, offset, (hi - lo) as u64) {
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
                if start < stop { write_zeros(&backing.file, start, stop - start) } else { Ok(()) }
            };
            if let Err(e) = outcome {
                file_error.get_or_insert(io_error(&backing.path, format!("zero at offset {start}"), e));
            }
        }
        if let Some(e) = file_error {
            tracing::error!("{e}");
            drop(g);
            self.mark_uncorrectable(slba, end - slba);
        }
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

    /// Writes the cached data to the media, reporting the first failure.
    /// Chunks that fail to reach the file are marked uncorrectable.
    pub fn try_flush(&self) -> Result<(), StorageError> {
        if self.cached_chunks.load(Ordering::Acquire) == 0 {
            return Ok(());
        }
        let g = self.geometry.read();
        let mut failed = Vec::new();
        let mut first_error = None;
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
                            write_zeros(&backing.file, offset, valid as u64)
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
            }
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

    /// Format or sanitize: every block reads zero, marks are cleared and
    /// the cache is dropped. A file is truncated and re-extended (sparse).
    pub fn erase_all(&self) {
        let g = self.geometry.write();
        self.erase_locked(&g);
    }

    fn erase_locked(&self, g: &Geometry) {
        for shard in self.shards.iter() {
            let mut shard = shard.write();
            shard.cache = HashMap::new();
            shard.media = HashMap::new();
        }
        self.cached_chunks.store(0, Ordering::Release);
        self.resident.store(0, Ordering::Release);
        let mut marks = self.marks.write();
        marks.clear();
        self.has_marks.store(false, Ordering::Release);
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
            let geometry_error =
                |reason| StorageError::Geometry { path: backing.path.clone(), lba_size, nlb, reason };
            if lba_size == 0 {
                return Err(geometry_error("the block size is zero"));
            }
            nlb.checked_mul(u64::from(lba_size))
                .filter(|&size| size <= i64::MAX as u64)
                .ok_or_else(|| geometry_error("the namespace is larger than a file can be"))?;
        }
        *g = Geometry::new(lba_size, nlb);
        self.erase_locked(&g);
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
            .finish()
    }
}

/// Replaces the marks sidecar (or removes it when nothing is marked).
fn save_marks_file(backing: &FileBacking, g: &Geometry, marks: &RangeSet) -> Result<(), StorageError> {
    let path = &backing.marks_path;
    if marks.is_empty() {
        return match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_error(path, "remove", e)),
            _ => Ok(()),
        };
    }
    let saved = MarksFile { lba_size: g.lba_size, nlb: g.nlb, uncorrectable: marks.iter().collect() };
    let text =
        serde_json::to_vec(&saved).map_err(|source| StorageError::Marks { path: path.clone(), source })?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, text).map_err(|e| io_error(&tmp, "write", e))?;
    std::fs::rename(&tmp, path).map_err(|e| io_error(path, "replace", e))
}

/// Writes `len` zero bytes at `offset` in pieces of at most [`ZERO_PIECE`].
fn write_zeros(file: &File, offset: u64, len: u64) -> std::io::Result<()> {
    static ZEROS: [u8; ZERO_PIECE] = [0; ZERO_PIECE];
    let mut done = 0u64;
    while done < len {
        let n = (len - done).min(ZERO_PIECE as u64) as usize;
        file.write_all_at(&ZEROS[..n], offset + done)?;
        done += n as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
