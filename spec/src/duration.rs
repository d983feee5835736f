//! The text form of a duration, shared by plans, device URIs and faults.
//!
//! NVMe itself counts time in register units (CAP.TO is 500 ms), but every
//! duration a user writes for nvmeplan (a plan's `sleep:`, the simulator's
//! `latency=` and `ready_delay=`, a fault's `delay=`) goes through
//! [`parse_duration`], so one spelling means one length everywhere. A unit is
//! always required: a bare number has no single obvious meaning.

use std::time::Duration;

/// The units [`parse_duration`] accepts, as written in messages and docs.
pub const UNITS: &str = "ns, us, ms, s, m, h";

/// Why a duration did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseDurationError {
    /// A number without a unit.
    #[error("invalid duration `{0}`: write `500ms` or `2s`: a duration needs a unit ({UNITS})")]
    MissingUnit(String),
    /// A unit other than the accepted ones.
    #[error("invalid duration `{text}`: unknown unit `{unit}`, expected one of {UNITS}")]
    UnknownUnit {
        /// The whole text.
        text: String,
        /// The unit as written.
        unit: String,
    },
    /// Not a number followed by a unit, or too long to represent.
    #[error("invalid duration `{0}`: expected a number with a unit ({UNITS}), such as `500ms` or `2s`")]
    Invalid(String),
}

/// Parses a non-negative number with a unit: `100ns`, `50us` (or `50µs`),
/// `500ms`, `2s`, `1.5s`, `2m` (or `2min`), `1h`. Whitespace around the
/// number and unit is ignored; the unit is case-insensitive.
pub fn parse_duration(input: &str) -> Result<Duration, ParseDurationError> {
    let text = input.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let unit = unit.trim();
    let valid_number = !number.is_empty()
        && !number.starts_with('.')
        && !number.ends_with('.')
        && number.bytes().filter(|&b| b == b'.').count() <= 1;
    if !valid_number {
        return Err(ParseDurationError::Invalid(input.to_string()));
    }
    let nanos_per_unit: u64 = match unit.to_lowercase().as_str() {
        "" => return Err(ParseDurationError::MissingUnit(input.to_string())),
        "ns" => 1,
        "us" | "µs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" | "min" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => {
            return Err(ParseDurationError::UnknownUnit { text: input.to_string(), unit: unit.to_string() });
        }
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let invalid = || ParseDurationError::Invalid(input.to_string());
    let whole: u64 = whole.parse().map_err(|_| invalid())?;
    let mut nanos = u128::from(whole) * u128::from(nanos_per_unit);
    // Exact decimal arithmetic: `0.1s` is 100 ms, not the nearest f64.
    let mut scale = u128::from(nanos_per_unit);
    for digit in fraction.bytes() {
        scale /= 10;
        nanos += u128::from(digit - b'0') * scale;
    }
    let secs = u64::try_from(nanos / 1_000_000_000).map_err(|_| invalid())?;
    // The remainder of a division by 1e9 fits in u32.
    let subsec = (nanos % 1_000_000_000) as u32;
    Ok(Duration::new(secs, subsec))
}

/// Formats a duration in the largest unit that keeps it whole (`2s`, `50ms`,
/// `20us`, `7ns`), a form [`parse_duration`] reads back unchanged.
pub fn format_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns.is_multiple_of(1_000_000_000) {
        format!("{}s", ns / 1_000_000_000)
    } else if ns.is_multiple_of(1_000_000) {
        format!("{}ms", ns / 1_000_000)
    } else if ns.is_multiple_of(1_000) {
        format!("{}us", ns / 1_000)
    } else {
        format!("{ns}ns")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unit_parses() {
        assert_eq!(parse_duration("100ns"), Ok(Duration::from_nanos(100)));
        assert_eq!(parse_duration("50us"), Ok(Duration::from_micros(50)));
        assert_eq!(parse_duration("50µs"), Ok(Duration::from_micros(50)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration(" 2 S "), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("2min"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("0us"), Ok(Duration::ZERO));
    }

    #[test]
    fn fractions_are_exact() {
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("0.1s"), Ok(Duration::from_millis(100)));
        assert_eq!(parse_duration("2.5us"), Ok(Duration::from_nanos(2500)));
    }

    #[test]
    fn a_bare_number_is_an_error_with_a_hint() {
        for text in ["5", "0", "1.5", " 500 "] {
            let err = parse_duration(text).unwrap_err();
            assert_eq!(err, ParseDurationError::MissingUnit(text.to_string()));
            assert!(err.to_string().contains("write `500ms` or `2s`: a duration needs a unit"), "{err}");
        }
    }

    #[test]
    fn malformed_text_is_rejected() {
        assert!(matches!(parse_duration("fast"), Err(ParseDurationError::Invalid(_))));
        assert!(matches!(parse_duration(""), Err(ParseDurationError::Invalid(_))));
        assert!(matches!(parse_duration("-1s"), Err(ParseDurationError::Invalid(_))));
        assert!(matches!(parse_duration("1..5s"), Err(ParseDurationError::Invalid(_))));
        assert!(matches!(parse_duration(".5s"), Err(ParseDurationError::Invalid(_))));
        assert!(matches!(parse_duration("5d"), Err(ParseDurationError::UnknownUnit { .. })));
        assert!(matches!(parse_duration("99999999999999999999h"), Err(ParseDurationError::Invalid(_))));
    }

    #[test]
    fn formatting_round_trips() {
        for d in [
            Duration::from_secs(3),
            Duration::from_millis(20),
            Duration::from_micros(7),
            Duration::from_nanos(9),
        ] {
            assert_eq!(parse_duration(&format_duration(d)), Ok(d));
        }
    }
}
