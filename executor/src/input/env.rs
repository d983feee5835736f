//! The environment rule: expressions see only environment variables whose
//! names start with [`PREFIX`] or that the user named with `--env NAME`, so
//! CI tokens and other secrets never reach `env`, `debug()` or a report.

use serde_json::{Map, Value};

/// Variables with names starting with this are always visible.
pub const PREFIX: &str = "NVMEPLAN_";

/// Whether expressions may read the variable `name`, given the `--env`
/// names.
pub fn is_visible(name: &str, allowed: &[String]) -> bool {
    name.starts_with(PREFIX) || allowed.iter().any(|a| a == name)
}

/// The `env` object of expressions: the visible variables of `vars`.
pub fn visible_from(
    vars: impl IntoIterator<Item = (String, String)>,
    allowed: &[String],
) -> Map<String, Value> {
    vars.into_iter().filter(|(k, _)| is_visible(k, allowed)).map(|(k, v)| (k, Value::String(v))).collect()
}

/// The `env` object of expressions from the process environment (variables
/// that are not valid Unicode are left out).
pub fn visible(allowed: &[String]) -> Map<String, Value> {
    visible_from(
        std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
        allowed,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_prefixed_and_allowed_names() {
        let vars = [("NVMEPLAN_LAB", "a"), ("CI_TOKEN", "secret"), ("HOME", "/root"), ("NVMEPLANX", "b")]
            .map(|(k, v)| (k.to_string(), v.to_string()));
        let env = visible_from(vars.clone(), &[]);
        assert_eq!(env.keys().collect::<Vec<_>>(), ["NVMEPLAN_LAB"]);
        let env = visible_from(vars, &["HOME".to_string()]);
        assert_eq!(env.keys().collect::<Vec<_>>(), ["HOME", "NVMEPLAN_LAB"]);
        assert!(!is_visible("CI_TOKEN", &["HOME".into()]));
    }
}
