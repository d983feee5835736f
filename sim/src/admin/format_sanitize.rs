//! Format NVM and Sanitize, with the Sanitize Status log page (81h).
//!
//! Format NVM erases the selected namespace(s) (SES 0, 1 user data erase,
//! 2 crypto erase: all erase) and may change the LBA format; the namespace
//! keeps its size in bytes. Sanitize (block erase, crypto erase, overwrite)
//! runs in the background for the configured duration: while it runs, I/O
//! and most admin commands complete with sanitize_in_progress, the status
//! log shows progress out of 65536, and at the end every namespace is
//! erased. Block and crypto erase leave blocks that read as zeros; an
//! overwrite leaves the Overwrite Pattern (CDW11, 32 bits, repeated
//! little-endian through every block), or its inverse when OIPBP is set
//! and the pass count is even, since the pattern is then inverted between
//! passes and the last pass writes the inverse. The pattern is kept by the
//! namespace store as a fill, not written out (see
//! [`crate::storage::NamespaceStore::erase_with_pattern`]). The simulator
//! never deallocates after a sanitize, so No-Deallocate After Sanitize
//! changes nothing. A sanitize continues across controller resets.
//!
//! This module owns the progress of both operations
//! ([`FormatSanitizeState`]): the flags the I/O path and the admin
//! dispatcher check, and the sanitize status; the timer task that ends a
//! sanitize holds only weak handles to that state and the namespaces.

use super::common::{AdminResult, NSID_ALL};
use super::host::AdminHost;
use super::namespaces::{LBA_FORMATS, NsTable};
use super::self_test::{self as dst, SelfTestState};
use nvmeplan_spec::dwords::{FormatNvmCdw10, SanitizeCdw10};
use nvmeplan_spec::log::{SanitizeStatusLog, sanitize, self_test};
use nvmeplan_spec::{Command, Status};
use parking_lot::{Mutex, RwLock};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Sanitize progress and the result of the last operation.
#[derive(Default)]
struct SanitizeStatus {
    running: Option<(Instant, Duration)>,
    last_status: u8,
    passes: u8,
    scdw10: u32,
    failed: bool,
}

/// Format NVM and Sanitize in progress, and the last sanitize's result.
#[derive(Default)]
pub(crate) struct FormatSanitizeState {
    status: Mutex<SanitizeStatus>,
    format_busy: AtomicBool,
    sanitizing: AtomicBool,
}

impl FormatSanitizeState {
    /// A Format NVM is running.
    pub fn format_busy(&self) -> bool {
        self.format_busy.load(Ordering::Acquire)
    }

    /// A sanitize operation is running.
    pub fn sanitizing(&self) -> bool {
        self.sanitizing.load(Ordering::Acquire)
    }
}

/// The state Format NVM and Sanitize work on besides their own.
pub(crate) struct Targets<'a> {
    /// The namespaces.
    pub namespaces: &'a Arc<RwLock<NsTable>>,
    /// The self-test a format or sanitize aborts.
    pub self_test: &'a Mutex<SelfTestState>,
}

/// Format NVM.
pub(crate) fn format(
    host: &dyn AdminHost,
    state: &FormatSanitizeState,
    on: Targets<'_>,
    cmd: &Command,
) -> AdminResult {
    let cdw10 = FormatNvmCdw10::from(cmd.cdw10);
    let index = usize::from(cdw10.lbaf());
    let pi = cdw10.pi();
    let ses = cdw10.ses();
    if cmd.nsid == 0 {
        return Err(Status::INVALID_NAMESPACE_OR_FORMAT);
    }
    let targets: Vec<Arc<crate::storage::NamespaceStore>> = {
        let table = on.namespaces.read();
        if cmd.nsid == NSID_ALL {
            table.all().filter(|n| n.attached).map(|n| n.store.clone()).collect()
        } else {
            match table.active(cmd.nsid) {
                Some(n) => vec![n.store.clone()],
                None => return Err(Status::INVALID_NAMESPACE_OR_FORMAT),
            }
        }
    };
    let Some(&lba_size) = LBA_FORMATS.get(index) else {
        return Err(Status::INVALID_FORMAT);
    };
    if pi != 0 {
        return Err(Status::INVALID_FORMAT);
    }
    if ses > 2 {
        return Err(Status::INVALID_FIELD_IN_COMMAND);
    }
    dst::abort_with(on.self_test, host.health(), self_test::ABORTED_BY_FORMAT);
    state.format_busy.store(true, Ordering::Release);
    for store in &targets {
        let bytes = u128::from(store.nlb()) * u128::from(store.lba_size());
        let nlb = (bytes / u128::from(lba_size)) as u64;
        if store.lba_size() == lba_size {
            store.erase_all();
        } else {
            store.reformat(lba_size, nlb.max(1));
        }
    }
    state.format_busy.store(false, Ordering::Release);
    tracing::debug!(nsid = cmd.nsid, lba_size, ses, "format complete");
    host.persist();
    Ok(0)
}

/// Sanitize.
pub(crate) fn sanitize(
    host: &dyn AdminHost,
    state: &Arc<FormatSanitizeState>,
    on: Targets<'_>,
    cmd: &Command,
) -> AdminResult {
    let cdw10 = SanitizeCdw10::from(cmd.cdw10);
    let action = cdw10.sanact();
    let mut st = state.status.lock();
    if st.running.is_some() {
        return Err(Status::SANITIZE_IN_PROGRESS);
    }
    match action {
        sanitize::EXIT_FAILURE_MODE => {
            st.failed = false;
            return Ok(0);
        }
        sanitize::BLOCK_ERASE | sanitize::OVERWRITE | sanitize::CRYPTO_ERASE => {}
        _ => return Err(Status::INVALID_FIELD_IN_COMMAND),
    }
    if st.failed && !cdw10.ause() {
        return Err(Status::SANITIZE_FAILED);
    }
    let passes = match cdw10.owpass() {
        0 => 16,
        n => n,
    };
    let fill = (action == sanitize::OVERWRITE).then(|| overwrite_result(cmd.cdw11, passes, cdw10.oipbp()));
    let duration = host.config().sanitize_duration;
    st.running = Some((Instant::now(), duration));
    st.last_status = sanitize::STATUS_IN_PROGRESS;
    st.passes = if action == sanitize::OVERWRITE { passes } else { 0 };
    st.scdw10 = cmd.cdw10;
    drop(st);
    state.sanitizing.store(true, Ordering::Release);
    dst::abort_with(on.self_test, host.health(), self_test::ABORTED_BY_SANITIZE);
    tracing::debug!(action, ?duration, "sanitize started");
    let weak = Arc::downgrade(state);
    let namespaces = Arc::downgrade(on.namespaces);
    host.timer().schedule(duration, move || {
        let (Some(state), Some(namespaces)) = (weak.upgrade(), namespaces.upgrade()) else { return };
        for ns in namespaces.read().all() {
            match fill {
                Some(pattern) => ns.store.erase_with_pattern(pattern),
                None => ns.store.erase_all(),
            }
        }
        let mut st = state.status.lock();
        st.running = None;
        st.last_status = sanitize::STATUS_COMPLETED;
        drop(st);
        state.sanitizing.store(false, Ordering::Release);
        tracing::debug!("sanitize complete");
    });
    Ok(0)
}

/// The pattern an overwrite of `passes` passes leaves with Overwrite
/// Pattern `ovrpat`: with `invert` (OIPBP) every other pass writes the
/// inverse, so the last of an even number of passes does.
pub(crate) fn overwrite_result(ovrpat: u32, passes: u8, invert: bool) -> u32 {
    if invert && passes.is_multiple_of(2) { !ovrpat } else { ovrpat }
}

/// The Sanitize Status log page.
pub(crate) fn status_log(state: &FormatSanitizeState, sanitize_duration: Duration) -> SanitizeStatusLog {
    let st = state.status.lock();
    let mut log = SanitizeStatusLog::zeroed();
    log.sprog = match st.running {
        Some((start, duration)) => {
            let frac = start.elapsed().as_secs_f64() / duration.as_secs_f64().max(1e-9);
            (frac * 65536.0).clamp(0.0, 65535.0) as u16
        }
        None => u16::MAX,
    };
    let status = if st.failed { sanitize::STATUS_FAILED } else { st.last_status };
    let erased = status == sanitize::STATUS_COMPLETED;
    log.set_sstat(status, if erased || st.running.is_some() { st.passes } else { 0 }, erased);
    log.scdw10 = st.scdw10;
    let secs = sanitize_duration.as_secs_f64().ceil() as u32;
    log.eto = secs;
    log.etbe = secs;
    log.etce = secs;
    log.etond = u32::MAX;
    log.etbend = u32::MAX;
    log.etcend = u32::MAX;
    log
}

#[cfg(test)]
mod tests {
    use super::overwrite_result;

    #[test]
    fn inverting_passes_end_on_the_inverse_for_even_counts() {
        assert_eq!(overwrite_result(0xA5A5_5A5A, 1, false), 0xA5A5_5A5A);
        assert_eq!(overwrite_result(0xA5A5_5A5A, 2, false), 0xA5A5_5A5A);
        assert_eq!(overwrite_result(0xA5A5_5A5A, 1, true), 0xA5A5_5A5A);
        assert_eq!(overwrite_result(0xA5A5_5A5A, 3, true), 0xA5A5_5A5A);
        assert_eq!(overwrite_result(0xA5A5_5A5A, 2, true), 0x5A5A_A5A5);
        assert_eq!(overwrite_result(0x0000_00FF, 16, true), 0xFFFF_FF00);
    }
}
