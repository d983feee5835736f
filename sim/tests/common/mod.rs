//! A minimal host for integration tests: page-aligned memory mapped into
//! the device's DMA window, and admin/I/O queues driven by hand through
//! register writes, doorbells and phase-tag polling.
#![allow(dead_code)]

use nvmeplan_sim::{SimConfig, SimDevice};
use nvmeplan_spec::registers::{self as reg, Cc, Csts};
use nvmeplan_spec::{Command, Completion};
use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::sync::Arc;
use std::time::{Duration, Instant};
use zerocopy::{FromBytes, IntoBytes};

pub const PAGE: u64 = 4096;
pub const IOVA: u64 = 0x1_0000_0000;
pub const MEM: usize = 8 << 20;

/// Host memory: one page-aligned allocation mapped at `IOVA`.
pub struct HostMem {
    ptr: *mut u8,
    layout: Layout,
}

// SAFETY: the allocation is plain memory owned by this struct; sharing the
// pointer between threads is what a DMA buffer is for.
unsafe impl Send for HostMem {}
// SAFETY: see above; all accesses go through copies.
unsafe impl Sync for HostMem {}

impl HostMem {
    fn new(len: usize) -> HostMem {
        let layout = Layout::from_size_align(len, PAGE as usize).unwrap();
        // SAFETY: the layout has a non-zero size.
        let ptr = unsafe { alloc_zeroed(layout) };
        assert!(!ptr.is_null());
        HostMem { ptr, layout }
    }

    fn offset(&self, iova: u64, len: usize) -> usize {
        let off = (iova - IOVA) as usize;
        assert!(off + len <= self.layout.size());
        off
    }

    pub fn write(&self, iova: u64, data: &[u8]) {
        let off = self.offset(iova, data.len());
        // SAFETY: bounds checked above; the memory is live while `self` is.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), self.ptr.add(off), data.len()) }
    }

    pub fn read(&self, iova: u64, len: usize) -> Vec<u8> {
        let off = self.offset(iova, len);
        let mut out = vec![0u8; len];
        // SAFETY: bounds checked above; the memory is live while `self` is.
        unsafe { std::ptr::copy_nonoverlapping(self.ptr.add(off), out.as_mut_ptr(), len) }
        out
    }

    /// Reads a dword with a volatile load (the CQE phase dword).
    pub fn read_u32_volatile(&self, iova: u64) -> u32 {
        let off = self.offset(iova, 4);
        // SAFETY: in bounds and 4-byte aligned (CQEs are 16-byte aligned).
        unsafe { std::ptr::read_volatile(self.ptr.add(off) as *const u32) }
    }
}

impl Drop for HostMem {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe { dealloc(self.ptr, self.layout) }
    }
}

/// One queue pair as the host sees it.
pub struct QueuePair {
    pub qid: u16,
    pub sq: u64,
    pub cq: u64,
    pub size: u16,
    pub sq_tail: u16,
    pub cq_head: u16,
    pub phase: bool,
    pub next_cid: u16,
}

pub struct Host {
    pub dev: Arc<SimDevice>,
    pub mem: Arc<HostMem>,
    next_free: u64,
    pub admin: QueuePair,
    pub dstrd: u8,
}

impl Host {
    /// A device with `cfg`, host memory mapped, bus master and MSI-X on.
    pub fn new(cfg: SimConfig) -> Host {
        let dev = SimDevice::new(cfg).unwrap();
        let mem = Arc::new(HostMem::new(MEM));
        // SAFETY: `mem` lives as long as this Host (the Arc is dropped after
        // `unmap` in Drop), so the mapping never outlives the memory.
        assert!(unsafe { dev.dma().map(IOVA, mem.ptr, MEM) });
        let cmd = dev.config_read32(0x04);
        dev.config_write32(0x04, cmd | 0x6);
        let msix = dev.config_read32(0x40);
        dev.config_write32(0x40, msix | (1 << 31));
        let dstrd = ((dev.bar_read64(reg::CAP) >> 32) & 0xF) as u8;
        let mut host = Host {
            dev,
            mem,
            next_free: IOVA,
            admin: QueuePair {
                qid: 0,
                sq: 0,
                cq: 0,
                size: 32,
                sq_tail: 0,
                cq_head: 0,
                phase: true,
                next_cid: 1,
            },
            dstrd,
        };
        host.admin.sq = host.alloc(PAGE as usize);
        host.admin.cq = host.alloc(PAGE as usize);
        host
    }

    /// Allocates page-aligned, zeroed memory.
    pub fn alloc(&mut self, len: usize) -> u64 {
        let at = self.next_free;
        self.next_free += (len as u64).div_ceil(PAGE) * PAGE;
        assert!(self.next_free <= IOVA + MEM as u64, "test host memory exhausted");
        self.mem.write(at, &vec![0u8; len]);
        at
    }

    pub fn csts(&self) -> Csts {
        Csts::from(self.dev.bar_read32(reg::CSTS))
    }

    pub fn wait_csts(&self, what: &str, pred: impl Fn(Csts) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !pred(self.csts()) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: CSTS {:#x}",
                self.dev.bar_read32(reg::CSTS)
            );
            std::thread::sleep(Duration::from_micros(100));
        }
    }

    pub fn cc_enabled() -> Cc {
        Cc::new().with_en(true).with_iosqes(6).with_iocqes(4)
    }

    /// Programs the admin queue and enables the controller.
    pub fn enable(&mut self) {
        let size = u32::from(self.admin.size - 1);
        self.dev.bar_write32(reg::AQA, size | (size << 16));
        self.dev.bar_write64(reg::ASQ, self.admin.sq);
        self.dev.bar_write64(reg::ACQ, self.admin.cq);
        self.dev.bar_write32(reg::CC, Self::cc_enabled().into());
        self.wait_csts("CSTS.RDY=1", |c| c.rdy());
        self.admin.sq_tail = 0;
        self.admin.cq_head = 0;
        self.admin.phase = true;
        self.mem.write(self.admin.cq, &[0u8; PAGE as usize]);
    }

    /// Clears CC.EN and waits for CSTS.RDY=0.
    pub fn disable(&mut self) {
        self.dev.bar_write32(reg::CC, 0);
        self.wait_csts("CSTS.RDY=0", |c| !c.rdy());
    }

    pub fn submit_on(&mut self, qid: Option<usize>, io: &mut [QueuePair], mut cmd: Command) -> u16 {
        let dstrd = self.dstrd;
        let q = match qid {
            None => &mut self.admin,
            Some(i) => &mut io[i],
        };
        let cid = q.next_cid;
        q.next_cid = q.next_cid.wrapping_add(1).max(1);
        cmd.set_cid(cid);
        self.mem.write(q.sq + u64::from(q.sq_tail) * 64, cmd.as_bytes());
        q.sq_tail = (q.sq_tail + 1) % q.size;
        self.dev.bar_write32(reg::sq_tail_doorbell(q.qid, dstrd), u32::from(q.sq_tail));
        cid
    }

    /// Waits for the next completion on a queue (None after `timeout`).
    pub fn poll_on(
        &mut self,
        qid: Option<usize>,
        io: &mut [QueuePair],
        timeout: Duration,
    ) -> Option<Completion> {
        let dstrd = self.dstrd;
        let q = match qid {
            None => &mut self.admin,
            Some(i) => &mut io[i],
        };
        let deadline = Instant::now() + timeout;
        let at = q.cq + u64::from(q.cq_head) * 16;
        loop {
            let dw3 = self.mem.read_u32_volatile(at + 12);
            if ((dw3 >> 16) & 1 == 1) == q.phase {
                break;
            }
            if Instant::now() > deadline {
                return None;
            }
            std::hint::spin_loop();
        }
        std::sync::atomic::fence(std::sync::atomic::Ordering::Acquire);
        let cqe = Completion::read_from_bytes(&self.mem.read(at, 16)).unwrap();
        q.cq_head = (q.cq_head + 1) % q.size;
        if q.cq_head == 0 {
            q.phase = !q.phase;
        }
        self.dev.bar_write32(reg::cq_head_doorbell(q.qid, dstrd), u32::from(q.cq_head));
        Some(cqe)
    }

    /// Runs one admin command and returns its completion.
    pub fn admin(&mut self, cmd: Command) -> Completion {
        let cid = self.submit_on(None, &mut [], cmd);
        let cqe = self.poll_on(None, &mut [], Duration::from_secs(5)).expect("admin completion");
        assert_eq!(cqe.cid, cid);
        cqe
    }

    /// Runs an admin command that reads `len` bytes into a fresh buffer.
    pub fn admin_read(&mut self, mut cmd: Command, len: usize) -> (Completion, Vec<u8>) {
        let buf = self.alloc(len.max(PAGE as usize));
        cmd.prp1 = buf;
        if len > PAGE as usize {
            cmd.prp2 = buf + PAGE;
            assert!(len <= 2 * PAGE as usize);
        }
        let cqe = self.admin(cmd);
        (cqe, self.mem.read(buf, len))
    }

    /// Runs an admin command that sends `data`.
    pub fn admin_write(&mut self, mut cmd: Command, data: &[u8]) -> Completion {
        let buf = self.alloc(data.len().max(PAGE as usize));
        self.mem.write(buf, data);
        cmd.prp1 = buf;
        if data.len() > PAGE as usize {
            cmd.prp2 = buf + PAGE;
        }
        self.admin(cmd)
    }

    /// Creates I/O CQ and SQ `qid` with `size` entries, interrupts on
    /// vector `qid`.
    pub fn create_io_pair(&mut self, qid: u16, size: u16) -> QueuePair {
        let cq = self.alloc(usize::from(size) * 16);
        let sq = self.alloc(usize::from(size) * 64);
        let mut c = Command::new(0x05, 0);
        c.prp1 = cq;
        c.cdw10 = u32::from(qid) | (u32::from(size - 1) << 16);
        c.cdw11 = 1 | 2 | (u32::from(qid) << 16);
        let r = self.admin(c);
        assert!(r.status().is_success(), "create CQ: {:?}", r.status());
        let mut c = Command::new(0x01, 0);
        c.prp1 = sq;
        c.cdw10 = u32::from(qid) | (u32::from(size - 1) << 16);
        c.cdw11 = 1 | (u32::from(qid) << 16);
        let r = self.admin(c);
        assert!(r.status().is_success(), "create SQ: {:?}", r.status());
        QueuePair { qid, sq, cq, size, sq_tail: 0, cq_head: 0, phase: true, next_cid: 1 }
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        self.dev.dma().unmap(IOVA);
    }
}

/// Identify with `cns` and `nsid`.
pub fn identify(cns: u8, nsid: u32) -> Command {
    let mut c = Command::new(0x06, nsid);
    c.cdw10 = u32::from(cns);
    c
}

/// Get Log Page of `len` bytes (a multiple of 4) at `offset`.
pub fn get_log(lid: u8, len: usize, offset: u64) -> Command {
    let mut c = Command::new(0x02, 0xFFFF_FFFF);
    let numd = (len / 4 - 1) as u32;
    c.cdw10 = u32::from(lid) | ((numd & 0xFFFF) << 16);
    c.cdw11 = numd >> 16;
    c.cdw12 = offset as u32;
    c.cdw13 = (offset >> 32) as u32;
    c
}

/// A fast default config for tests.
pub fn fast_config() -> SimConfig {
    SimConfig {
        ready_delay: Duration::from_micros(200),
        self_test_short: Duration::from_millis(100),
        self_test_extended: Duration::from_millis(200),
        sanitize_duration: Duration::from_millis(150),
        ..SimConfig::default()
    }
}

/// A host with the controller enabled.
pub fn ready_host(cfg: SimConfig) -> Host {
    let mut host = Host::new(cfg);
    host.enable();
    host
}
