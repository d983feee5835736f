//! Identify data structures (NVMe Base Specification 2.0, Identify command,
//! CNS 00h, 01h, 02h and 03h) and the [`NamedFields`] facility plans and
//! reports use to read fields by their spec names.
//!
//! Multi-byte integers use native types where the spec offset is naturally
//! aligned (this crate supports little-endian hosts only) and byte arrays
//! otherwise, so every `repr(C)` layout is free of padding. Field offsets are
//! checked by the tests against the spec's byte ranges.

#[cfg(not(target_endian = "little"))]
compile_error!("nvmeplan-spec lays NVMe structures out with native integers and needs a little-endian host");

use bitfield_struct::bitfield;
use std::fmt;
use zerocopy::{FromBytes, FromZeros, Immutable, IntoBytes, KnownLayout};

/// Controller or Namespace Structure (CNS) values of the Identify command
/// (CDW10 bits 7:0).
pub mod cns {
    /// Identify Namespace data structure for the NSID (CNS 00h).
    pub const NAMESPACE: u8 = 0x00;
    /// Identify Controller data structure (CNS 01h).
    pub const CONTROLLER: u8 = 0x01;
    /// Active Namespace ID list: active NSIDs greater than the NSID (CNS 02h).
    pub const ACTIVE_NAMESPACE_LIST: u8 = 0x02;
    /// Namespace Identification Descriptor list for the NSID (CNS 03h).
    pub const NAMESPACE_DESCRIPTORS: u8 = 0x03;
    /// Allocated Namespace ID list (CNS 10h).
    pub const ALLOCATED_NAMESPACE_LIST: u8 = 0x10;
    /// Identify Namespace data structure for an allocated NSID (CNS 11h).
    pub const ALLOCATED_NAMESPACE: u8 = 0x11;
    /// Controllers attached to the NSID (CNS 12h).
    pub const ATTACHED_CONTROLLER_LIST: u8 = 0x12;
    /// Controllers in the NVM subsystem (CNS 13h).
    pub const CONTROLLER_LIST: u8 = 0x13;
}

/// Optional Admin Command Support (OACS, Identify Controller bytes 257:256).
pub mod oacs {
    /// Security Send and Security Receive.
    pub const SECURITY: u16 = 1 << 0;
    /// Format NVM.
    pub const FORMAT_NVM: u16 = 1 << 1;
    /// Firmware Commit and Firmware Image Download.
    pub const FIRMWARE: u16 = 1 << 2;
    /// Namespace Management and Namespace Attachment.
    pub const NS_MANAGEMENT: u16 = 1 << 3;
    /// Device Self-test.
    pub const SELF_TEST: u16 = 1 << 4;
    /// Directives.
    pub const DIRECTIVES: u16 = 1 << 5;
    /// NVMe-MI Send and NVMe-MI Receive.
    pub const NVME_MI: u16 = 1 << 6;
    /// Virtualization Management.
    pub const VIRTUALIZATION: u16 = 1 << 7;
    /// Doorbell Buffer Config.
    pub const DOORBELL_BUFFER: u16 = 1 << 8;
    /// Get LBA Status.
    pub const LBA_STATUS: u16 = 1 << 9;
}

/// Optional NVM Command Support (ONCS, Identify Controller bytes 521:520).
pub mod oncs {
    /// Compare.
    pub const COMPARE: u16 = 1 << 0;
    /// Write Uncorrectable.
    pub const WRITE_UNCORRECTABLE: u16 = 1 << 1;
    /// Dataset Management.
    pub const DSM: u16 = 1 << 2;
    /// Write Zeroes.
    pub const WRITE_ZEROES: u16 = 1 << 3;
    /// The Save field of Set Features and the Select field of Get Features.
    pub const SAVE_SELECT: u16 = 1 << 4;
    /// Reservations.
    pub const RESERVATIONS: u16 = 1 << 5;
    /// Timestamp feature.
    pub const TIMESTAMP: u16 = 1 << 6;
    /// Verify.
    pub const VERIFY: u16 = 1 << 7;
    /// Copy.
    pub const COPY: u16 = 1 << 8;
}

/// Sanitize Capabilities (SANICAP, Identify Controller bytes 331:328).
pub mod sanicap {
    /// Crypto Erase sanitize operation supported.
    pub const CRYPTO_ERASE: u32 = 1 << 0;
    /// Block Erase sanitize operation supported.
    pub const BLOCK_ERASE: u32 = 1 << 1;
    /// Overwrite sanitize operation supported.
    pub const OVERWRITE: u32 = 1 << 2;
    /// No-Deallocate Inhibited.
    pub const NO_DEALLOCATE_INHIBITED: u32 = 1 << 29;
}

/// Firmware Updates (FRMW, Identify Controller byte 260).
pub mod frmw {
    /// Firmware slot 1 is read-only.
    pub const SLOT1_READ_ONLY: u8 = 1 << 0;
    /// Shift of the number of firmware slots (bits 3:1).
    pub const NSLOTS_SHIFT: u8 = 1;
    /// Mask of the number of firmware slots after shifting.
    pub const NSLOTS_MASK: u8 = 0x7;
    /// Firmware activation without reset is supported.
    pub const ACTIVATION_WITHOUT_RESET: u8 = 1 << 4;

    /// The number of firmware slots (1 to 7) a FRMW value reports.
    pub const fn nslots(frmw: u8) -> u8 {
        (frmw >> NSLOTS_SHIFT) & NSLOTS_MASK
    }

    /// Builds a FRMW value.
    pub const fn encode(slot1_read_only: bool, nslots: u8, activation_without_reset: bool) -> u8 {
        let mut v = (nslots & NSLOTS_MASK) << NSLOTS_SHIFT;
        if slot1_read_only {
            v |= SLOT1_READ_ONLY;
        }
        if activation_without_reset {
            v |= ACTIVATION_WITHOUT_RESET;
        }
        v
    }
}

/// Log Page Attributes (LPA, Identify Controller byte 261).
pub mod lpa {
    /// The SMART / Health log page is available per namespace.
    pub const SMART_PER_NAMESPACE: u8 = 1 << 0;
    /// The Commands Supported and Effects log page is supported.
    pub const COMMANDS_EFFECTS: u8 = 1 << 1;
    /// Extended data (NUMDU, LPOL/LPOU) for Get Log Page is supported.
    pub const EXTENDED_DATA: u8 = 1 << 2;
    /// Telemetry Host-Initiated and Controller-Initiated log pages.
    pub const TELEMETRY: u8 = 1 << 3;
    /// Persistent Event log page.
    pub const PERSISTENT_EVENT: u8 = 1 << 4;
}

/// Volatile Write Cache (VWC, Identify Controller byte 525).
pub mod vwc {
    /// A volatile write cache is present.
    pub const PRESENT: u8 = 1 << 0;
    /// Bits 2:1 = 10b: Flush with NSID FFFFFFFFh is not supported.
    pub const FLUSH_BROADCAST_NOT_SUPPORTED: u8 = 0b10 << 1;
    /// Bits 2:1 = 11b: Flush with NSID FFFFFFFFh is supported.
    pub const FLUSH_BROADCAST_SUPPORTED: u8 = 0b11 << 1;
}

/// Formatted LBA Size (FLBAS, Identify Namespace byte 26).
pub mod flbas {
    /// Metadata is transferred at the end of each LBA (extended LBA).
    pub const EXTENDED_METADATA: u8 = 1 << 4;

    /// The LBA format index FLBAS selects (bits 3:0 low, bits 6:5 high).
    pub const fn format_index(flbas: u8) -> usize {
        ((flbas & 0x0F) | (((flbas >> 5) & 0x3) << 4)) as usize
    }

    /// FLBAS with `index` (0 to 63) stored, keeping the other bits of `flbas`.
    pub const fn with_format_index(flbas: u8, index: usize) -> u8 {
        let index = (index & 0x3F) as u8;
        (flbas & !0x6F) | (index & 0x0F) | ((index >> 4) << 5)
    }
}

/// A decoded field value, as plans compare it and reports print it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldValue {
    /// An unsigned integer (byte blobs that are counters are read as u128 LE).
    Int(u128),
    /// ASCII text with trailing spaces and NULs removed.
    Text(String),
    /// Opaque bytes (identifiers such as NGUID).
    Bytes(Vec<u8>),
}

impl FieldValue {
    /// The integer, if this is an [`FieldValue::Int`].
    pub fn as_int(&self) -> Option<u128> {
        match self {
            FieldValue::Int(v) => Some(*v),
            _ => None,
        }
    }

    /// The text, if this is a [`FieldValue::Text`].
    pub fn as_text(&self) -> Option<&str> {
        match self {
            FieldValue::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The bytes, if this is a [`FieldValue::Bytes`].
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            FieldValue::Bytes(b) => Some(b),
            _ => None,
        }
    }
}

impl fmt::Display for FieldValue {
    /// Integers in decimal, text as is, bytes as lowercase hex.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::Int(v) => write!(f, "{v}"),
            FieldValue::Text(s) => f.write_str(s),
            FieldValue::Bytes(b) => b.iter().try_for_each(|x| write!(f, "{x:02x}")),
        }
    }
}

impl From<u8> for FieldValue {
    fn from(v: u8) -> Self {
        FieldValue::Int(v.into())
    }
}

impl From<u16> for FieldValue {
    fn from(v: u16) -> Self {
        FieldValue::Int(v.into())
    }
}

impl From<u32> for FieldValue {
    fn from(v: u32) -> Self {
        FieldValue::Int(v.into())
    }
}

impl From<u64> for FieldValue {
    fn from(v: u64) -> Self {
        FieldValue::Int(v.into())
    }
}

impl From<u128> for FieldValue {
    fn from(v: u128) -> Self {
        FieldValue::Int(v)
    }
}

impl From<bool> for FieldValue {
    fn from(v: bool) -> Self {
        FieldValue::Int(v.into())
    }
}

impl From<String> for FieldValue {
    fn from(v: String) -> Self {
        FieldValue::Text(v)
    }
}

/// Structures whose fields can be read by their spec names.
pub trait NamedFields {
    /// Every named field with its value, in layout order; reserved fields are
    /// omitted.
    fn fields(&self) -> Vec<(&'static str, FieldValue)>;

    /// The value of the field called `name`, if there is one.
    fn field(&self, name: &str) -> Option<FieldValue> {
        self.fields().into_iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }
}

/// Reads up to 16 bytes as a little-endian unsigned integer.
pub fn le_uint(bytes: &[u8]) -> u128 {
    bytes.iter().take(16).rev().fold(0u128, |acc, &b| (acc << 8) | u128::from(b))
}

/// Writes `value` little-endian into `bytes` (at most 16 bytes; higher bytes
/// of `value` that do not fit are dropped).
pub fn set_le_uint(bytes: &mut [u8], value: u128) {
    let le = value.to_le_bytes();
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = le.get(i).copied().unwrap_or(0);
    }
}

/// A space- or NUL-padded ASCII field as a `String`, with leading and
/// trailing spaces and NULs removed (non-ASCII bytes become U+FFFD).
pub fn ascii_field(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim_matches(|c: char| c == ' ' || c == '\0').to_string()
}

/// Fills `field` with `text`, truncated to the field's length and padded with
/// spaces (the padding the spec requires for SN, MN and FR).
pub fn set_ascii(field: &mut [u8], text: &str) {
    let src = text.as_bytes();
    for (i, b) in field.iter_mut().enumerate() {
        *b = src.get(i).copied().unwrap_or(b' ');
    }
}

/// Fills `field` with `text`, truncated to leave room for at least one NUL and
/// padded with NULs (the format of SUBNQN).
pub fn set_nul_terminated(field: &mut [u8], text: &str) {
    let src = text.as_bytes();
    let max = field.len().saturating_sub(1);
    for (i, b) in field.iter_mut().enumerate() {
        *b = if i < max { src.get(i).copied().unwrap_or(0) } else { 0 };
    }
}

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
    /// Copy Descriptor Formats Supported (OCFS in NVMe 2.0; bytes 535:534).
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

impl NamedFields for IdentifyController {
    fn fields(&self) -> Vec<(&'static str, FieldValue)> {
        use FieldValue::{Bytes, Int, Text};
        vec![
            ("vid", self.vid.into()),
            ("ssvid", self.ssvid.into()),
            ("sn", Text(self.serial())),
            ("mn", Text(self.model())),
            ("fr", Text(self.firmware_revision())),
            ("rab", self.rab.into()),
            ("ieee", Int(le_uint(&self.ieee))),
            ("cmic", self.cmic.into()),
            ("mdts", self.mdts.into()),
            ("cntlid", self.cntlid.into()),
            ("ver", self.ver.into()),
            ("rtd3r", self.rtd3r.into()),
            ("rtd3e", self.rtd3e.into()),
            ("oaes", self.oaes.into()),
            ("ctratt", self.ctratt.into()),
            ("rrls", self.rrls.into()),
            ("cntrltype", self.cntrltype.into()),
            ("fguid", Bytes(self.fguid.to_vec())),
            ("crdt1", self.crdt1.into()),
            ("crdt2", self.crdt2.into()),
            ("crdt3", self.crdt3.into()),
            ("nvmsr", self.nvmsr.into()),
            ("vwci", self.vwci.into()),
            ("mec", self.mec.into()),
            ("oacs", self.oacs.into()),
            ("acl", self.acl.into()),
            ("aerl", self.aerl.into()),
            ("frmw", self.frmw.into()),
            ("lpa", self.lpa.into()),
            ("elpe", self.elpe.into()),
            ("npss", self.npss.into()),
            ("avscc", self.avscc.into()),
            ("apsta", self.apsta.into()),
            ("wctemp", self.wctemp.into()),
            ("cctemp", self.cctemp.into()),
            ("mtfa", self.mtfa.into()),
            ("hmpre", self.hmpre.into()),
            ("hmmin", self.hmmin.into()),
            ("tnvmcap", Int(le_uint(&self.tnvmcap))),
            ("unvmcap", Int(le_uint(&self.unvmcap))),
            ("rpmbs", self.rpmbs.into()),
            ("edstt", self.edstt.into()),
            ("dsto", self.dsto.into()),
            ("fwug", self.fwug.into()),
            ("kas", self.kas.into()),
            ("hctma", self.hctma.into()),
            ("mntmt", self.mntmt.into()),
            ("mxtmt", self.mxtmt.into()),
            ("sanicap", self.sanicap.into()),
            ("hmminds", self.hmminds.into()),
            ("hmmaxd", self.hmmaxd.into()),
            ("nsetidmax", self.nsetidmax.into()),
            ("endgidmax", self.endgidmax.into()),
            ("anatt", self.anatt.into()),
            ("anacap", self.anacap.into()),
            ("anagrpmax", self.anagrpmax.into()),
            ("nanagrpid", self.nanagrpid.into()),
            ("pels", self.pels.into()),
            ("domainid", self.domainid.into()),
            ("megcap", Int(le_uint(&self.megcap))),
            ("sqes", self.sqes.into()),
            ("cqes", self.cqes.into()),
            ("maxcmd", self.maxcmd.into()),
            ("nn", self.nn.into()),
            ("oncs", self.oncs.into()),
            ("fuses", self.fuses.into()),
            ("fna", self.fna.into()),
            ("vwc", self.vwc.into()),
            ("awun", self.awun.into()),
            ("awupf", self.awupf.into()),
            ("icsvscc", self.icsvscc.into()),
            ("nwpc", self.nwpc.into()),
            ("acwu", self.acwu.into()),
            ("cdfs", self.cdfs.into()),
            ("sgls", self.sgls.into()),
            ("mnan", self.mnan.into()),
            ("maxdna", Int(le_uint(&self.maxdna))),
            ("maxcna", self.maxcna.into()),
            ("oaqd", self.oaqd.into()),
            ("subnqn", Text(self.subsystem_nqn())),
            ("ioccsz", self.ioccsz.into()),
            ("iorcsz", self.iorcsz.into()),
            ("icdoff", self.icdoff.into()),
            ("fcatt", self.fcatt.into()),
            ("msdbd", self.msdbd.into()),
            ("ofcs", self.ofcs.into()),
        ]
    }
}

/// An LBA Format descriptor (Identify Namespace bytes 131:128 for format 0,
/// and so on).
#[bitfield(u32)]
#[derive(PartialEq, Eq, Hash, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct LbaFormat {
    /// Metadata Size, in bytes per LBA.
    pub ms: u16,
    /// LBA Data Size, as a power of two (9 = 512 bytes); 0 means the format
    /// is not available.
    pub lbads: u8,
    /// Relative Performance: 0 best, 1 better, 2 good, 3 degraded.
    #[bits(2)]
    pub rp: u8,
    #[bits(6)]
    __: u8,
}

const _: () = assert!(size_of::<LbaFormat>() == 4);

impl LbaFormat {
    /// A format with `2^lbads`-byte blocks, `ms` bytes of metadata and
    /// relative performance `rp` (only bits 1:0 are kept).
    pub const fn new_format(lbads: u8, ms: u16, rp: u8) -> Self {
        LbaFormat::new().with_lbads(lbads).with_ms(ms).with_rp(rp & 0x3)
    }

    /// The LBA data size in bytes (`2^lbads`), or 0 when the format is not
    /// available (LBADS 0) or LBADS is out of range.
    pub const fn lba_size(&self) -> u64 {
        let lbads = self.lbads();
        if lbads == 0 || lbads >= 64 { 0 } else { 1u64 << lbads }
    }
}

/// The Identify Namespace data structure for the NVM command set (CNS 00h,
/// 4096 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct IdentifyNamespace {
    /// Namespace Size, in logical blocks (bytes 7:0).
    pub nsze: u64,
    /// Namespace Capacity, in logical blocks (bytes 15:8).
    pub ncap: u64,
    /// Namespace Utilization, in logical blocks (bytes 23:16).
    pub nuse: u64,
    /// Namespace Features (byte 24).
    pub nsfeat: u8,
    /// Number of LBA Formats, zero-based (byte 25).
    pub nlbaf: u8,
    /// Formatted LBA Size, see [`flbas`] (byte 26).
    pub flbas: u8,
    /// Metadata Capabilities (byte 27).
    pub mc: u8,
    /// End-to-end Data Protection Capabilities (byte 28).
    pub dpc: u8,
    /// End-to-end Data Protection Type Settings (byte 29).
    pub dps: u8,
    /// Namespace Multi-path I/O and Namespace Sharing Capabilities (byte 30).
    pub nmic: u8,
    /// Reservation Capabilities (byte 31).
    pub rescap: u8,
    /// Format Progress Indicator (byte 32).
    pub fpi: u8,
    /// Deallocate Logical Block Features (byte 33).
    pub dlfeat: u8,
    /// Namespace Atomic Write Unit Normal (bytes 35:34).
    pub nawun: u16,
    /// Namespace Atomic Write Unit Power Fail (bytes 37:36).
    pub nawupf: u16,
    /// Namespace Atomic Compare & Write Unit (bytes 39:38).
    pub nacwu: u16,
    /// Namespace Atomic Boundary Size Normal (bytes 41:40).
    pub nabsn: u16,
    /// Namespace Atomic Boundary Offset (bytes 43:42).
    pub nabo: u16,
    /// Namespace Atomic Boundary Size Power Fail (bytes 45:44).
    pub nabspf: u16,
    /// Namespace Optimal I/O Boundary (bytes 47:46).
    pub noiob: u16,
    /// NVM Capacity, in bytes, u128 little-endian (bytes 63:48).
    pub nvmcap: [u8; 16],
    /// Namespace Preferred Write Granularity (bytes 65:64).
    pub npwg: u16,
    /// Namespace Preferred Write Alignment (bytes 67:66).
    pub npwa: u16,
    /// Namespace Preferred Deallocate Granularity (bytes 69:68).
    pub npdg: u16,
    /// Namespace Preferred Deallocate Alignment (bytes 71:70).
    pub npda: u16,
    /// Namespace Optimal Write Size (bytes 73:72).
    pub nows: u16,
    /// Maximum Single Source Range Length (bytes 75:74).
    pub mssrl: u16,
    /// Maximum Copy Length (bytes 79:76).
    pub mcl: u32,
    /// Maximum Source Range Count (byte 80).
    pub msrc: u8,
    /// Reserved (byte 81).
    pub rsvd81: u8,
    /// Number of Unique Attribute LBA Formats (byte 82).
    pub nulbaf: u8,
    /// Reserved (bytes 91:83).
    pub rsvd83: [u8; 9],
    /// ANA Group Identifier (bytes 95:92).
    pub anagrpid: u32,
    /// Reserved (bytes 98:96).
    pub rsvd96: [u8; 3],
    /// Namespace Attributes (byte 99).
    pub nsattr: u8,
    /// NVM Set Identifier (bytes 101:100).
    pub nvmsetid: u16,
    /// Endurance Group Identifier (bytes 103:102).
    pub endgid: u16,
    /// Namespace Globally Unique Identifier (bytes 119:104).
    pub nguid: [u8; 16],
    /// IEEE Extended Unique Identifier (bytes 127:120).
    pub eui64: [u8; 8],
    /// LBA Format 0 to 63 Support (bytes 383:128).
    pub lbaf: [LbaFormat; 64],
    /// Reserved (bytes 3711:384).
    pub rsvd384: [u8; 3328],
    /// Vendor Specific (bytes 4095:3712).
    pub vs: [u8; 384],
}

const _: () = assert!(size_of::<IdentifyNamespace>() == 4096);

impl Default for IdentifyNamespace {
    fn default() -> Self {
        Self::new_zeroed()
    }
}

impl IdentifyNamespace {
    /// An all-zero structure.
    pub fn zeroed() -> Self {
        Self::new_zeroed()
    }

    /// The index of the LBA format in use (FLBAS bits 3:0, with bits 6:5 as
    /// bits 5:4 of the index).
    pub const fn active_lba_format_index(&self) -> usize {
        flbas::format_index(self.flbas)
    }

    /// The LBA format in use.
    pub const fn active_lba_format(&self) -> LbaFormat {
        self.lbaf[self.active_lba_format_index()]
    }

    /// Selects LBA format `index` (0 to 63) in FLBAS.
    pub fn set_active_lba_format(&mut self, index: usize) {
        self.flbas = flbas::with_format_index(self.flbas, index);
    }

    /// The logical block size in bytes of the format in use.
    pub const fn lba_size(&self) -> u64 {
        self.active_lba_format().lba_size()
    }

    /// The metadata size in bytes per block of the format in use.
    pub const fn metadata_size(&self) -> u16 {
        self.active_lba_format().ms()
    }

    /// NVM capacity in bytes.
    pub fn nvm_capacity(&self) -> u128 {
        le_uint(&self.nvmcap)
    }
}

impl NamedFields for IdentifyNamespace {
    fn fields(&self) -> Vec<(&'static str, FieldValue)> {
        use FieldValue::{Bytes, Int};
        vec![
            ("nsze", self.nsze.into()),
            ("ncap", self.ncap.into()),
            ("nuse", self.nuse.into()),
            ("nsfeat", self.nsfeat.into()),
            ("nlbaf", self.nlbaf.into()),
            ("flbas", self.flbas.into()),
            ("mc", self.mc.into()),
            ("dpc", self.dpc.into()),
            ("dps", self.dps.into()),
            ("nmic", self.nmic.into()),
            ("rescap", self.rescap.into()),
            ("fpi", self.fpi.into()),
            ("dlfeat", self.dlfeat.into()),
            ("nawun", self.nawun.into()),
            ("nawupf", self.nawupf.into()),
            ("nacwu", self.nacwu.into()),
            ("nabsn", self.nabsn.into()),
            ("nabo", self.nabo.into()),
            ("nabspf", self.nabspf.into()),
            ("noiob", self.noiob.into()),
            ("nvmcap", Int(le_uint(&self.nvmcap))),
            ("npwg", self.npwg.into()),
            ("npwa", self.npwa.into()),
            ("npdg", self.npdg.into()),
            ("npda", self.npda.into()),
            ("nows", self.nows.into()),
            ("mssrl", self.mssrl.into()),
            ("mcl", self.mcl.into()),
            ("msrc", self.msrc.into()),
            ("nulbaf", self.nulbaf.into()),
            ("anagrpid", self.anagrpid.into()),
            ("nsattr", self.nsattr.into()),
            ("nvmsetid", self.nvmsetid.into()),
            ("endgid", self.endgid.into()),
            ("nguid", Bytes(self.nguid.to_vec())),
            ("eui64", Bytes(self.eui64.to_vec())),
            ("lba_format", (self.active_lba_format_index() as u64).into()),
            ("lba_size", self.lba_size().into()),
            ("ms", self.metadata_size().into()),
        ]
    }
}

/// A namespace ID list (CNS 02h, 10h): up to 1024 NSIDs in increasing
/// order, unused entries zero.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
pub struct NamespaceList {
    /// The NSID entries.
    pub ids: [u32; 1024],
}

const _: () = assert!(size_of::<NamespaceList>() == 4096);

impl Default for NamespaceList {
    fn default() -> Self {
        Self::new_zeroed()
    }
}

impl NamespaceList {
    /// The maximum number of entries.
    pub const CAPACITY: usize = 1024;

    /// A list holding the first 1024 of `ids` (in the given order).
    pub fn from_ids<I: IntoIterator<Item = u32>>(ids: I) -> Self {
        let mut list = Self::new_zeroed();
        for (slot, id) in list.ids.iter_mut().zip(ids) {
            *slot = id;
        }
        list
    }

    /// The non-zero NSIDs.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.ids.iter().copied().filter(|&id| id != 0)
    }

    /// The number of non-zero NSIDs.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether the list holds no NSID.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }
}

/// Namespace Identifier Types (NIDT) of Namespace Identification Descriptors
/// (CNS 03h).
pub mod nidt {
    /// IEEE Extended Unique Identifier (8 bytes).
    pub const EUI64: u8 = 1;
    /// Namespace Globally Unique Identifier (16 bytes).
    pub const NGUID: u8 = 2;
    /// Namespace UUID (16 bytes).
    pub const UUID: u8 = 3;
    /// Command Set Identifier (1 byte).
    pub const CSI: u8 = 4;
    /// Length of an EUI64 descriptor's identifier.
    pub const EUI64_LEN: usize = 8;
    /// Length of an NGUID descriptor's identifier.
    pub const NGUID_LEN: usize = 16;
    /// Length of a UUID descriptor's identifier.
    pub const UUID_LEN: usize = 16;
    /// Length of a CSI descriptor's identifier.
    pub const CSI_LEN: usize = 1;

    /// The identifier length (NIDL) the spec fixes for a type.
    pub const fn length(nidt: u8) -> Option<usize> {
        match nidt {
            EUI64 => Some(EUI64_LEN),
            NGUID => Some(NGUID_LEN),
            UUID => Some(UUID_LEN),
            CSI => Some(CSI_LEN),
            _ => None,
        }
    }
}

/// Size of a descriptor header: NIDT, NIDL and two reserved bytes.
const DESCRIPTOR_HEADER: usize = 4;

/// Encodes Namespace Identification Descriptors into the 4096-byte CNS 03h
/// data: each is NIDT, NIDL (the identifier's length), two reserved bytes and
/// the identifier. Descriptors that do not fit, or whose identifier is empty
/// or longer than 255 bytes, are skipped; the rest is zero, which ends the list.
pub fn encode_ns_descriptors(descriptors: &[(u8, &[u8])]) -> [u8; 4096] {
    let mut out = [0u8; 4096];
    let mut pos = 0;
    for &(nidt, id) in descriptors {
        let Ok(nidl) = u8::try_from(id.len()) else {
            continue;
        };
        let end = pos + DESCRIPTOR_HEADER + id.len();
        if nidt == 0 || nidl == 0 || end > out.len() {
            continue;
        }
        out[pos] = nidt;
        out[pos + 1] = nidl;
        out[pos + DESCRIPTOR_HEADER..end].copy_from_slice(id);
        pos = end;
    }
    out
}

/// Decodes Namespace Identification Descriptors, stopping at the first
/// descriptor with NIDT or NIDL zero or one that runs past the end of `data`.
pub fn decode_ns_descriptors(data: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos + DESCRIPTOR_HEADER <= data.len() {
        let nidt = data[pos];
        let nidl = usize::from(data[pos + 1]);
        let start = pos + DESCRIPTOR_HEADER;
        if nidt == 0 || nidl == 0 || start + nidl > data.len() {
            break;
        }
        out.push((nidt, data[start..start + nidl].to_vec()));
        pos = start + nidl;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::offset_of;

    #[test]
    fn controller_offsets_match_spec() {
        let expected = [
            (offset_of!(IdentifyController, vid), 0),
            (offset_of!(IdentifyController, sn), 4),
            (offset_of!(IdentifyController, mn), 24),
            (offset_of!(IdentifyController, fr), 64),
            (offset_of!(IdentifyController, rab), 72),
            (offset_of!(IdentifyController, ieee), 73),
            (offset_of!(IdentifyController, mdts), 77),
            (offset_of!(IdentifyController, cntlid), 78),
            (offset_of!(IdentifyController, ver), 80),
            (offset_of!(IdentifyController, ctratt), 96),
            (offset_of!(IdentifyController, rrls), 100),
            (offset_of!(IdentifyController, cntrltype), 111),
            (offset_of!(IdentifyController, fguid), 112),
            (offset_of!(IdentifyController, crdt1), 128),
            (offset_of!(IdentifyController, crdt3), 132),
            (offset_of!(IdentifyController, nvmsr), 253),
            (offset_of!(IdentifyController, mec), 255),
            (offset_of!(IdentifyController, oacs), 256),
            (offset_of!(IdentifyController, frmw), 260),
            (offset_of!(IdentifyController, npss), 263),
            (offset_of!(IdentifyController, wctemp), 266),
            (offset_of!(IdentifyController, mtfa), 270),
            (offset_of!(IdentifyController, hmpre), 272),
            (offset_of!(IdentifyController, tnvmcap), 280),
            (offset_of!(IdentifyController, unvmcap), 296),
            (offset_of!(IdentifyController, rpmbs), 312),
            (offset_of!(IdentifyController, edstt), 316),
            (offset_of!(IdentifyController, fwug), 319),
            (offset_of!(IdentifyController, kas), 320),
            (offset_of!(IdentifyController, mxtmt), 326),
            (offset_of!(IdentifyController, sanicap), 328),
            (offset_of!(IdentifyController, hmminds), 332),
            (offset_of!(IdentifyController, hmmaxd), 336),
            (offset_of!(IdentifyController, nsetidmax), 338),
            (offset_of!(IdentifyController, endgidmax), 340),
            (offset_of!(IdentifyController, anatt), 342),
            (offset_of!(IdentifyController, anagrpmax), 344),
            (offset_of!(IdentifyController, nanagrpid), 348),
            (offset_of!(IdentifyController, pels), 352),
            (offset_of!(IdentifyController, domainid), 356),
            (offset_of!(IdentifyController, megcap), 368),
            (offset_of!(IdentifyController, sqes), 512),
            (offset_of!(IdentifyController, maxcmd), 514),
            (offset_of!(IdentifyController, nn), 516),
            (offset_of!(IdentifyController, oncs), 520),
            (offset_of!(IdentifyController, fna), 524),
            (offset_of!(IdentifyController, vwc), 525),
            (offset_of!(IdentifyController, awun), 526),
            (offset_of!(IdentifyController, nwpc), 531),
            (offset_of!(IdentifyController, cdfs), 534),
            (offset_of!(IdentifyController, sgls), 536),
            (offset_of!(IdentifyController, mnan), 540),
            (offset_of!(IdentifyController, maxdna), 544),
            (offset_of!(IdentifyController, maxcna), 560),
            (offset_of!(IdentifyController, oaqd), 564),
            (offset_of!(IdentifyController, subnqn), 768),
            (offset_of!(IdentifyController, ioccsz), 1792),
            (offset_of!(IdentifyController, ofcs), 1804),
            (offset_of!(IdentifyController, psd), 2048),
            (offset_of!(IdentifyController, vs), 3072),
        ];
        for (i, (got, want)) in expected.iter().enumerate() {
            assert_eq!(got, want, "entry {i}");
        }
    }

    #[test]
    fn controller_bytes_at_spec_offsets() {
        let mut c = IdentifyController::zeroed();
        c.vid = 0x1B36;
        c.set_serial("SN123");
        c.set_model("nvmeplan sim");
        c.set_firmware_revision("1.0");
        c.mdts = 5;
        c.oacs = oacs::FORMAT_NVM | oacs::FIRMWARE;
        c.sqes = 0x66;
        c.cqes = 0x44;
        c.nn = 0x0102_0304;
        c.sanicap = sanicap::CRYPTO_ERASE | sanicap::BLOCK_ERASE;
        set_le_uint(&mut c.tnvmcap, 1 << 40);
        c.set_subsystem_nqn("nqn.2014-08.org.nvmexpress:sim");
        c.psd[1].mp = 0x0A0B;
        c.vs[0] = 0xEE;

        let b = c.as_bytes();
        assert_eq!(&b[0..2], &[0x36, 0x1B]);
        assert_eq!(&b[4..9], b"SN123");
        assert_eq!(b[9], b' ');
        assert_eq!(b[23], b' ');
        assert_eq!(&b[24..36], b"nvmeplan sim");
        assert_eq!(&b[64..72], b"1.0     ");
        assert_eq!(b[77], 5);
        assert_eq!(&b[256..258], &[0x06, 0x00]);
        assert_eq!(&b[280..296], &(1u128 << 40).to_le_bytes());
        assert_eq!(&b[328..332], &[0x03, 0, 0, 0]);
        assert_eq!(b[512], 0x66);
        assert_eq!(b[513], 0x44);
        assert_eq!(&b[516..520], &[0x04, 0x03, 0x02, 0x01]);
        assert_eq!(&b[768..772], b"nqn.");
        assert_eq!(b[1023], 0);
        assert_eq!(&b[2048 + 32..2048 + 34], &[0x0B, 0x0A]);
        assert_eq!(b[3072], 0xEE);

        let back = IdentifyController::read_from_bytes(b).unwrap();
        assert_eq!(back, c);
        assert_eq!(back.serial(), "SN123");
        assert_eq!(back.model(), "nvmeplan sim");
        assert_eq!(back.firmware_revision(), "1.0");
        assert_eq!(back.subsystem_nqn(), "nqn.2014-08.org.nvmexpress:sim");
        assert_eq!(back.mdts_bytes(4096), Some(4096 << 5));
    }

    #[test]
    fn mdts_zero_is_unlimited() {
        let c = IdentifyController::zeroed();
        assert_eq!(c.mdts_bytes(4096), None);
    }

    #[test]
    fn ascii_helpers_pad_and_truncate() {
        let mut f = [0u8; 4];
        set_ascii(&mut f, "abcdef");
        assert_eq!(&f, b"abcd");
        set_ascii(&mut f, "x");
        assert_eq!(&f, b"x   ");
        assert_eq!(ascii_field(&f), "x");
        let mut n = [0xFFu8; 4];
        set_nul_terminated(&mut n, "abcdef");
        assert_eq!(&n, b"abc\0");
    }

    #[test]
    fn controller_named_fields() {
        let mut c = IdentifyController::zeroed();
        c.nn = 16;
        c.set_serial("S1");
        c.frmw = frmw::encode(true, 3, true);
        set_le_uint(&mut c.tnvmcap, 123_456_789_012);
        assert_eq!(c.field("nn"), Some(FieldValue::Int(16)));
        assert_eq!(c.field("sn"), Some(FieldValue::Text("S1".into())));
        assert_eq!(c.field("tnvmcap"), Some(FieldValue::Int(123_456_789_012)));
        assert_eq!(c.field("frmw"), Some(FieldValue::Int(0b1_0111)));
        assert_eq!(c.firmware_slots(), 3);
        assert_eq!(c.field("rsvd134"), None);
        assert_eq!(c.field("nope"), None);
        let fields = c.fields();
        let mut names: Vec<_> = fields.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "duplicate field names");
    }

    #[test]
    fn namespace_offsets_and_bytes() {
        assert_eq!(offset_of!(IdentifyNamespace, flbas), 26);
        assert_eq!(offset_of!(IdentifyNamespace, nawun), 34);
        assert_eq!(offset_of!(IdentifyNamespace, nvmcap), 48);
        assert_eq!(offset_of!(IdentifyNamespace, npwg), 64);
        assert_eq!(offset_of!(IdentifyNamespace, mcl), 76);
        assert_eq!(offset_of!(IdentifyNamespace, msrc), 80);
        assert_eq!(offset_of!(IdentifyNamespace, nulbaf), 82);
        assert_eq!(offset_of!(IdentifyNamespace, anagrpid), 92);
        assert_eq!(offset_of!(IdentifyNamespace, nsattr), 99);
        assert_eq!(offset_of!(IdentifyNamespace, nvmsetid), 100);
        assert_eq!(offset_of!(IdentifyNamespace, endgid), 102);
        assert_eq!(offset_of!(IdentifyNamespace, nguid), 104);
        assert_eq!(offset_of!(IdentifyNamespace, eui64), 120);
        assert_eq!(offset_of!(IdentifyNamespace, lbaf), 128);
        assert_eq!(offset_of!(IdentifyNamespace, vs), 3712);

        let mut ns = IdentifyNamespace::zeroed();
        ns.nsze = 0x1122_3344_5566_7788;
        ns.nlbaf = 1;
        ns.lbaf[0] = LbaFormat::new_format(9, 0, 2);
        ns.lbaf[1] = LbaFormat::new_format(12, 8, 0);
        ns.set_active_lba_format(1);
        ns.nguid = [0xAB; 16];
        let b = ns.as_bytes();
        assert_eq!(&b[0..8], &0x1122_3344_5566_7788u64.to_le_bytes());
        assert_eq!(b[26], 1);
        assert_eq!(&b[128..132], &[0, 0, 9, 2]);
        assert_eq!(&b[132..136], &[8, 0, 12, 0]);
        assert_eq!(&b[104..120], &[0xAB; 16]);
        assert_eq!(ns.lba_size(), 4096);
        assert_eq!(ns.metadata_size(), 8);
        assert_eq!(ns.field("lba_size"), Some(FieldValue::Int(4096)));
        assert_eq!(ns.field("ms"), Some(FieldValue::Int(8)));
        assert_eq!(ns.field("nsze"), Some(FieldValue::Int(0x1122_3344_5566_7788)));
        assert_eq!(ns.field("nguid"), Some(FieldValue::Bytes(vec![0xAB; 16])));
    }

    #[test]
    fn flbas_upper_index_bits() {
        let mut ns = IdentifyNamespace::zeroed();
        ns.flbas = flbas::EXTENDED_METADATA;
        ns.lbaf[37] = LbaFormat::new_format(9, 16, 0);
        ns.set_active_lba_format(37);
        assert_eq!(ns.flbas, 0b0101_0101 | flbas::EXTENDED_METADATA);
        assert_eq!(ns.active_lba_format_index(), 37);
        assert_eq!(ns.lba_size(), 512);
        assert_eq!(ns.metadata_size(), 16);
        assert_eq!(LbaFormat::new().lba_size(), 0);
    }

    #[test]
    fn namespace_list_iterates_non_zero_ids() {
        let list = NamespaceList::from_ids([1, 2, 7]);
        assert_eq!(list.as_bytes()[8..12], [7, 0, 0, 0]);
        assert_eq!(list.iter().collect::<Vec<_>>(), vec![1, 2, 7]);
        assert_eq!(list.len(), 3);
        assert!(NamespaceList::default().is_empty());
    }

    #[test]
    fn descriptors_round_trip() {
        let eui = [1u8, 2, 3, 4, 5, 6, 7, 8];
        let nguid = [0x5Au8; 16];
        let data = encode_ns_descriptors(&[(nidt::EUI64, &eui), (nidt::NGUID, &nguid), (nidt::CSI, &[0])]);
        assert_eq!(&data[0..4], &[1, 8, 0, 0]);
        assert_eq!(&data[4..12], &eui);
        assert_eq!(&data[12..16], &[2, 16, 0, 0]);
        assert_eq!(&data[32..36], &[4, 1, 0, 0]);
        let decoded = decode_ns_descriptors(&data);
        assert_eq!(
            decoded,
            vec![(nidt::EUI64, eui.to_vec()), (nidt::NGUID, nguid.to_vec()), (nidt::CSI, vec![0])]
        );
        assert_eq!(nidt::length(nidt::UUID), Some(16));
        assert!(decode_ns_descriptors(&[1, 8, 0, 0, 1]).is_empty());
    }

    #[test]
    fn field_value_display() {
        assert_eq!(FieldValue::Int(42).to_string(), "42");
        assert_eq!(FieldValue::Text("x".into()).to_string(), "x");
        assert_eq!(FieldValue::Bytes(vec![0xAB, 1]).to_string(), "ab01");
    }
}
