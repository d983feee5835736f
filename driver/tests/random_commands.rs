//! Random submission queue entries fed to the simulator through the
//! driver's raw command path: the device must never panic, hang or post a
//! malformed completion, and must stay usable afterwards.

mod common;

use common::*;
use nvmeplan_driver::queue_pair::QueuePairOptions;
use nvmeplan_driver::{Controller, DmaBuffer, DriverError, Pattern, WriteOptions};
use nvmeplan_spec::registers::{self, Csts};
use nvmeplan_spec::{AdminOpcode, Command, Completion, NvmOpcode};
use proptest::prelude::*;
use std::time::Duration;

/// Where a random command's data pointer goes.
#[derive(Debug, Clone)]
enum DataPointer {
    /// No data: PRP fields keep whatever the random command holds.
    Raw,
    /// A valid buffer region the driver builds PRPs for (offset, length),
    /// whatever the command's own length says.
    Buffer(usize, usize),
}

#[derive(Debug, Clone)]
struct RandomCommand {
    admin: bool,
    cmd: Command,
    data: DataPointer,
}

fn opcode(admin: bool) -> impl Strategy<Value = u8> {
    let known: Vec<u8> = if admin {
        AdminOpcode::ALL
            .iter()
            .map(|op| *op as u8)
            // An AER legitimately stays outstanding until an event: it is
            // tested on its own, not here.
            .filter(|op| *op != AdminOpcode::AsyncEventRequest as u8)
            .collect()
    } else {
        NvmOpcode::ALL.iter().map(|op| *op as u8).collect()
    };
    prop_oneof![
        4 => proptest::sample::select(known),
        1 => any::<u8>().prop_filter("not an AER", move |op| !admin || *op != AdminOpcode::AsyncEventRequest as u8),
    ]
}

fn random_command() -> impl Strategy<Value = RandomCommand> {
    any::<bool>().prop_flat_map(|admin| {
        (
            opcode(admin),
            prop_oneof![Just(0u32), Just(1), Just(2), Just(0xFFFF_FFFF), any::<u32>()],
            // Small LBAs and counts half of the time, so the data paths run.
            prop_oneof![(0u64..4096, 0u32..64).prop_map(|(s, n)| (s, n)), (any::<u64>(), any::<u32>())],
            proptest::array::uniform4(any::<u32>()),
            (any::<u64>(), any::<u64>(), 0u8..4),
            prop_oneof![
                2 => Just(DataPointer::Raw),
                5 => (0usize..64, 1usize..48).prop_map(|(off, pages)| DataPointer::Buffer(off * 4, pages * 1024)),
            ],
        )
            .prop_map(move |(op, nsid, (slba, nlb), dws, (prp1, prp2, flags), data)| {
                let mut cmd = Command::new(op, nsid);
                // Fuse and PSDT bits set now and then.
                cmd.cdw0.set_fuse(flags & 1);
                cmd.cdw0.set_psdt(flags >> 1);
                cmd.prp1 = prp1;
                cmd.prp2 = prp2;
                cmd.set_slba(slba);
                cmd.cdw12 = (dws[0] & 0xFFFF_0000) | (nlb & 0xFFFF);
                cmd.cdw13 = dws[1];
                cmd.cdw14 = dws[2];
                cmd.cdw15 = dws[3];
                if admin {
                    cmd.cdw10 = slba as u32;
                    cmd.cdw11 = (slba >> 32) as u32;
                }
                RandomCommand { admin, cmd, data }
            })
    })
}

fn is_well_formed(cqe: &Completion, sqid: u16, depth: u16) -> Result<(), String> {
    if cqe.sqid != sqid {
        return Err(format!("SQID {} on a completion for SQ {sqid}", cqe.sqid));
    }
    if cqe.sqhd >= depth {
        return Err(format!("SQHD {} outside a queue of {depth}", cqe.sqhd));
    }
    if cqe.status().sct() > 3 {
        return Err(format!("reserved status code type in {:?}", cqe.status()));
    }
    Ok(())
}

/// Whether a random admin command would tear down the test's own I/O queue
/// (that is legal, but then the following I/O rightly times out).
fn deletes_own_queue(cmd: &Command, qid: u16) -> bool {
    let op = cmd.opcode();
    (op == AdminOpcode::DeleteIoSq as u8 || op == AdminOpcode::DeleteIoCq as u8) && cmd.cdw10 as u16 == qid
}

fn run(ctrl: &Controller, commands: &[RandomCommand]) -> Result<(), TestCaseError> {
    let options = QueuePairOptions { timeout: Duration::from_secs(5), ..Default::default() };
    let mut qp = ctrl.create_qpair(32, options).unwrap();
    let mut buf: DmaBuffer = buffer(ctrl, 64 << 10);
    buf.fill(Pattern::Random { seed: 3 });
    for rc in commands {
        if rc.admin && deletes_own_queue(&rc.cmd, qp.qid()) {
            continue;
        }
        let data = match rc.data {
            DataPointer::Raw => None,
            DataPointer::Buffer(off, len) => Some((buf.iova() + off as u64, len.min(48 << 10))),
        };
        let result = if rc.admin {
            ctrl.admin_data(rc.cmd, data, Some(Duration::from_secs(5)))
        } else {
            qp.execute_data(rc.cmd, data, None)
        };
        let (cqe, sqid, depth) = match result {
            Ok(cqe) if rc.admin => (cqe, 0, 32),
            Ok(cqe) => (cqe, qp.qid(), qp.depth()),
            // A random Format/Sanitize/reset-style command may make the
            // controller reset the queues (not with these opcodes today);
            // anything else is a device fault.
            Err(e @ (DriverError::Timeout { .. } | DriverError::ControllerFatal { .. })) => {
                return Err(TestCaseError::fail(format!("{:?} -> {e}", rc.cmd)));
            }
            Err(e) => return Err(TestCaseError::fail(format!("driver error for {:?}: {e}", rc.cmd))),
        };
        if rc.admin {
            // The admin queue depth is the driver's choice; only check SQID.
            prop_assert_eq!(cqe.sqid, sqid, "admin completion {:?}", cqe);
        } else if let Err(why) = is_well_formed(&cqe, sqid, depth) {
            return Err(TestCaseError::fail(format!("{:?}: {why}", rc.cmd)));
        }
        let csts = Csts::from(ctrl.transport().bar0_read32(registers::CSTS));
        prop_assert!(!csts.cfs(), "CSTS.CFS after {:?}", rc.cmd);
    }
    // The device is still usable: identify and a verified round trip.
    prop_assert!(ctrl.identify_controller().is_ok());
    let ns = ctrl.rescan_namespaces().unwrap();
    if let Some(ns) = ns.into_iter().find(|n| n.nsid == 1) {
        let mut w = buffer(ctrl, ns.lba_size as usize * 4);
        let cqe = qp.write(1, 0, 4, &mut w, WriteOptions::default()).unwrap();
        if cqe.status().is_success() {
            let mut r = buffer(ctrl, ns.lba_size as usize * 4);
            let out = qp.read(1, 0, 4, &mut r, None).unwrap();
            prop_assert!(out.completion.status().is_success(), "{}", out.completion.status());
        }
    }
    prop_assert_eq!(qp.stats().invalid_completions, 0);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_commands_get_well_formed_completions(commands in proptest::collection::vec(random_command(), 1..40)) {
        let ctrl = open_sim("capacity=64M,mdts=3,ready=0ms");
        run(&ctrl, &commands)?;
    }
}
