//! PCI configuration space through the VFIO config region: `pread` and
//! `pwrite` on the device file at the region's offset, reporting failures
//! (the crate's region helpers only log them).

use super::super::TransportError;
use std::os::fd::RawFd;

/// The configuration region of one VFIO device.
#[derive(Debug, Clone, Copy)]
pub struct ConfigRegion {
    /// Device file descriptor (owned by the transport's `VfioDevice`).
    pub fd: RawFd,
    /// File offset of the region.
    pub offset: u64,
    /// Region size (256 or 4096 bytes).
    pub size: u64,
}

impl ConfigRegion {
    fn position(&self, offset: u16) -> Result<libc::off_t, TransportError> {
        if !offset.is_multiple_of(4) || u64::from(offset) + 4 > self.size {
            return Err(TransportError::Config {
                offset,
                reason: format!("outside the {}-byte config region or not dword aligned", self.size),
            });
        }
        libc::off_t::try_from(self.offset + u64::from(offset))
            .map_err(|_| TransportError::Config { offset, reason: "file offset overflows".into() })
    }

    /// Reads a dword.
    pub fn read32(&self, offset: u16) -> Result<u32, TransportError> {
        let pos = self.position(offset)?;
        let mut bytes = [0u8; 4];
        // SAFETY: `bytes` is a valid, writable 4-byte buffer for the call;
        // `fd` is the open VFIO device file.
        let n = unsafe { libc::pread(self.fd, bytes.as_mut_ptr().cast(), 4, pos) };
        if n != 4 {
            let reason =
                if n < 0 { std::io::Error::last_os_error().to_string() } else { format!("short read ({n})") };
            return Err(TransportError::Config { offset, reason });
        }
        Ok(u32::from_le_bytes(bytes))
    }

    /// Writes a dword.
    pub fn write32(&self, offset: u16, value: u32) -> Result<(), TransportError> {
        let pos = self.position(offset)?;
        let bytes = value.to_le_bytes();
        // SAFETY: `bytes` is a valid 4-byte buffer for the call; `fd` is the
        // open VFIO device file.
        let n = unsafe { libc::pwrite(self.fd, bytes.as_ptr().cast(), 4, pos) };
        if n != 4 {
            let reason = if n < 0 {
                std::io::Error::last_os_error().to_string()
            } else {
                format!("short write ({n})")
            };
            return Err(TransportError::Config { offset, reason });
        }
        Ok(())
    }
}
