//! [`ActionCheck`]: what an action's room sees of validation — positions
//! relative to the action's value, the plan's device, and a way to report
//! problems — without reaching into the validator's state.

use super::Validator;
use crate::diagnostic::{Diagnostic, code};
use crate::load::LoadedFile;
use crate::plan::Expr;
use crate::plan::io::MAX_NLB;
use crate::positions::{Span, join};

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

    /// Checks a literal block count of one command at `path` (1 to
    /// [`MAX_NLB`]); expressions are checked when they are evaluated.
    pub fn nlb(&mut self, path: &[&str], nlb: &Expr<u64>) {
        let Some(&n) = nlb.literal() else { return };
        if n == 0 || n > MAX_NLB {
            let span = self.at(path);
            let d = self.error(
                code::RANGE,
                format!("nlb {n} is out of range: a command moves 1 to {MAX_NLB} blocks"),
                span,
            );
            d.help = Some("`nlb` counts blocks from 1 (the command's NLB field is zero-based); use an ioworker for larger transfers".into());
        }
    }
}
