//! Register file and state machine tests of the controller.

use super::*;

fn controller() -> Arc<Controller> {
    let cfg = SimConfig { ready_delay: Duration::from_micros(100), ..SimConfig::default() };
    let irq = Arc::new(InterruptController::new(cfg.msix_vectors));
    Controller::new(cfg, Arc::new(DmaSpace::new()), irq, Arc::new(FaultInjector::default())).unwrap()
}

fn wait(ctrl: &Controller, pred: impl Fn(Csts) -> bool) -> Csts {
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    loop {
        let csts = Csts::from(ctrl.read32(reg::CSTS));
        if pred(csts) || std::time::Instant::now() > deadline {
            return csts;
        }
        std::thread::sleep(Duration::from_micros(100));
    }
}

#[test]
fn register_file_basics() {
    let ctrl = controller();
    ctrl.write32(reg::INTMS, 0b101);
    ctrl.write32(reg::INTMC, 0b001);
    assert_eq!(ctrl.read32(reg::INTMS), 0b100);
    assert_eq!(ctrl.read32(reg::INTMC), 0b100);
    ctrl.write32(reg::ASQ, 0x1000);
    ctrl.write32(reg::ASQ + 4, 0x2);
    assert_eq!(ctrl.read64(reg::ASQ), 0x2_0000_1000);
    ctrl.write64(reg::ACQ, 0x3_0000_2000);
    assert_eq!((ctrl.read32(reg::ACQ), ctrl.read32(reg::ACQ + 4)), (0x2000, 3));
    ctrl.write32(reg::AQA, 0xFFFF_FFFF);
    assert_eq!(ctrl.read32(reg::AQA), 0x0FFF_0FFF, "reserved bits read as zero");
    assert_eq!(ctrl.read32(reg::VS), 0x0002_0000);
    // Doorbells of queues that do not exist, before enable: ignored.
    ctrl.write32(0x1000, 5);
    ctrl.write32(0x1004, 5);
    ctrl.write32(0x1002, 5);
    assert_eq!(ctrl.read32(0x1000), 0);
    ctrl.shutdown_threads();
}

#[test]
fn shutdown_while_disabled_completes() {
    let ctrl = controller();
    ctrl.write32(reg::CC, u32::from(Cc::new().with_shn(reg::SHN_ABRUPT)));
    assert_eq!(wait(&ctrl, |c| c.shst() == reg::SHST_COMPLETE).shst(), reg::SHST_COMPLETE);
    assert!(ctrl.regs.lock().clean_shutdown);
    ctrl.shutdown_threads();
}

#[test]
fn enable_without_bus_master_goes_fatal_on_fetch() {
    let ctrl = controller();
    ctrl.write32(reg::AQA, 3 | (3 << 16));
    ctrl.write64(reg::ASQ, 0x10_0000);
    ctrl.write64(reg::ACQ, 0x20_0000);
    ctrl.write32(reg::CC, u32::from(Cc::new().with_en(true)));
    assert!(wait(&ctrl, |c| c.rdy()).rdy());
    ctrl.write32(reg::sq_tail_doorbell(0, 0), 1);
    assert!(wait(&ctrl, |c| c.cfs()).cfs(), "a failed fetch is a controller fatal error");
    ctrl.write32(reg::CC, 0);
    let csts = wait(&ctrl, |c| !c.rdy() && !c.cfs());
    assert!(!csts.rdy() && !csts.cfs());
    ctrl.shutdown_threads();
}
