//! The files of `nvmeplan run`: with `--out DIR`, each plan's
//! `report.json` (kept up to date by the runner while the plan runs) and
//! `report.html` (written when the plan ends, also when it was stopped),
//! `junit.xml` and the tracing log `run.log`; `--junit FILE` puts the JUnit elsewhere.
//! With several plans each report goes to `DIR/<plan file stem>/`, plans
//! with the same stem getting `DIR/<stem>-2/`, `DIR/<stem>-3/`, ..., and
//! `junit.xml` holds one test suite per plan.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use nvmeplan_reports::junit::JUNIT_FILE;

use super::checks::Output;
use super::end_reports::{EndReporter, EndReports};

/// The tracing log's name in the output directory.
pub const LOG_FILE: &str = "run.log";

/// Where a run's outputs go.
pub struct RunOutputs {
    out: Option<PathBuf>,
    paths: OutputPaths,
    end: EndReports,
}

/// The report files of a run (paths only, no state), for whoever must
/// write them: the run loop, and the second Ctrl-C (`cli::interrupt`).
#[derive(Debug, Clone, Default)]
pub struct OutputPaths {
    /// The report directory of each plan, in the order given (empty
    /// without `--out`).
    pub dirs: Vec<PathBuf>,
    /// The JUnit file (`--junit`, else `DIR/junit.xml` with `--out`).
    pub junit: Option<PathBuf>,
}

/// The report folder names of `plans` in an output directory: each file
/// stem, with `-2`, `-3`, ... for a stem already taken.
fn folder_names(plans: &[PathBuf]) -> Vec<String> {
    let stem =
        |p: &PathBuf| p.file_stem().map_or_else(|| "plan".into(), |s| s.to_string_lossy().into_owned());
    let stems: Vec<String> = plans.iter().map(stem).collect();
    let mut taken: BTreeSet<String> = BTreeSet::new();
    let mut names = Vec::with_capacity(stems.len());
    for (i, stem) in stems.iter().enumerate() {
        let mut name = stem.clone();
        let mut n = 1;
        // A suffixed name may not take a later plan's own stem either.
        while taken.contains(&name) || (n > 1 && stems[i + 1..].contains(&name)) {
            n += 1;
            name = format!("{stem}-{n}");
        }
        taken.insert(name.clone());
        names.push(name);
    }
    names
}

impl RunOutputs {
    /// Where the outputs of a run of `plans` go (nothing is created yet).
    pub fn new(out: Option<&Path>, junit: Option<PathBuf>, plans: &[PathBuf]) -> RunOutputs {
        let dirs = match out {
            Some(dir) if plans.len() > 1 => folder_names(plans).into_iter().map(|n| dir.join(n)).collect(),
            Some(dir) => vec![dir.to_path_buf(); plans.len()],
            None => Vec::new(),
        };
        let junit = junit.or_else(|| out.map(|d| d.join(JUNIT_FILE)));
        RunOutputs {
            out: out.map(Path::to_path_buf),
            end: EndReports::new(junit.clone()),
            paths: OutputPaths { dirs, junit },
        }
    }

    /// Every file the run writes, with the option that asks for it.
    pub fn files(&self) -> Vec<Output> {
        let mut files = Vec::new();
        if let Some(out) = &self.out {
            let file = |path: PathBuf| Output { flag: "--out", given: out.clone(), path };
            files.push(file(out.clone()));
            files.push(file(out.join(LOG_FILE)));
            for dir in &self.paths.dirs {
                files.push(file(dir.join(nvmeplan_reports::json::REPORT_FILE)));
                files.push(file(dir.join(nvmeplan_reports::html::REPORT_HTML_FILE)));
            }
        }
        match (&self.paths.junit, &self.out) {
            (Some(junit), Some(out)) if *junit == out.join(JUNIT_FILE) => {
                files.push(Output { flag: "--out", given: out.clone(), path: junit.clone() });
            }
            (Some(junit), _) => files.push(Output::file("--junit", junit)),
            (None, _) => {}
        }
        files
    }

    /// Creates the output directory and starts logging to `DIR/run.log`.
    pub fn create(&self) -> anyhow::Result<()> {
        if let Some(dir) = &self.out {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
            let log = dir.join(LOG_FILE);
            let file =
                std::fs::File::create(&log).with_context(|| format!("cannot create `{}`", log.display()))?;
            let subscriber = tracing_subscriber::fmt()
                .with_writer(std::sync::Mutex::new(file))
                .with_ansi(false)
                .with_max_level(tracing::Level::DEBUG)
                .finish();
            // Only the first subscriber of the process is installed; a
            // second run in the same process logs to the first file.
            let _ = tracing::subscriber::set_global_default(subscriber);
        }
        Ok(())
    }

    /// The report files of the run.
    pub fn paths(&self) -> &OutputPaths {
        &self.paths
    }

    /// The directory of the report of the `index`th plan (`None` without `--out`).
    pub fn report_dir(&self, index: usize) -> Option<PathBuf> {
        self.paths.dirs.get(index).cloned()
    }

    /// The sink that writes the HTML report of the `index`th plan and
    /// rewrites the JUnit file with every plan so far when that plan ends.
    pub fn end_reporter(&mut self, index: usize) -> EndReporter<'_> {
        let dir = self.report_dir(index);
        self.end.reporter(dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_with_one_stem_get_their_own_folders() {
        let plans: Vec<PathBuf> = ["a/smoke.yaml", "b/smoke.yaml", "smoke-2.yaml", "c/smoke.yml", "x.yaml"]
            .map(PathBuf::from)
            .into();
        assert_eq!(folder_names(&plans), ["smoke", "smoke-3", "smoke-2", "smoke-4", "x"]);
        let outputs = RunOutputs::new(Some(Path::new("out")), None, &plans[..2]);
        assert_eq!(outputs.report_dir(0), Some(PathBuf::from("out/smoke")));
        assert_eq!(outputs.report_dir(1), Some(PathBuf::from("out/smoke-2")));
        let one = RunOutputs::new(Some(Path::new("out")), None, &plans[..1]);
        assert_eq!(one.report_dir(0), Some(PathBuf::from("out")));
        assert_eq!(RunOutputs::new(None, None, &plans).report_dir(0), None);
    }
}
