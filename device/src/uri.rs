//! [`DeviceUri`]: a device URI parsed into the device it names, the
//! simulator with its [`SimConfig`] or a PCI function by address, and
//! [`UriError`], which names the part of a URI that is wrong.
//!
//! The forms are those of docs/devices.md: `sim`, `sim:key=value,...`,
//! `pci:DDDD:BB:DD.F`, and a bare address (`0000:01:00.0`, or `01:00.0`
//! in domain 0).

use std::fmt;
use std::str::FromStr;

use nvmeplan_driver::transport::vfio::PciAddress;
use nvmeplan_driver::transport::vfio::address::PciAddressError;
use nvmeplan_sim::SimConfig;
use nvmeplan_sim::config::ConfigError;

/// The URI forms [`DeviceUri`] accepts, as error messages list them.
pub const SUPPORTED_SCHEMES: &str =
    "`sim`, `sim:key=value,...`, `pci:DDDD:BB:DD.F` or a PCI address such as 0000:01:00.0";

/// The device a URI names.
#[derive(Clone, Debug)]
pub enum DeviceTarget {
    /// The in-process simulator, built from this configuration.
    Sim(Box<SimConfig>),
    /// A PCI function bound to vfio-pci.
    Pci(PciAddress),
}

/// A device URI, parsed: the text it was written as and the device it
/// names. Parsing checks everything that can be checked without opening
/// the device (every simulator parameter, the address's fields).
#[derive(Clone, Debug)]
pub struct DeviceUri {
    text: String,
    target: DeviceTarget,
}

/// What is wrong with a device URI.
#[derive(Debug, thiserror::Error)]
pub enum UriProblem {
    /// A simulator parameter is unknown, malformed or inconsistent.
    #[error("{0}")]
    Sim(#[source] ConfigError),
    /// The PCI address is malformed.
    #[error("{0}")]
    Pci(#[source] PciAddressError),
    /// The URI starts with a scheme that names no device kind.
    #[error("unknown scheme `{scheme}` (expected {SUPPORTED_SCHEMES})")]
    UnknownScheme {
        /// The text before the first `:` (all of it without one).
        scheme: String,
    },
}

/// A device URI that does not parse: `device `URI`: ` and the problem.
#[derive(Debug, thiserror::Error)]
#[error("device `{uri}`: {problem}")]
pub struct UriError {
    /// The URI given, without surrounding whitespace.
    pub uri: String,
    /// What is wrong with it.
    #[source]
    pub problem: UriProblem,
}

impl DeviceUri {
    /// Parses `text` (surrounding whitespace is ignored).
    pub fn parse(text: &str) -> Result<DeviceUri, UriError> {
        let uri = text.trim();
        let fail = |problem| UriError { uri: uri.to_string(), problem };
        let (scheme, params) = uri.split_once(':').unwrap_or((uri, ""));
        let pci = || PciAddress::from_uri(uri).map(DeviceTarget::Pci).map_err(|e| fail(UriProblem::Pci(e)));
        let target = match scheme {
            "sim" => SimConfig::from_params(params)
                .map(|config| DeviceTarget::Sim(Box::new(config)))
                .map_err(|e| fail(UriProblem::Sim(e)))?,
            "pci" => pci()?,
            // A bare address starts with a hex domain or bus.
            _ if !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_hexdigit()) => pci()?,
            _ => return Err(fail(UriProblem::UnknownScheme { scheme: scheme.to_string() })),
        };
        Ok(DeviceUri { text: text.to_string(), target })
    }

    /// The URI as it was written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The device it names.
    pub fn target(&self) -> &DeviceTarget {
        &self.target
    }

    /// Whether it names the simulator.
    pub fn is_sim(&self) -> bool {
        matches!(self.target, DeviceTarget::Sim(_))
    }
}

impl FromStr for DeviceUri {
    type Err = UriError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        DeviceUri::parse(text)
    }
}

impl fmt::Display for DeviceUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(uri: &str) -> String {
        match DeviceUri::parse(uri) {
            Ok(parsed) => panic!("{uri} parsed as {:?}", parsed.target()),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn every_documented_form_parses_to_its_device() {
        let want = PciAddress { domain: 0, bus: 1, device: 0, function: 0 };
        for uri in ["pci:0000:01:00.0", "0000:01:00.0", "01:00.0", " 01:00.0 "] {
            let parsed = DeviceUri::parse(uri).unwrap();
            assert!(matches!(parsed.target(), DeviceTarget::Pci(a) if *a == want), "{uri}");
            assert_eq!(parsed.as_str(), uri);
        }
        let DeviceTarget::Sim(config) =
            DeviceUri::parse("sim:lba=4096,namespaces=2").unwrap().target().clone()
        else {
            panic!("not the simulator")
        };
        assert_eq!(config.namespaces.len(), 2);
        assert!(config.namespaces.iter().all(|ns| ns.lba_size == 4096));
        let DeviceTarget::Sim(default) = DeviceUri::parse("sim").unwrap().target().clone() else {
            panic!("not the simulator")
        };
        assert_eq!(default.namespaces.len(), SimConfig::default().namespaces.len());
        let odd = PciAddress { domain: 0, bus: 0xaf, device: 0x1f, function: 7 };
        assert!(
            matches!(DeviceUri::parse(" 0000:af:1f.7 ").unwrap().target(), DeviceTarget::Pci(a) if *a == odd)
        );
        assert!(DeviceUri::parse(" sim ").unwrap().is_sim());
        assert!(!DeviceUri::parse("af:1f.7").unwrap().is_sim());
    }

    #[test]
    fn errors_name_the_uri_and_the_bad_part() {
        for (uri, why) in [
            ("0000:01:00", "`0000:01:00` is not a PCI address (missing `.function`)"),
            ("01:20.0", "device 0x20 is above 0x1f"),
            ("pci:xyz", "`xyz` is not a PCI address"),
            ("sim:nosuchkey=1", "unknown simulator parameter `nosuchkey`"),
            ("sim:lba=7", "`lba`"),
            ("nvme:0", "unknown scheme `nvme` (expected `sim`"),
            ("", "unknown scheme ``"),
        ] {
            let e = err(uri);
            assert!(e.starts_with(&format!("device `{uri}`: ")) && e.contains(why), "{uri}: {e}");
        }
        assert!(err(" nvme:0 ").starts_with("device `nvme:0`: "));
    }
}
