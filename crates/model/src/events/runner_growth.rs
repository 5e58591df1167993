//! A runner's own growth after its model loaded: the KV cache filling, a longer context, a
//! second request. What a person looks for when a runner that loaded at 5 GiB holds 7 GiB an
//! hour later.
//!
//! The load is the rise at the start of a runner's life; it has *settled* at the first moment
//! from which the runner's memory stays within [`SETTLE_TOLERANCE`] for [`LOAD_SETTLE_MS`]. The
//! settled level is the highest value of that quiet window. A later peak that exceeds it by
//! [`RUNNER_GROWTH_MIN_FRACTION`] and [`RUNNER_GROWTH_MIN_BYTES`] is reported, from the last
//! moment the runner was still at its settled level to the peak.

/// How long a runner's memory must stay flat for its load to count as settled: 3 s, longer than
/// the pauses between the steps of a model load, shorter than any real session.
pub const LOAD_SETTLE_MS: u64 = 3_000;

/// What "flat" allows: 2 % above the window's first value, the jitter of allocator and
/// page-table growth while a loaded runner idles.
pub const SETTLE_TOLERANCE: f64 = 0.02;

/// The least growth reported, as a fraction of the settled level: 10 %.
pub const RUNNER_GROWTH_MIN_FRACTION: f64 = 0.10;

/// The least growth reported, in bytes: 64 MiB, far above noise, below one context's KV cache
/// for any real model.
pub const RUNNER_GROWTH_MIN_BYTES: u64 = 64 << 20;

/// One runner's growth after its load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Growth {
    /// The last moment at the settled level.
    pub start_ms: u64,
    /// The peak.
    pub end_ms: u64,
    /// The settled level, bytes.
    pub from: u64,
    /// The peak, bytes.
    pub to: u64,
}

/// The growth of a runner whose memory over time is `points` (`t_ms`, bytes; in time order),
/// if it grew enough after its load settled.
pub fn growth(points: &[(u64, u64)]) -> Option<Growth> {
    let flat = |base: u64, v: u64| v as f64 <= base as f64 * (1.0 + SETTLE_TOLERANCE);
    // The first sample from which a window of LOAD_SETTLE_MS stays flat.
    let (settle_end, level) = (0..points.len()).find_map(|i| {
        let (t0, v0) = points[i];
        let len = points[i..]
            .iter()
            .take_while(|(t, _)| *t <= t0 + LOAD_SETTLE_MS)
            .count();
        let window = &points[i..i + len];
        let covered = window
            .last()
            .is_some_and(|(t, _)| *t >= t0 + LOAD_SETTLE_MS);
        (covered && window.iter().all(|(_, v)| flat(v0, *v)))
            .then(|| (i + len, window.iter().map(|(_, v)| *v).max().unwrap_or(v0)))
    })?;
    rise_after(points, settle_end, level)
}

/// The growth of a runner whose load ended when Ollama listed its model at `listed_ms`: from
/// its level at the first sample at or after the listing to its peak after it, if that is
/// enough. No settle time is waited for: Ollama lists a model once its runner has loaded it.
pub fn growth_after_listing(points: &[(u64, u64)], listed_ms: u64) -> Option<Growth> {
    let first = points.iter().position(|(t, _)| *t >= listed_ms)?;
    rise_after(points, first + 1, points[first].1)
}

/// The rise from `level` to the peak of `points[from..]`, when it passes both thresholds.
fn rise_after(points: &[(u64, u64)], from: usize, level: u64) -> Option<Growth> {
    let flat = |base: u64, v: u64| v as f64 <= base as f64 * (1.0 + SETTLE_TOLERANCE);
    // The first time the peak was reached.
    let to = points.get(from..)?.iter().map(|(_, v)| *v).max()?;
    let peak_at = from + points[from..].iter().position(|(_, v)| *v == to)?;
    let end_ms = points[peak_at].0;
    let rise = to.saturating_sub(level);
    if rise < RUNNER_GROWTH_MIN_BYTES || (rise as f64) < level as f64 * RUNNER_GROWTH_MIN_FRACTION {
        return None;
    }
    let start_ms = points[..peak_at]
        .iter()
        .rev()
        .find(|(_, v)| flat(level, *v))
        .map_or(end_ms, |(t, _)| *t);
    Some(Growth {
        start_ms,
        end_ms,
        from: level,
        to,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    /// A series sampled every 250 ms from `f(t_ms)` MiB, for `secs` seconds.
    fn series(secs: u64, f: impl Fn(u64) -> u64) -> Vec<(u64, u64)> {
        (0..secs * 4).map(|i| (i * 250, f(i * 250) * MIB)).collect()
    }

    #[test]
    fn empty_one_point_flat_and_a_load_alone() {
        assert_eq!(growth(&[]), None);
        assert_eq!(growth(&[(0, 5 * MIB)]), None);
        assert_eq!(growth(&series(20, |_| 4096)), None, "flat");
        // A load in steps (the model read in), then flat: the load is not growth.
        let load = series(20, |t| (t / 500 + 1).min(8) * 512);
        assert_eq!(growth(&load), None);
    }

    #[test]
    fn growth_after_the_load_settled_is_found() {
        // Loads to 4 GiB in 2 s, idles, then the KV cache adds 512 MiB from 10 s to 12 s.
        let s = series(20, |t| match t {
            0..2_000 => 1 + t * 2,
            2_000..10_000 => 4096,
            10_000..12_000 => 4096 + (t - 10_000) * 512 / 2_000,
            _ => 4608,
        });
        let g = growth(&s).unwrap();
        assert_eq!((g.from, g.to), (4096 * MIB, 4608 * MIB));
        assert_eq!(g.end_ms, 12_000);
        assert!((9_750..=10_250).contains(&g.start_ms), "{}", g.start_ms);
        // Slow growth (5 MiB a second, a context filling) counts too: it is flat within any
        // 3 s window, yet adds 300 MiB over the minute.
        let slow = series(60, |t| if t < 1_000 { 1000 } else { 1000 + t / 200 });
        let g = growth(&slow).unwrap();
        assert!(g.from <= 1030 * MIB && g.to >= 1295 * MIB, "{g:?}");
    }

    #[test]
    fn noise_and_small_growth_are_not_reported() {
        let noisy = series(30, |t| 4096 + (t * 7919 % 80));
        assert_eq!(growth(&noisy), None, "±2 % jitter");
        // 40 MiB on 100 MiB is 40 %, but under 64 MiB; 300 MiB on 8 GiB is 64 MiB+, but 4 %.
        let small = series(20, |t| if t < 8_000 { 100 } else { 140 });
        assert_eq!(growth(&small), None);
        let big = series(20, |t| if t < 8_000 { 8192 } else { 8492 });
        assert_eq!(growth(&big), None);
    }

    #[test]
    fn after_ollamas_listing_growth_needs_no_settle_time() {
        // Loaded (listed) at 2 s at 600 MiB; its KV cache grows by 300 MiB a second later,
        // sooner than the settle rule alone could tell.
        let pts = series(8, |t| if t < 3_000 { 600 } else { 900 });
        assert_eq!(growth(&pts), None);
        let g = growth_after_listing(&pts, 2_000).unwrap();
        assert_eq!((g.from, g.to, g.end_ms), (600 * MIB, 900 * MIB, 3_000));
        // What came before the listing (a load that paused) is not growth.
        let pts = series(8, |t| if t < 2_000 { 20 } else { 286 });
        assert_eq!(growth_after_listing(&pts, 2_500), None);
        assert_eq!(
            growth_after_listing(&pts, 9_000),
            None,
            "listed after the last sample"
        );
    }
}
