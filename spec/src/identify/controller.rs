//! The Identify Controller data structure (CNS 01h) and its power state
//! descriptors.

use super::*;

/// A power state descriptor (Identify Controller bytes 2079:2048 for power
/// state 0, and so on for the 32 power states).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct PowerStateDescriptor {
    /// Maximum Power, in 0.01 W (or 0.0001 W when MXPS is set).
    pub mp: u16,
    /// Reserved.
    pub rsvd2: u8,
    /// Bit 0: Max Power Scale (MXPS); bit 1: Non-Operational State (NOPS).
    pub flags: u8,
    /// Entry Latency, in microseconds.
    pub enlat: u32,
    /// Exit Latency, in microseconds.
    pub exlat: u32,
    /// Relative Read Throughput (bits 4:0).
    pub rrt: u8,
    /// Relative Read Latency (bits 4:0).
    pub rrl: u8,
    /// Relative Write Throughput (bits 4:0).
    pub rwt: u8,
    /// Relative Write Latency (bits 4:0).
    pub rwl: u8,
    /// Idle Power.
    pub idlp: u16,
    /// Idle Power Scale (bits 7:6).
    pub ips: u8,
    /// Reserved.
    pub rsvd19: u8,
    /// Active Power.
    pub actp: u16,
    /// Bits 2:0: Active Power Workload (APW); bits 7:6: Active Power Scale (APS).
    pub apw_aps: u8,
    /// Reserved.
    pub rsvd23: [u8; 9],
}

const _: () = assert!(size_of::<PowerStateDescriptor>() == 32);

impl PowerStateDescriptor {
    /// Max Power Scale flag in [`PowerStateDescriptor::flags`].
    pub const MXPS: u8 = 1 << 0;
    /// Non-Operational State flag in [`PowerStateDescriptor::flags`].
    pub const NOPS: u8 = 1 << 1;

    /// Whether this is a non-operational power state.
    pub const fn non_operational(&self) -> bool {
        self.flags & Self::NOPS != 0
    }
}

/// The Identify Controller data structure (CNS 01h, 4096 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct IdentifyController {
    /// PCI Vendor ID (bytes 1:0).
    pub vid: u16,
    /// PCI Subsystem Vendor ID (bytes 3:2).
    pub ssvid: u16,
    /// Serial Number, ASCII, space padded (bytes 23:4).
    pub sn: [u8; 20],
    /// Model Number, ASCII, space padded (bytes 63:24).
    pub mn: [u8; 40],
    /// Firmware Revision, ASCII, space padded (bytes 71:64).
    pub fr: [u8; 8],
    /// Recommended Arbitration Burst (byte 72).
    pub rab: u8,
    /// IEEE OUI Identifier, little-endian (bytes 75:73).
    pub ieee: [u8; 3],
    /// Controller Multi-Path I/O and Namespace Sharing Capabilities (byte 76).
    pub cmic: u8,
    /// Maximum Data Transfer Size, a power of two in units of CAP.MPSMIN;
    /// 0 means no limit (byte 77).
    pub mdts: u8,
    /// Controller ID (bytes 79:78).
    pub cntlid: u16,
    /// Version, in the format of the VS register (bytes 83:80).
    pub ver: u32,
    /// RTD3 Resume Latency, in microseconds (bytes 87:84).
    pub rtd3r: u32,
    /// RTD3 Entry Latency, in microseconds (bytes 91:88).
    pub rtd3e: u32,
    /// Optional Asynchronous Events Supported (bytes 95:92).
    pub oaes: u32,
    /// Controller Attributes (bytes 99:96).
    pub ctratt: u32,
    /// Read Recovery Levels Supported (bytes 101:100).
    pub rrls: u16,
    /// Reserved (bytes 110:102).
    pub rsvd102: [u8; 9],
    /// Controller Type: 1 I/O, 2 discovery, 3 administrative (byte 111).
    pub cntrltype: u8,
    /// FRU Globally Unique Identifier (bytes 127:112).
    pub fguid: [u8; 16],
    /// Command Retry Delay Time 1, in 100 ms units (bytes 129:128).
    pub crdt1: u16,
    /// Command Retry Delay Time 2 (bytes 131:130).
    pub crdt2: u16,
    /// Command Retry Delay Time 3 (bytes 133:132).
    pub crdt3: u16,
    /// Reserved (bytes 252:134).
    pub rsvd134: [u8; 119],
    /// NVM Subsystem Report (byte 253, NVMe-MI).
    pub nvmsr: u8,
    /// VPD Write Cycle Information (byte 254, NVMe-MI).
    pub vwci: u8,
    /// Management Endpoint Capabilities (byte 255, NVMe-MI).
    pub mec: u8,
    /// Optional Admin Command Support, see [`oacs`] (bytes 257:256).
    pub oacs: u16,
    /// Abort Command Limit, zero-based (byte 258).
    pub acl: u8,
    /// Asynchronous Event Request Limit, zero-based (byte 259).
    pub aerl: u8,
    /// Firmware Updates, see [`frmw`] (byte 260).
    pub frmw: u8,
    /// Log Page Attributes, see [`lpa`] (byte 261).
    pub lpa: u8,
    /// Error Log Page Entries, zero-based (byte 262).
    pub elpe: u8,
    /// Number of Power States Support, zero-based (byte 263).
    pub npss: u8,
    /// Admin Vendor Specific Command Configuration (byte 264).
    pub avscc: u8,
    /// Autonomous Power State Transition Attributes (byte 265).
    pub apsta: u8,
    /// Warning Composite Temperature Threshold, in Kelvin (bytes 267:266).
    pub wctemp: u16,
    /// Critical Composite Temperature Threshold, in Kelvin (bytes 269:268).
    pub cctemp: u16,
    /// Maximum Time for Firmware Activation, in 100 ms units (bytes 271:270).
    pub mtfa: u16,
    /// Host Memory Buffer Preferred Size, in 4 KiB units (bytes 275:272).
    pub hmpre: u32,
    /// Host Memory Buffer Minimum Size, in 4 KiB units (bytes 279:276).
    pub hmmin: u32,
    /// Total NVM Capacity, in bytes, u128 little-endian (bytes 295:280).
    pub tnvmcap: [u8; 16],
    /// Unallocated NVM Capacity, in bytes, u128 little-endian (bytes 311:296).
    pub unvmcap: [u8; 16],
    /// Replay Protected Memory Block Support (bytes 315:312).
    pub rpmbs: u32,
    /// Extended Device Self-test Time, in minutes (bytes 317:316).
    pub edstt: u16,
    /// Device Self-test Options (byte 318).
    pub dsto: u8,
    /// Firmware Update Granularity, in 4 KiB units (byte 319).
    pub fwug: u8,
    /// Keep Alive Support, granularity in 100 ms units (bytes 321:320).
    pub kas: u16,
    /// Host Controlled Thermal Management Attributes (bytes 323:322).
    pub hctma: u16,
    /// Minimum Thermal Management Temperature, in Kelvin (bytes 325:324).
    pub mntmt: u16,
    /// Maximum Thermal Management Temperature, in Kelvin (bytes 327:326).
    pub mxtmt: u16,
    /// Sanitize Capabilities, see [`sanicap`] (bytes 331:328).
    pub sanicap: u32,
    /// Host Memory Buffer Minimum Descriptor Entry Size (bytes 335:332).
    pub hmminds: u32,
    /// Host Memory Maximum Descriptors Entries (bytes 337:336).
    pub hmmaxd: u16,
    /// NVM Set Identifier Maximum (bytes 339:338).
    pub nsetidmax: u16,
    /// Endurance Group Identifier Maximum (bytes 341:340).
    pub endgidmax: u16,
    /// ANA Transition Time, in seconds (byte 342).
    pub anatt: u8,
    /// Asymmetric Namespace Access Capabilities (byte 343).
    pub anacap: u8,
    /// ANA Group Identifier Maximum (bytes 347:344).
    pub anagrpmax: u32,
    /// Number of ANA Group Identifiers (bytes 351:348).
    pub nanagrpid: u32,
    /// Persistent Event Log Size, in 64 KiB units (bytes 355:352).
    pub pels: u32,
    /// Domain Identifier (bytes 357:356).
    pub domainid: u16,
    /// Reserved (bytes 367:358).
    pub rsvd358: [u8; 10],
    /// Max Endurance Group Capacity, u128 little-endian (bytes 383:368).
    pub megcap: [u8; 16],
    /// Reserved (bytes 511:384).
    pub rsvd384: [u8; 128],
    /// Submission Queue Entry Size: bits 3:0 required, 7:4 maximum, as
    /// powers of two (byte 512).
    pub sqes: u8,
    /// Completion Queue Entry Size, like SQES (byte 513).
    pub cqes: u8,
    /// Maximum Outstanding Commands (bytes 515:514).
    pub maxcmd: u16,
    /// Number of Namespaces: the largest valid NSID (bytes 519:516).
    pub nn: u32,
    /// Optional NVM Command Support, see [`oncs`] (bytes 521:520).
    pub oncs: u16,
    /// Fused Operation Support (bytes 523:522).
    pub fuses: u16,
    /// Format NVM Attributes (byte 524).
    pub fna: u8,
    /// Volatile Write Cache, see [`vwc`] (byte 525).
    pub vwc: u8,
    /// Atomic Write Unit Normal, zero-based in logical blocks (bytes 527:526).
    pub awun: u16,
    /// Atomic Write Unit Power Fail, zero-based (bytes 529:528).
    pub awupf: u16,
    /// I/O Command Set Vendor Specific Command Configuration (byte 530).
    pub icsvscc: u8,
    /// Namespace Write Protection Capabilities (byte 531).
    pub nwpc: u8,
    /// Atomic Compare & Write Unit, zero-based (bytes 533:532).
    pub acwu: u16,
    /// Optional Copy Formats Supported, see [`ocfs`] (OCFS in NVMe 2.0;
    /// bytes 535:534). Plans and reports name it `cdfs`.
    pub cdfs: u16,
    /// SGL Support (bytes 539:536).
    pub sgls: u32,
    /// Maximum Number of Allowed Namespaces (bytes 543:540).
    pub mnan: u32,
    /// Maximum Domain Namespace Attachments, u128 little-endian (bytes 559:544).
    pub maxdna: [u8; 16],
    /// Maximum I/O Controller Namespace Attachments (bytes 563:560).
    pub maxcna: u32,
    /// Optimal Aggregated Queue Depth (bytes 567:564).
    pub oaqd: u32,
    /// Reserved (bytes 767:568).
    pub rsvd568: [u8; 200],
    /// NVM Subsystem NVMe Qualified Name, UTF-8, NUL terminated
    /// (bytes 1023:768).
    pub subnqn: [u8; 256],
    /// Reserved (bytes 1791:1024).
    pub rsvd1024: [u8; 768],
    /// I/O Queue Command Capsule Supported Size, NVMe over Fabrics
    /// (bytes 1795:1792).
    pub ioccsz: u32,
    /// I/O Queue Response Capsule Supported Size (bytes 1799:1796).
    pub iorcsz: u32,
    /// In Capsule Data Offset (bytes 1801:1800).
    pub icdoff: u16,
    /// Fabrics Controller Attributes (byte 1802).
    pub fcatt: u8,
    /// Maximum SGL Data Block Descriptors (byte 1803).
    pub msdbd: u8,
    /// Optional Fabric Commands Support (bytes 1805:1804).
    pub ofcs: u16,
    /// Reserved (bytes 2047:1806).
    pub rsvd1806: [u8; 242],
    /// Power State Descriptors 0 to 31 (bytes 3071:2048).
    pub psd: [PowerStateDescriptor; 32],
    /// Vendor Specific (bytes 4095:3072).
    pub vs: [u8; 1024],
}

const _: () = assert!(size_of::<IdentifyController>() == 4096);

impl Default for IdentifyController {
    fn default() -> Self {
        Self::new_zeroed()
    }
}

impl IdentifyController {
    /// An all-zero structure.
    pub fn zeroed() -> Self {
        Self::new_zeroed()
    }

    /// The serial number, trimmed.
    pub fn serial(&self) -> String {
        ascii_field(&self.sn)
    }

    /// The model number, trimmed.
    pub fn model(&self) -> String {
        ascii_field(&self.mn)
    }

    /// The firmware revision, trimmed.
    pub fn firmware_revision(&self) -> String {
        ascii_field(&self.fr)
    }

    /// The NVM subsystem NQN, up to its first NUL.
    pub fn subsystem_nqn(&self) -> String {
        ascii_field(&self.subnqn)
    }

    /// Sets the serial number (space padded, truncated to 20 bytes).
    pub fn set_serial(&mut self, text: &str) {
        set_ascii(&mut self.sn, text);
    }

    /// Sets the model number (space padded, truncated to 40 bytes).
    pub fn set_model(&mut self, text: &str) {
        set_ascii(&mut self.mn, text);
    }

    /// Sets the firmware revision (space padded, truncated to 8 bytes).
    pub fn set_firmware_revision(&mut self, text: &str) {
        set_ascii(&mut self.fr, text);
    }

    /// Sets the NVM subsystem NQN (NUL padded, truncated to 255 bytes).
    pub fn set_subsystem_nqn(&mut self, text: &str) {
        set_nul_terminated(&mut self.subnqn, text);
    }

    /// The maximum data transfer size in bytes for a minimum memory page
    /// size of `min_page_size` bytes (CAP.MPSMIN), or `None` when MDTS is 0
    /// (no limit).
    pub fn mdts_bytes(&self, min_page_size: u64) -> Option<u64> {
        if self.mdts == 0 {
            return None;
        }
        Some(min_page_size.checked_shl(u32::from(self.mdts)).unwrap_or(u64::MAX))
    }

    /// Total NVM capacity in bytes.
    pub fn total_capacity(&self) -> u128 {
        le_uint(&self.tnvmcap)
    }

    /// Unallocated NVM capacity in bytes.
    pub fn unallocated_capacity(&self) -> u128 {
        le_uint(&self.unvmcap)
    }

    /// The number of firmware slots (FRMW bits 3:1).
    pub const fn firmware_slots(&self) -> u8 {
        frmw::nslots(self.frmw)
    }
}

byte_fields!(IdentifyController {
        vid: Int "PCI Vendor ID.",
        ssvid: Int "PCI Subsystem Vendor ID.",
        sn: Text "Serial Number.",
        mn: Text "Model Number.",
        fr: Text "Firmware Revision.",
        rab: Int "Recommended Arbitration Burst.",
        ieee: Int "IEEE OUI Identifier.",
        cmic: Int "Controller Multi-Path I/O and Namespace Sharing Capabilities.",
        mdts: Int "Maximum Data Transfer Size, a power of two in units of CAP.MPSMIN.",
        cntlid: Int "Controller ID.",
        ver: Int "Version.",
        rtd3r: Int "RTD3 Resume Latency, in microseconds.",
        rtd3e: Int "RTD3 Entry Latency, in microseconds.",
        oaes: Int "Optional Asynchronous Events Supported.",
        ctratt: Int "Controller Attributes.",
        rrls: Int "Read Recovery Levels Supported.",
        cntrltype: Int "Controller Type: 1 I/O, 2 discovery, 3 administrative.",
        fguid: Bytes "FRU Globally Unique Identifier.",
        crdt1: Int "Command Retry Delay Time 1, in 100 ms units.",
        crdt2: Int "Command Retry Delay Time 2, in 100 ms units.",
        crdt3: Int "Command Retry Delay Time 3, in 100 ms units.",
        nvmsr: Int "NVM Subsystem Report.",
        vwci: Int "VPD Write Cycle Information.",
        mec: Int "Management Endpoint Capabilities.",
        oacs: Int "Optional Admin Command Support.",
        acl: Int "Abort Command Limit, zero-based.",
        aerl: Int "Asynchronous Event Request Limit, zero-based.",
        frmw: Int "Firmware Updates.",
        lpa: Int "Log Page Attributes.",
        elpe: Int "Error Log Page Entries, zero-based.",
        npss: Int "Number of Power States Support, zero-based.",
        avscc: Int "Admin Vendor Specific Command Configuration.",
        apsta: Int "Autonomous Power State Transition Attributes.",
        wctemp: Int "Warning Composite Temperature Threshold, in Kelvin.",
        cctemp: Int "Critical Composite Temperature Threshold, in Kelvin.",
        mtfa: Int "Maximum Time for Firmware Activation, in 100 ms units.",
        hmpre: Int "Host Memory Buffer Preferred Size, in 4 KiB units.",
        hmmin: Int "Host Memory Buffer Minimum Size, in 4 KiB units.",
        tnvmcap: Int "Total NVM Capacity, in bytes.",
        unvmcap: Int "Unallocated NVM Capacity, in bytes.",
        rpmbs: Int "Replay Protected Memory Block Support.",
        edstt: Int "Extended Device Self-test Time, in minutes.",
        dsto: Int "Device Self-test Options.",
        fwug: Int "Firmware Update Granularity, in 4 KiB units.",
        kas: Int "Keep Alive Support, in 100 ms units.",
        hctma: Int "Host Controlled Thermal Management Attributes.",
        mntmt: Int "Minimum Thermal Management Temperature, in Kelvin.",
        mxtmt: Int "Maximum Thermal Management Temperature, in Kelvin.",
        sanicap: Int "Sanitize Capabilities.",
        hmminds: Int "Host Memory Buffer Minimum Descriptor Entry Size, in 4 KiB units.",
        hmmaxd: Int "Host Memory Maximum Descriptors Entries.",
        nsetidmax: Int "NVM Set Identifier Maximum.",
        endgidmax: Int "Endurance Group Identifier Maximum.",
        anatt: Int "ANA Transition Time, in seconds.",
        anacap: Int "Asymmetric Namespace Access Capabilities.",
        anagrpmax: Int "ANA Group Identifier Maximum.",
        nanagrpid: Int "Number of ANA Group Identifiers.",
        pels: Int "Persistent Event Log Size, in 64 KiB units.",
        domainid: Int "Domain Identifier.",
        megcap: Int "Max Endurance Group Capacity, in bytes.",
        sqes: Int "Submission Queue Entry Size: required (bits 3:0) and maximum (bits 7:4), as powers of two.",
        cqes: Int "Completion Queue Entry Size: required (bits 3:0) and maximum (bits 7:4), as powers of two.",
        maxcmd: Int "Maximum Outstanding Commands.",
        nn: Int "Number of Namespaces: the largest valid NSID.",
        oncs: Int "Optional NVM Command Support.",
        fuses: Int "Fused Operation Support.",
        fna: Int "Format NVM Attributes.",
        vwc: Int "Volatile Write Cache.",
        awun: Int "Atomic Write Unit Normal, in logical blocks, zero-based.",
        awupf: Int "Atomic Write Unit Power Fail, in logical blocks, zero-based.",
        icsvscc: Int "I/O Command Set Vendor Specific Command Configuration.",
        nwpc: Int "Namespace Write Protection Capabilities.",
        acwu: Int "Atomic Compare & Write Unit, in logical blocks, zero-based.",
        cdfs: Int "Optional Copy Formats Supported (OCFS): bit N set means Copy descriptor format N is supported.",
        sgls: Int "SGL Support.",
        mnan: Int "Maximum Number of Allowed Namespaces.",
        maxdna: Int "Maximum Domain Namespace Attachments.",
        maxcna: Int "Maximum I/O Controller Namespace Attachments.",
        oaqd: Int "Optimal Aggregated Queue Depth.",
        subnqn: Text "NVM Subsystem NVMe Qualified Name.",
        ioccsz: Int "I/O Queue Command Capsule Supported Size (fabrics).",
        iorcsz: Int "I/O Queue Response Capsule Supported Size (fabrics).",
        icdoff: Int "In Capsule Data Offset (fabrics).",
        fcatt: Int "Fabrics Controller Attributes.",
        msdbd: Int "Maximum SGL Data Block Descriptors (fabrics).",
        ofcs: Int "Optional Fabric Commands Support.",
});

impl NamedFields for IdentifyController {
    fn fields(&self) -> Vec<(&'static str, FieldValue)> {
        read_fields(Self::BYTE_FIELDS, self.as_bytes())
    }
}
