//! `memtide render`: the chart of a trace as SVG, PNG or a self-contained HTML page.

use anyhow::{bail, Context, Result};
use memtide_model::events::Options;
use memtide_model::report;
use memtide_model::timeline::Timeline;
use memtide_render::chart::{self, ChartOptions, Metric};
use memtide_render::html;
use memtide_render::report::Clock;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Svg,
    Png,
    Html,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum MetricArg {
    Footprint,
    Rss,
}

pub struct Options2 {
    pub out: Option<PathBuf>,
    pub format: Option<Format>,
    pub metric: MetricArg,
    pub from: Option<String>,
    pub to: Option<String>,
    pub width: u32,
    pub height: u32,
    pub low_free_percent: f64,
}

/// A time within the trace: a duration from its start (`90s`, `5m`), a UTC timestamp
/// (`2026-05-14T09:25:30Z`), or a local time of day on the trace's first day (`11:25:30`).
fn to_t_ms(tl: &Timeline, s: &str, tz: &jiff::tz::TimeZone) -> Result<u64> {
    if let Ok(d) = humantime::parse_duration(s) {
        return Ok(d.as_millis() as u64);
    }
    let start: jiff::Timestamp = tl
        .meta
        .start_utc
        .parse()
        .context("meta.json has no start time")?;
    let at = if let Ok(t) = s.parse::<jiff::Timestamp>() {
        t
    } else if let Ok(time) = s.parse::<jiff::civil::Time>() {
        let day = start.to_zoned(tz.clone()).date();
        day.to_datetime(time).to_zoned(tz.clone())?.timestamp()
    } else {
        bail!("`{s}` is neither a duration from the start (90s, 5m), a UTC time (2026-05-14T09:25:30Z) nor a local time of day (11:25:30)");
    };
    let ms = at.duration_since(start).as_millis();
    if ms < 0 {
        bail!("`{s}` is before the trace starts ({})", tl.meta.start_utc);
    }
    Ok(ms as u64)
}

fn format_of(path: &Path) -> Option<Format> {
    match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
        "svg" => Some(Format::Svg),
        "png" => Some(Format::Png),
        "html" | "htm" => Some(Format::Html),
        _ => None,
    }
}

pub fn run(dir: &Path, o: Options2) -> Result<PathBuf> {
    let tl = Timeline::load(dir)
        .with_context(|| format!("cannot read the trace in {}", dir.display()))?;
    let report = report::build(
        &tl,
        &Options {
            low_free_percent: o.low_free_percent,
        },
    );
    let tz = jiff::tz::TimeZone::system();
    let clock = Clock::new(tz.clone());
    let format = o
        .format
        .or_else(|| o.out.as_deref().and_then(format_of))
        .unwrap_or(Format::Svg);
    let ext = match format {
        Format::Svg => "svg",
        Format::Png => "png",
        Format::Html => "html",
    };
    let out = o.out.unwrap_or_else(|| dir.join(format!("memtide.{ext}")));
    let opts = ChartOptions {
        metric: match o.metric {
            MetricArg::Footprint => Metric::Footprint,
            MetricArg::Rss => Metric::Rss,
        },
        from_ms: o
            .from
            .as_deref()
            .map(|s| to_t_ms(&tl, s, &tz))
            .transpose()?,
        to_ms: o.to.as_deref().map(|s| to_t_ms(&tl, s, &tz)).transpose()?,
        width: o.width,
        height: o.height,
        low_free_percent: o.low_free_percent,
    };
    match format {
        Format::Svg => {
            let (svg, _) = chart::svg(&tl, &report, &opts, &clock)?;
            std::fs::write(&out, svg).with_context(|| format!("cannot write {}", out.display()))?;
        }
        Format::Png => {
            chart::png(&out, &tl, &report, &opts, &clock)
                .with_context(|| format!("cannot write {}", out.display()))?;
        }
        Format::Html => {
            let page = html::page(&tl, &report, &opts, &clock)?;
            std::fs::write(&out, page)
                .with_context(|| format!("cannot write {}", out.display()))?;
        }
    }
    Ok(out)
}
