//! [`Size`]: a length or offset written in logical blocks (a bare integer)
//! or in bytes with a binary unit (`4k`, `128KiB`, `1MiB`, `8GiB`, `512B`),
//! and its resolution to blocks with a namespace's LBA size.
//!
//! Units are binary and case-insensitive: `B` = 1, `k`/`KiB`/`KB` = 1024,
//! `M`/`MiB`/`MB` = 1024², `G`/`GiB`/`GB` = 1024³, `T`/`TiB`/`TB` = 1024⁴.
//! `KB` means 1024 bytes, as it does in device URIs (`sim:capacity=64MB`):
//! nvmeplan has no decimal units, so a size never changes meaning between
//! a plan and its device. A string of digits without a unit (`"8"`, as the
//! keys of a weighted `io_size` map are written) counts blocks like a bare
//! integer.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A length or offset: logical blocks, or bytes that the runner divides by
/// the namespace's LBA size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Size {
    /// This many logical blocks.
    Blocks(u64),
    /// This many bytes; a multiple of the LBA size where it is used.
    Bytes(u64),
}

/// Pattern of a size string, as [`Size::from_str`] reads it.
pub const SIZE_PATTERN: &str = "^\\s*[0-9]+\\s*([bBkKmMgGtT]|[kKmMgGtT][iI]?[bB])?\\s*$";

/// The smallest LBA size NVMe formats use; every byte size must be a
/// multiple of it whatever the device.
pub const MIN_LBA_SIZE: u64 = 512;

/// Why a size does not parse or does not resolve to blocks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SizeError {
    /// The text is not a number with an optional unit.
    #[error(
        "`{0}` is not a size: write blocks as a number (`8`) or bytes with a binary unit (`4k`, `4KiB`, `128k`, `1MiB`, `8GiB`, `512B`)"
    )]
    Malformed(String),
    /// The unit is not one of the binary units.
    #[error("`{text}`: unknown size unit `{unit}` (units: B, k/KiB, M/MiB, G/GiB, T/TiB; all binary)")]
    UnknownUnit {
        /// The whole text.
        text: String,
        /// The unit written.
        unit: String,
    },
    /// The byte count does not fit in 64 bits.
    #[error("`{0}` is too large")]
    Overflow(String),
    /// A byte size that is not a whole number of blocks.
    #[error("{size} ({bytes} bytes) is not a multiple of the LBA size of {lba_size} bytes")]
    NotBlockMultiple {
        /// The size as written.
        size: Size,
        /// Its bytes.
        bytes: u64,
        /// The namespace's LBA size.
        lba_size: u64,
    },
}

impl Size {
    /// The number of blocks with LBA size `lba_size` (a power of two of at
    /// least 512 bytes); `Err` when a byte size is not a multiple of it.
    pub fn blocks(self, lba_size: u64) -> Result<u64, SizeError> {
        match self {
            Size::Blocks(n) => Ok(n),
            Size::Bytes(bytes) if lba_size > 0 && bytes % lba_size == 0 => Ok(bytes / lba_size),
            Size::Bytes(bytes) => Err(SizeError::NotBlockMultiple { size: self, bytes, lba_size }),
        }
    }

    /// Checks what can be checked without knowing the LBA size: a byte
    /// size must be a multiple of [`MIN_LBA_SIZE`].
    pub fn check_any_format(self) -> Result<(), SizeError> {
        self.blocks(MIN_LBA_SIZE).map(|_| ())
    }
}

impl FromStr for Size {
    type Err = SizeError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let text = input.trim();
        let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
        let (digits, unit) = text.split_at(split);
        if digits.is_empty() {
            return Err(SizeError::Malformed(input.to_string()));
        }
        let n: u64 = digits.parse().map_err(|_| SizeError::Overflow(input.to_string()))?;
        let unit = unit.trim_start();
        let shift = match unit.to_ascii_lowercase().as_str() {
            "" => return Ok(Size::Blocks(n)),
            "b" => 0,
            "k" | "kb" | "kib" => 10,
            "m" | "mb" | "mib" => 20,
            "g" | "gb" | "gib" => 30,
            "t" | "tb" | "tib" => 40,
            _ if unit.chars().all(|c| c.is_ascii_alphabetic()) => {
                return Err(SizeError::UnknownUnit { text: input.to_string(), unit: unit.to_string() });
            }
            _ => return Err(SizeError::Malformed(input.to_string())),
        };
        n.checked_mul(1u64 << shift).map(Size::Bytes).ok_or_else(|| SizeError::Overflow(input.to_string()))
    }
}

impl fmt::Display for Size {
    /// Blocks as a bare number; bytes in the largest unit that divides them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Size::Blocks(n) => write!(f, "{n}"),
            Size::Bytes(b) => {
                for (shift, unit) in [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")] {
                    if b != 0 && b % (1u64 << shift) == 0 {
                        return write!(f, "{}{unit}", b >> shift);
                    }
                }
                write!(f, "{b}B")
            }
        }
    }
}

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::Number(n) => n.as_u64().map(Size::Blocks).ok_or_else(|| {
                serde::de::Error::custom(format!("a size is a whole number of blocks from 0, found {n}"))
            }),
            serde_json::Value::String(s) => s.parse().map_err(serde::de::Error::custom),
            other => Err(serde::de::Error::custom(format!(
                "expected a size (blocks such as `8`, or bytes such as `4k` or `1MiB`), found {other}"
            ))),
        }
    }
}

impl Serialize for Size {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Size::Blocks(n) => serializer.serialize_u64(*n),
            Size::Bytes(_) => serializer.serialize_str(&self.to_string()),
        }
    }
}

impl JsonSchema for Size {
    fn schema_name() -> Cow<'static, str> {
        "Size".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A size: logical blocks as a bare integer (`8`), or bytes with a binary unit, case-insensitive: `B`, `k`/`KiB`/`KB` (1024), `M`/`MiB`/`MB` (1024^2), `G`/`GiB`/`GB` (1024^3), `T`/`TiB`/`TB` (1024^4), e.g. `4k`, `128KiB`, `1MiB`, `8GiB`, `512B`. A byte size must be a multiple of the namespace's LBA size.",
            "anyOf": [
                { "type": "integer", "minimum": 0 },
                { "type": "string", "pattern": SIZE_PATTERN }
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn documented_spellings_parse() {
        let cases = [
            ("8", Size::Blocks(8)),
            ("4k", Size::Bytes(4096)),
            ("4K", Size::Bytes(4096)),
            ("4KiB", Size::Bytes(4096)),
            ("4KB", Size::Bytes(4096)),
            ("128k", Size::Bytes(128 << 10)),
            ("1MiB", Size::Bytes(1 << 20)),
            ("1M", Size::Bytes(1 << 20)),
            ("8GiB", Size::Bytes(8 << 30)),
            (" 512 B ", Size::Bytes(512)),
            ("512b", Size::Bytes(512)),
            ("2T", Size::Bytes(2 << 40)),
        ];
        for (text, want) in cases {
            assert_eq!(text.parse::<Size>(), Ok(want), "{text}");
        }
    }

    #[test]
    fn malformed_sizes_say_what_a_size_is() {
        assert!(matches!("k".parse::<Size>(), Err(SizeError::Malformed(_))));
        assert!(matches!("1.5M".parse::<Size>(), Err(SizeError::Malformed(_))));
        assert!(matches!("-4k".parse::<Size>(), Err(SizeError::Malformed(_))));
        let e = "4kb2".parse::<Size>().unwrap_err();
        assert!(matches!(e, SizeError::Malformed(_)), "{e:?}");
        let e = "4 sectors".parse::<Size>().unwrap_err().to_string();
        assert!(e.contains("unknown size unit `sectors`"), "{e}");
        assert!(matches!("99999999999999999999".parse::<Size>(), Err(SizeError::Overflow(_))));
        assert!(matches!("17179869184T".parse::<Size>(), Err(SizeError::Overflow(_))));
    }

    #[test]
    fn bytes_resolve_to_blocks_of_the_lba_size() {
        assert_eq!(Size::Bytes(1 << 20).blocks(512), Ok(2048));
        assert_eq!(Size::Bytes(1 << 20).blocks(4096), Ok(256));
        assert_eq!(Size::Blocks(7).blocks(4096), Ok(7));
        let e = Size::Bytes(6 << 10).blocks(4096).unwrap_err().to_string();
        assert_eq!(e, "6KiB (6144 bytes) is not a multiple of the LBA size of 4096 bytes");
        assert!(Size::Bytes(1000).check_any_format().is_err());
        assert!(Size::Bytes(1536).check_any_format().is_ok());
    }

    #[test]
    fn json_numbers_are_blocks_and_strings_are_parsed() {
        assert_eq!(serde_json::from_str::<Size>("16").unwrap(), Size::Blocks(16));
        assert_eq!(serde_json::from_str::<Size>("\"64k\"").unwrap(), Size::Bytes(65536));
        assert!(serde_json::from_str::<Size>("-1").is_err());
        assert!(serde_json::from_str::<Size>("1.5").is_err());
        assert!(serde_json::from_str::<Size>("true").is_err());
    }

    fn unit() -> impl Strategy<Value = (&'static str, u32)> {
        prop::sample::select(vec![
            ("B", 0),
            ("b", 0),
            ("k", 10),
            ("K", 10),
            ("KiB", 10),
            ("kib", 10),
            ("KB", 10),
            ("M", 20),
            ("MiB", 20),
            ("MB", 20),
            ("G", 30),
            ("GiB", 30),
            ("T", 40),
            ("TiB", 40),
        ])
    }

    proptest! {
        #[test]
        fn a_number_with_a_unit_is_that_many_bytes(n in 0u64..(1 << 20), (u, shift) in unit(), space in " {0,2}") {
            let text = format!("{space}{n}{space}{u}{space}");
            prop_assert_eq!(text.parse::<Size>(), Ok(Size::Bytes(n << shift)));
        }

        #[test]
        fn display_parses_back_to_the_same_bytes(bytes in any::<u64>()) {
            let size = Size::Bytes(bytes);
            prop_assert_eq!(size.to_string().parse::<Size>(), Ok(size));
        }

        #[test]
        fn a_bare_number_counts_blocks(n in any::<u64>()) {
            prop_assert_eq!(n.to_string().parse::<Size>(), Ok(Size::Blocks(n)));
            prop_assert_eq!(serde_json::from_str::<Size>(&n.to_string()).unwrap(), Size::Blocks(n));
        }

        #[test]
        fn blocks_times_lba_size_is_the_byte_size(blocks in 0u64..(1 << 30), lba_shift in 9u32..17) {
            let lba = 1u64 << lba_shift;
            prop_assert_eq!(Size::Bytes(blocks * lba).blocks(lba), Ok(blocks));
            prop_assert!(Size::Bytes(blocks * lba + lba / 2).blocks(lba).is_err());
        }

        #[test]
        fn the_schema_pattern_accepts_exactly_the_strings_that_parse(text in "[ 0-9bBkKiImMgGtTx.-]{0,8}") {
            let schema = serde_json::json!({ "type": "string", "pattern": SIZE_PATTERN });
            let parsed = text.parse::<Size>();
            let parses = parsed.is_ok() || matches!(parsed, Err(SizeError::Overflow(_)));
            prop_assert_eq!(jsonschema::is_valid(&schema, &serde_json::json!(text)), parses, "{:?}", parsed);
        }
    }
}
