//! Executing one action against the device: admin commands ([`admin`]),
//! NVM and raw commands ([`io`]), control actions ([`control`]) and IO
//! workers ([`ioworker`]). Every action returns an [`ActionOutput`] that
//! expectations check and `save:` stores ([`ActionOutput`], in
//! [`crate::run::output`]).

pub mod admin;
pub mod control;
pub mod data;
pub mod io;
pub mod ioworker;

pub use super::limits::StepEnv;
pub use super::output::ActionOutput;

use super::context::{RunContext, StepResult};
use crate::plan::Action;

/// Runs `action`.
pub fn execute(ctx: &mut RunContext, env: StepEnv<'_>, action: &Action) -> StepResult<ActionOutput> {
    use Action as A;
    match action {
        A::Identify(a) => admin::identify(ctx, env, a),
        A::GetLogPage(a) => admin::get_log_page(ctx, env, a),
        A::GetFeatures(a) => admin::get_features(ctx, env, a),
        A::SetFeatures(a) => admin::set_features(ctx, env, a),
        A::Format(a) => admin::format(ctx, env, a),
        A::Sanitize(a) => admin::sanitize(ctx, env, a),
        A::FirmwareDownload(a) => admin::firmware_download(ctx, env, a),
        A::FirmwareCommit(a) => admin::firmware_commit(ctx, env, a),
        A::NamespaceCreate(a) => admin::namespace_create(ctx, env, a),
        A::NamespaceDelete(a) => admin::namespace_delete(ctx, env, a),
        A::NamespaceAttach(a) => admin::namespace_attachment(ctx, env, a, false),
        A::NamespaceDetach(a) => admin::namespace_attachment(ctx, env, a, true),
        A::CreateIoCq(a) => admin::create_io_cq(ctx, env, a),
        A::CreateIoSq(a) => admin::create_io_sq(ctx, env, a),
        A::DeleteIoSq(a) => admin::delete_queue(ctx, env, a, false),
        A::DeleteIoCq(a) => admin::delete_queue(ctx, env, a, true),
        A::CreateIoQueues(a) => admin::create_io_queues(ctx, env, a),
        A::DeleteIoQueues(a) => admin::delete_io_queues(ctx, env, a),
        A::Abort(a) => admin::abort(ctx, env, a),
        A::AsyncEvent(a) => admin::async_event(ctx, env, a),
        A::SelfTest(a) => admin::self_test(ctx, env, a),
        A::AdminRaw(a) => io::raw(ctx, env, a, true),
        A::IoRaw(a) => io::raw(ctx, env, a, false),
        A::Read(a) => io::read(ctx, env, a),
        A::Write(a) => io::write(ctx, env, a),
        A::Compare(a) => io::compare(ctx, env, a),
        A::Flush(a) => io::flush(ctx, env, a),
        A::WriteZeroes(a) => io::write_zeroes(ctx, env, a),
        A::WriteUncorrectable(a) => io::write_uncorrectable(ctx, env, a),
        A::Deallocate(a) => io::deallocate(ctx, env, a),
        A::Verify(a) => io::verify(ctx, env, a),
        A::Ioworker(a) => ioworker::run(ctx, env, a),
        A::Reset(a) => control::reset(ctx, *a),
        A::Shutdown(a) => control::shutdown(ctx, *a),
        A::Register(a) => control::register(ctx, env, a),
        A::Sleep(d) => {
            super::limits::sleep(ctx, env, d.0)?;
            Ok(ActionOutput::default())
        }
        A::Log(text) => control::log(&env, text),
        A::Assert(c) => control::assert(env, c),
        A::Inject(a) => control::inject(ctx, env, a),
        A::Group(_) | A::Include(_) => {
            Err(super::context::StepError::Invalid("groups and includes are expanded before running".into()))
        }
    }
}
