//! Command dword layouts of the admin and NVM commands (NVMe Base
//! Specification 2.0 and NVM Command Set Specification 1.0): one bitfield
//! per command dword that has fields, each with its field table, so the
//! driver builds and the simulator decodes commands from the same
//! definitions. Dwords that hold a single number (an LBA, a dword count)
//! are plain `u32`s in [`crate::Command`].

mod admin;
mod nvm;
#[cfg(test)]
mod tests;

pub use admin::*;
pub use nvm::*;

/// The low and high dwords of a 64-bit value split over two command dwords
/// (SLBA in CDW10/11, the log page offset in CDW12/13).
pub const fn split_u64(value: u64) -> (u32, u32) {
    (value as u32, (value >> 32) as u32)
}

/// The 64-bit value held by a low and a high command dword.
pub const fn join_u64(low: u32, high: u32) -> u64 {
    ((high as u64) << 32) | low as u64
}

/// The low `width` bits of `value`: what of a caller's value a field of that
/// width keeps, as a controller would read it.
pub const fn truncate(value: u32, width: u32) -> u32 {
    if width >= 32 { value } else { value & ((1 << width) - 1) }
}
