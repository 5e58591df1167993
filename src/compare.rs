//! `memtide compare A B`: what changed between two traces.

use crate::report::{load, Format};
use anyhow::{Context, Result};
use memtide_model::compare::compare;
use memtide_model::events::Options;
use memtide_render::compare::{zero_of, Layout, Side};
use memtide_render::report::{Clock, Style};
use std::path::{Path, PathBuf};

/// What to draw, besides printing.
pub struct Chart {
    pub out: PathBuf,
    pub align_first_load: bool,
    pub overlay: bool,
    pub width: u32,
    pub height: u32,
    pub force: bool,
}

/// Prints the comparison of `a` and `b` in `format`, and draws it when asked.
pub fn run(a: &Path, b: &Path, format: Format, chart: Option<Chart>) -> Result<()> {
    // The output is checked before anything is read.
    let chart_format = match &chart {
        Some(ch) => {
            let f = crate::render::choose_format(Some(&ch.out), None)?;
            crate::render::check_replaceable(&ch.out, ch.force)?;
            Some(f)
        }
        None => None,
    };
    let ta = load(a)?;
    let tb = load(b)?;
    let opts = Options::default();
    let (ra, rb) = (
        memtide_model::report::build(&ta, &opts),
        memtide_model::report::build(&tb, &opts),
    );
    let c = compare(&ta, &ra, &tb, &rb);
    let clock = Clock::new(jiff::tz::TimeZone::system());
    if let (Some(ch), Some(f)) = (&chart, chart_format) {
        let zero = |tl, r, name: &Path| {
            zero_of(tl, r, ch.align_first_load).with_context(|| {
                format!(
                    "{} has no model load to align on (no runner started while recording, \
                     and /api/ps listed none): use --align start",
                    name.display()
                )
            })
        };
        let side = |tl, r, which: &str, dir: &Path| -> Result<Side<'_>> {
            Ok(Side {
                timeline: tl,
                report: r,
                // The directory's own name: a chart's title has room for two, not two paths.
                name: format!(
                    "{which} ({})",
                    dir.file_name().map_or_else(
                        || dir.display().to_string(),
                        |n| n.to_string_lossy().into_owned()
                    )
                ),
                zero_ms: zero(tl, r, dir)?,
            })
        };
        let (sa, sb) = (side(&ta, &ra, "A", a)?, side(&tb, &rb, "B", b)?);
        let layout = if ch.overlay {
            Layout::Overlay
        } else {
            Layout::Stacked
        };
        let align = if ch.align_first_load {
            "the first model load"
        } else {
            "each trace's start"
        };
        let svg = || memtide_render::compare::svg(&sa, &sb, layout, (ch.width, ch.height), align);
        let bytes = match f {
            crate::render::Format::Svg => svg()?.into_bytes(),
            crate::render::Format::Png => {
                memtide_render::chart::rasterize(&svg()?, ch.width, ch.height)?
            }
            crate::render::Format::Html => {
                memtide_render::compare::viewer(&sa, &sb, layout, align, &c, &clock)?.into_bytes()
            }
        };
        std::fs::write(&ch.out, bytes)
            .with_context(|| format!("cannot write {}", ch.out.display()))?;
        eprintln!("memtide: the chart is in {}", ch.out.display());
    }
    match format {
        Format::Json => {
            let text = serde_json::to_string_pretty(&c).context("cannot write the JSON")?;
            outln!("{text}")?;
        }
        Format::Text => out!(
            "{}",
            memtide_render::compare::render(&c, Style::Text, &clock)
        )?,
        Format::Markdown => out!(
            "{}",
            memtide_render::compare::render(&c, Style::Markdown, &clock)
        )?,
    }
    Ok(())
}
