//! Linux's pressure signal: a PSI trigger on `/proc/pressure/memory` (see [`crate::pressure`]).

use super::ffi::PollFd;
use crate::error::{Error, Result};
use crate::pressure::{Notification, PressureSource, PressureWatch, Stopper, Trigger, Waiter};
use std::time::Duration;

/// The [`Error::Os`] of `call`, from what the OS said.
fn os_error(call: &'static str) -> impl FnOnce(std::io::Error) -> Error {
    move |e| Error::Os {
        call,
        code: e.raw_os_error().unwrap_or(0),
    }
}

/// Registers `trigger` as a PSI trigger.
pub(crate) fn pressure_watch(trigger: Trigger) -> Result<PressureWatch> {
    let line = trigger.psi_line()?;
    let fd =
        PollFd::psi_trigger(&line).map_err(os_error("a PSI trigger on /proc/pressure/memory"))?;
    Ok(PressureWatch::new(
        Box::new(FdWait(fd)),
        PressureSource::Psi,
        trigger.describe(),
    ))
}

impl PressureWatch {
    /// Linux: a watch on a descriptor the caller controls, woken when it becomes readable:
    /// the same wait as a PSI trigger's, for tests of everything that follows a notification.
    pub fn on_readable(fd: std::os::fd::OwnedFd) -> Result<PressureWatch> {
        let inner = PollFd::readable(fd).map_err(os_error("pipe"))?;
        Ok(PressureWatch::new(
            Box::new(FdWait(inner)),
            PressureSource::Psi,
            "a test descriptor became readable".into(),
        ))
    }
}

/// A PSI trigger's descriptor (or a test's), polled.
struct FdWait(PollFd);

impl Waiter for FdWait {
    fn wait(&mut self, timeout: Duration) -> Result<Option<Notification>> {
        let fired = self
            .0
            .wait(timeout)
            .map_err(os_error("poll on the pressure trigger"))?;
        Ok(fired.then_some(Notification { level: None }))
    }

    fn stopper(&self) -> Result<Stopper> {
        let w = self.0.waker().map_err(os_error("dup of the wake pipe"))?;
        Ok(Stopper::new(move || w.wake()))
    }
}
