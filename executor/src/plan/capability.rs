//! Device capabilities a step can require (`requires: [oacs.format]`).

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Where a capability bit lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CapabilitySource {
    /// A field of Identify Controller, by its spec name (`oacs`).
    Identify(&'static str),
    /// A controller register, by name (`cap`).
    Register(&'static str),
    /// The device is the simulator (fault injection, power cycles).
    Simulator,
}

/// A capability: a named bit of an identify field or register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Capability {
    /// The name plans use (`oacs.format`).
    pub name: &'static str,
    /// Where the bit is.
    pub source: CapabilitySource,
    /// The bit number in that field or register.
    pub bit: u8,
    /// What the capability means, for skip reasons.
    pub description: &'static str,
}

macro_rules! caps {
    ($($name:literal => $source:expr, $bit:literal, $desc:literal;)*) => {
        /// Every known capability.
        pub const CAPABILITIES: &[Capability] = &[
            $(Capability { name: $name, source: $source, bit: $bit, description: $desc },)*
        ];
    };
}

use CapabilitySource::{Identify as Id, Register as Reg};

caps! {
    "oacs.security" => Id("oacs"), 0, "Security Send and Security Receive";
    "oacs.format" => Id("oacs"), 1, "Format NVM";
    "oacs.firmware" => Id("oacs"), 2, "Firmware Commit and Firmware Image Download";
    "oacs.ns_management" => Id("oacs"), 3, "Namespace Management and Attachment";
    "oacs.self_test" => Id("oacs"), 4, "Device Self-test";
    "oacs.directives" => Id("oacs"), 5, "Directives";
    "oacs.nvme_mi" => Id("oacs"), 6, "NVMe-MI Send and Receive";
    "oacs.virtualization" => Id("oacs"), 7, "Virtualization Management";
    "oacs.doorbell_buffer" => Id("oacs"), 8, "Doorbell Buffer Config";
    "oacs.get_lba_status" => Id("oacs"), 9, "Get LBA Status";
    "oncs.compare" => Id("oncs"), 0, "Compare";
    "oncs.write_uncorrectable" => Id("oncs"), 1, "Write Uncorrectable";
    "oncs.dsm" => Id("oncs"), 2, "Dataset Management (deallocate)";
    "oncs.write_zeroes" => Id("oncs"), 3, "Write Zeroes";
    "oncs.save_select" => Id("oncs"), 4, "the Save field of Set Features and the Select field of Get Features";
    "oncs.reservations" => Id("oncs"), 5, "Reservations";
    "oncs.timestamp" => Id("oncs"), 6, "the Timestamp feature";
    "oncs.verify" => Id("oncs"), 7, "Verify";
    "oncs.copy" => Id("oncs"), 8, "Copy";
    "vwc.present" => Id("vwc"), 0, "a volatile write cache";
    "sanicap.crypto_erase" => Id("sanicap"), 0, "sanitize crypto erase";
    "sanicap.block_erase" => Id("sanicap"), 1, "sanitize block erase";
    "sanicap.overwrite" => Id("sanicap"), 2, "sanitize overwrite";
    "lpa.smart_per_ns" => Id("lpa"), 0, "a SMART log per namespace";
    "lpa.commands_effects" => Id("lpa"), 1, "the Commands Supported and Effects log";
    "frmw.slot1_ro" => Id("frmw"), 0, "a read-only firmware slot 1";
    "cap.nssrs" => Reg("cap"), 36, "NVM subsystem reset";
    "cap.bps" => Reg("cap"), 45, "boot partitions";
    "cap.pmrs" => Reg("cap"), 56, "a persistent memory region";
    "cap.cmbs" => Reg("cap"), 57, "a controller memory buffer";
    "cap.nsss" => Reg("cap"), 58, "NVM subsystem shutdown";
    "device.sim" => CapabilitySource::Simulator, 0, "the simulator (fault injection)";
}

impl Capability {
    /// The capability called `name`.
    pub fn from_name(name: &str) -> Option<Capability> {
        CAPABILITIES.iter().find(|c| c.name == name).copied()
    }

    /// Every capability name.
    pub fn names() -> Vec<&'static str> {
        CAPABILITIES.iter().map(|c| c.name).collect()
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

impl<'de> Deserialize<'de> for Capability {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Capability::from_name(&name).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown capability `{name}`{}",
                crate::diagnostic::did_you_mean(&name, Capability::names())
            ))
        })
    }
}

impl Serialize for Capability {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name)
    }
}

impl JsonSchema for Capability {
    fn schema_name() -> Cow<'static, str> {
        "Capability".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A capability: an identify controller bit (`oacs.format`, `oncs.write_zeroes`, `vwc.present`, ...), a CAP register bit (`cap.nssrs`) or `device.sim`.",
            "type": "string",
            "enum": Capability::names()
        })
    }
}
