//! Polls Ollama's `/api/ps` on its own thread, so that a slow or dead server never delays a
//! sample. Results come back over a channel, stamped with when each poll was sent.

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

/// The poller thread and its messages.
pub struct Poller {
    stop: Sender<()>,
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
        let (stop, stop_rx) = mpsc::channel::<()>();
        let (tx, messages) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("ollama-poller".into())
            .spawn(move || run(client, interval, stop_rx, tx))?;
        Ok(Poller {
            stop,
            thread: Some(thread),
            messages,
        })
    }

    /// Asks the thread to stop and waits for it (at most one request timeout).
    pub fn stop(mut self) -> Receiver<Message> {
        let _ = self.stop.send(());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let (_, empty) = mpsc::channel();
        std::mem::replace(&mut self.messages, empty)
    }
}

fn run(client: Client, interval: Duration, stop: Receiver<()>, tx: Sender<Message>) {
    let mut version = client.version().ok();
    if tx.send(Message::Version(version.clone())).is_err() {
        return;
    }
    let start = Instant::now();
    let mut k: u32 = 0;
    loop {
        let sent = SystemTime::now();
        let sent_mono = Instant::now();
        let (result, latency) = client.ps();
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
        // Next poll on the interval's grid; a poll that overran skips the slots it covered.
        k += 1;
        let elapsed = start.elapsed();
        let mut next = interval * k;
        if next <= elapsed {
            k = (elapsed.as_nanos() / interval.as_nanos().max(1)) as u32 + 1;
            next = interval * k;
        }
        match stop.recv_timeout(next - elapsed) {
            Err(RecvTimeoutError::Timeout) => {}
            _ => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

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
