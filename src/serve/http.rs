//! The exporter's HTTP side, built to run for months in front of any client.
//!
//! hyper answers HTTP/1.1 on a tokio runtime of one thread. What a client can hold is bounded:
//! the request head (size, header count, and the time to send it), every read and write (a
//! client that stops reading, or goes quiet, is dropped after a timeout), and the number of
//! open connections (below the descriptor limit: at the cap, the oldest connection is closed
//! to make room, so idle clients cannot lock a scraper out). The accept loop never ends on an
//! error: out of descriptors or memory, it closes its oldest connection and backs off, and
//! goes on listening. Stopping drops every connection at once, whatever the clients do.

use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, ALLOW, CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER};
use hyper::{Method, Request, Response, StatusCode};
use memtide_record::metrics::{self, Latest};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

type Body = http_body_util::Full<Bytes>;

/// What one client may hold of the exporter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Open connections at most; at the cap the oldest is closed for a new one.
    pub connections: usize,
    /// A request's head (request line and headers) in bytes: beyond it, 431.
    pub head_bytes: usize,
    /// Headers in one request: beyond it, 431.
    pub headers: usize,
    /// Time to send a whole request head.
    pub head_timeout: Duration,
    /// Time a connection may send nothing (between requests too) before it is closed.
    pub idle_timeout: Duration,
    /// Time a write may wait for a client that does not read before the connection is closed.
    pub write_timeout: Duration,
}

impl Limits {
    /// The limits for a process allowed `fd_limit` open descriptors: a quarter of them for
    /// connections (the rest for the trace, the processes followed and the listener), at most
    /// 64 (Prometheus needs one per scraper; node_exporter's default is 40 requests at once).
    pub fn for_fd_limit(fd_limit: u64) -> Limits {
        Limits {
            connections: (fd_limit / 4).clamp(4, 64) as usize,
            head_bytes: 16 << 10,
            headers: 64,
            head_timeout: Duration::from_secs(5),
            // Above the scrape intervals Prometheus is run with (15 s by default, a minute at
            // most in practice), so that a scraper keeps its connection between scrapes.
            idle_timeout: Duration::from_secs(180),
            write_timeout: Duration::from_secs(5),
        }
    }
}

/// The listening exporter, on its own thread; stopped when dropped.
pub struct Http {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Http {
    /// Answers scrapes of `latest` on `listener` until stopped.
    pub fn start(
        listener: std::net::TcpListener,
        latest: Latest,
        limits: Limits,
    ) -> std::io::Result<Http> {
        let addr = listener.local_addr()?;
        let (runtime, listener) = one_thread_runtime(listener)?;
        let (stop, stopped) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("memtide-serve-http".into())
            .spawn(move || {
                runtime.block_on(accept(listener, latest, limits, stopped));
                // Dropping the runtime drops every connection still open.
                drop(runtime);
            })?;
        Ok(Http {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops listening and closes every connection.
    pub fn stop(mut self) {
        self.shut();
    }

    fn shut(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Http {
    fn drop(&mut self) {
        self.shut();
    }
}

/// A tokio runtime of one thread (memtide's HTTP never needs more: answering is a fraction of
/// a millisecond), and `listener` handed to it.
pub fn one_thread_runtime(
    listener: std::net::TcpListener,
) -> std::io::Result<(tokio::runtime::Runtime, TcpListener)> {
    listener.set_nonblocking(true)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()?;
    let listener = {
        let _inside = runtime.enter();
        TcpListener::from_std(listener)?
    };
    Ok((runtime, listener))
}

/// Whether an `accept` failed for want of descriptors or memory: what passes when
/// connections are closed, unlike a refused connection that is simply gone.
fn out_of_resources(e: &std::io::Error) -> bool {
    use rustix::io::Errno;
    let errno = Errno::from_io_error(e);
    [Errno::MFILE, Errno::NFILE, Errno::NOBUFS, Errno::NOMEM]
        .into_iter()
        .any(|x| errno == Some(x))
}

async fn accept(
    listener: TcpListener,
    latest: Latest,
    limits: Limits,
    mut stop: oneshot::Receiver<()>,
) {
    let mut open: VecDeque<JoinHandle<()>> = VecDeque::new();
    let mut backoff = Duration::ZERO;
    loop {
        let accepted = tokio::select! {
            _ = &mut stop => return,
            a = listener.accept() => a,
        };
        open.retain(|c| !c.is_finished());
        match accepted {
            Ok((stream, _)) => {
                backoff = Duration::ZERO;
                while open.len() >= limits.connections {
                    if let Some(oldest) = open.pop_front() {
                        oldest.abort();
                    }
                }
                open.push_back(tokio::spawn(connection(stream, latest.clone(), limits)));
            }
            Err(e) if out_of_resources(&e) => {
                // Make room, and give the room time to appear.
                if let Some(oldest) = open.pop_front() {
                    oldest.abort();
                }
                backoff = (backoff * 2).clamp(Duration::from_millis(5), Duration::from_secs(1));
                tokio::select! {
                    _ = &mut stop => return,
                    _ = tokio::time::sleep(backoff) => {}
                }
            }
            // A connection reset before it was accepted, and the like: that client only.
            Err(_) => {}
        }
    }
}

async fn connection(stream: TcpStream, latest: Latest, limits: Limits) {
    let _ = stream.set_nodelay(true);
    let mut io = tokio_io_timeout::TimeoutStream::new(stream);
    io.set_read_timeout(Some(limits.idle_timeout));
    io.set_write_timeout(Some(limits.write_timeout));
    let io = hyper_util::rt::TokioIo::new(Box::pin(io));
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let response = respond(request.method(), request.uri().path(), &latest);
        async move { Ok::<_, Infallible>(response) }
    });
    // A client's error is its own: the connection ends, nothing else does.
    let _ = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.head_timeout)
        .max_header_size(limits.head_bytes)
        .max_headers(limits.headers)
        .max_buf_size(64 << 10)
        .title_case_headers(true)
        .serve_connection(io, service)
        .await;
}

fn text(status: StatusCode, body: &str) -> Response<Body> {
    let mut r = Response::new(Body::new(Bytes::from(body.to_owned())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// What a request gets: the metrics, the pointer to them, or the status that says why not. The
/// path is never echoed: it is the client's, of any length and any bytes.
pub fn respond(method: &Method, path: &str, latest: &Latest) -> Response<Body> {
    if !path.starts_with('/') {
        return text(
            StatusCode::BAD_REQUEST,
            "memtide serve: a request names a path, such as /metrics\n",
        );
    }
    if !matches!(path, "/" | "/metrics") {
        return text(
            StatusCode::NOT_FOUND,
            "memtide serve: nothing here; the metrics are at /metrics\n",
        );
    }
    // hyper leaves the body out of an answer to HEAD itself.
    if !matches!(*method, Method::GET | Method::HEAD) {
        let mut r = text(
            StatusCode::METHOD_NOT_ALLOWED,
            "memtide serve: only GET and HEAD are answered\n",
        );
        r.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    let mut response = if path == "/" {
        text(
            StatusCode::OK,
            "memtide serve: Prometheus metrics of memory per model are at /metrics\n",
        )
    } else {
        match latest.get() {
            Some(reading) => {
                let own = memtide_sampler::own_usage().ok();
                let mut r = Response::new(Body::new(Bytes::from(metrics::encode(
                    &reading,
                    own.as_ref(),
                ))));
                r.headers_mut().insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static(metrics::CONTENT_TYPE),
                );
                r
            }
            None => {
                let mut r = text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "memtide serve: the first sample is being taken\n",
                );
                r.headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from_static("1"));
                r
            }
        }
    };
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
