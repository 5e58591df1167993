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
pub fn run(
    a: &Path,
    b: &Path,
    format: Format,
    chart: Option<Chart>,
    redaction: Option<&memtide_render::redact::Redaction>,
) -> Result<()> {
    // The output is checked before anything is read.
    let chart_format = match &chart {
        Some(ch) => {
            let f = crate::render::choose_format(Some(&ch.out), None)?;
            crate::render::check_replaceable(&ch.out, ch.force)?;
            Some(f)
        }
        None => None,
    };
    let mut ta = load(a)?;
    let mut tb = load(b)?;
    let opts = Options::default();
    let (mut ra, mut rb) = (
        memtide_model::report::build(&ta, &opts),
        memtide_model::report::build(&tb, &opts),
    );
    // Before anything is compared or drawn: the data, never the markup.
    if let Some(r) = redaction {
        r.timeline(&mut ta);
        r.timeline(&mut tb);
        (ra, rb) = (r.report(&ra)?, r.report(&rb)?);
    }
    let c = compare(&ta, &ra, &tb, &rb);
    let clock = Clock::new(jiff::tz::TimeZone::system());
    if let (Some(ch), Some(f)) = (&chart, chart_format) {
        let zero = |tl: &memtide_model::timeline::Timeline, r, name: &Path| {
            // An empty trace has nothing to draw, however it is aligned.
            if tl.span().is_none() {
                anyhow::bail!(
                    "{} has no samples: nothing to draw (the recorder stopped before its first \
                     sample)",
                    name.display()
                );
            }
            zero_of(tl, r, ch.align_first_load).with_context(|| {
                format!(
                    "{} has no model load to align on (no runner started while recording, \
                     and /api/ps listed none): use --align start",
                    name.display()
                )
            })
        };
        let (name_a, name_b) = short_names(a, b);
        let (name_a, name_b) = match redaction {
            Some(r) => (r.text(&name_a), r.text(&name_b)),
            None => (name_a, name_b),
        };
        let side = |tl, r, which: &str, dir: &Path, name: &str| -> Result<Side<'_>> {
            Ok(Side {
                timeline: tl,
                report: r,
                name: format!("{which} ({name})"),
                zero_ms: zero(tl, r, dir)?,
            })
        };
        let (sa, sb) = (
            side(&ta, &ra, "A", a, &name_a)?,
            side(&tb, &rb, "B", b, &name_b)?,
        );
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
        say!("memtide: the chart is in {}", ch.out.display());
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

/// The two directories as a chart's title names them: their own names (a title has room for
/// two names, not two paths), with as many of their parents as it takes to tell them apart
/// (`run1/trace` and `run2/trace`, not `trace` and `trace`).
fn short_names(a: &Path, b: &Path) -> (String, String) {
    let parts = |p: &Path| -> Vec<String> {
        p.components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect()
    };
    let (pa, pb) = (parts(a), parts(b));
    let tail = |v: &[String], n: usize| v[v.len().saturating_sub(n)..].join("/");
    let most = pa.len().max(pb.len()).max(1);
    for n in 1..=most {
        let (x, y) = (tail(&pa, n), tail(&pb, n));
        if x != y || n == most {
            return (x, y);
        }
    }
    (a.display().to_string(), b.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_traces_of_one_name_are_told_apart_by_their_parents() {
        let n = |a: &str, b: &str| short_names(Path::new(a), Path::new(b));
        assert_eq!(
            n("/x/before", "/x/after"),
            ("before".into(), "after".into())
        );
        assert_eq!(
            n("/home/me/run1/trace", "/home/me/run2/trace"),
            ("run1/trace".into(), "run2/trace".into())
        );
        assert_eq!(n("trace", "trace"), ("trace".into(), "trace".into()));
    }
}
