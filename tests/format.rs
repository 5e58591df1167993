//! The trace format on disk holds still while the code around it moves: the writer gives, for
//! the same rows, the bytes committed in `tests/fixtures/format/` (written by the writer of
//! trace format 1 as it stood before the trace crate was split out), and every committed trace
//! reads to the report JSON committed beside it.
//!
//! After a deliberate change of the format, `MEMTIDE_BLESS=1 cargo test --test format` writes
//! the expected files anew; the diff then shows what changed on disk.

use memtide_trace::{
    IdentityRow, LogEvent, Meta, ModelRow, NotificationSource, OllamaLogRow, PollRow,
    PressureLevel, PressureRow, ProcessRow, SystemRow, TraceWriter, FILES, IDENTITIES_FILE,
    META_FILE, MODELS_FILE, POLLS_FILE, PROCESSES_FILE, SYSTEM_FILE,
};
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A committed trace: the imported one lives in memtide-model, whose example reads it.
fn committed_trace(name: &str) -> PathBuf {
    match name {
        "trace-imported" => {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/model/tests/fixtures/trace-imported")
        }
        _ => fixtures().join(name),
    }
}

fn bless() -> bool {
    std::env::var_os("MEMTIDE_BLESS").is_some()
}

/// `got` equals the committed file `expected` (or, when blessing, becomes it).
fn same_as_committed(expected: &Path, got: &[u8]) {
    if bless() {
        std::fs::create_dir_all(expected.parent().unwrap()).unwrap();
        std::fs::write(expected, got).unwrap();
        return;
    }
    let want = std::fs::read(expected)
        .unwrap_or_else(|e| panic!("{}: {e} (MEMTIDE_BLESS=1 writes it)", expected.display()));
    if want != got {
        let (w, g) = (String::from_utf8_lossy(&want), String::from_utf8_lossy(got));
        let line = w
            .lines()
            .zip(g.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| w.lines().count().min(g.lines().count()));
        panic!(
            "{} differs from what was written, first at line {}:\n  committed: {:?}\n  written:   {:?}",
            expected.display(),
            line + 1,
            w.lines().nth(line),
            g.lines().nth(line)
        );
    }
}

fn rows<T: serde::de::DeserializeOwned>(dir: &Path, file: &str) -> Vec<T> {
    let path = dir.join(file);
    csv::Reader::from_path(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .deserialize()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A pressure notification and two lines of Ollama's log, with every kind of field: what the
/// committed traces do not have.
fn extra_rows() -> (Vec<PressureRow>, Vec<OllamaLogRow>) {
    let pressure = vec![
        PressureRow {
            time_utc: "2026-05-14T09:25:21.500Z".into(),
            t_ms: 21_500,
            source: NotificationSource::Sysctl,
            level: Some(PressureLevel::Warning),
            detail: "level 2, \"warn\", from 1".into(),
        },
        PressureRow {
            time_utc: "2026-05-14T09:25:30.000Z".into(),
            t_ms: 30_000,
            source: NotificationSource::Psi,
            level: None,
            detail: String::new(),
        },
    ];
    let log = vec![
        OllamaLogRow {
            time_utc: "2026-05-14T09:25:04.250Z".into(),
            t_ms: 4_250,
            port: Some(50_123),
            event: LogEvent::Buffer,
            component: "llama".into(),
            backend: "Metal_Mapped".into(),
            kind: Some(memtide_model::ollama_log::BufferKind::Model),
            bytes: Some(2_282_024_960),
            detail: "model buffer size, mapped".into(),
            ..OllamaLogRow::default()
        },
        OllamaLogRow {
            time_utc: "2026-05-14T09:25:04.900Z".into(),
            t_ms: 4_900,
            port: None,
            event: LogEvent::Fits,
            predicted_bytes: Some(3_372_220_416),
            available_bytes: Some(9_663_676_416),
            gpu_free_bytes: Some(21_474_836_480),
            system_free_bytes: Some(7_516_192_768),
            ..OllamaLogRow::default()
        },
    ];
    (pressure, log)
}

#[test]
fn the_writer_writes_the_bytes_it_always_wrote() {
    for name in ["trace-imported", "trace-twelve-runners"] {
        let src = committed_trace(name);
        let meta: Meta =
            serde_json::from_slice(&std::fs::read(src.join(META_FILE)).unwrap()).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join(name);
        let mut w = TraceWriter::create(&out, meta.clone()).unwrap();
        for r in rows::<SystemRow>(&src, SYSTEM_FILE) {
            w.system(&r).unwrap();
        }
        for r in rows::<ProcessRow>(&src, PROCESSES_FILE) {
            w.process(&r).unwrap();
        }
        let models: Vec<ModelRow> = rows(&src, MODELS_FILE);
        for p in rows::<PollRow>(&src, POLLS_FILE) {
            let listed: Vec<ModelRow> = models
                .iter()
                .filter(|m| m.t_ms == p.t_ms)
                .cloned()
                .collect();
            w.poll(&p, &listed).unwrap();
        }
        let (pressure, log) = extra_rows();
        for r in &pressure {
            w.pressure(r).unwrap();
        }
        for r in &log {
            w.ollama_log(r).unwrap();
        }
        w.set_identities(&rows::<IdentityRow>(&src, IDENTITIES_FILE))
            .unwrap();
        let end: jiff::Timestamp = meta.end_utc.as_deref().unwrap().parse().unwrap();
        w.finish(
            std::time::SystemTime::from(end),
            meta.samples.unwrap_or(0),
            meta.missed_ticks.unwrap_or(0),
        )
        .unwrap();
        for file in FILES {
            let got = std::fs::read(out.join(file))
                .unwrap_or_else(|e| panic!("{name}: {file} not written: {e}"));
            same_as_committed(&fixtures().join("format").join(name).join(file), &got);
        }
    }
}

#[test]
fn every_committed_trace_reads_to_the_report_it_always_gave() {
    for name in ["trace-imported", "trace-twelve-runners"] {
        let o = Command::new(env!("CARGO_BIN_EXE_memtide"))
            .args(["report", "--format", "json"])
            .arg(committed_trace(name))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let mut r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        // Where the checkout is, the only thing that differs from machine to machine.
        r["trace"]["dir"] = serde_json::Value::from(name);
        let mut text = serde_json::to_vec_pretty(&r).unwrap();
        text.push(b'\n');
        same_as_committed(
            &fixtures()
                .join("format")
                .join(format!("{name}.report.json")),
            &text,
        );
    }
}

/// The manual pages and completion scripts the release archives and the Homebrew formula
/// install (`share/`, committed so that packaging needs no run of the binary) are what this
/// binary writes. After a change of the flags, `MEMTIDE_BLESS=1 cargo test --test format`
/// writes them again.
#[test]
fn the_shipped_manual_pages_and_completions_are_the_binarys_own() {
    let share = Path::new(env!("CARGO_MANIFEST_DIR")).join("share");
    let tmp = tempfile::tempdir().unwrap();
    let pages = tmp.path().join("man1");
    let o = Command::new(env!("CARGO_BIN_EXE_memtide"))
        .arg("man")
        .arg(&pages)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut written: Vec<String> = std::fs::read_dir(&pages)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    for name in &written {
        let got = std::fs::read(pages.join(name)).unwrap();
        same_as_committed(&share.join("man/man1").join(name), &got);
    }
    if !bless() {
        // No page of a subcommand that is gone.
        let mut committed: Vec<String> = std::fs::read_dir(share.join("man/man1"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        committed.sort();
        assert_eq!(committed, written);
    }
    for (shell, file) in [
        ("bash", "memtide.bash"),
        ("zsh", "_memtide"),
        ("fish", "memtide.fish"),
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_memtide"))
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(o.status.success());
        same_as_committed(&share.join("completions").join(file), &o.stdout);
    }
}
