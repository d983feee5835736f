//! The plans the QEMU end-to-end test runs over VFIO (plans/qemu/) also
//! pass on the simulator, and the guard plan is never refused there. The
//! 60 s soak is left to the e2e run; it validates with the other plans.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

fn plan(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../plans/qemu").join(format!("{name}.yaml"))
}

/// One plan run at a time: each run spins a simulator thread and IO
/// threads, and several at once on a 2-core machine stretch latencies past
/// what the plans expect (the smoke plan bounds p99 at 50 ms).
static ONE_RUN_AT_A_TIME: Mutex<()> = Mutex::new(());

fn run(args: &[&str], plan_name: &str) -> (i32, String) {
    let _one = ONE_RUN_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let out = Command::new(env!("CARGO_BIN_EXE_nvmeplan"))
        .arg("run")
        .args(args)
        // plans/qemu/smoke.yaml includes ../smoke.yaml.
        .arg("--allow-path")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../plans"))
        .arg(plan(plan_name))
        .output()
        .expect("nvmeplan runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn qemu_plans_pass_on_the_simulator() {
    for name in ["smoke", "data-integrity", "admin", "msix", "reset", "guard"] {
        let (code, text) = run(&[], name);
        assert_eq!(code, 0, "{name}:\n{text}");
        assert!(
            text.lines()
                .last()
                .is_some_and(|l| l.ends_with("0 failed, 0 skipped") || l.contains(" 0 failed")),
            "{name}:\n{text}"
        );
    }
}

#[test]
fn reset_under_io_aborts_outstanding_commands_and_keeps_data() {
    let (code, text) = run(&[], "reset");
    assert_eq!(code, 0, "{text}");
    let line = text.lines().find(|l| l.contains("controller reset with IO outstanding")).expect("step ran");
    // The note gives the measured moment of the reset: never before the
    // plan's `after: 300ms`, and soon after it even on a loaded machine.
    let ms: u64 = line
        .split(": controller reset ")
        .nth(1)
        .and_then(|rest| rest.split(" ms after the workers started").next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no reset moment in: {line}"));
    assert!((300..3000).contains(&ms), "{line}");
    let line = text.lines().find(|l| l.contains("function reset with IO outstanding")).expect("step ran");
    assert!(line.starts_with("PASS") && line.contains("function reset"), "{line}");
}

#[test]
fn a_missing_pci_device_is_a_device_error_naming_the_cause() {
    let (code, text) = run(&["--device", "pci:0000:fe:1f.7"], "guard");
    assert_eq!(code, 3, "{text}");
    assert!(text.contains("there is no PCI function 0000:fe:1f.7"), "{text}");
}

/// The QEMU configurations differ in MQES (16- and 4096-entry queues); the
/// plans size their queue depths from `cap.mqes`, so they pass at both ends.
#[test]
fn qemu_plans_pass_with_small_and_large_mqes() {
    for mqes in ["15", "4095"] {
        let device = format!("sim:mqes={mqes}");
        for name in ["smoke", "admin", "reset"] {
            let (code, text) = run(&["--device", &device], name);
            assert_eq!(code, 0, "{device} {name}:\n{text}");
        }
        let (_, text) = run(&["--device", &device], "admin");
        for step in ["cq larger than MQES", "largest cq", "largest sq", "delete largest sq"] {
            let line =
                text.lines().find(|l| l.contains(step)).unwrap_or_else(|| panic!("{step} ran:\n{text}"));
            assert!(line.starts_with("PASS"), "{device}: {line}");
        }
    }
}
