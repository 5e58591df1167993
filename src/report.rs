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
pub fn load(dir: &Path) -> Result<Timeline> {
    if !dir.is_dir() {
        anyhow::bail!(
            "{} is not a directory: give the trace directory that memtide record or memtide \
             import wrote",
            dir.display()
        );
    }
    if !dir.join(memtide_model::trace::META_FILE).exists() {
        anyhow::bail!(
            "{} has no meta.json: it is not a trace directory written by memtide record or \
             memtide import",
            dir.display()
        );
    }
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

pub fn run(dir: &Path, format: Format, low_free_percent: f64) -> Result<()> {
    let tl = load(dir)?;
    let r = report::build(&tl, &Options { low_free_percent });
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
