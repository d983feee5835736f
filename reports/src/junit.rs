//! JUnit XML for CI servers: one `<testsuite>` per plan, one `<testcase>`
//! per step id (each matrix case is its own test case, `qd sweep[qd=4]`).
//!
//! Outcomes map as CI servers expect: `fail` (the device answered
//! differently than expected) is a `<failure>` whose message holds the
//! expectations that did not hold, expected vs actual; `error` (the tool or
//! transport failed, a timeout, an interrupt) is an `<error>`; `skip` is
//! `<skipped>` with the reason. Durations are the steps' and the run's.
//! An incomplete run is marked by a `complete` property on its suite.

use std::fmt::Write as _;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};

use crate::{Outcome, Report, ReportError, StepResult};

/// The JUnit file's name in a run's output directory.
pub const JUNIT_FILE: &str = "junit.xml";

/// The failure text of a step: its reason, then each expectation that did
/// not hold as `what: expected X, got Y`, then the verify mismatches.
pub fn failure_text(step: &StepResult) -> String {
    let mut text = String::new();
    if let Some(reason) = &step.reason {
        let _ = writeln!(text, "{reason}");
    }
    for e in step.failed_expectations() {
        let _ = writeln!(text, "{}: expected {}, got {}", e.what, e.expected, e.actual);
    }
    for m in &step.mismatches {
        let _ = writeln!(text, "mismatch: {m}");
    }
    if let Some(f) = &step.forensic {
        let _ = writeln!(text, "CSTS {}\nCAP {}", f.csts, f.cap);
        if !f.cmdlog_tail.is_empty() {
            let _ = writeln!(text, "command log (most recent last):");
            for line in &f.cmdlog_tail {
                let _ = writeln!(text, "  {line}");
            }
        }
    }
    text
}

/// The `message` attribute of a failed step: the failed expectations,
/// expected vs actual, on one line (the reason when none failed).
fn failure_message(step: &StepResult) -> String {
    let failed: Vec<String> = step
        .failed_expectations()
        .map(|e| format!("{}: expected {}, got {}", e.what, e.expected, e.actual))
        .collect();
    if failed.is_empty() { step.reason.clone().unwrap_or_else(|| "failed".into()) } else { failed.join("; ") }
}

fn test_case(plan: &str, step: &StepResult) -> TestCase {
    let status = match step.outcome {
        Outcome::Pass => TestCaseStatus::success(),
        Outcome::Skip => {
            let mut s = TestCaseStatus::skipped();
            if let Some(reason) = &step.reason {
                s.set_message(reason.as_str());
            }
            s
        }
        Outcome::Fail => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(failure_message(step)).set_type("fail").set_description(failure_text(step));
            s
        }
        Outcome::Error => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
            s.set_message(step.reason.clone().unwrap_or_else(|| "error".into()))
                .set_type("error")
                .set_description(failure_text(step));
            s
        }
    };
    let mut case = TestCase::new(step.id.as_str(), status);
    case.set_classname(plan).set_time(Duration::from_millis(step.duration_ms));
    if let Some(spec) = &step.spec {
        case.add_property(Property::new("spec", spec.as_str()));
    }
    if !step.tags.is_empty() {
        case.add_property(Property::new("tags", step.tags.join(",")));
    }
    if let Some(message) = &step.message {
        case.set_system_out(message.as_str());
    }
    case
}

/// The test suite of one report.
pub fn test_suite(report: &Report) -> TestSuite {
    let mut suite = TestSuite::new(report.plan.name.as_str());
    suite.set_time(Duration::from_millis(report.duration_ms));
    suite.add_property(Property::new("device", report.device.uri.as_str()));
    suite.add_property(Property::new("firmware", report.device.fr.as_str()));
    suite.add_property(Property::new("plan_sha256", report.plan.sha256.as_str()));
    if let Some(revision) = &report.plan.spec_revision {
        suite.add_property(Property::new("spec_revision", revision.as_str()));
    }
    suite.add_property(Property::new("seed", report.seed.to_string()));
    suite.add_property(Property::new("complete", report.complete.to_string()));
    if let Some(stopped) = &report.stopped {
        suite.add_property(Property::new("stopped", stopped.as_str()));
    }
    suite.add_test_cases(report.steps.iter().map(|s| test_case(&report.plan.name, s)));
    suite
}

/// JUnit XML of one or more reports, one test suite each.
pub fn render(reports: &[&Report]) -> Result<String, ReportError> {
    let mut junit = quick_junit::Report::new("nvmeplan");
    let total: u64 = reports.iter().map(|r| r.duration_ms).sum();
    junit.set_time(Duration::from_millis(total));
    junit.add_test_suites(reports.iter().map(|r| test_suite(r)));
    junit.to_string().map_err(|e| ReportError::Render { what: "JUnit", message: e.to_string() })
}

/// Writes JUnit XML of the reports to `path` atomically.
pub fn write(path: &std::path::Path, reports: &[&Report]) -> Result<(), ReportError> {
    crate::json::write_atomic(path, render(reports)?.as_bytes())
}
