//! Converting the plan's workers into the driver's [`IoWorkerConfig`]s
//! (seeds, sizes, mixes, regions, patterns); the `ioworker` room
//! ([`crate::action::ioworker`]) runs them and watches their deadline.

use std::time::Duration;

use super::data::driver_pattern;
use nvmeplan_driver::ioworker::{Align, IoOp, IoSizeSpec, IoWorkerConfig, SequenceEntry};

use crate::plan::ioworker::{IoSize, IoWorker, LbaRandom};
use crate::plan::size::Size;
use crate::plan::values::Pattern;
use crate::run::commands::io::lba_size;
use crate::run::context::{RunContext, StepError, StepResult};
use crate::run::limits::StepEnv;

pub(crate) fn op(name: &str) -> StepResult<IoOp> {
    IoOp::from_name(name).ok_or_else(|| StepError::Invalid(format!("unknown ioworker operation `{name}`")))
}

/// Converts one plan worker; `index` varies the default seed.
pub fn config(ctx: &RunContext, env: StepEnv<'_>, w: &IoWorker, index: usize) -> StepResult<IoWorkerConfig> {
    let e = env.eval;
    let mut c = IoWorkerConfig::new(e.or(w.nsid.as_ref(), ctx.default_nsid)?);
    let lba = lba_size(ctx, c.nsid)?;
    let io_blocks = |key: &str, size: Size| -> StepResult<u32> {
        let n = size.blocks(lba).map_err(|e| StepError::Invalid(format!("{key}: {e}")))?;
        u32::try_from(n).map_err(|_| StepError::Invalid(format!("{key}: {n} blocks is too large")))
    };
    c.io_size = match &w.io_size {
        None => IoSizeSpec::Fixed(8),
        Some(IoSize::Fixed(n)) => IoSizeSpec::Fixed(io_blocks("io_size", e.get(n)?)?),
        Some(IoSize::List(v)) => {
            IoSizeSpec::List(v.iter().map(|s| io_blocks("io_size", *s)).collect::<StepResult<_>>()?)
        }
        Some(IoSize::Range(r)) => {
            IoSizeSpec::Range { min: io_blocks("io_size min", r.min)?, max: io_blocks("io_size max", r.max)? }
        }
        Some(IoSize::Weighted(m)) => IoSizeSpec::Weighted(
            m.iter()
                .map(|(k, w)| {
                    let size = k.parse::<Size>().map_err(|e| StepError::Invalid(format!("io_size: {e}")))?;
                    Ok((io_blocks("io_size", size)?, *w))
                })
                .collect::<StepResult<_>>()?,
        ),
    };
    let align = e.opt(w.lba_align.as_ref())?.map(|s| io_blocks("lba_align", s)).transpose()?;
    c.lba_align = Align::All(align.unwrap_or(1).max(1));
    c.lba_step = e.opt(w.lba_step.as_ref())?;
    c.lba_random_percent = match w.lba_random {
        None | Some(LbaRandom::Flag(false)) => 0,
        Some(LbaRandom::Flag(true)) => 100,
        Some(LbaRandom::Percent(p)) => p.min(100),
    };
    if let Some(mix) = &w.op_percentage {
        c.op_mix = mix.iter().map(|(k, v)| Ok((op(k)?, u32::from(*v)))).collect::<StepResult<_>>()?;
    } else {
        c = c.read_percentage(e.or(w.read_percentage.as_ref(), 100)?);
    }
    let qdepth = e.or(w.qdepth.as_ref(), 1)?;
    c.qdepth =
        u16::try_from(qdepth).map_err(|_| StepError::Invalid(format!("qdepth {qdepth} is too large")))?;
    c.time = w.time.map(|d| d.0);
    c.io_count = e.opt(w.io_count.as_ref())?;
    c.region_start = e.opt_blocks("region_start", w.region_start.as_ref(), lba)?.unwrap_or(0);
    c.region_end = e.opt_blocks("region_end", w.region_end.as_ref(), lba)?;
    c.lba_start = e.opt_blocks("lba_start", w.lba_start.as_ref(), lba)?;
    c.iops_limit = e.opt(w.iops.as_ref())?;
    c.distribution = w.distribution.clone();
    let seed = w.seed.unwrap_or(ctx.seed.wrapping_add(index as u64));
    c.pattern = driver_pattern(w.pattern.as_ref().unwrap_or(&Pattern::Stamp), seed);
    c.verify = w.verify;
    c.io_sequence = match &w.io_sequence {
        None => None,
        Some(seq) => Some(
            seq.iter()
                .map(|s| {
                    let slba = s
                        .slba
                        .blocks(lba)
                        .map_err(|e| StepError::Invalid(format!("io_sequence slba: {e}")))?;
                    let nlb = io_blocks("io_sequence nlb", s.nlb)?;
                    Ok(SequenceEntry { at: s.at.map(|d| d.0), op: op(&s.op)?, slba, nlb })
                })
                .collect::<StepResult<_>>()?,
        ),
    };
    if c.time.is_none() && c.io_count.is_none() && c.io_sequence.is_none() {
        c.io_count = Some(1000);
    }
    c.seed = seed;
    c.max_errors = e.opt(w.max_errors.as_ref())?;
    c.continue_on_error = w.continue_on_error || c.max_errors.is_some();
    c.timeout = Some(env.timeout.min(Duration::from_secs(5)));
    Ok(c)
}

/// Whether a worker may change data (writes, trims, write zeroes, raw).
pub(crate) fn modifies(c: &IoWorkerConfig) -> bool {
    match &c.io_sequence {
        Some(seq) => seq.iter().any(|e| e.op.modifies()),
        None => c.op_mix.iter().any(|(op, w)| *w > 0 && op.modifies()),
    }
}
