//! Command code of the `nvmeplan` binary beyond plan validation and the
//! run loop in `main.rs`: the live console ([`console`]), a run's output
//! files ([`outputs`]), Ctrl-C and SIGTERM ([`interrupt`]), re-rendering a report ([`report`]), diffing two
//! reports ([`diff`]) and the PCI device commands ([`devices`]).

pub mod console;
pub mod devices;
pub mod diff;
pub mod interrupt;
pub mod outputs;
pub mod report;
