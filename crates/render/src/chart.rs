//! The chart: memory per process on top, the system's memory below, on one time axis, with
//! shaded intervals (low memory, pressure, runner overlap) across both panels and markers for
//! runner starts and exits and model loads and unloads. [`draw`] works on any plotters
//! `DrawingBackend`; [`svg`], [`png`] and [`crate::html`] pick one.

use crate::decimate;
use crate::format_bytes;
use crate::report::Clock;
use memtide_model::events::EventKind;
use memtide_model::report::Report;
use memtide_model::runner::Role;
use memtide_model::timeline::{Series, Timeline};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;
use std::sync::Once;

/// What the top panel shows per process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Footprint (Activity Monitor's "Memory"; RSS where the trace has no footprint).
    Footprint,
    /// Resident set size.
    Rss,
}

/// How to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartOptions {
    /// Footprint or RSS on top.
    pub metric: Metric,
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
            metric: Metric::Footprint,
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

fn draw_err<E: std::fmt::Display>(e: E) -> RenderError {
    RenderError::Draw(e.to_string())
}

/// A shaded interval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Band {
    /// `low memory`, `pressure warning`, `pressure critical` or `overlap`.
    pub kind: &'static str,
    /// Start, ms.
    pub start_ms: u64,
    /// End, ms.
    pub end_ms: u64,
    /// For an overlap, how many runners were alive (the shade darkens with it); 1 otherwise.
    pub depth: usize,
}

/// What was drawn: the legend's entries, bands and markers (for tests and the HTML page).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Drawn {
    /// The chart's title.
    pub title: String,
    /// Legend entries of the top panel.
    pub process_series: Vec<String>,
    /// Legend entries of the bottom panel.
    pub system_series: Vec<String>,
    /// Shaded intervals.
    pub bands: Vec<Band>,
    /// Markers: kind and time.
    pub markers: Vec<(&'static str, u64)>,
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// Strong colours that stay apart from each other and from the bands.
const RUNNER_COLORS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(148, 103, 189),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(214, 39, 40),
    RGBColor(23, 190, 207),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
];

/// Muted colours for serve, clients and other helpers.
const HELPER_COLORS: [RGBColor; 4] = [
    RGBColor(120, 120, 120),
    RGBColor(170, 150, 90),
    RGBColor(110, 140, 170),
    RGBColor(160, 120, 150),
];
const FONT: &str = "sans-serif";

/// Registers the embedded DejaVu Sans with plotters, once: PNGs need no system font.
fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Both calls only fail on a font file that does not parse, which the embedded one does.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
        let _ = plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold());
    });
}

/// Tick spacing for a span: the first step from a list of round durations that gives at most
/// about eight ticks, from 1 s up to a day.
fn tick_step_ms(span_ms: u64) -> u64 {
    const STEPS_S: [u64; 18] = [
        1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
    ];
    STEPS_S
        .iter()
        .map(|s| s * 1000)
        .find(|&s| span_ms / s <= 8)
        .unwrap_or(86_400_000)
}

/// Tick positions on wall-clock multiples of the step, in local time.
fn ticks(tl: &Timeline, clock: &Clock, from: u64, to: u64) -> Vec<i64> {
    let step = tick_step_ms(to - from) as i64;
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

fn process_label(p: &memtide_model::events::ProcessReport) -> String {
    match &p.role {
        Role::Runner { .. } => format!(
            "{} {} (pid {})",
            p.name,
            p.model.as_deref().unwrap_or("model unknown"),
            p.pid
        ),
        Role::Other => format!("{} (pid {})", p.name, p.pid),
        role => format!("{} (pid {})", role.label(), p.pid),
    }
}

/// The shaded intervals of a report.
fn bands(report: &Report) -> Vec<Band> {
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
                EventKind::LowMemory { .. } => vec![band("low memory", e.t_ms, end, 1)],
                EventKind::Pressure { worst } if worst == "critical" => {
                    vec![band("pressure critical", e.t_ms, end, 1)]
                }
                EventKind::Pressure { .. } => vec![band("pressure warning", e.t_ms, end, 1)],
                // Each stretch once, shaded by how many runners were alive: bands of one
                // overlap never lie on each other.
                EventKind::Overlap { levels, .. } => levels
                    .iter()
                    .map(|l| band("overlap", l.start_ms, l.end_ms, l.alive))
                    .collect(),
                _ => Vec::new(),
            }
        })
        .collect()
}

fn band_color(kind: &str, depth: usize) -> RGBAColor {
    match kind {
        "low memory" => RGBColor(220, 40, 40).mix(0.12),
        "pressure warning" => RGBColor(240, 160, 0).mix(0.18),
        "pressure critical" => RGBColor(200, 0, 0).mix(0.28),
        // Two runners: light; each more, darker, up to a shade that still shows the lines.
        _ => RGBColor(110, 60, 200).mix((0.14 + 0.03 * depth.saturating_sub(2) as f64).min(0.38)),
    }
}

fn markers(report: &Report) -> Vec<(&'static str, u64)> {
    report
        .events
        .iter()
        .filter_map(|e| {
            let kind = match &e.kind {
                // One already running when recording began did not start then.
                EventKind::RunnerStart {
                    before_recording: false,
                    ..
                } => "runner start",
                EventKind::RunnerExit { .. } => "runner exit",
                EventKind::ModelLoad {
                    before_recording: false,
                    ..
                } => "model load",
                EventKind::ModelUnload { .. } => "model unload",
                _ => return None,
            };
            Some((kind, e.t_ms))
        })
        .collect()
}

fn marker_style(kind: &str) -> ShapeStyle {
    match kind {
        "runner start" => RGBColor(0, 140, 60).stroke_width(2),
        "runner exit" => RGBColor(200, 30, 30).stroke_width(2),
        "model load" => RGBColor(30, 90, 200).mix(0.8).stroke_width(1),
        _ => RGBColor(120, 120, 120).mix(0.8).stroke_width(1),
    }
}

/// The unit a panel's axis shows: GiB from 2 GiB up, MiB below, so that small processes get
/// readable ticks.
fn unit_for(max_bytes: f64) -> (f64, &'static str) {
    if max_bytes >= 2.0 * GIB {
        (GIB, "GiB")
    } else {
        (GIB / 1024.0, "MiB")
    }
}

/// Decimals that keep neighbouring ticks apart for an axis that tops out at `max`.
fn tick_label(v: f64, max: f64) -> String {
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

/// Draws the chart of `tl` (with the events of `report`) on `root`.
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
    let span = to - from;
    let columns = opts.width as usize;
    let fmt_str = label_format(span);
    let x_label = |t: &i64| {
        tl.wall((*t).max(0) as u64)
            .map(|w| clock.format(w, fmt_str))
            .unwrap_or_default()
    };
    let key = ticks(tl, clock, from, to);
    let x_range = || (from as i64..to as i64).with_key_points(key.clone());

    root.fill(&WHITE).map_err(draw_err)?;
    let start_utc = tl
        .system
        .iter()
        .find(|r| r.t_ms >= from)
        .map(|r| r.time_utc.clone())
        .unwrap_or_default();
    let end_utc = tl
        .system
        .iter()
        .rev()
        .find(|r| r.t_ms <= to)
        .map(|r| r.time_utc.clone())
        .unwrap_or_default();
    let os = [Some(tl.meta.os.as_str()), tl.meta.os_version.as_deref()]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty() && *s != "unknown")
        .collect::<Vec<_>>()
        .join(" ");
    let os = crate::escape_control(&os);
    let title = format!(
        "memtide: {} RAM{} — {} to {} ({})",
        format_bytes(tl.meta.total_memory_bytes),
        if os.is_empty() {
            String::new()
        } else {
            format!(", {os}")
        },
        clock.date_time(&start_utc),
        clock.date_time(&end_utc),
        clock.offset(&start_utc)
    );
    let area = root
        .titled(&title, (FONT, 22).into_font().style(FontStyle::Bold))
        .map_err(draw_err)?;
    let (top_area, bottom_area) = area.split_vertically(area.dim_in_pixel().1 * 55 / 100);
    let band_list: Vec<Band> = bands(report)
        .into_iter()
        .filter(|b| b.end_ms >= from && b.start_ms <= to)
        .collect();
    let marker_list: Vec<(&'static str, u64)> = markers(report)
        .into_iter()
        .filter(|(_, t)| *t >= from && *t <= to)
        .collect();
    let mut drawn = Drawn {
        title: title.clone(),
        bands: band_list.clone(),
        markers: marker_list.clone(),
        ..Drawn::default()
    };

    // Top panel: one line per process.
    let interval = tl.interval_ms();
    let mut lines: Vec<(String, Series, bool, f64)> = Vec::new();
    for (p, timeline) in report.processes.iter().zip(&tl.processes) {
        let series = match opts.metric {
            Metric::Footprint => timeline.footprint(interval),
            Metric::Rss => timeline.rss(interval),
        };
        let Some((_, max)) = Series {
            t_ms: series.t_ms.clone(),
            values: series
                .t_ms
                .iter()
                .zip(&series.values)
                .map(|(t, v)| if *t >= from && *t <= to { *v } else { None })
                .collect(),
        }
        .max() else {
            continue;
        };
        lines.push((process_label(p), series, p.role.is_model_runner(), max));
    }
    let top_bytes = lines.iter().map(|l| l.3).fold(0.0, f64::max);
    let (top_unit, top_unit_name) = unit_for(top_bytes);
    let top_max = if top_bytes > 0.0 {
        top_bytes / top_unit * 1.1
    } else {
        1.0
    };
    let has_footprint = tl
        .processes
        .iter()
        .any(|p| p.rows.iter().any(|r| r.footprint_bytes.is_some()));
    let metric_name = match opts.metric {
        Metric::Footprint if has_footprint => "footprint",
        Metric::Footprint => "RSS: this trace has no footprint",
        Metric::Rss => "RSS",
    };
    let mut top = ChartBuilder::on(&top_area)
        .margin(12)
        .x_label_area_size(28)
        .y_label_area_size(64)
        .right_y_label_area_size(64)
        .caption(format!("Memory per process ({metric_name})"), (FONT, 17))
        .build_cartesian_2d(x_range(), 0f64..top_max)
        .map_err(draw_err)?;
    top.configure_mesh()
        .x_label_formatter(&x_label)
        .y_label_formatter(&|v| tick_label(*v, top_max))
        .y_desc(top_unit_name)
        .label_style((FONT, 13))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(draw_err)?;
    draw_bands(&mut top, &band_list, top_max)?;
    draw_markers(&mut top, &marker_list, top_max)?;
    // Helpers first, so that runners are drawn over them.
    let mut order: Vec<usize> = (0..lines.len()).collect();
    order.sort_by_key(|&i| lines[i].2);
    let (mut runners_seen, mut helpers_seen) = (0, 0);
    for &i in &order {
        let (label, series, runner, max) = &lines[i];
        // Runners take strong, distinct colours; helpers thin, muted ones.
        let style = if *runner {
            runners_seen += 1;
            RUNNER_COLORS[(runners_seen - 1) % RUNNER_COLORS.len()].stroke_width(3)
        } else {
            helpers_seen += 1;
            HELPER_COLORS[(helpers_seen - 1) % HELPER_COLORS.len()].stroke_width(1)
        };
        let legend = format!("{label}, max {}", format_bytes(*max as u64));
        let mut anno = None;
        for seg in decimate::segments(&scaled(series, top_unit), from, to, columns) {
            let a = top
                .draw_series(LineSeries::new(
                    seg.into_iter().map(|(t, v)| (t as i64, v)),
                    style,
                ))
                .map_err(draw_err)?;
            if anno.is_none() {
                anno = Some(());
                a.label(legend.clone())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
            }
        }
        drawn.process_series.push(legend);
    }
    legend_kinds(&mut top, &band_list, &marker_list)?;
    top.configure_series_labels()
        .label_font((FONT, 12))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(draw_err)?;

    // Bottom panel: the system, free % on the right.
    let total_bytes = tl.meta.total_memory_bytes as f64;
    // A GPU wired limit of 0 is the system's default, which the trace does not know: no line.
    let gpu_limit = tl.meta.gpu_wired_limit_bytes.filter(|&b| b > 0);
    let sys = |f: fn(&memtide_model::trace::SystemRow) -> Option<u64>| {
        tl.system_series(move |r| f(r).map(|v| v as f64))
    };
    let system: Vec<(&str, Series, RGBColor)> = vec![
        ("wired", sys(|r| r.wired_bytes), RGBColor(120, 60, 160)),
        (
            "compressor",
            sys(|r| r.compressor_bytes),
            RGBColor(230, 120, 0),
        ),
        (
            "swap used",
            sys(|r| r.swap_used_bytes),
            RGBColor(200, 30, 30),
        ),
        ("free", sys(|r| r.free_bytes), RGBColor(0, 140, 60)),
    ];
    let bottom_bytes = system
        .iter()
        .filter_map(|(_, s, _)| s.max().map(|m| m.1))
        .fold(total_bytes, f64::max)
        .max(gpu_limit.unwrap_or(0) as f64)
        .max(1.0);
    let (bottom_unit, bottom_unit_name) = unit_for(bottom_bytes);
    let bottom_max = bottom_bytes / bottom_unit * 1.05;
    let total_scaled = total_bytes / bottom_unit;
    let mut bottom = ChartBuilder::on(&bottom_area)
        .margin(12)
        .x_label_area_size(28)
        .y_label_area_size(64)
        .right_y_label_area_size(64)
        .caption("System memory", (FONT, 17))
        .build_cartesian_2d(x_range(), 0f64..bottom_max)
        .map_err(draw_err)?
        .set_secondary_coord(x_range(), 0f64..100f64);
    bottom
        .configure_mesh()
        .x_label_formatter(&x_label)
        .y_label_formatter(&|v| tick_label(*v, bottom_max))
        .y_desc(bottom_unit_name)
        .x_desc(format!("local time ({})", clock.offset(&start_utc)))
        .label_style((FONT, 13))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(draw_err)?;
    bottom
        .configure_secondary_axes()
        .y_desc("free %")
        .label_style((FONT, 13))
        .draw()
        .map_err(draw_err)?;
    draw_bands(&mut bottom, &band_list, bottom_max)?;
    draw_markers(&mut bottom, &marker_list, bottom_max)?;
    // Reference lines: what the machine has, and what the GPU may wire.
    let mut references = Vec::new();
    if total_scaled > 0.0 {
        let label = format!("total RAM {}", format_bytes(tl.meta.total_memory_bytes));
        references.push((label, total_scaled, BLACK.mix(0.5).stroke_width(1), 6));
    }
    if let Some(limit) = gpu_limit {
        let label = crate::describe_gpu_wired_limit(Some(limit)).unwrap_or_default();
        let style = RGBColor(0, 130, 130).stroke_width(1);
        references.push((label, limit as f64 / bottom_unit, style, 3));
    }
    for (label, y, style, dash) in references {
        bottom
            .draw_series(DashedLineSeries::new(
                [(from as i64, y), (to as i64, y)],
                dash,
                dash.min(4),
                style,
            ))
            .map_err(draw_err)?
            .label(label.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
        drawn.system_series.push(label);
    }
    for (name, series, color) in &system {
        let Some((_, max)) = series.max() else {
            continue;
        };
        let style = color.stroke_width(2);
        let legend = format!("{name}, max {}", format_bytes(max as u64));
        let mut first = true;
        for seg in decimate::segments(&scaled(series, bottom_unit), from, to, columns) {
            let a = bottom
                .draw_series(LineSeries::new(
                    seg.into_iter().map(|(t, v)| (t as i64, v)),
                    style,
                ))
                .map_err(draw_err)?;
            if std::mem::take(&mut first) {
                a.label(legend.clone())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
            }
        }
        drawn.system_series.push(legend);
    }
    let free_pct = tl.system_series(|r| r.free_percent);
    if let Some((_, min)) = free_pct.min() {
        let style = RGBColor(0, 90, 200).stroke_width(2);
        let legend = format!("free % (right axis), min {min:.0} %");
        let mut first = true;
        for seg in decimate::segments(&free_pct, from, to, columns) {
            let a = bottom
                .draw_secondary_series(LineSeries::new(
                    seg.into_iter().map(|(t, v)| (t as i64, v)),
                    style,
                ))
                .map_err(draw_err)?;
            if std::mem::take(&mut first) {
                a.label(legend.clone())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
            }
        }
        drawn.system_series.push(legend);
    }
    bottom
        .configure_series_labels()
        .label_font((FONT, 12))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(draw_err)?;
    root.present().map_err(draw_err)?;
    Ok(drawn)
}

type Chart<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<
        plotters::coord::combinators::WithKeyPoints<plotters::coord::types::RangedCoordi64>,
        plotters::coord::types::RangedCoordf64,
    >,
>;

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
    markers: &[(&'static str, u64)],
    ymax: f64,
) -> Result<(), RenderError> {
    chart
        .draw_series(markers.iter().map(|(kind, t)| {
            PathElement::new(
                vec![(*t as i64, 0.0), (*t as i64, ymax)],
                marker_style(kind),
            )
        }))
        .map_err(draw_err)?;
    Ok(())
}

/// One legend entry per kind of band and marker present.
fn legend_kinds<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    bands: &[Band],
    markers: &[(&'static str, u64)],
) -> Result<(), RenderError> {
    let mut seen: Vec<&str> = Vec::new();
    for b in bands {
        if seen.contains(&b.kind) {
            continue;
        }
        seen.push(b.kind);
        let color = band_color(b.kind, b.depth);
        chart
            .draw_series(std::iter::empty::<Rectangle<(i64, f64)>>())
            .map_err(draw_err)?
            .label(b.kind)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 18, y + 5)], color.filled()));
    }
    for (kind, _) in markers {
        if seen.contains(kind) {
            continue;
        }
        seen.push(kind);
        let style = marker_style(kind);
        chart
            .draw_series(std::iter::empty::<PathElement<(i64, f64)>>())
            .map_err(draw_err)?
            .label(*kind)
            .legend(move |(x, y)| PathElement::new(vec![(x + 9, y - 6), (x + 9, y + 6)], style));
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
    pixmap.encode_png().map_err(draw_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_suit_spans_from_seconds_to_a_day() {
        assert_eq!(tick_step_ms(5_000), 1_000);
        assert_eq!(tick_step_ms(40_000), 5_000);
        assert_eq!(tick_step_ms(10 * 60_000), 120_000);
        assert_eq!(tick_step_ms(3_600_000), 600_000);
        assert_eq!(tick_step_ms(86_400_000), 10_800_000);
        assert_eq!(tick_step_ms(30 * 86_400_000), 86_400_000);
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
