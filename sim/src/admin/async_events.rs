//! Asynchronous Event Requests and event reporting.
//!
//! The controller holds up to AERL+1 outstanding Asynchronous Event Request
//! commands. An event (an invalid doorbell write, a temperature threshold
//! crossed, a namespace attribute change) completes the oldest outstanding
//! request, or waits for one. Events of the SMART / Health and notice types
//! are masked by the Asynchronous Event Configuration feature; error events
//! are always reported. After an event is reported, further events for the
//! same log page are suppressed until the host reads that log page without
//! RAE (Retain Asynchronous Event), as the specification requires. Command
//! errors are recorded in the Error Information log but do not raise
//! events (they are reported by their own completions).

use crate::controller::Controller;
use crate::queues::{Injected, Outcome};
use nvmeplan_spec::features::{AsyncEventConfiguration, async_event};
use nvmeplan_spec::{Command, Status};
use std::collections::VecDeque;

/// AERL: Asynchronous Event Request Limit, zero-based.
pub(crate) const AERL: u8 = 3;

/// Outstanding requests and undelivered events.
#[derive(Default)]
pub(crate) struct AerState {
    outstanding: VecDeque<u16>,
    pending: VecDeque<(u8, u8, u8)>,
    awaiting_read: Vec<u8>,
}

impl AerState {
    /// Controller reset: outstanding requests are gone (never completed).
    pub fn reset(&mut self) {
        self.outstanding.clear();
        self.awaiting_read.clear();
    }
}

/// Asynchronous Event Request: completes later, when an event occurs.
pub(crate) fn request(ctrl: &Controller, cmd: &Command) -> Option<Outcome> {
    {
        let mut aer = ctrl.aer.lock();
        if aer.outstanding.len() > usize::from(AERL) {
            return Some(Outcome::err(Status::ASYNC_EVENT_REQUEST_LIMIT_EXCEEDED));
        }
        aer.outstanding.push_back(cmd.cid());
    }
    deliver(ctrl);
    None
}

fn enabled(ctrl: &Controller, event_type: u8, info: u8) -> bool {
    let aec = AsyncEventConfiguration::from_bits(ctrl.features.lock().aec);
    match event_type {
        async_event::SMART_HEALTH => aec.shcw() & super::features::smart_warning_bit(info) != 0,
        async_event::NOTICE => match info {
            async_event::NAMESPACE_ATTRIBUTE_CHANGED => aec.nans(),
            async_event::FIRMWARE_ACTIVATION_STARTING => aec.fans(),
            async_event::TELEMETRY_LOG_CHANGED => aec.tlns(),
            _ => false,
        },
        _ => true,
    }
}

/// Reports an event: it completes an outstanding request now or later.
pub(crate) fn raise(ctrl: &Controller, event_type: u8, info: u8, log_page: u8) {
    if !enabled(ctrl, event_type, info) {
        tracing::debug!(event_type, info, "asynchronous event masked");
        return;
    }
    {
        let mut aer = ctrl.aer.lock();
        if aer.awaiting_read.contains(&log_page) || aer.pending.iter().any(|e| e.2 == log_page) {
            return;
        }
        aer.pending.push_back((event_type, info, log_page));
    }
    deliver(ctrl);
}

/// The host read `log_page`; without RAE its events may be reported again.
pub(crate) fn log_read(ctrl: &Controller, log_page: u8, retain: bool) {
    if !retain {
        ctrl.aer.lock().awaiting_read.retain(|&l| l != log_page);
    }
}

fn deliver(ctrl: &Controller) {
    let Some(admin) = ctrl.queues.read().sq(0).cloned() else { return };
    let mut aer = ctrl.aer.lock();
    while !aer.outstanding.is_empty() && !aer.pending.is_empty() {
        let (Some(cid), Some((t, info, log))) = (aer.outstanding.pop_front(), aer.pending.pop_front()) else {
            break;
        };
        aer.awaiting_read.push(log);
        tracing::debug!(cid, event_type = t, info, log, "asynchronous event reported");
        admin.inject(Injected { cid, status: Status::SUCCESS, dw0: async_event::encode_dw0(t, info, log) });
    }
}
