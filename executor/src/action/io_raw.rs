//! The `io_raw` action: an I/O command given dword by dword; any opcode but the read-only ones is
//! destructive.

use crate::action::ActionKind;
use crate::plan::io::RawCommand;
use crate::run::commands::io::raw;
use crate::run::context::{Eval, RunContext, StepResult};
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;

/// The `io_raw` action.
#[derive(Debug)]
pub struct IoRawDef;

impl ActionKind for IoRawDef {
    type Plan = RawCommand;

    fn destructive(plan: &Self::Plan, _eval: Eval<'_>) -> StepResult<Option<String>> {
        Ok((!READ_ONLY_IO.contains(&plan.opcode)).then(|| format!("io_raw opcode {:#04x}", plan.opcode)))
    }

    fn execute(plan: &Self::Plan, ctx: &mut RunContext, env: StepEnv<'_>) -> StepResult<ActionOutput> {
        raw(ctx, env, plan, false)
    }
}

/// I/O opcodes that only read or check: Flush, Read, Compare, Verify.
const READ_ONLY_IO: &[u8] = &[0x00, 0x02, 0x05, 0x0C];
