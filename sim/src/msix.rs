//! MSI-X interrupt vectors: the device signals, the host counts and waits.
//!
//! Each vector keeps a running count of messages sent. The host side waits
//! for the count to move past what it last saw, so a message raised before
//! the host started waiting is never lost (the same semantics as reading an
//! eventfd that VFIO wires to a vector). A masked vector records a pending
//! message and delivers it when unmasked, as the MSI-X pending bit array does.

use parking_lot::{Condvar, Mutex};
use std::time::{Duration, Instant};

#[derive(Default, Clone, Copy)]
struct VectorState {
    count: u64,
    masked: bool,
    pending: bool,
}

/// The MSI-X vectors of the simulated function.
pub struct InterruptController {
    vectors: Mutex<Vec<VectorState>>,
    raised: Condvar,
    enabled: std::sync::atomic::AtomicBool,
}

impl InterruptController {
    /// `count` vectors (the table size the function advertises).
    pub fn new(count: u16) -> Self {
        InterruptController {
            vectors: Mutex::new(vec![VectorState::default(); usize::from(count.max(1))]),
            raised: Condvar::new(),
            enabled: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Number of vectors in the table.
    pub fn vector_count(&self) -> u16 {
        self.vectors.lock().len() as u16
    }

    /// Enables or disables MSI-X for the function (message control bit 15).
    pub fn set_enabled(&self, enabled: bool) {
        self.enabled.store(enabled, std::sync::atomic::Ordering::Release);
    }

    /// Whether MSI-X is enabled.
    pub fn enabled(&self) -> bool {
        self.enabled.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Sends a message on `vector`. Messages on vectors past the table, or
    /// while MSI-X is disabled, are dropped as the hardware would drop them.
    pub fn signal(&self, vector: u16) {
        if !self.enabled() {
            return;
        }
        let mut vectors = self.vectors.lock();
        let Some(state) = vectors.get_mut(usize::from(vector)) else { return };
        if state.masked {
            state.pending = true;
            return;
        }
        state.count += 1;
        drop(vectors);
        self.raised.notify_all();
    }

    /// Masks or unmasks `vector`; unmasking delivers a pending message.
    pub fn set_masked(&self, vector: u16, masked: bool) {
        let mut vectors = self.vectors.lock();
        let Some(state) = vectors.get_mut(usize::from(vector)) else { return };
        state.masked = masked;
        if !masked && state.pending {
            state.pending = false;
            state.count += 1;
            drop(vectors);
            self.raised.notify_all();
        }
    }

    /// Messages delivered on `vector` so far.
    pub fn count(&self, vector: u16) -> u64 {
        self.vectors.lock().get(usize::from(vector)).map_or(0, |s| s.count)
    }

    /// Waits until `vector` has delivered more than `seen` messages or
    /// `timeout` passes; returns the count then.
    pub fn wait_beyond(&self, vector: u16, seen: u64, timeout: Duration) -> u64 {
        let deadline = Instant::now() + timeout;
        let mut vectors = self.vectors.lock();
        loop {
            let count = vectors.get(usize::from(vector)).map_or(0, |s| s.count);
            if count > seen {
                return count;
            }
            if self.raised.wait_until(&mut vectors, deadline).timed_out() {
                return vectors.get(usize::from(vector)).map_or(0, |s| s.count);
            }
        }
    }

    /// Clears counts, masks and pending bits (function reset).
    pub fn reset(&self) {
        let mut vectors = self.vectors.lock();
        for state in vectors.iter_mut() {
            *state = VectorState::default();
        }
        self.set_enabled(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn messages_are_counted_masked_and_awaited() {
        let irq = Arc::new(InterruptController::new(4));
        irq.signal(1);
        assert_eq!(irq.count(1), 0, "disabled MSI-X drops messages");
        irq.set_enabled(true);
        irq.signal(1);
        assert_eq!(irq.count(1), 1);
        irq.set_masked(2, true);
        irq.signal(2);
        assert_eq!(irq.count(2), 0);
        irq.set_masked(2, false);
        assert_eq!(irq.count(2), 1);
        let waiter = {
            let irq = irq.clone();
            std::thread::spawn(move || irq.wait_beyond(3, 0, Duration::from_secs(5)))
        };
        std::thread::sleep(Duration::from_millis(20));
        irq.signal(3);
        assert_eq!(waiter.join().unwrap(), 1);
        assert_eq!(irq.wait_beyond(0, 0, Duration::from_millis(10)), 0);
        irq.signal(9);
    }
}
