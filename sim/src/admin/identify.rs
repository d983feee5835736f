//! Identify: controller, namespaces, namespace lists and descriptors.
//!
//! CNS 00h (namespace; a valid but inactive NSID returns zeros, FFFFFFFFh
//! returns the capabilities common to all namespaces), 01h (controller),
//! 02h (active namespace list), 03h (namespace identification
//! descriptors: EUI64, NGUID, UUID, CSI), 10h (allocated namespace list),
//! 11h (namespace data for an allocated NSID), 12h (controllers attached
//! to a namespace) and 13h (controllers in the subsystem). Any other CNS
//! fails with invalid_field_in_command.
//!
//! Identify owns no state: it reads the namespace table and the firmware
//! slots it is given.

use super::async_events::AERL;
use super::common::{AdminResult, CNTLID, NSID_ALL};
use super::host::AdminHost;
use super::logs::ELPE;
use super::namespaces::{NsTable, identify_namespace};
use crate::config::SimConfig;
use crate::firmware::FirmwareSlots;
use crate::health::{CCTEMP, WCTEMP};
use nvmeplan_spec::dwords::IdentifyCdw10;
use nvmeplan_spec::identify::{
    IdentifyController, NamespaceList, cns, encode_ns_descriptors, fna, frmw, lpa, nidt, oacs, oaes, oncs,
    sanicap, set_le_uint, vwc,
};
use nvmeplan_spec::{Command, Status};
use parking_lot::{Mutex, RwLock};
use zerocopy::IntoBytes;

/// The Identify Controller data.
pub(crate) fn controller_data(
    cfg: &SimConfig,
    namespaces: &RwLock<NsTable>,
    firmware: &Mutex<FirmwareSlots>,
) -> IdentifyController {
    let mut id = IdentifyController::zeroed();
    id.vid = cfg.vid;
    id.ssvid = cfg.ssvid;
    id.set_serial(&cfg.serial);
    id.set_model(&cfg.model);
    id.set_firmware_revision(firmware.lock().active_revision());
    id.rab = 6;
    id.ieee = [0x38, 0x25, 0x00];
    id.mdts = cfg.mdts;
    id.cntlid = CNTLID;
    id.ver = 0x0002_0000;
    id.oaes = oaes::NAMESPACE_ATTRIBUTE_NOTICES;
    id.cntrltype = 1;
    id.oacs = oacs::FORMAT_NVM | oacs::FIRMWARE | oacs::NS_MANAGEMENT | oacs::SELF_TEST;
    id.acl = 3;
    id.aerl = AERL;
    id.frmw = frmw::encode(false, cfg.firmware_slots, false);
    id.lpa = lpa::COMMANDS_EFFECTS | lpa::EXTENDED_DATA;
    id.elpe = ELPE;
    id.npss = 0;
    id.wctemp = WCTEMP;
    id.cctemp = CCTEMP;
    id.edstt = cfg.self_test_extended.as_secs().div_ceil(60).max(1) as u16;
    id.dsto = 1;
    id.fwug = 0xFF;
    id.sanicap = sanicap::CRYPTO_ERASE | sanicap::BLOCK_ERASE | sanicap::OVERWRITE;
    let used = namespaces.read().used_bytes();
    set_le_uint(&mut id.tnvmcap, cfg.total_capacity.into());
    set_le_uint(&mut id.unvmcap, u128::from(cfg.total_capacity).saturating_sub(used));
    id.sqes = 0x66;
    id.cqes = 0x44;
    id.maxcmd = cfg.mqes.saturating_add(1);
    id.nn = cfg.max_namespaces;
    id.oncs = oncs::COMPARE
        | oncs::WRITE_UNCORRECTABLE
        | oncs::DSM
        | oncs::WRITE_ZEROES
        | oncs::SAVE_SELECT
        | oncs::VERIFY
        | oncs::COPY;
    id.cdfs = crate::io::copy::SUPPORTED_FORMATS;
    id.fna = fna::CRYPTO_ERASE_SUPPORTED;
    id.vwc = if cfg.volatile_write_cache { vwc::PRESENT | vwc::FLUSH_BROADCAST_SUPPORTED } else { 0 };
    id.mnan = 0;
    id.set_subsystem_nqn(&format!("nqn.2024-01.invalid.nvmeplan:sim:{}", cfg.serial));
    id.psd[0].mp = 2500;
    id
}

fn list_after(ids: impl Iterator<Item = u32>, after: u32) -> NamespaceList {
    NamespaceList::from_ids(ids.filter(|&id| id > after))
}

fn controller_list(ids: &[u16]) -> [u8; 4096] {
    let mut out = [0u8; 4096];
    out[..2].copy_from_slice(&(ids.len() as u16).to_le_bytes());
    for (i, id) in ids.iter().enumerate() {
        out[2 + 2 * i..4 + 2 * i].copy_from_slice(&id.to_le_bytes());
    }
    out
}

/// Identify.
pub(crate) fn identify(
    host: &dyn AdminHost,
    namespaces: &RwLock<NsTable>,
    firmware: &Mutex<FirmwareSlots>,
    cmd: &Command,
) -> AdminResult {
    let cfg = host.config();
    let cdw10 = IdentifyCdw10::from(cmd.cdw10);
    let (cns, cntid) = (cdw10.cns(), cdw10.cntid());
    let nsid = cmd.nsid;
    let valid_nsid = nsid != 0 && nsid <= cfg.max_namespaces;
    let table = namespaces.read();
    let seed = table.device_seed;
    let data: Vec<u8> = match cns {
        cns::NAMESPACE => {
            if nsid == NSID_ALL {
                identify_namespace(None, seed, cfg.copy_limits).as_bytes().to_vec()
            } else if !valid_nsid {
                return Err(Status::INVALID_NAMESPACE_OR_FORMAT);
            } else {
                match table.active(nsid) {
                    Some(ns) => identify_namespace(Some(ns), seed, cfg.copy_limits).as_bytes().to_vec(),
                    None => vec![0; 4096],
                }
            }
        }
        cns::CONTROLLER => {
            drop(table);
            return host.write_host(cmd, controller_data(cfg, namespaces, firmware).as_bytes()).map(|()| 0);
        }
        cns::ACTIVE_NAMESPACE_LIST | cns::ALLOCATED_NAMESPACE_LIST => {
            if nsid >= 0xFFFF_FFFE {
                return Err(Status::INVALID_NAMESPACE_OR_FORMAT);
            }
            let active = cns == cns::ACTIVE_NAMESPACE_LIST;
            let ids = table.all().filter(|n| !active || n.attached).map(|n| n.nsid);
            list_after(ids, nsid).as_bytes().to_vec()
        }
        cns::NAMESPACE_DESCRIPTORS => {
            let Some(ns) = table.active(nsid) else {
                return Err(Status::INVALID_NAMESPACE_OR_FORMAT);
            };
            let (eui, nguid, uuid) = (ns.eui64(seed), ns.nguid(seed), ns.uuid(seed));
            encode_ns_descriptors(&[
                (nidt::EUI64, &eui),
                (nidt::NGUID, &nguid),
                (nidt::UUID, &uuid),
                (nidt::CSI, &[0]),
            ])
            .to_vec()
        }
        cns::ALLOCATED_NAMESPACE => {
            if !valid_nsid {
                return Err(Status::INVALID_NAMESPACE_OR_FORMAT);
            }
            match table.get(nsid) {
                Some(ns) => identify_namespace(Some(ns), seed, cfg.copy_limits).as_bytes().to_vec(),
                None => vec![0; 4096],
            }
        }
        cns::ATTACHED_CONTROLLER_LIST => {
            if !valid_nsid {
                return Err(Status::INVALID_NAMESPACE_OR_FORMAT);
            }
            let attached = table.get(nsid).is_some_and(|n| n.attached) && CNTLID >= cntid;
            controller_list(if attached { &[CNTLID] } else { &[] }).to_vec()
        }
        cns::CONTROLLER_LIST => controller_list(if CNTLID >= cntid { &[CNTLID] } else { &[] }).to_vec(),
        _ => return Err(Status::INVALID_FIELD_IN_COMMAND),
    };
    drop(table);
    host.write_host(cmd, &data).map(|()| 0)
}
