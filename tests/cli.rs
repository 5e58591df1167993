//! The `memtide` binary end to end. `record`: real processes, a real local HTTP server in Ollama's place
//! (serving the captured `/api/ps` answers), and the trace files read back as a user would;
//! `snapshot`, as a table and as JSON.

use memtide_trace::{self as trace, IdentityRow, Meta, ModelRow, PollRow, ProcessRow, SystemRow};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{events_of, memtide, report_json, signal, FakeOllama, KillOnDrop, Mode};

const TWO_MODELS: &str =
    include_str!("../crates/model/tests/fixtures/ollama-bash-lib-demo-two-models-2025-07-29.json");

fn record(out: &Path, extra: &[&str]) -> Output {
    memtide()
        .args(["record", "--quiet", "--out"])
        .arg(out)
        .args(extra)
        .output()
        .expect("run memtide record")
}

fn rows<T: serde::de::DeserializeOwned>(dir: &Path, file: &str) -> Vec<T> {
    let path = dir.join(file);
    let mut r = csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    r.deserialize()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn header(dir: &Path, file: &str) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join(file)).unwrap();
    text.lines()
        .next()
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect()
}

fn meta(dir: &Path) -> Meta {
    serde_json::from_slice(&std::fs::read(dir.join(trace::META_FILE)).unwrap()).unwrap()
}

fn sleeper(secs: u32) -> Child {
    Command::new("sleep").arg(secs.to_string()).spawn().unwrap()
}

fn polls(dir: &Path) -> Vec<PollRow> {
    rows(dir, trace::POLLS_FILE)
}

#[test]
fn a_recording_writes_every_file_and_column() {
    let ollama = FakeOllama::start(Mode::Json(TWO_MODELS.to_owned()));
    let mut child = sleeper(30);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("trace");
    let pid = child.id().to_string();
    let o = record(
        &out,
        &[
            "--duration",
            "2s",
            "--interval",
            "100ms",
            "--pid",
            &pid,
            "--ollama",
            &ollama.url,
            "--ollama-interval",
            "250ms",
        ],
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let m = meta(&out);
    assert_eq!(m.format_version, trace::FORMAT_VERSION);
    assert_eq!(m.interval_ms, 100);
    assert_eq!(m.selection.pids, [child.id()]);
    assert!(m.total_memory_bytes > 0 && m.page_size_bytes.is_some());
    let om = m.ollama.as_ref().unwrap();
    assert_eq!(
        (om.url.as_str(), om.version.as_deref()),
        (ollama.url.as_str(), Some("0.30.7"))
    );
    assert!(m.end_utc.is_some());

    // Every file has the columns docs/trace-format.md lists, in order.
    assert_eq!(
        header(&out, trace::SYSTEM_FILE),
        trace::header::<SystemRow>()
    );
    assert_eq!(
        header(&out, trace::PROCESSES_FILE),
        trace::header::<ProcessRow>()
    );
    assert_eq!(
        header(&out, trace::IDENTITIES_FILE),
        trace::header::<IdentityRow>()
    );
    assert_eq!(header(&out, trace::POLLS_FILE), trace::header::<PollRow>());
    assert_eq!(
        header(&out, trace::MODELS_FILE),
        trace::header::<ModelRow>()
    );

    let system: Vec<SystemRow> = rows(&out, trace::SYSTEM_FILE);
    assert!(
        (17..=21).contains(&system.len()),
        "{} system rows",
        system.len()
    );
    assert_eq!(m.samples, Some(system.len() as u64));
    // On a loaded CI machine a tick may occasionally miss its slot; it is then counted, and
    // the rows plus the missed ticks still fill the grid.
    let missed = m.missed_ticks.unwrap();
    assert!(missed <= 2, "{missed} missed ticks");
    assert!(
        system.len() as u64 + missed >= 19,
        "{} rows + {missed} missed",
        system.len()
    );
    for pair in system.windows(2) {
        let gap = pair[1].t_ms - pair[0].t_ms;
        assert!((50..=200).contains(&gap), "ticks {gap} ms apart");
        assert!(pair[0].time_utc < pair[1].time_utc);
    }
    for s in &system {
        assert!(
            s.time_utc.ends_with('Z') && s.time_utc.len() == 24,
            "{}",
            s.time_utc
        );
        assert!(s.total_bytes > 0 && s.free_bytes.unwrap() <= s.total_bytes);
        assert!((0.0..=100.0).contains(&s.free_percent.unwrap()));
    }

    let procs: Vec<ProcessRow> = rows(&out, trace::PROCESSES_FILE);
    assert_eq!(
        procs.len(),
        system.len(),
        "one row per tick for the one process"
    );
    assert!(procs.iter().all(|p| p.pid == child.id() && p.rss_bytes > 0));
    assert!(procs
        .windows(2)
        .all(|w| w[0].start_time_us == w[1].start_time_us));

    let ids: Vec<IdentityRow> = rows(&out, trace::IDENTITIES_FILE);
    assert_eq!(ids.len(), 1);
    assert_eq!(ids[0].argv, ["sleep", "30"]);
    assert_eq!(ids[0].start_time_us, procs[0].start_time_us);
    assert!(!ids[0].exited);

    let polls = polls(&out);
    assert!((6..=10).contains(&polls.len()), "{} polls", polls.len());
    assert!(polls
        .iter()
        .all(|p| p.outcome.as_str() == "ok" && p.models_loaded == Some(2)));
    let models: Vec<ModelRow> = rows(&out, trace::MODELS_FILE);
    assert_eq!(models.len(), 2 * polls.len());
    assert_eq!(models[0].name, "granite3.3:2b");
    assert_eq!(models[0].size_bytes, 2686878533);
    assert_eq!(
        models[0].expires_at_utc.as_deref(),
        Some("2025-07-29T18:47:55.827Z")
    );
    assert_eq!(models[1].context_length, Some(4096));
}

#[test]
fn ollama_down_at_start_is_recorded_as_unreachable() {
    // A port nobody listens on: bind one, then let it go.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t");
    let url = format!("http://127.0.0.1:{port}");
    let o = record(
        &out,
        &[
            "--duration",
            "1s",
            "--interval",
            "100ms",
            "--pid",
            "1",
            "--ollama",
            &url,
            "--ollama-interval",
            "200ms",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let p = polls(&out);
    assert!(p.len() >= 3);
    assert!(p
        .iter()
        .all(|p| p.outcome.as_str() == "unreachable" && p.models_loaded.is_none()));
    assert!(p[0].error.as_deref().unwrap().contains(&url));
    assert_eq!(meta(&out).ollama.unwrap().version, None);
    let system: Vec<SystemRow> = rows(&out, trace::SYSTEM_FILE);
    assert!(system.len() >= 8, "sampling went on: {} rows", system.len());
}

#[test]
fn ollama_going_down_mid_run_and_answering_garbage() {
    let mut ollama = FakeOllama::start(Mode::Json(r#"{"models":[]}"#.to_owned()));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t");
    let mut rec = memtide()
        .args([
            "record",
            "--quiet",
            "--interval",
            "100ms",
            "--duration",
            "3s",
            "--pid",
            "1",
        ])
        .args([
            "--ollama",
            &ollama.url,
            "--ollama-interval",
            "200ms",
            "--out",
        ])
        .arg(&out)
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(900));
    ollama.set(Mode::Garbage);
    std::thread::sleep(Duration::from_millis(900));
    ollama.take_down();
    assert!(rec.wait().unwrap().success());

    let p = polls(&out);
    let outcomes: Vec<&str> = p.iter().map(|p| p.outcome.as_str()).collect();
    let first_bad = outcomes
        .iter()
        .position(|&o| o == "bad_response")
        .expect("a bad response");
    let first_down = outcomes
        .iter()
        .position(|&o| o == "unreachable")
        .expect("unreachable");
    assert!(
        outcomes[..first_bad].iter().all(|&o| o == "ok"),
        "{outcomes:?}"
    );
    assert!(first_bad < first_down, "{outcomes:?}");
    assert!(
        outcomes[first_down..].iter().all(|&o| o == "unreachable"),
        "{outcomes:?}"
    );
    // "No model loaded" and "Ollama unreachable" are told apart.
    assert_eq!(p[0].models_loaded, Some(0));
    assert!(p[first_bad]
        .error
        .as_deref()
        .unwrap()
        .contains("cannot read"));
}

#[test]
fn a_slow_ollama_never_delays_a_sample() {
    let ollama = FakeOllama::start(Mode::Slow(Duration::from_millis(1500)));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t");
    let o = record(
        &out,
        &[
            "--duration",
            "2s",
            "--interval",
            "100ms",
            "--pid",
            "1",
            "--ollama",
            &ollama.url,
            "--ollama-interval",
            "300ms",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let p = polls(&out);
    assert!(!p.is_empty());
    assert!(
        p.iter().all(|p| p.outcome.as_str() == "timeout"),
        "{:?}",
        p.iter().map(|p| &p.outcome).collect::<Vec<_>>()
    );
    assert!(
        p.iter().all(|p| (250..1000).contains(&p.latency_ms)),
        "timeout is 300 ms"
    );
    let system: Vec<SystemRow> = rows(&out, trace::SYSTEM_FILE);
    // Had polling blocked sampling, every poll would have held the sampler for its 300 ms
    // timeout, about three ticks each, a dozen or more in 2 s; a loaded machine may miss one
    // or two on its own.
    assert!(system.len() >= 17, "{} rows in 2 s at 100 ms", system.len());
    assert!(meta(&out).missed_ticks.unwrap() <= 2);
}

#[test]
fn a_flooding_ollama_is_capped_and_cannot_slow_sampling() {
    let model = r#"{"name":"flood:1b","model":"flood:1b","size":1,"digest":"ab","details":{}}"#;
    // 5000 models (under the size cap: kept to 64, the rest counted), then a 2 MiB answer
    // (over it: a bad response).
    let many = format!("{{\"models\":[{}]}}", vec![model; 5000].join(","));
    let ollama = FakeOllama::start(Mode::Json(many));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t");
    let args = |url: &str| {
        vec![
            "--duration".to_owned(),
            "2s".into(),
            "--interval".into(),
            "100ms".into(),
            "--pid".into(),
            "1".into(),
            "--ollama".into(),
            url.to_owned(),
            "--ollama-interval".into(),
            "200ms".into(),
        ]
    };
    let a = args(&ollama.url);
    let o = record(&out, &a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        err.matches("models left out").count(),
        1,
        "warned once: {err}"
    );
    let p = polls(&out);
    assert!(p.len() >= 5 && p.iter().all(|p| p.outcome.as_str() == "ok"));
    assert!(p.iter().all(|p| p.models_loaded == Some(64)));
    assert!(p[0]
        .error
        .as_deref()
        .unwrap()
        .starts_with("4936 models left out"));
    let models: Vec<ModelRow> = rows(&out, trace::MODELS_FILE);
    assert_eq!(models.len(), 64 * p.len());
    assert!(meta(&out).missed_ticks.unwrap() <= 2);

    let huge = format!("{{\"models\":[{}]}}", vec![model; 30_000].join(","));
    assert!(huge.len() > 2 << 20);
    ollama.set(Mode::Json(huge));
    let out = dir.path().join("t2");
    let o = record(&out, &a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let p = polls(&out);
    assert!(
        p.iter().all(|p| p.outcome.as_str() == "bad_response"),
        "{p:?}"
    );
    assert!(meta(&out).missed_ticks.unwrap() <= 2);
}

const HEX: &str = "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72";

/// A models directory with one manifest naming one blob, as `ollama pull` leaves it.
fn models_dir(root: &Path) -> PathBuf {
    let models = root.join("models");
    let manifest = models.join("manifests/registry.ollama.ai/library/llama3.2/3b");
    std::fs::create_dir_all(manifest.parent().unwrap()).unwrap();
    std::fs::create_dir_all(models.join("blobs")).unwrap();
    std::fs::write(models.join(format!("blobs/sha256-{HEX}")), b"GGUF").unwrap();
    std::fs::write(
        manifest,
        format!(r#"{{"schemaVersion":2,"layers":[{{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:{HEX}","size":4}}]}}"#),
    )
    .unwrap();
    models
}

/// A stand-in runner: memtide's hidden `runner` subcommand, whose argv has a real runner's
/// shape (`<exe> runner --model <blob> --port N`) and which holds `mib` MiB.
fn fake_runner(blob: &Path, mib: u32) -> Child {
    memtide()
        .args(["runner", "--model"])
        .arg(blob)
        .args(["--port", "50123", "--mib", &mib.to_string()])
        .spawn()
        .unwrap()
}

#[test]
fn a_runner_exits_and_a_new_one_starts() {
    let dir = tempfile::tempdir().unwrap();
    let blob = models_dir(dir.path()).join(format!("blobs/sha256-{HEX}"));
    // The blob's path is unique to this test: matching it selects only its runners.
    let token = blob.display().to_string();
    let out = dir.path().join("t");
    let mut first = fake_runner(&blob, 1);
    let mut rec = memtide()
        .args([
            "record",
            "--quiet",
            "--no-ollama",
            "--interval",
            "50ms",
            "--duration",
            "2s",
            "--match",
            &token,
            "--out",
        ])
        .arg(&out)
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    first.kill().unwrap();
    first.wait().unwrap();
    let mut second = fake_runner(&blob, 1);
    assert!(rec.wait().unwrap().success());
    second.kill().unwrap();
    second.wait().unwrap();

    let ids: Vec<IdentityRow> = rows(&out, trace::IDENTITIES_FILE);
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert_eq!(ids[0].pid, first.id());
    assert!(ids[0].exited && ids[0].exited_utc.is_some());
    assert_eq!(ids[1].pid, second.id());
    assert!(!ids[1].exited);
    assert!(ids[0].exited_utc.as_deref().unwrap() <= ids[1].first_seen_utc.as_str());
    // The blob path was resolved to the model's name while recording.
    assert_eq!(ids[0].models, ["llama3.2:3b"]);
    assert!(ids[1].argv.contains(&"--model".to_owned()));
    let procs: Vec<ProcessRow> = rows(&out, trace::PROCESSES_FILE);
    let last_first = procs
        .iter()
        .filter(|p| p.pid == first.id())
        .map(|p| p.t_ms)
        .max()
        .unwrap();
    let first_second = procs
        .iter()
        .filter(|p| p.pid == second.id())
        .map(|p| p.t_ms)
        .min()
        .unwrap();
    assert!(last_first < first_second);
}

/// Every line of every CSV parses (no torn rows), and meta.json is valid JSON.
fn assert_readable(out: &Path) -> usize {
    let _: Meta = meta(out);
    let system: Vec<SystemRow> = rows(out, trace::SYSTEM_FILE);
    let _: Vec<ProcessRow> = rows(out, trace::PROCESSES_FILE);
    let _: Vec<IdentityRow> = rows(out, trace::IDENTITIES_FILE);
    let _: Vec<PollRow> = rows(out, trace::POLLS_FILE);
    let _: Vec<ModelRow> = rows(out, trace::MODELS_FILE);
    system.len()
}

fn spawn_recorder(out: &Path, child: u32) -> Child {
    memtide()
        .args([
            "record",
            "--quiet",
            "--no-ollama",
            "--interval",
            "50ms",
            "--pid",
            &child.to_string(),
            "--out",
        ])
        .arg(out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn a_recorder_killed_outright_leaves_readable_files() {
    let mut child = sleeper(30);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t");
    let mut rec = spawn_recorder(&out, child.id());
    std::thread::sleep(Duration::from_millis(1200));
    rec.kill().unwrap(); // SIGKILL
    rec.wait().unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let n = assert_readable(&out);
    assert!(n >= 15, "{n} rows survived 1.2 s at 50 ms");
    let m = meta(&out);
    assert_eq!(m.end_utc, None, "killed: no end time");
    let procs: Vec<ProcessRow> = rows(&out, trace::PROCESSES_FILE);
    assert!(procs.len() + 1 >= n, "at most the last tick is lost");
}

#[test]
fn every_signal_a_terminal_or_service_manager_sends_stops_cleanly_with_a_summary() {
    // Ctrl-C, a service manager's stop, a closed terminal or lost ssh session, Ctrl-\.
    for sig in ["-INT", "-TERM", "-HUP", "-QUIT"] {
        let mut child = sleeper(30);
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("t");
        let rec = memtide()
            .args([
                "record",
                "--no-ollama",
                "--interval",
                "50ms",
                "--pid",
                &child.id().to_string(),
                "--out",
            ])
            .arg(&out)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(800));
        signal(rec.id(), sig);
        let o = rec.wait_with_output().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(
            o.status.success(),
            "{sig}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let n = assert_readable(&out);
        let m = meta(&out);
        assert!(m.end_utc.is_some(), "{sig}");
        assert_eq!(m.samples, Some(n as u64), "{sig}");
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(stdout.contains(&format!("{n} samples")), "{sig}: {stdout}");
        assert!(stdout.contains("minimum free memory"), "{stdout}");
        assert!(
            stdout.contains(&format!("pid {:>7} sleep", child.id())),
            "{stdout}"
        );
        // What to run next, with the directory as given.
        let next = format!("next: `memtide report {}`", out.display());
        assert!(stdout.contains(&next), "{stdout}");
    }
}

#[test]
fn a_removed_trace_directory_stops_with_the_file_named() {
    let mut child = sleeper(30);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t");
    let mut rec = spawn_recorder(&out, child.id());
    std::thread::sleep(Duration::from_millis(500));
    std::fs::remove_dir_all(&out).unwrap();
    // The next change of identities.csv (the process exiting) must be written, and cannot.
    child.kill().unwrap();
    child.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = rec.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "the recorder did not stop");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(!status.success());
    let mut err = String::new();
    rec.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(
        err.contains("cannot write") && err.contains(&out.display().to_string()),
        "{err}"
    );
}

#[test]
fn bad_durations_are_refused_with_a_hint() {
    let o = memtide()
        .args(["record", "--interval", "fast"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--interval") && err.contains("250ms"), "{err}");
    let o = memtide()
        .args(["record", "--interval", "1ms"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stderr).contains("at least 10ms"));
}

fn run(args: &[&str]) -> (bool, String, String) {
    let out = memtide().args(args).output().expect("run memtide");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn snapshot_of_one_pid_shows_it_and_the_system() {
    let me = std::process::id().to_string();
    let (ok, out, err) = run(&["snapshot", "--no-ollama", "--pid", &me]);
    assert!(ok, "stderr: {err}");
    assert!(out.contains("free "), "{out}");
    assert!(out.contains("  available "), "{out}");
    let row = out
        .lines()
        .find(|l| l.split_whitespace().next() == Some(me.as_str()))
        .unwrap_or_else(|| panic!("no row for pid {me} in\n{out}"));
    // The test binary's own command line ends the row.
    assert!(row.contains("cli-"), "{row}");
    assert!(row.contains("MiB"), "{row}");
}

#[test]
fn snapshot_with_no_match_says_so() {
    let (ok, out, _) = run(&[
        "snapshot",
        "--no-ollama",
        "--match",
        "no-such-process-name-xyzzy-42",
    ]);
    assert!(ok);
    // memtide's own command line holds the pattern, but memtide never matches itself.
    assert!(out.contains("(no process matched)"), "{out}");
}

#[test]
fn bad_arguments_are_an_error_that_names_them() {
    let (ok, _, err) = run(&["snapshot", "--pid", "notanumber"]);
    assert!(!ok);
    assert!(err.contains("--pid"), "{err}");
}

#[test]
fn snapshot_json_has_the_system_the_process_and_ollamas_models() {
    let ollama = FakeOllama::start(Mode::Json(TWO_MODELS.to_owned()));
    let me = std::process::id().to_string();
    let (ok, out, err) = run(&["snapshot", "--json", "--pid", &me, "--ollama", &ollama.url]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["system"]["total_bytes"].as_u64().unwrap() > 0);
    assert!(v["system"]["free_percent"].as_f64().is_some());
    assert_eq!(
        v["processes"][0]["pid"].as_u64(),
        Some(std::process::id() as u64)
    );
    assert!(v["processes"][0]["rss_bytes"].as_u64().unwrap() > 0);
    assert_eq!(v["ollama"]["outcome"], "ok");
    assert_eq!(v["ollama"]["models"][1]["name"], "llama3.2:3b");
    assert_eq!(v["ollama"]["models"][1]["size"].as_u64(), Some(3367856128));

    let (ok, table, _) = run(&["snapshot", "--pid", &me, "--ollama", &ollama.url]);
    assert!(ok);
    assert!(
        table.contains("granite3.3:2b") && table.contains("07bd1f170855"),
        "{table}"
    );
    assert!(
        table.contains("2.50 GiB"),
        "granite's 2686878533 bytes: {table}"
    );
}

#[test]
fn snapshot_says_when_ollama_is_unreachable() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let (ok, out, _) = run(&[
        "snapshot",
        "--match",
        "no-such-process-xyzzy",
        "--ollama",
        &url,
    ]);
    assert!(ok);
    assert!(out.contains("unreachable"), "{out}");
}

const SEED_TSV: &str = "tests/fixtures/seed/ollama-process-memtrace-20260514-092500.tsv";
const SEED_LOG: &str = "tests/fixtures/seed/system-memtrace-20260514-092500.log";

fn seed_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn import_seed(out: &Path) -> Output {
    memtide()
        .args(["import", "--ps-tsv"])
        .arg(seed_path(SEED_TSV))
        .arg("--system-log")
        .arg(seed_path(SEED_LOG))
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

#[test]
fn import_then_report_tells_the_overlap_with_its_figures() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("imported");
    let o = import_seed(&out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The malformed row and block are named by line, and skipped.
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("ollama-process-memtrace-20260514-092500.tsv:82: pid `not-a-pid`"),
        "{err}"
    );
    assert!(
        err.contains("system-memtrace-20260514-092500.log:217:"),
        "{err}"
    );

    let text = memtide()
        .args(["report"])
        .arg(&out)
        .env("TZ", "Europe/Zurich")
        .output()
        .unwrap();
    assert!(text.status.success());
    let text = String::from_utf8_lossy(&text.stdout);
    let sentence = text
        .lines()
        .find(|l| l.contains("still alive"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        sentence.contains(
            "At 11:25:17.000, runner PID 61864 for llama3.2:3b was still alive while runner PID 62010 for granite3.3:2b started (until 11:25:24.000"
        ),
        "{sentence}"
    );
    // The worst moment of the overlap: memory_pressure said 22 %; vm_stat's wired pages
    // 267557 × 16 KiB = 4.08 GiB; the compressor 697153 × 16 KiB = 10.6 GiB; swap 2743.50 MiB.
    assert!(
        sentence.contains("at 11:25:20.000 free memory was 22 %, wired memory was 4.08 GiB, compressor was 10.6 GiB, and swap used was 2.68 GiB"),
        "{sentence}"
    );
    assert!(
        sentence.contains("ollama ps reported granite3.3:2b (2.50 GiB), llama3.2:3b (3.14 GiB)"),
        "{sentence}"
    );
    assert!(text.contains("local time, UTC+02:00"), "{text}");

    let r = report_json(&out);
    assert_eq!(r["report_version"], 3);
    let overlap = events_of(&r, "overlap");
    assert_eq!(overlap.len(), 1);
    assert_eq!(overlap[0]["runners"][0]["pid"], 61864);
    assert_eq!(overlap[0]["runners"][1]["model"], "granite3.3:2b");
    assert_eq!(overlap[0]["worst"]["wired_bytes"], 267557u64 * 16384);
    let low = events_of(&r, "low_memory");
    assert_eq!(low.len(), 1, "22 % then 27 % is one interval");
    assert_eq!(
        (low[0]["t_ms"].as_u64(), low[0]["end_ms"].as_u64()),
        (Some(20000), Some(25000))
    );
    assert_eq!(events_of(&r, "swap_growth").len(), 1);
    assert_eq!(events_of(&r, "runner_exit")[0]["runner"]["pid"], 61864);
    let loads: Vec<&str> = events_of(&r, "model_load")
        .iter()
        .map(|e| e["model"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(loads, ["llama3.2:3b", "granite3.3:2b"]);
    assert_eq!(events_of(&r, "model_unload")[0]["name"], "llama3.2:3b");
    let models = r["models"].as_array().unwrap();
    assert_eq!(
        models[0]["name_source"], "api_ps",
        "no manifests on this machine: inferred"
    );
    assert_eq!(models[0]["runner_pids"][0], 61864);
    // The client and serve are labelled, not counted as models.
    let roles: Vec<&str> = r["processes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["role"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["serve", "client", "runner", "runner"]);
}

#[test]
fn import_accepts_either_file_alone_and_refuses_neither() {
    let dir = tempfile::tempdir().unwrap();
    let o = memtide()
        .args(["import", "--ps-tsv"])
        .arg(seed_path(SEED_TSV))
        .arg("--out")
        .arg(dir.path().join("p"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = report_json(&dir.path().join("p"));
    assert_eq!(
        events_of(&r, "overlap").len(),
        1,
        "the runners alone show the overlap"
    );
    let o = memtide()
        .args(["import", "--system-log"])
        .arg(seed_path(SEED_LOG))
        .arg("--out")
        .arg(dir.path().join("s"))
        .output()
        .unwrap();
    assert!(o.status.success());
    let r = report_json(&dir.path().join("s"));
    assert_eq!(events_of(&r, "low_memory").len(), 1);
    let o = memtide()
        .args(["import", "--out"])
        .arg(dir.path().join("n"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--ps-tsv"));
}

#[test]
fn import_of_rows_out_of_order_or_with_crlf_gives_the_same_trace() {
    // The TSV read in one pass when in time order, and read whole and sorted when it is not
    // (two loops' files joined by hand), must give the same trace; so must Windows line ends.
    let dir = tempfile::tempdir().unwrap();
    let ordered = dir.path().join("ordered");
    assert!(import_seed(&ordered).status.success());
    let text = std::fs::read_to_string(seed_path(SEED_TSV)).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let header = lines.remove(0);
    // Swap the two halves: every row is still there, the times go back once.
    let half = lines.len() / 2;
    lines.rotate_left(half);
    let shuffled = dir.path().join("shuffled.tsv");
    std::fs::write(&shuffled, format!("{header}\n{}\n", lines.join("\n"))).unwrap();
    let crlf = dir.path().join("crlf.tsv");
    std::fs::write(&crlf, text.replace('\n', "\r\n")).unwrap();
    for (name, tsv) in [("shuffled", &shuffled), ("crlf", &crlf)] {
        let out = dir.path().join(name);
        let o = memtide()
            .args(["import", "--ps-tsv"])
            .arg(tsv)
            .arg("--system-log")
            .arg(seed_path(SEED_LOG))
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        for file in [
            trace::PROCESSES_FILE,
            trace::IDENTITIES_FILE,
            trace::SYSTEM_FILE,
        ] {
            assert_eq!(
                std::fs::read_to_string(out.join(file)).unwrap(),
                std::fs::read_to_string(ordered.join(file)).unwrap(),
                "{name}: {file}"
            );
        }
    }
}

#[test]
fn report_of_a_recording_gives_the_same_kinds_of_events() {
    let dir = tempfile::tempdir().unwrap();
    let models = models_dir(dir.path());
    let blob = models.join(format!("blobs/sha256-{HEX}"));
    let ollama = FakeOllama::start(Mode::Json(r#"{"models":[]}"#.to_owned()));
    let token = blob.display().to_string();
    let out = dir.path().join("t");
    let mut first = fake_runner(&blob, 16);
    let mut rec = memtide()
        .args([
            "record",
            "--quiet",
            "--interval",
            "50ms",
            "--duration",
            "2500ms",
            "--match",
            &token,
        ])
        .args([
            "--ollama",
            &ollama.url,
            "--ollama-interval",
            "200ms",
            "--out",
        ])
        .arg(&out)
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    ollama.set(Mode::Json(TWO_MODELS.to_owned()));
    let mut second = fake_runner(&blob, 16);
    std::thread::sleep(Duration::from_millis(700));
    first.kill().unwrap();
    first.wait().unwrap();
    assert!(rec.wait().unwrap().success());
    second.kill().unwrap();
    second.wait().unwrap();

    let r = report_json(&out);
    let kinds: std::collections::BTreeSet<&str> = r["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    for k in [
        "runner_start",
        "runner_exit",
        "overlap",
        "model_load",
        "peak",
    ] {
        assert!(kinds.contains(k), "{k} missing from {kinds:?}");
    }
    let overlap = &events_of(&r, "overlap")[0];
    assert_eq!(overlap["runners"][0]["pid"], first.id());
    assert_eq!(overlap["runners"][1]["pid"], second.id());
    assert_eq!(
        overlap["runners"][0]["model"], "llama3.2:3b",
        "resolved through the manifests"
    );
    assert_eq!(r["models"][0]["name_source"], "manifest");
    assert!(overlap["worst"]["free_percent"].as_f64().is_some());
}

#[test]
fn report_of_a_missing_or_broken_trace_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let o = memtide()
        .arg("report")
        .arg(dir.path().join("nothing"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("is not a directory") && err.contains("memtide record"),
        "{err}"
    );
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let o = memtide().arg("report").arg(&empty).output().unwrap();
    assert!(String::from_utf8_lossy(&o.stderr).contains("has no meta.json"));
    // A trace whose system.csv has a bad row in the middle.
    let out = dir.path().join("t");
    assert!(import_seed(&out).status.success());
    let path = out.join("system.csv");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text = text.replacen(
        "\n2026-05-14T09:25:05.000Z,5000,",
        "\n2026-05-14T09:25:05.000Z,five,",
        1,
    );
    std::fs::write(&path, text).unwrap();
    // The row is skipped, the report is made, and its warning names the file and the line.
    let o = memtide().arg("report").arg(&out).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    let warning = text
        .lines()
        .find(|l| l.starts_with("warning:") && l.contains("system.csv"))
        .unwrap_or_else(|| panic!("no warning in\n{text}"));
    assert!(warning.contains("1 row skipped (line 3:"), "{warning}");
    // A trace none of whose samples can be read is an error naming the file.
    std::fs::write(&path, "time_utc,t_ms\nx,y\n").unwrap();
    let o = memtide().arg("report").arg(&out).output().unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("system.csv") && err.contains("none of its 1 rows"),
        "{err}"
    );
}

#[test]
fn render_writes_svg_png_and_html_and_escapes_command_lines() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t");
    // A stand-in runner whose command line carries markup.
    let hostile = "<script>alert(1)</script>";
    let mut runner = memtide()
        .args(["runner", "--model", hostile, "--port", "1", "--mib", "8"])
        .spawn()
        .unwrap();
    let o = record(
        &trace,
        &[
            "--duration",
            "1s",
            "--interval",
            "100ms",
            "--no-ollama",
            "--pid",
            &runner.id().to_string(),
        ],
    );
    runner.kill().unwrap();
    runner.wait().unwrap();
    assert!(o.status.success());

    let o = memtide().arg("render").arg(&trace).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let svg = std::fs::read_to_string(trace.join("memtide.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("Memory per process"));
    assert!(!svg.contains("<script>"), "SVG text is escaped");

    let png = dir.path().join("c.png");
    let o = memtide()
        .arg("render")
        .arg(&trace)
        .arg("-o")
        .arg(&png)
        .args(["--width", "640", "--height", "400"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(&std::fs::read(&png).unwrap()[..4], b"\x89PNG");

    let page = dir.path().join("p.html");
    let o = memtide()
        .arg("render")
        .arg(&trace)
        .arg("-o")
        .arg(&page)
        .output()
        .unwrap();
    assert!(o.status.success());
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "the command line, escaped"
    );
    assert!(!html.contains(hostile));

    let o = memtide()
        .arg("render")
        .arg(&trace)
        .args(["--from", "yesterday"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("neither a duration"));
}

#[test]
fn render_and_view_never_replace_a_file_memtide_did_not_draw() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace");
    copy_dir(
        &seed_path("crates/model/tests/fixtures/trace-imported"),
        &trace,
    );
    let ok = |o: &Output| assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // `view` writes the viewer into the trace and, asked not to, opens nothing.
    let o = memtide()
        .arg("view")
        .arg(&trace)
        .arg("--no-open")
        .output()
        .unwrap();
    ok(&o);
    let page = trace.join("view.html");
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        page.display().to_string()
    );
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("id=\"memtide-data\"") && html.contains("uPlot"));
    // Its own page is drawn again in place.
    ok(&memtide()
        .arg("view")
        .arg(&trace)
        .arg("--no-open")
        .output()
        .unwrap());
    // A user's files are not replaced, whatever their kind, unless --force says so.
    for name in ["notes.svg", "photo.png", "index.html"] {
        let theirs = dir.path().join(name);
        std::fs::write(&theirs, "mine").unwrap();
        let o = memtide()
            .arg("render")
            .arg(&trace)
            .arg("-o")
            .arg(&theirs)
            .output()
            .unwrap();
        assert!(!o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(name)
                && err.contains("memtide did not draw it")
                && err.contains("--force"),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&theirs).unwrap(), "mine");
        // A chart memtide drew may be drawn again; --force replaces the user's file.
        ok(&memtide()
            .arg("render")
            .arg(&trace)
            .arg("-o")
            .arg(&theirs)
            .arg("--force")
            .output()
            .unwrap());
        ok(&memtide()
            .arg("render")
            .arg(&trace)
            .arg("-o")
            .arg(&theirs)
            .output()
            .unwrap());
        assert!(memtide_render::drawn_by_memtide(
            &std::fs::read(&theirs).unwrap()
        ));
    }
    let theirs = dir.path().join("page.html");
    std::fs::write(&theirs, "<html>my page</html>").unwrap();
    let o = memtide()
        .arg("view")
        .arg(&trace)
        .arg("--no-open")
        .arg("-o")
        .arg(&theirs)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert_eq!(
        std::fs::read_to_string(&theirs).unwrap(),
        "<html>my page</html>"
    );
}

/// Every command in the README's `sh` blocks, run as written, in order, in a scratch directory
/// holding a copy of `tests/fixtures` (which the import example names). `cargo run --release --`
/// and `./target/release/memtide` run this build's binary; `cargo test` and `cargo build` are
/// what CI itself runs. A command that runs until stopped (`record`, `top`, `serve`) gets
/// Ctrl-C (SIGINT) after 3 s, as a user would give it, and must then exit cleanly; every
/// other command ends by itself and is waited for, however long a busy machine takes. Any
/// other kind of line fails the test, so the README cannot gain a command this test does not
/// run. The commands run as written, so `record` follows whatever Ollama processes the
/// machine has: only that each command works is checked, which does not depend on them.
#[test]
fn every_readme_command_works_as_written() {
    let readme = std::fs::read_to_string(seed_path("README.md")).unwrap();
    let scratch = tempfile::tempdir().unwrap();
    copy_dir(
        &seed_path("tests/fixtures"),
        &scratch.path().join("tests/fixtures"),
    );
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut ran = 0;
    let mut in_sh = false;
    let mut demo_said = String::new();
    for line in readme.lines() {
        if line.starts_with("```") {
            in_sh = line == "```sh";
            continue;
        }
        // A command, without the comment a line may end with.
        let cmd = line.split(" #").next().unwrap_or_default().trim();
        if !in_sh || cmd.is_empty() {
            continue;
        }
        let args: Vec<&str> = if let Some(rest) = cmd.strip_prefix("cargo run --release -- ") {
            rest.split_whitespace().collect()
        } else if let Some(rest) = cmd
            .strip_prefix("./target/release/memtide ")
            .or_else(|| cmd.strip_prefix("memtide "))
        {
            rest.split_whitespace().collect()
        } else if cmd == "cargo test --workspace"
            || cmd == "cargo build --release"
            || cmd.starts_with("cargo install --locked ")
            || cmd == "cargo binstall memtide"
            || cmd == "brew install memtide/tap/memtide"
        {
            // Builds and installs, not memtide's behaviour: `cargo install --path .` was
            // checked by hand; scripts/check-release checks the release archive that
            // `cargo binstall` and the Homebrew formula install.
            continue;
        } else {
            panic!("README command this test cannot run: {cmd}");
        };
        let mut child = memtide()
            .args(&args)
            .current_dir(scratch.path())
            .env("OLLAMA_HOST", format!("127.0.0.1:{closed}"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Read as it comes, so that a command that says much never waits on a full pipe.
        let mut stderr = child.stderr.take().unwrap();
        let said = std::thread::spawn(move || {
            let mut err = String::new();
            let _ = stderr.read_to_string(&mut err);
            err
        });
        let deadline = Instant::now() + Duration::from_secs(3);
        let runs_until_stopped = matches!(args.first(), Some(&("record" | "top" | "serve")));
        let mut interrupted = false;
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if runs_until_stopped && !interrupted && Instant::now() > deadline {
                signal(child.id(), "-INT");
                interrupted = true;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let err = said.join().unwrap();
        assert!(status.success(), "`{cmd}` failed: {err}");
        ran += 1;
        if args.first() == Some(&"demo") {
            demo_said = err;
        }
    }
    assert_eq!(ran, 10, "README commands run");
    // What the README says the demo writes.
    let demo = std::fs::read_dir(scratch.path())
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("memtide-demo-"))
        .expect("the demo's directory")
        .path();
    for f in [
        "memtide.svg",
        "memtide.png",
        "memtide.html",
        "report.txt",
        "meta.json",
        "ollama-server.log",
        "ollama_log.csv",
    ] {
        assert!(demo.join(f).exists(), "{f}");
    }
    // What the demo narrates, its report tells: B's growth where the demo had the time and
    // the memory to show it (a machine with little available memory gets a smaller scenario,
    // in which the demo does not say B grows).
    let report = std::fs::read_to_string(demo.join("report.txt")).unwrap();
    let grows = demo_said.contains("model B grows (its KV cache)");
    assert!(
        grows || demo_said.contains("model B runs on"),
        "{demo_said}"
    );
    assert_eq!(
        report.contains("for demo/qwen3:8b grew by"),
        grows,
        "the demo said: {demo_said}\nits report:\n{report}"
    );
    for f in ["mytrace/chart.png", "mytrace/view.html", "compare.png"] {
        assert!(scratch.path().join(f).exists(), "{f}");
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// The demo's stand-in runners: processes whose argv carries `--demo-id <tag>`, found as
/// memtide itself finds processes (its sampler), on every OS.
fn demo_runners(tag: &str) -> Vec<u32> {
    let mut sampler =
        memtide_sampler::Sampler::new(memtide_sampler::ProcessSelector::Match(vec![tag.into()]))
            .unwrap();
    let tick = sampler.tick().unwrap();
    tick.started
        .iter()
        .filter(|p| p.argv.iter().any(|a| a == tag))
        .map(|p| p.id.pid)
        .collect()
}

#[test]
fn the_demo_shows_the_overlap_and_cleans_up_on_ctrl_c_and_kill() {
    let dir = tempfile::tempdir().unwrap();
    // A full run, shortest scenario.
    let o = memtide()
        .args(["demo", "--duration", "6s", "--out"])
        .arg(dir.path().join("d"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = report_json(&dir.path().join("d"));
    let overlap = events_of(&r, "overlap");
    assert_eq!(overlap.len(), 1);
    assert_eq!(overlap[0]["runners"][0]["model"], "demo/llama3.2:3b");
    assert_eq!(overlap[0]["runners"][1]["model"], "demo/qwen3:8b");
    assert_eq!(events_of(&r, "runner_exit").len(), 2);
    assert_eq!(events_of(&r, "model_load").len(), 2);
    // Its stand-in Ollama's server log, followed as the app's is: each runner's buffers as
    // llama.cpp printed them, joined to it by its port, and Ollama's plan for each load.
    let log = std::fs::read_to_string(dir.path().join("d/ollama-server.log")).unwrap();
    let mib_in_log = |kind: &str| -> Vec<u64> {
        log.lines()
            .filter(|l| l.contains(&format!(" {kind} buffer size =")))
            .map(|l| {
                let mib: f64 = l
                    .rsplit('=')
                    .next()
                    .unwrap()
                    .trim()
                    .trim_end_matches("MiB")
                    .trim()
                    .parse()
                    .unwrap();
                (mib * 1048576.0).round() as u64
            })
            .collect()
    };
    let weights = mib_in_log("model");
    assert_eq!(weights.len(), 2, "{log}");
    for (i, m) in r["models"].as_array().unwrap().iter().enumerate() {
        let a = &m["allocated"];
        assert_eq!(a["weights_bytes"].as_u64(), Some(weights[i]), "{m}");
        assert_eq!(a["kv_bytes"].as_u64(), Some(mib_in_log("KV")[i]), "{m}");
        assert_eq!(
            a["compute_bytes"].as_u64(),
            Some(mib_in_log("compute")[i]),
            "{m}"
        );
    }
    let plans = events_of(&r, "ollama_plan");
    assert_eq!(plans.len(), 2, "{plans:?}");
    assert_eq!(plans[1]["runner"]["model"], "demo/qwen3:8b");
    assert!(
        plans[1]["plan"]["prediction"]["predicted_bytes"]
            .as_u64()
            .unwrap()
            > 0
    );
    let text = std::fs::read_to_string(dir.path().join("d/report.txt")).unwrap();
    assert!(
        text.contains("What the runners allocated, by Ollama's log"),
        "{text}"
    );
    assert!(
        text.contains("would fit beside the loaded models in")
            && text.contains("for demo/qwen3:8b"),
        "{text}"
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("still alive while runner PID"), "{stdout}");

    // Ctrl-C in the middle: the runners are stopped, the trace is complete.
    for (sig, name) in [("-INT", "i"), ("-KILL", "k")] {
        let child = memtide()
            .args(["demo", "--duration", "12s", "--out"])
            .arg(dir.path().join(name))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let tag = format!("memtide-demo-{}-runner", child.id());
        let deadline = Instant::now() + Duration::from_secs(10);
        while demo_runners(&tag).is_empty() {
            assert!(Instant::now() < deadline, "no runner started");
            std::thread::sleep(Duration::from_millis(50));
        }
        signal(child.id(), sig);
        let status = child.wait_with_output().unwrap().status;
        if sig == "-INT" {
            assert!(status.success());
            assert!(meta(&dir.path().join(name)).end_utc.is_some());
        }
        // Killed outright, the demo cannot clean up; its runners notice their parent is gone.
        let deadline = Instant::now() + Duration::from_secs(5);
        while !demo_runners(&tag).is_empty() {
            assert!(
                Instant::now() < deadline,
                "{sig}: runners left behind: {:?}",
                demo_runners(&tag)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// `memtide bench` as short as it goes, three idle processes, leading a process group of its
/// own.
fn short_bench() -> Command {
    use std::os::unix::process::CommandExt;
    let mut bench = memtide();
    bench.process_group(0).args([
        "bench",
        "--processes",
        "3",
        "--samples",
        "20",
        "--rounds",
        "1",
        "--seconds",
        "0.5",
    ]);
    bench
}

#[test]
fn bench_prints_every_measurement_and_leaves_no_child_behind() {
    // The bench leads a process group of its own, which its children (the idle runners, the
    // `sleep`s that fill the table, the recorders, the Guide's pipeline) join: what it leaves
    // behind is whatever is in that group once it has exited, and nothing else on the machine.
    let o = short_bench()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let group = rustix::process::Pid::from_raw(o.id() as i32).unwrap();
    let o = o.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    for line in [
        "memtide sample (3 processes + system)",
        "bare kernel reads of a sample",
        "memtide's first sample over the whole process table",
        "the Guide's shell loop: ps -axo",
        "exec check over",
        "counting a runner's resident weights (256 MiB mapped)",
        "memtide record, the default selection (",
        "memtide record --pid, 3 processes ",
        "memtide record --pid, 6 processes ",
        "memtide record --match, 3 processes (exec check every 5 s)",
        "young in the table",
        "old in the table",
        "new PIDs a second",
        "memtide record ÷ its own reads with no other work",
        "the same reads, paced, no other work",
        "the cheapest reads of the same figures, paced",
        "waking at 10 Hz, reading nothing",
        "memtide's sampler alone (no trace, no live state)",
        "two appends of a sample's rows (",
        "the same, finding Ollama's processes by name",
        " the sampler's parsing and bookkeeping (by PID), ",
        " finding Ollama's processes by name, ",
        " the trace's two appends, ",
        " the rest (the rows, the live state, the recorder's loop)",
        "the pressure level poller, per read (10 a second)",
        "memtide record ÷ the cheapest reads",
        "the Guide's shell loop ÷ memtide record",
        "the Guide's shell loop, ",
        "in the table)",
        "each further process followed",
        "memtide record, peak RSS",
    ] {
        assert!(out.contains(line), "{line} missing from\n{out}");
    }
    // sysinfo, the well-known crate it is set beside, is in the Linux build only.
    if cfg!(target_os = "linux") {
        assert!(
            out.contains("sysinfo: the same processes and memory"),
            "{out}"
        );
    } else {
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("sysinfo is not part of memtide's macOS build"),
            "{err}"
        );
    }
    // Words a user knows, and a verdict on every line with a target.
    for word in ["tick", "floor", "budget", "seed"] {
        assert!(!out.contains(word), "`{word}` in\n{out}");
    }
    for l in out.lines().filter(|l| l.contains("target")) {
        assert!(l.ends_with("meets") || l.ends_with("misses"), "{l}");
    }
    // The shell loop's cost grows with the table: its ratio is judged at a desktop's table,
    // and shown without a verdict at the small one.
    let small = out
        .lines()
        .find(|l| l.contains("the Guide's shell loop ÷ memtide record"))
        .unwrap();
    assert!(small.ends_with("in the table)"), "{small}");
    let ratio = out
        .lines()
        .find(|l| l.contains("memtide record ÷ the cheapest reads"))
        .and_then(|l| l.split_whitespace().find(|w| w.ends_with('×')))
        .map(|w| w.trim_end_matches('×'))
        .unwrap();
    // A figure, not a timing: what it is on a loaded machine is for the benchmarks to say.
    // With runs this short, either cost may come out at zero or below, which is said as
    // noise (and misses), never as a number.
    assert!(
        ratio == "noise" || ratio.parse::<f64>().is_ok_and(|r| r.is_finite() && r > 0.0),
        "record ÷ cheapest = {ratio}"
    );
    // The idle runners and the 900 processes that filled the table are gone.
    assert_eq!(
        rustix::process::test_kill_process_group(group),
        Err(rustix::io::Errno::SRCH),
        "processes the bench started are left"
    );
}

/// The names of what `dir` holds, sorted.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn bench_stopped_by_a_signal_removes_its_files_and_leaves_no_child_behind() {
    // Its own temporary directory, so that only this bench's files are looked at; its own
    // process group (`short_bench`), so that what it started can be found once it has gone.
    let tmp = tempfile::tempdir().unwrap();
    let mut bench = short_bench()
        .env("TMPDIR", tmp.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let group = rustix::process::Pid::from_raw(bench.id() as i32).unwrap();
    let bench_files = || {
        names_in(tmp.path())
            .into_iter()
            .filter(|n| n.starts_with("memtide-bench-"))
            .collect::<Vec<_>>()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while bench_files().is_empty() {
        assert!(Instant::now() < deadline, "the bench made no directory");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The bench alone, as `kill -INT` gives it; not its children.
    signal(bench.id(), "-INT");
    let status = bench.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{status:?}");
    assert_eq!(
        bench_files(),
        Vec::<String>::new(),
        "left in the temporary directory"
    );
    // The idle runners end as their input closes, a recorder at its --duration.
    let deadline = Instant::now() + Duration::from_secs(60);
    while rustix::process::test_kill_process_group(group).is_ok() {
        assert!(
            Instant::now() < deadline,
            "processes the bench started are left"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn bench_removes_what_a_killed_bench_left_and_nothing_else() {
    let tmp = tempfile::tempdir().unwrap();
    // A bench killed outright left its model file under a process ID that no process has now
    // (PIDs are given in turn: the one of a child just reaped is not given again soon).
    let mut ended = Command::new("true").spawn().unwrap();
    ended.wait().unwrap();
    let left = tmp
        .path()
        .join(format!("memtide-bench-models-{}", ended.id()));
    std::fs::create_dir(&left).unwrap();
    std::fs::write(left.join("model"), b"weights").unwrap();
    // A running bench's directory (this test is alive), and names that are not a bench's.
    let kept = [
        format!("memtide-bench-records-{}", std::process::id()),
        format!("memtide-bench-models-{}x", ended.id()),
        "memtide-bench-matches-nothing".to_string(),
        "notes".to_string(),
    ];
    for k in &kept {
        std::fs::create_dir(tmp.path().join(k)).unwrap();
    }
    let bench = short_bench()
        .env("TMPDIR", tmp.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Once the bench has made a directory of its own, the old one was removed (or never will
    // be); then it is stopped, as a person would, and cleans up its own.
    let own = format!("-{}", bench.id());
    let deadline = Instant::now() + Duration::from_secs(60);
    while !names_in(tmp.path()).iter().any(|n| n.ends_with(&own)) {
        assert!(Instant::now() < deadline, "the bench made no directory");
        std::thread::sleep(Duration::from_millis(20));
    }
    signal(bench.id(), "-INT");
    let out = bench.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!left.exists(), "a killed bench's directory is left");
    assert!(
        stderr.contains("removed 1 directory that a bench killed earlier left"),
        "{stderr}"
    );
    let mut expected = kept.to_vec();
    expected.sort();
    assert_eq!(names_in(tmp.path()), expected);
}

/// A stand-in runner whose blob no manifest names.
fn unnamed_runner(dir: &Path, hex_digit: char, mib: u32) -> Child {
    let blob = dir
        .join("elsewhere/blobs")
        .join(format!("sha256-{}", hex_digit.to_string().repeat(64)));
    fake_runner(&blob, mib)
}

#[test]
fn every_runner_is_its_own_row_and_an_unnamed_one_is_named_by_its_digest() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = unnamed_runner(dir.path(), 'a', 8);
    let mut b = unnamed_runner(dir.path(), 'b', 8);
    std::thread::sleep(Duration::from_millis(300));
    let out = dir.path().join("t");
    let o = record(
        &out,
        &[
            "--duration",
            "2s",
            "--no-ollama",
            "--pid",
            &a.id().to_string(),
            "--pid",
            &b.id().to_string(),
        ],
    );
    for c in [&mut a, &mut b] {
        let _ = c.kill();
        let _ = c.wait();
    }
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = report_json(&out);
    let models = r["models"].as_array().unwrap();
    assert_eq!(models.len(), 2, "{models:?}");
    let names: Vec<&str> = models
        .iter()
        .map(|m| m["model"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"sha256:aaaaaaaaaaaa…") && names.contains(&"sha256:bbbbbbbbbbbb…"),
        "{names:?}"
    );
    assert!(models.iter().all(|m| m["name_source"] == "digest"));
    let pids: Vec<u64> = models
        .iter()
        .map(|m| m["runner_pid"].as_u64().unwrap())
        .collect();
    assert!(pids.contains(&u64::from(a.id())) && pids.contains(&u64::from(b.id())));
}

#[test]
fn another_engines_llama_server_is_never_credited_with_an_ollama_model() {
    let ollama = FakeOllama::start(Mode::Json(r#"{"models":[]}"#.to_owned()));
    let dir = tempfile::tempdir().unwrap();
    // llama.cpp's own server (here memtide's stand-in under that name), running before the
    // recording, holding 16 MiB, with a model file of its own.
    let server = dir.path().join("llama-server");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_memtide"), &server).unwrap();
    let mut llama = Command::new(&server)
        .args([
            "runner",
            "--model",
            "/srv/models/qwen2.5-0.5b-q4_k_m.gguf",
            "--port",
            "8080",
        ])
        .args(["--mib", "16"])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let out = dir.path().join("t");
    // Matched by its path, which is this test's own: every other `llama-server` on the
    // machine is left out.
    let token = server.display().to_string();
    let rec = {
        let url = ollama.url.clone();
        let out = out.clone();
        std::thread::spawn(move || {
            record(
                &out,
                &[
                    "--duration",
                    "4s",
                    "--match",
                    &token,
                    "--ollama",
                    &url,
                    "--ollama-interval",
                    "250ms",
                ],
            )
        })
    };
    // Ollama loads a model while the recording runs.
    std::thread::sleep(Duration::from_millis(1200));
    ollama.set(Mode::Json(TWO_MODELS.to_owned()));
    let o = rec.join().unwrap();
    let _ = llama.kill();
    let _ = llama.wait();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = report_json(&out);
    assert_eq!(
        events_of(&r, "model_load").len(),
        2,
        "Ollama's loads are seen"
    );
    let models = r["models"].as_array().unwrap();
    assert_eq!(models.len(), 1, "{models:?}");
    let m = &models[0];
    assert_eq!(m["engine"], "llama.cpp server");
    assert_eq!(m["under_ollama"], false);
    assert_eq!(
        m["model"], "qwen2.5-0.5b-q4_k_m.gguf",
        "its own file, not Ollama's model"
    );
    assert_ne!(m["name_source"], "api_ps");
    let text =
        String::from_utf8(memtide().arg("report").arg(&out).output().unwrap().stdout).unwrap();
    assert!(text.contains("(llama.cpp server)"), "{text}");
}

#[test]
fn twelve_runners_alive_together_are_one_overlap_with_twelve_members() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t");
    let mut rec = memtide()
        .args([
            "record",
            "--quiet",
            "--no-ollama",
            "--duration",
            "6s",
            "--interval",
            "100ms",
        ])
        .args(["--match", "twelve/model-"])
        .arg("--out")
        .arg(&out)
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(400));
    let mut runners: Vec<Child> = (0..12)
        .map(|i| {
            std::thread::sleep(Duration::from_millis(100));
            memtide()
                .args(["runner", "--model", &format!("twelve/model-{i}:1b")])
                .args(["--port", &(46000 + i).to_string(), "--mib", "4"])
                .spawn()
                .unwrap()
        })
        .collect();
    std::thread::sleep(Duration::from_millis(2500));
    for r in &mut runners {
        let _ = r.kill();
        let _ = r.wait();
    }
    assert!(rec.wait().unwrap().success());
    let r = report_json(&out);
    let overlaps = events_of(&r, "overlap");
    assert_eq!(overlaps.len(), 1, "one event, not 66: {overlaps:?}");
    let o = overlaps[0];
    assert_eq!(o["runners"].as_array().unwrap().len(), 12);
    assert_eq!(o["max_alive"], 12);
    let text =
        String::from_utf8(memtide().arg("report").arg(&out).output().unwrap().stdout).unwrap();
    let sentence = text
        .lines()
        .find(|l| l.contains("runners were alive"))
        .expect("one sentence");
    assert!(
        sentence.contains("12 runners were alive, at most 12 at once"),
        "{sentence}"
    );
    assert_eq!(text.matches("was still alive while").count(), 0, "{text}");
    // The chart shades the interval once per stretch, darker where more overlap, never as 66
    // stacked bands.
    let svg = dir.path().join("c.svg");
    assert!(memtide()
        .arg("render")
        .arg(&out)
        .arg("-o")
        .arg(&svg)
        .status()
        .unwrap()
        .success());
    let levels = o["levels"].as_array().unwrap();
    assert!(levels.len() <= 2 * 12, "{} levels", levels.len());
    assert!(levels.iter().any(|l| l["alive"] == 12));
    for w in levels.windows(2) {
        assert!(
            w[0]["end_ms"].as_u64() <= w[1]["start_ms"].as_u64(),
            "levels never overlap"
        );
    }
}

#[test]
fn serve_refuses_a_port_in_use_and_flags_that_need_record() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (ok, _, err) = run(&["serve", "--no-ollama", "--listen", &addr]);
    assert!(!ok);
    assert!(
        err.contains(&format!("cannot listen on {addr}")),
        "the address is named: {err}"
    );
    let (ok, _, err) = run(&["serve", "--no-ollama", "--keep", "1h"]);
    assert!(!ok);
    assert!(err.contains("--record DIR"), "{err}");
    let (ok, _, err) = run(&["serve", "--listen", "localhost"]);
    assert!(!ok);
    assert!(err.contains("--listen"), "{err}");
    // Loopback by default, and the help says that exposing it is a choice.
    let (ok, help, _) = run(&["serve", "--help"]);
    assert!(ok);
    assert!(help.contains("[default: 127.0.0.1:9464]"), "{help}");
    assert!(help.contains("only this machine can scrape"), "{help}");
}

/// A child killed when the test ends, also by a failed assertion: a server left behind would
/// hold the test's output open.
#[test]
fn serve_answers_metrics_and_bad_requests_and_stops_on_sigint() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let me = std::process::id().to_string();
    let mut serve = KillOnDrop(
        memtide()
            .args([
                "serve",
                "--no-ollama",
                "--quiet",
                "--interval",
                "100ms",
                "--pid",
                &me,
            ])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    // The reply, or nothing while memtide is not listening yet.
    let ask = |request: &str| -> String {
        let exchange = || -> std::io::Result<String> {
            let mut s = TcpStream::connect(("127.0.0.1", port))?;
            s.write_all(request.as_bytes())?;
            let mut reply = String::new();
            s.read_to_string(&mut reply)?;
            Ok(reply)
        };
        exchange().unwrap_or_default()
    };
    let get = |path: &str| {
        ask(&format!(
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        ))
    };
    let mut metrics = String::new();
    for _ in 0..100 {
        metrics = get("/metrics");
        if metrics.contains("memtide_helper_rss_bytes") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    assert!(
        metrics.contains("Content-Type: text/plain; version=0.0.4"),
        "{metrics}"
    );
    // This test process, followed by PID, is an `other` helper with its RSS.
    let rss: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("memtide_helper_rss_bytes{role=\"other\"} "))
        .unwrap_or_else(|| panic!("{metrics}"))
        .parse()
        .unwrap();
    assert!(rss > 1 << 20, "{rss}");
    assert!(get("/").contains("are at /metrics"));
    assert!(get("/metrics/extra").starts_with("HTTP/1.1 404"));
    let post =
        ask("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    assert!(post.starts_with("HTTP/1.1 405"), "{post}");
    assert!(post.contains("Allow: GET, HEAD"), "{post}");
    assert!(ask("what\r\n\r\n").starts_with("HTTP/1.1 400"));
    // Still serving after all that.
    assert!(get("/metrics").contains("memtide_samples_total"));
    signal(serve.0.id(), "-INT");
    let status = serve.0.wait().unwrap();
    let mut err = String::new();
    serve
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(status.success(), "{status:?}: {err}");
}

/// A command that starts a daemon and returns at once. The daemon is re-parented on Linux to
/// memtide (a subreaper while it runs the command) and on macOS to launchd, where memtide
/// finds it by its process group: the command's own (`lead` false: memtide was started with
/// no terminal and leads no group), or memtide's job (`lead`: memtide leads its group, as a
/// shell starts a job). Returns the identities recorded and the daemon's PID.
fn run_of_a_command_that_leaves_a_daemon(lead: bool) -> (Vec<IdentityRow>, u32) {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("trace");
    let pid_file = dir.path().join("daemon.pid");
    let mut run = memtide();
    if lead {
        run.process_group(0);
    }
    let o = run
        .args(["run", "--no-ollama", "--only-command", "--quiet"])
        // A tail of 3 s, for a loaded machine to list the table after the daemon is born.
        .args(["--interval", "50ms", "--tail", "3s"])
        .arg("--out")
        .arg(&out)
        .args([
            "--",
            "sh",
            "-c",
            // The daemon is first a copy of the shell, and calls exec a moment later: memtide
            // lists it before its exec, and must name it as it becomes.
            r#"( sleep 0.5; exec sleep 6 ) & echo $! > "$DAEMON_PID"; exit 0"#,
        ])
        .env("DAEMON_PID", &pid_file)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let daemon = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    (rows(&out, "identities.csv"), daemon)
}

#[test]
fn run_keeps_the_processes_its_command_leaves_behind() {
    for lead in [false, true] {
        let (ids, daemon) = run_of_a_command_that_leaves_a_daemon(lead);
        // Under the name its exec gave it.
        assert!(
            ids.iter().any(|i| i.pid == daemon && i.name == "sleep"),
            "lead {lead}: daemon {daemon} not in {ids:?}"
        );
        // memtide, the root of what it adopts and a member of its job's group, is not among
        // what it follows.
        assert!(
            !ids.iter().any(|i| i.name == "memtide"),
            "lead {lead}: {ids:?}"
        );
    }
}

#[test]
fn run_returns_the_commands_status_and_records_it_and_its_children() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("trace");
    // A stand-in runner started by the command, held for a second and a half, then the
    // command's own output and a failing status.
    let script = format!(
        "{} runner --model qwen3:8b --port 50999 --mib 48 & p=$!; \
         sleep 1.2 & sleep 1.2 & sleep 1.2 & sleep 1.2 & sleep 1.5; kill $p; wait $p; \
         echo the-commands-output; exit 3",
        env!("CARGO_BIN_EXE_memtide")
    );
    let o = memtide()
        .args([
            "run",
            "--no-ollama",
            "--only-command",
            "--interval",
            "100ms",
            "--tail",
            "500ms",
            "--out",
        ])
        .arg(&out)
        .args(["--", "sh", "-c", &script])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{stderr}");
    // The command's output is all of standard output; memtide's report goes to standard error.
    assert_eq!(stdout, "the-commands-output\n");
    assert!(stderr.contains("The command (pid "), "{stderr}");
    assert!(stderr.contains("failed with status 3"), "{stderr}");
    // The runner comes first; the command's own shell and sleeps share one line, and their
    // peaks are not among what happened.
    assert!(stderr.contains("others, largest first: "), "{stderr}");
    let happened = stderr.split("What happened").nth(1).unwrap_or_default();
    assert!(happened.contains("for qwen3:8b"), "{stderr}");
    let peaks: Vec<&str> = happened
        .lines()
        .filter(|l| l.contains("Peak ") && l.contains(" of PID "))
        .collect();
    assert!(
        !peaks.is_empty() && peaks.iter().all(|l| l.contains("qwen3:8b")),
        "{stderr}"
    );

    let m = meta(&out);
    let c = m.command.expect("meta.json names the command");
    assert_eq!(c.argv, ["sh", "-c", script.as_str()]);
    assert_eq!((c.exit_code, c.signal), (Some(3), None));
    let ran = c.exit_t_ms.unwrap() - c.start_t_ms;
    assert!((1400..5000).contains(&ran), "ran {ran} ms");
    // The command and its child, the runner, were followed.
    let ids: Vec<IdentityRow> = rows(&out, "identities.csv");
    // macOS's /bin/sh is bash, which keeps the PID under its own name (sh(1)).
    assert!(
        ids.iter()
            .any(|i| i.pid == c.pid && (i.name == "sh" || i.name == "bash")),
        "{ids:?}"
    );
    // --only-command: the command's tree and nothing else on the machine.
    let mut tree = vec![c.pid];
    while let Some(child) = ids
        .iter()
        .find(|i| tree.contains(&i.ppid) && !tree.contains(&i.pid))
    {
        tree.push(child.pid);
    }
    assert!(ids.iter().all(|i| tree.contains(&i.pid)), "{ids:?}");
    let runner = ids
        .iter()
        .find(|i| i.ppid == c.pid && i.argv.iter().any(|a| a == "runner"))
        .unwrap_or_else(|| panic!("no runner in {ids:?}"));
    let samples: Vec<ProcessRow> = rows(&out, "processes.csv");
    let peak = samples
        .iter()
        .filter(|r| r.pid == runner.pid)
        .filter_map(|r| r.footprint_bytes)
        .max()
        .unwrap();
    assert!(peak >= 48 << 20, "{peak}");

    let (ok, json, err) = run(&["report", out.to_str().unwrap(), "--format", "json"]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let events = v["events"].as_array().unwrap();
    let of = |t: &str| events.iter().find(|e| e["type"] == t).cloned();
    let start = of("command_start").expect("a command_start event");
    assert_eq!(start["pid"], c.pid);
    assert_eq!(start["argv"][0], "sh");
    let exit = of("command_exit").expect("a command_exit event");
    assert_eq!(exit["exit_code"], 3);
    assert_eq!(exit["t_ms"], c.exit_t_ms.unwrap());
}

#[test]
fn run_passes_a_signal_on_to_the_command_and_takes_its_status() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("trace");
    // A command that says it started, then waits; on SIGINT it exits with 42.
    let mut child = KillOnDrop(
        memtide()
            .args([
                "run",
                "--no-ollama",
                "--only-command",
                "--quiet",
                "--tail",
                "200ms",
            ])
            .arg("--out")
            .arg(&out)
            .args([
                "--",
                "sh",
                "-c",
                "trap 'exit 42' INT; echo ready; while :; do sleep 0.05; done",
            ])
            .stdout(Stdio::piped())
            .stdin(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "ready\n");
    // Ctrl-C without a terminal: memtide is sent it, and passes it on.
    signal(child.0.id(), "-INT");
    let status = child.0.wait().unwrap();
    assert_eq!(status.code(), Some(42));
    let c = meta(&out).command.unwrap();
    assert_eq!(c.exit_code, Some(42));
    assert!(meta(&out).end_utc.is_some(), "the trace is finished");
}

#[test]
fn run_of_a_missing_command_says_so_with_a_shells_status() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("trace");
    let o = memtide()
        .args(["run", "--no-ollama", "--only-command", "--out"])
        .arg(&out)
        .args(["--", "no-such-command-xyzzy"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(127));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("cannot run `no-such-command-xyzzy`"), "{err}");
    assert!(meta(&out).end_utc.is_some(), "the trace is finished");
}

/// `memtide compare A B --format json`, parsed.
/// B − A of a model's figure `what` in a comparison's JSON.
fn delta(model: &serde_json::Value, what: &str) -> f64 {
    model["differences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["what"] == what)
        .unwrap_or_else(|| panic!("no {what} in {model}"))["delta"]
        .as_f64()
        .unwrap()
}

fn compare_json(a: &Path, b: &Path) -> serde_json::Value {
    let (ok, out, err) = run(&[
        "compare",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(ok, "{err}");
    serde_json::from_str(&out).unwrap()
}

/// `trace-twelve-runners` copied into `dir`, with `add` bytes on every footprint and RSS of
/// the runner `pid`.
fn twelve_runners_with(dir: &Path, pid: u32, add: u64) -> PathBuf {
    let out = dir.join(format!("twelve-{add}"));
    copy_dir(&seed_path("tests/fixtures/trace-twelve-runners"), &out);
    let path = out.join("processes.csv");
    let mut r = csv::Reader::from_path(&path).unwrap();
    let headers = r.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (pid_col, rss, footprint) = (col("pid"), col("rss_bytes"), col("footprint_bytes"));
    let mut w = csv::Writer::from_path(out.join("processes.tmp")).unwrap();
    w.write_record(&headers).unwrap();
    for row in r.records() {
        let row = row.unwrap();
        let mut fields: Vec<String> = row.iter().map(str::to_owned).collect();
        if fields[pid_col] == pid.to_string() {
            for c in [rss, footprint] {
                let v: u64 = fields[c].parse().unwrap();
                fields[c] = (v + add).to_string();
            }
        }
        w.write_record(&fields).unwrap();
    }
    w.flush().unwrap();
    std::fs::rename(out.join("processes.tmp"), &path).unwrap();
    out
}

#[test]
fn compare_tells_exactly_a_runners_peak_that_differs_and_nothing_for_a_trace_itself() {
    let dir = tempfile::tempdir().unwrap();
    let a = twelve_runners_with(dir.path(), 31860, 0);
    let b = twelve_runners_with(dir.path(), 31860, 300 << 20);
    // A trace against itself: every figure the same.
    let same = compare_json(&a, &a);
    for m in same["models"].as_array().unwrap() {
        assert_eq!(m["matched_by"], "name");
        for d in m["differences"].as_array().unwrap() {
            assert_eq!(d["delta"], 0.0, "{d}");
        }
    }
    let (ok, text, _) = run(&["compare", a.to_str().unwrap(), a.to_str().unwrap()]);
    assert!(ok);
    assert!(text.contains("No differences"), "{text}");

    // B's gemma3:4b holds 300 MiB more: that, and only that model's memory, differs.
    let c = compare_json(&a, &b);
    let models = c["models"].as_array().unwrap();
    assert_eq!(models.len(), 12);
    for m in models {
        let diff = |what: &str| delta(m, what);
        let want = if m["model"] == "gemma3:4b" {
            (300 << 20) as f64
        } else {
            0.0
        };
        assert_eq!(diff("peak_footprint_bytes"), want, "{}", m["model"]);
        assert_eq!(diff("peak_rss_bytes"), want, "{}", m["model"]);
        assert_eq!(diff("lifetime_ms"), 0.0);
    }
    let (ok, text, _) = run(&["compare", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert!(ok);
    assert!(!text.contains("No differences"), "{text}");
    assert!(text.contains("+300 MiB (×"), "{text}");
}

#[test]
fn compare_of_two_recordings_whose_runner_held_300_mib_more_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let record = |name: &str, mib: u32| -> PathBuf {
        let out = dir.path().join(name);
        let o = memtide()
            .args([
                "run",
                "--no-ollama",
                "--only-command",
                "--quiet",
                "--interval",
                "100ms",
                "--tail",
                "200ms",
            ])
            .arg("--out")
            .arg(&out)
            .args([
                "--",
                env!("CARGO_BIN_EXE_memtide"),
                "runner",
                "--model",
                "qwen3:8b",
            ])
            .args([
                "--port",
                "50998",
                "--mib",
                &mib.to_string(),
                "--exit-with-stdin",
            ])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        // Closing the runner's standard input after 1.5 s ends it.
        let mut o = o;
        let stdin = o.stdin.take().unwrap();
        std::thread::sleep(Duration::from_millis(1500));
        drop(stdin);
        assert!(o.wait().unwrap().success());
        out
    };
    let a = record("small", 64);
    let b = record("large", 364);
    let c = compare_json(&a, &b);
    let m = &c["models"][0];
    assert_eq!(
        (m["model"].as_str(), m["matched_by"].as_str()),
        (Some("qwen3:8b"), Some("name"))
    );
    let peak = m["differences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["what"] == "peak_footprint_bytes")
        .unwrap();
    let delta = peak["delta"].as_f64().unwrap();
    // The runner's own overhead is the same in both; what it touched differs by 300 MiB.
    assert!(
        (delta - (300 << 20) as f64).abs() < (2 << 20) as f64,
        "peak footprint differs by {delta} bytes"
    );
    assert!(peak["ratio"].as_f64().unwrap() > 4.0);
}

#[test]
fn compare_of_the_imported_mac_trace_tells_what_the_report_and_chart_tell() {
    let t =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/model/tests/fixtures/trace-imported");
    let c = compare_json(&t, &t);
    // The least available memory by the definition the chart draws (free % × RAM on a Mac:
    // 22 % of 32 GiB), not the trace's available_bytes column.
    assert_eq!(c["a"]["available_source"], "free % × RAM");
    let least = c["a"]["min_available_bytes"].as_u64().unwrap();
    let gib = format!("{:.2} GiB", least as f64 / (1u64 << 30) as f64);
    assert_eq!(gib, "7.04 GiB");
    let svg = std::env::temp_dir().join(format!(
        "memtide-compare-imported-{}.svg",
        std::process::id()
    ));
    let (ok, _, err) = run(&[
        "render",
        t.to_str().unwrap(),
        "-o",
        svg.to_str().unwrap(),
        "--force",
    ]);
    assert!(ok, "{err}");
    let drawn = std::fs::read_to_string(&svg).unwrap();
    let _ = std::fs::remove_file(&svg);
    assert!(
        drawn.contains(&format!("min {gib}")),
        "the chart's legend gives another least available"
    );
    // Ollama answered /api/ps in that trace; only its version is unknown. Pressure was not
    // recorded: unknown, not zero.
    assert_eq!(c["a"]["ollama_answered"], true);
    assert!(c["a"]["pressure_ms"].is_null());
    let (ok, text, _) = run(&["compare", t.to_str().unwrap(), t.to_str().unwrap()]);
    assert!(ok);
    assert!(text.contains("Ollama answered, version unknown"), "{text}");
    assert!(!text.contains("not asked or not answering"), "{text}");
    assert!(
        !text.contains("under warning or critical pressure"),
        "{text}"
    );
}

/// A trace whose recorder stopped before its first sample: its files are only headers.
#[test]
fn compare_drawn_of_an_empty_trace_says_it_is_empty_not_misaligned() {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/model/tests/fixtures/trace-imported");
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    for e in std::fs::read_dir(&fixture).unwrap().flatten() {
        let text = std::fs::read_to_string(e.path()).unwrap();
        let kept = if e.file_name() == "meta.json" {
            text
        } else {
            text.lines().next().unwrap_or_default().to_owned() + "\n"
        };
        std::fs::write(empty.join(e.file_name()), kept).unwrap();
    }
    let out = tmp.path().join("c.svg");
    for align in ["start", "first-load"] {
        let (ok, _, err) = run(&[
            "compare",
            empty.to_str().unwrap(),
            fixture.to_str().unwrap(),
            "--align",
            align,
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(!ok);
        assert!(err.contains("empty has no samples"), "{align}: {err}");
        assert!(!err.contains("align"), "{align}: {err}");
    }
}

#[test]
fn compare_of_a_mapped_and_a_copied_load_of_one_model_names_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    // A blob of Ollama's models directory, as its runners are given.
    let blobs = dir.path().join("models/blobs");
    std::fs::create_dir_all(&blobs).unwrap();
    let model = blobs.join(format!("sha256-{}", "7a".repeat(32)));
    std::fs::write(&model, vec![7u8; 96 << 20]).unwrap();
    // A maps the file and reads 80 MiB of it; B holds the same 80 MiB copied into its own
    // memory, as llama.cpp does with --load-mode none.
    let record = |name: &str, how: &[&str]| -> PathBuf {
        let out = dir.path().join(name);
        let mut o = memtide()
            .args(["run", "--no-ollama", "--only-command", "--quiet"])
            .args(["--interval", "100ms", "--tail", "200ms", "--out"])
            .arg(&out)
            .args(["--", env!("CARGO_BIN_EXE_memtide"), "runner", "--model"])
            .arg(&model)
            .args(["--port", "50997", "--exit-with-stdin"])
            .args(how)
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = o.stdin.take().unwrap();
        std::thread::sleep(Duration::from_millis(2000));
        drop(stdin);
        assert!(o.wait().unwrap().success());
        out
    };
    let map = model.display().to_string();
    let a = record(
        "mapped",
        &["--mib", "4", "--map-file", &map, "--map-read-mib", "80"],
    );
    let b = record("copied", &["--mib", "84"]);
    let c = compare_json(&a, &b);
    let m = &c["models"][0];
    assert_eq!(m["matched_by"], "digest", "{m}");
    assert_eq!(m["weights_moved"], "mapped_to_copied", "{m}");
    assert_eq!(
        (&m["a"]["weights"], &m["b"]["weights"]),
        (&"mapped".into(), &"copied".into())
    );
    let diff = |what: &str| delta(m, what);
    // The footprint moved by the weights; model memory, which counts them both ways, did not.
    let footprint = diff("peak_footprint_bytes");
    assert!(
        (footprint - (80 << 20) as f64).abs() < (4 << 20) as f64,
        "{footprint}"
    );
    let memory = diff("peak_model_memory_bytes");
    assert!(memory.abs() < (4 << 20) as f64, "{memory}");
    let text = memtide().arg("compare").arg(&a).arg(&b).output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("Why the footprint moved: A mapped the model's weights"),
        "{text}"
    );
}

#[test]
fn compare_draws_both_traces_on_one_axis_and_keeps_a_users_file() {
    let dir = tempfile::tempdir().unwrap();
    let a = twelve_runners_with(dir.path(), 31860, 0);
    let b = twelve_runners_with(dir.path(), 31860, 300 << 20);
    let (sa, sb) = (a.to_str().unwrap(), b.to_str().unwrap());
    let svg = dir.path().join("c.svg");
    let (ok, _, err) = run(&[
        "compare",
        sa,
        sb,
        "-o",
        svg.to_str().unwrap(),
        "--align",
        "first-load",
    ]);
    assert!(ok, "{err}");
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(
        text.contains("aligned on the first model load"),
        "the title says how"
    );
    for label in [
        "A gemma3:4b (31860)",
        "B gemma3:4b (31860)",
        "A available",
        "B available",
    ] {
        assert!(text.contains(label), "{label}");
    }
    let png = dir.path().join("c.png");
    let (ok, _, err) = run(&[
        "compare",
        sa,
        sb,
        "-o",
        png.to_str().unwrap(),
        "--layout",
        "overlay",
    ]);
    assert!(ok, "{err}");
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
    let html = dir.path().join("c.html");
    let (ok, _, err) = run(&["compare", sa, sb, "-o", html.to_str().unwrap()]);
    assert!(ok, "{err}");
    let page = std::fs::read_to_string(&html).unwrap();
    // The viewer (uPlot, both traces' lines in its data) and the comparison.
    assert!(
        page.contains("uPlot") && page.contains("B gemma3:4b (31860)"),
        "the viewer"
    );
    assert!(page.contains("+300 MiB"), "the comparison");
    // A file memtide did not draw is not replaced.
    let mine = dir.path().join("notes.svg");
    std::fs::write(&mine, "my notes").unwrap();
    let (ok, _, err) = run(&["compare", sa, sb, "-o", mine.to_str().unwrap()]);
    assert!(!ok && err.contains("memtide did not draw it"), "{err}");
    assert_eq!(std::fs::read_to_string(&mine).unwrap(), "my notes");
}

/// `trace-twelve-runners` copied into `dir` with the runner of `qwen3:4b` pointed at a blob,
/// as a GGUF runner's `--model` is, named there (`models`) or not.
fn twelve_runners_with_blob(dir: &Path, name: &str, named: bool) -> PathBuf {
    let out = dir.join(name);
    copy_dir(&seed_path("tests/fixtures/trace-twelve-runners"), &out);
    let path = out.join("identities.csv");
    let blob = "/Users/me/.ollama/models/blobs/sha256-a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72";
    let text = std::fs::read_to_string(&path).unwrap();
    let mut rows: Vec<IdentityRow> = csv::Reader::from_reader(text.as_bytes())
        .deserialize()
        .map(Result::unwrap)
        .collect();
    for r in &mut rows {
        if r.argv.iter().any(|a| a == "qwen3:4b") {
            for a in r.argv.iter_mut().filter(|a| *a == "qwen3:4b") {
                *a = blob.to_string();
            }
            r.models = if named {
                vec!["qwen3:4b".into()]
            } else {
                Vec::new()
            };
        }
    }
    let mut w = csv::Writer::from_path(&path).unwrap();
    for r in &rows {
        w.serialize(r).unwrap();
    }
    w.flush().unwrap();
    out
}

#[test]
fn compare_matches_a_model_named_in_one_trace_by_its_blob_in_the_other() {
    let dir = tempfile::tempdir().unwrap();
    let a = twelve_runners_with_blob(dir.path(), "named", true);
    let b = twelve_runners_with_blob(dir.path(), "digest-only", false);
    let c = compare_json(&a, &b);
    let models = c["models"].as_array().unwrap();
    // Twelve models, none left unmatched: qwen3:4b by its digest, keeping A's name.
    assert_eq!(models.len(), 12, "{models:?}");
    let qwen = models.iter().find(|m| m["model"] == "qwen3:4b").unwrap();
    assert_eq!(qwen["matched_by"], "digest");
    assert!(models
        .iter()
        .all(|m| m["matched_by"] != "only_a" && m["matched_by"] != "only_b"));
}

#[test]
fn run_and_serve_refuse_a_directory_that_holds_a_trace_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("kept");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("meta.json"), "{\"mine\": true}").unwrap();
    let o = memtide()
        .args(["run", "--no-ollama", "--only-command", "--out"])
        .arg(&out)
        .args(["--", "true"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let (ok, _, err) = run(&[
        "serve",
        "--no-ollama",
        "--listen",
        "127.0.0.1:0",
        "--record",
        out.to_str().unwrap(),
    ]);
    assert!(!ok, "{err}");
    // Neither wrote into it.
    assert_eq!(
        std::fs::read_to_string(out.join("meta.json")).unwrap(),
        "{\"mine\": true}"
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("--force"));
}

#[test]
fn run_without_the_double_dash_says_where_the_command_goes() {
    let o = memtide()
        .args(["run", "--interval", "1s", "sleep", "1"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "tip: the command to run goes after `--`: `memtide run --interval 1s -- sleep 1`"
        ),
        "{stderr}"
    );
}

#[test]
fn man_writes_the_page_of_every_subcommand_and_replaces_none_untold() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("man1");
    let o = memtide().arg("man").arg(&dir).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let top = std::fs::read_to_string(dir.join("memtide.1")).unwrap();
    // Every page the top page sends the reader to exists, and is the subcommand's own.
    for sub in [
        "record", "top", "serve", "run", "report", "render", "view", "compare", "man",
    ] {
        let page = std::fs::read_to_string(dir.join(format!("memtide-{sub}.1")))
            .unwrap_or_else(|e| panic!("memtide-{sub}.1: {e}"));
        assert!(page.contains(&format!(".TH memtide-{sub} 1")), "{sub}");
        assert!(
            top.contains(&format!("memtide\\-{sub}(1)")),
            "{sub} not named on the top page"
        );
    }
    // The stand-ins memtide's own tests use have no page.
    assert!(!dir.join("memtide-runner.1").exists());
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        stdout.lines().count(),
        std::fs::read_dir(&dir).unwrap().count()
    );
    // A second time, the pages are there: nothing is replaced without --force.
    std::fs::write(dir.join("memtide-run.1"), "a page of the user's").unwrap();
    let again = memtide().arg("man").arg(&dir).output().unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    assert_eq!(
        std::fs::read_to_string(dir.join("memtide-run.1")).unwrap(),
        "a page of the user's"
    );
    let forced = memtide()
        .arg("man")
        .arg(&dir)
        .arg("--force")
        .output()
        .unwrap();
    assert!(forced.status.success());
    assert!(std::fs::read_to_string(dir.join("memtide-run.1"))
        .unwrap()
        .contains(".TH"));
}

#[test]
fn record_streams_a_json_line_per_sample_and_ends_when_the_reader_goes() {
    let mut child = sleeper(30);
    let ollama = FakeOllama::start(Mode::Json(TWO_MODELS.to_owned()));
    let cwd = tempfile::tempdir().unwrap();
    let mut rec = memtide()
        .args(["record", "--jsonl", "-", "--interval", "50ms", "--quiet"])
        .args(["--pid", &child.id().to_string(), "--ollama", &ollama.url])
        .current_dir(cwd.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(rec.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    while seen.len() < 8 {
        let line = lines.next().expect("a line per sample").unwrap();
        let v: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        seen.push(v);
    }
    // The reader goes away: memtide ends as it would on Ctrl-C, without a word of error.
    drop(lines);
    let status = rec.wait().unwrap();
    let mut err = String::new();
    rec.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(status.success(), "{status:?}: {err}");
    assert!(err.is_empty(), "{err}");
    for v in &seen {
        assert_eq!(v["schema"], 1, "{v}");
        assert!(v["system"]["total_bytes"].as_u64().unwrap() > 0, "{v}");
        assert!(
            v["system"]["time_utc"].as_str().unwrap().ends_with('Z'),
            "{v}"
        );
    }
    // The followed process, with the figure every view calls its memory.
    let last = seen.last().unwrap();
    let p = &last["processes"][0];
    assert_eq!(p["pid"].as_u64(), Some(child.id() as u64), "{last}");
    assert_eq!(p["name"], "sleep");
    assert!(p["memory_bytes"].as_u64().unwrap() > 0, "{p}");
    assert!(p["memory_measure"].is_string(), "{p}");
    // Ollama's listing once it answered, and then not again while it stays the same.
    let listed: Vec<&serde_json::Value> = seen
        .iter()
        .filter(|v| v["ollama"]["answering"] == true)
        .collect();
    assert_eq!(listed.len(), 1, "{seen:?}");
    assert_eq!(listed[0]["ollama"]["models"][1]["name"], "llama3.2:3b");
    // Standard output was the recording: no trace directory appeared.
    assert_eq!(std::fs::read_dir(cwd.path()).unwrap().count(), 0);
}

#[test]
fn record_never_replaces_a_file_for_its_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let taken = dir.path().join("samples.jsonl");
    std::fs::write(&taken, "the user's\n").unwrap();
    let o = memtide()
        .args(["record", "--duration", "200ms", "--no-ollama", "--jsonl"])
        .arg(&taken)
        .arg("--out")
        .arg(dir.path().join("t"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("samples.jsonl") && err.contains("never replaced"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&taken).unwrap(), "the user's\n");
    // A new file gets a line per sample beside the trace.
    let fresh = dir.path().join("new.jsonl");
    let o = memtide()
        .args([
            "record",
            "--duration",
            "300ms",
            "--interval",
            "100ms",
            "--no-ollama",
            "--quiet",
        ])
        .arg("--jsonl")
        .arg(&fresh)
        .arg("--out")
        .arg(dir.path().join("t2"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let lines = std::fs::read_to_string(&fresh).unwrap();
    let samples = meta(&dir.path().join("t2")).samples.unwrap();
    assert_eq!(lines.lines().count() as u64, samples, "{lines}");
}

/// `memtide service` in a scratch home: what it writes (the file of this OS's service
/// manager, started by nothing: `--no-start`), that it replaces nothing untold, refuses flags
/// the front-end would refuse, says what is installed and removes it.
#[test]
fn service_install_writes_the_managers_file_and_uninstall_removes_it() {
    let home = tempfile::tempdir().unwrap();
    let svc = |args: &[&str]| {
        memtide()
            .arg("service")
            .args(args)
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join("cfg"))
            .env("XDG_STATE_HOME", home.path().join("state"))
            .output()
            .unwrap()
    };
    let (file, flight) = if cfg!(target_os = "macos") {
        (
            home.path()
                .join("Library/LaunchAgents/dev.memtide.record.plist"),
            home.path()
                .join("Library/Application Support/memtide/flight"),
        )
    } else {
        (
            home.path().join("cfg/systemd/user/memtide-record.service"),
            home.path().join("state/memtide/flight"),
        )
    };
    let o = svc(&["install", "record", "--no-start"]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        stdout.contains(&format!("wrote {}", file.display())),
        "{stdout}"
    );
    let text = std::fs::read_to_string(&file).unwrap();
    for word in [
        env!("CARGO_BIN_EXE_memtide"),
        "record",
        "--keep",
        "24h",
        "--max-size",
        "--burst",
        &flight.to_string_lossy(),
    ] {
        assert!(text.contains(word), "{word} not in {text}");
    }
    // The trace's parent exists, so that the service's first start can create the trace.
    assert!(flight.parent().unwrap().is_dir());

    // Installed already: nothing replaced without --force.
    let again = svc(&["install", "record", "--no-start", "--", "--interval", "2s"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
    let forced = svc(&[
        "install",
        "record",
        "--no-start",
        "--force",
        "--",
        "--interval",
        "2s",
    ]);
    assert!(forced.status.success());
    let replaced = std::fs::read_to_string(&file).unwrap();
    assert!(
        replaced.contains("2s") && !replaced.contains("24h"),
        "{replaced}"
    );

    // Flags the front-end refuses are refused before anything is written.
    let bad = svc(&["install", "serve", "--no-start", "--", "--no-such-flag"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--no-such-flag"));
    assert!(!file
        .with_file_name(if cfg!(target_os = "macos") {
            "dev.memtide.serve.plist"
        } else {
            "memtide-serve.service"
        })
        .exists());

    let status = svc(&["status"]);
    assert!(status.status.success());
    let said = String::from_utf8_lossy(&status.stdout);
    assert!(said.starts_with("record: "), "{said}");
    assert!(said.contains(&file.display().to_string()), "{said}");

    let gone = svc(&["uninstall"]);
    assert!(gone.status.success());
    assert!(String::from_utf8_lossy(&gone.stdout).contains("removed"));
    assert!(!file.exists());
    let none = svc(&["uninstall", "record"]);
    assert!(String::from_utf8_lossy(&none.stdout).contains("no memtide service is installed"));
}
