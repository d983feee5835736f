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
//!
//! This module owns the outstanding requests and the undelivered events
//! ([`AerState`]); events complete requests through the admin submission
//! queue the caller passes.

use crate::queues::{Injected, Outcome, Sq};
use nvmeplan_spec::features::{AsyncEventConfiguration, async_event};
use nvmeplan_spec::{Command, Status};
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::Arc;

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
/// `admin` is the admin submission queue that delivers events.
pub(crate) fn request(state: &Mutex<AerState>, admin: Option<Arc<Sq>>, cmd: &Command) -> Option<Outcome> {
    {
        let mut aer = state.lock();
        if aer.outstanding.len() > usize::from(AERL) {
            return Some(Outcome::err(Status::ASYNC_EVENT_REQUEST_LIMIT_EXCEEDED));
        }
        aer.outstanding.push_back(cmd.cid());
    }
    deliver(state, admin);
    None
}

fn enabled(aec: u32, event_type: u8, info: u8) -> bool {
    let aec = AsyncEventConfiguration::from_bits(aec);
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
/// `aec` is the Asynchronous Event Configuration feature value; `admin`
/// is looked up only when the event is not masked.
pub(crate) fn raise(
    state: &Mutex<AerState>,
    aec: u32,
    admin: impl FnOnce() -> Option<Arc<Sq>>,
    (event_type, info, log_page): (u8, u8, u8),
) {
    if !enabled(aec, event_type, info) {
        tracing::debug!(event_type, info, "asynchronous event masked");
        return;
    }
    {
        let mut aer = state.lock();
        if aer.awaiting_read.contains(&log_page) || aer.pending.iter().any(|e| e.2 == log_page) {
            return;
        }
        aer.pending.push_back((event_type, info, log_page));
    }
    deliver(state, admin());
}

/// The host read `log_page`; without RAE its events may be reported again.
pub(crate) fn log_read(state: &Mutex<AerState>, log_page: u8, retain: bool) {
    if !retain {
        state.lock().awaiting_read.retain(|&l| l != log_page);
    }
}

fn deliver(state: &Mutex<AerState>, admin: Option<Arc<Sq>>) {
    let Some(admin) = admin else { return };
    let mut aer = state.lock();
    while !aer.outstanding.is_empty() && !aer.pending.is_empty() {
        let (Some(cid), Some((t, info, log))) = (aer.outstanding.pop_front(), aer.pending.pop_front()) else {
            break;
        };
        aer.awaiting_read.push(log);
        tracing::debug!(cid, event_type = t, info, log, "asynchronous event reported");
        admin.inject(Injected { cid, status: Status::SUCCESS, dw0: async_event::encode_dw0(t, info, log) });
    }
}
