//! Command-line flags that widen what a plan may read: `--env NAME` and
//! `--allow-path DIR`, shared by `validate` and `run`.

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
