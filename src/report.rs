//! `memtide report`: the summary and the narrative of a trace.

use anyhow::{Context, Result};
use memtide_model::events::Options;
use memtide_model::report;
use memtide_model::timeline::Timeline;
use memtide_render::report::{render, Clock, Style};
use std::io::Write;
use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Markdown,
    Json,
}

/// Loads the trace in `dir`, saying what to do when `dir` is not one.
/// The stretch of a trace a command reads, as the command line gives it.
#[derive(Debug, Clone, Default)]
pub struct Span {
    /// `--from`: a duration from the start (90s, 5m), a UTC time, or a local time of day.
    pub from: Option<String>,
    /// `--to`, as `from`.
    pub to: Option<String>,
    /// `--last`: this long back from the newest sample.
    pub last: Option<std::time::Duration>,
}

/// A time within the trace: a duration from its start (`90s`, `5m`), a UTC timestamp
/// (`2026-05-14T09:25:30Z`), or a local time of day on the trace's first day (`11:25:30`).
fn to_t_ms(meta: &memtide_trace::Meta, s: &str, tz: &jiff::tz::TimeZone) -> Result<u64> {
    if let Ok(d) = humantime::parse_duration(s) {
        return Ok(d.as_millis() as u64);
    }
    let start: jiff::Timestamp = meta
        .start_utc
        .parse()
        .context("meta.json has no start time")?;
    let at = if let Ok(t) = s.parse::<jiff::Timestamp>() {
        t
    } else if let Ok(time) = s.parse::<jiff::civil::Time>() {
        let day = start.to_zoned(tz.clone()).date();
        day.to_datetime(time).to_zoned(tz.clone())?.timestamp()
    } else {
        anyhow::bail!("`{s}` is neither a duration from the start (90s, 5m), a UTC time (2026-05-14T09:25:30Z) nor a local time of day (11:25:30)");
    };
    let ms = at.duration_since(start).as_millis();
    if ms < 0 {
        anyhow::bail!("`{s}` is before the trace starts ({})", meta.start_utc);
    }
    Ok(ms as u64)
}

/// Loads the part of the trace in `dir` that `span` names (all of it when it names none),
/// opening only the segments that overlap it; and the window it loaded.
pub fn load_span(
    dir: &Path,
    span: &Span,
    tz: &jiff::tz::TimeZone,
) -> Result<(Timeline, memtide_model::timeline::Window)> {
    check_dir(dir)?;
    let meta = Timeline::meta(dir)
        .with_context(|| format!("cannot read the trace in {}", dir.display()))?;
    let mut window = memtide_model::timeline::Window {
        from_ms: span
            .from
            .as_deref()
            .map(|s| to_t_ms(&meta, s, tz))
            .transpose()?,
        to_ms: span
            .to
            .as_deref()
            .map(|s| to_t_ms(&meta, s, tz))
            .transpose()?,
    };
    if let Some(last) = span.last {
        let end = Timeline::end_t_ms(dir)
            .with_context(|| format!("cannot read the trace in {}", dir.display()))?
            .unwrap_or(0);
        window.from_ms = Some(end.saturating_sub(last.as_millis() as u64));
    }
    if let (Some(f), Some(t)) = (window.from_ms, window.to_ms) {
        if f > t {
            anyhow::bail!("--from is after --to: the window is empty");
        }
    }
    let tl = Timeline::load_window(dir, window)
        .with_context(|| format!("cannot read the trace in {}", dir.display()))?;
    let windowed = window.from_ms.is_some() || window.to_ms.is_some();
    if windowed && tl.system.is_empty() && tl.processes.iter().all(|p| p.rows.is_empty()) {
        let end = Timeline::end_t_ms(dir).ok().flatten().unwrap_or(0);
        anyhow::bail!(
            "no sample of {} lies in the window asked for: the trace runs from 0 s to {:.1} s \
             after its start ({})",
            dir.display(),
            end as f64 / 1000.0,
            meta.start_utc
        );
    }
    Ok((tl, window))
}

fn check_dir(dir: &Path) -> Result<()> {
    if !dir.is_dir() {
        anyhow::bail!(
            "{} is not a directory: give the trace directory that memtide record or memtide \
             import wrote",
            dir.display()
        );
    }
    if !dir.join(memtide_trace::META_FILE).exists() {
        anyhow::bail!(
            "{} has no meta.json: it is not a trace directory written by memtide record or \
             memtide import",
            dir.display()
        );
    }
    Ok(())
}

pub fn load(dir: &Path) -> Result<Timeline> {
    check_dir(dir)?;
    Timeline::load(dir).with_context(|| format!("cannot read the trace in {}", dir.display()))
}

/// The text report of a trace, in local time.
pub fn text(dir: &Path) -> Result<String> {
    let tl = load(dir)?;
    let r = report::build(&tl, &Options::default());
    Ok(render(
        &r,
        Style::Text,
        &Clock::new(jiff::tz::TimeZone::system()),
    ))
}

pub fn run(
    dir: &Path,
    format: Format,
    low_free_percent: f64,
    redaction: Option<&memtide_render::redact::Redaction>,
    span: &Span,
) -> Result<()> {
    let (tl, _) = load_span(dir, span, &jiff::tz::TimeZone::system())?;
    let mut r = report::build(&tl, &Options { low_free_percent });
    if let Some(red) = redaction {
        r = red.report(&r)?;
    }
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &r)?;
            writeln!(out)?;
        }
        Format::Text | Format::Markdown => {
            let style = if format == Format::Text {
                Style::Text
            } else {
                Style::Markdown
            };
            let clock = Clock::new(jiff::tz::TimeZone::system());
            out.write_all(render(&r, style, &clock).as_bytes())?;
        }
    }
    Ok(())
}
