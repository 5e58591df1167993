//! Polls Ollama's `/api/ps` on its own thread, so that a slow or dead server never delays a
//! sample. Results come back over a channel, stamped with when each poll was sent.
//!
//! A poll costs memtide a request on a kept connection and, when the answer changed, parsing
//! it: an answer the same as the last, byte for byte, is not parsed again. While the answers
//! stay the same the polls are spaced out, up to [`QUIET_SLOWDOWN`] times the interval; any
//! change, a failure, or [`Poller::poll_now`] (the recorder calls it when a runner starts or
//! exits: Ollama starts a runner to load a model and ends it to unload one) brings them back
//! to the interval at once.

use crate::ollama::{Client, OllamaError};
use memtide_model::ollama::PsResponse;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

/// What the poller thread sends.
pub enum Message {
    /// `/api/version`, asked at the start, and again at the first answer of `/api/ps` when
    /// Ollama did not answer at the start.
    Version(Option<String>),
    /// One `/api/ps` poll.
    Poll {
        /// When it was sent.
        sent: SystemTime,
        /// The same moment on the monotonic clock.
        sent_mono: Instant,
        /// The answer.
        result: Result<PsResponse, OllamaError>,
        /// How long it took.
        latency: Duration,
    },
}

/// How many times the interval polls may be spaced while Ollama's answers stay the same.
pub const QUIET_SLOWDOWN: u32 = 8;

/// How many answers the same as the last before the polls are spaced out (each further one
/// doubles the spacing, up to [`QUIET_SLOWDOWN`]).
pub const QUIET_AFTER: u32 = 10;

/// The spacing of the next poll, in intervals, after `same` answers in a row equal to the one
/// before them: 1 until [`QUIET_AFTER`], then doubling with each further one, at most
/// [`QUIET_SLOWDOWN`].
pub fn spacing(same: u32) -> u32 {
    if same < QUIET_AFTER {
        return 1;
    }
    1u32.checked_shl(same - QUIET_AFTER + 1)
        .unwrap_or(u32::MAX)
        .min(QUIET_SLOWDOWN)
}

/// What the recorder asks of the poller thread.
enum Control {
    Stop,
    /// Poll now, and at the interval from now on.
    Now,
}

/// The poller thread and its messages.
pub struct Poller {
    control: Sender<Control>,
    thread: Option<JoinHandle<()>>,
    /// Versions and polls, in the order they were made.
    pub messages: Receiver<Message>,
}

/// How long one request may take: short, so that a hung server is noticed, but never longer
/// than the polling interval.
pub fn request_timeout(interval: Duration) -> Duration {
    interval.clamp(Duration::from_millis(200), Duration::from_secs(2))
}

impl Poller {
    /// Starts polling `client` every `interval`, on a thread of its own.
    pub fn start(client: Client, interval: Duration) -> std::io::Result<Poller> {
        let (control, control_rx) = mpsc::channel::<Control>();
        let (tx, messages) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("ollama-poller".into())
            .spawn(move || run(client, interval, control_rx, tx))?;
        Ok(Poller {
            control,
            thread: Some(thread),
            messages,
        })
    }

    /// Asks for a poll now, and at the interval from then on: something changed that Ollama's
    /// answer will show (a runner started or exited).
    pub fn poll_now(&self) {
        let _ = self.control.send(Control::Now);
    }

    /// Asks the thread to stop and waits for it (at most one request timeout).
    pub fn stop(mut self) -> Receiver<Message> {
        let _ = self.control.send(Control::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let (_, empty) = mpsc::channel();
        std::mem::replace(&mut self.messages, empty)
    }
}

fn run(client: Client, interval: Duration, control: Receiver<Control>, tx: Sender<Message>) {
    let mut version = client.version().ok();
    if tx.send(Message::Version(version.clone())).is_err() {
        return;
    }
    // The last answer, as sent and as parsed; how many answers in a row were the same.
    let mut last: Option<(String, PsResponse)> = None;
    let mut same: u32 = 0;
    // Polls are on a grid of the interval from `start`; a poll that overran skips the slots
    // it covered.
    let mut start = Instant::now();
    let mut k: u32 = 0;
    loop {
        let sent = SystemTime::now();
        let sent_mono = Instant::now();
        let (text, latency) = client.ps_text();
        let result = match text {
            Ok(text) => match &last {
                Some((was, parsed)) if *was == text => {
                    same = same.saturating_add(1);
                    Ok(parsed.clone())
                }
                _ => {
                    same = 0;
                    let parsed = client.parse_ps_text(&text);
                    last = parsed.as_ref().ok().map(|p| (text, p.clone()));
                    parsed
                }
            },
            Err(e) => Err(e),
        };
        if result.is_err() {
            same = 0;
            last = None;
        }
        // Ollama started after memtide: its version, asked again once it answers.
        if version.is_none() && result.is_ok() {
            version = client.version().ok();
            if version.is_some() && tx.send(Message::Version(version.clone())).is_err() {
                return;
            }
        }
        let msg = Message::Poll {
            sent,
            sent_mono,
            result,
            latency,
        };
        if tx.send(msg).is_err() {
            return;
        }
        k += spacing(same);
        let elapsed = start.elapsed();
        let mut next = interval * k;
        if next <= elapsed {
            k = (elapsed.as_nanos() / interval.as_nanos().max(1)) as u32 + 1;
            next = interval * k;
        }
        match control.recv_timeout(next - elapsed) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(Control::Now) => {
                same = 0;
                start = Instant::now();
                k = 0;
            }
            Ok(Control::Stop) | Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// An Ollama that starts while memtide is already polling: its first answer to
    /// `/api/version` is an error, every later request is answered.
    fn late_ollama() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            let mut versions = 0;
            for conn in listener.incoming().take(8) {
                let Ok(mut conn) = conn else { continue };
                let mut line = String::new();
                let _ = BufReader::new(&conn).read_line(&mut line);
                let (status, body) = if line.contains("/api/version") {
                    versions += 1;
                    if versions == 1 {
                        ("503 Service Unavailable", "{}".to_owned())
                    } else {
                        ("200 OK", r#"{"version":"0.33.0"}"#.to_owned())
                    }
                } else {
                    ("200 OK", r#"{"models":[]}"#.to_owned())
                };
                let _ = write!(
                    conn,
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        url
    }

    /// An Ollama whose `/api/ps` answers are `answers` in turn (the last one from then on),
    /// on kept connections; it counts the requests it was sent.
    fn listing_ollama(answers: Vec<&'static str>) -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let asked = Arc::new(AtomicUsize::new(0));
        let count = asked.clone();
        std::thread::spawn(move || {
            let mut n = 0;
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                // Requests on this connection, until the client closes it.
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        break;
                    }
                    while reader.read_line(&mut String::new()).is_ok_and(|k| k > 2) {}
                    let body = if line.contains("/api/version") {
                        r#"{"version":"0.33.0"}"#
                    } else {
                        count.fetch_add(1, Ordering::SeqCst);
                        n += 1;
                        answers[(n - 1).min(answers.len() - 1)]
                    };
                    let _ = write!(
                        conn,
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                }
            }
        });
        (url, asked)
    }

    fn polls(p: &Poller, n: usize) -> Vec<PsResponse> {
        let mut out = Vec::new();
        while out.len() < n {
            match p.messages.recv_timeout(Duration::from_secs(20)).unwrap() {
                Message::Poll { result, .. } => out.push(result.unwrap()),
                Message::Version(_) => {}
            }
        }
        out
    }

    #[test]
    fn answers_are_read_as_they_change_and_a_poll_is_made_when_asked() {
        const ONE: &str =
            r#"{"models":[{"name":"a:1b","model":"a:1b","size":5,"digest":"d","size_vram":5}]}"#;
        const NONE: &str = r#"{"models":[]}"#;
        let (url, asked) = listing_ollama(vec![ONE, ONE, NONE]);
        // An interval of an hour: after the first poll, only asking makes another.
        let p = Poller::start(
            Client::new(&url, Duration::from_secs(2)),
            Duration::from_secs(3600),
        )
        .unwrap();
        let first = polls(&p, 1);
        assert_eq!(first[0].models[0].name, "a:1b");
        p.poll_now();
        let same = polls(&p, 1);
        assert_eq!(same, first, "the same answer, given again");
        p.poll_now();
        assert!(polls(&p, 1)[0].models.is_empty(), "a change is read");
        assert_eq!(asked.load(Ordering::SeqCst), 3);
        p.stop();
    }

    #[test]
    fn polls_are_spaced_out_while_the_answers_stay_the_same() {
        let spaced: Vec<u32> = (0..16).map(spacing).collect();
        assert_eq!(spaced[..QUIET_AFTER as usize], [1; QUIET_AFTER as usize]);
        assert_eq!(spaced[QUIET_AFTER as usize..], [2, 4, 8, 8, 8, 8]);
        assert_eq!(spacing(u32::MAX), QUIET_SLOWDOWN);
    }

    #[test]
    fn ollamas_version_is_asked_again_once_it_answers() {
        let client = Client::new(&late_ollama(), Duration::from_secs(2));
        let p = Poller::start(client, Duration::from_millis(50)).unwrap();
        let mut versions = Vec::new();
        while versions.len() < 2 {
            if let Message::Version(v) = p.messages.recv_timeout(Duration::from_secs(20)).unwrap() {
                versions.push(v);
            }
        }
        assert_eq!(versions, [None, Some("0.33.0".to_owned())]);
        p.stop();
    }
}
