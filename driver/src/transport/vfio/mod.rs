//! The VFIO backend: [`VfioTransport`] drives a real PCI NVMe function
//! bound to `vfio-pci`, with the IOMMU on.
//!
//! * [`device`]: container, group and device setup; function reset.
//! * [`bar`]: BAR0 mapped with `mmap` on the device file.
//! * [`config`]: PCI configuration space through the config region.
//! * [`dma`]: DMA memory (hugepages when available) mapped into the IOMMU
//!   under an IOVA allocator.
//! * [`msix`]: MSI-X vectors wired to eventfds.
//! * [`sysfs`] and [`address`]: PCI addresses, device listing, driver
//!   binding, and the checks behind the open errors.
//!
//! Dropping the transport tears down in a fixed order: bus mastering off,
//! MSI-X off, remaining DMA unmapped and freed, BAR0 unmapped, device file
//! closed, then the container.

pub mod address;
pub mod bar;
pub mod config;
pub mod device;
pub mod dma;
pub mod msix;
pub mod sysfs;

use super::{DmaRegion, Transport, TransportError};
pub use address::PciAddress;
use bar::BarMapping;
use config::ConfigRegion;
use dma::DmaAllocator;
use msix::MsixVectors;
use std::mem::ManuallyDrop;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::Duration;
use sysfs::Sysfs;
use vfio_ioctls::{VfioContainer, VfioDevice};

/// VFIO's region index of BAR0.
const VFIO_PCI_BAR0_REGION_INDEX: u32 = 0;
/// VFIO's region index of PCI configuration space.
const VFIO_PCI_CONFIG_REGION_INDEX: u32 = 7;
/// PCI command register offset and bus master bit.
const PCI_COMMAND: u16 = 0x04;
const PCI_COMMAND_BUS_MASTER: u32 = 1 << 2;

/// A [`Transport`] for a PCI function bound to vfio-pci.
pub struct VfioTransport {
    address: PciAddress,
    group: u32,
    sysfs: Sysfs,
    bar0: ManuallyDrop<BarMapping>,
    config: ConfigRegion,
    dma: ManuallyDrop<DmaAllocator>,
    msix: MsixVectors,
    device: ManuallyDrop<VfioDevice>,
    container: ManuallyDrop<Arc<VfioContainer>>,
}

impl VfioTransport {
    /// Opens the function at `address` using the real `/sys`.
    pub fn open(address: PciAddress) -> Result<VfioTransport, TransportError> {
        Self::open_with(Sysfs::default(), address)
    }

    /// Opens the function at `address`, reading PCI state from `sysfs`.
    pub fn open_with(sysfs: Sysfs, address: PciAddress) -> Result<VfioTransport, TransportError> {
        let (container, device, group) = device::open(&sysfs, address)?;
        let fd = device.as_raw_fd();
        let fail = |reason: String| TransportError::Open { what: format!("pci:{address}"), reason };
        let bar_size = device.get_region_size(VFIO_PCI_BAR0_REGION_INDEX);
        let bar_size =
            usize::try_from(bar_size).map_err(|_| fail(format!("BAR0 size {bar_size:#x} too large")))?;
        let bar0 = BarMapping::map(fd, device.get_region_offset(VFIO_PCI_BAR0_REGION_INDEX), bar_size)?;
        let config = ConfigRegion {
            fd,
            offset: device.get_region_offset(VFIO_PCI_CONFIG_REGION_INDEX),
            size: device.get_region_size(VFIO_PCI_CONFIG_REGION_INDEX),
        };
        let msix = MsixVectors::new(&device)?;
        let dma = DmaAllocator::new(container.clone());
        tracing::debug!(%address, group, bar_size, msix = msix.table_size(), "VFIO device open");
        Ok(VfioTransport {
            address,
            group,
            sysfs,
            bar0: ManuallyDrop::new(bar0),
            config,
            dma: ManuallyDrop::new(dma),
            msix,
            device: ManuallyDrop::new(device),
            container: ManuallyDrop::new(container),
        })
    }

    /// The function's PCI address.
    pub fn address(&self) -> PciAddress {
        self.address
    }

    /// The function's IOMMU group.
    pub fn iommu_group(&self) -> u32 {
        self.group
    }

    /// Live DMA mappings (leak check).
    pub fn live_dma_mappings(&self) -> usize {
        self.dma.live()
    }
}

impl Transport for VfioTransport {
    fn describe(&self) -> String {
        format!("pci:{}", self.address)
    }

    fn bar0_read32(&self, offset: u64) -> u32 {
        self.bar0.read32(offset)
    }

    fn bar0_write32(&self, offset: u64, value: u32) {
        self.bar0.write32(offset, value)
    }

    /// Two dword reads, low half first (not every device takes 8-byte
    /// MMIO accesses).
    fn bar0_read64(&self, offset: u64) -> u64 {
        let low = u64::from(self.bar0.read32(offset));
        let high = u64::from(self.bar0.read32(offset + 4));
        (high << 32) | low
    }

    fn bar0_write64(&self, offset: u64, value: u64) {
        self.bar0.write32(offset, value as u32);
        self.bar0.write32(offset + 4, (value >> 32) as u32);
    }

    fn config_read32(&self, offset: u16) -> Result<u32, TransportError> {
        self.config.read32(offset)
    }

    fn config_write32(&self, offset: u16, value: u32) -> Result<(), TransportError> {
        self.config.write32(offset, value)
    }

    fn dma_alloc(&self, len: usize) -> Result<DmaRegion, TransportError> {
        self.dma.alloc(len)
    }

    fn dma_free(&self, region: DmaRegion) {
        self.dma.free(region)
    }

    fn enable_msix(&self, vectors: u16) -> Result<u16, TransportError> {
        self.msix.enable(&self.device, vectors)
    }

    fn interrupt_count(&self, vector: u16) -> u64 {
        self.msix.count(vector)
    }

    fn wait_interrupt(&self, vector: u16, seen: u64, timeout: Duration) -> Result<u64, TransportError> {
        self.msix.wait(vector, seen, timeout)
    }

    /// `VFIO_DEVICE_RESET`. Unlike a bare FLR, the kernel restores the
    /// saved configuration afterwards (bus mastering and MSI-X stay as they
    /// were); the driver re-enables both anyway.
    fn function_reset(&self) -> Result<(), TransportError> {
        device::reset(&self.device)
    }
}

impl Drop for VfioTransport {
    fn drop(&mut self) {
        // 1. Stop the device's DMA before any memory goes away.
        if let Ok(command) = self.config.read32(PCI_COMMAND) {
            let _ = self.config.write32(PCI_COMMAND, (command & 0xFFFF) & !PCI_COMMAND_BUS_MASTER);
        }
        // 2. Interrupts off.
        self.msix.disable(&self.device);
        // SAFETY (for the ManuallyDrop::drop calls below): each field is
        // dropped exactly once, here, and not used afterwards.
        // 3. DMA memory the driver did not free.
        self.dma.release_all();
        // SAFETY: see above.
        unsafe { ManuallyDrop::drop(&mut self.dma) };
        // 4. BAR0 before the device file it maps.
        // SAFETY: see above.
        unsafe { ManuallyDrop::drop(&mut self.bar0) };
        // 5. The device. vfio-ioctls' VfioDevice::drop unwraps a re-read of
        // the sysfs iommu_group link; if the function vanished (hot
        // removal) that would panic, so the device is leaked instead.
        if self.sysfs.iommu_group_of(self.address) == Some(self.group) {
            // SAFETY: see above.
            unsafe { ManuallyDrop::drop(&mut self.device) };
        } else {
            tracing::warn!(address = %self.address, "IOMMU group link gone; leaking the VFIO device handle");
        }
        // 6. The container (last reference unless the device was leaked).
        // SAFETY: see above.
        unsafe { ManuallyDrop::drop(&mut self.container) };
    }
}
