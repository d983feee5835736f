//! Property tests of the plan loader and validator: whatever the bytes —
//! random text, random bytes, or a shipped plan with random edits — loading
//! never panics, every diagnostic has a position inside the file, a plan
//! resolves exactly when there is no error, and rendering the diagnostics
//! never panics.

use std::path::Path;

use nvmeplan::{Options, Report, render_text, validate_path, validate_str};
use proptest::prelude::*;

/// The shipped plans, the seeds of the edits.
fn shipped() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plans");
    let mut texts = Vec::new();
    for dir in [root.clone(), root.join("qemu"), root.join("common")] {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            if entry.path().extension().is_some_and(|e| e == "yaml") {
                texts.push(std::fs::read_to_string(entry.path()).unwrap());
            }
        }
    }
    texts.sort();
    texts
}

/// One edit of a plan's text: replace `len` bytes at `at` (a fraction of
/// the text) with `with`.
#[derive(Debug, Clone)]
struct Edit {
    at: f64,
    len: usize,
    with: String,
}

fn edit() -> impl Strategy<Value = Edit> {
    // YAML's structural characters, digits and letters of keys, so edits
    // produce near-plans that reach the schema and typed passes.
    let with = "[-:{}\\[\\],# \n'\"|>&*!?%@0-9a-z_${}.]{0,12}";
    (0.0f64..1.0, 0usize..16, with).prop_map(|(at, len, with)| Edit { at, len, with })
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut out = text.to_string();
    for e in edits {
        let mut at = ((out.len() as f64) * e.at) as usize;
        while !out.is_char_boundary(at) {
            at -= 1;
        }
        let mut end = (at + e.len).min(out.len());
        while !out.is_char_boundary(end) {
            end += 1;
        }
        out.replace_range(at..end, &e.with);
    }
    out
}

/// What every validation must satisfy, whatever its input.
fn check(report: &Report, text_lines: usize) -> Result<(), TestCaseError> {
    prop_assert_eq!(report.plan.is_some(), !report.has_errors(), "a plan resolves exactly when no error");
    for d in &report.diagnostics {
        prop_assert!(d.line <= text_lines + 1, "line {} beyond the {} lines: {}", d.line, text_lines, d);
    }
    let _ = render_text(&report.diagnostics, &report.sources);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn any_text_validates_without_panicking(text in "\\PC{0,400}") {
        let report = validate_str("p.yaml", &text, &Options::default());
        check(&report, text.lines().count())?;
    }

    #[test]
    fn edited_shipped_plans_validate_without_panicking(
        seed in 0usize..64,
        edits in prop::collection::vec(edit(), 1..4),
    ) {
        let plans = shipped();
        let text = apply(&plans[seed % plans.len()], &edits);
        let report = validate_str("p.yaml", &text, &Options::default());
        check(&report, text.lines().count())?;
        for d in &report.diagnostics {
            prop_assert!(d.line > 0 && d.column > 0, "no position: {}\n---\n{}", d, text);
        }
    }

    #[test]
    fn any_bytes_in_a_file_validate_without_panicking(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.yaml");
        std::fs::write(&path, &bytes).unwrap();
        let report = validate_path(&path, &Options::default());
        check(&report, bytes.split(|b| *b == b'\n').count())?;
    }
}
