//! Plans built to exhaust the machine, as a process: the step-expansion cap
//! (matrix products, nested repeats, diamonds of includes) and expression
//! memory bombs end in a clear error at once, and plans under the cap with
//! many shared includes validate quickly.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

/// A bound far above the well under a second these take, and far below
/// the minutes an expansion that is not cut short would take: the tests
/// stay meaningful on a loaded machine.
const BOUND: Duration = Duration::from_secs(5);

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

/// `nvmeplan validate FILE`: exit code, stdout+stderr, wall time.
fn validate(plan: &Path) -> (i32, String, Duration) {
    let start = Instant::now();
    let o = common::nvmeplan(&["validate", plan.to_str().unwrap()]);
    let took = start.elapsed();
    let (out, err) = common::text(&o);
    (o.status.code().unwrap_or(-1), format!("{out}{err}"), took)
}

/// A diamond of `levels` include files below `top.yaml`: each includes
/// the next level twice, so the last level is reached 2^levels times.
fn diamond(dir: &Path, levels: usize) -> std::path::PathBuf {
    for level in 0..levels {
        let next = format!("l{}.yaml", level + 1);
        write(
            &dir.join(format!("l{level}.yaml")),
            &format!(
                "plan_version: 1\nname: l{level}\nsteps:\n  - {{ name: left, include: {next} }}\n  - {{ name: right, include: {next} }}\n"
            ),
        );
    }
    write(
        &dir.join(format!("l{levels}.yaml")),
        "plan_version: 1\nname: leaf\nsteps:\n  - { name: nap, sleep: 1ms }\n",
    );
    let top = dir.join("top.yaml");
    write(
        &top,
        "plan_version: 1\nname: top\nsteps:\n  - { name: first, flush: {} }\n  - { name: tree, include: l0.yaml }\n",
    );
    top
}

#[test]
fn a_thousand_by_thousand_matrix_is_refused_naming_the_count_and_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let axis = (0..1000).map(|i| i.to_string()).collect::<Vec<_>>().join(", ");
    let plan = dir.path().join("m.yaml");
    write(
        &plan,
        &format!(
            "plan_version: 1\nname: m\nsteps:\n  - name: grid\n    matrix: {{ a: [{axis}], b: [{axis}] }}\n    sleep: \"${{{{ matrix.a + matrix.b }}}}ms\"\n"
        ),
    );
    let (code, text, took) = validate(&plan);
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("the plan expands to 1000000 steps, more than the limit of 100000; step `grid` alone expands to 1000000"),
        "{text}"
    );
    assert!(text.contains("m.yaml:4:"), "the error points at the step: {text}");
    assert!(took < BOUND, "took {took:?}");
}

#[test]
fn nested_repeats_multiply() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("r.yaml");
    write(
        &plan,
        "plan_version: 1\nname: r\nsteps:\n  - { name: ok, flush: {} }\n  - name: soak\n    repeat: 1000\n    group:\n      steps:\n        - { name: w, repeat: 1000, flush: {} }\n",
    );
    let (code, text, took) = validate(&plan);
    assert_eq!(code, 2, "{text}");
    // 1000 groups, each itself plus 1000 flushes; and the first step.
    assert!(
        text.contains("expands to 1001001 steps") && text.contains("step `soak` alone expands to 1001000"),
        "{text}"
    );
    assert!(took < BOUND, "took {took:?}");
}

#[test]
fn a_diamond_of_includes_26_levels_deep_is_refused_in_under_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let top = diamond(dir.path(), 26);
    let (code, text, took) = validate(&top);
    assert_eq!(code, 2, "{text}");
    // Level k has 2^(26-k+1) - 1 include steps below it, and 2^26 leaves.
    let total = 1 + 1 + (2u64.pow(27) - 2) + 2u64.pow(26);
    assert!(
        text.contains(&format!("the plan expands to {total} steps")) && text.contains("step `tree` alone"),
        "{text}"
    );
    assert!(took < BOUND, "took {took:?}");
}

#[test]
fn a_plan_sharing_includes_under_the_cap_validates_quickly() {
    let dir = tempfile::tempdir().unwrap();
    // 2^12 leaves and 2^13 - 2 include steps below `tree`: 12,286 steps.
    let top = diamond(dir.path(), 12);
    let (code, text, took) = validate(&top);
    assert_eq!(code, 0, "{text}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[test]
fn expression_memory_bombs_end_in_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("bomb.yaml");
    let chain = "|replace('a', 'aaaaaaaaaa')".repeat(12);
    write(
        &plan,
        &format!(
            "plan_version: 1\nname: bomb\nsteps:\n  - name: grow\n    log: \"${{{{ 'aa'{chain} }}}}\"\n  - {{ name: after, flush: {{}} }}\n"
        ),
    );
    let start = Instant::now();
    let o = common::nvmeplan(&["run", plan.to_str().unwrap(), "--device", "sim"]);
    let (out, err) = common::text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(out.contains("`replace` would make a string of") && out.contains("at most 1048576"), "{out}");
    assert!(start.elapsed() < Duration::from_secs(10), "took {:?}", start.elapsed());
}

#[test]
fn a_log_message_is_cut_to_its_limit() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("log.yaml");
    write(
        &plan,
        "plan_version: 1\nname: log\nsteps:\n  - name: long\n    log: \"${{ range(30000)|join(',') }}\"\n",
    );
    let out_dir = dir.path().join("out");
    let o = common::nvmeplan(&[
        "run",
        plan.to_str().unwrap(),
        "--device",
        "sim",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let (out, err) = common::text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    let report = common::valid_report(&out_dir.join("report.json"));
    let message = report["steps"][0]["message"].as_str().expect("message");
    assert!(message.len() < 16 * 1024 + 100, "{}", message.len());
    assert!(
        message.ends_with("more bytes not shown; a log message keeps 16384)"),
        "{}",
        &message[message.len() - 80..]
    );
}
