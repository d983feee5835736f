//! Where a plan may point: `include` paths and `firmware_download { file }`
//! resolve relative to the plan, and must stay inside the directory of the
//! plan given on the command line. An absolute path, or a path that leaves
//! that directory (`..`, a symlink), is refused unless an `--allow-path DIR`
//! contains it. Paths are judged after canonicalization, so `a/../../x`
//! and symlinks count by where they lead.

use std::path::{Path, PathBuf};

use super::{InputError, InputKind};

/// The directories a plan may read from.
#[derive(Debug, Clone, Default)]
pub struct PathPolicy {
    /// The directory of the plan given on the command line.
    pub root: PathBuf,
    /// `--allow-path` directories.
    pub allowed: Vec<PathBuf>,
}

/// A path a plan named, resolved and allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The path as messages show it: joined to the including file's directory.
    pub path: PathBuf,
    /// The canonical path, which is what is read.
    pub canonical: PathBuf,
}

/// Why a path a plan named is not read.
#[derive(Debug, thiserror::Error)]
pub enum PathError {
    /// An absolute path outside every `--allow-path` directory.
    #[error("{what} `{}` is an absolute path; pass --allow-path DIR with a directory that contains it", path.display())]
    Absolute {
        /// What the file is.
        what: &'static str,
        /// The path.
        path: PathBuf,
    },
    /// A relative path that leads out of the plan's directory.
    #[error(
        "{what} `{}` is outside the plan's directory `{}`; pass --allow-path DIR with a directory that contains it",
        path.display(), root.display()
    )]
    Outside {
        /// What the file is.
        what: &'static str,
        /// The path.
        path: PathBuf,
        /// The plan's directory.
        root: PathBuf,
    },
    /// The file is missing, or cannot be examined.
    #[error(transparent)]
    Input(#[from] InputError),
}

/// The directory of a plan file, `.` for a bare file name.
pub fn plan_dir(plan: &Path) -> PathBuf {
    match plan.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

impl PathPolicy {
    /// The policy of the plan at `plan` with `--allow-path` directories.
    pub fn for_plan(plan: &Path, allowed: &[PathBuf]) -> Self {
        PathPolicy { root: plan_dir(plan), allowed: allowed.to_vec() }
    }

    /// Resolves `raw`, written in a file in directory `from`, and checks
    /// that it may be read. A missing file is [`InputError::NotFound`];
    /// what kind of file it is, is left to the reader.
    pub fn resolve(&self, from: &Path, raw: &str, kind: InputKind) -> Result<Resolved, PathError> {
        let what = kind.what();
        let given = Path::new(raw);
        let path = if given.is_absolute() { given.to_path_buf() } else { from.join(given) };
        let canonical = path.canonicalize().map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => InputError::NotFound { what, path: path.clone() },
            _ => InputError::Io { what, path: path.clone(), source },
        })?;
        let inside = |dir: &Path| dir.canonicalize().is_ok_and(|d| canonical.starts_with(d));
        if self.allowed.iter().any(|d| inside(d)) {
            return Ok(Resolved { path, canonical });
        }
        if given.is_absolute() {
            return Err(PathError::Absolute { what, path });
        }
        if !inside(&self.root) {
            return Err(PathError::Outside { what, path, root: self.root.clone() });
        }
        Ok(Resolved { path, canonical })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_outside_absolute_and_allowed() {
        let tmp = tempfile::tempdir().unwrap();
        let plans = tmp.path().join("plans");
        let other = tmp.path().join("other");
        std::fs::create_dir_all(plans.join("common")).unwrap();
        std::fs::create_dir_all(&other).unwrap();
        std::fs::write(plans.join("common/a.yaml"), "").unwrap();
        std::fs::write(other.join("b.yaml"), "").unwrap();
        std::os::unix::fs::symlink(other.join("b.yaml"), plans.join("link.yaml")).unwrap();
        let policy = PathPolicy::for_plan(&plans.join("main.yaml"), &[]);
        let k = InputKind::Include;
        let ok = policy.resolve(&plans, "common/a.yaml", k).unwrap();
        assert_eq!(ok.path, plans.join("common/a.yaml"));
        // `..` that stays inside is fine; out of it is not.
        assert!(policy.resolve(&plans.join("common"), "../common/a.yaml", k).is_ok());
        let e = policy.resolve(&plans, "../other/b.yaml", k).unwrap_err();
        assert!(matches!(e, PathError::Outside { .. }), "{e}");
        assert!(matches!(policy.resolve(&plans, "link.yaml", k), Err(PathError::Outside { .. })));
        let abs = other.join("b.yaml");
        let e = policy.resolve(&plans, abs.to_str().unwrap(), k).unwrap_err();
        assert!(e.to_string().contains("is an absolute path; pass --allow-path DIR"), "{e}");
        let e = policy.resolve(&plans, "missing.yaml", k).unwrap_err();
        assert!(e.to_string().ends_with("not found"), "{e}");
        let allowed = PathPolicy::for_plan(&plans.join("main.yaml"), std::slice::from_ref(&other));
        assert!(allowed.resolve(&plans, abs.to_str().unwrap(), k).is_ok());
        assert!(allowed.resolve(&plans, "../other/b.yaml", k).is_ok());
        assert!(allowed.resolve(&plans, "link.yaml", k).is_ok());
    }
}
