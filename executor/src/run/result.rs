//! The result model of a run. It lives in the `nvmeplan-reports` crate
//! (the report model every output is rendered from); this module re-exports
//! it under the runner's names.

pub use nvmeplan_reports::model::*;
