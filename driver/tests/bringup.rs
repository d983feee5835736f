//! Bring-up, identify, admin helpers, resets and shutdown against the simulator.

mod common;

use common::*;
use nvmeplan_driver::{DriverError, QueuePair, ShutdownKind, WriteOptions};
use nvmeplan_spec::Status;
use nvmeplan_spec::features::fid;

#[test]
fn bring_up_and_identify() {
    let ctrl = open_sim("");
    let id = ctrl.identify().unwrap();
    assert!(!id.model().is_empty());
    assert!(!id.serial().is_empty());
    assert!(ctrl.max_io_queues().unwrap() >= 16);
    let namespaces = ctrl.namespaces().unwrap();
    assert!(!namespaces.is_empty());
    let ns = ctrl.namespace(1).unwrap();
    assert!(ns.nsze > 0);
    assert!(ns.lba_size == 512 || ns.lba_size == 4096);
    assert_eq!(ctrl.mdts_bytes(), Some(4096 << 5));
    assert!(matches!(ctrl.namespace(999), Err(DriverError::NoSuchNamespace { nsid: 999 })));
    // Fresh identify data matches the cached copy.
    assert_eq!(ctrl.identify_controller().unwrap().sn, id.sn);
    assert_eq!(ctrl.identify_namespace(1).unwrap().nsze, ns.nsze);
    assert_eq!(ctrl.identify_active_ns_list(0).unwrap()[0], 1);
    let cap = ctrl.cap().unwrap();
    assert!(cap.mqes() > 0);
    // The admin cmdlog saw the bring-up commands.
    let log = ctrl.admin_cmdlog().unwrap().snapshot(100);
    assert!(log.iter().any(|e| e.to_string().contains("identify")), "{log:?}");
}

#[test]
fn features_and_logs() {
    let ctrl = open_sim("");
    let cqe = ctrl.get_features(fid::NUMBER_OF_QUEUES, 0, 0, 0, None).unwrap();
    assert!(cqe.status().is_success());
    let smart = ctrl.get_log_page(0x02, 0xFFFF_FFFF, 512, 0).unwrap();
    assert_eq!(smart.len(), 512);
    let bad = ctrl.get_features(0x7F, 0, 0, 0, None).unwrap();
    assert!(!bad.status().is_success());
}

#[test]
fn reset_fails_old_qpairs_and_new_ones_work() {
    let ctrl = open_sim("");
    let lba = lba_size(&ctrl);
    let mut qp = qpair(&ctrl, 64);
    let mut buf = buffer(&ctrl, lba * 8);
    assert!(qp.write(1, 0, 8, &mut buf, WriteOptions::default()).unwrap().status().is_success());
    // Queue some commands without ringing, then reset.
    for i in 0..4 {
        qp.submit_raw(nvmeplan_driver::commands::read(1, i, 1), Some((buf.iova(), lba)), i).unwrap();
    }
    let generation = ctrl.generation();
    ctrl.reset().unwrap();
    assert!(ctrl.generation() > generation);
    let mut tokens = vec![];
    let err = qp.poll(64, |token, cqe, _| {
        assert!(QueuePair::is_synthesized(cqe));
        assert_eq!(cqe.status(), Status::COMMAND_ABORTED_BY_HOST);
        tokens.push(token);
    });
    assert!(matches!(err, Err(DriverError::ControllerReset { .. })), "{err:?}");
    tokens.sort();
    assert_eq!(tokens, vec![0, 1, 2, 3]);
    assert_eq!(qp.outstanding(), 0);
    assert!(matches!(qp.flush(1), Err(DriverError::ControllerReset { .. })));
    drop(qp);
    let mut qp = qpair(&ctrl, 64);
    assert!(qp.flush(1).unwrap().status().is_success());
}

#[test]
fn function_reset_and_shutdown() {
    let ctrl = open_sim("");
    let qp = qpair(&ctrl, 16);
    ctrl.function_reset().unwrap();
    assert!(qp.is_stale());
    drop(qp);
    let mut qp = qpair(&ctrl, 16);
    assert!(qp.flush(1).unwrap().status().is_success());
    drop(qp);
    ctrl.shutdown(ShutdownKind::Normal).unwrap();
    assert!(ctrl.is_shut_down());
    assert!(matches!(ctrl.identify_controller(), Err(DriverError::InvalidState(_))));
    ctrl.reset().unwrap();
    assert!(!ctrl.is_shut_down());
    let mut qp = qpair(&ctrl, 16);
    assert!(qp.flush(1).unwrap().status().is_success());
}

#[test]
fn subsystem_reset_when_supported() {
    let ctrl = open_sim("");
    match ctrl.subsystem_reset() {
        Ok(()) => assert!(ctrl.identify().is_ok()),
        Err(DriverError::Unsupported(_)) => {}
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn sixteen_qpairs() {
    let ctrl = open_sim("");
    let mut qps: Vec<_> = (0..16).map(|_| qpair(&ctrl, 32)).collect();
    let mut qids: Vec<u16> = qps.iter().map(|q| q.qid()).collect();
    qids.sort();
    qids.dedup();
    assert_eq!(qids.len(), 16);
    for qp in &mut qps {
        assert!(qp.flush(1).unwrap().status().is_success());
    }
    let q = qps.pop().unwrap();
    let qid = q.qid();
    ctrl.delete_qpair(q).unwrap();
    // The freed qid is reused.
    let q = qpair(&ctrl, 32);
    assert_eq!(q.qid(), qid);
}

#[test]
fn firmware_download_and_commit() {
    let ctrl = open_sim("mdts=1");
    let image = nvmeplan_sim::firmware::build_image("NEWFW001", 64 << 10);
    ctrl.firmware_download(&image).unwrap();
    // Download is split into MDTS-sized (8 KiB) chunks.
    let log = ctrl.admin_cmdlog().unwrap().snapshot(100);
    let downloads = log.iter().filter(|e| e.to_string().contains("firmware_image_download")).count();
    assert_eq!(downloads, 8);
    let cqe = ctrl.firmware_commit(2, 1).unwrap();
    assert!(cqe.status().is_success() || cqe.status().sct() == 1, "{}", cqe.status());
}

#[test]
fn async_event_request_times_out_without_events() {
    let ctrl = open_sim("");
    let got = ctrl.async_event_request(std::time::Duration::from_millis(50)).unwrap();
    assert!(got.is_none());
    // The same request stays outstanding; admin commands keep working.
    assert!(ctrl.identify_controller().is_ok());
    assert!(ctrl.async_event_request(std::time::Duration::from_millis(10)).unwrap().is_none());
    // A reset completes it host-side.
    ctrl.reset().unwrap();
    assert!(ctrl.async_event_request(std::time::Duration::from_millis(10)).unwrap().is_none());
}

#[test]
fn format_marks_the_verify_map_and_dropping_a_qpair_delivers_callbacks() {
    let ctrl = open_sim("");
    let lba = lba_size(&ctrl);
    let map = std::sync::Arc::new(nvmeplan_driver::VerifyMap::new());
    let mut qp = qpair(&ctrl, 16);
    qp.attach_verify_map(1, map.clone());
    let mut buf = buffer(&ctrl, lba * 4);
    assert!(qp.write(1, 0, 4, &mut buf, WriteOptions::default()).unwrap().status().is_success());
    let lbaf = ctrl.namespace(1).unwrap().identify.active_lba_format_index() as u8;
    let cqe = ctrl.format(1, lbaf, 0, Some(&map)).unwrap();
    assert!(cqe.status().is_success(), "{}", cqe.status());
    assert_eq!(map.expect(0), nvmeplan_driver::Expectation::Zeroes);
    let out = qp.read(1, 0, 4, &mut buf, None).unwrap();
    assert!(out.is_clean(), "{:?}", out.mismatches);
    // A callback still queued when the queue is dropped gets a synthesized completion.
    let (tx, rx) = std::sync::mpsc::channel();
    qp.submit_with_callback(
        nvmeplan_driver::commands::flush(1),
        None,
        Box::new(move |cqe| tx.send(*cqe).unwrap()),
    )
    .unwrap();
    drop(qp);
    let cqe = rx.recv().unwrap();
    assert!(QueuePair::is_synthesized(&cqe));
}

#[test]
fn dropping_everything_unmaps_all_dma_memory() {
    let (ctrl, sim) = open_sim_device("");
    let qp = qpair(&ctrl, 16);
    let buf = buffer(&ctrl, 8192);
    assert!(ctrl.async_event_request(std::time::Duration::from_millis(1)).unwrap().is_none());
    let dma = sim.dma();
    assert!(dma.mapping_count() >= 6);
    drop((qp, buf, ctrl));
    assert_eq!(dma.mapping_count(), 0);
}

#[allow(dead_code)]
fn thread_safety_contract() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<nvmeplan_driver::Controller>();
    send_sync::<nvmeplan_driver::VerifyMap>();
    send_sync::<nvmeplan_driver::CmdLog>();
    send::<QueuePair>();
    send::<nvmeplan_driver::DmaBuffer>();
}
