//! Diagnostics: what is wrong with a plan and where, rendered as text with
//! source snippets or as JSON for tools.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use annotate_snippets::{AnnotationKind, Level, Renderer, Snippet};
use serde::Serialize;

use crate::positions::Span;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The plan cannot run.
    Error,
    /// The plan runs, but probably not as meant.
    Warning,
}

/// Stable codes of diagnostics, for tools.
pub mod code {
    /// The file could not be read.
    pub const IO: &str = "io";
    /// The YAML does not parse.
    pub const YAML: &str = "yaml-syntax";
    /// The plan does not match the JSON Schema.
    pub const SCHEMA: &str = "schema";
    /// A value does not convert to its type.
    pub const TYPE: &str = "type";
    /// A step has no action or more than one.
    pub const ACTION: &str = "step-action";
    /// Two steps have the same name.
    pub const DUPLICATE_NAME: &str = "duplicate-name";
    /// An expression does not parse.
    pub const EXPRESSION: &str = "expression";
    /// An expression uses a name that is not defined there.
    pub const UNKNOWN_VARIABLE: &str = "unknown-variable";
    /// An unknown status name or code.
    pub const UNKNOWN_STATUS: &str = "unknown-status";
    /// An unknown identify, log or feature field.
    pub const UNKNOWN_FIELD: &str = "unknown-field";
    /// An unknown capability in `requires`.
    pub const UNKNOWN_CAPABILITY: &str = "unknown-capability";
    /// A value out of its range.
    pub const RANGE: &str = "out-of-range";
    /// A matrix axis no expression uses.
    pub const UNUSED_MATRIX_KEY: &str = "unused-matrix-key";
    /// An included file is missing or broken.
    pub const INCLUDE: &str = "include";
    /// An `expect` form that the action cannot produce.
    pub const EXPECT: &str = "expect";
    /// Keys that contradict each other.
    pub const CONFLICT: &str = "conflict";
}

/// One problem in a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// How bad it is.
    pub severity: Severity,
    /// A stable code (see [`code`]).
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
    /// The file, as given on the command line or resolved from an include.
    pub file: String,
    /// Line, 1-based (0 when the problem has no position).
    pub line: usize,
    /// Column in characters, 1-based (0 when the problem has no position).
    pub column: usize,
    /// Byte range in the file that the caret underlines.
    #[serde(skip)]
    pub span: Option<Range<usize>>,
    /// A short label next to the caret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// How to fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error at a span of a file.
    pub fn error(code: &'static str, message: impl Into<String>, file: &str, span: Option<Span>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            file: file.to_string(),
            line: span.map_or(0, |s| s.line),
            column: span.map_or(0, |s| s.column),
            span: span.map(|s| s.start..s.end),
            label: None,
            help: None,
        }
    }

    /// Makes this a warning.
    pub fn warning(mut self) -> Self {
        self.severity = Severity::Warning;
        self
    }

    /// Adds a label next to the caret.
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Adds a help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    /// `file:line:column: severity: message` on one line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{}:{}:{}: {severity}[{}]: {}", self.file, self.line, self.column, self.code, self.message)
    }
}

/// The text of every file diagnostics may point into, by file name.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    files: BTreeMap<String, String>,
}

impl Sources {
    /// Records a file's text.
    pub fn insert(&mut self, file: impl Into<String>, text: impl Into<String>) {
        self.files.insert(file.into(), text.into());
    }

    /// The text of a file.
    pub fn get(&self, file: &str) -> Option<&str> {
        self.files.get(file).map(String::as_str)
    }

    /// The names of the files read.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }
}

fn widen(text: &str, span: Range<usize>) -> Range<usize> {
    let start = span.start.min(text.len());
    let mut end = span.end.min(text.len()).max(start);
    if end == start && start < text.len() {
        end = start + text[start..].chars().next().map_or(0, char::len_utf8);
        if &text[start..end] == "\n" {
            end = start;
        }
    }
    // Underline the first line only: long block values are noisy.
    if let Some(nl) = text[start..end].find('\n')
        && nl > 0
    {
        end = start + nl;
    }
    start..end
}

/// Renders diagnostics as text with source snippets:
///
/// ```text
/// error[schema]: unknown key `expct` (did you mean `expect`?)
///  --> plan.yaml:12:5
///   |
/// 12 |     expct: { status: success }
///   |     ^^^^^
/// ```
pub fn render_text(diagnostics: &[Diagnostic], sources: &Sources) -> String {
    let renderer = Renderer::plain();
    let mut out = String::new();
    for d in diagnostics {
        let level = match d.severity {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
        };
        let title = level.primary_title(d.message.as_str()).id(d.code);
        let mut group = match (sources.get(&d.file), &d.span) {
            (Some(text), Some(span)) => {
                let mut annotation = AnnotationKind::Primary.span(widen(text, span.clone()));
                if let Some(label) = &d.label {
                    annotation = annotation.label(label.as_str());
                }
                title.element(Snippet::source(text).path(d.file.as_str()).fold(true).annotation(annotation))
            }
            _ => title.element(annotate_snippets::Origin::path(d.file.as_str())),
        };
        if let Some(help) = &d.help {
            group = group.element(Level::HELP.message(help.as_str()));
        }
        out.push_str(&renderer.render(&[group]));
        out.push_str("\n\n");
    }
    out
}

/// Renders diagnostics as a JSON array of objects with `file`, `line`,
/// `column`, `severity`, `code`, `message` and optional `label` and `help`.
pub fn render_json(diagnostics: &[Diagnostic]) -> serde_json::Value {
    serde_json::to_value(diagnostics).unwrap_or_default()
}

/// The candidate closest to `input`, if it is close enough to be a typo.
pub fn closest<'a, S: AsRef<str> + 'a>(
    input: &str,
    candidates: impl IntoIterator<Item = S>,
) -> Option<String> {
    let candidates: Vec<S> = candidates.into_iter().collect();
    nvmeplan_spec::names::closest(input, candidates.iter().map(|c| c.as_ref())).map(str::to_string)
}

/// ` (did you mean `x`?)` when a candidate is close to `input`, else empty.
pub fn did_you_mean<S: AsRef<str>>(input: &str, candidates: impl IntoIterator<Item = S>) -> String {
    closest(input, candidates).map(|c| format!(" (did you mean `{c}`?)")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(did_you_mean("expct", ["expect", "save"]), " (did you mean `expect`?)");
        assert_eq!(did_you_mean("zzz", ["expect", "save"]), "");
    }

    #[test]
    fn renders_snippet() {
        let mut sources = Sources::default();
        sources.insert("p.yaml", "a: 1\nbad: 2\n");
        let span = Span { line: 2, column: 1, start: 5, end: 8 };
        let d =
            Diagnostic::error(code::SCHEMA, "unknown key `bad`", "p.yaml", Some(span)).with_help("remove it");
        let text = render_text(&[d], &sources);
        assert!(text.contains("error[schema]: unknown key `bad`"), "{text}");
        assert!(text.contains("--> p.yaml:2:1"), "{text}");
        assert!(text.contains("^^^"), "{text}");
        assert!(text.contains("help: remove it"), "{text}");
    }
}
