//! The backing file of a file-backed store and its sidecar.
//!
//! This module owns everything that touches the disk: opening the sparse
//! image file (or creating it where nothing exists: an existing file is
//! never resized), reading it (with the write cache consulted first),
//! syncing it, zeroing byte ranges of it (hole punching, or writing zeros
//! where the filesystem cannot punch), and the `<path>.marks` sidecar that
//! keeps the uncorrectable marks and the overwrite fill across a reopen
//! (replaced atomically and durably).

use super::fill::Fill;
use super::geometry::Geometry;
use super::{Marks, MediaError, NamespaceStore, StorageError, io_error};
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

/// Size of the zero buffer used to clear ranges of a backing file.
const ZERO_PIECE: usize = 1 << 20;
/// The largest marks sidecar read.
const MAX_MARKS_BYTES: u64 = 64 << 20;

/// The open image file of a namespace.
pub(super) struct FileBacking {
    /// The image, opened read-write.
    pub(super) file: File,
    /// Its path, for messages.
    pub(super) path: PathBuf,
    /// The sidecar: `<path>.marks`.
    pub(super) marks_path: PathBuf,
}

/// The sidecar's content.
#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct MarksFile {
    lba_size: u32,
    nlb: u64,
    uncorrectable: Vec<(u64, u64)>,
    /// The overwrite fill, absent when no block holds a pattern (and in
    /// sidecars written before fills existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fill: Option<SavedFill>,
}

/// A [`Fill`] as saved in the sidecar.
#[derive(serde::Serialize, serde::Deserialize)]
struct SavedFill {
    pattern: u32,
    ranges: Vec<(u64, u64)>,
}

/// Checks that `nlb` blocks of `lba_size` bytes fit a file; returns the size.
pub(super) fn file_size(path: &Path, lba_size: u32, nlb: u64) -> Result<u64, StorageError> {
    let geometry_error = |reason| StorageError::Geometry { path: path.to_path_buf(), lba_size, nlb, reason };
    if lba_size == 0 {
        return Err(geometry_error("the block size is zero"));
    }
    nlb.checked_mul(u64::from(lba_size))
        .filter(|&size| size <= i64::MAX as u64)
        .ok_or_else(|| geometry_error("the namespace is larger than a file can be"))
}

impl FileBacking {
    /// Opens the image at `path`, or creates it where nothing exists, and
    /// reads its sidecar when there is one.
    ///
    /// Nothing is ever resized or overwritten: an existing path must be a
    /// regular file of exactly `nlb * lba_size` bytes, and a missing one is
    /// created only inside an existing directory.
    pub(super) fn open(
        path: &Path,
        lba_size: u32,
        nlb: u64,
    ) -> Result<(FileBacking, Option<MarksFile>), StorageError> {
        let size = file_size(path, lba_size, nlb)?;
        let refuse = |reason: String| StorageError::Refused { path: path.to_path_buf(), reason };
        let file = match std::fs::symlink_metadata(path) {
            Ok(meta) => {
                if !meta.file_type().is_file() {
                    return Err(refuse("exists but is not a regular file".into()));
                }
                if meta.len() != size {
                    return Err(refuse(format!(
                        "holds {} bytes, but {nlb} blocks of {lba_size} bytes need {size}; \
                         nvmeplan does not resize an existing image",
                        meta.len()
                    )));
                }
                OpenOptions::new().read(true).write(true).open(path).map_err(|e| io_error(path, "open", e))?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
                if !parent.is_dir() {
                    return Err(StorageError::Refused {
                        path: parent.to_path_buf(),
                        reason: format!("the directory for {} does not exist", path.display()),
                    });
                }
                let file = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create_new(true)
                    .open(path)
                    .map_err(|e| io_error(path, "create", e))?;
                file.set_len(size).map_err(|e| io_error(path, format!("size to {size} bytes"), e))?;
                file
            }
            Err(e) => return Err(io_error(path, "open", e)),
        };
        let mut marks_path = path.as_os_str().to_owned();
        marks_path.push(".marks");
        let marks_path = PathBuf::from(marks_path);
        let saved = match std::fs::symlink_metadata(&marks_path) {
            Ok(meta) if !meta.file_type().is_file() || meta.len() > MAX_MARKS_BYTES => {
                return Err(StorageError::Refused {
                    path: marks_path,
                    reason: format!("is not a regular file of at most {MAX_MARKS_BYTES} bytes"),
                });
            }
            Ok(_) => {
                let bytes = std::fs::read(&marks_path).map_err(|e| io_error(&marks_path, "read", e))?;
                Some(
                    serde_json::from_slice(&bytes)
                        .map_err(|source| StorageError::Marks { path: marks_path.clone(), source })?,
                )
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io_error(&marks_path, "read", e)),
        };
        Ok((FileBacking { file, path: path.to_path_buf(), marks_path }, saved))
    }

    /// Writes the image's data to stable storage.
    pub(super) fn sync(&self) -> Result<(), StorageError> {
        crate::durable::sync_data(&self.file, &self.path).map_err(|e| io_error(&self.path, "sync", e))
    }
}

impl NamespaceStore {
    /// Restores the marks and fill of a sidecar saved for the same block
    /// size; a sidecar for another block size is ignored with a warning.
    pub(super) fn restore_marks(&self, saved: MarksFile) {
        let g = *self.geometry.read();
        let marks_path = self.file.as_ref().map(|f| f.marks_path.display().to_string()).unwrap_or_default();
        if saved.lba_size != g.lba_size {
            tracing::warn!(
                path = %marks_path,
                "ignoring uncorrectable marks saved for {}-byte blocks",
                saved.lba_size
            );
            return;
        }
        let mut marks = self.marks.write();
        for (start, end) in saved.uncorrectable {
            marks.uncorrectable.insert(start.min(g.nlb), end.min(g.nlb));
        }
        self.has_marks.store(!marks.uncorrectable.is_empty(), Ordering::Release);
        marks.fill =
            saved.fill.map(|f| Fill::from_ranges(f.pattern, f.ranges, g.nlb)).filter(|f| !f.is_empty());
        self.has_fill.store(marks.fill.is_some(), Ordering::Release);
    }

    /// File read: cache hits are copied first, then the remaining runs are
    /// read from the file (and painted with the overwrite fill). Checking
    /// the cache before the file is what makes a concurrent flush (cache to
    /// file) safe without holding locks.
    pub(super) fn read_file(
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
            self.paint_fill(g, slba + pos as u64 / lba, &mut out[pos..pos + len]);
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
}

/// Replaces the sidecar (or removes it when nothing is marked or filled).
pub(super) fn save_marks_file(
    backing: &FileBacking,
    g: &Geometry,
    marks: &Marks,
) -> Result<(), StorageError> {
    let path = &backing.marks_path;
    if marks.uncorrectable.is_empty() && marks.fill.is_none() {
        return match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_error(path, "remove", e)),
            Err(_) => Ok(()),
            Ok(()) => crate::durable::sync_dir(path.parent().unwrap_or(Path::new(".")))
                .map_err(|e| io_error(&e.path, e.op, e.source)),
        };
    }
    let saved = MarksFile {
        lba_size: g.lba_size,
        nlb: g.nlb,
        uncorrectable: marks.uncorrectable.iter().collect(),
        fill: marks.fill.as_ref().map(|f| SavedFill { pattern: f.pattern(), ranges: f.ranges().collect() }),
    };
    let text =
        serde_json::to_vec(&saved).map_err(|source| StorageError::Marks { path: path.clone(), source })?;
    crate::durable::replace_file(path, &text).map_err(|e| io_error(&e.path, e.op, e.source))
}

/// Makes `[offset, offset + len)` of `file` read as zeros without changing
/// its size: the range is deallocated (a hole is punched), so zeroing a
/// terabyte costs no more than zeroing a block. Where the filesystem cannot
/// punch holes the zeros are written instead.
pub(super) fn zero_file_range(file: &File, offset: u64, len: u64) -> std::io::Result<()> {
    if len == 0 {
        return Ok(());
    }
    match punch_hole(file, offset, len) {
        Ok(()) => Ok(()),
        Err(e) if is_unsupported(&e) => write_zeros(file, offset, len),
        Err(e) => Err(e),
    }
}

/// Whether `fallocate` failed only because the filesystem (or kernel)
/// does not support hole punching.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn is_unsupported(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EOPNOTSUPP | libc::ENOSYS))
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn is_unsupported(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::Unsupported
}

/// `fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)` on the range.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn punch_hole(file: &File, offset: u64, len: u64) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let (Ok(offset), Ok(len)) = (libc::off_t::try_from(offset), libc::off_t::try_from(len)) else {
        return Err(std::io::Error::from(std::io::ErrorKind::InvalidInput));
    };
    // SAFETY: fallocate takes only integers and touches no memory of ours;
    // the descriptor belongs to `file`, which is borrowed (so stays open)
    // for the whole call. KEEP_SIZE, required with PUNCH_HOLE, keeps the
    // file length, so no other handle sees the file shrink.
    let rc = unsafe {
        libc::fallocate(file.as_raw_fd(), libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE, offset, len)
    };
    if rc == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn punch_hole(_file: &File, _offset: u64, _len: u64) -> std::io::Result<()> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
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
