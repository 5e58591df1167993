//! A trace directory loaded into memory as an OS-neutral timeline: the system's series, one
//! series per process identity, and Ollama's polls, all on the recording's `t_ms` clock.
//!
//! A missed sample is a gap ([`Series::values`] holds `None`), never an interpolated value.

use crate::trace::{self, IdentityRow, Meta, ModelRow, PollRow, ProcessRow, SystemRow, TraceError};
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A process identity: PID and start time (µs since the Unix epoch).
pub type Identity = (u32, u64);

/// One numeric series on the recording's clock. `t_ms` and `values` have the same length; a
/// `None` is a gap (no reading at that time), and a gap is also inserted where ticks are
/// missing, so that nothing is drawn or computed across it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    /// Milliseconds since the recording started.
    pub t_ms: Vec<u64>,
    /// The values, `None` for a gap.
    pub values: Vec<Option<f64>>,
}

impl Series {
    /// A series from points; `interval_ms` (if non-zero) inserts a gap wherever two
    /// consecutive points are more than 1.5 intervals apart.
    pub fn from_points(
        points: impl IntoIterator<Item = (u64, Option<f64>)>,
        interval_ms: u64,
    ) -> Series {
        let mut s = Series::default();
        let mut last: Option<u64> = None;
        for (t, v) in points {
            if let Some(prev) = last {
                if interval_ms > 0 && t.saturating_sub(prev) * 2 > interval_ms * 3 {
                    s.t_ms.push(prev + interval_ms);
                    s.values.push(None);
                }
            }
            s.t_ms.push(t);
            s.values.push(v);
            last = Some(t);
        }
        s
    }

    /// The points that have values.
    pub fn points(&self) -> impl Iterator<Item = (u64, f64)> + '_ {
        self.t_ms
            .iter()
            .zip(&self.values)
            .filter_map(|(&t, v)| v.map(|v| (t, v)))
    }

    /// The largest value and when it was reached (the first time, on ties).
    pub fn max(&self) -> Option<(u64, f64)> {
        self.points()
            .fold(None, |best: Option<(u64, f64)>, (t, v)| match best {
                Some((_, bv)) if bv >= v => best,
                _ => Some((t, v)),
            })
    }

    /// The smallest value and when it was reached (the first time, on ties).
    pub fn min(&self) -> Option<(u64, f64)> {
        self.points()
            .fold(None, |best: Option<(u64, f64)>, (t, v)| match best {
                Some((_, bv)) if bv <= v => best,
                _ => Some((t, v)),
            })
    }

    /// The value at `t_ms` or the last one before it, unless a gap lies in between.
    pub fn at(&self, t_ms: u64) -> Option<f64> {
        let i = self.t_ms.partition_point(|&t| t <= t_ms);
        i.checked_sub(1).and_then(|i| self.values[i])
    }

    /// `true` when there is no value at all.
    pub fn is_empty(&self) -> bool {
        self.points().next().is_none()
    }
}

/// A process's samples and facts.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessTimeline {
    /// Who it is, from `identities.csv` (a bare row when the trace lacks it).
    pub identity: IdentityRow,
    /// Its rows of `processes.csv`, in time order.
    pub rows: Vec<ProcessRow>,
}

impl ProcessTimeline {
    /// `(pid, start_time_us)`.
    pub fn id(&self) -> Identity {
        (self.identity.pid, self.identity.start_time_us)
    }

    /// First and last `t_ms` with a sample.
    pub fn span(&self) -> Option<(u64, u64)> {
        Some((self.rows.first()?.t_ms, self.rows.last()?.t_ms))
    }

    /// The footprint series (RSS where the OS has no footprint).
    pub fn footprint(&self, interval_ms: u64) -> Series {
        Series::from_points(
            self.rows.iter().map(|r| {
                (
                    r.t_ms,
                    Some(r.footprint_bytes.unwrap_or(r.rss_bytes) as f64),
                )
            }),
            interval_ms,
        )
    }

    /// The RSS series.
    pub fn rss(&self, interval_ms: u64) -> Series {
        Series::from_points(
            self.rows.iter().map(|r| (r.t_ms, Some(r.rss_bytes as f64))),
            interval_ms,
        )
    }

    /// The last footprint (or RSS) sampled.
    pub fn last_footprint(&self) -> Option<u64> {
        self.rows
            .last()
            .map(|r| r.footprint_bytes.unwrap_or(r.rss_bytes))
    }
}

/// A whole trace.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    /// Where it was read from.
    pub dir: PathBuf,
    /// `meta.json`.
    pub meta: Meta,
    /// `system.csv`, in time order.
    pub system: Vec<SystemRow>,
    /// One entry per process identity, in order of first sample.
    pub processes: Vec<ProcessTimeline>,
    /// `ollama_polls.csv`.
    pub polls: Vec<PollRow>,
    /// `models.csv`.
    pub models: Vec<ModelRow>,
    /// What was skipped while reading (a torn last line after a crash).
    pub warnings: Vec<String>,
    /// The usual step between system samples, in ms: the median gap, which is the recording
    /// interval for `memtide record` and the system loop's period for an imported trace.
    pub system_step_ms: u64,
}

/// The median gap between consecutive times.
fn median_step(t: &[u64]) -> Option<u64> {
    let mut gaps: Vec<u64> = t
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|&g| g > 0)
        .collect();
    gaps.sort_unstable();
    gaps.get(gaps.len() / 2).copied()
}

/// Reads a CSV file of `T` rows. A malformed *last* line is what a recorder killed mid-write
/// leaves; it is dropped with a warning. A malformed line elsewhere is an error naming it.
fn read_rows<T: DeserializeOwned>(
    path: &Path,
    warnings: &mut Vec<String>,
) -> Result<Vec<T>, TraceError> {
    let file = std::fs::File::open(path).map_err(|e| TraceError::Read {
        path: path.to_owned(),
        error: e,
    })?;
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(file);
    let mut rows = Vec::new();
    let mut bad: Option<(u64, String)> = None;
    for rec in reader.deserialize::<T>() {
        if let Some((line, detail)) = bad.take() {
            return Err(TraceError::Invalid {
                path: path.to_owned(),
                detail: format!("line {line}: {detail}"),
            });
        }
        match rec {
            Ok(r) => rows.push(r),
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                bad = Some((line, e.to_string()));
            }
        }
    }
    if let Some((line, detail)) = bad {
        warnings.push(format!(
            "{}: line {line} is incomplete and was skipped ({detail})",
            path.display()
        ));
    }
    Ok(rows)
}

impl Timeline {
    /// Loads the trace in `dir`.
    pub fn load(dir: &Path) -> Result<Timeline, TraceError> {
        let meta_path = dir.join(trace::META_FILE);
        let bytes = std::fs::read(&meta_path).map_err(|e| TraceError::Read {
            path: meta_path.clone(),
            error: e,
        })?;
        let meta: Meta = serde_json::from_slice(&bytes).map_err(|e| TraceError::Invalid {
            path: meta_path.clone(),
            detail: e.to_string(),
        })?;
        if meta.format_version > trace::FORMAT_VERSION {
            return Err(TraceError::Invalid {
                path: meta_path,
                detail: format!(
                    "format version {} is newer than this memtide reads ({})",
                    meta.format_version,
                    trace::FORMAT_VERSION
                ),
            });
        }
        let mut warnings = Vec::new();
        let mut system: Vec<SystemRow> = read_rows(&dir.join(trace::SYSTEM_FILE), &mut warnings)?;
        system.sort_by_key(|r| r.t_ms);
        let rows: Vec<ProcessRow> = read_rows(&dir.join(trace::PROCESSES_FILE), &mut warnings)?;
        let identities: Vec<IdentityRow> =
            read_rows(&dir.join(trace::IDENTITIES_FILE), &mut warnings)?;
        let polls: Vec<PollRow> = read_rows(&dir.join(trace::POLLS_FILE), &mut warnings)?;
        let models: Vec<ModelRow> = read_rows(&dir.join(trace::MODELS_FILE), &mut warnings)?;

        let mut by_id: BTreeMap<Identity, Vec<ProcessRow>> = BTreeMap::new();
        for r in rows {
            by_id.entry((r.pid, r.start_time_us)).or_default().push(r);
        }
        let mut processes: Vec<ProcessTimeline> = Vec::new();
        for ident in identities {
            let mut rows = by_id
                .remove(&(ident.pid, ident.start_time_us))
                .unwrap_or_default();
            rows.sort_by_key(|r| r.t_ms);
            processes.push(ProcessTimeline {
                identity: ident,
                rows,
            });
        }
        // Rows of processes the identity table does not know (a recorder killed before
        // rewriting it) still count.
        for ((pid, start), mut rows) in by_id {
            rows.sort_by_key(|r| r.t_ms);
            processes.push(ProcessTimeline {
                identity: IdentityRow {
                    pid,
                    start_time_us: start,
                    argv_json: "[]".into(),
                    ..IdentityRow::default()
                },
                rows,
            });
        }
        processes.sort_by_key(|p| p.span().map_or(u64::MAX, |s| s.0));
        let times: Vec<u64> = system.iter().map(|r| r.t_ms).collect();
        let system_step_ms = median_step(&times).unwrap_or(meta.interval_ms);
        Ok(Timeline {
            system_step_ms,
            dir: dir.to_owned(),
            meta,
            system,
            processes,
            polls,
            models,
            warnings,
        })
    }

    /// The recording's interval in ms.
    pub fn interval_ms(&self) -> u64 {
        self.meta.interval_ms
    }

    /// A system field as a series (`f` picks the field).
    pub fn system_series(&self, f: impl Fn(&SystemRow) -> Option<f64>) -> Series {
        Series::from_points(
            self.system.iter().map(|r| (r.t_ms, f(r))),
            self.system_step_ms,
        )
    }

    /// First and last `t_ms` of the system samples.
    pub fn span(&self) -> Option<(u64, u64)> {
        Some((self.system.first()?.t_ms, self.system.last()?.t_ms))
    }

    /// The wall-clock time of `t_ms`, from the start time in `meta.json`.
    pub fn wall(&self, t_ms: u64) -> Option<jiff::Timestamp> {
        let start: jiff::Timestamp = self.meta.start_utc.parse().ok()?;
        start
            .checked_add(jiff::SignedDuration::from_millis(t_ms as i64))
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_gaps_where_ticks_are_missing() {
        let s = Series::from_points([(0, Some(1.0)), (100, Some(2.0)), (400, Some(3.0))], 100);
        assert_eq!(s.t_ms, [0, 100, 200, 400]);
        assert_eq!(s.values, [Some(1.0), Some(2.0), None, Some(3.0)]);
        assert_eq!(
            s.at(250),
            None,
            "inside the gap: no value, never an interpolation"
        );
        assert_eq!(s.at(150), Some(2.0));
        assert_eq!(s.max(), Some((400, 3.0)));
        assert_eq!(s.min(), Some((0, 1.0)));
        assert!(Series::default().is_empty());
        assert_eq!(Series::default().max(), None);
    }
}
