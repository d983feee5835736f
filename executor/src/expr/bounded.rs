//! The string filters whose output can outgrow their input, wrapped so that
//! no evaluation builds a value larger than [`MAX_VALUE_BYTES`].
//!
//! Fuel counts instructions, not bytes: `s|replace("a", "aaaaaaaaaa")`
//! costs one instruction and multiplies the length by ten, so a chain of a
//! dozen of them exhausts memory long before fuel. Each wrapper works out
//! the size of its result from its arguments first (exactly for `replace`
//! and `join`, as an upper bound for `indent` and `format`) and
//! refuses it when it is too large; only then does minijinja's own filter
//! run, so behaviour below the limit is unchanged.

use minijinja::value::{Rest, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind, State};

/// The largest string a filter of an expression may produce, in bytes.
pub const MAX_VALUE_BYTES: usize = 1 << 20;

/// The widest `indent` accepted.
pub const MAX_INDENT: usize = 64;

/// How a filter's result size follows from its arguments.
type Bound = fn(&[Value]) -> Result<usize, Error>;

/// Replaces the growing filters of `env` with bounded ones.
pub fn install(env: &mut Environment<'_>) {
    use minijinja::filters;
    wrap(env, "replace", Value::from_function(filters::replace), replace_len);
    wrap(env, "join", Value::from_function(filters::join), join_len);
    wrap(env, "indent", Value::from_function(filters::indent), indent_len);
    wrap(env, "format", Value::from_function(filters::format), format_len);
}

fn wrap(env: &mut Environment<'_>, name: &'static str, builtin: Value, bound: Bound) {
    env.add_filter(name, move |state: &mut State, args: Rest<Value>| -> Result<Value, Error> {
        let size = bound(&args)?;
        if size > MAX_VALUE_BYTES {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("`{name}` would make a string of {size} bytes; an expression makes at most {MAX_VALUE_BYTES}"),
            ));
        }
        builtin.call(state, &args)
    });
}

/// The text a value stands for in a string filter.
fn text(value: &Value) -> String {
    match value.as_str() {
        Some(s) => s.to_string(),
        None => value.to_string(),
    }
}

fn arg(args: &[Value], i: usize) -> Option<&Value> {
    args.get(i).filter(|v| v.kind() != ValueKind::Map)
}

/// A keyword argument (minijinja passes keywords as a trailing map).
fn keyword(args: &[Value], name: &str) -> Option<Value> {
    let last = args.last().filter(|v| v.kind() == ValueKind::Map)?;
    last.get_attr(name).ok().filter(|v| !v.is_undefined())
}

fn replace_len(args: &[Value]) -> Result<usize, Error> {
    let (Some(value), Some(from), Some(to)) = (arg(args, 0), arg(args, 1), arg(args, 2)) else {
        return Ok(0);
    };
    let (value, from, to) = (text(value), text(from), text(to));
    let (count, removed) = if from.is_empty() {
        (value.chars().count() + 1, 0)
    } else {
        let n = value.matches(from.as_str()).count();
        (n, n * from.len())
    };
    Ok((value.len() - removed).saturating_add(count.saturating_mul(to.len())))
}

fn join_len(args: &[Value]) -> Result<usize, Error> {
    let Some(value) = arg(args, 0) else { return Ok(0) };
    let joiner = arg(args, 1).map_or(0, |j| text(j).len());
    if value.kind() == ValueKind::String {
        let s = text(value);
        return Ok(s.len().saturating_add(s.chars().count().saturating_mul(joiner)));
    }
    let Ok(items) = value.try_iter() else { return Ok(0) };
    let mut size = 0usize;
    for item in items {
        size = size.saturating_add(text(&item).len()).saturating_add(joiner);
        if size > MAX_VALUE_BYTES {
            break;
        }
    }
    Ok(size)
}

fn width(value: Option<Value>) -> Result<usize, Error> {
    let Some(v) = value else { return Ok(0) };
    let w = v.as_usize().unwrap_or(0);
    if w > MAX_INDENT {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("indentation of {w} is too wide: at most {MAX_INDENT}"),
        ));
    }
    Ok(w)
}

fn indent_len(args: &[Value]) -> Result<usize, Error> {
    let Some(value) = arg(args, 0) else { return Ok(0) };
    let w = width(arg(args, 1).cloned().or_else(|| keyword(args, "width")).or(Some(Value::from(4))))?;
    let s = text(value);
    Ok(s.len().saturating_add((s.lines().count() + 1).saturating_mul(w)))
}

/// An upper bound of a printf-style result: the format, every argument's
/// text, and every number in the format (widths and precisions pad).
fn format_len(args: &[Value]) -> Result<usize, Error> {
    let Some(fmt) = arg(args, 0) else { return Ok(0) };
    let fmt = text(fmt);
    let mut size = fmt.len();
    for a in args.iter().skip(1) {
        size = size.saturating_add(text(a).len());
    }
    for number in fmt.split(|c: char| !c.is_ascii_digit()).filter(|n| !n.is_empty()) {
        size = size.saturating_add(number.parse::<usize>().unwrap_or(usize::MAX));
    }
    Ok(size)
}
