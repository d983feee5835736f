//! Device-side PRP walking: turning PRP1/PRP2 into host memory segments.
//!
//! A data transfer of `len` bytes is described by PRP1, whose offset into
//! its memory page may be non-zero, and PRP2, which is either the second page
//! (when the rest fits in one page) or a pointer to a PRP list. List entries
//! must be page aligned; when the data needs more entries than fit in the
//! rest of a list page, the last entry of that page points to the next list
//! page (a chained list). Every address goes through [`DmaSpace`], so a PRP
//! that points outside the host's mappings yields `data_transfer_error`
//! rather than touching memory.

use crate::dma::{DmaFault, DmaSpace};
use nvmeplan_spec::{Command, Status};

/// Host memory segments, in transfer order: `(iova, length)`.
pub type Segments = Vec<(u64, usize)>;

fn dma_status(_fault: DmaFault) -> Status {
    Status::DATA_TRANSFER_ERROR
}

fn push_segment(segments: &mut Segments, iova: u64, len: usize) {
    if let Some(last) = segments.last_mut()
        && last.0.checked_add(last.1 as u64) == Some(iova)
    {
        last.1 += len;
        return;
    }
    segments.push((iova, len));
}

/// Resolves PRP1/PRP2 for a transfer of `len` bytes with memory pages of
/// `page_size` bytes.
///
/// Errors: `prp_offset_invalid` for a PRP entry or list pointer that is not
/// dword aligned or a list entry with a non-zero page offset,
/// `data_transfer_error` when a PRP list cannot be read from host memory.
pub fn resolve(
    dma: &DmaSpace,
    prp1: u64,
    prp2: u64,
    len: usize,
    page_size: usize,
) -> Result<Segments, Status> {
    let mut segments = Segments::new();
    if len == 0 {
        return Ok(segments);
    }
    let page = page_size as u64;
    let page_mask = page - 1;
    if prp1 & 0x3 != 0 {
        return Err(Status::PRP_OFFSET_INVALID);
    }
    let first = len.min((page - (prp1 & page_mask)) as usize);
    push_segment(&mut segments, prp1, first);
    let mut remaining = len - first;
    if remaining == 0 {
        return Ok(segments);
    }
    if remaining <= page_size {
        if prp2 & page_mask != 0 {
            return Err(Status::PRP_OFFSET_INVALID);
        }
        push_segment(&mut segments, prp2, remaining);
        return Ok(segments);
    }

    // PRP2 is a list pointer. Walk list pages, reading as many entries at a
    // time as the rest of the current list page holds.
    let mut list = prp2;
    let mut entries = vec![0u8; page_size];
    while remaining > 0 {
        // List pointers hold 8-byte entries: anything not qword aligned
        // cannot be a list (and would leave a partial slot at the page end).
        if list & 0x7 != 0 {
            return Err(Status::PRP_OFFSET_INVALID);
        }
        let slots = ((page - (list & page_mask)) / 8) as usize;
        let needed = remaining.div_ceil(page_size);
        // With more entries needed than slots, the last slot chains onward.
        let (data_slots, chained) = if needed > slots { (slots - 1, true) } else { (needed, false) };
        if data_slots == 0 {
            // A list pointer in the last slot of a page leaves no room for
            // data: following it could loop forever on a malicious chain.
            return Err(Status::PRP_OFFSET_INVALID);
        }
        let read_slots = if chained { slots } else { data_slots };
        let raw = &mut entries[..read_slots * 8];
        dma.read(list, raw).map_err(dma_status)?;
        for chunk in raw.chunks_exact(8).take(data_slots) {
            let entry = u64::from_le_bytes(chunk.try_into().expect("chunks of eight bytes"));
            if entry & page_mask != 0 {
                return Err(Status::PRP_OFFSET_INVALID);
            }
            let this = remaining.min(page_size);
            push_segment(&mut segments, entry, this);
            remaining -= this;
        }
        if chained {
            let next = &raw[(slots - 1) * 8..slots * 8];
            list = u64::from_le_bytes(next.try_into().expect("eight bytes"));
        }
    }
    Ok(segments)
}

fn check_psdt(cmd: &Command) -> Result<(), Status> {
    // Only PRPs are supported (Identify Controller SGLS = 0).
    if cmd.psdt() != 0 { Err(Status::INVALID_FIELD_IN_COMMAND) } else { Ok(()) }
}

/// Reads `len` bytes the command points at (host to controller transfer).
pub fn read_from_host(
    dma: &DmaSpace,
    cmd: &Command,
    len: usize,
    page_size: usize,
) -> Result<Vec<u8>, Status> {
    check_psdt(cmd)?;
    let segments = resolve(dma, cmd.prp1, cmd.prp2, len, page_size)?;
    let mut data = vec![0u8; len];
    let mut at = 0;
    for (iova, seg_len) in segments {
        dma.read(iova, &mut data[at..at + seg_len]).map_err(dma_status)?;
        at += seg_len;
    }
    Ok(data)
}

/// Writes `data` where the command points (controller to host transfer).
pub fn write_to_host(dma: &DmaSpace, cmd: &Command, data: &[u8], page_size: usize) -> Result<(), Status> {
    check_psdt(cmd)?;
    let segments = resolve(dma, cmd.prp1, cmd.prp2, data.len(), page_size)?;
    let mut at = 0;
    for (iova, seg_len) in segments {
        dma.write(iova, &data[at..at + seg_len]).map_err(dma_status)?;
        at += seg_len;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: usize = 4096;
    const BASE: u64 = 0x1_0000_0000;

    /// Host memory of `pages` pages mapped at BASE.
    struct Host {
        space: DmaSpace,
        memory: Vec<u8>,
    }

    impl Host {
        fn new(pages: usize) -> Host {
            let mut memory = vec![0u8; pages * PAGE];
            let space = DmaSpace::new();
            space.set_bus_master(true);
            // SAFETY: `memory` lives as long as `space` inside `Host`, and
            // `Drop` unmaps before the vector is freed (fields drop in
            // declaration order: `space` first, which holds no reference to
            // the memory once dropped).
            assert!(unsafe { space.map(BASE, memory.as_mut_ptr(), memory.len()) });
            Host { space, memory }
        }

        fn put_list(&mut self, at: u64, entries: &[u64]) {
            let off = (at - BASE) as usize;
            for (i, e) in entries.iter().enumerate() {
                self.memory[off + i * 8..off + i * 8 + 8].copy_from_slice(&e.to_le_bytes());
            }
        }
    }

    fn page(n: u64) -> u64 {
        BASE + n * PAGE as u64
    }

    #[test]
    fn one_and_two_page_transfers() {
        let host = Host::new(4);
        assert_eq!(resolve(&host.space, page(0) + 512, 0, 512, PAGE), Ok(vec![(page(0) + 512, 512)]));
        assert_eq!(
            resolve(&host.space, page(0) + 512, page(2), 4096, PAGE),
            Ok(vec![(page(0) + 512, 3584), (page(2), 512)])
        );
        assert_eq!(resolve(&host.space, page(0), page(1), 8192, PAGE), Ok(vec![(page(0), 8192)]));
        assert_eq!(resolve(&host.space, page(0) + 2, 0, 16, PAGE), Err(Status::PRP_OFFSET_INVALID));
        assert_eq!(resolve(&host.space, page(0), page(1) + 8, 8192, PAGE), Err(Status::PRP_OFFSET_INVALID));
    }

    #[test]
    fn prp_list_with_chaining() {
        let mut host = Host::new(16);
        // 3 pages of data after PRP1, through a list placed near the end of
        // page 1 so that it holds only two slots: one entry plus a chain
        // pointer to page 2, which holds the other two entries.
        let list = page(1) + PAGE as u64 - 16;
        host.put_list(list, &[page(5), page(2)]);
        host.put_list(page(2), &[page(7), page(9)]);
        let segs = resolve(&host.space, page(4), list, 4 * PAGE, PAGE).unwrap();
        assert_eq!(segs, vec![(page(4), 2 * PAGE), (page(7), PAGE), (page(9), PAGE)]);
        // An unaligned entry is refused.
        host.put_list(page(2), &[page(7) + 4, page(9)]);
        assert_eq!(resolve(&host.space, page(4), list, 4 * PAGE, PAGE), Err(Status::PRP_OFFSET_INVALID));
        // List pointers that leave no whole slot, or only the chain slot,
        // are refused rather than underflowing or looping.
        let tail = page(1) + PAGE as u64 - 4;
        assert_eq!(resolve(&host.space, page(4), tail, 4 * PAGE, PAGE), Err(Status::PRP_OFFSET_INVALID));
        let last_slot = page(3) + PAGE as u64 - 8;
        host.put_list(last_slot, &[last_slot]);
        assert_eq!(resolve(&host.space, page(4), last_slot, 4 * PAGE, PAGE), Err(Status::PRP_OFFSET_INVALID));
        // A list outside the mapped memory is a transfer error.
        assert_eq!(
            resolve(&host.space, page(4), BASE - PAGE as u64, 4 * PAGE, PAGE),
            Err(Status::DATA_TRANSFER_ERROR)
        );
    }

    #[test]
    fn copies_through_segments() {
        let mut host = Host::new(8);
        host.put_list(page(1), &[page(3), page(6)]);
        let mut cmd = Command::new(0x01, 1);
        cmd.prp1 = page(0) + 1024;
        cmd.prp2 = page(1);
        let data: Vec<u8> = (0..(PAGE * 2 + 1024)).map(|i| (i % 251) as u8).collect();
        write_to_host(&host.space, &cmd, &data, PAGE).unwrap();
        assert_eq!(read_from_host(&host.space, &cmd, data.len(), PAGE).unwrap(), data);
        let m = &host.memory;
        assert!(m[1024..PAGE] == data[..3072], "first segment");
        assert!(m[3 * PAGE..4 * PAGE] == data[3072..3072 + PAGE], "second segment");
        assert!(m[6 * PAGE..6 * PAGE + 2048] == data[3072 + PAGE..], "third segment");
        cmd.cdw0.set_psdt(1);
        assert_eq!(read_from_host(&host.space, &cmd, 16, PAGE), Err(Status::INVALID_FIELD_IN_COMMAND));
    }
}
