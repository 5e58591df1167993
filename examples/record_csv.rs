//! A minimal recorder built on the library API: follows the selected processes (every Ollama
//! process by default) and writes one CSV row per process per tick, with UTC milliseconds.
//!
//! ```text
//! cargo run --example record_csv -- --ticks 40 > ollama.csv
//! cargo run --example record_csv -- --pid 4242 --ticks 100 --interval-ms 100
//! ```
//!
//! `memtide record` does the same and much more (system memory, Ollama's models, identities,
//! clean stops); this is the shortest path from the sampler to a file.

use memtide_sampler::{ProcessSelector, Sampler};
use memtide_trace::utc_ms;
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<u64>().ok())
    };
    let selector = match value("--pid") {
        Some(pid) => ProcessSelector::Pids(vec![pid as u32]),
        None => ProcessSelector::Ollama,
    };
    let ticks = value("--ticks").unwrap_or(20);
    let interval = Duration::from_millis(value("--interval-ms").unwrap_or(250));

    let mut sampler = Sampler::new(selector)?;
    let mut out = csv::Writer::from_writer(std::io::stdout().lock());
    out.write_record([
        "time_utc",
        "pid",
        "start_time_us",
        "name",
        "rss_bytes",
        "footprint_bytes",
        "free_percent",
    ])?;
    let start = Instant::now();
    for k in 0..ticks {
        // Absolute deadlines: the schedule does not drift with the time a tick takes.
        let deadline = start + interval * k as u32;
        std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
        let tick = sampler.tick()?;
        let time = utc_ms(tick.time.wall);
        let free = tick
            .system
            .free_percent
            .map(|p| format!("{p:.2}"))
            .unwrap_or_default();
        for p in tick.processes {
            out.write_record([
                time.clone(),
                p.id.pid.to_string(),
                p.id.start_time_us.to_string(),
                p.name.to_string(),
                p.rss_bytes.to_string(),
                p.footprint_bytes.map(|f| f.to_string()).unwrap_or_default(),
                free.clone(),
            ])?;
        }
        out.flush()?;
    }
    Ok(())
}
