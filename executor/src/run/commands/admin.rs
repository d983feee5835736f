//! What the admin rooms share: sending a command with the step's timeout
//! (the completion is returned whatever its status), reading log pages,
//! decoding data into named fields (only when the command succeeded) and
//! building queue-creation commands.

use nvmeplan_driver::commands::{self};
use nvmeplan_driver::{DmaBuffer, PAGE_SIZE};
use nvmeplan_spec::dwords::{CreateIoCqCdw11, CreateIoSqCdw11, GetLogPageCdw10, truncate};
use nvmeplan_spec::identify::NamedFields;
use nvmeplan_spec::log::{self, lid};
use nvmeplan_spec::{Command, Completion};
use serde_json::{Map, Value};
use zerocopy::FromBytes;

use crate::plan::admin as plan;
use crate::run::context::{RunContext, StepError, StepResult};
use crate::run::device::fields_json;
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;

/// Sends an admin command with the step's timeout; `data` is `(buffer, len)`.
pub(crate) fn send(
    ctx: &RunContext,
    env: StepEnv<'_>,
    cmd: Command,
    data: Option<(&DmaBuffer, usize)>,
) -> StepResult<Completion> {
    let data = data.map(|(b, len)| (b.data_iova(), len));
    Ok(ctx.ctrl.admin_data(cmd, data, Some(env.timeout))?)
}

pub(crate) fn decode<T: FromBytes + NamedFields>(data: &[u8]) -> Option<Map<String, Value>> {
    T::read_from_prefix(data).ok().map(|(t, _)| fields_json(&t))
}

pub(crate) fn log_fields(id: u8, data: &[u8]) -> Option<Map<String, Value>> {
    match id {
        lid::ERROR_INFORMATION => decode::<log::ErrorInformationEntry>(data),
        lid::SMART_HEALTH => decode::<log::SmartHealthLog>(data),
        lid::FIRMWARE_SLOT => decode::<log::FirmwareSlotLog>(data),
        lid::DEVICE_SELF_TEST => decode::<log::SelfTestLog>(data),
        lid::SANITIZE_STATUS => decode::<log::SanitizeStatusLog>(data),
        _ => None,
    }
}

pub(crate) fn default_log_len(id: u8) -> u32 {
    match id {
        lid::ERROR_INFORMATION => 64,
        lid::CHANGED_NAMESPACE_LIST | lid::COMMANDS_SUPPORTED => 4096,
        lid::DEVICE_SELF_TEST => std::mem::size_of::<log::SelfTestLog>() as u32,
        _ => 512,
    }
}

/// Reads `len` bytes of log `id` with one command; the completion and data.
#[allow(clippy::too_many_arguments)]
pub(crate) fn read_log(
    ctx: &RunContext,
    env: StepEnv<'_>,
    id: u8,
    nsid: u32,
    len: usize,
    offset: u64,
    lsp: u8,
    rae: bool,
) -> StepResult<(Completion, Vec<u8>)> {
    let total = len.next_multiple_of(4).max(4);
    let buf = ctx.ctrl.alloc_buffer(total)?;
    let mut cmd = commands::get_log_page(id, nsid, total, offset);
    let lsp = truncate(u32::from(lsp), 7) as u8;
    cmd.cdw10 = GetLogPageCdw10::from(cmd.cdw10).with_lsp(lsp).with_rae(rae).into();
    let cqe = send(ctx, env, cmd, Some((&buf, total)))?;
    Ok((cqe, buf.as_slice()[..len.min(total)].to_vec()))
}

pub(crate) fn feature_id(fid: &plan::FeatureId) -> StepResult<u8> {
    fid.fid().ok_or_else(|| StepError::Invalid(format!("unknown feature {fid:?}")))
}

/// Namespace Attachment (attach or detach).
pub fn namespace_attachment(
    ctx: &mut RunContext,
    env: StepEnv<'_>,
    a: &plan::NamespaceAttachment,
    detach: bool,
) -> StepResult<ActionOutput> {
    let nsid = env.eval.get(&a.nsid)?;
    let controllers = match &a.controllers {
        Some(list) => list.clone(),
        None => vec![ctx.ctrl.identify()?.cntlid],
    };
    if controllers.is_empty() || controllers.len() > 2047 {
        return Err(StepError::Invalid(format!("{} controller ids; 1 to 2047 allowed", controllers.len())));
    }
    let mut buf = ctx.ctrl.alloc_buffer(PAGE_SIZE)?;
    let data = buf.as_mut_slice();
    data[0..2].copy_from_slice(&(controllers.len() as u16).to_le_bytes());
    for (i, id) in controllers.iter().enumerate() {
        data[2 + 2 * i..4 + 2 * i].copy_from_slice(&id.to_le_bytes());
    }
    let cqe = send(ctx, env, commands::namespace_attachment(nsid, detach), Some((&buf, PAGE_SIZE)))?;
    if cqe.status().is_success() {
        ctx.ctrl.rescan_namespaces()?;
        ctx.refresh_identity();
    }
    Ok(ActionOutput::completion(cqe))
}

pub(crate) fn qsize(env: StepEnv<'_>, q: &crate::plan::values::Expr<u32>) -> StepResult<u16> {
    let n = env.eval.get(q)?;
    u16::try_from(n)
        .ok()
        .filter(|n| (2..=u16::MAX).contains(n))
        .ok_or_else(|| StepError::Invalid(format!("queue size {n} is outside 2..=65535")))
}

pub(crate) fn create_cq(
    ctx: &mut RunContext,
    env: StepEnv<'_>,
    qid: u16,
    size: u16,
    vector: Option<u16>,
    pc: bool,
) -> StepResult<Completion> {
    let buf = ctx.ctrl.alloc_buffer(usize::from(size) * 16)?;
    let mut cmd = commands::create_io_cq(qid, size, buf.iova(), vector);
    cmd.cdw11 = CreateIoCqCdw11::from(cmd.cdw11).with_pc(pc).into();
    let cqe = send(ctx, env, cmd, None)?;
    if cqe.status().is_success() {
        ctx.raw_queues.insert((qid, true), buf);
    }
    Ok(cqe)
}

pub(crate) fn create_sq(
    ctx: &mut RunContext,
    env: StepEnv<'_>,
    qid: u16,
    size: u16,
    cqid: u16,
    prio: u8,
    pc: bool,
) -> StepResult<Completion> {
    let buf = ctx.ctrl.alloc_buffer(usize::from(size) * 64)?;
    let mut cmd = commands::create_io_sq(qid, size, buf.iova(), cqid, prio);
    cmd.cdw11 = CreateIoSqCdw11::from(cmd.cdw11).with_pc(pc).into();
    let cqe = send(ctx, env, cmd, None)?;
    if cqe.status().is_success() {
        ctx.raw_queues.insert((qid, false), buf);
    }
    Ok(cqe)
}

pub(crate) fn priority(p: plan::QueuePriority) -> u8 {
    match p {
        plan::QueuePriority::Urgent => 0,
        plan::QueuePriority::High => 1,
        plan::QueuePriority::Medium => 2,
        plan::QueuePriority::Low => 3,
    }
}

/// Delete I/O Submission or Completion Queue.
pub fn delete_queue(
    ctx: &mut RunContext,
    env: StepEnv<'_>,
    a: &plan::DeleteQueue,
    cq: bool,
) -> StepResult<ActionOutput> {
    let qid = env.eval.get(&a.qid)?;
    let cmd = if cq { commands::delete_io_cq(qid) } else { commands::delete_io_sq(qid) };
    let cqe = send(ctx, env, cmd, None)?;
    if cqe.status().is_success() {
        ctx.raw_queues.remove(&(qid, cq));
    }
    Ok(ActionOutput::completion(cqe))
}
