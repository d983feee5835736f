//! [`DmaBuffer`]: owned DMA memory for command data, with fill patterns,
//! hexdumps, content comparison and a settable data offset for testing PRP
//! alignment.
//!
//! # Access rule
//!
//! The device reads and writes a buffer's memory directly. While a command
//! that uses the buffer is outstanding, the host must not access the buffer
//! (no [`DmaBuffer::as_slice`], [`DmaBuffer::as_mut_slice`], fills or
//! dumps): the contents are undefined until the command completes. The
//! synchronous helpers enforce this through `&mut DmaBuffer`; callers of the
//! asynchronous APIs must keep to it themselves. Dropping a buffer while a
//! command still uses it is memory safe (the transport unmaps it first, so
//! the device's access faults), but the command then fails.

use crate::error::DriverError;
use crate::transport::{DmaRegion, Transport};
use rand::rngs::SmallRng;
use rand::{RngCore, SeedableRng};
use std::fmt::Write as _;
use std::sync::Arc;

/// Block size over which [`Pattern::Incompressible`] mixes random bytes and
/// zeros.
pub const PATTERN_BLOCK: usize = 4096;

/// A data pattern for [`DmaBuffer::fill`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pattern {
    /// All bytes zero.
    Zeros,
    /// All bytes 0xFF.
    Ones,
    /// A repeated little-endian dword.
    Dword(u32),
    /// Each byte is its offset in the buffer modulo 256 (00 01 02 ... FF 00 ...).
    Incrementing,
    /// Pseudo-random bytes from a seed (the same seed gives the same data).
    Random {
        /// The seed.
        seed: u64,
    },
    /// Per 4 KiB block, the first `percent`% of bytes are random and the
    /// rest zero, so a compressing device stores roughly `percent`% of it.
    Incompressible {
        /// Share of random bytes per block, 0 to 100.
        percent: u8,
        /// The seed.
        seed: u64,
    },
}

impl Pattern {
    /// Fills `out` with this pattern.
    pub fn fill(&self, out: &mut [u8]) {
        match *self {
            Pattern::Zeros => out.fill(0),
            Pattern::Ones => out.fill(0xFF),
            Pattern::Dword(value) => {
                let bytes = value.to_le_bytes();
                for (i, b) in out.iter_mut().enumerate() {
                    *b = bytes[i % 4];
                }
            }
            Pattern::Incrementing => out.iter_mut().enumerate().for_each(|(i, b)| *b = i as u8),
            Pattern::Random { seed } => SmallRng::seed_from_u64(seed).fill_bytes(out),
            Pattern::Incompressible { percent, seed } => {
                let mut rng = SmallRng::seed_from_u64(seed);
                let percent = usize::from(percent.min(100));
                for block in out.chunks_mut(PATTERN_BLOCK) {
                    let random = (block.len() * percent).div_ceil(100);
                    rng.fill_bytes(&mut block[..random]);
                    block[random..].fill(0);
                }
            }
        }
    }
}

/// Formats `data` as a classic hexdump: 16 bytes per line, the address
/// (`base` + offset) first and an ASCII column last.
pub fn hexdump(data: &[u8], base: usize) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(16) * 78);
    for (line, chunk) in data.chunks(16).enumerate() {
        let _ = write!(out, "{:08x}  ", base + line * 16);
        for i in 0..16 {
            match chunk.get(i) {
                Some(b) => {
                    let _ = write!(out, "{b:02x} ");
                }
                None => out.push_str("   "),
            }
            if i == 7 {
                out.push(' ');
            }
        }
        out.push_str(" |");
        for &b in chunk {
            out.push(if b.is_ascii_graphic() || b == b' ' { b as char } else { '.' });
        }
        out.push_str("|\n");
    }
    out
}

/// DMA memory owned by the host, freed (unmapped first) on drop.
///
/// The buffer has a length (`len()`) and a data offset: commands built from
/// the buffer transfer data starting `offset` bytes into it, so PRP1 carries
/// that offset into the first page. The offset may be any value below the
/// length, even one the spec forbids (not dword aligned), so tests can
/// provoke `prp_offset_invalid`.
pub struct DmaBuffer {
    transport: Arc<dyn Transport>,
    region: Option<DmaRegion>,
    len: usize,
    offset: usize,
}

impl std::fmt::Debug for DmaBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DmaBuffer")
            .field("iova", &format_args!("{:#x}", self.iova()))
            .field("len", &self.len)
            .field("offset", &self.offset)
            .finish()
    }
}

impl DmaBuffer {
    /// Allocates `len` zeroed bytes of DMA memory.
    pub fn new(transport: &Arc<dyn Transport>, len: usize) -> Result<Self, DriverError> {
        if len == 0 {
            return Err(DriverError::InvalidArgument("a DMA buffer needs at least one byte".into()));
        }
        let region = transport.dma_alloc(len)?;
        Ok(DmaBuffer { transport: transport.clone(), region: Some(region), len, offset: 0 })
    }

    fn region(&self) -> &DmaRegion {
        // The region is only taken in `drop`.
        self.region.as_ref().expect("DmaBuffer region present until drop")
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the buffer is empty (never: buffers hold at least one byte).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The IOVA of the first byte (ignoring the data offset).
    pub fn iova(&self) -> u64 {
        self.region().iova
    }

    /// The data offset.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The IOVA where data transfers start (`iova() + offset()`).
    pub fn data_iova(&self) -> u64 {
        self.iova() + self.offset as u64
    }

    /// Bytes available for a transfer from the data offset on.
    pub fn data_len(&self) -> usize {
        self.len - self.offset
    }

    /// Sets the data offset (builder form).
    pub fn with_offset(mut self, offset: usize) -> Result<Self, DriverError> {
        self.set_offset(offset)?;
        Ok(self)
    }

    /// Sets the data offset; it must be below the length.
    pub fn set_offset(&mut self, offset: usize) -> Result<(), DriverError> {
        if offset >= self.len {
            return Err(DriverError::InvalidArgument(format!(
                "data offset {offset} is not below the buffer length {}",
                self.len
            )));
        }
        self.offset = offset;
        Ok(())
    }

    /// The `(iova, len)` of a `len`-byte transfer from the data offset, or
    /// an error when the buffer is too small.
    pub fn transfer(&self, len: usize) -> Result<(u64, usize), DriverError> {
        if len > self.data_len() {
            return Err(DriverError::InvalidArgument(format!(
                "transfer of {len} bytes does not fit the buffer ({} bytes from offset {})",
                self.data_len(),
                self.offset
            )));
        }
        Ok((self.data_iova(), len))
    }

    /// The whole buffer. See the module's access rule.
    pub fn as_slice(&self) -> &[u8] {
        let region = self.region();
        // SAFETY: the region is `region.len >= self.len` bytes of live,
        // initialised (zeroed at allocation) memory owned by this buffer
        // until drop. The device may write it only while a command using the
        // buffer is outstanding, which the module's access rule excludes.
        unsafe { std::slice::from_raw_parts(region.host.as_ptr(), self.len) }
    }

    /// The whole buffer, mutably. See the module's access rule.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        let region = self.region();
        let ptr = region.host.as_ptr();
        // SAFETY: as in `as_slice`; `&mut self` makes this the only host
        // reference to the memory.
        unsafe { std::slice::from_raw_parts_mut(ptr, self.len) }
    }

    /// The bytes from the data offset on.
    pub fn data(&self) -> &[u8] {
        &self.as_slice()[self.offset..]
    }

    /// The bytes from the data offset on, mutably.
    pub fn data_mut(&mut self) -> &mut [u8] {
        let offset = self.offset;
        &mut self.as_mut_slice()[offset..]
    }

    /// Fills the whole buffer with `pattern`.
    pub fn fill(&mut self, pattern: Pattern) {
        pattern.fill(self.as_mut_slice());
    }

    /// A hexdump of `len` bytes from `offset` (clamped to the buffer).
    pub fn hexdump(&self, offset: usize, len: usize) -> String {
        let start = offset.min(self.len);
        let end = start.saturating_add(len).min(self.len);
        hexdump(&self.as_slice()[start..end], start)
    }

    /// Whether the data regions (from each buffer's offset) of the first
    /// `len` bytes are equal; false when either is shorter.
    pub fn data_eq(&self, other: &DmaBuffer, len: usize) -> bool {
        len <= self.data_len() && len <= other.data_len() && self.data()[..len] == other.data()[..len]
    }

    /// The first offset (relative to the data offsets) at which the data of
    /// the two buffers differ within `len` bytes, if any; a length past
    /// either buffer counts as a difference at the shorter end.
    pub fn first_difference(&self, other: &DmaBuffer, len: usize) -> Option<usize> {
        let a = self.data();
        let b = other.data();
        let common = len.min(a.len()).min(b.len());
        a[..common].iter().zip(&b[..common]).position(|(x, y)| x != y).or((common < len).then_some(common))
    }

    /// The transport this buffer belongs to.
    pub fn transport(&self) -> &Arc<dyn Transport> {
        &self.transport
    }
}

impl PartialEq for DmaBuffer {
    /// Buffers are equal when their data regions (from the offsets) hold the
    /// same bytes.
    fn eq(&self, other: &Self) -> bool {
        self.data() == other.data()
    }
}

impl PartialEq<[u8]> for DmaBuffer {
    fn eq(&self, other: &[u8]) -> bool {
        self.data() == other
    }
}

impl Drop for DmaBuffer {
    fn drop(&mut self) {
        if let Some(region) = self.region.take() {
            self.transport.dma_free(region);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        let mut b = [0u8; 10];
        Pattern::Ones.fill(&mut b);
        assert_eq!(b, [0xFF; 10]);
        Pattern::Dword(0x1122_3344).fill(&mut b);
        assert_eq!(b, [0x44, 0x33, 0x22, 0x11, 0x44, 0x33, 0x22, 0x11, 0x44, 0x33]);
        let mut r1 = [0u8; 64];
        let mut r2 = [0u8; 64];
        Pattern::Random { seed: 7 }.fill(&mut r1);
        Pattern::Random { seed: 7 }.fill(&mut r2);
        assert_eq!(r1, r2);
        Pattern::Random { seed: 8 }.fill(&mut r2);
        assert_ne!(r1, r2);
        let mut big = vec![0xAAu8; 2 * PATTERN_BLOCK];
        Pattern::Incompressible { percent: 25, seed: 1 }.fill(&mut big);
        for block in big.chunks(PATTERN_BLOCK) {
            assert!(block[1024..].iter().all(|&b| b == 0));
            assert!(block[..1024].iter().filter(|&&b| b != 0).count() > 900);
        }
        Pattern::Zeros.fill(&mut b);
        assert_eq!(b, [0; 10]);
    }

    #[test]
    fn hexdump_format() {
        let data: Vec<u8> = (0x30..0x30 + 20).collect();
        let text = hexdump(&data, 0x100);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(
            lines[0],
            "00000100  30 31 32 33 34 35 36 37  38 39 3a 3b 3c 3d 3e 3f  |0123456789:;<=>?|"
        );
        assert!(lines[1].starts_with("00000110  40 41 42 43 "));
        assert!(lines[1].ends_with("|@ABC|"));
        assert_eq!(hexdump(&[0, 0x7F], 0).lines().next().unwrap().matches('.').count(), 2);
    }
}
