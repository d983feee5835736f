//! Helpers shared by the driver's integration tests (and reusable by later
//! acceptance tests): open a simulated controller, allocate buffers.
#![allow(dead_code)]

use nvmeplan_device::{DeviceUri, SimHandle};
use nvmeplan_driver::{Controller, ControllerOptions, DmaBuffer, QueuePair, QueuePairOptions};
use std::time::Duration;

/// Opens a simulator with `params` (`key=value,...`, empty for defaults)
/// and brings its controller up with default options.
pub fn open_sim(params: &str) -> Controller {
    open_sim_with(params, ControllerOptions::default())
}

/// Like [`open_sim`] with explicit controller options.
pub fn open_sim_with(params: &str, options: ControllerOptions) -> Controller {
    open_sim_device_with(params, options).0
}

/// Like [`open_sim`], with the simulator's control handle (faults, power).
pub fn open_sim_device(params: &str) -> (Controller, SimHandle) {
    open_sim_device_with(params, ControllerOptions::default())
}

/// Like [`open_sim_device`] with explicit controller options.
pub fn open_sim_device_with(params: &str, options: ControllerOptions) -> (Controller, SimHandle) {
    let uri = if params.is_empty() { "sim".to_string() } else { format!("sim:{params}") };
    let parsed = DeviceUri::parse(&uri).unwrap_or_else(|e| panic!("{e}"));
    let backing = nvmeplan_device::open_transport(&parsed).unwrap_or_else(|e| panic!("open {uri}: {e}"));
    let ctrl =
        Controller::open(backing.transport, options).unwrap_or_else(|e| panic!("bring-up of {uri}: {e}"));
    (ctrl, backing.sim.expect("the simulator has a control handle"))
}

/// A polled I/O queue pair of `depth` entries with a short timeout.
pub fn qpair(ctrl: &Controller, depth: u16) -> QueuePair {
    let options = QueuePairOptions { timeout: Duration::from_secs(10), ..Default::default() };
    ctrl.create_qpair(depth, options).expect("create qpair")
}

/// A DMA buffer of `len` bytes.
pub fn buffer(ctrl: &Controller, len: usize) -> DmaBuffer {
    ctrl.alloc_buffer(len).expect("DMA buffer")
}

/// The LBA size of namespace 1.
pub fn lba_size(ctrl: &Controller) -> usize {
    ctrl.namespace(1).expect("namespace 1").lba_size as usize
}
