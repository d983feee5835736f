//! `nvmeplan diff BASE.json NEW.json` or `nvmeplan diff A1.json A2.json
//! -- B1.json B2.json`: compares runs of the same plan (one or several
//! reports per side) and exits 0 (no regression), 1 (regression) or 2 (not
//! comparable, unreadable report, bad options or arguments, or an output
//! that would overwrite a report or cannot be written).

use nvmeplan::exit_code::ExitCode;
use std::path::PathBuf;

use super::checks::{Output, outputs_distinct};

use nvmeplan_reports::{DiffOptions, FailOn, Thresholds};

/// Arguments of `nvmeplan diff`.
#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The base report then the new report; or, with `--` between the
    /// sides, the base reports (firmware A, one or more runs).
    #[arg(value_name = "BASE.json")]
    pub reports: Vec<PathBuf>,
    /// The new reports (firmware B, one or more runs), after `--`: their
    /// metric medians are compared with the base's, past the thresholds
    /// and the run-to-run spread.
    #[arg(last = true, value_name = "NEW.json")]
    pub new: Vec<PathBuf>,
    /// Judge these metrics, flagging changes past the percentages:
    /// `iops=5%,latency.p99=10%` (metrics: iops, mbps, latency.min, latency.avg,
    /// latency.max, latency.p50, latency.p90, latency.p99, latency.p99.9,
    /// latency.p99.99; `latency=N%` sets every latency metric). Only the listed
    /// metrics are judged; the others are shown. Default: latency.p50=100%
    /// (measured noise of same-config runs, see docs/reports.md). With several
    /// runs per side a change must also exceed the run-to-run spread.
    #[arg(long, value_name = "METRIC=PERCENT,...")]
    pub threshold: Vec<String>,
    /// A latency metric is flagged only when it also moved by more than this
    /// time (`0` judges every latency change by percent alone).
    #[arg(long, value_name = "TIME", default_value = "50us")]
    pub latency_floor: String,
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

/// The base and new reports the arguments name, or why they name none.
fn sides(args: &DiffArgs) -> anyhow::Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    const USAGE: &str = "usage: nvmeplan diff BASE.json NEW.json, or with several runs per side: nvmeplan diff A1.json A2.json -- B1.json B2.json";
    match (args.reports.len(), args.new.len()) {
        (0, _) => anyhow::bail!("diff needs base reports before `--` ({USAGE})"),
        (2, 0) => Ok((vec![args.reports[0].clone()], vec![args.reports[1].clone()])),
        (1, 0) => anyhow::bail!("a new report is required after the base report ({USAGE})"),
        (n, 0) => {
            anyhow::bail!(
                "{n} reports and no `--`: separate the base reports from the new ones with `--` ({USAGE})"
            )
        }
        _ => Ok((args.reports.clone(), args.new.clone())),
    }
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
    let floor = match args.latency_floor.trim() {
        "0" => std::time::Duration::ZERO,
        text => nvmeplan_spec::duration::parse_duration(text)
            .map_err(|e| anyhow::anyhow!("--latency-floor: {e}"))?,
    };
    let options = DiffOptions {
        thresholds,
        fail_on: FailOn::parse(&args.fail_on)?,
        latency_floor_ns: u64::try_from(floor.as_nanos()).unwrap_or(u64::MAX),
    };
    let (base_paths, new_paths) = sides(args)?;
    let label = |paths: &[PathBuf], one: &'static str, several: &'static str| {
        if paths.len() == 1 { one } else { several }
    };
    let (base_label, new_label) = (
        label(&base_paths, "the base report", "a base report"),
        label(&new_paths, "the new report", "a new report"),
    );
    let inputs: Vec<(&str, PathBuf)> = base_paths
        .iter()
        .map(|p| (base_label, p.clone()))
        .chain(new_paths.iter().map(|p| (new_label, p.clone())))
        .collect();
    let outputs: Vec<Output> = [("--html", &args.html), ("--markdown", &args.markdown)]
        .into_iter()
        .filter_map(|(flag, path)| path.as_deref().map(|p| Output::file(flag, p)))
        .collect();
    outputs_distinct(&inputs, &outputs).map_err(anyhow::Error::msg)?;
    let read = |paths: &[PathBuf]| -> anyhow::Result<Vec<(String, nvmeplan_reports::Report)>> {
        paths.iter().map(|p| Ok((p.display().to_string(), super::read_report(p)?))).collect()
    };
    let (base, new) = (read(&base_paths)?, read(&new_paths)?);
    let diff = nvmeplan_reports::diff::diff_runs(&as_runs(&base), &as_runs(&new), &options)?;
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

/// The reports of a side as the diff takes them.
fn as_runs(side: &[(String, nvmeplan_reports::Report)]) -> Vec<nvmeplan_reports::diff::Run<'_>> {
    side.iter().map(|(p, r)| (p.as_str(), r)).collect()
}
