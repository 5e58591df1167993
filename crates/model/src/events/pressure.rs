//! Pressure intervals: stretches in which the kernel's pressure level was warning or critical
//! (macOS `kern.memorystatus_vm_pressure_level`; Linux levels derived from PSI). No threshold
//! of our own: the kernel's level is the judgement. A gap ends an interval.

/// One interval at warning or above.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PressureInterval {
    /// First sample at warning or critical.
    pub start_ms: u64,
    /// Last such sample.
    pub end_ms: u64,
    /// `critical` if it reached critical, else `warning`.
    pub worst: String,
}

/// The intervals in `levels` (`t_ms` and the level name, `None` for a gap or no reading).
pub fn intervals(levels: &[(u64, Option<&str>)]) -> Vec<PressureInterval> {
    let mut out = Vec::new();
    let mut open: Option<PressureInterval> = None;
    for &(t, level) in levels {
        match level {
            Some(l @ ("warning" | "critical")) => match open.as_mut() {
                Some(i) => {
                    i.end_ms = t;
                    if l == "critical" {
                        i.worst = l.to_owned();
                    }
                }
                None => {
                    open = Some(PressureInterval {
                        start_ms: t,
                        end_ms: t,
                        worst: l.to_owned(),
                    })
                }
            },
            _ => out.extend(open.take()),
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
        assert!(intervals(&[]).is_empty());
        assert!(intervals(&[(0, Some("normal")); 5]).is_empty());
        let got = intervals(&[
            (0, Some("normal")),
            (1, Some("warning")),
            (2, Some("critical")),
            (3, Some("warning")),
            (4, Some("normal")),
            (5, Some("warning")),
            (6, None),
            (7, Some("warning")),
        ]);
        assert_eq!(got.len(), 3);
        assert_eq!(
            got[0],
            PressureInterval {
                start_ms: 1,
                end_ms: 3,
                worst: "critical".into()
            }
        );
        assert_eq!(
            (got[1].start_ms, got[1].end_ms, got[1].worst.as_str()),
            (5, 5, "warning")
        );
    }
}
