//! Markdown escapes every user-controlled string: HTML and table pipes
//! never reach the renderer as markup.

use std::collections::BTreeMap;

use nvmeplan_reports::diff::{self, DiffOptions, Thresholds};
use nvmeplan_reports::markdown::{render_diff, render_report};
use nvmeplan_reports::{ExpectationResult, Forensic, Outcome, Report, StepResult, Verdict};

const EVIL: &str = "<script>alert(1)</script> | a & b";
const ESCAPED: &str = "&lt;script&gt;alert(1)&lt;/script&gt; \\| a &amp; b";

fn hostile(fr: &str, outcome: Outcome) -> Report {
    let mut r = Report::new_empty(EVIL);
    r.plan.path = format!("plans/{EVIL}.yaml");
    r.device.uri = "sim".into();
    r.device.mn = EVIL.into();
    r.device.sn = "<b>SN</b>".into();
    r.device.fr = fr.into();
    r.device.identify = BTreeMap::from([("mn".into(), EVIL.into()), ("fr".into(), fr.into())]);
    r.stopped = Some(EVIL.into());
    let mut s = StepResult::new(EVIL, EVIL, "log", outcome);
    s.reason = Some(format!("reason {EVIL}"));
    s.message = Some(EVIL.into());
    s.expectations.push(ExpectationResult {
        what: EVIL.into(),
        expected: EVIL.into(),
        actual: "<img src=x onerror=alert(1)>".into(),
        verdict: Verdict::Fail,
    });
    s.forensic = Some(Forensic {
        cmdlog_tail: vec!["```\n<script>alert(2)</script>".into()],
        csts: "0x1".into(),
        cap: "0x0".into(),
    });
    r.steps.push(s);
    r.summary.add(outcome);
    r
}

/// Table rows of `md` have as many unescaped pipes as their header row.
fn tables_are_intact(md: &str) {
    let mut columns = None;
    for line in md.lines() {
        if !line.starts_with('|') {
            columns = None;
            continue;
        }
        let pipes =
            line.len() - line.replace("\\|", "").replace('|', "").len() - 2 * line.matches("\\|").count();
        match columns {
            None => columns = Some(pipes),
            Some(n) => assert_eq!(pipes, n, "row with extra cells: {line}"),
        }
    }
}

/// `md` without its code fences (text in a fence is shown verbatim).
fn outside_fences(md: &str) -> String {
    let mut out = String::new();
    let mut fence: Option<&str> = None;
    for line in md.lines() {
        let ticks = &line[..line.len() - line.trim_start_matches('`').len()];
        match fence {
            Some(f) if line == f => fence = None,
            Some(_) => {}
            None if ticks.len() >= 3 => fence = Some(ticks),
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    assert!(fence.is_none(), "unclosed fence in:\n{md}");
    out
}

fn assert_escaped(md: &str) {
    let text = outside_fences(md);
    for bad in ["<script>", "</script>", "<img", "<b>"] {
        assert!(!text.contains(bad), "unescaped `{bad}` in:\n{md}");
    }
    assert!(md.contains(ESCAPED), "{md}");
    tables_are_intact(md);
}

#[test]
fn report_markdown_escapes_html_and_pipes() {
    let md = render_report(&hostile("1.0", Outcome::Fail));
    assert_escaped(&md);
    assert!(md.contains("# nvmeplan report: &lt;script&gt;"), "{md}");
    assert!(md.contains("| actual |") && md.contains("&lt;img src=x onerror=alert(1)&gt;"), "{md}");
    // The command log stays inside its code fence, which a line of
    // backticks cannot close.
    assert!(md.contains("````text\n") && md.contains("``` <script>alert(2)</script>\n````\n"), "{md}");
}

#[test]
fn diff_markdown_escapes_html_and_pipes() {
    let base = hostile("1.0", Outcome::Pass);
    let new = hostile("<i>2.0</i>", Outcome::Fail);
    let options = DiffOptions { thresholds: Thresholds::default(), ..DiffOptions::default() };
    let _ = &options.fail_on;
    let d = diff::diff(EVIL, &base, EVIL, &new, &options).unwrap();
    let md = render_diff(&d);
    assert_escaped(&md);
    assert!(!md.contains("<i>"), "{md}");
    assert!(md.contains("&lt;i&gt;2.0&lt;/i&gt;"), "{md}");
}
