//! A stand-in for Ollama's HTTP API, the one the demo and the tests use: it answers
//! `/api/version` and `/api/ps` on a loopback port, on tiny_http, with what its owner says.
//! The demo runs it in its own process with the models it loaded; the tests and the scripts
//! run it as `memtide ollama-standin` (hidden) and change its answer through a file.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tiny_http::{Header, Response, Server};

/// How `/api/ps` is answered.
pub enum Answer {
    /// With this body (JSON, or anything a test wants Ollama to say).
    Body(String),
    /// With this body, after a pause.
    Slow(Duration, String),
    /// With 503 Service Unavailable, to every request: an Ollama not up yet behind its port.
    Unavailable,
}

/// Serves on a loopback port, in a thread of its own, until `running` is cleared; returns its
/// URL. `version` is what `/api/version` says; `ps` is asked at each `/api/ps` (and at each
/// `/api/version` too: an Ollama that is unavailable tells no version either).
pub fn serve(
    version: String,
    ps: impl Fn() -> Answer + Send + Sync + 'static,
    running: Arc<AtomicBool>,
) -> Result<String> {
    let server = Server::http("127.0.0.1:0")
        .map_err(|e| anyhow::anyhow!("cannot open a loopback port for the stand-in Ollama: {e}"))?;
    let url = format!(
        "http://{}",
        server
            .server_addr()
            .to_ip()
            .context("the stand-in Ollama has no IP address")?
    );
    let (server, ps) = (Arc::new(server), Arc::new(ps));
    std::thread::spawn(move || {
        while running.load(Ordering::SeqCst) {
            let Ok(Some(request)) = server.recv_timeout(Duration::from_millis(50)) else {
                continue;
            };
            let (ps, version) = (Arc::clone(&ps), version.clone());
            // A slow answer holds up nobody else.
            std::thread::spawn(move || {
                let answer = ps();
                let body = match (request.url(), answer) {
                    (_, Answer::Unavailable) => {
                        let _ = request.respond(Response::empty(503));
                        return;
                    }
                    ("/api/version", _) => format!(r#"{{"version":"{version}"}}"#),
                    ("/api/ps", Answer::Body(b)) => b,
                    ("/api/ps", Answer::Slow(d, b)) => {
                        std::thread::sleep(d);
                        b
                    }
                    _ => {
                        let _ = request.respond(Response::empty(404));
                        return;
                    }
                };
                let json = Header::from_bytes(&b"Content-Type"[..], &b"application/json"[..])
                    .expect("a valid header");
                let _ = request.respond(Response::from_string(body).with_header(json));
            });
        }
    });
    Ok(url)
}

/// What a file of answers says: a JSON body as it is; a first line `#unavailable`, 503;
/// `#garbage`, a body that is not Ollama's; `#slow MS` and the body on the lines after it, that
/// body after MS milliseconds. A missing file: no model loaded.
fn answer_from(path: &Path) -> Answer {
    let text = std::fs::read_to_string(path).unwrap_or_else(|_| r#"{"models":[]}"#.to_owned());
    let (first, rest) = text.split_once('\n').unwrap_or((&text, ""));
    match first.trim().split_once(' ').unwrap_or((first.trim(), "")) {
        ("#unavailable", _) => Answer::Unavailable,
        ("#garbage", _) => Answer::Body("<html>502 Bad Gateway</html>".to_owned()),
        ("#slow", ms) => Answer::Slow(
            Duration::from_millis(ms.trim().parse().unwrap_or(0)),
            rest.to_owned(),
        ),
        _ => Answer::Body(text),
    }
}

/// `memtide ollama-standin`: serves the answers of `answers` (read at each request), prints
/// its URL on a line of its own, and runs until it is killed.
pub fn run(answers: PathBuf, version: String) -> Result<()> {
    let url = serve(
        version,
        move || answer_from(&answers),
        Arc::new(AtomicBool::new(true)),
    )?;
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{url}").and_then(|()| out.flush())?;
    }
    loop {
        std::thread::park();
    }
}
