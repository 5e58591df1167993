//! # memtide-render
//!
//! Turns memtide's traces into what a person reads: the chart ([`chart`]: memory per process
//! on top, system memory in the middle, swap in a strip below, on one time axis, with each
//! panel's legend in a column beside it, shaded low-memory, pressure and overlap intervals and
//! labelled markers for runners and models) as SVG on any plotters backend, and as PNG by
//! rasterising that SVG with resvg, so the two look alike; the viewer ([`html`]), one
//! self-contained page to explore a trace in a browser; and the report as text or Markdown
//! ([`report`]). [`series`] chooses, for the chart and the viewer alike, which lines there
//! are, what they are called and their colours. It reads traces through `memtide-model` and
//! never touches the kernel.
//!
//! ```
//! use memtide_model::{events, report, timeline::Timeline};
//! use memtide_render::{chart, report::Clock};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # // A minute of a 16 GiB machine whose available memory falls, written as memtide does.
//! # let tmp = tempfile::tempdir()?;
//! # let dir = tmp.path().join("trace");
//! # let start = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_780_000_000);
//! # let meta = memtide_trace::Meta::new("macos", "aarch64", 16 << 30, 1000, memtide_trace::utc_ms(start));
//! # let mut w = memtide_trace::TraceWriter::create(&dir, meta)?;
//! # for s in 0..60u64 {
//! #     w.system(&memtide_trace::SystemRow {
//! #         time_utc: memtide_trace::utc_ms(start + std::time::Duration::from_secs(s)),
//! #         t_ms: s * 1000,
//! #         total_bytes: 16 << 30,
//! #         available_bytes: Some((12 << 30) - s * (128 << 20)),
//! #         ..Default::default()
//! #     })?;
//! # }
//! # w.finish(start + std::time::Duration::from_secs(60), 60, 0)?;
//! let trace = Timeline::load(&dir)?;
//! let report = report::build(&trace, &events::Options::default());
//! let clock = Clock::new(jiff::tz::TimeZone::UTC);
//! let (svg, drawn) = chart::svg(&trace, &report, &chart::ChartOptions::default(), &clock)?;
//! assert!(svg.starts_with("<svg"));
//! println!("{} lines per process, {} shaded intervals", drawn.process_series.len(), drawn.bands.len());
//! # Ok(())
//! # }
//! ```
//!
//! ## Fonts
//!
//! Text is measured (by plotters, for the SVG's layout) and drawn (by resvg, for PNGs) with
//! DejaVu Sans, embedded in the binary (the `dejavu` crate), so no system font is needed.
//! plotters keeps registered fonts in a process-wide table; this crate registers its font there
//! once, on first use. resvg gets its own font database for each PNG, holding that font alone.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod chart;
pub mod compare;
pub mod decimate;
pub mod html;
pub mod redact;
pub mod report;
pub mod series;

/// What memtide writes into every chart and page it draws (an SVG `<desc>`, a PNG `Software`
/// text chunk, the HTML page's `generator`), so that it can tell its own files from a user's.
pub const DRAWN_BY: &str = "memtide chart";

/// Whether a file's first bytes say memtide drew it (see [`DRAWN_BY`]): such a file may be
/// drawn again in its place; any other is the user's.
pub fn drawn_by_memtide(head: &[u8]) -> bool {
    let svg = format!("<desc>{DRAWN_BY}</desc>");
    let png = format!("Software\0{DRAWN_BY}");
    let html = format!("<meta name=\"generator\" content=\"{DRAWN_BY}");
    [svg, png, html]
        .iter()
        .any(|marker| head.windows(marker.len()).any(|w| w == marker.as_bytes()))
}

/// Formats a byte count in binary units (KiB, MiB, GiB, TiB; powers of 1024), with three
/// significant digits from 1 KiB up: `512 B`, `1.00 KiB`, `12.3 MiB`, `256 MiB`, `1.50 GiB`.
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    let digits = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    format!("{value:.digits$} {}", UNITS[unit])
}

/// [`format_bytes`] of a value that may be missing: `-` for `None` (a metric the OS or the
/// trace does not have).
pub fn format_opt_bytes(bytes: Option<u64>) -> String {
    bytes.map_or_else(|| "-".to_owned(), format_bytes)
}

/// Whether a character must not reach a terminal, an SVG or a page raw: C0 and C1 control
/// characters (ESC, BEL, CR, NUL, …; XML 1.0 forbids most of them) and the Unicode bidi
/// controls, which can make a name read backwards.
fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Shows the unsafe characters of untrusted text (process names, command lines, model names)
/// as Rust-style escapes, `\u{1b}`, so that they can be seen but never act. Other text is
/// returned as it is.
pub fn escape_control(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(is_unsafe_char) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A copy of `report` in which every string has its unsafe characters escaped
/// ([`escape_control`]), for drawing and printing. The report's JSON stays as recorded (JSON
/// escapes them itself).
pub fn contained(report: &memtide_model::report::Report) -> memtide_model::report::Report {
    map_strings(report, |s| match escape_control(s) {
        std::borrow::Cow::Owned(e) => Some(e),
        std::borrow::Cow::Borrowed(_) => None,
    })
}

/// A copy of `report` whose strings (names, command lines, paths) are plain text in Markdown:
/// what would be raw HTML (`<img …>`), a link or an image (`[…](…)`), emphasis or code is
/// escaped, so that a report pasted into a public issue shows a hostile process name as the
/// text it is. `&`, `<` and `>` become entities; `\`, `` ` ``, `*`, `[` and `]` a backslash
/// escape. (No value the report reads back, a time or a closed word, holds any of them.)
pub fn markdown_safe(report: &memtide_model::report::Report) -> memtide_model::report::Report {
    map_strings(report, |s| {
        if !s.contains(['&', '<', '>', '\\', '`', '*', '[', ']']) {
            return None;
        }
        let mut out = String::with_capacity(s.len() + 8);
        for c in s.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '\\' | '`' | '*' | '[' | ']' => {
                    out.push('\\');
                    out.push(c);
                }
                c => out.push(c),
            }
        }
        Some(out)
    })
}

/// As [`map_strings`], failing (rather than handing back the report unchanged) when a changed
/// string no longer reads as what it was: for a change that must not be skipped, such as a
/// redaction.
pub fn try_map_strings(
    report: &memtide_model::report::Report,
    f: impl Fn(&str) -> Option<String>,
) -> Result<memtide_model::report::Report, chart::RenderError> {
    let mut v =
        serde_json::to_value(report).map_err(|e| chart::RenderError::Redact(e.to_string()))?;
    walk_strings(&mut v, &f);
    serde_json::from_value(v).map_err(|e| {
        chart::RenderError::Redact(format!(
            "a word memtide reads back would change ({e}); redact by hand"
        ))
    })
}

fn walk_strings(v: &mut serde_json::Value, f: &dyn Fn(&str) -> Option<String>) {
    match v {
        serde_json::Value::String(s) => {
            if let Some(new) = f(s) {
                *s = new;
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(|v| walk_strings(v, f)),
        serde_json::Value::Object(o) => o.values_mut().for_each(|v| walk_strings(v, f)),
        _ => {}
    }
}

/// A copy of `report` with `f` applied to every string in it (names, commands, paths, times);
/// `f` returns `None` to keep a string as it is. Through the report's JSON form, so that no
/// field is forgotten when fields are added.
pub fn map_strings(
    report: &memtide_model::report::Report,
    f: impl Fn(&str) -> Option<String>,
) -> memtide_model::report::Report {
    let Ok(mut v) = serde_json::to_value(report) else {
        return report.clone();
    };
    walk_strings(&mut v, &f);
    serde_json::from_value(v).unwrap_or_else(|_| report.clone())
}

/// An OS as a person names it, with its release: `macOS 14.5`, `Linux 6.8.0`. Unknown parts
/// are left out; control characters are shown escaped.
pub fn os_words(os: &memtide_trace::Os, version: Option<&str>) -> String {
    let words = [Some(os.display_name()), version]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty() && *s != "unknown")
        .collect::<Vec<_>>()
        .join(" ");
    escape_control(&words).into_owned()
}

/// The GPU wired-memory limit of an Apple Silicon Mac as a person reads it:
/// `GPU wired limit 48.0 GiB`, or `GPU wired limit: the system default` for 0. `None` where the
/// machine has no such limit.
pub fn describe_gpu_wired_limit(bytes: Option<u64>) -> Option<String> {
    match bytes? {
        0 => Some("GPU wired limit: the system default".to_owned()),
        b => Some(format!("GPU wired limit {}", format_bytes(b))),
    }
}

/// The one line that says what the machine never used while recording and the drawing left
/// out (`not drawn, unused while recording: swap, compressor`); `None` when nothing was left
/// out.
pub fn left_out_note(left_out: &[memtide_model::events::Unused]) -> Option<String> {
    use memtide_model::events::Unused;
    let parts: Vec<&str> = left_out
        .iter()
        .map(|u| match u {
            Unused::Swap => "swap",
            Unused::Compressor => "compressor",
        })
        .collect();
    (!parts.is_empty()).then(|| format!("not drawn, unused while recording: {}", parts.join(", ")))
}

/// A duration for a person: `4.2 s`, `1.5 min`.
pub fn seconds(ms: f64) -> String {
    if ms.abs() >= 60_000.0 {
        format!("{:.1} min", ms / 60_000.0)
    } else {
        format!("{:.1} s", ms / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::{describe_gpu_wired_limit, escape_control, format_bytes};

    #[test]
    fn control_and_bidi_characters_are_shown_not_sent() {
        assert_eq!(escape_control("llama3.2:3b"), "llama3.2:3b");
        assert_eq!(escape_control("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(escape_control("\u{7}\r\0\n"), "\\u{7}\\u{d}\\u{0}\\u{a}");
        assert_eq!(escape_control("x\u{202e}yz"), "x\\u{202e}yz");
        assert_eq!(escape_control("naïve Zürich 模型"), "naïve Zürich 模型");
    }

    #[test]
    fn gpu_wired_limit_in_words() {
        assert_eq!(describe_gpu_wired_limit(None), None);
        assert_eq!(
            describe_gpu_wired_limit(Some(0)).as_deref(),
            Some("GPU wired limit: the system default")
        );
        assert_eq!(
            describe_gpu_wired_limit(Some(57344 << 20)).as_deref(),
            Some("GPU wired limit 56.0 GiB")
        );
    }

    #[test]
    fn binary_units_with_three_significant_digits() {
        assert_eq!(format_bytes(0), "0 B");
        assert_eq!(format_bytes(1023), "1023 B");
        assert_eq!(format_bytes(1024), "1.00 KiB");
        assert_eq!(format_bytes(12_900_000), "12.3 MiB");
        assert_eq!(format_bytes(256 << 20), "256 MiB");
        assert_eq!(format_bytes(17_179_869_184), "16.0 GiB");
        assert_eq!(format_bytes(u64::MAX), "16777216 TiB");
    }
}
