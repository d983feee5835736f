//! `nvmeplan report REPORT.json`: renders a saved report again, as HTML
//! (`--html FILE`), JUnit (`--junit FILE`) and Markdown (`--markdown
//! FILE`); without an output option it prints the Markdown. An output
//! may not name the report read or another output.

use std::path::PathBuf;

use super::checks::{Output, outputs_distinct};

/// Arguments of `nvmeplan report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// A report written by `nvmeplan run --out DIR` (`DIR/report.json`).
    pub report: PathBuf,
    /// Write the self-contained HTML report here.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Write JUnit XML here.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write Markdown here.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
}

/// Runs `nvmeplan report`; `Err` is a usage error (exit 2).
pub fn run(args: &ReportArgs) -> anyhow::Result<()> {
    let outputs: Vec<Output> =
        [("--html", &args.html), ("--junit", &args.junit), ("--markdown", &args.markdown)]
            .into_iter()
            .filter_map(|(flag, path)| path.as_deref().map(|p| Output::file(flag, p)))
            .collect();
    outputs_distinct(&[("the report", args.report.clone())], &outputs).map_err(anyhow::Error::msg)?;
    let report = super::read_report(&args.report)?;
    if let Some(path) = &args.html {
        nvmeplan_reports::html::write_report(path, &report)?;
    }
    if let Some(path) = &args.junit {
        nvmeplan_reports::junit::write(path, &[&report])?;
    }
    let markdown = nvmeplan_reports::markdown::render_report(&report);
    if let Some(path) = &args.markdown {
        nvmeplan_reports::json::write_atomic(path, markdown.as_bytes())?;
    }
    if args.html.is_none() && args.junit.is_none() && args.markdown.is_none() {
        super::stdout::print(&markdown);
    }
    Ok(())
}
