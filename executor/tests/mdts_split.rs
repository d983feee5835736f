//! Transfers over MDTS: a buffered read, write or compare larger than the
//! controller's maximum transfer is split into MDTS-sized commands (each in
//! the cmdlog, one step result, verification across all of them); write
//! zeroes and verify are split only at the NLB field's 65536 blocks; and
//! `split: false` sends one oversized command for the device to refuse.

use nvmeplan::run::result::{Outcome, RunResult, StepResult};
use nvmeplan::run::{PlanSource, RunOptions, device_uri, open_device, run_plan};
use nvmeplan::{Options, validate_str};

fn run_on(text: &str, device: &str) -> RunResult {
    let report = validate_str("mdts.yaml", text, &Options::default());
    assert!(!report.has_errors(), "{}", nvmeplan::render_text(&report.diagnostics, &report.sources));
    let plan = report.plan.expect("plan");
    let uri = device_uri(&plan, Some(device));
    let ctrl = open_device(&uri).expect("sim opens");
    let source = PlanSource { path: "mdts.yaml".into(), text: text.into() };
    let options = RunOptions { seed: Some(5), ..RunOptions::default() };
    run_plan(&plan, &source, ctrl, &uri, &options, &mut |_| {}).expect("run")
}

fn step<'a>(r: &'a RunResult, id: &str) -> &'a StepResult {
    r.steps.iter().find(|s| s.id == id).unwrap_or_else(|| panic!("no step {id}"))
}

/// `(slba, nlb, status)` of each I/O command `opcode` of a step.
fn commands(s: &StepResult, opcode: &str) -> Vec<(u64, u64, String)> {
    s.commands
        .iter()
        .filter(|c| c.qid != 0 && c.opcode == opcode)
        .map(|c| {
            let slba = u64::from(c.sqe[10]) | u64::from(c.sqe[11]) << 32;
            (slba, u64::from(c.sqe[12] & 0xFFFF) + 1, c.status.clone().unwrap_or_default())
        })
        .collect()
}

const FORMATS: [(&str, u64); 2] = [("sim:mdts=5", 512), ("sim:mdts=5,lba=4096", 4096)];

#[test]
fn one_mib_is_written_and_read_back_in_eight_mdts_commands() {
    let text = r#"
plan_version: 1
name: 1 MiB sequential
steps:
  - { name: write, write: { slba: 0, size: 1MiB } }
  - { name: read, read: { slba: 0, size: 1MiB, verify: true }, expect: { data: { unchecked: 0 } } }
  - { name: compare, compare: { slba: 0, size: 1MiB } }
"#;
    for (device, lba) in FORMATS {
        let r = run_on(text, device);
        let bad: Vec<_> =
            r.steps.iter().filter(|s| s.outcome != Outcome::Pass).map(|s| (&s.id, &s.reason)).collect();
        assert!(bad.is_empty(), "{device}: {bad:?}");
        let per = (128 << 10) / lba;
        let want: Vec<(u64, u64, String)> = (0..8).map(|i| (i * per, per, "success".to_string())).collect();
        assert_eq!(commands(step(&r, "write"), "write"), want, "{device}");
        assert_eq!(commands(step(&r, "read"), "read"), want, "{device}");
        assert_eq!(commands(step(&r, "compare"), "compare"), want, "{device}");
        let verification = step(&r, "read").verification.as_ref().expect("verified");
        assert_eq!((verification.checked, verification.mismatches), ((1 << 20) / lba, 0), "{device}");
        let note = step(&r, "write").message.clone().unwrap_or_default();
        assert_eq!(note, format!("{} blocks in 8 commands of at most {per} blocks (MDTS)", (1 << 20) / lba));
    }
}

#[test]
fn split_false_sends_one_oversized_command_and_gets_the_devices_status() {
    let text = r#"
plan_version: 1
name: over MDTS on purpose
steps:
  - name: refused
    write: { slba: 0, size: 4MiB, split: false }
    expect: { status: invalid_field_in_command }
  - name: unexpected
    read: { slba: 0, size: 256k, split: false, verify: true }
"#;
    for (device, lba) in FORMATS {
        let r = run_on(text, device);
        let s = step(&r, "refused");
        assert_eq!(s.outcome, Outcome::Pass, "{device}: {:?}", s.reason);
        // 4 MiB needs two PRP list pages, more than a queue sized for
        // 128 KiB holds per command: the driver builds them for it.
        let blocks = (4 << 20) / lba;
        assert_eq!(commands(s, "write"), vec![(0, blocks, "invalid_field_in_command".into())], "{device}");
        let s = step(&r, "unexpected");
        assert_eq!(s.outcome, Outcome::Fail, "{device}");
        assert!(
            s.reason.as_deref().unwrap_or_default().contains("invalid_field_in_command"),
            "{:?}",
            s.reason
        );
        assert_eq!(commands(s, "read").len(), 1, "{device}");
    }
}

#[test]
fn a_chunk_corrupted_on_the_way_is_caught_by_verification() {
    let text = r#"
plan_version: 1
name: corrupt one chunk
steps:
  - { name: write, write: { slba: 0, size: 1MiB } }
  - name: corrupt the third read
    inject: { match: { opcode: read, nth: 3 }, action: corrupt, count: 1 }
  - { name: read, read: { slba: 0, size: 1MiB, verify: true } }
"#;
    for (device, lba) in FORMATS {
        let r = run_on(text, device);
        let s = step(&r, "read");
        assert_eq!(s.outcome, Outcome::Fail, "{device}");
        assert_eq!(commands(s, "read").len(), 8, "{device}: every chunk is read");
        let verification = s.verification.as_ref().expect("verified");
        assert_eq!((verification.checked, verification.mismatches), ((1 << 20) / lba, 1), "{device}");
        // The sim corrupts the first block of the command it hits: the
        // first LBA of the third chunk.
        let third = 2 * (128 << 10) / lba;
        assert_eq!(s.mismatches.len(), 1, "{device}: {:?}", s.mismatches);
        assert!(s.mismatches[0].starts_with(&format!("lba {third}:")), "{device}: {:?}", s.mismatches);
    }
}

#[test]
fn the_first_failing_chunk_gives_the_step_its_status() {
    let text = r#"
plan_version: 1
name: fail the second write
steps:
  - name: fail it
    inject: { match: { opcode: write, nth: 2 }, action: { status: write_fault }, count: 1 }
  - name: write
    write: { slba: 0, size: 1MiB }
    expect: { status: write_fault }
"#;
    let r = run_on(text, "sim:mdts=5");
    let s = step(&r, "write");
    assert_eq!(s.outcome, Outcome::Pass, "{:?}", s.reason);
    let sent = commands(s, "write");
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[1].2, "write_fault");
    assert!(
        s.message.as_deref().unwrap_or_default().ends_with("stopped after command 2 failed"),
        "{:?}",
        s.message
    );
}

#[test]
fn write_zeroes_and_verify_split_only_at_the_nlb_field() {
    // 64 MiB is 131072 blocks of 512 bytes: over 65536, far over MDTS.
    let text = r#"
plan_version: 1
name: no data
steps:
  - { name: zeroes, write_zeroes: { slba: 0, size: 64MiB } }
  - { name: verify, verify: { slba: 0, size: 64MiB } }
  - { name: read, read: { slba: 131000, nlb: 72, verify: true }, expect: { data: { unchecked: 0 } } }
"#;
    let r = run_on(text, "sim:mdts=5");
    let bad: Vec<_> =
        r.steps.iter().filter(|s| s.outcome != Outcome::Pass).map(|s| (&s.id, &s.reason)).collect();
    assert!(bad.is_empty(), "{bad:?}");
    let want = vec![(0, 65536, "success".to_string()), (65536, 65536, "success".to_string())];
    assert_eq!(commands(step(&r, "zeroes"), "write_zeroes"), want);
    assert_eq!(commands(step(&r, "verify"), "verify"), want);
}

#[test]
fn validate_reports_what_the_plans_device_cannot_take() {
    let text = "plan_version: 1\nname: t\ndevice: \"sim:mdts=5\"\nsteps:\n  - name: w\n    write: { slba: 0, size: 1MiB, split: false }\n";
    let report = validate_str("t.yaml", text, &Options::default());
    let shown = nvmeplan::render_text(&report.diagnostics, &report.sources);
    assert!(shown.contains("t.yaml:6:35"), "{shown}");
    assert!(shown.contains("over the MDTS of 131072 bytes"), "{shown}");
    // Expecting the device's refusal makes it the point of the step.
    let expected = format!("{text}    expect: {{ status: invalid_field_in_command }}\n");
    assert!(!validate_str("t.yaml", &expected, &Options::default()).has_errors());
    // Split (the default), the same size is fine.
    assert!(!validate_str("t.yaml", &text.replace(", split: false", ""), &Options::default()).has_errors());
}
