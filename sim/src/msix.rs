//! MSI-X interrupt vectors: the device signals, the host counts and waits.
//!
//! Each vector keeps a running count of messages sent. The host side waits
//! for the count to move past what it last saw, so a message raised before
//! the host started waiting is never lost (the same semantics as reading an
//! eventfd that VFIO wires to a vector). A masked vector records a pending
//! message and delivers it when unmasked, as the MSI-X pending bit array does.
//!
//! The function mask (message control bit 14) masks every vector at once:
//! while it is set no message is sent, but each message raised sets its
//! vector's pending bit; clearing it delivers the pending messages of the
//! vectors that are not masked themselves (the others stay pending until
//! their own mask clears). Per-vector mask bits are not changed by it.

use parking_lot::{Condvar, Mutex};
use std::time::{Duration, Instant};

#[derive(Default, Clone, Copy)]
struct VectorState {
    count: u64,
    masked: bool,
    pending: bool,
}

/// The vector table and the function mask, under one lock so that a
/// message cannot slip between a mask check and a pending bit.
#[derive(Default)]
struct Table {
    vectors: Vec<VectorState>,
    function_masked: bool,
}

/// The MSI-X vectors of the simulated function.
pub struct InterruptController {
    table: Mutex<Table>,
    raised: Condvar,
    enabled: std::sync::atomic::AtomicBool,
}

impl InterruptController {
    /// `count` vectors (the table size the function advertises).
    pub fn new(count: u16) -> Self {
        InterruptController {
            table: Mutex::new(Table {
                vectors: vec![VectorState::default(); usize::from(count.max(1))],
                function_masked: false,
            }),
            raised: Condvar::new(),
            enabled: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Number of vectors in the table.
    pub fn vector_count(&self) -> u16 {
        self.table.lock().vectors.len() as u16
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
    /// while MSI-X is disabled, are dropped as the hardware would drop them;
    /// while the vector or the whole function is masked the message is
    /// left pending.
    pub fn signal(&self, vector: u16) {
        if !self.enabled() {
            return;
        }
        let mut table = self.table.lock();
        let function_masked = table.function_masked;
        let Some(state) = table.vectors.get_mut(usize::from(vector)) else { return };
        if state.masked || function_masked {
            state.pending = true;
            return;
        }
        state.count += 1;
        drop(table);
        self.raised.notify_all();
    }

    /// Masks or unmasks `vector`; unmasking delivers a pending message
    /// unless the function mask is set.
    pub fn set_masked(&self, vector: u16, masked: bool) {
        let mut table = self.table.lock();
        let function_masked = table.function_masked;
        let Some(state) = table.vectors.get_mut(usize::from(vector)) else { return };
        state.masked = masked;
        if !masked && !function_masked && state.pending {
            state.pending = false;
            state.count += 1;
            drop(table);
            self.raised.notify_all();
        }
    }

    /// Sets or clears the function mask (message control bit 14). While it
    /// is set, messages only set pending bits; clearing it delivers the
    /// pending message of every vector that is not masked itself.
    pub fn set_function_masked(&self, masked: bool) {
        let mut table = self.table.lock();
        table.function_masked = masked;
        if masked {
            return;
        }
        let mut delivered = false;
        for state in table.vectors.iter_mut().filter(|s| s.pending && !s.masked) {
            state.pending = false;
            state.count += 1;
            delivered = true;
        }
        drop(table);
        if delivered {
            self.raised.notify_all();
        }
    }

    /// Whether the function mask is set.
    pub fn function_masked(&self) -> bool {
        self.table.lock().function_masked
    }

    /// Whether `vector` has a message pending (its pending bit); false for
    /// vectors past the table.
    pub fn pending(&self, vector: u16) -> bool {
        self.table.lock().vectors.get(usize::from(vector)).is_some_and(|s| s.pending)
    }

    /// Messages delivered on `vector` so far.
    pub fn count(&self, vector: u16) -> u64 {
        self.table.lock().vectors.get(usize::from(vector)).map_or(0, |s| s.count)
    }

    /// Waits until `vector` has delivered more than `seen` messages or
    /// `timeout` passes; returns the count then.
    pub fn wait_beyond(&self, vector: u16, seen: u64, timeout: Duration) -> u64 {
        let deadline = Instant::now() + timeout;
        let mut table = self.table.lock();
        loop {
            let count = table.vectors.get(usize::from(vector)).map_or(0, |s| s.count);
            if count > seen {
                return count;
            }
            if self.raised.wait_until(&mut table, deadline).timed_out() {
                return table.vectors.get(usize::from(vector)).map_or(0, |s| s.count);
            }
        }
    }

    /// Clears counts, masks (the function mask too) and pending bits
    /// (function reset).
    pub fn reset(&self) {
        let mut table = self.table.lock();
        for state in table.vectors.iter_mut() {
            *state = VectorState::default();
        }
        table.function_masked = false;
        drop(table);
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

    #[test]
    fn function_mask_holds_messages_pending_until_cleared() {
        let irq = InterruptController::new(4);
        irq.set_enabled(true);
        irq.set_function_masked(true);
        assert!(irq.function_masked());
        irq.signal(0);
        irq.signal(0);
        irq.signal(1);
        assert_eq!((irq.count(0), irq.count(1)), (0, 0), "nothing is sent while function-masked");
        assert!(irq.pending(0) && irq.pending(1) && !irq.pending(2));
        // Unmasking a vector while the function is masked keeps it pending.
        irq.set_masked(1, true);
        irq.set_masked(1, false);
        assert_eq!(irq.count(1), 0);
        assert!(irq.pending(1));
        // A vector masked on its own stays pending past the function unmask.
        irq.set_masked(1, true);
        irq.set_function_masked(false);
        assert!(!irq.function_masked());
        assert_eq!(irq.count(0), 1, "one pending bit, one message");
        assert!(!irq.pending(0));
        assert_eq!(irq.count(1), 0);
        assert!(irq.pending(1));
        irq.set_masked(1, false);
        assert_eq!(irq.count(1), 1);
        assert!(!irq.pending(1));
        // Unmasked again: messages flow directly.
        irq.signal(2);
        assert_eq!(irq.count(2), 1);
        assert!(!irq.pending(2));
    }

    #[test]
    fn function_unmask_wakes_a_waiter() {
        let irq = Arc::new(InterruptController::new(2));
        irq.set_enabled(true);
        irq.set_function_masked(true);
        irq.signal(1);
        let waiter = {
            let irq = irq.clone();
            std::thread::spawn(move || irq.wait_beyond(1, 0, Duration::from_secs(5)))
        };
        std::thread::sleep(Duration::from_millis(20));
        irq.set_function_masked(false);
        assert_eq!(waiter.join().unwrap(), 1);
    }

    #[test]
    fn function_mask_does_not_revive_dropped_messages() {
        let irq = InterruptController::new(2);
        irq.set_function_masked(true);
        irq.signal(0); // MSI-X disabled: dropped, not pending
        assert!(!irq.pending(0));
        irq.set_enabled(true);
        irq.set_function_masked(false);
        assert_eq!(irq.count(0), 0);
        // A reset clears the function mask and the pending bits.
        irq.set_function_masked(true);
        irq.signal(1);
        irq.reset();
        assert!(!irq.function_masked());
        assert!(!irq.pending(1));
    }
}
