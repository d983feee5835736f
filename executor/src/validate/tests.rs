//! Unit tests of validation: pointers, schema branches and whole plans.

use super::schema::{branch_definition, is_step_pointer, schemas};
use super::*;
use crate::diagnostic::code;
use crate::plan::{Action, StepCommon};

#[test]
fn step_pointers() {
    assert!(is_step_pointer("/steps/3"));
    assert!(is_step_pointer("/steps/3/group/steps/0"));
    assert!(!is_step_pointer("/steps/3/read"));
    assert!(!is_step_pointer("/steps"));
}

#[test]
fn branch_names() {
    assert_eq!(branch_definition("get_log_page"), "GetLogPageStep");
    let defs = &schemas().document["definitions"];
    for name in Action::NAMES {
        assert!(defs.get(branch_definition(name)).is_some(), "{name}");
    }
}

#[test]
fn common_keys_match_schema() {
    let defs = &schemas().document["definitions"];
    let props = defs["SleepStep"]["properties"].as_object().unwrap();
    let mut keys: Vec<&str> = props.keys().map(String::as_str).filter(|k| *k != "sleep").collect();
    keys.sort_unstable();
    assert_eq!(keys, StepCommon::KEYS);
}

#[test]
fn valid_plan_resolves() {
    let text = "plan_version: 1\nname: t\nvars: { n: 2 }\nsteps:\n  - name: w\n    matrix: { qd: [1, 2] }\n    write: { slba: 0, nlb: \"${{ matrix.qd * n }}\" }\n";
    let report = validate_str("t.yaml", text, &Options::default());
    assert!(report.diagnostics.is_empty(), "{:#?}", report.diagnostics);
    let plan = report.plan.unwrap();
    assert_eq!(plan.steps.len(), 2);
    assert_eq!(plan.steps[1].id, "w[qd=2]");
}

#[test]
fn many_problems_at_once() {
    let text = "plan_version: 1\nname: t\nsteps:\n  - name: a\n    read: { slba: 0, nlb: 0 }\n  - name: a\n    sleep: 1s\n  - name: b\n    log: \"${{ nope }}\"\n";
    let report = validate_str("t.yaml", text, &Options::default());
    let codes: Vec<&str> = report.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(
        codes,
        [code::RANGE, code::DUPLICATE_NAME, code::UNKNOWN_VARIABLE],
        "{:#?}",
        report.diagnostics
    );
    assert!(report.plan.is_none());
}

#[test]
fn var_overrides_are_known() {
    let text = "plan_version: 1\nname: t\nsteps:\n  - name: b\n    log: \"${{ extra }}\"\n";
    let mut options = Options::default();
    options.vars.insert("extra".into(), 1.into());
    assert!(!validate_str("t.yaml", text, &options).has_errors());
}
