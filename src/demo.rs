//! `memtide demo`: memtide's main job on a built-in scenario, with no Ollama needed.
//!
//! Two stand-in runners (this binary re-executed as `memtide runner --model … --port …`)
//! load and hold memory in the phases that stall a Mac: model A loads; model B starts loading
//! before A exits (the overlap); A exits; B grows (its KV cache); B exits. A local HTTP server
//! answers `/api/ps` and `/api/version` as Ollama would for them. memtide records it all at
//! 100 ms, then writes the report and the SVG, PNG and HTML charts. The stand-in Ollama also
//! writes a server log (`ollama-server.log`) in Ollama's formats, the scheduler's lines and the
//! stand-in runners' buffer lines, which memtide follows as it follows the app's log.

use crate::cli::DemoArgs;
use crate::cli::Selection;
use crate::record;
use crate::render;
use anyhow::{Context, Result};
use memtide_render::format_bytes;
use memtide_sampler::{ProcessSelector, Sampler};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The demo never holds more than this fraction of the memory available when it starts
/// (both runners together, at their largest).
pub const DEMO_MAX_FRACTION_OF_AVAILABLE: f64 = 0.10;

/// Nor more than this much in all, so that it stays quick on a machine with lots of RAM.
pub const DEMO_MAX_BYTES: u64 = 1536 << 20;

const MIB: u64 = 1 << 20;

/// A model the fake Ollama lists.
#[derive(Clone)]
struct Loaded {
    name: &'static str,
    size: u64,
    digest: String,
    family: &'static str,
}

fn digest_of(name: &str) -> String {
    // Not a real manifest digest; a stable 64-hex string per name, so that `ollama ps`-style
    // IDs differ between the two models.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut out = String::new();
    for round in 0..4u64 {
        for b in name.bytes().chain(round.to_le_bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        out.push_str(&format!("{h:016x}"));
    }
    out
}

/// The demo's Ollama: the stand-in Ollama, answering with the models the demo has loaded
/// until the demo ends.
fn serve_ollama(models: Arc<Mutex<Vec<Loaded>>>, running: Arc<AtomicBool>) -> Result<String> {
    let ps = move || {
        let now = jiff::Timestamp::now();
        let expires = now
            .checked_add(jiff::SignedDuration::from_secs(300))
            .unwrap_or(now);
        let list = models.lock().map(|m| m.clone()).unwrap_or_default();
        let entries: Vec<serde_json::Value> = list
            .iter()
            .map(|m| {
                serde_json::json!({
                    "name": m.name, "model": m.name, "size": m.size, "digest": m.digest,
                    "details": {"parent_model": "", "format": "gguf", "family": m.family,
                                "families": [m.family], "parameter_size": "demo", "quantization_level": "Q4_K_M"},
                    "expires_at": expires.to_string(), "size_vram": m.size, "context_length": 4096
                })
            })
            .collect();
        crate::standin_ollama::Answer::Body(serde_json::json!({ "models": entries }).to_string())
    };
    crate::standin_ollama::serve(
        format!("{}-memtide-demo", env!("CARGO_PKG_VERSION")),
        ps,
        running,
    )
}

/// A stand-in runner. Its stdin is a pipe from the demo: if the demo dies, the pipe closes and
/// the runner exits, so nothing is left behind even after `kill -9`.
fn start_runner(
    exe: &Path,
    model: &str,
    port: u16,
    tag: &str,
    mib: u64,
    ramp: Duration,
    grow: Option<(u64, Duration)>,
) -> Result<Child> {
    let mut cmd = Command::new(exe);
    cmd.args(["runner", "--model", model, "--port", &port.to_string()])
        .args([
            "--mib",
            &mib.to_string(),
            "--ramp-ms",
            &ramp.as_millis().to_string(),
            "--demo-id",
            tag,
            "--exit-with-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null());
    if let Some((more, after)) = grow {
        cmd.args([
            "--grow-mib",
            &more.to_string(),
            "--grow-after-ms",
            &after.as_millis().to_string(),
        ]);
    }
    cmd.spawn().context("cannot start a stand-in runner")
}

/// The stand-in Ollama's server log: the lines Ollama's scheduler and a llama.cpp runner write
/// for a load, in their formats (see `memtide_model::ollama_log`), with the stand-in's figures.
struct ServerLog {
    file: std::fs::File,
}

/// A size as Ollama's `format.HumanBytes2` prints it.
fn human_bytes2(b: u64) -> String {
    const KIB: f64 = 1024.0;
    let f = b as f64;
    if f >= KIB * KIB * KIB {
        format!("{:.1} GiB", f / (KIB * KIB * KIB))
    } else if f >= KIB * KIB {
        format!("{:.1} MiB", f / (KIB * KIB))
    } else if f >= KIB {
        format!("{:.1} KiB", f / KIB)
    } else {
        format!("{b} B")
    }
}

impl ServerLog {
    fn create(path: &Path) -> Result<ServerLog> {
        let file = std::fs::File::create(path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        Ok(ServerLog { file })
    }

    fn slog(&mut self, source: &str, msg: &str, attrs: &str) -> Result<()> {
        let now = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S%.3fZ");
        writeln!(
            self.file,
            "time={now} level=INFO source={source} msg=\"{msg}\"{}{attrs}",
            if attrs.is_empty() { "" } else { " " }
        )?;
        Ok(())
    }

    /// What Ollama writes as it starts a runner for `model` on `port`, in its order
    /// (`server/sched.go` of v0.33): its prediction when other models are loaded, the runner's
    /// command line, then what it saw of the machine as the load begins.
    fn load(&mut self, exe: &Path, model: &Loaded, port: u16, loaded: usize) -> Result<()> {
        let sys = Sampler::new(ProcessSelector::Pids(vec![]))?.system()?;
        let free = sys.available_bytes.unwrap_or(0);
        if loaded > 0 {
            self.slog(
                "sched.go:562",
                "llama-server model fits alongside existing models",
                &format!(
                    "predicted=\"{}\" predicted_num_ctx=4096 num_batch=512 available=\"{}\" \
                     gpu_free=\"0 B\" system_free=\"{}\" system_limited=false",
                    human_bytes2(model.size),
                    human_bytes2(free),
                    human_bytes2(free)
                ),
            )?;
        }
        self.slog(
            "llama_server.go:433",
            "starting llama-server",
            &format!(
                "cmd=\"{} runner --model {} --port {port}\"",
                exe.display(),
                model.name
            ),
        )?;
        self.slog(
            "sched.go:613",
            "system memory",
            &format!(
                "total=\"{}\" free=\"{}\" free_swap=\"0 B\"",
                human_bytes2(sys.total_bytes),
                human_bytes2(free)
            ),
        )
    }

    /// What the stand-in runner would print as llama.cpp: its weights copied into its own
    /// memory (as with `--load-mode none`), a KV cache and compute buffers, then Ollama's
    /// line that it answered.
    fn loaded(&mut self, weights_mib: u64, seconds: f64) -> Result<()> {
        writeln!(
            self.file,
            "load_tensors:          CPU model buffer size = {:>9.2} MiB",
            weights_mib as f64
        )?;
        writeln!(
            self.file,
            "llama_kv_cache:        CPU KV buffer size =    16.00 MiB"
        )?;
        writeln!(
            self.file,
            "sched_reserve:        CPU compute buffer size =     8.00 MiB"
        )?;
        self.slog(
            "llama_server.go:1362",
            &format!("llama-server started in {seconds:.2} seconds"),
            "",
        )
    }
}

/// Waits `d`, or returns `false` at once if Ctrl-C came.
fn wait(stop: &Receiver<()>, d: Duration) -> bool {
    matches!(stop.recv_timeout(d), Err(RecvTimeoutError::Timeout))
}

/// Child processes that are killed and reaped when this is dropped, whatever the path out:
/// the demo's stand-in runners, the bench's idle children.
pub struct Children(pub Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The files the demo writes beside the trace; `--force` replaces them too.
pub const DEMO_FILES: &[&str] = &[
    "report.txt",
    "memtide.svg",
    "memtide.png",
    "memtide.html",
    "ollama-server.log",
];

pub fn run(
    out: Option<PathBuf>,
    force: bool,
    length: Duration,
    stop: Receiver<()>,
) -> Result<PathBuf> {
    let out = crate::outdir::claim(out.as_deref(), "memtide-demo", force, DEMO_FILES)?;
    let exe = std::env::current_exe()
        .context("cannot find the memtide binary to start the stand-in runners")?;

    // Size the scenario from what this machine has free now.
    let available = Sampler::new(ProcessSelector::Pids(vec![]))?
        .system()?
        .available_bytes
        .unwrap_or(4 << 30);
    let budget = ((available as f64 * DEMO_MAX_FRACTION_OF_AVAILABLE) as u64).min(DEMO_MAX_BYTES);
    // Peak together: A (40 %) + B loading (40 %) during the overlap; B alone later at 60 %.
    let a_mib = (budget * 4 / 10 / MIB).max(16);
    let b_mib = (budget * 4 / 10 / MIB).max(16);
    let b_grow_mib = (budget * 2 / 10 / MIB).max(8);
    say!(
        "memtide demo: {} available; the stand-in runners hold at most {} together ({}% of available, capped at {})",
        format_bytes(available),
        format_bytes((a_mib + b_mib) * MIB),
        (DEMO_MAX_FRACTION_OF_AVAILABLE * 100.0) as u32,
        format_bytes(DEMO_MAX_BYTES)
    );

    let models = Arc::new(Mutex::new(Vec::<Loaded>::new()));
    let running = Arc::new(AtomicBool::new(true));
    let url = serve_ollama(models.clone(), running.clone())?;
    // Matched as a substring: the PID is closed on both sides, so that one demo's tag is never
    // part of another's (`…-12-runner` is not in `…-123-runner`).
    let tag = format!("memtide-demo-{}-runner", std::process::id());

    // The recorder, on its own thread, stopped through its channel.
    let (rec_stop_tx, rec_stop) = mpsc::channel();
    let rec_out = out.clone();
    let rec_tag = tag.clone();
    let log_path = out.join("ollama-server.log");
    let mut log = ServerLog::create(&log_path)?;
    let recorder = std::thread::spawn(move || {
        let mut recorder = crate::cli::recorder_options(
            Duration::from_millis(100),
            &Selection::matching(rec_tag),
            Some(&url),
            false,
            Duration::from_millis(250),
        );
        recorder.ollama_log = Some(log_path);
        record::run(
            record::Options {
                recorder,
                duration: None,
                out: Some(rec_out),
                // The directory was claimed above, and is empty of memtide's files.
                force: true,
                quiet: true,
                jsonl: None,
            },
            rec_stop,
        )
    });

    let step = length / 12;
    let mut runners = Children(Vec::new());
    let a = Loaded {
        name: "demo/llama3.2:3b",
        size: a_mib * MIB * 105 / 100,
        digest: digest_of("a"),
        family: "llama",
    };
    let b_final = (b_mib + b_grow_mib) * MIB;
    let b = Loaded {
        name: "demo/qwen3:8b",
        size: b_final * 105 / 100,
        digest: digest_of("b"),
        family: "qwen3",
    };
    // A load takes half a step (at most 1.5 s). B's KV cache grows once its load has been flat
    // long enough for the report to tell the growth from the load (the growth detector's
    // settle time, and a little more), if that still leaves B a second of its six steps to
    // show it; a shorter demo leaves it out, and does not say it happens.
    let ramp = (step / 2).min(Duration::from_millis(1500));
    let settle = Duration::from_millis(memtide_model::events::runner_growth::LOAD_SETTLE_MS);
    let grow_after = ramp + settle + Duration::from_millis(600);
    let b_grows = grow_after + ramp + Duration::from_secs(1) <= step * 6
        && b_grow_mib * MIB >= memtide_model::events::runner_growth::RUNNER_GROWTH_MIN_BYTES;
    let started = Instant::now();
    let mut script = || -> Result<bool> {
        // Phases on a 12-step clock: A loads at 1, B at 4 (overlap), A exits at 7, B grows at
        // about 8 (the KV cache, where there is time for it), B exits at 10, recording stops at
        // 12.
        if !wait(&stop, step) {
            return Ok(false);
        }
        say!("memtide demo: model A ({}) loads", a.name);
        log.load(&exe, &a, 49152, 0)?;
        runners
            .0
            .push(start_runner(&exe, a.name, 49152, &tag, a_mib, ramp, None)?);
        if !wait(&stop, step * 2) {
            return Ok(false);
        }
        log.loaded(a_mib, (step * 2).as_secs_f64())?;
        models
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .push(a.clone());
        if !wait(&stop, step) {
            return Ok(false);
        }
        say!(
            "memtide demo: model B ({}) starts loading while A is still alive",
            b.name
        );
        log.load(&exe, &b, 49153, 1)?;
        runners.0.push(start_runner(
            &exe,
            b.name,
            49153,
            &tag,
            b_mib,
            ramp,
            b_grows.then_some((b_grow_mib, grow_after)),
        )?);
        if !wait(&stop, step * 2) {
            return Ok(false);
        }
        log.loaded(b_mib, (step * 2).as_secs_f64())?;
        models
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .push(b.clone());
        if !wait(&stop, step) {
            return Ok(false);
        }
        say!("memtide demo: model A exits");
        if let Some(mut first) = (!runners.0.is_empty()).then(|| runners.0.remove(0)) {
            let _ = first.kill();
            let _ = first.wait();
        }
        models
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .retain(|m| m.name != a.name);
        if !wait(&stop, step) {
            return Ok(false);
        }
        if b_grows {
            say!("memtide demo: model B grows (its KV cache)");
        } else {
            say!(
                "memtide demo: model B runs on (a longer demo, with more memory available, \
                 also shows its KV cache grow)"
            );
        }
        if !wait(&stop, step * 2) {
            return Ok(false);
        }
        say!("memtide demo: model B exits");
        for c in &mut runners.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
        runners.0.clear();
        models
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .clear();
        Ok(wait(&stop, step * 2))
    };
    let finished = script();
    drop(runners);
    let _ = rec_stop_tx.send(());
    let recorded = recorder
        .join()
        .map_err(|_| anyhow::anyhow!("the recorder panicked"))?;
    running.store(false, Ordering::SeqCst);
    recorded?;
    if !finished? {
        say!("memtide demo: interrupted after {:.1} s; the runners are stopped and the trace is complete", started.elapsed().as_secs_f64());
    }
    Ok(out)
}

/// `memtide demo`: the demo, then its report, charts and viewer, and where they are.
pub fn command(a: DemoArgs) -> Result<()> {
    let stop = crate::stop_signals()?;
    let started = std::time::Instant::now();
    let dir = run(a.out, a.force, a.duration, stop)?;
    let svg = render::run(&dir, render::defaults(Some(dir.join("memtide.svg"))))?;
    let png = render::run(&dir, render::defaults(Some(dir.join("memtide.png"))))?;
    let html = render::run(&dir, render::defaults(Some(dir.join("memtide.html"))))?;
    let report_path = dir.join("report.txt");
    let text = crate::report::text(&dir)?;
    std::fs::write(&report_path, &text)
        .with_context(|| format!("cannot write {}", report_path.display()))?;
    out!("{text}")?;
    outln!()?;
    outln!(
        "memtide demo finished in {:.1} s. Written:",
        started.elapsed().as_secs_f64()
    )?;
    outln!("  trace   {}", dir.display())?;
    outln!("  report  {}", report_path.display())?;
    outln!("  charts  {}", svg.display())?;
    outln!("          {}", png.display())?;
    outln!("  viewer  {} (open it in a browser)", html.display())?;
    Ok(())
}
