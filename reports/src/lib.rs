//! nvmeplan-reports: the report model of a plan run and everything
//! rendered from it.
//!
//! * [`model`]: the [`Report`] a run writes as `report.json`, the source of truth.
//! * [`html`]: the self-contained HTML report with inline SVG charts.
//! * [`json`]: reading and atomically writing reports.
//! * [`schema`]: the report's JSON Schema (committed at `schemas/report.schema.json`).
//! * [`junit`]: JUnit XML for CI servers.
//! * [`diff`]: comparing two reports (status changes, metric deltas,
//!   changed identify fields, log pages and features) and deciding what
//!   is a regression.
//! * [`markdown`]: Markdown of a report and of a diff.
//!
//! ```
//! use nvmeplan_reports::{Outcome, Report, StepResult};
//!
//! let mut report = Report::new_empty("demo");
//! let step = StepResult::new("identify", "identify", "identify", Outcome::Pass);
//! report.summary.add(step.outcome);
//! report.steps.push(step);
//! report.complete = true;
//! let text = nvmeplan_reports::json::to_string(&report).unwrap();
//! assert_eq!(nvmeplan_reports::json::parse("r.json".as_ref(), &text).unwrap(), report);
//! ```

pub mod diff;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod model;
pub mod schema;

use std::path::PathBuf;

pub use diff::{Diff, DiffOptions, FailOn, Metric, NotComparable, Thresholds, diff_runs};
pub use model::*;

/// Why a report could not be read, written or rendered.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file could not be read or written.
    #[error("cannot {action} `{path}`: {source}")]
    Io {
        /// `read` or `write`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A report file is not valid report JSON.
    #[error("`{path}` is not an nvmeplan report: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The error, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// A report has a `report_version` this tool does not read.
    #[error("`{path}` has report_version {found}; this nvmeplan reads version {supported}")]
    Version {
        /// The file.
        path: PathBuf,
        /// The version in the file.
        found: u64,
        /// The version this crate reads.
        supported: u32,
    },
    /// Serialising a report or rendering an output failed.
    #[error("cannot render {what}: {message}")]
    Render {
        /// What was being rendered (`JSON`, `JUnit`).
        what: &'static str,
        /// The error.
        message: String,
    },
}

impl Report {
    /// An empty, incomplete report of the plan `name` (filled in by a runner).
    pub fn new_empty(name: &str) -> Report {
        Report {
            report_version: REPORT_VERSION,
            tool: "nvmeplan".into(),
            version: String::new(),
            plan: PlanInfo { name: name.to_string(), ..PlanInfo::default() },
            seed: 0,
            started_at: String::new(),
            duration_ms: 0,
            host: HostInfo::default(),
            device: DeviceInfo::default(),
            summary: Summary::default(),
            steps: Vec::new(),
            complete: false,
            stopped: None,
            warnings: Vec::new(),
        }
    }
}

/// The HTML entity that stands for `c` in text and quoted attributes
/// (`&`, `<`, `>`, `"`, `'`), or `None` when `c` needs none. Every writer
/// that escapes HTML (the SVG charts, the Markdown) uses this one table.
pub(crate) fn html_entity(c: char) -> Option<&'static str> {
    match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        '"' => Some("&quot;"),
        '\'' => Some("&#39;"),
        _ => None,
    }
}
