//! `nvmeplan validate`: checks plans and reports every problem with its
//! location, as text with source snippets or as JSON.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::PathBuf;

use clap::ValueEnum;

use super::stdout;

/// Arguments of `nvmeplan validate`.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
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
    inputs: super::inputs::InputArgs,
}

/// How `validate` prints its findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Messages with source snippets.
    Text,
    /// A JSON array of `{file, line, column, severity, code, message}`.
    Json,
}

/// Validates the plans; `Ok(false)` when one has an error.
pub fn run(args: &ValidateArgs) -> anyhow::Result<bool> {
    let options = args.inputs.options(super::inputs::parse_vars(&args.vars)?);
    let mut ok = true;
    let mut json = Vec::new();
    let mut variables = BTreeSet::new();
    let mut stderr = std::io::stderr().lock();
    for path in &args.plans {
        let report = nvmeplan::validate_path(path, &options);
        ok &= !report.has_errors();
        variables.extend(report.variables.iter().cloned());
        match args.format {
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
    if args.format == Format::Json {
        stdout::println(&serde_json::to_string_pretty(&nvmeplan::render_json(&json))?);
    }
    if ok && let Err(e) = super::checks::vars_used(options.vars.keys(), &variables) {
        writeln!(stderr, "error: {e}")?;
        ok = false;
    }
    Ok(ok)
}
