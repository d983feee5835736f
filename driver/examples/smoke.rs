//! Brings up a device with the real driver and exercises it end to end:
//! identify, a verified write/read round trip across a PRP list, an
//! expected error status, the SMART log and the command log.
//!
//! `cargo run --release -p nvmeplan-driver --example smoke -- [URI]`
//! where URI defaults to `sim` (the simulated controller).

use nvmeplan_driver::{ControllerOptions, Pattern, QueuePairOptions, VerifyMap, WriteOptions};
use nvmeplan_spec::log::{SmartHealthLog, lid};
use nvmeplan_spec::{NvmOpcode, Status};
use std::process::ExitCode;
use std::sync::Arc;
use zerocopy::FromBytes;

fn run(uri: &str) -> Result<(), Box<dyn std::error::Error>> {
    let uri_parsed = nvmeplan_device::DeviceUri::parse(uri)?;
    let ctrl = nvmeplan_device::open(&uri_parsed, ControllerOptions::default())?.controller;
    let id = ctrl.identify()?;
    println!("device      {uri}");
    println!("model       {}", id.model());
    println!("serial      {}", id.serial());
    println!("firmware    {}", id.firmware_revision());
    println!("namespaces  {}", id.nn);
    println!("mdts        {:?} bytes", ctrl.mdts_bytes());
    let ns = ctrl.namespace(1)?;
    println!("ns 1        {} blocks of {} bytes", ns.nsze, ns.lba_size);

    let mut qp = ctrl.create_qpair(64, QueuePairOptions::default())?;
    let map = Arc::new(VerifyMap::new());
    qp.attach_verify_map(1, map.clone());
    let nlb = (64 * 1024 / ns.lba_size) as u32;
    let len = nlb as usize * ns.lba_size as usize;
    let mut wbuf = ctrl.alloc_buffer(len)?;
    wbuf.fill(Pattern::Random { seed: 42 });
    let cqe = qp.write(1, 0, nlb, &mut wbuf, WriteOptions::default())?;
    println!("write       {nlb} blocks at LBA 0: {}", cqe.status());
    let mut rbuf = ctrl.alloc_buffer(len)?;
    let out = qp.read(1, 0, nlb, &mut rbuf, None)?;
    println!("read+verify {nlb} blocks: {}, {} mismatches", out.completion.status(), out.mismatches.len());
    if !out.is_clean() {
        return Err(format!("verification failed: {:?}", out.mismatches).into());
    }
    let past_end = qp.read(1, ns.nsze, 1, &mut rbuf, None)?;
    println!("read past the end: {} (expected {})", past_end.completion.status(), Status::LBA_OUT_OF_RANGE);
    if past_end.completion.status() != Status::LBA_OUT_OF_RANGE {
        return Err("the device accepted a read past the end of the namespace".into());
    }
    let raw = ctrl.get_log_page(lid::SMART_HEALTH, 0xFFFF_FFFF, 512, 0)?;
    let smart = SmartHealthLog::read_from_bytes(&raw).map_err(|_| "short SMART log")?;
    println!(
        "SMART       {} host writes, {} host reads, {} power cycles, {} K",
        smart.host_write_commands(),
        smart.host_read_commands(),
        smart.power_cycles(),
        smart.composite_temperature()
    );
    println!("cmdlog of I/O queue {}:", qp.qid());
    for entry in qp.cmdlog().snapshot(4) {
        println!("  {entry}");
    }
    let writes = qp.cmdlog().snapshot(64).iter().filter(|e| e.sqe.opcode() == NvmOpcode::Write as u8).count();
    println!("{writes} write(s) in the log; verify map tracks {} LBAs", map.tracked_lbas());
    Ok(())
}

fn main() -> ExitCode {
    let uri = std::env::args().nth(1).unwrap_or_else(|| "sim".to_string());
    match run(&uri) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("smoke: {e}");
            ExitCode::FAILURE
        }
    }
}
