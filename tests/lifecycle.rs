//! Ollama's lifecycle told right by the real binary, in every output that tells it: Ollama
//! stopping, a paused load, other engines' servers, a model under two names, a restarted
//! exporter, a runner named by elimination. Each test starts its own stand-in runners (memtide's
//! hidden `runner`, whose command line has a runner's shape) and a local HTTP server in
//! Ollama's place, and follows only those.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

mod common;
use common::{
    events_of, free_port, memtide, report_json, scrape_until, value, FakeOllama, KillOnDrop, Mode,
};

/// A string no other process on the machine has in its command line: the runners carry it
/// (`--demo-id`) and the recorders follow it (`--match`).
fn token(what: &str) -> String {
    format!("lifecycle-{what}-{}", std::process::id())
}

/// `/api/ps`'s answer listing `models` (name, bytes), as Ollama gives it.
fn listing(models: &[(&str, u64)]) -> Mode {
    let models: Vec<serde_json::Value> = models
        .iter()
        .map(|(name, size)| {
            serde_json::json!({
                "name": name, "model": name, "size": size, "size_vram": size,
                "digest": "0".repeat(64), "context_length": 4096,
                "expires_at": "2099-01-01T00:00:00Z",
                "details": {"format": "gguf", "family": "llama", "parameter_size": "1B",
                            "quantization_level": "Q4_K_M"}
            })
        })
        .collect();
    Mode::Json(serde_json::json!({ "models": models }).to_string())
}

/// A stand-in runner holding `mib` MiB (and `extra` arguments), that prints `loaded` once it
/// holds all of it.
fn runner(model: &str, token: &str, mib: u32, extra: &[&str]) -> KillOnDrop {
    KillOnDrop(
        runner_cmd(
            Command::new(env!("CARGO_BIN_EXE_memtide")),
            model,
            token,
            mib,
            extra,
        )
        .spawn()
        .unwrap(),
    )
}

fn runner_cmd(mut c: Command, model: &str, token: &str, mib: u32, extra: &[&str]) -> Command {
    c.args([
        "runner",
        "--model",
        model,
        "--port",
        "45900",
        "--demo-id",
        token,
    ])
    .args(["--mib", &mib.to_string(), "--say-loaded"])
    .args(extra)
    .stdout(Stdio::piped());
    c
}

/// Waits for a runner to say it holds its memory, as Ollama waits for a runner's health before
/// it lists the model.
fn wait_loaded(r: &mut KillOnDrop) {
    let out =
        r.0.stdout
            .take()
            .expect("a runner started with --say-loaded");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(out).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the runner loads within 30 s");
    assert_eq!(line.trim(), "loaded");
}

fn record(out: &Path, token: &str, seconds: u32, ollama: Option<&str>) -> Child {
    let mut c = memtide();
    c.args(["record", "--quiet", "--interval", "100ms", "--match", token])
        .args(["--duration", &format!("{seconds}s"), "--out"])
        .arg(out);
    match ollama {
        Some(url) => c.args(["--ollama", url, "--ollama-interval", "250ms"]),
        None => c.arg("--no-ollama"),
    };
    c.spawn().unwrap()
}

fn finish(mut rec: Child) {
    let status = rec.wait().unwrap();
    assert!(status.success(), "memtide record: {status:?}");
}

fn report_text(dir: &Path) -> String {
    let o = memtide().arg("report").arg(dir).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

/// The line of a report that says `what`.
fn line_with<'a>(text: &'a str, what: &str) -> &'a str {
    text.lines()
        .find(|l| l.contains(what))
        .unwrap_or_else(|| panic!("no line says {what:?}:\n{text}"))
}

/// `memtide serve` following `token`, on `port`.
fn serve(port: u16, token: &str, ollama: Option<&str>) -> KillOnDrop {
    let mut c = memtide();
    c.args(["serve", "--quiet", "--interval", "100ms", "--match", token])
        .args(["--listen", &format!("127.0.0.1:{port}")]);
    match ollama {
        Some(url) => c.args(["--ollama", url, "--ollama-interval", "250ms"]),
        None => c.arg("--no-ollama"),
    };
    KillOnDrop(c.stderr(Stdio::null()).spawn().unwrap())
}

#[test]
fn ollama_closing_its_api_then_killing_its_runners_unloads_their_models() {
    let token = token("stop");
    let mut ollama = FakeOllama::start(listing(&[]));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t");
    let rec = record(&out, &token, 7, Some(&ollama.url));
    let port = free_port();
    let _serve = serve(port, &token, Some(&ollama.url));
    let mut a = runner("llama3.2:3b", &token, 24, &[]);
    wait_loaded(&mut a);
    ollama.set(listing(&[("llama3.2:3b", 30 << 20)]));
    std::thread::sleep(Duration::from_millis(500));
    let mut b = runner("qwen3:8b", &token, 24, &[]);
    wait_loaded(&mut b);
    ollama.set(listing(&[
        ("llama3.2:3b", 30 << 20),
        ("qwen3:8b", 30 << 20),
    ]));
    scrape_until(port, "serve exports both models", |t| {
        value(t, "memtide_ollama_models_loaded") == Some(2.0)
            && value(t, "memtide_runners") == Some(2.0)
    });
    // As Ollama stops on SIGINT or SIGTERM: it closes its HTTP server, then unloads every
    // runner, killing each outright (server/routes.go `srvr.Close()` then
    // `sched.unloadAllRunners()`, server/sched.go; llm/llama_server.go `stopProcess`,
    // `s.cmd.Process.Kill()`). Its last answer memtide saw still lists both models.
    ollama.take_down();
    drop(a);
    drop(b);
    let text = scrape_until(
        port,
        "serve drops the runners once they exit and sees Ollama down",
        |t| value(t, "memtide_runners") == Some(0.0) && value(t, "memtide_ollama_up") == Some(0.0),
    );
    assert!(
        !text.contains("memtide_ollama_models_loaded")
            && !text.contains("memtide_ollama_model_size"),
        "no listing is exported while Ollama does not answer:\n{text}"
    );
    finish(rec);

    let r = report_json(&out);
    let stopped = events_of(&r, "ollama_stopped");
    assert_eq!(stopped.len(), 1, "{}", r["events"]);
    let s = stopped[0];
    let mut models: Vec<&str> = s["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    models.sort_unstable();
    assert_eq!(models, ["llama3.2:3b", "qwen3:8b"]);
    let exited = s["runners_exited_ms"]
        .as_u64()
        .expect("when the runners exited");
    let unloads = events_of(&r, "model_unload");
    let mut unloaded: Vec<&str> = unloads
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    unloaded.sort_unstable();
    assert_eq!(unloaded, ["llama3.2:3b", "qwen3:8b"], "{}", r["events"]);
    for u in &unloads {
        let at = u["t_ms"].as_u64().unwrap();
        assert!(at <= exited, "an unload at its runner's exit: {u}");
    }
    let text = report_text(&out);
    let sentence = line_with(&text, "Ollama stopped answering at");
    assert!(
        sentence.contains("while it listed") && sentence.contains("its runners exited"),
        "{sentence}"
    );
}

#[test]
fn a_no_mmap_load_that_pauses_4_s_is_a_load_not_growth() {
    let token = token("paused");
    let ollama = FakeOllama::start(listing(&[]));
    let dir = tempfile::tempdir().unwrap();
    // One runner, two recordings: one asks Ollama, one does not.
    let (asked, alone) = (dir.path().join("asked"), dir.path().join("alone"));
    let rec_asked = record(&asked, &token, 9, Some(&ollama.url));
    let rec_alone = record(&alone, &token, 9, None);
    // A runner started with --no-mmap that holds 8 MiB, waits 4 s, then reads its 160 MiB of
    // weights into memory of its own; Ollama lists the model once the runner has loaded.
    let mut r = runner(
        "llama3.2:3b",
        &token,
        8,
        &["--no-mmap", "--grow-mib", "160", "--grow-after-ms", "4000"],
    );
    wait_loaded(&mut r);
    ollama.set(listing(&[("llama3.2:3b", 170 << 20)]));
    finish(rec_asked);
    finish(rec_alone);
    drop(r);

    // With Ollama's listing, the load ends when Ollama listed the model: no growth.
    let with = report_json(&asked);
    assert_eq!(
        events_of(&with, "model_load").len(),
        1,
        "{}",
        with["events"]
    );
    assert!(
        events_of(&with, "runner_growth").is_empty(),
        "the paused load told as growth: {}",
        with["events"]
    );
    assert!(!report_text(&asked).contains(" grew by "));
    // Without it, the settle rule finds the rise, and the sentence does not claim it served.
    let without = report_json(&alone);
    let growth = events_of(&without, "runner_growth");
    assert_eq!(growth.len(), 1, "{}", without["events"]);
    assert_eq!(growth[0]["after_listing"], false);
    let text = report_text(&alone);
    let sentence = line_with(&text, " grew by ");
    assert!(
        sentence.contains("a load that paused") && !sentence.contains("while it served"),
        "{sentence}"
    );
}

/// A link named `llama-server` to memtide, in a directory of its own: a process started
/// through it is named as llama.cpp's server and has its command line's shape.
fn llama_server(dir: &Path, name: &str) -> PathBuf {
    let bin = dir.join(name);
    std::fs::create_dir_all(&bin).unwrap();
    let link = bin.join("llama-server");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_memtide"), &link).unwrap();
    link
}

#[test]
fn other_engines_servers_are_named_beside_ollamas_overlap_not_counted_in_it() {
    let token = token("others");
    let dir = tempfile::tempdir().unwrap();
    // Two llama.cpp servers that no Ollama started, running before and through the recording.
    let mut servers: Vec<KillOnDrop> = ["one", "two"]
        .iter()
        .map(|n| {
            let path = llama_server(dir.path(), n);
            let model = format!("/srv/models/{n}-q4_k_m.gguf");
            let mut s = KillOnDrop(
                runner_cmd(Command::new(path), &model, &token, 12, &[])
                    .spawn()
                    .unwrap(),
            );
            wait_loaded(&mut s);
            s
        })
        .collect();
    let out = dir.path().join("t");
    let rec = record(&out, &token, 6, None);
    // Ollama's two runners, the second started while the first is alive.
    std::thread::sleep(Duration::from_millis(600));
    let mut a = runner("llama3.2:3b", &token, 24, &[]);
    wait_loaded(&mut a);
    std::thread::sleep(Duration::from_millis(600));
    let mut b = runner("qwen3:8b", &token, 24, &[]);
    wait_loaded(&mut b);
    finish(rec);
    let pids = |v: &[&KillOnDrop]| -> Vec<u64> {
        let mut p: Vec<u64> = v.iter().map(|c| u64::from(c.0.id())).collect();
        p.sort_unstable();
        p
    };
    let (ollamas, others) = (pids(&[&a, &b]), pids(&servers.iter().collect::<Vec<_>>()));
    drop((a, b));
    servers.clear();

    let r = report_json(&out);
    let overlaps = events_of(&r, "overlap");
    assert_eq!(overlaps.len(), 1, "{}", r["events"]);
    let o = overlaps[0];
    let members = |key: &str| -> Vec<u64> {
        let mut p: Vec<u64> = o[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["pid"].as_u64().unwrap())
            .collect();
        p.sort_unstable();
        p
    };
    assert_eq!(members("runners"), ollamas, "{o}");
    assert_eq!(o["max_alive"], 2, "{o}");
    assert_eq!(members("other_servers"), others, "{o}");
    let text = report_text(&out);
    let sentence = line_with(&text, "Also alive, not started by Ollama");
    assert!(
        sentence.contains("one-q4_k_m.gguf") && sentence.contains("two-q4_k_m.gguf"),
        "{sentence}"
    );
    assert!(
        !text.contains("4 runners") && !text.contains("3 runners"),
        "{text}"
    );
}

/// Ollama's models directory under `root` with one model blob that each of `names`
/// (`name:tag`) has as its weights, as `ollama cp` leaves it; the blob's path.
fn one_blob_under(root: &Path, names: &[&str]) -> PathBuf {
    let hex = "7e".repeat(32);
    let models = root.join("models");
    let blob = models.join(format!("blobs/sha256-{hex}"));
    std::fs::create_dir_all(blob.parent().unwrap()).unwrap();
    std::fs::write(&blob, b"GGUF").unwrap();
    for name in names {
        let (model, tag) = name.split_once(':').unwrap();
        let manifest = models
            .join("manifests/registry.ollama.ai/library")
            .join(model)
            .join(tag);
        std::fs::create_dir_all(manifest.parent().unwrap()).unwrap();
        std::fs::write(
            manifest,
            format!(r#"{{"schemaVersion":2,"layers":[{{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:{hex}","size":4}}]}}"#),
        )
        .unwrap();
    }
    blob
}

#[test]
fn a_model_under_two_names_is_the_name_ollama_listed_in_every_output() {
    let token = token("aliases");
    let ollama = FakeOllama::start(listing(&[]));
    let dir = tempfile::tempdir().unwrap();
    // `ollama cp gemma3:270m tiny`, then `ollama run tiny`: one blob, two manifests, and
    // Ollama lists the model by the name it was loaded by.
    let blob = one_blob_under(dir.path(), &["gemma3:270m", "tiny:latest"]);
    let out = dir.path().join("t");
    let rec = record(&out, &token, 5, Some(&ollama.url));
    let port = free_port();
    let _serve = serve(port, &token, Some(&ollama.url));
    std::thread::sleep(Duration::from_millis(500));
    // Its load takes a second (a real one takes longer: Ollama lists a model only once its
    // runner has loaded it, so the listing comes after the runner's first sample).
    let mut r = runner(blob.to_str().unwrap(), &token, 24, &["--ramp-ms", "1000"]);
    wait_loaded(&mut r);
    ollama.set(listing(&[("tiny:latest", 30 << 20)]));
    let pid = r.0.id();
    let metrics = scrape_until(port, "serve names the runner", |t| {
        t.contains(&format!("pid=\"{pid}\""))
            && value(t, "memtide_ollama_models_loaded") == Some(1.0)
    });
    let runner_lines: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("memtide_runner_rss_bytes{"))
        .collect();
    assert_eq!(runner_lines.len(), 1, "{metrics}");
    assert!(
        runner_lines[0].contains("model=\"tiny:latest\""),
        "{}",
        runner_lines[0]
    );
    finish(rec);
    drop(r);

    // The report: that name, and the other one once, as another name of the same model.
    let rep = report_json(&out);
    let models = rep["models"].as_array().unwrap();
    assert_eq!(models.len(), 1, "{models:?}");
    assert_eq!(models[0]["model"], "tiny:latest");
    assert_eq!(models[0]["aliases"], serde_json::json!(["gemma3:270m"]));
    let text = report_text(&out);
    assert_eq!(text.matches("gemma3:270m").count(), 1, "{text}");
    assert!(!text.contains("gemma3:270m, tiny:latest"), "{text}");
    // The chart and the viewer draw and label it by that name alone.
    let svg = dir.path().join("c.svg");
    let html = dir.path().join("v.html");
    for args in [
        vec!["render", out.to_str().unwrap(), "-o", svg.to_str().unwrap()],
        vec![
            "view",
            out.to_str().unwrap(),
            "--no-open",
            "-o",
            html.to_str().unwrap(),
        ],
    ] {
        let o = memtide().args(&args).output().unwrap();
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    for f in [&svg, &html] {
        let s = std::fs::read_to_string(f).unwrap();
        assert!(s.contains("tiny:latest"), "{}", f.display());
        assert!(
            !s.contains("gemma3:270m"),
            "{} names the other name",
            f.display()
        );
    }
    // compare: the model under that name, with its load time.
    let o = memtide()
        .args(["compare", "--format", "json"])
        .arg(&out)
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let c: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let m = c["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["model"] == "tiny:latest")
        .unwrap_or_else(|| panic!("{}", c["models"]));
    let load = m["a"]["load_ms"].as_u64().expect("the load time is kept");
    assert!(
        (800..10_000).contains(&load),
        "a load of about a second: {load} ms"
    );
}

#[test]
fn serve_restarted_with_runners_alive_counts_no_start_and_no_overlap() {
    let token = token("restart");
    let port = free_port();
    let first = serve(port, &token, None);
    scrape_until(port, "serve answers", |t| t.contains("memtide_runners 0"));
    let mut a = runner("llama3.2:3b", &token, 16, &[]);
    wait_loaded(&mut a);
    let mut b = runner("qwen3:8b", &token, 16, &[]);
    wait_loaded(&mut b);
    let before = scrape_until(port, "both runners followed", |t| {
        value(t, "memtide_runners") == Some(2.0)
    });
    assert_eq!(
        value(&before, "memtide_runner_starts_total"),
        Some(2.0),
        "{before}"
    );
    assert_eq!(
        value(&before, "memtide_runner_overlaps_total"),
        Some(1.0),
        "{before}"
    );
    drop(first);

    // Restarted while both runners live: they were running before it, not started under it.
    let _second = serve(port, &token, None);
    let after = scrape_until(port, "both runners followed again", |t| {
        value(t, "memtide_runners") == Some(2.0)
    });
    for counter in [
        "memtide_runner_starts_total",
        "memtide_runner_overlaps_total",
        "memtide_runner_exits_total",
    ] {
        assert_eq!(value(&after, counter), Some(0.0), "{counter}:\n{after}");
    }
    // Its counters go on from there: an exit is counted, and a new runner's start and overlap.
    drop(a);
    let mut c = runner("gemma3:4b", &token, 16, &[]);
    wait_loaded(&mut c);
    let later = scrape_until(port, "the exit and the new start counted", |t| {
        value(t, "memtide_runner_exits_total") == Some(1.0)
            && value(t, "memtide_runner_starts_total") == Some(1.0)
    });
    assert_eq!(
        value(&later, "memtide_runner_overlaps_total"),
        Some(1.0),
        "{later}"
    );
}

#[test]
fn a_runner_alive_from_the_first_sample_is_named_by_elimination_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    // Runners whose blobs no manifest names (a models directory copied without its manifests).
    let blob = |digit: char| {
        let b = dir
            .path()
            .join("copied/blobs")
            .join(format!("sha256-{}", digit.to_string().repeat(64)));
        b.display().to_string()
    };
    // Ollama lists one model, of a size the runner could hold, from its first answer on.
    let ollama = FakeOllama::start(listing(&[("llama3.2:3b", 30 << 20)]));
    let record_with = |name: &str, runners: &[char]| -> serde_json::Value {
        let token = token(name);
        let mut started: Vec<KillOnDrop> = runners
            .iter()
            .map(|d| runner(&blob(*d), &token, 24, &[]))
            .collect();
        started.iter_mut().for_each(wait_loaded);
        let out = dir.path().join(name);
        finish(record(&out, &token, 2, Some(&ollama.url)));
        report_json(&out)
    };

    let one = record_with("one", &['a']);
    let models = one["models"].as_array().unwrap();
    assert_eq!(models.len(), 1, "{models:?}");
    assert_eq!(models[0]["model"], "llama3.2:3b");
    assert_eq!(models[0]["name_source"], "api_ps_only_one");

    // Two runners could hold it: neither is named from Ollama's listing.
    let two = record_with("two", &['b', 'c']);
    let names: Vec<&str> = two["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["model"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        names.iter().all(|n| n.starts_with("sha256:")),
        "named by their digests only: {names:?}"
    );
}

#[test]
fn ollama_started_after_memtide_run_has_its_version_in_the_report() {
    let ollama = FakeOllama::start(Mode::Unavailable);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t");
    let run = memtide()
        .args([
            "run",
            "--only-command",
            "--interval",
            "100ms",
            "--tail",
            "1s",
        ])
        .args([
            "--ollama",
            &ollama.url,
            "--ollama-interval",
            "250ms",
            "--out",
        ])
        .arg(&out)
        .args(["--", "sleep", "3"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Ollama comes up while the command runs.
    std::thread::sleep(Duration::from_millis(1000));
    ollama.set(listing(&[]));
    let o = run.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    // The report memtide run prints, and the trace's.
    assert!(err.contains("Ollama 0.30.7"), "{err}");
    assert!(!err.contains("Ollama unknown"), "{err}");
    assert_eq!(report_json(&out)["trace"]["ollama_version"], "0.30.7");
}
