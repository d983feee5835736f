use super::*;
use std::fs::File;
use std::time::Instant;

const TIB: u64 = 1 << 40;

fn block(lba_size: usize, seed: u64) -> Vec<u8> {
    (0..lba_size).map(|i| (seed.wrapping_mul(31).wrapping_add(i as u64 * 7) % 251) as u8 + 1).collect()
}

fn read_vec(store: &NamespaceStore, slba: u64, nlb: usize) -> Result<Vec<u8>, MediaError> {
    let mut out = vec![0xAAu8; nlb * store.lba_size() as usize];
    store.read(slba, &mut out).map(|()| out)
}

#[test]
fn sixteen_tib_namespace_is_sparse() {
    let started = Instant::now();
    for lba_size in [512u32, 4096] {
        let nlb = 16 * TIB / u64::from(lba_size);
        let store = NamespaceStore::new_memory(lba_size, nlb, DataMode::Normal);
        assert_eq!(store.resident_bytes(), 0);
        let per_write = (4096 / lba_size) as u64;
        let data: Vec<u8> = (0..4096).map(|i| (i % 253) as u8 + 1).collect();
        let lbas: Vec<u64> = (0..1000u64)
            .map(|i| (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) % (nlb / per_write)) * per_write)
            .collect();
        for &lba in &lbas {
            store.write(lba, &data, false);
        }
        let resident = store.resident_bytes();
        assert!(resident < 64 << 20, "{resident} bytes resident");
        assert!(resident <= 1000 * (4096 + ENTRY_OVERHEAD), "{resident} bytes resident");
        for &lba in lbas.iter().take(50) {
            assert_eq!(read_vec(&store, lba, per_write as usize).unwrap(), data);
        }
        // The last block and a never-written block read back correctly.
        store.write(nlb - 1, &block(lba_size as usize, 9), true);
        assert_eq!(read_vec(&store, nlb - 1, 1).unwrap(), block(lba_size as usize, 9));
        assert!(read_vec(&store, 12_345, 1).unwrap().iter().all(|&b| b == 0));
        // Deallocating everything (the map-scanning path) frees the memory.
        store.deallocate(0, nlb);
        assert_eq!(store.resident_bytes(), 0);
        assert!(read_vec(&store, lbas[0], 1).unwrap().iter().all(|&b| b == 0));
    }
    assert!(started.elapsed().as_secs() < 5, "took {:?}", started.elapsed());
}

#[test]
fn zero_writes_free_memory() {
    let store = NamespaceStore::new_memory(4096, 1024, DataMode::Normal);
    store.write(3, &block(4096, 1), false);
    assert!(store.resident_bytes() >= 4096);
    store.write(3, &vec![0u8; 4096], false);
    assert_eq!(store.resident_bytes(), 0);
    store.write(5, &vec![0u8; 4096], false);
    assert_eq!(store.resident_bytes(), 0);
}

#[test]
fn small_blocks_share_chunks() {
    let store = NamespaceStore::new_memory(512, 100, DataMode::Normal);
    // Blocks 7 and 8 straddle a chunk boundary (chunks of 8 blocks).
    let data: Vec<u8> = [block(512, 1), block(512, 2)].concat();
    store.write(7, &data, false);
    assert_eq!(read_vec(&store, 7, 2).unwrap(), data);
    assert!(read_vec(&store, 6, 1).unwrap().iter().all(|&b| b == 0));
    // Zero one block of a chunk: the other stays.
    store.write_zeroes(8, 1);
    assert_eq!(read_vec(&store, 7, 1).unwrap(), block(512, 1));
    assert!(read_vec(&store, 8, 1).unwrap().iter().all(|&b| b == 0));
    // The last chunk is partial (100 = 12 * 8 + 4 blocks).
    store.write(99, &block(512, 3), false);
    assert_eq!(read_vec(&store, 96, 4).unwrap()[1536..], block(512, 3));
    store.deallocate(0, 100);
    assert_eq!(store.resident_bytes(), 0);
}

#[test]
fn write_cache_power_loss_and_flush() {
    let store = NamespaceStore::new_memory(512, 1000, DataMode::Normal);
    assert!(!store.write_cache_enabled());
    store.write(10, &block(512, 1), false);
    store.set_write_cache(true);
    assert!(store.write_cache_enabled());
    store.write(10, &block(512, 2), false);
    store.write(11, &block(512, 3), false);
    assert_eq!(read_vec(&store, 10, 1).unwrap(), block(512, 2), "reads see the cache");
    assert!(store.cached_bytes() > 0);
    store.power_loss();
    assert_eq!(store.cached_bytes(), 0);
    assert_eq!(read_vec(&store, 10, 1).unwrap(), block(512, 1), "last durable data");
    assert!(read_vec(&store, 11, 1).unwrap().iter().all(|&b| b == 0));

    store.write(10, &block(512, 4), false);
    store.flush();
    assert_eq!(store.cached_bytes(), 0);
    store.power_loss();
    assert_eq!(read_vec(&store, 10, 1).unwrap(), block(512, 4), "flushed data survives");

    // FUA bypasses the cache and updates a cached copy of the same chunk.
    store.write(12, &block(512, 5), false);
    store.write(13, &block(512, 6), true);
    assert_eq!(read_vec(&store, 13, 1).unwrap(), block(512, 6));
    store.power_loss();
    assert_eq!(read_vec(&store, 13, 1).unwrap(), block(512, 6), "FUA data is durable");
    assert!(read_vec(&store, 12, 1).unwrap().iter().all(|&b| b == 0));

    // Zeroing a cached block is visible at once; disabling the cache flushes.
    store.write(20, &block(512, 7), false);
    store.write(21, &block(512, 8), false);
    store.write_zeroes(20, 1);
    assert!(read_vec(&store, 20, 1).unwrap().iter().all(|&b| b == 0));
    store.set_write_cache(false);
    store.power_loss();
    assert_eq!(read_vec(&store, 21, 1).unwrap(), block(512, 8));
    assert!(read_vec(&store, 20, 1).unwrap().iter().all(|&b| b == 0));
    store.write(21, &vec![0; 512], false);
    store.deallocate(10, 20);
    assert_eq!(store.resident_bytes(), 0);
}

#[test]
fn uncorrectable_marks() {
    let store = NamespaceStore::new_memory(4096, 100, DataMode::Normal);
    store.write(0, &block(4096, 1).repeat(10), false);
    store.mark_uncorrectable(4, 3);
    assert_eq!(store.uncorrectable_ranges(), vec![(4, 7)]);
    assert_eq!(read_vec(&store, 0, 4).map(|_| ()), Ok(()));
    assert_eq!(read_vec(&store, 0, 10), Err(MediaError::Uncorrectable { lba: 4 }));
    assert_eq!(read_vec(&store, 5, 1), Err(MediaError::Uncorrectable { lba: 5 }));
    assert_eq!(store.first_uncorrectable(6, 10), Some(6));
    // Writing a block clears its mark only.
    store.write(5, &block(4096, 2), false);
    assert_eq!(store.uncorrectable_ranges(), vec![(4, 5), (6, 7)]);
    assert_eq!(read_vec(&store, 5, 1).unwrap(), block(4096, 2));
    store.write_zeroes(4, 1);
    store.deallocate(6, 1);
    assert!(store.uncorrectable_ranges().is_empty());
    assert_eq!(read_vec(&store, 0, 10).map(|_| ()), Ok(()));
    // Marks are clipped to the namespace; huge ranges do not overflow.
    store.mark_uncorrectable(98, u64::MAX);
    assert_eq!(store.uncorrectable_ranges(), vec![(98, 100)]);
    store.mark_uncorrectable(u64::MAX, 1);
    assert_eq!(store.uncorrectable_ranges(), vec![(98, 100)]);
    store.erase_all();
    assert!(store.uncorrectable_ranges().is_empty());
    assert!(read_vec(&store, 0, 1).unwrap().iter().all(|&b| b == 0));
}

#[test]
fn out_of_range_accesses_fail_without_panicking() {
    let store = NamespaceStore::new_memory(512, 16, DataMode::Normal);
    assert_eq!(read_vec(&store, 15, 2), Err(MediaError::Uncorrectable { lba: 16 }));
    assert_eq!(read_vec(&store, u64::MAX, 1), Err(MediaError::Uncorrectable { lba: u64::MAX }));
    assert!(matches!(store.try_write(u64::MAX, &[0; 512], false), Err(StorageError::OutOfRange { .. })));
    store.write(16, &[1; 512], false);
    store.write_zeroes(u64::MAX - 1, u64::MAX);
    store.deallocate(10, u64::MAX);
    assert!(store.uncorrectable_ranges().is_empty());
}

#[test]
fn null_mode_stores_nothing() {
    let store = NamespaceStore::new_memory(4096, 16 * TIB / 4096, DataMode::Null);
    assert_eq!(store.data_mode(), DataMode::Null);
    store.write(0, &block(4096, 1), false);
    assert_eq!(store.resident_bytes(), 0);
    let mut out = vec![0x5Au8; 4096];
    store.read(0, &mut out).unwrap();
    assert!(out.iter().all(|&b| b == 0x5A), "the buffer is not touched");
    store.mark_uncorrectable(3, 1);
    assert_eq!(store.read(3, &mut out), Err(MediaError::Uncorrectable { lba: 3 }));
    store.write(3, &out, false);
    assert_eq!(store.read(3, &mut out), Ok(()));
}

#[test]
fn reformat_changes_geometry() {
    let store = NamespaceStore::new_memory(512, 100, DataMode::Normal);
    store.write(1, &block(512, 1), false);
    store.reformat(4096, 50);
    assert_eq!((store.lba_size(), store.nlb()), (4096, 50));
    assert_eq!(store.resident_bytes(), 0);
    assert!(read_vec(&store, 0, 50).unwrap().iter().all(|&b| b == 0));
    store.write(49, &block(4096, 2), false);
    assert_eq!(read_vec(&store, 49, 1).unwrap(), block(4096, 2));
}

#[test]
fn parallel_writers_to_shared_chunks() {
    let store = NamespaceStore::new_memory(512, 4096, DataMode::Normal);
    store.set_write_cache(true);
    std::thread::scope(|scope| {
        for t in 0..4u64 {
            let store = &store;
            scope.spawn(move || {
                // Thread t owns blocks t, t + 4, t + 8, ...: neighbours share chunks.
                for round in 0..4u64 {
                    for lba in (t..4096).step_by(4) {
                        store.write(lba, &block(512, lba * 10 + round), round % 2 == 1);
                    }
                    if t == 0 {
                        store.flush();
                    }
                }
            });
        }
    });
    store.flush();
    store.power_loss();
    for lba in 0..4096 {
        assert_eq!(read_vec(&store, lba, 1).unwrap(), block(512, lba * 10 + 3), "lba {lba}");
    }
}

#[test]
fn file_store_keeps_data_and_marks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ns1.img");
    let nlb = TIB / 4096;
    {
        let store = NamespaceStore::open_file(&path, 4096, nlb).unwrap();
        assert!(store.is_file_backed());
        assert_eq!(store.path(), Some(path.as_path()));
        store.write(7, &block(4096, 1), false);
        store.write(nlb - 1, &block(4096, 2), false);
        store.mark_uncorrectable(100, 5);
        assert_eq!(read_vec(&store, 7, 1).unwrap(), block(4096, 1));
        assert!(read_vec(&store, 8, 1).unwrap().iter().all(|&b| b == 0));
    }
    assert_eq!(std::fs::metadata(&path).unwrap().len(), nlb * 4096);
    let store = NamespaceStore::open_file(&path, 4096, nlb).unwrap();
    assert_eq!(read_vec(&store, 7, 1).unwrap(), block(4096, 1));
    assert_eq!(read_vec(&store, nlb - 1, 1).unwrap(), block(4096, 2));
    assert_eq!(read_vec(&store, 99, 3), Err(MediaError::Uncorrectable { lba: 100 }));
    store.write(102, &block(4096, 3), true);
    drop(store);
    let store = NamespaceStore::open_file(&path, 4096, nlb).unwrap();
    assert_eq!(store.uncorrectable_ranges(), vec![(100, 102), (103, 105)]);
    // Deallocating to the end truncates: instant even for 1 TiB.
    let started = Instant::now();
    store.deallocate(5, nlb - 5);
    assert!(started.elapsed().as_secs() < 2);
    assert!(read_vec(&store, 7, 1).unwrap().iter().all(|&b| b == 0));
    assert!(read_vec(&store, nlb - 1, 1).unwrap().iter().all(|&b| b == 0));
    assert!(store.uncorrectable_ranges().is_empty());
    assert!(!dir.path().join("ns1.img.marks").exists());
}

#[test]
fn file_store_write_cache() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ns.img");
    let store = NamespaceStore::open_file(&path, 512, 1000).unwrap();
    store.write(1, &block(512, 1), true);
    store.set_write_cache(true);
    store.write(1, &block(512, 2), false);
    store.write(2, &block(512, 3), false);
    assert_eq!(read_vec(&store, 1, 2).unwrap(), [block(512, 2), block(512, 3)].concat());
    assert!(store.resident_bytes() > 0, "the cache is in memory");
    store.power_loss();
    assert_eq!(read_vec(&store, 1, 1).unwrap(), block(512, 1));
    assert!(read_vec(&store, 2, 1).unwrap().iter().all(|&b| b == 0));
    // Partial-chunk cached write on top of file data, then flush.
    store.write(3, &block(512, 4), false);
    store.write_zeroes(1, 1);
    store.flush();
    store.power_loss();
    assert!(read_vec(&store, 1, 1).unwrap().iter().all(|&b| b == 0));
    assert_eq!(read_vec(&store, 3, 1).unwrap(), block(512, 4));
    // A mid-file range is zeroed in place; the last chunk is partial.
    store.write(0, &block(512, 5).repeat(40), true);
    store.write(999, &block(512, 6), true);
    store.write(996, &block(512, 7), false);
    store.deallocate(4, 30);
    let data = read_vec(&store, 0, 40).unwrap();
    assert_eq!(data[..4 * 512], block(512, 5).repeat(4));
    assert!(data[4 * 512..34 * 512].iter().all(|&b| b == 0));
    assert_eq!(data[34 * 512..], block(512, 5).repeat(6));
    // Dropping flushes the cache (orderly shutdown).
    drop(store);
    let store = NamespaceStore::open_file(&path, 512, 1000).unwrap();
    assert_eq!(read_vec(&store, 996, 4).unwrap()[..512], block(512, 7));
    assert_eq!(read_vec(&store, 999, 1).unwrap(), block(512, 6));
    store.erase_all();
    assert!(read_vec(&store, 0, 1000).unwrap().iter().all(|&b| b == 0));
    store.reformat(4096, 10);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 40960);
}

#[test]
fn file_store_errors_name_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no/such/dir/ns.img");
    let err = NamespaceStore::open_file(&missing, 512, 8).unwrap_err();
    assert!(err.to_string().contains("no/such/dir/ns.img"), "{err}");
    assert!(err.to_string().contains("does not exist"), "{err}");
    assert!(!dir.path().join("no").exists(), "no parent directory is created");
    let path = dir.path().join("ns.img");
    let err = NamespaceStore::open_file(&path, 4096, u64::MAX).unwrap_err();
    assert!(matches!(err, StorageError::Geometry { .. }), "{err}");
    assert!(NamespaceStore::open_file(&path, 0, 8).is_err());
    std::fs::write(dir.path().join("ns.img.marks"), b"not json").unwrap();
    let err = NamespaceStore::open_file(&path, 512, 8).unwrap_err();
    assert!(matches!(err, StorageError::Marks { .. }), "{err}");
    assert!(err.to_string().contains("ns.img.marks"), "{err}");
}

#[test]
fn file_store_never_resizes_or_opens_a_non_regular_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ns.img");
    std::fs::write(&path, vec![7u8; 1000]).unwrap();
    let err = NamespaceStore::open_file(&path, 512, 8).unwrap_err().to_string();
    assert!(err.contains("ns.img") && err.contains("holds 1000 bytes") && err.contains("4096"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), vec![7u8; 1000], "the file is left as it was");
    let err = NamespaceStore::open_file(dir.path(), 512, 8).unwrap_err().to_string();
    assert!(err.contains("not a regular file"), "{err}");
    std::fs::write(&path, vec![7u8; 4096]).unwrap();
    let store = NamespaceStore::open_file(&path, 512, 8).unwrap();
    assert_eq!(read_vec(&store, 0, 1).unwrap(), vec![7u8; 512], "an image of the right size is opened as is");
    drop(store);
    let err = NamespaceStore::create_file(&path, 512, 8).unwrap_err().to_string();
    assert!(err.contains("ns.img") && err.contains("exists already"), "{err}");
    NamespaceStore::create_file(&dir.path().join("new.img"), 512, 8).unwrap();
}

#[test]
fn file_store_flush_and_fua_reach_stable_storage() {
    use crate::durable::{Event, take_events};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ns.img");
    let store = NamespaceStore::open_file(&path, 512, 64).unwrap();
    store.set_write_cache(true);
    take_events();
    store.write(0, &block(512, 1), false);
    store.write(1, &block(512, 2), false);
    assert_eq!(take_events(), vec![], "a cached write is not synced");
    store.flush();
    assert_eq!(take_events(), vec![Event::SyncFile(path.clone())], "a flush syncs the image");
    store.write(2, &block(512, 3), true);
    assert_eq!(take_events(), vec![Event::SyncFile(path.clone())], "a FUA write syncs the image");
    store.set_write_cache(false);
    take_events();
    store.write(3, &block(512, 4), false);
    store.flush();
    assert_eq!(take_events(), vec![Event::SyncFile(path.clone())], "a flush syncs without a cache too");
    store.mark_uncorrectable(5, 1);
    let marks = dir.path().join("ns.img.marks");
    let mut tmp = marks.clone().into_os_string();
    tmp.push(".tmp");
    assert_eq!(
        take_events(),
        vec![Event::SyncFile(tmp.into()), Event::Rename(marks), Event::SyncDir(dir.path().to_path_buf())],
        "the marks sidecar is synced before its rename"
    );
}

/// Whether the filesystem holding `dir` can punch holes.
fn can_punch_holes(dir: &Path) -> bool {
    use std::os::fd::AsRawFd;
    let probe = File::create(dir.join("punch-probe")).unwrap();
    probe.set_len(1 << 20).unwrap();
    // SAFETY: integer arguments only; `probe` keeps the descriptor open.
    let rc = unsafe {
        libc::fallocate(probe.as_raw_fd(), libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE, 0, 4096)
    };
    rc == 0
}

#[test]
fn file_store_deallocates_a_middle_range_by_punching_holes() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    if !can_punch_holes(dir.path()) {
        eprintln!("skipped: the filesystem of {} cannot punch holes", dir.path().display());
        return;
    }
    let path = dir.path().join("ns.img");
    let nlb = TIB / 4096 + 16;
    let store = NamespaceStore::open_file(&path, 4096, nlb).unwrap();
    // 1 MiB of data at each end of the 1 TiB middle range and in between,
    // plus a block on either side of it that must survive.
    let mib = block(4096, 1).repeat(256);
    for lba in [8, nlb / 2, nlb - 8 - 256] {
        store.write(lba, &mib, true);
    }
    store.write(7, &block(4096, 2), true);
    store.write(nlb - 8, &block(4096, 3), true);
    let blocks = || std::fs::metadata(&path).unwrap().blocks();
    let before = blocks();
    assert!(before >= 3 * 2048, "{before} blocks of 512 bytes allocated");
    // [8, nlb - 8): 1 TiB that neither starts at 0 nor reaches the end, so
    // the truncation shortcut does not apply.
    store.deallocate(8, nlb - 16);
    let after = blocks();
    assert!(after + 3 * 2048 <= before, "allocated blocks {before} -> {after}");
    for lba in [8, 9, nlb / 2, nlb / 2 + 255, nlb - 9] {
        assert!(read_vec(&store, lba, 1).unwrap().iter().all(|&b| b == 0), "lba {lba}");
    }
    assert_eq!(read_vec(&store, 7, 1).unwrap(), block(4096, 2));
    assert_eq!(read_vec(&store, nlb - 8, 1).unwrap(), block(4096, 3));
    assert_eq!(std::fs::metadata(&path).unwrap().len(), nlb * 4096, "the size is kept");
}

fn pattern_block(lba_size: usize, pattern: u32) -> Vec<u8> {
    pattern.to_le_bytes().iter().copied().cycle().take(lba_size).collect()
}

#[test]
fn overwrite_fill_reads_back_without_materializing() {
    let nlb = 16 * TIB / 4096;
    let store = NamespaceStore::new_memory(4096, nlb, DataMode::Normal);
    store.write(5, &block(4096, 1), false);
    store.mark_uncorrectable(9, 1);
    store.erase_with_pattern(0xA5A5_5A5A);
    assert_eq!(store.fill_pattern(), Some(0xA5A5_5A5A));
    assert_eq!(store.resident_bytes(), 0, "the pattern is not stored");
    assert!(store.uncorrectable_ranges().is_empty());
    let pat = pattern_block(4096, 0xA5A5_5A5A);
    for lba in [0, 5, 9, nlb / 3, nlb - 1] {
        assert_eq!(read_vec(&store, lba, 1).unwrap(), pat, "lba {lba}");
    }
    assert_eq!(read_vec(&store, 2, 4).unwrap(), pat.repeat(4));
    // Writes, Write Zeroes and Deallocate replace the pattern block by block.
    store.write(10, &block(4096, 2), true);
    store.write(11, &vec![0; 4096], true);
    store.write_zeroes(12, 1);
    store.deallocate(nlb / 2, nlb / 2);
    let got = read_vec(&store, 9, 5).unwrap();
    assert_eq!(got[..4096], pat);
    assert_eq!(got[4096..8192], block(4096, 2));
    assert!(got[8192..16384].iter().all(|&b| b == 0));
    assert_eq!(got[16384..], pat);
    assert!(read_vec(&store, nlb - 1, 1).unwrap().iter().all(|&b| b == 0));
    assert_eq!(read_vec(&store, nlb / 2 - 1, 1).unwrap(), pat);
    // Erasing drops the pattern.
    store.erase_all();
    assert_eq!(store.fill_pattern(), None);
    assert!(read_vec(&store, 0, 1).unwrap().iter().all(|&b| b == 0));
}

#[test]
fn overwrite_fill_and_the_write_cache() {
    // 512-byte blocks: eight to a chunk, so cached writes share chunks
    // with blocks that keep the pattern.
    let store = NamespaceStore::new_memory(512, 64, DataMode::Normal);
    store.erase_with_pattern(0x0102_0304);
    let pat = pattern_block(512, 0x0102_0304);
    store.set_write_cache(true);
    store.write(3, &block(512, 1), false);
    assert_eq!(read_vec(&store, 2, 3).unwrap(), [pat.clone(), block(512, 1), pat.clone()].concat());
    // Lost before the flush: the pattern is back.
    store.power_loss();
    assert_eq!(read_vec(&store, 3, 1).unwrap(), pat);
    store.write(3, &block(512, 1), false);
    store.flush();
    store.power_loss();
    assert_eq!(read_vec(&store, 2, 3).unwrap(), [pat.clone(), block(512, 1), pat.clone()].concat());
    assert_eq!(read_vec(&store, 63, 1).unwrap(), pat);
    // Reformat drops it too.
    store.reformat(4096, 8);
    assert_eq!(store.fill_pattern(), None);
    assert!(read_vec(&store, 0, 8).unwrap().iter().all(|&b| b == 0));
}

#[test]
fn file_store_keeps_the_overwrite_fill_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ns.img");
    let nlb = TIB / 4096;
    let pat = pattern_block(4096, 0xDEAD_BEEF);
    {
        let store = NamespaceStore::open_file(&path, 4096, nlb).unwrap();
        store.write(1, &block(4096, 1), true);
        store.erase_with_pattern(0xDEAD_BEEF);
        store.write(2, &block(4096, 2), true);
        store.set_write_cache(true);
        store.write(3, &block(4096, 3), false);
        assert_eq!(
            read_vec(&store, 0, 4).unwrap(),
            [pat.clone(), pat.clone(), block(4096, 2), block(4096, 3)].concat()
        );
    }
    // Not written out: the image stays sparse.
    use std::os::unix::fs::MetadataExt;
    assert!(std::fs::metadata(&path).unwrap().blocks() < 1024);
    let store = NamespaceStore::open_file(&path, 4096, nlb).unwrap();
    assert_eq!(store.fill_pattern(), Some(0xDEAD_BEEF));
    assert_eq!(
        read_vec(&store, 0, 4).unwrap(),
        [pat.clone(), pat.clone(), block(4096, 2), block(4096, 3)].concat()
    );
    assert_eq!(read_vec(&store, nlb - 1, 1).unwrap(), pat);
    // Deallocating to the end (the truncation path) and erasing remove it.
    store.deallocate(4, nlb - 4);
    assert!(read_vec(&store, nlb - 1, 1).unwrap().iter().all(|&b| b == 0));
    assert_eq!(read_vec(&store, 0, 1).unwrap(), pat);
    store.erase_all();
    drop(store);
    assert!(!dir.path().join("ns.img.marks").exists());
    let store = NamespaceStore::open_file(&path, 4096, nlb).unwrap();
    assert_eq!(store.fill_pattern(), None);
    assert!(read_vec(&store, 0, 4).unwrap().iter().all(|&b| b == 0));
}
