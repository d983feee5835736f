//! The destructive-step guard: steps that change data or persistent
//! device state are refused on a real device unless the user passed
//! `--allow-destructive` or named the device's serial number with
//! `--allow-serial`. The simulator is never refused. The check runs before
//! the step sends anything. Each action answers whether it is destructive
//! in its own room ([`crate::action::ActionKind::destructive`], required);
//! this module owns the policy and the classification of admin opcodes
//! (`admin_class.rs`) that typed and raw admin actions share.

use nvmeplan_spec::AdminOpcode;

use crate::action::Action;

use super::context::{Eval, StepResult};

/// What the user allowed on the command line.
#[derive(Debug, Clone, Default)]
pub struct DestructivePolicy {
    /// `--allow-destructive`: every destructive step is allowed.
    pub allow_destructive: bool,
    /// `--allow-serial SN`: destructive steps are allowed on devices with
    /// one of these serial numbers.
    pub allow_serials: Vec<String>,
}

mod admin_class;

pub use admin_class::{AdminClass, admin_class, persistent_feature, set_features_destructive};

/// The class of a typed admin action's command, judged exactly as the same
/// opcode sent with `admin_raw` is: `Some(key)` when destructive.
pub fn typed_admin(key: &'static str, opcode: AdminOpcode) -> Option<String> {
    admin_class(opcode as u8).is_destructive().then(|| key.to_string())
}

/// Why the step must not run on this device, or `None` to run it.
/// `serial` is the device's serial number; `is_sim` whether it is the
/// simulator.
pub fn refusal(
    policy: &DestructivePolicy,
    action: &Action,
    eval: Eval<'_>,
    uri: &str,
    serial: Option<&str>,
    is_sim: bool,
) -> StepResult<Option<String>> {
    if is_sim || policy.allow_destructive {
        return Ok(None);
    }
    // Each action answers in its own room (`ActionKind::destructive`, which
    // has no default), so a new one cannot slip through as harmless.
    let Some(what) = action.destructive(eval)? else { return Ok(None) };
    let serial = serial.unwrap_or("").trim();
    if !serial.is_empty() && policy.allow_serials.iter().any(|s| s.trim() == serial) {
        return Ok(None);
    }
    Ok(Some(format!(
        "refused: `{what}` is destructive and {uri} is a real device (serial `{serial}`); nothing was sent. \
         Pass --allow-destructive, or --allow-serial {serial} to allow it on this device only"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::Engine;
    use serde_json::json;

    fn check(yaml: &str, policy: &DestructivePolicy, serial: &str, is_sim: bool) -> Option<String> {
        let action: Action = serde_saphyr::from_str(yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"));
        let engine = Engine::new();
        let ctx = json!({ "rp": 70 });
        let eval = Eval { engine: &engine, ctx: &ctx };
        refusal(policy, &action, eval, "pci:0000:01:00.0", Some(serial), is_sim).unwrap()
    }

    const DESTRUCTIVE: &[&str] = &[
        "write: { slba: 0, nlb: 1 }",
        "write_zeroes: { slba: 0, nlb: 1 }",
        "write_uncorrectable: { slba: 0, nlb: 1 }",
        "deallocate: { ranges: [{ slba: 0, nlb: 8 }] }",
        "format: { nsid: 1, lbaf: 0 }",
        "sanitize: { action: block_erase }",
        "firmware_commit: { slot: 2, action: replace }",
        "namespace_delete: { nsid: 2 }",
        "namespace_create: { nsze: 1024, ncap: 1024 }",
        "namespace_attach: { nsid: 2, controllers: [1] }",
        "namespace_detach: { nsid: 2, controllers: [1] }",
        "self_test: { code: short }",
        "register: { field: nssr, write: 0x4E564D65 }",
        "ioworker: { io_size: 8, read_percentage: 70, time: 1s }",
        "ioworker: { io_size: 8, read_percentage: \"${{ rp }}\", time: 1s }",
        "ioworker: { io_size: 8, op_percentage: { read: 90, trim: 10 }, time: 1s }",
        "ioworker: [{ io_size: 8, time: 1s }, { io_size: 8, read_percentage: 0, time: 1s }]",
        "io_raw: { opcode: 0x01, nsid: 1 }",
        "io_raw: { opcode: 0x99, nsid: 1 }",
        "admin_raw: { opcode: 0x80, nsid: 1 }",
        "admin_raw: { opcode: 0xC1 }",
    ];

    const READ_ONLY: &[&str] = &[
        "read: { slba: 0, nlb: 1, verify: true }",
        "register: { field: cc.en, write: 0 }",
        "register: { field: csts.rdy, expect: 1 }",
        "async_event: {}",
        "create_io_queues: { qid: 1, qsize: 16 }",
        "identify: { cns: controller }",
        "get_log_page: { lid: smart }",
        "flush: {}",
        "ioworker: { io_size: 8, time: 1s }",
        "ioworker: { io_size: 8, read_percentage: 100, time: 1s }",
        "ioworker: { io_size: 8, op_percentage: { read: 50, verify: 50 }, time: 1s }",
        "io_raw: { opcode: 0x02, nsid: 1 }",
        "admin_raw: { opcode: 0x06, cdw10: 1, data: { in: 4096 } }",
        "reset: controller",
    ];

    #[test]
    fn destructive_steps_are_refused_on_real_devices_without_a_flag() {
        let none = DestructivePolicy::default();
        for yaml in DESTRUCTIVE {
            let reason = check(yaml, &none, "SN1", false).unwrap_or_else(|| panic!("{yaml} was allowed"));
            assert!(reason.starts_with("refused: `"), "{reason}");
            assert!(reason.contains("--allow-destructive, or --allow-serial SN1"), "{reason}");
            assert!(reason.contains("nothing was sent"), "{reason}");
        }
        for yaml in READ_ONLY {
            assert_eq!(check(yaml, &none, "SN1", false), None, "{yaml}");
        }
    }

    #[test]
    fn every_admin_opcode_is_judged_by_its_class() {
        let none = DestructivePolicy::default();
        for op in 0..=u8::MAX {
            let yaml = format!("admin_raw: {{ opcode: {op} }}");
            let refused = check(&yaml, &none, "SN1", false).is_some();
            let expected = match admin_class(op) {
                AdminClass::ReadOnly | AdminClass::ControllerState | AdminClass::SetFeatures => false,
                AdminClass::Destructive | AdminClass::Vendor | AdminClass::Reserved => true,
            };
            assert_eq!(refused, expected, "{op:#04x} ({:?})", admin_class(op));
            assert_eq!(check(&yaml, &none, "SN1", true), None, "sim: {op:#04x}");
        }
        // Security Send, Lockdown, Virtualization and Capacity Management.
        for op in ["0x81", "0x24", "0x1C", "0x20", "0x19", "0x1D", "0x41", "0x8C"] {
            assert!(check(&format!("admin_raw: {{ opcode: {op} }}"), &none, "SN1", false).is_some(), "{op}");
        }
    }

    #[test]
    fn set_features_is_destructive_when_saved_or_persistent() {
        let none = DestructivePolicy::default();
        let refused = |yaml: &str| check(yaml, &none, "SN1", false).is_some();
        assert!(!refused("admin_raw: { opcode: 0x09, cdw10: 0x06, cdw11: 1 }"));
        assert!(refused("admin_raw: { opcode: 0x09, cdw10: 0x80000006, cdw11: 1 }"));
        assert!(refused("admin_raw: { opcode: 0x09, cdw10: 0x84 }"));
        assert!(refused("admin_raw: { opcode: 0x09, cdw10: \"${{ rp + 0x80000000 }}\" }"));
        assert!(!refused("set_features: { fid: volatile_write_cache, value: 1 }"));
        assert!(refused("set_features: { fid: volatile_write_cache, value: 1, save: true }"));
        assert!(refused("set_features: { fid: 0x84, value: 1 }"));
    }

    #[test]
    fn flags_and_the_simulator_allow_them() {
        let all = DestructivePolicy { allow_destructive: true, allow_serials: vec![] };
        let sn = DestructivePolicy { allow_destructive: false, allow_serials: vec!["SN1".into()] };
        for yaml in DESTRUCTIVE {
            assert_eq!(check(yaml, &DestructivePolicy::default(), "SN1", true), None, "sim: {yaml}");
            assert_eq!(check(yaml, &all, "SN1", false), None, "--allow-destructive: {yaml}");
            assert_eq!(check(yaml, &sn, "SN1", false), None, "--allow-serial: {yaml}");
            assert!(check(yaml, &sn, "OTHER", false).is_some(), "another serial: {yaml}");
        }
        // An empty serial never matches.
        let empty = DestructivePolicy { allow_destructive: false, allow_serials: vec![String::new()] };
        assert!(check(DESTRUCTIVE[0], &empty, "", false).is_some());
    }
}
