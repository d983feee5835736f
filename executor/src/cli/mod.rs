//! Subcommands of the `nvmeplan` binary that live outside `main.rs`.

pub mod devices;
