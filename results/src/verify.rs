//! A block that did not hold what data verification expected
//! ([`Mismatch`]), and what differed ([`MismatchKind`]).

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What kind of mismatch a check found. Serialized by its snake_case name
/// (`stamp`, `crc`, `unexpected_data`, `read_succeeded`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MismatchKind {
    /// The block's stamp names another LBA (data from another LBA).
    /// `expected` is the LBA, `found` the stamped value.
    Stamp,
    /// The CRC32 differs from the one recorded at the write. `expected` and
    /// `found` are CRCs.
    Crc,
    /// Zeroes were expected but the block holds data. `expected` is 0,
    /// `found` the offset of the first non-zero byte.
    UnexpectedData,
    /// The LBA was made uncorrectable, yet the read succeeded. `expected`
    /// and `found` are 0.
    ReadSucceeded,
}

impl MismatchKind {
    /// The serialized name: `stamp`, `crc`, `unexpected_data` or
    /// `read_succeeded`.
    pub fn name(self) -> &'static str {
        match self {
            MismatchKind::Stamp => "stamp",
            MismatchKind::Crc => "crc",
            MismatchKind::UnexpectedData => "unexpected_data",
            MismatchKind::ReadSucceeded => "read_succeeded",
        }
    }
}

impl fmt::Display for MismatchKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A kind equals its serialized name.
impl PartialEq<str> for MismatchKind {
    fn eq(&self, other: &str) -> bool {
        self.name() == other
    }
}

/// A kind equals its serialized name.
impl PartialEq<&str> for MismatchKind {
    fn eq(&self, other: &&str) -> bool {
        self.name() == *other
    }
}

/// A block that did not hold what was expected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Mismatch {
    /// The LBA.
    pub lba: u64,
    /// What differed.
    pub kind: MismatchKind,
    /// Expected value (see [`MismatchKind`]).
    pub expected: u64,
    /// Found value (see [`MismatchKind`]).
    pub found: u64,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            MismatchKind::Stamp => {
                write!(f, "lba {}: stamp holds lba {} ({:#x})", self.lba, self.found, self.found)
            }
            MismatchKind::Crc => {
                write!(f, "lba {}: crc {:#010x}, expected {:#010x}", self.lba, self.found, self.expected)
            }
            MismatchKind::UnexpectedData => {
                write!(f, "lba {}: expected zeroes, non-zero byte at offset {}", self.lba, self.found)
            }
            MismatchKind::ReadSucceeded => {
                write!(f, "lba {}: expected unrecovered_read_error, but the read succeeded", self.lba)
            }
        }
    }
}

/// Keeps a mismatch list to one entry per LBA and at most `max` entries:
/// the entries from index `from` on (just appended) are dropped when an
/// earlier entry names their LBA, the rest are kept in order up to `max`.
/// A block read several times and wrong each time is listed once (the
/// first time); counts of mismatched reads are kept apart by the callers.
pub fn keep_unique(list: &mut Vec<Mismatch>, from: usize, max: usize) {
    let start = from.min(list.len());
    let mut kept = start;
    for i in start..list.len() {
        if kept >= max {
            break;
        }
        let m = list[i];
        if !list[..kept].iter().any(|k| k.lba == m.lba) {
            list[kept] = m;
            kept += 1;
        }
    }
    list.truncate(kept.min(max));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_unique_drops_repeated_lbas_and_bounds_the_list() {
        let m = |lba| Mismatch { lba, kind: MismatchKind::Crc, expected: 1, found: 2 };
        let mut list = vec![m(1), m(2)];
        list.extend([m(2), m(3), m(1), m(3), m(4), m(5)]);
        keep_unique(&mut list, 2, 4);
        assert_eq!(list.iter().map(|m| m.lba).collect::<Vec<_>>(), [1, 2, 3, 4]);
        let mut list = vec![m(7), m(7), m(7)];
        keep_unique(&mut list, 0, 100);
        assert_eq!(list, [m(7)]);
    }

    #[test]
    fn kinds_serialize_by_name() {
        for kind in [
            MismatchKind::Stamp,
            MismatchKind::Crc,
            MismatchKind::UnexpectedData,
            MismatchKind::ReadSucceeded,
        ] {
            let json = serde_json::to_value(kind).unwrap();
            assert_eq!(json, serde_json::Value::from(kind.name()));
            assert_eq!(serde_json::from_value::<MismatchKind>(json).unwrap(), kind);
            assert_eq!(kind, kind.name());
        }
        assert!(serde_json::from_str::<MismatchKind>("\"other\"").is_err());
    }
}
