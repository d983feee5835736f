//! A map from JSON pointers (`/steps/3/read/nlb`) to where the node is in
//! the YAML source, built from the YAML parser's event stream.
//!
//! serde-saphyr's typed deserialization reports the location of its own
//! errors, but schema and semantic errors are found on the JSON value tree;
//! this map is what lets them point at the right line and column.

use std::collections::HashMap;

use serde_saphyr::granit_parser::{Event, Parser, Span as ParserSpan};

/// A region of the source: 1-based line and column of its start and its
/// byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    /// Line of the start, 1-based.
    pub line: usize,
    /// Column of the start in characters, 1-based.
    pub column: usize,
    /// Byte offset of the start.
    pub start: usize,
    /// Byte offset of the end (exclusive).
    pub end: usize,
}

/// Where a node is: its value, and its key when it is a mapping value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NodePosition {
    /// The key of this node in its parent mapping.
    pub key: Option<Span>,
    /// The node's value (for mappings and sequences, the start only).
    pub value: Span,
}

/// JSON pointer to position map of one YAML document.
#[derive(Debug, Clone, Default)]
pub struct PositionMap {
    nodes: HashMap<String, NodePosition>,
}

/// Escapes one JSON pointer segment.
pub fn escape_segment(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Appends a segment to a JSON pointer.
pub fn join(pointer: &str, segment: impl AsRef<str>) -> String {
    format!("{pointer}/{}", escape_segment(segment.as_ref()))
}

enum Frame {
    Map { pointer: String, key: Option<(String, Span)> },
    Seq { pointer: String, index: usize },
}

struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    /// Byte offset of a 1-based line and 0-based character column.
    fn offset(&self, text: &str, line: usize, col: usize) -> usize {
        let Some(&start) = self.starts.get(line.saturating_sub(1)) else {
            return text.len();
        };
        let rest = &text[start..];
        rest.char_indices()
            .nth(col)
            .map(|(i, _)| start + i)
            .unwrap_or_else(|| start + rest.find('\n').unwrap_or(rest.len()))
    }
}

impl PositionMap {
    /// Builds the map of the first document of `text`. Parse errors end the
    /// walk early: nodes seen so far stay in the map.
    pub fn build(text: &str) -> PositionMap {
        let lines = LineIndex::new(text);
        let to_span = |s: &ParserSpan| {
            let start = lines.offset(text, s.start.line(), s.start.col());
            let end = lines.offset(text, s.end.line(), s.end.col()).max(start);
            Span { line: s.start.line(), column: s.start.col() + 1, start, end }
        };
        let mut map = PositionMap::default();
        let mut stack: Vec<Frame> = Vec::new();
        let mut started = false;
        for event in Parser::new_from_str(text) {
            let Ok((event, span)) = event else { break };
            let span = to_span(&span);
            match event {
                Event::DocumentStart(..) => {
                    if started {
                        break;
                    }
                    started = true;
                }
                Event::Scalar(value, ..) => {
                    if let Some(Frame::Map { key: key @ None, .. }) = stack.last_mut() {
                        *key = Some((value.into_owned(), span));
                    } else {
                        map.value(&mut stack, span);
                    }
                }
                Event::Alias(_) => map.value(&mut stack, span),
                Event::MappingStart(..) | Event::SequenceStart(..) => {
                    let is_map = matches!(event, Event::MappingStart(..));
                    let pointer = match stack.last_mut() {
                        // A complex key: give it a placeholder name.
                        Some(Frame::Map { key: key @ None, pointer }) => {
                            *key = Some(("?".into(), span));
                            join(pointer, "?")
                        }
                        _ => map.value_pointer(&stack, span),
                    };
                    stack.push(if is_map {
                        Frame::Map { pointer, key: None }
                    } else {
                        Frame::Seq { pointer, index: 0 }
                    });
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    stack.pop();
                    advance(&mut stack);
                }
                _ => {}
            }
        }
        map
    }

    fn value_pointer(&mut self, stack: &[Frame], span: Span) -> String {
        let (pointer, key) = match stack.last() {
            None => (String::new(), None),
            Some(Frame::Map { pointer, key }) => {
                let (name, key_span) = key.clone().unwrap_or_default();
                (join(pointer, name), Some(key_span))
            }
            Some(Frame::Seq { pointer, index }) => (join(pointer, index.to_string()), None),
        };
        self.nodes.entry(pointer.clone()).or_insert(NodePosition { key, value: span });
        pointer
    }

    fn value(&mut self, stack: &mut [Frame], span: Span) {
        self.value_pointer(stack, span);
        advance(stack);
    }

    /// The position of the node at `pointer`, if the document has it.
    pub fn get(&self, pointer: &str) -> Option<&NodePosition> {
        self.nodes.get(pointer)
    }

    /// The position of the node at `pointer` or of its nearest ancestor that
    /// the document has.
    pub fn nearest(&self, pointer: &str) -> NodePosition {
        let mut p = pointer;
        loop {
            if let Some(pos) = self.nodes.get(p) {
                return *pos;
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return NodePosition::default(),
            }
        }
    }

    /// The key span of `pointer` if it has one, else its value span (or the
    /// nearest ancestor's).
    pub fn key_or_value(&self, pointer: &str) -> Span {
        match self.nodes.get(pointer) {
            Some(NodePosition { key: Some(k), .. }) => *k,
            Some(pos) => pos.value,
            None => self.nearest(pointer).key.unwrap_or(self.nearest(pointer).value),
        }
    }

    /// Number of nodes recorded.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether no node was recorded.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}

fn advance(stack: &mut [Frame]) {
    match stack.last_mut() {
        Some(Frame::Map { key, .. }) => *key = None,
        Some(Frame::Seq { index, .. }) => *index += 1,
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "name: smoke\nsteps:\n  - name: write\n    write: { nsid: 1, slba: 0, nlb: 8 }\n  - name: \"a/b\"\n    sleep: 1s\n";

    #[test]
    fn pointers_to_positions() {
        let map = PositionMap::build(DOC);
        let nlb = map.get("/steps/0/write/nlb").unwrap();
        assert_eq!((nlb.value.line, nlb.value.column), (4, 37));
        assert_eq!(&DOC[nlb.value.start..nlb.value.end], "8");
        let key = nlb.key.unwrap();
        assert_eq!((key.line, key.column), (4, 32));
        let sleep = map.get("/steps/1/sleep").unwrap();
        assert_eq!(&DOC[sleep.value.start..sleep.value.end], "1s");
        assert_eq!(map.get("/steps/1/name").unwrap().value.line, 5);
        assert_eq!(map.nearest("/steps/1/sleep/x").value, sleep.value);
        assert!(map.get("/steps/2").is_none());
    }

    #[test]
    fn escapes_segments() {
        assert_eq!(join("/a", "b/c~d"), "/a/b~1c~0d");
        let map = PositionMap::build("\"x/y\": 1\n");
        assert_eq!(map.get("/x~1y").unwrap().value.line, 1);
    }
}
