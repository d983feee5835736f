//! Namespaces: the allocation table, Namespace Management and Namespace
//! Attachment.
//!
//! A namespace is allocated (it has a [`NamespaceStore`] and counts against
//! the total NVM capacity) and may be attached to this controller, which
//! makes it active: only active namespaces accept I/O and appear in the
//! active namespace list. Each namespace has an EUI64, NGUID and UUID
//! derived from the device seed and serial number and a per-namespace seed
//! that never repeats, so a re-created namespace gets new identifiers.
//!
//! This module owns the table ([`NsTable`]), the Changed Namespace List
//! it keeps, and the look-ups the I/O path makes in it ([`NsCache`]).
//! What a command does to other state (a self-test on a removed
//! namespace, the namespace-attribute event) is reported to the caller as
//! [`NsEvent`]s.

use super::common::{AdminResult, CNTLID, NSID_ALL};
use super::host::AdminHost;
use crate::SimError;
use crate::config::SimConfig;
use crate::health::{PersistedState, SavedNamespace};
use crate::io::CopyLimits;
use crate::storage::NamespaceStore;
use nvmeplan_spec::dwords::{NamespaceAttachmentCdw10, NamespaceManagementCdw10, NamespaceManagementCdw11};
use nvmeplan_spec::features::async_event;
use nvmeplan_spec::identify::{IdentifyNamespace, LbaFormat, flbas, set_le_uint};
use nvmeplan_spec::log::lid;
use nvmeplan_spec::{Command, Status};
use parking_lot::RwLock;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What a namespace command did that concerns state outside the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NsEvent {
    /// The namespace was detached or deleted.
    Removed(u32),
    /// The namespace's attributes changed (it was added to the Changed Namespace
    /// List): raise [`NAMESPACE_CHANGED_EVENT`].
    Changed(u32),
}

/// The asynchronous event a namespace attribute change raises: (event
/// type, information, log page).
pub(crate) const NAMESPACE_CHANGED_EVENT: (u8, u8, u8) =
    (async_event::NOTICE, async_event::NAMESPACE_ATTRIBUTE_CHANGED, lid::CHANGED_NAMESPACE_LIST);

/// The LBA formats every namespace supports: index 0 is 512 bytes, index
/// 1 is 4096 bytes.
pub(crate) const LBA_FORMATS: [u32; 2] = [512, 4096];

/// One allocated namespace.
pub(crate) struct Namespace {
    /// Namespace identifier.
    pub nsid: u32,
    /// Its media.
    pub store: Arc<NamespaceStore>,
    /// Attached to this controller (active).
    pub attached: bool,
    /// Seed of its identifiers.
    pub id_seed: u64,
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Namespace {
    /// Logical block size.
    pub fn lba_size(&self) -> u32 {
        self.store.lba_size()
    }

    /// Size in logical blocks.
    pub fn nlb(&self) -> u64 {
        self.store.nlb()
    }

    /// Bytes of NVM capacity it occupies.
    pub fn bytes(&self) -> u128 {
        u128::from(self.nlb()) * u128::from(self.lba_size())
    }

    /// LBA format index in use.
    pub fn format_index(&self) -> usize {
        LBA_FORMATS.iter().position(|&s| s == self.lba_size()).unwrap_or(0)
    }

    fn id_bytes(&self, base: u64, n: usize) -> Vec<u8> {
        (0..n.div_ceil(8)).flat_map(|i| mix(base ^ ((i as u64) << 56)).to_be_bytes()).take(n).collect()
    }

    /// IEEE EUI64.
    pub fn eui64(&self, device_seed: u64) -> [u8; 8] {
        let mut id = [0u8; 8];
        id.copy_from_slice(&self.id_bytes(mix(device_seed ^ self.id_seed), 8));
        id
    }

    /// NGUID.
    pub fn nguid(&self, device_seed: u64) -> [u8; 16] {
        let mut id = [0u8; 16];
        id.copy_from_slice(&self.id_bytes(mix(device_seed ^ self.id_seed ^ 0x4E47), 16));
        id
    }

    /// UUID (version 4 layout).
    pub fn uuid(&self, device_seed: u64) -> [u8; 16] {
        let mut id = [0u8; 16];
        id.copy_from_slice(&self.id_bytes(mix(device_seed ^ self.id_seed ^ 0x5555), 16));
        id[6] = (id[6] & 0x0F) | 0x40;
        id[8] = (id[8] & 0x3F) | 0x80;
        id
    }
}

/// Every allocated namespace.
pub(crate) struct NsTable {
    map: BTreeMap<u32, Namespace>,
    next_id_seed: u64,
    /// Seed mixed into every identifier (config seed and serial number).
    pub device_seed: u64,
    /// NSIDs whose attributes changed since the Changed Namespace List was
    /// last read.
    pub changed: Vec<u32>,
}

fn device_seed(cfg: &SimConfig) -> u64 {
    cfg.serial.bytes().fold(mix(cfg.seed), |h, b| mix(h ^ u64::from(b)))
}

fn open_store(cfg: &SimConfig, nsid: u32, lba_size: u32, nlb: u64) -> Result<NamespaceStore, SimError> {
    match &cfg.storage {
        Some(storage) => Ok(NamespaceStore::open_file(&storage.namespace_path(nsid), lba_size, nlb)?),
        None => Ok(NamespaceStore::new_memory(lba_size, nlb, cfg.data_mode)),
    }
}

/// The store of a namespace created by Namespace Management: a file-backed
/// device creates a new image and never takes over an existing file.
fn new_store(cfg: &SimConfig, nsid: u32, lba_size: u32, nlb: u64) -> Result<NamespaceStore, SimError> {
    match &cfg.storage {
        Some(storage) => Ok(NamespaceStore::create_file(&storage.namespace_path(nsid), lba_size, nlb)?),
        None => Ok(NamespaceStore::new_memory(lba_size, nlb, cfg.data_mode)),
    }
}

impl NsTable {
    /// The namespaces of a new device.
    pub fn initial(cfg: &SimConfig) -> Result<NsTable, SimError> {
        let mut map = BTreeMap::new();
        for (i, ns) in cfg.namespaces.iter().enumerate() {
            let nsid = i as u32 + 1;
            let store = Arc::new(new_store(cfg, nsid, ns.lba_size, ns.nlb)?);
            map.insert(nsid, Namespace { nsid, store, attached: true, id_seed: u64::from(nsid) });
        }
        let next_id_seed = map.len() as u64 + 1;
        Ok(NsTable { map, next_id_seed, device_seed: device_seed(cfg), changed: Vec::new() })
    }

    /// The namespaces saved in `state`.
    pub fn restore(cfg: &SimConfig, state: &PersistedState) -> Result<NsTable, SimError> {
        let mut map = BTreeMap::new();
        for saved in &state.namespaces {
            if saved.nsid == 0 || saved.nsid > cfg.max_namespaces || !LBA_FORMATS.contains(&saved.lba_size) {
                continue;
            }
            let store = Arc::new(open_store(cfg, saved.nsid, saved.lba_size, saved.nlb)?);
            map.insert(
                saved.nsid,
                Namespace { nsid: saved.nsid, store, attached: saved.attached, id_seed: saved.id_seed },
            );
        }
        let next_id_seed = state.next_id_seed.max(map.values().map(|n| n.id_seed + 1).max().unwrap_or(1));
        Ok(NsTable { map, next_id_seed, device_seed: device_seed(cfg), changed: Vec::new() })
    }

    /// What `state.json` records.
    pub fn snapshot(&self) -> (Vec<SavedNamespace>, u64) {
        let list = self
            .map
            .values()
            .map(|n| SavedNamespace {
                nsid: n.nsid,
                nlb: n.nlb(),
                lba_size: n.lba_size(),
                attached: n.attached,
                id_seed: n.id_seed,
            })
            .collect();
        (list, self.next_id_seed)
    }

    /// Every allocated namespace, by NSID.
    pub fn all(&self) -> impl Iterator<Item = &Namespace> {
        self.map.values()
    }

    /// An allocated namespace.
    pub fn get(&self, nsid: u32) -> Option<&Namespace> {
        self.map.get(&nsid)
    }

    /// An active (allocated and attached) namespace.
    pub fn active(&self, nsid: u32) -> Option<&Namespace> {
        self.map.get(&nsid).filter(|n| n.attached)
    }

    /// The store of an active namespace.
    pub fn active_store(&self, nsid: u32) -> Option<Arc<NamespaceStore>> {
        self.active(nsid).map(|n| n.store.clone())
    }

    /// Bytes allocated to namespaces.
    pub fn used_bytes(&self) -> u128 {
        self.map.values().map(Namespace::bytes).sum()
    }

    fn note_changed(&mut self, nsid: u32) {
        if !self.changed.contains(&nsid) {
            self.changed.push(nsid);
        }
    }
}

/// The Identify Namespace structure for `ns` (or the capabilities common
/// to all namespaces when `ns` is `None`), with the device's Copy limits.
pub(crate) fn identify_namespace(
    ns: Option<&Namespace>,
    device_seed: u64,
    copy: CopyLimits,
) -> IdentifyNamespace {
    let mut id = IdentifyNamespace::zeroed();
    copy.fill(&mut id);
    id.nlbaf = (LBA_FORMATS.len() - 1) as u8;
    id.lbaf[0] = LbaFormat::new_format(9, 0, 1);
    id.lbaf[1] = LbaFormat::new_format(12, 0, 0);
    id.dlfeat = 0x01 | 0x08; // deallocated blocks read as zeros; Write Zeroes may deallocate
    if let Some(ns) = ns {
        id.nsze = ns.nlb();
        id.ncap = ns.nlb();
        id.nuse = ns.nlb();
        id.set_active_lba_format(ns.format_index());
        set_le_uint(&mut id.nvmcap, ns.bytes());
        id.nguid = ns.nguid(device_seed);
        id.eui64 = ns.eui64(device_seed);
    }
    id
}

fn changed(table: &RwLock<NsTable>, notify: &mut dyn FnMut(NsEvent), nsid: u32) {
    table.write().note_changed(nsid);
    notify(NsEvent::Changed(nsid));
}

/// The Changed Namespace List log page; without `retain` the list is
/// cleared.
pub(crate) fn changed_list(table: &RwLock<NsTable>, retain: bool) -> Vec<u8> {
    let mut table = table.write();
    let mut page = vec![0u8; 4096];
    if table.changed.len() > 1024 {
        page[..4].copy_from_slice(&u32::MAX.to_le_bytes());
    } else {
        let mut ids = table.changed.clone();
        ids.sort_unstable();
        for (i, id) in ids.iter().enumerate() {
            page[i * 4..i * 4 + 4].copy_from_slice(&id.to_le_bytes());
        }
    }
    if !retain {
        table.changed.clear();
    }
    page
}

/// The store of a namespace an I/O queue worker's current pass last
/// looked up.
///
/// A pass executes entries that were all submitted before it started, so
/// one look-up of the namespace table per namespace and pass serves them
/// all; the worker starts every pass with an empty cache, so a namespace
/// detached or deleted between passes is never used again and its store
/// is not kept alive by an idle worker.
#[derive(Default)]
pub(crate) struct NsCache {
    entry: Option<(u32, Option<Arc<NamespaceStore>>)>,
}

impl NsCache {
    /// The store of active namespace `nsid` in `table`, looked up once per pass.
    pub(crate) fn get(&mut self, table: &RwLock<NsTable>, nsid: u32) -> Option<&NamespaceStore> {
        match &self.entry {
            Some((cached, _)) if *cached == nsid => {}
            _ => self.entry = Some((nsid, table.read().active_store(nsid))),
        }
        self.entry.as_ref().and_then(|(_, store)| store.as_deref())
    }
}

/// Namespace Management (create, delete). `write_cache` is whether a new
/// namespace's volatile write cache is enabled.
pub(crate) fn management(
    host: &dyn AdminHost,
    table: &RwLock<NsTable>,
    write_cache: bool,
    notify: &mut dyn FnMut(NsEvent),
    cmd: &Command,
) -> AdminResult {
    let sel = NamespaceManagementCdw10::from(cmd.cdw10).sel();
    let csi = NamespaceManagementCdw11::from(cmd.cdw11).csi();
    match sel {
        0 => {
            if cmd.nsid != 0 || csi != 0 {
                return Err(Status::INVALID_FIELD_IN_COMMAND);
            }
            let data = host.read_host(cmd, 4096)?;
            create(host, table, write_cache, &data)
        }
        1 => delete(host, table, notify, cmd.nsid),
        _ => Err(Status::INVALID_FIELD_IN_COMMAND),
    }
}

fn create(host: &dyn AdminHost, table: &RwLock<NsTable>, write_cache: bool, data: &[u8]) -> AdminResult {
    let cfg = host.config();
    let u64_at = |at: usize| u64::from_le_bytes(data[at..at + 8].try_into().unwrap_or([0; 8]));
    let (nsze, ncap, fl, dps, nmic) = (u64_at(0), u64_at(8), data[26], data[29], data[30]);
    let index = flbas::format_index(fl);
    let Some(&lba_size) = LBA_FORMATS.get(index) else {
        return Err(Status::INVALID_FORMAT);
    };
    if dps != 0 {
        return Err(Status::INVALID_FORMAT);
    }
    if nsze == 0 || ncap > nsze || nmic & 1 != 0 {
        return Err(Status::INVALID_FIELD_IN_COMMAND);
    }
    if ncap < nsze {
        return Err(Status::THIN_PROVISIONING_NOT_SUPPORTED);
    }
    let mut table = table.write();
    let need = u128::from(nsze) * u128::from(lba_size);
    if table.used_bytes() + need > u128::from(cfg.total_capacity) {
        return Err(Status::NAMESPACE_INSUFFICIENT_CAPACITY);
    }
    let Some(nsid) = (1..=cfg.max_namespaces).find(|id| !table.map.contains_key(id)) else {
        return Err(Status::NAMESPACE_IDENTIFIER_UNAVAILABLE);
    };
    let store = new_store(cfg, nsid, lba_size, nsze).map_err(|e| {
        tracing::warn!(error = %e, "cannot create namespace media");
        Status::INTERNAL_ERROR
    })?;
    store.set_write_cache(write_cache);
    let id_seed = table.next_id_seed;
    table.next_id_seed += 1;
    table.map.insert(nsid, Namespace { nsid, store: Arc::new(store), attached: false, id_seed });
    drop(table);
    tracing::debug!(nsid, nsze, lba_size, "namespace created");
    host.persist();
    Ok(nsid)
}

fn delete(
    host: &dyn AdminHost,
    table: &RwLock<NsTable>,
    notify: &mut dyn FnMut(NsEvent),
    nsid: u32,
) -> AdminResult {
    let removed: Vec<Namespace> = {
        let mut table = table.write();
        if nsid == NSID_ALL {
            std::mem::take(&mut table.map).into_values().collect()
        } else {
            match table.map.remove(&nsid) {
                Some(ns) => vec![ns],
                None => return Err(Status::INVALID_NAMESPACE_OR_FORMAT),
            }
        }
    };
    for ns in removed {
        tracing::debug!(nsid = ns.nsid, "namespace deleted");
        notify(NsEvent::Removed(ns.nsid));
        if ns.attached {
            changed(table, notify, ns.nsid);
        }
        let path = ns.store.path().map(std::path::Path::to_path_buf);
        drop(ns);
        if let Some(path) = path {
            let _ = std::fs::remove_file(&path);
            let mut marks = path.into_os_string();
            marks.push(".marks");
            let _ = std::fs::remove_file(marks);
        }
    }
    host.persist();
    Ok(0)
}

/// Namespace Attachment (attach, detach).
pub(crate) fn attachment(
    host: &dyn AdminHost,
    table: &RwLock<NsTable>,
    notify: &mut dyn FnMut(NsEvent),
    cmd: &Command,
) -> AdminResult {
    let sel = NamespaceAttachmentCdw10::from(cmd.cdw10).sel();
    if sel > 1 {
        return Err(Status::INVALID_FIELD_IN_COMMAND);
    }
    if cmd.nsid == 0 || cmd.nsid == NSID_ALL {
        return Err(Status::INVALID_FIELD_IN_COMMAND);
    }
    if table.read().get(cmd.nsid).is_none() {
        return Err(Status::INVALID_NAMESPACE_OR_FORMAT);
    }
    let data = host.read_host(cmd, 4096)?;
    let count = usize::from(u16::from_le_bytes([data[0], data[1]]));
    let ids: Vec<u16> =
        (0..count.min(2047)).map(|i| u16::from_le_bytes([data[2 + 2 * i], data[3 + 2 * i]])).collect();
    if count == 0 || count > 2047 || ids.iter().any(|&id| id != CNTLID) {
        return Err(Status::CONTROLLER_LIST_INVALID);
    }
    let attach = sel == 0;
    {
        let mut table = table.write();
        let Some(ns) = table.map.get_mut(&cmd.nsid) else {
            return Err(Status::INVALID_NAMESPACE_OR_FORMAT);
        };
        match (attach, ns.attached) {
            (true, true) => return Err(Status::NAMESPACE_ALREADY_ATTACHED),
            (false, false) => return Err(Status::NAMESPACE_NOT_ATTACHED),
            _ => ns.attached = attach,
        }
    }
    tracing::debug!(nsid = cmd.nsid, attach, "namespace attachment changed");
    if !attach {
        notify(NsEvent::Removed(cmd.nsid));
    }
    changed(table, notify, cmd.nsid);
    host.persist();
    Ok(0)
}
