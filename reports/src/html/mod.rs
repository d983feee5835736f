//! The self-contained HTML report: one file with its style, an optional
//! filter script and inline SVG charts, readable with JavaScript off.
//!
//! The page layout lives in minijinja templates under `reports/templates/`
//! (compiled into the binary); `view` turns a [`Report`] into what the
//! template shows, `failures` builds the Failures card (the failing IO and its
//! queue's command log), `diff_view` does for a [`Diff`] what `view` does, and [`charts`]
//! draws the SVG.

pub mod charts;
mod diff_view;
mod failures;
mod ioworker;
mod view;

use minijinja::{Environment, Value, context};

use crate::ReportError;
use crate::diff::Diff;
use crate::model::Report;

/// The report page.
const REPORT_TEMPLATE: &str = include_str!("../../templates/report.html");
/// The diff page.
const DIFF_TEMPLATE: &str = include_str!("../../templates/diff.html");
/// Shared macros and the page frame.
const BASE_TEMPLATE: &str = include_str!("../../templates/base.html");
/// The style sheet, inlined into every page.
const STYLE: &str = include_str!("../../templates/style.css");
/// The filter script, inlined into the report page.
const SCRIPT: &str = include_str!("../../templates/filter.js");

/// The template environment: HTML auto-escaping (by the `.html` names),
/// strict undefined so a template that names a missing field fails here
/// rather than rendering an empty cell.
fn environment() -> Result<Environment<'static>, ReportError> {
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    for (name, source) in
        [("base.html", BASE_TEMPLATE), ("report.html", REPORT_TEMPLATE), ("diff.html", DIFF_TEMPLATE)]
    {
        env.add_template(name, source).map_err(render_error)?;
    }
    Ok(env)
}

fn render_error(e: minijinja::Error) -> ReportError {
    // minijinja's Display names the template and line; the source chain
    // carries the cause.
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    ReportError::Render { what: "HTML", message }
}

/// Renders the page `template` with `values` and the style sheet.
fn render(template: &str, values: Value) -> Result<String, ReportError> {
    let env = environment()?;
    let ctx = context! { style => Value::from_safe_string(STYLE.to_string()), ..values };
    env.get_template(template).and_then(|t| t.render(ctx)).map_err(render_error)
}

/// Renders the HTML report of a run.
pub fn render_report(report: &Report) -> Result<String, ReportError> {
    render(
        "report.html",
        context! {
            r => Value::from(minijinja::value::Serde(&view::ReportView::new(report))),
            script => Value::from_safe_string(SCRIPT.to_string()),
        },
    )
}

/// The HTML report's file name in a run's output directory.
pub const REPORT_HTML_FILE: &str = "report.html";

/// Renders the HTML page of a diff of two reports.
pub fn render_diff(diff: &Diff) -> Result<String, ReportError> {
    render(
        "diff.html",
        context! { d => Value::from(minijinja::value::Serde(&diff_view::DiffView::new(diff))) },
    )
}

/// Renders the HTML report and writes it to `path` atomically.
pub fn write_report(path: &std::path::Path, report: &Report) -> Result<(), ReportError> {
    crate::json::write_atomic(path, render_report(report)?.as_bytes())
}
