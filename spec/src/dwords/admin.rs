//! Admin command dwords: queue management, Get Log Page, Get and Set
//! Features, Identify, Format NVM, Sanitize, firmware, namespace management
//! and attachment, Device Self-test, Abort and the Asynchronous Event
//! Request completion.

use crate::layout::bits;

bits! {
    /// Create I/O Completion Queue and Create I/O Submission Queue CDW10.
    pub struct CreateIoQueueCdw10: u32 {
        pub qid: u16 [16] "Queue Identifier.",
        pub qsize: u16 [16] "Queue Size, zero-based.",
    }
}

bits! {
    /// Create I/O Completion Queue CDW11.
    pub struct CreateIoCqCdw11: u32 {
        pub pc: bool [1] "Physically Contiguous.",
        pub ien: bool [1] "Interrupts Enabled.",
        __: u32 [14] "",
        pub iv: u16 [16] "Interrupt Vector.",
    }
}

bits! {
    /// Create I/O Submission Queue CDW11.
    pub struct CreateIoSqCdw11: u32 {
        pub pc: bool [1] "Physically Contiguous.",
        pub qprio: u8 [2] "Queue Priority (weighted round robin).",
        __: u32 [13] "",
        pub cqid: u16 [16] "Completion Queue Identifier.",
    }
}

bits! {
    /// Delete I/O Submission Queue and Delete I/O Completion Queue CDW10.
    pub struct DeleteIoQueueCdw10: u32 {
        pub qid: u16 [16] "Queue Identifier.",
        __: u32 [16] "",
    }
}

bits! {
    /// Get Log Page CDW10.
    pub struct GetLogPageCdw10: u32 {
        pub lid: u8 [8] "Log Page Identifier.",
        pub lsp: u8 [7] "Log Specific Parameter.",
        pub rae: bool [1] "Retain Asynchronous Event.",
        pub numdl: u16 [16] "Number of Dwords, lower 16 bits (zero-based).",
    }
}

bits! {
    /// Get Log Page CDW11.
    pub struct GetLogPageCdw11: u32 {
        pub numdu: u16 [16] "Number of Dwords, upper 16 bits.",
        pub lsi: u16 [16] "Log Specific Identifier.",
    }
}

bits! {
    /// Get Log Page CDW14 (CDW12 and CDW13 hold the byte offset).
    pub struct GetLogPageCdw14: u32 {
        pub uuid_index: u8 [7] "UUID Index.",
        __: u32 [16] "",
        pub ot: bool [1] "Offset Type: the offset is an index, not bytes.",
        pub csi: u8 [8] "Command Set Identifier.",
    }
}

impl GetLogPageCdw10 {
    /// The low half of a zero-based dword count.
    pub const fn with_numd(self, numd: u32) -> Self {
        self.with_numdl(numd as u16)
    }
}

impl GetLogPageCdw11 {
    /// The high half of a zero-based dword count.
    pub const fn with_numd(self, numd: u32) -> Self {
        self.with_numdu((numd >> 16) as u16)
    }
}

/// The zero-based dword count of a Get Log Page, from its CDW10 and CDW11.
pub const fn get_log_page_numd(cdw10: GetLogPageCdw10, cdw11: GetLogPageCdw11) -> u32 {
    ((cdw11.numdu() as u32) << 16) | cdw10.numdl() as u32
}

bits! {
    /// Get Features CDW10.
    pub struct GetFeaturesCdw10: u32 {
        pub fid: u8 [8] "Feature Identifier.",
        pub sel: u8 [3] "Select: current, default, saved or supported capabilities.",
        __: u32 [21] "",
    }
}

bits! {
    /// Set Features CDW10.
    pub struct SetFeaturesCdw10: u32 {
        pub fid: u8 [8] "Feature Identifier.",
        __: u32 [23] "",
        pub sv: bool [1] "Save: the value persists across resets.",
    }
}

bits! {
    /// Identify CDW10.
    pub struct IdentifyCdw10: u32 {
        pub cns: u8 [8] "Controller or Namespace Structure.",
        __: u32 [8] "",
        pub cntid: u16 [16] "Controller Identifier.",
    }
}

bits! {
    /// Identify CDW11.
    pub struct IdentifyCdw11: u32 {
        pub cnssid: u16 [16] "CNS Specific Identifier.",
        __: u32 [8] "",
        pub csi: u8 [8] "Command Set Identifier.",
    }
}

bits! {
    /// Format NVM CDW10.
    pub struct FormatNvmCdw10: u32 {
        pub lbafl: u8 [4] "LBA Format, lower 4 bits of the index.",
        pub mset: bool [1] "Metadata Settings: metadata is part of an extended LBA.",
        pub pi: u8 [3] "Protection Information type.",
        pub pil: bool [1] "Protection Information Location: first bytes of the metadata.",
        pub ses: u8 [3] "Secure Erase Settings.",
        pub lbafu: u8 [2] "LBA Format, upper 2 bits of the index.",
        __: u32 [18] "",
    }
}

impl FormatNvmCdw10 {
    /// The LBA format index (0 to 63) from LBAFL and LBAFU.
    pub const fn lbaf(&self) -> u8 {
        self.lbafl() | (self.lbafu() << 4)
    }

    /// Sets the LBA format index; bits above the six the fields hold are
    /// dropped.
    pub const fn with_lbaf(self, index: u8) -> Self {
        self.with_lbafl(index & 0xF).with_lbafu((index >> 4) & 0x3)
    }
}

bits! {
    /// Sanitize CDW10 (CDW11 holds the overwrite pattern).
    pub struct SanitizeCdw10: u32 {
        pub sanact: u8 [3] "Sanitize Action.",
        pub ause: bool [1] "Allow Unrestricted Sanitize Exit.",
        pub owpass: u8 [4] "Overwrite Pass Count (0 means 16).",
        pub oipbp: bool [1] "Overwrite Invert Pattern Between Passes.",
        pub ndas: bool [1] "No-Deallocate After Sanitize.",
        __: u32 [22] "",
    }
}

bits! {
    /// Firmware Image Download CDW10.
    pub struct FirmwareDownloadCdw10: u32 {
        pub numd: u32 [32] "Number of Dwords, zero-based.",
    }
}

bits! {
    /// Firmware Image Download CDW11.
    pub struct FirmwareDownloadCdw11: u32 {
        pub ofst: u32 [32] "Offset, in dwords.",
    }
}

bits! {
    /// Firmware Commit CDW10.
    pub struct FirmwareCommitCdw10: u32 {
        pub fs: u8 [3] "Firmware Slot.",
        pub ca: u8 [3] "Commit Action.",
        __: u32 [25] "",
        pub bpid: bool [1] "Boot Partition ID.",
    }
}

bits! {
    /// Namespace Management CDW10.
    pub struct NamespaceManagementCdw10: u32 {
        pub sel: u8 [4] "Select: 0 create, 1 delete.",
        __: u32 [28] "",
    }
}

bits! {
    /// Namespace Management CDW11.
    pub struct NamespaceManagementCdw11: u32 {
        __: u32 [24] "",
        pub csi: u8 [8] "Command Set Identifier of the namespace to create.",
    }
}

bits! {
    /// Namespace Attachment CDW10.
    pub struct NamespaceAttachmentCdw10: u32 {
        pub sel: u8 [4] "Select: 0 attach, 1 detach.",
        __: u32 [28] "",
    }
}

bits! {
    /// Device Self-test CDW10.
    pub struct DeviceSelfTestCdw10: u32 {
        pub stc: u8 [4] "Self-test Code: 1 short, 2 extended, Fh abort.",
        __: u32 [28] "",
    }
}

bits! {
    /// Abort CDW10.
    pub struct AbortCdw10: u32 {
        pub sqid: u16 [16] "Submission Queue Identifier.",
        pub cid: u16 [16] "Command Identifier of the command to abort.",
    }
}

bits! {
    /// Asynchronous Event Request completion dword 0.
    pub struct AsyncEventDw0: u32 {
        pub event_type: u8 [3] "Asynchronous Event Type.",
        __: u32 [5] "",
        pub event_info: u8 [8] "Asynchronous Event Information.",
        pub log_page: u8 [8] "Log Page Identifier to read to clear the event.",
        __: u32 [8] "",
    }
}
