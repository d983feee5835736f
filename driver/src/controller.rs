//! [`Controller`]: bring-up in the order the NVMe specification gives,
//! identify data and namespaces, the admin queue, I/O queue pair creation
//! and deletion, resets and shutdown.
//!
//! The controller is `Send + Sync`: threads share it (usually in an `Arc`)
//! and each creates its own [`QueuePair`]. Admin commands go through one
//! internal admin queue behind a mutex; the typed admin helpers live in
//! [`crate::admin`].
//!
//! Every reset (controller, subsystem, function) and shutdown bumps a
//! generation counter shared with the queue pairs: queue pairs created
//! before it fail cleanly with [`DriverError::ControllerReset`] and must be
//! re-created. Resets re-initialise the controller completely.
//!
//! # Cancellation
//!
//! A controller carries a cancellation flag ([`ControllerOptions::cancel`],
//! [`Controller::cancel_flag`]), shared with its queue pairs. Once it is set
//! (a Ctrl-C handler does), every wait of the driver ends promptly with
//! [`DriverError::Cancelled`]: command waits on any queue, CSTS waits of a
//! bring-up or reset, and asynchronous event waits; IO workers stop. The
//! flag stays set until the caller clears it. A shutdown notification is
//! not cancelled: it is how a cancelled host leaves the device, and its
//! wait has its own bound.

use crate::dma::DmaBuffer;
use crate::error::DriverError;
use crate::queue_pair::{DEFAULT_MAX_TRANSFER, QueueOwner, QueuePair, QueuePairOptions, QueueSetup};
use crate::transport::Transport;
use crate::{PAGE_SIZE, commands};
use nvmeplan_spec::identify::{IdentifyController, IdentifyNamespace, NamespaceList, cns};
use nvmeplan_spec::registers::{self, Aqa, Cap, Cc, Csts, SHN_ABRUPT, SHN_NORMAL, SHST_COMPLETE, Vs};
use nvmeplan_spec::{AdminOpcode, Command, Completion};
use parking_lot::{Mutex, RwLock};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use zerocopy::FromBytes;

pub use crate::namespace::Namespace;

/// PCI configuration space offset of the command register.
pub const PCI_COMMAND: u16 = 0x04;
/// PCI command register: memory space enable.
pub const PCI_COMMAND_MEMORY: u32 = 1 << 1;
/// PCI command register: bus master enable.
pub const PCI_COMMAND_BUS_MASTER: u32 = 1 << 2;

/// Options for [`Controller::open`].
#[derive(Clone, Debug)]
pub struct ControllerOptions {
    /// Admin queue entries (2 to 4096).
    pub admin_depth: u16,
    /// I/O queues to request with Set Features Number of Queues.
    pub io_queues: u16,
    /// Timeout of ordinary admin commands.
    pub admin_timeout: Duration,
    /// Timeout of long-running admin commands (format, sanitize start,
    /// self-test start, firmware commit).
    pub long_timeout: Duration,
    /// Enable MSI-X during bring-up.
    pub msix: bool,
    /// MSI-X vectors to ask for.
    pub msix_vectors: u16,
    /// Overrides CAP.TO when waiting for CSTS.RDY.
    pub ready_timeout: Option<Duration>,
    /// Shutdown wait when Identify Controller RTD3E is 0.
    pub shutdown_timeout: Duration,
    /// Command log entries of the admin queue.
    pub cmdlog_entries: usize,
    /// The cancellation flag to share (see the module docs); `None` gives
    /// the controller a flag of its own, reachable with
    /// [`Controller::cancel_flag`].
    pub cancel: Option<Arc<AtomicBool>>,
}

impl Default for ControllerOptions {
    fn default() -> Self {
        ControllerOptions {
            admin_depth: 32,
            io_queues: 64,
            admin_timeout: Duration::from_secs(10),
            long_timeout: Duration::from_secs(120),
            msix: true,
            msix_vectors: 65,
            ready_timeout: None,
            shutdown_timeout: Duration::from_secs(10),
            cmdlog_entries: crate::cmdlog::DEFAULT_ENTRIES,
            cancel: None,
        }
    }
}

/// How to shut the controller down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShutdownKind {
    /// CC.SHN = 01b.
    Normal,
    /// CC.SHN = 10b.
    Abrupt,
}

/// What bring-up learned.
#[derive(Clone)]
struct Info {
    cap: Cap,
    vs: Vs,
    identify: Arc<IdentifyController>,
    namespaces: Vec<Namespace>,
    max_io_queues: u16,
    vectors: u16,
}

/// State shared by the [`Controller`] handle and its queue pairs.
pub(crate) struct Shared {
    pub(crate) transport: Arc<dyn Transport>,
    pub(crate) options: ControllerOptions,
    pub(crate) generation: Arc<AtomicU64>,
    pub(crate) admin: Mutex<Option<QueuePair>>,
    info: RwLock<Option<Info>>,
    /// In-use I/O queue ids (index = qid).
    qids: Mutex<Vec<bool>>,
    /// The asynchronous event request state (its own `Arc`: the AER
    /// callback lives in the admin queue and must not own `Shared`).
    pub(crate) aer: Arc<AerSlot>,
    /// The cancellation flag, shared with every queue pair.
    pub(crate) cancel: Arc<AtomicBool>,
}

/// An outstanding Asynchronous Event Request and its result.
#[derive(Default)]
pub(crate) struct AerSlot {
    pub(crate) outstanding: std::sync::atomic::AtomicBool,
    pub(crate) result: Mutex<Option<Completion>>,
}

impl Shared {
    /// Deletes I/O SQ then CQ `qid` if the controller is still at `generation`.
    pub(crate) fn delete_io_queue(&self, qid: u16, generation: u64) {
        if let Err(e) = self.delete_io_queue_checked(qid, generation) {
            tracing::warn!(qid, error = %e, "deleting I/O queue failed");
        }
    }

    pub(crate) fn delete_io_queue_checked(&self, qid: u16, generation: u64) -> Result<(), DriverError> {
        let mut admin = self.admin.lock();
        if self.generation.load(Ordering::Acquire) != generation {
            return Ok(());
        }
        let Some(aq) = admin.as_mut() else { return Ok(()) };
        let sq = aq.execute(commands::delete_io_sq(qid), None, None)?;
        DriverError::check(0, AdminOpcode::DeleteIoSq as u8, sq)?;
        let cq = aq.execute(commands::delete_io_cq(qid), None, None)?;
        DriverError::check(0, AdminOpcode::DeleteIoCq as u8, cq)?;
        Ok(())
    }

    pub(crate) fn release_qid(&self, qid: u16) {
        if let Some(slot) = self.qids.lock().get_mut(usize::from(qid)) {
            *slot = false;
        }
    }

    pub(crate) fn namespace(&self, nsid: u32) -> Option<Namespace> {
        self.info.read().as_ref()?.namespaces.iter().find(|ns| ns.nsid == nsid).cloned()
    }

    pub(crate) fn mdts_bytes(&self) -> Option<usize> {
        let info = self.info.read();
        let info = info.as_ref()?;
        let min_page = 4096u64 << info.cap.mpsmin();
        info.identify.mdts_bytes(min_page).map(|b| usize::try_from(b).unwrap_or(usize::MAX))
    }
}

impl QueueOwner for Shared {
    fn delete_io_queue(&self, qid: u16, generation: u64) {
        Shared::delete_io_queue(self, qid, generation);
    }

    fn release_qid(&self, qid: u16) {
        Shared::release_qid(self, qid);
    }

    fn namespace(&self, nsid: u32) -> Option<Namespace> {
        Shared::namespace(self, nsid)
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Stop the controller so it no longer touches the admin queue
        // memory freed with it.
        if self.admin.get_mut().is_some() {
            let cc = Cc::from(self.transport.bar0_read32(registers::CC));
            self.transport.bar0_write32(registers::CC, cc.with_en(false).into());
        }
    }
}

/// An initialised NVMe controller.
#[derive(Clone)]
pub struct Controller {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for Controller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Controller")
            .field("transport", &self.shared.transport.describe())
            .field("generation", &self.generation())
            .finish()
    }
}

/// Polls CSTS until `done` holds, CFS is set, `timeout` passes or `cancel`
/// (when given) is set.
fn wait_csts(
    transport: &dyn Transport,
    what: &str,
    timeout: Duration,
    cancel: Option<&AtomicBool>,
    done: impl Fn(Csts) -> bool,
) -> Result<Csts, DriverError> {
    let start = Instant::now();
    loop {
        let raw = transport.bar0_read32(registers::CSTS);
        let csts = Csts::from(raw);
        if raw != u32::MAX && done(csts) {
            return Ok(csts);
        }
        if raw != u32::MAX && csts.cfs() {
            return Err(DriverError::ControllerFatal { during: format!("waiting for {what}") });
        }
        if start.elapsed() >= timeout {
            let what =
                if raw == u32::MAX { format!("{what} (CSTS reads all ones)") } else { what.to_string() };
            return Err(DriverError::NotReady { what, waited: start.elapsed() });
        }
        if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Err(DriverError::Cancelled { what: what.to_string() });
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

impl Controller {
    /// Opens and initialises the controller behind `transport`.
    pub fn open(
        transport: Arc<dyn Transport>,
        options: ControllerOptions,
    ) -> Result<Controller, DriverError> {
        if !(2..=4096).contains(&options.admin_depth) {
            return Err(DriverError::InvalidArgument(format!(
                "admin queue depth {} is outside 2..=4096",
                options.admin_depth
            )));
        }
        let cancel = options.cancel.clone().unwrap_or_default();
        let shared = Arc::new(Shared {
            transport,
            options,
            cancel,
            generation: Arc::new(AtomicU64::new(1)),
            admin: Mutex::new(None),
            info: RwLock::new(None),
            qids: Mutex::new(Vec::new()),
            aer: Arc::new(AerSlot::default()),
        });
        let ctrl = Controller { shared };
        {
            let mut admin = ctrl.shared.admin.lock();
            ctrl.initialize(&mut admin)?;
        }
        Ok(ctrl)
    }

    fn ready_timeout(&self, cap: Cap) -> Duration {
        self.shared.options.ready_timeout.unwrap_or(Duration::from_millis(500 * u64::from(cap.to().max(1))))
    }

    /// Full bring-up, with the admin queue lock held.
    fn initialize(&self, admin: &mut Option<QueuePair>) -> Result<(), DriverError> {
        let t = self.shared.transport.clone();
        let opts = &self.shared.options;
        // Retire the previous admin queue (its callbacks get synthesized
        // completions) before the controller forgets it.
        *admin = None;
        self.shared.aer.outstanding.store(false, Ordering::Release);
        *self.shared.aer.result.lock() = None;
        *self.shared.info.write() = None;

        // 1. Bus mastering (and memory space) in the PCI command register.
        let command = t.config_read32(PCI_COMMAND)?;
        t.config_write32(PCI_COMMAND, (command & 0xFFFF) | PCI_COMMAND_MEMORY | PCI_COMMAND_BUS_MASTER)?;

        // MSI-X before the controller is enabled, as Linux does: a
        // controller may bind its admin CQ's vector when CC.EN is set
        // (QEMU's drops messages for vectors that were not in use then).
        let vectors = if opts.msix { t.enable_msix(opts.msix_vectors.max(1))? } else { 0 };

        // 2. Capabilities.
        let cap = Cap::from(t.bar0_read64(registers::CAP));
        if cap.css() & 1 == 0 {
            return Err(DriverError::Unsupported("CAP.CSS does not include the NVM command set".into()));
        }
        if cap.mpsmin() != 0 {
            return Err(DriverError::Unsupported(format!(
                "CAP.MPSMIN is {} but the driver uses 4 KiB pages",
                cap.mpsmin()
            )));
        }
        let ready = self.ready_timeout(cap);
        let cancel = Some(&*self.shared.cancel);

        // 3. Disable and wait for CSTS.RDY = 0.
        let cc = Cc::from(t.bar0_read32(registers::CC));
        if cc.en() || Csts::from(t.bar0_read32(registers::CSTS)).rdy() {
            t.bar0_write32(registers::CC, cc.with_en(false).with_shn(0).into());
        }
        wait_csts(&*t, "CSTS.RDY=0 after clearing CC.EN", ready, cancel, |c| !c.rdy()).or_else(
            |e| match e {
                // A fatal controller clears CFS with the reset; keep waiting for RDY.
                DriverError::ControllerFatal { .. } => {
                    wait_csts(&*t, "CSTS.RDY=0 (CFS set)", ready, cancel, |c| !c.rdy())
                }
                e => Err(e),
            },
        )?;

        // 4. Admin queues.
        let depth = opts.admin_depth.min(cap.mqes().saturating_add(1)).max(2);
        let aq = QueuePair::new(QueueSetup {
            transport: t.clone(),
            qid: 0,
            depth,
            dstrd: cap.dstrd(),
            generation: self.shared.generation.clone(),
            vector: None,
            timeout: opts.admin_timeout,
            cmdlog_entries: opts.cmdlog_entries,
            max_transfer: DEFAULT_MAX_TRANSFER,
            owner: None,
            cancel: self.shared.cancel.clone(),
        })?;
        t.bar0_write32(registers::AQA, Aqa::new().with_asqs(depth - 1).with_acqs(depth - 1).into());
        t.bar0_write64(registers::ASQ, aq.sq_iova());
        t.bar0_write64(registers::ACQ, aq.cq_iova());

        // 5. Configure, then enable.
        let cc = Cc::new().with_iosqes(6).with_iocqes(4).with_mps(0).with_css(0).with_ams(0);
        t.bar0_write32(registers::CC, cc.into());
        t.bar0_write32(registers::CC, cc.with_en(true).into());
        *admin = Some(aq);
        wait_csts(&*t, "CSTS.RDY=1 after setting CC.EN", ready, cancel, |c| c.rdy())?;

        // 7. Identify, queues, namespaces.
        let aq = admin.as_mut().expect("admin queue just created");
        let identify = identify_controller(aq)?;
        let want = u32::from(opts.io_queues.max(1));
        let nq = commands::set_features(
            nvmeplan_spec::features::fid::NUMBER_OF_QUEUES,
            0,
            nvmeplan_spec::features::NumberOfQueues::from_counts(want, want).into(),
            false,
        );
        let cqe = aq.execute(nq, None, None)?;
        let cqe = DriverError::check(0, AdminOpcode::SetFeatures as u8, cqe)?;
        let got = nvmeplan_spec::features::NumberOfQueues::from(cqe.dw0);
        let max_io_queues =
            got.submission_queues().min(got.completion_queues()).min(u32::from(u16::MAX - 1)) as u16;
        let namespaces = scan_namespaces(aq)?;
        let vs = Vs::from(t.bar0_read32(registers::VS));
        {
            let mut qids = self.shared.qids.lock();
            if qids.len() < usize::from(max_io_queues) + 1 {
                qids.resize(usize::from(max_io_queues) + 1, false);
            }
            qids[0] = true;
        }
        *self.shared.info.write() =
            Some(Info { cap, vs, identify: Arc::new(identify), namespaces, max_io_queues, vectors });
        tracing::debug!(transport = %t.describe(), max_io_queues, vectors, "controller initialised");
        Ok(())
    }

    fn info<R>(&self, f: impl FnOnce(&Info) -> R) -> Result<R, DriverError> {
        let info = self.shared.info.read();
        info.as_ref().map(f).ok_or_else(|| {
            DriverError::InvalidState(
                "the controller is not initialised (shut down or a reset failed)".into(),
            )
        })
    }

    /// The transport.
    pub fn transport(&self) -> &Arc<dyn Transport> {
        &self.shared.transport
    }

    /// The options the controller was opened with.
    pub fn options(&self) -> &ControllerOptions {
        &self.shared.options
    }

    /// The cancellation flag (see the module docs): set it to end the
    /// driver's waits with [`DriverError::Cancelled`], clear it to use the
    /// controller normally again.
    pub fn cancel_flag(&self) -> &Arc<AtomicBool> {
        &self.shared.cancel
    }

    /// Whether the cancellation flag is set.
    pub fn is_cancelled(&self) -> bool {
        self.shared.cancel.load(Ordering::Relaxed)
    }

    /// The reset generation: bumped by every reset and shutdown.
    pub fn generation(&self) -> u64 {
        self.shared.generation.load(Ordering::Acquire)
    }

    /// Controller capabilities read at bring-up.
    pub fn cap(&self) -> Result<Cap, DriverError> {
        self.info(|i| i.cap)
    }

    /// The version register read at bring-up.
    pub fn version(&self) -> Result<Vs, DriverError> {
        self.info(|i| i.vs)
    }

    /// The Identify Controller data read at bring-up.
    pub fn identify(&self) -> Result<Arc<IdentifyController>, DriverError> {
        self.info(|i| i.identify.clone())
    }

    /// The active namespaces.
    pub fn namespaces(&self) -> Result<Vec<Namespace>, DriverError> {
        self.info(|i| i.namespaces.clone())
    }

    /// The active namespace `nsid`.
    pub fn namespace(&self, nsid: u32) -> Result<Namespace, DriverError> {
        self.shared.namespace(nsid).ok_or(DriverError::NoSuchNamespace { nsid })
    }

    /// The maximum data transfer size in bytes (`None`: no limit).
    pub fn mdts_bytes(&self) -> Option<usize> {
        self.shared.mdts_bytes()
    }

    /// I/O queues the controller granted (Set Features Number of Queues).
    pub fn max_io_queues(&self) -> Result<u16, DriverError> {
        self.info(|i| i.max_io_queues)
    }

    /// MSI-X vectors enabled (0 without MSI-X).
    pub fn msix_vectors(&self) -> Result<u16, DriverError> {
        self.info(|i| i.vectors)
    }

    /// Allocates a DMA buffer of `len` bytes on this controller's transport.
    pub fn alloc_buffer(&self, len: usize) -> Result<DmaBuffer, DriverError> {
        DmaBuffer::new(&self.shared.transport, len)
    }

    /// The admin queue's command log.
    pub fn admin_cmdlog(&self) -> Result<Arc<crate::CmdLog>, DriverError> {
        self.shared
            .admin
            .lock()
            .as_ref()
            .map(|q| q.cmdlog())
            .ok_or_else(|| DriverError::InvalidState("no admin queue (controller shut down)".into()))
    }

    /// Runs an admin command and returns its completion, whatever the
    /// status. `data`'s PRPs describe the buffer from its data offset to its end.
    pub fn admin(&self, cmd: Command, data: Option<&mut DmaBuffer>) -> Result<Completion, DriverError> {
        self.admin_timeout(cmd, data, None)
    }

    /// [`Controller::admin`] with a timeout overriding the admin default.
    pub fn admin_timeout(
        &self,
        cmd: Command,
        data: Option<&mut DmaBuffer>,
        timeout: Option<Duration>,
    ) -> Result<Completion, DriverError> {
        let data = data.map(|b| (b.data_iova(), b.data_len()));
        self.admin_data(cmd, data, timeout)
    }

    /// [`Controller::admin`] with an explicit `(iova, len)` transfer.
    pub fn admin_data(
        &self,
        cmd: Command,
        data: Option<(u64, usize)>,
        timeout: Option<Duration>,
    ) -> Result<Completion, DriverError> {
        let mut admin = self.shared.admin.lock();
        let aq = admin.as_mut().ok_or_else(|| {
            DriverError::InvalidState("no admin queue: the controller is shut down; call reset()".into())
        })?;
        aq.execute_data(cmd, data, timeout)
    }

    /// Re-reads the active namespace list and each namespace's identify data.
    pub fn rescan_namespaces(&self) -> Result<Vec<Namespace>, DriverError> {
        let namespaces = {
            let mut admin = self.shared.admin.lock();
            let aq = admin.as_mut().ok_or_else(|| DriverError::InvalidState("no admin queue".into()))?;
            scan_namespaces(aq)?
        };
        if let Some(info) = self.shared.info.write().as_mut() {
            info.namespaces = namespaces.clone();
        }
        Ok(namespaces)
    }

    /// Creates an I/O queue pair with `depth` entries per ring: Create I/O
    /// CQ, then Create I/O SQ, with the lowest free queue id.
    pub fn create_qpair(&self, depth: u16, options: QueuePairOptions) -> Result<QueuePair, DriverError> {
        let (cap, max_q, vectors) = self.info(|i| (i.cap, i.max_io_queues, i.vectors))?;
        let max_depth = u32::from(cap.mqes()) + 1;
        if depth < 2 || u32::from(depth) > max_depth {
            return Err(DriverError::InvalidArgument(format!(
                "queue depth {depth} is outside 2..={max_depth} (CAP.MQES)"
            )));
        }
        let qid = {
            let mut qids = self.shared.qids.lock();
            let free = (1..=usize::from(max_q)).find(|&q| !qids.get(q).copied().unwrap_or(true));
            let Some(q) = free else {
                return Err(DriverError::InvalidState(format!("all {max_q} I/O queues are in use")));
            };
            qids[q] = true;
            q as u16
        };
        let result = self.create_qpair_with_qid(qid, depth, &options, cap, vectors);
        if result.is_err() {
            self.shared.release_qid(qid);
        }
        result
    }

    fn create_qpair_with_qid(
        &self,
        qid: u16,
        depth: u16,
        options: &QueuePairOptions,
        cap: Cap,
        vectors: u16,
    ) -> Result<QueuePair, DriverError> {
        let vector = (options.interrupts && vectors > 0)
            .then(|| if vectors > 1 { 1 + (qid - 1) % (vectors - 1) } else { 0 });
        let max_transfer =
            options.max_transfer.or(self.mdts_bytes()).unwrap_or(DEFAULT_MAX_TRANSFER).max(PAGE_SIZE);
        let mut admin = self.shared.admin.lock();
        let aq = admin.as_mut().ok_or_else(|| DriverError::InvalidState("no admin queue".into()))?;
        let mut qp = QueuePair::new(QueueSetup {
            transport: self.shared.transport.clone(),
            qid,
            depth,
            dstrd: cap.dstrd(),
            generation: self.shared.generation.clone(),
            vector,
            timeout: options.timeout,
            cmdlog_entries: options.cmdlog_entries,
            max_transfer,
            owner: None,
            cancel: self.shared.cancel.clone(),
        })?;
        let cq = aq.execute(commands::create_io_cq(qid, depth, qp.cq_iova(), vector), None, None)?;
        DriverError::check(0, AdminOpcode::CreateIoCq as u8, cq)?;
        let sq =
            aq.execute(commands::create_io_sq(qid, depth, qp.sq_iova(), qid, options.priority), None, None)?;
        if let Err(e) = DriverError::check(0, AdminOpcode::CreateIoSq as u8, sq) {
            let _ = aq.execute(commands::delete_io_cq(qid), None, None);
            return Err(e);
        }
        qp.owner = Some(self.shared.clone() as Arc<dyn QueueOwner>);
        Ok(qp)
    }

    /// Deletes `qpair`'s SQ and CQ on the device (if the controller was not
    /// reset since it was created), reporting failures; dropping a queue
    /// pair does the same but only logs failures.
    pub fn delete_qpair(&self, mut qpair: QueuePair) -> Result<(), DriverError> {
        let owner = qpair.owner.take();
        let result = if qpair.is_stale() {
            Ok(())
        } else {
            self.shared.delete_io_queue_checked(qpair.qid(), self.generation())
        };
        if owner.is_some() {
            self.shared.release_qid(qpair.qid());
        }
        drop(qpair);
        result
    }

    fn bump_generation(&self) {
        self.shared.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Controller reset: CC.EN = 0, wait CSTS.RDY = 0, then full
    /// re-initialisation. Existing queue pairs become stale.
    pub fn reset(&self) -> Result<(), DriverError> {
        let mut admin = self.shared.admin.lock();
        self.bump_generation();
        self.initialize(&mut admin)
    }

    /// NVM subsystem reset (writes "NVMe" to NSSR; needs CAP.NSSRS), then
    /// full re-initialisation.
    pub fn subsystem_reset(&self) -> Result<(), DriverError> {
        let cap = Cap::from(self.shared.transport.bar0_read64(registers::CAP));
        if !cap.nssrs() {
            return Err(DriverError::Unsupported("NVM subsystem reset (CAP.NSSRS is 0)".into()));
        }
        let mut admin = self.shared.admin.lock();
        self.bump_generation();
        *admin = None;
        let t = &self.shared.transport;
        t.bar0_write32(registers::NSSR, registers::NSSR_RESET_VALUE);
        let cancel = Some(&*self.shared.cancel);
        let _ = wait_csts(&**t, "CSTS.RDY=0 after NSSR", self.ready_timeout(cap), cancel, |c| !c.rdy());
        // Acknowledge CSTS.NSSRO (write 1 to clear).
        t.bar0_write32(registers::CSTS, u32::from(Csts::new().with_nssro(true)));
        self.initialize(&mut admin)
    }

    /// PCI function level reset through the transport, then full
    /// re-initialisation (bus mastering and MSI-X are enabled again).
    pub fn function_reset(&self) -> Result<(), DriverError> {
        let mut admin = self.shared.admin.lock();
        self.bump_generation();
        *admin = None;
        self.shared.transport.function_reset()?;
        self.initialize(&mut admin)
    }

    /// Re-initialises the controller without a reset of its own, e.g. after
    /// the simulator was power cycled (same as [`Controller::reset`]).
    pub fn reinitialize(&self) -> Result<(), DriverError> {
        self.reset()
    }

    /// Shutdown notification (CC.SHN), waiting for CSTS.SHST = complete
    /// bounded by RTD3E (or the configured default). The controller stays
    /// shut down until [`Controller::reset`]; queue pairs become stale.
    pub fn shutdown(&self, kind: ShutdownKind) -> Result<(), DriverError> {
        let rtd3e = self.info(|i| i.identify.rtd3e).unwrap_or(0);
        let timeout = if rtd3e == 0 {
            self.shared.options.shutdown_timeout
        } else {
            Duration::from_micros(u64::from(rtd3e)).max(Duration::from_millis(100))
        };
        let mut admin = self.shared.admin.lock();
        self.bump_generation();
        *admin = None;
        *self.shared.info.write() = None;
        let t = &self.shared.transport;
        let shn = match kind {
            ShutdownKind::Normal => SHN_NORMAL,
            ShutdownKind::Abrupt => SHN_ABRUPT,
        };
        let cc = Cc::from(t.bar0_read32(registers::CC));
        t.bar0_write32(registers::CC, cc.with_shn(shn).into());
        // Not cancelled: see the module docs.
        wait_csts(&**t, "CSTS.SHST=complete after CC.SHN", timeout, None, |c| c.shst() == SHST_COMPLETE)?;
        Ok(())
    }

    /// Whether the controller is shut down (or a reset failed) and needs
    /// [`Controller::reset`].
    pub fn is_shut_down(&self) -> bool {
        self.shared.info.read().is_none()
    }
}

/// Identify Controller on an admin queue.
fn identify_controller(aq: &mut QueuePair) -> Result<IdentifyController, DriverError> {
    let data = identify_raw(aq, cns::CONTROLLER, 0)?;
    Ok(IdentifyController::read_from_bytes(&data).expect("4096 bytes"))
}

pub(crate) fn identify_raw(aq: &mut QueuePair, cns_value: u8, nsid: u32) -> Result<Vec<u8>, DriverError> {
    let mut buf = DmaBuffer::new(aq.transport(), PAGE_SIZE)?;
    let cqe = aq.execute(commands::identify(cns_value, nsid, 0), Some(&mut buf), None)?;
    DriverError::check(0, AdminOpcode::Identify as u8, cqe)?;
    Ok(buf.as_slice().to_vec())
}

/// Identify Active Namespace list, then Identify Namespace for each.
fn scan_namespaces(aq: &mut QueuePair) -> Result<Vec<Namespace>, DriverError> {
    let mut namespaces = Vec::new();
    let mut start = 0u32;
    loop {
        let data = identify_raw(aq, cns::ACTIVE_NAMESPACE_LIST, start)?;
        let list = NamespaceList::read_from_bytes(&data).expect("4096 bytes");
        let ids: Vec<u32> = list.iter().collect();
        for &nsid in &ids {
            let id = IdentifyNamespace::read_from_bytes(&identify_raw(aq, cns::NAMESPACE, nsid)?)
                .expect("4096 bytes");
            namespaces.push(Namespace::from_identify(nsid, id));
        }
        match ids.last() {
            Some(&last) if ids.len() == NamespaceList::CAPACITY && last < u32::MAX - 1 => start = last,
            _ => break,
        }
    }
    Ok(namespaces)
}
