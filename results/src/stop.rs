//! Why a run or a step's workers stopped before their end
//! ([`StopReason`]).

use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The note of a run stopped by `--fail-fast`.
const FAIL_FAST: &str = "--fail-fast: a step failed";
/// The text of [`StopReason::InterruptedAgain`]: the note of a report
/// rendered after a second Ctrl-C.
pub const INTERRUPTED_AGAIN: &str = "interrupted again: exited during the current step";
/// The note of a run interrupted by Ctrl-C or SIGTERM.
const INTERRUPTED: &str = "interrupted";
/// How the note of a run that ended on an error starts.
const ERROR_PREFIX: &str = "stopped: ";
/// How the note of a worker stopped by its IO errors starts.
const IO_ERRORS_PREFIX: &str = "IO errors: ";

/// Why a run (or the workers of an `ioworker` step) stopped before its end.
///
/// Serialized as its text ([`StopReason::as_str`]), so that report.json
/// holds one readable sentence; reading the text back gives the same
/// variant, and text this crate does not know (a note of the device's
/// finish, a report of another version) is [`StopReason::Other`]. The
/// variants with data hold their whole text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StopReason {
    /// Ctrl-C, SIGTERM or SIGHUP: `interrupted`.
    Interrupted,
    /// A second Ctrl-C: the tool exited during the current step and the
    /// reports were rendered from report.json.
    InterruptedAgain,
    /// `--fail-fast`, and a step failed or errored.
    FailFast,
    /// A step crashed (a bug in the tool): `step `ID` crashed: WHAT`.
    Crashed(String),
    /// The step's deadline passed: `timed out after 500ms`.
    TimedOut(String),
    /// The run ended on an error of the tool or the transport:
    /// `stopped: ERROR`.
    Error(String),
    /// An ioworker stopped submitting because of its IO errors: at the
    /// first one (no `continue_on_error`), or once they were more than its
    /// `max_errors` (`IO errors: more than max_errors 3 (stopped at error
    /// 4)`); see [`StopReason::first_io_error`] and
    /// [`StopReason::error_budget`].
    IoErrors(String),
    /// Any other note, such as the device's finish failing.
    Other(String),
}

impl StopReason {
    /// A step crashed with the panic message `what`.
    pub fn crashed(step: &str, what: &str) -> StopReason {
        StopReason::Crashed(format!("step `{step}` crashed: {what}"))
    }

    /// The run ended on `error`.
    pub fn error(error: impl fmt::Display) -> StopReason {
        StopReason::Error(format!("{ERROR_PREFIX}{error}"))
    }

    /// A worker stopped at its first IO error (it does not continue on
    /// errors).
    pub fn first_io_error() -> StopReason {
        StopReason::IoErrors(format!("{IO_ERRORS_PREFIX}stopped at the first error (no continue_on_error)"))
    }

    /// A worker stopped at error `max + 1`, one more than its `max_errors`.
    pub fn error_budget(max: u64) -> StopReason {
        StopReason::IoErrors(format!(
            "{IO_ERRORS_PREFIX}more than max_errors {max} (stopped at error {})",
            max.saturating_add(1)
        ))
    }

    /// This reason with a later `note` appended (`REASON; NOTE`).
    pub fn with_note(self, note: &str) -> StopReason {
        StopReason::Other(format!("{self}; {note}"))
    }

    /// The text, as report.json holds it.
    pub fn as_str(&self) -> &str {
        match self {
            StopReason::Interrupted => INTERRUPTED,
            StopReason::InterruptedAgain => INTERRUPTED_AGAIN,
            StopReason::FailFast => FAIL_FAST,
            StopReason::Crashed(text)
            | StopReason::TimedOut(text)
            | StopReason::Error(text)
            | StopReason::IoErrors(text)
            | StopReason::Other(text) => text,
        }
    }

    /// The reason a text names (see [`StopReason::as_str`]).
    pub fn parse(text: &str) -> StopReason {
        match text {
            INTERRUPTED => StopReason::Interrupted,
            INTERRUPTED_AGAIN => StopReason::InterruptedAgain,
            FAIL_FAST => StopReason::FailFast,
            t if t.starts_with("step `") && t.contains("` crashed: ") => StopReason::Crashed(t.into()),
            t if t.starts_with("timed out after ") => StopReason::TimedOut(t.into()),
            t if t.starts_with(ERROR_PREFIX) => StopReason::Error(t.into()),
            t if t.starts_with(IO_ERRORS_PREFIX) => StopReason::IoErrors(t.into()),
            t => StopReason::Other(t.into()),
        }
    }
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text ([`StopReason::as_str`]).
impl Deref for StopReason {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for StopReason {
    fn from(text: &str) -> StopReason {
        StopReason::parse(text)
    }
}

impl From<String> for StopReason {
    fn from(text: String) -> StopReason {
        StopReason::parse(&text)
    }
}

impl Serialize for StopReason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for StopReason {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<StopReason, D::Error> {
        let text = Cow::<str>::deserialize(deserializer)?;
        Ok(StopReason::parse(&text))
    }
}

impl JsonSchema for StopReason {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "StopReason".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_round_trip_through_their_text() {
        let reasons = [
            StopReason::Interrupted,
            StopReason::InterruptedAgain,
            StopReason::FailFast,
            StopReason::crashed("setup/write", "index out of bounds"),
            StopReason::TimedOut("timed out after 500ms".into()),
            StopReason::error("no such device"),
            StopReason::first_io_error(),
            StopReason::error_budget(3),
            StopReason::Other("shutdown: CSTS.SHST never reached complete".into()),
            StopReason::Interrupted.with_note("shutdown timed out"),
        ];
        for r in reasons {
            let json = serde_json::to_value(&r).unwrap();
            assert_eq!(json, serde_json::Value::from(r.as_str()));
            assert_eq!(serde_json::from_value::<StopReason>(json).unwrap(), r);
        }
        assert_eq!(StopReason::FailFast.as_str(), "--fail-fast: a step failed");
        assert_eq!(&*StopReason::crashed("a", "b"), "step `a` crashed: b");
        assert_eq!(StopReason::error("x").as_str(), "stopped: x");
        assert_eq!(
            StopReason::error_budget(3).as_str(),
            "IO errors: more than max_errors 3 (stopped at error 4)"
        );
        assert_eq!(StopReason::from("interrupted"), StopReason::Interrupted);
        assert_eq!(
            StopReason::from("interrupted (Ctrl-C)"),
            StopReason::Other("interrupted (Ctrl-C)".into())
        );
    }
}
