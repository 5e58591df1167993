//! The chart: memory per process on top, the system's memory in the middle and swap in a
//! strip below, on one time axis, with shaded intervals (low memory, pressure, runner overlap)
//! across the panels and labelled markers for runner starts and exits and model loads and
//! unloads. Each panel's legend sits in a column on its right, never on the data. [`draw`]
//! works on any plotters `DrawingBackend`; [`svg`] draws the SVG and [`png()`] rasterises it.

use crate::decimate;
use crate::format_bytes;
use crate::report::Clock;
use crate::series::in_window;
use memtide_model::events::{EventKind, Unused};
use memtide_model::report::Report;
use memtide_model::timeline::{Series, Timeline};
use memtide_trace::PressureLevel;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;
use std::sync::Once;

pub use crate::series::Measure;

/// How to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartOptions {
    /// Footprint or RSS on top.
    pub metric: Measure,
    /// Start of the window, ms on the trace's clock (default: the first sample).
    pub from_ms: Option<u64>,
    /// End of the window (default: the last sample).
    pub to_ms: Option<u64>,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Free % under which memory is shaded as low.
    pub low_free_percent: f64,
}

impl Default for ChartOptions {
    fn default() -> ChartOptions {
        ChartOptions {
            metric: Measure::ModelMemory,
            from_ms: None,
            to_ms: None,
            width: 1600,
            height: 1000,
            low_free_percent: memtide_model::events::low_memory::LOW_MEMORY_FREE_PERCENT,
        }
    }
}

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// The trace has no system sample in the window.
    #[error("nothing to draw: {0}")]
    Empty(String),
    /// The backend failed (for PNG, usually writing the file).
    #[error("drawing failed: {0}")]
    Draw(String),
    /// The chart's size is outside [`MIN_SIDE_PX`]–[`MAX_SIDE_PX`].
    #[error("a chart of {0}×{1} pixels cannot be drawn: each side must be {MIN_SIDE_PX} to {MAX_SIDE_PX}")]
    Size(u32, u32),
    /// Redacting changed a word memtide reads back (the user name is also one of its words):
    /// nothing is written rather than something unredacted.
    #[error("cannot redact this trace: {0}")]
    Redact(String),
}

/// The smallest chart side, in pixels: below it the panels have no room for their axes.
pub const MIN_SIDE_PX: u32 = 320;
/// The largest chart side, in pixels: above it a PNG would take gigabytes to draw.
pub const MAX_SIDE_PX: u32 = 8192;

fn check_size(opts: &ChartOptions) -> Result<(), RenderError> {
    let ok = |v: u32| (MIN_SIDE_PX..=MAX_SIDE_PX).contains(&v);
    if ok(opts.width) && ok(opts.height) {
        Ok(())
    } else {
        Err(RenderError::Size(opts.width, opts.height))
    }
}

pub(crate) fn draw_err<E: std::fmt::Display>(e: E) -> RenderError {
    RenderError::Draw(e.to_string())
}

/// What a band shades. Its colour and shade belong to it, in the chart and the viewer alike;
/// its name is the key's word (and the viewer's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum BandKind {
    /// Two or more of Ollama's runners alive at once.
    #[serde(rename = "overlap")]
    Overlap,
    /// Free memory under the threshold.
    #[serde(rename = "low memory")]
    LowMemory,
    /// The kernel's pressure level at warning.
    #[serde(rename = "pressure warning")]
    PressureWarning,
    /// The kernel's pressure level at critical.
    #[serde(rename = "pressure critical")]
    PressureCritical,
}

impl BandKind {
    /// The key's word: `overlap`, `low memory`, `pressure warning`, `pressure critical`.
    pub fn name(self) -> &'static str {
        match self {
            BandKind::Overlap => "overlap",
            BandKind::LowMemory => "low memory",
            BandKind::PressureWarning => "pressure warning",
            BandKind::PressureCritical => "pressure critical",
        }
    }

    /// Its colour; none is a series' or a marker's colour.
    fn hex(self) -> &'static str {
        match self {
            BandKind::LowMemory => "#e41a1c",
            BandKind::PressureWarning => "#ffb000",
            BandKind::PressureCritical => "#b30000",
            BandKind::Overlap => "#6a5acd",
        }
    }

    /// How opaque it is: an overlap of two runners light, each runner more a step darker that
    /// the eye tells apart (0.08), up to a shade that still shows the lines.
    fn alpha(self, depth: usize) -> f64 {
        match self {
            BandKind::LowMemory => 0.10,
            BandKind::PressureWarning => 0.16,
            BandKind::PressureCritical => 0.22,
            BandKind::Overlap => (0.12 + 0.08 * depth.saturating_sub(2) as f64).min(0.44),
        }
    }
}

/// What a marker marks. Its colour, dash and rank belong to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum MarkerKind {
    /// A runner's first sample (not one already running when recording began).
    #[serde(rename = "runner start")]
    RunnerStart,
    /// A runner's exit.
    #[serde(rename = "runner exit")]
    RunnerExit,
    /// Ollama listed a model.
    #[serde(rename = "model load")]
    ModelLoad,
    /// Ollama stopped listing a model.
    #[serde(rename = "model unload")]
    ModelUnload,
    /// `memtide run` started its command.
    #[serde(rename = "command start")]
    CommandStart,
    /// The command exited.
    #[serde(rename = "command exit")]
    CommandExit,
    /// The kernel's pressure notification.
    #[serde(rename = "pressure notification")]
    PressureNotification,
}

impl MarkerKind {
    /// The key's word: `runner start`, `model load`, ...
    pub fn name(self) -> &'static str {
        match self {
            MarkerKind::RunnerStart => "runner start",
            MarkerKind::RunnerExit => "runner exit",
            MarkerKind::ModelLoad => "model load",
            MarkerKind::ModelUnload => "model unload",
            MarkerKind::CommandStart => "command start",
            MarkerKind::CommandExit => "command exit",
            MarkerKind::PressureNotification => "pressure notification",
        }
    }

    /// Its colour: neutral slates that no series uses; the line's dash tells a start from an
    /// exit.
    pub(crate) fn hex(self) -> &'static str {
        match self {
            MarkerKind::RunnerStart | MarkerKind::RunnerExit => "#2f3b4c",
            MarkerKind::CommandStart | MarkerKind::CommandExit => "#7a4b8c",
            MarkerKind::ModelLoad | MarkerKind::ModelUnload | MarkerKind::PressureNotification => {
                "#6b7a90"
            }
        }
    }

    /// Dashed for an exit or an unload, solid for a start or a load.
    pub(crate) fn dashed(self) -> bool {
        match self {
            MarkerKind::RunnerExit | MarkerKind::ModelUnload | MarkerKind::CommandExit => true,
            MarkerKind::RunnerStart
            | MarkerKind::ModelLoad
            | MarkerKind::CommandStart
            | MarkerKind::PressureNotification => false,
        }
    }

    /// Which labels win when they collide: loads name the model, so they go first.
    fn rank(self) -> u8 {
        match self {
            MarkerKind::ModelLoad => 0,
            MarkerKind::RunnerStart => 1,
            MarkerKind::RunnerExit => 2,
            MarkerKind::ModelUnload
            | MarkerKind::CommandStart
            | MarkerKind::CommandExit
            | MarkerKind::PressureNotification => 3,
        }
    }
}

/// A shaded interval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Band {
    /// What it shades.
    pub kind: BandKind,
    /// Start, ms.
    pub start_ms: u64,
    /// End, ms.
    pub end_ms: u64,
    /// For an overlap, how many runners were alive (the shade darkens with it); 1 otherwise.
    pub depth: usize,
}

/// A vertical marker: what happened, when, and its label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    /// What happened.
    pub kind: MarkerKind,
    /// When, ms.
    pub t_ms: u64,
    /// `load llama3.2:3b`, `start 61864`, `exit 61864`, `unload llama3.2:3b`.
    pub label: String,
}

/// What was drawn: the legend's entries, bands, markers and colours (for tests and callers).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Drawn {
    /// The chart's title.
    pub title: String,
    /// Legend entries of the top panel.
    pub process_series: Vec<String>,
    /// Legend entries of the system panel.
    pub system_series: Vec<String>,
    /// Legend entries of the swap strip.
    pub swap_series: Vec<String>,
    /// Shaded intervals.
    pub bands: Vec<Band>,
    /// Markers: kind and time.
    pub markers: Vec<(MarkerKind, u64)>,
    /// The marker labels drawn; the others were left out where they would have collided.
    pub labels: Vec<String>,
    /// How many marker labels were left out; the key counts them.
    pub labels_hidden: usize,
    /// The top of the swap strip's axis, bytes (`None` without swap readings, or where the
    /// strip is left out).
    pub swap_axis_max_bytes: Option<f64>,
    /// What the machine never used while recording, left out of the drawing and said once in
    /// the system panel's legend.
    pub left_out: Vec<Unused>,
    /// The key's entries, as drawn.
    pub key: Vec<String>,
    /// Every colour used and what it means: `("series", "available", "#111111")`,
    /// `("marker", "runner exit", …)`, `("band", "overlap", …)`.
    pub colors: Vec<(&'static str, String, String)>,
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
const FONT: &str = "sans-serif";

/// Registers the embedded DejaVu Sans with plotters, once: text is measured with the font
/// it is drawn with.
pub(crate) fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Both calls only fail on a font file that does not parse, which the embedded one does.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
        let _ = plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold());
    });
}

pub(crate) fn rgb(hex: &str) -> RGBColor {
    let v = u32::from_str_radix(hex.trim_start_matches('#'), 16).unwrap_or(0);
    RGBColor((v >> 16) as u8, (v >> 8) as u8, v as u8)
}

/// Tick spacing for a span: the first step from a list of round durations that gives at most
/// `most` ticks, from 1 s up to a day.
fn tick_step_ms(span_ms: u64, most: u64) -> u64 {
    const STEPS_S: [u64; 18] = [
        1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
    ];
    STEPS_S
        .iter()
        .map(|s| s * 1000)
        .find(|&s| span_ms / s <= most)
        .unwrap_or(86_400_000)
}

/// Tick positions on wall-clock multiples of the step, in local time.
fn ticks(tl: &Timeline, clock: &Clock, from: u64, to: u64, most: u64) -> Vec<i64> {
    let step = tick_step_ms(to - from, most) as i64;
    let Some(start) = tl.wall(from) else {
        return vec![from as i64, to as i64];
    };
    let offset_ms = clock.offset_seconds(start) * 1000;
    let wall_from = start.as_millisecond() + offset_ms;
    let first = (wall_from + step - 1).div_euclid(step) * step;
    let mut out = Vec::new();
    let mut w = first;
    while w - wall_from <= (to - from) as i64 {
        out.push(from as i64 + (w - wall_from));
        w += step;
    }
    out
}

fn label_format(span_ms: u64) -> &'static str {
    if span_ms <= 10 * 60_000 {
        "%H:%M:%S"
    } else if span_ms <= 36 * 3_600_000 {
        "%H:%M"
    } else {
        "%m-%d %H:%M"
    }
}

/// The shaded intervals of a report.
pub(crate) fn bands(report: &Report) -> Vec<Band> {
    report
        .events
        .iter()
        .flat_map(|e| {
            let Some(end) = e.end_ms else {
                return Vec::new();
            };
            let band = |kind, start_ms, end_ms, depth| Band {
                kind,
                start_ms,
                end_ms,
                depth,
            };
            match &e.kind {
                EventKind::LowMemory { .. } => vec![band(BandKind::LowMemory, e.t_ms, end, 1)],
                EventKind::Pressure { worst } => vec![band(
                    match worst {
                        PressureLevel::Critical => BandKind::PressureCritical,
                        PressureLevel::Warning | PressureLevel::Normal => BandKind::PressureWarning,
                    },
                    e.t_ms,
                    end,
                    1,
                )],
                // Each stretch once, shaded by how many runners were alive: bands of one
                // overlap never lie on each other.
                EventKind::Overlap { levels, .. } => levels
                    .iter()
                    .map(|l| band(BandKind::Overlap, l.start_ms, l.end_ms, l.alive))
                    .collect(),
                _ => Vec::new(),
            }
        })
        .collect()
}

fn band_color(kind: BandKind, depth: usize) -> RGBAColor {
    rgb(kind.hex()).mix(kind.alpha(depth))
}

/// The same colour in CSS, for the viewer: one rule for both.
pub(crate) fn band_css(kind: BandKind, depth: usize) -> String {
    let RGBColor(r, g, b) = rgb(kind.hex());
    format!("rgba({r},{g},{b},{:.2})", kind.alpha(depth))
}

/// The last part of a path: `ollama` of `/usr/local/bin/ollama`.
fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

pub(crate) fn markers(report: &Report) -> Vec<Marker> {
    report
        .events
        .iter()
        .filter_map(|e| {
            let (kind, label) = match &e.kind {
                // One already running when recording began did not start then.
                EventKind::RunnerStart {
                    before_recording: false,
                    runner,
                    ..
                } => (MarkerKind::RunnerStart, format!("start {}", runner.pid)),
                EventKind::RunnerExit { runner, .. } => {
                    (MarkerKind::RunnerExit, format!("exit {}", runner.pid))
                }
                EventKind::ModelLoad {
                    before_recording: false,
                    model,
                } => (MarkerKind::ModelLoad, format!("load {}", model.name)),
                EventKind::ModelUnload { name, .. } => {
                    (MarkerKind::ModelUnload, format!("unload {name}"))
                }
                EventKind::CommandStart { argv, .. } => (
                    MarkerKind::CommandStart,
                    format!("run {}", argv.first().map_or("", |a| base_name(a))),
                ),
                EventKind::CommandExit {
                    exit_code, signal, ..
                } => (
                    MarkerKind::CommandExit,
                    match (exit_code, signal) {
                        (_, Some(s)) => format!("command ended (signal {s})"),
                        (Some(c), None) => format!("command exit {c}"),
                        (None, None) => "command exit".into(),
                    },
                ),
                EventKind::PressureNotification { level, .. } => (
                    MarkerKind::PressureNotification,
                    match level {
                        Some(l) => format!("pressure {l}"),
                        None => "pressure".to_owned(),
                    },
                ),
                _ => return None,
            };
            Some(Marker {
                kind,
                t_ms: e.t_ms,
                label,
            })
        })
        .collect()
}

/// The unit a panel's axis shows: GiB from 2 GiB up, MiB below, so that small processes get
/// readable ticks.
pub(crate) fn unit_for(max_bytes: f64) -> (f64, &'static str) {
    if max_bytes >= 2.0 * GIB {
        (GIB, "GiB")
    } else {
        (GIB / 1024.0, "MiB")
    }
}

/// Decimals that keep neighbouring ticks apart for an axis that tops out at `max`.
pub(crate) fn tick_label(v: f64, max: f64) -> String {
    if max >= 20.0 {
        format!("{v:.0}")
    } else if max >= 2.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn scaled(s: &Series, unit: f64) -> Series {
    Series {
        t_ms: s.t_ms.clone(),
        values: s.values.iter().map(|v| v.map(|v| v / unit)).collect(),
    }
}

/// The window of a trace a chart or page shows: `opts`' bounds within the first and last
/// system samples.
pub(crate) fn window(tl: &Timeline, opts: &ChartOptions) -> Result<(u64, u64), RenderError> {
    let (first, last) = tl
        .span()
        .ok_or_else(|| RenderError::Empty(format!("{} has no system sample", tl.dir.display())))?;
    let from = opts.from_ms.unwrap_or(first).max(first);
    let to = opts.to_ms.unwrap_or(last).min(last).max(from + 1);
    if from > last {
        return Err(RenderError::Empty(
            "the window starts after the last sample".into(),
        ));
    }
    Ok((from, to))
}

/// The title of a chart or page of `[from, to]`, and the UTC time of the window's first
/// system sample (whose local offset the times are shown in).
pub(crate) fn title(tl: &Timeline, clock: &Clock, from: u64, to: u64) -> (String, String) {
    let utc_at = |r: Option<&memtide_model::timeline::SystemPoint>| {
        r.map(|r| r.time_utc()).unwrap_or_default()
    };
    let start_utc = utc_at(tl.system.iter().find(|r| r.t_ms >= from));
    let end_utc = utc_at(tl.system.iter().rev().find(|r| r.t_ms <= to));
    let os = crate::os_words(&tl.meta.os, tl.meta.os_version.as_deref());
    let when = format!(
        "{} to {} ({})",
        clock.date_time(&start_utc),
        clock.date_time(&end_utc),
        clock.offset(&start_utc)
    );
    let ram = format!("{} RAM", format_bytes(tl.meta.total_memory_bytes));
    let title = if os.is_empty() {
        format!("memtide: {ram} — {when}")
    } else {
        format!("memtide: {ram}, {os} — {when}")
    };
    (title, start_utc)
}

/// Sizes that follow the chart's: fonts and gaps scale with the smaller of the two ratios to
/// 1600×1000, never below what stays readable.
#[derive(Debug, Clone, Copy)]
struct Layout {
    title: f64,
    tick: f64,
    legend: f64,
    label: f64,
    pad: i32,
}

impl Layout {
    fn new(width: u32, height: u32) -> Layout {
        let s = (width as f64 / 1600.0).min(height as f64 / 1000.0);
        Layout {
            title: (22.0 * s).max(13.0),
            tick: (13.0 * s).max(10.0),
            legend: (13.0 * s).max(9.5),
            label: (12.0 * s).max(9.5),
            pad: (14.0 * s).max(6.0) as i32,
        }
    }
}

pub(crate) fn font(size: f64) -> FontDesc<'static> {
    FontDesc::new(FontFamily::Name(FONT), size, FontStyle::Normal)
}

pub(crate) fn bold(size: f64) -> FontDesc<'static> {
    FontDesc::new(FontFamily::Name(FONT), size, FontStyle::Bold)
}

/// A legend entry: a swatch and its text.
struct Entry {
    text: String,
    swatch: Swatch,
}

#[derive(Clone, Copy)]
enum Swatch {
    Line(RGBColor, u32, bool),
    Fill(RGBAColor),
}

fn draw_swatch<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    swatch: Swatch,
    x: i32,
    y: i32,
    w: i32,
) -> Result<(), RenderError> {
    match swatch {
        Swatch::Line(c, width, dashed) => {
            if dashed {
                let dash = (w / 4).max(2);
                let mut x0 = x;
                while x0 < x + w {
                    root.draw(&PathElement::new(
                        vec![(x0, y), ((x0 + dash).min(x + w), y)],
                        c.stroke_width(width),
                    ))
                    .map_err(draw_err)?;
                    x0 += dash * 2;
                }
            } else {
                root.draw(&PathElement::new(
                    vec![(x, y), (x + w, y)],
                    c.stroke_width(width),
                ))
                .map_err(draw_err)?;
            }
        }
        Swatch::Fill(c) => {
            let h = (w / 3).max(4);
            root.draw(&Rectangle::new([(x, y - h), (x + w, y + h)], c.filled()))
                .map_err(draw_err)?;
        }
    }
    Ok(())
}

/// Text cut to fit `max_w` pixels, with an ellipsis where it was cut.
fn fit<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &str,
    f: &FontDesc<'_>,
    max_w: i32,
) -> String {
    let width = |s: &str| {
        root.estimate_text_size(s, &TextStyle::from(f.clone()))
            .map_or(0, |(w, _)| w as i32)
    };
    if width(text) <= max_w {
        return text.to_owned();
    }
    let chars: Vec<char> = text.chars().collect();
    let (mut lo, mut hi) = (0, chars.len());
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        let s: String = chars[..mid].iter().collect::<String>() + "…";
        if width(&s) <= max_w {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    chars[..lo].iter().collect::<String>() + "…"
}

/// Text in at most two lines of `max_w` pixels: broken after a comma or at a space, the
/// second line cut with an ellipsis if it is still too long.
fn wrap<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &str,
    f: &FontDesc<'_>,
    max_w: i32,
) -> Vec<String> {
    let width = |s: &str| {
        root.estimate_text_size(s, &TextStyle::from(f.clone()))
            .map_or(0, |(w, _)| w as i32)
    };
    if width(text) <= max_w {
        return vec![text.to_owned()];
    }
    let breaks: Vec<usize> = text
        .char_indices()
        .filter(|(_, c)| *c == ' ')
        .map(|(i, _)| i)
        .collect();
    // The last break that fits, preferring one right after a comma.
    let fitting: Vec<usize> = breaks
        .iter()
        .copied()
        .filter(|&i| width(&text[..i]) <= max_w)
        .collect();
    let cut = fitting
        .iter()
        .rev()
        .find(|&&i| text[..i].ends_with(','))
        .or(fitting.last())
        .copied();
    match cut {
        Some(i) => vec![
            text[..i].to_owned(),
            fit(root, text[i..].trim_start(), f, max_w),
        ],
        None => vec![fit(root, text, f, max_w)],
    }
}

/// A panel's legend, in its own column right of the plot: a heading, then one entry per
/// line, each wrapped to two lines where it is too long. Entries that do not fit the
/// column's height are counted in a last line.
#[allow(clippy::too_many_arguments)]
fn draw_legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    l: &Layout,
    x: i32,
    y: i32,
    width: i32,
    height: i32,
    heading: &str,
    entries: &[Entry],
) -> Result<(), RenderError> {
    let step = (l.legend * 1.4) as i32;
    let text_style = |f: FontDesc<'static>| {
        TextStyle::from(f)
            .color(&BLACK)
            .pos(Pos::new(HPos::Left, VPos::Center))
    };
    let mut cy = y + step / 2;
    for line in wrap(root, heading, &bold(l.legend), width) {
        root.draw(&Text::new(line, (x, cy), text_style(bold(l.legend))))
            .map_err(draw_err)?;
        cy += step;
    }
    cy += step / 6;
    let swatch_w = (l.legend * 1.6) as i32;
    let text_x = x + swatch_w + 6;
    let bottom = y + height - step / 2;
    for (i, e) in entries.iter().enumerate() {
        let lines = wrap(root, &e.text, &font(l.legend), width - swatch_w - 6);
        let last_y = cy + step * (lines.len() as i32 - 1);
        let more_needed = i + 1 < entries.len();
        // Room for this entry, and for the "and N more" line if others follow.
        if last_y + if more_needed { step } else { 0 } > bottom {
            root.draw(&Text::new(
                format!("and {} more", entries.len() - i),
                (text_x, cy),
                text_style(font(l.legend)),
            ))
            .map_err(draw_err)?;
            break;
        }
        draw_swatch(root, e.swatch, x, cy, swatch_w)?;
        for line in lines {
            root.draw(&Text::new(line, (text_x, cy), text_style(font(l.legend))))
                .map_err(draw_err)?;
            cy += step;
        }
    }
    Ok(())
}

/// Draws the chart of `tl` (with the events of `report`) on `root`: a title, a key to the
/// bands and markers, the marker labels, then three panels on one time axis (memory per
/// process, system memory, swap used), each with its legend in a column on its right.
pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    tl: &Timeline,
    report: &Report,
    opts: &ChartOptions,
    clock: &Clock,
) -> Result<Drawn, RenderError> {
    register_fonts();
    // Names and command lines are untrusted: no control character reaches the drawing.
    let report = &crate::contained(report);
    let (from, to) = window(tl, opts)?;
    let (w, h) = root.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let l = Layout::new(w as u32, h as u32);
    let span = to - from;
    let fmt_str = label_format(span);
    root.fill(&WHITE).map_err(draw_err)?;

    // Geometry: rows from the top, and columns shared by every panel so that their time axes
    // line up.
    let title_h = (l.title * 1.8) as i32;
    let key_h = (l.legend * 1.9) as i32;
    let lane_h = (l.label * 1.4) as i32;
    let lanes_h = lane_h * 2 + 4;
    let x_axis_h = (l.tick * 3.3) as i32;
    let legend_w = (w as f64 * 0.27).clamp(210.0, 440.0) as i32;
    let left_w = (l.tick * 4.6) as i32;
    let right_w = (l.tick * 4.4) as i32;
    let plot_x0 = l.pad + left_w;
    let plot_x1 = w - legend_w - right_w;
    let legend_x = w - legend_w + l.pad / 2;
    let legend_width = legend_w - l.pad;
    let panels_h = h - title_h - key_h - lanes_h - x_axis_h - l.pad / 2;
    // Swap or the compressor that held nothing at any sample is left out (the report says so
    // in one sentence, the system legend in one line): without swap, the system panel takes
    // the strip's room and the time axis.
    let left_out = memtide_model::events::unused(tl);
    let swap_strip = !left_out.contains(&Unused::Swap);
    let top_h = panels_h * 46 / 100;
    let sys_h = if swap_strip {
        panels_h * 34 / 100
    } else {
        panels_h - top_h + x_axis_h
    };
    let swap_h = panels_h - top_h - sys_h + x_axis_h;
    let y_top = title_h + key_h + lanes_h;
    let y_sys = y_top + top_h;
    let y_swap = y_sys + sys_h;
    // Ticks: about one per 110 pixels of plot.
    let most = ((plot_x1 - plot_x0) / 110).max(3) as u64;
    let key = ticks(tl, clock, from, to, most);

    // The title, shortened rather than clipped.
    let (title, start_utc) = title(tl, clock, from, to);
    let title_font = bold(l.title);
    let shown_title = fit(root, &title, &title_font, w - 2 * l.pad);
    root.draw(&Text::new(
        shown_title,
        (w / 2, title_h / 2 + 2),
        TextStyle::from(title_font)
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Center)),
    ))
    .map_err(draw_err)?;

    let band_list: Vec<Band> = bands(report)
        .into_iter()
        .filter(|b| b.end_ms >= from && b.start_ms <= to)
        .collect();
    let marker_list: Vec<Marker> = markers(report)
        .into_iter()
        .filter(|m| m.t_ms >= from && m.t_ms <= to)
        .collect();
    let mut drawn = Drawn {
        title: title.clone(),
        bands: band_list.clone(),
        markers: marker_list.iter().map(|m| (m.kind, m.t_ms)).collect(),
        left_out: left_out.clone(),
        ..Drawn::default()
    };
    let fr = Frame {
        tl,
        clock,
        l,
        w,
        from,
        to,
        fmt_str,
        key,
        title_h,
        key_h,
        lane_h,
        x_axis_h,
        legend_w,
        left_w,
        right_w,
        plot_x0,
        legend_x,
        legend_width,
        columns: (plot_x1 - plot_x0).max(1) as usize,
        bands: band_list,
        markers: marker_list,
        x_desc: format!("local time ({})", clock.offset(&start_utc)),
    };

    let key_entries = key_entries(&fr, &mut drawn);
    let (top_px, top_py) = top_panel(root, &fr, report, opts, y_top, top_h, &mut drawn)?;
    marker_labels(root, &fr, top_px, top_py, &mut drawn)?;
    key_row(root, &fr, key_entries, &mut drawn)?;
    system_panel(root, &fr, y_sys, sys_h, swap_strip, &left_out, &mut drawn)?;
    if swap_strip {
        swap_panel(root, &fr, y_swap, swap_h, &mut drawn)?;
    }
    root.present().map_err(draw_err)?;
    Ok(drawn)
}

/// The key's entries: one per kind of band and marker present, each with its colour.
fn key_entries(fr: &Frame<'_>, drawn: &mut Drawn) -> Vec<Entry> {
    let (band_list, marker_list) = (&fr.bands, &fr.markers);
    let mut key_entries: Vec<Entry> = Vec::new();
    for b in band_list {
        if !key_entries.iter().any(|e| e.text == b.kind.name()) {
            key_entries.push(Entry {
                text: b.kind.name().to_owned(),
                swatch: Swatch::Fill(band_color(b.kind, 2)),
            });
            drawn
                .colors
                .push(("band", b.kind.name().to_owned(), b.kind.hex().to_owned()));
        }
    }
    for m in marker_list {
        if !key_entries.iter().any(|e| e.text == m.kind.name()) {
            key_entries.push(Entry {
                text: m.kind.name().to_owned(),
                swatch: Swatch::Line(rgb(m.kind.hex()), 2, m.kind.dashed()),
            });
            drawn
                .colors
                .push(("marker", m.kind.name().to_owned(), m.kind.hex().to_owned()));
        }
    }
    key_entries
}

/// The top panel: one line per process (the rest summed), its legend on the right;
/// returns where its plot lies, in pixels, for the marker labels above it.
fn top_panel<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    fr: &Frame<'_>,
    report: &Report,
    opts: &ChartOptions,
    y_top: i32,
    top_h: i32,
    drawn: &mut Drawn,
) -> Result<(std::ops::Range<i32>, std::ops::Range<i32>), RenderError> {
    let tl = fr.tl;
    let l = &fr.l;
    let from = fr.from;
    let to = fr.to;
    let left_w = fr.left_w;
    let right_w = fr.right_w;
    let legend_x = fr.legend_x;
    let legend_width = fr.legend_width;
    let columns = fr.columns;
    let band_list = &fr.bands;
    let marker_list = &fr.markers;
    let x_label = |t: &i64| fr.x_label(t);
    let x_range = || fr.x_range();
    let panel = |y0: i32, height: i32| fr.panel(root, y0, height);
    // Top panel: one line per process, the rest summed.
    let procs = crate::series::processes(
        tl,
        report,
        opts.metric,
        from,
        to,
        crate::series::Lines::Cut(columns),
    );
    let others_peak = procs
        .others
        .as_ref()
        .and_then(|s| in_window(s, from, to).max())
        .map(|(_, v)| v);
    let top_bytes = procs
        .shown
        .iter()
        .map(|p| p.peak)
        .chain(others_peak)
        .fold(0.0, f64::max);
    let (top_unit, top_unit_name) = unit_for(top_bytes);
    let top_max = if top_bytes > 0.0 {
        top_bytes / top_unit * 1.1
    } else {
        1.0
    };
    let metric_name = crate::series::measure_label(tl, opts.metric);
    let top_area = panel(y_top, top_h);
    let mut top = ChartBuilder::on(&top_area)
        .margin_left(l.pad)
        .margin_top(2)
        .margin_bottom(4)
        .margin_right(right_w)
        .y_label_area_size(left_w)
        .build_cartesian_2d(x_range(), 0f64..top_max)
        .map_err(draw_err)?;
    mesh(&mut top, l, &x_label, top_max, top_unit_name, false, None)?;
    draw_bands(&mut top, band_list, top_max)?;
    draw_markers(&mut top, marker_list, top_max)?;
    let mut entries = Vec::new();
    // Muted helpers and the others first, so that the runners are drawn over them.
    if let Some(others) = &procs.others {
        let style = rgb(crate::series::OTHERS_COLOR).stroke_width(2);
        let legend = format!(
            "{} other processes (summed), max {}",
            procs.rest.len(),
            format_bytes(others_peak.unwrap_or(0.0) as u64)
        );
        draw_line(&mut top, others, top_unit, from, to, columns, style, true)?;
        entries.push(Entry {
            text: legend.clone(),
            swatch: Swatch::Line(rgb(crate::series::OTHERS_COLOR), 2, true),
        });
        drawn.colors.push((
            "series",
            "other processes".into(),
            crate::series::OTHERS_COLOR.into(),
        ));
        drawn.process_series.push(legend);
    }
    let mut order: Vec<&crate::series::ProcessLine> = procs.shown.iter().collect();
    order.sort_by_key(|p| p.runner);
    for p in order {
        let width = if p.runner { 3 } else { 2 };
        let style = rgb(p.color).stroke_width(width);
        draw_line(
            &mut top, &p.series, top_unit, from, to, columns, style, false,
        )?;
        drawn
            .colors
            .push(("series", p.label.clone(), p.color.to_owned()));
    }
    // The legend lists them as they rank: runners by peak, then helpers, then the rest.
    for p in &procs.shown {
        let legend = format!("{}, max {}", p.label, format_bytes(p.peak as u64));
        entries.insert(
            entries.len() - usize::from(procs.others.is_some()),
            Entry {
                text: legend.clone(),
                swatch: Swatch::Line(rgb(p.color), if p.runner { 3 } else { 2 }, false),
            },
        );
        drawn.process_series.insert(
            drawn.process_series.len() - usize::from(procs.others.is_some()),
            legend,
        );
    }
    draw_legend(
        root,
        l,
        legend_x,
        y_top,
        legend_width,
        top_h,
        &format!("Memory per process ({metric_name})"),
        &entries,
    )?;
    let (top_px, top_py) = top.plotting_area().get_pixel_range();
    Ok((top_px, top_py))
}

/// The marker labels, in two lanes above the top panel whose plot lies at `top_px`,
/// `top_py`; a label that would touch another is left out and counted, the model loads placed
/// first.
fn marker_labels<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    fr: &Frame<'_>,
    top_px: std::ops::Range<i32>,
    top_py: std::ops::Range<i32>,
    drawn: &mut Drawn,
) -> Result<(), RenderError> {
    let l = &fr.l;
    let from = fr.from;
    let title_h = fr.title_h;
    let key_h = fr.key_h;
    let lane_h = fr.lane_h;
    let right_w = fr.right_w;
    let marker_list = &fr.markers;
    let span = fr.to - fr.from;
    // Marker labels, in two lanes above the top panel; a label that would touch another is
    // left out, the model loads placed first.
    {
        let px = |t: u64| {
            top_px.start
                + ((t.saturating_sub(from)) as f64 / span.max(1) as f64
                    * (top_px.end - top_px.start) as f64) as i32
        };
        let mut lanes: [Vec<(i32, i32)>; 2] = [Vec::new(), Vec::new()];
        let mut order: Vec<&Marker> = marker_list.iter().collect();
        order.sort_by_key(|m| (m.kind.rank(), m.t_ms));
        let label_font = font(l.label);
        let gap = (l.label * 0.6) as i32;
        let lanes_top = title_h + key_h;
        for m in order {
            let x = px(m.t_ms);
            let tw = root
                .estimate_text_size(&m.label, &TextStyle::from(label_font.clone()))
                .map_or(0, |(tw, _)| tw as i32);
            // Right of its line, or left of it near the plot's right edge.
            let (x0, x1) = if x + 3 + tw <= top_px.end + right_w {
                (x + 3, x + 3 + tw)
            } else {
                (x - 3 - tw, x - 3)
            };
            let free =
                |lane: &Vec<(i32, i32)>| lane.iter().all(|&(a, b)| x1 + gap < a || x0 > b + gap);
            let Some(i) = (0..2).find(|&i| free(&lanes[i])) else {
                drawn.labels_hidden += 1;
                continue;
            };
            lanes[i].push((x0, x1));
            let cy = lanes_top + lane_h * i as i32 + lane_h / 2 + 2;
            let c = rgb(m.kind.hex());
            root.draw(&PathElement::new(
                vec![(x, cy - lane_h / 2), (x, top_py.start)],
                c.stroke_width(1),
            ))
            .map_err(draw_err)?;
            root.draw(&Text::new(
                m.label.clone(),
                (x0, cy),
                TextStyle::from(label_font.clone())
                    .color(&c)
                    .pos(Pos::new(HPos::Left, VPos::Center)),
            ))
            .map_err(draw_err)?;
            drawn.labels.push(m.label.clone());
        }
    }
    Ok(())
}

/// The key, in a row under the title, once the labels are placed: a label left out for room
/// still has its line, and the key counts them (the viewer shows each on hover).
fn key_row<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    fr: &Frame<'_>,
    mut key_entries: Vec<Entry>,
    drawn: &mut Drawn,
) -> Result<(), RenderError> {
    let l = &fr.l;
    let w = fr.w;
    let title_h = fr.title_h;
    let key_h = fr.key_h;
    let plot_x0 = fr.plot_x0;
    // The key, once the labels are placed: a label left out for room still has its line,
    // and the key counts them (the viewer shows each on hover).
    if drawn.labels_hidden > 0 {
        let n = drawn.labels_hidden;
        key_entries.push(Entry {
            text: format!(
                "{n} marker label{} left out for room",
                if n == 1 { "" } else { "s" }
            ),
            swatch: Swatch::Line(rgb(MarkerKind::RunnerStart.hex()), 1, true),
        });
    }
    {
        let swatch_w = (l.legend * 1.6) as i32;
        let cy = title_h + key_h / 2;
        let mut x = plot_x0;
        for e in &key_entries {
            let tw = root
                .estimate_text_size(&e.text, &TextStyle::from(font(l.legend)))
                .map_or(0, |(tw, _)| tw as i32);
            if x + swatch_w + 6 + tw > w - l.pad {
                break;
            }
            drawn.key.push(e.text.clone());
            draw_swatch(root, e.swatch, x, cy, swatch_w)?;
            root.draw(&Text::new(
                e.text.clone(),
                (x + swatch_w + 6, cy),
                TextStyle::from(font(l.legend))
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Left, VPos::Center)),
            ))
            .map_err(draw_err)?;
            x += swatch_w + 6 + tw + (l.legend * 1.5) as i32;
        }
    }
    Ok(())
}

/// The system panel: available memory (with free % on the right where the trace has it,
/// 100 % at total RAM), wired, compressor and the reference lines; with the time axis when
/// there is no swap strip under it.
fn system_panel<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    fr: &Frame<'_>,
    y_sys: i32,
    sys_h: i32,
    swap_strip: bool,
    left_out: &[Unused],
    drawn: &mut Drawn,
) -> Result<(), RenderError> {
    let tl = fr.tl;
    let l = &fr.l;
    let band_list = &fr.bands;
    let marker_list = &fr.markers;
    let x_desc = &fr.x_desc;
    let x_label = |t: &i64| fr.x_label(t);
    let x_range = || fr.x_range();
    let panel = |y0: i32, height: i32| fr.panel(root, y0, height);
    // System panel: available memory (with free % on the right where the trace has it, 100 %
    // at total RAM), wired, compressor, and the reference lines.
    let total_bytes = tl.meta.total_memory_bytes as f64;
    // A GPU wired limit of 0 is the system's default, which the trace does not know: no line.
    let gpu_limit = tl.meta.gpu_wired_limit_bytes.filter(|&b| b > 0);
    // Each series cut to the plot's columns as it is read: what is drawn, never a week.
    let sys = |f: fn(&memtide_model::timeline::SystemPoint) -> Option<u64>| {
        fr.cut(tl.system_points(move |r| f(r).map(|v| v as f64)))
    };
    let available = crate::series::source(tl).map(|from| {
        let total = tl.meta.total_memory_bytes;
        crate::series::Available {
            series: fr.cut(tl.system_points(move |r| {
                from.read(total, r.free_percent.get(), r.available_bytes.get())
                    .map(|v| v as f64)
            })),
            source: from.describe(&tl.meta.os),
        }
    });
    let wired = sys(|r| r.wired_bytes.get());
    let compressor = sys(|r| r.compressor_bytes.get());
    let sys_bytes = [&wired, &compressor]
        .into_iter()
        .chain(available.as_ref().map(|a| &a.series))
        .filter_map(|s| in_window(s, fr.from, fr.to).max().map(|m| m.1))
        .fold(total_bytes, f64::max)
        .max(gpu_limit.unwrap_or(0) as f64)
        .max(1.0);
    let (sys_unit, sys_unit_name) = unit_for(sys_bytes);
    let sys_max = sys_bytes / sys_unit * 1.06;
    let percent = crate::series::has_free_percent(tl) && total_bytes > 0.0;
    let sys_area = panel(y_sys, sys_h);
    let mut builder = ChartBuilder::on(&sys_area);
    builder
        .margin_left(l.pad)
        .margin_top(6)
        .margin_bottom(if swap_strip { 4 } else { 2 })
        .y_label_area_size(fr.left_w);
    if !swap_strip {
        builder.x_label_area_size(fr.x_axis_h);
    }
    // A right axis only for free %: an axis that repeats the left one says nothing.
    if percent {
        builder.right_y_label_area_size(fr.right_w);
    } else {
        builder.margin_right(fr.right_w);
    }
    let mut system = builder
        .build_cartesian_2d(x_range(), 0f64..sys_max)
        .map_err(draw_err)?
        // 100 % of free memory is all of RAM: the available line reads on both axes.
        .set_secondary_coord(
            x_range(),
            0f64..sys_max * sys_unit / total_bytes.max(1.0) * 100.0,
        );
    mesh(
        &mut system,
        l,
        &x_label,
        sys_max,
        sys_unit_name,
        !swap_strip,
        (!swap_strip).then_some(x_desc.as_str()),
    )?;
    if percent {
        system
            .configure_secondary_axes()
            .y_desc("free %")
            .y_label_formatter(&|v| format!("{v:.0}"))
            .label_style(font(l.tick))
            .axis_desc_style(font(l.tick))
            .y_labels(6)
            .draw()
            .map_err(draw_err)?;
    }
    draw_bands(&mut system, band_list, sys_max)?;
    draw_markers(&mut system, marker_list, sys_max)?;
    let mut entries = Vec::new();
    let mut reference = |chart: &mut Chart<'_, DB>,
                         entries: &mut Vec<Entry>,
                         label: String,
                         bytes: f64,
                         hex: &'static str,
                         what: &str|
     -> Result<(), RenderError> {
        let y = bytes / sys_unit;
        let style = rgb(hex).stroke_width(1);
        chart
            .draw_series(DashedLineSeries::new(
                [(fr.from as i64, y), (fr.to as i64, y)],
                6,
                4,
                style,
            ))
            .map_err(draw_err)?;
        entries.push(Entry {
            text: label.clone(),
            swatch: Swatch::Line(rgb(hex), 1, true),
        });
        drawn.system_series.push(label);
        drawn
            .colors
            .push(("series", what.to_owned(), hex.to_owned()));
        Ok(())
    };
    if total_bytes > 0.0 {
        let label = format!("total RAM {}", format_bytes(tl.meta.total_memory_bytes));
        reference(
            &mut system,
            &mut entries,
            label,
            total_bytes,
            crate::series::TOTAL_COLOR,
            "total RAM",
        )?;
    }
    if let Some(limit) = gpu_limit {
        let label = crate::describe_gpu_wired_limit(Some(limit)).unwrap_or_default();
        reference(
            &mut system,
            &mut entries,
            label,
            limit as f64,
            crate::series::GPU_LIMIT_COLOR,
            "GPU wired limit",
        )?;
    }
    for (name, series, hex, store) in [
        ("wired", &wired, crate::series::WIRED_COLOR, None),
        (
            "compressor",
            &compressor,
            crate::series::COMPRESSOR_COLOR,
            Some(Unused::Compressor),
        ),
    ] {
        let Some((_, max)) = in_window(series, fr.from, fr.to).max() else {
            continue;
        };
        if store.is_some_and(|u| left_out.contains(&u)) {
            continue;
        }
        draw_line(
            &mut system,
            series,
            sys_unit,
            fr.from,
            fr.to,
            fr.columns,
            rgb(hex).stroke_width(2),
            false,
        )?;
        let legend = format!("{name}, max {}", format_bytes(max as u64));
        entries.push(Entry {
            text: legend.clone(),
            swatch: Swatch::Line(rgb(hex), 2, false),
        });
        drawn.system_series.push(legend);
        drawn
            .colors
            .push(("series", name.to_owned(), hex.to_owned()));
    }
    if let Some(a) = &available {
        if let Some((_, min)) = in_window(&a.series, fr.from, fr.to).min() {
            let hex = crate::series::AVAILABLE_COLOR;
            draw_line(
                &mut system,
                &a.series,
                sys_unit,
                fr.from,
                fr.to,
                fr.columns,
                rgb(hex).stroke_width(3),
                false,
            )?;
            let min_text = if percent {
                format!(
                    "{} ({:.0} %)",
                    format_bytes(min as u64),
                    min / total_bytes * 100.0
                )
            } else {
                format_bytes(min as u64)
            };
            let legend = format!("available ({}), min {min_text}", a.source);
            // Available first: it is the line a person looks for.
            entries.insert(
                0,
                Entry {
                    text: legend.clone(),
                    swatch: Swatch::Line(rgb(hex), 3, false),
                },
            );
            drawn.system_series.insert(0, legend);
            drawn
                .colors
                .push(("series", "available".into(), hex.to_owned()));
        }
    }
    if let Some(note) = crate::left_out_note(left_out) {
        entries.push(Entry {
            text: note.clone(),
            swatch: Swatch::Fill(WHITE.mix(0.0)),
        });
        drawn.system_series.push(note);
    }
    draw_legend(
        root,
        l,
        fr.legend_x,
        y_sys,
        fr.legend_width,
        if swap_strip {
            sys_h
        } else {
            sys_h - fr.x_axis_h
        },
        if percent {
            "System memory (right axis: free %)"
        } else {
            "System memory"
        },
        &entries,
    )?;
    Ok(())
}

/// The swap strip, with the time axis under it.
fn swap_panel<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    fr: &Frame<'_>,
    y_swap: i32,
    swap_h: i32,
    drawn: &mut Drawn,
) -> Result<(), RenderError> {
    let tl = fr.tl;
    let l = &fr.l;
    let band_list = &fr.bands;
    let marker_list = &fr.markers;
    let x_desc = &fr.x_desc;
    let x_label = |t: &i64| fr.x_label(t);
    let x_range = || fr.x_range();
    let panel = |y0: i32, height: i32| fr.panel(root, y0, height);
    let sys = |f: fn(&memtide_model::timeline::SystemPoint) -> Option<u64>| {
        fr.cut(tl.system_points(move |r| f(r).map(|v| v as f64)))
    };
    // Swap strip: its own axis, from 0 to its maximum, so that growth shows.
    let swap = sys(|r| r.swap_used_bytes.get());
    let swap_window = in_window(&swap, fr.from, fr.to);
    let swap_peak = swap_window.max().map(|m| m.1);
    let swap_low = swap_window.min().map(|m| m.1);
    let (swap_unit, swap_unit_name) = unit_for(swap_peak.unwrap_or(0.0).max(1.0));
    let swap_max = (swap_peak.unwrap_or(0.0) / swap_unit * 1.15).max(1.0);
    let swap_area = panel(y_swap, swap_h);
    let mut strip = ChartBuilder::on(&swap_area)
        .margin_left(l.pad)
        .margin_top(6)
        .margin_bottom(2)
        .margin_right(fr.right_w)
        .y_label_area_size(fr.left_w)
        .x_label_area_size(fr.x_axis_h)
        .build_cartesian_2d(x_range(), 0f64..swap_max)
        .map_err(draw_err)?;
    mesh(
        &mut strip,
        l,
        &x_label,
        swap_max,
        swap_unit_name,
        true,
        Some(x_desc),
    )?;
    draw_bands(&mut strip, band_list, swap_max)?;
    draw_markers(&mut strip, marker_list, swap_max)?;
    let mut entries = Vec::new();
    if let (Some(peak), Some(low)) = (swap_peak, swap_low) {
        let hex = crate::series::SWAP_COLOR;
        draw_line(
            &mut strip,
            &swap,
            swap_unit,
            fr.from,
            fr.to,
            fr.columns,
            rgb(hex).stroke_width(2),
            false,
        )?;
        let legend = if peak > low {
            format!(
                "swap used, max {} (lowest {})",
                format_bytes(peak as u64),
                format_bytes(low as u64)
            )
        } else {
            format!("swap used, {} throughout", format_bytes(peak as u64))
        };
        entries.push(Entry {
            text: legend.clone(),
            swatch: Swatch::Line(rgb(hex), 2, false),
        });
        drawn.swap_series.push(legend);
        drawn.swap_axis_max_bytes = Some(swap_max * swap_unit);
        drawn
            .colors
            .push(("series", "swap used".into(), hex.to_owned()));
    } else {
        entries.push(Entry {
            text: "no swap reading in this trace".into(),
            swatch: Swatch::Fill(WHITE.mix(0.0)),
        });
    }
    draw_legend(
        root,
        l,
        fr.legend_x,
        y_swap,
        fr.legend_width,
        swap_h - fr.x_axis_h,
        "Swap",
        &entries,
    )?;
    Ok(())
}

/// What every part of the chart shares: the trace, the time window and its ticks, the bands
/// and markers in it, and the columns and rows, so that the panels' time axes line up.
struct Frame<'a> {
    tl: &'a Timeline,
    clock: &'a Clock,
    l: Layout,
    w: i32,
    from: u64,
    to: u64,
    /// How a time tick is written (`%H:%M:%S` over a short span).
    fmt_str: &'static str,
    /// The time ticks, `t_ms`.
    key: Vec<i64>,
    title_h: i32,
    key_h: i32,
    lane_h: i32,
    x_axis_h: i32,
    legend_w: i32,
    left_w: i32,
    right_w: i32,
    plot_x0: i32,
    legend_x: i32,
    legend_width: i32,
    /// The plot's width in pixels: one column a point at most.
    columns: usize,
    bands: Vec<Band>,
    markers: Vec<Marker>,
    /// The time axis's description: `local time (UTC+02:00)`.
    x_desc: String,
}

impl Frame<'_> {
    /// A series' points cut to the plot's columns within the window as they are read: the
    /// points a line drawn from the whole series would keep.
    fn cut(&self, points: impl IntoIterator<Item = (u64, Option<f64>)>) -> Series {
        decimate::series(points, self.from, self.to, self.columns)
    }

    fn x_label(&self, t: &i64) -> String {
        self.tl
            .wall((*t).max(0) as u64)
            .map(|w| self.clock.format(w, self.fmt_str))
            .unwrap_or_default()
    }

    fn x_range(
        &self,
    ) -> plotters::coord::combinators::WithKeyPoints<plotters::coord::types::RangedCoordi64> {
        (self.from as i64..self.to as i64).with_key_points(self.key.clone())
    }

    /// The area of a panel: the chart's width less the legend column, from `y0`.
    fn panel<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        y0: i32,
        height: i32,
    ) -> DrawingArea<DB, Shift> {
        root.clone()
            .shrink((0, y0), (self.w - self.legend_w, height.max(10)))
    }
}

type Chart<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<
        plotters::coord::combinators::WithKeyPoints<plotters::coord::types::RangedCoordi64>,
        plotters::coord::types::RangedCoordf64,
    >,
>;

/// A panel's axes: the unit on the left, grid lines at the time ticks, time labels only on
/// the bottom panel.
fn mesh<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    l: &Layout,
    x_label: &dyn Fn(&i64) -> String,
    ymax: f64,
    unit: &str,
    times: bool,
    x_desc: Option<&str>,
) -> Result<(), RenderError> {
    let y_label = |v: &f64| tick_label(*v, ymax);
    let no_label = |_: &i64| String::new();
    let mut m = chart.configure_mesh();
    m.y_label_formatter(&y_label)
        .y_desc(unit)
        .y_labels(5)
        .label_style(font(l.tick))
        .axis_desc_style(font(l.tick))
        .bold_line_style(BLACK.mix(0.07))
        .light_line_style(WHITE.mix(0.0));
    if times {
        m.x_label_formatter(x_label);
        if let Some(d) = x_desc {
            m.x_desc(d);
        }
    } else {
        m.x_label_formatter(&no_label);
    }
    m.draw().map_err(draw_err)
}

/// One series, decimated to the plot's pixel columns, drawn in its segments (never across a
/// gap).
#[allow(clippy::too_many_arguments)]
fn draw_line<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    series: &Series,
    unit: f64,
    from: u64,
    to: u64,
    columns: usize,
    style: ShapeStyle,
    dashed: bool,
) -> Result<(), RenderError> {
    for seg in decimate::segments(&scaled(series, unit), from, to, columns) {
        if let [(t, v)] = seg[..] {
            // A sample between two gaps: a dot, since a line of one point draws nothing.
            let r = style.stroke_width.max(2) as i32;
            chart
                .draw_series(std::iter::once(Circle::new(
                    (t as i64, v),
                    r,
                    style.filled(),
                )))
                .map_err(draw_err)?;
            continue;
        }
        let points = seg.into_iter().map(|(t, v)| (t as i64, v));
        if dashed {
            chart
                .draw_series(DashedLineSeries::new(points, 8, 5, style))
                .map_err(draw_err)?;
        } else {
            chart
                .draw_series(LineSeries::new(points, style))
                .map_err(draw_err)?;
        }
    }
    Ok(())
}

fn draw_bands<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    bands: &[Band],
    ymax: f64,
) -> Result<(), RenderError> {
    chart
        .draw_series(bands.iter().map(|b| {
            Rectangle::new(
                [
                    (b.start_ms as i64, 0.0),
                    (b.end_ms.max(b.start_ms + 1) as i64, ymax),
                ],
                band_color(b.kind, b.depth).filled(),
            )
        }))
        .map_err(draw_err)?;
    Ok(())
}

fn draw_markers<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    markers: &[Marker],
    ymax: f64,
) -> Result<(), RenderError> {
    for m in markers {
        let style = rgb(m.kind.hex()).mix(0.85).stroke_width(1);
        let line = [(m.t_ms as i64, 0.0), (m.t_ms as i64, ymax)];
        if m.kind.dashed() {
            chart
                .draw_series(DashedLineSeries::new(line, 5, 4, style))
                .map_err(draw_err)?;
        } else {
            chart
                .draw_series(std::iter::once(PathElement::new(line.to_vec(), style)))
                .map_err(draw_err)?;
        }
    }
    Ok(())
}

/// The chart as an SVG document.
pub fn svg(
    tl: &Timeline,
    report: &Report,
    opts: &ChartOptions,
    clock: &Clock,
) -> Result<(String, Drawn), RenderError> {
    check_size(opts)?;
    let mut buf = String::new();
    let drawn = {
        let root = SVGBackend::with_string(&mut buf, (opts.width, opts.height)).into_drawing_area();
        draw(&root, tl, report, opts, clock)?
    };
    // Who drew it, right after the opening tag, so that memtide knows the file is its own.
    if let Some(end) = buf.find('>') {
        buf.insert_str(end + 1, &format!("\n<desc>{}</desc>", crate::DRAWN_BY));
    }
    Ok((buf, drawn))
}

/// The chart as a PNG file: the SVG [`svg`] draws, rasterised by resvg with the embedded
/// DejaVu Sans, so that the PNG and the SVG look alike and the text is kerned as a browser
/// kerns it.
pub fn png(
    path: &Path,
    tl: &Timeline,
    report: &Report,
    opts: &ChartOptions,
    clock: &Clock,
) -> Result<Drawn, RenderError> {
    let (svg, drawn) = svg(tl, report, opts, clock)?;
    let bytes = rasterize(&svg, opts.width, opts.height)?;
    std::fs::write(path, bytes)
        .map_err(|e| RenderError::Draw(format!("{}: {e}", path.display())))?;
    Ok(drawn)
}

/// PNG bytes of an SVG document, at `width` × `height` pixels, its text set in the embedded
/// DejaVu Sans (the only font loaded: nothing depends on the fonts a machine has).
pub fn rasterize(svg: &str, width: u32, height: u32) -> Result<Vec<u8>, RenderError> {
    let mut fonts = resvg::usvg::fontdb::Database::new();
    fonts.load_font_data(dejavu::sans::regular().to_vec());
    fonts.load_font_data(dejavu::sans::bold().to_vec());
    fonts.set_sans_serif_family("DejaVu Sans");
    let options = resvg::usvg::Options {
        font_family: "DejaVu Sans".into(),
        fontdb: std::sync::Arc::new(fonts),
        ..resvg::usvg::Options::default()
    };
    let tree = resvg::usvg::Tree::from_str(svg, &options).map_err(draw_err)?;
    let mut pixmap = resvg::tiny_skia::Pixmap::new(width, height)
        .ok_or_else(|| RenderError::Draw(format!("no {width}×{height} canvas")))?;
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    let size = tree.size();
    let scale = resvg::tiny_skia::Transform::from_scale(
        width as f32 / size.width(),
        height as f32 / size.height(),
    );
    resvg::render(&tree, scale, &mut pixmap.as_mut());
    // On an opaque white canvas every pixel has alpha 255, so the premultiplied pixels are
    // the plain RGBA the PNG holds. Written with the png crate (tiny-skia's own encoder has
    // no text chunks) to say who drew it, so that memtide knows the file is its own.
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    encoder
        .add_text_chunk("Software".into(), crate::DRAWN_BY.into())
        .map_err(draw_err)?;
    let mut writer = encoder.write_header().map_err(draw_err)?;
    writer.write_image_data(pixmap.data()).map_err(draw_err)?;
    writer.finish().map_err(draw_err)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_suit_spans_from_seconds_to_a_day() {
        assert_eq!(tick_step_ms(5_000, 8), 1_000);
        assert_eq!(tick_step_ms(40_000, 8), 5_000);
        assert_eq!(tick_step_ms(10 * 60_000, 8), 120_000);
        assert_eq!(tick_step_ms(3_600_000, 8), 600_000);
        assert_eq!(tick_step_ms(86_400_000, 8), 10_800_000);
        assert_eq!(tick_step_ms(30 * 86_400_000, 8), 86_400_000);
        assert_eq!(tick_step_ms(40_000, 4), 10_000);
        assert_eq!(label_format(40_000), "%H:%M:%S");
        assert_eq!(label_format(3_600_000), "%H:%M");
        assert_eq!(label_format(3 * 86_400_000), "%m-%d %H:%M");
    }

    #[test]
    fn axis_units_and_labels() {
        assert_eq!(unit_for(600.0 * 1024.0 * 1024.0).1, "MiB");
        assert_eq!(unit_for(3.0 * GIB).1, "GiB");
        assert_eq!(tick_label(0.25, 0.5), "0.25");
        assert_eq!(tick_label(2.5, 5.0), "2.5");
        assert_eq!(tick_label(300.0, 600.0), "300");
    }
}

#[cfg(test)]
mod band_tests {
    use super::*;

    #[test]
    fn each_more_runner_alive_shades_an_overlap_a_visible_step_darker() {
        let a: Vec<f64> = (2..=6).map(|n| BandKind::Overlap.alpha(n)).collect();
        assert!(a.windows(2).all(|w| w[1] - w[0] >= 0.08 - 1e-9), "{a:?}");
        assert!(BandKind::Overlap.alpha(20) <= 0.44);
        assert_eq!(band_css(BandKind::Overlap, 3), "rgba(106,90,205,0.20)");
    }
}
