//! The image set of a file-backed device: where it may live, whether what
//! is there is ours, and the lock that keeps two devices off it.
//!
//! An image set is what `SimConfig::storage` names: the namespace images,
//! their marks sidecars, the state file (`state.json`, or
//! `<file>.state.json` beside an image file) and a lock file (`lock`, or
//! `<file>.lock`). The state file is what identifies the set as ours: an
//! existing image without a state file beside it is not ours and is never
//! opened. [`open`] runs before any namespace is opened, in this order:
//!
//! 1. The directory holding the set must exist (for `dir=`, the
//!    directory's parent; the directory itself is created when the set is).
//!    No directory is ever created beyond that one.
//! 2. The lock file is created (or reused) and locked with `flock`
//!    (exclusive, non-blocking). A set locked by another open device, in
//!    this process or another, is refused with the PID the lock file
//!    holds; the lock is released when the device is dropped.
//! 3. With a state file: every namespace it lists must have its image, a
//!    regular file of the stored size; with explicit layout parameters
//!    (`capacity`, `nssize`, `lba`, `namespaces`) the stored namespaces
//!    must be the ones asked for. `create=yes` refuses an existing set.
//! 4. Without one: no image (or sidecar) of the new set may exist yet;
//!    `create=no` refuses to create the set.

use crate::SimError;
use crate::config::{CreateMode, SimConfig, Storage};
use crate::health::PersistedState;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The largest lock file accepted as ours (a PID and a newline).
const MAX_LOCK_BYTES: u64 = 32;

/// The held lock of an image set; dropping it releases the lock.
#[derive(Debug)]
pub(crate) struct ImageLock {
    /// The open, locked lock file (`flock` locks belong to the open file
    /// and end when it is closed).
    _file: File,
}

fn refused(path: &Path, reason: impl Into<String>) -> SimError {
    SimError::Image { path: path.to_path_buf(), reason: reason.into() }
}

fn io(path: &Path, source: std::io::Error) -> SimError {
    SimError::Io { path: path.to_path_buf(), source }
}

/// Checks, locks and loads the image set `storage` of a device built from
/// `cfg` (see the module documentation); the saved state when there is one.
pub(crate) fn open(
    cfg: &SimConfig,
    storage: &Storage,
) -> Result<(ImageLock, Option<PersistedState>), SimError> {
    prepare_directory(cfg, storage)?;
    let lock = lock(&storage.lock_path())?;
    let saved = crate::health::load_state(storage)?;
    match &saved {
        Some(state) => check_existing(cfg, storage, state)?,
        None => check_new(cfg, storage)?,
    }
    Ok((lock, saved))
}

/// Step 1: the directory holding the set exists (and, for `dir=`, the
/// directory itself, created when the set may be).
fn prepare_directory(cfg: &SimConfig, storage: &Storage) -> Result<(), SimError> {
    let (path, is_dir) = match storage {
        Storage::Dir(dir) => (dir.as_path(), true),
        Storage::File(file) => (file.as_path(), false),
    };
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !parent.is_dir() {
        return Err(refused(
            parent,
            format!("the directory for {} does not exist (nvmeplan does not create it)", path.display()),
        ));
    }
    if !is_dir {
        return Ok(());
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(refused(path, "exists but is not a directory")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if cfg.create == CreateMode::Existing {
                return Err(refused(path, "there is no simulator image set here (create=no opens one only)"));
            }
            match std::fs::create_dir(path) {
                Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(io(path, e)),
                _ => Ok(()),
            }
        }
        Err(e) => Err(io(path, e)),
    }
}

/// Step 2: takes the lock and writes this process's PID into the lock file.
fn lock(path: &Path) -> Result<ImageLock, SimError> {
    if let Ok(meta) = std::fs::symlink_metadata(path)
        && (!meta.file_type().is_file() || meta.len() > MAX_LOCK_BYTES)
    {
        return Err(refused(path, "exists but is not an nvmeplan simulator lock file"));
    }
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| io(path, e))?;
    let mut text = String::new();
    file.read_to_string(&mut text).map_err(|e| io(path, e))?;
    let owner = text.trim();
    if !owner.chars().all(|c| c.is_ascii_digit()) {
        return Err(refused(path, "exists but is not an nvmeplan simulator lock file"));
    }
    if let Err(e) = flock_exclusive(&file) {
        return Err(if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
            SimError::InUse { path: path.to_path_buf(), pid: owner.parse().ok() }
        } else {
            io(path, e)
        });
    }
    let pid = format!("{}\n", std::process::id());
    file.set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| file.write_all(pid.as_bytes()))
        .map_err(|e| io(path, e))?;
    Ok(ImageLock { _file: file })
}

/// `flock(LOCK_EX | LOCK_NB)`: fails with `EWOULDBLOCK` when another open
/// file holds the lock, also one of this process.
fn flock_exclusive(file: &File) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: flock takes a descriptor and flags and touches no memory of
    // ours; the descriptor belongs to `file`, borrowed for the whole call.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
}

fn describe(layout: &[(u32, u64, u32)]) -> String {
    if layout.is_empty() {
        return "no namespaces".into();
    }
    let parts: Vec<String> =
        layout.iter().map(|(nsid, nlb, lba)| format!("ns {nsid}: {nlb} blocks of {lba} bytes")).collect();
    parts.join(", ")
}

/// Step 3: an existing set is opened only as it was stored.
fn check_existing(cfg: &SimConfig, storage: &Storage, state: &PersistedState) -> Result<(), SimError> {
    let state_path = storage.state_path();
    if cfg.create == CreateMode::New {
        return Err(refused(
            &state_path,
            "a simulator image set exists here (create=yes makes a new one only; leave it out to open this one)",
        ));
    }
    for ns in &state.namespaces {
        let path = storage.namespace_path(ns.nsid);
        let size = u128::from(ns.nlb) * u128::from(ns.lba_size);
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if !meta.file_type().is_file() => {
                return Err(refused(&path, "is not a regular file, but the state file lists it as an image"));
            }
            Ok(meta) if u128::from(meta.len()) != size => {
                return Err(refused(
                    &path,
                    format!(
                        "holds {} bytes, but {} records namespace {} as {} blocks of {} bytes ({size} bytes)",
                        meta.len(),
                        state_path.display(),
                        ns.nsid,
                        ns.nlb,
                        ns.lba_size
                    ),
                ));
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(refused(
                    &path,
                    format!("is missing, but {} lists it as namespace {}", state_path.display(), ns.nsid),
                ));
            }
            Err(e) => return Err(io(&path, e)),
        }
    }
    if cfg.explicit_layout {
        let stored: Vec<(u32, u64, u32)> =
            state.namespaces.iter().map(|n| (n.nsid, n.nlb, n.lba_size)).collect();
        let asked: Vec<(u32, u64, u32)> =
            cfg.namespaces.iter().zip(1..).map(|(n, nsid)| (nsid, n.nlb, n.lba_size)).collect();
        if stored != asked {
            return Err(refused(
                &state_path,
                format!(
                    "the stored image set has {}, but the device parameters ask for {}; \
                     leave capacity, nssize, lba and namespaces out to open it as stored",
                    describe(&stored),
                    describe(&asked)
                ),
            ));
        }
    }
    Ok(())
}

/// Step 4: a new set is created only where none of its files exist.
fn check_new(cfg: &SimConfig, storage: &Storage) -> Result<(), SimError> {
    let state_path = storage.state_path();
    let first = storage.namespace_path(1);
    if cfg.create == CreateMode::Existing {
        return Err(refused(
            &first,
            format!(
                "there is no simulator image set here ({} is missing; create=no opens one only)",
                state_path.display()
            ),
        ));
    }
    for nsid in (1..=cfg.namespaces.len() as u32).chain(std::iter::once(1)) {
        let image = storage.namespace_path(nsid);
        let mut marks = image.clone().into_os_string();
        marks.push(".marks");
        for path in [image, PathBuf::from(marks)] {
            if std::fs::symlink_metadata(&path).is_ok() {
                return Err(refused(
                    &path,
                    format!(
                        "exists but is not part of an nvmeplan simulator image set (there is no state file {}); \
                         nvmeplan never overwrites it",
                        state_path.display()
                    ),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::NamespaceConfig;

    fn file_cfg(path: &Path) -> SimConfig {
        SimConfig {
            namespaces: vec![NamespaceConfig { nlb: 64, lba_size: 512 }],
            storage: Some(Storage::File(path.to_path_buf())),
            ..SimConfig::default()
        }
    }

    #[test]
    fn a_second_lock_in_the_same_process_names_the_pid() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = file_cfg(&dir.path().join("disk.img"));
        let storage = cfg.storage.clone().unwrap();
        let (held, _) = open(&cfg, &storage).unwrap();
        let err = open(&cfg, &storage).unwrap_err();
        assert!(matches!(err, SimError::InUse { pid: Some(pid), .. } if pid == std::process::id()), "{err}");
        let text = err.to_string();
        assert!(
            text.contains("disk.img.lock") && text.contains(&format!("in use by PID {}", std::process::id()))
        );
        drop(held);
        open(&cfg, &storage).expect("the lock is released with its holder");
    }

    #[test]
    fn foreign_files_are_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let image = dir.path().join("disk.img");
        std::fs::write(&image, b"precious").unwrap();
        let cfg = file_cfg(&image);
        let err = open(&cfg, cfg.storage.as_ref().unwrap()).unwrap_err().to_string();
        assert!(
            err.contains("disk.img") && err.contains("not part of an nvmeplan simulator image set"),
            "{err}"
        );
        assert_eq!(std::fs::read(&image).unwrap(), b"precious");
        // A foreign lock file too.
        let other = dir.path().join("other.img");
        std::fs::write(dir.path().join("other.img.lock"), b"my notes").unwrap();
        let cfg = file_cfg(&other);
        let err = open(&cfg, cfg.storage.as_ref().unwrap()).unwrap_err().to_string();
        assert!(
            err.contains("other.img.lock") && err.contains("not an nvmeplan simulator lock file"),
            "{err}"
        );
        assert_eq!(std::fs::read(dir.path().join("other.img.lock")).unwrap(), b"my notes");
    }

    #[test]
    fn missing_parents_are_errors_and_never_created() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = file_cfg(&dir.path().join("no/such/disk.img"));
        let err = open(&cfg, cfg.storage.as_ref().unwrap()).unwrap_err().to_string();
        assert!(err.contains("no/such") && err.contains("does not exist"), "{err}");
        assert!(!dir.path().join("no").exists());
        let cfg = SimConfig { storage: Some(Storage::Dir(dir.path().join("a/b"))), ..SimConfig::default() };
        let err = open(&cfg, cfg.storage.as_ref().unwrap()).unwrap_err().to_string();
        assert!(err.contains("does not exist"), "{err}");
        assert!(!dir.path().join("a").exists());
        // The set's own directory is created (its parent exists).
        let cfg = SimConfig { storage: Some(Storage::Dir(dir.path().join("set"))), ..SimConfig::default() };
        open(&cfg, cfg.storage.as_ref().unwrap()).unwrap();
        assert!(dir.path().join("set/lock").is_file());
    }

    #[test]
    fn create_modes() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = SimConfig { create: CreateMode::Existing, ..file_cfg(&dir.path().join("disk.img")) };
        let err = open(&cfg, cfg.storage.as_ref().unwrap()).unwrap_err().to_string();
        assert!(err.contains("create=no"), "{err}");
        let cfg = SimConfig {
            create: CreateMode::Existing,
            storage: Some(Storage::Dir(dir.path().join("d"))),
            ..cfg
        };
        let err = open(&cfg, cfg.storage.as_ref().unwrap()).unwrap_err().to_string();
        assert!(err.contains("create=no"), "{err}");
        assert!(!dir.path().join("d").exists());
    }
}
