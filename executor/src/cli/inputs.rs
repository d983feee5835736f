//! The plan inputs of the command line, shared by `validate` and `run`:
//! the flags that widen what a plan may read (`--env NAME`, `--allow-path
//! DIR`) and the `--var NAME=VALUE` values.

use std::path::PathBuf;

/// What a plan may read beyond its defaults.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct InputArgs {
    /// Let expressions read this environment variable as `env.NAME` (repeatable); only `NVMEPLAN_*`
    /// variables are visible without it.
    #[arg(long = "env", value_name = "NAME")]
    pub env: Vec<String>,
    /// Let `include` and `firmware_download { file }` name files in DIR (repeatable); without it they
    /// must stay inside the plan's directory.
    #[arg(long = "allow-path", value_name = "DIR")]
    pub allow_paths: Vec<PathBuf>,
}

impl InputArgs {
    /// Validation options with these flags and the `--var` values.
    pub fn options(&self, vars: std::collections::BTreeMap<String, serde_json::Value>) -> nvmeplan::Options {
        nvmeplan::Options { vars, env: self.env.clone(), allow_paths: self.allow_paths.clone() }
    }
}

/// The `--var NAME=VALUE` values, each value parsed as YAML (a string when
/// it is not YAML).
pub fn parse_vars(vars: &[String]) -> anyhow::Result<std::collections::BTreeMap<String, serde_json::Value>> {
    use anyhow::Context as _;
    let mut out = std::collections::BTreeMap::new();
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
