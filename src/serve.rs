//! `memtide serve`: a front-end of memtide's recorder that answers Prometheus's scrapes.
//!
//! The recorder ticks on this thread as it does for `memtide record` (and writes a trace too,
//! with `--record`); after each tick a [`Reading`] of it is published. One thread answers HTTP
//! ([`http`], with the limits a server that runs for months needs): `/metrics` encodes the
//! latest reading, `/` says where the metrics are. A
//! scrape never samples and never takes a lock the recorder waits on for longer than a
//! pointer copy, so no scraper, however slow or however many, can delay or change a tick.

use crate::cli::ServeArgs;
use crate::record::{self, open_trace, tell};
use anyhow::{Context, Result};
use memtide_record::metrics::{Latest, Reading};
use memtide_record::Recorder;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::mpsc::Receiver;
use std::time::SystemTime;

pub mod http;

pub struct Options {
    pub listen: SocketAddr,
    /// What to sample, how often, and how to keep the trace of `record`.
    pub recorder: memtide_record::Options,
    /// Also write a trace here.
    pub record: Option<PathBuf>,
    pub force: bool,
    pub quiet: bool,
}

pub fn run(opts: Options, stop: Receiver<()>) -> Result<()> {
    let listener = std::net::TcpListener::bind(opts.listen)
        .with_context(|| format!("cannot listen on {}", opts.listen))?;
    let kept = opts.recorder.segments.is_some();
    let mut rec = Recorder::new(opts.recorder)?;
    let trace = match &opts.record {
        Some(dir) => Some(open_trace(
            &mut rec,
            Some(dir),
            kept,
            opts.force,
            "memtide serve",
            opts.quiet,
        )?),
        None => None,
    };
    let latest = Latest::default();
    // When this process started, as the kernel keeps it (process_start_time_seconds).
    let me = std::process::id();
    let started = memtide_sampler::Sampler::new(memtide_sampler::ProcessSelector::Pids(vec![me]))
        .and_then(|mut s| s.inspect(me))
        .ok()
        .map(|(_, info)| {
            std::time::UNIX_EPOCH + std::time::Duration::from_micros(info.id.start_time_us)
        });
    let fds = rustix::process::getrlimit(rustix::process::Resource::Nofile)
        .current
        .unwrap_or(u64::MAX);
    let server = http::Http::start(listener, latest.clone(), http::Limits::for_fd_limit(fds))
        .context("cannot start answering scrapes")?;
    if !opts.quiet {
        let addr = server.addr();
        say!(
            "memtide: serving http://{addr}/metrics, sampling every {}{} (Ctrl-C to stop)",
            humantime::format_duration(rec.interval()),
            trace
                .as_ref()
                .map_or_else(String::new, |d| format!(", recording to {}", d.display()))
        );
    }
    let result = rec.run(&stop, None, |rec, report| {
        let mut reading = Reading::of(rec, SystemTime::now());
        reading.max_fds = Some(fds);
        reading.process_start = started;
        latest.publish(reading);
        if !opts.quiet {
            tell(report);
        }
        std::ops::ControlFlow::Continue(())
    });
    server.stop();
    let finished = rec.finish();
    result?;
    if let (false, Some(s)) = (opts.quiet, finished?) {
        record::print_summary(&s)?;
    }
    Ok(())
}

/// `memtide serve`, from its flags.
pub fn command(a: ServeArgs) -> Result<()> {
    let (segments, burst) = crate::cli::trace_policy(&a.keep, &a.burst, a.interval)?;
    if segments.is_some() && a.record.is_none() {
        anyhow::bail!(
            "--keep, --max-size and --segment-size shape the trace of --record DIR: give it"
        );
    }
    let stop = crate::stop_signals()?;
    run(
        Options {
            listen: a.listen,
            recorder: {
                let mut o = a.watch.recorder(a.interval);
                o.segments = segments;
                o.burst = burst;
                // No sparklines to draw: the live state keeps no history of samples.
                o.history = std::time::Duration::ZERO;
                // The exporter outlives a full disk: recording stops, serving goes on.
                o.on_write_failure = memtide_record::OnWriteFailure::StopRecording;
                o
            },
            record: a.record,
            force: a.force,
            quiet: a.quiet,
        },
        stop,
    )
}
