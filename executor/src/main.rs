//! The `nvmeplan` command line.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};

/// Exit code: success.
const EXIT_OK: u8 = 0;
/// Exit code: a plan is invalid, or the command line is wrong.
const EXIT_PLAN_ERROR: u8 = 2;

/// Test NVMe SSDs with YAML test plans.
#[derive(Debug, Parser)]
#[command(
    name = "nvmeplan",
    version,
    after_help = "Exit codes:\n  0  success\n  2  a plan has errors, or the command line is wrong"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the plan JSON Schema (draft-07), for editors and tools.
    Schema,
    /// Check plans and report every problem with its location.
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
    },
    // `run` (executing plans against a device) belongs here; it is added by
    // the runner work.
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
        let value: serde_json::Value =
            serde_saphyr::from_str(value).unwrap_or_else(|_| serde_json::Value::String(value.to_string()));
        out.insert(name.trim().to_string(), value);
    }
    Ok(out)
}

fn validate(plans: &[PathBuf], format: Format, vars: &[String]) -> anyhow::Result<bool> {
    let options = nvmeplan::Options { vars: parse_vars(vars)? };
    let mut ok = true;
    let mut json = Vec::new();
    let mut stdout = std::io::stdout().lock();
    let mut stderr = std::io::stderr().lock();
    for path in plans {
        let report = nvmeplan::validate_path(path, &options);
        ok &= !report.has_errors();
        match format {
            Format::Text => {
                write!(stderr, "{}", nvmeplan::render_text(&report.diagnostics, &report.sources))?;
                if !report.has_errors() {
                    let steps = report.plan.as_ref().map_or(0, |p| p.walk().len());
                    writeln!(stdout, "{}: ok ({steps} steps)", path.display())?;
                }
            }
            Format::Json => json.extend(report.diagnostics),
        }
    }
    if format == Format::Json {
        writeln!(stdout, "{}", serde_json::to_string_pretty(&nvmeplan::render_json(&json))?)?;
    }
    Ok(ok)
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_PLAN_ERROR } else { EXIT_OK });
        }
    };
    let result = match cli.command {
        Command::Schema => {
            print!("{}", nvmeplan::schema::plan_schema_string());
            Ok(true)
        }
        Command::Validate { plans, format, vars } => validate(&plans, format, &vars),
    };
    match result {
        Ok(true) => ExitCode::from(EXIT_OK),
        Ok(false) => ExitCode::from(EXIT_PLAN_ERROR),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_PLAN_ERROR)
        }
    }
}
