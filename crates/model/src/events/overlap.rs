//! Concurrency: model runners alive at the same time, the situation that stalls a Mac when a
//! second model loads before the first runner exits.
//!
//! A runner's life is from its first to its last sample (both included). An overlap is a
//! *maximal* interval in which two or more runners were alive: twelve runners alive together
//! are one overlap with twelve members, not 66 pairs. Within it, `levels` say how many were
//! alive when, so that a chart can shade it darker where more runners overlap. No minimum
//! length: even one shared sample means two models' memory was held at once.

/// A runner's life on the recording's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Life {
    /// First sample.
    pub start_ms: u64,
    /// Last sample.
    pub end_ms: u64,
}

/// A stretch of an overlap with a constant number of runners alive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level {
    /// From.
    pub start_ms: u64,
    /// To.
    pub end_ms: u64,
    /// Runners alive throughout (two or more).
    pub alive: usize,
}

/// One maximal interval with two or more runners alive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overlap {
    /// Indexes into the slice given to [`overlaps`] of every runner alive in the interval, in
    /// order of start (the one alive first comes first).
    pub members: Vec<usize>,
    /// When the second runner started.
    pub start_ms: u64,
    /// When the last but one ended.
    pub end_ms: u64,
    /// The most runners alive at once.
    pub max_alive: usize,
    /// How many were alive when, in time order.
    pub levels: Vec<Level>,
}

/// The maximal intervals in which two or more of `lives` were alive, in time order.
pub fn overlaps(lives: &[Life]) -> Vec<Overlap> {
    // Starts before ends at the same time: lives are closed intervals, so a runner that starts
    // at another's last sample overlaps it there.
    let mut points: Vec<(u64, u8, usize)> = lives
        .iter()
        .enumerate()
        .flat_map(|(i, l)| [(l.start_ms, 0, i), (l.end_ms.max(l.start_ms), 1, i)])
        .collect();
    points.sort_unstable();
    let mut out = Vec::new();
    let mut alive: Vec<usize> = Vec::new();
    let mut cur: Option<Overlap> = None;
    let mut level_from = 0u64;
    for (t, kind, i) in points {
        // The stretch since the last change, at the count it had.
        if let Some(o) = cur.as_mut() {
            if alive.len() >= 2 && (t > level_from || o.levels.is_empty()) {
                o.levels.push(Level {
                    start_ms: level_from,
                    end_ms: t,
                    alive: alive.len(),
                });
            }
        }
        level_from = t;
        if kind == 0 {
            alive.push(i);
            match cur.as_mut() {
                Some(o) => {
                    o.members.push(i);
                    o.max_alive = o.max_alive.max(alive.len());
                }
                None if alive.len() >= 2 => {
                    let mut members = alive.clone();
                    members.sort_by_key(|&m| (lives[m].start_ms, m));
                    cur = Some(Overlap {
                        members,
                        start_ms: t,
                        end_ms: t,
                        max_alive: alive.len(),
                        levels: Vec::new(),
                    });
                }
                None => {}
            }
        } else {
            alive.retain(|&a| a != i);
            if alive.len() < 2 {
                if let Some(mut o) = cur.take() {
                    o.end_ms = t;
                    if o.levels.is_empty() {
                        o.levels.push(Level {
                            start_ms: o.start_ms,
                            end_ms: t,
                            alive: 2,
                        });
                    }
                    out.push(o);
                }
            }
        }
    }
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
        assert_eq!(got.len(), 1);
        let o = &got[0];
        assert_eq!((o.start_ms, o.end_ms, o.max_alive), (4000, 5000, 2));
        assert_eq!(o.members, [0, 1]);
        assert_eq!(
            o.levels,
            [Level {
                start_ms: 4000,
                end_ms: 5000,
                alive: 2
            }]
        );
        // Given in the other order, the same overlap; the one alive first comes first.
        let got = overlaps(&[life(4000, 9000), life(1000, 5000)]);
        assert_eq!(
            (got[0].members.clone(), got[0].start_ms),
            (vec![1, 0], 4000)
        );
    }

    #[test]
    fn nested_touching_and_chained() {
        assert_eq!(overlaps(&[life(0, 100), life(10, 20)])[0].end_ms, 20);
        let touch = overlaps(&[life(0, 10), life(10, 20)]);
        assert_eq!(
            (touch.len(), touch[0].start_ms, touch[0].end_ms),
            (1, 10, 10),
            "one shared sample"
        );
        // Three nested: one overlap, three members, at most three at once.
        let three = overlaps(&[life(0, 100), life(10, 20), life(15, 30)]);
        assert_eq!(three.len(), 1);
        assert_eq!((three[0].members.len(), three[0].max_alive), (3, 3));
        assert_eq!(
            three[0]
                .levels
                .iter()
                .map(|l| (l.start_ms, l.end_ms, l.alive))
                .collect::<Vec<_>>(),
            [(10, 15, 2), (15, 20, 3), (20, 30, 2)]
        );
        // A chain with a gap where only one is alive: two overlaps.
        let chain = overlaps(&[life(0, 10), life(5, 15), life(12, 20)]);
        assert_eq!(chain.len(), 2);
        assert_eq!(
            (chain[0].members.clone(), chain[1].members.clone()),
            (vec![0, 1], vec![1, 2])
        );
    }

    #[test]
    fn twelve_runners_together_are_one_overlap() {
        let lives: Vec<Life> = (0..12).map(|i| life(i * 100, 5_000 + i * 10)).collect();
        let got = overlaps(&lives);
        assert_eq!(got.len(), 1, "one event, not 66");
        assert_eq!((got[0].members.len(), got[0].max_alive), (12, 12));
        assert_eq!((got[0].start_ms, got[0].end_ms), (100, 5_100));
        let most = got[0].levels.iter().max_by_key(|l| l.alive).unwrap();
        assert_eq!((most.start_ms, most.end_ms, most.alive), (1_100, 5_000, 12));
    }
}
