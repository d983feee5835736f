//! The `ioworker` action: IO workers on their own queue pairs, one or several in parallel (plan
//! types in `crate::plan::ioworker`).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nvmeplan_driver::DriverError;
use nvmeplan_driver::ioworker::{IoWorkerConfig, Progress, run_workers};

use crate::action::{ActionCheck, ActionKind, ExpectKey};
use crate::diagnostic::{code, did_you_mean};
use crate::plan::control::ResetKind;
use crate::plan::io::MAX_NLB;
use crate::plan::ioworker::{IO_OPS, IoSize, IoWorker, IoWorkers};
use crate::plan::size::Size;
use crate::plan::values::Expr;
use crate::run::commands::ioworker::{config, modifies};
use crate::run::context::{Eval, RunContext, StepError, StepResult};
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;
use crate::run::result::StopReason;

/// The `ioworker` action.
#[derive(Debug)]
pub struct IoworkerDef;

impl ActionKind for IoworkerDef {
    type Plan = IoWorkers;
    const EXPECT: &'static [ExpectKey] =
        &[ExpectKey::Data, ExpectKey::Errors, ExpectKey::Iops, ExpectKey::Latency];

    fn check(plan: &Self::Plan, cx: &mut ActionCheck<'_, '_>) {
        for (i, w) in plan.workers().iter().enumerate() {
            let index = i.to_string();
            let path: &[&str] = match plan {
                IoWorkers::One(_) => &[],
                IoWorkers::Parallel(_) => &[&index],
            };
            check_worker(cx, path, w);
        }
    }

    fn verifies_nothing(plan: &Self::Plan) -> Option<String> {
        (!plan.workers().iter().any(|w| w.verify))
            .then(|| "this `ioworker` verifies nothing (add `verify: true`)".into())
    }

    fn destructive(plan: &Self::Plan, eval: Eval<'_>) -> StepResult<Option<String>> {
        let mut writes = false;
        for w in plan.workers() {
            writes |= worker_writes(w, eval)?;
        }
        Ok(writes.then(|| "ioworker with writes".to_string()))
    }

    fn own_length(plan: &Self::Plan) -> Duration {
        plan.workers()
            .iter()
            .flat_map(|w| {
                let at = w.io_sequence.iter().flatten().filter_map(|e| e.at.map(|d| d.0));
                w.time.map(|d| d.0).into_iter().chain(at)
            })
            .max()
            .unwrap_or_default()
    }

    fn execute(workers: &Self::Plan, ctx: &mut RunContext, env: StepEnv<'_>) -> StepResult<ActionOutput> {
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
                Some(
                    format!("{:?} reset {} ms after the workers started", r.kind, at.as_millis())
                        .to_lowercase(),
                )
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
        let mut out = ActionOutput {
            errors_tolerated: configs.iter().any(|c| c.continue_on_error),
            ..Default::default()
        };
        // The total's list holds each LBA once, however many workers or
        // reads found it wrong.
        let mismatches: Vec<String> = results
            .total
            .mismatches
            .iter()
            .map(|m| format!("lba {}: {} (expected {:#x}, found {:#x})", m.lba, m.kind, m.expected, m.found))
            .collect();
        if verify {
            out.verified = true;
            out.mismatches = results.total.mismatch_count.max(mismatches.len() as u64);
            out.checked = results.total.blocks_checked;
            out.unchecked = results.total.blocks_unchecked;
            out.mismatch_details =
                mismatches.into_iter().take(crate::run::commands::data::MAX_MISMATCH_DETAILS).collect();
        }
        if let Some(note) = reset_note {
            out.message = Some(format!("{note}; {}", error_summary(&results)));
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
}

/// The errors of the workers, by the same numbers as their counts: `33
/// errors: command_aborted_by_host 32, the reset of the workers' queues 1`.
/// Error statuses come from the total's `status_counts`; a worker the
/// reset ended counts one error for it (its lost queue); the rest of
/// `errors` had no completion (timeouts, driver errors).
fn error_summary(results: &nvmeplan_driver::ioworker::IoWorkerResults) -> String {
    let total = &results.total;
    let by_status: Vec<(&String, u64)> =
        total.status_counts.iter().filter(|(k, _)| k.as_str() != "success").map(|(k, v)| (k, *v)).collect();
    let with_status: u64 = by_status.iter().map(|(_, v)| v).sum();
    let mut parts: Vec<String> = by_status.iter().map(|(k, v)| format!("{k} {v}")).collect();
    // Expected media errors (blocks made uncorrectable) are counted by
    // status but are not errors.
    let without = total.errors.saturating_sub(with_status);
    let resets = (results.workers.iter().filter(|w| w.stopped.as_deref().is_some_and(is_reset)).count()
        as u64)
        .min(without);
    if resets > 0 {
        parts.push(format!("the reset of the workers' queues {resets}"));
    }
    let other = without - resets;
    if other > 0 {
        let first = total.error_completions.iter().find(|e| e.cqe.is_none() && !is_reset(&e.status));
        parts.push(match first {
            Some(e) => format!("{other} without a completion, the first: {}", e.status),
            None => format!("{other} without a completion (timeout or driver error)"),
        });
    }
    let n = total.errors;
    let errors = if n == 1 { "error" } else { "errors" };
    if parts.is_empty() { format!("{n} {errors}") } else { format!("{n} {errors}: {}", parts.join(", ")) }
}

/// Whether a stop reason or error text is the driver's controller reset.
fn is_reset(text: &str) -> bool {
    text.contains("the controller was reset")
}

/// The rules of one worker at `path` below the action.
fn check_worker(cx: &mut ActionCheck<'_, '_>, path: &[&str], w: &IoWorker) {
    let here = |key: &'static str| [path, &[key]].concat();
    if w.read_percentage.is_some() && w.op_percentage.is_some() {
        let span = cx.key_at(&here("op_percentage"));
        cx.error(code::CONFLICT, "`read_percentage` and `op_percentage` exclude each other", span);
    }
    if let Some(Expr::Literal(p)) = &w.read_percentage
        && *p > 100
    {
        cx.error(code::RANGE, format!("read_percentage {p} is above 100"), cx.at(&here("read_percentage")));
    }
    if let Some(ops) = &w.op_percentage {
        for key in ops.keys() {
            let raw_opcode = key
                .strip_prefix("0x")
                .map(|h| u8::from_str_radix(h, 16).is_ok())
                .unwrap_or_else(|| key.parse::<u8>().is_ok());
            if !IO_OPS.contains(&nvmeplan_spec::names::canonical(key).as_str()) && !raw_opcode {
                let span = cx.key_at(&[path, &["op_percentage", key.as_str()]].concat());
                let d = cx.error(
                    code::SCHEMA,
                    format!("unknown operation `{key}`{}", did_you_mean(key, IO_OPS)),
                    span,
                );
                d.help = Some(format!("operations: {} or a raw opcode such as `0x99`", IO_OPS.join(", ")));
            }
        }
        let sum: u32 = ops.values().map(|v| u32::from(*v)).sum();
        if sum != 100 {
            cx.error(
                code::RANGE,
                format!("op_percentage adds up to {sum}, not 100"),
                cx.at(&here("op_percentage")),
            );
        }
    }
    if w.time.is_none() && w.io_count.is_none() && w.io_sequence.is_none() {
        let d = cx.error(
            code::SCHEMA,
            "an ioworker needs `time`, `io_count` or `io_sequence` to know when to stop",
            cx.key_at(path),
        );
        d.help = Some("add e.g. `time: 10s`".into());
    }
    if let Some(dist) = &w.distribution {
        let sum: u64 = dist.iter().map(|v| u64::from(*v)).sum();
        if dist.len() != 100 || sum != 10_000 {
            let message = format!(
                "`distribution` needs 100 buckets summing to 10000, found {} summing to {sum}",
                dist.len()
            );
            cx.error(code::RANGE, message, cx.at(&here("distribution")));
        }
    }
    let nsid = w.nsid.as_ref();
    let start = w.region_start.as_ref().and_then(|s| cx.blocks(&here("region_start"), s, nsid));
    let end = w.region_end.as_ref().and_then(|e| cx.blocks(&here("region_end"), e, nsid));
    if let Some(l) = &w.lba_start {
        cx.blocks(&here("lba_start"), l, nsid);
    }
    if let Some(a) = &w.lba_align {
        cx.blocks(&here("lba_align"), a, nsid);
    }
    if let (Some(s), Some(e)) = (start, end)
        && e <= s
    {
        cx.error(
            code::RANGE,
            format!("region_end (block {e}) is not after region_start (block {s})"),
            cx.at(&here("region_end")),
        );
    }
    for (i, io) in w.io_sequence.iter().flatten().enumerate() {
        let index = i.to_string();
        let at = |key: &'static str| [path, &["io_sequence", index.as_str(), key]].concat();
        cx.blocks(&at("slba"), &Expr::Literal(io.slba), nsid);
        cx.blocks(&at("nlb"), &Expr::Literal(io.nlb), nsid);
    }

    let io_size = here("io_size");
    let sizes: Vec<u64> = match &w.io_size {
        Some(IoSize::Fixed(n)) => cx.blocks(&io_size, n, nsid).into_iter().collect(),
        Some(IoSize::List(v)) => v
            .iter()
            .enumerate()
            .filter_map(|(i, n)| {
                cx.blocks(&[io_size.as_slice(), &[&i.to_string()]].concat(), &Expr::Literal(*n), nsid)
            })
            .collect(),
        Some(IoSize::Range(r)) => {
            let min = cx.blocks(&[io_size.as_slice(), &["min"]].concat(), &Expr::Literal(r.min), nsid);
            let max = cx.blocks(&[io_size.as_slice(), &["max"]].concat(), &Expr::Literal(r.max), nsid);
            if let (Some(min), Some(max)) = (min, max)
                && min > max
            {
                cx.error(
                    code::RANGE,
                    format!("io_size min {} is above max {}", r.min, r.max),
                    cx.at(&io_size),
                );
            }
            min.into_iter().chain(max).collect()
        }
        Some(IoSize::Weighted(m)) => {
            let mut sizes = Vec::new();
            for key in m.keys() {
                let at = [io_size.as_slice(), &[key.as_str()]].concat();
                match key.parse::<Size>() {
                    Ok(size) => sizes.extend(cx.blocks(&at, &Expr::Literal(size), nsid)),
                    Err(e) => {
                        let span = cx.key_at(&at);
                        cx.error(code::SCHEMA, format!("io_size: {e}"), span);
                    }
                }
            }
            sizes
        }
        None => Vec::new(),
    };
    if let Some(bad) = sizes.iter().find(|n| **n == 0 || **n > MAX_NLB) {
        cx.error(
            code::RANGE,
            format!("io_size {bad} is out of range: 1 to {MAX_NLB} blocks"),
            cx.at(&io_size),
        );
    }
}

/// ioworker operations that do not change data.
const READ_ONLY_WORKER_OPS: &[&str] = &["read", "compare", "verify", "flush"];

/// Whether a worker may change data.
fn worker_writes(w: &IoWorker, eval: Eval<'_>) -> StepResult<bool> {
    if let Some(mix) = &w.op_percentage {
        if mix.iter().any(|(op, &share)| share > 0 && !READ_ONLY_WORKER_OPS.contains(&op.as_str())) {
            return Ok(true);
        }
    } else if let Some(rp) = &w.read_percentage
        && eval.get(rp)? < 100
    {
        return Ok(true);
    }
    Ok(w.io_sequence
        .as_ref()
        .is_some_and(|seq| seq.iter().any(|io| !READ_ONLY_WORKER_OPS.contains(&io.op.as_str()))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nvmeplan_driver::ioworker::{IoWorkerResults, WorkerResult};

    #[test]
    fn the_reset_message_counts_what_the_status_counts_say() {
        let reset =
            StopReason::Other("queue 1: the controller was reset; the queue must be re-created".into());
        let mut w = WorkerResult { errors: 33, stopped: Some(reset), ..WorkerResult::default() };
        w.status_counts.insert("success".into(), 900);
        w.status_counts.insert("command_aborted_by_host".into(), 32);
        let mut r = IoWorkerResults { workers: vec![w.clone()], total: w, stopped: None };
        assert_eq!(
            error_summary(&r),
            "33 errors: command_aborted_by_host 32, the reset of the workers' queues 1"
        );
        r.total.errors = 34;
        r.total.error_completions.push(nvmeplan_driver::ioworker::FirstError {
            command: "read".into(),
            status: "timeout: no completion".into(),
            cqe: None,
            cmdlog_tail: Vec::new(),
        });
        assert!(error_summary(&r).ends_with(", 1 without a completion, the first: timeout: no completion"));
        r.workers[0].stopped = None;
        r.total.errors = 32;
        assert_eq!(error_summary(&r), "32 errors: command_aborted_by_host 32");
        let none = IoWorkerResults::default();
        assert_eq!(error_summary(&none), "0 errors");
    }
}
