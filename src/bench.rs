//! `memtide bench`: what a sample costs, measured side by side in one run on this machine:
//! a sample of memtide's sampler; the bare kernel reads of a sample (the same reads with no
//! work around them); `sysinfo` refreshing the same processes and memory, and refreshing
//! everything; and the `ps | awk` pipeline of the Ollama macOS Memory Trace Guide's shell loop
//! as a subprocess. Then the recorder's own CPU and memory while it records at 10 Hz. Each
//! ratio is printed with its target and a verdict.

use crate::demo::Children;
use anyhow::{Context, Result};
use memtide_sampler::pressure::{PressureWatch, Trigger, LEVEL_POLL_PERIOD};
use memtide_sampler::{Floor, PressureLevel, ProcessSelector, Sampler};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// sysinfo, the crate most Rust tools read memory with, as a yardstick: the one OS choice of
/// the bench. Not on macOS, where sysinfo links Apple's frameworks and memtide reaches them
/// only at run time.
#[cfg_attr(not(target_os = "macos"), path = "bench/sysinfo.rs")]
#[cfg_attr(target_os = "macos", path = "bench/no_sysinfo.rs")]
mod yardstick;

/// The Guide's per-second pipeline, as its shell loop runs it.
const GUIDE_PIPELINE: &str = r#"ps -axo pid=,ppid=,comm=,rss=,vsz=,command= | awk -v ts="$(date -u +%Y-%m-%dT%H:%M:%SZ)" '/[o]llama|[m]lx|[r]unner/ { pid=$1; ppid=$2; comm=$3; rss=$4; vsz=$5; $1=$2=$3=$4=$5=""; sub(/^ +/, "", $0); print ts "\t" pid "\t" ppid "\t" comm "\t" rss "\t" vsz "\t" $0 }' > /dev/null"#;

/// The size of the model file each idle runner maps and reads, as a runner with its weights
/// mapped does: 16 MiB, so that the recorder counts their weights as it would a real runner's
/// (a count at least once a minute, and whenever the runner's memory moves).
const IDLE_MODEL_MIB: usize = 16;

/// Idle stand-in runners, each mapping the same model file; stopped, and the file removed,
/// when dropped.
struct IdleRunners {
    kids: Children,
    dir: std::path::PathBuf,
}

impl Drop for IdleRunners {
    fn drop(&mut self) {
        self.kids.0.iter_mut().for_each(|c| {
            let _ = c.kill();
            let _ = c.wait();
        });
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn spawn_idle(n: usize) -> Result<IdleRunners> {
    spawn_idle_as(n, BenchDir::Models, false)
}

/// [`spawn_idle`], in the directory `what`; with `as_ollama`, each runner runs
/// memtide under the name `ollama` (a link to it), so that the kernel names the process as it
/// names Ollama's runners and the default selection finds it.
fn spawn_idle_as(n: usize, what: BenchDir, as_ollama: bool) -> Result<IdleRunners> {
    let (dir, (exe, model)) = tempfile_dir(what, |dir| {
        let exe = if as_ollama {
            let link = dir.join("ollama");
            std::os::unix::fs::symlink(std::env::current_exe()?, &link)?;
            link
        } else {
            std::env::current_exe()?
        };
        let model = dir.join(format!("sha256-{}", "c".repeat(64)));
        // A MiB at a time: a child forked while this process held the whole file in its heap
        // would carry that resident size into its peak (the kernel counts the image an exec
        // replaces), and the recorder's peak RSS below would be this process's, not its own.
        use std::io::Write;
        let mut f = std::fs::File::create(&model)?;
        let mib = vec![3u8; 1 << 20];
        for _ in 0..IDLE_MODEL_MIB {
            f.write_all(&mib)?;
        }
        Ok((exe, model))
    })?;
    let mut idle = IdleRunners {
        kids: Children(Vec::new()),
        dir,
    };
    for i in 0..n {
        let child = Command::new(&exe)
            .args(["runner", "--model"])
            .arg(&model)
            .args(["--port", &(40000 + i).to_string(), "--exit-with-stdin"])
            .arg("--map-file")
            .arg(&model)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .context("cannot start an idle child")?;
        idle.kids.0.push(child);
    }
    Ok(idle)
}

/// Median and 90th percentile of `f`'s duration over `n` runs, after `warmup` unmeasured runs.
fn measure(
    n: usize,
    warmup: usize,
    mut f: impl FnMut() -> Result<()>,
) -> Result<(Duration, Duration)> {
    for _ in 0..warmup {
        f()?;
    }
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        f()?;
        times.push(t.elapsed());
    }
    times.sort();
    Ok((times[n / 2], times[(n * 9 / 10).min(n - 1)]))
}

struct Row {
    what: String,
    median: Duration,
    p90: Duration,
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

/// A sampler that judges by name and follows nothing, listing the process table at every
/// sample, with its exec check every `interval`; and how many processes it knows.
fn exec_check_sampler(interval: Duration) -> Result<(Sampler, usize)> {
    let mut s = Sampler::new(ProcessSelector::Match(vec![
        "memtide-bench-matches-nothing".into(),
    ]))?;
    s.set_exec_check_interval(interval);
    s.tick()?;
    let mut all = Sampler::new(ProcessSelector::All)?;
    let n = all.tick()?.processes.len();
    Ok((s, n))
}

/// `a ÷ b` for two costs; not a number (which no target meets) when either came out at zero
/// or below, as noise makes a difference of two measurements do.
fn ratio(a: f64, b: f64) -> f64 {
    if a > 0.0 && b > 0.0 {
        a / b
    } else {
        f64::NAN
    }
}

/// A measured figure against its target.
enum Target {
    AtMost(f64),
    AtLeast(f64),
    /// A cost (a difference of two measurements) at most this; a negative one misses.
    CostAtMost(f64),
}

/// Prints each figure with its target and a plain verdict, and counts the misses.
#[derive(Default)]
struct Verdicts {
    missed: Vec<String>,
}

impl Verdicts {
    fn judge(&mut self, what: &str, value: f64, unit: &str, target: Target) -> Result<()> {
        let (meets, want) = match target {
            Target::AtMost(t) => (value <= t, format!("target ≤ {t}{unit}")),
            Target::AtLeast(t) => (value >= t, format!("target ≥ {t}{unit}")),
            // A cost of zero or below is noise, never a cost that meets its target.
            Target::CostAtMost(t) if value <= 0.0 => (false, format!("target ≤ {t}{unit}, noise")),
            Target::CostAtMost(t) => (value <= t, format!("target ≤ {t}{unit}")),
        };
        if value.is_nan() {
            // A ratio of costs one of which came out at zero or below: noise.
            outln!(
                "  {what:<46} {:>9}{unit}   {:<16} misses",
                "noise",
                match target {
                    Target::AtMost(t) | Target::CostAtMost(t) => format!("target ≤ {t}{unit}"),
                    Target::AtLeast(t) => format!("target ≥ {t}{unit}"),
                }
            )?;
            self.missed.push(what.to_owned());
            return Ok(());
        }
        outln!(
            "  {what:<46} {:>9}{unit}   {want:<16} {}",
            figure(value),
            if meets { "meets" } else { "misses" }
        )?;
        if !meets {
            self.missed.push(what.to_owned());
        }
        Ok(())
    }
}

/// A figure shown among the verdicts without one of its own: `why` says where its target
/// applies instead.
fn reading(what: &str, value: f64, unit: &str, why: &str) -> Result<()> {
    let value = if value.is_nan() {
        "noise".to_owned()
    } else {
        figure(value)
    };
    outln!("  {what:<46} {value:>9}{unit}   {why}")?;
    Ok(())
}

/// A judged figure, with three significant digits or so.
fn figure(value: f64) -> String {
    let digits = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    format!("{value:.digits$}")
}

/// How the paced measurements run: how many rounds, and the lengths of the short and long
/// runs whose difference is measured.
#[derive(Debug, Clone, Copy)]
pub struct Pacing {
    /// Rounds of each measurement; the median and the range are printed.
    pub rounds: usize,
    /// The short run, seconds at 10 Hz.
    pub short_s: f64,
    /// The long run.
    pub long_s: f64,
}

pub fn run(
    processes: usize,
    ticks: usize,
    check: bool,
    pacing: Pacing,
    age_table: bool,
) -> Result<()> {
    let ticks = ticks.max(10);
    remove_dirs_on_stop()?;
    let swept = sweep_stale_dirs();
    if swept > 0 {
        say!(
            "memtide bench: removed {swept} {} that a bench killed earlier left in {}",
            if swept == 1 {
                "directory"
            } else {
                "directories"
            },
            std::env::temp_dir().display()
        );
    }
    outln!(
        "memtide bench: {processes} idle processes, on {} {}",
        memtide_trace::Os::current().display_name(),
        std::env::consts::ARCH
    )?;
    let mut v = Verdicts::default();
    recorder_cost(processes, pacing, age_table, &mut v)?;
    let kids = spawn_idle(processes)?;
    let pids: Vec<u32> = kids.kids.0.iter().map(Child::id).collect();
    // Let the children start (exec) before they are selected by PID.
    std::thread::sleep(Duration::from_millis(300));
    let mut rows = Vec::new();

    let mut sampler = Sampler::new(ProcessSelector::Pids(pids.clone()))?;
    let followed = sampler.tick()?.processes.len();
    anyhow::ensure!(
        followed == processes,
        "followed {followed} of {processes} children"
    );
    let (m, p) = measure(ticks, 5, || {
        sampler.tick()?;
        Ok(())
    })?;
    rows.push(Row {
        what: format!("memtide sample ({processes} processes + system)"),
        median: m,
        p90: p,
    });

    match Floor::new(&pids) {
        Ok(mut floor) => {
            let (m, p) = measure(ticks, 5, || {
                std::hint::black_box(floor.read()?);
                Ok(())
            })?;
            rows.push(Row {
                what: "bare kernel reads of a sample, nothing else".into(),
                median: m,
                p90: p,
            });
        }
        Err(e) => say!("memtide bench: bare kernel reads not measured: {e}"),
    }

    let (m, p) = measure((ticks / 10).max(10), 1, || {
        let mut s = Sampler::new(ProcessSelector::All)?;
        std::hint::black_box(s.tick()?.processes.len());
        Ok(())
    })?;
    rows.push(Row {
        what: "memtide's first sample over the whole process table".into(),
        median: m,
        p90: p,
    });

    // The exec check (every 5 s when recording with --match): a sampler that follows nothing by name, its
    // check made due at every sample, against the same sampler whose check never comes due.
    let table = exec_check_sampler(Duration::from_secs(3600))?.1;
    let (quiet, _) = measure(ticks, 5, {
        let mut s = exec_check_sampler(Duration::from_secs(3600))?.0;
        move || {
            s.tick()?;
            Ok(())
        }
    })?;
    let (checked, p) = measure(ticks, 5, {
        let mut s = exec_check_sampler(Duration::ZERO)?.0;
        move || {
            s.tick()?;
            Ok(())
        }
    })?;
    rows.push(Row {
        what: format!("exec check over {table} unfollowed processes (--match, every 5 s)"),
        median: checked.saturating_sub(quiet),
        p90: p.saturating_sub(quiet),
    });

    weights_row(ticks, &mut rows)?;
    yardstick::rows(&pids, ticks, &mut rows)?;

    let (m, p) = measure(20, 2, || {
        let st = Command::new("sh").args(["-c", GUIDE_PIPELINE]).status()?;
        anyhow::ensure!(st.success(), "the Guide's ps | awk pipeline failed");
        Ok(())
    })?;
    rows.push(Row {
        what: "the Guide's shell loop: ps -axo … | awk (a subprocess)".into(),
        median: m,
        p90: p,
    });

    outln!()?;
    outln!(
        "Hot loops ({ticks} samples each, wall time; for finding where time goes, not for comparing):"
    )?;
    outln!("  {:<62} {:>12} {:>12}", "measurement", "median", "p90")?;
    for r in &rows {
        outln!("  {:<62} {:>12} {:>12}", r.what, us(r.median), us(r.p90))?;
    }
    // These are hot loops timed by the wall clock on a shared machine: figures for finding
    // where time goes, not for comparing; the comparisons are of CPU per sample, above.
    drop(kids);
    if check && !v.missed.is_empty() {
        anyhow::bail!(
            "{} of the targets missed: {}",
            v.missed.len(),
            v.missed.join("; ")
        );
    }
    Ok(())
}

/// The size of the model file the weights count is measured on.
const WEIGHTS_BENCH_MIB: usize = 256;

/// What counting a runner's resident weights adds to a sample: a stand-in runner maps a
/// 256 MiB file and reads all of it; a sample that counts (the count made due by watching the
/// file again before it) against one that does not. Where the OS has no count, it says so.
fn weights_row(ticks: usize, rows: &mut Vec<Row>) -> Result<()> {
    let (dir, file) = tempfile_dir(BenchDir::Weights, |dir| {
        let file = dir.join(format!("sha256-{}", "b".repeat(64)));
        std::fs::write(&file, vec![5u8; WEIGHTS_BENCH_MIB << 20])?;
        Ok(file)
    })?;
    let exe = std::env::current_exe()?;
    let runner = Command::new(&exe)
        .args(["runner", "--model"])
        .arg(&file)
        .args(["--port", "40999", "--exit-with-stdin", "--map-file"])
        .arg(&file)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .context("cannot start the runner the weights count is measured on")?;
    let runner = Children(vec![runner]);
    let pid = runner.0[0].id();
    let mut sampler = Sampler::new(ProcessSelector::Pids(vec![pid]))?;
    // Until the runner has read its file.
    let deadline = Instant::now() + Duration::from_secs(30);
    while sampler.tick()?.processes.first().map_or(0, |p| p.rss_bytes)
        < (WEIGHTS_BENCH_MIB as u64) << 20
    {
        anyhow::ensure!(Instant::now() < deadline, "the runner never read its file");
        std::thread::sleep(Duration::from_millis(20));
    }
    if let Err(e) = sampler.watch_weights(pid, &file) {
        say!("memtide bench: the weights count is not measured: {e}");
        let _ = std::fs::remove_dir_all(&dir);
        return Ok(());
    }
    let n = (ticks / 10).max(10);
    let (quiet, _) = measure(n, 2, || {
        sampler.tick()?;
        Ok(())
    })?;
    let (counted, p) = measure(n, 2, || {
        sampler.watch_weights(pid, &file)?;
        let w = sampler
            .tick()?
            .processes
            .first()
            .and_then(|p| p.weights_resident_bytes);
        anyhow::ensure!(w.is_some(), "no weights were counted");
        Ok(())
    })?;
    rows.push(Row {
        what: format!("counting a runner's resident weights ({WEIGHTS_BENCH_MIB} MiB mapped)"),
        median: counted.saturating_sub(quiet),
        p90: p.saturating_sub(quiet),
    });
    drop(runner);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// A path of this bench's (this process's) in the system's temporary directory.
fn bench_path(what: BenchDir) -> std::path::PathBuf {
    let name = what.name();
    std::env::temp_dir().join(format!("memtide-bench-{name}-{}", std::process::id()))
}

/// The bench's directories, each in the temporary directory and named by this process's ID.
#[derive(Debug, Clone, Copy)]
enum BenchDir {
    /// The idle runners' model file.
    Models,
    /// The model file of the idle runners named as Ollama's.
    OllamaModels,
    /// The model file whose resident pages are counted.
    Weights,
    /// The files the appends alone are timed on.
    Appends,
    /// The recorders' traces.
    Records,
}

impl BenchDir {
    const ALL: [BenchDir; 5] = [
        BenchDir::Models,
        BenchDir::OllamaModels,
        BenchDir::Weights,
        BenchDir::Appends,
        BenchDir::Records,
    ];

    fn name(self) -> &'static str {
        match self {
            BenchDir::Models => "models",
            BenchDir::OllamaModels => "ollama-models",
            BenchDir::Weights => "weights",
            BenchDir::Appends => "appends",
            BenchDir::Records => "records",
        }
    }
}

/// On a signal that stops a program (see `crate::catch_stop_signals`), removes the bench's
/// directories (a 256 MiB model file among them) and ends as the signal asks, with the
/// shell's status for it (128 + its number). The idle runners end when their standard input
/// closes with this process; a recorder the bench started ends at its `--duration`.
fn remove_dirs_on_stop() -> Result<()> {
    let mut signals = crate::catch_stop_signals()?;
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            // Held until the exit: no directory is made once the removal has begun.
            let _making = MAKING_DIRS.lock();
            for what in BenchDir::ALL {
                let _ = std::fs::remove_dir_all(bench_path(what));
            }
            std::process::exit(128 + signal);
        }
    });
    Ok(())
}

/// Removes the directories of benches that did not live to remove them (killed with
/// `SIGKILL`, or the machine stopped under them): those in the temporary directory named as
/// [`bench_path`] names them, for a process ID no process has now. A directory of a bench
/// still running, or of a process that took a dead bench's ID, is left. Returns how many were
/// removed.
fn sweep_stale_dirs() -> usize {
    let tmp = std::env::temp_dir();
    let Ok(entries) = std::fs::read_dir(&tmp) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(stale_bench_pid) else {
            continue;
        };
        let gone = rustix::process::Pid::from_raw(pid)
            .is_some_and(|p| rustix::process::test_kill_process(p) == Err(rustix::io::Errno::SRCH));
        if gone && std::fs::remove_dir_all(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// The process ID in the name of a bench's directory (`memtide-bench-<what>-<PID>`), for any
/// of [`BenchDir`]'s names; `None` for any other name.
fn stale_bench_pid(name: &str) -> Option<i32> {
    let rest = name.strip_prefix("memtide-bench-")?;
    BenchDir::ALL.iter().find_map(|what| {
        let pid = rest.strip_prefix(what.name())?.strip_prefix('-')?;
        if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        pid.parse().ok()
    })
}

/// Taken to make one of the bench's directories, and by a signal's removal of them all.
static MAKING_DIRS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A new directory at [`bench_path`], filled by `fill` before a signal's removal can begin.
fn tempfile_dir<T>(
    what: BenchDir,
    fill: impl FnOnce(&std::path::Path) -> Result<T>,
) -> Result<(std::path::PathBuf, T)> {
    let _making = MAKING_DIRS.lock();
    let dir = bench_path(what);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let filled = fill(&dir)?;
    Ok((dir, filled))
}

/// Runs `round` `n` times, one every 100 ms from a sleeping process as the recorder paces
/// its samples; returns this process's CPU time over them.
fn paced(n: u32, round: &mut dyn FnMut() -> Result<()>) -> Result<Duration> {
    let c0 = own_cpu()?;
    let t0 = Instant::now();
    for k in 1..=n {
        round()?;
        std::thread::sleep(
            (t0 + Duration::from_millis(100) * k).saturating_duration_since(Instant::now()),
        );
    }
    Ok(own_cpu()?.saturating_sub(c0))
}

/// This process's CPU time so far, every thread's (those that ended too).
fn own_cpu() -> Result<Duration> {
    Ok(memtide_sampler::own_usage()?.usage.cpu)
}

/// The machine's load over the last minute and the last PID it gave out (Linux's
/// `/proc/loadavg`); `None` elsewhere.
fn machine_load() -> Option<(f64, u64)> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut f = text.split_whitespace();
    let load = f.next()?.parse().ok()?;
    let last_pid = f.nth(3)?.parse().ok()?;
    Some((load, last_pid))
}

/// What the machine did while the bench ran, from two [`machine_load`] readings `secs` apart.
fn load_line(before: Option<(f64, u64)>, after: Option<(f64, u64)>, secs: f64) -> String {
    match (before, after) {
        (Some((l0, p0)), Some((l1, p1))) => {
            // The PIDs wrap at `pid_max`, and may have, once, while the bench ran.
            let wrap = std::fs::read_to_string("/proc/sys/kernel/pid_max")
                .ok()
                .and_then(|t| t.trim().parse::<u64>().ok());
            let rate = match (p1 >= p0, wrap) {
                (true, _) => format!("{:.1}", (p1 - p0) as f64 / secs.max(1e-9)),
                (false, Some(max)) => {
                    format!("at least {:.1}", (p1 + max - p0) as f64 / secs.max(1e-9))
                }
                (false, None) => "unknown (the PIDs wrapped)".into(),
            };
            format!(
                "load {l0:.2} at the start and {l1:.2} at the end (1 min); {rate} new PIDs a second (processes and threads, the bench's own included)"
            )
        }
        _ => "load and new PIDs a second: not read on this OS".into(),
    }
}

/// Per-sample figures of several rounds, µs.
struct Spread(Vec<f64>);

impl Spread {
    fn median(&self) -> f64 {
        let mut v = self.0.clone();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    }

    /// The median to judge by: not a number (which no target meets) when a round came out at
    /// zero or below, which [`Spread::show`] calls too noisy to trust.
    fn judged(&self) -> f64 {
        if self.0.iter().all(|&v| v > 0.0) {
            self.median()
        } else {
            f64::NAN
        }
    }

    fn show(&self) -> String {
        let lo = self.0.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = self.0.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let noisy = if lo <= 0.0 {
            "  too noisy to trust: run longer (--seconds) or on a quieter machine"
        } else {
            ""
        };
        format!("{:>6.0} µs  ({lo:.0}–{hi:.0}){noisy}", self.median())
    }
}

/// The marginal CPU per sample of a child command run at two lengths: (CPU of the long run −
/// CPU of the short one) ÷ the samples between them, from the kernel's count of the waited
/// children's CPU (their own children included), so that start-up and exit are not counted.
/// `command(samples)` builds the command for a run of that many samples at 10 Hz.
fn marginal_child(
    pacing: Pacing,
    command: &dyn Fn(u32) -> Command,
    peak: &mut u64,
) -> Result<Spread> {
    marginal(pacing, &mut |n| {
        let before = memtide_sampler::children_usage()?;
        let st = command(n)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .context("cannot start a measured command")?;
        anyhow::ensure!(st.success(), "a measured command failed ({st})");
        let after = memtide_sampler::children_usage()?;
        *peak = (*peak).max(after.peak_rss_bytes);
        Ok(after.cpu.saturating_sub(before.cpu))
    })
}

/// (CPU of `run(long)` − CPU of `run(short)`) ÷ the samples between them, µs, for each of
/// `pacing.rounds` rounds; `run(n)` runs `n` samples at 10 Hz and says what they cost.
fn marginal(pacing: Pacing, run: &mut dyn FnMut(u32) -> Result<Duration>) -> Result<Spread> {
    let (short, long) = (
        (pacing.short_s * 10.0).round() as u32,
        (pacing.long_s * 10.0).round() as u32,
    );
    let mut out = Vec::new();
    for _ in 0..pacing.rounds {
        let s = run(short)?;
        let l = run(long)?;
        // Signed: a long run that cost less than the short one is noise, and shows as such.
        out.push((l.as_secs_f64() - s.as_secs_f64()) * 1e6 / f64::from((long - short).max(1)));
    }
    Ok(Spread(out))
}

/// The marginal CPU per sample of `round` paced at 10 Hz in this process, as
/// [`marginal_child`] measures a child.
fn marginal_paced(pacing: Pacing, round: &mut dyn FnMut() -> Result<()>) -> Result<Spread> {
    marginal(pacing, &mut |n| paced(n, round))
}

/// How many processes the table holds now.
fn table_size() -> Result<usize> {
    Ok(Sampler::new(ProcessSelector::All)?.tick()?.processes.len())
}

/// Which processes a measured `memtide record` follows.
#[derive(Clone, Copy)]
enum Follow<'a> {
    /// These PIDs (`--pid`).
    Pids(&'a [u32]),
    /// The default selection: Ollama's processes, by name.
    Default,
    /// A pattern (`--match`), with its exec check.
    Pattern(&'a str),
}

/// `memtide record` at 10 Hz for `samples` samples, following `follow`, without asking
/// Ollama.
fn record_command<'a>(
    follow: Follow<'a>,
    dir: &'a std::path::Path,
) -> impl Fn(u32) -> Command + 'a {
    move |samples| {
        let _ = std::fs::remove_dir_all(dir);
        let mut cmd = Command::new(std::env::current_exe().unwrap_or_else(|_| "memtide".into()));
        cmd.args([
            "record",
            "--quiet",
            "--no-ollama",
            "--interval",
            "100ms",
            "--duration",
            &format!("{}ms", u64::from(samples) * 100),
            "--out",
        ])
        .arg(dir);
        match follow {
            Follow::Pids(pids) => {
                for p in pids {
                    cmd.args(["--pid", &p.to_string()]);
                }
            }
            Follow::Default => {}
            Follow::Pattern(p) => {
                cmd.args(["--match", p]);
            }
        }
        cmd
    }
}

/// The bytes a tick adds to `system.csv` and to `processes.csv` in the trace in `dir`, on
/// average over its ticks; `None` when it has no rows.
fn tick_bytes(dir: &std::path::Path) -> Option<(usize, usize)> {
    let read = |name: &str| std::fs::read(dir.join(name)).ok();
    let (system, processes) = (
        read(memtide_trace::SYSTEM_FILE)?,
        read(memtide_trace::PROCESSES_FILE)?,
    );
    // What follows the header: every line after the first.
    let rows = |t: &[u8]| {
        t.iter()
            .position(|&b| b == b'\n')
            .map_or(0, |i| t.len() - i - 1)
    };
    let ticks = system
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        .checked_sub(1)
        .filter(|&n| n > 0)?;
    Some((rows(&system) / ticks, rows(&processes) / ticks))
}

/// One part of a cost found as the difference of two medians, in µs: below zero it is within
/// the measurements' spread, and is said so rather than shown as a negative cost.
fn part_of_cost(us: f64) -> String {
    if us < 0.0 {
        format!("~0 (measured {us:.0}: within the noise)")
    } else {
        format!("{us:.0}")
    }
}

/// The CPU per tick of two appends of `sizes` bytes to two files, paced as the recorder
/// writes a tick's rows (one write to each file, in the temporary directory).
fn appends_cost(pacing: Pacing, sizes: (usize, usize)) -> Result<Spread> {
    use std::io::Write;
    let (dir, (mut a, mut b)) = tempfile_dir(BenchDir::Appends, |dir| {
        let open = |name: &str| {
            let path = dir.join(name);
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .with_context(|| format!("cannot create {}", path.display()))
        };
        Ok((
            open(memtide_trace::SYSTEM_FILE)?,
            open(memtide_trace::PROCESSES_FILE)?,
        ))
    })?;
    let (ra, rb) = (vec![b'0'; sizes.0], vec![b'0'; sizes.1]);
    let spread = marginal_paced(pacing, &mut || {
        a.write_all(&ra)?;
        b.write_all(&rb)?;
        Ok(())
    });
    let _ = std::fs::remove_dir_all(&dir);
    spread
}

/// How many processes the last trace in `dir` followed.
fn followed_in(dir: &std::path::Path) -> usize {
    std::fs::read_to_string(dir.join("identities.csv"))
        .map_or(0, |t| t.lines().count().saturating_sub(1))
}

/// Idle `sleep`s, until the table holds `size` processes (none if it holds that many
/// already); stopped when dropped.
fn fill_table(size: usize) -> Result<Children> {
    let table = table_size()?;
    let fill: Vec<Child> = (table..size)
        .map(|_| {
            Command::new("sleep")
                .arg("3600")
                .stdout(Stdio::null())
                .spawn()
        })
        .collect::<std::io::Result<_>>()
        .context("cannot start the processes that fill the table")?;
    Ok(Children(fill))
}

/// How long the table's processes must have run to be old: ten minutes, the age before which
/// memtide used to ask a process every 2 s whether it had called exec, which made a young
/// table cost twice an old one.
const OLD_TABLE_AGE: Duration = Duration::from_secs(600);

/// The recorder's CPU per sample at 10 Hz, paced and marginal, by the default selection, by
/// PID and by pattern, against the same reads paced the same way, the cheapest reads of the
/// same figures, waking alone, the sampler alone (by PID and by name) and the trace's appends
/// alone (where the cost above the reads goes), the Guide's shell loop, more followed
/// processes, and a large table young and (with `age_table`) old; every ratio with its target.
fn recorder_cost(
    processes: usize,
    pacing: Pacing,
    age_table: bool,
    v: &mut Verdicts,
) -> Result<()> {
    let began = Instant::now();
    let load_before = machine_load();
    let kids = spawn_idle(processes * 2)?;
    let ollama_named = spawn_idle_as(processes, BenchDir::OllamaModels, true)?;
    std::thread::sleep(Duration::from_millis(300));
    let pids: Vec<u32> = kids.kids.0.iter().map(Child::id).collect();
    let mine = &pids[..processes];
    let dir = bench_path(BenchDir::Records);
    let table = table_size()?;
    outln!()?;
    outln!(
        "At 10 Hz, CPU per sample: a {:.0} s run less a {:.0} s run, over the samples between them; {} rounds, median (range). {table} processes in the table.",
        pacing.long_s,
        pacing.short_s,
        pacing.rounds
    )?;
    let w = 62;
    let mut peak = 0;
    // The default selection: the runners named as Ollama's (and any Ollama process this
    // machine runs).
    let default = marginal_child(pacing, &record_command(Follow::Default, &dir), &mut peak)?;
    outln!(
        "  {:<w$} {}",
        format!(
            "memtide record, the default selection ({} found by name)",
            followed_in(&dir)
        ),
        default.show()
    )?;
    let peak_recorder = peak;
    let by_pid = marginal_child(pacing, &record_command(Follow::Pids(mine), &dir), &mut peak)?;
    outln!(
        "  {:<w$} {}",
        format!("memtide record --pid, {processes} processes"),
        by_pid.show()
    )?;
    let row_bytes = tick_bytes(&dir);
    let token = ollama_named.dir.display().to_string();
    let by_pattern = marginal_child(
        pacing,
        &record_command(Follow::Pattern(&token), &dir),
        &mut peak,
    )?;
    outln!(
        "  {:<w$} {}",
        format!(
            "memtide record --match, {} processes (exec check every 5 s)",
            followed_in(&dir)
        ),
        by_pattern.show()
    )?;
    // Each with the ratio the recorder is judged by against it, and its target.
    let mut floors = Vec::new();
    // memtide's own reads are also what the cost above them is split against (below).
    let mut own_reads = None;
    for (what, floor, ratio, target, own) in [
        (
            "the same reads, paced, no other work",
            Floor::new(mine),
            "memtide record ÷ its own reads with no other work",
            1.3,
            true,
        ),
        (
            "the cheapest reads of the same figures, paced",
            Floor::cheapest(mine),
            "memtide record ÷ the cheapest reads",
            2.0,
            false,
        ),
    ] {
        match floor {
            Ok(mut floor) => {
                let f = marginal_paced(pacing, &mut || Ok(floor.read().map(|_| ())?))?;
                outln!("  {what:<w$} {}", f.show())?;
                if own {
                    own_reads = Some(f.median());
                }
                floors.push((ratio, target, f.judged()));
            }
            Err(e) => say!("memtide bench: {what} not measured: {e}"),
        }
    }
    let waking = marginal_paced(pacing, &mut || Ok(()))?;
    outln!(
        "  {:<w$} {}",
        "waking at 10 Hz, reading nothing",
        waking.show()
    )?;
    // Where the recorder's cost above its own reads goes: the sampler's parsing and
    // bookkeeping, and the two appends that put each tick's rows in the trace at once.
    let mut sampler = Sampler::new(ProcessSelector::Pids(mine.to_vec()))?;
    sampler.tick()?;
    let sampler_alone = marginal_paced(pacing, &mut || Ok(sampler.tick().map(|_| ())?))?;
    outln!(
        "  {:<w$} {}",
        "memtide's sampler alone (no trace, no live state)",
        sampler_alone.show()
    )?;
    drop(sampler);
    // The same, finding Ollama's processes by name as the default selection does (the
    // runners named as Ollama's above, and any Ollama process this machine runs).
    let mut by_name = Sampler::new(ProcessSelector::Ollama)?;
    by_name.tick()?;
    let sampler_by_name = marginal_paced(pacing, &mut || Ok(by_name.tick().map(|_| ())?))?;
    drop(by_name);
    outln!(
        "  {:<w$} {}",
        "the same, finding Ollama's processes by name",
        sampler_by_name.show()
    )?;
    let appends = match row_bytes {
        Some(sizes) => {
            let spread = appends_cost(pacing, sizes)?;
            outln!(
                "  {:<w$} {}",
                format!(
                    "two appends of a sample's rows ({} and {} bytes), alone",
                    sizes.0, sizes.1
                ),
                spread.show()
            )?;
            Some(spread)
        }
        None => {
            say!("memtide bench: the trace's appends not measured: the measured trace has no rows");
            None
        }
    };
    // The pressure listener: on macOS the level poller as the recorder runs it (a wake and a
    // sysctl every 100 ms); elsewhere the same poller over a level that never changes, which
    // is its wakes alone (Linux's own listener sleeps in poll until PSI fires).
    let listener = marginal(pacing, &mut |n| {
        let mut watch = if cfg!(target_os = "macos") {
            PressureWatch::start(Trigger::DEFAULT)?
        } else {
            PressureWatch::polling(|| Ok(PressureLevel::Normal), LEVEL_POLL_PERIOD)?
        };
        let c0 = own_cpu()?;
        let heard = watch.wait(LEVEL_POLL_PERIOD * n)?;
        let spent = own_cpu()?.saturating_sub(c0);
        // A real change of level ends the wait early and would make the figure wrong.
        anyhow::ensure!(
            heard.is_none(),
            "the pressure level changed while it was measured"
        );
        Ok(spent)
    })?;
    outln!(
        "  {:<w$} {}",
        "the pressure level poller, per read (10 a second)",
        listener.show()
    )?;
    let both = &pids;
    let more_followed =
        marginal_child(pacing, &record_command(Follow::Pids(both), &dir), &mut peak)?;
    outln!(
        "  {:<w$} {}",
        format!("memtide record --pid, {} processes", both.len()),
        more_followed.show()
    )?;
    let guide_loop = |samples: u32| {
        let mut c = Command::new("sh");
        c.args([
            "-c",
            &format!(
                "i=0; while [ $i -lt {samples} ]; do {GUIDE_PIPELINE}; sleep 0.1; i=$((i+1)); done"
            ),
        ]);
        c
    };
    let guide = marginal_child(pacing, &guide_loop, &mut 0)?;
    outln!(
        "  {:<w$} {}",
        "the Guide's shell loop (ps -axo … | awk, 10 Hz)",
        guide.show()
    )?;
    // A desktop's table: about 600 processes, where the Guide's loop costs more (it reads
    // every process) and memtide's record should not.
    let desktop = 600usize.max(table);
    let fill = fill_table(desktop)?;
    std::thread::sleep(Duration::from_millis(300));
    let at_desktop = table_size()?;
    let guide_desktop = marginal_child(pacing, &guide_loop, &mut 0)?;
    outln!(
        "  {:<w$} {}",
        format!("the Guide's shell loop, {at_desktop} in the table"),
        guide_desktop.show()
    )?;
    let default_desktop = marginal_child(pacing, &record_command(Follow::Default, &dir), &mut 0)?;
    outln!(
        "  {:<w$} {}",
        format!("memtide record, the default selection, {at_desktop} in the table"),
        default_desktop.show()
    )?;
    // A young table: 900 processes, all started within the minute (a machine just booted, or
    // one that just started a batch of work).
    let more = fill_table(900usize.max(table))?;
    let filled = Instant::now();
    std::thread::sleep(Duration::from_millis(300));
    let large = table_size()?;
    let young = marginal_child(pacing, &record_command(Follow::Default, &dir), &mut 0)?;
    outln!(
        "  {:<w$} {}",
        format!("memtide record, the default selection, {large} young in the table"),
        young.show()
    )?;
    let old = if age_table {
        let wait = OLD_TABLE_AGE.saturating_sub(filled.elapsed());
        say!(
            "memtide bench: waiting {} s for the table's processes to be ten minutes old",
            wait.as_secs()
        );
        std::thread::sleep(wait);
        let old = marginal_child(pacing, &record_command(Follow::Default, &dir), &mut 0)?;
        outln!(
            "  {:<w$} {}",
            format!("memtide record, the default selection, {large} old in the table"),
            old.show()
        )?;
        Some(old)
    } else {
        outln!(
            "  {:<w$} {}",
            format!("memtide record, {large} old in the table"),
            "not measured: --age-table waits 10 minutes for it"
        )?;
        None
    };
    drop(more);
    drop(fill);
    let _ = std::fs::remove_dir_all(&dir);
    drop(kids);
    drop(ollama_named);
    outln!(
        "  {}",
        load_line(load_before, machine_load(), began.elapsed().as_secs_f64())
    )?;

    outln!()?;
    let r = default.judged();
    v.judge(
        &format!("memtide record, µs per sample ({table} in the table)"),
        r,
        " µs",
        Target::CostAtMost(150.0),
    )?;
    for (what, target, floor) in floors {
        v.judge(what, ratio(r, floor), "×", Target::AtMost(target))?;
    }
    if let (Some(reads), Some(appends)) = (own_reads, &appends) {
        let (sampler, by_name, appends) = (
            sampler_alone.median() - reads,
            sampler_by_name.median() - sampler_alone.median(),
            appends.median() - waking.median(),
        );
        let recorder = default.median();
        let rest = recorder - reads - sampler - by_name - appends;
        outln!(
            "  of the {:.0} µs above its own reads: {} the sampler's parsing and bookkeeping (by PID), {} finding Ollama's processes by name, {} the trace's two appends, {} the rest (the rows, the live state, the recorder's loop)",
            recorder - reads,
            part_of_cost(sampler),
            part_of_cost(by_name),
            part_of_cost(appends),
            part_of_cost(rest)
        )?;
    }
    // The loop's cost grows with the table and memtide's does not: the target is set where a
    // desktop's table is, and a small table's ratio is shown beside it, not judged.
    reading(
        "the Guide's shell loop ÷ memtide record",
        ratio(guide.judged(), r),
        "×",
        &format!("(≥ 100× is asked at {at_desktop} in the table)"),
    )?;
    v.judge(
        &format!("the same, {at_desktop} in the table"),
        ratio(guide_desktop.judged(), default_desktop.judged()),
        "×",
        Target::AtLeast(100.0),
    )?;
    v.judge(
        &format!("memtide record, µs per sample ({large} in the table)"),
        young.judged(),
        " µs",
        Target::CostAtMost(200.0),
    )?;
    if let Some(old) = old {
        v.judge(
            &format!("a young table ÷ an old one, {large} in the table"),
            ratio(young.judged(), old.judged()),
            "×",
            Target::AtMost(1.3),
        )?;
    }
    v.judge(
        "each further process followed, µs per sample",
        (more_followed.judged() - by_pid.judged()) / processes.max(1) as f64,
        " µs",
        Target::CostAtMost(5.0),
    )?;
    v.judge(
        "memtide record, peak RSS",
        peak_recorder as f64 / (1024.0 * 1024.0),
        " MiB",
        Target::AtMost(10.0),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_names_a_bench_gives_its_directories_are_read_as_a_bench_s() {
        // Every name the bench gives, read back to its process ID.
        for what in BenchDir::ALL {
            assert_eq!(
                stale_bench_pid(&format!("memtide-bench-{}-4242", what.name())),
                Some(4242)
            );
        }
        // `ollama-models` is not `models` with something before it, nor the other way round.
        assert_eq!(stale_bench_pid("memtide-bench-ollama-models-7"), Some(7));
        for other in [
            "memtide-bench-models",
            "memtide-bench-models-",
            "memtide-bench-models-12a",
            "memtide-bench-models-+12",
            "memtide-bench-models-99999999999",
            "memtide-bench-matches-nothing",
            "memtide-bench-traces-12",
            "memtide-bench-models12",
            "my-memtide-bench-models-12",
            "memtide-trace-12",
        ] {
            assert_eq!(stale_bench_pid(other), None, "{other}");
        }
    }

    #[test]
    fn a_figure_past_its_target_is_a_miss() {
        let mut v = Verdicts::default();
        v.judge("a", 1.2, "×", Target::AtMost(1.5)).unwrap();
        v.judge("b", 350.0, "×", Target::AtLeast(300.0)).unwrap();
        assert!(v.missed.is_empty());
        v.judge("c", 2.0, "×", Target::AtMost(1.5)).unwrap();
        v.judge("d", 40.0, "×", Target::AtLeast(300.0)).unwrap();
        assert_eq!(v.missed, ["c", "d"]);
        // Noise never meets a target: a cost at or below zero, a ratio of one.
        let mut v = Verdicts::default();
        v.judge("e", 3.0, " µs", Target::CostAtMost(5.0)).unwrap();
        v.judge("f", -1.2, " µs", Target::CostAtMost(5.0)).unwrap();
        v.judge("g", 0.0, " µs", Target::CostAtMost(5.0)).unwrap();
        v.judge("h", ratio(-3.0, 100.0), "×", Target::AtMost(2.0))
            .unwrap();
        v.judge("i", ratio(5000.0, -1.0), "×", Target::AtLeast(100.0))
            .unwrap();
        assert_eq!(v.missed, ["f", "g", "h", "i"]);
        assert_eq!(ratio(300.0, 150.0), 2.0);
    }

    #[test]
    fn a_part_of_the_cost_below_zero_is_shown_as_noise_not_as_a_negative_cost() {
        assert_eq!(part_of_cost(36.4), "36");
        assert_eq!(part_of_cost(0.0), "0");
        assert_eq!(part_of_cost(-2.3), "~0 (measured -2: within the noise)");
    }

    #[test]
    fn a_spread_with_a_round_at_or_below_zero_is_shown_as_untrustworthy_and_judged_as_noise() {
        // As a bench run measured it: 20 followed processes, one round of five negative.
        let noisy = Spread(vec![289.0, -167.0, 301.0, 308.0, 280.0]);
        assert!(
            noisy.show().contains("too noisy to trust"),
            "{}",
            noisy.show()
        );
        assert!(noisy.judged().is_nan());
        let by_pid = Spread(vec![248.0, 193.0, 318.0, 250.0, 240.0]);
        assert_eq!(by_pid.judged(), 248.0);
        let mut v = Verdicts::default();
        let per_process = (noisy.judged() - by_pid.judged()) / 10.0;
        v.judge(
            "each further process",
            per_process,
            " µs",
            Target::CostAtMost(5.0),
        )
        .unwrap();
        assert_eq!(v.missed, ["each further process"]);
    }
}
