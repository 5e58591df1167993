//! Growth episodes of a byte series (swap used, compressor size): a rise from a low point to a
//! high point of at least a minimum, ended when the series falls back from its high by more
//! than a quarter of that minimum, or at a gap.
//!
//! Swap on macOS grows in whole swap files and the compressor in segments, so small rises are
//! routine; what matters for a model load is a rise of hundreds of MiB within the recording.

/// Smallest rise of swap used reported, in bytes: 256 MiB, a quarter of the smallest macOS
/// swap file (1 GiB) and far above the compressor's routine churn.
pub const SWAP_GROWTH_MIN_BYTES: f64 = 256.0 * 1024.0 * 1024.0;

/// Smallest rise of the compressor's size reported, in bytes. 256 MiB as for swap: the size of
/// a small model's KV cache, and well above background compression on an idle Mac.
pub const COMPRESSOR_GROWTH_MIN_BYTES: f64 = 256.0 * 1024.0 * 1024.0;

/// One rise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Growth {
    /// When the rise started (the low point).
    pub start_ms: u64,
    /// When it peaked.
    pub end_ms: u64,
    /// The low value.
    pub from: f64,
    /// The high value.
    pub to: f64,
}

/// The rises of at least `min_rise` in `series`.
pub fn episodes(
    series: impl IntoIterator<Item = (u64, Option<f64>)>,
    min_rise: f64,
) -> Vec<Growth> {
    let tolerance = min_rise / 4.0;
    let mut out = Vec::new();
    // (low_t, low, high_t, high)
    let mut cur: Option<(u64, f64, u64, f64)> = None;
    let close = |c: Option<(u64, f64, u64, f64)>, out: &mut Vec<Growth>| {
        if let Some((lt, lv, ht, hv)) = c {
            if hv - lv >= min_rise {
                out.push(Growth {
                    start_ms: lt,
                    end_ms: ht,
                    from: lv,
                    to: hv,
                });
            }
        }
    };
    for (t, v) in series {
        let Some(v) = v else {
            close(cur.take(), &mut out);
            continue;
        };
        cur = Some(match cur {
            None => (t, v, t, v),
            Some((lt, lv, ht, hv)) => {
                if v > hv {
                    (lt, lv, t, v)
                } else if v < hv - tolerance {
                    // Fell back: the rise (if any) is over; a new one may start here.
                    close(Some((lt, lv, ht, hv)), &mut out);
                    (t, v, t, v)
                } else if v <= lv && ht == lt {
                    // Still going down before any rise: move the low point.
                    (t, v, t, v)
                } else {
                    (lt, lv, ht, hv)
                }
            }
        });
    }
    close(cur, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::Series;

    const MIB: f64 = 1024.0 * 1024.0;

    fn series(values: &[f64]) -> Series {
        Series::from_points(
            values
                .iter()
                .enumerate()
                .map(|(i, v)| (i as u64 * 1000, Some(*v * MIB))),
            1000,
        )
    }

    #[test]
    fn empty_single_and_flat() {
        assert!(episodes(&Series::default(), 256.0 * MIB).is_empty());
        assert!(episodes(&series(&[100.0]), 256.0 * MIB).is_empty());
        assert!(episodes(&series(&[100.0; 30]), 256.0 * MIB).is_empty());
    }

    #[test]
    fn a_step_up() {
        let got = episodes(&series(&[0.0, 0.0, 1024.0, 1024.0]), 256.0 * MIB);
        assert_eq!(
            got,
            [Growth {
                start_ms: 1000,
                end_ms: 2000,
                from: 0.0,
                to: 1024.0 * MIB
            }]
        );
    }

    #[test]
    fn slow_growth_is_one_episode() {
        let v: Vec<f64> = (0..100).map(|i| i as f64 * 10.0).collect();
        let got = episodes(&series(&v), 256.0 * MIB);
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].start_ms, got[0].end_ms), (0, 99_000));
    }

    #[test]
    fn noise_below_the_minimum_is_nothing_and_does_not_split_a_rise() {
        let noise: Vec<f64> = (0..50)
            .map(|i| 500.0 + if i % 2 == 0 { 40.0 } else { -40.0 })
            .collect();
        assert!(episodes(&series(&noise), 256.0 * MIB).is_empty());
        let mut v: Vec<f64> = (0..40)
            .map(|i| i as f64 * 20.0 + if i % 2 == 0 { 30.0 } else { 0.0 })
            .collect();
        v.extend([100.0, 100.0]);
        let got = episodes(&series(&v), 256.0 * MIB);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].to, 790.0 * MIB, "the highest point, i = 38");
    }

    #[test]
    fn two_rises_separated_by_a_fall() {
        let got = episodes(&series(&[0.0, 600.0, 0.0, 0.0, 700.0]), 256.0 * MIB);
        assert_eq!(got.len(), 2);
        assert_eq!((got[1].from, got[1].to), (0.0, 700.0 * MIB));
    }
}
