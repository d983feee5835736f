//! Tests against a fake sysfs tree in a temporary directory.

use super::*;
use std::os::unix::fs::symlink;

struct FakeSys {
    dir: tempfile::TempDir,
}

impl FakeSys {
    fn new() -> FakeSys {
        let f = FakeSys { dir: tempfile::tempdir().unwrap() };
        fs::create_dir_all(f.root().join("bus/pci/devices")).unwrap();
        fs::create_dir_all(f.root().join("bus/pci/drivers")).unwrap();
        fs::create_dir_all(f.root().join("kernel/iommu_groups")).unwrap();
        fs::write(f.root().join("bus/pci/drivers_probe"), "").unwrap();
        fs::write(f.mountinfo(), "").unwrap();
        f
    }
    fn root(&self) -> PathBuf {
        self.dir.path().join("sys")
    }
    fn mountinfo(&self) -> PathBuf {
        self.dir.path().join("mountinfo")
    }
    fn sysfs(&self) -> Sysfs {
        Sysfs::new(self.root(), self.mountinfo())
    }
    fn driver(&self, name: &str) {
        fs::create_dir_all(self.root().join("bus/pci/drivers").join(name)).unwrap();
    }
    /// A function with class, IDs, optional driver and IOMMU group.
    fn function(&self, addr: &str, class: u32, driver: Option<&str>, group: Option<u32>) -> PathBuf {
        let dir = self.root().join("bus/pci/devices").join(addr);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("class"), format!("0x{class:06x}\n")).unwrap();
        fs::write(dir.join("vendor"), "0x1b36\n").unwrap();
        fs::write(dir.join("device"), "0x0010\n").unwrap();
        fs::write(dir.join("driver_override"), "(null)\n").unwrap();
        if let Some(d) = driver {
            self.driver(d);
            symlink(self.root().join("bus/pci/drivers").join(d), dir.join("driver")).unwrap();
        }
        if let Some(g) = group {
            let gdir = self.root().join("kernel/iommu_groups").join(g.to_string());
            fs::create_dir_all(gdir.join("devices")).unwrap();
            symlink(&dir, gdir.join("devices").join(addr)).unwrap();
            symlink(&gdir, dir.join("iommu_group")).unwrap();
        }
        dir
    }
    /// Kernel nvme details: controller nvme0 with a namespace and a partition.
    fn kernel_nvme(&self, dev_dir: &Path) {
        let ctrl = dev_dir.join("nvme/nvme0");
        fs::create_dir_all(ctrl.join("nvme0n1/nvme0n1p1")).unwrap();
        fs::write(ctrl.join("model"), "QEMU NVMe Ctrl                          \n").unwrap();
        fs::write(ctrl.join("serial"), "deadbeef            \n").unwrap();
        fs::write(ctrl.join("nvme0n1/dev"), "259:0\n").unwrap();
        fs::write(ctrl.join("nvme0n1/nvme0n1p1/dev"), "259:1\n").unwrap();
    }
}

fn addr(s: &str) -> PciAddress {
    s.parse().unwrap()
}

#[test]
fn lists_only_nvme_functions_with_kernel_details() {
    let f = FakeSys::new();
    let nvme = f.function("0000:00:04.0", NVME_CLASS, Some("nvme"), Some(3));
    f.kernel_nvme(&nvme);
    f.function("0000:00:02.0", 0x030000, None, Some(1)); // a VGA function
    f.function("0000:00:05.0", NVME_CLASS, Some("vfio-pci"), Some(4));
    fs::write(f.mountinfo(), "29 1 259:1 / /data rw,relatime shared:1 - ext4 /dev/nvme0n1p1 rw\n").unwrap();
    let list = f.sysfs().nvme_functions().unwrap();
    assert_eq!(list.len(), 2);
    let k = &list[0];
    assert_eq!(k.address, addr("0000:00:04.0"));
    assert_eq!((k.vendor, k.device, k.iommu_group), (0x1b36, 0x0010, Some(3)));
    assert_eq!(k.driver.as_deref(), Some("nvme"));
    assert_eq!(k.model.as_deref(), Some("QEMU NVMe Ctrl"));
    assert_eq!(k.serial.as_deref(), Some("deadbeef"));
    let names: Vec<&str> = k.block_devices.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["nvme0n1", "nvme0n1p1"]);
    assert!(k.is_mounted());
    assert_eq!(k.block_devices[1].mounts, ["/data"]);
    let v = &list[1];
    assert_eq!(v.driver.as_deref(), Some("vfio-pci"));
    assert!(v.model.is_none() && v.block_devices.is_empty() && !v.is_mounted());
}

#[test]
fn multipath_block_devices_are_found_through_the_subsystem() {
    let f = FakeSys::new();
    let nvme = f.function("0000:00:04.0", NVME_CLASS, Some("nvme"), Some(3));
    fs::create_dir_all(nvme.join("nvme/nvme0/nvme0c0n1")).unwrap();
    fs::write(nvme.join("nvme/nvme0/serial"), "S1\n").unwrap();
    fs::write(nvme.join("nvme/nvme0/dev"), "243:0\n").unwrap();
    let subsys = f.root().join("class/nvme-subsystem/nvme-subsys0");
    fs::create_dir_all(subsys.join("nvme0n1")).unwrap();
    fs::write(subsys.join("nvme0n1/dev"), "259:0\n").unwrap();
    symlink(nvme.join("nvme/nvme0"), subsys.join("nvme0")).unwrap();
    fs::write(f.mountinfo(), "29 1 259:0 / /mnt rw - xfs /dev/nvme0n1 rw\n").unwrap();
    let func = f.sysfs().function(addr("0000:00:04.0")).unwrap();
    assert_eq!(func.block_devices.len(), 1);
    assert!(func.is_mounted());
}

#[test]
fn bind_refuses_mounted_and_non_nvme_functions() {
    let f = FakeSys::new();
    f.driver("vfio-pci");
    let nvme = f.function("0000:00:04.0", NVME_CLASS, Some("nvme"), Some(3));
    f.kernel_nvme(&nvme);
    fs::write(f.mountinfo(), "29 1 259:0 / /srv rw - ext4 /dev/nvme0n1 rw\n").unwrap();
    let e = f.sysfs().bind(addr("0000:00:04.0"), VFIO_PCI).unwrap_err().to_string();
    assert!(e.contains("mounted filesystems (/dev/nvme0n1 on /srv)"), "{e}");
    assert_eq!(fs::read_to_string(nvme.join("driver_override")).unwrap(), "(null)\n", "nothing written");

    f.function("0000:00:02.0", 0x030000, Some("bochs"), Some(1));
    let e = f.sysfs().bind(addr("0000:00:02.0"), VFIO_PCI).unwrap_err().to_string();
    assert!(e.contains("not an NVMe controller"), "{e}");
    let e = f.sysfs().bind(addr("0000:00:09.0"), VFIO_PCI).unwrap_err();
    assert!(matches!(e, SysfsError::NoDevice(_)), "{e}");
}

#[test]
fn bind_writes_override_unbind_and_probe_for_the_named_function_only() {
    let f = FakeSys::new();
    f.driver("vfio-pci");
    let nvme = f.function("0000:00:04.0", NVME_CLASS, Some("nvme"), Some(3));
    let other = f.function("0000:00:05.0", NVME_CLASS, Some("nvme"), Some(4));
    fs::write(f.root().join("bus/pci/drivers/nvme/unbind"), "").unwrap();
    // The fake kernel does not rebind, so bind reports what is bound after.
    let e = f.sysfs().bind(addr("0000:00:04.0"), VFIO_PCI).unwrap_err().to_string();
    assert!(e.contains("did not bind vfio-pci (bound now: nvme)"), "{e}");
    assert_eq!(fs::read_to_string(nvme.join("driver_override")).unwrap(), "vfio-pci");
    assert_eq!(fs::read_to_string(f.root().join("bus/pci/drivers/nvme/unbind")).unwrap(), "0000:00:04.0");
    assert_eq!(fs::read_to_string(f.root().join("bus/pci/drivers_probe")).unwrap(), "0000:00:04.0");
    assert_eq!(fs::read_to_string(other.join("driver_override")).unwrap(), "(null)\n");
}

#[test]
fn bind_needs_the_target_driver_loaded() {
    let f = FakeSys::new();
    f.function("0000:00:04.0", NVME_CLASS, Some("nvme"), Some(3));
    let e = f.sysfs().bind(addr("0000:00:04.0"), VFIO_PCI).unwrap_err().to_string();
    assert!(e.contains("run `modprobe vfio-pci`"), "{e}");
}

#[test]
fn vfio_readiness_names_the_cause() {
    let f = FakeSys::new();
    let s = f.sysfs();
    let a = addr("0000:00:04.0");
    assert!(s.check_vfio_ready(a).unwrap_err().contains("there is no PCI function 0000:00:04.0"));

    // No IOMMU groups at all: the IOMMU is off.
    f.function("0000:00:04.0", NVME_CLASS, Some("nvme"), None);
    let e = s.check_vfio_ready(a).unwrap_err();
    assert!(e.contains("the IOMMU is off") && e.contains("intel_iommu=on"), "{e}");

    let f = FakeSys::new();
    let s = f.sysfs();
    f.function("0000:00:04.0", NVME_CLASS, Some("nvme"), Some(3));
    assert!(s.check_vfio_ready(a).unwrap_err().contains("vfio-pci driver is not loaded"));
    f.driver("vfio-pci");
    let e = s.check_vfio_ready(a).unwrap_err();
    assert!(e.contains("bound to nvme instead of vfio-pci: run `nvmeplan bind 0000:00:04.0`"), "{e}");

    let f = FakeSys::new();
    let s = f.sysfs();
    f.function("0000:00:04.0", NVME_CLASS, Some("vfio-pci"), Some(3));
    assert_eq!(s.check_vfio_ready(a), Ok(3));
    // Another function in the same group, bound to a kernel driver.
    let dir = f.function("0000:00:04.1", 0x020000, Some("e1000e"), None);
    let gdir = f.root().join("kernel/iommu_groups/3");
    symlink(&dir, gdir.join("devices/0000:00:04.1")).unwrap();
    let e = s.check_vfio_ready(a).unwrap_err();
    assert!(e.contains("IOMMU group 3 is not viable: it also holds 0000:00:04.1 (driver e1000e)"), "{e}");
}

#[test]
fn block_device_names() {
    for good in ["nvme0n1", "nvme12n3", "nvme0n1p1", "nvme1n2p15"] {
        assert!(is_block_name(good), "{good}");
    }
    for bad in ["nvme0", "nvme0c0n1", "nvme0n", "nvmen1", "nvme0n1p", "sda1", "nvme-subsys0", "nvme0n1x"] {
        assert!(!is_block_name(bad), "{bad}");
    }
}

#[test]
fn mountinfo_parsing() {
    let text = "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n\
                23 22 259:3 /sub /mnt/my\\040disk rw - xfs /dev/nvme1n1 rw\n\
                bad line\n";
    assert_eq!(
        parse_mountinfo(text),
        [("8:1".to_string(), "/".to_string()), ("259:3".to_string(), "/mnt/my disk".to_string())]
    );
}
