//! The `ioworker` action: converts the plan's workers into the driver's
//! [`IoWorkerConfig`]s, runs them with [`run_workers`] and turns the
//! results into the step's output. A watchdog stops the workers when the
//! run is interrupted or the step reaches its deadline; the step then ends
//! as an error that keeps what the workers measured, marked `stopped`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nvmeplan_driver::DriverError;
use nvmeplan_driver::Pattern as DriverPattern;
use nvmeplan_driver::ioworker::Progress;
use nvmeplan_driver::ioworker::{Align, IoOp, IoSizeSpec, IoWorkerConfig, SequenceEntry, run_workers};

use crate::plan::Pattern;
use crate::plan::control::ResetKind;
use crate::plan::ioworker::{IoSize, IoWorker, IoWorkers, LbaRandom};
use crate::run::context::{RunContext, StepError, StepResult};
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;
use crate::run::result::StopReason;

/// The driver pattern for a plan pattern (`incrementing` repeats bytes 0 to 3).
pub fn driver_pattern(pattern: &Pattern, seed: u64) -> DriverPattern {
    match pattern {
        Pattern::Stamp | Pattern::Random => DriverPattern::Random { seed },
        Pattern::Zeros => DriverPattern::Zeros,
        Pattern::Ones => DriverPattern::Ones,
        Pattern::Incrementing => DriverPattern::Dword(0x0302_0100),
        Pattern::Byte(b) => DriverPattern::Dword(u32::from(*b) * 0x0101_0101),
        Pattern::Dword(d) => DriverPattern::Dword(*d),
    }
}

fn op(name: &str) -> StepResult<IoOp> {
    IoOp::from_name(name).ok_or_else(|| StepError::Invalid(format!("unknown ioworker operation `{name}`")))
}

/// Converts one plan worker; `index` varies the default seed.
pub fn config(ctx: &RunContext, env: StepEnv<'_>, w: &IoWorker, index: usize) -> StepResult<IoWorkerConfig> {
    let e = env.eval;
    let mut c = IoWorkerConfig::new(e.or(w.nsid.as_ref(), ctx.default_nsid)?);
    c.io_size = match &w.io_size {
        None => IoSizeSpec::Fixed(8),
        Some(IoSize::Fixed(n)) => IoSizeSpec::Fixed(e.get(n)?),
        Some(IoSize::List(v)) => IoSizeSpec::List(v.clone()),
        Some(IoSize::Range(r)) => IoSizeSpec::Range { min: r.min, max: r.max },
        Some(IoSize::Weighted(m)) => IoSizeSpec::Weighted(
            m.iter()
                .map(|(k, w)| {
                    k.trim()
                        .parse::<u32>()
                        .map(|size| (size, *w))
                        .map_err(|_| StepError::Invalid(format!("io_size: `{k}` is not a number of blocks")))
                })
                .collect::<StepResult<_>>()?,
        ),
    };
    c.lba_align = Align::All(e.or(w.lba_align.as_ref(), 1)?.max(1));
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
    c.region_start = e.or(w.region_start.as_ref(), 0)?;
    c.region_end = e.opt(w.region_end.as_ref())?;
    c.lba_start = e.opt(w.lba_start.as_ref())?;
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
                    Ok(SequenceEntry { at: s.at.map(|d| d.0), op: op(&s.op)?, slba: s.slba, nlb: s.nlb })
                })
                .collect::<StepResult<_>>()?,
        ),
    };
    if c.time.is_none() && c.io_count.is_none() && c.io_sequence.is_none() {
        c.io_count = Some(1000);
    }
    c.seed = seed;
    c.timeout = Some(env.timeout.min(Duration::from_secs(5)));
    Ok(c)
}

/// Runs the step's workers.
pub fn run(ctx: &mut RunContext, env: StepEnv<'_>, workers: &IoWorkers) -> StepResult<ActionOutput> {
    let configs: Vec<IoWorkerConfig> = workers
        .workers()
        .iter()
        .enumerate()
        .map(|(i, w)| config(ctx, env, w, i))
        .collect::<StepResult<_>>()?;
    let verify = configs.iter().any(|c| c.verify);
    let nsids: Vec<u32> = configs.iter().map(|c| c.nsid).collect();
    let map = match nsids.first() {
        Some(&first) if nsids.iter().all(|&n| n == first) => Some(ctx.verify_map(first)),
        _ => None,
    };
    let deadline = env.deadline;
    let stop = AtomicBool::new(false);
    let done = AtomicBool::new(false);
    let timed_out = AtomicBool::new(false);
    let ctrl = ctx.ctrl.clone();
    let global = ctx.stop.clone();
    let progress = ctx.progress.clone();
    let reset = workers.workers().iter().find_map(|w| w.reset.clone());
    if let Some(r) = &reset
        && !matches!(r.kind, ResetKind::Controller | ResetKind::Function)
    {
        return Err(StepError::Invalid(format!(
            "ioworker reset: {:?} is not supported during I/O (controller or function)",
            r.kind
        )));
    }
    let reset_outcome: Mutex<Option<(Duration, Result<(), DriverError>)>> = Mutex::new(None);
    let result = std::thread::scope(|s| {
        if let Some(r) = &reset {
            let (ctrl, done, outcome) = (&ctrl, &done, &reset_outcome);
            s.spawn(move || {
                let start = Instant::now();
                while start.elapsed() < r.after.0 {
                    if done.load(Ordering::Relaxed) {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
                let at = start.elapsed();
                let res = match r.kind {
                    ResetKind::Function => ctrl.function_reset(),
                    _ => ctrl.reset(),
                };
                *outcome.lock().unwrap_or_else(|e| e.into_inner()) = Some((at, res));
            });
        }
        s.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                if global.load(Ordering::Relaxed) {
                    stop.store(true, Ordering::Relaxed);
                }
                if Instant::now() >= deadline {
                    timed_out.store(true, Ordering::Relaxed);
                    stop.store(true, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        let hook = progress
            .as_ref()
            .map(|h| move |p: &Progress| h.0.ioworker(p.worker, p.ios, p.iops_last_second, p.elapsed));
        let hook = hook.as_ref().map(|f| f as &(dyn Fn(&Progress) + Sync));
        let r = run_workers(&ctrl, &configs, map.clone(), &stop, hook);
        done.store(true, Ordering::Relaxed);
        r
    });
    // Workers on several namespaces run on a verify map of the call's own,
    // and a call that failed may have written before it did: what they
    // wrote is unknown to the run's maps, which must not claim old data.
    if map.is_none() || result.is_err() {
        for c in configs.iter().filter(|c| modifies(c)) {
            ctx.verify_map(c.nsid).clear_all();
        }
    }
    let reset_outcome = reset_outcome.into_inner().unwrap_or_else(|e| e.into_inner());
    let reset_note = match (&reset, reset_outcome) {
        (Some(r), Some((at, res))) => {
            ctx.after_reset();
            res?;
            Some(format!("{:?} reset {} ms after the workers started", r.kind, at.as_millis()).to_lowercase())
        }
        (Some(_), None) => Some("no reset: the workers finished before `after`".to_string()),
        _ => None,
    };
    let stopped = if ctx.stopped() {
        Some(StepError::Interrupted)
    } else if timed_out.load(Ordering::Relaxed) {
        Some(env.timed_out())
    } else {
        None
    };
    let (mut results, stopped) = match (result, stopped) {
        (Ok(results), stopped) => (results, stopped),
        (Err(_), Some(stopped)) => return Err(stopped),
        (Err(e), None) => return Err(e.into()),
    };
    let mut out = ActionOutput::default();
    let mismatches: Vec<String> = results
        .workers
        .iter()
        .flat_map(|w| w.mismatches.iter())
        .map(|m| format!("lba {}: {} (expected {:#x}, found {:#x})", m.lba, m.kind, m.expected, m.found))
        .collect();
    if verify {
        out.verified = true;
        out.mismatches = results.total.mismatch_count.max(mismatches.len() as u64);
        out.checked = results.total.blocks_checked;
        out.unchecked = results.total.blocks_unchecked;
        out.mismatch_details = mismatches.into_iter().take(super::data::MAX_MISMATCH_DETAILS).collect();
    }
    if let Some(note) = reset_note {
        out.message = Some(format!("{note}; {} IOs ended with an error", results.total.errors));
    }
    match stopped {
        None => {
            out.ioworker = Some(results);
            Ok(out)
        }
        Some(error) => {
            results.stopped = Some(match &error {
                StepError::Interrupted => StopReason::Interrupted,
                StepError::TimedOut { .. } => StopReason::TimedOut(error.to_string()),
                other => StopReason::Other(other.to_string()),
            });
            out.ioworker = Some(results);
            Err(StepError::Partial { error: Box::new(error), output: Box::new(out) })
        }
    }
}

/// Whether a worker may change data (writes, trims, write zeroes, raw).
fn modifies(c: &IoWorkerConfig) -> bool {
    match &c.io_sequence {
        Some(seq) => seq.iter().any(|e| e.op.modifies()),
        None => c.op_mix.iter().any(|(op, w)| *w > 0 && op.modifies()),
    }
}
