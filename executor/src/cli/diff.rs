//! `nvmeplan diff BASE.json NEW.json`: compares two reports of the same
//! plan and exits 0 (no regression), 1 (regression) or 2 (not comparable,
//! unreadable report, bad options or an output that would overwrite a
//! report or cannot be written).

use nvmeplan::exit_code::ExitCode;
use std::path::PathBuf;

use super::checks::{Output, outputs_distinct};

use nvmeplan_reports::{DiffOptions, FailOn, Thresholds};

/// Arguments of `nvmeplan diff`.
#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The base report (firmware A).
    pub base: PathBuf,
    /// The new report (firmware B).
    pub new: PathBuf,
    /// Judge these metrics, flagging changes past the percentages:
    /// `iops=5%,latency.p99=10%` (metrics: iops, mbps, latency.min, latency.avg,
    /// latency.max, latency.p50, latency.p90, latency.p99, latency.p99.9,
    /// latency.p99.99; `latency=N%` sets every latency metric). Only the listed
    /// metrics are judged; the others are shown. Default: iops=5%,mbps=5%,
    /// latency.avg=10%,latency.p99=10%.
    #[arg(long, value_name = "METRIC=PERCENT,...")]
    pub threshold: Vec<String>,
    /// What makes the exit code 1: `status` (a step now fails or errors),
    /// `perf` (a metric worse past its threshold) or both.
    #[arg(long, value_name = "KINDS", default_value = "status,perf")]
    pub fail_on: String,
    /// Write the diff as a self-contained HTML page here.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Write the diff as Markdown here (otherwise it is printed).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
}

/// Runs `nvmeplan diff`; the exit code.
pub fn run(args: &DiffArgs) -> u8 {
    match compare(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", super::errors::message(&e));
            ExitCode::Usage.code()
        }
    }
}

fn compare(args: &DiffArgs) -> anyhow::Result<u8> {
    let mut thresholds = if args.threshold.is_empty() { Thresholds::default() } else { Thresholds::none() };
    for spec in &args.threshold {
        thresholds.apply(spec)?;
    }
    let options = DiffOptions { thresholds, fail_on: FailOn::parse(&args.fail_on)? };
    let inputs = [("the base report", args.base.clone()), ("the new report", args.new.clone())];
    let outputs: Vec<Output> = [("--html", &args.html), ("--markdown", &args.markdown)]
        .into_iter()
        .filter_map(|(flag, path)| path.as_deref().map(|p| Output::file(flag, p)))
        .collect();
    outputs_distinct(&inputs, &outputs).map_err(anyhow::Error::msg)?;
    let base = super::read_report(&args.base)?;
    let new = super::read_report(&args.new)?;
    let (base_name, new_name) = (args.base.display().to_string(), args.new.display().to_string());
    let diff = nvmeplan_reports::diff::diff(&base_name, &base, &new_name, &new, &options)?;
    if let Some(path) = &args.html {
        nvmeplan_reports::json::write_atomic(path, nvmeplan_reports::html::render_diff(&diff)?.as_bytes())?;
    }
    let markdown = nvmeplan_reports::markdown::render_diff(&diff);
    match &args.markdown {
        Some(path) => nvmeplan_reports::json::write_atomic(path, markdown.as_bytes())?,
        None => super::stdout::print(&markdown),
    }
    super::stdout::println(&diff.verdict());
    Ok(if diff.has_regression() { ExitCode::Failed.code() } else { ExitCode::Success.code() })
}
