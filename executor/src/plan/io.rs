//! NVM command set actions and raw commands.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::size::Size;
use super::values::{Expr, Pattern};

/// The largest number of logical blocks one command can move (NLB is a
/// zero-based 16-bit field).
pub const MAX_NLB: u64 = 65536;

/// Read, Write, Compare, Write Zeroes, Write Uncorrectable and Verify: a
/// range of logical blocks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BlockRange {
    /// Namespace ID (default: `defaults.nsid`).
    #[serde(default)]
    pub nsid: Option<Expr<u32>>,
    /// Starting LBA, or a byte offset with a unit (`1MiB`).
    pub slba: Expr<Size>,
    /// Number of logical blocks (one-based, unlike the NLB field), or a
    /// byte size with a unit; give `nlb` or `size`.
    #[serde(default)]
    pub nlb: Option<Expr<Size>>,
    /// The same length as `nlb`, usually written in bytes (`size: 1MiB`);
    /// give `nlb` or `size`.
    #[serde(default)]
    pub size: Option<Expr<Size>>,
    /// I/O queue to submit on (default: the runner's first I/O queue).
    #[serde(default)]
    pub qid: Option<Expr<u16>>,
    /// Force Unit Access.
    #[serde(default)]
    pub fua: bool,
    /// Split a range larger than one command may move (MDTS for data
    /// transfers, 65536 blocks) into several commands, one step result
    /// (default `true`); `false` sends one command whatever its size, for
    /// the device to answer.
    #[serde(default = "crate::plan::io::split_by_default")]
    pub split: bool,
}

/// The default of `split`: ranges are split into commands the device takes.
pub fn split_by_default() -> bool {
    true
}

/// An opcode of a raw command (0 to 255).
pub type Opcode = u8;

/// Data moved by a raw command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum RawData {
    /// Controller to host: a buffer of this many bytes.
    In(Expr<u32>),
    /// Host to controller: this many bytes filled with a pattern.
    Out {
        /// Bytes to send.
        len: Expr<u32>,
        /// The data (default `zeros`).
        #[serde(default)]
        pattern: Option<Pattern>,
    },
}

/// A raw admin or I/O command: opcode, NSID, command dwords 2 to 15 and data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCommand {
    /// The opcode (0 to 255), e.g. `0x06` or `6`.
    pub opcode: Opcode,
    /// Namespace ID.
    #[serde(default)]
    pub nsid: Option<Expr<u32>>,
    /// I/O queue (io_raw only).
    #[serde(default)]
    pub qid: Option<Expr<u16>>,
    /// Command dword 2.
    #[serde(default)]
    pub cdw2: Option<Expr<u32>>,
    /// Command dword 3.
    #[serde(default)]
    pub cdw3: Option<Expr<u32>>,
    /// Command dword 10.
    #[serde(default)]
    pub cdw10: Option<Expr<u32>>,
    /// Command dword 11.
    #[serde(default)]
    pub cdw11: Option<Expr<u32>>,
    /// Command dword 12.
    #[serde(default)]
    pub cdw12: Option<Expr<u32>>,
    /// Command dword 13.
    #[serde(default)]
    pub cdw13: Option<Expr<u32>>,
    /// Command dword 14.
    #[serde(default)]
    pub cdw14: Option<Expr<u32>>,
    /// Command dword 15.
    #[serde(default)]
    pub cdw15: Option<Expr<u32>>,
    /// Data transfer, if any.
    #[serde(default)]
    pub data: Option<RawData>,
}

/// A range of blocks given by its start and length: a deallocate range, a
/// copy source range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LbaRange {
    /// Starting LBA, or a byte offset with a unit.
    pub slba: Expr<Size>,
    /// Number of logical blocks, or a byte size with a unit.
    pub nlb: Expr<Size>,
}
