//! Overlaps: two model runners alive at the same time, the situation that stalls a Mac when a
//! second model loads before the first runner exits.
//!
//! A runner's life is from its first to its last sample. Two lives overlap when one starts
//! before the other's last sample; the overlap runs from the later start to the earlier end.
//! No minimum length: even one shared sample means two models' memory was held at once.

/// A runner's life on the recording's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Life {
    /// First sample.
    pub start_ms: u64,
    /// Last sample.
    pub end_ms: u64,
}

/// One overlap between runners `first` (the one that started first) and `second`, as indexes
/// into the slice given to [`overlaps`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overlap {
    /// The runner alive first.
    pub first: usize,
    /// The runner that started while `first` was alive.
    pub second: usize,
    /// When the second started.
    pub start_ms: u64,
    /// When the first of the two ended.
    pub end_ms: u64,
}

/// Every pair of lives that overlap, ordered by start.
pub fn overlaps(lives: &[Life]) -> Vec<Overlap> {
    let mut out = Vec::new();
    for (i, a) in lives.iter().enumerate() {
        for (j, b) in lives.iter().enumerate().skip(i + 1) {
            let (first, second, f, s) = if (a.start_ms, i) <= (b.start_ms, j) {
                (i, j, a, b)
            } else {
                (j, i, b, a)
            };
            if s.start_ms <= f.end_ms {
                out.push(Overlap {
                    first,
                    second,
                    start_ms: s.start_ms,
                    end_ms: f.end_ms.min(s.end_ms),
                });
            }
        }
    }
    out.sort_by_key(|o| (o.start_ms, o.first, o.second));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn life(start_ms: u64, end_ms: u64) -> Life {
        Life { start_ms, end_ms }
    }

    #[test]
    fn none_one_and_disjoint() {
        assert!(overlaps(&[]).is_empty());
        assert!(overlaps(&[life(0, 10)]).is_empty());
        assert!(overlaps(&[life(0, 10), life(11, 20)]).is_empty());
    }

    #[test]
    fn a_second_runner_starting_before_the_first_exits() {
        let got = overlaps(&[life(1000, 5000), life(4000, 9000)]);
        assert_eq!(
            got,
            [Overlap {
                first: 0,
                second: 1,
                start_ms: 4000,
                end_ms: 5000
            }]
        );
        // Given in the other order, the same overlap.
        let got = overlaps(&[life(4000, 9000), life(1000, 5000)]);
        assert_eq!(
            got,
            [Overlap {
                first: 1,
                second: 0,
                start_ms: 4000,
                end_ms: 5000
            }]
        );
    }

    #[test]
    fn nested_and_touching() {
        assert_eq!(overlaps(&[life(0, 100), life(10, 20)])[0].end_ms, 20);
        assert_eq!(
            overlaps(&[life(0, 10), life(10, 20)]).len(),
            1,
            "one shared sample"
        );
        assert_eq!(
            overlaps(&[life(0, 100), life(10, 20), life(15, 30)]).len(),
            3
        );
    }
}
