//! Polls Ollama's `/api/ps` on its own thread, so that a slow or dead server never delays a
//! sample. Results come back over a channel, stamped with when each poll was sent.

use memtide_model::ollama::{Client, OllamaError, PsResponse};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

/// What the poller thread sends.
pub enum Message {
    /// `/api/version`, asked once at the start.
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
    if tx.send(Message::Version(client.version().ok())).is_err() {
        return;
    }
    let start = Instant::now();
    let mut k: u32 = 0;
    loop {
        let sent = SystemTime::now();
        let sent_mono = Instant::now();
        let (result, latency) = client.ps();
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
