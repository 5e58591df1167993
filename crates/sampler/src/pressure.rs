//! The kernel's own memory-pressure notifications, as they happen, between samples.
//!
//! Linux: a PSI trigger (`Documentation/accounting/psi.rst`): `/proc/pressure/memory` opened
//! for writing, sent `some <stall µs> <window µs>`, then polled for `POLLPRI`, which the kernel
//! raises when tasks were stalled on memory for at least the stall time within a window. The
//! kernel accepts windows from 500 ms to 10 s; a process without `CAP_SYS_RESOURCE` may only
//! use windows that are a multiple of 2 s (kernels since 6.5; older ones refuse unprivileged
//! triggers altogether). macOS: a libdispatch memory-pressure source (see the macOS backend);
//! its level decodes with [`decode_dispatch_level`] on every OS.
//!
//! A [`PressureWatch`] is a blocking waiter: the caller (the recorder) runs it on a thread of
//! its own and stamps each notification with its own clock.

use crate::{Error, PressureLevel, Result};
use std::time::Duration;

/// When a PSI trigger fires: `stall` of memory stall within any `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trigger {
    /// Stall time that fires it.
    pub stall: Duration,
    /// The window it is measured over.
    pub window: Duration,
}

impl Trigger {
    /// 150 ms of stall in 2 s: a tenth of the time at least one task waited on memory. A
    /// 2 s window is the shortest an unprivileged process may ask for.
    pub const DEFAULT: Trigger = Trigger {
        stall: Duration::from_millis(150),
        window: Duration::from_secs(2),
    };

    /// The line written to `/proc/pressure/memory`, without its terminating NUL; refused when
    /// the kernel would refuse it (a window outside 500 ms–10 s, a stall longer than the
    /// window or of zero).
    pub fn psi_line(&self) -> Result<String> {
        let (stall, window) = (self.stall.as_micros(), self.window.as_micros());
        if !(500_000..=10_000_000).contains(&window) || stall == 0 || stall > window {
            return Err(Error::InvalidTrigger(format!(
                "a PSI trigger needs a window from 500 ms to 10 s and a stall from 1 µs to the \
                 window, not {} µs in {} µs",
                stall, window
            )));
        }
        Ok(format!("some {stall} {window}"))
    }

    /// What it means, in words, for files and reports.
    pub fn describe(&self) -> String {
        format!(
            "memory stalls of {} ms or more within {} s",
            self.stall.as_millis(),
            self.window.as_secs_f64()
        )
    }
}

/// macOS: the level in a memory-pressure source's data (`dispatch_source_get_data`), whose
/// bits are `DISPATCH_MEMORYPRESSURE_NORMAL` (1), `_WARN` (2) and `_CRITICAL` (4) (libdispatch
/// `source.h`); the highest bit set wins. `None` when none is set.
pub fn decode_dispatch_level(data: u64) -> Option<PressureLevel> {
    if data & 0x4 != 0 {
        Some(PressureLevel::Critical)
    } else if data & 0x2 != 0 {
        Some(PressureLevel::Warning)
    } else if data & 0x1 != 0 {
        Some(PressureLevel::Normal)
    } else {
        None
    }
}

/// One notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notification {
    /// The level the kernel announced, where it announces one (macOS); Linux's PSI trigger
    /// only says that its threshold was crossed.
    pub level: Option<PressureLevel>,
}

/// Ends a [`PressureWatch`]'s waits from another thread.
pub struct Stopper(
    #[cfg(target_os = "linux")] crate::linux::ffi::Waker,
    #[cfg(target_os = "macos")] std::sync::mpsc::Sender<u64>,
    #[cfg(not(any(target_os = "linux", target_os = "macos")))] (),
);

/// On macOS, what the stopper sends where the source sends level bits.
#[cfg(target_os = "macos")]
const STOP: u64 = u64::MAX;

impl Stopper {
    /// Ends the wait in progress, or the next one, at once.
    pub fn stop(&self) {
        #[cfg(target_os = "linux")]
        self.0.wake();
        #[cfg(target_os = "macos")]
        let _ = self.0.send(STOP);
    }
}

/// Waits for the kernel's pressure notifications.
pub struct PressureWatch {
    #[cfg(target_os = "linux")]
    inner: crate::linux::ffi::PollFd,
    #[cfg(target_os = "macos")]
    inner: MacWatch,
    source: &'static str,
    condition: String,
}

impl PressureWatch {
    /// Registers `trigger` with the kernel. Fails (with why) where the kernel has no such
    /// notification or refuses this one; the caller then goes on without it.
    pub fn start(trigger: Trigger) -> Result<PressureWatch> {
        #[cfg(target_os = "linux")]
        {
            let line = trigger.psi_line()?;
            let fd = crate::linux::ffi::PollFd::psi_trigger(&line).map_err(|e| Error::Os {
                call: "a PSI trigger on /proc/pressure/memory",
                code: e.raw_os_error().unwrap_or(0),
            })?;
            Ok(PressureWatch {
                inner: fd,
                source: "psi",
                condition: trigger.describe(),
            })
        }
        #[cfg(target_os = "macos")]
        {
            // macOS has no threshold to set: the kernel announces each change of level.
            let _ = trigger;
            let (tx, rx) = std::sync::mpsc::channel();
            let source =
                crate::macos::ffi::PressureSource::start(tx.clone()).map_err(|e| Error::Os {
                    call: "dispatch_source_create(DISPATCH_SOURCE_TYPE_MEMORYPRESSURE)",
                    code: e.raw_os_error().unwrap_or(0),
                })?;
            Ok(PressureWatch {
                inner: MacWatch {
                    _source: source,
                    rx,
                    tx,
                },
                source: "dispatch",
                condition: "a change of the kernel's memory-pressure level".into(),
            })
        }
        #[cfg(not(any(target_os = "linux", target_os = "macos")))]
        {
            let _ = trigger;
            Err(Error::Unsupported {
                what: "listening for the kernel's pressure notifications",
            })
        }
    }

    /// A watch on a descriptor the caller controls, woken when it becomes readable: the same
    /// wait as a PSI trigger's, for tests of everything that follows a notification.
    #[cfg(target_os = "linux")]
    pub fn on_readable(fd: std::os::fd::OwnedFd) -> Result<PressureWatch> {
        let inner = crate::linux::ffi::PollFd::readable(fd).map_err(|e| Error::Os {
            call: "pipe",
            code: e.raw_os_error().unwrap_or(0),
        })?;
        Ok(PressureWatch {
            inner,
            source: "test",
            condition: "a test descriptor became readable".into(),
        })
    }

    /// A handle that ends this watch's current and next wait from another thread (to stop
    /// the thread that waits, without it waking on a timer).
    pub fn stopper(&self) -> Result<Stopper> {
        #[cfg(target_os = "linux")]
        {
            let w = self.inner.waker().map_err(|e| Error::Os {
                call: "dup of the wake pipe",
                code: e.raw_os_error().unwrap_or(0),
            })?;
            Ok(Stopper(w))
        }
        #[cfg(target_os = "macos")]
        return Ok(Stopper(self.inner.tx.clone()));
        #[cfg(not(any(target_os = "linux", target_os = "macos")))]
        Ok(Stopper(()))
    }

    /// Where the notifications come from: `psi` (Linux), `dispatch` (macOS), `test`.
    pub fn source(&self) -> &'static str {
        self.source
    }

    /// What fires it, in words (`memory stalls of 150 ms or more within 2 s`).
    pub fn condition(&self) -> &str {
        &self.condition
    }

    /// Waits up to `timeout` for a notification.
    pub fn wait(&mut self, timeout: Duration) -> Result<Option<Notification>> {
        #[cfg(target_os = "linux")]
        {
            let fired = self.inner.wait(timeout).map_err(|e| Error::Os {
                call: "poll on the pressure trigger",
                code: e.raw_os_error().unwrap_or(0),
            })?;
            Ok(fired.then_some(Notification { level: None }))
        }
        #[cfg(target_os = "macos")]
        {
            use std::sync::mpsc::RecvTimeoutError;
            match self.inner.rx.recv_timeout(timeout) {
                Ok(STOP) | Err(RecvTimeoutError::Timeout) => Ok(None),
                Ok(data) => Ok(Some(Notification {
                    level: decode_dispatch_level(data),
                })),
                Err(RecvTimeoutError::Disconnected) => Err(Error::Unsupported {
                    what: "a memory-pressure source that stopped sending",
                }),
            }
        }
        #[cfg(not(any(target_os = "linux", target_os = "macos")))]
        {
            let _ = timeout;
            Err(Error::Unsupported {
                what: "listening for the kernel's pressure notifications",
            })
        }
    }
}

/// The macOS watch: the dispatch source, and the channel its handler sends on.
#[cfg(target_os = "macos")]
struct MacWatch {
    _source: crate::macos::ffi::PressureSource,
    rx: std::sync::mpsc::Receiver<u64>,
    tx: std::sync::mpsc::Sender<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigger_lines_are_what_the_kernel_accepts() {
        assert_eq!(Trigger::DEFAULT.psi_line().unwrap(), "some 150000 2000000");
        let t = |stall_ms, window_ms| Trigger {
            stall: Duration::from_millis(stall_ms),
            window: Duration::from_millis(window_ms),
        };
        assert_eq!(t(100, 500).psi_line().unwrap(), "some 100000 500000");
        assert_eq!(t(1, 10_000).psi_line().unwrap(), "some 1000 10000000");
        for bad in [t(100, 400), t(100, 10_001), t(0, 2000), t(3000, 2000)] {
            assert!(bad.psi_line().is_err(), "{bad:?}");
        }
        assert_eq!(
            Trigger::DEFAULT.describe(),
            "memory stalls of 150 ms or more within 2 s"
        );
    }

    #[test]
    fn dispatch_levels_decode_by_their_bits() {
        assert_eq!(decode_dispatch_level(0), None);
        assert_eq!(decode_dispatch_level(1), Some(PressureLevel::Normal));
        assert_eq!(decode_dispatch_level(2), Some(PressureLevel::Warning));
        assert_eq!(decode_dispatch_level(4), Some(PressureLevel::Critical));
        assert_eq!(decode_dispatch_level(2 | 4), Some(PressureLevel::Critical));
        assert_eq!(decode_dispatch_level(0x10), None);
    }

    #[cfg(target_os = "linux")]
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

    #[cfg(target_os = "linux")]
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
                assert_eq!(w.source(), "psi");
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
