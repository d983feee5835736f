//! I/O queues: data path, phase tags, shared CQs, latency and queue depth,
//! abort, SQ deletion, interrupts, fault injection.

mod common;

use common::*;
use nvmeplan_sim::faults::{FaultMatch, FaultRule, QueueMatch};
use nvmeplan_sim::{FaultAction, LatencyModel, SimConfig};
use nvmeplan_spec::log::SmartHealthLog;
use nvmeplan_spec::registers as reg;
use nvmeplan_spec::{Command, Status};
use std::time::{Duration, Instant};
use zerocopy::FromBytes;

fn rw(op: u8, slba: u64, nlb: u16, buf: u64) -> Command {
    let mut c = Command::new(op, 1);
    c.set_slba(slba);
    c.cdw12 = u32::from(nlb - 1);
    c.prp1 = buf;
    c
}

fn read_latency(read: Duration) -> LatencyModel {
    LatencyModel::PerOpcode {
        read,
        write: Duration::ZERO,
        flush: Duration::ZERO,
        other: Duration::ZERO,
        admin: Duration::ZERO,
    }
}

#[test]
fn write_then_read_back_with_phase_wrap() {
    let mut host = ready_host(fast_config());
    let mut io = vec![host.create_io_pair(1, 4)];
    let wbuf = host.alloc(4096);
    let rbuf = host.alloc(4096);
    for i in 0..20u64 {
        let pattern: Vec<u8> = (0..4096).map(|b| (b as u64 * 7 + i) as u8).collect();
        host.mem.write(wbuf, &pattern);
        let cid = host.submit_on(Some(0), &mut io, rw(0x01, i * 8, 8, wbuf));
        let cqe = host.poll_on(Some(0), &mut io, Duration::from_secs(2)).unwrap();
        assert_eq!((cqe.cid, cqe.status(), cqe.sqid), (cid, Status::SUCCESS, 1));
        assert_eq!(cqe.sqhd, io[0].sq_tail, "SQ head reported");
        host.submit_on(Some(0), &mut io, rw(0x02, i * 8, 8, rbuf));
        let cqe = host.poll_on(Some(0), &mut io, Duration::from_secs(2)).unwrap();
        assert!(cqe.status().is_success());
        assert_eq!(host.mem.read(rbuf, 4096), pattern);
    }
    // Bad namespace and LBA range.
    let mut c = rw(0x02, 0, 1, rbuf);
    c.nsid = 2;
    host.submit_on(Some(0), &mut io, c);
    assert_eq!(
        host.poll_on(Some(0), &mut io, Duration::from_secs(2)).unwrap().status(),
        Status::INVALID_NAMESPACE_OR_FORMAT
    );
    host.submit_on(Some(0), &mut io, rw(0x02, u64::MAX - 4, 1, rbuf));
    assert_eq!(
        host.poll_on(Some(0), &mut io, Duration::from_secs(2)).unwrap().status(),
        Status::LBA_OUT_OF_RANGE
    );
    // Flush of every namespace.
    host.submit_on(Some(0), &mut io, Command::new(0x00, 0xFFFF_FFFF));
    assert!(host.poll_on(Some(0), &mut io, Duration::from_secs(2)).unwrap().status().is_success());
    // SMART counts the traffic.
    let (_, data) = host.admin_read(get_log(2, 512, 0), 512);
    let smart = SmartHealthLog::read_from_bytes(&data).unwrap();
    assert_eq!((smart.host_write_commands(), smart.host_read_commands()), (20, 20));
    assert_eq!(smart.data_units_written(), 1);
}

#[test]
fn queue_depth_matters_with_latency() {
    let cfg = SimConfig { latency: LatencyModel::Fixed(Duration::from_millis(20)), ..fast_config() };
    let mut host = ready_host(cfg);
    let mut io = vec![host.create_io_pair(1, 64)];
    let buf = host.alloc(4096);
    let start = Instant::now();
    for i in 0..16 {
        host.submit_on(Some(0), &mut io, rw(0x02, i, 1, buf));
    }
    for _ in 0..16 {
        let cqe = host.poll_on(Some(0), &mut io, Duration::from_secs(2)).unwrap();
        assert!(cqe.status().is_success());
    }
    let elapsed = start.elapsed();
    assert!(elapsed >= Duration::from_millis(20), "latency applied: {elapsed:?}");
    assert!(elapsed < Duration::from_millis(250), "commands overlap: {elapsed:?}");
}

#[test]
fn abort_a_waiting_command() {
    let cfg = SimConfig { latency: read_latency(Duration::from_millis(300)), ..fast_config() };
    let mut host = ready_host(cfg);
    let mut io = vec![host.create_io_pair(1, 16)];
    let buf = host.alloc(4096);
    let cid = host.submit_on(Some(0), &mut io, rw(0x02, 0, 1, buf));
    std::thread::sleep(Duration::from_millis(20));
    let mut abort = Command::new(0x08, 0);
    abort.cdw10 = 1 | (u32::from(cid) << 16);
    let r = host.admin(abort);
    assert!(r.status().is_success());
    assert_eq!(r.dw0 & 1, 0, "aborted");
    let cqe = host.poll_on(Some(0), &mut io, Duration::from_secs(1)).unwrap();
    assert_eq!((cqe.cid, cqe.status()), (cid, Status::COMMAND_ABORT_REQUESTED));
    let r = host.admin(abort);
    assert_eq!(r.dw0 & 1, 1, "nothing left to abort");
}

#[test]
fn deleting_an_sq_aborts_its_commands() {
    let cfg = SimConfig { latency: read_latency(Duration::from_millis(500)), ..fast_config() };
    let mut host = ready_host(cfg);
    let mut io = vec![host.create_io_pair(1, 16)];
    let buf = host.alloc(4096);
    let a = host.submit_on(Some(0), &mut io, rw(0x02, 0, 1, buf));
    let b = host.submit_on(Some(0), &mut io, rw(0x02, 1, 1, buf));
    std::thread::sleep(Duration::from_millis(20));
    let mut del = Command::new(0x00, 0);
    del.cdw10 = 1;
    let start = Instant::now();
    assert!(host.admin(del).status().is_success());
    assert!(start.elapsed() < Duration::from_millis(2000));
    let mut got = vec![];
    for _ in 0..2 {
        let cqe = host
            .poll_on(Some(0), &mut io, Duration::from_millis(10))
            .expect("posted before delete completed");
        assert_eq!(cqe.status(), Status::ABORTED_SQ_DELETION);
        got.push(cqe.cid);
    }
    got.sort_unstable();
    assert_eq!(got, vec![a, b]);
}

#[test]
fn full_cq_is_never_overwritten() {
    let mut host = ready_host(fast_config());
    let mut io = vec![host.create_io_pair(1, 4)];
    // Second SQ sharing CQ 1.
    let sq2 = host.alloc(4096);
    let mut c = Command::new(0x01, 0);
    c.prp1 = sq2;
    c.cdw10 = 2 | (15 << 16);
    c.cdw11 = 1 | (1 << 16);
    assert!(host.admin(c).status().is_success());
    for i in 0..3u16 {
        let mut f = Command::new(0x00, 1);
        f.set_cid(100 + i);
        host.mem.write(sq2 + u64::from(i) * 64, zerocopy::IntoBytes::as_bytes(&f));
    }
    host.dev.bar_write32(reg::sq_tail_doorbell(2, 0), 3);
    // Three completions fill the 4-entry CQ; submit one more on SQ 1.
    let cid = host.submit_on(Some(0), &mut io, Command::new(0x00, 1));
    std::thread::sleep(Duration::from_millis(50));
    let mut cids = vec![];
    for _ in 0..4 {
        let cqe =
            host.poll_on(Some(0), &mut io, Duration::from_secs(2)).expect("completion after head moves");
        cids.push(cqe.cid);
    }
    cids.sort_unstable();
    assert_eq!(cids, vec![cid, 100, 101, 102]);
}

#[test]
fn interrupts_follow_the_cq_vector_and_coalescing() {
    let mut host = ready_host(fast_config());
    let mut io = vec![host.create_io_pair(1, 64)];
    let dev = host.dev.clone();
    let irq = dev.interrupts();
    let before = irq.count(1);
    host.submit_on(Some(0), &mut io, Command::new(0x00, 1));
    host.poll_on(Some(0), &mut io, Duration::from_secs(2)).unwrap();
    assert_eq!(irq.wait_beyond(1, before, Duration::from_secs(1)), before + 1);
    assert!(irq.count(0) >= 1, "admin completions signal vector 0");
    // Coalescing: threshold 4 (zero-based 3), time 50 ms.
    let mut c = Command::new(0x09, 0);
    c.cdw10 = 0x08;
    c.cdw11 = 3 | (250 << 8);
    assert!(host.admin(c).status().is_success());
    let base = irq.count(1);
    // Four SQEs, one doorbell.
    for i in 0..4u16 {
        let mut f = Command::new(0x00, 1);
        f.set_cid(200 + i);
        let slot = (io[0].sq_tail + i) % io[0].size;
        host.mem.write(io[0].sq + u64::from(slot) * 64, zerocopy::IntoBytes::as_bytes(&f));
    }
    io[0].sq_tail = (io[0].sq_tail + 4) % io[0].size;
    host.dev.bar_write32(reg::sq_tail_doorbell(1, 0), u32::from(io[0].sq_tail));
    for _ in 0..4 {
        host.poll_on(Some(0), &mut io, Duration::from_secs(2)).unwrap();
    }
    std::thread::sleep(Duration::from_millis(5));
    assert_eq!(irq.count(1), base + 1, "four completions, one interrupt");
}

#[test]
fn fault_injection_status_drop_and_fatal() {
    let mut host = ready_host(fast_config());
    let mut io = vec![host.create_io_pair(1, 16)];
    let buf = host.alloc(4096);
    let m = FaultMatch { queue: QueueMatch::Io, opcode: Some(0x02), ..Default::default() };
    let id = host.dev.faults().add(
        FaultRule::new(m.clone(), FaultAction::Status { status: Status::UNRECOVERED_READ_ERROR, dnr: true })
            .times(1),
    );
    host.submit_on(Some(0), &mut io, rw(0x02, 0, 1, buf));
    let cqe = host.poll_on(Some(0), &mut io, Duration::from_secs(2)).unwrap();
    assert_eq!((cqe.status(), cqe.dnr()), (Status::UNRECOVERED_READ_ERROR, true));
    assert_eq!(host.dev.faults().fired(id), 1);
    host.dev.faults().add(FaultRule::new(m.clone(), FaultAction::DropCompletion).times(1));
    host.submit_on(Some(0), &mut io, rw(0x02, 0, 1, buf));
    assert!(host.poll_on(Some(0), &mut io, Duration::from_millis(100)).is_none());
    host.dev.faults().add(FaultRule::new(m, FaultAction::ControllerFatal).times(1));
    host.submit_on(Some(0), &mut io, rw(0x02, 0, 1, buf));
    host.wait_csts("CFS", |c| c.cfs());
    assert!(host.poll_on(Some(0), &mut io, Duration::from_millis(50)).is_none());
    host.disable();
    host.enable();
    assert!(host.admin_read(identify(1, 0), 4096).0.status().is_success());
}

#[test]
fn hang_until_reset() {
    let mut host = ready_host(fast_config());
    host.dev.faults().add(
        FaultRule::new(FaultMatch { queue: QueueMatch::Admin, ..Default::default() }, FaultAction::Hang)
            .times(1),
    );
    host.submit_on(None, &mut [], Command::new(0x18, 0));
    assert!(host.poll_on(None, &mut [], Duration::from_millis(100)).is_none());
    assert!(!host.csts().cfs());
    host.disable();
    host.enable();
    assert!(host.admin(Command::new(0x18, 0)).status().is_success());
}

#[test]
fn abrupt_power_loss_drops_cached_writes() {
    let mut host = ready_host(fast_config());
    let mut io = vec![host.create_io_pair(1, 16)];
    let buf = host.alloc(4096);
    host.mem.write(buf, &[0x5A; 512]);
    host.submit_on(Some(0), &mut io, rw(0x01, 0, 1, buf));
    assert!(host.poll_on(Some(0), &mut io, Duration::from_secs(2)).unwrap().status().is_success());
    host.dev.power_cycle(true);
    let cmd = host.dev.config_read32(0x04);
    host.dev.config_write32(0x04, cmd | 0x6);
    let msix = host.dev.config_read32(0x40);
    host.dev.config_write32(0x40, msix | (1 << 31));
    host.enable();
    let (_, data) = host.admin_read(get_log(2, 512, 0), 512);
    let smart = SmartHealthLog::read_from_bytes(&data).unwrap();
    assert_eq!((smart.power_cycles(), smart.unsafe_shutdowns()), (2, 1));
    let mut io = vec![host.create_io_pair(1, 16)];
    host.submit_on(Some(0), &mut io, rw(0x02, 0, 1, buf));
    assert!(host.poll_on(Some(0), &mut io, Duration::from_secs(2)).unwrap().status().is_success());
    assert_eq!(host.mem.read(buf, 512), vec![0u8; 512], "unflushed write lost");
}
