//! `memtide top`: memory and models live, in the terminal. A front-end of memtide's recorder
//! (`memtide-record`): each tick of the recorder is drawn, and with `--record` (or `r`) the
//! same ticks are written to a trace. The screen is redrawn after a tick or a key, never in a
//! loop of its own.

use crate::outdir;
use anyhow::{Context, Result};
use memtide_model::timeline::Measure;
use memtide_record::live::{Live, LiveEvent, LiveKind, LiveProcess};
use memtide_record::{Recorder, Step};
use memtide_render::format_bytes;
use memtide_render::series::AvailableFrom;
use memtide_trace::{Os, PressureLevel};
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Gauge, Paragraph, Row, Table};
use ratatui::Frame;
use std::path::PathBuf;
use std::sync::mpsc::Receiver;
use std::time::{Duration, SystemTime};

pub struct Options {
    /// What to sample and how often.
    pub recorder: memtide_record::Options,
    pub record: Option<PathBuf>,
    pub force: bool,
}

/// Below this size the screen is one line per runner.
pub const FULL_WIDTH: u16 = 80;
/// See [`FULL_WIDTH`].
pub const FULL_HEIGHT: u16 = 24;

/// How the runners are ordered; `s` goes to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Memory,
    Pid,
    Age,
    Model,
}

impl Sort {
    fn next(self) -> Sort {
        match self {
            Sort::Memory => Sort::Pid,
            Sort::Pid => Sort::Age,
            Sort::Age => Sort::Model,
            Sort::Model => Sort::Memory,
        }
    }
    /// Its name, `memory` being what the memory sort orders by (the sparklines' measure).
    fn name(self, memory: &str) -> &str {
        match self {
            Sort::Memory => memory,
            Sort::Pid => "pid",
            Sort::Age => "age",
            Sort::Model => "model",
        }
    }
}

/// What the screen shows besides the recorder's state.
pub struct View {
    pub rss: bool,
    pub sort: Sort,
    pub paused: Option<Live>,
    pub help: bool,
    pub recording: Option<PathBuf>,
    /// A line for the person: "trace written to …", a notice.
    pub message: Option<String>,
    pub color: bool,
    pub host_name: String,
    pub tz: jiff::tz::TimeZone,
}

impl View {
    fn style(&self, color: Color) -> Style {
        if self.color {
            Style::default().fg(color)
        } else {
            Style::default()
        }
    }
}

pub fn run(o: Options, stop: Receiver<()>) -> Result<()> {
    let mut rec = Recorder::new(o.recorder)?;
    let mut view = View {
        rss: false,
        sort: Sort::Memory,
        paused: None,
        help: false,
        recording: None,
        message: None,
        // https://no-color.org: any non-empty value.
        color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        host_name: gethostname::gethostname().to_string_lossy().into_owned(),
        tz: jiff::tz::TimeZone::system(),
    };
    if let Some(dir) = &o.record {
        let out = outdir::claim(Some(dir), "memtide", o.force, &[])?;
        rec.start_trace(&out, "memtide top")?;
        view.recording = Some(out);
    }
    // ratatui's init also restores the terminal when a panic unwinds.
    let mut terminal = ratatui::try_init().context("memtide top needs a terminal")?;
    let result = event_loop(&mut terminal, &mut rec, &mut view, &stop);
    // A terminal gone (SIGHUP) cannot be restored: the trace is finished all the same.
    let _ = ratatui::try_restore();
    let finished = rec.finish();
    result?;
    if let Some(s) = finished? {
        say!(
            "memtide top: trace written to {} ({} samples, {} missed)",
            s.dir.display(),
            s.samples,
            s.missed
        );
    }
    Ok(())
}

fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    rec: &mut Recorder,
    view: &mut View,
    stop: &Receiver<()>,
) -> Result<()> {
    terminal.draw(|f| draw(f, rec.live(), view))?;
    loop {
        // SIGTERM, or SIGINT sent from outside (the terminal's Ctrl-C arrives as a key).
        if stop.try_recv().is_ok() {
            return Ok(());
        }
        let step = rec.step(None, |timeout| -> Result<Option<Event>> {
            Ok(if event::poll(timeout)? {
                Some(event::read()?)
            } else {
                None
            })
        })?;
        match step {
            Step::Woken(Event::Key(k)) if k.kind == KeyEventKind::Press => {
                if !key(k, rec, view)? {
                    return Ok(());
                }
            }
            Step::Woken(Event::Resize(..)) => {}
            Step::Woken(_) => continue,
            Step::Ticked(report) => {
                if let Some(n) = report.notices.last() {
                    view.message = Some(n.to_string());
                }
            }
            Step::Ended => return Ok(()),
        }
        let live = view.paused.as_ref().unwrap_or(rec.live());
        terminal.draw(|f| draw(f, live, view))?;
    }
}

/// Handles a key; `false` to quit.
fn key(k: KeyEvent, rec: &mut Recorder, view: &mut View) -> Result<bool> {
    match k.code {
        KeyCode::Char('q') | KeyCode::Esc => return Ok(false),
        KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => return Ok(false),
        KeyCode::Char('f') => view.rss = !view.rss,
        KeyCode::Char('s') => view.sort = view.sort.next(),
        KeyCode::Char('?') | KeyCode::Char('h') => view.help = !view.help,
        KeyCode::Char('p') => {
            view.paused = match view.paused {
                Some(_) => None,
                None => Some(rec.live().clone()),
            }
        }
        KeyCode::Char('r') => match rec.stop_trace()? {
            Some(s) => {
                view.recording = None;
                view.message = Some(format!(
                    "trace written to {} ({} samples)",
                    s.dir.display(),
                    s.samples
                ));
            }
            None => {
                let out = outdir::claim(None, "memtide", false, &[])?;
                rec.start_trace(&out, "memtide top")?;
                view.message = Some(format!("recording to {}", out.display()));
                view.recording = Some(out);
            }
        },
        _ => {}
    }
    Ok(true)
}

/// `▁▂▃▄▅▆▇█` of the last `width` values, from 0 to `top` (their largest when `top` is 0):
/// from zero, so that a few bytes of jitter never look like a swing.
pub fn spark(values: &[u64], width: usize, top: u64) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let tail = &values[values.len().saturating_sub(width)..];
    let top = if top > 0 {
        top
    } else {
        tail.iter().copied().max().unwrap_or(0)
    };
    tail.iter()
        .map(|&v| {
            if top == 0 {
                BARS[0]
            } else {
                BARS[((v.min(top) as f64 / top as f64) * 7.0).round() as usize]
            }
        })
        .collect()
}

/// `45s`, `3m05s`, `2h03m`, `3d04h`.
pub fn age(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        3600..86400 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d{:02}h", s / 86400, s % 86400 / 3600),
    }
}

fn clock(view: &View, t: SystemTime) -> String {
    jiff::Timestamp::try_from(t)
        .map(|t| t.to_zoned(view.tz.clone()).strftime("%H:%M:%S").to_string())
        .unwrap_or_default()
}

fn named(pid: u32, model: &Option<String>) -> String {
    format!("{pid} ({})", model.as_deref().unwrap_or("model unknown"))
}

/// An event as the event line says it, times in `tz`.
pub fn describe(e: &LiveKind, tz: &jiff::tz::TimeZone) -> String {
    match e {
        LiveKind::RunnerFound { pid, model, since } => {
            match since.and_then(|t| jiff::Timestamp::try_from(t).ok()) {
                Some(t) => format!(
                    "runner {} running since {}",
                    named(*pid, model),
                    t.to_zoned(tz.clone()).strftime("%H:%M:%S")
                ),
                None => format!("runner {} already running", named(*pid, model)),
            }
        }
        LiveKind::RunnerStarted {
            pid,
            model,
            alive_with,
        } if alive_with.is_empty() => format!("runner {} started", named(*pid, model)),
        LiveKind::RunnerStarted {
            pid,
            model,
            alive_with,
        } => {
            let list = |sep| {
                alive_with
                    .iter()
                    .map(|(p, m)| named(*p, m))
                    .collect::<Vec<_>>()
                    .join(sep)
            };
            if alive_with.len() <= 2 {
                format!(
                    "runner {} started while {} still alive",
                    named(*pid, model),
                    list(" and ")
                )
            } else {
                // The count first: the list is cut at the terminal's edge.
                format!(
                    "runner {} started while {} other runners still alive: {}",
                    named(*pid, model),
                    alive_with.len(),
                    list(", ")
                )
            }
        }
        LiveKind::RunnerExited {
            pid,
            model,
            last_bytes,
        } => format!(
            "runner {} exited (last {})",
            named(*pid, model),
            format_bytes(*last_bytes)
        ),
        LiveKind::ModelLoaded { name, size_bytes } => {
            format!("Ollama loaded {name} ({})", format_bytes(*size_bytes))
        }
        LiveKind::ModelUnloaded { name } => format!("Ollama unloaded {name}"),
        LiveKind::Pressure { to, .. } => format!("pressure → {to}"),
        LiveKind::LowMemory {
            free_percent,
            threshold_percent,
        } => format!("free memory {free_percent:.0} %, under {threshold_percent:.0} %"),
        LiveKind::MemoryRecovered { free_percent } => {
            format!("free memory back to {free_percent:.0} %")
        }
        LiveKind::SwapGrew {
            from_bytes,
            to_bytes,
        } => format!(
            "swap grew from {} to {} within a minute",
            format_bytes(*from_bytes),
            format_bytes(*to_bytes)
        ),
        LiveKind::OllamaDown { error } => format!("Ollama not answering: {error}"),
        LiveKind::OllamaBack => "Ollama answers again".into(),
    }
}

fn event_line(view: &View, e: &LiveEvent) -> String {
    let text = describe(&e.kind, &view.tz);
    format!(
        "{}  {}",
        clock(view, e.at),
        memtide_render::escape_control(&text)
    )
}

fn os_words(live: &Live) -> String {
    let os = memtide_render::os_words(&Os::from(live.host.os), live.host.os_version.as_deref());
    format!("{os} {}", live.host.arch)
}

fn ollama_words(view: &View, live: &Live) -> String {
    let o = &live.ollama;
    match (&o.url, o.failing_since) {
        (None, _) => "Ollama not asked".into(),
        (Some(url), Some(since)) => {
            format!("Ollama not answering since {} ({url})", clock(view, since))
        }
        (Some(url), None) => match &o.version {
            Some(v) => format!("Ollama {v} at {url}"),
            None => format!("Ollama at {url}"),
        },
    }
}

fn sorted<'a>(live: &'a Live, view: &View, runners: bool) -> Vec<&'a LiveProcess> {
    let mut v: Vec<&LiveProcess> = live
        .processes
        .iter()
        .filter(|p| p.role.is_model_runner() == runners)
        .collect();
    let mem = |p: &LiveProcess| if view.rss { p.rss_bytes } else { p.memory() };
    // Within each sort, the exited below the living.
    match view.sort {
        Sort::Memory => v.sort_by_key(|p| (p.exited, std::cmp::Reverse(mem(p)))),
        Sort::Pid => v.sort_by_key(|p| (p.exited, p.id.pid)),
        Sort::Age => v.sort_by_key(|p| (p.exited, p.id.start_time_us)),
        Sort::Model => v.sort_by(|a, b| (a.exited, &a.model).cmp(&(b.exited, &b.model))),
    }
    v
}

fn process_age(p: &LiveProcess) -> String {
    p.started
        .and_then(|s| SystemTime::now().duration_since(s).ok())
        .map(age)
        .unwrap_or_else(|| "-".into())
}

/// The screen.
pub fn draw(f: &mut Frame, live: &Live, view: &View) {
    let area = f.area();
    if area.width < FULL_WIDTH || area.height < FULL_HEIGHT {
        narrow(f, area, live, view);
        return;
    }
    let ollama_rows = live.ollama.models.len().clamp(1, 4) as u16 + 1;
    // The table as tall as its rows (a title, a header, a row each); the events get the rest.
    let table_rows = live.processes.len().max(1) as u16 + 2;
    let [header, system, runners, ollama, events, footer] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(5),
        Constraint::Length(table_rows),
        Constraint::Length(ollama_rows),
        Constraint::Min(4),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_header(f, header, live, view);
    draw_system(f, system, live, view);
    draw_processes(f, runners, live, view);
    draw_ollama(f, ollama, live, view);
    draw_events(f, events, live, view);
    draw_footer(f, footer, live, view);
    if view.help {
        draw_help(f, area, live, view);
    }
}

fn bold() -> Style {
    Style::default().add_modifier(Modifier::BOLD)
}

fn draw_header(f: &mut Frame, area: Rect, live: &Live, view: &View) {
    let gpu = memtide_render::describe_gpu_wired_limit(live.host.gpu_wired_limit_bytes)
        .map(|g| format!(" · {g}"))
        .unwrap_or_default();
    let first = format!(
        "memtide top · {} · {} RAM · {}{gpu}",
        view.host_name,
        format_bytes(live.host.total_memory_bytes),
        os_words(live)
    );
    let mut second = vec![Span::raw(ollama_words(view, live))];
    if let Some(dir) = &view.recording {
        second.push(Span::raw(" · "));
        second.push(Span::styled(
            format!("recording to {}", dir.display()),
            view.style(Color::Red).add_modifier(Modifier::BOLD),
        ));
    }
    if view.paused.is_some() {
        second.push(Span::styled(" · PAUSED (p resumes)", bold()));
    }
    f.render_widget(
        Paragraph::new(vec![Line::styled(first, bold()), Line::from(second)]),
        area,
    );
}

fn pressure_color(p: Option<PressureLevel>) -> Color {
    match p {
        Some(PressureLevel::Critical) => Color::Red,
        Some(PressureLevel::Warning) => Color::Yellow,
        Some(PressureLevel::Normal) | None => Color::Green,
    }
}

/// Available memory in a sample and its share of RAM, as the charts define it
/// ([`AvailableFrom::preferred`]).
fn available_in(live: &Live, s: &memtide_trace::SystemRow) -> Option<(u64, f64)> {
    let total = live.host.total_memory_bytes;
    let bytes = AvailableFrom::preferred(&Os::from(live.host.os))
        .into_iter()
        .find_map(|from| from.read(total, s.free_percent, s.available_bytes))?;
    Some((bytes, bytes as f64 / total.max(1) as f64 * 100.0))
}

/// [`available_in`] the latest sample.
fn available(live: &Live) -> Option<(u64, f64)> {
    available_in(live, live.system.as_ref()?)
}

fn history(live: &Live, f: impl Fn(&memtide_trace::SystemRow) -> Option<u64>) -> Vec<u64> {
    live.system_history
        .iter()
        .filter_map(|(_, r)| f(r))
        .collect()
}

fn draw_system(f: &mut Frame, area: Rect, live: &Live, view: &View) {
    let [title, gauge, rest] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(3),
    ])
    .areas(area);
    f.render_widget(Paragraph::new(Line::styled("System", bold())), title);
    let s = live.system.as_ref();
    let pressure = s.and_then(|s| s.pressure);
    let (label, ratio) = match available(live) {
        Some((bytes, pct)) => (
            format!(
                "available {} ({pct:.0} %) · pressure {}",
                format_bytes(bytes),
                pressure.map_or("-", PressureLevel::as_str)
            ),
            (pct / 100.0).clamp(0.0, 1.0),
        ),
        None => ("available: no reading yet".to_owned(), 0.0),
    };
    let style = if view.color {
        Style::default()
            .fg(pressure_color(pressure))
            .bg(Color::Black)
    } else {
        Style::default().add_modifier(Modifier::REVERSED)
    };
    // The gauge, and beside it the last minute of available memory.
    let [gauge, trend] =
        Layout::horizontal([Constraint::Percentage(70), Constraint::Percentage(30)]).areas(gauge);
    f.render_widget(
        Gauge::default()
            .gauge_style(style)
            .ratio(ratio)
            .label(Span::styled(format!(" {label} "), bold())),
        gauge,
    );
    let avail_history: Vec<u64> = live
        .system_history
        .iter()
        .filter_map(|(_, r)| available_in(live, r).map(|(b, _)| b))
        .collect();
    f.render_widget(
        Paragraph::new(Line::styled(
            format!(
                " {}",
                spark(
                    &avail_history,
                    trend.width.saturating_sub(1) as usize,
                    live.host.total_memory_bytes,
                )
            ),
            view.style(Color::Cyan),
        )),
        trend,
    );
    let width = rest.width.saturating_sub(40) as usize;
    let minute = live
        .system_history
        .front()
        .map(|(t, _)| live.system_at.saturating_sub(*t))
        .unwrap_or_default();
    let swap_change = {
        let h = history(live, |r| r.swap_used_bytes);
        match (h.first(), h.last()) {
            (Some(a), Some(b)) if b > a => {
                format!(" (+{} in {})", format_bytes(b - a), age(minute))
            }
            (Some(a), Some(b)) if b < a => {
                format!(" (−{} in {})", format_bytes(a - b), age(minute))
            }
            (Some(_), Some(_)) => format!(" (no change in {})", age(minute)),
            _ => String::new(),
        }
    };
    let lines: Vec<Line> = [
        (
            "wired",
            s.and_then(|s| s.wired_bytes),
            history(live, |r| r.wired_bytes),
            String::new(),
        ),
        (
            "compressor",
            s.and_then(|s| s.compressor_bytes),
            history(live, |r| r.compressor_bytes),
            String::new(),
        ),
        (
            "swap used",
            s.and_then(|s| s.swap_used_bytes),
            history(live, |r| r.swap_used_bytes),
            swap_change,
        ),
    ]
    .into_iter()
    .map(|(name, now, hist, extra)| {
        let value = format!(
            "{name:<11}{:>10}{extra}",
            now.map_or_else(|| "-".into(), format_bytes)
        );
        Line::from(vec![
            Span::raw(format!("{value:<40}")),
            Span::styled(spark(&hist, width, 0), view.style(Color::Cyan)),
        ])
    })
    .collect();
    f.render_widget(Paragraph::new(lines), rest);
}

/// What the processes on the screen are measured by, each measure once, the best first: model
/// memory where a runner's weights are counted, else the footprint, else the RSS.
fn measures_shown(live: &Live) -> Vec<Measure> {
    [Measure::ModelMemory, Measure::Footprint, Measure::Rss]
        .into_iter()
        .filter(|m| live.processes.iter().any(|p| p.measure() == *m))
        .collect()
}

fn draw_processes(f: &mut Frame, area: Rect, live: &Live, view: &View) {
    let runners = sorted(live, view, true);
    let helpers = sorted(live, view, false);
    // The model column as wide as its longest name (at most 28), the sparkline the rest.
    let model_width = runners
        .iter()
        .chain(&helpers)
        .map(|p| {
            p.model
                .as_deref()
                .unwrap_or(&p.identity.name)
                .chars()
                .count()
        })
        .max()
        .unwrap_or(5)
        .clamp(13, 28) as u16;
    // Model memory, the footprint and the RSS side by side where the screen has room for all
    // three; where it has not, one goes: model memory when no process shown has its weights
    // counted (it is "-" on every row), else the RSS, so that a runner whose weights are not
    // counted still shows its footprint (the footprint instead while the sparklines draw RSS).
    let all_three = area.width >= model_width + 64 + 8 + 12;
    let shown = measures_shown(live);
    let counted = shown.contains(&Measure::ModelMemory);
    // What the sparklines draw, the header naming every measure drawn.
    let metric = if view.rss {
        "RSS".to_owned()
    } else if shown.is_empty() {
        "memory".to_owned()
    } else {
        shown
            .iter()
            .map(|m| m.name())
            .collect::<Vec<_>>()
            .join(" or ")
    };
    let left_out = match (all_three, counted, view.rss) {
        (true, _, _) => None,
        (false, true, false) => Some(5),
        (false, true, true) => Some(4),
        (false, false, _) => Some(3),
    };
    let fixed = if all_three { 64 + 8 } else { 54 + 7 };
    let spark_width = area.width.saturating_sub(model_width + fixed).max(4) as usize;
    // A head too long for the sparklines' column says less rather than be cut mid-name.
    let spark_head = if metric.chars().count() <= spark_width {
        metric.as_str()
    } else {
        "memory"
    };
    let keep = |cells: Vec<Cell<'static>>| -> Vec<Cell<'static>> {
        cells
            .into_iter()
            .enumerate()
            .filter(|(i, _)| left_out != Some(*i))
            .map(|(_, c)| c)
            .collect()
    };
    let header = Row::new(keep(
        [
            "MODEL",
            "PID",
            "ENGINE",
            "MODEL MEM",
            "FOOTPRINT",
            "RSS",
            "PEAK",
            "AGE",
            spark_head,
        ]
        .map(|h| Cell::from(h.to_owned()))
        .to_vec(),
    ))
    .style(bold());
    let row = |p: &LiveProcess, helper: bool| {
        let (what, engine) = match &p.role {
            memtide_model::runner::Role::Runner { engine, .. } => (
                p.model.clone().unwrap_or_else(|| "model unknown".into()),
                engine.name().to_owned(),
            ),
            memtide_model::runner::Role::Other => (p.identity.name.clone(), String::new()),
            role => (role.label().to_owned(), String::new()),
        };
        let hist: Vec<u64> = p
            .history
            .iter()
            .map(|(_, m, r)| if view.rss { *r } else { *m })
            .collect();
        let mut style = Style::default();
        if helper {
            style = style.add_modifier(Modifier::DIM);
        }
        if p.exited {
            style = style.add_modifier(Modifier::CROSSED_OUT);
        }
        Row::new(keep(vec![
            Cell::from(memtide_render::escape_control(&what).into_owned()),
            Cell::from(p.id.pid.to_string()),
            Cell::from(engine),
            // Model memory only where the weights are counted, as the report, the viewer and
            // `serve` show it.
            Cell::from(p.model_memory().map_or_else(|| "-".into(), format_bytes)),
            Cell::from(p.footprint_bytes.map_or_else(|| "-".into(), format_bytes)),
            Cell::from(format_bytes(p.rss_bytes)),
            Cell::from(format_bytes(p.peak_bytes)),
            Cell::from(if p.exited {
                "exited".into()
            } else {
                process_age(p)
            }),
            Cell::from(Span::styled(
                spark(&hist, spark_width, 0),
                if helper {
                    Style::default()
                } else {
                    view.style(Color::Magenta)
                },
            )),
        ]))
        .style(style)
    };
    let mut rows: Vec<Row> = runners.iter().map(|p| row(p, false)).collect();
    rows.extend(helpers.iter().map(|p| row(p, true)));
    let title = format!(
        "Runners ({} alive) and helpers · sorted by {} (s)",
        live.runners().count(),
        view.sort.name(&metric)
    );
    let [t, table] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    f.render_widget(Paragraph::new(Line::styled(title, bold())), t);
    if rows.is_empty() {
        f.render_widget(
            Paragraph::new("no process of the selection is running"),
            table,
        );
        return;
    }
    f.render_widget(
        Table::new(
            rows,
            [
                Constraint::Length(model_width),
                Constraint::Length(7),
                Constraint::Length(13),
                Constraint::Length(9),
                Constraint::Length(9),
                Constraint::Length(9),
                Constraint::Length(9),
                Constraint::Length(7),
                Constraint::Min(4),
            ]
            .into_iter()
            .enumerate()
            .filter(|(i, _)| left_out != Some(*i))
            .map(|(_, c)| c),
        )
        .header(header),
        table,
    );
}

fn draw_ollama(f: &mut Frame, area: Rect, live: &Live, view: &View) {
    let mut lines = vec![Line::styled("Loaded in Ollama (/api/ps)", bold())];
    // While Ollama does not answer, its last listing is not what is loaded now.
    if let Some(since) = live.ollama.failing_since {
        lines.push(Line::raw(format!(
            "not answering since {}: what it had loaded is unknown",
            clock(view, since)
        )));
    } else if live.ollama.models.is_empty() {
        lines.push(Line::raw(match live.ollama.url {
            None => "not asked (--no-ollama)",
            Some(_) if live.ollama.last_ok.is_none() => "no answer yet",
            Some(_) => "no model loaded",
        }));
    }
    let now = SystemTime::now();
    let shown = if live.ollama.failing_since.is_some() {
        &[][..]
    } else {
        &live.ollama.models[..]
    };
    for m in shown.iter().take(4) {
        let expires = match m.expires_at {
            Some(t) => match t.duration_since(now) {
                Ok(d) => format!("unloads in {}", age(d)),
                Err(_) => "unloading".into(),
            },
            None => String::new(),
        };
        lines.push(Line::raw(format!(
            "{:<24} size {:>9}  in VRAM {:>9}  context {:>7}  {expires}",
            memtide_render::escape_control(&m.name),
            format_bytes(m.size_bytes),
            m.size_vram_bytes.map_or_else(|| "-".into(), format_bytes),
            m.context_length
                .map_or_else(|| "-".into(), |c| c.to_string()),
        )));
    }
    let _ = view;
    f.render_widget(Paragraph::new(lines), area);
}

fn draw_events(f: &mut Frame, area: Rect, live: &Live, view: &View) {
    let room = area.height.saturating_sub(1) as usize;
    let mut lines = vec![Line::styled("What happened", bold())];
    if let Some(m) = &view.message {
        lines.push(Line::styled(m.clone(), view.style(Color::Yellow)));
    }
    let skip = live.events.len().saturating_sub(room + 1 - lines.len());
    lines.extend(
        live.events
            .iter()
            .skip(skip)
            .map(|e| Line::raw(event_line(view, e))),
    );
    f.render_widget(Paragraph::new(lines), area);
}

/// The word for what `f` switches the sparklines from: the best measure shown (the header's
/// sparkline head names them all).
fn memory_word(live: &Live) -> &'static str {
    measures_shown(live).first().map_or("memory", |m| m.name())
}

fn draw_footer(f: &mut Frame, area: Rect, live: &Live, view: &View) {
    let rec = if view.recording.is_some() {
        "r stop recording"
    } else {
        "r record"
    };
    let word = memory_word(live);
    f.render_widget(
        Paragraph::new(Line::styled(
            format!("q quit · f {word}/RSS · s sort · p pause · {rec} · ? keys"),
            Style::default().add_modifier(Modifier::DIM),
        )),
        area,
    );
}

fn draw_help(f: &mut Frame, area: Rect, live: &Live, view: &View) {
    let text = vec![
        Line::styled("Keys", bold()),
        Line::raw("q, Esc, Ctrl-C  quit (a trace being recorded is finished)"),
        Line::raw(format!(
            "f               {} or RSS in the sparklines and the sort",
            memory_word(live)
        )),
        Line::raw("s               sort runners by memory, pid, age, model"),
        Line::raw("p               pause the screen (recording goes on)"),
        Line::raw("r               start or stop recording to a new trace directory"),
        Line::raw("?               show or hide these keys"),
    ];
    let w = 66.min(area.width);
    let h = (text.len() as u16 + 2).min(area.height);
    let r = Rect::new(area.x + (area.width - w) / 2, area.y + 3, w, h);
    f.render_widget(ratatui::widgets::Clear, r);
    f.render_widget(
        Paragraph::new(text)
            .block(ratatui::widgets::Block::bordered().style(view.style(Color::White))),
        r,
    );
}

/// Below 80×24: a line for the system, one per runner, the last event, the keys.
fn narrow(f: &mut Frame, area: Rect, live: &Live, view: &View) {
    let mut lines = Vec::new();
    let s = live.system.as_ref();
    lines.push(Line::styled(
        match available(live) {
            Some((b, p)) => format!(
                "avail {} {p:.0}% {} · swap {}",
                format_bytes(b),
                s.and_then(|s| s.pressure)
                    .map_or("-", PressureLevel::as_str),
                s.and_then(|s| s.swap_used_bytes)
                    .map_or_else(|| "-".into(), format_bytes)
            ),
            None => "memtide top: no reading yet".into(),
        },
        view.style(pressure_color(s.and_then(|s| s.pressure))),
    ));
    // The system line, the last event (two lines), the keys: the rest is for runners.
    let room = area.height.saturating_sub(4) as usize;
    let runners = sorted(live, view, true);
    for p in runners.iter().take(room) {
        let mem = if view.rss { p.rss_bytes } else { p.memory() };
        lines.push(Line::raw(format!(
            "{} {} {}",
            memtide_render::escape_control(p.model.as_deref().unwrap_or("model unknown")),
            p.id.pid,
            format_bytes(mem)
        )));
    }
    if runners.len() > room {
        lines.push(Line::raw(format!(
            "and {} more runners",
            runners.len() - room
        )));
    }
    if let Some(e) = live.events.back() {
        lines.push(Line::raw(event_line(view, e)));
    }
    let [body, footer] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(area);
    f.render_widget(
        Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: true }),
        body,
    );
    f.render_widget(
        Paragraph::new(Line::styled(
            "q quit · ? keys",
            Style::default().add_modifier(Modifier::DIM),
        )),
        footer,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use memtide_model::ollama::{PsResponse, RunningModel};
    use memtide_sampler::{
        HostInfo, PressureLevel, ProcessId, ProcessInfo, ProcessSample, SystemSample,
    };
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    const MIB: u64 = 1 << 20;

    fn view() -> View {
        View {
            rss: false,
            sort: Sort::Memory,
            paused: None,
            help: false,
            recording: None,
            message: None,
            color: false,
            host_name: "mac-mini".into(),
            tz: jiff::tz::TimeZone::UTC,
        }
    }

    fn id(pid: u32) -> ProcessId {
        ProcessId {
            pid,
            start_time_us: 1_764_590_000_000_000 + u64::from(pid),
        }
    }

    fn runner(pid: u32, model: &str) -> (ProcessId, memtide_trace::IdentityRow, Vec<String>) {
        let argv: Vec<String> = [
            "/usr/local/bin/ollama",
            "runner",
            "--model",
            model,
            "--port",
            "50100",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let info = ProcessInfo {
            id: id(pid),
            ppid: 1,
            name: "ollama".into(),
            exe: None,
            argv: argv.clone(),
        };
        (
            id(pid),
            memtide_record::convert::identity_row(&info, &[], "x"),
            argv,
        )
    }

    fn sample(pid: u32, footprint: u64) -> ProcessSample {
        let mut s = ProcessSample::empty(id(pid), 1, "ollama".into());
        s.rss_bytes = footprint + 20 * MIB;
        s.footprint_bytes = Some(footprint);
        s
    }

    fn system(free: f64, pressure: PressureLevel, swap: u64) -> SystemSample {
        let mut s = SystemSample::default();
        s.total_bytes = 32 << 30;
        s.free_percent = Some(free);
        s.pressure = Some(pressure);
        s.wired_bytes = Some(4 << 30);
        s.compressor_bytes = Some(10 << 30);
        s.swap_used_bytes = Some(swap);
        s
    }

    /// The imported trace's story, tick by tick: llama3.2:3b loads, granite3.3:2b starts while
    /// it is alive, memory falls to 22 % and the pressure rises.
    fn story() -> Live {
        let host = HostInfo {
            os: "macos",
            os_version: Some("15.1".into()),
            arch: "aarch64",
            total_memory_bytes: 32 << 30,
            page_size_bytes: Some(16384),
            gpu_wired_limit_bytes: None,
        };
        let mut live = Live::new(
            host,
            Some("http://127.0.0.1:11434".into()),
            Duration::from_millis(250),
            memtide_record::live::HISTORY,
        );
        let now = SystemTime::now();
        let t = Duration::from_secs;
        live.poll(t(0), now, &Ok(PsResponse::default()));
        live.update(
            t(1),
            now,
            &system(80.0, PressureLevel::Normal, 1 << 30),
            &[runner(61864, "llama3.2:3b")],
            &[sample(61864, 900 * MIB)],
            &[],
        );
        live.update(
            t(2),
            now,
            &system(60.0, PressureLevel::Normal, 1 << 30),
            &[],
            &[sample(61864, 3200 * MIB)],
            &[],
        );
        live.poll(
            t(2),
            now,
            &Ok(PsResponse {
                models: vec![RunningModel {
                    name: "llama3.2:3b".into(),
                    size: 3370 * MIB,
                    size_vram: Some(3370 * MIB),
                    context_length: Some(4096),
                    ..RunningModel::default()
                }],
                dropped: 0,
            }),
        );
        live.update(
            t(3),
            now,
            &system(22.0, PressureLevel::Warning, 2680 * MIB),
            &[runner(62010, "granite3.3:2b")],
            &[sample(61864, 3200 * MIB), sample(62010, 2600 * MIB)],
            &[],
        );
        live
    }

    fn screen(live: &Live, view: &View, w: u16, h: u16) -> Vec<String> {
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
        term.draw(|f| draw(f, live, view)).unwrap();
        let buf = term.backend().buffer().clone();
        (0..h)
            .map(|y| {
                (0..w)
                    .map(|x| buf[(x, y)].symbol().to_string())
                    .collect::<String>()
            })
            .collect()
    }

    fn find<'a>(lines: &'a [String], needle: &str) -> &'a str {
        lines
            .iter()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle:?} in\n{}", lines.join("\n")))
    }

    #[test]
    fn the_full_screen_shows_runners_gauge_ollama_and_the_overlap() {
        let live = story();
        let lines = screen(&live, &view(), 100, 30);
        assert!(lines[0].contains("memtide top · mac-mini · 32.0 GiB RAM · macOS 15.1 aarch64"));
        assert!(lines[1].contains("Ollama at http://127.0.0.1:11434"));
        // The gauge: available as the charts define it on macOS, free % × RAM.
        let gauge = find(&lines, "available 7.04 GiB (22 %) · pressure warning");
        assert!(gauge.contains('█'), "{gauge}");
        assert!(find(&lines, "swap used").contains("2.62 GiB (+1.62 GiB in 2s)"));
        // Runners by footprint, each row with its numbers.
        let llama = find(&lines, "llama3.2:3b  ");
        let granite = find(&lines, "granite3.3:2b");
        for (row, pid, fp) in [(llama, "61864", "3.12 GiB"), (granite, "62010", "2.54 GiB")] {
            assert!(
                row.contains(pid) && row.contains(fp) && row.contains("ollama runner"),
                "{row}"
            );
        }
        let pos = |n: &str| lines.iter().position(|l| l.contains(n)).unwrap();
        // No weights counted in this story: sorted by the footprint, and said so.
        assert!(pos("61864") < pos("62010"), "sorted by footprint");
        assert!(find(&lines, "Runners (2 alive)").contains("sorted by footprint"));
        assert!(find(&lines, "llama3.2:3b              size").contains("context    4096"));
        // The events, as they happened.
        find(
            &lines,
            "runner 62010 (granite3.3:2b) started while 61864 (llama3.2:3b) still alive",
        );
        // The key names what the sparklines switch from.
        find(&lines, "q quit · f footprint/RSS");
    }

    #[test]
    fn at_80_by_24_everything_fits() {
        let live = story();
        let lines = screen(&live, &view(), 80, 24);
        find(&lines, "available 7.04 GiB (22 %)");
        // Every column but model memory, which no process has (no weights counted): its
        // footprint instead; the engine whole.
        find(
            &lines,
            "MODEL         PID     ENGINE        FOOTPRINT RSS       PEAK      AGE",
        );
        assert!(find(&lines, "granite3.3:2b").contains("ollama runner"));
        let llama = find(&lines, "llama3.2:3b  ");
        assert!(
            llama.contains("61864") && llama.contains("3.12 GiB"),
            "{llama}"
        );
        find(&lines, "started while 61864 (llama3.2:3b)");
        assert!(lines[23].starts_with("q quit"), "{}", lines[23]);
    }

    #[test]
    fn model_memory_is_shown_only_where_the_weights_are_counted() {
        let mut live = story();
        // Wide: all three columns; no weights counted, so no model memory, as the report says.
        let lines = screen(&live, &view(), 120, 30);
        find(&lines, "MODEL MEM FOOTPRINT RSS");
        let llama = find(&lines, "llama3.2:3b  ");
        assert_eq!(llama.split_whitespace().nth(4), Some("-"), "{llama}");
        // Its mapped weights counted: model memory is the footprint plus them, and at 80
        // columns it is the footprint that makes room.
        let mut s = sample(61864, 3200 * MIB);
        s.weights_resident_bytes = Some(2000 * MIB);
        live.update(
            Duration::from_secs(3),
            SystemTime::now(),
            &system(22.0, PressureLevel::Warning, 3 << 30),
            &[],
            &[s],
            &[],
        );
        let lines = screen(&live, &view(), 120, 30);
        let llama = find(&lines, "llama3.2:3b  ");
        assert!(llama.contains("5.08 GiB  3.12 GiB"), "{llama}");
        // The other runner's weights are not counted: its sparkline draws its footprint, and
        // the sort and the sparklines' head name both.
        assert!(
            find(&lines, "Runners (2 alive)").contains("sorted by model memory or footprint (s)")
        );
        let head = find(&lines, "MODEL MEM FOOTPRINT RSS");
        assert!(
            head.trim_end().ends_with("model memory or footprint"),
            "{head}"
        );
        find(&lines, "q quit · f model memory/RSS");
        // At 80 columns the RSS makes room: the runner whose weights are not counted keeps
        // its footprint in view, and the sparklines' head, too long for its column, says
        // "memory" rather than half a name.
        let lines = screen(&live, &view(), 80, 24);
        let head = find(
            &lines,
            "MODEL         PID     ENGINE        MODEL MEM FOOTPRINT PEAK      AGE",
        );
        assert!(head.trim_end().ends_with(" memory"), "{head}");
        assert!(find(&lines, "llama3.2:3b  ").contains("5.08 GiB  3.12 GiB"));
        let granite = find(&lines, "granite3.3:2b ");
        assert_eq!(granite.split_whitespace().nth(4), Some("-"), "{granite}");
        assert_eq!(granite.split_whitespace().nth(5), Some("2.54"), "{granite}");
        // Sparklines of RSS: the RSS column comes back, the footprint makes room.
        let mut rss = view();
        rss.rss = true;
        let lines = screen(&live, &rss, 80, 24);
        find(
            &lines,
            "MODEL         PID     ENGINE        MODEL MEM RSS       PEAK      AGE     RSS",
        );
    }

    #[test]
    fn keys_change_the_sort_and_the_metric() {
        let live = story();
        let mut v = view();
        v.sort = Sort::Pid;
        v.rss = true;
        let lines = screen(&live, &v, 100, 30);
        assert!(find(&lines, "Runners (2 alive)").contains("sorted by pid"));
        let pos = |n: &str| lines.iter().position(|l| l.contains(n)).unwrap();
        assert!(pos("62010  ") > pos("61864  "));
        v.sort = Sort::Memory;
        let lines = screen(&live, &v, 100, 30);
        assert!(find(&lines, "Runners (2 alive)").contains("sorted by RSS"));
        v.help = true;
        let lines = screen(&live, &v, 100, 30);
        find(&lines, "start or stop recording to a new trace directory");
    }

    #[test]
    fn below_80_by_24_it_is_one_line_per_runner() {
        let live = story();
        let lines = screen(&live, &view(), 60, 12);
        assert_eq!(
            lines[0].trim_end(),
            "avail 7.04 GiB 22% warning · swap 2.62 GiB"
        );
        assert_eq!(lines[1].trim_end(), "llama3.2:3b 61864 3.12 GiB");
        assert_eq!(lines[2].trim_end(), "granite3.3:2b 62010 2.54 GiB");
        let event = format!("{} {}", lines[3].trim(), lines[4].trim());
        assert!(
            event.contains("started while 61864 (llama3.2:3b) still alive"),
            "{event}"
        );
        assert_eq!(lines[11].trim_end(), "q quit · ? keys");
        // Too short for every runner: the rest counted.
        let lines = screen(&live, &view(), 60, 5);
        assert!(
            lines.iter().any(|l| l.contains("and 1 more runners")),
            "{lines:?}"
        );
    }

    #[test]
    fn no_color_leaves_the_screen_without_colours() {
        let live = story();
        let mut term = Terminal::new(TestBackend::new(100, 30)).unwrap();
        term.draw(|f| draw(f, &live, &view())).unwrap();
        let buf = term.backend().buffer().clone();
        assert!(buf
            .content()
            .iter()
            .all(|c| c.fg == Color::Reset && c.bg == Color::Reset));
        let mut v = view();
        v.color = true;
        term.draw(|f| draw(f, &live, &v)).unwrap();
        let buf = term.backend().buffer().clone();
        assert!(
            buf.content().iter().any(|c| c.fg == Color::Yellow),
            "the gauge is yellow at warning"
        );
    }

    /// A recorded trace fed back tick by tick, as the recorder would have fed the live state.
    fn replay(dir: &str) -> Live {
        replay_watching(dir, |_| {})
    }

    /// [`replay`], calling `each` with the live state after every tick.
    fn replay_watching(dir: &str, mut each: impl FnMut(&Live)) -> Live {
        use memtide_model::timeline::Timeline;
        let tl =
            Timeline::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir)).unwrap();
        let host = HostInfo {
            os: if tl.meta.os == Os::Macos {
                "macos"
            } else {
                "linux"
            },
            os_version: tl.meta.os_version.clone(),
            arch: "x86_64",
            total_memory_bytes: tl.meta.total_memory_bytes,
            page_size_bytes: tl.meta.page_size_bytes,
            gpu_wired_limit_bytes: None,
        };
        let mut live = Live::new(
            host,
            None,
            Duration::from_millis(tl.meta.interval_ms),
            memtide_record::live::HISTORY,
        );
        let start: SystemTime = tl.wall(0).unwrap().into();
        let mut reported_exit = vec![false; tl.processes.len()];
        // A tick at every sample time of the system or any process; the system's last sample
        // stands for it between its own (an imported trace samples processes more often).
        let mut ticks: Vec<u64> = tl.system.iter().map(|r| r.t_ms).collect();
        for p in &tl.processes {
            ticks.extend(p.rows.iter().map(|r| r.t_ms));
        }
        ticks.extend(tl.polls.iter().map(|p| p.t_ms));
        ticks.sort_unstable();
        ticks.dedup();
        for t in ticks {
            let i = tl.system.partition_point(|r| r.t_ms <= t).max(1) - 1;
            let r = &tl.system[i];
            let mut system = SystemSample::default();
            system.total_bytes = r.total_bytes;
            system.available_bytes = r.available_bytes.get();
            system.wired_bytes = r.wired_bytes.get();
            system.compressor_bytes = r.compressor_bytes.get();
            system.swap_used_bytes = r.swap_used_bytes.get();
            system.free_percent = r.free_percent.get();
            system.pressure = r.pressure.map(|l| match l {
                memtide_trace::PressureLevel::Normal => PressureLevel::Normal,
                memtide_trace::PressureLevel::Warning => PressureLevel::Warning,
                memtide_trace::PressureLevel::Critical => PressureLevel::Critical,
            });
            let mut started = Vec::new();
            let mut samples = Vec::new();
            let mut exited = Vec::new();
            for (k, p) in tl.processes.iter().enumerate() {
                let pid = ProcessId {
                    pid: p.identity.pid,
                    start_time_us: p.identity.start_time_us,
                };
                if p.rows.first().is_some_and(|f| f.t_ms == t) {
                    started.push((pid, p.identity.clone(), p.identity.argv.clone()));
                }
                if let Some(row) = p.rows.iter().find(|x| x.t_ms == t) {
                    let mut s =
                        ProcessSample::empty(pid, p.identity.ppid, p.identity.name.as_str().into());
                    s.rss_bytes = row.rss_bytes;
                    s.footprint_bytes = row.footprint_bytes;
                    s.weights_resident_bytes = row.weights_resident_bytes;
                    samples.push(s);
                }
                let gone = p.rows.last().is_some_and(|l| l.t_ms < t);
                if p.identity.exited && gone && !reported_exit[k] {
                    reported_exit[k] = true;
                    exited.push(pid);
                }
            }
            let at = Duration::from_millis(t);
            live.update(at, start + at, &system, &started, &samples, &exited);
            // Ollama's answers at that moment, as the poller hands them over.
            for poll in tl.polls.iter().filter(|p| p.t_ms == t) {
                let result = if poll.outcome.is_ok() {
                    let mut ps = PsResponse::default();
                    for m in tl.models.iter().filter(|m| m.t_ms == t) {
                        ps.models.push(RunningModel {
                            name: m.name.clone(),
                            size: m.size_bytes,
                            size_vram: m.size_vram_bytes,
                            ..RunningModel::default()
                        });
                    }
                    Ok(ps)
                } else {
                    Err(memtide_record::ollama::OllamaError::Unreachable {
                        url: "replay".into(),
                        detail: poll.outcome.as_str().to_owned(),
                    })
                };
                live.poll(at, start + at, &result);
            }
            each(&live);
        }
        live
    }

    /// One trace through every view: the report, the chart (its SVG text), the viewer (its
    /// data), `top` (its live state, replayed tick by tick), `serve` (its exposition) and
    /// `compare` give the same model names, the same peak of each runner's memory (model
    /// memory, or what stands for it in the trace) and the same least available memory.
    #[test]
    fn every_view_tells_the_same_names_peaks_and_least_available_memory() {
        use memtide_model::timeline::Timeline;
        use memtide_render::report::Clock;
        for dir in [
            "crates/model/tests/fixtures/trace-imported",
            "tests/fixtures/trace-twelve-runners",
        ] {
            let tl = Timeline::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir))
                .unwrap();
            let report = memtide_model::report::build(&tl, &Default::default());
            let runners: Vec<(u32, String, u64)> = report
                .models
                .iter()
                .map(|m| {
                    let p = report
                        .processes
                        .iter()
                        .find(|p| p.pid == m.runner_pid)
                        .unwrap();
                    (
                        m.runner_pid,
                        m.model.clone().unwrap(),
                        p.peak_bytes.unwrap(),
                    )
                })
                .collect();
            assert!(runners.len() >= 2, "{dir}");
            let least = memtide_model::available::available(&tl)
                .unwrap()
                .series
                .min()
                .unwrap()
                .1 as u64;
            let clock = Clock::new(jiff::tz::TimeZone::UTC);
            let opts = memtide_render::chart::ChartOptions::default();

            // The chart: each runner drawn with its own line is named and its peak said.
            let (svg, _) = memtide_render::chart::svg(&tl, &report, &opts, &clock).unwrap();
            assert!(
                svg.contains(&format!("min {}", format_bytes(least))),
                "{dir}: chart"
            );
            let drawn: Vec<&(u32, String, u64)> = runners
                .iter()
                .filter(|(pid, model, _)| svg.contains(&format!("{model} ({pid})")))
                .collect();
            assert!(drawn.len() >= 2, "{dir}: chart names");
            for (pid, model, peak) in &drawn {
                let legend = format!("{model} ({pid}), max {}", format_bytes(*peak));
                assert!(svg.contains(&legend), "{dir}: chart lacks {legend:?}");
            }

            // The viewer: the same names and peaks in its data.
            let page = memtide_render::html::page(&tl, &report, &opts, &clock).unwrap();
            for (pid, model, peak) in &runners {
                let label = format!("\"label\":\"{model} ({pid})\"");
                let at = page
                    .find(&label)
                    .unwrap_or_else(|| panic!("{dir}: viewer lacks {label}"));
                let rest = &page[at..];
                let peak_field = format!("\"peak_bytes\":{peak}");
                assert!(
                    rest[..rest.find('}').unwrap_or(rest.len())].contains(&peak_field),
                    "{dir}: viewer peak of {pid}"
                );
            }

            // top, replayed tick by tick: names, peaks, and its gauge's least available.
            let mut top_least = u64::MAX;
            let live = replay_watching(dir, |l| {
                if let Some((b, _)) = l.system.as_ref().and_then(|s| available_in(l, s)) {
                    top_least = top_least.min(b);
                }
            });
            assert_eq!(top_least, least, "{dir}: top's least available");
            for (pid, model, peak) in &runners {
                let p = live.processes.iter().find(|p| p.id.pid == *pid).unwrap();
                assert_eq!(p.model.as_deref(), Some(model.as_str()), "{dir}: top name");
                assert_eq!(p.peak_bytes, *peak, "{dir}: top peak of {pid}");
            }

            // serve: the runners still alive at the end, by name, with the same peak.
            let text = memtide_record::metrics::encode(
                &memtide_record::metrics::Reading::from_live(&live, SystemTime::now()),
                None,
            );
            let alive: Vec<&(u32, String, u64)> = runners
                .iter()
                .filter(|(pid, _, _)| live.runners().any(|r| r.id.pid == *pid))
                .collect();
            assert!(!alive.is_empty(), "{dir}: runners alive at the end");
            for (pid, model, peak) in alive {
                let line = text
                    .lines()
                    .find(|l| {
                        l.starts_with("memtide_runner_peak_model_memory_bytes{")
                            && l.contains(&format!("pid=\"{pid}\""))
                    })
                    .unwrap_or_else(|| panic!("{dir}: serve lacks {pid}"));
                assert!(line.contains(&format!("model=\"{model}\"")), "{line}");
                assert!(
                    line.ends_with(&format!(" {peak}")),
                    "{dir}: {line} against {peak}"
                );
            }

            // compare: the same least available; each model's peak the highest of its runners.
            let c = memtide_model::compare::compare(&tl, &report, &tl, &report);
            assert_eq!(c.a.min_available_bytes, Some(least), "{dir}: compare");
            for m in &c.models {
                let f = m.a.as_ref().unwrap();
                let figure = f
                    .peak_model_memory_bytes
                    .or(f.peak_footprint_bytes)
                    .or(f.peak_rss_bytes);
                let highest = runners
                    .iter()
                    .filter(|(_, name, _)| *name == m.model)
                    .map(|(_, _, peak)| *peak)
                    .max();
                assert_eq!(figure, highest, "{dir}: compare's {}", m.model);
            }
        }
    }

    /// The live detectors, fed a trace tick by tick, say what the report says of it
    /// afterwards: the same runners start (the overlapping ones while others are alive) and
    /// exit, and free memory falls under the threshold at the same sample.
    #[test]
    fn the_live_events_agree_with_the_report() {
        use memtide_model::events::EventKind;
        for dir in [
            "crates/model/tests/fixtures/trace-imported",
            "tests/fixtures/trace-twelve-runners",
        ] {
            let live = replay(dir);
            let tl = memtide_model::timeline::Timeline::load(
                &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir),
            )
            .unwrap();
            let report = memtide_model::report::build(&tl, &Default::default());
            let mut report_starts = Vec::new();
            let mut report_exits = Vec::new();
            let mut report_low = Vec::new();
            let mut overlapping = std::collections::BTreeSet::new();
            for e in &report.events {
                match &e.kind {
                    EventKind::RunnerStart { runner, .. } => {
                        report_starts.push((e.t_ms, runner.pid))
                    }
                    EventKind::RunnerExit { runner, .. } => report_exits.push(runner.pid),
                    EventKind::LowMemory { .. } => report_low.push(e.t_ms),
                    // Every runner of an overlap but the first to start was started while
                    // another was alive.
                    EventKind::Overlap { runners, .. } => {
                        overlapping.extend(runners.iter().skip(1).map(|r| r.pid))
                    }
                    _ => {}
                }
            }
            let mut live_starts = Vec::new();
            let mut live_exits = Vec::new();
            let mut live_low = Vec::new();
            let mut live_overlapping = std::collections::BTreeSet::new();
            for e in &live.events {
                let t = e.since_start.as_millis() as u64;
                match &e.kind {
                    LiveKind::RunnerStarted {
                        pid, alive_with, ..
                    } => {
                        live_starts.push((t, *pid));
                        if !alive_with.is_empty() {
                            live_overlapping.insert(*pid);
                        }
                    }
                    LiveKind::RunnerExited { pid, .. } => live_exits.push(*pid),
                    LiveKind::LowMemory { .. } => live_low.push(t),
                    _ => {}
                }
            }
            assert_eq!(live_starts, report_starts, "{dir}");
            assert_eq!(live_exits, report_exits, "{dir}");
            assert_eq!(live_low, report_low, "{dir}");
            assert_eq!(live_overlapping, overlapping, "{dir}");
            assert!(!overlapping.is_empty(), "{dir}: an overlap to agree on");
        }
    }

    #[test]
    fn a_recording_of_twelve_runners_replayed_tick_by_tick() {
        let live = replay("tests/fixtures/trace-twelve-runners");
        // Twelve started, the first four exited near the end (still listed, crossed out).
        assert_eq!(live.runners().count(), 8);
        assert_eq!(live.processes.len(), 12);
        let lines = screen(&live, &view(), 120, 40);
        find(&lines, "Runners (8 alive) and helpers");
        for model in ["smollm2:1.7b", "tinyllama:1.1b", "nomic-embed-text:v1.5"] {
            assert!(find(&lines, model).contains("ollama runner"), "{model}");
        }
        let rows: Vec<&String> = lines
            .iter()
            .filter(|l| l.contains("ollama runner"))
            .collect();
        assert_eq!(rows.len(), 12);
        // The exited below the living.
        assert!(rows[..8].iter().all(|r| !r.contains(" exited ")));
        assert!(rows[8..].iter().all(|r| r.contains(" exited ")), "{rows:?}");
        // The largest first.
        let first_row = lines.iter().position(|l| l.starts_with("MODEL")).unwrap() + 1;
        assert!(
            lines[first_row].starts_with("smollm2:1.7b"),
            "{}",
            lines[first_row]
        );
        // Each start after the first was an overlap, each exit an event.
        let starts = live
            .events
            .iter()
            .filter(|e| matches!(&e.kind, LiveKind::RunnerStarted { alive_with, .. } if !alive_with.is_empty()))
            .count();
        assert_eq!(starts, 11);
        let exits = live
            .events
            .iter()
            .filter(|e| matches!(e.kind, LiveKind::RunnerExited { .. }))
            .count();
        assert_eq!(exits, 4);
        find(&lines, "runner 31862 (mistral:7b) exited");
        find(&lines, "runner 31878 (tinyllama:1.1b) started while 11 other runners still alive: 31856 (llama3.2:3b), 31858");
    }

    #[test]
    fn a_runner_found_running_is_told_as_running_since_not_as_started() {
        // 2026-12-06 09:00:00 UTC.
        let since = std::time::UNIX_EPOCH + Duration::from_secs(1_796_547_600);
        let found = LiveKind::RunnerFound {
            pid: 61864,
            model: Some("llama3.2:3b".into()),
            since: Some(since),
        };
        assert_eq!(
            describe(&found, &jiff::tz::TimeZone::UTC),
            "runner 61864 (llama3.2:3b) running since 09:00:00"
        );
    }

    #[test]
    fn sparklines_and_ages() {
        assert_eq!(spark(&[0, 1, 2, 3, 4, 5, 6, 7], 8, 0), "▁▂▃▄▅▆▇█");
        // From zero: a steady value is a full bar, jitter a flat line, not a swing.
        assert_eq!(spark(&[5, 5, 5], 8, 0), "███");
        assert_eq!(spark(&[1000, 999, 1000], 8, 0), "███");
        assert_eq!(spark(&[0, 0], 8, 0), "▁▁");
        assert_eq!(spark(&[0, 10, 0, 10], 2, 0), "▁█");
        // Against a given top: half of RAM is half a bar.
        assert_eq!(spark(&[16, 32], 8, 32), "▅█");
        assert_eq!(age(Duration::from_secs(45)), "45s");
        assert_eq!(age(Duration::from_secs(185)), "3m05s");
        assert_eq!(age(Duration::from_secs(7380)), "2h03m");
    }
}
