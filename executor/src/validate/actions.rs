//! Action rules: what the schema cannot say about one action. Each
//! action's room states its own rules ([`crate::action::ActionKind::check`]);
//! this pass gives it an [`ActionCheck`] at the action's value and then
//! checks the step's `expect` keys against the action.

use super::Validator;
use super::action_check::ActionCheck;
use crate::load::LoadedFile;
use crate::plan::Step;
use crate::positions::join;

impl Validator<'_> {
    pub(super) fn check_action(&mut self, file: &LoadedFile, pointer: &str, step: &Step) {
        let ap = join(pointer, step.action.name());
        step.action.check(&mut ActionCheck::new(self, file, ap));
        self.check_expect(file, pointer, step);
    }
}
