//! The data buffers of actions: a plan's pattern as the driver's
//! [`Pattern`](DriverPattern) (the one filler every buffer and worker uses),
//! and how many mismatches of a read a step lists.

use nvmeplan_driver::Pattern as DriverPattern;

use crate::plan::values::Pattern;

/// How many mismatches a step lists.
pub const MAX_MISMATCH_DETAILS: usize = 32;

/// The driver pattern for a plan pattern; `stamp` fills random bytes from
/// `seed` (stamping happens per block at the write).
pub fn driver_pattern(pattern: &Pattern, seed: u64) -> DriverPattern {
    match pattern {
        Pattern::Stamp | Pattern::Random => DriverPattern::Random { seed },
        Pattern::Zeros => DriverPattern::Zeros,
        Pattern::Ones => DriverPattern::Ones,
        Pattern::Incrementing => DriverPattern::Incrementing,
        Pattern::Byte(b) => DriverPattern::Dword(u32::from(*b) * 0x0101_0101),
        Pattern::Dword(d) => DriverPattern::Dword(*d),
    }
}

/// Fills `out` with `pattern`.
pub fn fill(out: &mut [u8], pattern: &Pattern, seed: u64) {
    driver_pattern(pattern, seed).fill(out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_pattern_fills_as_documented() {
        let mut b = [0u8; 260];
        fill(&mut b, &Pattern::Incrementing, 0);
        assert_eq!((b[0], b[1], b[255], b[256], b[259]), (0, 1, 255, 0, 3));
        fill(&mut b, &Pattern::Byte(0xA5), 0);
        assert!(b.iter().all(|&x| x == 0xA5));
        fill(&mut b, &Pattern::Dword(0xDEAD_BEEF), 0);
        assert_eq!(b[..4], 0xDEAD_BEEFu32.to_le_bytes());
        fill(&mut b, &Pattern::Ones, 0);
        assert!(b.iter().all(|&x| x == 0xFF));
        let mut a = [0u8; 64];
        let mut c = [0u8; 64];
        fill(&mut a, &Pattern::Random, 7);
        fill(&mut c, &Pattern::Stamp, 7);
        assert_eq!(a, c, "the same seed gives the same bytes");
        fill(&mut c, &Pattern::Random, 8);
        assert_ne!(a, c);
    }
}
