//! The kernel's memory-pressure signal, as it happens, between samples.
//!
//! What each OS delivers:
//! - **Linux**: a PSI trigger (`Documentation/accounting/psi.rst`): `/proc/pressure/memory`
//!   opened for writing, sent `some <stall µs> <window µs>`, then polled for `POLLPRI`, which
//!   the kernel raises when tasks were stalled on memory for at least the stall time within a
//!   window (at most once per window). The kernel accepts windows from 500 ms to 10 s; a
//!   process without `CAP_SYS_RESOURCE` may only use windows that are a multiple of 2 s
//!   (kernels since 6.5; older ones refuse unprivileged triggers altogether). It says that
//!   stalls crossed the threshold, not a level.
//! - **macOS**: the kernel's pressure level, `kern.memorystatus_vm_pressure_level`, read every
//!   [`LEVEL_POLL_PERIOD`], and a notification at each change, with the new level. xnu does
//!   not announce a change to every process: `memorystatus_update_vm_pressure`
//!   (`bsd/kern/kern_memorystatus_notify.c`) notifies one process at a time, 250 ms apart
//!   (`INTER_NOTIFICATION_DELAY`), and never one whose footprint is under
//!   `VM_PRESSURE_MINIMUM_RSIZE` (10 MB on macOS), and memtide's footprint is smaller; so
//!   libdispatch's memory-pressure source would stay silent for it. The level itself is set by
//!   `vm_pressure_response` the moment it changes and is readable by any user: polled, a
//!   change is seen within a period, for one `sysctl` (about a microsecond) per read.
//! - Elsewhere: nothing; [`PressureWatch::start`] says so.
//!
//! A [`PressureWatch`] is a blocking waiter: the caller (the recorder) runs it on a thread of
//! its own and stamps each notification with its own clock. [`PressureWatch::polling`] builds
//! the level poller over any level source, which is how it is tested on every OS.

use crate::{Error, PressureLevel, Result};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

/// How often the kernel's level is read where it is polled (macOS): 100 ms, so a change is
/// written within a tenth of a second of the kernel making it, for ten `sysctl` reads a
/// second.
pub const LEVEL_POLL_PERIOD: Duration = Duration::from_millis(100);

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

/// One notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notification {
    /// The level the kernel is now at, where the source tells one (the level poller); Linux's
    /// PSI trigger only says that its threshold was crossed.
    pub level: Option<PressureLevel>,
}

/// What an OS's watch waits on (a PSI trigger's descriptor, the level poller).
pub(crate) trait Waiter: Send {
    /// Waits up to `timeout`; `Ok(None)` on time-out or when stopped.
    fn wait(&mut self, timeout: Duration) -> Result<Option<Notification>>;
    /// A handle that ends the current or next wait from another thread.
    fn stopper(&self) -> Result<Stopper>;
}

/// Ends a [`PressureWatch`]'s waits from another thread.
pub struct Stopper(Box<dyn Fn() + Send>);

impl Stopper {
    pub(crate) fn new(stop: impl Fn() + Send + 'static) -> Stopper {
        Stopper(Box::new(stop))
    }

    /// Ends the wait in progress, or the next one, at once.
    pub fn stop(&self) {
        (self.0)();
    }
}

/// Where a watch's notifications come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PressureSource {
    /// Linux: a PSI trigger on `/proc/pressure/memory` (or a descriptor that stands in for
    /// one, [`PressureWatch::on_readable`]).
    Psi,
    /// macOS: the kernel's level, `kern.memorystatus_vm_pressure_level`, polled
    /// ([`PressureWatch::polling`]).
    Sysctl,
}

/// Waits for the kernel's pressure notifications.
pub struct PressureWatch {
    waiter: Box<dyn Waiter>,
    source: PressureSource,
    condition: String,
}

impl PressureWatch {
    /// Registers with the kernel: a PSI `trigger` on Linux; on macOS the level poller (the
    /// kernel has no threshold to set there, so `trigger` is not used). Fails (with why) where
    /// the kernel has no such signal or refuses this one; the caller then goes on without it.
    pub fn start(trigger: Trigger) -> Result<PressureWatch> {
        crate::os_pressure_watch(trigger)
    }

    pub(crate) fn new(
        waiter: Box<dyn Waiter>,
        source: PressureSource,
        condition: String,
    ) -> PressureWatch {
        PressureWatch {
            waiter,
            source,
            condition,
        }
    }

    /// A watch that calls `read` every `period` and notifies each change of the level it
    /// returns, at the read that saw it, with the new level. The first read is made here and
    /// is the level changes are counted from; a failed read fails this (and, later, the wait).
    /// Its source is [`PressureSource::Sysctl`], the way macOS's kernel level is read.
    pub fn polling(
        mut read: impl FnMut() -> Result<PressureLevel> + Send + 'static,
        period: Duration,
    ) -> Result<PressureWatch> {
        let last = read()?;
        let (stop_tx, stop_rx) = mpsc::channel();
        let condition = format!(
            "a change of the kernel's memory-pressure level (read every {} ms)",
            period.as_millis()
        );
        Ok(PressureWatch::new(
            Box::new(LevelPoll {
                read: Box::new(read),
                period,
                last,
                stop_rx,
                stop_tx,
            }),
            PressureSource::Sysctl,
            condition,
        ))
    }

    /// A handle that ends this watch's current and next wait from another thread (to stop
    /// the thread that waits, without it waking on a timer).
    pub fn stopper(&self) -> Result<Stopper> {
        self.waiter.stopper()
    }

    /// Where the notifications come from.
    pub fn source(&self) -> PressureSource {
        self.source
    }

    /// What fires it, in words (`memory stalls of 150 ms or more within 2 s`).
    pub fn condition(&self) -> &str {
        &self.condition
    }

    /// Waits up to `timeout` for a notification.
    pub fn wait(&mut self, timeout: Duration) -> Result<Option<Notification>> {
        self.waiter.wait(timeout)
    }
}

/// Reads a level source every period and tells each change.
struct LevelPoll {
    read: Box<dyn FnMut() -> Result<PressureLevel> + Send>,
    period: Duration,
    last: PressureLevel,
    stop_rx: Receiver<()>,
    stop_tx: Sender<()>,
}

impl Waiter for LevelPoll {
    fn wait(&mut self, timeout: Duration) -> Result<Option<Notification>> {
        let deadline = Instant::now() + timeout;
        loop {
            // A period's sleep first: the level was read at the end of the last wait.
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            match self.stop_rx.recv_timeout(self.period.min(deadline - now)) {
                Ok(()) => return Ok(None),
                Err(RecvTimeoutError::Timeout) => {}
                // The sender is ours: never disconnected while we live.
                Err(RecvTimeoutError::Disconnected) => return Ok(None),
            }
            let level = (self.read)()?;
            if level != self.last {
                self.last = level;
                return Ok(Some(Notification { level: Some(level) }));
            }
        }
    }

    fn stopper(&self) -> Result<Stopper> {
        let tx = self.stop_tx.clone();
        Ok(Stopper::new(move || {
            let _ = tx.send(());
        }))
    }
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

    /// A level source that gives these levels, one per read, then stays at the last.
    fn levels(seq: &[PressureLevel]) -> impl FnMut() -> Result<PressureLevel> + Send + 'static {
        let seq = seq.to_vec();
        let mut i = 0;
        move || {
            let l = seq[i.min(seq.len() - 1)];
            i += 1;
            Ok(l)
        }
    }

    #[test]
    fn the_level_poller_tells_each_change_once_with_its_level() {
        use PressureLevel::{Critical, Normal, Warning};
        let seq = [Normal, Normal, Warning, Warning, Critical, Normal, Normal];
        let mut w = PressureWatch::polling(levels(&seq), Duration::from_millis(1)).unwrap();
        let mut heard = Vec::new();
        while let Some(n) = w.wait(Duration::from_millis(200)).unwrap() {
            heard.push(n.level.unwrap());
        }
        assert_eq!(heard, [Warning, Critical, Normal]);
        assert_eq!(w.source(), PressureSource::Sysctl);
        assert_eq!(
            w.condition(),
            "a change of the kernel's memory-pressure level (read every 1 ms)"
        );
    }

    #[test]
    fn the_level_poller_stops_at_once_and_fails_with_its_source() {
        let mut w =
            PressureWatch::polling(levels(&[PressureLevel::Normal]), Duration::from_millis(50))
                .unwrap();
        let stop = w.stopper().unwrap();
        stop.stop();
        let t = Instant::now();
        assert_eq!(w.wait(Duration::from_secs(3600)).unwrap(), None);
        assert!(t.elapsed() < Duration::from_secs(60), "{:?}", t.elapsed());
        // A source that cannot be read refuses the watch, saying why.
        let e = PressureWatch::polling(
            || {
                Err(Error::Unsupported {
                    what: "a level this test cannot read",
                })
            },
            LEVEL_POLL_PERIOD,
        )
        .err()
        .unwrap();
        assert!(
            e.to_string().contains("a level this test cannot read"),
            "{e}"
        );
    }
}
