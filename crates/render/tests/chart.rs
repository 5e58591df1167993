//! The chart drawn from a real (imported) trace, rendered to a string and read back.

use memtide_model::events::Options;
use memtide_model::report;
use memtide_model::timeline::{Series, Timeline};
use memtide_render::chart::{self, ChartOptions, Measure};
use memtide_render::report::Clock;
use memtide_render::series::Lines;
use memtide_render::{decimate, html};
use std::path::PathBuf;

fn fixture() -> (Timeline, report::Report) {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../model/tests/fixtures/trace-imported");
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
fn the_svg_has_three_panels_every_series_the_bands_and_the_labelled_markers() {
    let (tl, r) = fixture();
    let (svg, drawn) = chart::svg(&tl, &r, &ChartOptions::default(), &clock()).unwrap();
    assert!(svg.starts_with("<svg"));
    assert!(memtide_render::drawn_by_memtide(svg.as_bytes()));
    for text in [
        "Memory per process (RSS: no footprint in this trace)",
        "System memory (right axis: free %)",
        "Swap",
        "free %",
        "local time (UTC+02:00)",
    ] {
        assert!(has_text(&svg, text), "{text}");
    }
    assert!(
        drawn.title.contains("32.0 GiB RAM, macOS") && drawn.title.contains("2026-05-14 11:25:00"),
        "{}",
        drawn.title
    );
    assert!(has_text(&svg, &drawn.title), "the title is drawn whole");
    // Runners first, by peak, named by model and PID; then the helpers.
    assert_eq!(
        drawn.process_series,
        [
            "llama3.2:3b (61864), max 3.15 GiB",
            "granite3.3:2b (62010), max 2.57 GiB",
            "ollama serve (91511), max 81.8 MiB",
            "ollama client (66449), max 25.9 MiB",
        ]
    );
    for s in &drawn.process_series {
        assert!(has_text(&svg, s), "legend entry {s}");
    }
    // Available memory first, as a minimum, with its source; the others as maxima. No
    // second "free" (free pages) to contradict it.
    assert_eq!(
        drawn.system_series,
        [
            "available (free % × RAM), min 7.04 GiB (22 %)",
            "total RAM 32.0 GiB",
            "wired, max 4.08 GiB",
            "compressor, max 10.6 GiB",
        ]
    );
    assert_eq!(
        drawn.swap_series,
        ["swap used, max 2.68 GiB (lowest 991 MiB)"]
    );
    let kinds: Vec<&str> = drawn.bands.iter().map(|b| b.kind.name()).collect();
    assert_eq!(kinds, ["overlap", "low memory"]);
    assert_eq!(
        (drawn.bands[0].start_ms, drawn.bands[0].end_ms),
        (17_000, 24_000)
    );
    let markers: Vec<(&str, u64)> = drawn.markers.iter().map(|(k, t)| (k.name(), *t)).collect();
    assert!(
        markers.contains(&("runner start", 2_000)) && markers.contains(&("runner start", 17_000))
    );
    assert!(markers.contains(&("runner exit", 24_000)));
    assert!(
        markers.contains(&("model load", 5_000)) && markers.contains(&("model unload", 25_000))
    );
    // Labels say which model loaded and which runner started or exited.
    for label in [
        "load llama3.2:3b",
        "load granite3.3:2b",
        "start 61864",
        "start 62010",
        "exit 61864",
    ] {
        assert!(
            drawn.labels.iter().any(|l| l == label),
            "{label}: {:?}",
            drawn.labels
        );
        assert!(has_text(&svg, label), "label {label}");
    }
    for legend in [
        "overlap",
        "low memory",
        "runner start",
        "runner exit",
        "model load",
        "model unload",
    ] {
        assert!(has_text(&svg, legend), "key {legend}");
    }
    // Time ticks fall on round local times: every 5 s over this 40 s trace.
    for tick in ["11:25:05", "11:25:20", "11:25:40"] {
        assert!(has_text(&svg, tick), "tick {tick}");
    }
    // The free % axis runs from 0 to 100 % at total RAM, once: no axis repeats another.
    assert!(has_text(&svg, "100"));
    assert_eq!(svg.matches(">\nfree %\n</text>").count(), 1);
}

#[test]
fn colours_mean_one_thing_each() {
    let (mut tl, r) = fixture();
    tl.meta.gpu_wired_limit_bytes = Some(28 << 30);
    let (_, drawn) = chart::svg(&tl, &r, &ChartOptions::default(), &clock()).unwrap();
    let mut seen: std::collections::BTreeMap<String, String> = Default::default();
    for (kind, what, color) in &drawn.colors {
        let meaning = format!("{kind} {what}");
        if let Some(other) = seen.insert(color.clone(), meaning.clone()) {
            // Markers of one family share a colour and differ by dash (start/exit,
            // load/unload); nothing else may.
            let family = |m: &str| {
                m.replace("start", "runner-event")
                    .replace("exit", "runner-event")
                    .replace("unload", "model-event")
                    .replace("load", "model-event")
            };
            assert!(
                kind == &"marker" && family(&other) == family(&meaning),
                "{color} means both {other} and {meaning}"
            );
        }
    }
    assert!(seen.len() >= 10, "{seen:?}");
}

#[test]
fn twelve_runners_give_eight_lines_and_one_for_the_rest_at_both_sizes() {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/trace-twelve-runners");
    let tl = Timeline::load(&dir).unwrap();
    let r = report::build(&tl, &Options::default());
    for (w, h) in [(1600, 1000), (800, 500)] {
        let opts = ChartOptions {
            width: w,
            height: h,
            ..ChartOptions::default()
        };
        let (svg, drawn) = chart::svg(&tl, &r, &opts, &clock()).unwrap();
        assert_eq!(drawn.process_series.len(), 9, "{:?}", drawn.process_series);
        assert!(
            drawn.process_series[8].starts_with("4 other processes (summed), max "),
            "{:?}",
            drawn.process_series
        );
        // The eight by peak, highest first.
        let peaks: Vec<u64> = r
            .processes
            .iter()
            .filter_map(|p| p.peak_footprint_bytes)
            .collect();
        let mut sorted = peaks.clone();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        let top = memtide_render::format_bytes(sorted[0]);
        assert!(
            drawn.process_series[0].ends_with(&format!("max {top}")),
            "{} vs {top}",
            drawn.process_series[0]
        );
        // Twelve starts, four exits: labels collide at 800 px, so some are left out and
        // counted, none drawn over another.
        assert_eq!(
            drawn
                .markers
                .iter()
                .filter(|m| m.0.name() == "runner start")
                .count(),
            12
        );
        assert_eq!(
            drawn.labels.len() + drawn.labels_hidden,
            drawn.markers.len()
        );
        for l in &drawn.labels {
            assert!(has_text(&svg, l), "{l}");
        }
        if w == 800 {
            assert!(drawn.labels_hidden > 0);
        }
        // A label left out leaves its line without a name: the key says how many.
        let n = drawn.labels_hidden;
        let count = format!(
            "{n} marker label{} left out for room",
            if n == 1 { "" } else { "s" }
        );
        if n > 0 {
            assert!(drawn.key.contains(&count), "{:?}", drawn.key);
            assert!(has_text(&svg, &count));
        }
        // No palette colour repeats among the lines.
        let lines: Vec<&String> = drawn
            .colors
            .iter()
            .filter(|c| c.0 == "series")
            .map(|c| &c.2)
            .collect();
        let mut unique = lines.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), lines.len(), "{lines:?}");
    }
}

#[test]
fn swap_growth_fills_its_own_axis() {
    let (tl, r) = fixture();
    let (svg, drawn) = chart::svg(&tl, &r, &ChartOptions::default(), &clock()).unwrap();
    // Swap peaks at 2.68 GiB: its strip's axis tops out just above it (ticks to 3.0), not at
    // the 32 GiB of the system panel.
    assert!(drawn.swap_axis_max_bytes.unwrap() < 3.2 * (1u64 << 30) as f64);
    assert!(drawn.swap_axis_max_bytes.unwrap() > 2.68 * (1u64 << 30) as f64);
    assert!(has_text(&svg, "3.0"));
}

#[test]
fn a_window_and_rss_change_what_is_drawn() {
    let (tl, r) = fixture();
    let opts = ChartOptions {
        metric: Measure::Rss,
        from_ms: Some(26_000),
        to_ms: Some(40_000),
        ..ChartOptions::default()
    };
    let (svg, drawn) = chart::svg(&tl, &r, &opts, &clock()).unwrap();
    assert!(has_text(&svg, "Memory per process (RSS)"));
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
fn the_viewer_is_one_offline_page_with_its_data_the_models_and_the_events() {
    let (tl, r) = fixture();
    let page = html::page(&tl, &r, &ChartOptions::default(), &clock()).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(memtide_render::drawn_by_memtide(page.as_bytes()));
    // The title once, as the heading (the tab's title aside).
    assert_eq!(page.matches("<h1>").count(), 1);
    // Self-contained: uPlot inlined with its licence, nothing fetched.
    assert!(page.contains(&format!("uPlot {}", html::UPLOT_VERSION)));
    assert!(page.contains("Permission is hereby granted"));
    for remote in ["src=\"http", "href=\"http", "import(", "fetch("] {
        assert!(!page.contains(remote), "{remote}");
    }
    assert!(page.contains("<td>llama3.2:3b</td><td>61864 (ollama engine)</td>"));
    assert!(page.contains("still alive while runner PID 62010 for granite3.3:2b started"));
    assert!(page.contains("Times are local (UTC+02:00)"));
    // The embedded data: every sample of this short trace, exact.
    let start = page.find("id=\"memtide-data\">").unwrap() + "id=\"memtide-data\">".len();
    let end = start + page[start..].find("</script>").unwrap();
    let data: serde_json::Value = serde_json::from_str(&page[start..end]).unwrap();
    // One grid for all: the system's 9 samples (every 5 s) and the processes' 41 (every 1 s);
    // a series has -1 where it has no sample of its own.
    let x: Vec<u64> = serde_json::from_value(data["x"].clone()).unwrap();
    assert_eq!(x, (0..=40).map(|s| s * 1000).collect::<Vec<u64>>());
    assert_eq!(data["sys"]["swap"][20], 2_876_768_256u64);
    assert_eq!(data["sys"]["swap"][21], -1);
    let llama = data["procs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pid"] == 61864)
        .unwrap();
    assert_eq!(llama["label"], "llama3.2:3b (61864)");
    assert_eq!(llama["runner"], true);
    assert_eq!(data["available_source"], "free % × RAM");
}

#[test]
fn the_viewer_escapes_every_string_from_the_trace() {
    let (tl, mut r) = fixture();
    let hostile = "</script><img src=x onerror=alert(1)>\u{1b}[2J";
    r.processes[0].command = hostile.into();
    r.processes[2].model = Some(hostile.into());
    r.models[0].model = Some(hostile.into());
    let page = html::page(&tl, &r, &ChartOptions::default(), &clock()).unwrap();
    assert!(!page.contains("<img src=x"), "markup reached the page");
    assert_eq!(
        page.matches("</script>").count(),
        4,
        "only the page's own scripts end (data, uPlot, units, viewer)"
    );
    assert!(!page.contains('\u{1b}'));
    assert!(page.contains("&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;\\u{1b}[2J"));
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

/// The twelve-runner recording, its report and its span.
fn twelve_runners() -> (Timeline, report::Report, u64, u64) {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/trace-twelve-runners");
    let tl = Timeline::load(&dir).unwrap();
    let r = report::build(&tl, &Options::default());
    let (from, to) = tl.span().unwrap();
    (tl, r, from, to)
}

#[test]
fn a_model_keeps_its_colour_whatever_the_panel_measures() {
    // The twelve-runner recording: its runners' peaks rank differently by footprint and RSS.
    let (tl, r, from, to) = twelve_runners();
    let colours = |m: Measure| -> Vec<(u32, &'static str)> {
        let mut v: Vec<(u32, &'static str)> =
            memtide_render::series::processes(&tl, &r, m, from, to, Lines::Chosen)
                .shown
                .iter()
                .map(|l| (l.pid, l.color))
                .collect();
        v.sort_unstable();
        v
    };
    let by = [Measure::ModelMemory, Measure::Footprint, Measure::Rss].map(colours);
    // Where the same processes have lines of their own, each has the same colour.
    for other in &by[1..] {
        for (pid, colour) in other {
            if let Some((_, c)) = by[0].iter().find(|(p, _)| p == pid) {
                assert_eq!(c, colour, "PID {pid}");
            }
        }
    }
}

#[test]
fn a_line_cut_as_it_is_read_draws_what_the_whole_series_draws() {
    // Twelve runners: eight lines and four summed.
    let (tl, r, from, to) = twelve_runners();
    let m = Measure::ModelMemory;
    let interval = tl.interval_ms();
    for columns in [7, 60, 5_000] {
        let procs = memtide_render::series::processes(&tl, &r, m, from, to, Lines::Cut(columns));
        assert_eq!(procs.shown.len(), 8);
        assert_eq!(procs.rest.len(), 4);
        let drawn = |s: &Series| decimate::segments(s, from, to, columns);
        for line in &procs.shown {
            let full = tl.processes[line.index].series(m, interval);
            assert_eq!(drawn(&line.series), drawn(&full), "PID {}", line.pid);
            assert_eq!(Some(line.peak), full.max().map(|(_, v)| v));
        }
        // The rest summed at each time, then cut.
        let mut sum: std::collections::BTreeMap<u64, f64> = Default::default();
        for line in &procs.rest {
            for (t, v) in tl.processes[line.index].series(m, interval).points() {
                *sum.entry(t).or_default() += v;
            }
        }
        let full = Series::from_points(sum.into_iter().map(|(t, v)| (t, Some(v))), interval);
        let others = procs.others.as_ref().unwrap();
        assert_eq!(drawn(others), drawn(&full));
        assert_eq!(others.max(), full.max());
    }
    // Only chosen: names, colours and peaks, no line.
    let chosen = memtide_render::series::processes(&tl, &r, m, from, to, Lines::Chosen);
    assert!(chosen.shown.iter().all(|l| l.series.t_ms.is_empty()));
    assert!(chosen.others.is_none());
}

#[test]
fn what_the_machine_never_used_is_left_out_and_said_once() {
    let (mut tl, r) = fixture();
    // A Linux machine without swap or zswap: both read 0 at every sample.
    for p in tl.system.iter_mut() {
        p.swap_used_bytes = Some(0).into();
        p.compressor_bytes = Some(0).into();
    }
    let (svg, drawn) = chart::svg(&tl, &r, &ChartOptions::default(), &clock()).unwrap();
    assert!(!has_text(&svg, "Swap"), "no empty swap strip");
    assert!(drawn.swap_series.is_empty() && drawn.swap_axis_max_bytes.is_none());
    assert!(
        !drawn
            .system_series
            .iter()
            .any(|s| s.starts_with("compressor")),
        "{:?}",
        drawn.system_series
    );
    // The viewer leaves the same out, and says so once.
    let page = html::page(&tl, &r, &ChartOptions::default(), &clock()).unwrap();
    assert!(!page.contains("id=\"chart-swap\""));
    assert_eq!(
        page.matches("Not drawn, unused while recording: swap, compressor.")
            .count(),
        1
    );
    assert!(page.contains("\"left_out\":[\"swap\",\"compressor\"]"));
    let note = "not drawn, unused while recording: swap, compressor";
    assert_eq!(drawn.system_series.last().map(String::as_str), Some(note));
    assert_eq!(svg.matches(note).count(), 1, "said once");
    // The time axis moves to the system panel, once.
    assert_eq!(svg.matches(">\nlocal time (UTC+02:00)\n</text>").count(), 1);
    assert!(has_text(&svg, "11:25:20"));

    // Swap used at some sample: its strip is back, with its axis; the compressor that held
    // nothing stays out.
    tl.system[3].swap_used_bytes = Some(64 << 20).into();
    let (svg, drawn) = chart::svg(&tl, &r, &ChartOptions::default(), &clock()).unwrap();
    assert!(has_text(&svg, "Swap"));
    assert!(drawn.swap_axis_max_bytes.is_some());
    let page = html::page(&tl, &r, &ChartOptions::default(), &clock()).unwrap();
    assert!(page.contains("id=\"chart-swap\""));
    assert_eq!(
        drawn.system_series.last().map(String::as_str),
        Some("not drawn, unused while recording: compressor")
    );
}
