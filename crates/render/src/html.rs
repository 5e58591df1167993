//! The viewer: one self-contained HTML page to explore a trace, that works from `file://`
//! with no network. Its charts are drawn by uPlot (MIT, vendored from the npm registry in
//! `assets/uplot/`, version [`UPLOT_VERSION`]) with memtide's own script around it
//! (`assets/viewer.js`): three panels on one time axis (memory per process, system memory,
//! swap), drag to zoom, double-click to reset, a table of what was alive at the moment under
//! the cursor (or at `#t=<ISO time>` in the URL), legend entries that hide and show series, a
//! runners-only filter, and the event list, each event zooming the charts to itself.
//!
//! Every string from the trace is escaped: in the HTML by [`escape`], in the embedded data by
//! JSON with `<` written as `\u003c`, so that no name can close the script; the script puts
//! strings on the page as text, never as markup.

use crate::chart::{self, ChartOptions, RenderError};
use crate::format_opt_bytes;
use crate::report::{sentence, Clock};
use crate::series::{self, Measure};
use memtide_model::report::Report;
use memtide_model::runner::Role;
use memtide_model::timeline::Timeline;
use memtide_trace::PressureLevel;
use serde::Serialize;
use std::fmt::Write;

/// The version of uPlot inlined into every page.
pub const UPLOT_VERSION: &str = "1.6.32";
const UPLOT_JS: &str = include_str!("../assets/uplot/uPlot.iife.min.js");
pub(crate) const UPLOT_CSS: &str = include_str!("../assets/uplot/uPlot.min.css");
const UPLOT_LICENSE: &str = include_str!("../assets/uplot/LICENSE");
const VIEWER_JS: &str = include_str!("../assets/viewer.js");
const UNITS_JS: &str = include_str!("../assets/units.js");
const VIEWER_CSS: &str = include_str!("../assets/viewer.css");

/// The page holds at most about this many numbers; longer traces are cut to fewer rows by the
/// charts' peak-preserving decimation (each row a bucket's first and last sample time, with
/// every series' lowest and highest value in the bucket, in time order).
pub const MAX_VALUES: usize = 1_500_000;
/// However few series there are, the page holds at most this many rows…
pub const MAX_ROWS: usize = 40_000;
/// …and, however many, at least this many (when the trace has them).
pub const MIN_ROWS: usize = 4_000;

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let s = crate::escape_control(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[derive(Serialize)]
struct Data {
    title: String,
    /// Where the trace's clock starts, ms since the Unix epoch.
    start_epoch_ms: i64,
    /// The local offset times are shown in, ms.
    offset_ms: i64,
    /// `UTC+02:00`.
    offset_label: String,
    total_bytes: u64,
    gpu_wired_limit_bytes: Option<u64>,
    /// What "available" is on this OS.
    available_source: Option<&'static str>,
    has_free_percent: bool,
    /// `model_memory`, `footprint` or `rss`: what the per-process panel draws.
    metric: &'static str,
    /// What the panel's title calls it.
    metric_label: &'static str,
    /// Rows in the trace's window, and rows here (fewer when decimated).
    rows_in_trace: usize,
    /// `t_ms` of each row.
    x: Vec<u64>,
    procs: Vec<Proc>,
    sys: Sys,
    /// What the machine never used while recording (`swap`, `compressor`): left out of the
    /// charts and the table, as the static chart leaves them out.
    left_out: Vec<memtide_model::events::Unused>,
    bands: Vec<BandOut>,
    markers: Vec<MarkerOut>,
}

#[derive(Serialize)]
struct Proc {
    label: String,
    pid: u32,
    role: &'static str,
    /// What the table of processes alive calls it: a runner by its model, a process the
    /// selection took in by its name, a helper by its role.
    name: String,
    model: Option<String>,
    runner: bool,
    /// One of the lines the static chart draws (the runners by peak).
    top: bool,
    color: String,
    peak_bytes: u64,
    /// Model memory (footprint plus mapped weights; RSS where the trace has no footprint).
    memory: Vec<ByteCell>,
    /// What its memory is told by ([`Measure`]): the table shows model memory only where its
    /// mapped weights were counted (as the report, `serve` and `compare` do; the footprint
    /// alone is not model memory), and a footprint only where the trace has one (not in an
    /// import of `ps` loops), instead of showing another figure under their names.
    measure: Measure,
    footprint: Vec<ByteCell>,
    rss: Vec<ByteCell>,
}

#[derive(Serialize)]
struct Sys {
    available: Vec<ByteCell>,
    free_percent: Vec<Cell<f64>>,
    /// The kernel's level at or before each row (the worst of a bucket).
    pressure: Vec<Option<PressureLevel>>,
    wired: Vec<ByteCell>,
    compressor: Vec<ByteCell>,
    swap: Vec<ByteCell>,
}

#[derive(Serialize)]
struct BandOut {
    kind: chart::BandKind,
    start: u64,
    end: u64,
    depth: usize,
    /// Its fill, as the chart shades it.
    color: String,
}

#[derive(Serialize)]
struct MarkerOut {
    kind: chart::MarkerKind,
    t: u64,
    label: String,
    /// Its line's colour and dash, as the chart draws it.
    color: &'static str,
    dashed: bool,
}

/// One series at one row of the page's time grid.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Cell<T> {
    /// The series has no sample at this time (another series has): the line runs on across
    /// it. Written as `-1`, since no value of the page's series is negative.
    Absent,
    /// A gap: the reading failed or ticks were missed; the line breaks. Written as `null`.
    Gap,
    /// A reading.
    Value(T),
}

impl<T: Serialize> Serialize for Cell<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Cell::Absent => s.serialize_i8(-1),
            Cell::Gap => s.serialize_none(),
            Cell::Value(v) => v.serialize(s),
        }
    }
}

/// A [`Cell`] of bytes in 8 bytes where the enum takes 16: a page of a week holds 1.4 million
/// of them. The two highest values stand for absent and gap; no series of the page comes near
/// them (they are bytes of memory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ByteCell(u64);

impl ByteCell {
    const ABSENT: u64 = u64::MAX;
    const GAP: u64 = u64::MAX - 1;

    fn cell(self) -> Cell<u64> {
        match self.0 {
            ByteCell::ABSENT => Cell::Absent,
            ByteCell::GAP => Cell::Gap,
            v => Cell::Value(v),
        }
    }
}

impl From<Cell<u64>> for ByteCell {
    fn from(c: Cell<u64>) -> ByteCell {
        ByteCell(match c {
            Cell::Absent => ByteCell::ABSENT,
            Cell::Gap => ByteCell::GAP,
            Cell::Value(v) => v.min(ByteCell::GAP - 1),
        })
    }
}

impl Serialize for ByteCell {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.cell().serialize(s)
    }
}

/// The rows kept: all of them, or for each of `buckets` equal runs of rows its first and last.
/// Each kept row then takes, for each series, the bucket's extreme values (see [`pick`]).
fn buckets(n: usize, max_rows: usize) -> Vec<(usize, usize)> {
    if n <= max_rows {
        return (0..n).map(|i| (i, i)).collect();
    }
    let b = (max_rows / 2).max(1);
    (0..b)
        .map(|k| (k * n / b, ((k + 1) * n / b).max(k * n / b + 1) - 1))
        .collect()
}

/// One series over the kept rows, fed its points in time order: a bucket of one row keeps its
/// cell; a longer bucket gives its first row the extreme (lowest or highest) that came first
/// and its last row the other, so that no peak is lost. A bucket with no value is a gap if it
/// holds one, else absent. A point at a time off the grid (outside the window) is passed over;
/// of two points at one time the later counts. Holds one bucket at a time, never the series.
struct Picker<'a, T> {
    /// The page's grid: every time any series has a point, in order.
    x: &'a [u64],
    /// The buckets of rows of `x`, contiguous, in order ([`buckets`]).
    spans: &'a [(usize, usize)],
    /// Where the last point fell in `x`.
    at: usize,
    /// The bucket being filled.
    span: usize,
    /// The last point's row and cell, not yet counted (a later point may replace it).
    pending: Option<(usize, Cell<T>)>,
    /// The bucket's lowest and highest values, with their rows; its one cell if one row long.
    lo: Option<(usize, T)>,
    hi: Option<(usize, T)>,
    gap: bool,
    single: Cell<T>,
    out: Vec<Cell<T>>,
}

impl<'a, T: Copy + PartialOrd> Picker<'a, T> {
    fn new(x: &'a [u64], spans: &'a [(usize, usize)]) -> Self {
        Picker {
            x,
            spans,
            at: 0,
            span: 0,
            pending: None,
            lo: None,
            hi: None,
            gap: false,
            single: Cell::Absent,
            out: Vec::with_capacity(spans.len() * 2),
        }
    }

    /// The point at `t`.
    fn push(&mut self, t: u64, cell: Cell<T>) {
        self.at = seek(self.x, self.at, t);
        if self.x.get(self.at) != Some(&t) {
            return;
        }
        match self.pending.replace((self.at, cell)) {
            Some((row, c)) if row != self.at => self.count(row, c),
            _ => {}
        }
    }

    fn count(&mut self, row: usize, cell: Cell<T>) {
        while self.spans.get(self.span).is_some_and(|s| s.1 < row) {
            self.close();
        }
        let Some(&(a, b)) = self.spans.get(self.span) else {
            return;
        };
        if a == b {
            self.single = cell;
            return;
        }
        match cell {
            Cell::Value(v) => {
                if self.lo.is_none_or(|(_, l)| v < l) {
                    self.lo = Some((row, v));
                }
                if self.hi.is_none_or(|(_, h)| v > h) {
                    self.hi = Some((row, v));
                }
            }
            Cell::Gap => self.gap = true,
            Cell::Absent => {}
        }
    }

    /// Writes the bucket being filled and moves to the next.
    fn close(&mut self) {
        let Some(&(a, b)) = self.spans.get(self.span) else {
            return;
        };
        if a == b {
            self.out
                .push(std::mem::replace(&mut self.single, Cell::Absent));
        } else {
            match (self.lo.take(), self.hi.take()) {
                (Some(l), Some(h)) => {
                    let (first, second) = if l.0 <= h.0 { (l, h) } else { (h, l) };
                    self.out.push(Cell::Value(first.1));
                    self.out.push(Cell::Value(second.1));
                }
                _ => {
                    let c = if self.gap { Cell::Gap } else { Cell::Absent };
                    self.out.push(c);
                    self.out.push(c);
                }
            }
            self.gap = false;
        }
        self.span += 1;
    }

    /// The cells of the kept rows.
    fn finish(mut self) -> Vec<Cell<T>> {
        if let Some((row, c)) = self.pending.take() {
            self.count(row, c);
        }
        while self.span < self.spans.len() {
            self.close();
        }
        self.out
    }
}

/// The first index from `at` on where `x` (in order) reaches `t`. Points read in order land
/// on the grid's next row or the one after nearly always: those are looked at first, and the
/// rest of the grid searched only past them.
fn seek(x: &[u64], at: usize, t: u64) -> usize {
    if let Some(i) = x[at..].iter().take(2).position(|&v| v >= t) {
        return at + i;
    }
    let from = (at + 2).min(x.len());
    from + x[from..].partition_point(|&v| v < t)
}

/// Points of a series (`None` a gap), in time order, as cells of the kept rows of the grid.
fn picked<T: Copy + PartialOrd>(
    x: &[u64],
    spans: &[(usize, usize)],
    points: impl IntoIterator<Item = (u64, Option<T>)>,
) -> Vec<Cell<T>> {
    let mut p = Picker::new(x, spans);
    for (t, v) in points {
        p.push(t, v.map_or(Cell::Gap, Cell::Value));
    }
    p.finish()
}

/// Points of a series (`None` a gap) as bytes on the grid: their cells, fed in order.
fn cells_of(
    x: &[u64],
    spans: &[(usize, usize)],
    points: impl IntoIterator<Item = (u64, Option<f64>)>,
) -> Vec<ByteCell> {
    let bytes = points
        .into_iter()
        .map(|(t, v)| (t, v.map(|v| v.round() as u64)));
    picked(x, spans, bytes)
        .into_iter()
        .map(ByteCell::from)
        .collect()
}

/// `base` (in order, without repeats) with the times of `points` it lacks: the grid of a
/// page, from the system's times and each series'. What is added is collected apart and
/// merged once, so that a trace whose processes are sampled with the system adds nothing.
fn add_times(base: &[u64], extra: &mut Vec<u64>, points: impl IntoIterator<Item = u64>) {
    let mut at = 0;
    for t in points {
        at = seek(base, at, t);
        if base.get(at) != Some(&t) {
            extra.push(t);
        }
    }
}

/// The data the page embeds, for the window of `opts`.
fn data(
    tl: &Timeline,
    report: &Report,
    opts: &ChartOptions,
    clock: &Clock,
) -> Result<Data, RenderError> {
    let (from, to) = chart::window(tl, opts)?;
    let in_window = |t: &u64| (from..=to).contains(t);
    let procs = series::processes(tl, report, opts.metric, from, to, series::Lines::Chosen);
    let interval = tl.interval_ms();
    // Every series is read onto the grid as its points come, one at a time, so that the page
    // of a week holds its grid and its kept rows, never a week of any series.
    let lines: Vec<&series::ProcessLine> = procs.shown.iter().chain(&procs.rest).collect();
    let available = series::source(tl);
    let total = tl.meta.total_memory_bytes;
    let sys = |f: fn(&memtide_model::timeline::SystemPoint) -> Option<u64>| {
        tl.system_points(move |r| f(r).map(|v| v as f64))
    };
    // The grid: every time at which any series has a sample or a gap, so that each keeps
    // its own resolution (an imported trace's processes were sampled more often than its
    // system).
    let mut x_all: Vec<u64> = tl.system_between(from, to).iter().map(|r| r.t_ms).collect();
    let mut extra = Vec::new();
    for p in &lines {
        let times = tl.processes[p.index].points(Measure::Footprint, interval);
        add_times(&x_all, &mut extra, times.map(|(t, _)| t).filter(in_window));
    }
    let percent_times = tl.system_points(|r| r.free_percent.get()).map(|(t, _)| t);
    add_times(&x_all, &mut extra, percent_times.filter(in_window));
    if !extra.is_empty() {
        x_all.extend(extra);
        x_all.sort_unstable();
        x_all.dedup();
    }
    x_all.shrink_to_fit();
    let n = x_all.len();
    let n_series = 6 + 3 * lines.len();
    let max_rows = (MAX_VALUES / n_series).clamp(MIN_ROWS, MAX_ROWS);
    let spans = buckets(n, max_rows);
    let x: Vec<u64> = spans
        .iter()
        .flat_map(|&(a, b)| {
            if a == b {
                vec![x_all[a]]
            } else {
                vec![x_all[a], x_all[b]]
            }
        })
        .collect();
    let grid =
        |points: &mut dyn Iterator<Item = (u64, Option<f64>)>| cells_of(&x_all, &spans, points);
    let bytes = |v: Option<u64>| v.map_or(Cell::Gap, Cell::Value);
    let out_procs = lines
        .iter()
        .enumerate()
        .map(|(k, p)| {
            let t = &tl.processes[p.index];
            let pr = &report.processes[p.index];
            // The three measures read onto the grid in one pass over the samples.
            let mut measures = [Measure::ModelMemory, Measure::Footprint, Measure::Rss]
                .map(|m| (m, Picker::new(&x_all, &spans)));
            for (at, sample) in t.samples(interval) {
                for (m, picker) in &mut measures {
                    picker.push(at, bytes(sample.map(|s| s.value(*m))));
                }
            }
            let [memory, footprint, rss] = measures.map(|(_, p)| {
                p.finish()
                    .into_iter()
                    .map(ByteCell::from)
                    .collect::<Vec<_>>()
            });
            let top = k < procs.shown.len();
            // The processes the static chart sums get muted, distinct colours here.
            let color = if top {
                p.color.to_owned()
            } else {
                format!("hsl({}, 25%, 55%)", (k * 47) % 360)
            };
            Proc {
                label: p.label.clone(),
                pid: p.pid,
                role: pr.role.label(),
                name: match &pr.role {
                    Role::Runner { .. } => pr
                        .model
                        .clone()
                        .unwrap_or_else(|| "unknown model".to_owned()),
                    Role::Other => pr.name.clone(),
                    role => role.label().to_owned(),
                },
                model: pr.model.clone(),
                runner: p.runner,
                top,
                color,
                peak_bytes: p.peak as u64,
                memory,
                measure: pr.metric,
                footprint,
                rss,
            }
        })
        .collect();
    // The system row in force at each time of the grid, and for each kept row the worst
    // pressure of its bucket: the rows are walked once, beside the grid.
    let mut row = 0;
    let mut pressure_at = |t: u64| {
        row += tl.system[row..].partition_point(|r| r.t_ms <= t);
        row.checked_sub(1).and_then(|i| tl.system[i].pressure)
    };
    let pressure: Vec<Option<PressureLevel>> = spans
        .iter()
        .flat_map(|&(a, b)| {
            let worst = x_all[a..=b].iter().map(|&t| pressure_at(t)).max().flatten();
            if a == b {
                vec![worst]
            } else {
                vec![worst, worst]
            }
        })
        .collect();
    let free_percent = picked(&x_all, &spans, tl.system_points(|r| r.free_percent.get()));
    let available_cells = match available {
        Some(from) => grid(&mut tl.system_points(move |r| {
            from.read(total, r.free_percent.get(), r.available_bytes.get())
                .map(|v| v as f64)
        })),
        None => vec![ByteCell(ByteCell::ABSENT); x.len()],
    };
    let wired = grid(&mut sys(|r| r.wired_bytes.get()));
    let compressor = grid(&mut sys(|r| r.compressor_bytes.get()));
    let swap = grid(&mut sys(|r| r.swap_used_bytes.get()));
    let start = tl.wall(0).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let (title, from_utc) = chart::title(tl, clock, from, to);
    Ok(Data {
        title,
        start_epoch_ms: start.as_millisecond(),
        offset_ms: clock.offset_seconds(start) * 1000,
        offset_label: clock.offset(&from_utc),
        total_bytes: tl.meta.total_memory_bytes,
        gpu_wired_limit_bytes: tl.meta.gpu_wired_limit_bytes.filter(|&b| b > 0),
        available_source: available.map(|a| a.describe(&tl.meta.os)),
        has_free_percent: series::has_free_percent(tl),
        metric: opts.metric.key(),
        metric_label: series::measure_label(tl, opts.metric),
        rows_in_trace: n,
        sys: Sys {
            available: available_cells,
            free_percent,
            pressure,
            wired,
            compressor,
            swap,
        },
        left_out: memtide_model::events::unused(tl),
        x,
        procs: out_procs,
        bands: chart::bands(report)
            .into_iter()
            .filter(|b| b.end_ms >= from && b.start_ms <= to)
            .map(|b| BandOut {
                kind: b.kind,
                start: b.start_ms,
                end: b.end_ms,
                depth: b.depth,
                color: chart::band_css(b.kind, b.depth),
            })
            .collect(),
        markers: chart::markers(report)
            .into_iter()
            .filter(|m| in_window(&m.t_ms))
            .map(|m| MarkerOut {
                kind: m.kind,
                t: m.t_ms,
                label: m.label,
                color: m.kind.hex(),
                dashed: m.kind.dashed(),
            })
            .collect(),
    })
}

/// JSON that can sit inside a `<script>` element: no `<` at all, so that no string in it can
/// end the element.
pub(crate) fn script_json<T: Serialize>(v: &T) -> Result<String, RenderError> {
    json_into(String::new(), v, 0)
}

/// `text` with [`script_json`] of `v` after it, with room for `bound` more bytes made at once:
/// a bound above what is written costs nothing (pages never written are never resident),
/// while a buffer grown by doubling would copy what it holds and, for a moment, hold it twice.
fn json_into<T: Serialize>(text: String, v: &T, bound: usize) -> Result<String, RenderError> {
    let mut out = NoLessThan(text.into_bytes());
    out.0.reserve_exact(bound);
    serde_json::to_writer(&mut out, v).map_err(|e| RenderError::Draw(e.to_string()))?;
    String::from_utf8(out.0).map_err(|e| RenderError::Draw(e.to_string()))
}

/// Bytes with every `<` written as the JSON escape `\u003c` as they come (a `<` is always
/// inside a JSON string, where the escape means the same), so that a page's data is written
/// once rather than written and then copied with the replacement.
struct NoLessThan(Vec<u8>);

impl std::io::Write for NoLessThan {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for part in buf.split_inclusive(|&b| b == b'<') {
            match part.split_last() {
                Some((b'<', head)) => {
                    self.0.extend_from_slice(head);
                    self.0.extend_from_slice(b"\\u003c");
                }
                _ => self.0.extend_from_slice(part),
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What both pages' own scripts stand on, as `<script>` elements: uPlot, inlined with its
/// licence, and memtide's byte units (`assets/units.js`).
pub(crate) fn shared_scripts() -> String {
    format!(
        "<script>/* uPlot {UPLOT_VERSION}, https://github.com/leeoniya/uPlot, inlined by memtide under its licence:\n{}*/\n{UPLOT_JS}</script>\n<script>{UNITS_JS}</script>",
        UPLOT_LICENSE.replace("*/", "* /")
    )
}

/// The page.
pub fn page(
    tl: &Timeline,
    report: &Report,
    opts: &ChartOptions,
    clock: &Clock,
) -> Result<String, RenderError> {
    let report = &crate::contained(report);
    let data = data(tl, report, opts, clock)?;
    // Each number of the data takes at most 20 digits and a comma.
    let numbers = data.x.len() * (7 + 3 * data.procs.len());
    let shown_rows = data.x.len();
    let Data {
        title,
        offset_label,
        metric_label,
        has_free_percent,
        rows_in_trace,
        left_out,
        ..
    } = &data;
    let (has_free_percent, rows_in_trace) = (*has_free_percent, *rows_in_trace);
    let mut o = String::with_capacity(64 * 1024);
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"generator\" content=\"{} {}\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title>\n<style>{UPLOT_CSS}</style>\n<style>{VIEWER_CSS}</style></head><body>\n",
        crate::DRAWN_BY,
        env!("CARGO_PKG_VERSION"),
        escape(title)
    );
    let _ = writeln!(
        o,
        "<header><h1>{}</h1><p class=\"summary\">{}</p>",
        escape(title),
        escape(&crate::report::summary(report, clock))
    );
    if rows_in_trace > shown_rows {
        let _ = writeln!(
            o,
            "<p class=\"note\">{} samples, shown as {} rows: each row holds the lowest and highest value of its stretch, so that no peak is lost. Render a shorter window (--from, --to) to see every sample.</p>",
            rows_in_trace,
            shown_rows
        );
    }
    let _ = writeln!(
        o,
        "</header>\n<div class=\"toolbar\"><span>Showing <b id=\"range\"></b></span>\
         <button id=\"reset\" type=\"button\">Show all</button>\
         <label>Processes <select id=\"filter\"><option value=\"all\">all processes</option>\
         <option value=\"runners\">runners only</option></select></label>\
         <span class=\"hint\">Drag across a chart to zoom, double-click to show all; click a legend entry to hide or show its line. Times are local ({}).</span></div>",
        escape(offset_label)
    );
    let _ = writeln!(
        o,
        "<main class=\"layout\"><section class=\"charts\">\
         <h2>Memory per process ({})</h2><div id=\"chart-processes\" class=\"chart\">\
         <div id=\"marker-tip\" hidden></div></div>\
         <h2>System memory{}</h2><div id=\"chart-system\" class=\"chart\"></div>{}{}</section>",
        metric_label,
        if has_free_percent {
            " (right axis: free %)"
        } else {
            ""
        },
        crate::left_out_note(left_out).map_or_else(String::new, |n| format!(
            "<p class=\"summary\" id=\"left-out\">{}.</p>",
            escape(&crate::report::capital(&n))
        )),
        if left_out.contains(&memtide_model::events::Unused::Swap) {
            ""
        } else {
            "<h2>Swap used</h2><div id=\"chart-swap\" class=\"chart\"></div>"
        }
    );
    let _ = writeln!(
        o,
        "<aside class=\"side\"><div id=\"hover\"><h2 id=\"at\">Point at a chart to see what was alive</h2>\
         <table id=\"alive\"><thead><tr><th>Process</th><th>PID</th><th>Model memory</th><th>Footprint</th><th>RSS</th></tr></thead><tbody></tbody></table>\
         <table id=\"system-at\"><tbody></tbody></table></div>\
         <h2>What happened</h2><ol id=\"events\">"
    );
    for e in &report.events {
        let _ = writeln!(
            o,
            "<li data-t=\"{}\" data-end=\"{}\"><time>{}</time> {}</li>",
            e.t_ms,
            e.end_ms.map(|v| v.to_string()).unwrap_or_default(),
            escape(&clock.time(&e.time_utc)),
            escape(&sentence(e, clock))
        );
    }
    let _ = writeln!(o, "</ol></aside></main>");
    let _ = writeln!(o, "<section class=\"tables\"><h2>Models</h2>");
    if report.models.is_empty() {
        let _ = writeln!(o, "<p>No model runner was recorded.</p>");
    } else {
        let _ = writeln!(o, "<table><tr><th>Model</th><th>Runner (engine)</th><th>Lifetime</th><th>Peak model memory</th><th>Mapped weights</th><th>Peak footprint</th><th>Peak RSS</th><th>Ollama size</th><th>Name from</th></tr>");
        for m in &report.models {
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td>{}</td><td>{} – {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(m.model.as_deref().unwrap_or("(unknown)")),
                escape(&format!("{} ({})", m.runner_pid, m.engine)),
                escape(&m.first_utc.as_deref().map(|t| clock.time(t)).unwrap_or_default()),
                escape(&m.last_utc.as_deref().map(|t| clock.time(t)).unwrap_or_default()),
                format_opt_bytes(m.peak_bytes.filter(|_| m.metric == Measure::ModelMemory)),
                format_opt_bytes(m.peak_weights_bytes),
                format_opt_bytes(m.peak_footprint_bytes),
                format_opt_bytes(m.peak_rss_bytes),
                format_opt_bytes(m.ollama_size_bytes),
                escape(m.name_source.describe())
            );
        }
        let _ = writeln!(o, "</table>");
    }
    let _ = writeln!(
        o,
        "<h2>Processes</h2><table><tr><th>PID</th><th>Role</th><th>Command</th></tr>"
    );
    for p in &report.processes {
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            p.pid,
            escape(p.role.label()),
            escape(&p.command)
        );
    }
    let _ = writeln!(o, "</table></section>");
    // The data is written into the page itself, into room made for it at once (grown by
    // doubling, the page would be held twice over), and let go once written.
    o.push_str(
        "<pre id=\"errors\" hidden></pre>\n<script type=\"application/json\" id=\"memtide-data\">",
    );
    let scripts = shared_scripts();
    let room = numbers * 21 + (1 << 20) + scripts.len() + VIEWER_JS.len();
    let page = json_into(o, &data, room)?;
    drop(data);
    let mut o = page;
    let _ = writeln!(o, "</script>");
    let _ = writeln!(o, "{scripts}");
    let _ = writeln!(o, "<script>{VIEWER_JS}</script>\n</body></html>");
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }

    #[test]
    fn embedded_json_cannot_close_its_script() {
        let s = script_json(&vec!["</script><script>alert(1)</script>"]).unwrap();
        assert!(!s.contains('<'), "{s}");
        let back: Vec<String> = serde_json::from_str(&s).unwrap();
        assert_eq!(back[0], "</script><script>alert(1)</script>");
    }

    /// The cells picked for the kept rows, a cell at each time of the grid `0..cells.len()`.
    fn pick<T: Copy + PartialOrd>(cells: &[Cell<T>], spans: &[(usize, usize)]) -> Vec<Cell<T>> {
        let x: Vec<u64> = (0..cells.len() as u64).collect();
        let mut p = Picker::new(&x, spans);
        for (t, c) in x.iter().zip(cells) {
            p.push(*t, *c);
        }
        p.finish()
    }

    #[test]
    fn a_series_fed_point_by_point_lands_on_its_rows() {
        // A grid of ten times; a series with points at some of them, one off the grid, one
        // time twice (the later counts), and a gap.
        let x: Vec<u64> = (0..10).map(|i| i * 100).collect();
        let spans = buckets(x.len(), 4_000);
        let cells = cells_of(
            &x,
            &spans,
            [
                (100, Some(1.0)),
                (150, Some(9.0)),
                (200, Some(2.0)),
                (200, Some(3.0)),
                (400, None),
                (900, Some(4.4)),
            ],
        );
        let (a, g, v) = (Cell::Absent, Cell::Gap, Cell::Value);
        let as_cells = |c: Vec<ByteCell>| c.into_iter().map(ByteCell::cell).collect::<Vec<_>>();
        assert_eq!(as_cells(cells), [a, v(1), v(3), a, g, a, a, a, a, v(4)]);
        // Cut to buckets of five rows: each bucket's extremes in time order.
        let cells = cells_of(
            &x,
            &[(0, 4), (5, 9)],
            [
                (0, Some(5.0)),
                (100, Some(1.0)),
                (300, Some(8.0)),
                (600, None),
            ],
        );
        assert_eq!(as_cells(cells), [v(1), v(8), g, g]);
        // The grid takes the times a series has and the system lacks, once.
        let mut extra = Vec::new();
        add_times(&x, &mut extra, [0, 50, 100, 150, 150, 2_000]);
        assert_eq!(extra, [50, 150, 150, 2_000]);
    }

    #[test]
    fn decimation_keeps_every_peak_in_time_order() {
        let n = 100_000;
        let mut v: Vec<Cell<u64>> = (0..n).map(|i| Cell::Value(10 + (i % 7) as u64)).collect();
        v[54_321] = Cell::Value(999);
        v[77_777] = Cell::Value(1);
        v[90_000..90_010].iter_mut().for_each(|x| *x = Cell::Gap);
        let spans = buckets(n, 4_000);
        assert_eq!(spans.len(), 2_000);
        assert_eq!(spans[0].0, 0);
        assert_eq!(spans.last().unwrap().1, n - 1);
        assert!(spans.windows(2).all(|w| w[0].1 + 1 == w[1].0), "contiguous");
        let out = pick(&v, &spans);
        assert_eq!(out.len(), 4_000);
        assert!(out.contains(&Cell::Value(999)) && out.contains(&Cell::Value(1)));
        // Short traces are kept whole.
        assert_eq!(buckets(10, 4_000).len(), 10);
        assert_eq!(pick(&v[..10], &buckets(10, 4_000)), v[..10].to_vec());
        // A bucket without a value is a gap if it holds one, else absent.
        assert_eq!(
            pick(&[Cell::<u64>::Gap, Cell::Absent], &[(0, 1)]),
            [Cell::Gap, Cell::Gap]
        );
        assert_eq!(
            pick(&[Cell::<u64>::Absent, Cell::Absent], &[(0, 1)]),
            [Cell::Absent, Cell::Absent]
        );
    }

    #[test]
    fn cells_are_written_as_the_script_reads_them() {
        let cells = [Cell::Value(5u64), Cell::Gap, Cell::Absent];
        assert_eq!(serde_json::to_string(&cells).unwrap(), "[5,null,-1]");
        // The same in eight bytes a cell, and back.
        let bytes = cells.map(ByteCell::from);
        assert_eq!(serde_json::to_string(&bytes).unwrap(), "[5,null,-1]");
        assert_eq!(bytes.map(ByteCell::cell), cells);
    }
}
