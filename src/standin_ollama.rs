//! A stand-in for Ollama's HTTP API, the one the demo and the tests use: it answers
//! `/api/version` and `/api/ps` on a loopback port, with what its owner says.
//! The demo runs it in its own process with the models it loaded; the tests and the scripts
//! run it as `memtide ollama-standin` (hidden) and change its answer through a file.

use anyhow::{Context, Result};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Response, StatusCode};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How `/api/ps` is answered.
pub enum Answer {
    /// With this body (JSON, or anything a test wants Ollama to say).
    Body(String),
    /// With this body, after a pause.
    Slow(Duration, String),
    /// With 503 Service Unavailable, to every request: an Ollama not up yet behind its port.
    Unavailable,
}

fn reply(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    if status == StatusCode::OK {
        r.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    r
}

/// What a request for `path` gets.
async fn answer(path: &str, version: &str, answer: Answer) -> Response<Full<Bytes>> {
    match (path, answer) {
        (_, Answer::Unavailable) => reply(StatusCode::SERVICE_UNAVAILABLE, String::new()),
        ("/api/version", _) => reply(StatusCode::OK, format!(r#"{{"version":"{version}"}}"#)),
        ("/api/ps", Answer::Body(b)) => reply(StatusCode::OK, b),
        ("/api/ps", Answer::Slow(d, b)) => {
            // A slow answer holds up nobody else: each connection is a task of its own.
            tokio::time::sleep(d).await;
            reply(StatusCode::OK, b)
        }
        _ => reply(StatusCode::NOT_FOUND, String::new()),
    }
}

/// Serves on a loopback port, in a thread of its own (hyper's HTTP/1.1 on a one-thread tokio
/// runtime, as `memtide serve` does), until `running` is cleared; returns its URL. `version`
/// is what `/api/version` says; `ps` is asked at each `/api/ps` (and at each `/api/version`
/// too: an Ollama that is unavailable tells no version either).
pub fn serve(
    version: String,
    ps: impl Fn() -> Answer + Send + Sync + 'static,
    running: Arc<AtomicBool>,
) -> Result<String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .context("cannot open a loopback port for the stand-in Ollama")?;
    let url = format!("http://{}", listener.local_addr()?);
    let (runtime, listener) = crate::serve::http::one_thread_runtime(listener)?;
    let ps = Arc::new(ps);
    std::thread::Builder::new()
        .name("memtide-standin-ollama".into())
        .spawn(move || {
            runtime.block_on(async move {
                while running.load(Ordering::SeqCst) {
                    let accepted = tokio::select! {
                        a = listener.accept() => a,
                        _ = tokio::time::sleep(Duration::from_millis(50)) => continue,
                    };
                    let Ok((stream, _)) = accepted else { continue };
                    let (ps, version) = (Arc::clone(&ps), version.clone());
                    let service = hyper::service::service_fn(move |request| {
                        let (ps, version) = (Arc::clone(&ps), version.clone());
                        async move {
                            let a = ps();
                            Ok::<_, std::convert::Infallible>(
                                answer(request.uri().path(), &version, a).await,
                            )
                        }
                    });
                    tokio::spawn(async move {
                        let io = hyper_util::rt::TokioIo::new(stream);
                        let _ = hyper::server::conn::http1::Builder::new()
                            .title_case_headers(true)
                            .serve_connection(io, service)
                            .await;
                    });
                }
            });
        })?;
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
