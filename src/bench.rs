//! `memtide bench`: what a sample costs, measured side by side in one run on this machine:
//! a sample of memtide's sampler; the bare kernel reads of a sample (the same reads with no
//! work around them); `sysinfo` refreshing the same processes and memory, and refreshing
//! everything; and the `ps | awk` pipeline of the Ollama macOS Memory Trace Guide's shell loop
//! as a subprocess. Then the recorder's own CPU and memory while it records at 10 Hz. Each
//! ratio is printed with its target and a verdict.

use crate::demo::Children;
use anyhow::{Context, Result};
use memtide_render::format_bytes;
use memtide_sampler::{Floor, ProcessSelector, Sampler};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The Guide's per-second pipeline, as its shell loop runs it.
const GUIDE_PIPELINE: &str = r#"ps -axo pid=,ppid=,comm=,rss=,vsz=,command= | awk -v ts="$(date -u +%Y-%m-%dT%H:%M:%SZ)" '/[o]llama|[m]lx|[r]unner/ { pid=$1; ppid=$2; comm=$3; rss=$4; vsz=$5; $1=$2=$3=$4=$5=""; sub(/^ +/, "", $0); print ts "\t" pid "\t" ppid "\t" comm "\t" rss "\t" vsz "\t" $0 }' > /dev/null"#;

fn spawn_idle(n: usize) -> Result<Children> {
    let exe = std::env::current_exe()?;
    let mut kids = Children(Vec::new());
    for i in 0..n {
        let child = Command::new(&exe)
            .args([
                "runner",
                "--model",
                &format!("bench/idle-{i}"),
                "--port",
                &(40000 + i).to_string(),
                "--exit-with-stdin",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .context("cannot start an idle child")?;
        kids.0.push(child);
    }
    Ok(kids)
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

#[cfg(not(target_os = "macos"))]
fn sysinfo_rows(pids: &[u32], ticks: usize, rows: &mut Vec<Row>) -> Result<()> {
    use sysinfo::{MemoryRefreshKind, Pid, ProcessRefreshKind, ProcessesToUpdate, System};
    let mut sys = System::new();
    let ids: Vec<Pid> = pids.iter().map(|&p| Pid::from_u32(p)).collect();
    let (m, p) = measure(ticks, 5, || {
        sys.refresh_processes_specifics(
            ProcessesToUpdate::Some(&ids),
            true,
            ProcessRefreshKind::nothing().with_memory(),
        );
        sys.refresh_memory_specifics(MemoryRefreshKind::everything());
        Ok(())
    })?;
    rows.push(Row {
        what: "sysinfo: the same processes and memory".into(),
        median: m,
        p90: p,
    });
    let mut all = System::new();
    let (m, p) = measure((ticks / 10).max(10), 2, || {
        all.refresh_processes_specifics(
            ProcessesToUpdate::All,
            true,
            ProcessRefreshKind::everything(),
        );
        all.refresh_memory_specifics(MemoryRefreshKind::everything());
        Ok(())
    })?;
    rows.push(Row {
        what: "sysinfo: full refresh (all processes, memory)".into(),
        median: m,
        p90: p,
    });
    Ok(())
}

#[cfg(target_os = "macos")]
fn sysinfo_rows(_pids: &[u32], _ticks: usize, _rows: &mut Vec<Row>) -> Result<()> {
    eprintln!("memtide bench: sysinfo is not part of memtide's macOS build; its rows are skipped");
    Ok(())
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

/// A measured figure against its target.
enum Target {
    AtMost(f64),
    AtLeast(f64),
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
        };
        let digits = if value >= 100.0 {
            0
        } else if value >= 10.0 {
            1
        } else {
            2
        };
        outln!(
            "  {what:<46} {value:>9.digits$}{unit}   {want:<16} {}",
            if meets { "meets" } else { "misses" }
        )?;
        if !meets {
            self.missed.push(what.to_owned());
        }
        Ok(())
    }
}

pub fn run(processes: usize, ticks: usize, check: bool) -> Result<()> {
    let ticks = ticks.max(10);
    let kids = spawn_idle(processes)?;
    let pids: Vec<u32> = kids.0.iter().map(Child::id).collect();
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
    let tick = m;

    let floor = match Floor::new(&pids) {
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
            Some(m)
        }
        Err(e) => {
            eprintln!("memtide bench: bare kernel reads not measured: {e}");
            None
        }
    };

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

    // The exec check (every 2 s when recording): a sampler that follows nothing by name, its
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
        what: format!("exec check over {table} unfollowed processes (once per 2 s)"),
        median: checked.saturating_sub(quiet),
        p90: p.saturating_sub(quiet),
    });

    sysinfo_rows(&pids, ticks, &mut rows)?;

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
    let pipeline = m;

    outln!(
        "memtide bench: {processes} idle processes, {ticks} samples per measurement, {} {}",
        std::env::consts::OS,
        std::env::consts::ARCH
    )?;
    outln!()?;
    outln!("  {:<62} {:>12} {:>12}", "measurement", "median", "p90")?;
    for r in &rows {
        outln!("  {:<62} {:>12} {:>12}", r.what, us(r.median), us(r.p90))?;
    }
    outln!()?;
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64().max(1e-12);
    let mut v = Verdicts::default();
    if let Some(f) = floor {
        v.judge(
            "sample ÷ bare kernel reads",
            ratio(tick, f),
            "×",
            Target::AtMost(1.5),
        )?;
    }
    for r in rows.iter().filter(|r| r.what.starts_with("sysinfo")) {
        let what = format!("{} ÷ sample", r.what.trim_start_matches("sysinfo: "));
        let value = ratio(r.median, tick);
        if r.what.contains("full refresh") {
            v.judge(&what, value, "×", Target::AtLeast(30.0))?;
        } else {
            outln!("  {what:<46} {value:>9.1}×")?;
        }
    }
    v.judge(
        "the Guide's shell loop ÷ sample",
        ratio(pipeline, tick),
        "×",
        Target::AtLeast(300.0),
    )?;
    drop(kids);

    recorder_cost(processes, &mut v)?;
    if check && !v.missed.is_empty() {
        anyhow::bail!(
            "{} of the targets missed: {}",
            v.missed.len(),
            v.missed.join("; ")
        );
    }
    Ok(())
}

/// Runs `round` 50 times, one every 100 ms from a sleeping process as the recorder paces its
/// ticks; returns this process's CPU time and the wall time.
fn paced(
    sampler: &mut Sampler,
    mut round: impl FnMut() -> memtide_sampler::Result<()>,
) -> Result<(Duration, Duration)> {
    let me = std::process::id();
    let c0 = sampler.cpu_time(me)?;
    let t0 = Instant::now();
    for k in 1..=50u32 {
        std::hint::black_box(round()?);
        std::thread::sleep(
            (t0 + Duration::from_millis(100) * k).saturating_duration_since(Instant::now()),
        );
    }
    Ok((sampler.cpu_time(me)?.saturating_sub(c0), t0.elapsed()))
}

/// Records 10 s at 10 Hz with `processes` idle children, reading the recorder's CPU time and
/// peak memory from the kernel (through the sampler) while it runs.
fn recorder_cost(processes: usize, v: &mut Verdicts) -> Result<()> {
    let kids = spawn_idle(processes)?;
    std::thread::sleep(Duration::from_millis(300));
    let dir = std::env::temp_dir().join(format!("memtide-bench-{}", std::process::id()));
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.args([
        "record",
        "--quiet",
        "--no-ollama",
        "--interval",
        "100ms",
        "--duration",
        "11s",
        "--out",
    ])
    .arg(&dir)
    .stdout(Stdio::null());
    for k in &kids.0 {
        cmd.args(["--pid", &k.id().to_string()]);
    }
    let mut rec = cmd.spawn().context("cannot start the recorder")?;
    let pid = rec.id();
    let mut sampler = Sampler::new(ProcessSelector::Pids(vec![pid]))?;
    // Skip the first second (start-up: loading, parsing arguments, creating files).
    std::thread::sleep(Duration::from_secs(1));
    let cpu0 = sampler.cpu_time(pid)?;
    let t0 = Instant::now();
    let mut last = (cpu0, t0);
    let mut peak = 0u64;
    while rec.try_wait()?.is_none() {
        if let (Ok(c), Ok((s, _))) = (sampler.cpu_time(pid), sampler.inspect(pid)) {
            last = (c, Instant::now());
            peak = peak.max(
                s.peak_rss_bytes
                    .or(s.peak_footprint_bytes)
                    .unwrap_or(s.rss_bytes),
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = std::fs::remove_dir_all(&dir);
    let cpu = last.0.saturating_sub(cpu0);
    let wall = last.1.duration_since(t0);
    outln!()?;
    outln!(
        "  recorder at 10 Hz with {processes} processes: {:.1} ms CPU in {:.1} s, peak RSS {}",
        cpu.as_secs_f64() * 1e3,
        wall.as_secs_f64(),
        format_bytes(peak)
    )?;
    v.judge(
        "recorder CPU at 10 Hz, % of one core",
        cpu.as_secs_f64() / wall.as_secs_f64().max(1e-9) * 100.0,
        " %",
        Target::AtMost(0.2),
    )?;
    v.judge(
        "recorder peak RSS, MiB",
        peak as f64 / (1024.0 * 1024.0),
        " MiB",
        Target::AtMost(10.0),
    )?;

    // The floors paced the same way: one round every 100 ms, from a sleeping process, as the
    // recorder does. Whatever these cost, no recorder can cost less: the first makes the
    // recorder's reads at its cadences, the second the cheapest reads of the same figures.
    let pids: Vec<u32> = kids.0.iter().map(Child::id).collect();
    let recorder_per_tick = cpu.as_secs_f64() / (wall.as_secs_f64() * 10.0).max(1e-9) * 1e6;
    outln!("  recorder at 10 Hz: {recorder_per_tick:.0} µs CPU per sample")?;
    let mut cheapest_per_tick = None;
    for (what, floor) in [
        (
            "bare reads paced at 10 Hz (same reads, no work)",
            Floor::new(&pids),
        ),
        (
            "cheapest reads of the same figures, paced",
            Floor::cheapest(&pids),
        ),
    ] {
        match floor {
            Ok(mut floor) => {
                let (c, w) = paced(&mut sampler, || floor.read().map(|_| ()))?;
                let per_tick = c.as_secs_f64() / (w.as_secs_f64() * 10.0).max(1e-9) * 1e6;
                outln!(
                    "  {what:<48} {:.1} ms CPU in {:.1} s = {per_tick:.0} µs per sample",
                    c.as_secs_f64() * 1e3,
                    w.as_secs_f64(),
                )?;
                if what.starts_with("cheapest") {
                    cheapest_per_tick = Some(per_tick);
                }
            }
            Err(e) => eprintln!("memtide bench: {what} not measured: {e}"),
        }
    }
    // And the wake-ups alone: 10 Hz of sleeping and waking, reading nothing.
    let (c, w) = paced(&mut sampler, || Ok(()))?;
    outln!(
        "  waking at 10 Hz and reading nothing:             {:.1} ms CPU in {:.1} s = {:.0} µs per sample",
        c.as_secs_f64() * 1e3,
        w.as_secs_f64(),
        c.as_secs_f64() / (w.as_secs_f64() * 10.0).max(1e-9) * 1e6
    )?;
    if let Some(floor) = cheapest_per_tick {
        v.judge(
            "recorder ÷ cheapest reads, both paced",
            recorder_per_tick / floor.max(1e-9),
            "×",
            Target::AtMost(2.0),
        )?;
    }
    drop(kids);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_figure_past_its_target_is_a_miss() {
        let mut v = Verdicts::default();
        v.judge("a", 1.2, "×", Target::AtMost(1.5)).unwrap();
        v.judge("b", 350.0, "×", Target::AtLeast(300.0)).unwrap();
        assert!(v.missed.is_empty());
        v.judge("c", 2.0, "×", Target::AtMost(1.5)).unwrap();
        v.judge("d", 40.0, "×", Target::AtLeast(300.0)).unwrap();
        assert_eq!(v.missed, ["c", "d"]);
    }
}
