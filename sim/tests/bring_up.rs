//! Register-level bring-up, resets and shutdown, driven by hand.

mod common;

use common::*;
use nvmeplan_sim::{SimConfig, SimDevice};
use nvmeplan_spec::Command;
use nvmeplan_spec::registers::{self as reg, Cap, Csts};
use std::time::Duration;

#[test]
fn cap_vs_and_pci_config() {
    let host = Host::new(fast_config());
    let cap = Cap::from(host.dev.bar_read64(reg::CAP));
    assert_eq!(cap.mqes(), 1023);
    assert!(cap.cqr());
    assert_eq!(cap.to(), 20);
    assert!(cap.nssrs());
    assert_eq!(cap.css() & 1, 1);
    assert_eq!(cap.mpsmin(), 0);
    assert_eq!(host.dev.bar_read32(reg::VS), 0x0002_0000);
    assert_eq!(host.dev.bar_read32(0) as u64 | (u64::from(host.dev.bar_read32(4)) << 32), u64::from(cap));
    let dev = &host.dev;
    assert_eq!(dev.config_read32(0) & 0xFFFF, u32::from(dev.config().vid));
    assert_eq!(dev.config_read32(0x08) >> 8, 0x010802);
    let cap_ptr = dev.config_read32(0x34) & 0xFF;
    assert_eq!(dev.config_read32(cap_ptr as u16) & 0xFF, 0x11);
    assert_eq!((dev.config_read32(cap_ptr as u16) >> 16) & 0x7FF, 64);
    assert!(dev.dma().bus_master() && dev.interrupts().enabled());
    // BAR sizing.
    dev.config_write32(0x10, 0xFFFF_FFFF);
    let size = !(dev.config_read32(0x10) & !0xF) + 1;
    assert!(size.is_power_of_two() && size >= 0x4000);
    // Bus master off: DMA refused.
    dev.config_write32(0x04, 0);
    assert!(!dev.dma().bus_master());
}

#[test]
fn enable_disable_cycle() {
    let mut host = Host::new(fast_config());
    assert!(!host.csts().rdy());
    host.enable();
    assert!(host.csts().rdy());
    host.disable();
    assert!(!host.csts().rdy() && !host.csts().cfs());
    host.enable();
    let r = host.admin_read(identify(1, 0), 4096).0;
    assert!(r.status().is_success());
}

#[test]
fn invalid_configuration_sets_cfs() {
    for (what, aqa, asq_off, cc) in [
        ("zero-sized admin SQ", 31u32 << 16, 0u64, Host::cc_enabled()),
        ("misaligned ASQ", 31 | (31 << 16), 8, Host::cc_enabled()),
        ("MPS too large", 31 | (31 << 16), 0, Host::cc_enabled().with_mps(9)),
        ("unsupported CSS", 31 | (31 << 16), 0, Host::cc_enabled().with_css(1)),
        ("unsupported AMS", 31 | (31 << 16), 0, Host::cc_enabled().with_ams(1)),
    ] {
        let host = Host::new(fast_config());
        host.dev.bar_write32(reg::AQA, aqa);
        host.dev.bar_write64(reg::ASQ, host.admin.sq + asq_off);
        host.dev.bar_write64(reg::ACQ, host.admin.cq);
        host.dev.bar_write32(reg::CC, cc.into());
        host.wait_csts(what, |c| c.cfs());
        std::thread::sleep(Duration::from_millis(5));
        assert!(!host.csts().rdy(), "{what}: never ready");
        // CC.EN=0 clears CFS.
        host.dev.bar_write32(reg::CC, 0);
        host.wait_csts("CFS clear", |c| !c.cfs() && !c.rdy());
    }
}

#[test]
fn ready_is_asynchronous() {
    let cfg = SimConfig { ready_delay: Duration::from_millis(50), ..fast_config() };
    let host = Host::new(cfg);
    host.dev.bar_write32(reg::AQA, 31 | (31 << 16));
    host.dev.bar_write64(reg::ASQ, host.admin.sq);
    host.dev.bar_write64(reg::ACQ, host.admin.cq);
    host.dev.bar_write32(reg::CC, Host::cc_enabled().into());
    assert!(!host.csts().rdy(), "RDY must not be set inside the register write");
    host.wait_csts("RDY", |c| c.rdy());
}

#[test]
fn shutdown_reports_complete() {
    let mut host = ready_host(fast_config());
    let cc = Host::cc_enabled().with_shn(reg::SHN_NORMAL);
    host.dev.bar_write32(reg::CC, cc.into());
    host.wait_csts("SHST complete", |c| c.shst() == reg::SHST_COMPLETE);
    host.disable();
    assert_eq!(host.csts().shst(), reg::SHST_NORMAL);
}

#[test]
fn nssr_resets_and_sets_nssro() {
    let mut host = ready_host(fast_config());
    host.dev.bar_write32(reg::NSSR, 0x1234);
    assert!(host.csts().rdy(), "other values are ignored");
    host.dev.bar_write32(reg::NSSR, reg::NSSR_RESET_VALUE);
    let csts = host.csts();
    assert!(!csts.rdy() && csts.nssro());
    assert_eq!(host.dev.bar_read32(reg::CC), 0);
    host.dev.bar_write32(reg::CSTS, u32::from(Csts::new().with_nssro(true)));
    assert!(!host.csts().nssro(), "NSSRO is write-1-to-clear");
    host.enable();
    assert!(host.admin_read(identify(1, 0), 4096).0.status().is_success());
}

#[test]
fn reset_drops_outstanding_commands() {
    let mut host = ready_host(SimConfig {
        latency: nvmeplan_sim::LatencyModel::Fixed(Duration::from_millis(100)),
        ..fast_config()
    });
    host.submit_on(None, &mut [], identify(1, 0));
    host.dev.bar_write32(reg::CC, 0);
    host.wait_csts("RDY=0", |c| !c.rdy());
    std::thread::sleep(Duration::from_millis(150));
    let dw3 = host.mem.read_u32_volatile(host.admin.cq + 12);
    assert_eq!(dw3 >> 16 & 1, 0, "no completion after reset");
}

#[test]
fn function_reset_restores_power_on_registers() {
    let host = ready_host(fast_config());
    host.dev.function_reset();
    assert_eq!(host.dev.bar_read32(reg::CC), 0);
    assert_eq!(host.dev.bar_read32(reg::AQA), 0);
    assert_eq!(host.dev.bar_read64(reg::ASQ), 0);
    assert!(!host.csts().rdy());
    assert!(!host.dev.dma().bus_master());
    assert!(!host.dev.interrupts().enabled());
    // FLR through the PCIe capability.
    let host = ready_host(fast_config());
    let devctl = host.dev.config_read32(0x68);
    host.dev.config_write32(0x68, devctl | (1 << 15));
    assert_eq!(host.dev.bar_read32(reg::CC), 0);
    assert!(!host.dev.dma().bus_master());
}

#[test]
fn invalid_doorbells_are_ignored_and_reported() {
    let mut host = ready_host(fast_config());
    // Enable error events need no configuration; post an AER.
    let aer = host.submit_on(None, &mut [], Command::new(0x0C, 0));
    host.dev.bar_write32(reg::sq_tail_doorbell(7, 0), 1);
    let cqe = host.poll_on(None, &mut [], Duration::from_secs(2)).expect("AER completes");
    assert_eq!(cqe.cid, aer);
    assert_eq!(cqe.dw0 & 0x7, 0, "error event");
    assert_eq!((cqe.dw0 >> 8) & 0xFF, 0, "invalid doorbell register");
    assert_eq!((cqe.dw0 >> 16) & 0xFF, 1, "error log page");
    // Read the error log (clears the mask), then an invalid value.
    let (r, _) = host.admin_read(get_log(1, 64, 0), 64);
    assert!(r.status().is_success());
    let aer = host.submit_on(None, &mut [], Command::new(0x0C, 0));
    host.dev.bar_write32(reg::sq_tail_doorbell(0, 0), 999);
    let cqe = host.poll_on(None, &mut [], Duration::from_secs(2)).expect("AER completes");
    assert_eq!((cqe.cid, (cqe.dw0 >> 8) & 0xFF), (aer, 1));
    // The controller still works.
    assert!(host.admin_read(identify(1, 0), 4096).0.status().is_success());
}

#[test]
fn many_devices_do_not_leak_threads() {
    let threads = || {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| s.lines().find(|l| l.starts_with("Threads:")).map(|l| l.to_string()))
            .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse::<usize>().ok()))
            .unwrap_or(0)
    };
    let before = threads();
    for _ in 0..100 {
        let mut host = ready_host(fast_config());
        let _pair = host.create_io_pair(1, 16);
        drop(host);
    }
    for _ in 0..50 {
        drop(SimDevice::new(fast_config()).unwrap());
    }
    let after = threads();
    // Other tests run concurrently; allow their threads but not 300 leaks.
    assert!(after < before + 40, "threads before {before}, after {after}");
}
