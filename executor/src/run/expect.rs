//! Evaluating a step's `expect` against what its action produced. Every
//! expectation yields `{what, expected, actual, verdict}`; a step without
//! `expect` expects `success` (and no data mismatches, and no IO worker
//! errors).

use serde_json::Value;

use super::context::{Eval, StepResult, parse_int};
use super::output::ActionOutput;
use super::result::{ExpectationResult, LatencyStats, StopReason, Verdict};
use crate::plan::expect::{DurationCompare, Expect};
use crate::plan::values::{Compare, CompareOps};

/// An expectation result.
pub fn check(what: &str, expected: String, actual: String, pass: bool) -> ExpectationResult {
    ExpectationResult {
        what: what.to_string(),
        expected,
        actual,
        verdict: if pass { Verdict::Pass } else { Verdict::Fail },
    }
}

/// A JSON value as a number, when it is one (or a numeric string).
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::String(s) => parse_int(s).map(|n| n as f64).or_else(|| s.trim().parse().ok()),
        _ => None,
    }
}

fn integer(v: &Value) -> Option<u128> {
    match v {
        Value::Number(n) => n.as_u64().map(u128::from),
        Value::Bool(b) => Some(u128::from(*b)),
        Value::String(s) => {
            let t = s.trim();
            match t.strip_prefix("0x") {
                Some(h) => u128::from_str_radix(h, 16).ok(),
                None => t.parse().ok(),
            }
        }
        _ => None,
    }
}

fn equal(actual: &Value, expected: &Value) -> bool {
    if let (Some(a), Some(b)) = (integer(actual), integer(expected)) {
        return a == b;
    }
    match (number(actual), number(expected)) {
        (Some(a), Some(b)) if !matches!((actual, expected), (Value::String(_), Value::String(_))) => a == b,
        _ => match (actual, expected) {
            (Value::String(a), Value::String(b)) => a.trim() == b.trim(),
            (a, b) => a == b,
        },
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The checks of latency bounds against a summary (`None`: nothing of
/// that kind was recorded), named `WHAT.p99` and so on.
fn latency_checks(
    results: &mut Vec<ExpectationResult>,
    what: &str,
    bounds: &crate::plan::expect::OpLatencyExpect,
    summary: Option<&LatencyStats>,
) {
    type Percentile = fn(&LatencyStats) -> u64;
    let items: [(_, _, Percentile); 6] = [
        (&bounds.p50, "p50", |l| l.p50_ns),
        (&bounds.p90, "p90", |l| l.p90_ns),
        (&bounds.p99, "p99", |l| l.p99_ns),
        (&bounds.p999, "p999", |l| l.p999_ns),
        (&bounds.max, "max", |l| l.max_ns),
        (&bounds.mean, "mean", |l| l.avg_ns),
    ];
    for (cmp, name, ns) in items {
        if let Some(cmp) = cmp {
            let what = format!("{what}.{name}");
            match summary {
                Some(l) => results.push(duration_check(&what, ns(l), cmp)),
                None => results.push(check(&what, String::new(), "no latency recorded".into(), false)),
            }
        }
    }
}

/// Compares `actual` with a comparison; the expectation as text and whether it holds.
pub fn compare(actual: &Value, cmp: &Compare, eval: Eval<'_>) -> StepResult<(String, bool)> {
    let ops = match cmp {
        Compare::Eq(v) => CompareOps { eq: Some(v.clone()), ..CompareOps::default() },
        Compare::Ops(ops) => ops.clone(),
    };
    let actual = match ops.mask {
        Some(mask) => match integer(actual) {
            Some(a) => Value::from((a as u64) & mask),
            None => actual.clone(),
        },
        None => actual.clone(),
    };
    let mut parts = Vec::new();
    let mut pass = true;
    if let Some(mask) = ops.mask {
        parts.push(format!("& {mask:#x}"));
    }
    if let Some(v) = &ops.eq {
        let v = eval.scalar(v)?;
        pass &= equal(&actual, &v);
        parts.push(format!("== {}", show(&v)));
    }
    if let Some(v) = &ops.ne {
        let v = eval.scalar(v)?;
        pass &= !equal(&actual, &v);
        parts.push(format!("!= {}", show(&v)));
    }
    type Bound<'a> = (&'a Option<crate::plan::Scalar>, &'static str, fn(f64, f64) -> bool);
    let ordered: [Bound<'_>; 4] = [
        (&ops.lt, "<", |a, b| a < b),
        (&ops.le, "<=", |a, b| a <= b),
        (&ops.gt, ">", |a, b| a > b),
        (&ops.ge, ">=", |a, b| a >= b),
    ];
    for (bound, sym, holds) in ordered {
        if let Some(v) = bound {
            let v = eval.scalar(v)?;
            pass &= match (number(&actual), number(&v)) {
                (Some(a), Some(b)) => holds(a, b),
                _ => false,
            };
            parts.push(format!("{sym} {}", show(&v)));
        }
    }
    if let Some(list) = &ops.one_of {
        let values: Vec<Value> = list.iter().map(|v| eval.scalar(v)).collect::<StepResult<_>>()?;
        pass &= values.iter().any(|v| equal(&actual, v));
        parts.push(format!("in [{}]", values.iter().map(show).collect::<Vec<_>>().join(", ")));
    }
    Ok((parts.join(" "), pass))
}

fn duration_check(what: &str, actual_ns: u64, cmp: &DurationCompare) -> ExpectationResult {
    let mut parts = Vec::new();
    let mut pass = true;
    let bounds = [(&cmp.lt, "<"), (&cmp.le, "<="), (&cmp.gt, ">"), (&cmp.ge, ">=")];
    for (bound, sym) in bounds {
        if let Some(d) = bound {
            let b = d.0.as_nanos() as u64;
            pass &= match sym {
                "<" => actual_ns < b,
                "<=" => actual_ns <= b,
                ">" => actual_ns > b,
                _ => actual_ns >= b,
            };
            parts.push(format!("{sym} {:?}", d.0));
        }
    }
    check(what, parts.join(" "), format!("{:?}", std::time::Duration::from_nanos(actual_ns)), pass)
}

/// Evaluates every expectation of a step against its output: the action's
/// own checks first, then `expect` (or the default: success).
pub fn evaluate(
    expect: Option<&Expect>,
    out: &ActionOutput,
    eval: Eval<'_>,
) -> StepResult<Vec<ExpectationResult>> {
    let mut results = out.checks.clone();
    let default = Expect::default();
    let e = expect.unwrap_or(&default);
    let status_text = |c: &nvmeplan_spec::Completion| c.status().to_string();
    match (&e.status, &out.completion) {
        (Some(want), Some(c)) => {
            let statuses = want.statuses();
            let expected = statuses.iter().map(ToString::to_string).collect::<Vec<_>>().join(" or ");
            results.push(check("status", expected, status_text(c), statuses.contains(&c.status())));
        }
        (Some(want), None) => {
            let expected = want.statuses().iter().map(ToString::to_string).collect::<Vec<_>>().join(" or ");
            results.push(check("status", expected, "no completion".into(), false));
        }
        (None, Some(c)) => {
            results.push(check("status", "success".into(), status_text(c), c.status().is_success()))
        }
        (None, None) => {}
    }
    if let Some(dnr) = e.dnr {
        let actual = out.completion.map(|c| c.dnr());
        results.push(check(
            "dnr",
            dnr.to_string(),
            actual.map_or_else(|| "no completion".into(), |a| a.to_string()),
            actual == Some(dnr),
        ));
    }
    if let Some(cdw0) = &e.cdw0 {
        let mask = cdw0.mask.unwrap_or(u32::MAX);
        let actual = out.completion.map(|c| c.dw0);
        let expected = match cdw0.mask {
            Some(m) => format!("{:#x} (mask {m:#x})", cdw0.value),
            None => format!("{:#x}", cdw0.value),
        };
        results.push(check(
            "cdw0",
            expected,
            actual.map_or_else(|| "no completion".into(), |a| format!("{a:#x}")),
            actual.is_some_and(|a| a & mask == cdw0.value & mask),
        ));
    }
    for (name, cmp) in e.fields.iter().flatten() {
        let what = format!("fields.{name}");
        match out.fields.as_ref().and_then(|f| f.get(name)) {
            Some(actual) => {
                let (expected, pass) = compare(actual, cmp, eval)?;
                results.push(check(&what, expected, show(actual), pass));
            }
            None => {
                let (expected, _) = compare(&Value::Null, cmp, eval)?;
                let why = if out.fields.is_none() { "no data was read" } else { "no such field" };
                results.push(check(&what, expected, why.into(), false));
            }
        }
    }
    if let Some(io) = out.ioworker.as_ref().map(|stats| &stats.total) {
        match &e.errors {
            None if out.errors_tolerated => {
                let stats = out.ioworker.as_ref().expect("an ioworker result");
                // Only a worker its own IO errors stopped is over budget.
                let stopped = stats
                    .workers
                    .iter()
                    .find_map(|w| w.stopped.as_ref().filter(|s| matches!(s, StopReason::IoErrors(_))));
                let actual = match stopped {
                    Some(why) => format!("{} ({why})", io.errors),
                    None => io.errors.to_string(),
                };
                results.push(check(
                    "errors",
                    "within each worker's budget".into(),
                    actual,
                    stopped.is_none(),
                ));
            }
            errors => {
                let errors = errors.clone().unwrap_or(Compare::Eq(crate::plan::Scalar(0.into())));
                let (expected, pass) = compare(&Value::from(io.errors), &errors, eval)?;
                results.push(check("errors", expected, io.errors.to_string(), pass));
            }
        }
        if let Some(cmp) = &e.iops {
            let (expected, pass) = compare(&Value::from(io.iops), cmp, eval)?;
            results.push(check("iops", expected, format!("{:.0}", io.iops), pass));
        }
        if let Some(lat) = &e.latency {
            latency_checks(&mut results, "latency", &lat.all(), io.latency.as_ref());
            for (op, bounds) in lat.by_op() {
                if let Some(bounds) = bounds {
                    let what = format!("latency.{op}");
                    latency_checks(&mut results, &what, bounds, io.latency_by_op.get(op));
                }
            }
        }
    } else {
        for (what, given) in
            [("errors", e.errors.is_some()), ("iops", e.iops.is_some()), ("latency", e.latency.is_some())]
        {
            if given {
                results.push(check(what, "an ioworker result".into(), "not an ioworker step".into(), false));
            }
        }
    }
    match &e.data {
        Some(data) => {
            let zero = Compare::Eq(crate::plan::Scalar(0.into()));
            let mismatches = data.mismatches.as_ref().unwrap_or(&zero);
            let (expected, pass) = compare(&Value::from(out.mismatches), mismatches, eval)?;
            let actual = if out.verified { out.mismatches.to_string() } else { "no data verified".into() };
            results.push(check("data.mismatches", expected, actual, pass && out.verified));
            if let Some(unchecked) = &data.unchecked {
                let (expected, pass) = compare(&Value::from(out.unchecked), unchecked, eval)?;
                let actual = if out.verified { out.unchecked.to_string() } else { "no data verified".into() };
                results.push(check("data.unchecked", expected, actual, pass && out.verified));
            }
        }
        None if out.verified => {
            results.push(check(
                "data.mismatches",
                "== 0".into(),
                out.mismatches.to_string(),
                out.mismatches == 0,
            ));
        }
        None => {}
    }
    Ok(results)
}

/// The first failed expectation as a reason: `expected status X, got Y`.
pub fn failure_reason(results: &[ExpectationResult]) -> Option<String> {
    results.iter().find(|r| r.verdict == Verdict::Fail).map(|r| {
        if r.what == "assert" {
            format!("assertion `{}` is false", r.expected)
        } else {
            format!("expected {} {}, got {}", r.what, r.expected, r.actual)
        }
    })
}
