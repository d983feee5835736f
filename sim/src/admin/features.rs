//! Get Features and Set Features.
//!
//! This module owns the feature values of the controller
//! ([`FeatureState`]) and their defaults. Features reset to their defaults at every controller level
//! reset; none is saveable (a Set Features with SV=1 fails with
//! feature_identifier_not_saveable and SEL=saved returns the default).
//! Supported: arbitration, power management, temperature threshold
//! (composite and sensor 1, over and under), error recovery, volatile write
//! cache, number of queues, interrupt coalescing, interrupt vector
//! configuration, write atomicity normal and asynchronous event
//! configuration. What a Set Features changes elsewhere (the namespaces'
//! write caches, an asynchronous event) is returned as [`SetEffects`] for
//! the dispatcher to apply.

use super::common::NSID_ALL;
use super::host::AdminHost;
use crate::config::SimConfig;
use crate::health::{COMPOSITE_TEMPERATURE, WCTEMP};
use nvmeplan_spec::features::{
    self as f, AsyncEventConfiguration, InterruptCoalescing, InterruptVectorConfiguration, NumberOfQueues,
    TemperatureThreshold, WriteAtomicityNormal, async_event, fid, select,
};
use nvmeplan_spec::log::{critical_warning, lid};
use nvmeplan_spec::{Command, Status};
use parking_lot::Mutex;

/// Temperature sensors the controller implements: composite (0) and 1.
const SENSORS: usize = 2;

/// Feature values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FeatureState {
    /// Arbitration (dword 11 as set).
    pub arbitration: u32,
    /// Power management (PS, WH).
    pub power: u32,
    /// Over temperature thresholds per sensor (Kelvin).
    pub temp_over: [u16; SENSORS],
    /// Under temperature thresholds per sensor (Kelvin).
    pub temp_under: [u16; SENSORS],
    /// Error recovery (TLER).
    pub error_recovery: u32,
    /// Volatile write cache enable.
    pub write_cache: bool,
    /// Number of queues allocated (NSQA | NCQA << 16, zero-based).
    pub queues: u32,
    /// Interrupt coalescing (THR | TIME << 8).
    pub coalescing: u32,
    /// Coalescing disable per interrupt vector.
    pub vector_cd: Vec<bool>,
    /// Write atomicity normal (DN).
    pub write_atomicity: u32,
    /// Asynchronous event configuration.
    pub aec: u32,
}

impl FeatureState {
    /// The default values for `cfg`.
    pub fn defaults(cfg: &SimConfig) -> FeatureState {
        let max = cfg.max_io_queues - 1;
        FeatureState {
            arbitration: 0,
            power: 0,
            temp_over: [WCTEMP, 0xFFFF],
            temp_under: [0, 0],
            error_recovery: 0,
            write_cache: cfg.volatile_write_cache,
            queues: NumberOfQueues::new().with_nsqr(max).with_ncqr(max).into_bits(),
            coalescing: 0,
            vector_cd: vec![false; usize::from(cfg.msix_vectors)],
            write_atomicity: 0,
            aec: 0,
        }
    }

    /// Whether a temperature is beyond a threshold (SMART critical warning
    /// bit 1).
    pub fn temperature_warning(&self) -> bool {
        (0..SENSORS).any(|s| {
            let t = COMPOSITE_TEMPERATURE;
            t > self.temp_over[s] || t < self.temp_under[s]
        })
    }

    /// The number of I/O submission and completion queues allocated
    /// (one-based).
    pub fn queue_counts(&self) -> (u32, u32) {
        let q = NumberOfQueues::from_bits(self.queues);
        (q.submission_queues(), q.completion_queues())
    }
}

fn supported(cfg: &SimConfig, id: u8) -> bool {
    match id {
        fid::VOLATILE_WRITE_CACHE => cfg.volatile_write_cache,
        fid::ARBITRATION
        | fid::POWER_MANAGEMENT
        | fid::TEMPERATURE_THRESHOLD
        | fid::ERROR_RECOVERY
        | fid::NUMBER_OF_QUEUES
        | fid::INTERRUPT_COALESCING
        | fid::INTERRUPT_VECTOR_CONFIGURATION
        | fid::WRITE_ATOMICITY_NORMAL
        | fid::ASYNC_EVENT_CONFIGURATION => true,
        _ => false,
    }
}

fn threshold_slot(cdw11: u32) -> Result<(usize, bool), Status> {
    let t = TemperatureThreshold::from_bits(cdw11);
    let sensor = usize::from(t.tmpsel());
    if sensor >= SENSORS {
        return Err(Status::INVALID_FIELD_IN_COMMAND);
    }
    match t.thsel() {
        TemperatureThreshold::THSEL_OVER => Ok((sensor, true)),
        TemperatureThreshold::THSEL_UNDER => Ok((sensor, false)),
        _ => Err(Status::INVALID_FIELD_IN_COMMAND),
    }
}

fn value_of(features: &FeatureState, id: u8, cdw11: u32) -> Result<u32, Status> {
    Ok(match id {
        fid::ARBITRATION => features.arbitration,
        fid::POWER_MANAGEMENT => features.power,
        fid::TEMPERATURE_THRESHOLD => {
            let (sensor, over) = threshold_slot(cdw11)?;
            let t = if over { features.temp_over[sensor] } else { features.temp_under[sensor] };
            let asked = TemperatureThreshold::from_bits(cdw11);
            TemperatureThreshold::new()
                .with_tmpsel(asked.tmpsel())
                .with_thsel(asked.thsel())
                .with_tmpth(t)
                .into_bits()
        }
        fid::ERROR_RECOVERY => features.error_recovery,
        fid::VOLATILE_WRITE_CACHE => u32::from(features.write_cache),
        fid::NUMBER_OF_QUEUES => features.queues,
        fid::INTERRUPT_COALESCING => features.coalescing,
        fid::INTERRUPT_VECTOR_CONFIGURATION => {
            let iv = InterruptVectorConfiguration::from_bits(cdw11).iv();
            let cd = *features.vector_cd.get(usize::from(iv)).ok_or(Status::INVALID_FIELD_IN_COMMAND)?;
            InterruptVectorConfiguration::new().with_iv(iv).with_cd(cd).into_bits()
        }
        fid::WRITE_ATOMICITY_NORMAL => features.write_atomicity,
        fid::ASYNC_EVENT_CONFIGURATION => features.aec,
        _ => return Err(Status::INVALID_FIELD_IN_COMMAND),
    })
}

/// What a successful Set Features asks of the rest of the controller.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct SetEffects {
    /// Completion dword 0.
    pub dw0: u32,
    /// The volatile write cache setting changed: the namespaces follow it.
    pub write_cache: bool,
    /// The coalescing settings to publish to the completion path
    /// (THR | TIME << 8 and the per-vector disable bits).
    pub coalescing: Option<(u32, Vec<bool>)>,
    /// The command turned the SMART temperature warning on.
    pub temperature_crossed: bool,
}

/// Get Features.
pub(crate) fn get(cfg: &SimConfig, state: &Mutex<FeatureState>, cmd: &Command) -> Result<u32, Status> {
    let id = f::cdw10_fid(cmd.cdw10);
    if !supported(cfg, id) {
        return Err(Status::INVALID_FIELD_IN_COMMAND);
    }
    match f::cdw10_select(cmd.cdw10) {
        select::CURRENT => {
            let features = state.lock().clone();
            value_of(&features, id, cmd.cdw11)
        }
        select::DEFAULT | select::SAVED => value_of(&FeatureState::defaults(cfg), id, cmd.cdw11),
        select::SUPPORTED_CAPABILITIES => Ok(select::CAP_CHANGEABLE),
        _ => Err(Status::INVALID_FIELD_IN_COMMAND),
    }
}

/// Set Features.
pub(crate) fn set(
    host: &dyn AdminHost,
    state: &Mutex<FeatureState>,
    cmd: &Command,
) -> Result<SetEffects, Status> {
    let cfg = host.config();
    let id = f::cdw10_fid(cmd.cdw10);
    if !supported(cfg, id) {
        return Err(Status::INVALID_FIELD_IN_COMMAND);
    }
    if f::cdw10_save(cmd.cdw10) {
        return Err(Status::FEATURE_IDENTIFIER_NOT_SAVEABLE);
    }
    if cmd.nsid != 0 && cmd.nsid != NSID_ALL {
        return Err(Status::FEATURE_NOT_NAMESPACE_SPECIFIC);
    }
    let v = cmd.cdw11;
    let mut features = state.lock();
    let warning_before = features.temperature_warning();
    let mut dw0 = 0;
    match id {
        fid::ARBITRATION => features.arbitration = v,
        fid::POWER_MANAGEMENT => {
            // NPSS is 0: power state 0 is the only one.
            if f::PowerManagement::from_bits(v).ps() != 0 {
                return Err(Status::INVALID_FIELD_IN_COMMAND);
            }
            features.power = f::PowerManagement::from_bits(v).without_reserved().into_bits();
        }
        fid::TEMPERATURE_THRESHOLD => {
            let (sensor, over) = threshold_slot(v)?;
            let t = TemperatureThreshold::from_bits(v).tmpth();
            if over {
                features.temp_over[sensor] = t;
            } else {
                features.temp_under[sensor] = t;
            }
        }
        fid::ERROR_RECOVERY => {
            if f::ErrorRecovery::from_bits(v).dulbe() {
                return Err(Status::INVALID_FIELD_IN_COMMAND);
            }
            features.error_recovery = f::ErrorRecovery::from_bits(v).without_reserved().into_bits();
        }
        fid::VOLATILE_WRITE_CACHE => features.write_cache = f::VolatileWriteCache::from_bits(v).wce(),
        fid::NUMBER_OF_QUEUES => {
            if host.queues().read().io_created {
                return Err(Status::COMMAND_SEQUENCE_ERROR);
            }
            let req = NumberOfQueues::from_bits(v);
            if req.nsqr() == u16::MAX || req.ncqr() == u16::MAX {
                return Err(Status::INVALID_FIELD_IN_COMMAND);
            }
            let max = cfg.max_io_queues - 1;
            let alloc = NumberOfQueues::new().with_nsqr(req.nsqr().min(max)).with_ncqr(req.ncqr().min(max));
            features.queues = alloc.into_bits();
            dw0 = features.queues;
        }
        fid::INTERRUPT_COALESCING => {
            features.coalescing = InterruptCoalescing::from_bits(v).without_reserved().into_bits()
        }
        fid::INTERRUPT_VECTOR_CONFIGURATION => {
            let ivc = InterruptVectorConfiguration::from_bits(v);
            let slot =
                features.vector_cd.get_mut(usize::from(ivc.iv())).ok_or(Status::INVALID_FIELD_IN_COMMAND)?;
            *slot = ivc.cd();
        }
        fid::WRITE_ATOMICITY_NORMAL => {
            features.write_atomicity = WriteAtomicityNormal::from_bits(v).without_reserved().into_bits()
        }
        fid::ASYNC_EVENT_CONFIGURATION => {
            // The notices this controller can raise: SMART / Health, namespace
            // attribute and firmware activation.
            let asked = AsyncEventConfiguration::from_bits(v);
            features.aec = AsyncEventConfiguration::new()
                .with_shcw(asked.shcw())
                .with_nans(asked.nans())
                .with_fans(asked.fans())
                .into_bits()
        }
        _ => return Err(Status::INVALID_FIELD_IN_COMMAND),
    }
    let warning_after = features.temperature_warning();
    let coalescing = matches!(id, fid::INTERRUPT_COALESCING | fid::INTERRUPT_VECTOR_CONFIGURATION)
        .then(|| (features.coalescing, features.vector_cd.clone()));
    drop(features);
    let temperature_crossed = warning_after && !warning_before;
    if temperature_crossed {
        tracing::debug!("temperature threshold crossed");
    }
    Ok(SetEffects { dw0, write_cache: id == fid::VOLATILE_WRITE_CACHE, coalescing, temperature_crossed })
}

/// The asynchronous event a crossed temperature threshold raises: (event
/// type, information, log page).
pub(crate) const TEMPERATURE_EVENT: (u8, u8, u8) =
    (async_event::SMART_HEALTH, async_event::TEMPERATURE_THRESHOLD, lid::SMART_HEALTH);

/// The SMART critical warning bits an event of `info` corresponds to.
pub(crate) fn smart_warning_bit(info: u8) -> u8 {
    match info {
        async_event::TEMPERATURE_THRESHOLD => critical_warning::TEMPERATURE,
        async_event::SPARE_BELOW_THRESHOLD => critical_warning::SPARE,
        _ => critical_warning::RELIABILITY,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_temperature() {
        let cfg = SimConfig::default();
        let mut f = FeatureState::defaults(&cfg);
        assert_eq!(f.queue_counts(), (64, 64));
        assert!(!f.temperature_warning());
        f.temp_over[0] = COMPOSITE_TEMPERATURE - 1;
        assert!(f.temperature_warning());
        f.temp_over[0] = WCTEMP;
        f.temp_under[1] = COMPOSITE_TEMPERATURE + 1;
        assert!(f.temperature_warning());
        assert_eq!(threshold_slot(0x0001_0000), Ok((1, true)));
        assert_eq!(threshold_slot(0x0010_0000), Ok((0, false)));
        assert_eq!(threshold_slot(0x0002_0000), Err(Status::INVALID_FIELD_IN_COMMAND));
        assert_eq!(threshold_slot(0x0020_0000), Err(Status::INVALID_FIELD_IN_COMMAND));
    }
}
