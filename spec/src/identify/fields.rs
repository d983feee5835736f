//! Reading data structures by field name: [`FieldValue`], [`NamedFields`],
//! the [`ByteField`] tables that name, place and describe the fields of
//! identify data, and helpers for little-endian and ASCII fields.

use super::*;

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

/// How a named field of a data structure reads as a [`FieldValue`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// A little-endian unsigned integer of up to 16 bytes.
    Int,
    /// Space- or NUL-padded ASCII text.
    Text,
    /// Opaque bytes.
    Bytes,
}

/// One named field of a byte layout (identify data): name, byte offset,
/// length, how it reads and what it means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteField {
    /// The field's name as the specification abbreviates it, in lowercase.
    pub name: &'static str,
    /// Offset of the first byte.
    pub offset: usize,
    /// Length in bytes.
    pub len: usize,
    /// How the bytes read.
    pub kind: FieldKind,
    /// What the field means, in the specification's words.
    pub meaning: &'static str,
}

impl ByteField {
    /// The field's value in the structure's bytes `data`, or `None` when
    /// `data` is too short to hold it.
    pub fn read(&self, data: &[u8]) -> Option<FieldValue> {
        let bytes = data.get(self.offset..self.offset + self.len)?;
        Some(match self.kind {
            FieldKind::Int => FieldValue::Int(le_uint(bytes)),
            FieldKind::Text => FieldValue::Text(ascii_field(bytes)),
            FieldKind::Bytes => FieldValue::Bytes(bytes.to_vec()),
        })
    }
}

/// The size of the field a projection points to; lets a field table take a
/// field's length from the struct definition.
pub const fn field_len<T, F>(_: fn(&T) -> &F) -> usize {
    size_of::<F>()
}

/// Every field of `fields` with its value in `data`, in table order.
pub fn read_fields(fields: &'static [ByteField], data: &[u8]) -> Vec<(&'static str, FieldValue)> {
    fields.iter().filter_map(|f| Some((f.name, f.read(data)?))).collect()
}

/// Defines the `BYTE_FIELDS` table of a `repr(C)` structure from a list of
/// `field: Kind "meaning"`: the name is the struct field's, the offset and
/// length are taken from the struct, so the table cannot drift from the
/// layout.
macro_rules! byte_fields {
    ($ty:ident { $($field:ident : $kind:ident $meaning:literal),* $(,)? }) => {
        impl $ty {
            /// Name, byte offset, length, kind and meaning of every named
            /// field, in layout order.
            pub const BYTE_FIELDS: &'static [ByteField] = &[$(ByteField {
                name: stringify!($field),
                offset: std::mem::offset_of!($ty, $field),
                len: field_len(|s: &$ty| &s.$field),
                kind: FieldKind::$kind,
                meaning: $meaning,
            }),*];
        }
    };
}

pub(crate) use byte_fields;
