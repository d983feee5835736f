//! Opening a PCI function through VFIO (container, group, device) with
//! errors that name the cause a user can fix, and the function reset.

use super::super::TransportError;
use super::address::PciAddress;
use super::sysfs::Sysfs;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use vfio_ioctls::{VfioContainer, VfioDevice, VfioError};

/// `VFIO_DEVICE_RESET`: `_IO(VFIO_TYPE, VFIO_BASE + 11)` with VFIO_TYPE
/// `';'` (0x3B) and VFIO_BASE 100.
const VFIO_DEVICE_RESET: libc::c_ulong = (0x3B << 8) | (100 + 11);

fn explain_io(e: &std::io::Error, path: &str) -> String {
    match e.raw_os_error() {
        Some(libc::EACCES) | Some(libc::EPERM) => format!(
            "permission denied on {path}: run as root, or give your user the group device \
             (chown) and a locked-memory limit (ulimit -l) large enough for DMA"
        ),
        Some(libc::EBUSY) => {
            format!("{path} is busy: another process (another nvmeplan run, a VM, SPDK) has the device open")
        }
        Some(libc::ENOENT) | Some(libc::ENODEV) => {
            format!("{path} does not exist: load the vfio modules (`modprobe vfio-pci`) and bind the device")
        }
        _ => format!("{path}: {e}"),
    }
}

/// Turns a `VfioError` into a cause the user can act on.
fn explain(e: &VfioError, group: u32) -> String {
    match e {
        VfioError::OpenContainer(io) => explain_io(io, "/dev/vfio/vfio"),
        VfioError::OpenGroup(io, _) => explain_io(io, &format!("/dev/vfio/{group}")),
        VfioError::GroupViable => format!(
            "IOMMU group {group} is not viable: every function in /sys/kernel/iommu_groups/{group}/devices \
             must be bound to vfio-pci (or have no driver)"
        ),
        VfioError::VfioExtension | VfioError::ContainerSetIOMMU(_) => {
            "the type1 IOMMU backend is unavailable: load vfio_iommu_type1 (`modprobe vfio_iommu_type1`) \
             and boot with the IOMMU on"
                .to_string()
        }
        VfioError::GroupGetDeviceFD(errno) if errno.errno() == libc::EBUSY => {
            "the device is busy: another process has it open".to_string()
        }
        other => format!("{other}"),
    }
}

/// Opens `addr`: checks sysfs for the common mistakes first, then opens
/// the container, the group and the device.
pub fn open(
    sysfs: &Sysfs,
    addr: PciAddress,
) -> Result<(Arc<VfioContainer>, VfioDevice, u32), TransportError> {
    let what = format!("pci:{addr}");
    let fail = |reason: String| TransportError::Open { what: what.clone(), reason };
    let group = sysfs.check_vfio_ready(addr).map_err(fail)?;
    let container = VfioContainer::new(None).map_err(|e| fail(explain(&e, group)))?;
    let container = Arc::new(container);
    let device = VfioDevice::new(&sysfs.device_dir(addr), container.clone(), false)
        .map_err(|e| fail(explain(&e, group)))?;
    Ok((container, device, group))
}

/// Resets the function with `VFIO_DEVICE_RESET` (an FLR or another reset
/// method the kernel picked). The kernel saves and restores the function's
/// configuration around the reset.
pub fn reset(device: &VfioDevice) -> Result<(), TransportError> {
    // SAFETY: VFIO_DEVICE_RESET takes no argument; the fd is the open VFIO
    // device owned by `device`.
    let rc = unsafe { libc::ioctl(device.as_raw_fd(), VFIO_DEVICE_RESET as _) };
    if rc < 0 {
        let e = std::io::Error::last_os_error();
        let hint = match e.raw_os_error() {
            Some(libc::EINVAL) | Some(libc::ENOTTY) => " (the function has no reset method VFIO can use)",
            Some(libc::EAGAIN) | Some(libc::EBUSY) => " (another function of the same reset scope is busy)",
            _ => "",
        };
        return Err(TransportError::Reset(format!("VFIO_DEVICE_RESET failed: {e}{hint}")));
    }
    Ok(())
}
