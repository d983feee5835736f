//! Command code of the `nvmeplan` binary beyond plan validation and the
//! run loop in `main.rs`: the live console ([`console`]), a run's output
//! files ([`outputs`]), Ctrl-C and SIGTERM ([`interrupt`]), checks of the
//! command line against the plans ([`checks`]), re-rendering a report
//! ([`report`]), diffing two reports ([`diff`]), the PCI device commands
//! ([`devices`]), stdout that never panics ([`stdout`]), error messages
//! ([`errors`]) and the flags that widen what a plan may read ([`inputs`]).

pub mod checks;
pub mod console;
pub mod devices;
pub mod diff;
pub mod errors;
pub mod inputs;
pub mod interrupt;
pub mod outputs;
pub mod report;
pub mod stdout;

/// Reads a `report.json` through [`nvmeplan::input`] (regular files only,
/// at most [`nvmeplan::input::MAX_REPORT_BYTES`]).
pub fn read_report(path: &std::path::Path) -> anyhow::Result<nvmeplan_reports::Report> {
    let text = nvmeplan::input::read_text(path, nvmeplan::input::InputKind::Report)?;
    Ok(nvmeplan_reports::json::parse(path, &text)?)
}
