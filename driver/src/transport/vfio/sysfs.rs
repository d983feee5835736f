//! Reading and changing PCI state through sysfs: which NVMe functions
//! exist, their driver and IOMMU group, the kernel nvme driver's view of
//! them (model, serial, block devices and whether any is mounted), moving a
//! function between drivers (`driver_override` + `drivers_probe`), and the
//! checks that turn a failed VFIO open into a cause the user can fix.
//!
//! Every path is relative to a [`Sysfs`] root, so tests run against a fake
//! tree in a temporary directory.

use super::address::PciAddress;
use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// PCI class code of an NVM Express controller (mass storage, NVM, NVMe).
pub const NVME_CLASS: u32 = 0x01_08_02;
/// The VFIO PCI driver's name in sysfs.
pub const VFIO_PCI: &str = "vfio-pci";
/// The kernel NVMe driver's name in sysfs.
pub const KERNEL_NVME: &str = "nvme";

/// A failed sysfs access or a refused change.
#[derive(Debug, thiserror::Error)]
pub enum SysfsError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// No such PCI function.
    #[error("no PCI function {0} (see `nvmeplan devices`)")]
    NoDevice(PciAddress),
    /// The change would be unsafe or cannot be made.
    #[error("{0}")]
    Refused(String),
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> SysfsError + '_ {
    move |source| SysfsError::Io { path: path.to_path_buf(), source }
}

/// The sysfs tree (normally `/sys`) and the mount table (normally
/// `/proc/self/mountinfo`).
#[derive(Clone, Debug)]
pub struct Sysfs {
    root: PathBuf,
    mountinfo: PathBuf,
}

impl Default for Sysfs {
    fn default() -> Self {
        Sysfs { root: PathBuf::from("/sys"), mountinfo: PathBuf::from("/proc/self/mountinfo") }
    }
}

/// A block device of a kernel-driven NVMe controller.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BlockDevice {
    /// Kernel name, e.g. `nvme0n1` or `nvme0n1p2`.
    pub name: String,
    /// Mount points of this device (empty when not mounted).
    pub mounts: Vec<String>,
}

/// One PCI function as sysfs shows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PciFunction {
    /// Its address.
    #[serde(serialize_with = "serialize_display")]
    pub address: PciAddress,
    /// PCI vendor ID.
    pub vendor: u16,
    /// PCI device ID.
    pub device: u16,
    /// 24-bit class code.
    pub class: u32,
    /// Bound driver, if any.
    pub driver: Option<String>,
    /// IOMMU group, if the IOMMU is on.
    pub iommu_group: Option<u32>,
    /// Model number (kernel nvme driver only).
    pub model: Option<String>,
    /// Serial number (kernel nvme driver only).
    pub serial: Option<String>,
    /// Block devices and partitions (kernel nvme driver only).
    pub block_devices: Vec<BlockDevice>,
}

fn serialize_display<S: serde::Serializer>(a: &PciAddress, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(a)
}

impl PciFunction {
    /// Whether any block device of the function is mounted.
    pub fn is_mounted(&self) -> bool {
        self.block_devices.iter().any(|b| !b.mounts.is_empty())
    }
}

fn read_trimmed(path: &Path) -> Result<String, SysfsError> {
    fs::read_to_string(path).map(|s| s.trim().to_string()).map_err(io_err(path))
}

fn read_hex(path: &Path) -> Result<u32, SysfsError> {
    let text = read_trimmed(path)?;
    u32::from_str_radix(text.trim_start_matches("0x"), 16).map_err(|e| SysfsError::Io {
        path: path.to_path_buf(),
        source: io::Error::new(io::ErrorKind::InvalidData, format!("`{text}` is not hex: {e}")),
    })
}

fn link_name(path: &Path) -> Option<String> {
    fs::read_link(path).ok()?.file_name()?.to_str().map(str::to_string)
}

fn write_file(path: &Path, value: &str) -> Result<(), SysfsError> {
    fs::write(path, value).map_err(io_err(path))
}

impl Sysfs {
    /// A sysfs tree at `root` with the mount table at `mountinfo`.
    pub fn new(root: impl Into<PathBuf>, mountinfo: impl Into<PathBuf>) -> Self {
        Sysfs { root: root.into(), mountinfo: mountinfo.into() }
    }

    /// The directory of a PCI function.
    pub fn device_dir(&self, addr: PciAddress) -> PathBuf {
        self.root.join("bus/pci/devices").join(addr.to_string())
    }

    fn driver_dir(&self, driver: &str) -> PathBuf {
        self.root.join("bus/pci/drivers").join(driver)
    }

    /// Whether the PCI driver `name` is registered (its module is loaded).
    pub fn driver_loaded(&self, name: &str) -> bool {
        self.driver_dir(name).is_dir()
    }

    /// Whether the kernel created IOMMU groups (the IOMMU is on).
    pub fn iommu_enabled(&self) -> bool {
        fs::read_dir(self.root.join("kernel/iommu_groups")).is_ok_and(|mut d| d.next().is_some())
    }

    /// The driver bound to `addr`, if any.
    pub fn driver_of(&self, addr: PciAddress) -> Option<String> {
        link_name(&self.device_dir(addr).join("driver"))
    }

    /// The IOMMU group of `addr`, if it has one.
    pub fn iommu_group_of(&self, addr: PciAddress) -> Option<u32> {
        link_name(&self.device_dir(addr).join("iommu_group"))?.parse().ok()
    }

    /// The functions in IOMMU group `group`.
    pub fn group_members(&self, group: u32) -> Result<Vec<PciAddress>, SysfsError> {
        let dir = self.root.join("kernel/iommu_groups").join(group.to_string()).join("devices");
        let mut members: Vec<PciAddress> = fs::read_dir(&dir)
            .map_err(io_err(&dir))?
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .collect();
        members.sort();
        Ok(members)
    }

    /// Every PCI function with the NVMe class code, sorted by address.
    pub fn nvme_functions(&self) -> Result<Vec<PciFunction>, SysfsError> {
        let dir = self.root.join("bus/pci/devices");
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(SysfsError::Io { path: dir, source: e }),
        };
        let mut addrs: Vec<PciAddress> =
            entries.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).collect();
        addrs.sort();
        let mounts = self.mounted_devices();
        let mut out = Vec::new();
        for addr in addrs {
            let class = read_hex(&self.device_dir(addr).join("class"))?;
            if class == NVME_CLASS {
                out.push(self.function_with(addr, &mounts)?);
            }
        }
        Ok(out)
    }

    /// One PCI function.
    pub fn function(&self, addr: PciAddress) -> Result<PciFunction, SysfsError> {
        self.function_with(addr, &self.mounted_devices())
    }

    fn function_with(
        &self,
        addr: PciAddress,
        mounts: &[(String, String)],
    ) -> Result<PciFunction, SysfsError> {
        let dir = self.device_dir(addr);
        if !dir.is_dir() {
            return Err(SysfsError::NoDevice(addr));
        }
        let mut function = PciFunction {
            address: addr,
            vendor: read_hex(&dir.join("vendor"))? as u16,
            device: read_hex(&dir.join("device"))? as u16,
            class: read_hex(&dir.join("class"))?,
            driver: self.driver_of(addr),
            iommu_group: self.iommu_group_of(addr),
            model: None,
            serial: None,
            block_devices: Vec::new(),
        };
        if function.driver.as_deref() == Some(KERNEL_NVME) {
            self.kernel_nvme_details(&dir, mounts, &mut function);
        }
        Ok(function)
    }

    /// Model, serial and block devices from `DEVICE/nvme/nvmeN/`.
    fn kernel_nvme_details(&self, dir: &Path, mounts: &[(String, String)], function: &mut PciFunction) {
        let Ok(ctrls) = fs::read_dir(dir.join("nvme")) else { return };
        for ctrl in ctrls.filter_map(Result::ok) {
            let ctrl_dir = ctrl.path();
            function.model = function.model.take().or_else(|| read_trimmed(&ctrl_dir.join("model")).ok());
            function.serial = function.serial.take().or_else(|| read_trimmed(&ctrl_dir.join("serial")).ok());
            let mut block = Vec::new();
            collect_block_devices(&ctrl_dir, mounts, &mut block, 0);
            // With native multipath the block devices hang off the NVM
            // subsystem, which links to its controllers by name.
            let ctrl_name = ctrl.file_name();
            if let Ok(subsystems) = fs::read_dir(self.root.join("class/nvme-subsystem")) {
                for subsystem in subsystems.filter_map(Result::ok) {
                    if subsystem.path().join(&ctrl_name).exists() {
                        collect_block_devices(&subsystem.path(), mounts, &mut block, 0);
                    }
                }
            }
            for b in block {
                if !function.block_devices.iter().any(|known| known.name == b.name) {
                    function.block_devices.push(b);
                }
            }
        }
        function.block_devices.sort_by(|a, b| a.name.cmp(&b.name));
    }

    /// `(major:minor, mount point)` of every mounted filesystem; empty when
    /// the mount table cannot be read.
    fn mounted_devices(&self) -> Vec<(String, String)> {
        let Ok(text) = fs::read_to_string(&self.mountinfo) else { return Vec::new() };
        parse_mountinfo(&text)
    }

    /// Binds `addr` to `driver` (`vfio-pci` or `nvme`): sets
    /// `driver_override`, unbinds the current driver and asks the kernel to
    /// probe only this function. Refuses a function with a mounted block
    /// device. Returns the driver bound afterwards.
    pub fn bind(&self, addr: PciAddress, driver: &str) -> Result<String, SysfsError> {
        let function = self.function(addr)?;
        if function.class != NVME_CLASS {
            return Err(SysfsError::Refused(format!(
                "{addr} is not an NVMe controller (class {:06x}); nvmeplan only moves NVMe functions",
                function.class
            )));
        }
        if function.is_mounted() {
            let mounted: Vec<String> = function
                .block_devices
                .iter()
                .flat_map(|b| b.mounts.iter().map(move |m| format!("/dev/{} on {m}", b.name)))
                .collect();
            return Err(SysfsError::Refused(format!(
                "{addr} has mounted filesystems ({}); unmount them first",
                mounted.join(", ")
            )));
        }
        if function.driver.as_deref() == Some(driver) {
            return Ok(driver.to_string());
        }
        if !self.driver_loaded(driver) {
            let module = if driver == VFIO_PCI { "vfio-pci" } else { driver };
            return Err(SysfsError::Refused(format!(
                "the {driver} driver is not loaded; run `modprobe {module}` first"
            )));
        }
        let dir = self.device_dir(addr);
        write_file(&dir.join("driver_override"), driver)?;
        if function.driver.is_some() {
            write_file(&dir.join("driver/unbind"), &addr.to_string())?;
        }
        write_file(&self.root.join("bus/pci/drivers_probe"), &addr.to_string())?;
        match self.driver_of(addr) {
            Some(now) if now == driver => Ok(now),
            now => Err(SysfsError::Refused(format!(
                "{addr}: the kernel did not bind {driver} (bound now: {}); see dmesg",
                now.as_deref().unwrap_or("no driver")
            ))),
        }
    }

    /// Why `addr` cannot be opened through VFIO, if sysfs shows a reason:
    /// no such function, IOMMU off, vfio-pci not loaded or not bound, or an
    /// IOMMU group with functions not bound to vfio-pci. `Ok(group)` when
    /// everything looks usable.
    pub fn check_vfio_ready(&self, addr: PciAddress) -> Result<u32, String> {
        if !self.device_dir(addr).is_dir() {
            return Err(format!("there is no PCI function {addr}; `nvmeplan devices` lists NVMe functions"));
        }
        let Some(group) = self.iommu_group_of(addr) else {
            return Err(if self.iommu_enabled() {
                format!("{addr} has no IOMMU group, so VFIO cannot isolate it")
            } else {
                "the IOMMU is off (no IOMMU groups in /sys/kernel/iommu_groups): enable VT-d/AMD-Vi in the \
                 firmware and boot with intel_iommu=on (or amd_iommu=on) iommu=pt"
                    .to_string()
            });
        };
        if !self.driver_loaded(VFIO_PCI) {
            return Err("the vfio-pci driver is not loaded: run `modprobe vfio-pci`".to_string());
        }
        match self.driver_of(addr) {
            Some(d) if d == VFIO_PCI => {}
            other => {
                return Err(format!(
                    "{addr} is bound to {} instead of vfio-pci: run `nvmeplan bind {addr}`",
                    other.as_deref().unwrap_or("no driver")
                ));
            }
        }
        let blockers: Vec<String> = self
            .group_members(group)
            .unwrap_or_default()
            .into_iter()
            .filter(|&m| m != addr)
            .filter_map(|m| match self.driver_of(m) {
                None => None,
                Some(d) if d == VFIO_PCI || d == "pci-stub" || d == "pcieport" => None,
                Some(d) => Some(format!("{m} (driver {d})")),
            })
            .collect();
        if !blockers.is_empty() {
            return Err(format!(
                "IOMMU group {group} is not viable: it also holds {}; bind those to vfio-pci too or \
                 move {addr} to a slot with its own group",
                blockers.join(", ")
            ));
        }
        Ok(group)
    }
}

/// Walks a controller's directory for `nvmeXnY` namespaces and their
/// `nvmeXnYpZ` partitions.
fn collect_block_devices(dir: &Path, mounts: &[(String, String)], out: &mut Vec<BlockDevice>, depth: u32) {
    if depth > 2 {
        return;
    }
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        let Ok(dev) = read_trimmed(&path.join("dev")) else { continue };
        if !is_block_name(&name) {
            continue;
        }
        let points: Vec<String> = mounts.iter().filter(|(d, _)| *d == dev).map(|(_, m)| m.clone()).collect();
        out.push(BlockDevice { name, mounts: points });
        collect_block_devices(&path, mounts, out, depth + 1);
    }
}

/// Whether `name` is an NVMe namespace block device (`nvme0n1`) or one of
/// its partitions (`nvme0n1p2`); not a controller (`nvme0`) or a hidden
/// multipath path (`nvme0c0n1`).
fn is_block_name(name: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let Some(rest) = name.strip_prefix("nvme") else { return false };
    let Some((ctrl, ns)) = rest.split_once('n') else { return false };
    let ns = ns.split_once('p').map_or(Some(ns), |(ns, part)| digits(part).then_some(ns));
    digits(ctrl) && ns.is_some_and(digits)
}

/// Parses `/proc/self/mountinfo` into `(major:minor, mount point)` pairs.
pub fn parse_mountinfo(text: &str) -> Vec<(String, String)> {
    let mut seen = HashSet::new();
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let dev = fields.nth(2)?.to_string();
            let point = fields.nth(1)?.replace("\\040", " ");
            seen.insert((dev.clone(), point.clone())).then_some((dev, point))
        })
        .collect()
}

#[cfg(test)]
mod tests;
