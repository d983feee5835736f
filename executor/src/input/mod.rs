//! Input files: every file nvmeplan reads on a user's behalf (plans,
//! includes, reports for `report` and `diff`, firmware images) goes through
//! [`read_bytes`] or [`read_text`], which refuse anything but a regular
//! file and stop at a size cap, so `/dev/zero`, `/dev/urandom` or a FIFO
//! fail at once instead of filling memory or blocking.
//!
//! Submodules own the other input rules: [`paths`] where a plan may point
//! (`include`, `firmware_download { file }`) and [`env`](mod@env) which environment
//! variables expressions may read.

use std::fs::File;
use std::io::Read as _;
use std::os::unix::fs::{FileTypeExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

pub mod env;
pub mod paths;

/// The largest plan or included file read, in bytes (16 MiB).
pub const MAX_PLAN_BYTES: u64 = 16 << 20;
/// The largest report read by `report` and `diff`, in bytes (256 MiB).
pub const MAX_REPORT_BYTES: u64 = 256 << 20;
/// The largest firmware image file read by `firmware_download`, in bytes (64 MiB).
pub const MAX_FIRMWARE_BYTES: u64 = 64 << 20;

/// What an input file is, which sets its size cap and how errors name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// A plan file given on the command line.
    Plan,
    /// A file named by `include`.
    Include,
    /// A `report.json`.
    Report,
    /// A firmware image file.
    Firmware,
}

impl InputKind {
    /// The size cap in bytes.
    pub fn limit(self) -> u64 {
        match self {
            InputKind::Plan | InputKind::Include => MAX_PLAN_BYTES,
            InputKind::Report => MAX_REPORT_BYTES,
            InputKind::Firmware => MAX_FIRMWARE_BYTES,
        }
    }

    /// How messages name the file.
    pub fn what(self) -> &'static str {
        match self {
            InputKind::Plan => "plan",
            InputKind::Include => "included file",
            InputKind::Report => "report",
            InputKind::Firmware => "firmware image",
        }
    }
}

/// Why an input file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// Nothing exists at the path.
    #[error("{what} `{}` not found", path.display())]
    NotFound {
        /// What the file is.
        what: &'static str,
        /// The path.
        path: PathBuf,
    },
    /// The path names a directory.
    #[error("{what} `{}` is a directory", path.display())]
    IsDirectory {
        /// What the file is.
        what: &'static str,
        /// The path.
        path: PathBuf,
    },
    /// The path names a device, FIFO or socket.
    #[error("{what} `{}` is not a regular file (it is a {kind})", path.display())]
    NotRegular {
        /// What the file is.
        what: &'static str,
        /// The path.
        path: PathBuf,
        /// The file type found.
        kind: &'static str,
    },
    /// The file is larger than the cap.
    #[error("{what} `{}` is larger than the limit of {limit} bytes", path.display())]
    TooLarge {
        /// What the file is.
        what: &'static str,
        /// The path.
        path: PathBuf,
        /// The cap.
        limit: u64,
    },
    /// The file is not UTF-8 text.
    #[error("{what} `{}` is not UTF-8: invalid byte at line {line}, column {column}", path.display())]
    NotUtf8 {
        /// What the file is.
        what: &'static str,
        /// The path.
        path: PathBuf,
        /// Line of the first invalid byte, 1-based.
        line: usize,
        /// Column (in characters) of the first invalid byte, 1-based.
        column: usize,
        /// Byte offset of the first invalid byte.
        offset: usize,
        /// The file's content with invalid bytes replaced, for snippets.
        lossy: String,
    },
    /// Any other I/O error.
    #[error("cannot read {what} `{}`: {source}", path.display())]
    Io {
        /// What the file is.
        what: &'static str,
        /// The path.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

fn type_name(ft: std::fs::FileType) -> &'static str {
    if ft.is_dir() {
        "directory"
    } else if ft.is_fifo() {
        "FIFO"
    } else if ft.is_char_device() {
        "character device"
    } else if ft.is_block_device() {
        "block device"
    } else if ft.is_socket() {
        "socket"
    } else {
        "special file"
    }
}

fn check_type(kind: InputKind, path: &Path, ft: std::fs::FileType) -> Result<(), InputError> {
    let what = kind.what();
    if ft.is_file() {
        Ok(())
    } else if ft.is_dir() {
        Err(InputError::IsDirectory { what, path: path.to_path_buf() })
    } else {
        Err(InputError::NotRegular { what, path: path.to_path_buf(), kind: type_name(ft) })
    }
}

/// Checks that `path` is a regular file, without opening it.
pub fn check_file(path: &Path, kind: InputKind) -> Result<(), InputError> {
    let what = kind.what();
    let meta = std::fs::metadata(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => InputError::NotFound { what, path: path.to_path_buf() },
        _ => InputError::Io { what, path: path.to_path_buf(), source },
    })?;
    check_type(kind, path, meta.file_type())
}

/// Reads a regular file of at most `kind.limit()` bytes.
pub fn read_bytes(path: &Path, kind: InputKind) -> Result<Vec<u8>, InputError> {
    let what = kind.what();
    let io = |source: std::io::Error| match source.kind() {
        std::io::ErrorKind::NotFound => InputError::NotFound { what, path: path.to_path_buf() },
        _ => InputError::Io { what, path: path.to_path_buf(), source },
    };
    // The type is checked before opening because opening a FIFO blocks
    // until a writer appears; O_NONBLOCK and the check on the opened file
    // cover a file swapped in between.
    check_type(kind, path, std::fs::metadata(path).map_err(io)?.file_type())?;
    let file = File::options().read(true).custom_flags(libc::O_NONBLOCK).open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    check_type(kind, path, meta.file_type())?;
    let limit = kind.limit();
    if meta.len() > limit {
        return Err(InputError::TooLarge { what, path: path.to_path_buf(), limit });
    }
    let mut data = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    // A file can grow after the size check: read one byte past the cap to tell.
    file.take(limit + 1).read_to_end(&mut data).map_err(io)?;
    if data.len() as u64 > limit {
        return Err(InputError::TooLarge { what, path: path.to_path_buf(), limit });
    }
    Ok(data)
}

/// Reads a regular UTF-8 text file of at most `kind.limit()` bytes; an
/// invalid byte is reported with its line and column.
pub fn read_text(path: &Path, kind: InputKind) -> Result<String, InputError> {
    let data = read_bytes(path, kind)?;
    String::from_utf8(data).map_err(|e| {
        let bytes = e.as_bytes();
        let offset = e.utf8_error().valid_up_to();
        let (line, column) = line_column(bytes, offset);
        InputError::NotUtf8 {
            what: kind.what(),
            path: path.to_path_buf(),
            line,
            column,
            offset,
            lossy: String::from_utf8_lossy(bytes).into_owned(),
        }
    })
}

/// The 1-based line and character column of byte `offset`, whose prefix is
/// valid UTF-8.
fn line_column(bytes: &[u8], offset: usize) -> (usize, usize) {
    let prefix = &bytes[..offset.min(bytes.len())];
    let line_start = prefix.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let line = prefix.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = std::str::from_utf8(&prefix[line_start..]).map_or(1, |s| s.chars().count() + 1);
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_devices_directories_and_missing_files() {
        let e = read_bytes(Path::new("/dev/zero"), InputKind::Plan).unwrap_err();
        assert!(e.to_string().contains("is not a regular file (it is a character device)"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let e = read_bytes(dir.path(), InputKind::Report).unwrap_err();
        assert!(e.to_string().ends_with("is a directory"), "{e}");
        let e = read_bytes(&dir.path().join("nope"), InputKind::Firmware).unwrap_err();
        assert!(matches!(e, InputError::NotFound { .. }) && e.to_string().ends_with("not found"), "{e}");
    }

    #[test]
    fn refuses_a_fifo_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: `c` is a valid NUL-terminated path that outlives the call.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = read_bytes(&fifo, InputKind::Plan).unwrap_err();
        assert!(e.to_string().contains("(it is a FIFO)"), "{e}");
    }

    #[test]
    fn caps_the_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.yaml");
        let f = File::create(&path).unwrap();
        f.set_len(MAX_PLAN_BYTES + 1).unwrap();
        let e = read_bytes(&path, InputKind::Plan).unwrap_err();
        assert!(matches!(e, InputError::TooLarge { limit: MAX_PLAN_BYTES, .. }), "{e}");
        assert_eq!(read_bytes(&path, InputKind::Report).unwrap().len() as u64, MAX_PLAN_BYTES + 1);
    }

    #[test]
    fn invalid_utf8_has_a_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.yaml");
        std::fs::write(&path, b"name: x\nsteps: \xc3\xa9\xff\n").unwrap();
        match read_text(&path, InputKind::Plan).unwrap_err() {
            InputError::NotUtf8 { line, column, offset, .. } => {
                assert_eq!((line, column, offset), (2, 9, 17));
            }
            e => panic!("{e}"),
        }
    }
}
