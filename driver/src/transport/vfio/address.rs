//! [`PciAddress`]: a PCI function address (domain:bus:device.function), as
//! written in device URIs (`pci:0000:01:00.0`) and on the command line.

use std::fmt;
use std::str::FromStr;

/// A PCI function address, e.g. `0000:01:00.0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PciAddress {
    /// PCI segment (domain).
    pub domain: u16,
    /// Bus number.
    pub bus: u8,
    /// Device number, 0 to 31.
    pub device: u8,
    /// Function number, 0 to 7.
    pub function: u8,
}

/// Why a PCI address did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a PCI address ({reason}); expected DDDD:BB:DD.F such as 0000:01:00.0, or BB:DD.F")]
pub struct PciAddressError {
    /// The text given.
    pub input: String,
    /// What is wrong with it.
    pub reason: String,
}

impl PciAddress {
    /// Parses a device URI `pci:DDDD:BB:DD.F` or a bare address
    /// (`DDDD:BB:DD.F` or `BB:DD.F`, domain 0).
    pub fn from_uri(uri: &str) -> Result<PciAddress, PciAddressError> {
        let uri = uri.trim();
        uri.strip_prefix("pci:").unwrap_or(uri).parse()
    }
}

fn hex_field<T: TryFrom<u32>>(
    input: &str,
    text: &str,
    name: &str,
    digits: usize,
    max: u32,
) -> Result<T, PciAddressError> {
    let err = |reason: String| PciAddressError { input: input.to_string(), reason };
    if text.is_empty() || text.len() > digits || !text.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(err(format!("{name} `{text}` must be 1 to {digits} hex digits")));
    }
    let value = u32::from_str_radix(text, 16).map_err(|e| err(format!("{name} `{text}`: {e}")))?;
    if value > max {
        return Err(err(format!("{name} {value:#x} is above {max:#x}")));
    }
    T::try_from(value).map_err(|_| err(format!("{name} {value:#x} out of range")))
}

impl FromStr for PciAddress {
    type Err = PciAddressError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason: &str| PciAddressError { input: s.to_string(), reason: reason.to_string() };
        let (rest, function) = s.rsplit_once('.').ok_or_else(|| err("missing `.function`"))?;
        let parts: Vec<&str> = rest.split(':').collect();
        let (domain, bus, device) = match parts.as_slice() {
            [domain, bus, device] => (*domain, *bus, *device),
            [bus, device] => ("0", *bus, *device),
            _ => return Err(err("expected two or three `:`-separated fields before `.function`")),
        };
        Ok(PciAddress {
            domain: hex_field(s, domain, "domain", 4, 0xFFFF)?,
            bus: hex_field(s, bus, "bus", 2, 0xFF)?,
            device: hex_field(s, device, "device", 2, 0x1F)?,
            function: hex_field(s, function, "function", 1, 7)?,
        })
    }
}

impl fmt::Display for PciAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04x}:{:02x}:{:02x}.{}", self.domain, self.bus, self.device, self.function)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_uri_and_bare_forms() {
        let want = PciAddress { domain: 0, bus: 1, device: 0, function: 0 };
        assert_eq!(PciAddress::from_uri("pci:0000:01:00.0").unwrap(), want);
        assert_eq!(PciAddress::from_uri("0000:01:00.0").unwrap(), want);
        assert_eq!(PciAddress::from_uri(" 01:00.0 ").unwrap(), want);
        let odd = PciAddress::from_uri("pci:10de:AF:1f.7").unwrap();
        assert_eq!(odd, PciAddress { domain: 0x10de, bus: 0xaf, device: 0x1f, function: 7 });
        assert_eq!(odd.to_string(), "10de:af:1f.7");
    }

    #[test]
    fn rejects_malformed_addresses_with_a_reason() {
        for (bad, reason) in [
            ("0000:01:00", "missing `.function`"),
            ("0000:01:20.0", "device 0x20 is above 0x1f"),
            ("0000:01:00.8", "function 0x8 is above 0x7"),
            ("0000:1ff:00.0", "bus `1ff` must be 1 to 2 hex digits"),
            ("0:0:01:00.0", "expected two or three"),
            ("0000:0g:00.0", "bus `0g`"),
            ("00.0", "expected two or three"),
        ] {
            let e = PciAddress::from_uri(bad).unwrap_err();
            assert!(e.to_string().contains(reason), "{bad}: {e}");
        }
    }

    proptest! {
        #[test]
        fn display_round_trips(domain: u16, bus: u8, device in 0u8..32, function in 0u8..8) {
            let a = PciAddress { domain, bus, device, function };
            prop_assert_eq!(PciAddress::from_uri(&format!("pci:{a}")).unwrap(), a);
        }

        #[test]
        fn never_panics(s in "\\PC{0,24}") {
            let _ = PciAddress::from_uri(&s);
        }
    }
}
