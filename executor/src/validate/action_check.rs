//! [`ActionCheck`]: what an action's room sees of validation — positions
//! relative to the action's value, the plan's device, and a way to report
//! problems — without reaching into the validator's state.

use nvmeplan_sim::SimConfig;

use super::Validator;
use crate::diagnostic::{Diagnostic, code};
use crate::load::LoadedFile;
use crate::plan::Expr;
use crate::plan::io::MAX_NLB;
use crate::plan::size::{MIN_LBA_SIZE, Size};
use crate::positions::{Span, join};
pub use crate::run::commands::split::Transfer;

/// The range of a block-range action, as [`ActionCheck::length`] checks it.
pub struct RangeCheck<'p> {
    /// `nsid`.
    pub nsid: Option<&'p Expr<u32>>,
    /// `slba`.
    pub slba: &'p Expr<Size>,
    /// `nlb`.
    pub nlb: Option<&'p Expr<Size>>,
    /// `size`.
    pub size: Option<&'p Expr<Size>>,
    /// `split`.
    pub split: bool,
    /// Whether the command moves data (and MDTS bounds it).
    pub transfer: Transfer,
}

/// Validation of one step's action, given to [`crate::action::ActionKind::check`].
pub struct ActionCheck<'a, 'o> {
    validator: &'a mut Validator<'o>,
    file: &'a LoadedFile,
    pointer: String,
}

impl<'a, 'o> ActionCheck<'a, 'o> {
    pub(super) fn new(validator: &'a mut Validator<'o>, file: &'a LoadedFile, pointer: String) -> Self {
        ActionCheck { validator, file, pointer }
    }

    /// The JSON pointer of `path` below the action's value (`["ranges", "0"]`).
    pub fn pointer(&self, path: &[&str]) -> String {
        path.iter().fold(self.pointer.clone(), |p, s| join(&p, s))
    }

    /// Where the value at `path` below the action's value is (or its
    /// nearest written parent).
    pub fn at(&self, path: &[&str]) -> Span {
        self.file.positions.nearest(&self.pointer(path)).value
    }

    /// Where the key at `path` is, else its value.
    pub fn key_at(&self, path: &[&str]) -> Span {
        self.file.positions.key_or_value(&self.pointer(path))
    }

    /// Records an error; the returned diagnostic can take a `help`.
    pub fn error(&mut self, code: &'static str, message: impl Into<String>, span: Span) -> &mut Diagnostic {
        self.validator.error(self.file, code, message, span)
    }

    /// The device the plan names, if any.
    pub fn plan_device(&self) -> Option<&str> {
        self.validator.plan_device.as_deref()
    }

    /// Checks a firmware file the action names at `path`.
    pub fn firmware_file(&mut self, path: &[&str], file_name: &str) {
        let pointer = self.pointer(path);
        self.validator.check_firmware_file(self.file, &pointer, file_name);
    }

    /// The simulator configuration of the plan's `device:`, when it names
    /// the simulator.
    pub fn plan_sim(&self) -> Option<&SimConfig> {
        self.validator.plan_sim.as_ref()
    }

    /// The LBA size of namespace `nsid` (a literal, else namespace 1) on
    /// the plan's device, when the plan names a simulator with that
    /// namespace.
    pub fn lba_size(&self, nsid: Option<&Expr<u32>>) -> Option<u64> {
        let sim = self.plan_sim()?;
        let nsid = nsid.map_or(Some(1), |n| n.literal().copied())?;
        let ns = sim.namespaces.get(usize::try_from(nsid).ok()?.checked_sub(1)?)?;
        Some(u64::from(ns.lba_size))
    }

    /// A literal size at `path` in blocks of namespace `nsid`, when it can
    /// be known before the run: blocks always, bytes when the plan's device
    /// gives the LBA size. A byte size that is not a whole number of
    /// blocks (of the plan device's LBA size, else of the smallest, 512
    /// bytes) is reported here.
    pub fn blocks(&mut self, path: &[&str], size: &Expr<Size>, nsid: Option<&Expr<u32>>) -> Option<u64> {
        let &size = size.literal()?;
        let (result, lba_size, known) = match self.lba_size(nsid) {
            Some(lba) => (size.blocks(lba), lba, true),
            None => (size.check_any_format().map(|()| 0), MIN_LBA_SIZE, false),
        };
        match result {
            Ok(blocks) => known.then_some(blocks).or(match size {
                Size::Blocks(n) => Some(n),
                Size::Bytes(_) => None,
            }),
            Err(e) => {
                // The key that holds the size: list indexes and the sizes
                // that key a weighted map start with a digit.
                let key = path
                    .iter()
                    .rev()
                    .find(|s| !s.starts_with(|c: char| c.is_ascii_digit()))
                    .copied()
                    .unwrap_or("size");
                let span = self.at(path);
                let device = self.plan_device().unwrap_or_default().to_string();
                let d = self.error(code::RANGE, format!("{key}: {e}"), span);
                d.help = Some(if known {
                    format!(
                        "the plan's device `{device}` formats the namespace with {lba_size}-byte blocks; give a multiple of {lba_size} bytes or a block count"
                    )
                } else {
                    "512 bytes is the smallest LBA size: a byte size must be a whole number of blocks on every format".into()
                });
                None
            }
        }
    }

    /// Whether the step expects a status other than success (then a
    /// command the device must refuse is what the plan wants).
    pub fn expects_an_error(&self) -> bool {
        let step = self.pointer.rsplit_once('/').map_or("", |(step, _)| step);
        match self.file.value.pointer(&format!("{step}/expect/status")) {
            None => false,
            Some(serde_json::Value::String(s)) => s != "success",
            Some(serde_json::Value::Array(list)) => !list.iter().any(|s| s == "success"),
            Some(_) => true,
        }
    }

    /// Checks the range of a block-range action: exactly one of `nlb` and
    /// `size`, sizes that resolve to blocks, at least one block, and, where
    /// the plan's simulator tells, that the range fits the namespace and
    /// that one command (`split: false`) fits MDTS and the NLB field, unless
    /// the step expects an error status. Expressions are checked when they
    /// are evaluated. Returns `(slba, nlb)` in blocks when both are known.
    pub fn length(&mut self, range: RangeCheck<'_>) -> Option<(u64, u64)> {
        let RangeCheck { nsid, slba, nlb, size, split, transfer } = range;
        let start = self.blocks(&["slba"], slba, nsid);
        let (key, length) = match (nlb, size) {
            (Some(n), None) => ("nlb", n),
            (None, Some(s)) => ("size", s),
            (Some(_), Some(_)) => {
                let span = self.key_at(&["size"]);
                let d = self.error(code::CONFLICT, "give `nlb` or `size`, not both", span);
                d.help =
                    Some("`nlb` and `size` are the same length; `size: 1MiB` reads better in bytes".into());
                return None;
            }
            (None, None) => {
                let span = self.key_at(&[]);
                let d = self.error(code::SCHEMA, "the range needs a length: `nlb` or `size`", span);
                d.help = Some("e.g. `nlb: 8` (blocks) or `size: 4k` (bytes)".into());
                return None;
            }
        };
        let n = self.blocks(&[key], length, nsid)?;
        if n == 0 || (!split && n > MAX_NLB) {
            let span = self.at(&[key]);
            let d = self.error(
                code::RANGE,
                format!("{key} of {n} blocks is out of range: a command moves 1 to {MAX_NLB} blocks"),
                span,
            );
            d.help = Some(if n == 0 {
                "`nlb` counts blocks from 1 (the command's NLB field is zero-based)".into()
            } else {
                "with `split: false` the range is one command; leave `split` on to send several".into()
            });
            return None;
        }
        let start = start?;
        if self.expects_an_error() {
            return Some((start, n));
        }
        let device = self.plan_device().unwrap_or_default().to_string();
        let lba = self.lba_size(nsid);
        let ns_blocks = self.namespace_blocks(nsid);
        if let Some(blocks) = ns_blocks
            && start.saturating_add(n) > blocks
        {
            let span = self.at(&["slba"]);
            let end = start.saturating_add(n) - 1;
            let lbas = if n == 1 { format!("LBA {start} is") } else { format!("LBAs {start} to {end} go") };
            let d = self.error(
                code::RANGE,
                format!(
                    "{lbas} beyond the namespace's last LBA {} ({blocks} blocks on the plan's device `{device}`)",
                    blocks.saturating_sub(1)
                ),
                span,
            );
            d.help = Some(
                "the device would answer `lba_out_of_range`; expect that status if it is the point".into(),
            );
        }
        let mdts = self.plan_sim().and_then(|sim| sim.mdts_bytes()).map(|b| b as u64);
        if !split
            && transfer == Transfer::Data
            && let (Some(mdts), Some(lba)) = (mdts, lba)
            && n.saturating_mul(lba) > mdts
        {
            let span = self.key_at(&["split"]);
            let d = self.error(
                code::RANGE,
                format!(
                    "`split: false` sends {n} blocks ({} bytes) as one command, over the MDTS of {mdts} bytes of the plan's device `{device}`",
                    n * lba
                ),
                span,
            );
            d.help = Some(
                "the device would answer `invalid_field_in_command`: expect that status, or leave `split` on to send commands of at most MDTS".into(),
            );
        }
        Some((start, n))
    }

    /// The size in blocks of namespace `nsid` (a literal, else 1) on the
    /// plan's simulator.
    pub fn namespace_blocks(&self, nsid: Option<&Expr<u32>>) -> Option<u64> {
        let sim = self.plan_sim()?;
        let nsid = nsid.map_or(Some(1), |n| n.literal().copied())?;
        Some(sim.namespaces.get(usize::try_from(nsid).ok()?.checked_sub(1)?)?.nlb)
    }

    /// Checks a literal block count of one command at `path` (1 to
    /// [`MAX_NLB`]); expressions are checked when they are evaluated.
    pub fn nlb(&mut self, path: &[&str], nlb: &Expr<Size>) {
        let Some(n) = self.blocks(path, nlb, None) else { return };
        if n == 0 || n > MAX_NLB {
            let span = self.at(path);
            let d = self.error(
                code::RANGE,
                format!("nlb {n} is out of range: a command moves 1 to {MAX_NLB} blocks"),
                span,
            );
            d.help = Some("`nlb` counts blocks from 1 (the command's NLB field is zero-based)".into());
        }
    }
}
