//! The IO operations of an ioworker ([`IoOp`]) and the count of completed
//! IOs per operation ([`OpCounts`]).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One IO operation of an ioworker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IoOp {
    /// NVM Read; checked against the verify map when `verify` is on.
    Read,
    /// NVM Write; stamped and recorded in the verify map when `verify` is on.
    Write,
    /// Dataset Management with the deallocate attribute over the range
    /// (one range descriptor); the range becomes unknown in the verify map.
    Trim,
    /// Write Zeroes over the range; the range is expected to read zeroes.
    WriteZeroes,
    /// Flush (no LBA range).
    Flush,
    /// Compare the range with the configured pattern (unstamped), so it
    /// succeeds only where the media holds exactly that pattern.
    Compare,
    /// NVM Verify over the range (no data transfer).
    Verify,
    /// Any other opcode, sent with the range in CDW10..12 (SLBA, NLB) and
    /// no data buffer. It is treated like a write by the in-flight lock,
    /// and its range becomes unknown in the verify map when it succeeds.
    Raw(u8),
}

impl IoOp {
    /// The NVM opcode sent for this operation.
    pub fn opcode(self) -> u8 {
        match self {
            IoOp::Flush => 0x00,
            IoOp::Write => 0x01,
            IoOp::Read => 0x02,
            IoOp::Compare => 0x05,
            IoOp::WriteZeroes => 0x08,
            IoOp::Trim => 0x09,
            IoOp::Verify => 0x0C,
            IoOp::Raw(op) => op,
        }
    }

    /// The plan spelling: `read`, `write`, `trim`, `write_zeroes`, `flush`,
    /// `compare`, `verify` or `0xNN` for a raw opcode.
    pub fn name(self) -> String {
        match self {
            IoOp::Read => "read".into(),
            IoOp::Write => "write".into(),
            IoOp::Trim => "trim".into(),
            IoOp::WriteZeroes => "write_zeroes".into(),
            IoOp::Flush => "flush".into(),
            IoOp::Compare => "compare".into(),
            IoOp::Verify => "verify".into(),
            IoOp::Raw(op) => format!("{op:#04x}"),
        }
    }

    /// Parses the plan spelling (see [`IoOp::name`]; `deallocate` is an
    /// alias of `trim`; a raw opcode is `0xNN` or decimal).
    pub fn from_name(name: &str) -> Option<IoOp> {
        let n = name.trim().to_ascii_lowercase().replace('-', "_");
        Some(match n.as_str() {
            "read" => IoOp::Read,
            "write" => IoOp::Write,
            "trim" | "deallocate" => IoOp::Trim,
            "write_zeroes" => IoOp::WriteZeroes,
            "flush" => IoOp::Flush,
            "compare" => IoOp::Compare,
            "verify" => IoOp::Verify,
            _ => {
                let op = match n.strip_prefix("0x") {
                    Some(hex) => u8::from_str_radix(hex, 16).ok()?,
                    None => n.parse().ok()?,
                };
                IoOp::Raw(op)
            }
        })
    }

    /// Whether the operation addresses an LBA range (everything but flush).
    pub fn has_range(self) -> bool {
        !matches!(self, IoOp::Flush)
    }

    /// Whether the operation may change the media content of its range
    /// (write, trim, write zeroes, raw opcodes): such IOs never overlap any
    /// outstanding IO of the same worker when `verify` is on.
    pub fn modifies(self) -> bool {
        matches!(self, IoOp::Write | IoOp::Trim | IoOp::WriteZeroes | IoOp::Raw(_))
    }

    /// Whether data moves between host memory and the device.
    pub fn transfers_data(self) -> bool {
        matches!(self, IoOp::Read | IoOp::Write | IoOp::Compare)
    }
}

/// IOs completed per operation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OpCounts {
    /// Reads.
    pub read: u64,
    /// Writes.
    pub write: u64,
    /// Trims (deallocate).
    pub trim: u64,
    /// Write zeroes.
    pub write_zeroes: u64,
    /// Flushes.
    pub flush: u64,
    /// Compares.
    pub compare: u64,
    /// Verifies.
    pub verify: u64,
    /// Raw opcodes.
    pub raw: u64,
}

/// The names of the counters of [`OpCounts`], in [`IoOp::counter`] order.
pub const OP_COUNTER_NAMES: [&str; 8] =
    ["read", "write", "trim", "write_zeroes", "flush", "compare", "verify", "raw"];

impl IoOp {
    /// The position of the op's counter in [`OpCounts::by_name`] and
    /// [`OP_COUNTER_NAMES`] (every raw opcode shares `raw`).
    pub fn counter(self) -> usize {
        match self {
            IoOp::Read => 0,
            IoOp::Write => 1,
            IoOp::Trim => 2,
            IoOp::WriteZeroes => 3,
            IoOp::Flush => 4,
            IoOp::Compare => 5,
            IoOp::Verify => 6,
            IoOp::Raw(_) => 7,
        }
    }
}

impl OpCounts {
    /// The counter of `op`.
    pub fn get_mut(&mut self, op: IoOp) -> &mut u64 {
        match op {
            IoOp::Read => &mut self.read,
            IoOp::Write => &mut self.write,
            IoOp::Trim => &mut self.trim,
            IoOp::WriteZeroes => &mut self.write_zeroes,
            IoOp::Flush => &mut self.flush,
            IoOp::Compare => &mut self.compare,
            IoOp::Verify => &mut self.verify,
            IoOp::Raw(_) => &mut self.raw,
        }
    }

    /// The sum of all counters.
    pub fn total(&self) -> u64 {
        self.read
            + self.write
            + self.trim
            + self.write_zeroes
            + self.flush
            + self.compare
            + self.verify
            + self.raw
    }

    /// Every counter with its operation's name (`read`, `write`, `trim`,
    /// `write_zeroes`, `flush`, `compare`, `verify`, `raw`), in that order.
    pub fn by_name(&self) -> [(&'static str, u64); 8] {
        [
            ("read", self.read),
            ("write", self.write),
            ("trim", self.trim),
            ("write_zeroes", self.write_zeroes),
            ("flush", self.flush),
            ("compare", self.compare),
            ("verify", self.verify),
            ("raw", self.raw),
        ]
    }

    /// Adds the counts of `other`, operation by operation.
    pub fn add(&mut self, other: &OpCounts) {
        self.read += other.read;
        self.write += other.write;
        self.trim += other.trim;
        self.write_zeroes += other.write_zeroes;
        self.flush += other.flush;
        self.compare += other.compare;
        self.verify += other.verify;
        self.raw += other.raw;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for op in [
            IoOp::Read,
            IoOp::Write,
            IoOp::Trim,
            IoOp::WriteZeroes,
            IoOp::Flush,
            IoOp::Compare,
            IoOp::Verify,
            IoOp::Raw(0x7f),
        ] {
            assert_eq!(IoOp::from_name(&op.name()), Some(op));
        }
        assert_eq!(IoOp::from_name("deallocate"), Some(IoOp::Trim));
        assert_eq!(IoOp::from_name("0x1g"), None);
    }

    #[test]
    fn counts_add_up() {
        let mut a = OpCounts::default();
        *a.get_mut(IoOp::Read) += 3;
        *a.get_mut(IoOp::Raw(0x80)) += 1;
        let mut b = a;
        b.add(&a);
        assert_eq!((b.read, b.raw, b.total()), (6, 2, 8));
        let named = b.by_name();
        assert_eq!(named.iter().map(|(_, n)| n).sum::<u64>(), b.total());
        assert_eq!((named[0], named[7]), (("read", 6), ("raw", 2)));
    }
}
