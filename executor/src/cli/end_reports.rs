//! The HTML and JUnit files of a run, written when a plan ends: each plan's
//! `report.html` in its report folder and one JUnit file with a test suite
//! per plan so far. [`EndReports`] writes them for both ways a run ends: as
//! a sink of the run's events ([`EndReporter`], at a normal end, a
//! `--fail-fast` stop or the first Ctrl-C), and from the reports on disk
//! after a second Ctrl-C ([`super::interrupt`]).

use std::path::{Path, PathBuf};

use nvmeplan::run::Report;
use nvmeplan::run::events::{RunEvent, RunEventSink, SinkError};
use nvmeplan_reports::ReportError;
use nvmeplan_reports::html::REPORT_HTML_FILE;

/// The HTML and JUnit writer of a run's plans.
#[derive(Debug, Default)]
pub struct EndReports {
    junit: Option<PathBuf>,
    /// Every plan's report so far, for the JUnit file.
    reports: Vec<Report>,
}

impl EndReports {
    /// A writer of `junit` (if any) and of the HTML reports.
    pub fn new(junit: Option<PathBuf>) -> EndReports {
        EndReports { junit, reports: Vec::new() }
    }

    /// Writes `dir/report.html` of `report` (nothing without `dir`) and
    /// keeps the report for the JUnit file.
    pub fn add(&mut self, dir: Option<&Path>, report: Report) -> Result<(), ReportError> {
        let written = match dir {
            Some(dir) => nvmeplan_reports::html::write_report(&dir.join(REPORT_HTML_FILE), &report),
            None => Ok(()),
        };
        self.reports.push(report);
        written
    }

    /// Writes the JUnit file with every report added so far (nothing
    /// without a JUnit path or a report).
    pub fn write_junit(&self) -> Result<(), ReportError> {
        match &self.junit {
            Some(path) if !self.reports.is_empty() => {
                let reports: Vec<&Report> = self.reports.iter().collect();
                nvmeplan_reports::junit::write(path, &reports)
            }
            _ => Ok(()),
        }
    }

    /// The JUnit file, if any.
    pub fn junit(&self) -> Option<&Path> {
        self.junit.as_deref()
    }

    /// A sink that writes the outputs of the plan whose report folder is
    /// `dir` when it ends.
    pub fn reporter(&mut self, dir: Option<PathBuf>) -> EndReporter<'_> {
        EndReporter { reports: self, dir }
    }
}

/// [`EndReports`] for one plan, as a sink of its run's events.
pub struct EndReporter<'a> {
    reports: &'a mut EndReports,
    dir: Option<PathBuf>,
}

impl RunEventSink for EndReporter<'_> {
    fn event(&mut self, event: &RunEvent<'_>) -> Result<(), SinkError> {
        let RunEvent::RunFinished { result, .. } = event else { return Ok(()) };
        let html = self.reports.add(self.dir.as_deref(), (*result).clone()).map_err(SinkError::from);
        let junit = self.reports.write_junit().map_err(SinkError::from);
        nvmeplan::run::events::merge(html.err(), junit).map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::outputs::OutputPaths;
    use nvmeplan::run::result::{Outcome, StepResult};
    use nvmeplan_reports::json::REPORT_FILE;

    fn report(name: &str) -> Report {
        let mut r = Report::new_empty(name);
        let step = StepResult::new("s", "s", "flush", Outcome::Fail);
        r.summary.add(step.outcome);
        r.steps.push(step);
        r.complete = true;
        r
    }

    #[test]
    fn a_plans_end_and_a_second_ctrl_c_write_the_same_html_and_junit() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (report("a"), report("b"));
        // A plan's end: the sink of each plan's events.
        let ended = [dir.path().join("end/a"), dir.path().join("end/b")];
        let mut end = EndReports::new(Some(dir.path().join("end/junit.xml")));
        for (folder, r) in ended.iter().zip([&a, &b]) {
            std::fs::create_dir_all(folder).unwrap();
            let event = RunEvent::RunFinished { result: r, interrupted: false };
            end.reporter(Some(folder.clone())).event(&event).unwrap();
        }
        // A second Ctrl-C: the same from the reports on disk.
        let since = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
        let paths = OutputPaths {
            dirs: vec![dir.path().join("ctrl-c/a"), dir.path().join("ctrl-c/b")],
            junit: Some(dir.path().join("ctrl-c/junit.xml")),
        };
        for (folder, r) in paths.dirs.iter().zip([&a, &b]) {
            std::fs::create_dir_all(folder).unwrap();
            nvmeplan_reports::json::write(&folder.join(REPORT_FILE), r).unwrap();
        }
        assert_eq!(super::super::interrupt::render_written(&paths, since), Vec::<String>::new());

        let read =
            |p: PathBuf| std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        for (ended, stopped) in ended.iter().zip(&paths.dirs) {
            let html = read(ended.join(REPORT_HTML_FILE));
            assert!(html.contains("<html"), "{html}");
            assert_eq!(html, read(stopped.join(REPORT_HTML_FILE)));
        }
        let junit = read(dir.path().join("end/junit.xml"));
        assert!(junit.contains("name=\"a\"") && junit.contains("name=\"b\""), "{junit}");
        assert_eq!(junit, read(dir.path().join("ctrl-c/junit.xml")));
    }

    #[test]
    fn every_output_that_fails_at_a_plans_end_is_returned() {
        let dir = tempfile::tempdir().unwrap();
        // Directories where the files go: both writes fail.
        std::fs::create_dir_all(dir.path().join(REPORT_HTML_FILE)).unwrap();
        std::fs::create_dir_all(dir.path().join("junit.xml")).unwrap();
        let mut end = EndReports::new(Some(dir.path().join("junit.xml")));
        let r = report("a");
        let failed = end
            .reporter(Some(dir.path().to_path_buf()))
            .event(&RunEvent::RunFinished { result: &r, interrupted: true })
            .unwrap_err();
        let names: Vec<String> = failed.errors().map(ToString::to_string).collect();
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(names[0].contains(REPORT_HTML_FILE) && names[1].contains("junit.xml"), "{names:?}");
    }
}
