//! The device side of a run: opening the controller, describing it, named
//! fields as JSON, feature dword fields, registers and capabilities.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use nvmeplan_device::{Device, DeviceUri, UriError};
use nvmeplan_driver::{Controller, ControllerOptions, DriverError};
use nvmeplan_spec::features;
use nvmeplan_spec::identify::{FieldValue, NamedFields};
use nvmeplan_spec::layout::{self, BitField};
use nvmeplan_spec::registers::{self, Cap, Csts};
use serde_json::{Map, Value};

use super::result::{DeviceInfo, LbaFormatInfo, NamespaceInfo};
use crate::plan::capability::{Capability, CapabilitySource};

/// Why the device could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("cannot open device `{uri}`: {}", open_reason(source))]
pub struct OpenError {
    /// The URI given.
    pub uri: String,
    /// What failed.
    #[source]
    pub source: OpenFailure,
}

/// What failed when a device was opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenFailure {
    /// The URI does not parse.
    #[error(transparent)]
    Uri(#[from] UriError),
    /// The transport or the controller's bring-up failed.
    #[error(transparent)]
    Driver(#[from] DriverError),
}

/// Why opening failed, without what [`OpenError`] says already: the URI a
/// malformed-URI error repeats, and the `transport:` tag.
fn open_reason(source: &OpenFailure) -> String {
    match source {
        OpenFailure::Uri(e) => e.problem.to_string(),
        OpenFailure::Driver(DriverError::Transport(e)) => e.to_string(),
        OpenFailure::Driver(e) => e.to_string(),
    }
}

/// Opens and initialises the device at `uri` (`sim`, `sim:key=value,...`,
/// `pci:DDDD:BB:DD.F` or a bare PCI address).
pub fn open(uri: &str) -> Result<Device, OpenError> {
    let fail = |source: OpenFailure| OpenError { uri: uri.to_string(), source };
    let parsed = DeviceUri::parse(uri).map_err(|e| fail(e.into()))?;
    nvmeplan_device::open(&parsed, ControllerOptions::default()).map_err(|e| fail(e.into()))
}

/// Opens the device `uri` names, its driver sharing `cancel`: once it is
/// set (Ctrl-C), every wait of the driver ends promptly with
/// `DriverError::Cancelled`.
pub fn open_cancellable(uri: &DeviceUri, cancel: Arc<AtomicBool>) -> Result<Device, OpenError> {
    let options = ControllerOptions { cancel: Some(cancel), ..ControllerOptions::default() };
    nvmeplan_device::open(uri, options)
        .map_err(|e| OpenError { uri: uri.as_str().to_string(), source: e.into() })
}

/// A field value as JSON: integers as numbers (as strings past `u64`),
/// text as strings, bytes as lowercase hex.
pub fn field_json(value: &FieldValue) -> Value {
    match value {
        FieldValue::Int(v) => match u64::try_from(*v) {
            Ok(v) => Value::from(v),
            Err(_) => Value::String(v.to_string()),
        },
        FieldValue::Text(s) => Value::String(s.clone()),
        FieldValue::Bytes(_) => Value::String(value.to_string()),
    }
}

/// Every named field of a structure as a JSON object.
pub fn fields_json(fields: &dyn NamedFields) -> Map<String, Value> {
    fields.fields().into_iter().map(|(name, v)| (name.to_string(), field_json(&v))).collect()
}

/// The fields of `raw` laid out as `fields`, by name.
fn fields_of(fields: &'static [BitField], raw: u64) -> Map<String, Value> {
    layout::values(fields, raw).map(|(name, value)| (name.to_string(), Value::from(value))).collect()
}

/// The named fields of a feature dword.
pub fn feature_fields(fid: u8, dword: u32) -> Map<String, Value> {
    fields_of(features::feature_fields(fid), u64::from(dword))
}

/// Sets the field `name` of a feature dword; `None` if the feature has no
/// such field or the value does not fit.
pub fn set_feature_field(fid: u8, dword: u32, name: &str, value: u32) -> Option<u32> {
    let raw = layout::set_by_name(features::feature_fields(fid), u64::from(dword), name, u64::from(value))?;
    u32::try_from(raw).ok()
}

/// The named fields of register `register` holding `raw`.
pub fn register_json(register: &str, raw: u64) -> Map<String, Value> {
    fields_of(registers::register_fields(register), raw)
}

/// Why a register access was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RegisterError(pub String);

/// A register (or field of one) resolved to its BAR0 offset and bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegisterField {
    /// BAR0 offset.
    pub offset: u64,
    /// Width of the register in bytes (4 or 8).
    pub size: u8,
    /// Lowest bit of the field.
    pub shift: u32,
    /// Width of the field in bits (the register's for a whole register).
    pub width: u32,
}

impl RegisterField {
    /// Resolves `cap`, `csts.rdy`, `cc.en`, ...
    pub fn resolve(name: &str) -> Result<RegisterField, RegisterError> {
        let (reg, field) = match name.split_once('.') {
            Some((r, f)) => (r, Some(f)),
            None => (name, None),
        };
        let &(_, offset, size) = registers::REGISTER_NAMES
            .iter()
            .find(|(n, _, _)| *n == reg)
            .ok_or_else(|| RegisterError(format!("unknown register `{reg}`")))?;
        let (shift, width) = match field {
            None => (0, u32::from(size) * 8),
            Some(f) => layout::find(registers::register_fields(reg), f)
                .map(|b| (b.offset, b.width))
                .ok_or_else(|| RegisterError(format!("register `{reg}` has no field `{f}`")))?,
        };
        Ok(RegisterField { offset, size, shift, width })
    }

    /// Reads the whole register.
    pub fn read_raw(&self, ctrl: &Controller) -> u64 {
        let t = ctrl.transport();
        if self.size == 8 { t.bar0_read64(self.offset) } else { u64::from(t.bar0_read32(self.offset)) }
    }

    /// The field's bits within the register.
    fn bits(&self) -> BitField {
        BitField { name: "", offset: self.shift, width: self.width, meaning: "" }
    }

    /// Reads the field.
    pub fn read(&self, ctrl: &Controller) -> u64 {
        self.bits().get(self.read_raw(ctrl))
    }

    /// Writes the field (read-modify-write for a field of a register).
    pub fn write(&self, ctrl: &Controller, value: u64) -> Result<(), RegisterError> {
        let misfit = || RegisterError(format!("value {value:#x} does not fit in {} bits", self.width));
        self.bits().set(0, value).ok_or_else(misfit)?;
        let whole = u32::from(self.size) * 8 == self.width;
        let current = if whole { 0 } else { self.read_raw(ctrl) };
        let raw = self.bits().set(current, value).ok_or_else(misfit)?;
        let t = ctrl.transport();
        if self.size == 8 {
            t.bar0_write64(self.offset, raw);
        } else {
            t.bar0_write32(self.offset, raw as u32);
        }
        Ok(())
    }
}

/// CSTS read now, with its decoded fields.
pub fn csts_text(ctrl: &Controller) -> String {
    let raw = ctrl.transport().bar0_read32(registers::CSTS);
    let c = Csts::from(raw);
    format!(
        "{raw:#010x} (rdy {}, cfs {}, shst {}, nssro {})",
        u8::from(c.rdy()),
        u8::from(c.cfs()),
        c.shst(),
        u8::from(c.nssro())
    )
}

/// Whether CSTS.CFS (controller fatal status) is set.
pub fn is_fatal(ctrl: &Controller) -> bool {
    let raw = ctrl.transport().bar0_read32(registers::CSTS);
    raw != u32::MAX && Csts::from(raw).cfs()
}

/// CAP read now, raw.
pub fn cap_text(ctrl: &Controller) -> String {
    let raw = ctrl.transport().bar0_read64(registers::CAP);
    let cap = Cap::from(raw);
    format!("{raw:#018x} (mqes {}, to {}, nssrs {})", cap.mqes(), cap.to(), u8::from(cap.nssrs()))
}

/// Whether the device (`simulated` when it is the simulator) has
/// `capability`; `Err` says why not.
pub fn check_capability(ctrl: &Controller, simulated: bool, capability: &Capability) -> Result<(), String> {
    let have = match capability.source {
        CapabilitySource::Simulator => simulated,
        CapabilitySource::Register(_) => {
            let cap = ctrl.transport().bar0_read64(registers::CAP);
            (cap >> capability.bit) & 1 == 1
        }
        CapabilitySource::Identify(field) => {
            let identify = ctrl.identify().map_err(|e| format!("requires {capability}: {e}"))?;
            let value = identify.field(field).and_then(|v| v.as_int()).unwrap_or(0);
            (value >> capability.bit) & 1 == 1
        }
    };
    if have {
        Ok(())
    } else {
        Err(format!("requires {capability} ({} not supported)", capability.description))
    }
}

/// A description of the device for the result.
pub fn describe(ctrl: &Controller, uri: &str) -> DeviceInfo {
    let mut info =
        DeviceInfo { uri: uri.to_string(), backend: ctrl.transport().describe(), ..DeviceInfo::default() };
    if let Ok(id) = ctrl.identify() {
        info.vid = id.vid;
        info.ssvid = id.ssvid;
        info.sn = id.serial();
        info.mn = id.model();
        info.fr = id.firmware_revision();
        info.nn = id.nn;
        info.mdts = id.mdts;
        info.oacs = id.oacs;
        info.oncs = id.oncs;
        info.identify = fields_json(id.as_ref()).into_iter().collect();
    }
    if let Ok(vs) = ctrl.version() {
        info.version = format!("{}.{}.{}", vs.mjr(), vs.mnr(), vs.ter());
    }
    info.namespaces = ctrl
        .namespaces()
        .unwrap_or_default()
        .iter()
        .map(|ns| {
            let format = ns.identify.active_lba_format();
            NamespaceInfo {
                nsid: ns.nsid,
                nsze: ns.nsze,
                ncap: ns.ncap,
                lba_size: ns.lba_size,
                lba_format: LbaFormatInfo {
                    index: ns.identify.active_lba_format_index() as u8,
                    lbads: format.lbads(),
                    ms: format.ms(),
                    rp: format.rp(),
                },
                nlbaf: ns.identify.nlbaf,
            }
        })
        .collect();
    info
}

#[cfg(test)]
mod tests {
    use super::*;
    use nvmeplan_driver::TransportError;
    use nvmeplan_spec::features::{AsyncEventConfiguration, NumberOfQueues, TemperatureThreshold};

    #[test]
    fn feature_layouts_match_the_spec_bitfields() {
        let nq: u32 = NumberOfQueues::new().with_nsqr(3).with_ncqr(7).into();
        let f = feature_fields(nvmeplan_spec::features::fid::NUMBER_OF_QUEUES, nq);
        assert_eq!((f["nsqr"].as_u64(), f["ncqr"].as_u64()), (Some(3), Some(7)));
        let tt: u32 = TemperatureThreshold::new().with_tmpth(343).with_tmpsel(2).with_thsel(1).into();
        let f = feature_fields(nvmeplan_spec::features::fid::TEMPERATURE_THRESHOLD, tt);
        assert_eq!(
            (f["tmpth"].as_u64(), f["tmpsel"].as_u64(), f["thsel"].as_u64()),
            (Some(343), Some(2), Some(1))
        );
        let ae: u32 = AsyncEventConfiguration::new().with_fans(true).into();
        let f = feature_fields(nvmeplan_spec::features::fid::ASYNC_EVENT_CONFIGURATION, ae);
        assert_eq!(f["fans"].as_u64(), Some(1));
        for fid in 0..=255u8 {
            let names: Vec<&str> = layout::named(features::feature_fields(fid)).map(|f| f.name).collect();
            assert_eq!(names, crate::fields::feature_fields(fid), "fid {fid:#x}");
        }
        assert_eq!(set_feature_field(6, 0, "wce", 1), Some(1));
        assert_eq!(set_feature_field(6, 0, "wce", 2), None);
    }

    #[test]
    fn an_open_error_names_the_device_once() {
        let bad = DeviceUri::parse("pci:xyz").unwrap_err();
        let e = OpenError { uri: "pci:xyz".into(), source: OpenFailure::Uri(bad) };
        assert_eq!(
            e.to_string(),
            "cannot open device `pci:xyz`: `xyz` is not a PCI address (missing `.function`); expected \
             DDDD:BB:DD.F such as 0000:01:00.0, or BB:DD.F"
        );
        let e = OpenError {
            uri: "pci:0000:fe:1f.7".into(),
            source: OpenFailure::Driver(DriverError::Transport(TransportError::Open {
                what: "pci:0000:fe:1f.7".into(),
                reason: "there is no PCI function".into(),
            })),
        };
        assert_eq!(
            e.to_string(),
            "cannot open device `pci:0000:fe:1f.7`: opening pci:0000:fe:1f.7 failed: there is no PCI function"
        );
    }

    #[test]
    fn register_fields() {
        let f = RegisterField::resolve("csts.shst").unwrap();
        assert_eq!((f.offset, f.shift, f.width), (registers::CSTS, 2, 2));
        let f = RegisterField::resolve("cap.mqes").unwrap();
        assert_eq!((f.size, f.width), (8, 16));
        assert!(RegisterField::resolve("cap.nope").is_err());
        for name in crate::plan::control::RegisterName::all() {
            RegisterField::resolve(&name).unwrap();
        }
    }
}
