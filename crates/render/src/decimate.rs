//! Peak-preserving decimation: a long series is cut to at most two points per pixel column,
//! the column's minimum and maximum in time order, so that a chart of an hour at 10 Hz draws
//! a few thousand points instead of 36 000, and no spike, however short, disappears.
//!
//! Gaps stay gaps: the result is a list of segments, never joined across a missing sample.

use memtide_model::timeline::Series;

/// A point: `t_ms` and value.
type Point = (u64, f64);

/// The pixel column being filled: its index, and its lowest and highest points.
type Column = Option<(u64, Point, Point)>;

/// The segments (runs without gaps) of `series` within `[from_ms, to_ms]`, with at most two
/// points per column when the range is split into `columns` equal columns.
pub fn segments(series: &Series, from_ms: u64, to_ms: u64, columns: usize) -> Vec<Vec<(u64, f64)>> {
    segments_of(
        series
            .t_ms
            .iter()
            .copied()
            .zip(series.values.iter().copied()),
        from_ms,
        to_ms,
        columns,
    )
}

/// [`segments`] of points as they are read (in time order, `None` a gap), so that the whole
/// series is never held.
pub fn segments_of(
    points: impl IntoIterator<Item = (u64, Option<f64>)>,
    from_ms: u64,
    to_ms: u64,
    columns: usize,
) -> Vec<Vec<(u64, f64)>> {
    let columns = columns.max(1) as u64;
    let span = to_ms.saturating_sub(from_ms).max(1);
    let column_of = |t: u64| (t.saturating_sub(from_ms) * columns / span).min(columns - 1);
    let mut out: Vec<Vec<(u64, f64)>> = Vec::new();
    let mut seg: Vec<(u64, f64)> = Vec::new();
    let mut col: Column = None;
    let flush = |col: &mut Column, seg: &mut Vec<Point>| {
        if let Some((_, lo, hi)) = col.take() {
            let (a, b) = if lo.0 <= hi.0 { (lo, hi) } else { (hi, lo) };
            seg.push(a);
            if b != a {
                seg.push(b);
            }
        }
    };
    for (t, v) in points {
        if t < from_ms || t > to_ms {
            continue;
        }
        let Some(v) = v else {
            flush(&mut col, &mut seg);
            if !seg.is_empty() {
                out.push(std::mem::take(&mut seg));
            }
            continue;
        };
        let c = column_of(t);
        match col.as_mut() {
            Some((cc, lo, hi)) if *cc == c => {
                if v < lo.1 {
                    *lo = (t, v);
                }
                if v > hi.1 {
                    *hi = (t, v);
                }
            }
            _ => {
                flush(&mut col, &mut seg);
                col = Some((c, (t, v), (t, v)));
            }
        }
    }
    flush(&mut col, &mut seg);
    if !seg.is_empty() {
        out.push(seg);
    }
    out
}

/// [`segments`] as one series, a gap between each two segments: `series` within
/// `[from_ms, to_ms]`, at most two points a column.
pub fn series(
    points: impl IntoIterator<Item = (u64, Option<f64>)>,
    from_ms: u64,
    to_ms: u64,
    columns: usize,
) -> Series {
    let mut out = Series::default();
    for seg in segments_of(points, from_ms, to_ms, columns) {
        if let Some(&last) = out.t_ms.last() {
            // A gap just after the last point: nothing is drawn across it.
            out.t_ms.push(last + 1);
            out.values.push(None);
        }
        for (t, v) in seg {
            out.t_ms.push(t);
            out.values.push(Some(v));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_one_sample_spike_survives_a_hundredfold_reduction() {
        let n = 36_000u64;
        let s = Series::from_points(
            (0..n).map(|i| (i * 100, Some(if i == 12_345 { 99.0 } else { 1.0 }))),
            100,
        );
        let segs = segments(&s, 0, (n - 1) * 100, 360);
        assert_eq!(segs.len(), 1);
        let points = &segs[0];
        assert!(points.len() <= 720, "{} points", points.len());
        assert!(points.iter().any(|&(t, v)| v == 99.0 && t == 1_234_500));
        assert!(points.windows(2).all(|w| w[0].0 < w[1].0), "in time order");
    }

    #[test]
    fn gaps_split_segments_and_ranges_clip() {
        let s = Series::from_points(
            [
                (0, Some(1.0)),
                (100, Some(2.0)),
                (500, Some(3.0)),
                (600, Some(4.0)),
            ],
            100,
        );
        let segs = segments(&s, 0, 600, 1000);
        assert_eq!(
            segs,
            [vec![(0, 1.0), (100, 2.0)], vec![(500, 3.0), (600, 4.0)]]
        );
        assert_eq!(segments(&s, 450, 600, 10), [vec![(500, 3.0), (600, 4.0)]]);
        assert!(segments(&Series::default(), 0, 10, 10).is_empty());
        // As one series: the same points, a gap where the segments part.
        let one = series(
            s.t_ms.iter().copied().zip(s.values.iter().copied()),
            0,
            600,
            1000,
        );
        assert_eq!(one.t_ms, [0, 100, 101, 500, 600]);
        assert_eq!(
            one.values,
            [Some(1.0), Some(2.0), None, Some(3.0), Some(4.0)]
        );
        assert_eq!(one.max(), Some((600, 4.0)));
    }
}
