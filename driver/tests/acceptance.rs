//! Acceptance tests of the driver/simulator issue: the real driver against
//! the simulated controller, one scenario per acceptance point.

mod common;

use common::*;
use nvmeplan_driver::queue_pair::QueuePairOptions;
use nvmeplan_driver::{Controller, DriverError, Pattern, QueuePair, VerifyMap, WriteOptions, commands};
use nvmeplan_sim::FaultAction;
use nvmeplan_sim::faults::{FaultMatch, FaultRule, QueueMatch};
use nvmeplan_spec::identify::cns;
use nvmeplan_spec::log::{FirmwareSlotLog, SmartHealthLog, lid};
use nvmeplan_spec::{Command, Completion, NvmOpcode};
use std::sync::Arc;
use std::time::{Duration, Instant};
use zerocopy::FromBytes;

fn status_name(cqe: &Completion) -> String {
    cqe.status().to_string()
}

fn smart(ctrl: &Controller) -> SmartHealthLog {
    let raw = ctrl.get_log_page(lid::SMART_HEALTH, 0xFFFF_FFFF, 512, 0).expect("SMART log");
    SmartHealthLog::read_from_bytes(&raw).expect("512 bytes")
}

fn firmware_log(ctrl: &Controller) -> FirmwareSlotLog {
    let raw = ctrl.get_log_page(lid::FIRMWARE_SLOT, 0xFFFF_FFFF, 512, 0).expect("firmware slot log");
    FirmwareSlotLog::read_from_bytes(&raw).expect("512 bytes")
}

fn write_pattern(qp: &mut QueuePair, ctrl: &Controller, slba: u64, nlb: u32, seed: u64, fua: bool) {
    let mut buf = buffer(ctrl, lba_size(ctrl) * nlb as usize);
    buf.fill(Pattern::Random { seed });
    let cqe = qp.write(1, slba, nlb, &mut buf, WriteOptions { fua, ..Default::default() }).unwrap();
    assert!(cqe.status().is_success(), "write {slba}+{nlb}: {}", cqe.status());
}

/// Reads `nlb` blocks at `slba` and returns the raw bytes.
fn read_bytes(qp: &mut QueuePair, ctrl: &Controller, slba: u64, nlb: u32) -> Vec<u8> {
    let len = lba_size(ctrl) * nlb as usize;
    let mut buf = buffer(ctrl, len);
    let cqe = qp.execute(commands::read(1, slba, nlb), Some(&mut buf), None).unwrap();
    assert!(cqe.status().is_success(), "read {slba}+{nlb}: {}", cqe.status());
    buf.as_slice()[..len].to_vec()
}

#[test]
fn bring_up_and_identify() {
    let ctrl = open_sim("serial=ACC-0001,model=Acceptance Model,fw=1.0,namespaces=2");
    let id = ctrl.identify().unwrap();
    assert_eq!(id.serial(), "ACC-0001");
    assert_eq!(id.model(), "Acceptance Model");
    assert_eq!(id.firmware_revision(), "1.0");
    assert!(id.nn >= 2);
    assert_eq!(id.sqes, 0x66);
    assert_eq!(id.cqes, 0x44);
    let nsids: Vec<u32> = ctrl.namespaces().unwrap().iter().map(|n| n.nsid).collect();
    assert_eq!(nsids, vec![1, 2]);
    let ns = ctrl.namespace(1).unwrap();
    assert!(ns.nsze > 0);
    assert!(ns.lba_size == 512 || ns.lba_size == 4096);
    let cap = ctrl.cap().unwrap();
    assert_eq!(cap.mqes(), 1023);
    assert!(ctrl.version().unwrap().mjr() >= 1);
}

/// Sends `cmd` on the I/O queue and returns the completion's status name.
fn io_status(qp: &mut QueuePair, cmd: Command) -> String {
    status_name(&qp.execute(cmd, None, Some(Duration::from_secs(5))).unwrap())
}

fn admin_status(ctrl: &Controller, cmd: Command) -> String {
    status_name(&ctrl.admin(cmd, None).unwrap())
}

#[test]
fn every_malformed_or_out_of_range_command_gets_the_spec_status() {
    let ctrl = open_sim("mdts=2,fw=1.0");
    let lba = lba_size(&ctrl) as u32;
    let nsze = ctrl.namespace(1).unwrap().nsze;
    let mut qp = qpair(&ctrl, 16);
    let mut buf = buffer(&ctrl, 64 << 10);
    let iova = buf.iova();
    let with_data = |mut cmd: Command, prp1: u64| {
        cmd.prp1 = prp1;
        cmd
    };
    let mut cases: Vec<(&str, String, &str)> = Vec::new();
    let mut check = |what: &'static str, got: String, want: &'static str| cases.push((what, got, want));

    // NVM command set.
    check("unknown I/O opcode", io_status(&mut qp, Command::new(0x7F, 1)), "invalid_command_opcode");
    check(
        "read starting at nsze",
        io_status(&mut qp, with_data(commands::read(1, nsze, 1), iova)),
        "lba_out_of_range",
    );
    check(
        "read crossing the end",
        io_status(&mut qp, with_data(commands::read(1, nsze - 1, 2), iova)),
        "lba_out_of_range",
    );
    check(
        "write at an LBA near 2^64",
        io_status(&mut qp, with_data(commands::write(1, u64::MAX - 1, 8, false), iova)),
        "lba_out_of_range",
    );
    check(
        "read of namespace 0",
        io_status(&mut qp, with_data(commands::read(0, 0, 1), iova)),
        "invalid_namespace_or_format",
    );
    check(
        "read of a namespace that does not exist",
        io_status(&mut qp, with_data(commands::read(77, 0, 1), iova)),
        "invalid_namespace_or_format",
    );
    let mdts_blocks = (ctrl.mdts_bytes().unwrap() as u32 / lba) + 1;
    check(
        "read above MDTS",
        io_status(&mut qp, with_data(commands::read(1, 0, mdts_blocks), iova)),
        "invalid_field_in_command",
    );
    check(
        "PRP1 not dword aligned",
        io_status(&mut qp, with_data(commands::read(1, 0, 1), iova + 2)),
        "prp_offset_invalid",
    );
    check(
        "PRP1 outside every host mapping",
        io_status(&mut qp, with_data(commands::read(1, 0, 1), 0xDEAD_0000)),
        "data_transfer_error",
    );
    let mut sgl = with_data(commands::read(1, 0, 1), iova);
    sgl.cdw0.set_psdt(1);
    check("SGL requested (PSDT=1)", io_status(&mut qp, sgl), "invalid_field_in_command");

    // Media errors and compare.
    buf.fill(Pattern::Random { seed: 7 });
    assert!(qp.write(1, 10, 1, &mut buf, WriteOptions::default()).unwrap().status().is_success());
    let mut other = buffer(&ctrl, lba as usize);
    other.fill(Pattern::Ones);
    check(
        "compare with different data",
        status_name(&qp.compare(1, 10, 1, &mut other).unwrap()),
        "compare_failure",
    );
    assert!(qp.write_uncorrectable(1, 20, 1).unwrap().status().is_success());
    check(
        "read of an uncorrectable LBA",
        io_status(&mut qp, with_data(commands::read(1, 20, 1), iova)),
        "unrecovered_read_error",
    );

    // Admin command set.
    check("unknown admin opcode", admin_status(&ctrl, Command::new(0x7E, 0)), "invalid_command_opcode");
    check(
        "identify with an unknown CNS",
        admin_status(&ctrl, commands::identify(0x55, 0, 0)),
        "invalid_field_in_command",
    );
    let mut log = commands::get_log_page(0x70, 0xFFFF_FFFF, 512, 0);
    log.prp1 = iova;
    check("log page that does not exist", admin_status(&ctrl, log), "invalid_log_page");
    check(
        "get features of an unknown FID",
        admin_status(&ctrl, commands::get_features(0x7A, 0, 0, 0)),
        "invalid_field_in_command",
    );
    check(
        "create I/O CQ 0",
        admin_status(&ctrl, commands::create_io_cq(0, 16, iova, None)),
        "invalid_queue_identifier",
    );
    check(
        "create I/O CQ above MQES",
        admin_status(&ctrl, commands::create_io_cq(40, 4096, iova, None)),
        "invalid_queue_size",
    );
    check(
        "create I/O CQ with a vector past the MSI-X table",
        admin_status(&ctrl, commands::create_io_cq(40, 16, iova, Some(4000))),
        "invalid_interrupt_vector",
    );
    check(
        "create I/O SQ on a CQ that does not exist",
        admin_status(&ctrl, commands::create_io_sq(40, 16, iova, 41, 0)),
        "completion_queue_invalid",
    );
    check(
        "create I/O CQ whose id is in use",
        admin_status(&ctrl, commands::create_io_cq(qp.qid(), 16, iova, None)),
        "invalid_queue_identifier",
    );
    check(
        "delete a CQ that still has its SQ",
        admin_status(&ctrl, commands::delete_io_cq(qp.qid())),
        "invalid_queue_deletion",
    );
    check(
        "delete an SQ that does not exist",
        admin_status(&ctrl, commands::delete_io_sq(50)),
        "invalid_queue_identifier",
    );
    check("delete the admin SQ", admin_status(&ctrl, commands::delete_io_sq(0)), "invalid_queue_identifier");
    check(
        "format to an LBA format that does not exist",
        admin_status(&ctrl, commands::format_nvm(1, 15, 0, false, 0, false)),
        "invalid_format",
    );
    check(
        "commit to firmware slot 7 of 3",
        admin_status(&ctrl, commands::firmware_commit(7, 1)),
        "invalid_firmware_slot",
    );
    let mut garbage = buffer(&ctrl, 4096);
    garbage.fill(Pattern::Dword(0xBAD0_BAD0));
    let mut dl = commands::firmware_download(4096, 0);
    dl.prp1 = garbage.iova();
    assert_eq!(admin_status(&ctrl, dl), "success");
    check(
        "commit of an image that is not firmware",
        admin_status(&ctrl, commands::firmware_commit(2, 1)),
        "invalid_firmware_image",
    );
    check(
        "number of queues after I/O queues exist",
        admin_status(&ctrl, commands::set_features(0x07, 0, 0x0003_0003, false)),
        "command_sequence_error",
    );

    let failures: Vec<String> = cases
        .iter()
        .filter(|(_, got, want)| got != want)
        .map(|(what, got, want)| format!("{what}: got {got}, want {want}"))
        .collect();
    assert!(cases.len() >= 15, "only {} cases", cases.len());
    assert!(
        failures.is_empty(),
        "{} of {} cases wrong:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    // Every error above left the queue usable.
    assert!(qp.flush(1).unwrap().status().is_success());
}

#[test]
fn a_dropped_completion_is_a_timeout_error_within_two_seconds() {
    let (ctrl, sim) = open_sim_device("");
    let options = QueuePairOptions { timeout: Duration::from_millis(300), ..Default::default() };
    let mut qp = ctrl.create_qpair(16, options).unwrap();
    let rule = FaultRule::new(
        FaultMatch { queue: QueueMatch::Io, opcode: Some(NvmOpcode::Read as u8), ..Default::default() },
        FaultAction::DropCompletion,
    )
    .times(1);
    let id = sim.faults().add(rule);
    let mut buf = buffer(&ctrl, 4096);
    let start = Instant::now();
    let err = qp.execute(commands::read(1, 0, 1), Some(&mut buf), None).unwrap_err();
    let took = start.elapsed();
    assert!(matches!(err, DriverError::Timeout { .. }), "{err}");
    assert!(took < Duration::from_secs(2), "timeout took {took:?}");
    assert!(took >= Duration::from_millis(300), "timed out early: {took:?}");
    assert_eq!(sim.faults().fired(id), 1);
    // The next command on the same queue completes normally.
    let cqe = qp.execute(commands::read(1, 0, 1), Some(&mut buf), None).unwrap();
    assert!(cqe.status().is_success());
}

#[test]
fn controller_reset_with_io_outstanding() {
    let ctrl = open_sim("latency=50ms");
    let mut qp = qpair(&ctrl, 64);
    let buf = buffer(&ctrl, 32 * 4096);
    let lba = lba_size(&ctrl) as u64;
    for i in 0..32u64 {
        let cmd = commands::write(1, i * 8, (4096 / lba) as u32, false);
        qp.submit_raw(cmd, Some((buf.iova() + i * 4096, 4096)), i).unwrap();
    }
    qp.ring_doorbell();
    assert_eq!(qp.outstanding(), 32);
    ctrl.reset().unwrap();
    // Every outstanding command is handed back exactly once, host-side.
    let mut tokens = Vec::new();
    let start = Instant::now();
    while tokens.len() < 32 && start.elapsed() < Duration::from_secs(5) {
        match qp.poll(64, |token, cqe, _| {
            assert!(QueuePair::is_synthesized(cqe), "a stale completion reached the host: {cqe:?}");
            tokens.push(token);
        }) {
            Ok(_) | Err(DriverError::ControllerReset { .. }) => {}
            Err(e) => panic!("{e}"),
        }
    }
    tokens.sort_unstable();
    assert_eq!(tokens, (0..32).collect::<Vec<_>>());
    assert_eq!(qp.outstanding(), 0);
    assert!(qp.is_stale());
    assert!(matches!(qp.flush(1), Err(DriverError::ControllerReset { .. })));
    drop(qp);
    // After re-initialisation new queues work and see no late completions.
    let mut qp = qpair(&ctrl, 64);
    write_pattern(&mut qp, &ctrl, 1000, 8, 99, false);
    let mut rbuf = buffer(&ctrl, 8 * lba as usize);
    let map = Arc::new(VerifyMap::new());
    qp.attach_verify_map(1, map);
    write_pattern(&mut qp, &ctrl, 2000, 8, 5, false);
    assert!(qp.read(1, 2000, 8, &mut rbuf, None).unwrap().is_clean());
    std::thread::sleep(Duration::from_millis(120));
    qp.poll(64, |token, cqe, _| panic!("unexpected completion {token} {cqe:?}")).unwrap();
    assert_eq!(qp.stats().invalid_completions, 0);
    assert_eq!(qp.stats().late_completions, 0);
}

#[test]
fn firmware_download_commit_and_reset_change_identify_fr() {
    let ctrl = open_sim("fw=1.0,mdts=1");
    assert_eq!(ctrl.identify().unwrap().firmware_revision(), "1.0");
    let image = nvmeplan_sim::firmware::build_image("2.0", 40 << 10);
    ctrl.firmware_download(&image).unwrap();
    // Replace slot 2 and activate it at the next reset.
    let cqe = ctrl.firmware_commit(2, 1).unwrap();
    assert!(cqe.status().is_success(), "{}", cqe.status());
    let log = firmware_log(&ctrl);
    assert_eq!(log.revision(2).as_deref(), Some("2.0"));
    assert_eq!(log.next_slot(), Some(2));
    assert_eq!(ctrl.identify_controller().unwrap().firmware_revision(), "1.0", "activated before the reset");
    ctrl.reset().unwrap();
    assert_eq!(ctrl.identify().unwrap().firmware_revision(), "2.0");
    let log = firmware_log(&ctrl);
    assert_eq!(log.active_slot(), 2);
    assert_eq!(log.next_slot(), None);
}

#[test]
fn format_erases_data_and_the_verify_table_agrees() {
    let ctrl = open_sim("");
    let mut qp = qpair(&ctrl, 32);
    let map = Arc::new(VerifyMap::new());
    qp.attach_verify_map(1, map.clone());
    for i in 0..16 {
        write_pattern(&mut qp, &ctrl, i * 64, 16, i, false);
    }
    assert_eq!(map.tracked_lbas(), 256);
    let cqe = ctrl.format(1, 0, 1, Some(&map)).unwrap();
    assert!(cqe.status().is_success(), "{}", cqe.status());
    // The table expects zeroes and the device returns zeroes: no mismatch.
    let lba = lba_size(&ctrl);
    let mut rbuf = buffer(&ctrl, 16 * lba);
    for i in 0..16 {
        let out = qp.read(1, i * 64, 16, &mut rbuf, None).unwrap();
        assert!(out.is_clean(), "{:?}", out.mismatches);
        assert!(rbuf.as_slice()[..16 * lba].iter().all(|b| *b == 0));
    }
    // Data written before the format but not erased would be caught: write
    // behind the table's back and see the mismatch.
    let mut ones = buffer(&ctrl, lba);
    ones.fill(Pattern::Ones);
    qp.execute(commands::write(1, 64, 1, false), Some(&mut ones), None).unwrap();
    let out = qp.read(1, 64, 1, &mut rbuf, None).unwrap();
    assert_eq!(out.mismatches.len(), 1);
    assert_eq!(out.mismatches[0].lba, 64);
}

#[test]
fn format_to_4096_byte_blocks_changes_the_namespace_geometry() {
    let ctrl = open_sim("capacity=64M,lba=512");
    let before = ctrl.namespace(1).unwrap();
    assert_eq!(before.lba_size, 512);
    let ns = ctrl.identify_namespace(1).unwrap();
    let index =
        (0..=ns.nlbaf as usize).find(|&i| ns.lbaf[i].lba_size() == 4096).expect("a 4096-byte LBA format");
    let cqe = ctrl.format(1, index as u8, 0, None).unwrap();
    assert!(cqe.status().is_success(), "{}", cqe.status());
    let after = ctrl.rescan_namespaces().unwrap().into_iter().find(|n| n.nsid == 1).unwrap();
    assert_eq!(after.lba_size, 4096);
    assert_eq!(after.nsze * 4096, before.nsze * 512);
}

#[test]
fn abrupt_power_loss_drops_unflushed_cached_writes_and_keeps_flushed_ones() {
    let (ctrl, sim) = open_sim_device("vwc=on");
    let unsafe_before = smart(&ctrl).unsafe_shutdowns();
    let cycles_before = smart(&ctrl).power_cycles();
    let mut qp = qpair(&ctrl, 16);
    write_pattern(&mut qp, &ctrl, 0, 8, 1, false);
    assert!(qp.flush(1).unwrap().status().is_success());
    let flushed = read_bytes(&mut qp, &ctrl, 0, 8);
    write_pattern(&mut qp, &ctrl, 100, 8, 2, true);
    let fua = read_bytes(&mut qp, &ctrl, 100, 8);
    write_pattern(&mut qp, &ctrl, 200, 8, 3, false);
    let cached = read_bytes(&mut qp, &ctrl, 200, 8);
    assert!(cached.iter().any(|b| *b != 0), "cached data is readable before the loss");
    drop(qp);

    sim.power_cycle(true);
    ctrl.reinitialize().unwrap();
    let mut qp = qpair(&ctrl, 16);
    assert_eq!(read_bytes(&mut qp, &ctrl, 0, 8), flushed, "flushed data survives");
    assert_eq!(read_bytes(&mut qp, &ctrl, 100, 8), fua, "FUA data survives");
    assert!(read_bytes(&mut qp, &ctrl, 200, 8).iter().all(|b| *b == 0), "unflushed cached data is lost");
    let health = smart(&ctrl);
    assert_eq!(health.unsafe_shutdowns(), unsafe_before + 1);
    assert_eq!(health.power_cycles(), cycles_before + 1);

    // A normal shutdown first makes the next power cycle safe and persists
    // the cache.
    write_pattern(&mut qp, &ctrl, 300, 8, 4, false);
    let kept = read_bytes(&mut qp, &ctrl, 300, 8);
    drop(qp);
    ctrl.shutdown(nvmeplan_driver::ShutdownKind::Normal).unwrap();
    sim.power_cycle(true);
    ctrl.reinitialize().unwrap();
    let mut qp = qpair(&ctrl, 16);
    assert_eq!(read_bytes(&mut qp, &ctrl, 300, 8), kept);
    assert_eq!(smart(&ctrl).unsafe_shutdowns(), unsafe_before + 1);
}

#[test]
fn smart_counters_follow_the_io() {
    let ctrl = open_sim("");
    let before = smart(&ctrl);
    let mut qp = qpair(&ctrl, 16);
    // 2000 blocks of 512 bytes = 1000 KB written and read: 2 data units each
    // (units of 1000 x 512 bytes, rounded up).
    for i in 0..10 {
        write_pattern(&mut qp, &ctrl, i * 200, 200, i, false);
    }
    for i in 0..10 {
        read_bytes(&mut qp, &ctrl, i * 200, 200);
    }
    let after = smart(&ctrl);
    assert_eq!(after.host_write_commands() - before.host_write_commands(), 10);
    assert_eq!(after.host_read_commands() - before.host_read_commands(), 10);
    assert!(after.data_units_written() >= before.data_units_written() + 2);
    assert!(after.data_units_read() >= before.data_units_read() + 2);
    let raw = ctrl.identify_controller().unwrap();
    assert_eq!(ctrl.identify_namespace(1).unwrap().nsze, ctrl.namespace(1).unwrap().nsze);
    assert!(raw.nn >= 1);
    let ids = ctrl.identify_active_ns_list(0).unwrap();
    assert_eq!(ids, vec![1]);
    assert!(!ctrl.identify_ns_descriptors(1).unwrap().is_empty());
    let _ = cns::CONTROLLER;
}

#[test]
fn a_file_backed_device_keeps_data_and_counters_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("disk.img");
    let params = format!("capacity=256M,file={}", image.display());
    let (written, cycles, writes) = {
        let ctrl = open_sim(&params);
        let mut qp = qpair(&ctrl, 16);
        write_pattern(&mut qp, &ctrl, 4096, 16, 11, false);
        assert!(qp.flush(1).unwrap().status().is_success());
        let data = read_bytes(&mut qp, &ctrl, 4096, 16);
        drop(qp);
        let health = smart(&ctrl);
        ctrl.shutdown(nvmeplan_driver::ShutdownKind::Normal).unwrap();
        (data, health.power_cycles(), health.host_write_commands())
    };
    assert!(image.exists(), "namespace 1 lives in the named file");
    let ctrl = open_sim(&params);
    let mut qp = qpair(&ctrl, 16);
    assert_eq!(read_bytes(&mut qp, &ctrl, 4096, 16), written);
    let health = smart(&ctrl);
    assert_eq!(health.power_cycles(), cycles + 1);
    assert_eq!(health.host_write_commands(), writes);
    assert_eq!(health.unsafe_shutdowns(), 0);
}

fn io_fault(opcode: NvmOpcode, action: FaultAction) -> FaultRule {
    FaultRule::new(
        FaultMatch { queue: QueueMatch::Io, opcode: Some(opcode as u8), ..Default::default() },
        action,
    )
}

fn csts(ctrl: &Controller) -> nvmeplan_spec::registers::Csts {
    nvmeplan_spec::registers::Csts::from(ctrl.transport().bar0_read32(nvmeplan_spec::registers::CSTS))
}

#[test]
fn injected_status_delay_and_corruption_reach_the_host() {
    let (ctrl, sim) = open_sim_device("");
    let mut qp = qpair(&ctrl, 16);
    let map = Arc::new(VerifyMap::new());
    qp.attach_verify_map(1, map);
    write_pattern(&mut qp, &ctrl, 0, 8, 1, false);
    let lba = lba_size(&ctrl);
    let mut rbuf = buffer(&ctrl, 8 * lba);

    // A status on the second read only.
    let status = nvmeplan_spec::Status::UNRECOVERED_READ_ERROR;
    let rule = FaultRule {
        matcher: FaultMatch {
            queue: QueueMatch::Io,
            opcode: Some(NvmOpcode::Read as u8),
            nth: Some(2),
            ..Default::default()
        },
        action: FaultAction::Status { status, dnr: true },
        count: None,
    };
    let id = sim.faults().add(rule);
    assert!(qp.read(1, 0, 8, &mut rbuf, None).unwrap().is_clean());
    let cqe = qp.read(1, 0, 8, &mut rbuf, None).unwrap().completion;
    assert_eq!(cqe.status(), status);
    assert!(cqe.dnr());
    assert!(qp.read(1, 0, 8, &mut rbuf, None).unwrap().is_clean());
    assert_eq!(sim.faults().fired(id), 1);
    sim.faults().clear();

    // A delay shows in the command's latency.
    sim.faults().add(io_fault(NvmOpcode::Flush, FaultAction::Delay(Duration::from_millis(150))).times(1));
    let start = Instant::now();
    assert!(qp.flush(1).unwrap().status().is_success());
    assert!(start.elapsed() >= Duration::from_millis(150));
    let last = qp.cmdlog().snapshot(1).pop().unwrap();
    assert!(last.to_string().contains("flush"), "{last}");

    // Corrupted read data is caught by verification, and the media is intact.
    sim.faults().add(io_fault(NvmOpcode::Read, FaultAction::CorruptData).times(1));
    let out = qp.read(1, 0, 8, &mut rbuf, None).unwrap();
    assert!(out.completion.status().is_success());
    assert_eq!(out.mismatches.len(), 1, "{:?}", out.mismatches);
    assert_eq!(out.mismatches[0].lba, 0);
    assert!(qp.read(1, 0, 8, &mut rbuf, None).unwrap().is_clean());
}

#[test]
fn a_fatal_controller_and_a_hung_controller_recover_with_a_reset() {
    let (ctrl, sim) = open_sim_device("");
    for action in [FaultAction::ControllerFatal, FaultAction::Hang] {
        let options = QueuePairOptions { timeout: Duration::from_millis(200), ..Default::default() };
        let mut qp = ctrl.create_qpair(16, options).unwrap();
        sim.faults().add(io_fault(NvmOpcode::Flush, action.clone()).times(1));
        let err = qp.flush(1).unwrap_err();
        assert!(matches!(err, DriverError::Timeout { .. }), "{action:?}: {err}");
        let fatal = csts(&ctrl).cfs();
        assert_eq!(fatal, action == FaultAction::ControllerFatal, "{action:?}: CSTS.CFS");
        // Admin commands get no answer either until the reset.
        assert!(
            ctrl.admin_timeout(
                commands::identify(cns::CONTROLLER, 0, 0),
                None,
                Some(Duration::from_millis(200))
            )
            .is_err()
        );
        // Reset first: the stale queue pair then drops without sending
        // deletes to a controller that cannot answer them.
        ctrl.reset().unwrap();
        drop(qp);
        assert!(!csts(&ctrl).cfs());
        let mut qp = qpair(&ctrl, 16);
        assert!(qp.flush(1).unwrap().status().is_success(), "{action:?}: after reset");
        write_pattern(&mut qp, &ctrl, 0, 8, 3, false);
    }
}
