//! Step ids after expansion. A name may contain `/`, the separator of a
//! group's id and its children's, so a group `a` with a step `b/c` and a
//! sibling group `a/b` with a step `c` would both give `a/b/c`: reports,
//! filters and diffs key results by id, so such a plan is refused.

use std::collections::HashMap;

use crate::diagnostic::{Diagnostic, Sources, code};
use crate::expand::{ResolvedStep, SourceLocation, StepKind};
use crate::positions::Span;

/// One error for each id that an earlier step already has, pointing at the
/// later step's name in `sources`.
pub(super) fn duplicate_ids(steps: &[ResolvedStep], sources: &Sources) -> Vec<Diagnostic> {
    let mut seen: HashMap<&str, &SourceLocation> = HashMap::new();
    let mut out = Vec::new();
    walk(steps, sources, &mut seen, &mut out);
    out
}

/// The span from `location` to the end of its line.
fn span_of(location: &SourceLocation, sources: &Sources) -> Option<Span> {
    let text = sources.get(&location.file)?;
    let line_start: usize =
        text.split_inclusive('\n').take(location.line.checked_sub(1)?).map(str::len).sum();
    let line = text[line_start..].lines().next()?;
    let offset = line.char_indices().nth(location.column.checked_sub(1)?).map(|(i, _)| i)?;
    let start = line_start + offset;
    Some(Span { line: location.line, column: location.column, start, end: line_start + line.len() })
}

fn walk<'a>(
    steps: &'a [ResolvedStep],
    sources: &Sources,
    seen: &mut HashMap<&'a str, &'a SourceLocation>,
    out: &mut Vec<Diagnostic>,
) {
    for step in steps {
        if let Some(first) = seen.get(step.id.as_str()) {
            let message = format!(
                "step id `{}` is also the id of the step at {}:{}:{}",
                step.id, first.file, first.line, first.column
            );
            let span = span_of(&step.location, sources);
            let mut d = Diagnostic::error(code::DUPLICATE_NAME, message, &step.location.file, span);
            d.line = step.location.line;
            d.column = step.location.column;
            d.help = Some("a `/` in a name reads as a group boundary in ids: rename one of the two".into());
            out.push(d);
        } else {
            seen.insert(&step.id, &step.location);
        }
        if let StepKind::Group(children) = &step.kind {
            walk(children, sources, seen, out);
        }
    }
}
