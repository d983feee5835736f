//! The admin families driven through [`AdminState`] and a host that is not
//! the controller: what each family owns and what it asks of its host.

use super::host::AdminHost;
use super::namespaces::{NsEvent, NsTable};
use super::*;
use crate::health::{Counters, Health};
use crate::io::IoCounters;
use crate::latency::Timer;
use crate::queues::{Cq, QueueTable, Sq};
use nvmeplan_spec::features::{async_event, fid};
use nvmeplan_spec::registers::Cc;

/// A host with its own queue table, recording what is asked of it.
struct FakeHost {
    cfg: SimConfig,
    timer: Timer,
    health: Arc<Health>,
    io: IoCounters,
    queues: RwLock<QueueTable>,
    /// What `read_host` returns.
    host_data: Vec<u8>,
    persisted: Mutex<usize>,
    coalescing: Mutex<Vec<(u32, Vec<bool>)>>,
}

impl FakeHost {
    fn new() -> FakeHost {
        let cfg = SimConfig::default();
        FakeHost {
            queues: RwLock::new(QueueTable::new(cfg.max_io_queues)),
            cfg,
            timer: Timer::start("admin-test").unwrap(),
            health: Arc::new(Health::new(&Counters::default())),
            io: IoCounters::default(),
            host_data: Vec::new(),
            persisted: Mutex::new(0),
            coalescing: Mutex::new(Vec::new()),
        }
    }

    /// Puts an admin SQ (without a worker) in the table; events are
    /// injected into it.
    fn with_admin_queue(self) -> (FakeHost, Arc<Sq>) {
        let cq = Arc::new(Cq::new(0, 0x10_0000, 16, false, 0));
        let sq = Arc::new(Sq::new(0, 0x20_0000, 16, cq.clone()));
        {
            let mut q = self.queues.write();
            q.cqs[0] = Some(cq);
            q.sqs[0] = Some(sq.clone());
        }
        (self, sq)
    }

    fn state(&self) -> AdminState {
        let ns = NsTable::initial(&self.cfg).unwrap();
        AdminState::new(&self.cfg, ns, FirmwareSlots::new(self.cfg.firmware_slots, &self.cfg.firmware))
    }
}

impl AdminHost for FakeHost {
    fn config(&self) -> &SimConfig {
        &self.cfg
    }
    fn write_host(&self, _cmd: &Command, _data: &[u8]) -> Result<(), Status> {
        Ok(())
    }
    fn read_host(&self, _cmd: &Command, len: usize) -> Result<Vec<u8>, Status> {
        let mut data = self.host_data.clone();
        data.resize(len, 0);
        Ok(data)
    }
    fn persist(&self) {
        *self.persisted.lock() += 1;
    }
    fn timer(&self) -> &Timer {
        &self.timer
    }
    fn health(&self) -> &Arc<Health> {
        &self.health
    }
    fn io_counters(&self) -> &IoCounters {
        &self.io
    }
    fn queues(&self) -> &RwLock<QueueTable> {
        &self.queues
    }
    fn page_size(&self) -> usize {
        4096
    }
    fn cc(&self) -> Cc {
        Cc::new()
    }
    fn msix_enabled(&self) -> bool {
        false
    }
    fn start_sq(&self, _sq: &Arc<Sq>) -> std::io::Result<()> {
        Err(std::io::Error::other("no workers in this host"))
    }
    fn publish_coalescing(&self, value: u32, vector_cd: &[bool]) {
        self.coalescing.lock().push((value, vector_cd.to_vec()));
    }
}

fn admin(op: AdminOpcode, cid: u16, cdw10: u32, cdw11: u32) -> Command {
    let mut cmd = Command::new(op as u8, 0);
    cmd.set_cid(cid);
    cmd.cdw10 = cdw10;
    cmd.cdw11 = cdw11;
    cmd
}

fn run(state: &AdminState, host: &FakeHost, cmd: &Command) -> Option<Outcome> {
    state.execute(host, cmd, &AtomicBool::new(false))
}

#[test]
fn set_features_reports_its_effects_to_the_caller() {
    let host = FakeHost::new();
    let features = Mutex::new(FeatureState::defaults(&host.cfg));
    let vwc = admin(AdminOpcode::SetFeatures, 1, u32::from(fid::VOLATILE_WRITE_CACHE), 0);
    let effects = features::set(&host, &features, &vwc).unwrap();
    assert!(effects.write_cache && effects.coalescing.is_none() && !effects.temperature_crossed);
    assert!(!features.lock().write_cache, "the family's own state changed");

    let coalescing = admin(AdminOpcode::SetFeatures, 2, u32::from(fid::INTERRUPT_COALESCING), 0x0304);
    let effects = features::set(&host, &features, &coalescing).unwrap();
    let vectors = usize::from(host.cfg.msix_vectors);
    assert_eq!(effects.coalescing, Some((0x0304, vec![false; vectors])));

    // Over-temperature threshold 300 K on the composite sensor: below
    // the 313 K the device reports.
    let threshold = admin(AdminOpcode::SetFeatures, 3, u32::from(fid::TEMPERATURE_THRESHOLD), 300);
    assert!(features::set(&host, &features, &threshold).unwrap().temperature_crossed);

    host.queues.write().io_created = true;
    let queues = admin(AdminOpcode::SetFeatures, 4, u32::from(fid::NUMBER_OF_QUEUES), 0x0001_0001);
    assert_eq!(features::set(&host, &features, &queues), Err(Status::COMMAND_SEQUENCE_ERROR));
}

#[test]
fn a_crossed_threshold_completes_an_event_request_through_the_admin_queue() {
    let (host, admin_sq) = FakeHost::new().with_admin_queue();
    let state = host.state();
    // AEC: SMART / Health critical warning temperature (bit 1).
    let aec = admin(AdminOpcode::SetFeatures, 1, u32::from(fid::ASYNC_EVENT_CONFIGURATION), 0x02);
    assert_eq!(run(&state, &host, &aec), Some(Outcome::ok(0)));
    let request = admin(AdminOpcode::AsyncEventRequest, 7, 0, 0);
    assert_eq!(run(&state, &host, &request), None, "an event request completes later");
    assert!(admin_sq.injected.lock().is_empty());

    let threshold = admin(AdminOpcode::SetFeatures, 2, u32::from(fid::TEMPERATURE_THRESHOLD), 300);
    assert_eq!(run(&state, &host, &threshold), Some(Outcome::ok(0)));
    let injected = admin_sq.injected.lock().clone();
    assert_eq!(injected.len(), 1);
    assert_eq!(injected[0].cid, 7);
    let (event_type, info, log) = features::TEMPERATURE_EVENT;
    assert_eq!(event_type, async_event::SMART_HEALTH);
    assert_eq!(injected[0].dw0, async_event::encode_dw0(event_type, info, log));
}

#[test]
fn write_cache_and_coalescing_changes_reach_the_namespaces_and_the_host() {
    let host = FakeHost::new();
    let state = host.state();
    state.apply_write_cache(&host.cfg);
    assert!(state.namespaces.read().all().all(|ns| ns.store.write_cache_enabled()));
    let vwc_off = admin(AdminOpcode::SetFeatures, 1, u32::from(fid::VOLATILE_WRITE_CACHE), 0);
    assert_eq!(run(&state, &host, &vwc_off), Some(Outcome::ok(0)));
    for ns in state.namespaces.read().all() {
        assert!(!ns.store.write_cache_enabled(), "nsid {} follows VWC", ns.nsid);
    }
    let coalescing = admin(AdminOpcode::SetFeatures, 2, u32::from(fid::INTERRUPT_COALESCING), 0x0102);
    assert_eq!(run(&state, &host, &coalescing), Some(Outcome::ok(0)));
    assert_eq!(host.coalescing.lock().last().map(|c| c.0), Some(0x0102));
    state.reset(&host, false);
    assert_eq!(host.coalescing.lock().last().map(|c| c.0), Some(0), "a reset publishes the defaults");
}

#[test]
fn detaching_a_namespace_reports_removal_then_change() {
    let mut host = FakeHost::new();
    // Controller list: one entry, this controller.
    host.host_data = vec![1, 0, 1, 0];
    let table = RwLock::new(NsTable::initial(&host.cfg).unwrap());
    let mut detach = admin(AdminOpcode::NamespaceAttachment, 1, 1, 0);
    detach.nsid = 1;
    let mut events = Vec::new();
    assert_eq!(namespaces::attachment(&host, &table, &mut |e| events.push(e), &detach), Ok(0));
    assert_eq!(events, [NsEvent::Removed(1), NsEvent::Changed(1)]);
    assert!(table.read().active(1).is_none());
    assert_eq!(table.read().changed, [1]);
    assert_eq!(*host.persisted.lock(), 1, "the change is persisted");
}
