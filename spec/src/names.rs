//! Spelling help for the names this crate defines.
//!
//! Plans and reports spell statuses, opcodes, features and fields by name; a
//! misspelt name should be answered with the closest real one.

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
/// and fewer edits than `input` has characters.
pub fn closest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (edit_distance(input, c), c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(2) && *d < input.len().max(1))
        .min()
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_typos_and_ignores_strangers() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(closest("lba-out-of-rnage", ["lba-out-of-range", "success"]), Some("lba-out-of-range"));
        assert_eq!(closest("xyz", ["lba-out-of-range", "success"]), None);
        assert_eq!(closest("", ["a"]), None);
    }
}
