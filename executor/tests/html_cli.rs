//! HTML outputs through the real binary: `run --out` writes report.html
//! (also for a stopped run), `report --html` re-renders it, `diff --html`
//! draws the diff. The browser check is ci/html-check.sh.

mod common;

use common::{nvmeplan, text};

fn s(p: &std::path::Path) -> &str {
    p.to_str().unwrap()
}

fn write_plan(dir: &std::path::Path, steps: &str) -> std::path::PathBuf {
    let path = dir.join("p.yaml");
    std::fs::write(&path, format!("plan_version: 1\nname: html plan\nsteps:\n{steps}")).unwrap();
    path
}

#[test]
fn run_writes_an_html_report_beside_the_json() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(
        dir.path(),
        "  - { name: w, write: { slba: 0, nlb: 8 } }\n  - { name: bad, read: { slba: 0, nlb: 1 }, expect: { status: lba_out_of_range } }\n  - name: sweep\n    matrix: { qd: [1, 2] }\n    ioworker: { io_count: 200, qdepth: \"${{ matrix.qd }}\" }\n",
    );
    let out = dir.path().join("out");
    let o = nvmeplan(&["run", s(&plan), "--out", s(&out)]);
    assert_eq!(o.status.code(), Some(1), "{:?}", text(&o));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("FAILED") && html.contains("html plan"));
    let failures = html.find("id=\"failures\"").unwrap();
    assert!(html[failures..].contains("expected status lba_out_of_range, got success"));
    assert!(html.contains("sweep: IOPS vs qd</title>"), "matrix chart");
    assert_eq!(html.matches("IOPS per second</title>").count(), 2, "one per ioworker step");

    // `nvmeplan report --html` renders the same page from the JSON.
    let again = dir.path().join("again.html");
    let o = nvmeplan(&["report", s(&out.join("report.json")), "--html", s(&again)]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert_eq!(std::fs::read_to_string(&again).unwrap(), html);
}

#[test]
fn diff_writes_an_html_page() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(dir.path(), "  - { name: io, ioworker: { io_count: 500, qdepth: 4 } }\n");
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    for (out, device) in [(&a, "sim:fw=1.0"), (&b, "sim:fw=1.1")] {
        let o = nvmeplan(&["run", s(&plan), "--device", device, "--out", s(out)]);
        assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    }
    let page = dir.path().join("diff.html");
    // Only the status decides here: the metrics of two short runs are noise.
    let o = nvmeplan(&[
        "diff",
        s(&a.join("report.json")),
        s(&b.join("report.json")),
        "--fail-on",
        "status",
        "--html",
        s(&page),
    ]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("NO REGRESSION"));
    assert!(
        html.contains("<th>firmware (changed)</th><td><code>1.0</code></td><td><code>1.1</code></td>"),
        "{html}"
    );
    assert!(html.contains("IOPS per ioworker step</title>"));
    assert!(html.contains("id=\"status-changes\""));
}

#[test]
fn a_stopped_run_still_gets_an_html_report() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write_plan(
        dir.path(),
        "  - { name: a, read: { slba: 0, nlb: 1 }, expect: { status: lba_out_of_range } }\n  - { name: b, flush: {} }\n",
    );
    let out = dir.path().join("out");
    let o = nvmeplan(&["run", s(&plan), "--out", s(&out), "--fail-fast"]);
    assert_eq!(o.status.code(), Some(1), "{:?}", text(&o));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("This run did not finish"), "{html}");
}
