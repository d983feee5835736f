//! Action rules: what the schema cannot say about one action: NLB limits
//! of the NVM commands, deallocate ranges, ioworker settings (percentages,
//! stop conditions, regions, IO sizes), `inject`, writable registers and
//! `set_features` field names.

use serde_json::Value;

use super::Validator;
use crate::diagnostic::{code, did_you_mean};
use crate::fields;
use crate::load::LoadedFile;
use crate::plan::io::MAX_NLB;
use crate::plan::ioworker::{IO_OPS, IoSize};
use crate::plan::{Action, Step};
use crate::positions::join;

impl Validator<'_> {
    pub(super) fn check_action(&mut self, file: &LoadedFile, pointer: &str, step: &Step, raw: &Value) {
        let name = step.action.name();
        let ap = join(pointer, name);
        let at = |p: &str| file.positions.nearest(p).value;
        let key_at = |p: &str| file.positions.key_or_value(p);
        let mut nlb_checks: Vec<(String, u64)> = Vec::new();
        let mut push_nlb = |p: String, v: &crate::plan::Expr<u64>| {
            if let Some(n) = v.literal() {
                nlb_checks.push((p, *n));
            }
        };
        match &step.action {
            Action::Read(r) => push_nlb(join(&ap, "nlb"), &r.nlb),
            Action::Write(w) => push_nlb(join(&ap, "nlb"), &w.nlb),
            Action::Compare(c) => push_nlb(join(&ap, "nlb"), &c.nlb),
            Action::WriteZeroes(w) => push_nlb(join(&ap, "nlb"), &w.nlb),
            Action::WriteUncorrectable(b) | Action::Verify(b) => push_nlb(join(&ap, "nlb"), &b.nlb),
            Action::Deallocate(d) => {
                for (i, r) in d.ranges.iter().enumerate() {
                    if let Some(n) = r.nlb.literal()
                        && (*n == 0 || *n > u64::from(u32::MAX))
                    {
                        let span = at(&join(&join(&join(&ap, "ranges"), i.to_string()), "nlb"));
                        self.error(
                            file,
                            code::RANGE,
                            format!("nlb {n} is out of range: a deallocate range has 1 to 4294967295 blocks"),
                            span,
                        );
                    }
                }
                if d.ranges.is_empty() || d.ranges.len() > 256 {
                    let span = at(&join(&ap, "ranges"));
                    self.error(
                        file,
                        code::RANGE,
                        format!("a deallocate has 1 to 256 ranges, found {}", d.ranges.len()),
                        span,
                    );
                }
            }
            _ => {}
        }
        for (p, n) in nlb_checks {
            if n == 0 || n > MAX_NLB {
                let d = self.error(
                    file,
                    code::RANGE,
                    format!("nlb {n} is out of range: a command moves 1 to {MAX_NLB} blocks"),
                    at(&p),
                );
                d.help = Some("`nlb` counts blocks from 1 (the command's NLB field is zero-based); use an ioworker for larger transfers".into());
            }
        }

        match &step.action {
            Action::Ioworker(workers) => {
                for (i, w) in workers.workers().iter().enumerate() {
                    let wp = match workers {
                        crate::plan::ioworker::IoWorkers::One(_) => ap.clone(),
                        crate::plan::ioworker::IoWorkers::Parallel(_) => join(&ap, i.to_string()),
                    };
                    self.check_ioworker(file, &wp, w);
                }
            }
            Action::Inject(inject) => {
                if inject.action.is_none() && !inject.clear {
                    self.error(
                        file,
                        code::SCHEMA,
                        "an `inject` needs an `action` (or `clear: true`)",
                        key_at(&ap),
                    );
                }
                if let Some(device) = &self.plan_device
                    && !device.starts_with("sim")
                {
                    let message =
                        format!("`inject` needs the simulator, but this plan's device is `{device}`");
                    self.error(file, code::CONFLICT, message, key_at(&ap));
                }
                if let Some(crate::plan::control::OpcodeName::Named(op)) = &inject.matches.opcode
                    && nvmeplan_spec::AdminOpcode::from_name(op).is_none()
                    && nvmeplan_spec::NvmOpcode::from_name(op).is_none()
                {
                    let mut names: Vec<&str> =
                        nvmeplan_spec::AdminOpcode::ALL.iter().map(|o| o.name()).collect();
                    names.extend(nvmeplan_spec::NvmOpcode::ALL.iter().map(|o| o.name()));
                    let message = format!("unknown command `{op}`{}", did_you_mean(op, &names));
                    self.error(file, code::SCHEMA, message, at(&join(&join(&ap, "match"), "opcode")));
                }
            }
            Action::FirmwareDownload(a) => {
                if let crate::plan::admin::FirmwareImage::File(path) = &a.image {
                    self.check_firmware_file(file, &join(&join(&ap, "image"), "file"), path);
                }
            }
            Action::Register(r) if r.write.is_some() && !r.field.is_writable() => {
                let message = format!("register `{}` is read-only", r.field.0);
                self.error(file, code::CONFLICT, message, at(&join(&ap, "write")));
            }
            Action::SetFeatures(s) => {
                if s.value.is_none() && s.fields.is_none() {
                    self.error(file, code::SCHEMA, "`set_features` needs a `value` or `fields`", key_at(&ap));
                }
                if let (Some(fields), Some(fid)) = (&s.fields, s.fid.fid()) {
                    let known = fields::feature_fields(fid);
                    for key in fields.keys() {
                        if !known.contains(&key.as_str()) {
                            let span = file.positions.key_or_value(&join(&join(&ap, "fields"), key));
                            let message = format!(
                                "unknown field `{key}` of feature {}{}",
                                fid_name(fid),
                                did_you_mean(key, known)
                            );
                            let d = self.error(file, code::UNKNOWN_FIELD, message, span);
                            d.help = Some(format!("fields of this feature: {}", list_or_none(known)));
                        }
                    }
                }
            }
            _ => {}
        }

        self.check_expect(file, pointer, step);
        let _ = raw;
    }

    fn check_ioworker(&mut self, file: &LoadedFile, wp: &str, w: &crate::plan::ioworker::IoWorker) {
        let at = |p: &str| file.positions.nearest(p).value;
        let key_at = |p: &str| file.positions.key_or_value(p);
        if w.read_percentage.is_some() && w.op_percentage.is_some() {
            let span = key_at(&join(wp, "op_percentage"));
            self.error(
                file,
                code::CONFLICT,
                "`read_percentage` and `op_percentage` exclude each other",
                span,
            );
        }
        if let Some(crate::plan::Expr::Literal(p)) = &w.read_percentage
            && *p > 100
        {
            self.error(
                file,
                code::RANGE,
                format!("read_percentage {p} is above 100"),
                at(&join(wp, "read_percentage")),
            );
        }
        if let Some(ops) = &w.op_percentage {
            let op_pointer = join(wp, "op_percentage");
            for key in ops.keys() {
                let raw_opcode = key
                    .strip_prefix("0x")
                    .map(|h| u8::from_str_radix(h, 16).is_ok())
                    .unwrap_or_else(|| key.parse::<u8>().is_ok());
                if !IO_OPS.contains(&key.as_str()) && !raw_opcode {
                    let span = file.positions.key_or_value(&join(&op_pointer, key));
                    let d = self.error(
                        file,
                        code::SCHEMA,
                        format!("unknown operation `{key}`{}", did_you_mean(key, IO_OPS)),
                        span,
                    );
                    d.help =
                        Some(format!("operations: {} or a raw opcode such as `0x99`", IO_OPS.join(", ")));
                }
            }
            let sum: u32 = ops.values().map(|v| u32::from(*v)).sum();
            if sum != 100 {
                self.error(
                    file,
                    code::RANGE,
                    format!("op_percentage adds up to {sum}, not 100"),
                    at(&op_pointer),
                );
            }
        }
        if w.time.is_none() && w.io_count.is_none() && w.io_sequence.is_none() {
            let d = self.error(
                file,
                code::SCHEMA,
                "an ioworker needs `time`, `io_count` or `io_sequence` to know when to stop",
                key_at(wp),
            );
            d.help = Some("add e.g. `time: 10s`".into());
        }
        if let Some(dist) = &w.distribution {
            let sum: u64 = dist.iter().map(|v| u64::from(*v)).sum();
            if dist.len() != 100 || sum != 10_000 {
                let message = format!(
                    "`distribution` needs 100 buckets summing to 10000, found {} summing to {sum}",
                    dist.len()
                );
                self.error(file, code::RANGE, message, at(&join(wp, "distribution")));
            }
        }
        if let (Some(crate::plan::Expr::Literal(s)), Some(crate::plan::Expr::Literal(e))) =
            (&w.region_start, &w.region_end)
            && e <= s
        {
            self.error(
                file,
                code::RANGE,
                format!("region_end {e} is not after region_start {s}"),
                at(&join(wp, "region_end")),
            );
        }
        let size_pointer = join(wp, "io_size");
        let sizes: Vec<u64> = match &w.io_size {
            Some(IoSize::Fixed(crate::plan::Expr::Literal(n))) => vec![u64::from(*n)],
            Some(IoSize::List(v)) => v.iter().map(|n| u64::from(*n)).collect(),
            Some(IoSize::Range(r)) => {
                if r.min > r.max {
                    self.error(
                        file,
                        code::RANGE,
                        format!("io_size min {} is above max {}", r.min, r.max),
                        at(&size_pointer),
                    );
                }
                vec![u64::from(r.min), u64::from(r.max)]
            }
            Some(IoSize::Weighted(m)) => m.keys().filter_map(|k| k.parse().ok()).collect(),
            _ => Vec::new(),
        };
        if let Some(bad) = sizes.iter().find(|n| **n == 0 || **n > MAX_NLB) {
            self.error(
                file,
                code::RANGE,
                format!("io_size {bad} is out of range: 1 to {MAX_NLB} blocks"),
                at(&size_pointer),
            );
        }
    }
}

fn list_or_none(list: &[&str]) -> String {
    if list.is_empty() { "(none)".into() } else { list.join(", ") }
}

pub(super) fn fid_name(fid: u8) -> String {
    nvmeplan_spec::features::feature_name(fid).map_or_else(|| format!("{fid:#04x}"), |n| format!("`{n}`"))
}
