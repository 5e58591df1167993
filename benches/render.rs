//! How long a long trace takes to chart: an hour at 10 Hz and a day at 1 Hz, ten processes
//! each, from the trace directory to a PNG (load, report, draw, encode). The traces are
//! synthetic but shaped like real ones: runners that load, overlap, grow and exit, with
//! spikes that the decimation must keep.

use criterion::{criterion_group, criterion_main, Criterion};
use memtide_model::events::Options;
use memtide_model::report;
use memtide_model::timeline::Timeline;
use memtide_render::chart::{self, ChartOptions};
use memtide_render::report::Clock;
use memtide_trace::{
    self as trace, IdentityRow, Meta, PressureLevel, ProcessRow, Selection, SystemRow, TraceWriter,
};
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

const GIB: u64 = 1 << 30;

/// Writes a trace of `ticks` samples `interval_ms` apart with `processes` processes: half of
/// them runners with staggered, overlapping lives.
pub fn synthetic_trace(dir: &Path, ticks: u64, interval_ms: u64, processes: u32) {
    let start = UNIX_EPOCH + Duration::from_secs(1_778_750_000);
    let mut meta = Meta::new(
        "macos",
        "aarch64",
        32 * GIB,
        interval_ms,
        trace::utc_ms(start),
    );
    meta.memtide_version = "bench".into();
    meta.os_version = Some("15.5".into());
    meta.page_size_bytes = Some(16384);
    meta.selection = Selection {
        ollama_default: true,
        ..Selection::default()
    };
    let mut w = TraceWriter::create(dir, meta).unwrap();
    let life = ticks / u64::from(processes).max(1) * 2;
    let mut ids = Vec::new();
    for p in 0..processes {
        let runner = p % 2 == 1;
        let argv: Vec<String> = if runner {
            vec![
                "/Applications/Ollama.app/Contents/Resources/ollama".into(),
                "runner".into(),
                "--model".into(),
                format!("model-{p}:8b"),
                "--port".into(),
                format!("{}", 50000 + p),
            ]
        } else {
            vec![
                "/Applications/Ollama.app/Contents/Resources/ollama".into(),
                "serve".into(),
            ]
        };
        ids.push(IdentityRow {
            pid: 1000 + p,
            start_time_us: 1_778_750_000_000_000 + u64::from(p),
            name: "ollama".into(),
            argv,
            ..IdentityRow::default()
        });
    }
    w.set_identities(&ids).unwrap();
    for k in 0..ticks {
        let t_ms = k * interval_ms;
        let time_utc = trace::utc_ms(start + Duration::from_millis(t_ms));
        let wave = (k as f64 / 500.0).sin();
        w.system(&SystemRow {
            time_utc: time_utc.clone(),
            t_ms,
            total_bytes: 32 * GIB,
            free_bytes: Some((4.0 * GIB as f64 * (1.2 + wave)) as u64),
            wired_bytes: Some(3 * GIB + (k % 97) * (1 << 20)),
            compressor_bytes: Some((2.0 * GIB as f64 * (1.0 + wave)) as u64),
            swap_used_bytes: Some(GIB + k * 1024),
            free_percent: Some(40.0 + 30.0 * wave),
            pressure: Some(if wave < -0.7 {
                PressureLevel::Warning
            } else {
                PressureLevel::Normal
            }),
            ..SystemRow::default()
        })
        .unwrap();
        for (p, id) in ids.iter().enumerate() {
            let begin = p as u64 * ticks / ids.len() as u64 / 2;
            if id.argv.iter().any(|a| a.contains("runner")) && (k < begin || k > begin + life) {
                continue;
            }
            let grow = ((k.saturating_sub(begin)) as f64 / 200.0).min(1.0);
            let spike = if k % 5003 == p as u64 { GIB } else { 0 };
            let fp = (grow * 5.0 * GIB as f64) as u64 + spike + 50 * (1 << 20);
            w.process(&ProcessRow {
                time_utc: time_utc.clone(),
                t_ms,
                pid: id.pid,
                start_time_us: id.start_time_us,
                ppid: 1,
                rss_bytes: fp / 2,
                footprint_bytes: Some(fp),
                ..ProcessRow::default()
            })
            .unwrap();
        }
    }
    w.finish(start + Duration::from_millis(ticks * interval_ms), ticks, 0)
        .unwrap();
}

fn render_png(dir: &Path, out: &Path) {
    let tl = Timeline::load(dir).unwrap();
    let r = report::build(&tl, &Options::default());
    let clock = Clock::new(jiff::tz::TimeZone::UTC);
    chart::png(out, &tl, &r, &ChartOptions::default(), &clock).unwrap();
}

fn render_viewer(dir: &Path, out: &Path) -> usize {
    let tl = Timeline::load(dir).unwrap();
    let r = report::build(&tl, &Options::default());
    let clock = Clock::new(jiff::tz::TimeZone::UTC);
    let page = memtide_render::html::page(&tl, &r, &ChartOptions::default(), &clock).unwrap();
    std::fs::write(out, &page).unwrap();
    page.len()
}

fn bench(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    let mut g = c.benchmark_group("render_png");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    for (name, ticks, interval) in [
        ("1h_at_10Hz_10_processes", 36_000, 100),
        ("24h_at_1Hz_10_processes", 86_400, 1000),
    ] {
        let dir = tmp.path().join(name);
        synthetic_trace(&dir, ticks, interval, 10);
        let out = tmp.path().join(format!("{name}.png"));
        g.bench_function(name, |b| b.iter(|| render_png(&dir, &out)));
    }
    g.finish();

    // The viewer of a day at 1 Hz: the time to write it, and its size.
    let mut g = c.benchmark_group("render_viewer");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    let name = "24h_at_1Hz_10_processes";
    let dir = tmp.path().join(name);
    let out = tmp.path().join(format!("{name}.html"));
    let bytes = render_viewer(&dir, &out);
    println!("render_viewer/{name}: the page is {bytes} bytes");
    g.bench_function(name, |b| b.iter(|| render_viewer(&dir, &out)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
