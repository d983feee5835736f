//! Block geometry of a store: block size, block count and the chunk
//! arithmetic that maps LBAs and byte offsets to chunks of the sparse maps.

/// Chunk size the store aims for; a chunk is never smaller than one block.
const TARGET_CHUNK_BYTES: u32 = 4096;

/// Block size, block count and the chunk size derived from them.
#[derive(Clone, Copy, Debug)]
pub(super) struct Geometry {
    /// Block size in bytes (never zero).
    pub(super) lba_size: u32,
    /// Number of blocks.
    pub(super) nlb: u64,
    /// Blocks per chunk.
    pub(super) chunk_lbas: u64,
    /// Bytes per chunk (`chunk_lbas * lba_size`).
    pub(super) chunk_bytes: usize,
}

impl Geometry {
    /// The geometry of `nlb` blocks of `lba_size` bytes (zero counts as one).
    pub(super) fn new(lba_size: u32, nlb: u64) -> Self {
        let lba_size = lba_size.max(1);
        let chunk_lbas = u64::from((TARGET_CHUNK_BYTES / lba_size).max(1));
        Geometry { lba_size, nlb, chunk_lbas, chunk_bytes: chunk_lbas as usize * lba_size as usize }
    }

    /// Byte offset of `lba` in a backing file (checked at open to fit).
    pub(super) fn byte(&self, lba: u64) -> u64 {
        lba * u64::from(self.lba_size)
    }

    /// Bytes of `chunk` that lie inside the namespace.
    pub(super) fn chunk_valid_bytes(&self, chunk: u64) -> usize {
        let first = chunk * self.chunk_lbas;
        let lbas = self.chunk_lbas.min(self.nlb.saturating_sub(first));
        lbas as usize * self.lba_size as usize
    }

    /// Calls `f(chunk, offset_in_chunk, offset_in_buffer, len)` for every
    /// chunk piece of a `len`-byte access starting at `slba`.
    pub(super) fn pieces(&self, slba: u64, len: usize, mut f: impl FnMut(u64, usize, usize, usize)) {
        let lba = self.lba_size as usize;
        let mut lba_no = slba;
        let mut done = 0usize;
        while done < len {
            let chunk = lba_no / self.chunk_lbas;
            let in_chunk = (lba_no % self.chunk_lbas) as usize * lba;
            let n = (self.chunk_bytes - in_chunk).min(len - done);
            f(chunk, in_chunk, done, n);
            done += n;
            lba_no += (n / lba) as u64;
        }
    }
}
