//! One self-contained HTML page: the chart inline (SVG), the summary of models and the event
//! table. Every string from the trace is escaped: command lines and process names are
//! untrusted text.

use crate::chart::{self, ChartOptions, RenderError};
use crate::format_opt_bytes;
use crate::report::{sentence, Clock};
use memtide_model::report::Report;
use memtide_model::timeline::Timeline;
use std::fmt::Write;

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let s = crate::escape_control(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page.
pub fn page(
    tl: &Timeline,
    report: &Report,
    opts: &ChartOptions,
    clock: &Clock,
) -> Result<String, RenderError> {
    let (svg, drawn) = chart::svg(tl, report, opts, clock)?;
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\n<style>\
         body{{font-family:-apple-system,Segoe UI,DejaVu Sans,sans-serif;margin:24px;color:#222}}\
         table{{border-collapse:collapse;margin:12px 0}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}}\
         th{{background:#f3f3f3}}svg{{max-width:100%;height:auto}}code{{font-size:90%}}</style></head><body>\n",
        escape(&drawn.title)
    );
    let _ = writeln!(o, "<h1>{}</h1>", escape(&drawn.title));
    let _ = writeln!(o, "<figure>{svg}</figure>");
    let _ = writeln!(o, "<h2>Models</h2>");
    if report.models.is_empty() {
        let _ = writeln!(o, "<p>No model runner was recorded.</p>");
    } else {
        let _ = writeln!(o, "<table><tr><th>Model</th><th>Runner (engine)</th><th>Lifetime</th><th>Peak footprint</th><th>Peak RSS</th><th>Ollama size</th><th>Name from</th></tr>");
        for m in &report.models {
            let _ = writeln!(
                o,
                "<tr><td>{}</td><td>{}</td><td>{} – {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(m.model.as_deref().unwrap_or("(unknown)")),
                escape(&format!("{} ({})", m.runner_pid, m.engine)),
                escape(&m.first_utc.as_deref().map(|t| clock.time(t)).unwrap_or_default()),
                escape(&m.last_utc.as_deref().map(|t| clock.time(t)).unwrap_or_default()),
                format_opt_bytes(m.peak_footprint_bytes),
                format_opt_bytes(m.peak_rss_bytes),
                format_opt_bytes(m.ollama_size_bytes),
                escape(m.name_source.describe())
            );
        }
        let _ = writeln!(o, "</table>");
    }
    let _ = writeln!(
        o,
        "<h2>Processes</h2><table><tr><th>PID</th><th>Role</th><th>Command</th></tr>"
    );
    for p in &report.processes {
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            p.pid,
            escape(p.role.label()),
            escape(&p.command)
        );
    }
    let _ = writeln!(o, "</table>");
    let _ = writeln!(
        o,
        "<h2>What happened</h2><p>Times are local ({}).</p><table><tr><th>Time</th><th>Event</th></tr>",
        escape(&clock.offset(report.trace.start_utc.as_deref().unwrap_or("")))
    );
    for e in &report.events {
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{}</td></tr>",
            escape(&clock.time(&e.time_utc)),
            escape(&sentence(e, clock))
        );
    }
    let _ = writeln!(o, "</table>\n</body></html>");
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }
}
