//! Cancellation: once the controller's cancellation flag is set, a wait for
//! a command the simulator never completes, an asynchronous event wait and
//! an IO worker end within a fraction of a second with
//! `DriverError::Cancelled` (or the worker's partial results), long before
//! their timeouts.

mod common;

use common::*;
use nvmeplan_driver::ioworker::IoWorkerConfig;
use nvmeplan_driver::queue_pair::QueuePairOptions;
use nvmeplan_driver::{Controller, ControllerOptions, DriverError, commands, run_workers};
use nvmeplan_sim::FaultAction;
use nvmeplan_sim::faults::{FaultMatch, FaultRule, QueueMatch};
use nvmeplan_spec::NvmOpcode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A simulator sharing `cancel`, with every read on an I/O queue hanging
/// the controller.
fn hung_reads(cancel: &Arc<AtomicBool>) -> Controller {
    let (ctrl, sim) =
        open_sim_device_with("", ControllerOptions { cancel: Some(cancel.clone()), ..Default::default() });
    sim.faults().add(FaultRule::new(
        FaultMatch { queue: QueueMatch::Io, opcode: Some(NvmOpcode::Read as u8), ..Default::default() },
        FaultAction::Hang,
    ));
    ctrl
}

/// Sets `flag` after `after`, from another thread.
fn set_later(flag: &Arc<AtomicBool>, after: Duration) -> std::thread::JoinHandle<()> {
    let flag = flag.clone();
    std::thread::spawn(move || {
        std::thread::sleep(after);
        flag.store(true, Ordering::SeqCst);
    })
}

#[test]
fn a_hung_command_wait_ends_when_the_flag_is_set() {
    let cancel = Arc::new(AtomicBool::new(false));
    let ctrl = hung_reads(&cancel);
    assert!(Arc::ptr_eq(ctrl.cancel_flag(), &cancel));
    let options = QueuePairOptions { timeout: Duration::from_secs(60), ..Default::default() };
    let mut qp = ctrl.create_qpair(16, options).unwrap();
    let mut buf = buffer(&ctrl, 4096);
    let setter = set_later(&cancel, Duration::from_millis(200));
    let start = Instant::now();
    let err = qp.execute(commands::read(1, 0, 1), Some(&mut buf), None).unwrap_err();
    let took = start.elapsed();
    setter.join().unwrap();
    assert!(matches!(err, DriverError::Cancelled { .. }), "{err}");
    assert!(err.to_string().contains("read"), "{err}");
    assert!(took >= Duration::from_millis(200), "ended before the flag was set: {took:?}");
    assert!(took < Duration::from_secs(1), "cancellation took {took:?}");
    // The command stays outstanding (its CID reserved), like a timed-out one.
    assert_eq!(qp.outstanding(), 1);
}

#[test]
fn a_completion_wait_ends_when_the_flag_is_set() {
    let cancel = Arc::new(AtomicBool::new(false));
    let ctrl = hung_reads(&cancel);
    let options = QueuePairOptions { timeout: Duration::from_secs(60), ..Default::default() };
    let mut qp = ctrl.create_qpair(16, options).unwrap();
    let buf = buffer(&ctrl, 4096);
    qp.submit_raw(commands::read(1, 0, 1), Some((buf.data_iova(), 4096)), 7).unwrap();
    let setter = set_later(&cancel, Duration::from_millis(100));
    let start = Instant::now();
    let err = qp.wait_for_completions(Duration::from_secs(30)).unwrap_err();
    setter.join().unwrap();
    assert!(matches!(err, DriverError::Cancelled { .. }), "{err}");
    assert!(start.elapsed() < Duration::from_secs(1), "took {:?}", start.elapsed());
}

#[test]
fn quick_commands_complete_within_the_grace_and_after_the_flag_is_cleared() {
    let cancel = Arc::new(AtomicBool::new(false));
    let ctrl = open_sim_with("", ControllerOptions { cancel: Some(cancel.clone()), ..Default::default() });
    let mut qp = qpair(&ctrl, 16);
    cancel.store(true, Ordering::SeqCst);
    assert!(ctrl.is_cancelled());
    // A quick command completes within the grace even with the flag set.
    assert!(qp.flush(1).unwrap().status().is_success());
    cancel.store(false, Ordering::SeqCst);
    assert!(!ctrl.is_cancelled());
    assert!(qp.flush(1).unwrap().status().is_success());
    ctrl.reset().unwrap();
}

#[test]
fn an_async_event_wait_ends_when_the_flag_is_set() {
    let cancel = Arc::new(AtomicBool::new(false));
    let ctrl = open_sim_with("", ControllerOptions { cancel: Some(cancel.clone()), ..Default::default() });
    let setter = set_later(&cancel, Duration::from_millis(150));
    let start = Instant::now();
    let err = ctrl.async_event_request(Duration::from_secs(60)).unwrap_err();
    setter.join().unwrap();
    assert!(matches!(err, DriverError::Cancelled { .. }), "{err}");
    assert!(start.elapsed() < Duration::from_secs(1), "took {:?}", start.elapsed());
}

#[test]
fn an_io_worker_stuck_on_a_hung_command_stops_with_its_counts() {
    let cancel = Arc::new(AtomicBool::new(false));
    let (ctrl, sim) =
        open_sim_device_with("", ControllerOptions { cancel: Some(cancel.clone()), ..Default::default() });
    // The 200th read hangs the controller; the worker waits on it.
    sim.faults().add(
        FaultRule::new(
            FaultMatch {
                queue: QueueMatch::Io,
                opcode: Some(NvmOpcode::Read as u8),
                nth: Some(200),
                ..Default::default()
            },
            FaultAction::Hang,
        )
        .times(1),
    );
    let mut cfg = IoWorkerConfig::new(1).read_percentage(100);
    cfg.time = Some(Duration::from_secs(30));
    cfg.io_count = None;
    cfg.timeout = Some(Duration::from_secs(30));
    let stop = AtomicBool::new(false);
    let setter = set_later(&cancel, Duration::from_millis(300));
    let start = Instant::now();
    let results = run_workers(&ctrl, &[cfg], None, &stop, None).expect("run_workers");
    setter.join().unwrap();
    let took = start.elapsed();
    assert!(took < Duration::from_secs(2), "the worker took {took:?}");
    assert!(results.total.io_total >= 199, "counts kept: {}", results.total.io_total);
    assert!(!results.total.iops_per_second.is_empty());
}
