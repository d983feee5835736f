//! The subcommands of the `nvmeplan` binary, one module each: [`validate`],
//! [`run`], [`schema`], [`report`] (re-rendering a report), [`diff`]
//! (two reports) and [`devices`] (`devices`, `bind`, `unbind`). Around
//! `run`: its console ([`console`]), its output files ([`outputs`]) and the
//! HTML and JUnit written when a plan ends ([`end_reports`]), Ctrl-C and
//! SIGTERM ([`interrupt`]), checks of the command line against the plans
//! ([`checks`]). Shared: stdout that never panics ([`stdout`]), error
//! messages ([`errors`]) and the plan inputs of the command line
//! ([`inputs`]).

pub mod checks;
pub mod console;
pub mod devices;
pub mod diff;
pub mod end_reports;
pub mod errors;
pub mod inputs;
pub mod interrupt;
pub mod outputs;
pub mod report;
pub mod run;
pub mod schema;
pub mod stdout;
pub mod validate;

/// Reads a `report.json` through [`nvmeplan::input`] (regular files only,
/// at most [`nvmeplan::input::MAX_REPORT_BYTES`]).
pub fn read_report(path: &std::path::Path) -> anyhow::Result<nvmeplan_reports::Report> {
    let text = nvmeplan::input::read_text(path, nvmeplan::input::InputKind::Report)?;
    Ok(nvmeplan_reports::json::parse(path, &text)?)
}
