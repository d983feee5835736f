//! Files a step names: a `firmware_download { file }` must stay inside the
//! plan's directory (or an `--allow-path` one) and be a regular file. A
//! missing file is left to the run, which may happen on another machine.

use super::Validator;
use crate::diagnostic::code;
use crate::input::paths::PathError;
use crate::input::{InputError, InputKind, check_file};
use crate::load::LoadedFile;

impl Validator<'_> {
    pub(super) fn check_firmware_file(&mut self, file: &LoadedFile, pointer: &str, path: &str) {
        let kind = InputKind::Firmware;
        // Firmware files are relative to the top plan's directory, as at run time.
        let message = match self.paths.resolve(&self.paths.root, path, kind) {
            Ok(resolved) => match check_file(&resolved.path, kind) {
                Ok(()) => return,
                Err(e) => e.to_string(),
            },
            Err(PathError::Input(InputError::NotFound { .. })) => return,
            Err(e) => e.to_string(),
        };
        let span = file.positions.nearest(pointer).value;
        self.error(file, code::IO, message, span).help =
            Some("firmware files are relative to the plan's directory".into());
    }
}
