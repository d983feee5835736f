//! Fault injection through the public API, as plans drive it.

use nvmeplan_sim::faults::{FaultAction, FaultInjector, FaultMatch, FaultRule, QueueMatch};
use nvmeplan_spec::{Command, NvmOpcode, Status};
use std::sync::atomic::{AtomicU64, Ordering};

fn read(slba: u64) -> Command {
    let mut cmd = Command::new(NvmOpcode::Read as u8, 1);
    cmd.set_slba(slba);
    cmd
}

#[test]
fn count_is_exact_under_concurrent_evaluation() {
    let faults = FaultInjector::default();
    let id = faults.add(FaultRule {
        matcher: FaultMatch { queue: QueueMatch::Io, ..Default::default() },
        action: "status=unrecovered_read_error,dnr".parse().unwrap(),
        count: Some(100),
    });
    let acted = AtomicU64::new(0);
    std::thread::scope(|scope| {
        for sq in 1..=8u16 {
            let (faults, acted) = (&faults, &acted);
            scope.spawn(move || {
                for i in 0..1000 {
                    if let Some(action) = faults.evaluate(sq, &read(i)) {
                        assert_eq!(
                            action,
                            FaultAction::Status { status: Status::UNRECOVERED_READ_ERROR, dnr: true }
                        );
                        acted.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    assert_eq!(acted.load(Ordering::Relaxed), 100);
    assert_eq!(faults.fired(id), 100);
    // The admin queue was never eligible.
    let admin = faults.add(FaultRule::new(FaultMatch::default(), FaultAction::DropCompletion).times(1));
    assert_eq!(faults.evaluate(0, &Command::new(0x06, 0)), Some(FaultAction::DropCompletion));
    assert_eq!(faults.fired(admin), 1);
}

#[test]
fn a_plan_step_adds_and_removes_a_rule() {
    let faults = FaultInjector::default();
    faults.set_seed(7);
    let rule = FaultRule::new(
        FaultMatch {
            queue: QueueMatch::Sq(2),
            lba: Some((1000, 2000)),
            probability: Some(0.5),
            ..Default::default()
        },
        "delay=20ms".parse().unwrap(),
    );
    let id = faults.add(rule.clone());
    assert_eq!(faults.rules(), vec![(id, rule)]);
    let decisions: Vec<bool> = (0..64).map(|i| faults.evaluate(2, &read(1000 + i)).is_some()).collect();
    assert!(decisions.iter().any(|&d| d) && decisions.iter().any(|&d| !d));
    assert!(faults.evaluate(1, &read(1500)).is_none());
    assert!(faults.evaluate(2, &read(5000)).is_none());
    assert!(faults.remove(id));
    assert!((0..64).all(|i| faults.evaluate(2, &read(1000 + i)).is_none()));
    // Same seed, same decisions.
    faults.set_seed(7);
    let again = faults.add(FaultRule::new(
        FaultMatch {
            queue: QueueMatch::Sq(2),
            lba: Some((1000, 2000)),
            probability: Some(0.5),
            ..Default::default()
        },
        FaultAction::CorruptData,
    ));
    let replay: Vec<bool> = (0..64).map(|i| faults.evaluate(2, &read(1000 + i)).is_some()).collect();
    assert_eq!(replay, decisions);
    assert_eq!(faults.fired(again), decisions.iter().filter(|&&d| d).count() as u64);
}
