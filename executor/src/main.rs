//! The `nvmeplan` command line: its arguments and the dispatch to the
//! subcommands, which live in [`cli`].

mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use cli::errors::message;
use cli::stdout;
use nvmeplan::exit_code::{self, ExitCode as Exit};

/// Test NVMe SSDs with YAML test plans.
#[derive(Debug, Parser)]
#[command(
    name = "nvmeplan",
    version,
    after_help = exit_code::help_all()
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the plan JSON Schema (draft-07), for editors and tools.
    Schema {
        /// Print the report (`report.json`) schema instead.
        #[arg(long)]
        report: bool,
    },
    /// Check plans and report every problem with its location.
    #[command(after_help = exit_code::help("validate"))]
    Validate(cli::validate::ValidateArgs),
    /// Run plans against a device and report every step.
    #[command(
        after_help = exit_code::help("run")
    )]
    Run(cli::run::RunArgs),
    /// Render a saved report again (JUnit, Markdown).
    #[command(
        after_help = exit_code::help("report")
    )]
    Report(cli::report::ReportArgs),
    /// Compare two reports of the same plan (firmware A vs B) and flag regressions.
    #[command(
        after_help = exit_code::help("diff")
    )]
    Diff(cli::diff::DiffArgs),
    /// List NVMe PCI functions: IDs, driver, IOMMU group; model, serial and mounts under the kernel driver.
    #[command(after_help = exit_code::help("devices"))]
    Devices {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Move one NVMe function from its kernel driver to vfio-pci (refused when mounted).
    #[command(after_help = exit_code::help("bind"))]
    Bind {
        /// PCI address, e.g. 0000:01:00.0.
        address: String,
    },
    /// Move one NVMe function from vfio-pci back to the kernel nvme driver.
    #[command(
        after_help = exit_code::help("unbind")
    )]
    Unbind {
        /// PCI address, e.g. 0000:01:00.0.
        address: String,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { Exit::Usage.code() } else { Exit::Success.code() });
        }
    };
    let code = match cli.command {
        Command::Schema { report } => cli::schema::run(report),
        Command::Report(args) => outcome(cli::report::run(&args).map(|()| true)),
        Command::Diff(args) => cli::diff::run(&args),
        Command::Validate(args) => outcome(cli::validate::run(&args)),
        Command::Devices { json } => cli::devices::devices(&Default::default(), json),
        Command::Bind { address } => cli::devices::move_driver(&Default::default(), &address, true),
        Command::Unbind { address } => cli::devices::move_driver(&Default::default(), &address, false),
        // `run` folds a failed stdout into its own code (4).
        Command::Run(args) => {
            return match cli::run::run(args) {
                Ok(code) => ExitCode::from(code),
                Err(e) => {
                    eprintln!("error: {}", message(&e));
                    ExitCode::from(Exit::Usage.code())
                }
            };
        }
    };
    // The other commands' output is their work: stdout that could not be
    // written (not merely closed) is exit 2.
    ExitCode::from(if stdout::failed() { code.max(Exit::Usage.code()) } else { code })
}

/// The exit code of a command that reports success, failure or an error.
fn outcome(result: anyhow::Result<bool>) -> u8 {
    match result {
        Ok(true) => Exit::Success.code(),
        Ok(false) => Exit::Usage.code(),
        Err(e) => {
            eprintln!("error: {}", message(&e));
            Exit::Usage.code()
        }
    }
}
