//! The runner against the simulator, through the library API: every action
//! kind, every expect form, matrix/repeat/include/when/requires/save,
//! injected faults, recovery after a timeout, and interruption.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use nvmeplan::run::result::{Outcome, StepResult, Verdict};
use nvmeplan::run::{PlanSource, RunOptions, RunResult, open_device, run_plan};
use nvmeplan::{Options, validate_path, validate_str};

fn run_with(name: &str, text: &str, options: &RunOptions) -> RunResult {
    let report = validate_str(name, text, &Options::default());
    assert!(!report.has_errors(), "{}", nvmeplan::render_text(&report.diagnostics, &report.sources));
    let plan = report.plan.expect("plan");
    let uri = nvmeplan::run::device_uri(&plan, None);
    let ctrl = open_device(&uri).expect("sim opens");
    let source = PlanSource { path: name.into(), text: text.into() };
    run_plan(&plan, &source, ctrl, &uri, options, &mut |_| {}).expect("run")
}

fn run(text: &str) -> RunResult {
    run_with("test.yaml", text, &RunOptions { seed: Some(7), ..RunOptions::default() })
}

fn step<'a>(r: &'a RunResult, id: &str) -> &'a StepResult {
    r.steps.iter().find(|s| s.id == id).unwrap_or_else(|| panic!("no step {id} in {:?}", ids(r)))
}

fn ids(r: &RunResult) -> Vec<&str> {
    r.steps.iter().map(|s| s.id.as_str()).collect()
}

fn outcomes(r: &RunResult) -> Vec<(String, Outcome, Option<String>)> {
    r.steps.iter().map(|s| (s.id.clone(), s.outcome, s.reason.clone())).collect()
}

fn plan(steps: &str) -> String {
    format!("plan_version: 1\nname: t\ndevice: sim\nvars: {{ blocks: 8 }}\nsteps:\n{steps}")
}

#[test]
fn every_action_kind_runs_on_the_sim() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/run_every_action.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let r = run_with(&path.display().to_string(), &text, &RunOptions::default());
    let bad: Vec<_> = outcomes(&r).into_iter().filter(|(_, o, _)| *o != Outcome::Pass).collect();
    assert!(bad.is_empty(), "{bad:#?}");
    assert!(r.complete);
    assert!(r.steps.len() >= 60);
    // Every action key of the language appears (groups and includes have their own tests).
    let actions: std::collections::BTreeSet<&str> = r.steps.iter().map(|s| s.action.as_str()).collect();
    for name in nvmeplan::plan::Action::NAMES {
        if !["group", "include"].contains(name) {
            assert!(actions.contains(name), "no `{name}` step");
        }
    }
    // Commands are recorded with decoded text and raw dwords.
    let id = step(&r, "id ctrl");
    assert_eq!(id.commands.len(), 1);
    assert_eq!(id.commands[0].opcode, "identify");
    assert_eq!(id.commands[0].sqe.len(), 16);
    assert_eq!(id.commands[0].status.as_deref(), Some("success"));
    let saved = id.saved.as_ref().unwrap();
    assert_eq!(saved.name, "c");
    assert!(saved.value["nn"].as_u64().unwrap() >= 1);
    assert!(step(&r, "worker").ioworker.is_some());
    assert!(step(&r, "log").message.as_deref().unwrap().starts_with("ios 200 nq "));
}

#[test]
fn expect_forms_pass_and_fail() {
    let r = run(&plan(
        r#"
  - { name: w, write: { slba: 0, nlb: 8 } }
  - { name: status ok, read: { slba: 0, nlb: 1 }, expect: { status: success } }
  - { name: status bad, read: { slba: 0, nlb: 1 }, expect: { status: lba_out_of_range } }
  - { name: status list, read: { slba: "${{ ns[1].nsze }}", nlb: 1 }, expect: { status: [success, 0x0/0x80] } }
  - { name: dnr ok, read: { slba: "${{ ns[1].nsze }}", nlb: 1 }, expect: { status: lba_out_of_range, dnr: true } }
  - { name: dnr bad, read: { slba: "${{ ns[1].nsze }}", nlb: 1 }, expect: { status: lba_out_of_range, dnr: false } }
  - { name: vwc on, set_features: { fid: volatile_write_cache, fields: { wce: 1 } } }
  - { name: cdw0 ok, get_features: { fid: volatile_write_cache }, expect: { cdw0: { value: 0x1, mask: 0x1 } } }
  - { name: cdw0 bad, get_features: { fid: volatile_write_cache }, expect: { cdw0: { value: 0x0, mask: 0x1 } } }
  - { name: fields ok, identify: { cns: controller }, expect: { fields: { nn: { ge: 1, le: 1024, ne: 0 }, oacs: { mask: 0x2, eq: 0x2 }, mdts: { in: [5, 6] }, sqes: 0x66 } } }
  - { name: fields lt, identify: { cns: controller }, expect: { fields: { nn: { lt: 1 } } } }
  - { name: fields gt, identify: { cns: namespace, nsid: 1 }, expect: { fields: { nsze: { gt: "${{ ns[1].nsze }}" } } } }
  - { name: fields in, identify: { cns: namespace, nsid: 1 }, expect: { fields: { lba_size: { in: [4096] } } } }
  - { name: fields text, identify: { cns: controller }, expect: { fields: { fr: "1.0" } } }
  - { name: data ok, read: { slba: 0, nlb: 8, verify: true }, expect: { data: { mismatches: 0 } } }
  - { name: data bad, read: { slba: 0, nlb: 8, verify: true }, expect: { data: { mismatches: { ge: 1 } } } }
  - { name: io ok, ioworker: { io_count: 100, qdepth: 4 }, expect: { errors: 0, iops: { gt: 0 }, latency: { p50: { le: 1s }, p99: { le: 1s }, max: { lt: 10s }, mean: { ge: 0us } } } }
  - { name: io iops bad, ioworker: { io_count: 50 }, expect: { iops: { lt: 1 } } }
  - { name: io latency bad, ioworker: { io_count: 50 }, expect: { latency: { p90: { lt: 1ns } } } }
  - { name: io errors bad, ioworker: { io_count: 50 }, expect: { errors: { ge: 1 } } }
  - { name: io data, ioworker: { io_count: 100, read_percentage: 50, verify: true, region_end: 4096 }, expect: { data: { mismatches: 0 } } }
"#,
    ));
    let expected = [
        ("w", Outcome::Pass),
        ("status ok", Outcome::Pass),
        ("status bad", Outcome::Fail),
        ("status list", Outcome::Pass),
        ("dnr ok", Outcome::Pass),
        ("dnr bad", Outcome::Fail),
        ("vwc on", Outcome::Pass),
        ("cdw0 ok", Outcome::Pass),
        ("cdw0 bad", Outcome::Fail),
        ("fields ok", Outcome::Pass),
        ("fields lt", Outcome::Fail),
        ("fields gt", Outcome::Fail),
        ("fields in", Outcome::Fail),
        ("fields text", Outcome::Pass),
        ("data ok", Outcome::Pass),
        ("data bad", Outcome::Fail),
        ("io ok", Outcome::Pass),
        ("io iops bad", Outcome::Fail),
        ("io latency bad", Outcome::Fail),
        ("io errors bad", Outcome::Fail),
        ("io data", Outcome::Pass),
    ];
    for (id, outcome) in expected {
        let s = step(&r, id);
        assert_eq!(s.outcome, outcome, "{id}: {:?} {:#?}", s.reason, s.expectations);
        if outcome == Outcome::Fail {
            assert!(s.forensic.is_some(), "{id}: no forensic record");
            assert!(s.expectations.iter().any(|e| e.verdict == Verdict::Fail));
        }
    }
    let bad = step(&r, "status bad");
    assert_eq!(bad.reason.as_deref(), Some("expected status lba_out_of_range, got success"));
    let f = bad.forensic.as_ref().unwrap();
    assert!(!f.cmdlog_tail.is_empty() && f.csts.contains("rdy 1") && !f.cap.is_empty());
    assert_eq!(r.summary.failed, 10);
}

#[test]
fn matrix_repeat_when_requires_save_and_tags() {
    let text = plan(
        r#"
  - name: m
    matrix: { n: [1, 2], exclude: [{ n: 2 }], include: [{ n: 4 }] }
    write: { slba: 0, nlb: "${{ matrix.n }}" }
  - { name: r, repeat: 2, log: "it ${{ iteration }}" }
  - { name: never, when: "blocks > 100", flush: {} }
  - { name: always, when: "${{ blocks == 8 }}", flush: {} }
  - { name: bad when, when: "ns[9].nsze > 1", flush: {} }
  - { name: needs sim, requires: [device.sim], flush: {} }
  - { name: needs cmb, requires: [cap.cmbs], flush: {} }
  - { name: save, identify: { cns: namespace, nsid: 1 }, save: ns1 }
  - { name: use, assert: "ns1.nsze == ns[1].nsze and ns1.status == 'success'" }
  - { name: false assert, assert: "ns1.nsze == 0" }
  - { name: tagged, tags: [slow], sleep: 1ms }
  - name: grp
    repeat: 2
    group:
      steps:
        - { name: a, log: "group ${{ iteration }}" }
        - { name: b, when: "iteration == 2", log: "second" }
"#,
    );
    let r = run(&text);
    assert_eq!(
        ids(&r),
        [
            "m[n=1]",
            "m[n=4]",
            "r[1]",
            "r[2]",
            "never",
            "always",
            "bad when",
            "needs sim",
            "needs cmb",
            "save",
            "use",
            "false assert",
            "tagged",
            "grp[1]/a",
            "grp[1]/b",
            "grp[2]/a",
            "grp[2]/b"
        ]
    );
    assert_eq!(step(&r, "r[2]").message.as_deref(), Some("it 2"));
    assert_eq!(step(&r, "never").outcome, Outcome::Skip);
    assert_eq!(step(&r, "never").reason.as_deref(), Some("when `blocks > 100` is false"));
    assert_eq!(step(&r, "always").outcome, Outcome::Pass);
    assert_eq!(step(&r, "bad when").outcome, Outcome::Error);
    assert_eq!(step(&r, "needs sim").outcome, Outcome::Pass);
    let cmb = step(&r, "needs cmb");
    assert_eq!(cmb.outcome, Outcome::Skip);
    assert!(cmb.reason.as_deref().unwrap().starts_with("requires cap.cmbs"), "{:?}", cmb.reason);
    assert_eq!(step(&r, "use").outcome, Outcome::Pass);
    assert_eq!(step(&r, "false assert").outcome, Outcome::Fail);
    assert_eq!(step(&r, "grp[1]/b").outcome, Outcome::Skip);
    assert_eq!(step(&r, "grp[2]/b").outcome, Outcome::Pass);
    assert!(step(&r, "m[n=4]").commands.iter().any(|c| c.text.contains("nlb 4")));

    let only = RunOptions { tags: vec!["slow".into()], ..RunOptions::default() };
    let r = run_with("t.yaml", &text, &only);
    assert_eq!(step(&r, "tagged").outcome, Outcome::Pass);
    assert_eq!(step(&r, "m[n=1]").outcome, Outcome::Skip);
    let skip = RunOptions { skip_tags: vec!["slow".into()], ..RunOptions::default() };
    let r = run_with("t.yaml", &text, &skip);
    assert_eq!(step(&r, "tagged").outcome, Outcome::Skip);
    assert_eq!(step(&r, "tagged").reason.as_deref(), Some("tags filtered: tagged slow"));
}

#[test]
fn includes_run_as_groups() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("inc.yaml"),
        "plan_version: 1\nname: inc\nvars: { n: 2 }\nsteps:\n  - { name: w, write: { slba: 0, nlb: \"${{ n }}\" } }\n  - { name: r, read: { slba: 0, nlb: \"${{ n }}\", verify: true } }\n",
    )
    .unwrap();
    let main = dir.path().join("main.yaml");
    std::fs::write(
        &main,
        "plan_version: 1\nname: main\nsteps:\n  - { name: prep, include: { path: inc.yaml, vars: { n: 4 } } }\n",
    )
    .unwrap();
    let report = validate_path(&main, &Options::default());
    let plan = report.plan.expect("valid");
    let ctrl = open_device("sim").unwrap();
    let source = PlanSource::read(&main).unwrap();
    let r = run_plan(&plan, &source, ctrl, "sim", &RunOptions::default(), &mut |_| {}).unwrap();
    assert_eq!(ids(&r), ["prep/w", "prep/r"]);
    assert!(r.summary.all_passed(), "{:?}", outcomes(&r));
    assert!(step(&r, "prep/w").commands.iter().any(|c| c.text.contains("write nsid 1 slba 0 nlb 4")));
}

#[test]
fn injected_faults_show_up_as_outcomes() {
    let r = run(&plan(
        r#"
  - { name: w, write: { slba: 0, nlb: 16 } }
  - { name: inject status, inject: { match: { opcode: read, nth: 1 }, action: { status: unrecovered_read_error }, count: 1 } }
  - { name: read fails, read: { slba: 0, nlb: 8 } }
  - { name: read ok, read: { slba: 0, nlb: 8, verify: true } }
  - name: scoped
    group:
      steps:
        - { name: corrupt, inject: { match: { opcode: read, lba_start: 0, lba_end: 16 }, action: corrupt } }
        - { name: detected, read: { slba: 0, nlb: 16, verify: true } }
  - { name: clean after group, read: { slba: 0, nlb: 16, verify: true } }
  - { name: drop, inject: { match: { opcode: write }, action: drop, count: 1 } }
  - { name: dropped, write: { slba: 100, nlb: 1 }, timeout: 300ms }
  - { name: next passes, read: { slba: 0, nlb: 16, verify: true } }
  - { name: fatal, inject: { match: { opcode: flush }, action: fatal, count: 1 } }
  - { name: fatal flush, flush: {}, timeout: 300ms }
  - { name: after fatal, read: { slba: 0, nlb: 16, verify: true } }
  - { name: more, inject: { match: { admin: true }, action: { status: internal_error } } }
  - { name: clear, inject: { clear: true } }
  - { name: admin ok, identify: { cns: controller } }
"#,
    ));
    let s = step(&r, "read fails");
    assert_eq!(s.outcome, Outcome::Fail);
    assert_eq!(s.reason.as_deref(), Some("expected status success, got unrecovered_read_error"));
    let e = &s.expectations[0];
    assert_eq!((e.expected.as_str(), e.actual.as_str()), ("success", "unrecovered_read_error"));
    assert_eq!(step(&r, "read ok").outcome, Outcome::Pass);
    let d = step(&r, "scoped/detected");
    assert_eq!(d.outcome, Outcome::Fail, "{:?}", d.reason);
    assert!(!d.mismatches.is_empty());
    assert_eq!(step(&r, "clean after group").outcome, Outcome::Pass, "faults end with their group");
    let t = step(&r, "dropped");
    assert_eq!(t.outcome, Outcome::Error);
    let reason = t.reason.as_deref().unwrap();
    assert!(reason.contains("timed out") && reason.contains("controller reset"), "{reason}");
    assert!(t.commands.iter().any(|c| c.opcode == "write" && c.cqe.is_none()), "{:?}", t.commands);
    assert_eq!(step(&r, "next passes").outcome, Outcome::Pass);
    let f = step(&r, "fatal flush");
    assert_eq!(f.outcome, Outcome::Error, "{:?}", f.reason);
    assert!(f.reason.as_deref().unwrap().contains("controller reset"), "{:?}", f.reason);
    assert_eq!(step(&r, "after fatal").outcome, Outcome::Pass, "{:?}", step(&r, "after fatal").reason);
    assert_eq!(step(&r, "admin ok").outcome, Outcome::Pass);
}

#[test]
fn fail_fast_and_continue_on_error() {
    let text = plan(
        r#"
  - { name: a, read: { slba: 0, nlb: 1 }, expect: { status: lba_out_of_range }, continue_on_error: true }
  - { name: b, read: { slba: 0, nlb: 1 }, expect: { status: lba_out_of_range } }
  - { name: c, flush: {} }
"#,
    );
    let r = run_with("t.yaml", &text, &RunOptions { fail_fast: true, ..RunOptions::default() });
    assert_eq!(ids(&r), ["a", "b"]);
    assert!(!r.complete);
    let r = run(&text);
    assert_eq!(ids(&r), ["a", "b", "c"]);
    assert!(r.complete);
    assert_eq!(r.summary.line(), "1 passed, 2 failed, 0 skipped");
}

#[test]
fn interrupted_runs_leave_a_partial_result() {
    let out = tempfile::tempdir().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let options =
        RunOptions { out: Some(out.path().to_path_buf()), stop: stop.clone(), ..RunOptions::default() };
    let text = plan(
        r#"
  - { name: first, flush: {} }
  - { name: long, sleep: 30s, timeout: 60s }
  - { name: never, flush: {} }
"#,
    );
    let setter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        stop.store(true, Ordering::SeqCst);
    });
    let start = std::time::Instant::now();
    let r = run_with("t.yaml", &text, &options);
    setter.join().unwrap();
    assert!(start.elapsed() < Duration::from_secs(10));
    assert!(!r.complete);
    assert_eq!(ids(&r), ["first", "long"]);
    assert_eq!(step(&r, "long").outcome, Outcome::Error);
    assert_eq!(step(&r, "long").reason.as_deref(), Some("interrupted"));
    let written: RunResult =
        serde_json::from_value(common::valid_report(&out.path().join("report.json"))).unwrap();
    assert!(!written.complete);
    assert_eq!(written.steps.len(), 2);
    assert_eq!(nvmeplan::run::exit_code(&written, true), 130);

    // An ioworker stops through the stop flag too.
    let stop = Arc::new(AtomicBool::new(false));
    let options = RunOptions { stop: stop.clone(), ..RunOptions::default() };
    let setter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        stop.store(true, Ordering::SeqCst);
    });
    let start = std::time::Instant::now();
    let r =
        run_with("t.yaml", &plan("  - { name: soak, ioworker: { time: 30s }, timeout: 60s }\n"), &options);
    setter.join().unwrap();
    assert!(start.elapsed() < Duration::from_secs(10));
    assert_eq!(step(&r, "soak").reason.as_deref(), Some("interrupted"));
    assert!(!r.complete);
}

#[test]
fn cap_register_fields_are_expression_values() {
    let text = r#"plan_version: 1
name: t
device: "sim:mqes=15"
steps:
  - name: mqes
    assert: "${{ cap.mqes == 15 and cap.dstrd == 0 and cap.to > 0 }}"
  - name: capped depth
    ioworker: { io_size: 8, read_percentage: 100, io_count: 200, qdepth: "${{ [32, cap.mqes] | min }}" }
  - name: too deep
    ioworker: { io_size: 8, read_percentage: 100, io_count: 200, qdepth: "${{ cap.mqes + 1 }}" }
"#;
    let r = run(text);
    assert_eq!(step(&r, "mqes").outcome, Outcome::Pass, "{:?}", outcomes(&r));
    assert_eq!(step(&r, "capped depth").outcome, Outcome::Pass, "{:?}", outcomes(&r));
    let deep = step(&r, "too deep");
    assert_ne!(deep.outcome, Outcome::Pass);
    assert!(deep.reason.as_deref().unwrap_or("").contains("1..=15 (CAP.MQES)"), "{:?}", deep.reason);
}

#[test]
fn the_copy_plan_copies_two_ranges_and_is_refused_beyond_msrc() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plans/copy.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let r = run_with(&path.display().to_string(), &text, &RunOptions::default());
    let bad: Vec<_> = outcomes(&r).into_iter().filter(|(_, o, _)| *o != Outcome::Pass).collect();
    assert!(bad.is_empty(), "{bad:#?}");
    let read = step(&r, "read the destination");
    let data = read.verification.expect("verified read");
    assert_eq!((data.checked, data.unchecked, data.mismatches), (16, 0, 0));
    let refused = step(&r, "more ranges than msrc");
    assert_eq!(refused.commands[0].opcode, "copy");
    assert_eq!(refused.commands[0].status.as_deref(), Some("command_size_limit_exceeded"));
}

#[test]
fn a_copy_to_where_other_data_was_expects_the_sources_data() {
    // Stamps carry their LBA: the copied blocks hold stamps of the source
    // LBAs, and a verified read of the destination must accept them, while
    // a later write over the destination is checked as usual.
    let r = run(&plan(
        "  - { name: src, write: { slba: 0, nlb: 4 } }\n\
         \x20 - { name: dst, write: { slba: 500, nlb: 4, pattern: { byte: 0x11 } } }\n\
         \x20 - { name: copy, copy: { sdlba: 500, ranges: [{ slba: 2, nlb: 2 }, { slba: 0, nlb: 2 }] } }\n\
         \x20 - { name: check, read: { slba: 500, nlb: 4, verify: true }, expect: { data: { mismatches: 0, unchecked: 0 } } }\n\
         \x20 - { name: over, write: { slba: 501, nlb: 1 } }\n\
         \x20 - { name: again, read: { slba: 500, nlb: 4, verify: true }, expect: { data: { mismatches: 0, unchecked: 0 } } }\n",
    ));
    let bad: Vec<_> = outcomes(&r).into_iter().filter(|(_, o, _)| *o != Outcome::Pass).collect();
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn copy_ranges_are_checked_at_validation() {
    for (ranges, message) in [
        ("[]", "a copy has 1 to 256 source ranges, found 0"),
        ("[{ slba: 0, nlb: 0 }]", "nlb 0 is out of range"),
        ("[{ slba: 0, nlb: 65537 }]", "nlb 65537 is out of range"),
    ] {
        let text = plan(&format!("  - {{ name: c, copy: {{ sdlba: 9, ranges: {ranges} }} }}\n"));
        let report = validate_str("t.yaml", &text, &Options::default());
        let text = nvmeplan::render_text(&report.diagnostics, &report.sources);
        assert!(report.has_errors() && text.contains(message), "{ranges}: {text}");
    }
}

#[test]
fn names_accept_aliases_and_slashes_and_identify_takes_a_raw_cns() {
    let r = run(r#"
plan_version: 1
name: names
steps:
  - name: create the I/O queues
    write: { slba: 0, nlb: 1 }
  - name: read past the end, kebab-case status
    read: { slba: 100000000, nlb: 1 }
    expect: { status: LBA-Out-Of-Range }
  - name: feature alias
    get_features: { fid: volatile-write-cache }
  - name: reserved CNS
    identify: { cns: 0xff }
    expect: { status: invalid_field_in_command }
  - name: CNS 1 by number decodes as the controller
    identify: { cns: 0x01 }
    expect: { fields: { nn: { ge: 1 } } }
"#);
    let all: Vec<_> = outcomes(&r);
    assert!(r.steps.iter().all(|s| s.outcome == Outcome::Pass), "{all:?}");
    assert_eq!(step(&r, "create the I/O queues").action, "write");
}

/// Set Features Number of Queues is allowed only before I/O queues exist
/// (base spec 5.27.1.5, Command Sequence Error after): `queues` decides
/// whether the runner's queue pair exists before the first step.
#[test]
fn queues_create_early_or_lazily() {
    let plan = |create: &str| {
        format!(
            r#"
plan_version: 1
name: queues
queues: {{ create: {create} }}
steps:
  - name: number of queues
    set_features: {{ fid: number_of_queues, value: 0x00030003 }}
    expect: {{ status: [success, command_sequence_error] }}
    save: noq
  - name: then IO
    read: {{ slba: 0, nlb: 1 }}
"#
        )
    };
    let status = |r: &RunResult| {
        let s = step(r, "number of queues");
        assert_eq!(s.outcome, Outcome::Pass, "{:?}", outcomes(r));
        s.commands
            .iter()
            .rev()
            .find(|c| c.opcode == "set_features")
            .and_then(|c| c.status.clone())
            .unwrap_or_default()
    };
    assert_eq!(status(&run(&plan("lazy"))), "success");
    assert_eq!(status(&run(&plan("early"))), "command_sequence_error");
}
