//! The `self_test` action: Device Self-test, started, aborted or waited for.

use std::time::{Duration, Instant};

use nvmeplan_driver::commands::{self, NSID_ALL};
use nvmeplan_spec::AdminOpcode;
use nvmeplan_spec::log::lid;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::action::ActionKind;
use crate::plan::values::Expr;
use crate::run::commands::admin::{default_log_len, log_fields, read_log, send};
use crate::run::context::{Eval, RunContext, StepError, StepResult};
use crate::run::guard::typed_admin;
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;

/// Device self-test code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SelfTestCode {
    /// Short device self-test (1h).
    Short,
    /// Extended device self-test (2h).
    Extended,
    /// Abort the running self-test (Fh).
    Abort,
}

/// Device Self-test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SelfTest {
    /// Which test.
    pub code: SelfTestCode,
    /// Namespace ID (default 0xFFFFFFFF: all namespaces).
    #[serde(default)]
    pub nsid: Option<Expr<u32>>,
    /// Wait until the self-test log reports the result.
    #[serde(default)]
    pub wait: bool,
}

/// The `self_test` action.
#[derive(Debug)]
pub struct SelfTestDef;

impl ActionKind for SelfTestDef {
    type Plan = SelfTest;

    fn destructive(_plan: &Self::Plan, _eval: Eval<'_>) -> StepResult<Option<String>> {
        Ok(typed_admin("self_test", AdminOpcode::DeviceSelfTest))
    }

    fn execute(a: &Self::Plan, ctx: &mut RunContext, env: StepEnv<'_>) -> StepResult<ActionOutput> {
        let stc = match a.code {
            SelfTestCode::Short => 1,
            SelfTestCode::Extended => 2,
            SelfTestCode::Abort => 0xF,
        };
        let nsid = env.eval.or(a.nsid.as_ref(), NSID_ALL)?;
        let cqe = send(ctx, env, commands::device_self_test(nsid, stc), None)?;
        let mut out = ActionOutput::completion(cqe);
        if !(out.succeeded() && a.wait) {
            return Ok(out);
        }
        let len = default_log_len(lid::DEVICE_SELF_TEST) as usize;
        let start = Instant::now();
        loop {
            let (lcqe, data) = read_log(ctx, env, lid::DEVICE_SELF_TEST, NSID_ALL, len, 0, 0, false)?;
            if !lcqe.status().is_success() {
                return Err(StepError::Invalid(format!("self-test log: {}", lcqe.status())));
            }
            if data.first().is_some_and(|b| b & 0xF == 0) {
                out.fields = log_fields(lid::DEVICE_SELF_TEST, &data);
                return Ok(out);
            }
            if start.elapsed() >= env.timeout {
                return Err(StepError::Invalid(format!("self-test still running after {:?}", env.timeout)));
            }
            ctx.sleep(Duration::from_millis(10))?;
        }
    }
}
