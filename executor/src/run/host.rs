//! The machine a plan runs on, for the report: host name, kernel release,
//! CPU model and the number of logical CPUs.

use super::result::HostInfo;

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok().map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// The CPU model from `/proc/cpuinfo` text (`model name`, or `Model` /
/// `cpu model` on other architectures).
pub fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        matches!(key.trim(), "model name" | "Model" | "cpu model")
            .then(|| value.trim().to_string())
            .filter(|v| !v.is_empty())
    })
}

/// Describes this machine; fields that cannot be read stay empty.
pub fn describe() -> HostInfo {
    HostInfo {
        hostname: read_trimmed("/proc/sys/kernel/hostname").unwrap_or_default(),
        os: std::env::consts::OS.to_string(),
        kernel: read_trimmed("/proc/sys/kernel/osrelease").unwrap_or_default(),
        cpu_model: std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .as_deref()
            .and_then(cpu_model)
            .unwrap_or_default(),
        cores: std::thread::available_parallelism().map_or(0, |n| n.get() as u32),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_model_is_read_from_cpuinfo() {
        let text =
            "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n";
        assert_eq!(cpu_model(text).as_deref(), Some("Intel(R) Xeon(R) CPU @ 2.20GHz"));
        assert_eq!(cpu_model("processor: 0\n"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn describes_this_machine() {
        let host = describe();
        assert_eq!(host.os, "linux");
        assert!(!host.kernel.is_empty());
        assert!(host.cores >= 1);
    }
}
