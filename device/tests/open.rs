//! Opening devices from URIs: each form reaches its backend, the simulator
//! comes with a control handle that acts on the device the controller
//! drives, and the driver stays free of the simulator.

use nvmeplan_device::{DeviceUri, open, open_transport};
use nvmeplan_driver::ControllerOptions;
use nvmeplan_sim::faults::{FaultMatch, FaultRule, QueueMatch};
use nvmeplan_sim::{FaultAction, Storage};
use nvmeplan_spec::{AdminOpcode, Status};

fn open_err(uri: &str) -> String {
    let parsed = match DeviceUri::parse(uri) {
        Ok(parsed) => parsed,
        Err(e) => return e.to_string(),
    };
    match open_transport(&parsed) {
        Ok(b) => panic!("{uri} opened {}", b.transport.describe()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn pci_uris_reach_the_vfio_backend() {
    // Bus 0xfe device 0x1f function 7 does not exist on any test machine.
    for uri in ["pci:0000:fe:1f.7", "0000:fe:1f.7", "fe:1f.7"] {
        let e = open_err(uri);
        assert!(
            e.contains("opening pci:0000:fe:1f.7 failed: there is no PCI function 0000:fe:1f.7"),
            "{uri}: {e}"
        );
    }
    let e = open_err("pci:0000:fe:20.0");
    assert!(e.contains("device 0x20 is above 0x1f"), "{e}");
    let e = open_err("nvme:0");
    assert!(e.contains("unknown scheme `nvme`") && e.contains("sim"), "{e}");
}

#[test]
fn only_the_simulator_has_a_control_handle() {
    let sim = open(&DeviceUri::parse("sim").unwrap(), ControllerOptions::default()).unwrap();
    assert!(sim.sim.is_some());
    assert_eq!(sim.controller.transport().describe(), "sim");
    // A PCI function that cannot be opened gives no device at all; one that
    // can would give `sim: None` (VfioTransport has no simulator behind it).
    assert!(open_transport(&DeviceUri::parse("0000:fe:1f.7").unwrap()).is_err());
}

#[test]
fn the_handle_controls_the_device_the_controller_drives() {
    let device = open(&DeviceUri::parse("sim").unwrap(), ControllerOptions::default()).unwrap();
    let (ctrl, sim) = (device.controller, device.sim.expect("simulator"));
    let rule = FaultRule::new(
        FaultMatch {
            queue: QueueMatch::Admin,
            opcode: Some(AdminOpcode::GetFeatures as u8),
            ..Default::default()
        },
        FaultAction::Status { status: Status::INVALID_FIELD_IN_COMMAND, dnr: false },
    )
    .times(1);
    let id = sim.faults().add(rule);
    let cqe = ctrl.get_features(0x07, 0, 0, 0, None).unwrap();
    assert_eq!(cqe.status(), Status::INVALID_FIELD_IN_COMMAND);
    assert_eq!(sim.faults().fired(id), 1);
    assert!(ctrl.get_features(0x07, 0, 0, 0, None).unwrap().status().is_success());
    // A power cycle reaches the same device: the controller must come up again.
    sim.power_cycle(false);
    ctrl.reinitialize().unwrap();
    assert!(ctrl.get_features(0x07, 0, 0, 0, None).unwrap().status().is_success());
    assert!(sim.dma().mapping_count() > 0);
}

#[test]
fn the_handle_names_a_file_backed_simulators_image() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("disk.img");
    let uri = DeviceUri::parse(&format!("sim:capacity=1M,file={}", image.display())).unwrap();
    let device = open(&uri, ControllerOptions::default()).unwrap();
    let sim = device.sim.expect("simulator");
    assert!(matches!(sim.storage(), Some(Storage::File(path)) if *path == image));
    assert_eq!(sim.config().storage, Some(Storage::File(image)));
    let memory = open(&DeviceUri::parse("sim").unwrap(), ControllerOptions::default()).unwrap();
    assert!(memory.sim.expect("simulator").storage().is_none());
}

#[test]
fn the_driver_does_not_depend_on_the_simulator() {
    let manifest =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../driver/Cargo.toml")).unwrap();
    // Normal dependencies: `[dependencies]`, `[target.'...'.dependencies]`
    // and their `[dependencies.NAME]` tables; not dev- or build-dependencies.
    let normal = |header: &str| {
        header.contains("dependencies")
            && !header.contains("dev-dependencies")
            && !header.contains("build-dependencies")
    };
    let mut in_normal = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_normal = normal(line);
            assert!(!(in_normal && line.contains("nvmeplan-sim")), "driver/Cargo.toml has `{line}`");
        } else if in_normal {
            assert!(!line.starts_with("nvmeplan-sim"), "driver/Cargo.toml's dependencies have `{line}`");
        }
    }
}
