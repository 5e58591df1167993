//! A trace directory made of arbitrary files, through the loader, the report (JSON and text)
//! and the chart: what `memtide report` and `memtide render` do with a trace they are given.
//! The input is split at 0xFF bytes into meta.json and the five CSV files.
#![no_main]
use libfuzzer_sys::fuzz_target;
use memtide_model::{events::Options, report, timeline::Timeline};
use memtide_trace as trace;
use memtide_render::{chart, report::Clock};

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    let mut parts = data.split(|&b| b == 0xFF);
    for name in trace::FILES {
        std::fs::write(dir.path().join(name), parts.next().unwrap_or_default()).unwrap();
    }
    let Ok(tl) = Timeline::load(dir.path()) else {
        return;
    };
    let r = report::build(&tl, &Options::default());
    let clock = Clock::new(jiff::tz::TimeZone::UTC);
    let _ = memtide_render::report::render(&r, memtide_render::report::Style::Text, &clock);
    let opts = chart::ChartOptions {
        width: 640,
        height: 400,
        ..chart::ChartOptions::default()
    };
    let _ = chart::svg(&tl, &r, &opts, &clock);
});
