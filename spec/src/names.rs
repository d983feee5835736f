//! Spelling help for the names this crate defines.
//!
//! Plans and reports spell statuses, opcodes, features and fields by name.
//! Every name is snake_case (`lba_out_of_range`, `number_of_queues`); the
//! kebab-case spelling (`lba-out-of-range`) and any ASCII case are accepted
//! as aliases ([`canonical`]), and a misspelt name is answered with the
//! closest real one ([`closest`]).

/// The canonical spelling of a name: trimmed, ASCII lowercase, `-` as `_`.
pub fn canonical(name: &str) -> String {
    name.trim().to_ascii_lowercase().replace('-', "_")
}

/// Levenshtein distance between `a` and `b`, in characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The candidate closest to `input`, when it is close enough to be a typo:
/// at most a third of the candidate's length (and at least 2) edits away,
/// and fewer edits than `input` has characters. Both sides are compared in
/// their [`canonical`] spelling, so `-` against `_` and case cost nothing.
pub fn closest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let input = canonical(input);
    let input = input.as_str();
    let candidates: Vec<&'a str> = candidates.into_iter().collect();
    let typo = candidates
        .iter()
        .map(|c| (edit_distance(input, &canonical(c)), *c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(2) && *d < input.len().max(1))
        .min()
        .map(|(_, c)| c);
    typo.or_else(|| word_prefix(input, &candidates))
}

/// The longest candidate that shares whole `_`-separated words with the
/// start of `input` (`smart_health` → `smart`, `number_of` →
/// `number_of_queues`): a name given with a word too many or too few.
fn word_prefix<'a>(input: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let starts = |long: &str, short: &str| long.strip_prefix(short).is_some_and(|rest| rest.starts_with('_'));
    candidates
        .iter()
        .filter(|c| {
            let c = canonical(c);
            !input.is_empty() && (starts(input, &c) || starts(&c, input))
        })
        .max_by_key(|c| c.len())
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_typos_and_ignores_strangers() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(closest("lba-out-of-rnage", ["lba_out_of_range", "success"]), Some("lba_out_of_range"));
        assert_eq!(closest("xyz", ["lba_out_of_range", "success"]), None);
        assert_eq!(closest("", ["a"]), None);
        assert_eq!(
            closest("invalid_field_in_comand", ["invalid_field_in_command"]),
            Some("invalid_field_in_command")
        );
        assert_eq!(
            closest("INVALID-FIELD-IN-COMAND", ["invalid_field_in_command"]),
            Some("invalid_field_in_command")
        );
        assert_eq!(closest("smart_health", ["error", "smart", "sanitize"]), Some("smart"));
        assert_eq!(closest("number_of", ["number_of_queues", "arbitration"]), Some("number_of_queues"));
        assert_eq!(closest("smartphone", ["smart"]), None, "a prefix inside a word is not a word prefix");
    }
}
