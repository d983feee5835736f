//! Durable file updates: data synced to stable storage, files replaced
//! atomically and durably.
//!
//! This module owns the two ways the simulator makes what it wrote survive
//! a crash of the host: [`sync_data`] (`fdatasync`) for an image file after
//! a Flush or a FUA write, and [`replace_file`] for the small files beside
//! the images (`state.json`, the marks sidecar): write a temporary file,
//! sync it, rename it over the old one, then sync the directory so that the
//! rename itself is on stable storage.
//!
//! In unit tests every sync and rename is also recorded per thread, so a
//! test can check that they happen, and in which order.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A failed step of [`replace_file`].
#[derive(Debug, thiserror::Error)]
#[error("cannot {op} {}: {source}", path.display())]
pub(crate) struct ReplaceError {
    /// The file or directory concerned.
    pub path: PathBuf,
    /// What was attempted.
    pub op: &'static str,
    /// The underlying error.
    pub source: std::io::Error,
}

/// Writes the data of `file` to stable storage (`fdatasync`).
pub(crate) fn sync_data(file: &File, path: &Path) -> std::io::Result<()> {
    record(Event::SyncFile(path.to_path_buf()));
    file.sync_data()
}

/// Replaces `path` with `bytes` atomically and durably: `<path>.tmp` is
/// written and synced, renamed to `path`, and the directory is synced.
pub(crate) fn replace_file(path: &Path, bytes: &[u8]) -> Result<(), ReplaceError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut file = File::create(&tmp).map_err(fail(&tmp, "create"))?;
    file.write_all(bytes).map_err(fail(&tmp, "write"))?;
    record(Event::SyncFile(tmp.clone()));
    file.sync_all().map_err(fail(&tmp, "sync"))?;
    drop(file);
    record(Event::Rename(path.to_path_buf()));
    std::fs::rename(&tmp, path).map_err(fail(path, "replace"))?;
    sync_dir(path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")))
}

fn fail<'a>(path: &'a Path, op: &'static str) -> impl FnOnce(std::io::Error) -> ReplaceError + 'a {
    move |source| ReplaceError { path: path.to_path_buf(), op, source }
}

/// Syncs a directory, making the renames and removals in it durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), ReplaceError> {
    record(Event::SyncDir(dir.to_path_buf()));
    File::open(dir)
        .map_err(fail(dir, "open the directory"))?
        .sync_all()
        .map_err(fail(dir, "sync the directory"))
}

/// A recorded sync or rename (unit tests only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Event {
    /// A file's data (or data and metadata) was synced.
    SyncFile(PathBuf),
    /// A temporary file was renamed to this path.
    Rename(PathBuf),
    /// A directory was synced.
    SyncDir(PathBuf),
}

#[cfg(test)]
thread_local! {
    static EVENTS: std::cell::RefCell<Vec<Event>> = const { std::cell::RefCell::new(Vec::new()) };
}

#[cfg(test)]
fn record(event: Event) {
    EVENTS.with(|e| e.borrow_mut().push(event));
}

#[cfg(not(test))]
fn record(_event: Event) {}

/// Takes the events this thread recorded so far (unit tests only).
#[cfg(test)]
pub(crate) fn take_events() -> Vec<Event> {
    EVENTS.with(|e| std::mem::take(&mut *e.borrow_mut()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replaced_file_is_synced_renamed_then_its_directory_synced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        std::fs::write(&path, "old").unwrap();
        take_events();
        replace_file(&path, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert!(!dir.path().join("state.json.tmp").exists());
        assert_eq!(
            take_events(),
            vec![
                Event::SyncFile(dir.path().join("state.json.tmp")),
                Event::Rename(path.clone()),
                Event::SyncDir(dir.path().to_path_buf()),
            ]
        );
    }

    #[test]
    fn a_failed_replace_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = replace_file(&dir.path().join("missing/state.json"), b"x").unwrap_err();
        assert!(err.to_string().contains("missing/state.json.tmp"), "{err}");
    }
}
