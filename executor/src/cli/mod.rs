//! Command code of the `nvmeplan` binary beyond plan validation and the
//! run loop in `main.rs`: the live console ([`console`]), a run's output
//! files ([`outputs`]), checks of the command line against the plans
//! ([`checks`]), re-rendering a report ([`report`]), diffing two reports
//! ([`diff`]), the PCI device commands ([`devices`]), stdout that never
//! panics ([`stdout`]) and error messages ([`errors`]).

pub mod checks;
pub mod console;
pub mod devices;
pub mod diff;
pub mod errors;
pub mod outputs;
pub mod report;
pub mod stdout;
