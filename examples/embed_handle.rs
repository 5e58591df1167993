//! A program that records itself with memtide while it works, through the handle
//! `Recorder::spawn` returns: `cargo run --example embed_handle -- DIR [finish|return-early|panic]`.
//!
//! It allocates and touches 16 MiB five times, a tenth of a second apart, and finishes the
//! trace at the end (`finish`), or returns an error after the third step (`return-early`), or
//! panics there (`panic`): the trace in DIR is complete in each case, since dropping the
//! handle finishes it. `memtide report DIR` reads it.

use memtide_record::{Options, ProcessSelector, Recorder};
use std::time::Duration;

fn main() -> std::process::ExitCode {
    match work() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("embed_handle: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn work() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .ok_or("usage: embed_handle DIR [finish|return-early|panic]")?;
    let how = args.next().unwrap_or_else(|| "finish".into());

    let me = std::process::id();
    let options = Options::new(Duration::from_millis(100), ProcessSelector::Pids(vec![me]));
    let recording = Recorder::spawn(options, &dir)?;

    let mut held: Vec<Vec<u8>> = Vec::new();
    for step in 0..5u8 {
        held.push(vec![step + 1; 16 << 20]);
        std::thread::sleep(Duration::from_millis(100));
        if step == 2 && how == "return-early" {
            return Err("stopped after the third step".into());
        }
        if step == 2 && how == "panic" {
            panic!("the work failed after the third step");
        }
    }
    let summary = recording.finish()?.ok_or("no trace was written")?;
    println!(
        "{} samples of {} MiB held, in {}",
        summary.samples,
        held.iter().map(Vec::len).sum::<usize>() >> 20,
        summary.dir.display()
    );
    Ok(())
}
