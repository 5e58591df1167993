//! The `memtide` command line.

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use memtide_render::format_bytes;
use memtide_sampler::{ProcessSelector, Sampler};
use std::io::Write;

/// What did memory do while my local models ran?
#[derive(Parser)]
#[command(name = "memtide", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print system memory and the memory of the selected processes, once.
    ///
    /// With no selection it shows every Ollama process: `ollama serve`, every runner
    /// generation, and their descendants.
    #[command(
        after_help = "Examples:\n  memtide snapshot\n  memtide snapshot --pid 4242\n  memtide snapshot --match llama-server --match python"
    )]
    Snapshot(Selection),
}

/// Which processes to look at.
#[derive(Args)]
struct Selection {
    /// Processes whose name or command line contains PATTERN (ASCII case ignored). Repeatable.
    #[arg(long = "match", value_name = "PATTERN")]
    patterns: Vec<String>,
    /// This process. Repeatable.
    #[arg(long = "pid", value_name = "PID")]
    pids: Vec<u32>,
    /// This process and all its descendants, including those born later.
    #[arg(long, value_name = "PID")]
    children_of: Option<u32>,
    /// Every process.
    #[arg(long)]
    all: bool,
}

impl Selection {
    fn selector(&self) -> ProcessSelector {
        let mut rules = Vec::new();
        if !self.patterns.is_empty() {
            rules.push(ProcessSelector::Match(self.patterns.clone()));
        }
        if !self.pids.is_empty() {
            rules.push(ProcessSelector::Pids(self.pids.clone()));
        }
        if let Some(root) = self.children_of {
            rules.push(ProcessSelector::DescendantsOf(root));
        }
        if self.all {
            rules.push(ProcessSelector::All);
        }
        match rules.len() {
            0 => ProcessSelector::Ollama,
            1 => rules.remove(0),
            _ => ProcessSelector::Any(rules),
        }
    }
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Snapshot(sel) => snapshot(&sel),
    };
    if let Err(e) = result {
        // A closed pipe (`memtide snapshot | head`) is not an error.
        if e.chain().any(|c| {
            c.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
        }) {
            std::process::exit(0);
        }
        eprintln!("memtide: {e:#}");
        std::process::exit(1);
    }
}

fn opt_bytes(v: Option<u64>) -> String {
    v.map_or_else(|| "-".to_owned(), format_bytes)
}

fn snapshot(sel: &Selection) -> Result<()> {
    let mut sampler = Sampler::new(sel.selector()).context("cannot start sampling")?;
    let host = sampler.host().clone();
    let tick = sampler.tick().context("cannot take a sample")?;
    let s = tick.system;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{} {} {}, {} RAM",
        host.os,
        host.os_version.as_deref().unwrap_or(""),
        host.arch,
        format_bytes(host.total_memory_bytes)
    )?;
    let pct = s
        .free_percent
        .map_or_else(|| "-".to_owned(), |p| format!("{p:.1} %"));
    let pressure = s.pressure.map_or("-", |p| p.as_str());
    writeln!(out, "free {pct}, pressure {pressure}")?;
    let rows = [
        ("free", s.free_bytes),
        ("available", s.available_bytes),
        ("active", s.active_bytes),
        ("inactive", s.inactive_bytes),
        ("speculative", s.speculative_bytes),
        ("wired", s.wired_bytes),
        ("purgeable", s.purgeable_bytes),
        ("compressor", s.compressor_bytes),
        ("compressed", s.compressed_bytes),
        ("file-backed", s.file_backed_bytes),
        ("anonymous", s.anonymous_bytes),
        ("swap used", s.swap_used_bytes),
        ("swap total", s.swap_total_bytes),
    ];
    for (label, v) in rows {
        writeln!(out, "  {label:<12} {:>10}", opt_bytes(v))?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "{:>7} {:>7} {:<16} {:>10} {:>10} {:>10}  COMMAND",
        "PID", "PPID", "NAME", "RSS", "FOOTPRINT", "PEAK"
    )?;
    for p in tick.processes {
        let command = tick
            .started_info(p.id)
            .map(|i| i.command_line())
            .unwrap_or_default();
        writeln!(
            out,
            "{:>7} {:>7} {:<16} {:>10} {:>10} {:>10}  {}",
            p.id.pid,
            p.ppid,
            p.name,
            format_bytes(p.rss_bytes),
            opt_bytes(p.footprint_bytes),
            opt_bytes(p.peak_footprint_bytes.or(p.peak_rss_bytes)),
            command
        )?;
    }
    if tick.processes.is_empty() {
        writeln!(out, "(no process matched)")?;
    }
    for f in tick.failures {
        eprintln!("memtide: pid {}: {}", f.id.pid, f.error);
    }
    Ok(())
}
