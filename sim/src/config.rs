//! Simulator configuration: [`SimConfig`] and its `key=value,...` syntax.
//!
//! This module owns everything a user can choose about a simulated device
//! before it powers on: namespaces, queue limits, identity strings, the
//! latency model, the data mode and where (if anywhere) state persists. The
//! device URI parameter list (`sim:capacity=16T,lba=4096,latency=50us`) is
//! parsed by [`SimConfig::from_params`]; sizes take binary units (`512M`,
//! `1G`, `16T`, `4096B` or a bare number of bytes) and durations are read by
//! [`nvmeplan_spec::duration::parse_duration`], which requires a unit.

use crate::io::CopyLimits;
use crate::storage::DataMode;
use nvmeplan_spec::duration::parse_duration;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One namespace the device has at first power-on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NamespaceConfig {
    /// Size in logical blocks.
    pub nlb: u64,
    /// Logical block size in bytes (512 or 4096).
    pub lba_size: u32,
}

/// How long commands take between fetch and completion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LatencyModel {
    /// Complete as soon as the command has executed.
    #[default]
    None,
    /// Every command, admin or I/O, takes the same time.
    Fixed(Duration),
    /// A latency per command class.
    PerOpcode {
        /// NVM Read (and Compare, Verify).
        read: Duration,
        /// NVM Write (and Write Zeroes, Write Uncorrectable).
        write: Duration,
        /// NVM Flush.
        flush: Duration,
        /// Any other I/O command (Dataset Management, unknown opcodes).
        other: Duration,
        /// Every admin command.
        admin: Duration,
    },
}

impl LatencyModel {
    /// The latency of an I/O command with `opcode` (`admin == false`) or of
    /// any admin command (`admin == true`).
    pub fn latency(&self, admin: bool, opcode: u8) -> Duration {
        match *self {
            LatencyModel::None => Duration::ZERO,
            LatencyModel::Fixed(d) => d,
            LatencyModel::PerOpcode { read, write, flush, other, admin: admin_latency } => {
                if admin {
                    return admin_latency;
                }
                match opcode {
                    0x00 => flush,
                    0x02 | 0x05 | 0x0C => read,
                    0x01 | 0x04 | 0x08 => write,
                    _ => other,
                }
            }
        }
    }

    /// Whether every latency is zero.
    pub fn is_zero(&self) -> bool {
        match *self {
            LatencyModel::None => true,
            LatencyModel::Fixed(d) => d.is_zero(),
            LatencyModel::PerOpcode { read, write, flush, other, admin } => {
                [read, write, flush, other, admin].iter().all(Duration::is_zero)
            }
        }
    }
}

/// Everything that defines a simulated device.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Namespaces present at first power-on (NSIDs 1, 2, ... in order).
    /// A file-backed device whose image set already holds a saved layout
    /// uses that layout; with `explicit_layout` the two must be the same.
    pub namespaces: Vec<NamespaceConfig>,
    /// Identify Controller NN: the largest NSID (namespace management limit).
    pub max_namespaces: u32,
    /// Total NVM capacity in bytes (TNVMCAP), shared by all namespaces.
    pub total_capacity: u64,
    /// CAP.MQES: maximum queue entries, zero-based.
    pub mqes: u16,
    /// Maximum number of I/O submission (and completion) queues.
    pub max_io_queues: u16,
    /// Identify Controller MDTS (power of two in 4 KiB units; 0 = no limit).
    pub mdts: u8,
    /// MSI-X vectors the function advertises.
    pub msix_vectors: u16,
    /// Serial number (Identify SN, up to 20 characters).
    pub serial: String,
    /// Model number (Identify MN, up to 40 characters).
    pub model: String,
    /// Firmware revision in slot 1 at first power-on (up to 8 characters).
    pub firmware: String,
    /// PCI vendor id and Identify VID.
    pub vid: u16,
    /// PCI device id.
    pub device_id: u16,
    /// PCI subsystem vendor id and Identify SSVID.
    pub ssvid: u16,
    /// How long commands take.
    pub latency: LatencyModel,
    /// What reads return for data that was written (see [`DataMode`]).
    pub data_mode: DataMode,
    /// Time from CC.EN=1 to CSTS.RDY=1 (must be at most `cap_to` x 500 ms).
    pub ready_delay: Duration,
    /// CAP.TO in 500 ms units.
    pub cap_to: u8,
    /// CAP.DSTRD: doorbells are `4 << dstrd` bytes apart.
    pub dstrd: u8,
    /// CAP.NSSRS: whether NVM subsystem reset is supported.
    pub nssr_supported: bool,
    /// Whether a volatile write cache is present (Identify VWC).
    pub volatile_write_cache: bool,
    /// Number of firmware slots (1 to 7); slot 1 is writable.
    pub firmware_slots: u8,
    /// Duration of a short device self-test.
    pub self_test_short: Duration,
    /// Duration of an extended device self-test.
    pub self_test_extended: Duration,
    /// Duration of a sanitize operation.
    pub sanitize_duration: Duration,
    /// Where namespace images, counters and firmware slots persist; `None`
    /// keeps everything in memory.
    pub storage: Option<Storage>,
    /// Whether a file-backed device may create its image set or must open
    /// an existing one (the `create` key).
    pub create: CreateMode,
    /// Whether `namespaces` was chosen explicitly (the `capacity`, `nssize`,
    /// `lba` or `namespaces` key): a file-backed device then refuses an
    /// image set whose stored namespaces differ, instead of using the
    /// stored layout.
    pub explicit_layout: bool,
    /// Seed for identifiers (EUI64, NGUID, UUID) and anything random.
    pub seed: u64,
    /// The Copy limits every namespace reports and enforces (the `mssrl`,
    /// `mcl` and `msrc` keys, as Identify Namespace encodes them).
    pub copy_limits: CopyLimits,
}

/// Whether opening a file-backed device may create its image set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CreateMode {
    /// Open the image set when it exists, create it where nothing exists
    /// (`create=auto`, the default).
    #[default]
    Auto,
    /// Create a new image set; refuse when one exists (`create=yes`).
    New,
    /// Open an existing image set; refuse when there is none (`create=no`).
    Existing,
}

/// Where a file-backed simulator keeps its media and state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Storage {
    /// A directory holding `ns<N>.img` per namespace and `state.json`.
    Dir(PathBuf),
    /// One image file for namespace 1; further namespaces sit beside it as
    /// `<file>.ns<N>` and the counters as `<file>.state.json`.
    File(PathBuf),
}

impl Storage {
    /// Path of namespace `nsid`'s image.
    pub fn namespace_path(&self, nsid: u32) -> PathBuf {
        match self {
            Storage::Dir(dir) => dir.join(format!("ns{nsid}.img")),
            Storage::File(file) if nsid == 1 => file.clone(),
            Storage::File(file) => suffixed(file, &format!(".ns{nsid}")),
        }
    }

    /// Path of the persisted state (counters, firmware slots, namespaces).
    pub fn state_path(&self) -> PathBuf {
        match self {
            Storage::Dir(dir) => dir.join("state.json"),
            Storage::File(file) => suffixed(file, ".state.json"),
        }
    }

    /// Path of the lock file that marks the image set as in use: `lock` in
    /// the directory, `<file>.lock` beside an image file. It holds the PID
    /// of the process that has the device open.
    pub fn lock_path(&self) -> PathBuf {
        match self {
            Storage::Dir(dir) => dir.join("lock"),
            Storage::File(file) => suffixed(file, ".lock"),
        }
    }

    /// The directory that must exist before anything is written.
    pub fn parent_dir(&self) -> Option<&Path> {
        match self {
            Storage::Dir(dir) => Some(dir),
            Storage::File(file) => file.parent().filter(|p| !p.as_os_str().is_empty()),
        }
    }
}

fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

const GIB: u64 = 1 << 30;

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            namespaces: vec![NamespaceConfig { nlb: GIB / 512, lba_size: 512 }],
            max_namespaces: 32,
            total_capacity: 2 * GIB,
            mqes: 1023,
            max_io_queues: 64,
            mdts: 5,
            msix_vectors: 65,
            serial: "NVMPSIM0001".to_string(),
            model: "nvmeplan simulated NVMe controller".to_string(),
            firmware: "1.0".to_string(),
            vid: 0x1B36,
            device_id: 0x0010,
            ssvid: 0x1AF4,
            latency: LatencyModel::None,
            data_mode: DataMode::Normal,
            ready_delay: Duration::from_millis(2),
            cap_to: 20,
            dstrd: 0,
            nssr_supported: true,
            volatile_write_cache: true,
            firmware_slots: 3,
            self_test_short: Duration::from_millis(500),
            self_test_extended: Duration::from_secs(2),
            sanitize_duration: Duration::from_millis(500),
            storage: None,
            create: CreateMode::Auto,
            explicit_layout: false,
            seed: 0x5EED_0F51_0000_0001,
            copy_limits: CopyLimits::default(),
        }
    }
}

/// The keys [`SimConfig::from_params`] accepts.
pub const VALID_KEYS: &[&str] = &[
    "capacity",
    "nssize",
    "lba",
    "namespaces",
    "maxns",
    "mqes",
    "queues",
    "mdts",
    "msix",
    "serial",
    "model",
    "fw",
    "latency",
    "data",
    "dir",
    "file",
    "create",
    "vwc",
    "ready",
    "seed",
    "mssrl",
    "mcl",
    "msrc",
];

/// Why a configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A parameter name that is not one of [`VALID_KEYS`].
    #[error("unknown simulator parameter `{key}` (valid keys: {})", VALID_KEYS.join(", "))]
    UnknownKey {
        /// The key given.
        key: String,
    },
    /// A parameter without `=value`.
    #[error("simulator parameter `{item}` has no value: write key=value (valid keys: {})", VALID_KEYS.join(", "))]
    MissingValue {
        /// The item given.
        item: String,
    },
    /// A value that does not parse or is out of range for its key.
    #[error("invalid value `{value}` for simulator parameter `{key}`: {reason}")]
    BadValue {
        /// The key.
        key: String,
        /// The value given.
        value: String,
        /// What was expected.
        reason: String,
    },
    /// A combination of settings that cannot work.
    #[error("invalid simulator configuration: {0}")]
    Invalid(String),
}

fn bad(key: &str, value: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::BadValue { key: key.to_string(), value: value.to_string(), reason: reason.into() }
}

/// Parses a size with an optional binary unit suffix (`B`, `K`, `M`, `G`,
/// `T`, `P`, also written `KB`/`KiB`...).
pub fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits.parse().ok()?;
    let shift = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        "p" | "pb" | "pib" => 50,
        _ => return None,
    };
    n.checked_mul(1u64 << shift)
}

fn parse_number<T: TryFrom<u64>>(key: &str, value: &str, min: u64, max: u64) -> Result<T, ConfigError> {
    let t = value.trim();
    let n = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => t.parse().ok(),
    }
    .ok_or_else(|| bad(key, value, "expected a number"))?;
    if n < min || n > max {
        return Err(bad(key, value, format!("expected a number from {min} to {max}")));
    }
    T::try_from(n).map_err(|_| bad(key, value, "number out of range"))
}

fn parse_latency(value: &str) -> Result<LatencyModel, ConfigError> {
    let key = "latency";
    if value.eq_ignore_ascii_case("none") {
        return Ok(LatencyModel::None);
    }
    if !value.contains(':') {
        // Zero needs its unit like any other time (`0us`), so that every
        // simulator time reads the same way.
        let d = parse_duration(value).map_err(|e| {
            bad(key, value, format!("{e}; expected none, a duration (50us) or read:80us+write:20us+..."))
        })?;
        return Ok(if d.is_zero() { LatencyModel::None } else { LatencyModel::Fixed(d) });
    }
    let (mut read, mut write, mut flush, mut other, mut admin) = Default::default();
    for part in value.split('+') {
        let (class, dur) =
            part.split_once(':').ok_or_else(|| bad(key, value, format!("`{part}` is not class:duration")))?;
        let d = parse_duration(dur).map_err(|e| bad(key, value, e.to_string()))?;
        match class.trim().to_ascii_lowercase().as_str() {
            "read" => read = d,
            "write" => write = d,
            "flush" => flush = d,
            "other" => other = d,
            "admin" => admin = d,
            c => {
                return Err(bad(
                    key,
                    value,
                    format!("unknown class `{c}` (read, write, flush, other, admin)"),
                ));
            }
        }
    }
    Ok(LatencyModel::PerOpcode { read, write, flush, other, admin })
}

fn parse_bool(key: &str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" | "1" => Ok(true),
        "off" | "false" | "no" | "0" => Ok(false),
        _ => Err(bad(key, value, "expected on or off")),
    }
}

impl SimConfig {
    /// Parses a device URI parameter list (`key=value,key=value`) on top of
    /// the defaults, then validates the result.
    pub fn from_params(params: &str) -> Result<SimConfig, ConfigError> {
        let mut cfg = SimConfig::default();
        let mut capacity: Option<u64> = None;
        let mut nssize: Option<u64> = None;
        let mut lba: Option<u32> = None;
        let mut count: Option<usize> = None;
        for item in params.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (key, value) =
                item.split_once('=').ok_or_else(|| ConfigError::MissingValue { item: item.to_string() })?;
            let key = key.trim().to_ascii_lowercase();
            let value = value.trim();
            match key.as_str() {
                "capacity" | "nssize" => {
                    let size = parse_size(value)
                        .filter(|&s| s > 0)
                        .ok_or_else(|| bad(&key, value, "expected a size such as 512M, 1G, 16T or 4096B"))?;
                    if key == "capacity" {
                        capacity = Some(size);
                    } else {
                        nssize = Some(size);
                    }
                }
                "lba" => match value {
                    "512" => lba = Some(512),
                    "4096" | "4k" | "4K" => lba = Some(4096),
                    _ => return Err(bad(&key, value, "expected 512 or 4096")),
                },
                "namespaces" => count = Some(parse_number(&key, value, 0, 1024)?),
                "maxns" => cfg.max_namespaces = parse_number(&key, value, 1, 1024)?,
                "mqes" => cfg.mqes = parse_number(&key, value, 1, 65535)?,
                "queues" => cfg.max_io_queues = parse_number(&key, value, 1, 65534)?,
                "mdts" => cfg.mdts = parse_number(&key, value, 0, 12)?,
                "msix" => cfg.msix_vectors = parse_number(&key, value, 1, 2048)?,
                "serial" => cfg.serial = ascii_value(&key, value, 20)?,
                "model" => cfg.model = ascii_value(&key, value, 40)?,
                "fw" => cfg.firmware = ascii_value(&key, value, 8)?,
                "latency" => cfg.latency = parse_latency(value)?,
                "data" => {
                    cfg.data_mode = match value.to_ascii_lowercase().as_str() {
                        "normal" => DataMode::Normal,
                        "null" => DataMode::Null,
                        _ => return Err(bad(&key, value, "expected normal or null")),
                    }
                }
                "dir" => {
                    if value.is_empty() {
                        return Err(bad(&key, value, "expected a directory path"));
                    }
                    cfg.storage = Some(Storage::Dir(PathBuf::from(value)));
                }
                "file" => {
                    if value.is_empty() {
                        return Err(bad(&key, value, "expected an image file path"));
                    }
                    cfg.storage = Some(Storage::File(PathBuf::from(value)));
                }
                "create" => {
                    cfg.create = match value.to_ascii_lowercase().as_str() {
                        "auto" => CreateMode::Auto,
                        "yes" | "on" | "true" => CreateMode::New,
                        "no" | "off" | "false" => CreateMode::Existing,
                        _ => return Err(bad(&key, value, "expected auto, yes or no")),
                    }
                }
                "vwc" => cfg.volatile_write_cache = parse_bool(&key, value)?,
                "ready" => {
                    cfg.ready_delay = parse_duration(value).map_err(|e| bad(&key, value, e.to_string()))?
                }
                "seed" => cfg.seed = parse_number(&key, value, 0, u64::MAX)?,
                "mssrl" => cfg.copy_limits.mssrl = parse_number(&key, value, 1, u64::from(u16::MAX))?,
                "mcl" => cfg.copy_limits.mcl = parse_number(&key, value, 1, CopyLimits::MAX_MCL.into())?,
                "msrc" => cfg.copy_limits.msrc = parse_number(&key, value, 0, 255)?,
                _ => return Err(ConfigError::UnknownKey { key }),
            }
        }
        cfg.explicit_layout = capacity.is_some() || nssize.is_some() || lba.is_some() || count.is_some();
        let lba = lba.unwrap_or(512);
        let count = count.unwrap_or(1);
        if capacity.is_some() || nssize.is_some() || lba != 512 || count != 1 {
            let total = capacity.unwrap_or_else(|| {
                nssize.map_or(cfg.total_capacity, |s| s.saturating_mul(count.max(1) as u64))
            });
            let per_ns = nssize.unwrap_or(if count == 0 { 0 } else { total / count as u64 });
            let nlb = per_ns / u64::from(lba);
            if count > 0 && nlb == 0 {
                return Err(bad(
                    "capacity",
                    &total.to_string(),
                    "too small for one logical block per namespace",
                ));
            }
            cfg.namespaces = vec![NamespaceConfig { nlb, lba_size: lba }; count];
            cfg.total_capacity = total;
        }
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks that the settings are consistent; [`crate::SimDevice::new`]
    /// calls it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |m: String| Err(ConfigError::Invalid(m));
        if self.namespaces.len() > self.max_namespaces as usize {
            return invalid(format!(
                "{} namespaces exceed the namespace limit of {}",
                self.namespaces.len(),
                self.max_namespaces
            ));
        }
        if self.max_namespaces == 0 || self.max_namespaces > 1024 {
            return invalid(format!("max_namespaces {} is not in 1..=1024", self.max_namespaces));
        }
        let mut used: u128 = 0;
        for (i, ns) in self.namespaces.iter().enumerate() {
            if ns.lba_size != 512 && ns.lba_size != 4096 {
                return invalid(format!("namespace {} has LBA size {} (512 or 4096)", i + 1, ns.lba_size));
            }
            if ns.nlb == 0 {
                return invalid(format!("namespace {} has no logical blocks", i + 1));
            }
            used += u128::from(ns.nlb) * u128::from(ns.lba_size);
        }
        if used > u128::from(self.total_capacity) {
            return invalid(format!(
                "namespaces need {used} bytes but the total capacity is {}",
                self.total_capacity
            ));
        }
        if self.mqes == 0 {
            return invalid("mqes must be at least 1 (two entries)".into());
        }
        if self.max_io_queues == 0 || self.max_io_queues == u16::MAX {
            return invalid(format!("max_io_queues {} is not in 1..=65534", self.max_io_queues));
        }
        if self.msix_vectors == 0 || self.msix_vectors > 2048 {
            return invalid(format!("msix_vectors {} is not in 1..=2048", self.msix_vectors));
        }
        if self.mdts > 12 {
            return invalid(format!("mdts {} is larger than 12", self.mdts));
        }
        if self.dstrd > 15 {
            return invalid(format!("dstrd {} is larger than 15", self.dstrd));
        }
        if self.firmware_slots == 0 || self.firmware_slots > 7 {
            return invalid(format!("firmware_slots {} is not in 1..=7", self.firmware_slots));
        }
        if self.cap_to == 0 {
            return invalid("cap_to must be at least 1 (500 ms)".into());
        }
        let limit = Duration::from_millis(500) * u32::from(self.cap_to);
        if self.ready_delay > limit {
            return invalid(format!("ready delay {:?} exceeds CAP.TO ({limit:?})", self.ready_delay));
        }
        self.copy_limits.check().map_err(ConfigError::Invalid)?;
        for (name, text, max) in
            [("serial", &self.serial, 20), ("model", &self.model, 40), ("firmware", &self.firmware, 8)]
        {
            if text.is_empty() || text.len() > max || !text.is_ascii() {
                return invalid(format!("{name} `{text}` must be 1 to {max} ASCII characters"));
            }
        }
        Ok(())
    }

    /// The maximum data transfer size in bytes (`None` = no limit).
    pub fn mdts_bytes(&self) -> Option<usize> {
        if self.mdts == 0 { None } else { Some(4096usize << self.mdts) }
    }
}

fn ascii_value(key: &str, value: &str, max: usize) -> Result<String, ConfigError> {
    if value.is_empty() || value.len() > max || !value.bytes().all(|b| (0x20..0x7F).contains(&b)) {
        return Err(bad(key, value, format!("expected 1 to {max} printable ASCII characters")));
    }
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        let cfg = SimConfig::default();
        cfg.validate().unwrap();
        assert_eq!(cfg.namespaces, vec![NamespaceConfig { nlb: 2 * 1024 * 1024, lba_size: 512 }]);
        assert_eq!(cfg.mdts_bytes(), Some(128 * 1024));
        assert!(cfg.ready_delay <= Duration::from_millis(500) * u32::from(cfg.cap_to));
    }

    #[test]
    fn sizes_and_durations() {
        assert_eq!(parse_size("512M"), Some(512 << 20));
        assert_eq!(parse_size("1G"), Some(1 << 30));
        assert_eq!(parse_size("16T"), Some(16 << 40));
        assert_eq!(parse_size("4096B"), Some(4096));
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("2GiB"), Some(2 << 30));
        assert_eq!(parse_size("12X"), None);
        assert_eq!(parse_size("G"), None);
        assert_eq!(parse_size("99999999999P"), None);
        assert_eq!(parse_duration("50us").ok(), Some(Duration::from_micros(50)));
        assert_eq!(parse_duration("1ms").ok(), Some(Duration::from_millis(1)));
        assert_eq!(parse_duration("2s").ok(), Some(Duration::from_secs(2)));
        assert_eq!(parse_duration("100ns").ok(), Some(Duration::from_nanos(100)));
        assert_eq!(parse_duration("fast").ok(), None);
    }

    #[test]
    fn bare_number_durations_are_rejected_with_a_hint() {
        for params in ["ready=5", "latency=50", "latency=0", "latency=read:80+write:20us"] {
            let err = SimConfig::from_params(params).unwrap_err().to_string();
            assert!(err.contains("a duration needs a unit"), "{params}: {err}");
        }
        assert_eq!(SimConfig::from_params("ready=5ms").unwrap().ready_delay, Duration::from_millis(5));
        assert_eq!(SimConfig::from_params("latency=0us").unwrap().latency, LatencyModel::None);
    }

    #[test]
    fn params_build_namespaces() {
        let cfg = SimConfig::from_params("capacity=16T,lba=4096,namespaces=4").unwrap();
        assert_eq!(cfg.namespaces.len(), 4);
        assert_eq!(cfg.namespaces[0], NamespaceConfig { nlb: (4u64 << 40) / 4096, lba_size: 4096 });
        assert_eq!(cfg.total_capacity, 16 << 40);
        let cfg = SimConfig::from_params("capacity=2G,nssize=512M,namespaces=2").unwrap();
        assert_eq!(cfg.namespaces, vec![NamespaceConfig { nlb: (512 << 20) / 512, lba_size: 512 }; 2]);
        let cfg = SimConfig::from_params("").unwrap();
        assert_eq!(cfg.namespaces, SimConfig::default().namespaces);
        let cfg = SimConfig::from_params("namespaces=0").unwrap();
        assert!(cfg.namespaces.is_empty());
    }

    #[test]
    fn params_set_every_key() {
        let cfg = SimConfig::from_params(
            "mqes=255, queues=8,mdts=0,msix=9,serial=ABC,model=Test Model,fw=2.0,latency=50us,\
             data=null,dir=/tmp/x,vwc=off,ready=5ms,seed=0x10,maxns=4",
        )
        .unwrap();
        assert_eq!(cfg.mqes, 255);
        assert_eq!(cfg.max_io_queues, 8);
        assert_eq!(cfg.mdts_bytes(), None);
        assert_eq!(cfg.msix_vectors, 9);
        assert_eq!(cfg.serial, "ABC");
        assert_eq!(cfg.model, "Test Model");
        assert_eq!(cfg.firmware, "2.0");
        assert_eq!(cfg.latency, LatencyModel::Fixed(Duration::from_micros(50)));
        assert!(matches!(cfg.data_mode, DataMode::Null));
        assert_eq!(cfg.storage, Some(Storage::Dir(PathBuf::from("/tmp/x"))));
        let file_cfg = SimConfig::from_params("file=disk.img").unwrap();
        let storage = file_cfg.storage.unwrap();
        assert_eq!(storage.namespace_path(1), PathBuf::from("disk.img"));
        assert_eq!(storage.namespace_path(2), PathBuf::from("disk.img.ns2"));
        assert_eq!(storage.state_path(), PathBuf::from("disk.img.state.json"));
        assert!(!cfg.volatile_write_cache);
        assert_eq!(cfg.ready_delay, Duration::from_millis(5));
        assert_eq!(cfg.seed, 16);
        assert_eq!(cfg.max_namespaces, 4);
    }

    #[test]
    fn copy_limit_keys() {
        let cfg = SimConfig::from_params("mssrl=16,mcl=64,msrc=0").unwrap();
        assert_eq!(cfg.copy_limits, CopyLimits { mssrl: 16, mcl: 64, msrc: 0 });
        assert_eq!(SimConfig::from_params("").unwrap().copy_limits, CopyLimits::default());
        for bad in ["mssrl=0", "mssrl=65536", "msrc=256", "mcl=0", "mcl=1048577", "mcl=64"] {
            assert!(SimConfig::from_params(bad).is_err(), "{bad}");
        }
        let err = SimConfig::from_params("mssrl=256,mcl=128").unwrap_err().to_string();
        assert!(err.contains("mcl 128 is smaller than mssrl 256"), "{err}");
    }

    #[test]
    fn create_and_explicit_layout() {
        let cfg = SimConfig::from_params("file=d.img").unwrap();
        assert_eq!((cfg.create, cfg.explicit_layout), (CreateMode::Auto, false));
        assert_eq!(cfg.storage.unwrap().lock_path(), PathBuf::from("d.img.lock"));
        assert_eq!(SimConfig::from_params("create=yes").unwrap().create, CreateMode::New);
        assert_eq!(SimConfig::from_params("create=no").unwrap().create, CreateMode::Existing);
        let e = SimConfig::from_params("create=maybe").unwrap_err().to_string();
        assert!(e.contains("create") && e.contains("auto, yes or no"), "{e}");
        for key in ["lba=512", "capacity=1G", "nssize=1G", "namespaces=1"] {
            assert!(SimConfig::from_params(key).unwrap().explicit_layout, "{key}");
        }
        assert_eq!(Storage::Dir(PathBuf::from("set")).lock_path(), PathBuf::from("set/lock"));
    }

    #[test]
    fn latency_classes() {
        let cfg = SimConfig::from_params("latency=read:80us+write:20us+flush:1ms+admin:100us").unwrap();
        let l = cfg.latency;
        assert_eq!(l.latency(false, 0x02), Duration::from_micros(80));
        assert_eq!(l.latency(false, 0x01), Duration::from_micros(20));
        assert_eq!(l.latency(false, 0x00), Duration::from_millis(1));
        assert_eq!(l.latency(false, 0x09), Duration::ZERO);
        assert_eq!(l.latency(true, 0x06), Duration::from_micros(100));
        assert!(!l.is_zero());
        assert!(SimConfig::from_params("latency=none").unwrap().latency.is_zero());
        assert!(matches!(
            SimConfig::from_params("latency=read:80us+erase:1ms"),
            Err(ConfigError::BadValue { .. })
        ));
    }

    #[test]
    fn errors_name_key_and_value() {
        let e = SimConfig::from_params("capacity=lots").unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("capacity") && msg.contains("lots"), "{msg}");
        let e = SimConfig::from_params("colour=blue").unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("colour") && msg.contains("capacity") && msg.contains("latency"), "{msg}");
        assert!(matches!(SimConfig::from_params("vwc"), Err(ConfigError::MissingValue { .. })));
        assert!(matches!(SimConfig::from_params("lba=1024"), Err(ConfigError::BadValue { .. })));
        assert!(matches!(SimConfig::from_params("mqes=0"), Err(ConfigError::BadValue { .. })));
        assert!(matches!(SimConfig::from_params("ready=20s"), Err(ConfigError::Invalid(_))));
        assert!(matches!(SimConfig::from_params("namespaces=40"), Err(ConfigError::Invalid(_))));
        assert!(matches!(SimConfig::from_params("fw=123456789"), Err(ConfigError::BadValue { .. })));
        assert!(matches!(
            SimConfig::from_params("capacity=100B,lba=4096"),
            Err(ConfigError::BadValue { .. })
        ));
    }
}
