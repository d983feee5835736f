//! Writing to stdout without panicking: every command prints through
//! [`print`], which never fails. A reader that went away (`| head`, a
//! closed pipe) silences stdout for the rest of the process and is not an
//! error: the command finishes its work and exits as it would have. Any
//! other write error (a full disk, `>/dev/full`) is reported once on
//! stderr and makes [`failed`] true, so the command can exit with its
//! "output could not be written" code.

use std::io::Write as _;
use std::sync::atomic::{AtomicU8, Ordering};

const OPEN: u8 = 0;
/// The reader is gone: nothing more is written, and that is fine.
const CLOSED: u8 = 1;
/// A write failed for another reason.
const FAILED: u8 = 2;

static STATE: AtomicU8 = AtomicU8::new(OPEN);

/// Writes `text` to stdout and flushes it (nothing once stdout failed).
pub fn print(text: &str) {
    if STATE.load(Ordering::SeqCst) != OPEN {
        return;
    }
    let mut out = std::io::stdout().lock();
    let written = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    if let Err(e) = written {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            STATE.store(CLOSED, Ordering::SeqCst);
        } else if STATE.swap(FAILED, Ordering::SeqCst) != FAILED {
            let _ = writeln!(std::io::stderr(), "error: cannot write to stdout: {e}");
        }
    }
}

/// [`print`] with a newline.
pub fn println(text: &str) {
    print(&format!("{text}\n"));
}

/// A write to stdout failed for a reason other than a closed reader.
pub fn failed() -> bool {
    STATE.load(Ordering::SeqCst) == FAILED
}
