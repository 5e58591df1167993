//! A comparison of two traces as text or Markdown (the JSON is the comparison itself), and
//! its chart: the two traces on one time axis, stacked or overlaid, as SVG, PNG or a page.

use crate::chart::{draw_err, RenderError, MAX_SIDE_PX, MIN_SIDE_PX};
use crate::format_bytes;
use crate::report::{Clock, Style};
use crate::series::{AVAILABLE_COLOR, PROCESS_COLORS, PROCESS_COLORS_LIGHT};
use memtide_model::compare::{
    Comparison, Difference, Figure, FigureUnit, MatchedBy, ModelFigures, TraceFigures, WeightsMove,
};
use memtide_model::events::EventKind;
use memtide_model::report::Report;
use memtide_model::timeline::Timeline;
use std::fmt::Write;

/// A value of the figure `what`, for a person; `percent` is how a share of RAM is written
/// (`%` for a value, `points` for a change).
fn magnitude(what: Figure, v: f64, percent: &str) -> String {
    match what.unit() {
        FigureUnit::Bytes => format_bytes(v.max(0.0) as u64),
        FigureUnit::Ms => crate::seconds(v),
        FigureUnit::Percent => format!("{v:.1} {percent}"),
        FigureUnit::Count => format!("{v:.0}"),
    }
}

fn value(what: Figure, v: f64) -> String {
    magnitude(what, v, "%")
}

/// B − A with its sign, and B ÷ A, for a person: `+300 MiB (×1.25)`; `no change`.
pub fn change(d: &Difference) -> String {
    if !d.differs() {
        return "no change".into();
    }
    let sign = if d.delta > 0.0 { "+" } else { "−" };
    let size = magnitude(d.what, d.delta.abs(), "points");
    match d.ratio {
        // A share's ratio says nothing a change in points does not.
        Some(r) if d.what.unit() != FigureUnit::Percent => format!("{sign}{size} (×{r:.2})"),
        _ => format!("{sign}{size}"),
    }
}

/// What a difference's `what` means, in words.
fn label(what: Figure) -> &'static str {
    match what {
        Figure::PeakModelMemoryBytes => "peak model memory",
        Figure::PeakFootprintBytes => "peak footprint",
        Figure::PeakRssBytes => "peak RSS",
        Figure::LoadMs => "load (runner start to listed)",
        Figure::LifetimeMs => "lifetime (its runners alive)",
        Figure::Runners => "runners",
        Figure::MinAvailableBytes => "least available memory",
        Figure::MinFreePercent => "lowest free",
        Figure::PressureMs => "under warning or critical pressure",
        Figure::SwapGrowthBytes => "swap growth",
        Figure::LongestOverlapMs => "longest runner overlap",
    }
}

fn trace_line(name: &str, t: &TraceFigures, clock: &Clock) -> String {
    format!(
        "{name}  {}: from {}, {}, Ollama {}",
        crate::escape_control(&t.dir),
        t.start_utc
            .as_deref()
            .map_or_else(|| "-".into(), |s| clock.date_time(s)),
        crate::seconds(t.duration_ms as f64),
        match (&t.ollama_version, t.ollama_answered) {
            (Some(v), _) => v.clone(),
            (None, true) => "answered, version unknown".to_owned(),
            (None, false) => "not asked or not answering".to_owned(),
        }
    )
}

/// The comparison for a person, as plain text or Markdown.
pub fn render(c: &Comparison, style: Style, clock: &Clock) -> String {
    let md = style == Style::Markdown;
    let mut o = String::new();
    let h = |o: &mut String, title: &str| {
        let _ = writeln!(o, "\n{}{title}", if md { "## " } else { "" });
    };
    let _ = writeln!(o, "{}memtide compare", if md { "# " } else { "" });
    let _ = writeln!(o);
    for (n, t) in [("A", &c.a), ("B", &c.b)] {
        let line = trace_line(n, t, clock);
        let _ = writeln!(o, "{}{line}", if md { "- " } else { "" });
    }
    if !c.any_difference() {
        let _ = writeln!(
            o,
            "\nNo differences: every figure below is the same in both."
        );
    }
    let table = |o: &mut String, rows: &[Difference]| {
        if md {
            let _ = writeln!(o, "\n| figure | A | B | change |\n|---|---|---|---|");
        } else {
            let _ = writeln!(o);
        }
        for d in rows {
            let (a, b) = (value(d.what, d.a), value(d.what, d.b));
            if md {
                let _ = writeln!(o, "| {} | {a} | {b} | {} |", label(d.what), change(d));
            } else {
                let _ = writeln!(
                    o,
                    "  {:<36} {:>12} → {:<12} {}",
                    label(d.what),
                    a,
                    b,
                    change(d)
                );
            }
        }
    };
    h(&mut o, "Models");
    if c.models.is_empty() {
        let _ = writeln!(o, "\nNeither trace has a model runner.");
    }
    for m in &c.models {
        let how = match m.matched_by {
            MatchedBy::Name => "in both, matched by name",
            MatchedBy::Digest => "in both, matched by its blob's digest",
            MatchedBy::OnlyA => "only in A",
            MatchedBy::OnlyB => "only in B",
        };
        let _ = writeln!(
            o,
            "\n{}{} ({how})",
            if md { "### " } else { "" },
            crate::escape_control(&m.model)
        );
        if m.differences.is_empty() {
            let f = m.a.as_ref().or(m.b.as_ref());
            if let Some(f) = f {
                let _ = writeln!(
                    o,
                    "{}peak model memory {}, peak footprint {}, peak RSS {}",
                    if md { "\n" } else { "  " },
                    f.peak_model_memory_bytes.map_or("-".into(), format_bytes),
                    f.peak_footprint_bytes.map_or("-".into(), format_bytes),
                    f.peak_rss_bytes.map_or("-".into(), format_bytes),
                );
            }
        } else {
            table(&mut o, &m.differences);
        }
        if let (Some(mv), Some(fa), Some(fb)) = (m.weights_moved, &m.a, &m.b) {
            let w = |f: &ModelFigures| f.peak_weights_bytes.map_or("-".into(), format_bytes);
            let _ = writeln!(
                o,
                "{}{}",
                if md { "\n" } else { "  " },
                match mv {
                    WeightsMove::MappedToCopied => format!(
                        "Why the footprint moved: A mapped the model's weights ({} resident in the \
                         mapping, outside the footprint) and B copied them into its own memory \
                         (mapped weights {}), where the footprint counts them. Model memory counts \
                         them in both.",
                        w(fa),
                        w(fb)
                    ),
                    WeightsMove::CopiedToMapped => format!(
                        "Why the footprint moved: A copied the model's weights into its own memory \
                         (mapped weights {}), where the footprint counts them, and B mapped them \
                         ({} resident in the mapping, outside the footprint). Model memory counts \
                         them in both.",
                        w(fa),
                        w(fb)
                    ),
                }
            );
        }
    }
    h(&mut o, "The machine");
    table(&mut o, &c.differences);
    let ollama = match (&c.a.ollama_version, &c.b.ollama_version) {
        (Some(a), Some(b)) if a != b => format!("Ollama {a} → {b} (changed)"),
        (Some(a), Some(_)) => format!("Ollama {a} in both"),
        (None, None) => "Ollama: neither trace has its version".to_owned(),
        (a, b) => format!(
            "Ollama {} → {}",
            a.as_deref().unwrap_or("unknown"),
            b.as_deref().unwrap_or("unknown")
        ),
    };
    let _ = writeln!(o, "{}{ollama}", if md { "\n" } else { "  " });
    o
}

/// One trace of a comparison chart: its timeline, its report, its name on the chart, and the
/// moment (`t_ms`) its time axis counts from.
pub struct Side<'a> {
    /// The trace.
    pub timeline: &'a Timeline,
    /// Its report.
    pub report: &'a Report,
    /// `A` or `B`, with its directory.
    pub name: String,
    /// Time zero of its axis, ms on its clock.
    pub zero_ms: u64,
}

/// How the two traces are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// A above B, on the same scales.
    Stacked,
    /// Both in one panel: A solid, B dashed.
    Overlay,
}

/// Time zero of a trace for `align`: its first sample (`start`), or the first model load
/// (`first-load`: the first runner that started during the recording, else the first load
/// `/api/ps` listed). `None` when the trace has no such moment.
pub fn zero_of(tl: &Timeline, report: &Report, first_load: bool) -> Option<u64> {
    if !first_load {
        return tl.span().map(|(first, _)| first);
    }
    report.events.iter().find_map(|e| match &e.kind {
        EventKind::RunnerStart {
            before_recording: false,
            ..
        }
        | EventKind::ModelLoad {
            before_recording: false,
            ..
        } => Some(e.t_ms),
        _ => None,
    })
}

/// What a side's runner lines measure: model memory, with what it adds up in this trace.
fn runners_label(side: &Side<'_>) -> &'static str {
    crate::series::measure_label(side.timeline, crate::series::Measure::ModelMemory)
}

/// The same for both sides, said once when they agree.
fn both_labels(a: &Side<'_>, b: &Side<'_>) -> String {
    let (la, lb) = (runners_label(a), runners_label(b));
    if la == lb {
        la.to_owned()
    } else {
        format!("{la} (A), {lb} (B)")
    }
}

/// One line of the chart: a runner's model memory, or available memory.
struct Line {
    label: String,
    color: &'static str,
    /// (seconds from time zero, bytes).
    points: Vec<(f64, f64)>,
    dashed: bool,
    /// Available memory (drawn darker and thicker).
    available: bool,
}

fn lines_of(side: &Side<'_>, dashed: bool, colors: &mut Vec<String>, prefix: &str) -> Vec<Line> {
    let shift = |t: u64| (t as f64 - side.zero_ms as f64) / 1000.0;
    let mut out = Vec::new();
    let interval = side.timeline.interval_ms();
    for (p, tl) in side.report.processes.iter().zip(&side.timeline.processes) {
        if !p.role.is_model_runner() {
            continue;
        }
        let model = p.model.clone().unwrap_or_else(|| "unknown model".into());
        let i = colors.iter().position(|m| *m == model).unwrap_or_else(|| {
            colors.push(model.clone());
            colors.len() - 1
        });
        out.push(Line {
            label: format!("{prefix}{model} ({})", p.pid),
            color: model_color(i),
            points: tl
                .memory(interval)
                .points()
                .map(|(t, v)| (shift(t), v))
                .collect(),
            dashed,
            available: false,
        });
    }
    if let Some(a) = crate::series::available(side.timeline) {
        out.push(Line {
            label: format!("{prefix}available"),
            color: AVAILABLE_COLOR,
            points: a.series.points().map(|(t, v)| (shift(t), v)).collect(),
            dashed,
            available: true,
        });
    }
    out
}

/// The colour of the `i`-th model of a comparison: sixteen before one repeats, so that a
/// recording of twelve runners of twelve models is drawn in twelve colours.
fn model_color(i: usize) -> &'static str {
    let all = PROCESS_COLORS.len() + PROCESS_COLORS_LIGHT.len();
    match i % all {
        k if k < PROCESS_COLORS.len() => PROCESS_COLORS[k],
        k => PROCESS_COLORS_LIGHT[k - PROCESS_COLORS.len()],
    }
}

/// Both traces' lines, as the chart and the viewer draw them: runners coloured by model across
/// the two (B's dashed), the time range they span (at least a second), and the highest runner.
struct Prepared {
    a: Vec<Line>,
    b: Vec<Line>,
    x: (f64, f64),
    runner_top: f64,
}

impl Prepared {
    fn new(a: &Side<'_>, b: &Side<'_>) -> Prepared {
        let mut colors = Vec::new();
        let la = lines_of(a, false, &mut colors, "A ");
        let lb = lines_of(b, true, &mut colors, "B ");
        let (mut x0, mut x1, _) = extent(la.iter().chain(&lb));
        if !x0.is_finite() {
            (x0, x1) = (0.0, 1.0);
        }
        let (_, _, runner_top) = extent(la.iter().chain(&lb).filter(|l| !l.available));
        Prepared {
            x: (x0, x1.max(x0 + 1.0)),
            runner_top,
            a: la,
            b: lb,
        }
    }

    /// A trace's runner lines.
    fn runners(lines: &[Line]) -> Vec<&Line> {
        lines.iter().filter(|l| !l.available).collect()
    }

    /// Both traces' available memory.
    fn available(&self) -> Vec<&Line> {
        self.a
            .iter()
            .chain(&self.b)
            .filter(|l| l.available)
            .collect()
    }
}

/// The time axis of the chart and the page: seconds, minutes or hours from time zero,
/// whichever keeps its ticks few and round for the span drawn.
#[derive(serde::Serialize)]
struct TimeAxis {
    /// Seconds in one unit of the axis.
    seconds: f64,
    /// What the axis says it counts: `minutes from each trace's start`.
    desc: String,
}

impl TimeAxis {
    /// Seconds up to 3 minutes, minutes up to 3 hours, hours beyond.
    fn for_span(span_s: f64, align: &str) -> TimeAxis {
        let (seconds, unit) = if span_s <= 180.0 {
            (1.0, "seconds")
        } else if span_s <= 3.0 * 3600.0 {
            (60.0, "minutes")
        } else {
            (3600.0, "hours")
        };
        TimeAxis {
            seconds,
            desc: format!("{unit} from {align}"),
        }
    }
}

/// A tick's number as short as it can be said: `4`, `2.5`, `0.25`, `−1.5` (with the minus
/// sign the report writes).
fn shortest(v: f64) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    match s.strip_prefix('-') {
        Some("0") => "0".into(),
        Some(magnitude) => format!("−{magnitude}"),
        None => s.into(),
    }
}

/// The x range of `lines` (seconds) and their highest value.
fn extent<'l>(lines: impl Iterator<Item = &'l Line>) -> (f64, f64, f64) {
    let (mut x0, mut x1, mut top) = (f64::INFINITY, f64::NEG_INFINITY, 0.0f64);
    for &(x, y) in lines.flat_map(|l| l.points.iter()) {
        x0 = x0.min(x);
        x1 = x1.max(x);
        top = top.max(y);
    }
    (x0, x1, top)
}

/// One panel: `lines` on `x` seconds and a memory scale up to `top` bytes.
fn panel<DB: plotters::prelude::DrawingBackend>(
    area: &plotters::prelude::DrawingArea<DB, plotters::coord::Shift>,
    caption: &str,
    lines: &[&Line],
    x: (f64, f64),
    top: f64,
    time: &TimeAxis,
) -> Result<(), RenderError> {
    use plotters::prelude::*;
    use plotters::series::DashedLineSeries;
    let (unit, unit_name) = crate::chart::unit_for(top);
    let y1 = (top / unit * 1.1).max(1.0);
    let per = time.seconds;
    let mut chart = ChartBuilder::on(area)
        .caption(caption, crate::chart::font(15.0))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(70)
        .build_cartesian_2d(x.0 / per..x.1 / per, 0.0..y1)
        .map_err(draw_err)?;
    let y_label = |v: &f64| crate::chart::tick_label(*v, y1);
    chart
        .configure_mesh()
        .x_desc(&time.desc)
        .x_label_formatter(&|v| shortest(*v))
        .y_desc(unit_name)
        .y_label_formatter(&y_label)
        .label_style(crate::chart::font(12.0))
        .axis_desc_style(crate::chart::font(13.0))
        .light_line_style(RGBColor(238, 238, 238))
        .draw()
        .map_err(draw_err)?;
    for l in lines {
        let color = crate::chart::rgb(l.color);
        let style = color.stroke_width(if l.available { 3 } else { 2 });
        let pts = l.points.iter().map(|&(x, y)| (x / per, y / unit));
        let drawn = if l.dashed {
            chart.draw_series(DashedLineSeries::new(pts, 8, 5, style))
        } else {
            chart.draw_series(LineSeries::new(pts, style))
        }
        .map_err(draw_err)?;
        let dashed = l.dashed;
        drawn
            .label(crate::escape_control(&l.label).into_owned())
            .legend(move |(x, y)| {
                // A dashed line's swatch is two dashes.
                let s = color.stroke_width(3);
                let (gap0, gap1) = if dashed { (7, 11) } else { (9, 9) };
                EmptyElement::at((x, y))
                    + PathElement::new(vec![(0, 0), (gap0, 0)], s)
                    + PathElement::new(vec![(gap1, 0), (18, 0)], s)
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .label_font(crate::chart::font(12.0))
        .draw()
        .map_err(draw_err)?;
    Ok(())
}

/// The two traces as one SVG document on one time axis counted from each trace's own zero
/// ([`zero_of`]): each runner's footprint, coloured by model (the same model has the same
/// colour in both), A's above B's on one scale (or both in one panel, B dashed), and below
/// them both traces' available memory (B dashed).
pub fn svg(
    a: &Side<'_>,
    b: &Side<'_>,
    layout: Layout,
    (width, height): (u32, u32),
    align: &str,
) -> Result<String, RenderError> {
    use plotters::prelude::*;
    let ok = |v: u32| (MIN_SIDE_PX..=MAX_SIDE_PX).contains(&v);
    if !ok(width) || !ok(height) {
        return Err(RenderError::Size(width, height));
    }
    crate::chart::register_fonts();
    let overlay = layout == Layout::Overlay;
    let p = Prepared::new(a, b);
    let (runners_a, runners_b) = (Prepared::runners(&p.a), Prepared::runners(&p.b));
    let available = p.available();
    let (_, _, avail_top) = extent(available.iter().copied());
    let ((x0, x1), runner_top) = (p.x, p.runner_top);
    let time = TimeAxis::for_span(x1 - x0, align);
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let title = format!(
            "memtide compare: {} and {}, aligned on {align}",
            a.name, b.name
        );
        let root = root
            .titled(
                &title,
                crate::chart::bold(if width >= 1200 { 18.0 } else { 14.0 }).color(&BLACK),
            )
            .map_err(draw_err)?;
        let h = root.dim_in_pixel().1;
        let (runners_area, avail_area) = root.split_vertically((h as f64 * 0.68) as u32);
        let both: Vec<&Line> = runners_a.iter().chain(&runners_b).copied().collect();
        if overlay {
            panel(
                &runners_area,
                &format!("Model runners' {}", both_labels(a, b)),
                &both,
                (x0, x1),
                runner_top,
                &time,
            )?;
        } else {
            let (top_area, bottom_area) =
                runners_area.split_vertically(runners_area.dim_in_pixel().1 / 2);
            panel(
                &top_area,
                &format!("{}: model runners' {}", a.name, runners_label(a)),
                &runners_a,
                (x0, x1),
                runner_top,
                &time,
            )?;
            panel(
                &bottom_area,
                &format!("{}: model runners' {}", b.name, runners_label(b)),
                &runners_b,
                (x0, x1),
                runner_top,
                &time,
            )?;
        }
        panel(
            &avail_area,
            "Available memory",
            &available,
            (x0, x1),
            avail_top,
            &time,
        )?;
        root.present().map_err(draw_err)?;
    }
    if let Some(end) = buf.find('>') {
        buf.insert_str(end + 1, &format!("\n<desc>{}</desc>", crate::DRAWN_BY));
    }
    Ok(buf)
}

/// At most this many points of a line go into the viewer: each bucket keeps its highest
/// value, so that no peak is lost.
const VIEWER_POINTS: usize = 4000;

fn thinned(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    if points.len() <= VIEWER_POINTS {
        return points.to_vec();
    }
    let per = points.len().div_ceil(VIEWER_POINTS);
    points
        .chunks(per)
        .filter_map(|c| c.iter().copied().max_by(|a, b| a.1.total_cmp(&b.1)))
        .collect()
}

#[derive(serde::Serialize)]
struct ViewerLine {
    label: String,
    color: &'static str,
    dashed: bool,
    available: bool,
    points: Vec<(f64, f64)>,
}

#[derive(serde::Serialize)]
struct ViewerPanel {
    name: &'static str,
    title: String,
    height: u32,
    /// The top of the memory scale, bytes, when the panel shares it with another (A's and
    /// B's runners); `None` lets the chart fit its lines.
    y_max: Option<f64>,
    lines: Vec<ViewerLine>,
}

#[derive(serde::Serialize)]
struct ViewerData {
    align: String,
    x: (f64, f64),
    /// The unit the time axis counts in, as the static chart's.
    time: TimeAxis,
    panels: Vec<ViewerPanel>,
}

/// The comparison as the viewer: one self-contained page that works offline, with the two
/// traces' charts on one time axis (drag to zoom, double-click to show all, one cursor whose
/// readout names every line's value) and the comparison below.
pub fn viewer(
    a: &Side<'_>,
    b: &Side<'_>,
    layout: Layout,
    align: &str,
    c: &Comparison,
    clock: &Clock,
) -> Result<String, RenderError> {
    let p = Prepared::new(a, b);
    let to_view = |ls: Vec<&Line>| -> Vec<ViewerLine> {
        ls.into_iter()
            .map(|l| ViewerLine {
                label: l.label.clone(),
                color: l.color,
                dashed: l.dashed,
                available: l.available,
                points: thinned(&l.points),
            })
            .collect()
    };
    let runners = Prepared::runners;
    let y_max = (p.runner_top > 0.0).then_some(p.runner_top * 1.1);
    let mut panels = Vec::new();
    if layout == Layout::Overlay {
        let both: Vec<&Line> = runners(&p.a).into_iter().chain(runners(&p.b)).collect();
        panels.push(ViewerPanel {
            name: "runners",
            title: format!("Model runners' {} (A solid, B dashed)", both_labels(a, b)),
            height: 420,
            y_max,
            lines: to_view(both),
        });
    } else {
        for (name, side, ls) in [("a", a, &p.a), ("b", b, &p.b)] {
            panels.push(ViewerPanel {
                name,
                title: format!("{}: model runners' {}", side.name, runners_label(side)),
                height: 300,
                y_max,
                lines: to_view(runners(ls)),
            });
        }
    }
    panels.push(ViewerPanel {
        name: "available",
        title: "Available memory (A solid, B dashed)".into(),
        height: 240,
        y_max: None,
        lines: to_view(p.available()),
    });
    let data = ViewerData {
        align: align.to_owned(),
        x: p.x,
        time: TimeAxis::for_span(p.x.1 - p.x.0, align),
        panels,
    };
    let json = crate::html::script_json(&data)?;
    let esc = crate::html::escape;
    let title = format!("memtide compare: {} and {}", a.name, b.name);
    Ok(format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"generator\" content=\"{} {}\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title>\n<style>{}</style>\n<style>{COMPARE_CSS}</style></head><body>\n\
         <header><h1>{}</h1><p>Aligned on {}. Drag across a chart to zoom, double-click to show all; \
         point at a chart to read every line there.</p></header>\n\
         <div class=\"toolbar\">Showing <b id=\"range\"></b> <button id=\"reset\" type=\"button\">Show all</button></div>\n\
         <main><section id=\"charts\"></section><aside id=\"readout\">Point at a chart</aside></main>\n\
         <pre id=\"comparison\">{}</pre>\n<pre id=\"errors\" hidden></pre>\n\
         <script type=\"application/json\" id=\"data\">{json}</script>\n{}\n<script>{COMPARE_JS}</script>\n</body></html>\n",
        crate::DRAWN_BY,
        env!("CARGO_PKG_VERSION"),
        esc(&title),
        crate::html::UPLOT_CSS,
        esc(&title),
        esc(align),
        // Line by line: the escape shows control characters, and a newline is one.
        render(c, Style::Text, clock)
            .lines()
            .map(esc)
            .collect::<Vec<_>>()
            .join("\n"),
        crate::html::shared_scripts(),
    ))
}

const COMPARE_JS: &str = include_str!("../assets/compare.js");
const COMPARE_CSS: &str = "body{font-family:system-ui,sans-serif;margin:1.2em;color:#111}\
h1{font-size:1.3em;margin:0 0 .3em}main{display:flex;gap:1em;align-items:flex-start}\
#charts{flex:1;min-width:0}#readout{width:20em;font-size:13px;line-height:1.5;position:sticky;top:1em}\
.toolbar{margin:.5em 0}pre{font-size:13px;line-height:1.35;overflow-x:auto}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixteen_models_get_sixteen_colours_before_one_repeats() {
        let colours: Vec<&str> = (0..16).map(model_color).collect();
        let mut distinct = colours.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 16, "{colours:?}");
        assert!(!colours.contains(&AVAILABLE_COLOR));
        // The first eight are the chart's and the viewer's, in their order.
        assert_eq!(colours[..8], PROCESS_COLORS);
        assert_eq!(model_color(16), model_color(0));
    }

    #[test]
    fn the_time_axis_counts_in_the_unit_that_suits_the_span_and_its_ticks_say_no_more_than_they_need(
    ) {
        let at = |span: f64| TimeAxis::for_span(span, "each trace's start");
        assert_eq!(at(12.0).seconds, 1.0);
        assert_eq!(at(12.0).desc, "seconds from each trace's start");
        assert_eq!(at(180.0).seconds, 1.0);
        assert_eq!(at(181.0).desc, "minutes from each trace's start");
        assert_eq!(at(3.0 * 3600.0).seconds, 60.0);
        assert_eq!(at(86_400.0).desc, "hours from each trace's start");
        let said: Vec<String> = [0.0, 2.0, 2.5, 0.25, 1000.0, -0.0001, -1.5]
            .into_iter()
            .map(shortest)
            .collect();
        assert_eq!(said, ["0", "2", "2.5", "0.25", "1000", "0", "−1.5"]);
    }
}
