//! A Rust program that embeds memtide's recorder: the examples `embed_handle` (the handle
//! `Recorder::spawn` returns, finished, dropped by an early return, dropped by a panic) and
//! `embed_env` (`trace_if_requested` and `MEMTIDE_TRACE`). Each leaves a complete trace that
//! `memtide report` reads, holding the program itself.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::report_json;

/// An example of this package, as the sources are now: `cargo test` builds examples only
/// for the whole package, and not again for `--test embed` alone, so it is built here (at
/// once when it is up to date).
fn example(name: &str) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let built = Command::new(cargo)
        .args(["build", "-q", "--example", name])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .unwrap();
    assert!(built.success(), "cannot build the example {name}");
    let bin = Path::new(env!("CARGO_BIN_EXE_memtide"));
    bin.parent().unwrap().join("examples").join(name)
}

/// Runs an example with Ollama's address pointed at a port where nothing answers, so that
/// the test follows only what it started, whatever runs on the machine.
fn run(name: &str, args: &[&Path], env: Option<&Path>) -> Output {
    let mut cmd = Command::new(example(name));
    cmd.args(args).env("OLLAMA_HOST", "127.0.0.1:9");
    match env {
        Some(dir) => cmd.env("MEMTIDE_TRACE", dir),
        None => cmd.env_remove("MEMTIDE_TRACE"),
    };
    cmd.output().unwrap()
}

/// The trace in `dir` is finished, the report reads it, and it followed process `pid` (the
/// example) as it took at least `mib` MiB.
fn assert_complete(dir: &Path, pid: u32, mib: u64) {
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap();
    assert!(meta["end_utc"].is_string(), "unfinished: {meta}");
    let report = report_json(dir);
    let peak = report["processes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pid"] == pid)
        .unwrap_or_else(|| panic!("process {pid} not in the report: {report}"))["peak_rss_bytes"]
        .as_u64()
        .unwrap();
    assert!(peak >= mib << 20, "peak RSS {peak} B of process {pid}");
}

#[test]
fn a_program_with_the_handle_leaves_a_complete_trace_however_it_ends() {
    let tmp = tempfile::tempdir().unwrap();
    for (how, status) in [
        ("finish", Some(0)),
        ("return-early", Some(1)),
        ("panic", Some(101)),
    ] {
        let dir = tmp.path().join(how);
        let child = Command::new(example("embed_handle"))
            .arg(&dir)
            .arg(how)
            .env("OLLAMA_HOST", "127.0.0.1:9")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&child.stderr);
        assert_eq!(child.status.code(), status, "{how}: {stderr}");
        let pid = identities_pid(&dir, "embed_handle");
        // Five steps of 16 MiB when it finishes, three when it stops early.
        assert_complete(&dir, pid, if how == "finish" { 80 } else { 48 });
        if how == "finish" {
            let stdout = String::from_utf8_lossy(&child.stdout);
            assert!(stdout.contains("80 MiB held"), "{stdout}");
        }
    }
    // A directory that holds something is never written into.
    let taken = tmp.path().join("finish");
    let again = run("embed_handle", &[&taken], None);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("is not empty"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}

#[test]
fn memtide_trace_gives_each_run_its_own_trace_and_nothing_without_it() {
    let tmp = tempfile::tempdir().unwrap();
    let traces = tmp.path().join("traces");
    for _ in 0..2 {
        let o = run("embed_env", &[], Some(&traces));
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let mut runs: Vec<PathBuf> = std::fs::read_dir(&traces)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    runs.sort();
    assert_eq!(runs.len(), 2, "{runs:?}");
    for dir in &runs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with("embed_env-"), "{name}");
        let pid = identities_pid(dir, "embed_env");
        assert!(
            name.ends_with(&format!("-{pid}")),
            "{name} is not named after {pid}"
        );
        assert_complete(dir, pid, 48);
    }
    // Without the variable: the program runs, and writes nothing anywhere it was pointed.
    let o = run("embed_env", &[], None);
    assert!(o.status.success());
    assert_eq!(std::fs::read_dir(&traces).unwrap().count(), 2);
}

/// The PID of the process named `name` in the trace's identities.
fn identities_pid(dir: &Path, name: &str) -> u32 {
    let text = std::fs::read_to_string(dir.join("identities.csv")).unwrap();
    let mut rows = csv::Reader::from_reader(text.as_bytes());
    let headers = rows.headers().unwrap().clone();
    let col = |h: &str| headers.iter().position(|x| x == h).unwrap();
    let (pid, n) = (col("pid"), col("name"));
    rows.records()
        .map(Result::unwrap)
        .find(|r| r[n].starts_with(&name[..name.len().min(15)]))
        .unwrap_or_else(|| panic!("no {name} in {text}"))[pid]
        .parse()
        .unwrap()
}
