//! The simulated PCI function: [`SimDevice`].
//!
//! This module owns the PCI side of the device: configuration space (vendor
//! and device id, the command register whose bus master bit gates DMA,
//! class code 010802h, a 64-bit BAR0, an MSI-X capability whose message
//! control drives the interrupt controller, and a PCI Express capability
//! advertising function level reset), and the device-level operations the
//! host can perform: BAR0 accesses, function level reset and power cycles.
//! Dropping the last reference stops every device thread.

use crate::SimError;
use crate::config::SimConfig;
use crate::controller::Controller;
use crate::dma::DmaSpace;
use crate::faults::FaultInjector;
use crate::msix::InterruptController;
use parking_lot::Mutex;
use std::sync::Arc;

/// Offset of the MSI-X capability in configuration space.
pub const MSIX_CAP_OFFSET: u16 = 0x40;
/// Offset of the PCI Express capability in configuration space.
pub const PCIE_CAP_OFFSET: u16 = 0x60;
/// PCI command register bit: bus master enable.
pub const COMMAND_BUS_MASTER: u16 = 1 << 2;
/// MSI-X message control: MSI-X enable.
pub const MSIX_ENABLE: u16 = 1 << 15;
/// MSI-X message control: function mask.
pub const MSIX_FUNCTION_MASK: u16 = 1 << 14;
/// PCIe device control: initiate function level reset.
pub const PCIE_INITIATE_FLR: u16 = 1 << 15;

const CONFIG_SIZE: usize = 256;

struct PciConfig {
    bytes: [u8; CONFIG_SIZE],
    writable: [u8; CONFIG_SIZE],
    bar_size: u64,
}

impl PciConfig {
    fn new(cfg: &SimConfig) -> PciConfig {
        let mut c = PciConfig { bytes: [0; CONFIG_SIZE], writable: [0; CONFIG_SIZE], bar_size: 0 };
        c.put16(0x00, cfg.vid);
        c.put16(0x02, cfg.device_id);
        c.put16(0x06, 1 << 4); // status: capabilities list
        c.put32(0x08, 0x0108_0200); // class 01h, subclass 08h, prog-if 02h, revision 0
        c.put32(0x10, 0x4); // BAR0: 64-bit memory
        c.put16(0x2C, cfg.ssvid);
        c.put16(0x2E, cfg.device_id);
        c.bytes[0x34] = MSIX_CAP_OFFSET as u8;
        c.bytes[0x3D] = 1; // interrupt pin INTA
        // MSI-X: table in BAR4 at 0, pending bit array in BAR4 at 32 KiB.
        let m = usize::from(MSIX_CAP_OFFSET);
        c.bytes[m] = 0x11;
        c.bytes[m + 1] = PCIE_CAP_OFFSET as u8;
        c.put16(m + 2, (cfg.msix_vectors - 1) & 0x7FF);
        c.put32(m + 4, 4);
        c.put32(m + 8, 0x8000 | 4);
        // PCI Express capability v2, endpoint; FLR capable; MPS 256.
        let p = usize::from(PCIE_CAP_OFFSET);
        c.bytes[p] = 0x10;
        c.put16(p + 2, 0x0002);
        c.put32(p + 4, (1 << 28) | 1);
        c.put16(p + 8, 0x2810 & 0x7FFF);
        // Writable bits.
        c.writable[0x04] = 0x06 | 0x40; // memory space, bus master, parity error response
        c.writable[0x05] = 0x05; // SERR enable, interrupt disable
        c.writable[0x0C] = 0xFF; // cache line size
        c.writable[0x0D] = 0xFF; // latency timer
        c.writable[0x3C] = 0xFF; // interrupt line
        c.writable[m + 3] = 0xC0; // MSI-X enable and function mask
        c.writable[p + 8] = 0xFF;
        c.writable[p + 9] = 0xFF;
        let doorbells = 2 * (u64::from(cfg.max_io_queues) + 1) * (4u64 << cfg.dstrd);
        c.bar_size = (0x1000 + doorbells).next_power_of_two().max(0x4000);
        c
    }

    fn put16(&mut self, at: usize, v: u16) {
        self.bytes[at..at + 2].copy_from_slice(&v.to_le_bytes());
    }

    fn put32(&mut self, at: usize, v: u32) {
        self.bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }

    fn get16(&self, at: usize) -> u16 {
        u16::from_le_bytes([self.bytes[at], self.bytes[at + 1]])
    }

    fn get32(&self, at: usize) -> u32 {
        u32::from_le_bytes([self.bytes[at], self.bytes[at + 1], self.bytes[at + 2], self.bytes[at + 3]])
    }
}

/// The simulated NVMe PCI function. Cheap to share: every method takes
/// `&self`; dropping the last `Arc` stops the device's threads.
pub struct SimDevice {
    ctrl: Arc<Controller>,
    pci: Mutex<PciConfig>,
}

impl std::fmt::Debug for SimDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimDevice").field("serial", &self.ctrl.cfg.serial).finish_non_exhaustive()
    }
}

impl SimDevice {
    /// Powers on a device built from `config` (validated first). With a
    /// `storage_dir` that holds a previous device's state, the device comes
    /// back with its namespaces, data, firmware and counters (one more
    /// power cycle).
    pub fn new(config: SimConfig) -> Result<Arc<SimDevice>, SimError> {
        config.validate()?;
        let dma = Arc::new(DmaSpace::new());
        let irq = Arc::new(InterruptController::new(config.msix_vectors));
        let faults = Arc::new(FaultInjector::default());
        faults.set_seed(config.seed);
        let pci = Mutex::new(PciConfig::new(&config));
        let ctrl = Controller::new(config, dma, irq, faults)?;
        Ok(Arc::new(SimDevice { ctrl, pci }))
    }

    /// The configuration the device was built from.
    pub fn config(&self) -> &SimConfig {
        &self.ctrl.cfg
    }

    /// Reads a 32-bit BAR0 register (doorbells read as 0).
    pub fn bar_read32(&self, offset: u64) -> u32 {
        self.ctrl.read32(offset)
    }

    /// Writes a 32-bit BAR0 register or doorbell.
    pub fn bar_write32(&self, offset: u64, value: u32) {
        self.ctrl.write32(offset, value);
    }

    /// Reads a 64-bit BAR0 register (CAP, ASQ, ACQ).
    pub fn bar_read64(&self, offset: u64) -> u64 {
        self.ctrl.read64(offset)
    }

    /// Writes a 64-bit BAR0 register (ASQ, ACQ).
    pub fn bar_write64(&self, offset: u64, value: u64) {
        self.ctrl.write64(offset, value);
    }

    /// Reads configuration space; offsets are rounded down to a dword and
    /// the value is shifted for unaligned offsets. Extended configuration
    /// space (256 and above) reads as zero.
    pub fn config_read32(&self, offset: u16) -> u32 {
        let at = usize::from(offset & !3);
        if at + 4 > CONFIG_SIZE {
            return 0;
        }
        self.pci.lock().get32(at) >> (8 * u32::from(offset & 3))
    }

    /// Writes configuration space (read-only bits are kept). Side effects:
    /// the bus master bit gates DMA, MSI-X enable / function mask drive the
    /// interrupt controller, BAR0 sizing works as on hardware and the PCIe
    /// "initiate FLR" bit performs a function level reset.
    pub fn config_write32(&self, offset: u16, value: u32) {
        let at = usize::from(offset & !3);
        if at + 4 > CONFIG_SIZE {
            return;
        }
        let shift = 8 * u32::from(offset & 3);
        let value = value << shift;
        let lanes = u32::MAX << shift;
        let mut flr = false;
        {
            let mut pci = self.pci.lock();
            if at == 0x10 || at == 0x14 {
                let size = pci.bar_size;
                let full = pci.get32(0x10) as u64 | (u64::from(pci.get32(0x14)) << 32);
                let mut next = full;
                if at == 0x10 {
                    next = (next & !0xFFFF_FFFF) | u64::from(value);
                } else {
                    next = (next & 0xFFFF_FFFF) | (u64::from(value) << 32);
                }
                next = (next & !(size - 1) & !0xF) | 0x4;
                pci.put32(0x10, next as u32);
                pci.put32(0x14, (next >> 32) as u32);
                return;
            }
            for i in 0..4 {
                if lanes & (0xFF << (8 * i)) == 0 {
                    continue;
                }
                let byte = (value >> (8 * i)) as u8;
                let mask = pci.writable[at + i];
                pci.bytes[at + i] = (pci.bytes[at + i] & !mask) | (byte & mask);
            }
            let p = usize::from(PCIE_CAP_OFFSET) + 8;
            if at == p && pci.get16(p) & PCIE_INITIATE_FLR != 0 {
                let ctl = pci.get16(p) & !PCIE_INITIATE_FLR;
                pci.put16(p, ctl);
                flr = true;
            }
        }
        if flr {
            self.function_reset();
            return;
        }
        self.apply_config();
    }

    fn apply_config(&self) {
        let pci = self.pci.lock();
        let command = pci.get16(0x04);
        let msix = pci.get16(usize::from(MSIX_CAP_OFFSET) + 2);
        drop(pci);
        self.ctrl.dma.set_bus_master(command & COMMAND_BUS_MASTER != 0);
        // Enable first: clearing the function mask in the same write then
        // delivers the messages left pending while it was set.
        self.ctrl.irq.set_enabled(msix & MSIX_ENABLE != 0);
        self.ctrl.irq.set_function_masked(msix & MSIX_FUNCTION_MASK != 0);
    }

    /// The DMA window through which the device reaches host memory.
    pub fn dma(&self) -> &DmaSpace {
        &self.ctrl.dma
    }

    /// The MSI-X vectors.
    pub fn interrupts(&self) -> &InterruptController {
        &self.ctrl.irq
    }

    /// The fault injection rules applied to every fetched command.
    pub fn faults(&self) -> &FaultInjector {
        &self.ctrl.faults
    }

    /// PCI function level reset: every register to its power-on value,
    /// bus master and MSI-X off, all queues and outstanding commands gone
    /// (no completions), a pending firmware activation takes effect. Media,
    /// including the volatile write cache, keeps its contents.
    pub fn function_reset(&self) {
        self.ctrl.function_reset();
        self.reset_pci();
    }

    /// Removes and restores power. With `abrupt` and no completed shutdown
    /// the write cache content is lost and Unsafe Shutdowns increments;
    /// otherwise the cache is flushed first. Power Cycles increments.
    pub fn power_cycle(&self, abrupt: bool) {
        self.ctrl.power_cycle(abrupt);
        self.reset_pci();
    }

    fn reset_pci(&self) {
        *self.pci.lock() = PciConfig::new(&self.ctrl.cfg);
        self.ctrl.irq.reset();
        self.ctrl.dma.set_bus_master(false);
    }
}

impl Drop for SimDevice {
    fn drop(&mut self) {
        self.ctrl.shutdown_threads();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_mask_in_config_space_holds_messages_pending() {
        let dev = SimDevice::new(SimConfig::default()).unwrap();
        let at = MSIX_CAP_OFFSET;
        let control = |bits: u16| (u32::from(bits) << 16) | (dev.config_read32(at) & 0xFFFF);
        dev.config_write32(at, control(MSIX_ENABLE | MSIX_FUNCTION_MASK));
        let irq = dev.interrupts();
        assert!(irq.enabled() && irq.function_masked());
        irq.signal(0);
        assert_eq!(irq.count(0), 0);
        assert!(irq.pending(0));
        dev.config_write32(at, control(MSIX_ENABLE));
        assert!(!irq.function_masked());
        assert_eq!(irq.count(0), 1, "delivered when the function is unmasked");
        assert!(!irq.pending(0));
        // Masked and unmasked in one config write sequence while disabled:
        // nothing is sent, and a function reset clears the mask.
        dev.config_write32(at, control(MSIX_ENABLE | MSIX_FUNCTION_MASK));
        dev.function_reset();
        assert!(!irq.function_masked() && !irq.enabled());
        assert_eq!(dev.config_read32(at) >> 16 & u32::from(MSIX_ENABLE | MSIX_FUNCTION_MASK), 0);
    }
}
