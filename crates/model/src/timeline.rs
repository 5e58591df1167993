//! A trace directory loaded into memory as an OS-neutral timeline: the system's series, one
//! series per process identity, and Ollama's polls, all on the recording's `t_ms` clock.
//!
//! A missed sample is a gap ([`Series::values`] holds `None`), never an interpolated value.

pub use memtide_trace::rows::Window;
use memtide_trace::rows::{
    clocks_agree, each_record, each_row, in_range, number, parts_for, read_rows, required,
    LastTime, ProcessColumns,
};
use memtide_trace::segments::Part;
use memtide_trace::PressureLevel;
use memtide_trace::{
    self as trace, IdentityRow, Meta, ModelRow, OllamaLogRow, PollRow, PressureRow, ProcessRow,
    SystemRow, TraceError,
};
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
        let points = Gapped::new(points, interval_ms);
        // Room for every point at once (a gap adds one more now and then): a week's series
        // is never copied into a vector twice its size.
        let room = points.size_hint().0;
        let mut s = Series {
            t_ms: Vec::with_capacity(room),
            values: Vec::with_capacity(room),
        };
        for (t, v) in points {
            s.t_ms.push(t);
            s.values.push(v);
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

/// The points of a [`Series`] as they are made, without holding them: the points given, and a
/// gap (`None`) one interval after a point that the next follows by more than 1.5 intervals.
/// What a reader that needs each point once (a decimated line, the viewer's grid) reads
/// instead of a whole series. The values may be anything (a whole sample, for a reader that
/// takes several figures of it in one pass).
#[derive(Debug, Clone)]
pub struct Gapped<I, V = f64> {
    points: I,
    interval_ms: u64,
    last: Option<u64>,
    held: Option<(u64, Option<V>)>,
}

impl<V, I: Iterator<Item = (u64, Option<V>)>> Gapped<I, V> {
    /// `points` (in time order) with gaps where ticks are missing; no gaps for an
    /// `interval_ms` of zero.
    pub fn new(points: impl IntoIterator<IntoIter = I>, interval_ms: u64) -> Gapped<I, V> {
        Gapped {
            points: points.into_iter(),
            interval_ms,
            last: None,
            held: None,
        }
    }
}

impl<V, I: Iterator<Item = (u64, Option<V>)>> Iterator for Gapped<I, V> {
    type Item = (u64, Option<V>);

    fn next(&mut self) -> Option<(u64, Option<V>)> {
        if let Some(p) = self.held.take() {
            return Some(p);
        }
        let (t, v) = self.points.next()?;
        let prev = self.last.replace(t);
        match prev {
            Some(prev)
                if self.interval_ms > 0 && t.saturating_sub(prev) * 2 > self.interval_ms * 3 =>
            {
                self.held = Some((t, v));
                Some((prev + self.interval_ms, None))
            }
            _ => Some((t, v)),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let (lo, _) = self.points.size_hint();
        (lo + usize::from(self.held.is_some()), None)
    }
}

impl<'a> IntoIterator for &'a Series {
    type Item = (u64, Option<f64>);
    type IntoIter = std::iter::Zip<
        std::iter::Copied<std::slice::Iter<'a, u64>>,
        std::iter::Copied<std::slice::Iter<'a, Option<f64>>>,
    >;

    /// Every point, gaps (`None`) included, in order.
    fn into_iter(self) -> Self::IntoIter {
        self.t_ms.iter().copied().zip(self.values.iter().copied())
    }
}

/// One sample of a process, as the report and the charts read it: the fields of a
/// `processes.csv` row that they use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sample {
    /// Milliseconds since the recording started.
    pub t_ms: u64,
    /// Resident set, bytes.
    pub rss_bytes: u64,
    /// Footprint, bytes, where the OS has one.
    pub footprint_bytes: Option<u64>,
    /// The file-backed part of the resident set (Linux `RssFile`), bytes.
    pub rss_file_bytes: Option<u64>,
    /// A runner's model file resident in its mappings (the mapped weights), bytes.
    pub weights_resident_bytes: Option<u64>,
}

impl Sample {
    /// Model memory: the footprint plus the runner's mapped weights resident in RAM, which the
    /// footprint leaves out (clean pages of a mapped file; docs/metrics.md). For a process that
    /// maps no model it is its footprint. `None` where the trace has no footprint.
    pub fn model_memory(&self) -> Option<u64> {
        self.footprint_bytes
            .map(|f| f.saturating_add(self.weights_resident_bytes.unwrap_or(0)))
    }

    /// The sample's value by `measure`: RSS where the measure needs a footprint the sample
    /// lacks.
    pub fn value(&self, measure: Measure) -> u64 {
        match measure {
            Measure::ModelMemory => self.model_memory(),
            Measure::Footprint => self.footprint_bytes,
            Measure::Rss => None,
        }
        .unwrap_or(self.rss_bytes)
    }
}

/// What a process's memory is told by, in every view: the report, the charts, the viewer,
/// `top`, `serve` and `compare` name it the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Footprint plus the mapped weights resident in RAM ([`Sample::model_memory`]).
    ModelMemory,
    /// The footprint alone: what the process is charged for, without mapped files.
    Footprint,
    /// The resident set: where the trace has no footprint (an imported `ps` loop).
    Rss,
}

impl Measure {
    /// Its name in a sentence or a column head.
    pub fn name(self) -> &'static str {
        match self {
            Measure::ModelMemory => "model memory",
            Measure::Footprint => "footprint",
            Measure::Rss => "RSS",
        }
    }

    /// Its name in files and JSON: `model_memory`, `footprint`, `rss`.
    pub fn key(self) -> &'static str {
        match self {
            Measure::ModelMemory => "model_memory",
            Measure::Footprint => "footprint",
            Measure::Rss => "rss",
        }
    }
}

/// "No value" in a [`Samples`] column. No process holds 2⁶⁴ − 1 bytes (rows above twice the
/// machine's memory are refused when a trace is read).
const ABSENT: u64 = u64::MAX;

fn pack(v: Option<u64>) -> u64 {
    v.filter(|&x| x != ABSENT).unwrap_or(ABSENT)
}

fn unpack(v: u64) -> Option<u64> {
    (v != ABSENT).then_some(v)
}

/// A sample's five figures (time, RSS, footprint, file-backed RSS, weights), packed.
type Packed = [u64; 5];

fn packed(s: &Sample) -> Packed {
    [
        s.t_ms,
        s.rss_bytes,
        pack(s.footprint_bytes),
        pack(s.rss_file_bytes),
        pack(s.weights_resident_bytes),
    ]
}

fn unpacked(p: &Packed) -> Sample {
    Sample {
        t_ms: p[0],
        rss_bytes: p[1],
        footprint_bytes: unpack(p[2]),
        rss_file_bytes: unpack(p[3]),
        weights_resident_bytes: unpack(p[4]),
    }
}

/// Appends `v` as a LEB128 varint: seven bits a byte, low bits first.
/// The bytes of a sample's five varints: ten at most each.
type SampleBytes = ([u8; 50], usize);

fn put_varint(out: &mut SampleBytes, mut v: u64) {
    let (bytes, len) = out;
    while v >= 0x80 {
        bytes[*len] = (v as u8) | 0x80;
        *len += 1;
        v >>= 7;
    }
    bytes[*len] = v as u8;
    *len += 1;
}

/// Reads a varint [`put_varint`] wrote at `*at`, and moves past it. The bytes are this
/// module's own, always whole.
fn get_varint(bytes: &[u8], at: &mut usize) -> u64 {
    let mut v = 0u64;
    let mut shift = 0;
    while let Some(&b) = bytes.get(*at) {
        *at += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    v
}

/// A process's samples in time order, kept compactly: each figure as the difference from the
/// sample before, zigzag-folded and written as a varint. A process's memory mostly stays put
/// or moves by pages between samples, and its samples are an interval apart, so a sample
/// takes about 5 to 9 bytes where five plain columns took 40: a week at 1 Hz of ten processes
/// (6 million samples) in about 55 MB instead of 240 (and its vectors' spare capacity). They
/// are read in order ([`Samples::iter`]); the first and last are kept at hand.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Samples {
    len: usize,
    bytes: Vec<u8>,
    first: Option<Packed>,
    last: Packed,
    /// The step of time from the sample before the last to the last: the time is kept as the
    /// change of its step, which at a steady interval is zero (one byte, not two or three).
    last_step: u64,
}

/// `d` folded so that small changes either way take few bytes: 0, −1, 1, −2, … as 0, 1, 2, 3.
fn zigzag(d: u64) -> u64 {
    let d = d as i64;
    ((d << 1) ^ (d >> 63)) as u64
}

/// The change [`zigzag`] folded.
fn unzigzag(z: u64) -> u64 {
    (((z >> 1) as i64) ^ -((z & 1) as i64)) as u64
}

impl Samples {
    /// Appends a sample (callers keep time order; [`Samples::sort`] restores it).
    pub fn push(&mut self, s: Sample) {
        let p = packed(&s);
        // Made on the stack and added at once: one check of the vector's room a sample.
        let mut out: SampleBytes = ([0; 50], 0);
        let step = p[0].wrapping_sub(self.last[0]);
        put_varint(&mut out, zigzag(step.wrapping_sub(self.last_step)));
        self.last_step = step;
        for (v, prev) in p.iter().zip(&self.last).skip(1) {
            put_varint(&mut out, zigzag(v.wrapping_sub(*prev)));
        }
        self.bytes.extend_from_slice(&out.0[..out.1]);
        self.first.get_or_insert(p);
        self.last = p;
        self.len += 1;
    }

    /// How many samples.
    pub fn len(&self) -> usize {
        self.len
    }

    /// `true` with no sample.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The first sample.
    pub fn first(&self) -> Option<Sample> {
        self.first.as_ref().map(unpacked)
    }

    /// The last sample.
    pub fn last(&self) -> Option<Sample> {
        (self.len > 0).then(|| unpacked(&self.last))
    }

    /// Every sample, in order.
    pub fn iter(&self) -> SamplesIter<'_> {
        SamplesIter {
            bytes: &self.bytes,
            at: 0,
            left: self.len,
            prev: [0; 5],
            step: 0,
        }
    }

    /// Puts the samples in time order (a stable sort: equal times keep their order).
    pub fn sort(&mut self) {
        if self.iter().map(|s| s.t_ms).is_sorted() {
            return;
        }
        let mut all: Vec<Sample> = self.iter().collect();
        all.sort_by_key(|s| s.t_ms);
        *self = all.into_iter().collect();
    }

    /// Frees what the bytes hold beyond their length.
    pub fn shrink_to_fit(&mut self) {
        self.bytes.shrink_to_fit();
    }

    /// The bytes the samples take (without the vector's spare capacity).
    pub fn encoded_bytes(&self) -> usize {
        self.bytes.len()
    }
}

/// The samples of a [`Samples`], in order.
#[derive(Debug, Clone)]
pub struct SamplesIter<'a> {
    bytes: &'a [u8],
    at: usize,
    left: usize,
    prev: Packed,
    step: u64,
}

impl Iterator for SamplesIter<'_> {
    type Item = Sample;

    fn next(&mut self) -> Option<Sample> {
        self.left = self.left.checked_sub(1)?;
        self.step = self
            .step
            .wrapping_add(unzigzag(get_varint(self.bytes, &mut self.at)));
        self.prev[0] = self.prev[0].wrapping_add(self.step);
        for prev in &mut self.prev[1..] {
            *prev = prev.wrapping_add(unzigzag(get_varint(self.bytes, &mut self.at)));
        }
        Some(unpacked(&self.prev))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for SamplesIter<'_> {}

impl FromIterator<Sample> for Samples {
    fn from_iter<I: IntoIterator<Item = Sample>>(iter: I) -> Samples {
        let mut s = Samples::default();
        for x in iter {
            s.push(x);
        }
        s
    }
}

impl From<&ProcessRow> for Sample {
    fn from(r: &ProcessRow) -> Sample {
        Sample {
            t_ms: r.t_ms,
            rss_bytes: r.rss_bytes,
            footprint_bytes: r.footprint_bytes,
            rss_file_bytes: r.rss_file_bytes,
            weights_resident_bytes: r.weights_resident_bytes,
        }
    }
}

/// About how many bytes of `system.csv` one row takes, for reserving room when reading it
/// (rows are 190 to 300 bytes; a smaller guess reserves more, which is freed once read).
const SYSTEM_ROW_BYTES: u64 = 180;

/// A byte count that may be missing, in 8 bytes where an `Option<u64>` takes 16: a week of
/// system points at 1 Hz holds 2.4 million of them. No store of a machine holds 2⁶⁴ − 1
/// bytes, so that value stands for "none".
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct OptBytes(u64);

impl OptBytes {
    /// No reading.
    pub const NONE: OptBytes = OptBytes(ABSENT);

    /// The bytes, `None` where there was no reading.
    pub fn get(self) -> Option<u64> {
        unpack(self.0)
    }
}

impl From<Option<u64>> for OptBytes {
    fn from(v: Option<u64>) -> OptBytes {
        OptBytes(pack(v))
    }
}

impl Default for OptBytes {
    fn default() -> OptBytes {
        OptBytes::NONE
    }
}

impl std::fmt::Debug for OptBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

/// A percentage that may be missing, in 8 bytes: NaN stands for "none" (no reading is NaN:
/// a row whose free % is not a number is not a reading).
#[derive(Clone, Copy)]
pub struct OptPercent(f64);

impl OptPercent {
    /// No reading.
    pub const NONE: OptPercent = OptPercent(f64::NAN);

    /// The percentage, `None` where there was no reading.
    pub fn get(self) -> Option<f64> {
        (!self.0.is_nan()).then_some(self.0)
    }
}

impl From<Option<f64>> for OptPercent {
    fn from(v: Option<f64>) -> OptPercent {
        OptPercent(v.unwrap_or(f64::NAN))
    }
}

impl Default for OptPercent {
    fn default() -> OptPercent {
        OptPercent::NONE
    }
}

impl PartialEq for OptPercent {
    fn eq(&self, other: &OptPercent) -> bool {
        self.get() == other.get()
    }
}

impl std::fmt::Debug for OptPercent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}

/// One system sample, as the report and the charts read it: the fields of a `system.csv` row
/// that they use, in 72 bytes (a whole row takes about 500).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SystemPoint {
    /// Milliseconds since the recording started.
    pub t_ms: u64,
    /// The row's `time_utc`, as milliseconds since the Unix epoch.
    pub utc_ms: i64,
    /// Physical memory, bytes.
    pub total_bytes: u64,
    /// Available memory as the OS reports it, bytes.
    pub available_bytes: OptBytes,
    /// Wired memory, bytes.
    pub wired_bytes: OptBytes,
    /// The compressor's pages, bytes.
    pub compressor_bytes: OptBytes,
    /// Swap in use, bytes.
    pub swap_used_bytes: OptBytes,
    /// The kernel's free %.
    pub free_percent: OptPercent,
    /// The kernel's pressure level.
    pub pressure: Option<PressureLevel>,
}

const _: () = assert!(std::mem::size_of::<SystemPoint>() == 72);

impl SystemPoint {
    /// A point from a row, with its time already read (see [`SystemPoint::from`]).
    fn from_row(r: &SystemRow, utc_ms: i64) -> SystemPoint {
        SystemPoint {
            t_ms: r.t_ms,
            utc_ms,
            total_bytes: r.total_bytes,
            available_bytes: r.available_bytes.into(),
            wired_bytes: r.wired_bytes.into(),
            compressor_bytes: r.compressor_bytes.into(),
            swap_used_bytes: r.swap_used_bytes.into(),
            free_percent: r.free_percent.into(),
            pressure: r.pressure,
        }
    }

    /// The sample's time as UTC RFC 3339 with milliseconds, as in `system.csv`.
    pub fn time_utc(&self) -> String {
        jiff::Timestamp::from_millisecond(self.utc_ms)
            .map(trace::timestamp_utc_ms)
            .unwrap_or_default()
    }
}

impl From<&SystemRow> for SystemPoint {
    fn from(r: &SystemRow) -> SystemPoint {
        let utc_ms = r
            .time_utc
            .parse::<jiff::Timestamp>()
            .map_or(0, |t| t.as_millisecond());
        SystemPoint::from_row(r, utc_ms)
    }
}

/// A process's samples and facts.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessTimeline {
    /// Who it is, from `identities.csv` (a bare row when the trace lacks it).
    pub identity: IdentityRow,
    /// Its samples from `processes.csv`, in time order.
    pub rows: Samples,
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

    /// What this process's memory is told by: model memory where its mapped weights were
    /// counted, else its footprint, else (a trace without footprints) its RSS.
    pub fn measure(&self) -> Measure {
        self.summary().measure
    }

    /// Its highest figures and its measure, from one pass over its samples (a week's process
    /// holds 600 000 of them).
    pub fn summary(&self) -> Summary {
        let mut s = Summary {
            peak_memory: None,
            max_footprint_bytes: None,
            max_rss_bytes: None,
            max_weights_bytes: None,
            measure: Measure::Rss,
        };
        let (mut footprint, mut mapped) = (false, false);
        for r in self.rows.iter() {
            s.max_footprint_bytes = s.max_footprint_bytes.max(r.footprint_bytes);
            s.max_rss_bytes = s.max_rss_bytes.max(Some(r.rss_bytes));
            s.max_weights_bytes = s.max_weights_bytes.max(r.weights_resident_bytes);
            footprint |= r.footprint_bytes.is_some();
            mapped |= r.footprint_bytes.is_some() && r.weights_resident_bytes.is_some();
            let v = r.value(Measure::ModelMemory);
            if s.peak_memory.is_none_or(|(_, b)| v > b) {
                s.peak_memory = Some((r.t_ms, v));
            }
        }
        s.measure = if mapped {
            Measure::ModelMemory
        } else if footprint {
            Measure::Footprint
        } else {
            Measure::Rss
        };
        s
    }

    /// The series of one measure of it (RSS where the measure needs a footprint the trace
    /// lacks).
    pub fn series(&self, measure: Measure, interval_ms: u64) -> Series {
        Series::from_points(self.values(measure), interval_ms)
    }

    /// The points of [`ProcessTimeline::series`] as they are read, gaps included, without
    /// holding them.
    pub fn points(
        &self,
        measure: Measure,
        interval_ms: u64,
    ) -> Gapped<impl Iterator<Item = (u64, Option<f64>)> + '_> {
        Gapped::new(self.values(measure), interval_ms)
    }

    /// Its samples with the gaps of its series (`None` where ticks are missing), for a reader
    /// that takes several measures in one pass.
    pub fn samples(
        &self,
        interval_ms: u64,
    ) -> Gapped<impl Iterator<Item = (u64, Option<Sample>)> + '_, Sample> {
        Gapped::new(self.rows.iter().map(|r| (r.t_ms, Some(r))), interval_ms)
    }

    fn values(&self, measure: Measure) -> impl Iterator<Item = (u64, Option<f64>)> + '_ {
        self.rows
            .iter()
            .map(move |r| (r.t_ms, Some(r.value(measure) as f64)))
    }

    /// The series of its memory: model memory where the trace has footprints (RSS where it
    /// has none). The figure every view calls this process's memory.
    pub fn memory(&self, interval_ms: u64) -> Series {
        self.series(Measure::ModelMemory, interval_ms)
    }

    /// The last value of [`ProcessTimeline::memory`].
    pub fn last_memory(&self) -> Option<u64> {
        self.rows.last().map(|r| r.value(Measure::ModelMemory))
    }

    /// The footprint series (RSS where the OS has no footprint).
    pub fn footprint(&self, interval_ms: u64) -> Series {
        self.series(Measure::Footprint, interval_ms)
    }

    /// The RSS series.
    pub fn rss(&self, interval_ms: u64) -> Series {
        self.series(Measure::Rss, interval_ms)
    }
}

/// A process's highest figures and its measure ([`ProcessTimeline::summary`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Its highest model memory ([`Sample::model_memory`], RSS where there is no footprint)
    /// and when it was first reached.
    pub peak_memory: Option<(u64, u64)>,
    /// Its highest footprint.
    pub max_footprint_bytes: Option<u64>,
    /// Its highest RSS.
    pub max_rss_bytes: Option<u64>,
    /// The most of its model file it held resident in its mappings.
    pub max_weights_bytes: Option<u64>,
    /// What its memory is told by ([`ProcessTimeline::measure`]).
    pub measure: Measure,
}

/// A whole trace.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    /// Where it was read from.
    pub dir: PathBuf,
    /// `meta.json`.
    pub meta: Meta,
    /// `system.csv`, in time order.
    pub system: Vec<SystemPoint>,
    /// One entry per process identity, in order of first sample.
    pub processes: Vec<ProcessTimeline>,
    /// `ollama_polls.csv`.
    pub polls: Vec<PollRow>,
    /// `models.csv`.
    pub models: Vec<ModelRow>,
    /// `pressure_events.csv`: the kernel's pressure notifications (none in traces written
    /// before the file existed).
    pub pressure: Vec<PressureRow>,
    /// `ollama_log.csv`: the lines of Ollama's server log that say something of memory (none
    /// when the recorder followed no log).
    pub ollama_log: Vec<OllamaLogRow>,
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

impl Timeline {
    /// Loads the trace in `dir`.
    pub fn load(dir: &Path) -> Result<Timeline, TraceError> {
        Timeline::load_window(dir, Window::ALL)
    }

    /// Reads and checks `meta.json`: see [`memtide_trace::read_meta`].
    pub fn meta(dir: &Path) -> Result<Meta, TraceError> {
        memtide_trace::read_meta(dir)
    }

    /// The `t_ms` of the newest system sample of the trace in `dir`: see
    /// [`memtide_trace::end_t_ms`].
    pub fn end_t_ms(dir: &Path) -> Result<Option<u64>, TraceError> {
        memtide_trace::end_t_ms(dir)
    }

    /// The system rows of the trace in `dir` in `window`, in order, and what was said of
    /// them.
    fn read_system(
        dir: &Path,
        meta: &Meta,
        window: Window,
        start_ms: i64,
    ) -> Result<(Vec<SystemPoint>, Vec<String>), TraceError> {
        let meta_path = dir.join(trace::META_FILE);
        let mut warnings = Vec::new();
        let system_path = dir.join(trace::SYSTEM_FILE);
        let mut system: Vec<SystemPoint> = Vec::new();
        let mut backwards = 0usize;
        let (mut kept, mut skipped, mut left_out) = (0, 0, false);
        // Where the wall clock first parted from the recorder's, and by how much.
        let mut parted: Option<(String, i64)> = None;
        let system_parts = parts_for(dir, trace::SYSTEM_FILE, meta, window)?;
        // Room for the rows at once, from the files' sizes, so that the points are never
        // copied into a vector twice as large while they are read (a week's would briefly
        // take three times its size). A row takes about 200 bytes; a compressed segment
        // about a sixth of its text. A window reads a part of it: what is left is freed below.
        let text_bytes: u64 = system_parts
            .iter()
            .filter_map(|p| {
                let len = std::fs::metadata(&p.path).ok()?.len();
                Some(if p.compressed { len * 6 } else { len })
            })
            .sum();
        system.reserve(usize::try_from(text_bytes / SYSTEM_ROW_BYTES).unwrap_or(0));
        // A segment meta.json lists that is not on disk (deleted by hand, lost with a disk):
        // said, with the stretch of time it held.
        for c in meta.segments.iter().flat_map(|s| &s.closed) {
            if window.overlaps(c.first_t_ms, c.last_t_ms)
                && !system_parts.iter().any(|p| p.number == Some(c.number))
            {
                warnings.push(format!(
                    "{}: segment {} ({} to {} ms) is listed but not on disk; its rows are \
                     missing from what follows",
                    meta_path.display(),
                    c.number,
                    c.first_t_ms,
                    c.last_t_ms
                ));
            }
        }
        for part in system_parts {
            let counted = each_row(&part, false, &mut warnings, |r: SystemRow| {
                if !window.contains(r.t_ms) {
                    return Ok(());
                }
                let utc_ms = clocks_agree(start_ms, &r.time_utc, r.t_ms)?;
                let apart = utc_ms - start_ms - r.t_ms as i64;
                if apart.unsigned_abs() > trace::rows::CLOCKS_PARTED_MS && parted.is_none() {
                    parted = Some((r.time_utc.clone(), apart));
                }
                in_range("free_percent", r.free_percent, 100.0)?;
                in_range("psi_some_avg10", r.psi_some_avg10, 100.0)?;
                in_range("psi_full_avg10", r.psi_full_avg10, 100.0)?;
                // Keeps the rows in the order the recorder wrote them: a row whose `t_ms` goes
                // back is dropped, and counted.
                if system.last().is_some_and(|l| r.t_ms < l.t_ms) {
                    backwards += 1;
                } else {
                    system.push(SystemPoint::from_row(&r, utc_ms));
                }
                Ok(())
            })?;
            kept += counted.kept;
            skipped += counted.skipped;
            left_out |= counted.left_out;
        }
        // Any other file may be left out; without a readable sample there is no trace to tell.
        if kept == 0 && (skipped > 0 || left_out) {
            return Err(TraceError::Invalid {
                path: system_path,
                detail: if skipped > 0 {
                    format!("none of its {skipped} rows can be read")
                } else {
                    format!(
                        "none of its rows can be read: {}",
                        warnings.last().map_or("", String::as_str)
                    )
                },
            });
        }
        if backwards > 0 {
            warnings.push(format!(
                "{}: {backwards} rows skipped whose time goes back",
                system_path.display()
            ));
        }
        if let Some((at, apart)) = parted {
            warnings.push(format!(
                "{}: from {at} on, the wall clock is {} {} the recorder's clock (the machine \
                 slept, or its clock was set): the rows are ordered and spaced by the \
                 recorder's clock, and keep the wall clock's time of day",
                system_path.display(),
                trace::rows::format_apart(apart.unsigned_abs()),
                if apart > 0 { "ahead of" } else { "behind" }
            ));
        }
        system.shrink_to_fit();
        Ok((system, warnings))
    }

    /// The samples of each process of the trace in `dir` in `window`, and what was said of
    /// them.
    fn read_processes(
        dir: &Path,
        meta: &Meta,
        window: Window,
        start_ms: i64,
        total: u64,
    ) -> Result<(BTreeMap<Identity, Samples>, Vec<String>), TraceError> {
        let mut warnings = Vec::new();
        // No process holds more than the machine has (a little slack for RAM sizes that a
        // trace states rounded).
        let limit = if total > 0 {
            total.saturating_mul(2)
        } else {
            u64::MAX
        };
        // Each identity's samples, found by a map only when the row is not of the identity
        // that came after the last row's (the rows of a tick come in the same order each
        // tick, so the guess is nearly always right).
        let mut all: Vec<(Identity, Samples)> = Vec::new();
        let mut index: std::collections::HashMap<Identity, usize> = Default::default();
        let mut next = 0usize;
        let mut last_time = LastTime::default();
        for part in parts_for(dir, trace::PROCESSES_FILE, meta, window)? {
            let find = ProcessColumns::find;
            each_record(&part, false, &mut warnings, find, |r, c| {
                let t_ms = required(r, c.t_ms, "t_ms")?;
                if !window.contains(t_ms) {
                    return Ok(());
                }
                last_time.check(start_ms, r.get(c.time_utc).unwrap_or_default(), t_ms)?;
                let pid = u32::try_from(required(r, c.pid, "pid")?)
                    .map_err(|_| "pid is too large".to_owned())?;
                let id = (pid, required(r, c.start_time_us, "start_time_us")?);
                let sample = Sample {
                    t_ms,
                    rss_bytes: required(r, c.rss_bytes, "rss_bytes")?,
                    footprint_bytes: c
                        .footprint_bytes
                        .map(|i| number(r, i, "footprint_bytes"))
                        .transpose()?
                        .flatten(),
                    rss_file_bytes: c
                        .rss_file_bytes
                        .map(|i| number(r, i, "rss_file_bytes"))
                        .transpose()?
                        .flatten(),
                    weights_resident_bytes: c
                        .weights_resident_bytes
                        .map(|i| number(r, i, "weights_resident_bytes"))
                        .transpose()?
                        .flatten(),
                };
                if sample.rss_bytes > limit || sample.footprint_bytes.is_some_and(|f| f > limit) {
                    return Err(format!(
                        "{} bytes in a {total}-byte machine",
                        sample.rss_bytes
                    ));
                }
                let i = match all.get(next) {
                    Some((known, _)) if *known == id => next,
                    _ => *index.entry(id).or_insert_with(|| {
                        all.push((id, Samples::default()));
                        all.len() - 1
                    }),
                };
                all[i].1.push(sample);
                next = (i + 1) % all.len();
                Ok(())
            })?;
        }
        Ok((all.into_iter().collect(), warnings))
    }

    /// Loads the rows of the trace in `dir` that lie in `window`, opening only the segments
    /// that overlap it; the identities of every process with a row in it.
    pub fn load_window(dir: &Path, window: Window) -> Result<Timeline, TraceError> {
        let meta = Timeline::meta(dir)?;
        let meta_path = dir.join(trace::META_FILE);
        let start_ms = meta
            .start_utc
            .parse::<jiff::Timestamp>()
            .map_err(|_| TraceError::Invalid {
                path: meta_path.clone(),
                detail: format!("start_utc `{}` is not a UTC time", meta.start_utc),
            })?
            .as_millisecond();
        let total = meta.total_memory_bytes;
        // The system's rows and the processes' rows are read at once, each file on its own
        // thread: a week's processes take four fifths of the reading.
        let (system, processes) = std::thread::scope(|scope| {
            let processes =
                scope.spawn(|| Timeline::read_processes(dir, &meta, window, start_ms, total));
            let system = Timeline::read_system(dir, &meta, window, start_ms);
            let processes = processes
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (system, processes)
        });
        let (system, mut warnings) = system?;
        let (mut by_id, process_warnings) = processes?;
        warnings.extend(process_warnings);
        let windowed = window != Window::ALL;
        let identities: Vec<IdentityRow> = read_rows(
            &[Part {
                path: dir.join(trace::IDENTITIES_FILE),
                number: None,
                compressed: false,
            }],
            true,
            &mut warnings,
            // In a window, only the processes that have rows in it.
            |r: &IdentityRow| Ok(!windowed || by_id.contains_key(&(r.pid, r.start_time_us))),
        )?;
        let polls: Vec<PollRow> = read_rows(
            &parts_for(dir, trace::POLLS_FILE, &meta, window)?,
            true,
            &mut warnings,
            |r: &PollRow| {
                if !window.contains(r.t_ms) {
                    return Ok(false);
                }
                clocks_agree(start_ms, &r.time_utc, r.t_ms).map(|_| true)
            },
        )?;
        let models: Vec<ModelRow> = read_rows(
            &parts_for(dir, trace::MODELS_FILE, &meta, window)?,
            true,
            &mut warnings,
            |r: &ModelRow| {
                if !window.contains(r.t_ms) {
                    return Ok(false);
                }
                clocks_agree(start_ms, &r.time_utc, r.t_ms).map(|_| true)
            },
        )?;

        // Older traces have no pressure_events.csv.
        let pressure_parts: Vec<Part> = parts_for(dir, trace::PRESSURE_FILE, &meta, window)?
            .into_iter()
            .filter(|p| p.path.exists())
            .collect();
        let pressure: Vec<PressureRow> =
            read_rows(&pressure_parts, true, &mut warnings, |r: &PressureRow| {
                if !window.contains(r.t_ms) {
                    return Ok(false);
                }
                clocks_agree(start_ms, &r.time_utc, r.t_ms).map(|_| true)
            })?;

        // Only traces whose recorder followed Ollama's log have ollama_log.csv.
        let log_parts: Vec<Part> = parts_for(dir, trace::OLLAMA_LOG_FILE, &meta, window)?
            .into_iter()
            .filter(|p| p.path.exists())
            .collect();
        let ollama_log: Vec<OllamaLogRow> =
            read_rows(&log_parts, true, &mut warnings, |r: &OllamaLogRow| {
                Ok(window.contains(r.t_ms))
            })?;

        let mut processes: Vec<ProcessTimeline> = Vec::new();
        for ident in identities {
            let mut rows = by_id
                .remove(&(ident.pid, ident.start_time_us))
                .unwrap_or_default();
            rows.sort();
            rows.shrink_to_fit();
            processes.push(ProcessTimeline {
                identity: ident,
                rows,
            });
        }
        // Rows of processes the identity table does not know (a recorder killed before
        // rewriting it) still count.
        for ((pid, start), mut rows) in by_id {
            rows.sort();
            rows.shrink_to_fit();
            processes.push(ProcessTimeline {
                identity: IdentityRow {
                    pid,
                    start_time_us: start,
                    ..IdentityRow::default()
                },
                rows,
            });
        }
        processes.sort_by_key(|p| p.span().map_or(u64::MAX, |s| s.0));
        let times: Vec<u64> = system.iter().map(|r| r.t_ms).collect();
        // A gap is a step well beyond the usual one; in a trace sampled faster after events
        // (`--burst`), the usual one is the interval at rest, not the median.
        let system_step_ms = median_step(&times)
            .unwrap_or(meta.interval_ms)
            .max(meta.interval_ms);
        Ok(Timeline {
            system_step_ms,
            dir: dir.to_owned(),
            meta,
            system,
            processes,
            polls,
            models,
            pressure,
            ollama_log,
            warnings,
        })
    }

    /// The recording's interval in ms.
    pub fn interval_ms(&self) -> u64 {
        self.meta.interval_ms
    }

    /// A system field as a series (`f` picks the field).
    pub fn system_series(&self, f: impl Fn(&SystemPoint) -> Option<f64>) -> Series {
        Series::from_points(self.system_points(f), self.system_step_ms)
    }

    /// The points of [`Timeline::system_series`] as they are read, gaps included, without
    /// holding them.
    pub fn system_points<'a, F: Fn(&SystemPoint) -> Option<f64> + 'a>(
        &'a self,
        f: F,
    ) -> Gapped<impl Iterator<Item = (u64, Option<f64>)> + 'a> {
        Gapped::new(
            self.system.iter().map(move |r| (r.t_ms, f(r))),
            self.system_step_ms,
        )
    }

    /// The system samples with `t_ms` in `[from, to]` (the samples are in time order).
    pub fn system_between(&self, from: u64, to: u64) -> &[SystemPoint] {
        let a = self.system.partition_point(|r| r.t_ms < from);
        let b = self.system.partition_point(|r| r.t_ms <= to);
        &self.system[a..b.max(a)]
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

    const META: &str = r#"{"format_version":1,"memtide_version":"t","os":"linux","os_version":null,
        "arch":"x86_64","total_memory_bytes":1000000,"page_size_bytes":4096,"interval_ms":1000,
        "selection":{"ollama_default":true,"patterns":[],"pids":[],"children_of":null,"all":false},
        "start_utc":"2026-05-14T09:25:00.000Z","end_utc":null,"samples":null,"missed_ticks":null,
        "ollama":null}"#;

    fn trace_with(processes: &str) -> (tempfile::TempDir, Result<Timeline, TraceError>) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(trace::META_FILE), META).unwrap();
        std::fs::write(
            dir.path().join(trace::SYSTEM_FILE),
            "time_utc,t_ms,total_bytes,stats_age_ms\n2026-05-14T09:25:00.000Z,0,1000000,0\n",
        )
        .unwrap();
        std::fs::write(dir.path().join(trace::PROCESSES_FILE), processes).unwrap();
        for f in [
            trace::IDENTITIES_FILE,
            trace::POLLS_FILE,
            trace::MODELS_FILE,
        ] {
            std::fs::write(dir.path().join(f), "x\n").unwrap();
        }
        let tl = Timeline::load(dir.path());
        (dir, tl)
    }

    #[test]
    fn process_rows_are_read_by_column_name_in_time_order_and_bad_fields_named() {
        // Columns in another order than the recorder writes them, one column it does not
        // know, rows out of time order, a BOM, and three bad rows.
        let csv = "\u{feff}pid,start_time_us,extra,t_ms,time_utc,rss_bytes,footprint_bytes\n\
                   7,1,a,2000,2026-05-14T09:25:02.000Z,300,\n\
                   7,1,a,1000,2026-05-14T09:25:01.000Z,200,150\n\
                   7,1,a,3000,2026-05-14T09:25:03.000Z,12x,\n\
                   7,1,a,4000,2026-05-14T09:25:04.000Z,,\n\
                   8,1,a,4000,2026-05-14T09:25:04.000Z,9000000,\n";
        let (_d, tl) = trace_with(csv);
        let tl = tl.unwrap();
        assert_eq!(tl.processes.len(), 1);
        let p = &tl.processes[0];
        assert_eq!(
            p.rows.iter().map(|r| r.t_ms).collect::<Vec<_>>(),
            [1000, 2000]
        );
        assert_eq!(
            p.rows.iter().collect::<Vec<_>>(),
            [
                Sample {
                    t_ms: 1000,
                    rss_bytes: 200,
                    footprint_bytes: Some(150),
                    rss_file_bytes: None,
                    weights_resident_bytes: None,
                },
                Sample {
                    t_ms: 2000,
                    rss_bytes: 300,
                    footprint_bytes: None,
                    rss_file_bytes: None,
                    weights_resident_bytes: None,
                }
            ]
        );
        let w = tl.warnings.join("\n");
        assert!(w.contains("3 rows skipped"), "{w}");
        assert!(
            w.contains("line 4: rss_bytes: `12x` is not a whole number"),
            "{w}"
        );
        assert!(w.contains("line 5: rss_bytes is empty"), "{w}");
        assert!(
            w.contains("line 6: 9000000 bytes in a 1000000-byte machine"),
            "{w}"
        );
        // A file without a column the rows need says which.
        let (_d, tl) =
            trace_with("time_utc,t_ms,pid,start_time_us\n2026-05-14T09:25:00.000Z,0,7,1\n");
        let e = tl.unwrap_err().to_string();
        assert!(e.contains("no `rss_bytes` column"), "{e}");
    }

    #[test]
    fn samples_keep_absent_values_absent() {
        let s: Samples = [
            Sample {
                t_ms: 5,
                rss_bytes: 1,
                footprint_bytes: None,
                rss_file_bytes: Some(0),
                weights_resident_bytes: None,
            },
            Sample {
                t_ms: 1,
                rss_bytes: 2,
                footprint_bytes: Some(u64::MAX - 1),
                rss_file_bytes: None,
                weights_resident_bytes: None,
            },
        ]
        .into_iter()
        .collect();
        let mut sorted = s.clone();
        sorted.sort();
        assert_eq!(sorted.first().unwrap().footprint_bytes, Some(u64::MAX - 1));
        assert_eq!(
            sorted.last().unwrap().rss_file_bytes,
            Some(0),
            "0 is a value"
        );
        assert_eq!(sorted.last().unwrap().footprint_bytes, None);
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn samples_come_back_as_pushed_in_a_few_bytes_each() {
        // Every kind of step: none, a page, down, up from nothing to a value, the extremes.
        let mut pushed = Vec::new();
        let mut rss = 3 << 30u64;
        for i in 0..10_000u64 {
            rss = match i % 7 {
                0 => rss + 4096,
                1 => rss - 8192,
                2 => rss + (1 << 28),
                3 => rss - (1 << 28),
                _ => rss,
            };
            pushed.push(Sample {
                t_ms: i * 1000 + i % 3,
                rss_bytes: rss,
                footprint_bytes: (i % 100 != 5).then_some(rss / 2),
                rss_file_bytes: Some(if i == 9 { u64::MAX - 1 } else { 0 }),
                weights_resident_bytes: (i > 50).then_some(5 << 30),
            });
        }
        let s: Samples = pushed.iter().copied().collect();
        assert_eq!(s.iter().len(), pushed.len());
        assert_eq!(s.iter().collect::<Vec<_>>(), pushed);
        assert_eq!(s.first(), pushed.first().copied());
        assert_eq!(s.last(), pushed.last().copied());
        let each = s.encoded_bytes() as f64 / pushed.len() as f64;
        assert!(each < 12.0, "{each} bytes a sample");
        // An idle process sampled each second: one byte for the time (its step does not
        // change), one per figure.
        let idle: Samples = (0..1000u64)
            .map(|i| Sample {
                t_ms: i * 1000,
                rss_bytes: 500 << 20,
                footprint_bytes: Some(400 << 20),
                rss_file_bytes: Some(20 << 20),
                weights_resident_bytes: None,
            })
            .collect();
        assert!(
            idle.encoded_bytes() <= 1000 * 5 + 64,
            "{}",
            idle.encoded_bytes()
        );
        // Times out of order (rows of two files read in turn) come back as pushed, and in
        // order once sorted.
        let times = [5_000u64, 1_000, 9_000, 2_000, 2_000, 0, u64::MAX / 2];
        let mut s: Samples = times
            .iter()
            .map(|&t_ms| Sample {
                t_ms,
                ..Sample::default()
            })
            .collect();
        assert_eq!(s.iter().map(|x| x.t_ms).collect::<Vec<_>>(), times);
        s.sort();
        let mut sorted = times;
        sorted.sort_unstable();
        assert_eq!(s.iter().map(|x| x.t_ms).collect::<Vec<_>>(), sorted);
        assert_eq!(Samples::default().iter().next(), None);
        assert_eq!(Samples::default().last(), None);
    }

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
