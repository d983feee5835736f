//! Reading and writing `report.json`.
//!
//! Writes are atomic and durable: the text goes to a temporary file in the
//! target's directory, which is synced and then renamed over the target, so
//! a reader, a run killed mid-write or a power loss never leaves a
//! half-written report.

use std::io::Write as _;
use std::path::Path;

use crate::{REPORT_VERSION, Report, ReportError};

/// The report's file name in a run's output directory.
pub const REPORT_FILE: &str = "report.json";

/// Writes `contents` to `path` atomically and durably: a temporary file
/// next to it, flushed to stable storage (`fsync`), then renamed over
/// `path`, then the directory flushed so the rename survives a power loss.
/// Creates the parent directory.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), ReportError> {
    let err = |source| ReportError::Io { action: "write", path: path.to_path_buf(), source };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(err)?;
    let name = path.file_name().map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = std::fs::File::create(&tmp).and_then(|mut file| {
        file.write_all(contents)?;
        file.sync_all()
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(err(e));
    }
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(err(e));
    }
    sync_dir(&dir).map_err(err)
}

/// Flushes a directory's entries (a rename in it) to stable storage.
/// File systems that cannot sync a directory (`EINVAL`) are accepted:
/// the file itself was synced.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    match std::fs::File::open(dir).and_then(|d| d.sync_all()) {
        Err(e)
            if e.kind() == std::io::ErrorKind::InvalidInput
                || e.kind() == std::io::ErrorKind::Unsupported =>
        {
            Ok(())
        }
        other => other,
    }
}

/// The report as pretty-printed JSON with a trailing newline.
pub fn to_string(report: &Report) -> Result<String, ReportError> {
    let mut text = serde_json::to_string_pretty(report)
        .map_err(|e| ReportError::Render { what: "JSON", message: e.to_string() })?;
    text.push('\n');
    Ok(text)
}

/// Writes the report to `path` atomically.
pub fn write(path: &Path, report: &Report) -> Result<(), ReportError> {
    write_atomic(path, to_string(report)?.as_bytes())
}

/// Parses report JSON; `path` names the source in errors. Refuses a
/// `report_version` other than [`REPORT_VERSION`].
pub fn parse(path: &Path, text: &str) -> Result<Report, ReportError> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|source| ReportError::Parse { path: path.to_path_buf(), source })?;
    if let Some(found) = value.get("report_version").and_then(serde_json::Value::as_u64)
        && found != u64::from(REPORT_VERSION)
    {
        return Err(ReportError::Version { path: path.to_path_buf(), found, supported: REPORT_VERSION });
    }
    serde_json::from_value(value).map_err(|source| ReportError::Parse { path: path.to_path_buf(), source })
}

/// Reads a report file.
pub fn read(path: &Path) -> Result<Report, ReportError> {
    let text = std::fs::read_to_string(path).map_err(|source| ReportError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })?;
    parse(path, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_is_atomic_and_round_trips() {
        let dir = std::env::temp_dir().join(format!("nvmeplan-reports-json-{}", std::process::id()));
        let path = dir.join("sub").join(REPORT_FILE);
        let mut report = Report::new_empty("p");
        write(&path, &report).unwrap();
        report.complete = true;
        write(&path, &report).unwrap();
        assert_eq!(read(&path).unwrap(), report);
        let names: Vec<_> =
            std::fs::read_dir(path.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, [REPORT_FILE]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn other_versions_and_bad_json_are_refused() {
        let p = Path::new("r.json");
        let mut v = serde_json::to_value(Report::new_empty("p")).unwrap();
        v["report_version"] = 99.into();
        let e = parse(p, &v.to_string()).unwrap_err();
        assert!(e.to_string().contains("report_version 99"), "{e}");
        let e = parse(p, "{ nope").unwrap_err();
        assert!(e.to_string().contains("r.json") && e.to_string().contains("line 1"), "{e}");
        let e = parse(p, "{}").unwrap_err();
        assert!(e.to_string().contains("missing field"), "{e}");
    }
}
