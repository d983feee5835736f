//! Verify state kept beside a file-backed simulator's image (`sim:file=`,
//! `sim:dir=`), so that a later run's `verify: true` checks what an earlier
//! run wrote.
//!
//! [`persist`] runs at the end of a run while the controller still answers:
//! it flushes every namespace that has a verify map (the state must only
//! describe data that is durable), reads the SMART / Health log's Host
//! Write Commands and Data Units Written, and writes every namespace's
//! [`VerifyMap`] with those counters and the namespace geometry to
//! [`state_path`] atomically (temporary file, fsync, rename, fsync of the
//! directory). [`load`] runs when a run opens the same image set: it takes
//! the file away first, so a run that dies before saving leaves no state
//! behind, then keeps the maps only when the counters read now equal the
//! saved ones (no write happened in between that the state does not know
//! of) and each namespace still has the saved geometry. Anything else
//! discards the state with a warning: those blocks count as unchecked,
//! never as falsely passing or failing.
//!
//! The file (little endian): magic `NVPVSTAT` and version 1; Host Write
//! Commands and Data Units Written as `u128`; the namespace count (`u32`);
//! per namespace its NSID (`u32`), LBA size and block count (`u64` each),
//! the length of its map (`u64`) and the map ([`VerifyMap::to_bytes`]);
//! a CRC32 of everything before it.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use nvmeplan_driver::{Controller, VerifyMap};
use nvmeplan_sim::Storage;
use nvmeplan_spec::log::SmartHealthLog;
use zerocopy::FromBytes;

use super::context::RunContext;

const MAGIC: &[u8; 8] = b"NVPVSTAT";
const VERSION: u32 = 1;
/// The SMART / Health Information log page.
const SMART_LID: u8 = 0x02;
/// Timeout of the flush and log page commands at the end of a run.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the verify state of `storage` lives: beside its `state.json`
/// (`<dir>/state.verify`, `<image>.state.verify`).
pub fn state_path(storage: &Storage) -> PathBuf {
    let state = storage.state_path();
    let name = state.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let stem = name.strip_suffix(".json").unwrap_or(&name);
    state.with_file_name(format!("{stem}.verify"))
}

/// The device counters that identify the data state a saved map belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DeviceMark {
    host_write_commands: u128,
    data_units_written: u128,
}

fn device_mark(ctrl: &Controller) -> Result<DeviceMark, String> {
    let page = ctrl
        .get_log_page(SMART_LID, 0xFFFF_FFFF, size_of::<SmartHealthLog>(), 0)
        .map_err(|e| format!("cannot read the SMART / Health log: {e}"))?;
    let log = SmartHealthLog::read_from_bytes(&page)
        .map_err(|_| "the SMART / Health log is too short".to_string())?;
    Ok(DeviceMark {
        host_write_commands: log.host_write_commands(),
        data_units_written: log.data_units_written(),
    })
}

/// One namespace's saved state.
#[derive(Debug)]
struct SavedNamespace {
    nsid: u32,
    lba_size: u64,
    nlb: u64,
    map: Vec<u8>,
}

fn encode(mark: DeviceMark, namespaces: &[SavedNamespace]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&mark.host_write_commands.to_le_bytes());
    out.extend_from_slice(&mark.data_units_written.to_le_bytes());
    out.extend_from_slice(&(namespaces.len() as u32).to_le_bytes());
    for ns in namespaces {
        out.extend_from_slice(&ns.nsid.to_le_bytes());
        out.extend_from_slice(&ns.lba_size.to_le_bytes());
        out.extend_from_slice(&ns.nlb.to_le_bytes());
        out.extend_from_slice(&(ns.map.len() as u64).to_le_bytes());
        out.extend_from_slice(&ns.map);
    }
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

fn take<'a>(data: &mut &'a [u8], n: usize) -> Result<&'a [u8], String> {
    if data.len() < n {
        return Err("it is truncated".into());
    }
    let (head, rest) = data.split_at(n);
    *data = rest;
    Ok(head)
}

fn int<const N: usize>(data: &mut &[u8]) -> Result<[u8; N], String> {
    Ok(take(data, N)?.try_into().expect("N bytes"))
}

fn decode(bytes: &[u8]) -> Result<(DeviceMark, Vec<SavedNamespace>), String> {
    if bytes.len() < MAGIC.len() + 8 || &bytes[..8] != MAGIC {
        return Err("it is not a verify state file".into());
    }
    let (body, crc) = bytes.split_at(bytes.len() - 4);
    if crc32fast::hash(body) != u32::from_le_bytes(crc.try_into().expect("4 bytes")) {
        return Err("it is damaged (checksum mismatch)".into());
    }
    let mut data = &body[8..];
    let version = u32::from_le_bytes(int(&mut data)?);
    if version != VERSION {
        return Err(format!("its version {version} is not {VERSION}"));
    }
    let mark = DeviceMark {
        host_write_commands: u128::from_le_bytes(int(&mut data)?),
        data_units_written: u128::from_le_bytes(int(&mut data)?),
    };
    let count = u32::from_le_bytes(int(&mut data)?);
    let mut namespaces = Vec::new();
    for _ in 0..count {
        let nsid = u32::from_le_bytes(int(&mut data)?);
        let lba_size = u64::from_le_bytes(int(&mut data)?);
        let nlb = u64::from_le_bytes(int(&mut data)?);
        let len = usize::try_from(u64::from_le_bytes(int(&mut data)?)).map_err(|_| "a map is too long")?;
        let map = take(&mut data, len)?.to_vec();
        namespaces.push(SavedNamespace { nsid, lba_size, nlb, map });
    }
    if !data.is_empty() {
        return Err("it has trailing bytes".into());
    }
    Ok((mark, namespaces))
}

/// Writes `bytes` to `path` atomically and durably: a temporary file in the
/// same directory, fsync, rename, fsync of the directory.
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)?;
        sync_dir(path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Fsyncs the directory holding `path`, so a rename or removal in it lasts.
fn sync_dir(path: &Path) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::File::open(dir)?.sync_all()
}

fn storage(ctx: &RunContext) -> Option<Storage> {
    ctx.sim.as_ref().and_then(|sim| sim.storage().cloned())
}

/// Loads the verify state saved beside the image into `ctx`'s verify maps
/// (see the module docs); returns warnings for the report and console.
/// Does nothing for devices that are not file-backed simulators.
pub fn load(ctx: &mut RunContext) -> Vec<String> {
    let Some(storage) = storage(ctx) else { return Vec::new() };
    let path = state_path(&storage);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => return vec![format!("verify state `{}` discarded: cannot read it: {e}", path.display())],
    };
    // Taken away before use: a run that ends without saving must not leave
    // state that no longer describes the media.
    if let Err(e) = std::fs::remove_file(&path).and_then(|()| sync_dir(&path)) {
        return vec![format!(
            "verify state `{}` discarded: cannot remove it while in use: {e}",
            path.display()
        )];
    }
    let discarded = |why: String| {
        vec![format!(
            "verify state `{}` discarded: {why}; blocks written before this run count as unchecked",
            path.display()
        )]
    };
    let (saved, namespaces) = match decode(&bytes) {
        Ok(state) => state,
        Err(why) => return discarded(why),
    };
    let now = match device_mark(&ctx.ctrl) {
        Ok(mark) => mark,
        Err(why) => return discarded(why),
    };
    if now != saved {
        return discarded(format!(
            "the device was written since it was saved (host write commands {} then, {} now; data units \
             written {} then, {} now)",
            saved.host_write_commands,
            now.host_write_commands,
            saved.data_units_written,
            now.data_units_written
        ));
    }
    let mut warnings = Vec::new();
    for ns in namespaces {
        let geometry = ctx.ctrl.namespace(ns.nsid).ok().map(|n| (n.lba_size, n.nsze));
        if geometry != Some((ns.lba_size, ns.nlb)) {
            warnings.push(format!(
                "verify state of namespace {} discarded: it was saved for {} blocks of {} bytes, the namespace \
                 is {}",
                ns.nsid,
                ns.nlb,
                ns.lba_size,
                geometry.map_or("not active".to_string(), |(size, nlb)| format!("{nlb} blocks of {size} bytes"))
            ));
            continue;
        }
        match VerifyMap::from_bytes(&ns.map) {
            Ok(map) => ctx.set_verify_map(ns.nsid, Arc::new(map)),
            Err(e) => warnings.push(format!("verify state of namespace {} discarded: {e}", ns.nsid)),
        }
    }
    tracing::info!(path = %path.display(), "verify state loaded");
    warnings
}

/// Saves every namespace's verify map beside the image (see the module
/// docs). Runs at the end of a run, while the controller still answers
/// commands (before an orderly shutdown). Returns a warning when the state
/// could not be saved; the next run then counts these blocks as unchecked.
pub fn persist(ctx: &mut RunContext) -> Option<String> {
    let storage = storage(ctx)?;
    let path = state_path(&storage);
    let result = (|| {
        let maps = ctx.verify_entries();
        let mut namespaces = Vec::with_capacity(maps.len());
        for (nsid, map) in maps {
            let Ok(ns) = ctx.ctrl.namespace(nsid) else { continue };
            let qp = ctx.io_queue(None, nsid, COMMAND_TIMEOUT).map_err(|e| format!("no I/O queue: {e}"))?;
            let cqe = qp.flush(nsid).map_err(|e| format!("flush of namespace {nsid} failed: {e}"))?;
            if !cqe.status().is_success() {
                return Err(format!("flush of namespace {nsid} failed: {}", cqe.status()));
            }
            namespaces.push(SavedNamespace {
                nsid,
                lba_size: ns.lba_size,
                nlb: ns.nsze,
                map: map.to_bytes(),
            });
        }
        let mark = device_mark(&ctx.ctrl)?;
        write_atomic(&path, &encode(mark, &namespaces)).map_err(|e| e.to_string())
    })();
    match result {
        Ok(()) => {
            tracing::info!(path = %path.display(), "verify state saved");
            None
        }
        Err(why) => {
            // No state is better than state that may not match the media.
            let _ = std::fs::remove_file(&path);
            tracing::warn!(path = %path.display(), "verify state not saved: {why}");
            Some(format!("verify state `{}` not saved: {why}", path.display()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_round_trips_and_damage_is_refused() {
        let mark = DeviceMark { host_write_commands: 7, data_units_written: u128::MAX - 1 };
        let map = VerifyMap::new();
        map.mark_zeroes(3, 4);
        let ns = SavedNamespace { nsid: 2, lba_size: 4096, nlb: 1 << 20, map: map.to_bytes() };
        let bytes = encode(mark, &[ns]);
        let (back, namespaces) = decode(&bytes).unwrap();
        assert_eq!(back, mark);
        assert_eq!((namespaces[0].nsid, namespaces[0].lba_size, namespaces[0].nlb), (2, 4096, 1 << 20));
        let map = VerifyMap::from_bytes(&namespaces[0].map).unwrap();
        assert_eq!(map.expect(5), nvmeplan_driver::Expectation::Zeroes);
        assert!(decode(&bytes[..bytes.len() - 2]).unwrap_err().contains("damaged"));
        assert!(decode(b"{}").unwrap_err().contains("not a verify state"));
        let mut flipped = bytes.clone();
        flipped[20] ^= 1;
        assert!(decode(&flipped).is_err());
    }

    #[test]
    fn the_file_sits_beside_the_state() {
        assert_eq!(state_path(&Storage::Dir("/x/img".into())), PathBuf::from("/x/img/state.verify"));
        assert_eq!(
            state_path(&Storage::File("/x/disk.img".into())),
            PathBuf::from("/x/disk.img.state.verify")
        );
    }
}
