//! File-backed state across restarts, and hostile input that must never
//! crash the controller.

mod common;

use common::*;
use nvmeplan_sim::SimConfig;
use nvmeplan_sim::config::Storage;
use nvmeplan_sim::firmware::build_image;
use nvmeplan_spec::identify::IdentifyController;
use nvmeplan_spec::log::SmartHealthLog;
use nvmeplan_spec::registers as reg;
use nvmeplan_spec::{Command, Completion};
use rand::{Rng, SeedableRng, rngs::SmallRng};
use std::time::Duration;
use zerocopy::FromBytes;

fn smart(host: &mut Host) -> SmartHealthLog {
    let (_, data) = host.admin_read(get_log(2, 512, 0), 512);
    SmartHealthLog::read_from_bytes(&data).unwrap()
}

fn io_cmd(op: u8, slba: u64, buf: u64) -> Command {
    let mut c = Command::new(op, 1);
    c.set_slba(slba);
    c.prp1 = buf;
    c
}

fn shutdown(host: &mut Host) {
    let cc = Host::cc_enabled().with_shn(reg::SHN_NORMAL);
    host.dev.bar_write32(reg::CC, cc.into());
    host.wait_csts("shutdown complete", |c| c.shst() == reg::SHST_COMPLETE);
}

#[test]
fn storage_dir_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = SimConfig { storage: Some(Storage::Dir(dir.path().to_path_buf())), ..fast_config() };
    {
        let mut host = ready_host(cfg.clone());
        let mut io = vec![host.create_io_pair(1, 16)];
        let buf = host.alloc(4096);
        host.mem.write(buf, &[0xC3; 512]);
        host.submit_on(Some(0), &mut io, io_cmd(0x01, 42, buf));
        assert!(host.poll_on(Some(0), &mut io, Duration::from_secs(2)).unwrap().status().is_success());
        // Firmware to activate at the next power-on.
        let image = build_image("9.9", 4096);
        let mut c = Command::new(0x11, 0);
        c.cdw10 = 1023;
        assert!(host.admin_write(c, &image).status().is_success());
        let mut c = Command::new(0x10, 0);
        c.cdw10 = 2 | (1 << 3);
        assert!(host.admin(c).status().is_success());
        shutdown(&mut host);
    }
    {
        let mut host = ready_host(cfg.clone());
        let s = smart(&mut host);
        assert_eq!((s.power_cycles(), s.unsafe_shutdowns(), s.host_write_commands()), (2, 0, 1));
        let (_, data) = host.admin_read(identify(1, 0), 4096);
        assert_eq!(IdentifyController::read_from_bytes(&data).unwrap().firmware_revision(), "9.9");
        let mut io = vec![host.create_io_pair(1, 16)];
        let buf = host.alloc(4096);
        host.submit_on(Some(0), &mut io, io_cmd(0x02, 42, buf));
        assert!(host.poll_on(Some(0), &mut io, Duration::from_secs(2)).unwrap().status().is_success());
        assert_eq!(host.mem.read(buf, 512), vec![0xC3; 512]);
        // Dropped without a shutdown: counted as unsafe at the next start.
    }
    let mut host = ready_host(cfg);
    let s = smart(&mut host);
    assert_eq!((s.power_cycles(), s.unsafe_shutdowns(), s.host_read_commands()), (3, 1, 1));
}

fn drain_until(host: &mut Host, cid: u16) -> Option<Completion> {
    for _ in 0..64 {
        let cqe = host.poll_on(None, &mut [], Duration::from_secs(3))?;
        if cqe.cid == cid {
            return Some(cqe);
        }
    }
    None
}

#[test]
fn random_admin_commands_never_kill_the_controller() {
    let mut rng = SmallRng::seed_from_u64(7);
    let mut host = ready_host(fast_config());
    let buf = host.alloc(8192);
    let ops = [
        0x00u8, 0x01, 0x02, 0x04, 0x05, 0x06, 0x08, 0x09, 0x0A, 0x0D, 0x10, 0x11, 0x14, 0x15, 0x18, 0x80,
        0x84, 0x7F,
    ];
    for i in 0..400 {
        let mut c = Command::new(ops[rng.random_range(0..ops.len())], rng.random());
        if rng.random_bool(0.5) {
            c.nsid = rng.random_range(0..3);
        }
        c.cdw10 = rng.random();
        c.cdw11 = rng.random();
        c.cdw12 = if rng.random_bool(0.5) { rng.random() } else { 0 };
        c.cdw13 = if rng.random_bool(0.8) { 0 } else { rng.random() };
        c.cdw14 = rng.random();
        c.cdw15 = rng.random();
        c.cdw0.set_psdt(u8::from(rng.random_bool(0.05)));
        c.prp1 = if rng.random_bool(0.8) { buf } else { rng.random() };
        c.prp2 = if rng.random_bool(0.8) { buf + 4096 } else { rng.random() };
        if c.opcode() == 0x84 && rng.random_bool(0.8) {
            continue;
        }
        host.submit_on(None, &mut [], c);
        let _ = host.poll_on(None, &mut [], Duration::from_millis(if i % 50 == 0 { 300 } else { 30 }));
    }
    std::thread::sleep(Duration::from_millis(300));
    let mut c = identify(1, 0);
    c.prp1 = buf;
    let cid = host.submit_on(None, &mut [], c);
    let cqe = drain_until(&mut host, cid).expect("admin queue alive");
    assert!(cqe.status().is_success());
}

#[test]
fn random_register_writes_never_crash() {
    let mut rng = SmallRng::seed_from_u64(11);
    let host = Host::new(fast_config());
    for _ in 0..3000 {
        let offset = match rng.random_range(0..4) {
            0 => rng.random_range(0..0x40u64) & !3,
            1 => 0x1000 + rng.random_range(0..0x400u64) * 4,
            2 => rng.random_range(0..0x4000u64),
            _ => [reg::CC, reg::AQA, reg::ASQ, reg::ACQ, reg::NSSR][rng.random_range(0..5)],
        };
        let value: u32 = rng.random();
        if rng.random_bool(0.1) {
            host.dev.bar_write64(offset, rng.random());
        } else {
            host.dev.bar_write32(offset, value);
        }
        let _ = host.dev.bar_read32(offset);
        if rng.random_bool(0.05) {
            host.dev.config_write32(rng.random_range(0..0x1000u16), rng.random());
        }
    }
    // Bring it up cleanly afterwards.
    host.dev.function_reset();
    let cmd = host.dev.config_read32(0x04);
    host.dev.config_write32(0x04, cmd | 0x6);
    let mut host = host;
    host.enable();
    assert!(host.admin_read(identify(1, 0), 4096).0.status().is_success());
}

#[test]
fn random_io_commands_complete() {
    let mut rng = SmallRng::seed_from_u64(3);
    let mut host = ready_host(fast_config());
    let mut io = vec![host.create_io_pair(1, 64)];
    let buf = host.alloc(8192);
    for _ in 0..500 {
        let mut c = Command::new(rng.random_range(0..0x20), rng.random_range(0..3));
        c.cdw10 = rng.random();
        c.cdw11 = if rng.random_bool(0.7) { 0 } else { rng.random() };
        c.cdw12 = rng.random::<u32>() & if rng.random_bool(0.7) { 0x7 } else { u32::MAX };
        c.cdw13 = rng.random();
        c.prp1 = if rng.random_bool(0.9) { buf } else { rng.random() };
        c.prp2 = if rng.random_bool(0.9) { buf + 4096 } else { rng.random() };
        host.submit_on(Some(0), &mut io, c);
        assert!(host.poll_on(Some(0), &mut io, Duration::from_secs(2)).is_some(), "every I/O completes");
    }
}
