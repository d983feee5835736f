//! The first-week plans in `plans/examples/` run from the binary on the
//! simulator with 512-byte and 4 KiB LBAs and every step passes: they are
//! written in bytes, so the same file fits both formats.

use std::path::PathBuf;
use std::process::Command;

fn examples() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../plans/examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

fn run_on(plan: &PathBuf, device: &str) {
    let out = tempfile::tempdir().unwrap();
    let result = Command::new(env!("CARGO_BIN_EXE_nvmeplan"))
        .args(["run", "--device", device, "--out"])
        .arg(out.path())
        .arg(plan)
        .output()
        .unwrap();
    let console = String::from_utf8_lossy(&result.stdout);
    let name = plan.file_name().unwrap().to_string_lossy();
    assert!(
        result.status.success(),
        "{name} on {device}: {:?}\n{console}\n{}",
        result.status,
        String::from_utf8_lossy(&result.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("report.json")).unwrap()).unwrap();
    let summary = &report["summary"];
    assert_eq!(summary["failed"], 0, "{name} on {device}: {console}");
    assert_eq!(summary["errored"], 0, "{name} on {device}: {console}");
    // A step may skip only on its `when`, where a plan branches on what
    // the device reports (a feature that is or is not changeable); the
    // simulator has everything the examples `require`.
    for step in report["steps"].as_array().unwrap() {
        if step["outcome"] != "pass" {
            assert_eq!(step["outcome"], "skip", "{name} on {device}: {step}");
            assert!(step["reason"].as_str().unwrap().starts_with("when `"), "{name} on {device}: {step}");
        }
    }
    assert!(summary["passed"].as_u64().unwrap() > 0);
    assert_eq!(report["complete"], true);
}

#[test]
fn there_are_five_first_week_plans() {
    let names: Vec<String> =
        examples().iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(
        names,
        [
            "features.yaml",
            "negative-and-reset.yaml",
            "random-mix-qd64.yaml",
            "sequential-write-verify.yaml",
            "smart-after-writes.yaml"
        ]
    );
}

#[test]
fn examples_pass_with_512_byte_lbas() {
    for plan in examples() {
        run_on(&plan, "sim:lba=512");
    }
}

#[test]
fn examples_pass_with_4k_lbas() {
    for plan in examples() {
        run_on(&plan, "sim:lba=4096");
    }
}
