//! `nvmeplan devices`, `nvmeplan bind` and `nvmeplan unbind`: list NVMe PCI
//! functions and move one named function between the kernel nvme driver and
//! vfio-pci.
//!
//! Exit codes: 0 success, 2 a malformed PCI address, 3 the function could
//! not be listed or moved (refused or failed; the message says why).

use nvmeplan::exit_code::ExitCode;
use nvmeplan_driver::transport::vfio::PciAddress;
use nvmeplan_driver::transport::vfio::sysfs::{KERNEL_NVME, PciFunction, Sysfs, VFIO_PCI};

fn or_dash(v: Option<&str>) -> &str {
    v.unwrap_or("-")
}

/// One table row.
fn row(f: &PciFunction) -> [String; 8] {
    let block = if f.block_devices.is_empty() {
        "-".to_string()
    } else {
        f.block_devices
            .iter()
            .map(|b| {
                if b.mounts.is_empty() {
                    b.name.clone()
                } else {
                    format!("{} ({})", b.name, b.mounts.join(" "))
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    [
        f.address.to_string(),
        format!("{:04x}:{:04x}", f.vendor, f.device),
        or_dash(f.driver.as_deref()).to_string(),
        f.iommu_group.map_or("-".to_string(), |g| g.to_string()),
        or_dash(f.model.as_deref()).to_string(),
        or_dash(f.serial.as_deref()).to_string(),
        if f.is_mounted() { "yes".into() } else { "no".into() },
        block,
    ]
}

/// Renders the device table (also used by tests).
pub fn render_table(functions: &[PciFunction]) -> String {
    let header = ["ADDRESS", "ID", "DRIVER", "GROUP", "MODEL", "SERIAL", "MOUNTED", "BLOCK DEVICES"];
    let rows: Vec<[String; 8]> = functions.iter().map(row).collect();
    let mut widths = header.map(str::len);
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.len());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let text: Vec<String> = cells.iter().zip(widths).map(|(c, w)| format!("{c:<w$}")).collect();
        out.push_str(text.join("  ").trim_end());
        out.push('\n');
    };
    line(header.to_vec());
    for r in &rows {
        line(r.iter().map(String::as_str).collect());
    }
    out
}

/// `nvmeplan devices`.
pub fn devices(sysfs: &Sysfs, json: bool) -> u8 {
    let functions = match sysfs.nvme_functions() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: cannot list PCI functions: {e}");
            return ExitCode::Device.code();
        }
    };
    let text = if json {
        serde_json::to_string_pretty(&functions).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}")) + "\n"
    } else if functions.is_empty() {
        let iommu = if sysfs.iommu_enabled() { "on" } else { "off" };
        format!("no NVMe PCI functions found (IOMMU {iommu})\n")
    } else {
        render_table(&functions)
    };
    super::stdout::print(&text);
    ExitCode::Success.code()
}

/// `nvmeplan bind BDF` (to vfio-pci) and `nvmeplan unbind BDF` (back to
/// the kernel nvme driver).
pub fn move_driver(sysfs: &Sysfs, address: &str, to_vfio: bool) -> u8 {
    let addr = match PciAddress::from_uri(address) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::Usage.code();
        }
    };
    let driver = if to_vfio { VFIO_PCI } else { KERNEL_NVME };
    match sysfs.bind(addr, driver) {
        Ok(now) => {
            super::stdout::println(&format!("{addr}: bound to {now}"));
            ExitCode::Success.code()
        }
        Err(e) => {
            eprintln!("error: {addr}: {e}");
            ExitCode::Device.code()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nvmeplan_driver::transport::vfio::sysfs::BlockDevice;

    #[test]
    fn table_lists_driver_group_and_mounts() {
        let kernel = PciFunction {
            address: "0000:00:04.0".parse().unwrap(),
            vendor: 0x1b36,
            device: 0x0010,
            class: 0x010802,
            driver: Some("nvme".into()),
            iommu_group: Some(3),
            model: Some("QEMU NVMe Ctrl".into()),
            serial: Some("deadbeef".into()),
            block_devices: vec![
                BlockDevice { name: "nvme0n1".into(), mounts: vec![] },
                BlockDevice { name: "nvme0n1p1".into(), mounts: vec!["/data".into()] },
            ],
        };
        let vfio = PciFunction {
            address: "0000:00:05.0".parse().unwrap(),
            driver: Some("vfio-pci".into()),
            iommu_group: Some(4),
            model: None,
            serial: None,
            block_devices: vec![],
            ..kernel.clone()
        };
        let table = render_table(&[kernel, vfio]);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 3, "{table}");
        assert!(lines[0].starts_with("ADDRESS       ID         DRIVER    GROUP  MODEL"), "{table}");
        assert!(
            lines[1].contains("0000:00:04.0  1b36:0010  nvme      3      QEMU NVMe Ctrl  deadbeef  yes"),
            "{table}"
        );
        assert!(lines[1].ends_with("nvme0n1, nvme0n1p1 (/data)"), "{table}");
        assert!(
            lines[2]
                .contains("0000:00:05.0  1b36:0010  vfio-pci  4      -               -         no       -"),
            "{table}"
        );
    }

    #[test]
    fn bad_addresses_are_usage_errors() {
        let sysfs = Sysfs::new("/nonexistent-sysfs", "/nonexistent-mountinfo");
        assert_eq!(move_driver(&sysfs, "0000:01:00", true), ExitCode::Usage.code());
        assert_eq!(move_driver(&sysfs, "0000:01:00.0", true), ExitCode::Device.code());
        assert_eq!(devices(&sysfs, false), ExitCode::Success.code());
    }
}
