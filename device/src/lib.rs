//! Opens the device a URI names, and owns what only the simulator has.
//!
//! * [`DeviceUri`] parses a URI once into the device it names: the
//!   simulator with its configuration, or a PCI function by address.
//! * [`open`] brings the device up and gives a [`Device`]: the driver's
//!   [`Controller`] and, for the simulator only, a [`SimHandle`] for what
//!   a real device has no register for (fault injection, power cycles, the
//!   configuration and image set it was built from).
//! * [`SimTransport`] is the simulator's backend of the driver's
//!   [`Transport`] trait. It lives here, beside the simulator, so that the
//!   driver knows no backend but its own hardware one and does not depend
//!   on the simulator.

mod host_pages;
pub mod sim_transport;
pub mod uri;

use std::sync::Arc;

use nvmeplan_driver::transport::vfio::VfioTransport;
use nvmeplan_driver::{Controller, ControllerOptions, DriverError, Transport, TransportError};
use nvmeplan_sim::dma::DmaSpace;
use nvmeplan_sim::faults::FaultInjector;
use nvmeplan_sim::{SimConfig, SimDevice, Storage};

pub use sim_transport::SimTransport;
pub use uri::{DeviceTarget, DeviceUri, SUPPORTED_SCHEMES, UriError, UriProblem};

/// The simulator-only controls of an open simulated device. Cheap to
/// clone; it keeps the device alive as long as the controller does.
#[derive(Clone, Debug)]
pub struct SimHandle {
    device: Arc<SimDevice>,
}

impl SimHandle {
    /// The fault injector: rules that change how matching commands complete.
    pub fn faults(&self) -> &FaultInjector {
        self.device.faults()
    }

    /// Cuts and restores power; `abrupt` loses what a shutdown would have
    /// saved (the volatile write cache). The controller must be brought
    /// up again afterwards.
    pub fn power_cycle(&self, abrupt: bool) {
        self.device.power_cycle(abrupt)
    }

    /// The configuration the device was built from.
    pub fn config(&self) -> &SimConfig {
        self.device.config()
    }

    /// Where the device keeps its media and state, for a file-backed one.
    pub fn storage(&self) -> Option<&Storage> {
        self.config().storage.as_ref()
    }

    /// A firmware image the simulator accepts, carrying `revision` (what
    /// `firmware_commit` then activates), `len` bytes long.
    pub fn firmware_image(&self, revision: &str, len: usize) -> Vec<u8> {
        nvmeplan_sim::firmware::build_image(revision, len)
    }

    /// The device's DMA window (what the host has mapped for it).
    pub fn dma(&self) -> &DmaSpace {
        self.device.dma()
    }
}

/// A transport and, for the simulator, its control handle.
pub struct Backing {
    /// What the driver talks to.
    pub transport: Arc<dyn Transport>,
    /// The simulator's controls; `None` for a real device.
    pub sim: Option<SimHandle>,
}

/// An open, initialised device.
pub struct Device {
    /// The controller, brought up.
    pub controller: Controller,
    /// The simulator's controls; `None` for a real device.
    pub sim: Option<SimHandle>,
}

/// Opens the transport of the device `uri` names, without bringing the
/// controller up.
pub fn open_transport(uri: &DeviceUri) -> Result<Backing, TransportError> {
    match uri.target() {
        DeviceTarget::Sim(config) => {
            let transport = SimTransport::open(config.as_ref().clone())?;
            let sim = SimHandle { device: transport.device().clone() };
            Ok(Backing { transport: Arc::new(transport), sim: Some(sim) })
        }
        DeviceTarget::Pci(address) => {
            Ok(Backing { transport: Arc::new(VfioTransport::open(*address)?), sim: None })
        }
    }
}

/// Opens the device `uri` names and brings its controller up with `options`.
pub fn open(uri: &DeviceUri, options: ControllerOptions) -> Result<Device, DriverError> {
    let backing = open_transport(uri)?;
    let controller = Controller::open(backing.transport, options)?;
    Ok(Device { controller, sim: backing.sim })
}
