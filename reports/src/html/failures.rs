//! The Failures card of the report page: for each failed or errored step,
//! what the expanded step shows (reason, expectations, mismatches, device
//! state) plus the failing IO itself: the failing commands with their
//! completions and the tail of *that* queue's command log, and for an
//! ioworker the first error of each worker with its completion and its
//! queue's tail (the worker's own queue, not the admin queue).

use serde::Serialize;

use super::view::{CommandView, StepView};
use crate::model::{CompletionFields, StepResult, WorkerError, WorkerStats};

/// One failed or errored step in the Failures card.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct FailureView {
    /// What the expanded step shows.
    #[serde(flatten)]
    pub step: StepView,
    /// The step's commands that did not complete with success (command and
    /// completion), oldest first.
    pub failing: Vec<CommandView>,
    /// The queue of the last failing command and that queue's part of the
    /// command log tail taken when the step failed.
    pub queue: Option<QueueTail>,
    /// The first errors of each worker that had one.
    pub worker_errors: Vec<WorkerErrorView>,
}

/// The tail of one queue's command log.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct QueueTail {
    /// The submission queue id (0: the admin queue).
    pub sqid: u16,
    /// Its most recent commands, oldest first.
    pub lines: Vec<String>,
}

/// A worker's first error.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct WorkerErrorView {
    /// `worker 0`.
    pub worker: String,
    /// The command, decoded.
    pub command: String,
    /// The status by spec name, or `timeout` / the driver error.
    pub status: String,
    /// The completion field by field, when the device posted one.
    pub completion: Option<String>,
    /// The tail of the worker's queue.
    pub queue: Option<QueueTail>,
    /// The worker's next error completions (`read slba 8 nlb 8 -> unrecovered_read_error`),
    /// at most [`LATER_ERRORS`].
    pub later: Vec<String>,
    /// How many more errors the worker had than are shown.
    pub more: u64,
}

/// How many error completions after the first the card lists per worker; the
/// ioworker section lists all that the result kept.
const LATER_ERRORS: usize = 4;

/// The completion as one line: `sqid 1 cid 7 status lba_out_of_range dnr 1 dw0 0x0 sqhd 3`.
fn completion_text(c: &CompletionFields) -> String {
    format!(
        "sqid {} cid {} status {} dnr {} dw0 {:#x} dw1 {:#x} sqhd {}",
        c.sqid,
        c.cid,
        c.status,
        u8::from(c.dnr),
        c.dw0,
        c.dw1,
        c.sqhd
    )
}

/// The submission queue a command log line (`#12 sq1 cid 3 read ...`) is of.
fn line_sqid(line: &str) -> Option<u16> {
    line.split_whitespace().nth(1)?.strip_prefix("sq")?.parse().ok()
}

fn worker_error(index: usize, e: &WorkerError, w: &WorkerStats) -> WorkerErrorView {
    let sqid =
        e.cqe.as_ref().map(|c| c.sqid).or_else(|| e.cmdlog_tail.iter().rev().find_map(|l| line_sqid(l)));
    WorkerErrorView {
        worker: format!("worker {index}"),
        // A command log line carries its completion after ` -> `; the card
        // shows the status and the completion on their own.
        command: e.command.split(" -> ").next().unwrap_or_default().to_string(),
        status: e.status.clone(),
        completion: e.cqe.as_ref().map(completion_text),
        queue: (!e.cmdlog_tail.is_empty())
            .then(|| QueueTail { sqid: sqid.unwrap_or_default(), lines: e.cmdlog_tail.clone() }),
        later: w
            .error_completions
            .iter()
            .skip(1)
            .take(LATER_ERRORS)
            .map(|l| {
                if l.command.contains(" -> ") {
                    l.command.clone()
                } else {
                    format!("{} -> {}", l.command, l.status)
                }
            })
            .collect(),
        more: w
            .errors
            .saturating_sub(1 + LATER_ERRORS.min(w.error_completions.len().saturating_sub(1)) as u64),
    }
}

impl FailureView {
    pub(crate) fn new(view: &StepView, s: &StepResult) -> FailureView {
        let failing: Vec<CommandView> = view.commands.iter().filter(|c| !c.ok).cloned().collect();
        let queue = failing.last().and_then(|c| {
            let tail = &s.forensic.as_ref()?.cmdlog_tail;
            let lines: Vec<String> = tail.iter().filter(|l| line_sqid(l) == Some(c.qid)).cloned().collect();
            (!lines.is_empty()).then_some(QueueTail { sqid: c.qid, lines })
        });
        let worker_errors = s
            .ioworker
            .iter()
            .flat_map(|w| w.workers.iter().enumerate())
            .filter_map(|(i, w)| w.first_error.as_ref().map(|e| worker_error(i, e, w)))
            .collect();
        FailureView { step: view.clone(), failing, queue, worker_errors }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_log_lines_name_their_queue() {
        assert_eq!(line_sqid("#12 sq1 cid 3 read nsid 1 slba 0 nlb 8 -> success"), Some(1));
        assert_eq!(line_sqid("#0 sq0 cid 0 identify nsid 0"), Some(0));
        assert_eq!(line_sqid("garbage"), None);
    }
}
