//! The waiting half of [`QueuePair`]: synchronous execution and waiting
//! for completions, by polling or by sleeping on the CQ's interrupt vector.

use super::{CANCEL_GRACE, QueuePair, State, Waiter};
use crate::dma::DmaBuffer;
use crate::error::{DriverError, OpcodeName};
use nvmeplan_spec::{Command, Completion};
use std::time::{Duration, Instant};

impl QueuePair {
    /// Sleeps or spins a little while waiting for completions.
    fn pause(&self, spins: &mut u32, irq_seen: Option<u64>, remaining: Duration) -> Result<(), DriverError> {
        if let (Some(vector), Some(seen)) = (self.vector, irq_seen) {
            let slice = remaining.min(Duration::from_millis(10));
            self.transport.wait_interrupt(vector, seen, slice)?;
            return Ok(());
        }
        *spins += 1;
        if *spins < 200 {
            std::hint::spin_loop();
        } else if *spins < 2000 {
            std::thread::yield_now();
        } else {
            std::thread::sleep(Duration::from_micros(20).min(remaining));
        }
        Ok(())
    }

    /// Spins up to `spins` times (a CPU pause each) while no completion is
    /// ready; returns whether one is. Cheap enough for a polling loop to
    /// call between polls: one look at the CQ's head entry per spin, no
    /// clock, no doorbell, no timeout scan (the next `poll` does those).
    #[inline(never)]
    pub fn spin_until_ready(&self, spins: u32) -> bool {
        for _ in 0..spins {
            if self.ready() {
                return true;
            }
            std::hint::spin_loop();
        }
        self.ready()
    }

    /// Waits until completions are ready to be reaped by `poll` (`Ok(true)`)
    /// or `timeout` passes (`Ok(false)`). Publishes pending submissions
    /// first. Sleeps on the interrupt vector when the CQ has one, otherwise
    /// polls. Reports command timeouts and resets like `poll`, and
    /// [`DriverError::Cancelled`] when the controller's cancellation flag
    /// is set and [`CANCEL_GRACE`] has passed since the wait began.
    pub fn wait_for_completions(&mut self, timeout: Duration) -> Result<bool, DriverError> {
        if self.is_stale() {
            return Err(DriverError::ControllerReset { qid: self.qid });
        }
        self.ring_doorbell();
        let start = Instant::now();
        let mut spins = 0;
        loop {
            let irq_seen = self.vector.map(|v| self.transport.interrupt_count(v));
            if self.ready() {
                return Ok(true);
            }
            if self.is_stale() {
                return Err(DriverError::ControllerReset { qid: self.qid });
            }
            let now = self.now_ns();
            self.scan_timeouts(now);
            if let Some(e) = self.pop_timeout(now) {
                return Err(e);
            }
            let elapsed = start.elapsed();
            if elapsed >= timeout {
                return Ok(false);
            }
            if elapsed >= CANCEL_GRACE && self.is_cancelled() {
                return Err(DriverError::Cancelled { what: format!("completions on queue {}", self.qid) });
            }
            self.pause(&mut spins, irq_seen, timeout - elapsed)?;
        }
    }

    /// Submits `cmd` and waits for its completion (any status), with PRPs
    /// describing `buffer` from its data offset to its end. `timeout`
    /// overrides the queue's default. Raw completions that arrive meanwhile
    /// are kept for the next `poll`; callbacks run. The wait ends with
    /// [`DriverError::Cancelled`] when the controller's cancellation flag is
    /// set and the command has had [`CANCEL_GRACE`]; the command then stays
    /// outstanding like a timed-out one.
    pub fn execute(
        &mut self,
        cmd: Command,
        buffer: Option<&mut DmaBuffer>,
        timeout: Option<Duration>,
    ) -> Result<Completion, DriverError> {
        let data = buffer.map(|b| (b.data_iova(), b.data_len()));
        self.execute_data(cmd, data, timeout)
    }

    /// [`QueuePair::execute`] with an explicit `(iova, len)` transfer.
    pub fn execute_data(
        &mut self,
        cmd: Command,
        data: Option<(u64, usize)>,
        timeout: Option<Duration>,
    ) -> Result<Completion, DriverError> {
        let mut noop = |_: u64, _: &Completion, _: u64| {};
        if self.check_reset(&mut noop, true) {
            return Err(DriverError::ControllerReset { qid: self.qid });
        }
        let cid = self.submit_inner(cmd, data, Waiter::Sync, timeout, None)?;
        self.ring_doorbell();
        let deadline = self.trackers[usize::from(cid)].deadline_ns;
        let mut spins = 0;
        loop {
            let irq_seen = self.vector.map(|v| self.transport.interrupt_count(v));
            if self.check_reset(&mut noop, true) {
                return Err(DriverError::ControllerReset { qid: self.qid });
            }
            self.reap(usize::MAX, &mut noop, true);
            if let Some((done, cqe)) = self.sync_result.take()
                && done == cid
            {
                return Ok(cqe);
            }
            let now = self.now_ns();
            if now >= deadline {
                let err = self.timeout_error(cid, now);
                let t = &mut self.trackers[usize::from(cid)];
                if t.state == State::Busy {
                    self.stats.timeouts += 1;
                }
                t.state = State::TimedOut;
                t.waiter = Waiter::Discard;
                return Err(err);
            }
            let submitted = self.trackers[usize::from(cid)].submit_ns;
            if self.is_cancelled() && now.saturating_sub(submitted) >= CANCEL_GRACE.as_nanos() as u64 {
                let opcode = OpcodeName::new(self.trackers[usize::from(cid)].opcode, self.qid);
                let what = format!("command {opcode} cid {cid} on queue {}", self.qid);
                // Given up like a timed-out command: the CID stays reserved
                // and a late completion is only counted.
                let t = &mut self.trackers[usize::from(cid)];
                t.state = State::TimedOut;
                t.waiter = Waiter::Discard;
                return Err(DriverError::Cancelled { what });
            }
            self.pause(&mut spins, irq_seen, Duration::from_nanos(deadline - now))?;
        }
    }
}
