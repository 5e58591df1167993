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

/// How far a row's `t_ms` may disagree with its `time_utc` (both taken from one instant by the
/// recorder) before the row is taken as impossible: a day, far beyond any clock adjustment,
/// and far below the jumps that corrupt a chart (a `t_ms` of 10¹⁵ would size it to 30 000
/// years).
pub const MAX_CLOCK_DISAGREEMENT_MS: u64 = 24 * 3600 * 1000;

/// How many skipped lines a warning names before it only counts the rest.
const NAMED_LINES: usize = 5;

/// The rows skipped in one file, for one warning.
struct Skips<'a> {
    path: &'a Path,
    lines: Vec<(u64, String)>,
    count: usize,
}

impl<'a> Skips<'a> {
    fn new(path: &'a Path) -> Self {
        Skips {
            path,
            lines: Vec::new(),
            count: 0,
        }
    }

    fn skip(&mut self, line: u64, why: impl Into<String>) {
        self.count += 1;
        if self.lines.len() < NAMED_LINES {
            self.lines.push((line, why.into()));
        }
    }

    fn warn(self, warnings: &mut Vec<String>) {
        if self.count == 0 {
            return;
        }
        let named: Vec<String> = self
            .lines
            .iter()
            .map(|(l, why)| format!("line {l}: {why}"))
            .collect();
        let more = self.count - self.lines.len();
        warnings.push(format!(
            "{}: {} skipped ({}{})",
            self.path.display(),
            if self.count == 1 {
                "1 row".to_owned()
            } else {
                format!("{} rows", self.count)
            },
            named.join("; "),
            if more > 0 {
                format!("; and {more} more")
            } else {
                String::new()
            }
        ));
    }
}

/// Reads a CSV file of `T` rows. A row that cannot be read is skipped, and the skips are
/// warned about once per file, naming the lines: a last line without its line end (what a
/// recorder killed mid-write leaves, even when what is left happens to parse, like `…,6419`
/// for `…,64190`), a short or long row, a value that is not a number. `quoting` is off for the
/// files that hold only numbers and fixed words, so that a stray `"` spoils one row and not
/// all the rows after it. A file that holds rows of which none is readable is an error.
fn read_rows<T: DeserializeOwned>(
    path: &Path,
    quoting: bool,
    warnings: &mut Vec<String>,
    keep: impl Fn(&T) -> Result<(), String>,
) -> Result<Vec<T>, TraceError> {
    let mut bytes = std::fs::read(path).map_err(|e| TraceError::Read {
        path: path.to_owned(),
        error: e,
    })?;
    let mut skips = Skips::new(path);
    if !bytes.is_empty() && !bytes.ends_with(b"\n") {
        let cut = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let line = bytes[..cut].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        bytes.truncate(cut);
        if line > 1 {
            skips.skip(line, "incomplete: the recorder stopped while writing it");
        }
    }
    // A UTF-8 byte order mark (a file saved by a spreadsheet) is not part of the first name.
    let body = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .quoting(quoting)
        .from_reader(body);
    let width = reader
        .headers()
        .map_err(|e| TraceError::Invalid {
            path: path.to_owned(),
            detail: format!("line 1: {e}"),
        })?
        .len();
    let headers = reader.headers().cloned().unwrap_or_default();
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                skips.skip(line, e.to_string());
                continue;
            }
        }
        let line = record.position().map_or(0, |p| p.line());
        if record.len() != width {
            skips.skip(
                line,
                format!("{} fields where the header has {width}", record.len()),
            );
            continue;
        }
        match record.deserialize::<T>(Some(&headers)) {
            Ok(row) => match keep(&row) {
                Ok(()) => rows.push(row),
                Err(why) => skips.skip(line, why),
            },
            Err(e) => skips.skip(line, e.to_string()),
        }
    }
    let skipped = skips.count;
    skips.warn(warnings);
    if rows.is_empty() && skipped > 0 {
        return Err(TraceError::Invalid {
            path: path.to_owned(),
            detail: format!("none of its {skipped} rows can be read"),
        });
    }
    Ok(rows)
}

/// Whether a row's two clocks agree: `time_utc` − the trace's start is `t_ms`, within
/// [`MAX_CLOCK_DISAGREEMENT_MS`].
fn clocks_agree(start_ms: i64, time_utc: &str, t_ms: u64) -> Result<(), String> {
    let wall = time_utc
        .parse::<jiff::Timestamp>()
        .map_err(|_| format!("`{time_utc}` is not a UTC time"))?
        .as_millisecond();
    let off = (wall - start_ms).abs_diff(i64::try_from(t_ms).unwrap_or(i64::MAX));
    if off > MAX_CLOCK_DISAGREEMENT_MS {
        return Err(format!(
            "t_ms {t_ms} is {} days away from its time {time_utc}",
            off / 86_400_000
        ));
    }
    Ok(())
}

fn in_range(what: &str, v: Option<f64>, max: f64) -> Result<(), String> {
    match v {
        Some(x) if !(0.0..=max).contains(&x) => Err(format!("{what} {x} is outside 0–{max}")),
        _ => Ok(()),
    }
}

/// Keeps the rows in the order the recorder wrote them: a row whose `t_ms` goes back is
/// dropped with the others that cannot be.
fn drop_backwards<T>(
    rows: Vec<T>,
    t: impl Fn(&T) -> u64,
    path: &Path,
    warnings: &mut Vec<String>,
) -> Vec<T> {
    let mut last = 0u64;
    let mut dropped = 0usize;
    let kept: Vec<T> = rows
        .into_iter()
        .filter(|r| {
            let ok = t(r) >= last;
            if ok {
                last = t(r);
            } else {
                dropped += 1;
            }
            ok
        })
        .collect();
    if dropped > 0 {
        warnings.push(format!(
            "{}: {dropped} rows skipped whose time goes back",
            path.display()
        ));
    }
    kept
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
        let start_ms = meta
            .start_utc
            .parse::<jiff::Timestamp>()
            .map_err(|_| TraceError::Invalid {
                path: meta_path.clone(),
                detail: format!("start_utc `{}` is not a UTC time", meta.start_utc),
            })?
            .as_millisecond();
        let mut warnings = Vec::new();
        let total = meta.total_memory_bytes;
        let system_path = dir.join(trace::SYSTEM_FILE);
        let system: Vec<SystemRow> =
            read_rows(&system_path, false, &mut warnings, |r: &SystemRow| {
                clocks_agree(start_ms, &r.time_utc, r.t_ms)?;
                in_range("free_percent", r.free_percent, 100.0)?;
                in_range("psi_some_avg10", r.psi_some_avg10, 100.0)?;
                in_range("psi_full_avg10", r.psi_full_avg10, 100.0)?;
                Ok(())
            })?;
        let system = drop_backwards(system, |r| r.t_ms, &system_path, &mut warnings);
        let processes_path = dir.join(trace::PROCESSES_FILE);
        let rows: Vec<ProcessRow> =
            read_rows(&processes_path, false, &mut warnings, |r: &ProcessRow| {
                clocks_agree(start_ms, &r.time_utc, r.t_ms)?;
                // No process holds more than the machine has (a little slack for RAM sizes
                // that a trace states rounded).
                let limit = if total > 0 {
                    total.saturating_mul(2)
                } else {
                    u64::MAX
                };
                if r.rss_bytes > limit || r.footprint_bytes.is_some_and(|f| f > limit) {
                    return Err(format!("{} bytes in a {total}-byte machine", r.rss_bytes));
                }
                Ok(())
            })?;
        let identities: Vec<IdentityRow> = read_rows(
            &dir.join(trace::IDENTITIES_FILE),
            true,
            &mut warnings,
            |_| Ok(()),
        )?;
        let polls: Vec<PollRow> = read_rows(
            &dir.join(trace::POLLS_FILE),
            true,
            &mut warnings,
            |r: &PollRow| clocks_agree(start_ms, &r.time_utc, r.t_ms),
        )?;
        let models: Vec<ModelRow> = read_rows(
            &dir.join(trace::MODELS_FILE),
            true,
            &mut warnings,
            |r: &ModelRow| clocks_agree(start_ms, &r.time_utc, r.t_ms),
        )?;

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
