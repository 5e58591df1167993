//! A comparison of two traces as text or Markdown (the JSON is the comparison itself).

use crate::format_bytes;
use crate::report::{Clock, Style};
use memtide_model::compare::{Comparison, Difference, TraceFigures};
use std::fmt::Write;

/// A figure of the kind `what` names, for a person.
fn value(what: &str, v: f64) -> String {
    if what.ends_with("_bytes") {
        format_bytes(v.max(0.0) as u64)
    } else if what.ends_with("_ms") {
        seconds(v)
    } else if what.ends_with("_percent") {
        format!("{v:.1} %")
    } else {
        format!("{v:.0}")
    }
}

fn seconds(ms: f64) -> String {
    if ms.abs() >= 60_000.0 {
        format!("{:.1} min", ms / 60_000.0)
    } else {
        format!("{:.1} s", ms / 1000.0)
    }
}

/// B − A with its sign, and B ÷ A, for a person: `+300 MiB (×1.25)`; `no change`.
pub fn change(d: &Difference) -> String {
    if !d.differs() {
        return "no change".into();
    }
    let sign = if d.delta > 0.0 { "+" } else { "−" };
    let size = if d.what.ends_with("_bytes") {
        format_bytes(d.delta.abs() as u64)
    } else if d.what.ends_with("_ms") {
        seconds(d.delta.abs())
    } else if d.what.ends_with("_percent") {
        return format!("{sign}{:.1} points", d.delta.abs());
    } else {
        format!("{:.0}", d.delta.abs())
    };
    match d.ratio {
        Some(r) => format!("{sign}{size} (×{r:.2})"),
        None => format!("{sign}{size}"),
    }
}

/// What a difference's `what` means, in words.
fn label(what: &str) -> &str {
    match what {
        "peak_footprint_bytes" => "peak footprint",
        "peak_rss_bytes" => "peak RSS",
        "load_ms" => "load (runner start to listed)",
        "lifetime_ms" => "lifetime (its runners alive)",
        "runners" => "runners",
        "min_available_bytes" => "least available memory",
        "min_free_percent" => "lowest free",
        "pressure_ms" => "under warning or critical pressure",
        "swap_growth_bytes" => "swap growth",
        "longest_overlap_ms" => "longest runner overlap",
        other => other,
    }
}

fn trace_line(name: &str, t: &TraceFigures, clock: &Clock) -> String {
    format!(
        "{name}  {}: from {}, {}, Ollama {}",
        crate::escape_control(&t.dir),
        t.start_utc
            .as_deref()
            .map_or_else(|| "-".into(), |s| clock.date_time(s)),
        seconds(t.duration_ms as f64),
        t.ollama_version
            .as_deref()
            .unwrap_or("not asked or not answering")
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
            let (a, b) = (value(&d.what, d.a), value(&d.what, d.b));
            if md {
                let _ = writeln!(o, "| {} | {a} | {b} | {} |", label(&d.what), change(d));
            } else {
                let _ = writeln!(
                    o,
                    "  {:<36} {:>12} → {:<12} {}",
                    label(&d.what),
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
        let how = match m.matched_by.as_str() {
            "name" => "in both, matched by name".to_owned(),
            "digest" => "in both, matched by its blob's digest".to_owned(),
            "only_a" => "only in A".to_owned(),
            _ => "only in B".to_owned(),
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
                    "{}peak footprint {}, peak RSS {}",
                    if md { "\n" } else { "  " },
                    f.peak_footprint_bytes.map_or("-".into(), format_bytes),
                    f.peak_rss_bytes.map_or("-".into(), format_bytes),
                );
            }
        } else {
            table(&mut o, &m.differences);
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
