//! Pressure intervals: stretches in which the kernel's pressure level was warning or critical
//! (macOS `kern.memorystatus_vm_pressure_level`; Linux levels derived from PSI). No threshold
//! of our own: the kernel's level is the judgement. A gap ends an interval.

use memtide_trace::PressureLevel;

/// One interval at warning or above.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PressureInterval {
    /// First sample at warning or critical.
    pub start_ms: u64,
    /// Last such sample.
    pub end_ms: u64,
    /// Critical if it reached critical, else warning.
    pub worst: PressureLevel,
}

/// The intervals in `levels` (`t_ms` and the level, `None` for a gap or no reading).
pub fn intervals(
    levels: impl IntoIterator<Item = (u64, Option<PressureLevel>)>,
) -> Vec<PressureInterval> {
    let mut out = Vec::new();
    let mut open: Option<PressureInterval> = None;
    for (t, level) in levels {
        match level {
            Some(l @ (PressureLevel::Warning | PressureLevel::Critical)) => match open.as_mut() {
                Some(i) => {
                    i.end_ms = t;
                    i.worst = i.worst.max(l);
                }
                None => {
                    open = Some(PressureInterval {
                        start_ms: t,
                        end_ms: t,
                        worst: l,
                    })
                }
            },
            Some(PressureLevel::Normal) | None => out.extend(open.take()),
        }
    }
    out.extend(open);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_to_intervals() {
        assert!(intervals([]).is_empty());
        use PressureLevel::{Critical, Normal, Warning};
        assert!(intervals([(0, Some(Normal)); 5]).is_empty());
        let got = intervals([
            (0, Some(Normal)),
            (1, Some(Warning)),
            (2, Some(Critical)),
            (3, Some(Warning)),
            (4, Some(Normal)),
            (5, Some(Warning)),
            (6, None),
            (7, Some(Warning)),
        ]);
        assert_eq!(got.len(), 3);
        assert_eq!(
            got[0],
            PressureInterval {
                start_ms: 1,
                end_ms: 3,
                worst: Critical
            }
        );
        assert_eq!(
            (got[1].start_ms, got[1].end_ms, got[1].worst),
            (5, 5, Warning)
        );
    }
}
