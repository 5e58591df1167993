//! `memtide runner`, hidden: a stand-in for an Ollama runner, for the demo and the tests. It holds
//! memory with an argument vector shaped like a real runner's.

use crate::cli::RunnerArgs;
use anyhow::{Context, Result};
use std::time::Duration;

/// Allocates and touches memory in steps (a load), optionally more later (a growing KV
/// cache), and holds it until killed or until its standard input closes (its parent died).
pub fn run(a: &RunnerArgs) -> Result<()> {
    let _ = (&a.model, a.port, &a.demo_id, a.no_mmap);
    // Exit when stdin reaches its end: for a runner started with a pipe, that is when the
    // process that started it is gone.
    if a.exit_with_stdin {
        std::thread::spawn(|| {
            let mut sink = Vec::new();
            let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
            std::process::exit(0);
        });
    }
    let touch = |mib: usize, ramp_ms: u64| -> Vec<Vec<u8>> {
        const STEPS: usize = 10;
        let mut held = Vec::new();
        for i in 0..STEPS {
            let chunk = mib / STEPS + usize::from(i < mib % STEPS);
            let mut block = vec![0u8; chunk << 20];
            // One write per 4 KiB page, so that every page is resident.
            for j in (0..block.len()).step_by(4096) {
                block[j] = 1;
            }
            held.push(std::hint::black_box(block));
            std::thread::sleep(Duration::from_millis(ramp_ms / STEPS as u64));
        }
        held
    };
    let started = std::time::Instant::now();
    // Mapped weights: clean file pages, in RSS but not in the footprint.
    let _weights = match &a.map_file {
        Some(path) => {
            let file = std::fs::File::open(path)
                .with_context(|| format!("cannot open {}", path.display()))?;
            // SAFETY: the file is the caller's and is only read; nothing here truncates it
            // while it is mapped (memmap2's one requirement).
            let map = unsafe { memmap2::Mmap::map(&file) }
                .with_context(|| format!("cannot map {}", path.display()))?;
            let mut sum = 0u64;
            let read = a
                .map_read_mib
                .map_or(map.len(), |m| (m << 20).min(map.len()));
            for i in (0..read).step_by(4096) {
                sum = sum.wrapping_add(u64::from(map[i]));
            }
            std::hint::black_box(sum);
            Some(map)
        }
        None => None,
    };
    let mut held = touch(a.mib, a.ramp_ms);
    if a.grow_mib > 0 {
        let at = Duration::from_millis(a.grow_after_ms);
        std::thread::sleep(at.saturating_sub(started.elapsed()));
        held.extend(touch(a.grow_mib, a.ramp_ms));
    }
    if a.say_loaded {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        writeln!(out, "loaded").and_then(|()| out.flush())?;
    }
    loop {
        std::thread::sleep(Duration::from_secs(3600));
        std::hint::black_box(&held);
    }
}
