//! Device Self-test and the Device Self-test log page (06h).
//!
//! A short or extended self-test runs for the configured duration; the log
//! page reports the operation in progress and its completion percentage,
//! which advances with time, and keeps the 20 newest results. A test
//! completes without error unless it is aborted: by a Device Self-test
//! command with code Fh, by a controller level reset (short tests only; an
//! extended test survives a controller reset but not a power cycle), by the
//! removal of the namespace under test, by Format NVM or by Sanitize.
//!
//! This module owns the test in progress and the results
//! ([`SelfTestState`]); the timer task that completes a test holds only a
//! weak handle to that state and the lifetime counters.

use super::common::{AdminResult, NSID_ALL};
use super::host::AdminHost;
use super::namespaces::NsTable;
use crate::health::Health;
use nvmeplan_spec::dwords::DeviceSelfTestCdw10;
use nvmeplan_spec::log::{SelfTestLog, SelfTestResult, self_test};
use nvmeplan_spec::{Command, Status};
use parking_lot::{Mutex, RwLock};
use std::sync::Arc;
use std::time::{Duration, Instant};
use zerocopy::byteorder::little_endian::{U32, U64};

struct Running {
    code: u8,
    nsid: u32,
    start: Instant,
    duration: Duration,
    token: u64,
}

/// The self-test in progress and the results.
pub(crate) struct SelfTestState {
    running: Option<Running>,
    log: SelfTestLog,
    token: u64,
}

impl Default for SelfTestState {
    fn default() -> Self {
        SelfTestState { running: None, log: SelfTestLog::new(), token: 0 }
    }
}

fn finish(health: &Health, st: &mut SelfTestState, result: u8) {
    let Some(run) = st.running.take() else { return };
    let mut entry = SelfTestResult::new(run.code, result);
    entry.power_on_hours = U64::new(health.power_on_hours());
    if run.nsid != 0 {
        entry.nsid = U32::new(run.nsid);
        entry.valid_diagnostic_info = self_test::NSID_VALID;
    }
    st.log.push_result(entry);
    tracing::debug!(code = run.code, result, "device self-test finished");
}

/// Device Self-test.
pub(crate) fn start(
    host: &dyn AdminHost,
    state: &Arc<Mutex<SelfTestState>>,
    namespaces: &RwLock<NsTable>,
    cmd: &Command,
) -> AdminResult {
    let code = DeviceSelfTestCdw10::from(cmd.cdw10).stc();
    if code == self_test::ABORT {
        let mut st = state.lock();
        finish(host.health(), &mut st, self_test::ABORTED_BY_COMMAND);
        return Ok(0);
    }
    let duration = match code {
        self_test::SHORT => host.config().self_test_short,
        self_test::EXTENDED => host.config().self_test_extended,
        _ => return Err(Status::INVALID_FIELD_IN_COMMAND),
    };
    if cmd.nsid != 0 && cmd.nsid != NSID_ALL && namespaces.read().active(cmd.nsid).is_none() {
        return Err(Status::INVALID_NAMESPACE_OR_FORMAT);
    }
    let mut st = state.lock();
    if st.running.is_some() {
        return Err(Status::DEVICE_SELF_TEST_IN_PROGRESS);
    }
    st.token += 1;
    let token = st.token;
    st.running = Some(Running { code, nsid: cmd.nsid, start: Instant::now(), duration, token });
    drop(st);
    tracing::debug!(code, nsid = cmd.nsid, "device self-test started");
    let weak = Arc::downgrade(state);
    let health = Arc::downgrade(host.health());
    host.timer().schedule(duration, move || {
        let (Some(state), Some(health)) = (weak.upgrade(), health.upgrade()) else { return };
        let mut st = state.lock();
        if st.running.as_ref().is_some_and(|r| r.token == token) {
            finish(&health, &mut st, self_test::COMPLETED_WITHOUT_ERROR);
        }
    });
    Ok(0)
}

/// The Device Self-test log page.
pub(crate) fn log(state: &Mutex<SelfTestState>) -> SelfTestLog {
    let st = state.lock();
    let mut log = st.log;
    if let Some(run) = &st.running {
        log.current_operation = run.code;
        let pct = run.start.elapsed().as_millis() * 100 / run.duration.as_millis().max(1);
        log.current_completion = pct.min(99) as u8;
    }
    log
}

/// A reset happened: short tests are aborted by any controller level
/// reset, every test by a power cycle.
pub(crate) fn on_reset(state: &Mutex<SelfTestState>, health: &Health, power_cycle: bool) {
    let mut st = state.lock();
    let abort = match &st.running {
        Some(run) => power_cycle || run.code == self_test::SHORT,
        None => false,
    };
    if abort {
        finish(health, &mut st, self_test::ABORTED_BY_RESET);
    }
}

/// Aborts a test running on a namespace that was detached or deleted.
pub(crate) fn namespace_removed(state: &Mutex<SelfTestState>, health: &Health, nsid: u32) {
    let mut st = state.lock();
    if st.running.as_ref().is_some_and(|r| r.nsid == nsid) {
        finish(health, &mut st, self_test::ABORTED_BY_NS_REMOVAL);
    }
}

/// Aborts any test with `result` (Format NVM, Sanitize).
pub(crate) fn abort_with(state: &Mutex<SelfTestState>, health: &Health, result: u8) {
    let mut st = state.lock();
    finish(health, &mut st, result);
}
