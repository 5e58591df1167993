//! `memtide serve`: a front-end of memtide's recorder that answers Prometheus's scrapes.
//!
//! The recorder ticks on this thread as it does for `memtide record` (and writes a trace too,
//! with `--record`); after each tick a [`Reading`] of it is published. A few worker threads
//! answer HTTP: `/metrics` encodes the latest reading, `/` says where the metrics are. A
//! scrape never samples and never takes a lock the recorder waits on for longer than a
//! pointer copy, so no scraper, however slow or however many, can delay or change a tick.

use crate::cli::ServeArgs;
use crate::record::{self, open_trace, tell};
use anyhow::{Context, Result};
use memtide_record::metrics::{self, Latest, Reading};
use memtide_record::Recorder;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::SystemTime;
use tiny_http::{Header, Method, Request, Response, Server};

/// Threads answering requests. Encoding is a fraction of a millisecond, so four keep up with
/// many concurrent scrapers; tiny_http reads requests on threads of its own.
const WORKERS: usize = 4;

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
    let server = Server::http(opts.listen)
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", opts.listen))?;
    let server = Arc::new(server);
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
    let workers: Vec<_> = (0..WORKERS)
        .map(|i| {
            let (server, latest) = (Arc::clone(&server), latest.clone());
            std::thread::Builder::new()
                .name(format!("memtide-serve-{i}"))
                .spawn(move || answer(&server, &latest))
                .context("cannot start the threads that answer scrapes")
        })
        .collect::<Result<_>>()?;
    if !opts.quiet {
        let addr = server
            .server_addr()
            .to_ip()
            .map_or_else(|| opts.listen.to_string(), |a| a.to_string());
        eprintln!(
            "memtide: serving http://{addr}/metrics, sampling every {}{} (Ctrl-C to stop)",
            humantime::format_duration(rec.interval()),
            trace
                .as_ref()
                .map_or_else(String::new, |d| format!(", recording to {}", d.display()))
        );
    }
    let result = rec.run(&stop, None, |rec, report| {
        latest.publish(Reading::of(rec, SystemTime::now()));
        if !opts.quiet {
            tell(report);
        }
    });
    // Each call unblocks one thread waiting for a request.
    for _ in &workers {
        server.unblock();
    }
    for w in workers {
        let _ = w.join();
    }
    let finished = rec.finish();
    result?;
    if let (false, Some(s)) = (opts.quiet, finished?) {
        record::print_summary(&s)?;
    }
    Ok(())
}

/// Answers requests until the server is unblocked.
fn answer(server: &Server, latest: &Latest) {
    while let Ok(request) = server.recv() {
        // A client that hung up is its own business: nothing to do about a failed reply.
        let _ = respond(request, latest);
    }
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("a valid header")
}

fn text(status: u16, body: String) -> Response<std::io::Cursor<Vec<u8>>> {
    Response::from_string(body)
        .with_status_code(status)
        .with_header(header("Content-Type", "text/plain; charset=utf-8"))
}

/// What a request gets: the metrics, the pointer to them, or the status that says why not.
fn respond(request: Request, latest: &Latest) -> std::io::Result<()> {
    let url = request.url();
    if !url.starts_with('/') {
        let r = text(
            400,
            "memtide serve: a request names a path, such as /metrics\n".into(),
        );
        return request.respond(r);
    }
    let path = url.split(['?', '#']).next().unwrap_or(url).to_owned();
    let known = matches!(path.as_str(), "/" | "/metrics");
    if !known {
        let r = text(
            404,
            format!("memtide serve: no {path} here; the metrics are at /metrics\n"),
        );
        return request.respond(r);
    }
    // tiny_http leaves the body out of an answer to HEAD itself.
    match request.method() {
        Method::Get | Method::Head => {}
        m => {
            let r = text(
                405,
                format!("memtide serve: {m} is not answered; use GET\n"),
            )
            .with_header(header("Allow", "GET, HEAD"));
            return request.respond(r);
        }
    }
    let response = if path == "/" {
        text(
            200,
            "memtide serve: Prometheus metrics of memory per model are at /metrics\n".into(),
        )
    } else {
        match latest.get() {
            Some(reading) => {
                let own = memtide_sampler::own_usage().ok();
                Response::from_string(metrics::encode(&reading, own.as_ref()))
                    .with_header(header("Content-Type", metrics::CONTENT_TYPE))
            }
            None => text(
                503,
                "memtide serve: the first sample is being taken\n".into(),
            )
            .with_header(header("Retry-After", "1")),
        }
    };
    request.respond(response.with_header(header("Cache-Control", "no-store")))
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
                o
            },
            record: a.record,
            force: a.force,
            quiet: a.quiet,
        },
        stop,
    )
}
