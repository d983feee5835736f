//! The NVMe controller: register file, state machine and the parts it composes.
//!
//! This module owns BAR0 (CAP, VS, INTMS/INTMC, CC, CSTS, NSSR, AQA, ASQ,
//! ACQ and the doorbells) and the NVMe Base Specification state machine
//! behind it: enabling (CC.EN 0→1 validates the configuration, then sets
//! CSTS.RDY after the ready delay from the device timer thread, or sets
//! CSTS.CFS for an invalid configuration), controller reset (CC.EN 1→0),
//! shutdown notification (CSTS.SHST), NVM subsystem reset, function reset
//! and power cycles. It composes the parts the rest of the simulator
//! owns: the queue engine's table ([`QueueTable`]), the admin command
//! families' state ([`AdminState`]), the lifetime and I/O counters, and
//! the I/O path ([`crate::io`]). It is the queue engine's
//! [`QueueHost`] and the admin families' [`AdminHost`]; neither of those
//! knows this type.

use crate::SimError;
use crate::admin::AdminState;
use crate::admin::host::AdminHost;
use crate::admin::namespaces::{NsCache, NsTable};
use crate::config::SimConfig;
use crate::dma::DmaSpace;
use crate::faults::{FaultAction, FaultInjector};
use crate::firmware::FirmwareSlots;
use crate::health::{Health, PersistedState};
use crate::io::{IoContext, IoCounters};
use crate::latency::Timer;
use crate::msix::InterruptController;
use crate::queues::{Cq, Outcome, Padded, QueueHost, QueueTable, Source, Sq};
use nvmeplan_spec::features::{InterruptCoalescing, async_event};
use nvmeplan_spec::registers::{self as reg, Aqa, Cap, Cc, Csts};
use nvmeplan_spec::{Command, NvmOpcode, Status, dwords::join_u64, dwords::split_u64};
use parking_lot::{Mutex, RwLock};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// CAP.MPSMAX: memory pages up to 64 KiB.
pub const MPSMAX: u8 = 4;

const HALT_NONE: u8 = 0;
const HALT_FATAL: u8 = 1;
const HALT_HANG: u8 = 2;

/// The kind of reset being performed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ResetKind {
    /// CC.EN cleared to 0.
    Controller,
    /// NVM subsystem reset (NSSR).
    Subsystem,
    /// PCI function level reset.
    Function,
    /// Power removed and restored.
    PowerCycle,
}

/// Register state (BAR0).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Regs {
    /// Controller Configuration.
    pub cc: u32,
    /// Controller Status.
    pub csts: u32,
    /// Admin Queue Attributes.
    pub aqa: u32,
    /// Admin SQ base.
    pub asq: u64,
    /// Admin CQ base.
    pub acq: u64,
    /// Interrupt mask (INTMS/INTMC).
    pub intms: u32,
    /// A shutdown completed since the controller was last enabled.
    pub clean_shutdown: bool,
}

/// The simulated controller.
pub(crate) struct Controller {
    /// The configuration it was built from.
    pub cfg: SimConfig,
    /// Host memory window.
    pub dma: Arc<DmaSpace>,
    /// MSI-X vectors.
    pub irq: Arc<InterruptController>,
    /// Fault injection rules.
    pub faults: Arc<FaultInjector>,
    /// Delayed work.
    pub timer: Timer,
    me: Weak<Controller>,
    /// Serializes register writes that change state and resets.
    control: Mutex<()>,
    /// BAR0 registers.
    pub regs: Mutex<Regs>,
    /// Incremented by every reset; delayed work checks it.
    pub generation: AtomicU64,
    halt: AtomicU8,
    /// The queues. Every doorbell write takes this lock (a shared read),
    /// so it sits on cache lines of its own.
    pub queues: Padded<RwLock<QueueTable>>,
    /// Memory page size selected by CC.MPS at enable.
    pub page_size: AtomicUsize,
    /// The admin command families' state: namespaces, features, logs,
    /// events, firmware slots, self-test, format and sanitize.
    pub admin: AdminState,
    /// Interrupt coalescing (THR | TIME << 8), read on every completion.
    coalesce: AtomicU32,
    /// Coalescing Disable per vector.
    vector_cd: Vec<AtomicBool>,
    /// Lifetime counters.
    pub health: Arc<Health>,
    /// I/O counters, updated by the queue workers on every command (on
    /// cache lines of their own).
    pub io_counters: Padded<IoCounters>,
    persist_lock: Mutex<()>,
    /// The lock of a file-backed device's image set, released when the
    /// controller is dropped (after the last `persist`).
    _image_lock: Option<crate::image::ImageLock>,
}

impl Controller {
    /// Builds the controller from `cfg`, restoring persisted state.
    pub fn new(
        cfg: SimConfig,
        dma: Arc<DmaSpace>,
        irq: Arc<InterruptController>,
        faults: Arc<FaultInjector>,
    ) -> Result<Arc<Controller>, SimError> {
        let (image_lock, saved) = match &cfg.storage {
            Some(storage) => {
                let (lock, saved) = crate::image::open(&cfg, storage)?;
                (Some(lock), saved)
            }
            None => (None, None),
        };
        let (ns, fw, mut counters, clean) = match &saved {
            Some(state) => (
                NsTable::restore(&cfg, state)?,
                restore_firmware(&cfg, &state.firmware),
                state.counters.clone(),
                state.clean_power_off,
            ),
            None => (
                NsTable::initial(&cfg)?,
                FirmwareSlots::new(cfg.firmware_slots, &cfg.firmware),
                Default::default(),
                true,
            ),
        };
        counters.power_cycles += 1;
        if !clean {
            counters.unsafe_shutdowns += 1;
        }
        let io_counters = IoCounters::default();
        counters.restore_io(&io_counters);
        let timer = Timer::start("nvmeplan-sim").map_err(SimError::Thread)?;
        let vectors = usize::from(cfg.msix_vectors);
        let ctrl = Arc::new_cyclic(|me| Controller {
            admin: AdminState::new(&cfg, ns, fw),
            queues: Padded(RwLock::new(QueueTable::new(cfg.max_io_queues))),
            health: Arc::new(Health::new(&counters)),
            cfg,
            dma,
            irq,
            faults,
            timer,
            me: me.clone(),
            control: Mutex::new(()),
            regs: Mutex::new(Regs::default()),
            generation: AtomicU64::new(0),
            halt: AtomicU8::new(HALT_NONE),
            page_size: AtomicUsize::new(4096),
            coalesce: AtomicU32::new(0),
            vector_cd: (0..vectors).map(|_| AtomicBool::new(false)).collect(),
            io_counters: Padded(io_counters),
            persist_lock: Mutex::new(()),
            _image_lock: image_lock,
        });
        ctrl.admin.apply_write_cache(&ctrl.cfg);
        ctrl.persist(false);
        Ok(ctrl)
    }

    /// A strong reference to this controller.
    pub fn arc(&self) -> Option<Arc<Controller>> {
        self.me.upgrade()
    }

    /// CAP as configured.
    pub fn cap(&self) -> u64 {
        Cap::new()
            .with_mqes(self.cfg.mqes)
            .with_cqr(true)
            .with_to(self.cfg.cap_to)
            .with_dstrd(self.cfg.dstrd)
            .with_nssrs(self.cfg.nssr_supported)
            .with_css(1)
            .with_mpsmin(0)
            .with_mpsmax(MPSMAX)
            .into()
    }

    /// Whether queue processing is stopped (fatal status or hang).
    pub fn halted(&self) -> bool {
        self.halt.load(Ordering::Acquire) != HALT_NONE
    }

    /// Sets CSTS.CFS and stops all queue processing until a reset.
    pub fn fatal(&self, reason: &str) {
        tracing::debug!(reason, "controller fatal status");
        self.halt.store(HALT_FATAL, Ordering::Release);
        self.regs.lock().csts |= u32::from(Csts::new().with_cfs(true));
    }

    /// Stops all queue processing until a reset, without CFS.
    pub fn hang(&self) {
        tracing::debug!("controller hung by fault injection");
        let _ = self.halt.compare_exchange(HALT_NONE, HALT_HANG, Ordering::AcqRel, Ordering::Acquire);
    }

    /// Interrupt coalescing for `vector`: (threshold, time), or zeros when
    /// coalescing is off or disabled for the vector.
    pub fn coalescing(&self, vector: u16) -> (u8, u8) {
        if self.vector_cd.get(usize::from(vector)).is_none_or(|cd| cd.load(Ordering::Relaxed)) {
            return (0, 0);
        }
        let v = InterruptCoalescing::from_bits(self.coalesce.load(Ordering::Relaxed));
        (v.thr(), v.time())
    }

    /// Publishes coalescing settings (the dword Set Features kept) for the completion path.
    pub fn set_coalescing(&self, value: u32, vector_cd: &[bool]) {
        self.coalesce.store(value, Ordering::Relaxed);
        for (slot, &cd) in self.vector_cd.iter().zip(vector_cd) {
            slot.store(cd, Ordering::Relaxed);
        }
    }

    // ---------------------------------------------------------------- BAR0

    /// A 32-bit BAR0 read.
    pub fn read32(&self, offset: u64) -> u32 {
        let regs = *self.regs.lock();
        match offset {
            0x00 => split_u64(self.cap()).0,
            0x04 => split_u64(self.cap()).1,
            reg::VS => 0x0002_0000,
            reg::INTMS | reg::INTMC => regs.intms,
            reg::CC => regs.cc,
            reg::CSTS => regs.csts,
            reg::AQA => regs.aqa,
            reg::ASQ => split_u64(regs.asq).0,
            0x2C => split_u64(regs.asq).1,
            reg::ACQ => split_u64(regs.acq).0,
            0x34 => split_u64(regs.acq).1,
            _ => 0,
        }
    }

    /// A 64-bit BAR0 read.
    pub fn read64(&self, offset: u64) -> u64 {
        match offset {
            reg::CAP => self.cap(),
            reg::ASQ => self.regs.lock().asq,
            reg::ACQ => self.regs.lock().acq,
            _ => join_u64(self.read32(offset), self.read32(offset + 4)),
        }
    }

    /// A 64-bit BAR0 write.
    pub fn write64(&self, offset: u64, value: u64) {
        match offset {
            reg::ASQ => self.regs.lock().asq = value,
            reg::ACQ => self.regs.lock().acq = value,
            _ => {
                self.write32(offset, split_u64(value).0);
                self.write32(offset + 4, split_u64(value).1);
            }
        }
    }

    /// A 32-bit BAR0 write.
    pub fn write32(&self, offset: u64, value: u32) {
        if offset >= reg::DOORBELL_BASE {
            self.doorbell(offset, value);
            return;
        }
        match offset {
            reg::INTMS => self.regs.lock().intms |= value,
            reg::INTMC => self.regs.lock().intms &= !value,
            reg::CC => self.write_cc(value),
            reg::CSTS if Csts::from(value).nssro() => {
                let mut regs = self.regs.lock();
                regs.csts = u32::from(Csts::from(regs.csts).with_nssro(false));
            }
            reg::NSSR if value == reg::NSSR_RESET_VALUE && self.cfg.nssr_supported => self.subsystem_reset(),
            reg::AQA => self.regs.lock().aqa = Aqa::from(value).without_reserved().into(),
            reg::ASQ => set_low(&mut self.regs.lock().asq, value),
            0x2C => set_high(&mut self.regs.lock().asq, value),
            reg::ACQ => set_low(&mut self.regs.lock().acq, value),
            0x34 => set_high(&mut self.regs.lock().acq, value),
            _ => {}
        }
    }

    fn doorbell(&self, offset: u64, value: u32) {
        let Some((qid, is_cq)) = reg::decode_doorbell(offset, self.cfg.dstrd) else {
            return;
        };
        // Out-of-range values and doorbells of queues that do not exist are
        // ignored and reported through an asynchronous event, as the spec
        // asks; the event is raised after the queue lock is released.
        let error = {
            let queues = self.queues.read();
            if is_cq {
                match queues.cq(qid) {
                    Some(cq) if value < cq.size => {
                        cq.set_head(value);
                        None
                    }
                    Some(_) => Some(async_event::INVALID_DOORBELL_VALUE),
                    None => Some(async_event::INVALID_DOORBELL),
                }
            } else {
                match queues.sq(qid) {
                    Some(sq) if sq.ring(value) => None,
                    Some(_) => Some(async_event::INVALID_DOORBELL_VALUE),
                    None => Some(async_event::INVALID_DOORBELL),
                }
            }
        };
        if let Some(info) = error {
            self.doorbell_error(info, qid);
        }
    }

    fn doorbell_error(&self, info: u8, qid: u16) {
        if !Csts::from(self.regs.lock().csts).rdy() {
            return;
        }
        tracing::debug!(qid, info, "invalid doorbell write");
        self.admin.raise_event(self, (async_event::ERROR, info, nvmeplan_spec::log::lid::ERROR_INFORMATION));
    }

    fn write_cc(&self, value: u32) {
        let _control = self.control.lock();
        let new = Cc::from(value);
        let old = {
            let mut regs = self.regs.lock();
            let old = Cc::from(regs.cc);
            regs.cc = value;
            old
        };
        if !old.en() && new.en() {
            self.enable(new);
        } else if old.en() && !new.en() {
            self.teardown(ResetKind::Controller);
            self.finish_reset_registers();
        }
        if new.shn() != reg::SHN_NONE && old.shn() == reg::SHN_NONE {
            self.start_shutdown(new.shn());
        }
    }

    fn enable(&self, cc: Cc) {
        let (aqa, asq, acq) = {
            let regs = self.regs.lock();
            (Aqa::from(regs.aqa), regs.asq, regs.acq)
        };
        let mps = cc.mps();
        let page = 4096u64 << mps.min(MPSMAX);
        let problem = if mps > MPSMAX {
            Some("CC.MPS above CAP.MPSMAX")
        } else if cc.css() != 0 {
            Some("CC.CSS selects an unsupported command set")
        } else if cc.ams() != 0 {
            Some("CC.AMS selects an unsupported arbitration mechanism")
        } else if aqa.asqs() < 1 || aqa.acqs() < 1 {
            Some("AQA sizes must be at least two entries")
        } else if asq == 0 || acq == 0 || asq % page != 0 || acq % page != 0 {
            Some("ASQ/ACQ must be non-zero and page aligned")
        } else {
            None
        };
        if let Some(problem) = problem {
            tracing::debug!(problem, "invalid controller configuration at enable: CSTS.CFS set");
            self.fatal(problem);
            return;
        }
        self.page_size.store(page as usize, Ordering::Relaxed);
        let generation = self.generation.load(Ordering::SeqCst);
        let me = self.me.clone();
        self.timer.schedule(self.cfg.ready_delay, move || {
            if let Some(ctrl) = me.upgrade() {
                ctrl.become_ready(generation, aqa, asq, acq);
            }
        });
    }

    fn become_ready(self: &Arc<Self>, generation: u64, aqa: Aqa, asq: u64, acq: u64) {
        let _control = self.control.lock();
        if self.generation.load(Ordering::SeqCst) != generation || self.halted() {
            return;
        }
        if !Cc::from(self.regs.lock().cc).en() {
            return;
        }
        let cq = Arc::new(Cq::new(0, acq, u32::from(aqa.acqs()) + 1, true, 0));
        let sq = Arc::new(Sq::new(0, asq, u32::from(aqa.asqs()) + 1, cq.clone()));
        {
            let mut q = self.queues.write();
            q.cqs[0] = Some(cq);
            q.sqs[0] = Some(sq.clone());
        }
        if let Err(e) = sq.start(self.clone()) {
            self.fatal(&format!("cannot start the admin queue worker: {e}"));
            return;
        }
        let mut regs = self.regs.lock();
        regs.csts = u32::from(Csts::from(regs.csts).with_rdy(true).with_shst(reg::SHST_NORMAL));
        regs.clean_shutdown = false;
        tracing::debug!("controller ready");
    }

    fn start_shutdown(&self, shn: u8) {
        {
            let mut regs = self.regs.lock();
            let csts = Csts::from(regs.csts);
            if csts.shst() != reg::SHST_NORMAL {
                return;
            }
            regs.csts = u32::from(csts.with_shst(reg::SHST_OCCURRING));
        }
        tracing::debug!(shn, "shutdown notification");
        let generation = self.generation.load(Ordering::SeqCst);
        let me = self.me.clone();
        self.timer.schedule(Duration::from_micros(500), move || {
            let Some(ctrl) = me.upgrade() else { return };
            // Normal and abrupt shutdowns both flush the write cache: the
            // simulated drive has enough hold-up energy for that.
            ctrl.flush_all();
            let mut regs = ctrl.regs.lock();
            let csts = Csts::from(regs.csts);
            if csts.shst() == reg::SHST_OCCURRING || ctrl.generation.load(Ordering::SeqCst) != generation {
                regs.csts = u32::from(csts.with_shst(reg::SHST_COMPLETE));
                regs.clean_shutdown = true;
            }
            drop(regs);
            ctrl.persist(false);
            tracing::debug!("shutdown complete");
        });
    }

    /// Flushes every namespace's write cache.
    pub fn flush_all(&self) {
        for ns in self.admin.namespaces.read().all() {
            ns.store.flush();
        }
    }

    fn subsystem_reset(&self) {
        let _control = self.control.lock();
        tracing::debug!("NVM subsystem reset");
        self.teardown(ResetKind::Subsystem);
        let mut regs = self.regs.lock();
        let clean = regs.clean_shutdown;
        *regs =
            Regs { csts: u32::from(Csts::new().with_nssro(true)), clean_shutdown: clean, ..Regs::default() };
    }

    /// PCI function level reset: registers to power-on values.
    pub fn function_reset(&self) {
        let _control = self.control.lock();
        tracing::debug!("function level reset");
        self.teardown(ResetKind::Function);
        let mut regs = self.regs.lock();
        let clean = regs.clean_shutdown;
        *regs = Regs { clean_shutdown: clean, ..Regs::default() };
    }

    /// Power loss and restore.
    pub fn power_cycle(&self, abrupt: bool) {
        let _control = self.control.lock();
        let unsafe_shutdown = abrupt && !self.regs.lock().clean_shutdown;
        tracing::debug!(abrupt, unsafe_shutdown, "power cycle");
        self.teardown(ResetKind::PowerCycle);
        self.power_off_media(unsafe_shutdown);
        self.health.power_cycled(unsafe_shutdown);
        *self.regs.lock() = Regs::default();
        self.persist(false);
    }

    /// Media at power off: flush, or lose the write cache.
    pub fn power_off_media(&self, unsafe_shutdown: bool) {
        for ns in self.admin.namespaces.read().all() {
            if unsafe_shutdown {
                ns.store.power_loss();
            } else {
                ns.store.flush();
            }
        }
    }

    /// Device removal: stop every thread, settle the media and persist.
    pub fn shutdown_threads(&self) {
        // The timer first, without `control`: its ready task takes `control`.
        self.timer.shutdown();
        let _control = self.control.lock();
        self.teardown(ResetKind::PowerCycle);
        let clean = self.regs.lock().clean_shutdown;
        self.power_off_media(!clean);
        self.persist(clean);
    }

    fn finish_reset_registers(&self) {
        {
            let mut regs = self.regs.lock();
            let csts = Csts::from(regs.csts).with_cfs(false).with_shst(reg::SHST_NORMAL);
            regs.csts = u32::from(csts);
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let me = self.me.clone();
        let delay = self.cfg.ready_delay.min(Duration::from_millis(1)) / 2;
        self.timer.schedule(delay, move || {
            let Some(ctrl) = me.upgrade() else { return };
            let mut regs = ctrl.regs.lock();
            if ctrl.generation.load(Ordering::SeqCst) == generation {
                regs.csts = u32::from(Csts::from(regs.csts).with_rdy(false));
            }
        });
    }

    /// Stops every queue and returns the controller to its reset state.
    /// Media, logs and counters are kept. Caller holds `control`.
    fn teardown(&self, kind: ResetKind) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        let sqs: Vec<Arc<Sq>> = {
            let mut q = self.queues.write();
            let sqs: Vec<Arc<Sq>> = q.sqs.iter_mut().filter_map(Option::take).collect();
            for sq in &sqs {
                sq.signal_stop();
            }
            for cq in q.cqs.iter_mut().filter_map(Option::take) {
                cq.kill();
            }
            q.io_created = false;
            sqs
        };
        for sq in &sqs {
            sq.join();
        }
        drop(sqs);
        self.faults.reset_hang();
        self.halt.store(HALT_NONE, Ordering::Release);
        self.admin.reset(self, kind == ResetKind::PowerCycle);
        tracing::debug!(?kind, "controller reset");
    }

    // ------------------------------------------------------------- commands

    /// Executes an I/O command; returns the outcome and the LBA for the
    /// error log. `stores` holds the namespaces the worker's current pass
    /// looked up (see [`NsCache`]).
    fn execute_io(&self, cmd: &Command, corrupt: bool, stores: &mut NsCache) -> (Outcome, Option<u64>) {
        if self.admin.format_sanitize.sanitizing() {
            return (Outcome::err(Status::SANITIZE_IN_PROGRESS), None);
        }
        if self.admin.format_sanitize.format_busy() {
            return (Outcome::err(Status::FORMAT_IN_PROGRESS), None);
        }
        if cmd.opcode() == NvmOpcode::Flush as u8 && cmd.nsid == u32::MAX {
            self.flush_all();
            return (Outcome::ok(0), None);
        }
        let Some(store) = stores.get(&self.admin.namespaces, cmd.nsid) else {
            return (Outcome::err(Status::INVALID_NAMESPACE_OR_FORMAT), None);
        };
        let ctx = IoContext {
            dma: &self.dma,
            ns: store,
            page_size: self.page_size.load(Ordering::Relaxed),
            mdts_bytes: self.cfg.mdts_bytes(),
            corrupt_read: corrupt,
            counters: &self.io_counters,
            copy_limits: self.cfg.copy_limits,
        };
        let r = crate::io::execute(&ctx, cmd);
        (Outcome { status: r.status, dnr: r.dnr, dw0: r.dw0 }, r.error_lba)
    }

    /// Writes `state.json` when the device is file-backed. `clean` records
    /// whether the device is being powered off after a shutdown.
    pub fn persist(&self, clean: bool) {
        let Some(storage) = &self.cfg.storage else { return };
        let _guard = self.persist_lock.lock();
        let (namespaces, next_id_seed) = self.admin.namespaces.read().snapshot();
        let state = PersistedState {
            version: crate::health::STATE_VERSION,
            counters: self.health.snapshot(&self.io_counters),
            firmware: self.admin.firmware.lock().clone(),
            namespaces,
            next_id_seed,
            clean_power_off: clean,
        };
        if let Err(e) = crate::health::save_state(storage, &state) {
            tracing::warn!(error = %e, "cannot persist simulator state");
        }
    }
}

impl QueueHost for Controller {
    type PassCache = NsCache;

    fn dma(&self) -> &DmaSpace {
        &self.dma
    }

    fn interrupts(&self) -> &InterruptController {
        &self.irq
    }

    fn coalescing(&self, vector: u16) -> (u8, u8) {
        Controller::coalescing(self, vector)
    }

    fn halted(&self) -> bool {
        Controller::halted(self)
    }

    fn fatal(&self, reason: &str) {
        Controller::fatal(self, reason);
    }

    fn hang(&self) {
        Controller::hang(self);
    }

    fn fault(&self, sqid: u16, cmd: &Command) -> Option<FaultAction> {
        self.faults.evaluate(sqid, cmd)
    }

    fn latency(&self, admin: bool, opcode: u8) -> Duration {
        self.cfg.latency.latency(admin, opcode)
    }

    fn execute(
        &self,
        source: Source<'_>,
        cmd: &Command,
        corrupt_read: bool,
        cache: &mut NsCache,
    ) -> Option<(Outcome, Option<u64>)> {
        if source.sqid == 0 {
            Some((self.admin.execute(self, cmd, source.stopped)?, None))
        } else {
            Some(self.execute_io(cmd, corrupt_read, cache))
        }
    }

    fn record_error(&self, sqid: u16, cid: u16, status: Status, dnr: bool, lba: Option<u64>, nsid: u32) {
        let count = self.health.error_entries.fetch_add(1, Ordering::Relaxed) + 1;
        self.admin.errors.lock().push(count, sqid, cid, status, dnr, lba, nsid);
    }
}

impl AdminHost for Controller {
    fn config(&self) -> &SimConfig {
        &self.cfg
    }

    fn write_host(&self, cmd: &Command, data: &[u8]) -> Result<(), Status> {
        crate::prp::write_to_host(&self.dma, cmd, data, self.page_size.load(Ordering::Relaxed))
    }

    fn read_host(&self, cmd: &Command, len: usize) -> Result<Vec<u8>, Status> {
        crate::prp::read_from_host(&self.dma, cmd, len, self.page_size.load(Ordering::Relaxed))
    }

    fn persist(&self) {
        Controller::persist(self, false);
    }

    fn timer(&self) -> &Timer {
        &self.timer
    }

    fn health(&self) -> &Arc<Health> {
        &self.health
    }

    fn io_counters(&self) -> &IoCounters {
        &self.io_counters
    }

    fn queues(&self) -> &RwLock<QueueTable> {
        &self.queues
    }

    fn page_size(&self) -> usize {
        self.page_size.load(Ordering::Relaxed)
    }

    fn cc(&self) -> Cc {
        Cc::from(self.regs.lock().cc)
    }

    fn msix_enabled(&self) -> bool {
        self.irq.enabled()
    }

    fn start_sq(&self, sq: &Arc<Sq>) -> std::io::Result<()> {
        let me = self.arc().ok_or_else(|| std::io::Error::other("the controller is being removed"))?;
        sq.start(me)
    }

    fn publish_coalescing(&self, value: u32, vector_cd: &[bool]) {
        self.set_coalescing(value, vector_cd);
    }
}

fn restore_firmware(cfg: &SimConfig, saved: &FirmwareSlots) -> FirmwareSlots {
    let mut fw = saved.clone();
    fw.slots.resize(usize::from(cfg.firmware_slots), None);
    if fw.revision(fw.active).is_none() {
        fw = FirmwareSlots::new(cfg.firmware_slots, &cfg.firmware);
    }
    fw.activate_pending();
    fw
}

fn set_low(reg: &mut u64, value: u32) {
    *reg = join_u64(value, split_u64(*reg).1);
}

fn set_high(reg: &mut u64, value: u32) {
    *reg = join_u64(split_u64(*reg).0, value);
}

#[cfg(test)]
mod tests;
