//! MSI-X vectors wired to eventfds through `VFIO_DEVICE_SET_IRQS`, with a
//! running count of messages per vector so waits can sleep on an interrupt
//! and plans can check that interrupts fire.
//!
//! One non-blocking eventfd per MSI-X table entry is created at open and
//! kept for the transport's life, so counts survive controller and function
//! resets (the driver re-enables MSI-X after each).

use super::super::TransportError;
use parking_lot::Mutex;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};
use vfio_ioctls::VfioDevice;
use vmm_sys_util::eventfd::{EFD_NONBLOCK, EventFd};

/// VFIO's IRQ index of MSI-X on a PCI device.
pub const VFIO_PCI_MSIX_IRQ_INDEX: u32 = 2;

/// The eventfds and counts of a device's MSI-X vectors.
pub struct MsixVectors {
    fds: Vec<EventFd>,
    totals: Vec<Mutex<u64>>,
    enabled: Mutex<u16>,
}

impl MsixVectors {
    /// Eventfds for every MSI-X vector `device` reports (none when it has
    /// no MSI-X).
    pub fn new(device: &VfioDevice) -> Result<MsixVectors, TransportError> {
        let count = device.get_irq_info(VFIO_PCI_MSIX_IRQ_INDEX).map_or(0, |i| i.count).min(2048);
        let fds = (0..count)
            .map(|_| EventFd::new(EFD_NONBLOCK))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TransportError::Msix(format!("creating an eventfd failed: {e}")))?;
        let totals = (0..count).map(|_| Mutex::new(0)).collect();
        Ok(MsixVectors { fds, totals, enabled: Mutex::new(0) })
    }

    /// Vectors in the device's MSI-X table.
    pub fn table_size(&self) -> u16 {
        self.fds.len() as u16
    }

    /// Wires the first `min(vectors, table size)` vectors to their eventfds
    /// and enables MSI-X; returns how many.
    pub fn enable(&self, device: &VfioDevice, vectors: u16) -> Result<u16, TransportError> {
        if self.fds.is_empty() {
            return Err(TransportError::Msix("the device reports no MSI-X vectors through VFIO".into()));
        }
        let n = vectors.max(1).min(self.table_size());
        let mut enabled = self.enabled.lock();
        if *enabled != 0 && *enabled != n {
            device
                .disable_msix()
                .map_err(|e| TransportError::Msix(format!("disabling MSI-X to resize it failed: {e}")))?;
            *enabled = 0;
        }
        let fds: Vec<&EventFd> = self.fds[..usize::from(n)].iter().collect();
        device.enable_msix(fds).map_err(|e| {
            TransportError::Msix(format!("VFIO_DEVICE_SET_IRQS enabling {n} MSI-X vectors failed: {e}"))
        })?;
        *enabled = n;
        Ok(n)
    }

    /// Disables MSI-X if enabled (at drop).
    pub fn disable(&self, device: &VfioDevice) {
        let mut enabled = self.enabled.lock();
        if *enabled != 0 {
            if let Err(e) = device.disable_msix() {
                tracing::warn!(error = %e, "disabling MSI-X failed");
            }
            *enabled = 0;
        }
    }

    /// Adds pending messages of `vector` to its total; returns the total.
    fn drain(&self, vector: usize) -> u64 {
        let mut total = self.totals[vector].lock();
        // A non-blocking read returns the messages since the last read
        // (EAGAIN when none).
        if let Ok(n) = self.fds[vector].read() {
            *total += n;
        }
        *total
    }

    /// Messages delivered on `vector` so far (0 for a vector out of range).
    pub fn count(&self, vector: u16) -> u64 {
        let v = usize::from(vector);
        if v < self.fds.len() { self.drain(v) } else { 0 }
    }

    /// Sleeps until `vector` has delivered more than `seen` messages or
    /// `timeout` passes; returns the count then.
    pub fn wait(&self, vector: u16, seen: u64, timeout: Duration) -> Result<u64, TransportError> {
        let enabled = *self.enabled.lock();
        if vector >= enabled {
            return Err(TransportError::Interrupt {
                vector,
                reason: format!("{enabled} MSI-X vectors are enabled"),
            });
        }
        let v = usize::from(vector);
        let deadline = Instant::now() + timeout;
        loop {
            let total = self.drain(v);
            if total > seen {
                return Ok(total);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(total);
            }
            let mut pfd = libc::pollfd { fd: self.fds[v].as_raw_fd(), events: libc::POLLIN, revents: 0 };
            let ms = libc::c_int::try_from(left.as_micros().div_ceil(1000)).unwrap_or(libc::c_int::MAX);
            // SAFETY: `pfd` is one valid pollfd for the duration of the call.
            let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
            if rc < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() != std::io::ErrorKind::Interrupted {
                    return Err(TransportError::Interrupt { vector, reason: format!("poll failed: {e}") });
                }
            }
        }
    }
}
