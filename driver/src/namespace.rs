//! [`Namespace`]: the geometry of one active namespace, taken from its
//! Identify Namespace data. The controller learns it at bring-up; queue
//! pairs look it up to size their transfers.

use nvmeplan_spec::identify::{IdentifyNamespace, dlfeat};
use std::sync::Arc;

/// An active namespace.
#[derive(Clone, Debug)]
pub struct Namespace {
    /// Namespace id.
    pub nsid: u32,
    /// Size in logical blocks (NSZE).
    pub nsze: u64,
    /// Capacity in logical blocks (NCAP).
    pub ncap: u64,
    /// Logical block size in bytes.
    pub lba_size: u64,
    /// Metadata bytes per block.
    pub metadata_size: u16,
    /// The Identify Namespace data.
    pub identify: Arc<IdentifyNamespace>,
}

impl Namespace {
    pub(crate) fn from_identify(nsid: u32, id: IdentifyNamespace) -> Self {
        Namespace {
            nsid,
            nsze: id.nsze,
            ncap: id.ncap,
            lba_size: id.lba_size(),
            metadata_size: id.metadata_size(),
            identify: Arc::new(id),
        }
    }

    /// Whether deallocated blocks read as zeroes (DLFEAT bits 2:0 = 001b).
    pub fn reads_zeroes_after_deallocate(&self) -> bool {
        dlfeat::read_behavior(self.identify.dlfeat) == dlfeat::READ_ZEROES
    }
}
