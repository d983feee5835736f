//! The HTML Failures card shows the failing IO: the failing command with
//! its completion, the tail of that IO queue's command log (not only the
//! admin queue's), and the first errors of each ioworker worker.

use std::path::Path;
use std::process::Command;

const PLAN: &str = "plan_version: 1
name: failing io
steps:
  - name: identify controller
    identify: { cns: controller }
  - name: write the block range
    write: { slba: 0, nlb: 8 }
  - name: fail the next read
    inject:
      match: { opcode: read, nsid: 1, nth: 1 }
      action: { status: unrecovered_read_error }
      count: 1
  - name: read fails
    read: { slba: 0, nlb: 8 }
  - name: fail every worker read
    inject:
      match: { opcode: read, nsid: 1 }
      action: { status: unrecovered_read_error }
  - name: worker reads fail
    ioworker: { io_size: 8, read_percentage: 100, qdepth: 4, time: 200ms, region_end: 64, continue_on_error: true }
    expect: { errors: 0 }
";

/// The Failures card's articles, one per failed step, by step id.
fn failure_articles(html: &str) -> Vec<String> {
    let start = html.find(r#"<section id="failures">"#).expect("a Failures card");
    let card = &html[start..];
    let card = &card[..card.find("</section>").unwrap()];
    card.split(r#"<article class="failure"#).skip(1).map(str::to_string).collect()
}

/// Lines of the command log shown in `article` that are of a queue other
/// than the admin queue.
fn io_queue_lines(article: &str) -> Vec<&str> {
    article
        .lines()
        .filter(|l| {
            let l = l.trim_start_matches("<pre class=\"cmdlog\">");
            l.starts_with('#')
                && l.split_whitespace().nth(1).is_some_and(|q| q.starts_with("sq") && q != "sq0")
        })
        .collect()
}

#[test]
fn failures_card_shows_the_failing_io_and_its_queue() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("failing.yaml");
    std::fs::write(&plan, PLAN).unwrap();
    let out = dir.path().join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_nvmeplan"))
        .args(["run", plan.to_str().unwrap(), "--device", "sim:", "--out", out.to_str().unwrap()])
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .output()
        .unwrap();
    let console = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert_eq!(o.status.code(), Some(1), "{console}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let articles = failure_articles(&html);
    assert_eq!(articles.len(), 2, "{console}");

    // The IO step: the failing read with its completion status, and lines of
    // the IO queue's command log.
    let read = articles.iter().find(|a| a.contains(">read fails<")).expect("the read step's card");
    assert!(read.contains("<h4>Failing command</h4>"), "{read}");
    let failing = &read[read.find("<h4>Failing command</h4>").unwrap()..];
    let failing = &failing[..failing.find("</table>").unwrap()];
    assert!(failing.contains("read nsid 1 slba 0 nlb 8"), "{failing}");
    assert!(failing.contains("unrecovered_read_error"), "{failing}");
    assert!(read.contains("<h4>Command log of queue sq1</h4>"), "{read}");
    let lines = io_queue_lines(read);
    assert!(!lines.is_empty(), "IO queue lines in the card: {read}");
    assert!(lines.iter().any(|l| l.contains("read nsid 1 slba 0 nlb 8")), "{lines:?}");
    assert!(
        lines.iter().any(|l| l.contains("write nsid 1 slba 0 nlb 8")),
        "the queue's earlier write: {lines:?}"
    );

    // The ioworker: each worker's first error, its completion and its
    // queue's tail, in the card (not only in the expanded step).
    let worker = articles.iter().find(|a| a.contains(">worker reads fail<")).expect("the ioworker's card");
    assert!(worker.contains("<h4>First errors of the workers</h4>"), "{worker}");
    let first = &worker[worker.find("worker 0: <code>").expect("worker 0's first error")..];
    assert!(first[..first.find("</code>").unwrap()].contains(" read nsid 1 slba "), "{first}");
    assert!(worker.contains("<strong>unrecovered_read_error</strong>"), "{worker}");
    assert!(worker.contains("completion <code>sqid "), "{worker}");
    assert!(worker.contains("status unrecovered_read_error dnr "), "{worker}");
    let lines = io_queue_lines(worker);
    assert!(lines.iter().any(|l| l.contains(" read nsid 1 ")), "the worker's queue: {worker}");
    // A worker that went on through its errors: the next ones are listed
    // too, and how many more there were.
    let later = &worker[worker.find("<ul class=\"later-errors\">").expect("the worker's later errors")..];
    let later = &later[..later.find("</ul>").unwrap()];
    let items: Vec<&str> = later.split("<li><code>").skip(1).collect();
    assert_eq!(items.len(), 4, "{later}");
    assert!(items.iter().all(|l| l.matches("unrecovered_read_error").count() == 1), "{later}");
    assert!(later.contains("more</li>"), "{later}");
}
