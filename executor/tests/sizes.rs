//! Sizes in bytes with units: the same plan, sized in bytes, runs on 512 B
//! and 4 KiB LBA formats and issues the same bytes; a byte size that is
//! not a whole number of blocks of the device it meets is an error naming
//! both.

use nvmeplan::run::result::{Outcome, RunResult, StepResult};
use nvmeplan::run::{PlanSource, RunOptions, device_uri, open_device, run_plan};
use nvmeplan::{Options, validate_str};

fn run_on(text: &str, device: &str) -> RunResult {
    let report = validate_str("sizes.yaml", text, &Options::default());
    assert!(!report.has_errors(), "{}", nvmeplan::render_text(&report.diagnostics, &report.sources));
    let plan = report.plan.expect("plan");
    let uri = device_uri(&plan, Some(device));
    let ctrl = open_device(&uri).expect("sim opens");
    let source = PlanSource { path: "sizes.yaml".into(), text: text.into() };
    let options = RunOptions { seed: Some(3), ..RunOptions::default() };
    run_plan(&plan, &source, ctrl, &uri, &options, &mut |_| {}).expect("run")
}

fn step<'a>(r: &'a RunResult, id: &str) -> &'a StepResult {
    r.steps.iter().find(|s| s.id == id).unwrap_or_else(|| panic!("no step {id}"))
}

/// `(slba, nlb)` of each I/O command of a step, from its SQE.
fn ranges(s: &StepResult, opcode: &str) -> Vec<(u64, u64)> {
    s.commands
        .iter()
        .filter(|c| c.qid != 0 && c.opcode == opcode)
        .map(|c| (u64::from(c.sqe[10]) | u64::from(c.sqe[11]) << 32, u64::from(c.sqe[12] & 0xFFFF) + 1))
        .collect()
}

const BYTES_PLAN: &str = r#"
plan_version: 1
name: sized in bytes
steps:
  - name: write
    write: { slba: 1MiB, size: 64k }
  - name: read
    read: { slba: 1MiB, size: 64KiB, verify: true }
  - name: copy
    copy: { sdlba: 4MiB, ranges: [{ slba: 1MiB, nlb: 4k }] }
  - name: read the copy
    read: { slba: 4MiB, size: 4k, verify: true }
    expect: { data: { unchecked: 0 } }
  - name: zeroes
    write_zeroes: { slba: 2MiB, size: 8k }
  - name: verify
    verify: { slba: 2MiB, size: 8K }
  - name: compare
    compare: { slba: 1MiB, nlb: 16k }
  - name: trim
    deallocate: { ranges: [{ slba: 3MiB, nlb: 4k }] }
  - name: mix
    ioworker:
      io_size: { 4k: 50, 16k: 50 }
      region_start: 1MiB
      region_end: 2MiB
      lba_random: true
      read_percentage: 50
      qdepth: 8
      io_count: 200
      verify: true
  - name: fixed
    ioworker: { io_size: 16k, io_count: 10, lba_align: 16k, region_end: 8MiB }
"#;

#[test]
fn a_plan_sized_in_bytes_moves_the_same_bytes_on_512_and_4096_byte_formats() {
    for (device, lba) in [("sim", 512u64), ("sim:lba=4096", 4096)] {
        let r = run_on(BYTES_PLAN, device);
        let bad: Vec<_> =
            r.steps.iter().filter(|s| s.outcome != Outcome::Pass).map(|s| (&s.id, &s.reason)).collect();
        assert!(bad.is_empty(), "{device}: {bad:?}");
        let mib = (1u64 << 20) / lba;
        assert_eq!(ranges(step(&r, "write"), "write"), vec![(mib, 65536 / lba)], "{device}");
        assert_eq!(ranges(step(&r, "read"), "read"), vec![(mib, 65536 / lba)], "{device}");
        assert_eq!(ranges(step(&r, "zeroes"), "write_zeroes"), vec![(2 * mib, 8192 / lba)], "{device}");
        assert_eq!(ranges(step(&r, "verify"), "verify"), vec![(2 * mib, 8192 / lba)], "{device}");
        let copy = &step(&r, "copy").commands.iter().find(|c| c.opcode == "copy").expect("a copy").sqe;
        assert_eq!(u64::from(copy[10]) | u64::from(copy[11]) << 32, 4 * mib, "{device}: sdlba");
        let verification = step(&r, "read").verification.as_ref().expect("verified");
        assert_eq!(verification.checked, 65536 / lba, "{device}");
        let fixed = &step(&r, "fixed").ioworker.as_ref().expect("ioworker result").total;
        assert_eq!((fixed.io_total, fixed.bytes), (10, 10 * 16384), "{device}");
        let mix = &step(&r, "mix").ioworker.as_ref().expect("ioworker result").total;
        assert_eq!(mix.io_total, 200, "{device}");
        assert_eq!(mix.bytes % 4096, 0, "{device}: {}", mix.bytes);
    }
}

#[test]
fn a_byte_size_that_is_not_whole_blocks_of_the_device_errs_naming_both() {
    // 2 KiB is 4 blocks of 512 bytes, so validation (no device) passes;
    // the 4 KiB format meets it at run time.
    let text = "plan_version: 1\nname: t\nsteps:\n  - name: half a block\n    write: { slba: 0, size: 2k }\n  - name: region\n    ioworker: { io_count: 1, region_end: 6k }\n";
    let r = run_on(text, "sim");
    assert!(r.steps.iter().all(|s| s.outcome == Outcome::Pass), "{:?}", r.steps);
    let r = run_on(text, "sim:lba=4096");
    let s = step(&r, "half a block");
    assert_eq!(s.outcome, Outcome::Error);
    assert_eq!(
        s.reason.as_deref(),
        Some("size: 2KiB (2048 bytes) is not a multiple of the LBA size of 4096 bytes")
    );
    assert!(s.commands.iter().all(|c| c.qid == 0), "nothing was sent: {:?}", s.commands);
    let s = step(&r, "region");
    assert_eq!(s.outcome, Outcome::Error);
    assert_eq!(
        s.reason.as_deref(),
        Some("region_end: 6KiB (6144 bytes) is not a multiple of the LBA size of 4096 bytes")
    );
}

#[test]
fn validate_knows_the_lba_size_of_the_plans_simulator() {
    let text = "plan_version: 1\nname: t\ndevice: \"sim:lba=4096\"\nsteps:\n  - name: w\n    write: { slba: 0, size: 2k }\n";
    let report = validate_str("t.yaml", text, &Options::default());
    let shown = nvmeplan::render_text(&report.diagnostics, &report.sources);
    assert!(shown.contains("t.yaml:6:29"), "{shown}");
    assert!(shown.contains("2KiB (2048 bytes) is not a multiple of the LBA size of 4096 bytes"), "{shown}");
    let ok = validate_str("t.yaml", &text.replace("size: 2k", "size: 8k"), &Options::default());
    assert!(!ok.has_errors());
}
