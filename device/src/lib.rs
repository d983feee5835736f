//! Opens the device a URI names.
//!
//! [`DeviceUri`] parses a URI once into the device it names: the simulator
//! with its configuration, or a PCI function by address.

pub mod uri;

pub use uri::{DeviceTarget, DeviceUri, SUPPORTED_SCHEMES, UriError, UriProblem};
