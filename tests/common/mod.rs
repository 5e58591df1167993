//! What the end-to-end tests share: the binary, memtide's stand-in Ollama in Ollama's place,
//! the report as JSON, a child killed when the test ends.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn memtide() -> Command {
    Command::new(env!("CARGO_BIN_EXE_memtide"))
}

/// How the stand-in Ollama answers `/api/ps`.
#[derive(Clone)]
pub enum Mode {
    Json(String),
    Garbage,
    Slow(Duration),
    /// 503 to every request, `/api/version` too: an Ollama not up yet.
    Unavailable,
}

/// memtide's stand-in Ollama (`memtide ollama-standin`, the demo's server), answering on a
/// loopback port what the test says, until it is taken down (killed: connections are refused
/// from then on).
pub struct FakeOllama {
    pub url: String,
    answers: PathBuf,
    child: Option<Child>,
    _dir: tempfile::TempDir,
}

impl FakeOllama {
    pub fn start(mode: Mode) -> FakeOllama {
        let dir = tempfile::tempdir().unwrap();
        let answers = dir.path().join("ps");
        write_answers(&answers, &mode);
        let mut child = memtide()
            .args(["ollama-standin", "--answers"])
            .arg(&answers)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut url = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut url)
            .unwrap();
        assert!(url.starts_with("http://"), "the stand-in said {url:?}");
        FakeOllama {
            url: url.trim().to_owned(),
            answers,
            child: Some(child),
            _dir: dir,
        }
    }

    pub fn set(&self, mode: Mode) {
        write_answers(&self.answers, &mode);
    }

    pub fn take_down(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for FakeOllama {
    fn drop(&mut self) {
        self.take_down();
    }
}

/// Writes the stand-in's file of answers whole (through a rename), so that a request never
/// reads half of it.
fn write_answers(path: &Path, mode: &Mode) {
    let text = match mode {
        Mode::Json(b) => b.clone(),
        Mode::Garbage => "#garbage\n".to_owned(),
        Mode::Slow(d) => format!("#slow {}\n{{\"models\":[]}}", d.as_millis()),
        Mode::Unavailable => "#unavailable\n".to_owned(),
    };
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
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

/// A free loopback port (free when asked: another process may take it first).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The exposition `serve` gives, or nothing while it is not listening yet.
pub fn scrape(port: u16) -> String {
    let exchange = || -> std::io::Result<String> {
        let mut s = TcpStream::connect(("127.0.0.1", port))?;
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
        let mut reply = String::new();
        s.read_to_string(&mut reply)?;
        Ok(reply)
    };
    exchange().unwrap_or_default()
}

/// Scrapes until `ready` holds of the exposition (at most 20 s) and returns it.
pub fn scrape_until(port: u16, what: &str, ready: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = scrape(port);
        if ready(&text) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{what}; the last scrape:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The value of the series `name` (with exactly these labels, `{…}` or none) in an exposition.
pub fn value(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        l.strip_prefix(series)
            .and_then(|rest| rest.strip_prefix(' '))
            .and_then(|v| v.trim().parse().ok())
    })
}

/// Sends `sig` (`-TERM`, `-HUP`, …) to `pid` with kill(1).
pub fn signal(pid: u32, sig: &str) {
    assert!(Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap()
        .success());
}
