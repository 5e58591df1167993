//! What the end-to-end tests share: the binary, a local HTTP server in Ollama's place, the
//! report as JSON, a child killed when the test ends.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub fn memtide() -> Command {
    Command::new(env!("CARGO_BIN_EXE_memtide"))
}

/// How the fake Ollama answers `/api/ps`.
#[derive(Clone)]
pub enum Mode {
    Json(String),
    Garbage,
    Slow(Duration),
    /// Every connection closed unanswered, `/api/version` too: an Ollama not up yet.
    Silent,
}

/// A local HTTP server that answers like Ollama, until it is taken down.
pub struct FakeOllama {
    pub url: String,
    mode: Arc<Mutex<Mode>>,
    up: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeOllama {
    pub fn start(mode: Mode) -> FakeOllama {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let mode = Arc::new(Mutex::new(mode));
        let up = Arc::new(AtomicBool::new(true));
        let (m, u) = (mode.clone(), up.clone());
        let thread = std::thread::spawn(move || {
            // Bounded: the server stops when taken down or after a minute.
            let deadline = Instant::now() + Duration::from_secs(60);
            while u.load(Ordering::SeqCst) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let mode = m.lock().unwrap().clone();
                        std::thread::spawn(move || answer(stream, mode));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
            // The listener is dropped here: connections are refused from now on.
        });
        FakeOllama {
            url,
            mode,
            up,
            thread: Some(thread),
        }
    }

    pub fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    pub fn take_down(&mut self) {
        self.up.store(false, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

impl Drop for FakeOllama {
    fn drop(&mut self) {
        self.take_down();
    }
}

fn answer(mut stream: TcpStream, mode: Mode) {
    stream.set_nonblocking(false).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
    }
    if matches!(mode, Mode::Silent) {
        return;
    }
    let body = if request_line.contains("/api/version") {
        r#"{"version":"0.30.7"}"#.to_owned()
    } else {
        match mode {
            Mode::Json(b) => b,
            Mode::Garbage => "<html>502 Bad Gateway</html>".to_owned(),
            Mode::Silent => return,
            Mode::Slow(d) => {
                std::thread::sleep(d);
                r#"{"models":[]}"#.to_owned()
            }
        }
    };
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        body.len(),
        body
    );
}

/// The report of the trace in `dir`, as JSON.
pub fn report_json(dir: &Path) -> serde_json::Value {
    report_json_with(dir, &[])
}

/// The report of the trace in `dir`, as JSON, with `extra` flags (`--last 10m`).
pub fn report_json_with(dir: &Path, extra: &[&str]) -> serde_json::Value {
    let o = memtide()
        .args(["report", "--format", "json"])
        .arg(dir)
        .args(extra)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// The report's events of one type.
pub fn events_of<'a>(r: &'a serde_json::Value, kind: &str) -> Vec<&'a serde_json::Value> {
    r["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == kind)
        .collect()
}

/// A child process killed (and reaped) when the test ends, whether it passed or not.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
