//! `${{ expression }}` values, evaluated with minijinja.
//!
//! Expressions appear only inside values (and as the whole of `when` and
//! `assert`); the plan file is never templated before parsing. A value that
//! is exactly one `${{ expr }}` keeps the expression's type (a number stays a
//! number); text mixed with expressions renders to a string.
//!
//! Evaluation uses strict undefined behaviour (an unknown name is an error,
//! not an empty string) and a fuel limit so a runaway expression stops; the
//! string filters that can multiply a length are bounded ([`bounded`]).

use std::collections::BTreeSet;

pub mod bounded;

use minijinja::{Environment, UndefinedBehavior};
use serde::{Deserialize, Serialize};

/// The fuel one evaluation may spend (minijinja instructions).
pub const FUEL: u64 = 50_000;

/// The opening delimiter of an expression.
pub const OPEN: &str = "${{";
/// The closing delimiter of an expression.
pub const CLOSE: &str = "}}";

/// The longest expression accepted, in bytes (deeply nested expressions
/// could otherwise exhaust the stack while compiling).
pub const MAX_EXPRESSION_LEN: usize = 1024;

/// Names every expression may use besides plan variables and saved results.
pub const BUILTIN_ROOTS: &[&str] = &["vars", "ctrl", "ns", "cap", "env", "interrupts"];

/// A piece of a [`Template`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment<'a> {
    /// Literal text.
    Text(&'a str),
    /// The source of one expression, without delimiters, and its byte offset
    /// in the template.
    Expr(&'a str, usize),
}

/// Why a template or expression is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExprError {
    /// A `${{` without its `}}`.
    #[error("unterminated `${{{{`: missing `}}}}`")]
    Unterminated,
    /// Nothing between the delimiters.
    #[error("empty expression `${{{{ }}}}`")]
    Empty,
    /// minijinja could not parse the expression.
    #[error("invalid expression `{expr}`: {message}")]
    Syntax {
        /// The expression.
        expr: String,
        /// minijinja's description.
        message: String,
    },
    /// Evaluation failed (undefined name, type error, fuel exhausted, ...).
    #[error("cannot evaluate `{expr}`: {message}")]
    Eval {
        /// The expression.
        expr: String,
        /// minijinja's description.
        message: String,
    },
}

/// A string that may contain `${{ expression }}` parts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Template(String);

impl Template {
    /// Wraps a source string.
    pub fn new(source: impl Into<String>) -> Self {
        Template(source.into())
    }

    /// The template as written.
    pub fn source(&self) -> &str {
        &self.0
    }

    /// Whether the string contains any `${{`.
    pub fn has_expressions(&self) -> bool {
        self.0.contains(OPEN)
    }

    /// Splits the template into text and expressions.
    pub fn segments(&self) -> Result<Vec<Segment<'_>>, ExprError> {
        let mut out = Vec::new();
        let mut rest = self.0.as_str();
        let mut offset = 0;
        while let Some(start) = rest.find(OPEN) {
            if start > 0 {
                out.push(Segment::Text(&rest[..start]));
            }
            let after = &rest[start + OPEN.len()..];
            let end = after.find(CLOSE).ok_or(ExprError::Unterminated)?;
            let expr = after[..end].trim();
            if expr.is_empty() {
                return Err(ExprError::Empty);
            }
            let lead = after[..end].len() - after[..end].trim_start().len();
            out.push(Segment::Expr(expr, offset + start + OPEN.len() + lead));
            let consumed = start + OPEN.len() + end + CLOSE.len();
            offset += consumed;
            rest = &rest[consumed..];
        }
        if !rest.is_empty() {
            out.push(Segment::Text(rest));
        }
        Ok(out)
    }

    /// The expression source if the whole template (ignoring surrounding
    /// whitespace) is one `${{ expr }}`.
    pub fn single_expression(&self) -> Option<&str> {
        match self.segments().ok()?.as_slice() {
            [Segment::Expr(e, _)] => Some(e),
            [Segment::Text(a), Segment::Expr(e, _)] if a.trim().is_empty() => Some(e),
            [Segment::Expr(e, _), Segment::Text(b)] if b.trim().is_empty() => Some(e),
            [Segment::Text(a), Segment::Expr(e, _), Segment::Text(b)]
                if a.trim().is_empty() && b.trim().is_empty() =>
            {
                Some(e)
            }
            _ => None,
        }
    }

    /// Whether the template is exactly one expression.
    pub fn is_single_expression(&self) -> bool {
        self.single_expression().is_some()
    }

    /// Evaluates the template: a single expression keeps its type, anything
    /// else renders to a string.
    pub fn eval(&self, engine: &Engine, context: &serde_json::Value) -> Result<serde_json::Value, ExprError> {
        if let Some(expr) = self.single_expression() {
            return engine.eval(expr, context);
        }
        self.render(engine, context).map(serde_json::Value::String)
    }

    /// Renders the template to text.
    pub fn render(&self, engine: &Engine, context: &serde_json::Value) -> Result<String, ExprError> {
        let mut out = String::new();
        for segment in self.segments()? {
            match segment {
                Segment::Text(t) => out.push_str(t),
                Segment::Expr(e, _) => match engine.eval(e, context)? {
                    serde_json::Value::String(s) => out.push_str(&s),
                    other => out.push_str(&other.to_string()),
                },
            }
        }
        Ok(out)
    }
}

/// The expression engine: a minijinja environment with strict undefined
/// behaviour and a fuel limit.
#[derive(Debug)]
pub struct Engine {
    env: Environment<'static>,
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new()
    }
}

impl Engine {
    /// A new engine with the default fuel ([`FUEL`]).
    pub fn new() -> Self {
        Engine::with_fuel(FUEL)
    }

    /// A new engine that allows `fuel` instructions per evaluation.
    pub fn with_fuel(fuel: u64) -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_fuel(Some(fuel));
        env.set_recursion_limit(64);
        bounded::install(&mut env);
        Engine { env }
    }

    fn compile<'e>(&'e self, expr: &'e str) -> Result<minijinja::Expression<'e, 'e>, ExprError> {
        if expr.len() > MAX_EXPRESSION_LEN {
            return Err(ExprError::Syntax {
                expr: format!("{}...", expr.chars().take(40).collect::<String>()),
                message: format!("expression longer than {MAX_EXPRESSION_LEN} bytes"),
            });
        }
        self.env
            .compile_expression(expr)
            .map_err(|e| ExprError::Syntax { expr: expr.to_string(), message: describe(&e) })
    }

    fn globals(&self) -> BTreeSet<String> {
        self.env.globals().map(|(name, _)| name.to_string()).collect()
    }

    /// Checks the syntax of an expression and returns the variables it reads
    /// that the engine does not define, with attribute paths
    /// (`matrix.qd`, `ns`, `blocks`).
    pub fn check(&self, expr: &str) -> Result<BTreeSet<String>, ExprError> {
        let compiled = self.compile(expr)?;
        let globals = self.globals();
        Ok(compiled
            .undeclared_variables(true)
            .into_iter()
            .filter(|name| !globals.contains(name.split('.').next().unwrap_or(name)))
            .collect())
    }

    /// Evaluates one expression (no delimiters) against a JSON context.
    pub fn eval(&self, expr: &str, context: &serde_json::Value) -> Result<serde_json::Value, ExprError> {
        let compiled = self.compile(expr)?;
        let value = compiled
            .eval(minijinja::Value::from(minijinja::value::Serde(context)))
            .map_err(|e| ExprError::Eval { expr: expr.to_string(), message: describe(&e) })?;
        if value.is_undefined() {
            return Err(ExprError::Eval {
                expr: expr.to_string(),
                message: "the result is undefined".into(),
            });
        }
        serde_json::to_value(&value)
            .map_err(|e| ExprError::Eval { expr: expr.to_string(), message: e.to_string() })
    }

    /// Evaluates a condition (`when`, `assert`): the whole string is an
    /// expression, optionally wrapped in `${{ }}`; the result's truthiness.
    pub fn eval_condition(&self, condition: &str, context: &serde_json::Value) -> Result<bool, ExprError> {
        let expr = condition_expression(condition);
        let value = self.eval(expr, context)?;
        Ok(match value {
            serde_json::Value::Null => false,
            serde_json::Value::Bool(b) => b,
            serde_json::Value::Number(n) => n.as_f64() != Some(0.0),
            serde_json::Value::String(s) => !s.is_empty(),
            serde_json::Value::Array(a) => !a.is_empty(),
            serde_json::Value::Object(o) => !o.is_empty(),
        })
    }
}

/// The expression of a condition: the text inside `${{ }}` if it is wrapped,
/// else the whole text.
pub fn condition_expression(condition: &str) -> &str {
    let trimmed = condition.trim();
    match trimmed.strip_prefix(OPEN).and_then(|t| t.strip_suffix(CLOSE)) {
        Some(inner) if !inner.contains(OPEN) => inner.trim(),
        _ => trimmed,
    }
}

fn describe(error: &minijinja::Error) -> String {
    let mut message = error.detail().map(str::to_string).unwrap_or_else(|| error.kind().to_string());
    if message.is_empty() {
        message = error.to_string();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx() -> serde_json::Value {
        json!({ "blocks": 8, "matrix": { "qd": 4 }, "ns": [null, { "nsze": 1024 }], "name": "x" })
    }

    #[test]
    fn single_expression_keeps_type() {
        let engine = Engine::new();
        assert_eq!(Template::new("${{ blocks }}").eval(&engine, &ctx()).unwrap(), json!(8));
        assert_eq!(Template::new("  ${{ blocks * 2 }} ").eval(&engine, &ctx()).unwrap(), json!(16));
        assert_eq!(Template::new("${{ matrix.qd }}").eval(&engine, &ctx()).unwrap(), json!(4));
        assert_eq!(Template::new("${{ blocks > 4 }}").eval(&engine, &ctx()).unwrap(), json!(true));
    }

    #[test]
    fn mixed_text_is_a_string() {
        let engine = Engine::new();
        let v = Template::new("wrote ${{ blocks }} blocks to ${{ name }}").eval(&engine, &ctx()).unwrap();
        assert_eq!(v, json!("wrote 8 blocks to x"));
        assert_eq!(Template::new("plain").eval(&engine, &ctx()).unwrap(), json!("plain"));
    }

    #[test]
    fn namespaces_are_indexed_by_nsid() {
        let engine = Engine::new();
        let v = Template::new("${{ ns[1].nsze - 1 }}").eval(&engine, &ctx()).unwrap();
        assert_eq!(v, json!(1023));
    }

    #[test]
    fn strict_undefined() {
        let engine = Engine::new();
        let err = Template::new("${{ nope + 1 }}").eval(&engine, &ctx()).unwrap_err();
        assert!(matches!(err, ExprError::Eval { .. }), "{err}");
        let err = Template::new("${{ matrix.nope }}").eval(&engine, &ctx()).unwrap_err();
        assert!(matches!(err, ExprError::Eval { .. }), "{err}");
    }

    #[test]
    fn fuel_stops_runaway_expressions() {
        let engine = Engine::with_fuel(50);
        let long = vec!["blocks"; 100].join(" + ");
        let err = engine.eval(&long, &ctx()).unwrap_err();
        assert!(matches!(err, ExprError::Eval { .. }), "{err}");
        assert!(Engine::new().eval(&long, &ctx()).is_ok());
        let huge = vec!["blocks"; 40_000].join(" + ");
        assert!(matches!(Engine::new().check(&huge), Err(ExprError::Syntax { .. })));
    }

    #[test]
    fn syntax_errors_and_delimiters() {
        let engine = Engine::new();
        assert!(matches!(engine.check("1 +"), Err(ExprError::Syntax { .. })));
        assert_eq!(Template::new("a ${{ b").segments(), Err(ExprError::Unterminated));
        assert_eq!(Template::new("${{ }}").segments(), Err(ExprError::Empty));
        let t = Template::new("x${{ a }}y");
        assert_eq!(
            t.segments().unwrap(),
            vec![Segment::Text("x"), Segment::Expr("a", 5), Segment::Text("y")]
        );
        assert!(!t.is_single_expression());
    }

    #[test]
    fn undeclared_variables_with_paths() {
        let engine = Engine::new();
        let vars = engine.check("matrix.qd * blocks + ns[1].nsze + range(3) | length").unwrap();
        assert!(vars.contains("matrix.qd"), "{vars:?}");
        assert!(vars.contains("blocks"));
        assert!(vars.iter().any(|v| v.starts_with("ns")));
        assert!(!vars.iter().any(|v| v.starts_with("range")));
    }

    #[test]
    fn conditions() {
        let engine = Engine::new();
        assert!(engine.eval_condition("blocks == 8", &ctx()).unwrap());
        assert!(!engine.eval_condition("${{ blocks < 8 }}", &ctx()).unwrap());
        assert_eq!(condition_expression(" ${{ a and b }} "), "a and b");
    }

    #[test]
    fn growing_filters_stop_at_the_size_limit_not_at_memory_exhaustion() {
        let engine = Engine::new();
        let start = std::time::Instant::now();
        // Each replace multiplies the length by ten: 10^12 bytes if it ran.
        let bomb = format!("'aa'{}", "|replace('a', 'aaaaaaaaaa')".repeat(12));
        let err = engine.eval(&bomb, &ctx()).unwrap_err().to_string();
        assert!(err.contains("`replace` would make a string of") && err.contains("at most 1048576"), "{err}");
        let err = engine.eval("range(100000)|join('x' * 100)", &ctx()).unwrap_err().to_string();
        assert!(err.contains("`join` would make a string"), "{err}");
        let err = engine.eval("'a\nb'|indent(1000000000)", &ctx()).unwrap_err().to_string();
        assert!(err.contains("indentation of 1000000000 is too wide"), "{err}");
        let err = engine.eval("'%999999999d'|format(1)", &ctx()).unwrap_err().to_string();
        assert!(err.contains("`format` would make a string"), "{err}");
        assert!(start.elapsed() < std::time::Duration::from_secs(2), "{:?}", start.elapsed());
        // Below the limit the filters behave as minijinja's own.
        assert_eq!(engine.eval("'a-b'|replace('-', '+')", &ctx()).unwrap(), json!("a+b"));
        assert_eq!(engine.eval("'ab'|replace('', '.')", &ctx()).unwrap(), json!(".a.b."));
        assert_eq!(engine.eval("[1, 2, 3]|join(', ')", &ctx()).unwrap(), json!("1, 2, 3"));
        assert_eq!(engine.eval("'a\nb'|indent(2)", &ctx()).unwrap(), json!("a\n  b"));
        assert_eq!(engine.eval("'%04d'|format(7)", &ctx()).unwrap(), json!("0007"));
    }
}
