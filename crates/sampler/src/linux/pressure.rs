//! Linux's pressure signal: a PSI trigger on `/proc/pressure/memory` (see [`crate::pressure`]).

use super::ffi::PollFd;
use crate::error::{Error, Result};
use crate::pressure::{Notification, PressureWatch, Stopper, Trigger, Waiter};
use std::time::Duration;

/// Registers `trigger` as a PSI trigger.
pub(crate) fn pressure_watch(trigger: Trigger) -> Result<PressureWatch> {
    let line = trigger.psi_line()?;
    let fd = PollFd::psi_trigger(&line).map_err(|e| Error::Os {
        call: "a PSI trigger on /proc/pressure/memory",
        code: e.raw_os_error().unwrap_or(0),
    })?;
    Ok(PressureWatch::new(
        Box::new(FdWait(fd)),
        "psi",
        trigger.describe(),
    ))
}

impl PressureWatch {
    /// Linux: a watch on a descriptor the caller controls, woken when it becomes readable:
    /// the same wait as a PSI trigger's, for tests of everything that follows a notification.
    pub fn on_readable(fd: std::os::fd::OwnedFd) -> Result<PressureWatch> {
        let inner = PollFd::readable(fd).map_err(|e| Error::Os {
            call: "pipe",
            code: e.raw_os_error().unwrap_or(0),
        })?;
        Ok(PressureWatch::new(
            Box::new(FdWait(inner)),
            "test",
            "a test descriptor became readable".into(),
        ))
    }
}

/// A PSI trigger's descriptor (or a test's), polled.
struct FdWait(PollFd);

impl Waiter for FdWait {
    fn wait(&mut self, timeout: Duration) -> Result<Option<Notification>> {
        let fired = self.0.wait(timeout).map_err(|e| Error::Os {
            call: "poll on the pressure trigger",
            code: e.raw_os_error().unwrap_or(0),
        })?;
        Ok(fired.then_some(Notification { level: None }))
    }

    fn stopper(&self) -> Result<Stopper> {
        let w = self.0.waker().map_err(|e| Error::Os {
            call: "dup of the wake pipe",
            code: e.raw_os_error().unwrap_or(0),
        })?;
        Ok(Stopper::new(move || w.wake()))
    }
}
