//! Takes one sample of system memory and of the selected processes, and prints it.
//!
//! ```text
//! cargo run -p memtide-sampler --example sample_once                 # every Ollama process
//! cargo run -p memtide-sampler --example sample_once -- --pid 4242   # one process
//! cargo run -p memtide-sampler --example sample_once -- --match python --match node
//! ```
//!
//! It shows the sampler's whole public surface a caller needs for one reading: build a
//! selector, make a `Sampler`, call `tick`, read the fields (each `None` where this OS does
//! not have it).

use memtide_sampler::{ProcessSelector, Sampler};
use std::process::ExitCode;

fn usage() -> ExitCode {
    eprintln!("usage: sample_once [--pid N]... [--match PATTERN]... [--all]");
    ExitCode::from(2)
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn opt_mib(bytes: Option<u64>) -> String {
    bytes.map_or_else(|| "-".to_owned(), mib)
}

fn main() -> ExitCode {
    let mut rules = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--pid" => match args.next().and_then(|p| p.parse().ok()) {
                Some(pid) => rules.push(ProcessSelector::Pids(vec![pid])),
                None => return usage(),
            },
            "--match" => match args.next() {
                Some(p) => rules.push(ProcessSelector::Match(vec![p])),
                None => return usage(),
            },
            "--all" => rules.push(ProcessSelector::All),
            _ => return usage(),
        }
    }
    let selector = match rules.len() {
        0 => ProcessSelector::Ollama,
        1 => rules.remove(0),
        _ => ProcessSelector::Any(rules),
    };

    let mut sampler = match Sampler::new(selector) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("sample_once: {e}");
            return ExitCode::FAILURE;
        }
    };
    let host = sampler.host().clone();
    let tick = match sampler.tick() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("sample_once: {e}");
            return ExitCode::FAILURE;
        }
    };

    let s = tick.system;
    println!(
        "system ({} {}, {}, page size {})",
        host.os,
        host.os_version.as_deref().unwrap_or("?"),
        host.arch,
        host.page_size_bytes
            .map_or_else(|| "-".into(), |p| p.to_string())
    );
    println!("  total        {}", mib(s.total_bytes));
    println!("  free         {}", opt_mib(s.free_bytes));
    println!("  available    {}", opt_mib(s.available_bytes));
    println!("  active       {}", opt_mib(s.active_bytes));
    println!("  inactive     {}", opt_mib(s.inactive_bytes));
    println!("  speculative  {}", opt_mib(s.speculative_bytes));
    println!("  wired        {}", opt_mib(s.wired_bytes));
    println!("  purgeable    {}", opt_mib(s.purgeable_bytes));
    println!("  compressor   {}", opt_mib(s.compressor_bytes));
    println!("  compressed   {}", opt_mib(s.compressed_bytes));
    println!("  file-backed  {}", opt_mib(s.file_backed_bytes));
    println!("  anonymous    {}", opt_mib(s.anonymous_bytes));
    println!(
        "  swap         {} used of {}",
        opt_mib(s.swap_used_bytes),
        opt_mib(s.swap_total_bytes)
    );
    match s.free_percent {
        Some(p) => println!("  free %       {p:.1}"),
        None => println!("  free %       -"),
    }
    match s.pressure {
        Some(p) => println!("  pressure     {p}"),
        None => println!("  pressure     -"),
    }
    if let (Some(some), Some(full)) = (s.psi_some_avg10, s.psi_full_avg10) {
        println!("  PSI avg10    some {some:.2} %, full {full:.2} %");
    }

    println!("processes: {}", tick.processes.len());
    for p in tick.processes {
        // In the first tick every followed process has just started, so its facts are here.
        let command = tick
            .started_info(p.id)
            .map(|i| i.command_line())
            .unwrap_or_default();
        println!(
            "  {:>7} {:<16} rss {:>12}  footprint {:>12}  peak {:>12}  swapped {:>10}  {}",
            p.id.pid,
            p.name,
            mib(p.rss_bytes),
            opt_mib(p.footprint_bytes),
            opt_mib(p.peak_footprint_bytes.or(p.peak_rss_bytes)),
            opt_mib(p.swapped_bytes),
            command,
        );
    }
    for f in tick.failures {
        eprintln!("  {}: {}", f.id.pid, f.error);
    }
    ExitCode::SUCCESS
}
