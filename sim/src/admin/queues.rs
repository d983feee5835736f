//! Create / Delete I/O Submission and Completion Queue, and Abort.
//!
//! Queue creation checks, in order: the queue identifier (0, above the
//! controller's limit or the allocated Number of Queues, or in use:
//! invalid_queue_identifier), the size (0 or above CAP.MQES:
//! invalid_queue_size), CC.IOSQES / CC.IOCQES (not 6 / 4:
//! invalid_field_in_command; the specification names no dedicated status),
//! physically contiguous (PC=0 with CAP.CQR=1: invalid_field_in_command),
//! the base address (not page aligned: prp_offset_invalid), then for a CQ
//! the interrupt vector (invalid_interrupt_vector) and for an SQ the CQ
//! (completion_queue_invalid). Deleting an SQ completes its outstanding
//! commands with command_aborted_due_to_sq_deletion before the Delete
//! completes; deleting a CQ that SQs still use fails with
//! invalid_queue_deletion.
//!
//! The queue table itself belongs to the queue engine
//! ([`crate::queues::QueueTable`]); these handlers reach it, and the
//! registers and limits they check, through [`AdminHost`].

use super::common::AdminResult;
use super::host::AdminHost;
use crate::queues::{Cq, Sq};
use nvmeplan_spec::dwords::{
    AbortCdw10, CreateIoCqCdw11, CreateIoQueueCdw10, CreateIoSqCdw11, DeleteIoQueueCdw10,
};
use nvmeplan_spec::{Command, Status};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

struct QueueArgs {
    qid: u16,
    size: u32,
    contiguous: bool,
    base: u64,
}

fn common_checks(
    host: &dyn AdminHost,
    cmd: &Command,
    allocated: u32,
    is_sq: bool,
) -> Result<QueueArgs, Status> {
    let cfg = host.config();
    let cdw10 = CreateIoQueueCdw10::from(cmd.cdw10);
    let qid = cdw10.qid();
    let qsize = u32::from(cdw10.qsize());
    let exists = {
        let q = host.queues().read();
        if is_sq { q.sq(qid).is_some() } else { q.cq(qid).is_some() }
    };
    if qid == 0 || qid > cfg.max_io_queues || u32::from(qid) > allocated || exists {
        return Err(Status::INVALID_QUEUE_IDENTIFIER);
    }
    if qsize == 0 || qsize > u32::from(cfg.mqes) {
        return Err(Status::INVALID_QUEUE_SIZE);
    }
    let cc = host.cc();
    let entry_ok = if is_sq { cc.iosqes() == 6 } else { cc.iocqes() == 4 };
    if !entry_ok {
        return Err(Status::INVALID_FIELD_IN_COMMAND);
    }
    // PC is bit 0 of both CDW11 layouts.
    let contiguous = CreateIoCqCdw11::from(cmd.cdw11).pc();
    if !contiguous {
        return Err(Status::INVALID_FIELD_IN_COMMAND);
    }
    let page = host.page_size() as u64;
    if !cmd.prp1.is_multiple_of(page) {
        return Err(Status::PRP_OFFSET_INVALID);
    }
    Ok(QueueArgs { qid, size: qsize + 1, contiguous, base: cmd.prp1 })
}

/// Create I/O Completion Queue. `ncqa` is the number of completion
/// queues allocated; `admin_stopped` is set when the admin queue is torn
/// down by a reset meanwhile.
pub(crate) fn create_cq(
    host: &dyn AdminHost,
    ncqa: u32,
    admin_stopped: &AtomicBool,
    cmd: &Command,
) -> AdminResult {
    let args = common_checks(host, cmd, ncqa, false)?;
    let cdw11 = CreateIoCqCdw11::from(cmd.cdw11);
    let (ien, iv) = (cdw11.ien(), cdw11.iv());
    if ien && (iv >= host.config().msix_vectors || (iv != 0 && !host.msix_enabled())) {
        return Err(Status::INVALID_INTERRUPT_VECTOR);
    }
    debug_assert!(args.contiguous);
    let cq = Arc::new(Cq::new(args.qid, args.base, args.size, ien, iv));
    let mut q = host.queues().write();
    if admin_stopped.load(Ordering::SeqCst) {
        return Err(Status::COMMAND_ABORT_REQUESTED);
    }
    if q.cq(args.qid).is_some() {
        return Err(Status::INVALID_QUEUE_IDENTIFIER);
    }
    q.cqs[usize::from(args.qid)] = Some(cq);
    q.io_created = true;
    tracing::debug!(cqid = args.qid, size = args.size, ien, iv, "I/O completion queue created");
    Ok(0)
}

/// Create I/O Submission Queue. `nsqa` is the number of submission
/// queues allocated; `admin_stopped` as for [`create_cq`].
pub(crate) fn create_sq(
    host: &dyn AdminHost,
    nsqa: u32,
    admin_stopped: &AtomicBool,
    cmd: &Command,
) -> AdminResult {
    let args = common_checks(host, cmd, nsqa, true)?;
    let cqid = CreateIoSqCdw11::from(cmd.cdw11).cqid();
    let sq = {
        let mut q = host.queues().write();
        if admin_stopped.load(Ordering::SeqCst) {
            return Err(Status::COMMAND_ABORT_REQUESTED);
        }
        let cq = match q.cq(cqid) {
            Some(cq) if cqid != 0 => cq.clone(),
            _ => return Err(Status::COMPLETION_QUEUE_INVALID),
        };
        if q.sq(args.qid).is_some() {
            return Err(Status::INVALID_QUEUE_IDENTIFIER);
        }
        let sq = Arc::new(Sq::new(args.qid, args.base, args.size, cq));
        q.sqs[usize::from(args.qid)] = Some(sq.clone());
        q.io_created = true;
        sq
    };
    if let Err(e) = host.start_sq(&sq) {
        tracing::warn!(error = %e, "cannot start an I/O queue worker");
        host.queues().write().sqs[usize::from(args.qid)] = None;
        sq.detach();
        return Err(Status::INTERNAL_ERROR);
    }
    tracing::debug!(sqid = args.qid, size = args.size, cqid, "I/O submission queue created");
    Ok(0)
}

/// Delete I/O Submission Queue.
pub(crate) fn delete_sq(host: &dyn AdminHost, cmd: &Command) -> AdminResult {
    let qid = DeleteIoQueueCdw10::from(cmd.cdw10).qid();
    if qid == 0 {
        return Err(Status::INVALID_QUEUE_IDENTIFIER);
    }
    let sq = {
        let mut q = host.queues().write();
        match q.sqs.get_mut(usize::from(qid)).and_then(Option::take) {
            Some(sq) => sq,
            None => return Err(Status::INVALID_QUEUE_IDENTIFIER),
        }
    };
    sq.delete.store(true, Ordering::SeqCst);
    sq.wake();
    sq.join();
    sq.detach();
    tracing::debug!(sqid = qid, "I/O submission queue deleted");
    Ok(0)
}

/// Delete I/O Completion Queue.
pub(crate) fn delete_cq(host: &dyn AdminHost, cmd: &Command) -> AdminResult {
    let qid = DeleteIoQueueCdw10::from(cmd.cdw10).qid();
    if qid == 0 {
        return Err(Status::INVALID_QUEUE_IDENTIFIER);
    }
    let mut q = host.queues().write();
    let Some(cq) = q.cq(qid).cloned() else {
        return Err(Status::INVALID_QUEUE_IDENTIFIER);
    };
    if cq.sq_count.load(Ordering::SeqCst) > 0 {
        return Err(Status::INVALID_QUEUE_DELETION);
    }
    q.cqs[usize::from(qid)] = None;
    drop(q);
    cq.kill();
    tracing::debug!(cqid = qid, "I/O completion queue deleted");
    Ok(0)
}

/// Abort: a command still waiting (fetched, latency not elapsed) completes
/// with command_abort_requested and dword 0 bit 0 is 0; otherwise bit 0 is
/// 1 (not aborted).
pub(crate) fn abort(host: &dyn AdminHost, cmd: &Command) -> AdminResult {
    let cdw10 = AbortCdw10::from(cmd.cdw10);
    let (sqid, cid) = (cdw10.sqid(), cdw10.cid());
    let Some(sq) = host.queues().read().sq(sqid).cloned() else {
        return Ok(1);
    };
    let aborted = sq.inflight.lock().abort(cid, Instant::now());
    if aborted {
        sq.wake();
        tracing::debug!(sqid, cid, "command aborted");
        Ok(0)
    } else {
        Ok(1)
    }
}
