//! What starts a burst of faster sampling ([`crate::Burst`]), and what does not.
//!
//! A burst is for the moments a reader of the trace will zoom into: a runner starting or
//! exiting, a model loading or unloading, the kernel's pressure level changing, free memory
//! falling under the low-memory threshold, and available memory falling fast by a share of
//! the machine that only a model load (or something as large) makes. Runners and models
//! already there when recording starts, Ollama coming and going, swap creeping and memory
//! coming back start none: on a machine at rest with runners loaded, a burst is rare.

use crate::live::LiveKind;
use std::time::{Duration, Instant};

/// Whether an event of the live detectors starts a burst. Runners found at the first sample
/// are not news; nor are models found at Ollama's first answer (the recorder leaves those
/// out itself).
pub fn starts_burst(kind: &LiveKind) -> bool {
    matches!(
        kind,
        LiveKind::RunnerStarted { .. }
            | LiveKind::RunnerExited { .. }
            | LiveKind::ModelLoaded { .. }
            | LiveKind::ModelUnloaded { .. }
            | LiveKind::Pressure { from: Some(_), .. }
            | LiveKind::LowMemory { .. }
    )
}

/// The share of the machine's memory whose fall in available memory within
/// [`FALL_WINDOW`] starts a burst: a sixteenth, 1 GiB of a 16 GiB Mac and 4 GiB of a 64 GiB
/// one. A model worth loading on a machine takes at least that much of it, and the everyday
/// movement of a desktop (a build, a browser's tabs, a cache) stays under it; a fixed step
/// would be noise on a large machine and deaf on a small one.
pub const FALL_SHARE: u64 = 16;

/// How far back a fall of available memory is measured: a model's weights load in seconds.
pub const FALL_WINDOW: Duration = Duration::from_secs(10);

/// Watches available memory for a fall of [`FALL_SHARE`] of the machine within
/// [`FALL_WINDOW`]. It keeps the highest figure seen since its window began (a new window
/// begins when that figure is older than the window, from the figure seen then), so a slow
/// drift never adds up to a fall, and a rise is never one.
#[derive(Debug, Clone)]
pub struct FallWatch {
    step: u64,
    high: Option<(u64, Instant)>,
}

impl FallWatch {
    /// A watch for a machine with `total_bytes` of memory.
    pub fn new(total_bytes: u64) -> FallWatch {
        FallWatch {
            step: (total_bytes / FALL_SHARE).max(1),
            high: None,
        }
    }

    /// The fall that starts a burst, bytes.
    pub fn step(&self) -> u64 {
        self.step
    }

    /// Notes available memory now; `true` when it fell by the step or more within the window.
    /// The figure it fell to is the start of the next window, so a fall starts one burst,
    /// and a further fall of a step another.
    pub fn observe(&mut self, now: Instant, available: u64) -> bool {
        let (high, at) = match self.high {
            Some((h, at)) if now.saturating_duration_since(at) < FALL_WINDOW && h >= available => {
                (h, at)
            }
            _ => (available, now),
        };
        if high - available >= self.step {
            self.high = Some((available, now));
            return true;
        }
        self.high = Some((high, at));
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use memtide_sampler::PressureLevel;

    const GIB: u64 = 1 << 30;

    #[test]
    fn a_fall_of_a_sixteenth_within_ten_seconds_starts_a_burst_and_noise_does_not() {
        let t0 = Instant::now();
        let s = |secs: f64| t0 + Duration::from_secs_f64(secs);
        // A 64 GiB Mac: the step is 4 GiB.
        let mut w = FallWatch::new(64 * GIB);
        assert_eq!(w.step(), 4 * GIB);
        assert!(!w.observe(s(0.0), 40 * GIB));
        // A build takes and gives back 512 MiB, again and again: never a burst.
        for k in 0..20 {
            let avail = if k % 2 == 0 {
                40 * GIB - GIB / 2
            } else {
                40 * GIB
            };
            assert!(!w.observe(s(1.0 + f64::from(k)), avail), "noise at {k}");
        }
        // A model loads 5 GiB over 3 s: one burst, when the fall reaches 4 GiB.
        let at = s(30.0);
        assert!(!w.observe(at, 40 * GIB));
        assert!(!w.observe(s(31.0), 38 * GIB));
        assert!(w.observe(s(32.0), 36 * GIB));
        assert!(
            !w.observe(s(33.0), 35 * GIB),
            "the same fall does not start another"
        );
        // A slow drift of 1 GiB a minute never adds up to a fall.
        let mut w = FallWatch::new(64 * GIB);
        for m in 0..20u64 {
            assert!(
                !w.observe(s(60.0 * m as f64), 60 * GIB - m * GIB),
                "drift, {m} min"
            );
        }
        // Memory coming back is no fall.
        let mut w = FallWatch::new(16 * GIB);
        assert!(!w.observe(s(0.0), 2 * GIB));
        assert!(!w.observe(s(1.0), 10 * GIB));
    }

    #[test]
    fn only_what_a_reader_zooms_into_starts_a_burst() {
        let yes = [
            LiveKind::RunnerStarted {
                pid: 1,
                model: None,
                alive_with: vec![],
            },
            LiveKind::RunnerExited {
                pid: 1,
                model: None,
                last_bytes: 0,
            },
            LiveKind::ModelUnloaded { name: "m".into() },
            LiveKind::Pressure {
                from: Some(PressureLevel::Normal),
                to: PressureLevel::Warning,
            },
        ];
        let no = [
            LiveKind::RunnerFound {
                pid: 1,
                model: None,
                since: None,
            },
            LiveKind::Pressure {
                from: None,
                to: PressureLevel::Warning,
            },
            LiveKind::OllamaBack,
            LiveKind::MemoryRecovered { free_percent: 30.0 },
            LiveKind::SwapGrew {
                from_bytes: 0,
                to_bytes: 1,
            },
        ];
        assert!(yes.iter().all(starts_burst));
        assert!(!no.iter().any(starts_burst));
    }
}
