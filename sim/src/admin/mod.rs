//! Admin command set: the admin state, dispatch and the validations every
//! admin command shares.
//!
//! Each submodule owns one group of admin commands and the state behind
//! it; [`AdminState`] composes those parts, and the controller holds it.
//! [`AdminState::execute`] runs on the admin queue worker: it rejects
//! unknown opcodes, fused operations, SGLs and commands not allowed while
//! a sanitize operation is in progress, then hands each handler its own
//! state and the controller services it needs ([`host::AdminHost`]). A
//! handler returns `None` when the command completes later (Asynchronous
//! Event Request). What one family's command means for another family's
//! state (an event, an aborted self-test, the write caches) is applied
//! here.

pub(crate) mod async_events;
pub(crate) mod common;
pub(crate) mod features;
pub(crate) mod firmware;
pub(crate) mod format_sanitize;
pub(crate) mod host;
pub(crate) mod identify;
pub(crate) mod logs;
pub(crate) mod namespaces;
pub(crate) mod queues;
pub(crate) mod self_test;
#[cfg(test)]
mod tests;

use self::async_events::AerState;
use self::common::AdminResult;
use self::features::FeatureState;
use self::format_sanitize::{FormatSanitizeState, Targets};
use self::host::AdminHost;
use self::logs::{ErrorLog, OwnPages};
use self::namespaces::{NsEvent, NsTable};
use self::self_test::SelfTestState;
use crate::config::SimConfig;
use crate::firmware::FirmwareSlots;
use crate::queues::Outcome;
use nvmeplan_spec::log::lid;
use nvmeplan_spec::{AdminOpcode, Command, Opcode, Status};
use parking_lot::{Mutex, RwLock};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use zerocopy::IntoBytes;

/// The state behind the admin command set, one part per family.
pub(crate) struct AdminState {
    /// Namespaces (also read by the I/O path).
    pub namespaces: Arc<RwLock<NsTable>>,
    /// Feature values.
    pub features: Mutex<FeatureState>,
    /// Error Information log.
    pub errors: Mutex<ErrorLog>,
    /// Asynchronous events.
    pub events: Mutex<AerState>,
    /// Firmware slots.
    pub firmware: Mutex<FirmwareSlots>,
    /// Device self-test.
    pub self_test: Arc<Mutex<SelfTestState>>,
    /// Format NVM and Sanitize progress.
    pub format_sanitize: Arc<FormatSanitizeState>,
}

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

impl AdminState {
    /// The admin state of a controller built from `cfg` with these
    /// namespaces and firmware slots (new or restored).
    pub fn new(cfg: &SimConfig, namespaces: NsTable, firmware: FirmwareSlots) -> AdminState {
        AdminState {
            namespaces: Arc::new(RwLock::new(namespaces)),
            features: Mutex::new(FeatureState::defaults(cfg)),
            errors: Mutex::new(ErrorLog::default()),
            events: Mutex::new(AerState::default()),
            firmware: Mutex::new(firmware),
            self_test: Arc::new(Mutex::new(SelfTestState::default())),
            format_sanitize: Arc::new(FormatSanitizeState::default()),
        }
    }

    /// Executes one admin command. `admin_stopped` is the admin queue's
    /// stop flag (set by a reset while the command runs).
    pub fn execute(
        &self,
        host: &dyn AdminHost,
        cmd: &Command,
        admin_stopped: &AtomicBool,
    ) -> Option<Outcome> {
        let Opcode::Known(op) = cmd.admin_opcode() else {
            tracing::debug!(opcode = cmd.opcode(), "unknown admin opcode");
            return outcome(Err(Status::INVALID_COMMAND_OPCODE));
        };
        if cmd.fuse() != 0 || cmd.psdt() != 0 {
            return outcome(Err(Status::INVALID_FIELD_IN_COMMAND));
        }
        if self.format_sanitize.sanitizing() && !allowed_during_sanitize(op) {
            return outcome(Err(Status::SANITIZE_IN_PROGRESS));
        }
        if nsid_reserved(op) && cmd.nsid != 0 {
            return outcome(Err(Status::INVALID_FIELD_IN_COMMAND));
        }
        tracing::debug!(op = %op, cid = cmd.cid(), nsid = cmd.nsid, "admin command");
        let ns = &self.namespaces;
        let targets = || Targets { namespaces: ns, self_test: &self.self_test };
        let result = match op {
            AdminOpcode::Identify => identify::identify(host, ns, &self.firmware, cmd),
            AdminOpcode::CreateIoCq => {
                let (_, ncqa) = self.features.lock().queue_counts();
                queues::create_cq(host, ncqa, admin_stopped, cmd)
            }
            AdminOpcode::CreateIoSq => {
                let (nsqa, _) = self.features.lock().queue_counts();
                queues::create_sq(host, nsqa, admin_stopped, cmd)
            }
            AdminOpcode::DeleteIoSq => queues::delete_sq(host, cmd),
            AdminOpcode::DeleteIoCq => queues::delete_cq(host, cmd),
            AdminOpcode::Abort => queues::abort(host, cmd),
            AdminOpcode::GetFeatures => features::get(host.config(), &self.features, cmd),
            AdminOpcode::SetFeatures => self.set_features(host, cmd),
            AdminOpcode::GetLogPage => self.get_log_page(host, cmd),
            AdminOpcode::AsyncEventRequest => {
                let admin = host.queues().read().sq(0).cloned();
                return async_events::request(&self.events, admin, cmd);
            }
            AdminOpcode::NamespaceManagement => {
                let write_cache = host.config().volatile_write_cache && self.features.lock().write_cache;
                namespaces::management(host, ns, write_cache, &mut |e| self.namespace_event(host, e), cmd)
            }
            AdminOpcode::NamespaceAttachment => {
                namespaces::attachment(host, ns, &mut |e| self.namespace_event(host, e), cmd)
            }
            AdminOpcode::FirmwareImageDownload => firmware::download(host, &self.firmware, cmd),
            AdminOpcode::FirmwareCommit => firmware::commit(host, &self.firmware, cmd),
            AdminOpcode::DeviceSelfTest => self_test::start(host, &self.self_test, ns, cmd),
            AdminOpcode::FormatNvm => format_sanitize::format(host, &self.format_sanitize, targets(), cmd),
            AdminOpcode::Sanitize => format_sanitize::sanitize(host, &self.format_sanitize, targets(), cmd),
            AdminOpcode::KeepAlive => Ok(0),
        };
        if let Err(status) = result {
            tracing::debug!(op = %op, cid = cmd.cid(), %status, "admin command failed");
        }
        outcome(result)
    }

    fn set_features(&self, host: &dyn AdminHost, cmd: &Command) -> AdminResult {
        let effects = features::set(host, &self.features, cmd)?;
        if effects.write_cache {
            self.apply_write_cache(host.config());
        }
        if let Some((value, vector_cd)) = &effects.coalescing {
            host.publish_coalescing(*value, vector_cd);
        }
        if effects.temperature_crossed {
            self.raise_event(host, features::TEMPERATURE_EVENT);
        }
        Ok(effects.dw0)
    }

    fn get_log_page(&self, host: &dyn AdminHost, cmd: &Command) -> AdminResult {
        let own = OwnPages { errors: &self.errors, features: &self.features };
        let (page, retain) = logs::get_log_page(host, own, cmd, &mut |id, retain| {
            Some(match id {
                lid::FIRMWARE_SLOT => firmware::slot_log(&self.firmware.lock()).as_bytes().to_vec(),
                lid::CHANGED_NAMESPACE_LIST => namespaces::changed_list(&self.namespaces, retain),
                lid::DEVICE_SELF_TEST => self_test::log(&self.self_test).as_bytes().to_vec(),
                lid::SANITIZE_STATUS => {
                    let duration = host.config().sanitize_duration;
                    format_sanitize::status_log(&self.format_sanitize, duration).as_bytes().to_vec()
                }
                _ => return None,
            })
        })?;
        async_events::log_read(&self.events, page, retain);
        Ok(0)
    }

    fn namespace_event(&self, host: &dyn AdminHost, event: NsEvent) {
        match event {
            NsEvent::Removed(nsid) => self_test::namespace_removed(&self.self_test, host.health(), nsid),
            NsEvent::Changed(_) => self.raise_event(host, namespaces::NAMESPACE_CHANGED_EVENT),
        }
    }

    /// Reports an asynchronous event (event type, information, log page;
    /// see [`async_events`]).
    pub fn raise_event(&self, host: &dyn AdminHost, event: (u8, u8, u8)) {
        let aec = self.features.lock().aec;
        async_events::raise(&self.events, aec, || host.queues().read().sq(0).cloned(), event);
    }

    /// Makes every namespace's write cache follow the VWC feature.
    pub fn apply_write_cache(&self, cfg: &SimConfig) {
        let enabled = cfg.volatile_write_cache && self.features.lock().write_cache;
        for ns in self.namespaces.read().all() {
            ns.store.set_write_cache(enabled);
        }
    }

    /// A controller level reset: outstanding event requests are gone,
    /// features return to their defaults, a pending firmware activates and
    /// a self-test the reset aborts ends.
    pub fn reset(&self, host: &dyn AdminHost, power_cycle: bool) {
        self.events.lock().reset();
        let defaults = FeatureState::defaults(host.config());
        host.publish_coalescing(defaults.coalescing, &defaults.vector_cd);
        *self.features.lock() = defaults;
        self.apply_write_cache(host.config());
        let activated = self.firmware.lock().activate_pending();
        if let Some(slot) = activated {
            tracing::debug!(slot, "firmware activated at reset");
            host.persist();
        }
        self_test::on_reset(&self.self_test, host.health(), power_cycle);
    }
}
