//! How a run ends for its device: the plan's `finish`.
//!
//! By default every run, also one stopped by the stop flag (Ctrl-C,
//! SIGTERM) or by `--fail-fast`, ends the way a careful host ends: a normal
//! shutdown notification (CC.SHN = 01b), waiting for CSTS.SHST = complete,
//! before the device is dropped. A file-backed simulator then keeps every
//! write, also those still in its volatile write cache, and counts no
//! unsafe shutdown at its next power-on. `finish: power_loss` drops the
//! device without a shutdown notification instead, as at a power cut.

use nvmeplan_driver::{Controller, ShutdownKind};

use crate::plan::control::Finish;

/// Ends the run for `ctrl` as `finish` asks; `Err` says why a shutdown
/// failed (the caller records it, the run's result is kept).
///
/// A controller the plan left fatal or hung may not complete a shutdown
/// notification; it is reset and the shutdown tried once more.
pub fn finish_device(ctrl: &Controller, finish: Finish) -> Result<(), String> {
    match finish {
        Finish::PowerLoss => {
            tracing::info!("run finished without a shutdown notification (finish: power_loss)");
            Ok(())
        }
        Finish::Shutdown => match ctrl.shutdown(ShutdownKind::Normal) {
            Ok(()) => {
                tracing::info!("device shut down (CSTS.SHST complete)");
                Ok(())
            }
            Err(first) => {
                tracing::debug!(error = %first, "shutdown failed; resetting the controller and trying again");
                ctrl.reset().and_then(|()| ctrl.shutdown(ShutdownKind::Normal)).map_err(|again| {
                    format!("the device's normal shutdown failed: {first} (after a reset: {again})")
                })
            }
        },
    }
}
