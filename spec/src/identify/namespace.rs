//! The Identify Namespace data structure (CNS 00h), LBA formats, the
//! namespace list (CNS 02h) and namespace identification descriptors
//! (CNS 03h).

use super::*;

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
    /// Maximum Single Source Range Length: the most logical blocks one
    /// Copy source range may name (bytes 75:74; NVM Command Set
    /// Specification 1.0, Identify Namespace).
    pub mssrl: u16,
    /// Maximum Copy Length: the most logical blocks one Copy may copy in
    /// all its source ranges together (bytes 79:76).
    pub mcl: u32,
    /// Maximum Source Range Count, zero-based: the most source ranges one
    /// Copy may carry, minus one (byte 80).
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

byte_fields!(IdentifyNamespace {
        nsze: Int "Namespace Size, in logical blocks.",
        ncap: Int "Namespace Capacity, in logical blocks.",
        nuse: Int "Namespace Utilization, in logical blocks.",
        nsfeat: Int "Namespace Features.",
        nlbaf: Int "Number of LBA Formats, zero-based.",
        flbas: Int "Formatted LBA Size: the active LBA format and metadata placement.",
        mc: Int "Metadata Capabilities.",
        dpc: Int "End-to-end Data Protection Capabilities.",
        dps: Int "End-to-end Data Protection Type Settings.",
        nmic: Int "Namespace Multi-path I/O and Namespace Sharing Capabilities.",
        rescap: Int "Reservation Capabilities.",
        fpi: Int "Format Progress Indicator.",
        dlfeat: Int "Deallocate Logical Block Features.",
        nawun: Int "Namespace Atomic Write Unit Normal, zero-based.",
        nawupf: Int "Namespace Atomic Write Unit Power Fail, zero-based.",
        nacwu: Int "Namespace Atomic Compare & Write Unit, zero-based.",
        nabsn: Int "Namespace Atomic Boundary Size Normal, zero-based.",
        nabo: Int "Namespace Atomic Boundary Offset.",
        nabspf: Int "Namespace Atomic Boundary Size Power Fail, zero-based.",
        noiob: Int "Namespace Optimal I/O Boundary, in logical blocks.",
        nvmcap: Int "NVM Capacity, in bytes.",
        npwg: Int "Namespace Preferred Write Granularity, zero-based.",
        npwa: Int "Namespace Preferred Write Alignment, zero-based.",
        npdg: Int "Namespace Preferred Deallocate Granularity, zero-based.",
        npda: Int "Namespace Preferred Deallocate Alignment, zero-based.",
        nows: Int "Namespace Optimal Write Size, zero-based.",
        mssrl: Int "Maximum Single Source Range Length (Copy), in logical blocks.",
        mcl: Int "Maximum Copy Length, in logical blocks.",
        msrc: Int "Maximum Source Range Count (Copy), zero-based.",
        nulbaf: Int "Number of Unique Capability LBA Formats.",
        anagrpid: Int "ANA Group Identifier.",
        nsattr: Int "Namespace Attributes.",
        nvmsetid: Int "NVM Set Identifier.",
        endgid: Int "Endurance Group Identifier.",
        nguid: Bytes "Namespace Globally Unique Identifier.",
        eui64: Bytes "IEEE Extended Unique Identifier.",
});

impl NamedFields for IdentifyNamespace {
    /// The fields of [`IdentifyNamespace::BYTE_FIELDS`], then the active LBA
    /// format's index, data size and metadata size.
    fn fields(&self) -> Vec<(&'static str, FieldValue)> {
        let mut fields = read_fields(Self::BYTE_FIELDS, self.as_bytes());
        fields.push(("lba_format", (self.active_lba_format_index() as u64).into()));
        fields.push(("lba_size", self.lba_size().into()));
        fields.push(("ms", self.metadata_size().into()));
        fields
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
