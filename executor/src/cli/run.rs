//! `nvmeplan run`: validates the plans, checks the command line against
//! them, then runs each plan with its sinks (the console, the live
//! `report.json`, the HTML and JUnit at its end) and folds the results into
//! one exit code.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context as _;

use super::errors::message_of;
use super::stdout;
use nvmeplan::exit_code::ExitCode as Exit;
use nvmeplan::run;
use nvmeplan::run::events::FanOut;

/// Arguments of `nvmeplan run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
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
    inputs: super::inputs::InputArgs,
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

/// Runs the plans; the exit code. `Err` is a usage error (exit 2).
pub fn run(args: RunArgs) -> anyhow::Result<u8> {
    let options = args.inputs.options(super::inputs::parse_vars(&args.vars)?);
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
    let mut outputs = super::outputs::RunOutputs::new(args.out.as_deref(), args.junit.clone(), &args.plans);
    let tags: BTreeSet<String> =
        plans.iter().flat_map(|(_, plan, _)| super::checks::step_tags(plan)).collect();
    let checked = super::checks::vars_used(options.vars.keys(), &variables)
        .and_then(|()| super::checks::tags_match("--tags", &args.tags, &tags))
        .and_then(|()| super::checks::tags_match("--skip-tags", &args.skip_tags, &tags))
        .and_then(|()| super::checks::outputs_distinct(&inputs, &outputs.files()));
    if let Err(e) = checked {
        eprintln!("error: {e}");
        return Ok(Exit::Usage.code());
    }
    // The stop flag is also the driver's cancellation flag (see `cli::interrupt`).
    let stop = Arc::new(AtomicBool::new(false));
    super::interrupt::install(stop.clone(), outputs.paths().clone());
    outputs.create()?;
    let mut console = super::console::Console::new();
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
        let run_options = run::RunOptions {
            tags: args.tags.clone(),
            skip_tags: args.skip_tags.clone(),
            // The live report is one of the sinks below.
            out: None,
            seed: args.seed,
            fail_fast: args.fail_fast,
            env: args.inputs.env.clone(),
            allow_paths: args.inputs.allow_paths.clone(),
            stop: stop.clone(),
            destructive: run::guard::DestructivePolicy {
                allow_destructive: args.allow_destructive,
                allow_serials: args.allow_serials.clone(),
            },
        };
        let mut live = outputs
            .report_dir(index)
            .map(|dir| run::live::LiveReporter::new(dir.join(nvmeplan_reports::json::REPORT_FILE)));
        let mut end = outputs.end_reporter(index);
        let mut sinks = FanOut::new();
        sinks.push(&mut console);
        if let Some(live) = &mut live {
            sinks.push(live);
        }
        sinks.push(&mut end);
        let ran = run::run_events(plan, &source, ctrl, uri.as_str(), &run_options, &mut sinks);
        let result = match ran {
            Ok(result) => result,
            Err(e) => {
                for failed in e.errors() {
                    eprintln!("error: {}", message_of(failed));
                }
                output_failed = true;
                match e {
                    run::RunError::Output { result, .. } => *result,
                    run::RunError::Write(_) => break,
                }
            }
        };
        total.merge(&result.summary);
        let interrupted = stop.load(Ordering::SeqCst);
        code = code.max(run::exit_code(&result, interrupted));
        let stop_now = interrupted || (args.fail_fast && !result.summary.all_passed() && !result.complete);
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
