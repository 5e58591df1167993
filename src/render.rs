//! `memtide render`: the chart of a trace as SVG, PNG or a self-contained HTML page.

use anyhow::{bail, Context, Result};
use memtide_model::events::Options;
use memtide_model::report;
use memtide_render::chart::{self, ChartOptions, Measure};
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
    /// Footprint plus a runner's mapped weights resident in RAM.
    ModelMemory,
    /// What the process is charged for, mapped files left out.
    Footprint,
    /// Resident set size.
    Rss,
}

/// What `render` and `view` draw, and where.
pub struct Drawing {
    pub out: Option<PathBuf>,
    pub format: Option<Format>,
    pub metric: MetricArg,
    pub span: crate::report::Span,
    pub width: u32,
    pub height: u32,
    pub low_free_percent: f64,
    /// Replace an output file memtide did not draw.
    pub force: bool,
    /// Take the user's home and name out of what is drawn (`--redact`).
    pub redaction: Option<memtide_render::redact::Redaction>,
}

use memtide_render::chart::{MAX_SIDE_PX, MIN_SIDE_PX};

/// A chart side given on the command line, checked against the stated range.
pub fn side(s: &str) -> Result<u32, String> {
    let v: u32 = s
        .parse()
        .map_err(|_| format!("`{s}` is not a number of pixels"))?;
    if !(MIN_SIDE_PX..=MAX_SIDE_PX).contains(&v) {
        return Err(format!("{v} is outside {MIN_SIDE_PX}–{MAX_SIDE_PX} pixels"));
    }
    Ok(v)
}

/// The format an output file's extension names; an extension memtide does not write is an
/// error, and so is one that contradicts `--format`. No extension: `--format`, else SVG.
pub fn choose_format(out: Option<&Path>, format: Option<Format>) -> Result<Format> {
    let named = match out.and_then(|p| p.extension()) {
        None => None,
        Some(ext) => Some(match ext.to_string_lossy().to_ascii_lowercase().as_str() {
            "svg" => Format::Svg,
            "png" => Format::Png,
            "html" | "htm" => Format::Html,
            other => bail!(
                "memtide writes .svg, .png and .html charts, not .{other}: name the output \
                 {}",
                out.map(|p| p.with_extension("png").display().to_string())
                    .unwrap_or_default()
            ),
        }),
    };
    match (named, format) {
        (Some(n), Some(f)) if n != f => bail!(
            "--format {} contradicts the output's extension (.{}): drop one of them",
            ext_of(f),
            ext_of(n)
        ),
        (n, f) => Ok(f.or(n).unwrap_or(Format::Svg)),
    }
}

fn ext_of(f: Format) -> &'static str {
    match f {
        Format::Svg => "svg",
        Format::Png => "png",
        Format::Html => "html",
    }
}

/// An output may replace a file only if memtide drew that file (a chart or page it wrote
/// before), or with --force: any other file is the user's.
pub fn check_replaceable(out: &Path, force: bool) -> Result<()> {
    use std::io::Read;
    if out.is_dir() {
        bail!("{} is a directory: name a file", out.display());
    }
    let mut head = Vec::new();
    match std::fs::File::open(out) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => bail!(
            "cannot read {} to see whether memtide drew it: {e}",
            out.display()
        ),
        Ok(f) => {
            f.take(4096)
                .read_to_end(&mut head)
                .with_context(|| format!("cannot read {}", out.display()))?;
        }
    }
    if force || memtide_render::drawn_by_memtide(&head) {
        return Ok(());
    }
    bail!(
        "{} exists and memtide did not draw it: name another file, or pass --force to replace it",
        out.display()
    )
}

pub fn run(dir: &Path, o: Drawing) -> Result<PathBuf> {
    // Options first: nothing is read before they are known to be right.
    let format = choose_format(o.out.as_deref(), o.format)?;
    let tz = jiff::tz::TimeZone::system();
    let (mut tl, window) = crate::report::load_span(dir, &o.span, &tz)?;
    let mut report = report::build(
        &tl,
        &Options {
            low_free_percent: o.low_free_percent,
        },
    );
    // Before anything is drawn: the data, never the markup.
    if let Some(r) = &o.redaction {
        r.timeline(&mut tl);
        report = r.report(&report)?;
    }
    let clock = Clock::new(tz.clone());
    let out = o
        .out
        .unwrap_or_else(|| dir.join(format!("memtide.{}", ext_of(format))));
    let opts = ChartOptions {
        metric: match o.metric {
            MetricArg::ModelMemory => Measure::ModelMemory,
            MetricArg::Footprint => Measure::Footprint,
            MetricArg::Rss => Measure::Rss,
        },
        from_ms: window.from_ms,
        to_ms: window.to_ms,
        width: o.width,
        height: o.height,
        low_free_percent: o.low_free_percent,
    };
    check_replaceable(&out, o.force)?;
    let bytes = match format {
        Format::Svg => chart::svg(&tl, &report, &opts, &clock)?.0.into_bytes(),
        Format::Png => {
            let (svg, _) = chart::svg(&tl, &report, &opts, &clock)?;
            chart::rasterize(&svg, opts.width, opts.height)?
        }
        Format::Html => html::page(&tl, &report, &opts, &clock)?.into_bytes(),
    };
    std::fs::write(&out, bytes).with_context(|| format!("cannot write {}", out.display()))?;
    Ok(out)
}

/// `memtide view`: the viewer written (to `DIR/view.html` unless `--out` says) and opened in
/// the default browser.
pub fn view(dir: &Path, mut o: Drawing, open: bool) -> Result<PathBuf> {
    if o.out.is_none() {
        o.out = Some(dir.join("view.html"));
    }
    if let Some(f) = o.format.filter(|f| *f != Format::Html) {
        bail!("memtide view writes HTML, not {}", ext_of(f));
    }
    o.format = Some(Format::Html);
    let out = run(dir, o)?;
    if open {
        if let Err(e) = open_in_browser(&out) {
            say!(
                "memtide: could not open a browser ({e:#}); open {} yourself",
                out.display()
            );
        }
    }
    Ok(out)
}

/// Opens a file with the desktop's default application: `open` on macOS, `xdg-open`
/// elsewhere (it follows $BROWSER and the desktop's choice), `start` on Windows. By hand: a
/// crate for it would bring D-Bus bindings on Linux for one command line.
fn open_in_browser(path: &Path) -> Result<()> {
    let path = std::fs::canonicalize(path)?;
    let mut cmd = if cfg!(target_os = "macos") {
        std::process::Command::new("open")
    } else if cfg!(windows) {
        let mut c = std::process::Command::new("cmd");
        c.args(["/C", "start", ""]);
        c
    } else {
        std::process::Command::new("xdg-open")
    };
    let name = cmd.get_program().to_string_lossy().into_owned();
    let status = cmd
        .arg(&path)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .with_context(|| format!("{name} did not start"))?;
    if !status.success() {
        bail!("{name} failed ({status})");
    }
    Ok(())
}

/// What `memtide render` draws without flags, into `out`.
pub fn defaults(out: Option<PathBuf>) -> Drawing {
    Drawing {
        out,
        format: None,
        metric: MetricArg::ModelMemory,
        span: crate::report::Span::default(),
        width: 1600,
        height: 1000,
        low_free_percent: memtide_model::events::low_memory::LOW_MEMORY_FREE_PERCENT,
        force: false,
        redaction: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_output_extension_and_format_must_agree() {
        let p = |s: &str| Some(PathBuf::from(s));
        assert_eq!(
            choose_format(p("a.png").as_deref(), None).unwrap(),
            Format::Png
        );
        assert_eq!(choose_format(None, None).unwrap(), Format::Svg);
        assert_eq!(
            choose_format(p("a").as_deref(), Some(Format::Html)).unwrap(),
            Format::Html
        );
        assert_eq!(
            choose_format(p("a.HTM").as_deref(), Some(Format::Html)).unwrap(),
            Format::Html
        );
        let e = choose_format(p("chart.jpg").as_deref(), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not .jpg") && e.contains("chart.png"), "{e}");
        let e = choose_format(p("y.png").as_deref(), Some(Format::Svg))
            .unwrap_err()
            .to_string();
        assert!(e.contains("--format svg contradicts"), "{e}");
    }

    #[test]
    fn sides_are_checked_against_the_stated_range() {
        assert_eq!(side("800"), Ok(800));
        for bad in ["0", "100000", "-5", "wide", "319", "8193"] {
            assert!(side(bad).is_err(), "{bad}");
        }
    }
}
