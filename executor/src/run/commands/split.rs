//! Splitting a block-range step into commands the device takes: a read,
//! write or compare moves at most MDTS bytes per command (Identify
//! Controller, in units of CAP.MPSMIN; 0 = no limit), and no command moves
//! more than 65536 blocks (NLB is a 16-bit, zero-based field). Write Zeroes,
//! Verify and Write Uncorrectable move no data, so MDTS does not bound
//! them; they are split only at 65536 blocks (their own limits, WZSL, VSL
//! and WUSL of the NVM Command Set Identify Controller, are not read).
//!
//! With `split: false` the step is one command whatever its size, so a
//! plan can send a transfer over MDTS on purpose and see the device's
//! status.

use nvmeplan_spec::Completion;

use super::io::Range;
use crate::plan::io::MAX_NLB;
use crate::run::context::{RunContext, StepError, StepResult};
use crate::run::output::ActionOutput;

/// What bounds the commands of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transfer {
    /// A data transfer (read, write, compare): MDTS and NLB.
    Data,
    /// No data moves (write zeroes, verify, write uncorrectable): NLB only.
    NoData,
}

/// One command of a split step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Chunk {
    /// Its first LBA.
    pub slba: u64,
    /// Its blocks (1 to 65536).
    pub nlb: u32,
    /// Where its data starts in the step's buffer, in bytes.
    pub offset: usize,
}

/// The commands a step of range `r` is sent as.
#[derive(Debug, Clone)]
pub(crate) struct SplitPlan {
    /// Blocks per command (the last may have fewer).
    pub per_command: u64,
    /// Why commands are that large, for the step's message.
    pub limit: &'static str,
    range: (u64, u64, usize),
}

impl SplitPlan {
    /// The commands, in LBA order.
    pub fn chunks(&self) -> impl Iterator<Item = Chunk> + '_ {
        let (slba, nlb, lba_size) = self.range;
        let per = self.per_command;
        (0..nlb.div_ceil(per)).map(move |i| Chunk {
            slba: slba + i * per,
            nlb: (nlb - i * per).min(per) as u32,
            offset: (i * per) as usize * lba_size,
        })
    }

    /// How many commands.
    pub fn count(&self) -> u64 {
        self.range.1.div_ceil(self.per_command)
    }

    /// A note for the step's result when it took more than one command.
    pub fn note(&self, sent: u64) -> Option<String> {
        (self.count() > 1).then(|| {
            format!(
                "{} blocks in {} commands of at most {} blocks ({}){}",
                self.range.1,
                self.count(),
                self.per_command,
                self.limit,
                if sent < self.count() {
                    format!("; stopped after command {sent} failed")
                } else {
                    String::new()
                }
            )
        })
    }
}

/// How the step of range `r` is sent: in commands of at most the device's
/// limit (`split`), or as one command (`split: false`), which must still
/// fit the NLB field.
pub(crate) fn plan(ctx: &RunContext, r: &Range, transfer: Transfer, split: bool) -> StepResult<SplitPlan> {
    let lba = r.lba_size as u64;
    let range = (r.slba, r.nlb, r.lba_size);
    if !split {
        if r.nlb > MAX_NLB {
            return Err(StepError::Invalid(format!(
                "{} blocks cannot be one command (at most {MAX_NLB}); leave `split` on to send several",
                r.nlb
            )));
        }
        return Ok(SplitPlan { per_command: r.nlb, limit: "split: false", range });
    }
    let mdts_blocks = match transfer {
        Transfer::Data => ctx.ctrl.mdts_bytes().map(|b| (b as u64 / lba).max(1)),
        Transfer::NoData => None,
    };
    Ok(match mdts_blocks {
        Some(m) if m < MAX_NLB => SplitPlan { per_command: m, limit: "MDTS", range },
        _ => SplitPlan { per_command: MAX_NLB, limit: "the NLB field", range },
    })
}

/// Sends the commands of `plan` with `send` in order until one fails: the
/// step's completion is that first failure, else the last command's.
/// Returns it with the number of commands sent.
pub(crate) fn each(
    plan: &SplitPlan,
    mut send: impl FnMut(Chunk) -> StepResult<Completion>,
) -> StepResult<(Completion, u64)> {
    let mut last = None;
    let mut sent = 0;
    for chunk in plan.chunks() {
        let cqe = send(chunk)?;
        sent += 1;
        let failed = !cqe.status().is_success();
        last = Some(cqe);
        if failed {
            break;
        }
    }
    last.map(|c| (c, sent)).ok_or_else(|| StepError::Invalid("a range of no blocks sends no command".into()))
}

/// The output of a step sent as `plan`'s commands: the completion, and a
/// message when there were several.
pub(crate) fn output(plan: &SplitPlan, cqe: Completion, sent: u64) -> ActionOutput {
    let mut out = ActionOutput::completion(cqe);
    out.message = plan.note(sent);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(slba: u64, nlb: u64, per: u64) -> SplitPlan {
        SplitPlan { per_command: per, limit: "MDTS", range: (slba, nlb, 512) }
    }

    #[test]
    fn chunks_cover_the_range_in_order_with_a_short_last_one() {
        let p = plan(100, 600, 256);
        let chunks: Vec<Chunk> = p.chunks().collect();
        assert_eq!(
            chunks,
            [
                Chunk { slba: 100, nlb: 256, offset: 0 },
                Chunk { slba: 356, nlb: 256, offset: 256 * 512 },
                Chunk { slba: 612, nlb: 88, offset: 512 * 512 },
            ]
        );
        assert_eq!(p.count(), 3);
        assert_eq!(p.note(3).as_deref(), Some("600 blocks in 3 commands of at most 256 blocks (MDTS)"));
        assert!(p.note(2).unwrap().ends_with("stopped after command 2 failed"));
        assert_eq!(plan(0, 8, 256).note(1), None);
    }
}
