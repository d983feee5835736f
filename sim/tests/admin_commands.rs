//! Admin commands driven through the admin queue by hand.

mod common;

use common::*;
use nvmeplan_sim::SimConfig;
use nvmeplan_sim::firmware::build_image;
use nvmeplan_spec::identify::{IdentifyController, IdentifyNamespace, NamespaceList, decode_ns_descriptors};
use nvmeplan_spec::log::{FirmwareSlotLog, SanitizeStatusLog, SelfTestLog, SmartHealthLog};
use nvmeplan_spec::registers::{self as reg, Cc};
use nvmeplan_spec::{Command, Status};
use std::time::Duration;
use zerocopy::FromBytes;

fn id_ctrl(host: &mut Host) -> IdentifyController {
    let (r, data) = host.admin_read(identify(1, 0), 4096);
    assert!(r.status().is_success());
    IdentifyController::read_from_bytes(&data).unwrap()
}

#[test]
fn identify_controller_and_namespaces() {
    let cfg = SimConfig { serial: "SIMTEST42".into(), model: "Model X".into(), ..fast_config() };
    let mut host = ready_host(cfg);
    let id = id_ctrl(&mut host);
    assert_eq!(id.serial(), "SIMTEST42");
    assert_eq!(id.model(), "Model X");
    assert_eq!(id.firmware_revision(), "1.0");
    assert_eq!((id.sqes, id.cqes, id.mdts, id.nn, id.ver), (0x66, 0x44, 5, 32, 0x0002_0000));
    assert_eq!(id.firmware_slots(), 3);
    assert_ne!(id.oacs & 0x1E, 0);
    assert_eq!(id.total_capacity(), 2 << 30);
    assert_eq!(id.unallocated_capacity(), 1 << 30);

    let (r, data) = host.admin_read(identify(0, 1), 4096);
    assert!(r.status().is_success());
    let ns = IdentifyNamespace::read_from_bytes(&data).unwrap();
    assert_eq!((ns.nsze, ns.lba_size(), ns.nlbaf), ((1 << 30) / 512, 512, 1));
    assert_eq!(ns.lbaf[1].lba_size(), 4096);
    // Valid but unallocated NSID: zeros. Invalid NSID: error.
    let (r, data) = host.admin_read(identify(0, 5), 4096);
    assert!(r.status().is_success() && data.iter().all(|&b| b == 0));
    assert_eq!(host.admin_read(identify(0, 0), 4096).0.status(), Status::INVALID_NAMESPACE_OR_FORMAT);
    assert_eq!(host.admin_read(identify(0, 33), 4096).0.status(), Status::INVALID_NAMESPACE_OR_FORMAT);
    // Active list, descriptors, unknown CNS.
    let (_, data) = host.admin_read(identify(2, 0), 4096);
    assert_eq!(NamespaceList::read_from_bytes(&data).unwrap().iter().collect::<Vec<_>>(), vec![1]);
    let (_, data) = host.admin_read(identify(2, 1), 4096);
    assert!(NamespaceList::read_from_bytes(&data).unwrap().is_empty());
    let (r, data) = host.admin_read(identify(3, 1), 4096);
    assert!(r.status().is_success());
    let descs = decode_ns_descriptors(&data);
    assert_eq!(descs.iter().map(|d| d.0).collect::<Vec<_>>(), vec![1, 2, 3, 4]);
    assert_eq!(host.admin_read(identify(0x42, 0), 4096).0.status(), Status::INVALID_FIELD_IN_COMMAND);
    // Identify into unmapped memory fails the transfer, not the device.
    let mut c = identify(1, 0);
    c.prp1 = 0x1000;
    assert_eq!(host.admin(c).status(), Status::DATA_TRANSFER_ERROR);
}

#[test]
fn unknown_opcode_and_reserved_nsid() {
    let mut host = ready_host(fast_config());
    let r = host.admin(Command::new(0x7F, 0));
    assert_eq!(r.status(), Status::INVALID_COMMAND_OPCODE);
    assert!(r.dnr());
    let r = host.admin(Command::new(0x18, 0));
    assert!(r.status().is_success(), "keep alive");
    let r = host.admin(Command::new(0x18, 1));
    assert_eq!(r.status(), Status::INVALID_FIELD_IN_COMMAND);
}

fn create_cq(host: &mut Host, qid: u16, size: u16, flags: u32, iv: u16) -> Status {
    let mut c = Command::new(0x05, 0);
    c.prp1 = host.alloc(usize::from(size.max(1)) * 16);
    c.cdw10 = u32::from(qid) | (u32::from(size.wrapping_sub(1)) << 16);
    c.cdw11 = flags | (u32::from(iv) << 16);
    host.admin(c).status()
}

fn create_sq(host: &mut Host, qid: u16, size: u16, cqid: u16) -> Status {
    let mut c = Command::new(0x01, 0);
    c.prp1 = host.alloc(usize::from(size.max(1)) * 64);
    c.cdw10 = u32::from(qid) | (u32::from(size.wrapping_sub(1)) << 16);
    c.cdw11 = 1 | (u32::from(cqid) << 16);
    host.admin(c).status()
}

#[test]
fn queue_creation_errors() {
    let mut host = ready_host(SimConfig { max_io_queues: 4, msix_vectors: 5, ..fast_config() });
    assert_eq!(create_cq(&mut host, 0, 16, 3, 1), Status::INVALID_QUEUE_IDENTIFIER);
    assert_eq!(create_cq(&mut host, 5, 16, 3, 1), Status::INVALID_QUEUE_IDENTIFIER);
    assert_eq!(create_cq(&mut host, 1, 0, 3, 1), Status::INVALID_QUEUE_SIZE);
    assert_eq!(create_cq(&mut host, 1, 1025, 3, 1), Status::INVALID_QUEUE_SIZE);
    assert_eq!(create_cq(&mut host, 1, 16, 2, 1), Status::INVALID_FIELD_IN_COMMAND, "PC=0");
    assert_eq!(create_cq(&mut host, 1, 16, 3, 5), Status::INVALID_INTERRUPT_VECTOR);
    assert_eq!(create_cq(&mut host, 1, 16, 3, 1), Status::SUCCESS);
    assert_eq!(create_cq(&mut host, 1, 16, 3, 1), Status::INVALID_QUEUE_IDENTIFIER, "exists");
    assert_eq!(create_sq(&mut host, 1, 16, 2), Status::COMPLETION_QUEUE_INVALID);
    assert_eq!(create_sq(&mut host, 1, 16, 0), Status::COMPLETION_QUEUE_INVALID);
    assert_eq!(create_sq(&mut host, 0, 16, 1), Status::INVALID_QUEUE_IDENTIFIER);
    assert_eq!(create_sq(&mut host, 1, 16, 1), Status::SUCCESS);
    assert_eq!(create_sq(&mut host, 2, 16, 1), Status::SUCCESS, "CQ shared by two SQs");
    // Misaligned base.
    let mut c = Command::new(0x05, 0);
    c.prp1 = host.alloc(4096) + 64;
    c.cdw10 = 3 | (15 << 16);
    c.cdw11 = 1;
    assert_eq!(host.admin(c).status(), Status::PRP_OFFSET_INVALID);
    // Delete: CQ in use, qid 0, missing.
    let del = |op: u8, qid: u16| {
        let mut c = Command::new(op, 0);
        c.cdw10 = u32::from(qid);
        c
    };
    assert_eq!(host.admin(del(0x04, 1)).status(), Status::INVALID_QUEUE_DELETION);
    assert_eq!(host.admin(del(0x00, 0)).status(), Status::INVALID_QUEUE_IDENTIFIER);
    assert_eq!(host.admin(del(0x00, 3)).status(), Status::INVALID_QUEUE_IDENTIFIER);
    assert_eq!(host.admin(del(0x00, 1)).status(), Status::SUCCESS);
    assert_eq!(host.admin(del(0x00, 2)).status(), Status::SUCCESS);
    assert_eq!(host.admin(del(0x04, 1)).status(), Status::SUCCESS);
    assert_eq!(host.admin(del(0x04, 1)).status(), Status::INVALID_QUEUE_IDENTIFIER);
}

#[test]
fn queue_entry_sizes_are_checked_at_creation() {
    let mut host = Host::new(fast_config());
    let size = u32::from(host.admin.size - 1);
    host.dev.bar_write32(reg::AQA, size | (size << 16));
    host.dev.bar_write64(reg::ASQ, host.admin.sq);
    host.dev.bar_write64(reg::ACQ, host.admin.cq);
    host.dev.bar_write32(reg::CC, Cc::new().with_en(true).into());
    host.wait_csts("RDY", |c| c.rdy());
    assert_eq!(create_cq(&mut host, 1, 16, 3, 0), Status::INVALID_FIELD_IN_COMMAND);
    host.dev.bar_write32(reg::CC, Cc::new().with_en(true).with_iocqes(4).into());
    assert_eq!(create_cq(&mut host, 1, 16, 3, 0), Status::SUCCESS);
    assert_eq!(create_sq(&mut host, 1, 16, 1), Status::INVALID_FIELD_IN_COMMAND);
}

fn get_feature(host: &mut Host, fid: u8, sel: u8, cdw11: u32) -> (Status, u32) {
    let mut c = Command::new(0x0A, 0);
    c.cdw10 = u32::from(fid) | (u32::from(sel) << 8);
    c.cdw11 = cdw11;
    let r = host.admin(c);
    (r.status(), r.dw0)
}

fn set_feature(host: &mut Host, fid: u8, cdw11: u32) -> (Status, u32) {
    let mut c = Command::new(0x09, 0);
    c.cdw10 = u32::from(fid);
    c.cdw11 = cdw11;
    let r = host.admin(c);
    (r.status(), r.dw0)
}

#[test]
fn features() {
    let mut host = ready_host(SimConfig { max_io_queues: 8, ..fast_config() });
    assert_eq!(get_feature(&mut host, 0x07, 0, 0), (Status::SUCCESS, 0x0007_0007));
    assert_eq!(set_feature(&mut host, 0x07, 0x0003_0001), (Status::SUCCESS, 0x0003_0001));
    assert_eq!(set_feature(&mut host, 0x07, 0x0020_0020), (Status::SUCCESS, 0x0007_0007), "capped");
    assert_eq!(set_feature(&mut host, 0x07, 0xFFFF_0000).0, Status::INVALID_FIELD_IN_COMMAND);
    set_feature(&mut host, 0x07, 0x0000_0000);
    assert_eq!(create_cq(&mut host, 2, 8, 3, 0), Status::INVALID_QUEUE_IDENTIFIER, "beyond allocation");
    assert_eq!(create_cq(&mut host, 1, 8, 3, 0), Status::SUCCESS);
    assert_eq!(set_feature(&mut host, 0x07, 0).0, Status::COMMAND_SEQUENCE_ERROR);
    // Volatile write cache.
    assert_eq!(get_feature(&mut host, 0x06, 0, 0), (Status::SUCCESS, 1));
    assert_eq!(set_feature(&mut host, 0x06, 0).0, Status::SUCCESS);
    assert_eq!(get_feature(&mut host, 0x06, 0, 0), (Status::SUCCESS, 0));
    assert_eq!(get_feature(&mut host, 0x06, 1, 0), (Status::SUCCESS, 1), "default");
    assert_eq!(get_feature(&mut host, 0x06, 2, 0), (Status::SUCCESS, 1), "saved = default");
    assert_eq!(get_feature(&mut host, 0x06, 3, 0), (Status::SUCCESS, 0b100), "changeable only");
    let mut c = Command::new(0x09, 0);
    c.cdw10 = 0x06 | (1 << 31);
    assert_eq!(host.admin(c).status(), Status::FEATURE_IDENTIFIER_NOT_SAVEABLE);
    // Power state, temperature threshold, vectors, unknown.
    assert_eq!(set_feature(&mut host, 0x02, 1).0, Status::INVALID_FIELD_IN_COMMAND);
    assert_eq!(set_feature(&mut host, 0x04, 350).0, Status::SUCCESS);
    assert_eq!(get_feature(&mut host, 0x04, 0, 0), (Status::SUCCESS, 350));
    assert_eq!(get_feature(&mut host, 0x04, 0, 0x0010_0000), (Status::SUCCESS, 0x0010_0000));
    assert_eq!(get_feature(&mut host, 0x04, 0, 0x0005_0000).0, Status::INVALID_FIELD_IN_COMMAND);
    assert_eq!(set_feature(&mut host, 0x09, 0x1_0003).0, Status::SUCCESS);
    assert_eq!(get_feature(&mut host, 0x09, 0, 3), (Status::SUCCESS, 0x1_0003));
    assert_eq!(get_feature(&mut host, 0x09, 0, 999).0, Status::INVALID_FIELD_IN_COMMAND);
    assert_eq!(set_feature(&mut host, 0x08, 0x0A04).0, Status::SUCCESS);
    assert_eq!(get_feature(&mut host, 0x08, 0, 0), (Status::SUCCESS, 0x0A04));
    assert_eq!(get_feature(&mut host, 0x03, 0, 0).0, Status::INVALID_FIELD_IN_COMMAND);
    assert_eq!(get_feature(&mut host, 0xC0, 0, 0).0, Status::INVALID_FIELD_IN_COMMAND);
    // Features return to defaults after a controller reset.
    host.disable();
    host.enable();
    assert_eq!(get_feature(&mut host, 0x06, 0, 0), (Status::SUCCESS, 1));
    assert_eq!(get_feature(&mut host, 0x07, 0, 0), (Status::SUCCESS, 0x0007_0007));
}

#[test]
fn temperature_threshold_raises_smart_event() {
    let mut host = ready_host(fast_config());
    assert_eq!(set_feature(&mut host, 0x0B, 0x0000_00FF).0, Status::SUCCESS);
    let aer = host.submit_on(None, &mut [], Command::new(0x0C, 0));
    assert_eq!(set_feature(&mut host, 0x04, 300).0, Status::SUCCESS);
    let cqe = host.poll_on(None, &mut [], Duration::from_secs(2)).unwrap();
    assert_eq!(cqe.cid, aer);
    assert_eq!(cqe.dw0, 0x0002_0101);
    let (_, data) = host.admin_read(get_log(2, 512, 0), 512);
    let smart = SmartHealthLog::read_from_bytes(&data).unwrap();
    assert_eq!(smart.critical_warning & 0x2, 0x2);
}

#[test]
fn aer_limit() {
    let mut host = ready_host(fast_config());
    for _ in 0..4 {
        host.submit_on(None, &mut [], Command::new(0x0C, 0));
    }
    let r = host.admin(Command::new(0x0C, 0));
    assert_eq!(r.status(), Status::ASYNC_EVENT_REQUEST_LIMIT_EXCEEDED);
}

#[test]
fn log_pages() {
    let mut host = ready_host(fast_config());
    let (r, data) = host.admin_read(get_log(2, 512, 0), 512);
    assert!(r.status().is_success());
    let smart = SmartHealthLog::read_from_bytes(&data).unwrap();
    assert_eq!(smart.power_cycles(), 1);
    assert_eq!(smart.composite_temperature(), 313);
    // A failed command lands in the error log, newest first.
    let r = host.admin(Command::new(0x7E, 0));
    assert_eq!(r.status(), Status::INVALID_COMMAND_OPCODE);
    let (_, data) = host.admin_read(get_log(1, 128, 0), 128);
    let count = u64::from_le_bytes(data[0..8].try_into().unwrap());
    assert!(count >= 1);
    assert_eq!(u16::from_le_bytes([data[10], data[11]]), r.cid);
    assert_eq!((u16::from_le_bytes([data[12], data[13]]) >> 1) & 0xFF, 0x01);
    let (_, data) = host.admin_read(get_log(2, 512, 0), 512);
    assert!(SmartHealthLog::read_from_bytes(&data).unwrap().num_error_log_entries() >= 1);
    // Offsets: within the page, then beyond it.
    let (r, data) = host.admin_read(get_log(2, 8, 112), 8);
    assert!(r.status().is_success());
    assert_eq!(data[0], 1, "power cycles at byte 112");
    assert_eq!(host.admin_read(get_log(2, 8, 4096), 8).0.status(), Status::INVALID_FIELD_IN_COMMAND);
    assert_eq!(host.admin_read(get_log(2, 8, 2), 8).0.status(), Status::INVALID_FIELD_IN_COMMAND);
    assert_eq!(host.admin_read(get_log(0x42, 512, 0), 512).0.status(), Status::INVALID_LOG_PAGE);
    let (r, data) = host.admin_read(get_log(0x81, 512, 0), 512);
    assert!(r.status().is_success());
    assert_eq!(SanitizeStatusLog::read_from_bytes(&data).unwrap().sprog, 0xFFFF);
}

fn download(host: &mut Host, image: &[u8], chunk: usize) {
    for (i, piece) in image.chunks(chunk).enumerate() {
        let mut c = Command::new(0x11, 0);
        c.cdw10 = (piece.len() / 4 - 1) as u32;
        c.cdw11 = (i * chunk / 4) as u32;
        let r = host.admin_write(c, piece);
        assert!(r.status().is_success(), "download: {:?}", r.status());
    }
}

fn commit(host: &mut Host, slot: u32, action: u32) -> Status {
    let mut c = Command::new(0x10, 0);
    c.cdw10 = slot | (action << 3);
    host.admin(c).status()
}

fn fw_log(host: &mut Host) -> FirmwareSlotLog {
    let (_, data) = host.admin_read(get_log(3, 512, 0), 512);
    FirmwareSlotLog::read_from_bytes(&data).unwrap()
}

#[test]
fn firmware_commit_takes_effect_after_reset() {
    let mut host = ready_host(fast_config());
    let image = build_image("2.0", 8192);
    download(&mut host, &image, 4096);
    assert_eq!(commit(&mut host, 2, 1), Status::SUCCESS);
    assert_eq!(id_ctrl(&mut host).firmware_revision(), "1.0", "not before the reset");
    let log = fw_log(&mut host);
    assert_eq!((log.active_slot(), log.next_slot()), (1, Some(2)));
    assert_eq!(log.revision(2).as_deref(), Some("2.0"));
    host.disable();
    host.enable();
    assert_eq!(id_ctrl(&mut host).firmware_revision(), "2.0");
    let log = fw_log(&mut host);
    assert_eq!((log.active_slot(), log.next_slot()), (2, None));
    // CA 011 needs a conventional reset.
    download(&mut host, &build_image("3.0", 4096), 4096);
    assert_eq!(commit(&mut host, 3, 3), Status::FIRMWARE_ACTIVATION_REQUIRES_CONVENTIONAL_RESET);
    host.dev.function_reset();
    let mut host2 = host;
    let cmd = host2.dev.config_read32(0x04);
    host2.dev.config_write32(0x04, cmd | 0x6);
    host2.enable();
    assert_eq!(id_ctrl(&mut host2).firmware_revision(), "3.0");
}

#[test]
fn firmware_errors() {
    let mut host = ready_host(fast_config());
    assert_eq!(commit(&mut host, 1, 0), Status::INVALID_FIRMWARE_IMAGE, "nothing downloaded");
    assert_eq!(commit(&mut host, 5, 0), Status::INVALID_FIRMWARE_SLOT);
    assert_eq!(commit(&mut host, 3, 2), Status::INVALID_FIRMWARE_IMAGE, "empty slot");
    assert_eq!(commit(&mut host, 1, 6), Status::INVALID_FIELD_IN_COMMAND);
    download(&mut host, &[0xAB; 4096], 4096);
    assert_eq!(commit(&mut host, 2, 1), Status::INVALID_FIRMWARE_IMAGE, "bad magic");
    let image = build_image("2.0", 8192);
    download(&mut host, &image[..4096], 4096);
    let mut c = Command::new(0x11, 0);
    c.cdw10 = 1023;
    c.cdw11 = 512;
    assert_eq!(host.admin_write(c, &image[2048..6144]).status(), Status::OVERLAPPING_RANGE);
    c.cdw11 = 2048;
    assert_eq!(host.admin_write(c, &image[..4096]).status(), Status::INVALID_FIELD_IN_COMMAND, "gap");
}

fn ns_create(host: &mut Host, nsze: u64, flbas: u8) -> (Status, u32) {
    let mut data = vec![0u8; 4096];
    data[0..8].copy_from_slice(&nsze.to_le_bytes());
    data[8..16].copy_from_slice(&nsze.to_le_bytes());
    data[26] = flbas;
    let r = host.admin_write(Command::new(0x0D, 0), &data);
    (r.status(), r.dw0)
}

fn ns_attach(host: &mut Host, nsid: u32, detach: bool, ids: &[u16]) -> Status {
    let mut data = vec![0u8; 4096];
    data[0..2].copy_from_slice(&(ids.len() as u16).to_le_bytes());
    for (i, id) in ids.iter().enumerate() {
        data[2 + 2 * i..4 + 2 * i].copy_from_slice(&id.to_le_bytes());
    }
    let mut c = Command::new(0x15, nsid);
    c.cdw10 = u32::from(detach);
    host.admin_write(c, &data).status()
}

#[test]
fn namespace_management_and_attachment() {
    let mut host = ready_host(SimConfig { max_namespaces: 2, ..fast_config() });
    assert_eq!(ns_create(&mut host, 1 << 30, 0).0, Status::NAMESPACE_INSUFFICIENT_CAPACITY);
    assert_eq!(ns_create(&mut host, 1024, 2).0, Status::INVALID_FORMAT);
    let (status, nsid) = ns_create(&mut host, (64 << 20) / 4096, 1);
    assert_eq!((status, nsid), (Status::SUCCESS, 2));
    assert_eq!(ns_create(&mut host, 1024, 0).0, Status::NAMESPACE_IDENTIFIER_UNAVAILABLE);
    // Allocated but not attached: zeros for CNS 0, data for CNS 11h.
    let (_, data) = host.admin_read(identify(0, 2), 4096);
    assert!(data.iter().all(|&b| b == 0));
    let (_, data) = host.admin_read(identify(0x11, 2), 4096);
    assert_eq!(IdentifyNamespace::read_from_bytes(&data).unwrap().lba_size(), 4096);
    assert_eq!(ns_attach(&mut host, 2, false, &[]), Status::CONTROLLER_LIST_INVALID);
    assert_eq!(ns_attach(&mut host, 2, false, &[9]), Status::CONTROLLER_LIST_INVALID);
    assert_eq!(ns_attach(&mut host, 2, true, &[1]), Status::NAMESPACE_NOT_ATTACHED);
    assert_eq!(ns_attach(&mut host, 2, false, &[1]), Status::SUCCESS);
    assert_eq!(ns_attach(&mut host, 2, false, &[1]), Status::NAMESPACE_ALREADY_ATTACHED);
    let (_, data) = host.admin_read(identify(2, 0), 4096);
    assert_eq!(NamespaceList::read_from_bytes(&data).unwrap().iter().collect::<Vec<_>>(), vec![1, 2]);
    let (_, d1) = host.admin_read(identify(3, 1), 4096);
    let (_, d2) = host.admin_read(identify(3, 2), 4096);
    assert_ne!(decode_ns_descriptors(&d1), decode_ns_descriptors(&d2), "identifiers are unique");
    // Changed namespace list.
    let (_, data) = host.admin_read(get_log(4, 4096, 0), 4096);
    assert_eq!(u32::from_le_bytes(data[0..4].try_into().unwrap()), 2);
    // Delete.
    let mut c = Command::new(0x0D, 7);
    c.cdw10 = 1;
    assert_eq!(host.admin(c).status(), Status::INVALID_NAMESPACE_OR_FORMAT);
    c.nsid = 2;
    assert_eq!(host.admin(c).status(), Status::SUCCESS);
    assert_eq!(id_ctrl(&mut host).unallocated_capacity(), 1 << 30);
}

#[test]
fn format_changes_lba_size() {
    let mut host = ready_host(fast_config());
    let mut c = Command::new(0x80, 1);
    c.cdw10 = 2;
    assert_eq!(host.admin(c).status(), Status::INVALID_FORMAT);
    c.cdw10 = 1 | (7 << 9);
    assert_eq!(host.admin(c).status(), Status::INVALID_FIELD_IN_COMMAND);
    c.cdw10 = 1 | (1 << 9);
    assert_eq!(host.admin(c).status(), Status::SUCCESS);
    let (_, data) = host.admin_read(identify(0, 1), 4096);
    let ns = IdentifyNamespace::read_from_bytes(&data).unwrap();
    assert_eq!((ns.lba_size(), ns.nsze), (4096, (1 << 30) / 4096));
    c.nsid = 0;
    assert_eq!(host.admin(c).status(), Status::INVALID_NAMESPACE_OR_FORMAT);
    c.nsid = 0xFFFF_FFFF;
    c.cdw10 = 0;
    assert_eq!(host.admin(c).status(), Status::SUCCESS);
    let (_, data) = host.admin_read(identify(0, 1), 4096);
    assert_eq!(IdentifyNamespace::read_from_bytes(&data).unwrap().lba_size(), 512);
}

fn self_test_log(host: &mut Host) -> SelfTestLog {
    let (_, data) = host.admin_read(get_log(6, 564, 0), 564);
    SelfTestLog::read_from_bytes(&data).unwrap()
}

#[test]
fn device_self_test() {
    let mut host = ready_host(fast_config());
    let mut c = Command::new(0x14, 0);
    c.cdw10 = 1;
    assert_eq!(host.admin(c).status(), Status::SUCCESS);
    assert_eq!(host.admin(c).status(), Status::DEVICE_SELF_TEST_IN_PROGRESS);
    let log = self_test_log(&mut host);
    assert_eq!(log.current_operation, 1);
    std::thread::sleep(Duration::from_millis(150));
    let log = self_test_log(&mut host);
    assert_eq!(log.current_operation, 0);
    assert_eq!((log.results[0].code(), log.results[0].result()), (1, 0));
    c.cdw10 = 2;
    assert_eq!(host.admin(c).status(), Status::SUCCESS);
    c.cdw10 = 0xF;
    assert_eq!(host.admin(c).status(), Status::SUCCESS);
    let log = self_test_log(&mut host);
    assert_eq!((log.results[0].code(), log.results[0].result()), (2, 1), "aborted by command");
    c.cdw10 = 7;
    assert_eq!(host.admin(c).status(), Status::INVALID_FIELD_IN_COMMAND);
    c.cdw10 = 1;
    c.nsid = 9;
    assert_eq!(host.admin(c).status(), Status::INVALID_NAMESPACE_OR_FORMAT);
}

#[test]
fn sanitize_blocks_commands_then_completes() {
    let mut host = ready_host(fast_config());
    let mut c = Command::new(0x84, 0);
    c.cdw10 = 5;
    assert_eq!(host.admin(c).status(), Status::INVALID_FIELD_IN_COMMAND);
    c.cdw10 = 2;
    assert_eq!(host.admin(c).status(), Status::SUCCESS);
    assert_eq!(host.admin(c).status(), Status::SANITIZE_IN_PROGRESS);
    let mut fmt = Command::new(0x80, 1);
    fmt.cdw10 = 0;
    assert_eq!(host.admin(fmt).status(), Status::SANITIZE_IN_PROGRESS);
    assert!(host.admin_read(identify(1, 0), 4096).0.status().is_success());
    let (_, data) = host.admin_read(get_log(0x81, 512, 0), 512);
    let log = SanitizeStatusLog::read_from_bytes(&data).unwrap();
    assert_eq!(log.status(), 2);
    assert!(log.sprog < 0xFFFF);
    std::thread::sleep(Duration::from_millis(250));
    let (_, data) = host.admin_read(get_log(0x81, 512, 0), 512);
    let log = SanitizeStatusLog::read_from_bytes(&data).unwrap();
    assert_eq!((log.status(), log.sprog), (1, 0xFFFF));
    assert!(log.global_data_erased());
    assert_eq!(host.admin(fmt).status(), Status::SUCCESS);
}

#[test]
fn identify_reports_copy_support_and_limits() {
    let mut host = ready_host(fast_config());
    let id = id_ctrl(&mut host);
    assert_ne!(id.oncs & nvmeplan_spec::identify::oncs::COPY, 0);
    assert!(nvmeplan_spec::identify::ocfs::supports(id.cdfs, 0));
    assert!(!nvmeplan_spec::identify::ocfs::supports(id.cdfs, 1));
    let (_, data) = host.admin_read(identify(0, 1), 4096);
    let ns = IdentifyNamespace::read_from_bytes(&data).unwrap();
    assert_eq!((ns.mssrl, ns.mcl, ns.msrc), (128, 128, 127));

    let cfg = SimConfig::from_params("mssrl=16,mcl=40,msrc=3").unwrap();
    let mut host = ready_host(SimConfig { copy_limits: cfg.copy_limits, ..fast_config() });
    for nsid in [1, 0xFFFF_FFFF] {
        let (_, data) = host.admin_read(identify(0, nsid), 4096);
        let ns = IdentifyNamespace::read_from_bytes(&data).unwrap();
        assert_eq!((ns.mssrl, ns.mcl, ns.msrc), (16, 40, 3), "nsid {nsid:#x}");
    }
}
