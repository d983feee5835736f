//! Why a step is skipped before it runs: [`SkipReason`]. The runner
//! decides on the variant (a tag filter that leaves a group to its leaves,
//! a `when` that skips the whole group); the report and the console get its
//! text through [`Display`](std::fmt::Display).

use std::fmt;

/// Why a step does not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// `--tags` is given and the step has none of those tags.
    NotTagged {
        /// The `--tags` values.
        wanted: Vec<String>,
    },
    /// The step has a tag that `--skip-tags` names.
    Tagged {
        /// The tag found.
        tag: String,
    },
    /// A `requires` capability is missing (or could not be read).
    Requires {
        /// What is missing and why, as the capability check says it.
        reason: String,
    },
    /// The step's `when` condition is false.
    WhenFalse {
        /// The condition's expression.
        expression: String,
    },
}

impl SkipReason {
    /// Whether the reason comes from a tag filter of the command line that
    /// applies to leaf steps only: a group with it still runs its children,
    /// which may carry the wanted tags themselves.
    pub fn applies_to_leaves_only(&self) -> bool {
        matches!(self, SkipReason::NotTagged { .. })
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::NotTagged { wanted } => write!(f, "tags filtered: not tagged {}", wanted.join(", ")),
            SkipReason::Tagged { tag } => write!(f, "tags filtered: tagged {tag}"),
            SkipReason::Requires { reason } => f.write_str(reason),
            SkipReason::WhenFalse { expression } => write!(f, "when `{expression}` is false"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_is_the_reports_and_only_a_tag_filter_leaves_groups_to_their_leaves() {
        let not_tagged = SkipReason::NotTagged { wanted: vec!["slow".into(), "io".into()] };
        assert_eq!(not_tagged.to_string(), "tags filtered: not tagged slow, io");
        assert!(not_tagged.applies_to_leaves_only());
        let others = [
            (SkipReason::Tagged { tag: "slow".into() }, "tags filtered: tagged slow"),
            (SkipReason::Requires { reason: "requires sim (x)".into() }, "requires sim (x)"),
            (SkipReason::WhenFalse { expression: "n > 1".into() }, "when `n > 1` is false"),
        ];
        for (reason, text) in others {
            assert_eq!(reason.to_string(), text);
            assert!(!reason.applies_to_leaves_only(), "{reason}");
        }
        // A requirement whose text happens to read like a tag filter is still a requirement.
        let lookalike = SkipReason::Requires { reason: "tags filtered: not tagged x".into() };
        assert!(!lookalike.applies_to_leaves_only());
    }
}
