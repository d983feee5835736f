//! Admin command actions. Each sends its command with the step's timeout
//! and returns the completion whatever its status; data is decoded into
//! named fields only when the command succeeded.

use std::time::{Duration, Instant};

use nvmeplan_driver::commands::{self, NSID_ALL};
use nvmeplan_driver::{DmaBuffer, PAGE_SIZE};
use nvmeplan_spec::dwords::{AsyncEventDw0, CreateIoCqCdw11, CreateIoSqCdw11, GetLogPageCdw10, truncate};
use nvmeplan_spec::identify::{IdentifyController, IdentifyNamespace, NamedFields, NamespaceList};
use nvmeplan_spec::log::{self, lid};
use nvmeplan_spec::{Command, Completion, layout};
use serde_json::{Map, Value};
use zerocopy::FromBytes;

use crate::plan::admin as plan;
use crate::run::context::{RunContext, StepError, StepResult};
use crate::run::device::{feature_fields, fields_json, set_feature_field};
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

fn decode<T: FromBytes + NamedFields>(data: &[u8]) -> Option<Map<String, Value>> {
    T::read_from_prefix(data).ok().map(|(t, _)| fields_json(&t))
}

/// Identify.
pub fn identify(ctx: &mut RunContext, env: StepEnv<'_>, a: &plan::Identify) -> StepResult<ActionOutput> {
    use plan::Cns;
    let default_nsid = match a.cns {
        Cns::Namespace | Cns::NsDescriptors | Cns::AllocatedNamespace => ctx.default_nsid,
        _ => 0,
    };
    let nsid = env.eval.or(a.nsid.as_ref(), default_nsid)?;
    let buf = ctx.ctrl.alloc_buffer(PAGE_SIZE)?;
    let cqe = send(
        ctx,
        env,
        commands::identify(a.cns.value(), nsid, a.cntid.unwrap_or(0)),
        Some((&buf, PAGE_SIZE)),
    )?;
    let mut out = ActionOutput::completion(cqe);
    if !out.succeeded() {
        return Ok(out);
    }
    let data = buf.as_slice();
    match a.cns {
        Cns::Controller => out.fields = decode::<IdentifyController>(data),
        Cns::Namespace | Cns::AllocatedNamespace => out.fields = decode::<IdentifyNamespace>(data),
        Cns::ActiveNamespaces | Cns::AllocatedNamespaces => {
            let ids: Vec<Value> = NamespaceList::read_from_prefix(data)
                .map(|(l, _)| l.iter().map(Value::from).collect())
                .unwrap_or_default();
            let mut fields = Map::new();
            fields.insert("count".into(), ids.len().into());
            fields.insert("nsids".into(), Value::Array(ids));
            out.fields = Some(fields);
        }
        Cns::NsDescriptors => {
            let list: Vec<Value> = nvmeplan_spec::identify::decode_ns_descriptors(data)
                .into_iter()
                .map(|(nidt, id)| {
                    let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
                    serde_json::json!({ "nidt": nidt, "nid": hex })
                })
                .collect();
            let mut fields = Map::new();
            fields.insert("count".into(), list.len().into());
            fields.insert("descriptors".into(), Value::Array(list));
            out.fields = Some(fields);
        }
        Cns::Controllers => {
            let n = usize::from(u16::from_le_bytes([data[0], data[1]])).min(2047);
            let ids: Vec<Value> =
                (0..n).map(|i| Value::from(u16::from_le_bytes([data[2 + 2 * i], data[3 + 2 * i]]))).collect();
            let mut fields = Map::new();
            fields.insert("count".into(), n.into());
            fields.insert("controllers".into(), Value::Array(ids));
            out.fields = Some(fields);
        }
    }
    Ok(out)
}

fn log_fields(id: u8, data: &[u8]) -> Option<Map<String, Value>> {
    match id {
        lid::ERROR_INFORMATION => decode::<log::ErrorInformationEntry>(data),
        lid::SMART_HEALTH => decode::<log::SmartHealthLog>(data),
        lid::FIRMWARE_SLOT => decode::<log::FirmwareSlotLog>(data),
        lid::DEVICE_SELF_TEST => decode::<log::SelfTestLog>(data),
        lid::SANITIZE_STATUS => decode::<log::SanitizeStatusLog>(data),
        _ => None,
    }
}

fn default_log_len(id: u8) -> u32 {
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

/// Get Log Page.
pub fn get_log_page(
    ctx: &mut RunContext,
    env: StepEnv<'_>,
    a: &plan::GetLogPage,
) -> StepResult<ActionOutput> {
    let id = match a.lid {
        plan::LogId::Named(page) => page.lid(),
        plan::LogId::Raw(id) => id,
    };
    let nsid = env.eval.or(a.nsid.as_ref(), NSID_ALL)?;
    let len = env.eval.or(a.len.as_ref(), default_log_len(id))?;
    let offset = env.eval.or(a.offset.as_ref(), 0)?;
    if len == 0 {
        return Err(StepError::Invalid("get_log_page: `len` must be at least 1".into()));
    }
    let (cqe, data) = read_log(ctx, env, id, nsid, len as usize, offset, a.lsp.unwrap_or(0), a.rae)?;
    let mut out = ActionOutput::completion(cqe);
    if out.succeeded() {
        out.fields = if offset == 0 { log_fields(id, &data) } else { None };
        let shown = &data[..data.len().min(512)];
        out.values.insert("data".into(), shown.iter().map(|b| format!("{b:02x}")).collect::<String>().into());
    }
    Ok(out)
}

fn feature_id(fid: &plan::FeatureId) -> StepResult<u8> {
    fid.fid().ok_or_else(|| StepError::Invalid(format!("unknown feature {fid:?}")))
}

/// Get Features.
pub fn get_features(
    ctx: &mut RunContext,
    env: StepEnv<'_>,
    a: &plan::GetFeatures,
) -> StepResult<ActionOutput> {
    let fid = feature_id(&a.fid)?;
    let sel = match a.sel {
        plan::FeatureSelect::Current => 0,
        plan::FeatureSelect::Default => 1,
        plan::FeatureSelect::Saved => 2,
        plan::FeatureSelect::Supported => 3,
    };
    let nsid = env.eval.or(a.nsid.as_ref(), 0)?;
    let cdw11 = env.eval.or(a.cdw11.as_ref(), 0)?;
    let cqe = send(ctx, env, commands::get_features(fid, nsid, sel, cdw11), None)?;
    let mut out = ActionOutput::completion(cqe);
    if out.succeeded() {
        let mut fields = if sel == 3 { Map::new() } else { feature_fields(fid, cqe.dw0) };
        fields.insert("value".into(), cqe.dw0.into());
        out.fields = Some(fields);
    }
    Ok(out)
}

/// Set Features.
pub fn set_features(
    ctx: &mut RunContext,
    env: StepEnv<'_>,
    a: &plan::SetFeatures,
) -> StepResult<ActionOutput> {
    let fid = feature_id(&a.fid)?;
    let mut value = env.eval.or(a.value.as_ref(), 0)?;
    for (name, v) in a.fields.iter().flatten() {
        let v = env.eval.get(v)?;
        value = set_feature_field(fid, value, name, v).ok_or_else(|| {
            StepError::Invalid(format!("feature {fid:#04x} has no field `{name}` that holds {v}"))
        })?;
    }
    let nsid = env.eval.or(a.nsid.as_ref(), 0)?;
    let mut cmd = commands::set_features(fid, nsid, value, a.save);
    cmd.cdw12 = env.eval.or(a.cdw12.as_ref(), 0)?;
    let cqe = send(ctx, env, cmd, None)?;
    let mut out = ActionOutput::completion(cqe);
    let mut fields = feature_fields(fid, cqe.dw0);
    fields.insert("value".into(), cqe.dw0.into());
    out.fields = Some(fields);
    out.values.insert("cdw11".into(), value.into());
    Ok(out)
}

/// Format NVM; on success the verify maps expect zeroes and namespaces are re-read.
pub fn format(ctx: &mut RunContext, env: StepEnv<'_>, a: &plan::Format) -> StepResult<ActionOutput> {
    let nsid = env.eval.or(a.nsid.as_ref(), ctx.default_nsid)?;
    let lbaf = env.eval.or(a.lbaf.as_ref(), 0)?;
    let ses = match a.ses {
        plan::SecureErase::None => 0,
        plan::SecureErase::UserData => 1,
        plan::SecureErase::Crypto => 2,
    };
    let cmd = commands::format_nvm(nsid, lbaf, ses, a.mset, a.pi.unwrap_or(0), false);
    let cqe = send(ctx, env, cmd, None)?;
    if cqe.status().is_success() {
        if nsid == NSID_ALL {
            ctx.verify_maps().iter().for_each(|m| m.mark_all_zeroes());
        } else {
            ctx.verify_map(nsid).mark_all_zeroes();
        }
        ctx.ctrl.rescan_namespaces()?;
        ctx.refresh_identity();
    }
    Ok(ActionOutput::completion(cqe))
}

/// Sanitize, waiting for completion when `wait`.
pub fn sanitize(ctx: &mut RunContext, env: StepEnv<'_>, a: &plan::Sanitize) -> StepResult<ActionOutput> {
    use nvmeplan_spec::log::sanitize as s;
    let sanact = match a.action {
        plan::SanitizeAction::ExitFailure => s::EXIT_FAILURE_MODE,
        plan::SanitizeAction::BlockErase => s::BLOCK_ERASE,
        plan::SanitizeAction::Overwrite => s::OVERWRITE,
        plan::SanitizeAction::CryptoErase => s::CRYPTO_ERASE,
    };
    let cmd =
        commands::sanitize(sanact, a.ause, a.owpass.unwrap_or(1), false, a.no_dealloc, a.ovrpat.unwrap_or(0));
    let cqe = send(ctx, env, cmd, None)?;
    let mut out = ActionOutput::completion(cqe);
    if !out.succeeded() {
        return Ok(out);
    }
    for map in ctx.verify_maps() {
        match sanact {
            s::BLOCK_ERASE | s::CRYPTO_ERASE if !a.no_dealloc => map.mark_all_zeroes(),
            _ => map.clear_all(),
        }
    }
    if a.wait {
        let start = Instant::now();
        loop {
            let (lcqe, data) = read_log(ctx, env, lid::SANITIZE_STATUS, 0, 512, 0, 0, false)?;
            if !lcqe.status().is_success() {
                return Err(StepError::Invalid(format!("sanitize status log: {}", lcqe.status())));
            }
            let fields = log_fields(lid::SANITIZE_STATUS, &data);
            let status =
                log::SanitizeStatusLog::read_from_prefix(&data).map(|(l, _)| l.status()).unwrap_or(0);
            if status != s::STATUS_IN_PROGRESS {
                out.fields = fields;
                break;
            }
            if start.elapsed() >= env.timeout {
                return Err(StepError::Invalid(format!(
                    "sanitize still in progress after {:?}",
                    env.timeout
                )));
            }
            ctx.sleep(Duration::from_millis(5))?;
        }
        ctx.ctrl.rescan_namespaces()?;
        ctx.refresh_identity();
    }
    Ok(out)
}

/// The image bytes of a firmware download.
fn firmware_image(ctx: &RunContext, image: &plan::FirmwareImage) -> StepResult<Vec<u8>> {
    Ok(match image {
        plan::FirmwareImage::File(path) => {
            let kind = crate::input::InputKind::Firmware;
            let resolved = ctx
                .paths
                .resolve(&ctx.plan_dir, path, kind)
                .map_err(|e| StepError::Invalid(e.to_string()))?;
            crate::input::read_bytes(&resolved.path, kind).map_err(|e| StepError::Invalid(e.to_string()))?
        }
        plan::FirmwareImage::SimRevision(rev) => nvmeplan_sim::firmware::build_image(rev, 8192),
        plan::FirmwareImage::Pattern { len, pattern } => {
            if *len as usize > nvmeplan_sim::firmware::MAX_IMAGE_LEN {
                return Err(StepError::Invalid(format!(
                    "firmware image of {len} bytes is larger than {} bytes",
                    nvmeplan_sim::firmware::MAX_IMAGE_LEN
                )));
            }
            let mut data = vec![0u8; *len as usize];
            super::data::fill(&mut data, pattern, ctx.seed);
            data
        }
    })
}

/// Firmware Image Download, in chunks; the step's timeout bounds them all.
pub fn firmware_download(
    ctx: &mut RunContext,
    env: StepEnv<'_>,
    a: &plan::FirmwareDownload,
) -> StepResult<ActionOutput> {
    let image = firmware_image(ctx, &a.image)?;
    if image.is_empty() {
        return Err(StepError::Invalid("firmware image is empty".into()));
    }
    let fwug = ctx.ctrl.identify()?.fwug;
    let default_chunk = if fwug == 0 || fwug == 0xFF { 4096 } else { usize::from(fwug) * 4096 };
    let mdts = ctx.ctrl.mdts_bytes().unwrap_or(1 << 20);
    let chunk = a.chunk_size.map_or(default_chunk, |c| c as usize).min(mdts).next_multiple_of(4).max(4);
    let base = a.offset.unwrap_or(0) as usize;
    // One command per chunk, each bounded by what is left of the step.
    let mut done = 0;
    let cqe = loop {
        let end = (done + chunk).min(image.len());
        let timeout = env.command_timeout()?;
        let cqe = ctx
            .ctrl
            .firmware_download_chunks(&image[done..end], chunk, base + done, Some(timeout))
            .map_err(|e| env.command_error(e))?;
        done = end;
        if !cqe.status().is_success() || done >= image.len() {
            break cqe;
        }
    };
    let mut out = ActionOutput { completion: Some(cqe), ..ActionOutput::default() };
    out.values.insert("bytes".into(), image.len().into());
    Ok(out)
}

/// Firmware Commit.
pub fn firmware_commit(
    ctx: &mut RunContext,
    env: StepEnv<'_>,
    a: &plan::FirmwareCommit,
) -> StepResult<ActionOutput> {
    let ca = match a.action {
        plan::CommitAction::Replace => 0,
        plan::CommitAction::ReplaceActivate => 1,
        plan::CommitAction::Activate => 2,
        plan::CommitAction::ReplaceActivateImmediate => 3,
    };
    Ok(ActionOutput::completion(send(ctx, env, commands::firmware_commit(a.slot, ca), None)?))
}

/// Namespace Management create; the new NSID is `cdw0` (and `nsid`).
pub fn namespace_create(
    ctx: &mut RunContext,
    env: StepEnv<'_>,
    a: &plan::NamespaceCreate,
) -> StepResult<ActionOutput> {
    let nsze = env.eval.get(&a.nsze)?;
    let ncap = env.eval.or(a.ncap.as_ref(), nsze)?;
    let mut buf = ctx.ctrl.alloc_buffer(PAGE_SIZE)?;
    let data = buf.as_mut_slice();
    data[0..8].copy_from_slice(&nsze.to_le_bytes());
    data[8..16].copy_from_slice(&ncap.to_le_bytes());
    data[26] = a.flbas.unwrap_or(0);
    data[30] = u8::from(a.shared);
    let cqe = send(ctx, env, commands::namespace_management(0, 0), Some((&buf, PAGE_SIZE)))?;
    let mut out = ActionOutput::completion(cqe);
    if out.succeeded() {
        out.values.insert("nsid".into(), cqe.dw0.into());
    }
    Ok(out)
}

/// Namespace Management delete.
pub fn namespace_delete(
    ctx: &mut RunContext,
    env: StepEnv<'_>,
    a: &plan::NamespaceDelete,
) -> StepResult<ActionOutput> {
    let nsid = env.eval.get(&a.nsid)?;
    let cqe = send(ctx, env, commands::namespace_management(1, nsid), None)?;
    if cqe.status().is_success() {
        ctx.drop_verify_map(nsid);
        ctx.ctrl.rescan_namespaces()?;
        ctx.refresh_identity();
    }
    Ok(ActionOutput::completion(cqe))
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

fn qsize(env: StepEnv<'_>, q: &crate::plan::Expr<u32>) -> StepResult<u16> {
    let n = env.eval.get(q)?;
    u16::try_from(n)
        .ok()
        .filter(|n| (2..=u16::MAX).contains(n))
        .ok_or_else(|| StepError::Invalid(format!("queue size {n} is outside 2..=65535")))
}

fn create_cq(
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

fn create_sq(
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

/// Create I/O Completion Queue on runner-allocated memory.
pub fn create_io_cq(
    ctx: &mut RunContext,
    env: StepEnv<'_>,
    a: &plan::CreateIoCq,
) -> StepResult<ActionOutput> {
    let qid = env.eval.get(&a.qid)?;
    let size = qsize(env, &a.qsize)?;
    let vector = a.ien.then_some(a.vector.unwrap_or(0));
    Ok(ActionOutput::completion(create_cq(ctx, env, qid, size, vector, a.pc)?))
}

fn priority(p: plan::QueuePriority) -> u8 {
    match p {
        plan::QueuePriority::Urgent => 0,
        plan::QueuePriority::High => 1,
        plan::QueuePriority::Medium => 2,
        plan::QueuePriority::Low => 3,
    }
}

/// Create I/O Submission Queue on runner-allocated memory.
pub fn create_io_sq(
    ctx: &mut RunContext,
    env: StepEnv<'_>,
    a: &plan::CreateIoSq,
) -> StepResult<ActionOutput> {
    let qid = env.eval.get(&a.qid)?;
    let size = qsize(env, &a.qsize)?;
    let cqid = env.eval.get(&a.cqid)?;
    Ok(ActionOutput::completion(create_sq(ctx, env, qid, size, cqid, priority(a.qprio), a.pc)?))
}

/// Create an I/O completion queue and its submission queue with one id.
pub fn create_io_queues(
    ctx: &mut RunContext,
    env: StepEnv<'_>,
    a: &plan::CreateIoQueues,
) -> StepResult<ActionOutput> {
    let qid = env.eval.get(&a.qid)?;
    let size = qsize(env, &a.qsize)?;
    let cqe = create_cq(ctx, env, qid, size, a.ien.then_some(0), true)?;
    if !cqe.status().is_success() {
        return Ok(ActionOutput::completion(cqe));
    }
    Ok(ActionOutput::completion(create_sq(ctx, env, qid, size, qid, 2, true)?))
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

/// Delete an I/O submission queue, then its completion queue.
pub fn delete_io_queues(
    ctx: &mut RunContext,
    env: StepEnv<'_>,
    a: &plan::DeleteQueue,
) -> StepResult<ActionOutput> {
    let out = delete_queue(ctx, env, a, false)?;
    if !out.succeeded() {
        return Ok(out);
    }
    delete_queue(ctx, env, a, true)
}

/// Abort.
pub fn abort(ctx: &mut RunContext, env: StepEnv<'_>, a: &plan::Abort) -> StepResult<ActionOutput> {
    let sqid = env.eval.get(&a.sqid)?;
    let cid = env.eval.get(&a.cid)?;
    Ok(ActionOutput::completion(send(ctx, env, commands::abort(sqid, cid), None)?))
}

/// Asynchronous Event Request: submit, and wait for an event when `wait`.
pub fn async_event(ctx: &mut RunContext, env: StepEnv<'_>, a: &plan::AsyncEvent) -> StepResult<ActionOutput> {
    let wait = a.wait.map_or(Duration::ZERO, |d| d.0);
    let left = env.remaining()?;
    let event = ctx.ctrl.async_event_request(wait.min(left))?;
    if event.is_none() && left < wait {
        return Err(env.timed_out());
    }
    let mut out = ActionOutput { completion: event, ..ActionOutput::default() };
    if let Some(cqe) = event {
        let dw0 = u64::from(cqe.dw0);
        let fields = layout::named(AsyncEventDw0::FIELDS).map(|f| (f.name.to_string(), f.get(dw0).into()));
        out.fields = Some(fields.collect());
    } else if a.wait.is_some() {
        out.checks.push(crate::run::expect::check(
            "event",
            format!("an asynchronous event within {:?}", wait),
            "none".into(),
            false,
        ));
    }
    Ok(out)
}

/// Device Self-test, waiting for the result when `wait`.
pub fn self_test(ctx: &mut RunContext, env: StepEnv<'_>, a: &plan::SelfTest) -> StepResult<ActionOutput> {
    let stc = match a.code {
        plan::SelfTestCode::Short => 1,
        plan::SelfTestCode::Extended => 2,
        plan::SelfTestCode::Abort => 0xF,
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
