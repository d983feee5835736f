//! What the action rooms ([`crate::action`]) share to reach the device:
//! sending admin commands and reading logs and features ([`admin`]), I/O
//! ranges, buffers and raw commands ([`io`]), splitting a range into
//! commands the device takes ([`split`]), fault rules and messages
//! ([`control`]), ioworker configuration ([`ioworker`]) and data buffers
//! ([`data`]). Every action returns an [`ActionOutput`] that expectations
//! check and `save:` stores.

pub mod admin;
pub mod control;
pub mod data;
pub mod io;
pub mod ioworker;
pub mod split;

pub use super::limits::StepEnv;
pub use super::output::ActionOutput;
