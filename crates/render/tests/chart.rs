//! The chart drawn from a real (imported) trace, rendered to a string and read back.

use memtide_model::events::Options;
use memtide_model::report;
use memtide_model::timeline::Timeline;
use memtide_render::chart::{self, ChartOptions, Metric};
use memtide_render::html;
use memtide_render::report::Clock;
use std::path::PathBuf;

fn fixture() -> (Timeline, report::Report) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/trace-imported");
    let tl = Timeline::load(&dir).unwrap();
    let r = report::build(&tl, &Options::default());
    (tl, r)
}

/// Whether the SVG has a text element that says exactly `text` (plotters puts the text on a
/// line of its own).
fn has_text(svg: &str, text: &str) -> bool {
    svg.contains(&format!(">\n{text}\n</text>"))
}

fn clock() -> Clock {
    Clock::new(jiff::tz::TimeZone::get("Europe/Zurich").unwrap())
}

#[test]
fn the_svg_has_both_panels_every_series_the_bands_and_the_markers() {
    let (tl, r) = fixture();
    let (svg, drawn) = chart::svg(&tl, &r, &ChartOptions::default(), &clock()).unwrap();
    assert!(svg.starts_with("<svg"));
    for text in [
        "Memory per process",
        "System memory",
        "free %",
        "local time (UTC+02:00)",
    ] {
        assert!(svg.contains(text), "{text}");
    }
    assert!(
        drawn.title.contains("32.0 GiB RAM") && drawn.title.contains("2026-05-14 11:25:00"),
        "{}",
        drawn.title
    );
    assert_eq!(
        drawn.process_series,
        [
            "ollama serve (pid 91511), max 81.8 MiB",
            "ollama client (pid 66449), max 25.9 MiB",
            "ollama llama3.2:3b (pid 61864), max 3.15 GiB",
            "llama-server granite3.3:2b (pid 62010), max 2.57 GiB",
        ]
    );
    for s in &drawn.process_series {
        assert!(has_text(&svg, s), "legend entry {s}");
    }
    for prefix in [
        "total RAM 32.0 GiB",
        "wired, max 4.08 GiB",
        "compressor, max 10.6 GiB",
        "swap used, max 2.68 GiB",
        "free, max",
        "free % (right axis), min 22 %",
    ] {
        assert!(
            drawn.system_series.iter().any(|s| s.starts_with(prefix)),
            "{prefix}: {:?}",
            drawn.system_series
        );
    }
    let kinds: Vec<&str> = drawn.bands.iter().map(|b| b.kind).collect();
    assert_eq!(kinds, ["overlap", "low memory"]);
    assert_eq!(
        (drawn.bands[0].start_ms, drawn.bands[0].end_ms),
        (17_000, 24_000)
    );
    let markers: Vec<(&str, u64)> = drawn.markers.clone();
    assert!(
        markers.contains(&("runner start", 2_000)) && markers.contains(&("runner start", 17_000))
    );
    assert!(markers.contains(&("runner exit", 24_000)));
    assert!(
        markers.contains(&("model load", 5_000)) && markers.contains(&("model unload", 25_000))
    );
    for legend in [
        "overlap",
        "low memory",
        "runner start",
        "runner exit",
        "model load",
        "model unload",
    ] {
        assert!(has_text(&svg, legend), "legend {legend}");
    }
    // Time ticks fall on round local times: every 5 s over this 40 s trace.
    for tick in ["11:25:05", "11:25:20", "11:25:40"] {
        assert!(has_text(&svg, tick), "tick {tick}");
    }
}

#[test]
fn a_window_and_rss_change_what_is_drawn() {
    let (tl, r) = fixture();
    let opts = ChartOptions {
        metric: Metric::Rss,
        from_ms: Some(26_000),
        to_ms: Some(40_000),
        ..ChartOptions::default()
    };
    let (svg, drawn) = chart::svg(&tl, &r, &opts, &clock()).unwrap();
    assert!(svg.contains("Memory per process (RSS)"));
    // The llama runner exited at 24 s: not in a window from 26 s.
    assert!(!drawn.process_series.iter().any(|s| s.contains("61864")));
    assert!(drawn.bands.is_empty() && drawn.markers.is_empty());
    assert!(has_text(&svg, "11:25:30"));
    let late = ChartOptions {
        from_ms: Some(90_000),
        ..ChartOptions::default()
    };
    assert!(chart::svg(&tl, &r, &late, &clock()).is_err());
}

#[test]
fn png_with_the_embedded_font() {
    let (tl, r) = fixture();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.png");
    let opts = ChartOptions {
        width: 800,
        height: 500,
        ..ChartOptions::default()
    };
    chart::png(&path, &tl, &r, &opts, &clock()).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    // IHDR: width and height, big-endian, at bytes 16..24.
    assert_eq!(u32::from_be_bytes(bytes[16..20].try_into().unwrap()), 800);
    assert_eq!(u32::from_be_bytes(bytes[20..24].try_into().unwrap()), 500);
}

#[test]
fn html_is_one_page_with_the_chart_the_models_and_the_events() {
    let (tl, r) = fixture();
    let page = html::page(&tl, &r, &ChartOptions::default(), &clock()).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert_eq!(page.matches("<svg").count(), 1);
    assert!(
        !page.contains("<script") && !page.contains("src=\"http"),
        "self-contained"
    );
    assert!(page.contains("<td>llama3.2:3b</td><td>61864 (ollama engine)</td>"));
    assert!(page.contains("still alive while runner PID 62010 for granite3.3:2b started"));
    assert!(page.contains("Times are local (UTC+02:00)"));
}

#[test]
fn a_raised_gpu_wired_limit_is_a_reference_line_and_the_default_is_none() {
    let (mut tl, r) = fixture();
    let (_, drawn) = chart::svg(&tl, &r, &ChartOptions::default(), &clock()).unwrap();
    assert!(
        !drawn.system_series.iter().any(|s| s.contains("GPU")),
        "no limit recorded: {:?}",
        drawn.system_series
    );
    tl.meta.gpu_wired_limit_bytes = Some(0);
    let (_, drawn) = chart::svg(&tl, &r, &ChartOptions::default(), &clock()).unwrap();
    assert!(
        !drawn.system_series.iter().any(|s| s.contains("GPU")),
        "the system default has no known value to draw"
    );
    tl.meta.gpu_wired_limit_bytes = Some(28 << 30);
    let (svg, drawn) = chart::svg(&tl, &r, &ChartOptions::default(), &clock()).unwrap();
    assert!(drawn
        .system_series
        .contains(&"GPU wired limit 28.0 GiB".to_owned()));
    assert!(has_text(&svg, "GPU wired limit 28.0 GiB"));
}

#[test]
fn the_report_header_names_a_gpu_wired_limit() {
    let (_, mut r) = fixture();
    let text = memtide_render::report::render(&r, memtide_render::report::Style::Text, &clock());
    assert!(!text.contains("GPU"), "{text}");
    r.trace.gpu_wired_limit_bytes = Some(0);
    let text = memtide_render::report::render(&r, memtide_render::report::Style::Text, &clock());
    let head = text.lines().nth(1).unwrap();
    assert!(
        head.contains("32.0 GiB RAM (GPU wired limit: the system default);"),
        "{head}"
    );
    r.trace.gpu_wired_limit_bytes = Some(24 << 30);
    let text = memtide_render::report::render(&r, memtide_render::report::Style::Text, &clock());
    assert!(
        text.lines()
            .nth(1)
            .unwrap()
            .contains("(GPU wired limit 24.0 GiB)"),
        "{text}"
    );
}

#[test]
fn a_size_outside_the_range_is_an_error_not_a_panic() {
    let (tl, r) = fixture();
    for (w, h) in [(100_000, 100_000), (0, 500), (800, 10)] {
        let opts = ChartOptions {
            width: w,
            height: h,
            ..ChartOptions::default()
        };
        let e = chart::svg(&tl, &r, &opts, &clock())
            .unwrap_err()
            .to_string();
        assert!(e.contains("320 to 8192"), "{e}");
    }
    // Both sizes the CLI is documented to draw.
    for (w, h) in [(1600, 1000), (800, 500)] {
        let opts = ChartOptions {
            width: w,
            height: h,
            ..ChartOptions::default()
        };
        assert!(chart::svg(&tl, &r, &opts, &clock()).is_ok());
    }
}

#[test]
fn png_text_is_drawn_with_the_embedded_font() {
    // Text in the family the chart's SVG names: drawn only if the embedded font was found.
    let svg = r#"<svg xmlns="http://www.w3.org/2000/svg" width="200" height="60">
        <text x="10" y="40" font-family="sans-serif" font-size="30">pid 91511</text></svg>"#;
    let png = chart::rasterize(svg, 200, 60).unwrap();
    let pixmap = resvg::tiny_skia::Pixmap::decode_png(&png).unwrap();
    assert_eq!((pixmap.width(), pixmap.height()), (200, 60));
    let dark = pixmap
        .pixels()
        .iter()
        .filter(|p| p.red() < 100 && p.alpha() == 255)
        .count();
    assert!(dark > 200, "{dark} dark pixels: the text was not drawn");
    // The chart's PNG is its SVG rasterised, at the size asked.
    let (tl, r) = fixture();
    let opts = ChartOptions {
        width: 800,
        height: 500,
        ..ChartOptions::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.png");
    chart::png(&path, &tl, &r, &opts, &clock()).unwrap();
    let pixmap = resvg::tiny_skia::Pixmap::decode_png(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!((pixmap.width(), pixmap.height()), (800, 500));
}
