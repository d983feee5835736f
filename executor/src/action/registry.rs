//! The list of plan actions: one line each, naming the plan key and the
//! room that implements it. The [`Action`] enum, its serde and schema
//! shape and the dispatch to each room are generated from this list.

use std::time::Duration;

use schemars::{Schema, SchemaGenerator};
use serde::Deserialize;

use super::{ActionCheck, ActionKind, ExpectKey, NamedData};
use crate::run::context::{Eval, RunContext, StepResult};
use crate::run::limits::StepEnv;
use crate::run::output::ActionOutput;
use crate::run::result::Captured;

macro_rules! actions {
    ($($(#[doc = $doc:literal])* $variant:ident($kind:ty) = $name:literal,)*) => {
        /// The action of a step: the one key that says what the step does.
        #[derive(Debug, Clone, PartialEq, Deserialize)]
        #[allow(clippy::large_enum_variant)]
        pub enum Action {
            $($(#[doc = $doc])* #[serde(rename = $name)] $variant(<$kind as ActionKind>::Plan),)*
        }

        impl Action {
            /// Every action key, in the order the schema lists them.
            pub const NAMES: &'static [&'static str] = &[$($name),*];

            /// The action's key in the plan.
            pub fn name(&self) -> &'static str {
                match self {
                    $(Action::$variant(_) => $name,)*
                }
            }

            /// `(key, description, payload schema, branch definition name)` of every action.
            pub(crate) fn branches(generator: &mut SchemaGenerator) -> Vec<(&'static str, &'static str, Schema, &'static str)> {
                vec![$(($name, concat!($($doc, "\n"),*), generator.subschema_for::<<$kind as ActionKind>::Plan>(), concat!(stringify!($variant), "Step")),)*]
            }

            /// The actions that support `key` under `expect`, in list order.
            pub fn supporting(key: ExpectKey) -> Vec<&'static str> {
                let mut names = Vec::new();
                $(if <$kind as ActionKind>::EXPECT.contains(&key) { names.push($name); })*
                names
            }

            /// The `expect` keys beyond `status` this action supports.
            pub fn expect_keys(&self) -> &'static [ExpectKey] {
                match self {
                    $(Action::$variant(_) => <$kind as ActionKind>::EXPECT,)*
                }
            }

            /// Runs the action's validation checks.
            pub fn check(&self, cx: &mut ActionCheck<'_, '_>) {
                match self {
                    $(Action::$variant(p) => <$kind as ActionKind>::check(p, cx),)*
                }
            }

            /// What `expect.fields` compares ([`ActionKind::named_data`]).
            pub fn named_data(&self) -> Option<NamedData> {
                match self {
                    $(Action::$variant(p) => <$kind as ActionKind>::named_data(p),)*
                }
            }

            /// Why the step verifies no data ([`ActionKind::verifies_nothing`]).
            pub fn verifies_nothing(&self) -> Option<String> {
                match self {
                    $(Action::$variant(p) => <$kind as ActionKind>::verifies_nothing(p),)*
                }
            }

            /// Why the action is destructive ([`ActionKind::destructive`]).
            pub fn destructive(&self, eval: Eval<'_>) -> StepResult<Option<String>> {
                match self {
                    $(Action::$variant(p) => <$kind as ActionKind>::destructive(p, eval),)*
                }
            }

            /// Runs the action ([`ActionKind::execute`]).
            pub fn execute(&self, ctx: &mut RunContext, env: StepEnv<'_>) -> StepResult<ActionOutput> {
                match self {
                    $(Action::$variant(p) => <$kind as ActionKind>::execute(p, ctx, env),)*
                }
            }

            /// How long the action asks to run ([`ActionKind::own_length`]).
            pub fn own_length(&self) -> Duration {
                match self {
                    $(Action::$variant(p) => <$kind as ActionKind>::own_length(p),)*
                }
            }

            /// What the action read, for the report ([`ActionKind::captured`]).
            pub fn captured(&self, out: &ActionOutput) -> Option<Captured> {
                match self {
                    $(Action::$variant(p) => <$kind as ActionKind>::captured(p, out),)*
                }
            }
        }
    };
}

actions! {
    /// Identify: read an identify data structure.
    Identify(super::identify::IdentifyDef) = "identify",
    /// Get Log Page.
    GetLogPage(super::get_log_page::GetLogPageDef) = "get_log_page",
    /// Get Features.
    GetFeatures(super::get_features::GetFeaturesDef) = "get_features",
    /// Set Features.
    SetFeatures(super::set_features::SetFeaturesDef) = "set_features",
    /// Format NVM.
    Format(super::format::FormatDef) = "format",
    /// Sanitize.
    Sanitize(super::sanitize::SanitizeDef) = "sanitize",
    /// Firmware Image Download.
    FirmwareDownload(super::firmware_download::FirmwareDownloadDef) = "firmware_download",
    /// Firmware Commit.
    FirmwareCommit(super::firmware_commit::FirmwareCommitDef) = "firmware_commit",
    /// Namespace Management: create a namespace (save it to get its NSID in `cdw0`).
    NamespaceCreate(super::namespace_create::NamespaceCreateDef) = "namespace_create",
    /// Namespace Management: delete a namespace.
    NamespaceDelete(super::namespace_delete::NamespaceDeleteDef) = "namespace_delete",
    /// Namespace Attachment: attach controllers.
    NamespaceAttach(super::namespace_attach::NamespaceAttachDef) = "namespace_attach",
    /// Namespace Attachment: detach controllers.
    NamespaceDetach(super::namespace_detach::NamespaceDetachDef) = "namespace_detach",
    /// Create I/O Completion Queue.
    CreateIoCq(super::create_io_cq::CreateIoCqDef) = "create_io_cq",
    /// Create I/O Submission Queue.
    CreateIoSq(super::create_io_sq::CreateIoSqDef) = "create_io_sq",
    /// Delete I/O Submission Queue.
    DeleteIoSq(super::delete_io_sq::DeleteIoSqDef) = "delete_io_sq",
    /// Delete I/O Completion Queue.
    DeleteIoCq(super::delete_io_cq::DeleteIoCqDef) = "delete_io_cq",
    /// Create an I/O completion queue and its submission queue with one id.
    CreateIoQueues(super::create_io_queues::CreateIoQueuesDef) = "create_io_queues",
    /// Delete an I/O submission queue and its completion queue.
    DeleteIoQueues(super::delete_io_queues::DeleteIoQueuesDef) = "delete_io_queues",
    /// Abort a command.
    Abort(super::abort::AbortDef) = "abort",
    /// Asynchronous Event Request.
    AsyncEvent(super::async_event::AsyncEventDef) = "async_event",
    /// Device Self-test.
    SelfTest(super::self_test::SelfTestDef) = "self_test",
    /// A raw admin command.
    AdminRaw(super::admin_raw::AdminRawDef) = "admin_raw",
    /// A raw I/O command.
    IoRaw(super::io_raw::IoRawDef) = "io_raw",
    /// Read (with `verify: true`, check the data this run wrote).
    Read(super::read::ReadDef) = "read",
    /// Write (per-LBA stamps by default, so later reads can verify).
    Write(super::write::WriteDef) = "write",
    /// Compare.
    Compare(super::compare::CompareDef) = "compare",
    /// Flush.
    Flush(super::flush::FlushDef) = "flush",
    /// Write Zeroes.
    WriteZeroes(super::write_zeroes::WriteZeroesDef) = "write_zeroes",
    /// Write Uncorrectable.
    WriteUncorrectable(super::write_uncorrectable::WriteUncorrectableDef) = "write_uncorrectable",
    /// Dataset Management, deallocate (trim).
    Deallocate(super::deallocate::DeallocateDef) = "deallocate",
    /// Copy blocks from source ranges to a destination (NVM Copy, descriptor format 0).
    Copy(super::copy::CopyDef) = "copy",
    /// Verify (the controller checks the blocks; no data moves).
    Verify(super::verify::VerifyDef) = "verify",
    /// An IO worker, or a list of workers run in parallel.
    Ioworker(super::ioworker::IoworkerDef) = "ioworker",
    /// Reset: `controller`, `subsystem`, `function` or `power_cycle`.
    Reset(super::reset::ResetDef) = "reset",
    /// Shutdown notification: `normal` or `abrupt`.
    Shutdown(super::shutdown::ShutdownDef) = "shutdown",
    /// Read, write or check a register field (`csts.rdy`, `cc.en`, `cap.mqes`).
    Register(super::register::RegisterDef) = "register",
    /// Wait this long (`100ms`).
    Sleep(super::sleep::SleepDef) = "sleep",
    /// Write a message to the report (`${{ }}` allowed).
    Log(super::log::LogDef) = "log",
    /// Fail unless the expression is true.
    Assert(super::assert::AssertDef) = "assert",
    /// A group of nested steps.
    Group(super::group::GroupDef) = "group",
    /// Include the steps of another plan file here.
    Include(super::include::IncludeDef) = "include",
    /// Inject a simulator fault for the following steps.
    Inject(super::inject::InjectDef) = "inject",
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_key_is_unique_and_has_a_schema_branch() {
        let mut names = Action::NAMES.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Action::NAMES.len());
        let mut generator = SchemaGenerator::default();
        let branches = Action::branches(&mut generator);
        assert_eq!(branches.iter().map(|b| b.0).collect::<Vec<_>>(), Action::NAMES);
        assert!(branches.iter().all(|b| !b.1.trim().is_empty()), "every action has a description");
    }

    #[test]
    fn expect_keys_come_from_the_rooms() {
        assert_eq!(Action::supporting(ExpectKey::Data), ["read", "compare", "ioworker"]);
        assert_eq!(Action::supporting(ExpectKey::Iops), ["ioworker"]);
        assert_eq!(Action::supporting(ExpectKey::Fields), ["identify", "get_log_page", "get_features"]);
    }
}
