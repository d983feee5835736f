//! A step's `spec` reference and the plan's `spec_revision` in every report
//! format and in the diff.

use nvmeplan_reports::diff::{self, DiffOptions};
use nvmeplan_reports::{Outcome, Report, StepResult};

fn report(read: Outcome) -> Report {
    let mut r = Report::new_empty("spec");
    r.complete = true;
    r.plan.spec_revision = Some("2.1".into());
    let mut identify = StepResult::new("identify", "identify", "identify", Outcome::Pass);
    identify.spec = Some("base:5.1.13".into());
    let mut step = StepResult::new("read", "read", "read", read);
    step.spec = Some("nvm:3.2.4".into());
    if read == Outcome::Fail {
        step.reason = Some("expected success".into());
    }
    r.steps = vec![identify, step];
    r
}

#[test]
fn every_format_shows_spec_and_revision() {
    let r = report(Outcome::Pass);
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["plan"]["spec_revision"], "2.1");
    assert_eq!(json["steps"][1]["spec"], "nvm:3.2.4");

    let html = nvmeplan_reports::html::render_report(&r).unwrap();
    assert!(html.contains("<tr><th>spec revision</th><td>2.1</td></tr>"), "html revision");
    assert!(html.contains("spec <code>nvm:3.2.4</code>"), "html step spec");

    let md = nvmeplan_reports::markdown::render_report(&r);
    assert!(md.contains("| spec revision | 2.1 |"), "{md}");
    assert!(md.contains("| read | nvm:3.2.4 | pass |"), "{md}");

    let junit = nvmeplan_reports::junit::render(&[&r]).unwrap();
    assert!(junit.contains(r#"<property name="spec_revision" value="2.1"/>"#), "{junit}");
    assert!(junit.contains(r#"<property name="spec" value="nvm:3.2.4"/>"#), "{junit}");
}

#[test]
fn the_diff_names_the_spec_of_a_changed_step() {
    let (base, new) = (report(Outcome::Pass), report(Outcome::Fail));
    let d = diff::diff("base.json", &base, "new.json", &new, &DiffOptions::default()).unwrap();
    assert_eq!(d.status_changes.len(), 1);
    assert_eq!(d.status_changes[0].spec.as_deref(), Some("nvm:3.2.4"));
    let md = nvmeplan_reports::markdown::render_diff(&d);
    assert!(md.contains("| read | nvm:3.2.4 | pass | fail |"), "{md}");
    let html = nvmeplan_reports::html::render_diff(&d).unwrap();
    assert!(html.contains("<td>read</td><td><code>nvm:3.2.4</code></td>"), "html diff");
}

#[test]
fn a_report_without_spec_revision_still_reads() {
    let mut json = serde_json::to_value(report(Outcome::Pass)).unwrap();
    json["plan"].as_object_mut().unwrap().remove("spec_revision");
    let r: Report = serde_json::from_value(json).unwrap();
    assert_eq!(r.plan.spec_revision, None);
}
