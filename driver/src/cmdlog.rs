//! [`CmdLog`]: a per-queue ring of the most recent commands and their
//! completions, written by the queue's thread without locks and readable
//! from any thread while I/O runs.
//!
//! Each slot is a seqlock built from atomics: the writer makes the slot's
//! sequence odd, stores the entry words, and makes it even again; a reader
//! copies the words and keeps the copy only if the sequence was the same
//! even value before and after. The writer never waits; a reader retries
//! (rarely) when it raced with a write.

use crate::error::OpcodeName;
use nvmeplan_spec::{Command, Completion, NvmOpcode};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering, fence};
use std::time::Instant;
use zerocopy::{FromBytes, IntoBytes};

/// Default number of entries per queue.
pub const DEFAULT_ENTRIES: usize = 2048;

// A slot is a run of u64 words, each field placed after the one before:
// the entry index, the SQE (64 bytes), the CQE (16 bytes), the submit time
// and the completion time.
const W_INDEX: usize = 0;
const W_SQE: usize = W_INDEX + 1;
const W_CQE: usize = W_SQE + 64 / 8;
const W_SUBMIT: usize = W_CQE + 16 / 8;
const W_COMPLETE: usize = W_SUBMIT + 1;
/// Words per slot.
const WORDS: usize = W_COMPLETE + 1;
/// Completion time word value while the command is outstanding.
const NOT_COMPLETED: u64 = u64::MAX;

struct Slot {
    seq: AtomicU64,
    words: [AtomicU64; WORDS],
}

impl Slot {
    fn new() -> Self {
        Slot { seq: AtomicU64::new(0), words: std::array::from_fn(|_| AtomicU64::new(0)) }
    }
}

/// One recorded command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CmdLogEntry {
    /// Running number of the command on this queue (0 for the first).
    pub index: u64,
    /// The queue it was submitted to.
    pub qid: u16,
    /// The submission queue entry as sent (with its CID).
    pub sqe: Command,
    /// The completion, once the command completed.
    pub cqe: Option<Completion>,
    /// Submission time in nanoseconds since the log was created.
    pub submit_ns: u64,
    /// Completion time in nanoseconds since the log was created.
    pub complete_ns: Option<u64>,
}

impl CmdLogEntry {
    /// Latency in nanoseconds, once completed.
    pub fn latency_ns(&self) -> Option<u64> {
        self.complete_ns.map(|c| c.saturating_sub(self.submit_ns))
    }

    /// The opcode with its spec name.
    pub fn opcode(&self) -> OpcodeName {
        OpcodeName::new(self.sqe.opcode(), self.qid)
    }
}

impl fmt::Display for CmdLogEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = self.opcode();
        write!(f, "#{} sq{} cid {} ", self.index, self.qid, self.sqe.cid())?;
        match op.name() {
            Some(name) => f.write_str(name)?,
            None => write!(f, "opcode {:#04x}", op.opcode)?,
        }
        write!(f, " nsid {}", self.sqe.nsid)?;
        let io_with_range = self.qid != 0
            && matches!(
                NvmOpcode::from_u8(self.sqe.opcode()),
                Some(
                    NvmOpcode::Read
                        | NvmOpcode::Write
                        | NvmOpcode::Compare
                        | NvmOpcode::WriteZeroes
                        | NvmOpcode::WriteUncorrectable
                        | NvmOpcode::Verify
                )
            );
        if io_with_range {
            write!(f, " slba {} nlb {}", self.sqe.slba(), self.sqe.nlb())?;
        } else {
            write!(f, " cdw10 {:#x} cdw11 {:#x}", self.sqe.cdw10, self.sqe.cdw11)?;
        }
        match (self.cqe, self.latency_ns()) {
            (Some(cqe), Some(lat)) => {
                write!(
                    f,
                    " -> {} dw0 {:#x} sqhd {} ({:.1} us)",
                    cqe.status(),
                    cqe.dw0,
                    cqe.sqhd,
                    lat as f64 / 1e3
                )
            }
            _ => f.write_str(" -> outstanding"),
        }
    }
}

/// A lock-free ring of recent commands for one queue.
pub struct CmdLog {
    qid: u16,
    base: Instant,
    head: AtomicU64,
    slots: Box<[Slot]>,
}

impl fmt::Debug for CmdLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CmdLog").field("qid", &self.qid).field("recorded", &self.recorded()).finish()
    }
}

impl CmdLog {
    /// A log of `entries` slots (at least 1) for queue `qid`, timing
    /// relative to `base`.
    pub fn new(qid: u16, entries: usize, base: Instant) -> Self {
        let slots = (0..entries.max(1)).map(|_| Slot::new()).collect();
        CmdLog { qid, base, head: AtomicU64::new(0), slots }
    }

    /// The queue this log belongs to.
    pub fn qid(&self) -> u16 {
        self.qid
    }

    /// Number of slots.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Commands recorded so far (including overwritten ones).
    pub fn recorded(&self) -> u64 {
        self.head.load(Ordering::Acquire)
    }

    /// The instant timestamps are relative to.
    pub fn base(&self) -> Instant {
        self.base
    }

    fn slot(&self, index: u64) -> &Slot {
        let len = self.slots.len() as u64;
        // A mask instead of a division for the usual power-of-two sizes.
        let at = if len.is_power_of_two() { index & (len - 1) } else { index % len };
        &self.slots[at as usize]
    }

    /// Writes `f`'s changes to the words of slot `index` under the seqlock.
    /// Only the owning queue's thread writes, so there is one writer.
    fn write_slot(&self, index: u64, f: impl FnOnce(&[AtomicU64; WORDS])) {
        let slot = self.slot(index);
        let seq = slot.seq.load(Ordering::Relaxed);
        slot.seq.store(seq.wrapping_add(1), Ordering::Relaxed);
        fence(Ordering::Release);
        f(&slot.words);
        slot.seq.store(seq.wrapping_add(2), Ordering::Release);
    }

    /// Records a submission; returns its index for [`CmdLog::record_completion`].
    pub fn record_submission(&self, sqe: &Command, submit_ns: u64) -> u64 {
        let index = self.head.load(Ordering::Relaxed);
        let words: [u64; 8] = zerocopy::transmute!(*sqe);
        self.write_slot(index, |w| {
            w[W_INDEX].store(index, Ordering::Relaxed);
            for (dst, src) in w[W_SQE..W_SQE + 8].iter().zip(words) {
                dst.store(src, Ordering::Relaxed);
            }
            w[W_CQE].store(0, Ordering::Relaxed);
            w[W_CQE + 1].store(0, Ordering::Relaxed);
            w[W_SUBMIT].store(submit_ns, Ordering::Relaxed);
            w[W_COMPLETE].store(NOT_COMPLETED, Ordering::Relaxed);
        });
        self.head.store(index + 1, Ordering::Release);
        index
    }

    /// Records the completion of the command at `index`, unless newer
    /// commands have overwritten its slot.
    pub fn record_completion(&self, index: u64, cqe: &Completion, complete_ns: u64) {
        let slot = self.slot(index);
        if slot.words[W_INDEX].load(Ordering::Relaxed) != index {
            return;
        }
        let words: [u64; 2] = zerocopy::transmute!(*cqe);
        self.write_slot(index, |w| {
            w[W_CQE].store(words[0], Ordering::Relaxed);
            w[W_CQE + 1].store(words[1], Ordering::Relaxed);
            w[W_COMPLETE].store(complete_ns, Ordering::Relaxed);
        });
    }

    /// Reads slot `index` consistently; `None` if it now holds another entry.
    fn read(&self, index: u64) -> Option<CmdLogEntry> {
        let slot = self.slot(index);
        for _ in 0..1000 {
            let s1 = slot.seq.load(Ordering::Acquire);
            if s1 % 2 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let mut copy = [0u64; WORDS];
            for (dst, src) in copy.iter_mut().zip(&slot.words) {
                *dst = src.load(Ordering::Relaxed);
            }
            fence(Ordering::Acquire);
            if slot.seq.load(Ordering::Relaxed) != s1 {
                continue;
            }
            if copy[W_INDEX] != index {
                return None;
            }
            let sqe = Command::read_from_bytes(copy[W_SQE..W_SQE + 8].as_bytes()).ok()?;
            let completed = copy[W_COMPLETE] != NOT_COMPLETED;
            let cqe = if completed {
                Completion::read_from_bytes(copy[W_CQE..W_CQE + 2].as_bytes()).ok()
            } else {
                None
            };
            return Some(CmdLogEntry {
                index,
                qid: self.qid,
                sqe,
                cqe,
                submit_ns: copy[W_SUBMIT],
                complete_ns: completed.then_some(copy[W_COMPLETE]),
            });
        }
        None
    }

    /// Up to the `last_n` most recent entries, oldest first.
    pub fn snapshot(&self, last_n: usize) -> Vec<CmdLogEntry> {
        let head = self.recorded();
        let n = (last_n as u64).min(head).min(self.slots.len() as u64);
        (head - n..head).filter_map(|i| self.read(i)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn records_and_decodes() {
        let log = CmdLog::new(1, 4, Instant::now());
        let mut cmd = Command::new(NvmOpcode::Write as u8, 1);
        cmd.set_cid(7);
        cmd.set_slba(100);
        cmd.cdw12 = 7;
        let i = log.record_submission(&cmd, 1000);
        let snap = log.snapshot(10);
        assert_eq!(snap.len(), 1);
        assert!(snap[0].cqe.is_none());
        assert!(snap[0].to_string().ends_with("outstanding"));
        let cqe = Completion { cid: 7, sqid: 1, sqhd: 1, ..Default::default() };
        log.record_completion(i, &cqe, 4500);
        let e = log.snapshot(1)[0];
        assert_eq!(e.cqe, Some(cqe));
        assert_eq!(e.latency_ns(), Some(3500));
        let text = e.to_string();
        assert!(text.contains("cid 7 write nsid 1 slba 100 nlb 8 -> success"), "{text}");
        for k in 0..10 {
            log.record_submission(&cmd, k);
        }
        let snap = log.snapshot(100);
        assert_eq!(snap.len(), 4);
        assert_eq!(snap.first().unwrap().index, 7);
        assert_eq!(snap.last().unwrap().index, 10);
        // A completion for an overwritten slot is ignored.
        log.record_completion(i, &cqe, 1);
        assert!(log.snapshot(4).iter().all(|e| e.cqe.is_none()));
    }

    #[test]
    fn concurrent_readers_see_consistent_entries() {
        let log = Arc::new(CmdLog::new(2, 64, Instant::now()));
        // The writer starts only once the reader is about to read, and the
        // reader reads at least once more after the writer finished, so a
        // loaded machine cannot let the writer run to its end unobserved.
        let start = Arc::new(std::sync::Barrier::new(2));
        let writer = {
            let log = log.clone();
            let start = start.clone();
            std::thread::spawn(move || {
                start.wait();
                for n in 0..200_000u64 {
                    let mut cmd = Command::new(NvmOpcode::Read as u8, n as u32);
                    cmd.set_slba(n);
                    cmd.cdw13 = n as u32;
                    cmd.set_cid(n as u16);
                    let i = log.record_submission(&cmd, n);
                    let cqe = Completion { dw0: n as u32, cid: n as u16, ..Default::default() };
                    log.record_completion(i, &cqe, n + 5);
                }
            })
        };
        let mut seen = 0usize;
        start.wait();
        loop {
            let finished = writer.is_finished();
            for e in log.snapshot(64) {
                let n = e.sqe.slba();
                assert_eq!(e.sqe.nsid, n as u32);
                assert_eq!(e.sqe.cdw13, n as u32);
                assert_eq!(e.sqe.cid(), n as u16);
                assert_eq!(e.submit_ns, n);
                if let Some(cqe) = e.cqe {
                    assert_eq!(cqe.dw0, n as u32);
                    assert_eq!(e.complete_ns, Some(n + 5));
                }
                seen += 1;
            }
            if finished {
                break;
            }
        }
        writer.join().unwrap();
        assert!(seen > 0);
        assert_eq!(log.snapshot(64).len(), 64);
    }
}
