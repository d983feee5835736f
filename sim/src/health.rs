//! SMART / health counters and the persisted device state.
//!
//! This module owns the lifetime counters of the SMART / Health log that
//! are not I/O counters (power cycles, power-on time, unsafe shutdowns,
//! error log entries) and the `state.json` file that makes a file-backed
//! device (`SimConfig::storage`) come back after a restart with its
//! namespaces, firmware slots and every counter, I/O counters included.

use crate::config::Storage;
use crate::firmware::FirmwareSlots;
use crate::io::IoCounters;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Composite temperature the simulated device reports, in Kelvin (40 °C).
pub const COMPOSITE_TEMPERATURE: u16 = 313;
/// Warning composite temperature threshold (WCTEMP), in Kelvin (70 °C).
pub const WCTEMP: u16 = 343;
/// Critical composite temperature threshold (CCTEMP), in Kelvin (80 °C).
pub const CCTEMP: u16 = 353;

/// Lifetime counters other than the I/O counters.
pub(crate) struct Health {
    /// Power cycles, including the first power-on.
    pub power_cycles: AtomicU64,
    /// Unsafe shutdowns.
    pub unsafe_shutdowns: AtomicU64,
    /// Error Information log entries ever created.
    pub error_entries: AtomicU64,
    /// Power-on seconds accumulated before `powered_since`.
    power_on_base: AtomicU64,
    powered_since: Mutex<Instant>,
}

impl Health {
    /// Counters for a device powered on now, continuing from `saved`.
    pub fn new(saved: &Counters) -> Self {
        Health {
            power_cycles: AtomicU64::new(saved.power_cycles),
            unsafe_shutdowns: AtomicU64::new(saved.unsafe_shutdowns),
            error_entries: AtomicU64::new(saved.error_entries),
            power_on_base: AtomicU64::new(saved.power_on_seconds),
            powered_since: Mutex::new(Instant::now()),
        }
    }

    /// Total power-on time in seconds.
    pub fn power_on_seconds(&self) -> u64 {
        self.power_on_base.load(Ordering::Relaxed) + self.powered_since.lock().elapsed().as_secs()
    }

    /// Power-on hours for the SMART log and self-test results.
    pub fn power_on_hours(&self) -> u64 {
        self.power_on_seconds() / 3600
    }

    /// Records a power cycle: the time powered so far is banked.
    pub fn power_cycled(&self, unsafe_shutdown: bool) {
        let mut since = self.powered_since.lock();
        self.power_on_base.fetch_add(since.elapsed().as_secs(), Ordering::Relaxed);
        *since = Instant::now();
        self.power_cycles.fetch_add(1, Ordering::Relaxed);
        if unsafe_shutdown {
            self.unsafe_shutdowns.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A snapshot of every counter, for `state.json`.
    pub fn snapshot(&self, io: &IoCounters) -> Counters {
        Counters {
            power_cycles: self.power_cycles.load(Ordering::Relaxed),
            unsafe_shutdowns: self.unsafe_shutdowns.load(Ordering::Relaxed),
            error_entries: self.error_entries.load(Ordering::Relaxed),
            power_on_seconds: self.power_on_seconds(),
            bytes_read: io.bytes_read.load(Ordering::Relaxed),
            bytes_written: io.bytes_written.load(Ordering::Relaxed),
            read_commands: io.read_commands.load(Ordering::Relaxed),
            write_commands: io.write_commands.load(Ordering::Relaxed),
            media_errors: io.media_errors.load(Ordering::Relaxed),
        }
    }
}

/// SMART data units (1000 x 512 bytes, rounded up) for a byte count.
pub fn data_units(bytes: u64) -> u128 {
    u128::from(bytes).div_ceil(512 * 1000)
}

/// Every lifetime counter, as persisted.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Counters {
    /// Power cycles.
    pub power_cycles: u64,
    /// Unsafe shutdowns.
    pub unsafe_shutdowns: u64,
    /// Error Information log entries ever created.
    pub error_entries: u64,
    /// Power-on time in seconds.
    pub power_on_seconds: u64,
    /// Bytes read by host commands.
    pub bytes_read: u64,
    /// Bytes written by host commands.
    pub bytes_written: u64,
    /// Host read commands.
    pub read_commands: u64,
    /// Host write commands.
    pub write_commands: u64,
    /// Media and data integrity errors.
    pub media_errors: u64,
}

impl Counters {
    /// Loads the I/O part of the counters into `io`.
    pub fn restore_io(&self, io: &IoCounters) {
        io.bytes_read.store(self.bytes_read, Ordering::Relaxed);
        io.bytes_written.store(self.bytes_written, Ordering::Relaxed);
        io.read_commands.store(self.read_commands, Ordering::Relaxed);
        io.write_commands.store(self.write_commands, Ordering::Relaxed);
        io.media_errors.store(self.media_errors, Ordering::Relaxed);
    }
}

/// One allocated namespace, as persisted.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SavedNamespace {
    /// Namespace identifier.
    pub nsid: u32,
    /// Size in logical blocks.
    pub nlb: u64,
    /// Logical block size in bytes.
    pub lba_size: u32,
    /// Whether it is attached to the controller.
    pub attached: bool,
    /// Seed of its EUI64 / NGUID / UUID.
    pub id_seed: u64,
}

/// The contents of `state.json`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct PersistedState {
    /// Format version of this file.
    pub version: u32,
    /// Lifetime counters.
    pub counters: Counters,
    /// Firmware slots.
    pub firmware: FirmwareSlots,
    /// Allocated namespaces.
    pub namespaces: Vec<SavedNamespace>,
    /// Next identifier seed for a created namespace.
    pub next_id_seed: u64,
    /// Whether the device was last powered off after a completed shutdown
    /// (or is running: the running device writes `false`).
    pub clean_power_off: bool,
}

/// Current `state.json` format version.
pub const STATE_VERSION: u32 = 1;

/// The largest `state.json` read.
const MAX_STATE_BYTES: u64 = 16 << 20;

/// Loads the persisted state of `storage`; `Ok(None)` when there is none yet.
/// A state path that is not a regular file, is too large or does not parse
/// as a simulator state is an error naming it.
pub fn load_state(storage: &Storage) -> Result<Option<PersistedState>, crate::SimError> {
    let path = storage.state_path();
    match std::fs::symlink_metadata(&path) {
        Ok(meta) if !meta.file_type().is_file() => {
            return Err(crate::SimError::State { path, reason: "not a regular file".into() });
        }
        Ok(meta) if meta.len() > MAX_STATE_BYTES => {
            return Err(crate::SimError::State {
                path,
                reason: format!("{} bytes is larger than a state file can be", meta.len()),
            });
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(crate::SimError::Io { path, source: e }),
    }
    let text =
        std::fs::read_to_string(&path).map_err(|e| crate::SimError::Io { path: path.clone(), source: e })?;
    let state: PersistedState = serde_json::from_str(&text).map_err(|e| crate::SimError::State {
        path: path.clone(),
        reason: format!("not an nvmeplan simulator state file: {e}"),
    })?;
    if state.version != STATE_VERSION {
        return Err(crate::SimError::State {
            path,
            reason: format!("unsupported state version {}", state.version),
        });
    }
    Ok(Some(state))
}

/// Writes `state` for `storage` atomically and durably (a synced temporary
/// file renamed over the old one, then the directory synced).
pub fn save_state(storage: &Storage, state: &PersistedState) -> Result<(), crate::SimError> {
    let path = storage.state_path();
    let text = serde_json::to_string_pretty(state)
        .map_err(|e| crate::SimError::State { path: path.clone(), reason: e.to_string() })?;
    crate::durable::replace_file(&path, text.as_bytes())
        .map_err(|e| crate::SimError::Io { path: e.path, source: e.source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_units_round_up() {
        assert_eq!(data_units(0), 0);
        assert_eq!(data_units(1), 1);
        assert_eq!(data_units(512_000), 1);
        assert_eq!(data_units(512_001), 2);
    }

    #[test]
    fn state_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::Dir(dir.path().to_path_buf());
        assert!(load_state(&storage).unwrap().is_none());
        let state = PersistedState {
            version: STATE_VERSION,
            counters: Counters { power_cycles: 3, bytes_written: 4096, ..Default::default() },
            firmware: FirmwareSlots::new(3, "1.0"),
            namespaces: vec![SavedNamespace { nsid: 1, nlb: 8, lba_size: 512, attached: true, id_seed: 1 }],
            next_id_seed: 2,
            clean_power_off: true,
        };
        crate::durable::take_events();
        save_state(&storage, &state).unwrap();
        let state_path = storage.state_path();
        let mut tmp = state_path.clone().into_os_string();
        tmp.push(".tmp");
        assert_eq!(
            crate::durable::take_events(),
            vec![
                crate::durable::Event::SyncFile(tmp.into()),
                crate::durable::Event::Rename(state_path),
                crate::durable::Event::SyncDir(dir.path().to_path_buf()),
            ],
            "state.json is synced before its rename, and the directory after it"
        );
        assert_eq!(load_state(&storage).unwrap(), Some(state));
        std::fs::write(storage.state_path(), "{").unwrap();
        let err = load_state(&storage).unwrap_err().to_string();
        assert!(err.contains("state.json") && err.contains("not an nvmeplan simulator state"), "{err}");
        std::fs::remove_file(storage.state_path()).unwrap();
        std::fs::create_dir(storage.state_path()).unwrap();
        let err = load_state(&storage).unwrap_err().to_string();
        assert!(err.contains("not a regular file"), "{err}");
    }

    #[test]
    fn power_cycles_bank_time() {
        let h = Health::new(&Counters { power_cycles: 1, ..Default::default() });
        h.power_cycled(true);
        h.power_cycled(false);
        let s = h.snapshot(&IoCounters::default());
        assert_eq!((s.power_cycles, s.unsafe_shutdowns), (3, 1));
    }
}
