//! Model-based tests of `NamespaceStore`: random operation sequences are
//! applied to the store and to a plain reference model (durable bytes,
//! visible bytes, marked blocks), and every read must agree.

use nvmeplan_sim::storage::{DataMode, MediaError, NamespaceStore};
use proptest::prelude::*;
use std::collections::BTreeSet;

/// Not a multiple of the 8-block chunk of 512-byte blocks: the last chunk
/// is partial.
const NLB: u64 = 67;

#[derive(Clone, Debug)]
enum Op {
    Write { slba: u64, nlb: u64, seed: u8, fua: bool },
    Zero { slba: u64, nlb: u64 },
    Deallocate { slba: u64, nlb: u64 },
    Mark { slba: u64, nlb: u64 },
    Read { slba: u64, nlb: u64 },
    Flush,
    PowerLoss,
    Cache(bool),
    Reopen,
    Overwrite(u32),
}

fn range() -> impl Strategy<Value = (u64, u64)> {
    (0..NLB).prop_flat_map(|slba| (Just(slba), 1..=(NLB - slba).min(20)))
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (range(), any::<u8>(), any::<bool>()).prop_map(|((slba, nlb), seed, fua)| Op::Write { slba, nlb, seed, fua }),
        1 => range().prop_map(|(slba, nlb)| Op::Zero { slba, nlb }),
        1 => range().prop_map(|(slba, nlb)| Op::Deallocate { slba, nlb }),
        1 => range().prop_map(|(slba, nlb)| Op::Mark { slba, nlb }),
        4 => range().prop_map(|(slba, nlb)| Op::Read { slba, nlb }),
        1 => Just(Op::Flush),
        1 => Just(Op::PowerLoss),
        1 => any::<bool>().prop_map(Op::Cache),
        1 => Just(Op::Reopen),
        1 => any::<u32>().prop_map(Op::Overwrite),
    ]
}

struct Model {
    lba: usize,
    durable: Vec<u8>,
    visible: Vec<u8>,
    marks: BTreeSet<u64>,
    cache: bool,
}

impl Model {
    fn span(&self, slba: u64, nlb: u64) -> std::ops::Range<usize> {
        slba as usize * self.lba..(slba + nlb) as usize * self.lba
    }

    fn unmark(&mut self, slba: u64, nlb: u64) {
        for lba in slba..slba + nlb {
            self.marks.remove(&lba);
        }
    }
}

fn data(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(13).wrapping_add(seed)).collect()
}

fn run(lba: u32, file: Option<&std::path::Path>, ops: &[Op]) -> Result<(), TestCaseError> {
    let open = || match file {
        Some(path) => NamespaceStore::open_file(path, lba, NLB).unwrap(),
        None => NamespaceStore::new_memory(lba, NLB, DataMode::Normal),
    };
    let mut store = open();
    let size = NLB as usize * lba as usize;
    let mut model = Model {
        lba: lba as usize,
        durable: vec![0; size],
        visible: vec![0; size],
        marks: BTreeSet::new(),
        cache: false,
    };
    for op in ops {
        match *op {
            Op::Write { slba, nlb, seed, fua } => {
                let bytes = data(nlb as usize * model.lba, seed);
                store.write(slba, &bytes, fua);
                let span = model.span(slba, nlb);
                model.visible[span.clone()].copy_from_slice(&bytes);
                if fua || !model.cache {
                    model.durable[span].copy_from_slice(&bytes);
                }
                model.unmark(slba, nlb);
            }
            Op::Zero { slba, nlb } | Op::Deallocate { slba, nlb } => {
                if matches!(op, Op::Zero { .. }) {
                    store.write_zeroes(slba, nlb);
                } else {
                    store.deallocate(slba, nlb);
                }
                let span = model.span(slba, nlb);
                model.visible[span.clone()].fill(0);
                model.durable[span].fill(0);
                model.unmark(slba, nlb);
            }
            Op::Mark { slba, nlb } => {
                store.mark_uncorrectable(slba, nlb);
                model.marks.extend(slba..slba + nlb);
            }
            Op::Read { slba, nlb } => {
                let mut out = vec![0xEE; nlb as usize * model.lba];
                let got = store.read(slba, &mut out);
                match model.marks.range(slba..slba + nlb).next() {
                    Some(&lba) => prop_assert_eq!(got, Err(MediaError::Uncorrectable { lba })),
                    None => {
                        prop_assert_eq!(got, Ok(()));
                        prop_assert!(out == model.visible[model.span(slba, nlb)], "read {}+{}", slba, nlb);
                    }
                }
            }
            Op::Flush => {
                store.flush();
                model.durable.clone_from(&model.visible);
            }
            Op::PowerLoss => {
                store.power_loss();
                model.visible.clone_from(&model.durable);
            }
            Op::Cache(enabled) => {
                store.set_write_cache(enabled);
                if !enabled {
                    model.durable.clone_from(&model.visible);
                }
                model.cache = enabled;
            }
            Op::Overwrite(pattern) => {
                store.erase_with_pattern(pattern);
                let bytes: Vec<u8> = (0..size).map(|i| pattern.to_le_bytes()[i % model.lba % 4]).collect();
                model.durable.clone_from(&bytes);
                model.visible = bytes;
                model.marks.clear();
            }
            Op::Reopen => {
                if file.is_some() {
                    // Dropping is an orderly shutdown: the cache is flushed.
                    drop(store);
                    store = open();
                    model.durable.clone_from(&model.visible);
                    model.cache = false;
                }
            }
        }
    }
    // Everything, block by block, at the end.
    for lba in 0..NLB {
        let mut out = vec![0; model.lba];
        match store.read(lba, &mut out) {
            Ok(()) => prop_assert!(out == model.visible[model.span(lba, 1)], "final lba {}", lba),
            Err(_) => prop_assert!(model.marks.contains(&lba), "lba {} unexpectedly unreadable", lba),
        }
    }
    let marked: BTreeSet<u64> = store.uncorrectable_ranges().into_iter().flat_map(|(s, e)| s..e).collect();
    prop_assert_eq!(marked, model.marks.clone());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn memory_store_512_matches_model(ops in prop::collection::vec(op(), 1..60)) {
        run(512, None, &ops)?;
    }

    #[test]
    fn memory_store_4096_matches_model(ops in prop::collection::vec(op(), 1..60)) {
        run(4096, None, &ops)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn file_store_matches_model(lba in prop_oneof![Just(512u32), Just(4096u32)], ops in prop::collection::vec(op(), 1..60)) {
        let dir = tempfile::tempdir().unwrap();
        run(lba, Some(&dir.path().join("ns.img")), &ops)?;
    }
}

#[test]
fn resident_memory_returns_to_zero() {
    let store = NamespaceStore::new_memory(512, NLB, DataMode::Normal);
    store.set_write_cache(true);
    for lba in 0..NLB {
        store.write(lba, &data(512, lba as u8 | 1), lba % 3 == 0);
    }
    assert!(store.resident_bytes() > 0);
    store.flush();
    store.deallocate(0, NLB);
    assert_eq!(store.resident_bytes(), 0);
}
