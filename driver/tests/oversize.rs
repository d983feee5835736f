//! Transfers larger than a queue was sized for: a command over MDTS sent
//! on purpose reaches the device (its PRP lists get pages of their own)
//! and gets the device's status, and a device without that limit moves
//! the data intact.

mod common;

use common::*;
use nvmeplan_driver::queue_pair::QueuePairOptions;
use nvmeplan_driver::{Pattern, WriteOptions};
use nvmeplan_spec::Status;
use std::time::Duration;

#[test]
fn a_write_over_mdts_reaches_the_device_and_is_refused() {
    // MDTS 2 = 16 KiB: each queue slot has one PRP list page (512
    // entries); 4 MiB needs 1023 entries, two chained list pages.
    let ctrl = open_sim("mdts=2");
    assert_eq!(ctrl.mdts_bytes(), Some(16 << 10));
    let lba = lba_size(&ctrl);
    let mut qp = qpair(&ctrl, 4);
    let len = 4 << 20;
    let mut buf = buffer(&ctrl, len);
    for _ in 0..6 {
        // More times than the queue has slots: each slot's own pages go
        // back when its command completes.
        let cqe = qp.write(1, 0, (len / lba) as u32, &mut buf, WriteOptions::default()).unwrap();
        assert_eq!(cqe.status(), Status::INVALID_FIELD_IN_COMMAND);
    }
    let cqe = qp.write(1, 0, (16384 / lba) as u32, &mut buf, WriteOptions::default()).unwrap();
    assert!(cqe.status().is_success(), "{}", cqe.status());
}

#[test]
fn a_transfer_beyond_the_queues_maximum_moves_its_data_intact() {
    // No MDTS: the device takes 32 MiB in one command, more than the queue's
    // 64 KiB of preallocated lists describe, so the PRP list is built in
    // pages of its own (chained: 8192 entries).
    let ctrl = open_sim("mdts=0");
    let options = QueuePairOptions {
        timeout: Duration::from_secs(30),
        max_transfer: Some(64 << 10),
        ..Default::default()
    };
    let mut qp = ctrl.create_qpair(4, options).expect("qpair");
    let lba = lba_size(&ctrl);
    let len = 32 << 20;
    let nlb = (len / lba) as u32;
    for offset in [0usize, 512] {
        let mut wbuf = buffer(&ctrl, len + 4096).with_offset(offset).unwrap();
        wbuf.fill(Pattern::Random { seed: 9 + offset as u64 });
        let cqe = qp.write(1, 4096, nlb, &mut wbuf, WriteOptions { fua: false, stamp: false }).unwrap();
        assert!(cqe.status().is_success(), "{}", cqe.status());
        let mut rbuf = buffer(&ctrl, len + 4096).with_offset(offset).unwrap();
        let out = qp.read(1, 4096, nlb, &mut rbuf, None).unwrap();
        assert!(out.completion.status().is_success(), "{}", out.completion.status());
        assert!(wbuf.data_eq(&rbuf, len), "offset {offset}: the data read back differs");
    }
}
