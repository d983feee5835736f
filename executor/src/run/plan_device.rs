//! The device URI of a run, and where a plan's simulator may keep its
//! image.
//!
//! The command line's `--device` may name any place. A plan's `device:` is
//! written by whoever wrote the plan, so its simulator image (`file=` or
//! `dir=`) must lie inside the plan's directory: a relative path is
//! resolved against that directory, and an absolute path, a `..` step or a
//! symbolic link leading out of it is refused.

use std::path::{Component, Path, PathBuf};

use nvmeplan_device::DeviceUri;

use crate::expand::ValidatedPlan;

/// The device URI for running `plan` (read from `plan_path`): the command
/// line's `cli`, else the plan's `device` with its image paths resolved
/// against the plan's directory, else `sim`, parsed ([`DeviceUri`]); `Err`
/// is a usage error naming the problem.
pub fn run_device_uri(
    plan: &ValidatedPlan,
    plan_path: &Path,
    cli: Option<&str>,
) -> Result<DeviceUri, String> {
    let uri = match (cli, &plan.device) {
        (Some(uri), _) => uri.to_string(),
        (None, Some(uri)) => {
            let dir = plan_path.parent().unwrap_or(Path::new(""));
            confine_to_plan_dir(uri, dir)?
        }
        (None, None) => super::DEFAULT_DEVICE.to_string(),
    };
    DeviceUri::parse(&uri).map_err(|e| e.to_string())
}

/// A plan's device URI with its `file=` and `dir=` paths resolved against
/// `plan_dir`; `Err` when one leaves it.
pub fn confine_to_plan_dir(uri: &str, plan_dir: &Path) -> Result<String, String> {
    let trimmed = uri.trim();
    let Some(params) = trimmed.strip_prefix("sim:") else { return Ok(uri.to_string()) };
    let mut items = Vec::new();
    for item in params.split(',') {
        let Some((key, value)) = item.split_once('=') else {
            items.push(item.to_string());
            continue;
        };
        let key_name = key.trim().to_ascii_lowercase();
        if key_name != "file" && key_name != "dir" {
            items.push(item.to_string());
            continue;
        }
        let value = value.trim();
        let resolved = resolve(value, plan_dir).map_err(|why| {
            format!(
                "device `{uri}` in the plan: `{key_name}={value}` {why}; a plan's device may only keep its \
                 image inside the plan's directory ({}); use --device to choose another place",
                shown(plan_dir).display()
            )
        })?;
        let text = resolved.to_str().filter(|t| !t.contains(',')).ok_or_else(|| {
            format!(
                "device `{uri}` in the plan: the image path {} cannot be written in a URI",
                resolved.display()
            )
        })?;
        items.push(format!("{}={text}", key.trim()));
    }
    Ok(format!("sim:{}", items.join(",")))
}

fn shown(dir: &Path) -> &Path {
    if dir.as_os_str().is_empty() { Path::new(".") } else { dir }
}

/// `value` joined to `plan_dir`, when it stays inside it.
fn resolve(value: &str, plan_dir: &Path) -> Result<PathBuf, &'static str> {
    let path = Path::new(value);
    if path.is_absolute() {
        return Err("is an absolute path");
    }
    if path
        .components()
        .any(|c| matches!(c, Component::ParentDir | Component::Prefix(_) | Component::RootDir))
    {
        return Err("leaves the plan's directory (`..`)");
    }
    let resolved = plan_dir.join(path);
    // Symbolic links: the deepest part of the path that exists must still
    // be inside the plan's directory once links are followed.
    if let Ok(root) = shown(plan_dir).canonicalize() {
        let existing = resolved.ancestors().find(|p| !p.as_os_str().is_empty() && p.exists());
        if let Some(existing) = existing
            && let Ok(real) = existing.canonicalize()
            && !real.starts_with(&root)
        {
            return Err("leads out of the plan's directory through a symbolic link");
        }
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_resolve_against_the_plan_directory() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let uri = confine_to_plan_dir("sim:capacity=64M,file=disk.img,vwc=on", d).unwrap();
        assert_eq!(uri, format!("sim:capacity=64M,file={},vwc=on", d.join("disk.img").display()));
        let uri = confine_to_plan_dir("sim:DIR = images/set", d).unwrap();
        assert_eq!(uri, format!("sim:DIR={}", d.join("images/set").display()));
        assert_eq!(confine_to_plan_dir("sim:capacity=1G", d).unwrap(), "sim:capacity=1G");
        assert_eq!(confine_to_plan_dir("pci:0000:01:00.0", d).unwrap(), "pci:0000:01:00.0");
        assert_eq!(confine_to_plan_dir("sim:file=a.img", Path::new("")).unwrap(), "sim:file=a.img");
    }

    #[test]
    fn paths_leaving_the_plan_directory_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("plans");
        std::fs::create_dir(&d).unwrap();
        let e = confine_to_plan_dir("sim:file=/etc/passwd", &d).unwrap_err();
        assert!(e.contains("file=/etc/passwd") && e.contains("absolute") && e.contains("--device"), "{e}");
        let e = confine_to_plan_dir("sim:dir=x/../../elsewhere", &d).unwrap_err();
        assert!(e.contains("leaves the plan's directory"), "{e}");
        std::os::unix::fs::symlink(dir.path(), d.join("out")).unwrap();
        let e = confine_to_plan_dir("sim:file=out/disk.img", &d).unwrap_err();
        assert!(e.contains("symbolic link"), "{e}");
    }
}
