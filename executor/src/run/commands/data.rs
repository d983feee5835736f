//! The data buffers of actions: filling a write buffer with a plan's
//! pattern, and how many mismatches of a read a step lists.

use rand::rngs::SmallRng;
use rand::{RngCore, SeedableRng};

use crate::plan::values::Pattern;

/// How many mismatches a step lists.
pub const MAX_MISMATCH_DETAILS: usize = 32;

/// Fills `out` with `pattern` (`stamp` fills random bytes; stamping happens
/// per block at the write).
pub fn fill(out: &mut [u8], pattern: &Pattern, seed: u64) {
    match pattern {
        Pattern::Stamp | Pattern::Random => SmallRng::seed_from_u64(seed).fill_bytes(out),
        Pattern::Zeros => out.fill(0),
        Pattern::Ones => out.fill(0xFF),
        Pattern::Incrementing => out.iter_mut().enumerate().for_each(|(i, b)| *b = i as u8),
        Pattern::Byte(v) => out.fill(*v),
        Pattern::Dword(v) => {
            let bytes = v.to_le_bytes();
            out.iter_mut().enumerate().for_each(|(i, b)| *b = bytes[i % 4]);
        }
    }
}
