//! Loading plan files: reading, YAML parsing with serde-saphyr, the position
//! map, and resolving `include` paths.

use std::path::{Path, PathBuf};

use crate::diagnostic::{Diagnostic, code};
use crate::input::{InputError, InputKind, read_text};
use crate::positions::{PositionMap, Span};

/// A parsed plan file.
#[derive(Debug, Clone)]
pub struct LoadedFile {
    /// The name diagnostics use (the path as given or resolved).
    pub name: String,
    /// The file's path on disk, if it came from one.
    pub path: Option<PathBuf>,
    /// The source text.
    pub text: String,
    /// The document as a JSON value.
    pub value: serde_json::Value,
    /// Where each node is.
    pub positions: PositionMap,
}

/// Why a file did not load: the diagnostic, and the text when the file
/// was read (so the diagnostic can show a snippet).
#[derive(Debug, Clone)]
pub struct LoadError {
    /// What went wrong.
    pub diagnostic: Diagnostic,
    /// The file's text, if it was read.
    pub text: Option<String>,
}

/// Reads and parses a plan file (see [`crate::input`] for the size cap and
/// the file types refused).
pub fn load_file(path: &Path) -> Result<LoadedFile, Box<LoadError>> {
    load_input(path, InputKind::Plan)
}

/// Reads and parses a plan or included file.
pub fn load_input(path: &Path, kind: InputKind) -> Result<LoadedFile, Box<LoadError>> {
    let name = path.display().to_string();
    let text = read_text(path, kind).map_err(|e| Box::new(input_error(&name, e)))?;
    let mut file = parse_str(&name, &text)
        .map_err(|d| Box::new(LoadError { diagnostic: *d, text: Some(text.clone()) }))?;
    file.path = Some(path.to_path_buf());
    Ok(file)
}

/// The diagnostic of a file that could not be read; invalid UTF-8 points at
/// the first bad byte.
fn input_error(name: &str, error: InputError) -> LoadError {
    match error {
        InputError::NotUtf8 { line, column, offset, lossy, .. } => {
            let span = Span { line, column, start: offset, end: offset };
            let message = format!("`{name}` is not UTF-8 text: invalid byte at line {line}, column {column}");
            let diagnostic =
                Diagnostic::error(code::IO, message, name, Some(span)).with_help("plan files must be UTF-8");
            LoadError { diagnostic, text: Some(lossy) }
        }
        other => {
            LoadError { diagnostic: Diagnostic::error(code::IO, other.to_string(), name, None), text: None }
        }
    }
}

/// Parses plan text. A YAML syntax error comes back as a diagnostic.
pub fn parse_str(name: &str, text: &str) -> Result<LoadedFile, Box<Diagnostic>> {
    let value: serde_json::Value =
        serde_saphyr::from_str(text).map_err(|e| Box::new(yaml_error(name, text, &e)))?;
    let value = if value.is_null() { serde_json::Value::Object(Default::default()) } else { value };
    let positions = PositionMap::build(text);
    if let Some((literal, span)) = oversized_integer(&value, "", text, &positions) {
        let message = format!("integer `{literal}` does not fit in 64 bits");
        let mut d = Diagnostic::error(code::RANGE, message, name, Some(span));
        d.help = Some(format!("plan integers range from {} to {}", i64::MIN, u64::MAX));
        return Err(Box::new(d));
    }
    Ok(LoadedFile { name: name.to_string(), path: None, text: text.to_string(), value, positions })
}

/// The first integer literal of the document too large for 64 bits, which
/// YAML parsing turned into an inexact float (decimal) or a string (hex,
/// octal): its text and where it is. A quoted scalar is a string as meant.
/// The source of the scalar at `pointer` when it is an unquoted integer
/// literal (which a string or float value then means did not fit).
fn integer_literal(pointer: &str, text: &str, positions: &PositionMap) -> Option<(String, Span)> {
    let span = positions.get(pointer)?.value;
    let literal = text.get(span.start..span.end)?.trim();
    let digits = literal.trim_start_matches(['-', '+']);
    let all = |s: &str, ok: fn(&u8) -> bool| !s.is_empty() && s.bytes().all(|b| ok(&b));
    let integer = all(digits, u8::is_ascii_digit)
        || digits.strip_prefix("0x").is_some_and(|h| all(h, u8::is_ascii_hexdigit))
        || digits.strip_prefix("0o").is_some_and(|o| all(o, |b| (b'0'..=b'7').contains(b)));
    integer.then(|| (literal.to_string(), span))
}

fn oversized_integer(
    value: &serde_json::Value,
    pointer: &str,
    text: &str,
    positions: &PositionMap,
) -> Option<(String, Span)> {
    use serde_json::Value;
    match value {
        Value::Number(n) if n.is_f64() => integer_literal(pointer, text, positions),
        Value::String(_) => integer_literal(pointer, text, positions),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, v)| {
            oversized_integer(v, &crate::positions::join(pointer, i.to_string()), text, positions)
        }),
        Value::Object(map) => map
            .iter()
            .find_map(|(k, v)| oversized_integer(v, &crate::positions::join(pointer, k), text, positions)),
        _ => None,
    }
}

fn yaml_error(name: &str, text: &str, error: &serde_saphyr::Error) -> Diagnostic {
    let plain = error.without_snippet().to_string();
    let message = plain.lines().next().unwrap_or("invalid YAML").to_string();
    let message = match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message,
    };
    let span = error.location().map(|loc| {
        let line = usize::try_from(loc.line()).unwrap_or(1).max(1);
        let column = usize::try_from(loc.column()).unwrap_or(1).max(1);
        let start = text
            .split_inclusive('\n')
            .take(line - 1)
            .map(str::len)
            .sum::<usize>()
            .saturating_add(
                text.split_inclusive('\n')
                    .nth(line - 1)
                    .map(|l| l.char_indices().nth(column - 1).map_or(l.len(), |(i, _)| i))
                    .unwrap_or(0),
            )
            .min(text.len());
        Span { line, column, start, end: start }
    });
    Diagnostic::error(code::YAML, format!("invalid YAML: {message}"), name, span)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_error_has_position() {
        let err = parse_str("p.yaml", "a: 1\nb: [1, 2\n").unwrap_err();
        assert_eq!(err.code, code::YAML);
        assert!(err.line >= 2, "{err:?}");
    }

    #[test]
    fn integers_beyond_64_bits_are_an_error_at_the_value() {
        let err = parse_str("p.yaml", "a: 1\nb:\n  c: [1, 99999999999999999999999]\n").unwrap_err();
        assert_eq!(err.code, code::RANGE);
        assert_eq!((err.line, err.column), (3, 10), "{err:?}");
        assert_eq!(err.message, "integer `99999999999999999999999` does not fit in 64 bits");
        let err = parse_str("p.yaml", "x: 0x1ffffffffffffffff\n").unwrap_err();
        assert_eq!(err.message, "integer `0x1ffffffffffffffff` does not fit in 64 bits");
        // The largest values and real floats load.
        let f = parse_str(
            "p.yaml",
            "a: 18446744073709551615\nb: -9223372036854775808\nc: 1.5\nd: 1e30\ne: '0x1ffffffffffffffff'\n",
        )
        .unwrap();
        assert_eq!(f.value["a"], u64::MAX);
        assert_eq!(f.value["b"], i64::MIN);
        assert_eq!(f.value["e"], "0x1ffffffffffffffff");
    }

    #[test]
    fn parses_hex_and_positions() {
        let f = parse_str("p.yaml", "opcode: 0x99\nname: x\n").unwrap();
        assert_eq!(f.value["opcode"], 0x99);
        assert_eq!(f.positions.get("/name").unwrap().value.line, 2);
    }
}
