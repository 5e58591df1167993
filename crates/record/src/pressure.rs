//! Listens for the kernel's pressure notifications on a thread of its own (the wait blocks),
//! and hands each back stamped with when it came, so that the recorder writes it with its
//! own time, between samples.

use memtide_sampler::pressure::{Notification, PressureWatch, Stopper};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

/// What the listener sends.
#[derive(Debug)]
pub enum Heard {
    /// A notification, and when it came.
    Notification {
        /// On the monotonic clock.
        at: Instant,
        /// On the wall clock.
        wall: SystemTime,
        /// What the kernel said.
        what: Notification,
    },
    /// The wait failed; the listener has stopped.
    Failed(String),
}

/// The longest single wait; the thread is stopped through the watch's stopper, not by
/// waking to look.
const LONGEST_WAIT: Duration = Duration::from_secs(3600);

/// The listener thread.
pub struct Listener {
    stop: Arc<AtomicBool>,
    stopper: Option<Stopper>,
    thread: Option<JoinHandle<()>>,
    /// Notifications, in the order they came.
    pub heard: Receiver<Heard>,
    /// Where the notifications come from (`psi`, `sysctl`).
    pub source: memtide_sampler::pressure::PressureSource,
    /// What fires them, in words.
    pub condition: String,
}

impl Listener {
    /// Starts waiting on `watch`.
    pub fn start(mut watch: PressureWatch) -> std::io::Result<Listener> {
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, heard) = mpsc::channel();
        let (source, condition) = (watch.source(), watch.condition().to_owned());
        let stopper = watch.stopper().ok();
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("pressure-listener".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    match watch.wait(LONGEST_WAIT) {
                        Ok(Some(what)) => {
                            let msg = Heard::Notification {
                                at: Instant::now(),
                                wall: SystemTime::now(),
                                what,
                            };
                            if tx.send(msg).is_err() {
                                return;
                            }
                        }
                        Ok(None) => {}
                        Err(e) => {
                            let _ = tx.send(Heard::Failed(e.to_string()));
                            return;
                        }
                    }
                }
            })?;
        Ok(Listener {
            stop,
            stopper,
            thread: Some(thread),
            heard,
            source,
            condition,
        })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        match &self.stopper {
            Some(s) => s.stop(),
            // Without a stopper the thread cannot be woken: leave it, it holds nothing.
            None => {
                self.thread.take();
            }
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
