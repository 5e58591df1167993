//! Samples one process every 100 ms and prints a line whenever its memory moves by 1 MiB or
//! more, until the process exits (or `--ticks` samples were taken).
//!
//! ```text
//! cargo run -p memtide-sampler --example watch_pid -- --pid 4242
//! cargo run -p memtide-sampler --example watch_pid -- --pid 4242 --ticks 50
//! ```
//!
//! It shows a sampler following one identity: the `Tick` says when the process is gone, and a
//! PID the kernel gives to another process later is never mistaken for it.

use memtide_sampler::{ProcessSelector, Sampler};
use std::process::ExitCode;
use std::time::{Duration, Instant};

const MIB: u64 = 1 << 20;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<u64>().ok())
    };
    let Some(pid) = value("--pid") else {
        eprintln!("usage: watch_pid --pid N [--ticks N]");
        return ExitCode::from(2);
    };
    let ticks = value("--ticks").unwrap_or(u64::MAX);

    let mut sampler = match Sampler::new(ProcessSelector::Pids(vec![pid as u32])) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("watch_pid: {e}");
            return ExitCode::FAILURE;
        }
    };
    let start = Instant::now();
    let mut last: Option<(u64, u64)> = None;
    for n in 0..ticks {
        let tick = match sampler.tick() {
            Ok(t) => t,
            Err(e) => {
                eprintln!("watch_pid: {e}");
                return ExitCode::FAILURE;
            }
        };
        if let Some(f) = tick.failures.first() {
            eprintln!("watch_pid: {}", f.error);
            return ExitCode::FAILURE;
        }
        if !tick.exited.is_empty() {
            println!("{:>8.1}s  pid {pid} exited", start.elapsed().as_secs_f64());
            return ExitCode::SUCCESS;
        }
        let Some(p) = tick.processes.first() else {
            if n == 0 {
                eprintln!("watch_pid: no process {pid}");
                return ExitCode::FAILURE;
            }
            return ExitCode::SUCCESS;
        };
        let now = (p.rss_bytes, p.footprint_bytes.unwrap_or(p.rss_bytes));
        let moved = last.is_none_or(|(r, f)| r.abs_diff(now.0) >= MIB || f.abs_diff(now.1) >= MIB);
        if moved {
            println!(
                "{:>8.1}s  pid {} {}: rss {:.1} MiB, footprint {:.1} MiB",
                start.elapsed().as_secs_f64(),
                p.id.pid,
                p.name,
                now.0 as f64 / MIB as f64,
                now.1 as f64 / MIB as f64
            );
            last = Some(now);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    ExitCode::SUCCESS
}
