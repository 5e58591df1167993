//! Low-memory intervals: stretches of time in which the free percentage stayed under a
//! threshold.
//!
//! The Ollama macOS Memory Trace Guide's chart shaded every sample under 30 % free; the same
//! default is kept so that a memtide report and the Guide's chart of the same run agree. To keep
//! noise around the threshold from cutting one episode into many, an interval ends only when the
//! free percentage climbs back to the threshold plus [`LOW_MEMORY_HYSTERESIS_PERCENT`], or when the
//! series has a gap.

/// Default threshold, in % free: the Guide's "critical interval" marker.
pub const LOW_MEMORY_FREE_PERCENT: f64 = 30.0;

/// How far above the threshold free memory must climb to end an interval, in percentage
/// points. macOS's `kern.memorystatus_level` moves in whole percents, so 2 points is the
/// smallest step that is more than one unit of jitter.
pub const LOW_MEMORY_HYSTERESIS_PERCENT: f64 = 2.0;

/// One interval below the threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LowInterval {
    /// First sample under the threshold.
    pub start_ms: u64,
    /// Last sample of the interval (still under the threshold plus hysteresis).
    pub end_ms: u64,
    /// The lowest free percentage in it.
    pub min_percent: f64,
    /// When that was.
    pub min_at_ms: u64,
}

/// The intervals in which `free_percent` was under `threshold`.
pub fn intervals(
    free_percent: impl IntoIterator<Item = (u64, Option<f64>)>,
    threshold: f64,
) -> Vec<LowInterval> {
    let mut out = Vec::new();
    let mut open: Option<LowInterval> = None;
    for (t, v) in free_percent {
        match (v, open.as_mut()) {
            (Some(v), None) if v < threshold => {
                open = Some(LowInterval {
                    start_ms: t,
                    end_ms: t,
                    min_percent: v,
                    min_at_ms: t,
                })
            }
            (Some(v), Some(i)) if v < threshold + LOW_MEMORY_HYSTERESIS_PERCENT => {
                i.end_ms = t;
                if v < i.min_percent {
                    i.min_percent = v;
                    i.min_at_ms = t;
                }
            }
            // Recovered, or a gap: what was open closes at its last sample.
            (_, Some(_)) => out.extend(open.take()),
            _ => {}
        }
    }
    out.extend(open);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::Series;

    fn series(values: &[f64]) -> Series {
        Series::from_points(
            values
                .iter()
                .enumerate()
                .map(|(i, v)| (i as u64 * 100, Some(*v))),
            100,
        )
    }

    #[test]
    fn empty_single_and_flat() {
        assert!(intervals(&Series::default(), 30.0).is_empty());
        assert!(intervals(&series(&[50.0]), 30.0).is_empty());
        let one = intervals(&series(&[12.0]), 30.0);
        assert_eq!(
            one,
            [LowInterval {
                start_ms: 0,
                end_ms: 0,
                min_percent: 12.0,
                min_at_ms: 0
            }]
        );
        assert!(intervals(&series(&[40.0; 20]), 30.0).is_empty());
        assert_eq!(intervals(&series(&[20.0; 20]), 30.0)[0].end_ms, 1900);
    }

    #[test]
    fn step_down_and_back_up() {
        let got = intervals(&series(&[60.0, 60.0, 25.0, 18.0, 22.0, 70.0, 70.0]), 30.0);
        assert_eq!(
            got,
            [LowInterval {
                start_ms: 200,
                end_ms: 400,
                min_percent: 18.0,
                min_at_ms: 300
            }]
        );
    }

    #[test]
    fn slow_decline_opens_once_it_crosses() {
        let v: Vec<f64> = (0..50).map(|i| 60.0 - i as f64).collect();
        let got = intervals(&series(&v), 30.0);
        assert_eq!(got.len(), 1);
        assert_eq!(
            got[0].start_ms, 3100,
            "first sample under 30: 29 % at i = 31"
        );
        assert_eq!(got[0].min_percent, 11.0);
    }

    #[test]
    fn noise_around_the_threshold_is_one_interval() {
        let v = [31.0, 29.0, 30.5, 29.5, 31.0, 28.0, 31.5, 40.0];
        let got = intervals(&series(&v), 30.0);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(
            (got[0].start_ms, got[0].end_ms, got[0].min_percent),
            (100, 600, 28.0)
        );
    }

    #[test]
    fn a_gap_ends_an_interval() {
        let s = Series::from_points(
            [(0, Some(10.0)), (100, Some(10.0)), (1000, Some(10.0))],
            100,
        );
        let got = intervals(&s, 30.0);
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].end_ms, got[1].start_ms), (100, 1000));
    }
}
