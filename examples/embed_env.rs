//! A benchmark that gains a memtide trace per run with one line:
//! `MEMTIDE_TRACE=traces cargo run --example embed_env` writes a new trace under `traces/` at
//! each run (named after the program, the time and the PID); without the variable it records
//! nothing. `memtide report traces/embed_env-…` reads one.

use std::time::Duration;

fn main() -> std::process::ExitCode {
    match work() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("embed_env: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn work() -> Result<(), Box<dyn std::error::Error>> {
    let _memtide = memtide_record::trace_if_requested()?;

    // The benchmark: 48 MiB taken in three steps.
    let mut held: Vec<Vec<u8>> = Vec::new();
    for step in 0..3u8 {
        held.push(vec![step + 1; 16 << 20]);
        std::thread::sleep(Duration::from_millis(150));
    }
    println!(
        "held {} MiB",
        held.iter().map(Vec::len).sum::<usize>() >> 20
    );
    Ok(())
}
