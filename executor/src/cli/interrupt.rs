//! Ctrl-C and SIGTERM during `nvmeplan run`.
//!
//! The first signal sets the run's stop flag, which is also the driver's
//! cancellation flag: the current step ends at once (a hung command or an
//! event wait included), is recorded as `interrupted`, and the run writes
//! its report, HTML and JUnit as at a normal end, then exits with 130.
//!
//! A second signal exits at once, but first renders `report.html` and
//! `junit.xml` from the `report.json` files this run wrote (marking them
//! incomplete), within [`RENDER_BOUND`]. With `--junit` and no `--out`
//! there is no `report.json` to render from, and the JUnit file of the plans
//! finished so far stays.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use nvmeplan::exit_code::ExitCode;
use nvmeplan_reports::html::REPORT_HTML_FILE;
use nvmeplan_reports::json::REPORT_FILE;

use super::end_reports::EndReports;
use super::outputs::OutputPaths;

/// How long a second Ctrl-C may spend rendering before the process exits.
pub const RENDER_BOUND: Duration = Duration::from_secs(2);

/// The `stopped` note of a report rendered after a second Ctrl-C.
#[cfg(test)]
pub const EXITED_AT_ONCE: &str = nvmeplan_reports::INTERRUPTED_AGAIN;

/// Installs the handler of Ctrl-C, SIGTERM and SIGHUP for a run writing
/// its reports to `paths`.
pub fn install(stop: Arc<AtomicBool>, paths: OutputPaths) {
    let pressed = AtomicBool::new(false);
    let since = SystemTime::now();
    let installed = ctrlc::set_handler(move || {
        if pressed.swap(true, Ordering::SeqCst) {
            eprintln!("interrupted again: writing what ran, then exiting");
            exit_now(&paths, since);
        }
        eprintln!("interrupted: stopping after recording the current step (Ctrl-C again to exit now)");
        stop.store(true, Ordering::SeqCst);
    });
    if let Err(e) = installed {
        eprintln!("warning: cannot handle Ctrl-C: {e}");
    }
}

/// Renders the outputs from the reports on disk, for at most
/// [`RENDER_BOUND`], then exits with [`ExitCode::Interrupted`].
fn exit_now(paths: &OutputPaths, since: SystemTime) -> ! {
    let paths = paths.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(render_written(&paths, since));
    });
    match rx.recv_timeout(RENDER_BOUND) {
        Ok(problems) => problems.iter().for_each(|p| eprintln!("warning: {p}")),
        Err(_) => {
            eprintln!("warning: rendering the reports took over {RENDER_BOUND:?}; exiting without them")
        }
    }
    std::process::exit(i32::from(ExitCode::Interrupted.code()));
}

/// For each report folder whose `report.json` this run wrote (modified at
/// or after `since`): marks the report incomplete unless it is complete,
/// rewrites it and writes `report.html` beside it; then writes the JUnit
/// file of them all, through the [`EndReports`] a plan's end uses. Returns
/// what could not be written.
pub fn render_written(paths: &OutputPaths, since: SystemTime) -> Vec<String> {
    let mut problems = Vec::new();
    let mut end = EndReports::new(paths.junit.clone());
    for dir in &paths.dirs {
        let file = dir.join(REPORT_FILE);
        if !written_since(&file, since) {
            continue;
        }
        let mut report = match super::read_report(&file) {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("{e:#}"));
                continue;
            }
        };
        if !report.complete {
            report.stopped = Some(nvmeplan_reports::StopReason::InterruptedAgain);
            if let Err(e) = nvmeplan_reports::json::write(&file, &report) {
                problems.push(format!("{}: {e}", file.display()));
            }
        }
        if let Err(e) = end.add(Some(dir), report) {
            problems.push(format!("{}: {e}", dir.join(REPORT_HTML_FILE).display()));
        }
    }
    if let Err(e) = end.write_junit()
        && let Some(junit) = end.junit()
    {
        problems.push(format!("{}: {e}", junit.display()));
    }
    problems
}

fn written_since(file: &Path, since: SystemTime) -> bool {
    std::fs::metadata(file).and_then(|m| m.modified()).is_ok_and(|t| t >= since)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nvmeplan::run::Report;

    fn report(name: &str, complete: bool) -> Report {
        let mut r = Report::new_empty(name);
        r.complete = complete;
        r
    }

    #[test]
    fn reports_this_run_wrote_are_marked_and_rendered_and_older_ones_are_left() {
        let dir = tempfile::tempdir().unwrap();
        let paths = OutputPaths {
            dirs: ["old", "a", "b"].map(|d| dir.path().join(d)).into(),
            junit: Some(dir.path().join("j.xml")),
        };
        let [old, running, done] = [0, 1, 2].map(|i| paths.dirs[i].clone());
        let write = |d: &Path, r: &Report| {
            std::fs::create_dir_all(d).unwrap();
            nvmeplan_reports::json::write(&d.join(REPORT_FILE), r).unwrap();
        };
        write(&old, &report("old", false));
        std::thread::sleep(Duration::from_millis(20));
        let since = SystemTime::now();
        std::thread::sleep(Duration::from_millis(20));
        write(&running, &report("running", false));
        write(&done, &report("done", true));

        let problems = render_written(&paths, since);
        assert!(problems.is_empty(), "{problems:?}");
        let read = |d: &Path| nvmeplan_reports::json::read(&d.join(REPORT_FILE));
        assert_eq!(read(&running).unwrap().stopped.as_deref(), Some(EXITED_AT_ONCE));
        assert_eq!(read(&done).unwrap().stopped, None);
        assert_eq!(read(&old).unwrap().stopped, None);
        assert!(running.join(REPORT_HTML_FILE).is_file());
        assert!(done.join(REPORT_HTML_FILE).is_file());
        assert!(!old.join(REPORT_HTML_FILE).exists());
        let junit = std::fs::read_to_string(dir.path().join("j.xml")).unwrap();
        assert!(junit.contains("running") && junit.contains("done") && !junit.contains("\"old\""), "{junit}");
    }
}
