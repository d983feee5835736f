//! Firmware images and slots.
//!
//! The simulator accepts a firmware image that starts with the 8-byte magic
//! [`IMAGE_MAGIC`] followed by the 8-byte ASCII revision (space padded);
//! [`build_image`] makes one. This module also owns the firmware slot state
//! behind Firmware Image Download, Firmware Commit and the Firmware Slot
//! log: which revision sits in which slot, the active slot, the slot to
//! activate at the next reset and the image being downloaded.

use serde::{Deserialize, Serialize};

/// The first 8 bytes of every image the simulator accepts.
pub const IMAGE_MAGIC: &[u8; 8] = b"NVMPSIM1";

/// Largest image Firmware Image Download accepts (16 MiB).
pub const MAX_IMAGE_LEN: usize = 16 << 20;

/// Builds a valid image of `len` bytes (at least 16) carrying `revision`
/// (truncated to 8 bytes, space padded). The bytes after the header are a
/// deterministic filler.
pub fn build_image(revision: &str, len: usize) -> Vec<u8> {
    let len = len.max(16);
    let mut image = Vec::with_capacity(len);
    image.extend_from_slice(IMAGE_MAGIC);
    let mut rev = [b' '; 8];
    for (dst, src) in rev.iter_mut().zip(revision.bytes()) {
        *dst = src;
    }
    image.extend_from_slice(&rev);
    image.extend((16..len).map(|i| (i as u8).wrapping_mul(31) ^ 0xA5));
    image
}

/// The revision an image carries, or `None` when it is not a valid image
/// (wrong magic, too short, or a revision that is empty or not printable
/// ASCII).
pub fn parse_image(image: &[u8]) -> Option<String> {
    if image.len() < 16 || &image[..8] != IMAGE_MAGIC {
        return None;
    }
    let rev = &image[8..16];
    if !rev.iter().all(|b| (0x20..0x7F).contains(b)) {
        return None;
    }
    let text = String::from_utf8_lossy(rev).trim_end().to_string();
    if text.is_empty() { None } else { Some(text) }
}

/// Firmware slot state: what persists plus the download in progress.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct FirmwareSlots {
    /// Revision per slot (index 0 is slot 1); `None` for an empty slot.
    pub slots: Vec<Option<String>>,
    /// The slot the running firmware came from (1-based).
    pub active: u8,
    /// The slot to activate at the next reset.
    pub pending: Option<u8>,
    /// The slot most recently written by a commit (used when a commit
    /// names slot 0 to activate).
    #[serde(default)]
    pub last_replaced: Option<u8>,
    /// The image downloaded so far (not persisted).
    #[serde(skip)]
    pub download: Vec<u8>,
}

impl FirmwareSlots {
    /// `count` slots with `revision` in slot 1, active.
    pub fn new(count: u8, revision: &str) -> Self {
        let mut slots = vec![None; usize::from(count.clamp(1, 7))];
        slots[0] = Some(revision.to_string());
        FirmwareSlots { slots, active: 1, pending: None, last_replaced: None, download: Vec::new() }
    }

    /// The revision of the running firmware.
    pub fn active_revision(&self) -> &str {
        self.revision(self.active).unwrap_or("")
    }

    /// The revision in `slot` (1-based).
    pub fn revision(&self, slot: u8) -> Option<&str> {
        self.slots.get(usize::from(slot).checked_sub(1)?)?.as_deref()
    }

    /// Number of slots.
    pub fn count(&self) -> u8 {
        self.slots.len() as u8
    }

    /// Applies a pending activation (at a reset); returns the new active
    /// slot when one took effect.
    pub fn activate_pending(&mut self) -> Option<u8> {
        let slot = self.pending.take()?;
        if self.revision(slot).is_some() {
            self.active = slot;
            Some(slot)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_round_trip() {
        let image = build_image("2.1", 4096);
        assert_eq!(image.len(), 4096);
        assert_eq!(&image[..8], b"NVMPSIM1");
        assert_eq!(&image[8..16], b"2.1     ");
        assert_eq!(parse_image(&image).as_deref(), Some("2.1"));
        assert_eq!(parse_image(&build_image("LONGREVISION", 1)).as_deref(), Some("LONGREVI"));
        assert_eq!(parse_image(b"NVMPSIM1"), None);
        assert_eq!(parse_image(&[0u8; 64]), None);
        let mut blank = build_image("x", 32);
        blank[8..16].copy_from_slice(b"        ");
        assert_eq!(parse_image(&blank), None);
    }

    #[test]
    fn slots_activate() {
        let mut fw = FirmwareSlots::new(3, "1.0");
        assert_eq!(fw.active_revision(), "1.0");
        fw.slots[1] = Some("2.0".into());
        fw.pending = Some(2);
        assert_eq!(fw.activate_pending(), Some(2));
        assert_eq!(fw.active_revision(), "2.0");
        fw.pending = Some(3);
        assert_eq!(fw.activate_pending(), None);
        assert_eq!(fw.active, 2);
        assert_eq!(fw.revision(0), None);
        assert_eq!(fw.revision(9), None);
    }
}
