//! The `nvmeplan` command line.

mod cli;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};

use cli::errors::{message, message_of};
use cli::stdout;
use nvmeplan::exit_code::{self, ExitCode as Exit};
use nvmeplan::run;

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
    Validate {
        /// Plan files.
        #[arg(required = true)]
        plans: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Set a variable (`name=value`; the value is parsed as YAML), as `run` will.
        #[arg(long = "var", value_name = "NAME=VALUE")]
        vars: Vec<String>,
        #[command(flatten)]
        inputs: cli::inputs::InputArgs,
    },
    /// Run plans against a device and report every step.
    #[command(
        after_help = exit_code::help("run")
    )]
    Run(RunArgs),
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

/// Arguments of `nvmeplan run`.
#[derive(Debug, clap::Args)]
struct RunArgs {
    /// Plan files, run one after the other.
    #[arg(required = true)]
    plans: Vec<PathBuf>,
    /// The device URI (`sim`, `sim:capacity=1G,lba=4096`, `pci:0000:01:00.0` or a bare PCI address
    /// such as `01:00.0`); overrides the plan's `device`.
    #[arg(long, value_name = "URI")]
    device: Option<String>,
    /// Set a variable (`name=value`; the value is parsed as YAML).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    vars: Vec<String>,
    #[command(flatten)]
    inputs: cli::inputs::InputArgs,
    /// Run only steps with one of these tags (a step inherits its groups' and the plan's tags).
    #[arg(long, value_delimiter = ',', value_name = "TAGS")]
    tags: Vec<String>,
    /// Skip steps with one of these tags.
    #[arg(long = "skip-tags", value_delimiter = ',', value_name = "TAGS")]
    skip_tags: Vec<String>,
    /// Write DIR/report.json (kept up to date while the plan runs; DIR/<plan>/report.json for
    /// several plans), DIR/report.html when each plan ends, DIR/junit.xml and the log DIR/run.log.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Write JUnit XML here (default with --out: DIR/junit.xml).
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Seed of random data, IO workers and probabilistic faults.
    #[arg(long)]
    seed: Option<u64>,
    /// Stop after the first failed or errored step (steps with `continue_on_error` excepted).
    #[arg(long)]
    fail_fast: bool,
    /// Allow destructive steps (write, format, sanitize, firmware, ...) on a real device.
    #[arg(long)]
    allow_destructive: bool,
    /// Allow destructive steps on the device with this serial number only (repeatable).
    #[arg(long = "allow-serial", value_name = "SN")]
    allow_serials: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Messages with source snippets.
    Text,
    /// A JSON array of `{file, line, column, severity, code, message}`.
    Json,
}

fn parse_vars(vars: &[String]) -> anyhow::Result<BTreeMap<String, serde_json::Value>> {
    let mut out = BTreeMap::new();
    for var in vars {
        let (name, value) =
            var.split_once('=').with_context(|| format!("`--var {var}`: expected NAME=VALUE"))?;
        anyhow::ensure!(!name.trim().is_empty(), "`--var {var}`: expected NAME=VALUE, the name is empty");
        let value: serde_json::Value =
            serde_saphyr::from_str(value).unwrap_or_else(|_| serde_json::Value::String(value.to_string()));
        out.insert(name.trim().to_string(), value);
    }
    Ok(out)
}

fn validate(
    plans: &[PathBuf],
    format: Format,
    vars: &[String],
    inputs: &cli::inputs::InputArgs,
) -> anyhow::Result<bool> {
    let options = inputs.options(parse_vars(vars)?);
    let mut ok = true;
    let mut json = Vec::new();
    let mut variables = BTreeSet::new();
    let mut stderr = std::io::stderr().lock();
    for path in plans {
        let report = nvmeplan::validate_path(path, &options);
        ok &= !report.has_errors();
        variables.extend(report.variables.iter().cloned());
        match format {
            Format::Text => {
                write!(stderr, "{}", nvmeplan::render_text(&report.diagnostics, &report.sources))?;
                if !report.has_errors() {
                    let steps = report.plan.as_ref().map_or(0, |p| p.walk().len());
                    stdout::println(&format!("{}: ok ({steps} steps)", path.display()));
                }
            }
            Format::Json => json.extend(report.diagnostics),
        }
    }
    if format == Format::Json {
        stdout::println(&serde_json::to_string_pretty(&nvmeplan::render_json(&json))?);
    }
    if ok && let Err(e) = cli::checks::vars_used(options.vars.keys(), &variables) {
        writeln!(stderr, "error: {e}")?;
        ok = false;
    }
    Ok(ok)
}

/// Runs the plans; the exit code.
fn run_command(args: RunArgs) -> anyhow::Result<u8> {
    let options = args.inputs.options(parse_vars(&args.vars)?);
    let mut plans = Vec::new();
    let mut invalid = false;
    let (mut variables, mut inputs) = (BTreeSet::new(), Vec::new());
    for path in &args.plans {
        let report = nvmeplan::validate_path(path, &options);
        variables.extend(report.variables.iter().cloned());
        inputs.extend(report.sources.names().map(|name| ("the plan file", PathBuf::from(name))));
        if report.has_errors() {
            eprint!("{}", nvmeplan::render_text(&report.diagnostics, &report.sources));
            invalid = true;
        } else if let Some(plan) = report.plan {
            let uri = match run::run_device_uri(&plan, path, args.device.as_deref()) {
                Ok(uri) => uri,
                Err(e) => {
                    eprintln!("error: {e}");
                    return Ok(Exit::Usage.code());
                }
            };
            plans.push((path.clone(), plan, uri));
        }
    }
    if invalid {
        return Ok(Exit::Usage.code());
    }
    let mut outputs = cli::outputs::RunOutputs::new(args.out.as_deref(), args.junit.clone(), &args.plans);
    let tags: BTreeSet<String> = plans.iter().flat_map(|(_, plan, _)| cli::checks::step_tags(plan)).collect();
    let checked = cli::checks::vars_used(options.vars.keys(), &variables)
        .and_then(|()| cli::checks::tags_match("--tags", &args.tags, &tags))
        .and_then(|()| cli::checks::tags_match("--skip-tags", &args.skip_tags, &tags))
        .and_then(|()| cli::checks::outputs_distinct(&inputs, &outputs.files()));
    if let Err(e) = checked {
        eprintln!("error: {e}");
        return Ok(Exit::Usage.code());
    }
    // The stop flag is also the driver's cancellation flag (see `cli::interrupt`).
    let stop = Arc::new(AtomicBool::new(false));
    cli::interrupt::install(stop.clone(), outputs.paths().clone());
    outputs.create()?;
    let console = cli::console::Console::new();
    let mut total = run::Summary::default();
    let mut code = Exit::Success.code();
    let mut output_failed = false;
    for (index, (path, plan, uri)) in plans.iter().enumerate() {
        let source =
            run::PlanSource::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let ctrl = match run::device::open_cancellable(uri, stop.clone()) {
            Ok(ctrl) => ctrl,
            Err(e) => {
                console.finish();
                eprintln!("error: {e}");
                stdout::println(&total.line());
                return Ok(code.max(Exit::Device.code()));
            }
        };
        let out = outputs.report_dir(index);
        let run_options = run::RunOptions {
            tags: args.tags.clone(),
            skip_tags: args.skip_tags.clone(),
            out,
            seed: args.seed,
            fail_fast: args.fail_fast,
            env: args.inputs.env.clone(),
            allow_paths: args.inputs.allow_paths.clone(),
            stop: stop.clone(),
            progress: Some(console.hook()),
            destructive: run::guard::DestructivePolicy {
                allow_destructive: args.allow_destructive,
                allow_serials: args.allow_serials.clone(),
            },
        };
        console.line(&format!("plan {} ({}) on {uri}", plan.name, path.display()));
        let ran = run::run_plan(plan, &source, ctrl, uri.as_str(), &run_options, &mut |step| {
            console.line(&run::console_line(step));
        });
        let result = match ran {
            Ok(result) => result,
            Err(run::RunError::Output { source, result }) => {
                eprintln!("error: {}", message_of(&source));
                output_failed = true;
                *result
            }
            Err(e @ run::RunError::Write(_)) => {
                eprintln!("error: {}", message_of(&e));
                output_failed = true;
                break;
            }
        };
        for w in &result.warnings {
            console.line(&format!("warning: {w}"));
        }
        total.merge(&result.summary);
        let interrupted = stop.load(Ordering::SeqCst);
        code = code.max(run::exit_code(&result, interrupted));
        let stop_now = interrupted || (args.fail_fast && !result.summary.all_passed() && !result.complete);
        for e in outputs.plan_finished(index, result) {
            eprintln!("error: {}", message_of(&e));
            output_failed = true;
        }
        if stop_now || output_failed {
            break;
        }
    }
    console.finish();
    if code == Exit::Success.code() && !total.all_passed() {
        code = Exit::Failed.code();
    }
    if let Some(note) = total.error_note() {
        stdout::println(&note);
    }
    stdout::println(&total.line());
    if output_failed || stdout::failed() {
        code = code.max(Exit::Output.code());
    }
    Ok(code)
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
        Command::Schema { report: false } => {
            stdout::print(&nvmeplan::schema::plan_schema_string());
            Exit::Success.code()
        }
        Command::Schema { report: true } => {
            stdout::print(&nvmeplan_reports::schema::report_schema_string());
            Exit::Success.code()
        }
        Command::Report(args) => outcome(cli::report::run(&args).map(|()| true)),
        Command::Diff(args) => cli::diff::run(&args),
        Command::Validate { plans, format, vars, inputs } => {
            outcome(validate(&plans, format, &vars, &inputs))
        }
        Command::Devices { json } => cli::devices::devices(&Default::default(), json),
        Command::Bind { address } => cli::devices::move_driver(&Default::default(), &address, true),
        Command::Unbind { address } => cli::devices::move_driver(&Default::default(), &address, false),
        // `run` folds a failed stdout into its own code (4).
        Command::Run(args) => {
            return match run_command(args) {
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
