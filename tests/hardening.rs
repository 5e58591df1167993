//! What a recorder that runs for months must survive: a standard error that is closed or
//! full, a closed terminal, a full disk under `serve --record`. Each runs the real binary.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{free_port, memtide, scrape_until, signal, value, KillOnDrop};

fn meta(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("meta.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Whether the trace in `dir` was finished: `meta.json` has its end, and the report reads it.
fn finished(dir: &Path) -> bool {
    let m = meta(dir);
    m["end_utc"].is_string()
        && memtide()
            .arg("report")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success()
}

/// Runs `cmd` with its standard error a pipe nobody reads any more: every write to it fails
/// (EPIPE), as `memtide … 2>&1 | head -1` makes it after the first line.
fn with_stderr_closed(cmd: &mut Command) -> std::process::ExitStatus {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    child.wait().unwrap()
}

#[test]
fn a_closed_standard_error_never_ends_a_recording() {
    let me = std::process::id().to_string();
    let tmp = tempfile::tempdir().unwrap();

    let out = tmp.path().join("record");
    let status = with_stderr_closed(
        memtide()
            .args(["record", "--no-ollama", "--interval", "50ms", "--pid", &me])
            .args(["--duration", "1s", "--out"])
            .arg(&out),
    );
    assert!(status.success(), "record: {status:?}");
    assert!(finished(&out), "record's trace is finished");

    let out = tmp.path().join("run");
    let status = with_stderr_closed(
        memtide()
            .args(["run", "--no-ollama", "--interval", "50ms", "--out"])
            .arg(&out)
            .args(["--", "sh", "-c", "exit 3"]),
    );
    assert_eq!(status.code(), Some(3), "run gives the command's status");
    assert!(finished(&out), "run's trace is finished");

    let out = tmp.path().join("import");
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seed");
    let status = with_stderr_closed(
        memtide()
            .arg("import")
            .arg("--ps-tsv")
            .arg(seed.join("ollama-process-memtrace-20260514-092500.tsv"))
            .arg("--system-log")
            .arg(seed.join("system-memtrace-20260514-092500.log"))
            .arg("--out")
            .arg(&out),
    );
    assert!(status.success(), "import: {status:?}");
    assert!(finished(&out), "import's trace is finished");

    let port = free_port();
    let out = tmp.path().join("serve");
    let mut serve = memtide();
    serve
        .args(["serve", "--no-ollama", "--interval", "50ms", "--pid", &me])
        .args(["--listen", &format!("127.0.0.1:{port}"), "--record"])
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut serve = KillOnDrop(serve.spawn().unwrap());
    drop(serve.0.stderr.take());
    scrape_until(port, "serve answers with its stderr closed", |t| {
        value(t, "memtide_samples_total").is_some_and(|n| n >= 5.0)
    });
    signal(serve.0.id(), "-TERM");
    let status = serve.0.wait().unwrap();
    assert!(status.success(), "serve: {status:?}");
    assert!(finished(&out), "serve's trace is finished");
}

#[test]
fn a_closed_terminal_finishes_the_trace_of_serve() {
    let me = std::process::id().to_string();
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let out = tmp.path().join("serve");
    let mut serve = KillOnDrop(
        memtide()
            .args(["serve", "--no-ollama", "--interval", "50ms", "--pid", &me])
            .args(["--listen", &format!("127.0.0.1:{port}"), "--record"])
            .arg(&out)
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    scrape_until(port, "serve answers", |t| {
        value(t, "memtide_samples_total").is_some_and(|n| n >= 3.0)
    });
    signal(serve.0.id(), "-HUP");
    let status = serve.0.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(finished(&out));
}

/// A file size limit (`ulimit -f`) fails the trace's writes as a full disk does (EFBIG where a
/// disk gives ENOSPC), and needs no privilege.
#[test]
fn serve_goes_on_serving_when_its_trace_cannot_be_written() {
    let me = std::process::id().to_string();
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let out = tmp.path().join("serve");
    let mut serve = KillOnDrop(
        Command::new("sh")
            .args(["-c", "ulimit -f 16 && exec \"$@\"", "sh"])
            .arg(env!("CARGO_BIN_EXE_memtide"))
            .args(["serve", "--no-ollama", "--interval", "20ms", "--pid", &me])
            .args(["--listen", &format!("127.0.0.1:{port}"), "--record"])
            .arg(&out)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let text = scrape_until(port, "the recording stops on the size limit", |t| {
        value(t, "memtide_recording_failed") == Some(1.0)
    });
    assert_eq!(value(&text, "memtide_recording"), Some(0.0), "{text}");
    // Still sampling, still answering.
    let samples = value(&text, "memtide_samples_total").unwrap();
    scrape_until(port, "sampling goes on", |t| {
        value(t, "memtide_samples_total").is_some_and(|n| n >= samples + 5.0)
    });
    let stopped_at = Instant::now();
    signal(serve.0.id(), "-TERM");
    let status = serve.0.wait().unwrap();
    assert!(stopped_at.elapsed() < Duration::from_secs(5));
    assert!(status.success(), "{status:?}");
    let mut err = String::new();
    std::io::Read::read_to_string(&mut serve.0.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(
        err.matches("stopped:").count(),
        1,
        "said once, naming the trace: {err}"
    );
    assert!(err.contains(&out.display().to_string()), "{err}");
    // What was written before is kept, finished and readable.
    assert!(finished(&out), "{err}");
}

/// The hard limit on open descriptors of this test, as a shell reports it.
fn hard_fd_limit() -> String {
    let o = Command::new("sh")
        .args(["-c", "ulimit -Hn"])
        .output()
        .unwrap();
    String::from_utf8(o.stdout).unwrap().trim().to_owned()
}

/// macOS gives a process 256 descriptors unless told otherwise; memtide raises its own soft
/// limit to the hard one at start, as Go programs do. And what it says of itself holds
/// together: its peak resident set is never below the one it has now.
#[test]
fn serve_raises_its_descriptor_limit_and_tells_its_own_figures_consistently() {
    let me = std::process::id().to_string();
    let port = free_port();
    let hard = hard_fd_limit();
    let _serve = KillOnDrop(
        Command::new("sh")
            .args(["-c", "ulimit -Sn 64 && exec \"$@\"", "sh"])
            .arg(env!("CARGO_BIN_EXE_memtide"))
            .args(["serve", "--no-ollama", "--interval", "100ms", "--pid", &me])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let text = scrape_until(port, "serve answers", |t| t.contains("process_max_fds"));
    let max = value(&text, "process_max_fds").unwrap();
    match hard.parse::<f64>() {
        // An unlimited hard limit: macOS's OPEN_MAX, or more where the kernel took it.
        Err(_) => assert!(max >= 10240.0, "{max} under an unlimited hard limit"),
        Ok(h) => assert!(
            max == h || (h > 10240.0 && max == 10240.0),
            "{max} against a hard limit of {h}"
        ),
    }
    for _ in 0..20 {
        let text = scrape_until(port, "serve answers", |t| {
            t.contains("process_resident_memory_bytes")
        });
        let rss = value(&text, "process_resident_memory_bytes").unwrap();
        let peak = value(&text, "memtide_self_peak_rss_bytes").unwrap();
        assert!(peak >= rss, "peak {peak} below the resident {rss}");
    }
}
