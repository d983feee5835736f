//! Markdown of a report ([`render_report`]) and of a diff
//! ([`render_diff`]), for pull requests, chat and terminals.

use std::fmt::Write as _;

use crate::diff::{Diff, Direction, FieldChange, Metric, MetricDelta, StatusChange};
use crate::{Outcome, Report, Summary};

/// Escapes user text for Markdown: HTML (`&`, `<`, `>`, as the HTML report
/// does, so a renderer that passes HTML through shows it as text), table
/// pipes, backslashes and backticks; a newline becomes a space so text stays
/// in its table cell or heading. Every user-controlled string goes through
/// this.
fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' | '<' | '>' => out.push_str(crate::html_entity(c).expect("an HTML special character")),
            '|' => out.push_str("\\|"),
            '\\' => out.push_str("\\\\"),
            '`' => out.push_str("\\`"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A code fence longer than any run of backticks in `lines`, so no line
/// can close it.
fn fence_for(lines: &[String]) -> String {
    let longest = lines.iter().flat_map(|l| l.split(|c| c != '`').map(str::len)).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

fn json_cell(value: Option<&serde_json::Value>) -> String {
    match value {
        None => "—".into(),
        Some(serde_json::Value::String(s)) => cell(s),
        Some(v) => cell(&v.to_string()),
    }
}

pub(crate) fn summary_text(s: &Summary) -> String {
    format!("{} passed, {} failed, {} errored, {} skipped", s.passed, s.failed, s.errored, s.skipped)
}

/// A metric's value for people: IOPS whole, MB/s with two decimals,
/// latency in microseconds with one.
pub fn metric_value(metric: Metric, value: f64) -> String {
    match metric {
        Metric::Iops => format!("{value:.0}"),
        Metric::Mbps => format!("{value:.2} MB/s"),
        _ => format!("{:.1} µs", value / 1000.0),
    }
}

pub(crate) fn delta_text(m: &MetricDelta) -> String {
    match m.delta_percent {
        Some(d) => format!("{d:+.1}%"),
        None if m.new == m.base => "0.0%".into(),
        None => "from 0".into(),
    }
}

fn flag_text(m: &MetricDelta) -> &'static str {
    match (m.flagged, m.direction) {
        (true, Direction::Worse) => "**regression**",
        (true, Direction::Better) => "improvement",
        _ => "",
    }
}

fn outcome_text(o: Option<Outcome>) -> &'static str {
    o.map_or("—", Outcome::name)
}

fn status_row(out: &mut String, c: &StatusChange) {
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {}{} | {} |",
        cell(&c.step),
        c.spec.as_deref().map(cell).unwrap_or_default(),
        outcome_text(c.base),
        outcome_text(c.new),
        c.kind.label(),
        if c.regression { " **(regression)**" } else { "" },
        c.reason.as_deref().map(cell).unwrap_or_default()
    );
}

fn field_table(out: &mut String, changes: &[FieldChange]) {
    let _ = writeln!(out, "| field | base | new |\n|---|---|---|");
    for c in changes {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            cell(&c.field),
            json_cell(c.base.as_ref()),
            json_cell(c.new.as_ref())
        );
    }
}

pub(crate) fn thresholds_text(diff: &Diff) -> String {
    let judged: Vec<String> = Metric::ALL
        .iter()
        .filter_map(|m| diff.options.thresholds.get(*m).map(|t| format!("{} {t}%", m.name())))
        .collect();
    let floor = match diff.options.latency_floor_ns {
        0 => String::new(),
        ns => format!(
            "; latency changes of {} or less are not flagged",
            metric_value(Metric::LatencyP50, ns as f64)
        ),
    };
    if judged.is_empty() {
        "none (every metric is shown, none judged)".into()
    } else {
        format!("{}; the other metrics are shown, not judged{floor}", judged.join(", "))
    }
}

/// The header rows of a diff marked `(changed)` when the sides differ:
/// the device's identity and URI.
pub(crate) const CHANGE_MARKED: [&str; 4] = ["model", "serial", "firmware", "device"];

/// The runs behind the metric values, when a side has more than one.
pub(crate) fn runs_text(diff: &Diff) -> Option<String> {
    let (b, n) = (diff.base.runs(), diff.new.runs());
    (b > 1 || n > 1).then(|| {
        format!(
            "Values are medians of {b} base and {n} new runs; a change is flagged only past both its \
             threshold and the spread (the largest deviation of a run from its side's median, the \
             larger of the two sides)."
        )
    })
}

/// A spread in percent, `—` when a side had one run.
pub(crate) fn spread_text(m: &MetricDelta) -> String {
    m.noise_percent().map_or_else(|| "—".to_string(), |s| format!("±{s:.1}%"))
}

/// A threshold in percent, `—` when the metric is not judged.
pub(crate) fn threshold_text(m: &MetricDelta) -> String {
    m.threshold_percent.map_or_else(|| "—".to_string(), |t| format!("±{t}%"))
}

/// Markdown of a diff: header with both devices and plans, status
/// changes, metric deltas, changed identify fields, log pages and features.
pub fn render_diff(diff: &Diff) -> String {
    let mut out = String::new();
    let (b, n) = (&diff.base, &diff.new);
    let _ = writeln!(out, "# nvmeplan diff: {}\n", cell(&b.plan));
    let _ = writeln!(out, "**Verdict: {}**\n", diff.verdict());
    let _ = writeln!(out, "| | base | new |\n|---|---|---|");
    let rows: [(&str, String, String); 9] = [
        ("report", cell(&b.paths.join(", ")), cell(&n.paths.join(", "))),
        ("model", cell(&b.mn), cell(&n.mn)),
        ("serial", cell(&b.sn), cell(&n.sn)),
        ("firmware", cell(&b.fr), cell(&n.fr)),
        ("device", cell(&b.uri), cell(&n.uri)),
        ("plan sha256", cell(&b.plan_sha256), cell(&n.plan_sha256)),
        ("started", cell(&b.started_at), cell(&n.started_at)),
        ("complete", yes_no(b.complete), yes_no(n.complete)),
        ("summary", summary_text(&b.summary), summary_text(&n.summary)),
    ];
    for (name, base, new) in rows {
        let mark = if base != new && CHANGE_MARKED.contains(&name) { " (changed)" } else { "" };
        let _ = writeln!(out, "| {name}{mark} | {base} | {new} |");
    }
    if !diff.notes.is_empty() {
        out.push('\n');
        for note in &diff.notes {
            let _ = writeln!(out, "- Note: {}", cell(note));
        }
    }

    let _ = writeln!(out, "\n## Status changes\n");
    if diff.status_changes.is_empty() {
        let _ = writeln!(out, "No step changed its outcome ({} steps compared).", diff.steps_compared);
    } else {
        let _ = writeln!(out, "| step | spec | base | new | change | reason |\n|---|---|---|---|---|---|");
        for c in &diff.status_changes {
            status_row(&mut out, c);
        }
    }

    let _ = writeln!(out, "\n## Metrics\n");
    let _ = writeln!(out, "Thresholds: {}.\n", thresholds_text(diff));
    if let Some(runs) = runs_text(diff) {
        let _ = writeln!(out, "{runs}\n");
    }
    if diff.metrics.is_empty() {
        let _ = writeln!(out, "No ioworker step is in both reports.");
    } else {
        let flagged = diff.metrics.iter().filter(|m| m.flagged).count();
        let _ = writeln!(
            out,
            "{} regressions, {} improvements, {} not flagged.\n",
            diff.perf_regressions().count(),
            diff.improvements().count(),
            diff.metrics.len() - flagged
        );
        let _ = writeln!(
            out,
            "| step | metric | base | new | delta | spread | threshold | |\n|---|---|---|---|---|---|---|---|"
        );
        for m in &diff.metrics {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                cell(&m.step),
                m.metric.name(),
                metric_value(m.metric, m.base),
                metric_value(m.metric, m.new),
                delta_text(m),
                spread_text(m),
                threshold_text(m),
                flag_text(m)
            );
        }
    }

    let _ = writeln!(out, "\n## Identify changes\n");
    if diff.identify_changes.is_empty() {
        let _ = writeln!(out, "No identify or namespace field changed.");
    } else {
        field_table(&mut out, &diff.identify_changes);
    }

    let _ = writeln!(out, "\n## Identify data, log pages and features read by the plan\n");
    if diff.captured_changes.is_empty() {
        let _ = writeln!(out, "No field changed.");
    } else {
        for c in &diff.captured_changes {
            let _ = writeln!(out, "### {} ({} {})\n", cell(&c.step), c.kind.label(), cell(&c.name));
            field_table(&mut out, &c.changes);
            out.push('\n');
        }
    }
    out
}

fn yes_no(b: bool) -> String {
    if b { "yes".into() } else { "no".into() }
}

/// Markdown of a report: verdict and counts, device and plan, failures
/// with expected vs actual, every step, and ioworker statistics.
pub fn render_report(report: &Report) -> String {
    let mut out = String::new();
    let d = &report.device;
    let _ = writeln!(out, "# nvmeplan report: {}\n", cell(&report.plan.name));
    let _ = writeln!(out, "**{}**: {}\n", report.verdict(), summary_text(&report.summary));
    if let Some(stopped) = &report.stopped {
        let _ = writeln!(out, "The run stopped early: {}.\n", cell(stopped));
    }
    let _ = writeln!(out, "| | |\n|---|---|");
    let rows = [
        ("device", d.uri.clone()),
        ("model", d.mn.clone()),
        ("serial", d.sn.clone()),
        ("firmware", d.fr.clone()),
        ("plan", format!("{} (sha256 {})", report.plan.path, report.plan.sha256)),
        ("spec revision", report.plan.spec_revision.clone().unwrap_or_else(|| "—".into())),
        ("started", report.started_at.clone()),
        ("duration", format!("{} ms", report.duration_ms)),
        ("seed", report.seed.to_string()),
        ("tool", format!("{} {}", report.tool, report.version)),
    ];
    for (k, v) in rows {
        let _ = writeln!(out, "| {k} | {} |", cell(&v));
    }

    let failures: Vec<_> = report.steps.iter().filter(|s| s.outcome.is_failure()).collect();
    if !failures.is_empty() {
        let _ = writeln!(out, "\n## Failures\n");
        for s in failures {
            let _ = writeln!(out, "### {} {}\n", s.outcome.label(), cell(&s.id));
            if let Some(reason) = &s.reason {
                let _ = writeln!(out, "{}\n", cell(reason));
            }
            let failed: Vec<_> = s.failed_expectations().collect();
            if !failed.is_empty() {
                let _ = writeln!(out, "| check | expected | actual |\n|---|---|---|");
                for e in failed {
                    let _ =
                        writeln!(out, "| {} | {} | {} |", cell(&e.what), cell(&e.expected), cell(&e.actual));
                }
                out.push('\n');
            }
            if let Some(f) = &s.forensic
                && !f.cmdlog_tail.is_empty()
            {
                let mut lines = vec![format!("CSTS {}", f.csts), format!("CAP {}", f.cap)];
                lines.extend(f.cmdlog_tail.iter().map(|l| l.replace(['\n', '\r'], " ")));
                let fence = fence_for(&lines);
                let _ = writeln!(out, "{fence}text\n{}\n{fence}\n", lines.join("\n"));
            }
        }
    }

    let _ = writeln!(out, "\n## Steps\n");
    let _ = writeln!(out, "| step | spec | outcome | duration | details |\n|---|---|---|---|---|");
    for s in &report.steps {
        let mut detail = s.reason.as_deref().or(s.message.as_deref()).unwrap_or("").to_string();
        if let Some(v) = &s.verification {
            let sep = if detail.is_empty() { "" } else { "; " };
            detail = format!("{detail}{sep}{}", v.summary());
        }
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} ms | {} |",
            cell(&s.id),
            s.spec.as_deref().map(cell).unwrap_or_default(),
            s.outcome.name(),
            s.duration_ms,
            cell(&detail)
        );
    }

    let io: Vec<_> = report.steps.iter().filter_map(|s| s.ioworker.as_ref().map(|w| (s, w))).collect();
    if !io.is_empty() {
        let _ = writeln!(out, "\n## IO workers\n");
        let _ = writeln!(
            out,
            "| step | IOs | IOPS | MB/s | p50 | p99 | p99.9 | max | errors | mismatches |\n|---|---|---|---|---|---|---|---|---|---|"
        );
        for (s, w) in io {
            let t = &w.total;
            let lat = |m: Metric| m.value(t).map_or_else(|| "—".to_string(), |v| metric_value(m, v));
            let _ = writeln!(
                out,
                "| {} | {} | {:.0} | {:.2} | {} | {} | {} | {} | {} | {} |",
                cell(&s.id),
                t.io_total,
                t.iops,
                t.mbps,
                lat(Metric::LatencyP50),
                lat(Metric::LatencyP99),
                lat(Metric::LatencyP999),
                lat(Metric::LatencyMax),
                t.errors,
                t.mismatch_count
            );
            // A mixed workload's operations apart, like fio's read and
            // write sections.
            if t.latency_by_op.len() > 1 {
                let counts = t.ios.by_name();
                let secs = t.elapsed_us as f64 / 1e6;
                for (op, l) in &t.latency_by_op {
                    let n = counts.iter().find(|(name, _)| name == op).map_or(0, |(_, n)| *n);
                    let iops = if secs > 0.0 { n as f64 / secs } else { 0.0 };
                    let us = |ns: u64| metric_value(Metric::LatencyP50, ns as f64);
                    let _ = writeln!(
                        out,
                        "| {} ({op}) | {n} | {iops:.0} | — | {} | {} | {} | {} | — | — |",
                        cell(&s.id),
                        us(l.p50_ns),
                        us(l.p99_ns),
                        us(l.p999_ns),
                        us(l.max_ns),
                    );
                }
            }
        }
    }
    out
}
