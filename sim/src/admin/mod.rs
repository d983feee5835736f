//! Admin command set: dispatch and the validations every admin command
//! shares.
//!
//! Each submodule owns one group of admin commands and the state behind
//! it. [`execute`] runs on the admin queue worker: it rejects unknown
//! opcodes, fused operations, SGLs and commands not allowed while a
//! sanitize operation is in progress, then dispatches. A handler returns
//! `None` when the command completes later (Asynchronous Event Request).

pub(crate) mod async_events;
pub(crate) mod features;
pub(crate) mod firmware;
pub(crate) mod format_sanitize;
pub(crate) mod identify;
pub(crate) mod logs;
pub(crate) mod namespaces;
pub(crate) mod queues;
pub(crate) mod self_test;

use crate::controller::Controller;
use crate::queues::{Outcome, Sq};
use nvmeplan_spec::{AdminOpcode, Command, Opcode, Status};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// The NSID that names every namespace.
pub(crate) const NSID_ALL: u32 = u32::MAX;

/// Result of a handler: `Err(status)` becomes an error completion.
pub(crate) type AdminResult = Result<u32, Status>;

/// Converts a handler result into an outcome.
fn outcome(result: AdminResult) -> Option<Outcome> {
    Some(match result {
        Ok(dw0) => Outcome::ok(dw0),
        Err(status) => Outcome::err(status),
    })
}

/// Commands that a sanitize operation in progress does not block.
fn allowed_during_sanitize(op: AdminOpcode) -> bool {
    use AdminOpcode::*;
    matches!(
        op,
        Abort
            | AsyncEventRequest
            | CreateIoSq
            | CreateIoCq
            | DeleteIoSq
            | DeleteIoCq
            | GetFeatures
            | GetLogPage
            | Identify
            | KeepAlive
            | SetFeatures
            | Sanitize
    )
}

/// Commands whose NSID field is reserved (must be zero).
fn nsid_reserved(op: AdminOpcode) -> bool {
    use AdminOpcode::*;
    matches!(
        op,
        CreateIoSq
            | CreateIoCq
            | DeleteIoSq
            | DeleteIoCq
            | Abort
            | AsyncEventRequest
            | KeepAlive
            | FirmwareCommit
            | FirmwareImageDownload
            | Sanitize
    )
}

/// Executes one admin command.
pub(crate) fn execute(ctrl: &Arc<Controller>, sq: &Arc<Sq>, cmd: &Command) -> Option<Outcome> {
    let Opcode::Known(op) = cmd.admin_opcode() else {
        tracing::debug!(opcode = cmd.opcode(), "unknown admin opcode");
        return outcome(Err(Status::INVALID_COMMAND_OPCODE));
    };
    if cmd.fuse() != 0 || cmd.psdt() != 0 {
        return outcome(Err(Status::INVALID_FIELD_IN_COMMAND));
    }
    if ctrl.sanitizing.load(Ordering::Acquire) && !allowed_during_sanitize(op) {
        return outcome(Err(Status::SANITIZE_IN_PROGRESS));
    }
    if nsid_reserved(op) && cmd.nsid != 0 {
        return outcome(Err(Status::INVALID_FIELD_IN_COMMAND));
    }
    tracing::debug!(op = %op, cid = cmd.cid(), nsid = cmd.nsid, "admin command");
    let result = match op {
        AdminOpcode::Identify => identify::identify(ctrl, cmd),
        AdminOpcode::CreateIoCq => queues::create_cq(ctrl, sq, cmd),
        AdminOpcode::CreateIoSq => queues::create_sq(ctrl, sq, cmd),
        AdminOpcode::DeleteIoSq => queues::delete_sq(ctrl, cmd),
        AdminOpcode::DeleteIoCq => queues::delete_cq(ctrl, cmd),
        AdminOpcode::Abort => queues::abort(ctrl, cmd),
        AdminOpcode::GetFeatures => features::get(ctrl, cmd),
        AdminOpcode::SetFeatures => features::set(ctrl, cmd),
        AdminOpcode::GetLogPage => logs::get_log_page(ctrl, cmd),
        AdminOpcode::AsyncEventRequest => return async_events::request(ctrl, cmd),
        AdminOpcode::NamespaceManagement => namespaces::management(ctrl, cmd),
        AdminOpcode::NamespaceAttachment => namespaces::attachment(ctrl, cmd),
        AdminOpcode::FirmwareImageDownload => firmware::download(ctrl, cmd),
        AdminOpcode::FirmwareCommit => firmware::commit(ctrl, cmd),
        AdminOpcode::DeviceSelfTest => self_test::start(ctrl, cmd),
        AdminOpcode::FormatNvm => format_sanitize::format(ctrl, cmd),
        AdminOpcode::Sanitize => format_sanitize::sanitize(ctrl, cmd),
        AdminOpcode::KeepAlive => Ok(0),
    };
    if let Err(status) = result {
        tracing::debug!(op = %op, cid = cmd.cid(), %status, "admin command failed");
    }
    outcome(result)
}
