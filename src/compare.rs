//! `memtide compare A B`: what changed between two traces.

use crate::report::{load, Format};
use anyhow::{Context, Result};
use memtide_model::compare::{compare, Comparison};
use memtide_model::events::Options;
use memtide_render::report::{Clock, Style};
use std::path::Path;

/// The comparison of the traces in `a` and `b`.
pub fn comparison(a: &Path, b: &Path) -> Result<Comparison> {
    let ta = load(a)?;
    let tb = load(b)?;
    let opts = Options::default();
    let (ra, rb) = (
        memtide_model::report::build(&ta, &opts),
        memtide_model::report::build(&tb, &opts),
    );
    Ok(compare(&ta, &ra, &tb, &rb))
}

/// Prints the comparison of `a` and `b` in `format`.
pub fn run(a: &Path, b: &Path, format: Format) -> Result<()> {
    let c = comparison(a, b)?;
    let clock = Clock::new(jiff::tz::TimeZone::system());
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
