//! Command code of the `nvmeplan` binary beyond plan validation and the
//! run loop in `main.rs`: the live console ([`console`]), a run's output
//! files ([`outputs`]), re-rendering a report ([`report`]) and diffing
//! two reports ([`diff`]).

pub mod console;
pub mod diff;
pub mod outputs;
pub mod report;
