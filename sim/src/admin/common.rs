//! What every admin command family shares: the handler result type, the
//! NSID that names every namespace and this controller's identifier.

use nvmeplan_spec::Status;

/// The NSID that names every namespace.
pub(crate) const NSID_ALL: u32 = u32::MAX;

/// The controller ID this controller reports (Identify CNTLID).
pub(crate) const CNTLID: u16 = 1;

/// Result of a handler: `Err(status)` becomes an error completion.
pub(crate) type AdminResult = Result<u32, Status>;
