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

#[cfg(test)]
mod tests {
    use crate::pressure::{PressureSource, PressureWatch, Trigger};
    use std::time::Duration;

    #[test]
    fn the_wait_wakes_on_its_descriptor_and_times_out_without() {
        use std::io::Write;
        let (r, w) = std::io::pipe().unwrap();
        let mut watch = PressureWatch::on_readable(r.into()).unwrap();
        assert_eq!(watch.wait(Duration::from_millis(20)).unwrap(), None);
        (&w).write_all(b"x").unwrap();
        assert!(watch.wait(Duration::from_secs(5)).unwrap().is_some());
        // A stopper ends a long wait at once, with no notification.
        let stop = watch.stopper().unwrap();
        let t = std::time::Instant::now();
        stop.stop();
        assert_eq!(watch.wait(Duration::from_secs(30)).unwrap(), None);
        assert!(t.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_psi_trigger_registers_on_this_kernel_or_says_why_not() {
        // Where the file opens for writing (PSI on; root, or a kernel that lets anyone make
        // 2 s triggers), registering must work; elsewhere the refusal must say what failed.
        let writable = std::fs::OpenOptions::new()
            .write(true)
            .open("/proc/pressure/memory")
            .is_ok();
        match PressureWatch::start(Trigger::DEFAULT) {
            Ok(mut w) => {
                assert_eq!(w.source(), PressureSource::Psi);
                assert_eq!(w.condition(), Trigger::DEFAULT.describe());
                assert!(w.wait(Duration::from_millis(10)).is_ok());
            }
            Err(e) => {
                assert!(!writable, "the trigger was refused on a writable file: {e}");
                assert!(e.to_string().contains("PSI trigger"), "{e}");
            }
        }
        // A trigger the kernel would refuse is refused before it is sent.
        let bad = Trigger {
            stall: Duration::from_secs(3),
            window: Duration::from_secs(2),
        };
        let e = PressureWatch::start(bad).err().unwrap().to_string();
        assert!(e.contains("500 ms to 10 s"), "{e}");
    }
}
