//! Checks of the command line against the plans, made before anything
//! runs (each failure is a usage error, exit 2): a `--var` that no plan
//! declares or reads, a `--tags`/`--skip-tags` tag that no step carries,
//! and an output file that would overwrite an input (a plan, an included
//! file, a report being read) or another output.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use nvmeplan::ValidatedPlan;
use nvmeplan::diagnostic::did_you_mean;

/// Every `--var` name is declared or read by at least one plan.
pub fn vars_used<'a>(
    vars: impl IntoIterator<Item = &'a String>,
    variables: &BTreeSet<String>,
) -> Result<(), String> {
    for name in vars {
        if !variables.contains(name) {
            let known = if variables.is_empty() {
                "the plans have no variables".to_string()
            } else {
                format!("the plans' variables: {}", variables.iter().cloned().collect::<Vec<_>>().join(", "))
            };
            return Err(format!(
                "`--var {name}`: no plan declares or uses a variable `{name}`{} ({known})",
                did_you_mean(name, variables)
            ));
        }
    }
    Ok(())
}

/// Every tag the plans' steps carry, their own and inherited from their
/// groups and plan.
pub fn step_tags(plan: &ValidatedPlan) -> BTreeSet<String> {
    let mut tags = BTreeSet::new();
    let steps = plan.walk();
    if !steps.is_empty() {
        tags.extend(plan.tags.iter().cloned());
    }
    for step in steps {
        tags.extend(step.tags.iter().cloned());
    }
    tags
}

/// Every tag of `--tags` (`flag`) matches a step of some plan.
pub fn tags_match(flag: &str, wanted: &[String], tags: &BTreeSet<String>) -> Result<(), String> {
    for tag in wanted {
        if !tags.contains(tag) {
            let known = if tags.is_empty() {
                "no step has a tag".to_string()
            } else {
                format!("the steps' tags: {}", tags.iter().cloned().collect::<Vec<_>>().join(", "))
            };
            return Err(format!(
                "`{flag} {tag}`: no step is tagged `{tag}`{} ({known})",
                did_you_mean(tag, tags)
            ));
        }
    }
    Ok(())
}

/// A file a command writes.
#[derive(Debug, Clone)]
pub struct Output {
    /// The option that asks for it (`--html`, `--out`).
    pub flag: &'static str,
    /// The option's value.
    pub given: PathBuf,
    /// The file written (the value, or a file in the directory it names).
    pub path: PathBuf,
}

impl Output {
    /// An output option naming the file itself.
    pub fn file(flag: &'static str, path: &Path) -> Output {
        Output { flag, given: path.to_path_buf(), path: path.to_path_buf() }
    }

    fn describe(&self) -> String {
        if self.given == self.path {
            format!("`{} {}`", self.flag, self.given.display())
        } else {
            format!("`{} {}` writes `{}`, which", self.flag, self.given.display(), self.path.display())
        }
    }
}

/// No output is an input (`(what, path)`, such as `("the plan", p)`) or
/// another output.
pub fn outputs_distinct(inputs: &[(&str, PathBuf)], outputs: &[Output]) -> Result<(), String> {
    for (i, out) in outputs.iter().enumerate() {
        if let Some((what, input)) = inputs.iter().find(|(_, input)| same_file(&out.path, input)) {
            return Err(format!("{} would overwrite {what} `{}`", out.describe(), input.display()));
        }
        if let Some(other) = outputs[..i].iter().find(|o| same_file(&o.path, &out.path)) {
            return Err(format!(
                "{} would overwrite the output of `{} {}`",
                out.describe(),
                other.flag,
                other.given.display()
            ));
        }
    }
    Ok(())
}

/// Whether two paths name one file: the same inode when both exist,
/// else the same absolute path with symbolic links resolved as far as the
/// path exists.
pub fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => (x.dev(), x.ino()) == (y.dev(), y.ino()),
        _ => resolved(a) == resolved(b),
    }
}

fn resolved(path: &Path) -> PathBuf {
    if let Ok(real) = path.canonicalize() {
        return real;
    }
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => {
            let parent = if parent.as_os_str().is_empty() { Path::new(".") } else { parent };
            resolved(parent).join(name)
        }
        _ => std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_name_one_file() {
        let dir = tempfile::tempdir().unwrap();
        let plan = dir.path().join("p.yaml");
        std::fs::write(&plan, "x").unwrap();
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        assert!(same_file(&plan, &sub.join("..").join("p.yaml")));
        assert!(same_file(&sub.join("new.xml"), &dir.path().join("sub/./new.xml")));
        assert!(!same_file(&plan, &sub.join("p.yaml")));
        assert!(same_file(&dir.path().join("a/b/c"), &dir.path().join("a/b/c")));
    }

    #[test]
    fn an_output_may_not_be_an_input_or_another_output() {
        let inputs = [("the report", PathBuf::from("/x/r.json"))];
        let html = Output::file("--html", Path::new("/x/r.json"));
        let e = outputs_distinct(&inputs, &[html]).unwrap_err();
        assert_eq!(e, "`--html /x/r.json` would overwrite the report `/x/r.json`");
        let out = Output { flag: "--out", given: "/x".into(), path: "/x/junit.xml".into() };
        let junit = Output::file("--junit", Path::new("/x/junit.xml"));
        let e = outputs_distinct(&[], &[out.clone(), junit]).unwrap_err();
        assert_eq!(e, "`--junit /x/junit.xml` would overwrite the output of `--out /x`");
        let e = outputs_distinct(&[("the plan", "/x/junit.xml".into())], &[out]).unwrap_err();
        assert_eq!(e, "`--out /x` writes `/x/junit.xml`, which would overwrite the plan `/x/junit.xml`");
    }

    #[test]
    fn unknown_names_are_refused_with_a_suggestion() {
        let names: BTreeSet<String> = ["blocks".to_string(), "qd".to_string()].into();
        assert!(vars_used(&["qd".to_string()], &names).is_ok());
        let e = vars_used(&["block".to_string()], &names).unwrap_err();
        assert!(e.contains("no plan declares or uses a variable `block` (did you mean `blocks`?)"), "{e}");
        let e = tags_match("--skip-tags", &["smok".to_string()], &["smoke".to_string()].into()).unwrap_err();
        assert!(e.starts_with("`--skip-tags smok`: no step is tagged `smok` (did you mean `smoke`?)"), "{e}");
    }
}
