//! The files of `nvmeplan run`: with `--out DIR`, each plan's
//! `report.json` (rewritten after every step by the runner) and
//! `report.html` (written when the plan ends, also when it was stopped),
//! `junit.xml` and the tracing log `run.log`; `--junit FILE` puts the JUnit elsewhere.
//! With several plans each report goes to `DIR/<plan file stem>/` and
//! `junit.xml` holds one test suite per plan.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use nvmeplan::run::Report;
use nvmeplan_reports::junit::JUNIT_FILE;

/// The tracing log's name in the output directory.
pub const LOG_FILE: &str = "run.log";

/// Where a run's outputs go.
pub struct RunOutputs {
    paths: OutputPaths,
    reports: Vec<Report>,
}

/// The output paths of a run (no state), for whoever must write them.
#[derive(Debug, Clone)]
pub struct OutputPaths {
    /// `--out`.
    pub out: Option<PathBuf>,
    /// The JUnit file (`--junit`, else `DIR/junit.xml` with `--out`).
    pub junit: Option<PathBuf>,
    /// Several plans: each report in its own folder.
    pub several: bool,
}

impl OutputPaths {
    /// The directory of a plan's report (`None` without `--out`).
    pub fn report_dir(&self, plan: &Path) -> Option<PathBuf> {
        self.out.as_ref().map(|dir| {
            if self.several {
                dir.join(plan.file_stem().map_or_else(|| "plan".into(), |s| s.to_string_lossy().into_owned()))
            } else {
                dir.clone()
            }
        })
    }
}

impl RunOutputs {
    /// Creates the output directory and starts logging to `DIR/run.log`.
    pub fn new(out: Option<&Path>, junit: Option<PathBuf>, several: bool) -> anyhow::Result<RunOutputs> {
        if let Some(dir) = out {
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
        let junit = junit.or_else(|| out.map(|d| d.join(JUNIT_FILE)));
        let paths = OutputPaths { out: out.map(Path::to_path_buf), junit, several };
        Ok(RunOutputs { paths, reports: Vec::new() })
    }

    /// The output paths.
    pub fn paths(&self) -> &OutputPaths {
        &self.paths
    }

    /// The directory of a plan's report (`None` without `--out`).
    pub fn report_dir(&self, plan: &Path) -> Option<PathBuf> {
        self.paths.report_dir(plan)
    }

    /// Records a finished (or stopped) plan: writes its HTML report and
    /// rewrites the JUnit file with every plan so far.
    pub fn plan_finished(&mut self, plan: &Path, report: Report) -> anyhow::Result<()> {
        if let Some(dir) = self.report_dir(plan) {
            nvmeplan_reports::html::write_report(
                &dir.join(nvmeplan_reports::html::REPORT_HTML_FILE),
                &report,
            )?;
        }
        self.reports.push(report);
        if let Some(path) = &self.paths.junit {
            let reports: Vec<&Report> = self.reports.iter().collect();
            nvmeplan_reports::junit::write(path, &reports)?;
        }
        Ok(())
    }
}
