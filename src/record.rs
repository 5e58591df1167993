//! `memtide record`: samples on a fixed grid of deadlines, writes the trace directory, polls
//! Ollama on the side, and stops cleanly on Ctrl-C, SIGTERM or `--duration`.

use crate::convert::{self, ModelNames};
use crate::poller::{self, Message, Poller};
use crate::Selection;
use anyhow::{Context, Result};
use memtide_model::ollama::{self, Client};
use memtide_model::trace::{self, IdentityRow, Meta, OllamaMeta, TraceWriter};
use memtide_render::format_bytes;
use memtide_sampler::{ProcessId, Sampler};
use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant, SystemTime};

pub struct Options {
    pub interval: Duration,
    pub duration: Option<Duration>,
    pub out: Option<PathBuf>,
    /// Replace memtide's own files in `out` if it holds a trace.
    pub force: bool,
    pub selection: Selection,
    pub ollama: Option<String>,
    pub no_ollama: bool,
    pub ollama_interval: Duration,
    pub quiet: bool,
}

/// What the recorder keeps per identity, for `identities.csv` and the summary.
struct Tracked {
    row: IdentityRow,
    last_seen: SystemTime,
    /// Footprint (or RSS where there is none) in the last tick.
    current: u64,
    peak_footprint: Option<u64>,
    peak_rss: u64,
}

/// How often the recorder lists the process table to find new processes: a runner is found
/// within this long of its start. Followed processes are read at every tick regardless.
/// Listing `/proc` costs more than reading ten processes' memory, so at 10 Hz listing every
/// tick would be most of the recorder's cost.
pub const DISCOVERY_INTERVAL: Duration = Duration::from_millis(250);

pub fn run(opts: Options, stop: Receiver<()>) -> Result<()> {
    let mut sampler = Sampler::new(opts.selection.selector()).context("cannot start sampling")?;
    sampler.set_discovery_interval(DISCOVERY_INTERVAL);
    let host = sampler.host().clone();
    let out = crate::outdir::claim(opts.out.as_deref(), "memtide", opts.force, &[])?;
    let started_wall = SystemTime::now();
    let start = Instant::now();

    let client = (!opts.no_ollama).then(|| {
        let env = std::env::var("OLLAMA_HOST").ok();
        let url = ollama::base_url(opts.ollama.as_deref(), env.as_deref());
        Client::new(&url, poller::request_timeout(opts.ollama_interval))
    });
    let meta = Meta {
        format_version: trace::FORMAT_VERSION,
        memtide_version: env!("CARGO_PKG_VERSION").into(),
        os: host.os.into(),
        os_version: host.os_version.clone(),
        arch: host.arch.into(),
        total_memory_bytes: host.total_memory_bytes,
        page_size_bytes: host.page_size_bytes,
        gpu_wired_limit_bytes: host.gpu_wired_limit_bytes,
        interval_ms: opts.interval.as_millis() as u64,
        selection: opts.selection.to_meta(),
        start_utc: trace::utc_ms(started_wall),
        end_utc: None,
        samples: None,
        missed_ticks: None,
        failed_reads: None,
        read_error: None,
        ollama: client.as_ref().map(|c| OllamaMeta {
            url: c.base_url().to_owned(),
            version: None,
            poll_interval_ms: opts.ollama_interval.as_millis() as u64,
        }),
        source: Some("memtide record".into()),
    };
    let writer = TraceWriter::create(&out, meta)?;
    let mut poller = match client {
        Some(c) => {
            Some(Poller::start(c, opts.ollama_interval).context("cannot start the Ollama poller")?)
        }
        None => None,
    };
    let status = !opts.quiet && std::io::stderr().is_terminal();
    if !opts.quiet {
        eprintln!(
            "memtide: recording to {} every {:?} (Ctrl-C to stop)",
            out.display(),
            opts.interval
        );
    }

    let mut rec = Recorder {
        writer,
        names: ModelNames::default(),
        tracked: HashMap::new(),
        order: Vec::new(),
        samples: 0,
        missed: 0,
        min_free_percent: None,
        max_swap_used: None,
        last_free_percent: None,
        last_pressure: None,
        start,
        warned_dropped_models: false,
        failed_reads: 0,
        read_error: None,
        polls_ok: 0,
        polls_failed: 0,
    };
    let result = rec.run_loop(&mut sampler, &opts, &stop, poller.as_ref(), status);
    if status {
        eprintln!();
    }
    // Whatever ended the loop, the files are completed as far as they can be; the first
    // error is the one reported (a full disk fails system.csv first, not identities.csv).
    let mut first = result.err();
    if let Some(p) = poller.take() {
        let rest = p.stop();
        while let Ok(m) = rest.try_recv() {
            if let Err(e) = rec.handle_message(m) {
                first.get_or_insert(e);
            }
        }
    }
    if let Err(e) = rec.write_identities() {
        first.get_or_insert(e);
    }
    let end = SystemTime::now();
    let (failed_reads, read_error) = (rec.failed_reads, rec.read_error.clone());
    if let Err(e) = rec.writer.update_meta(|m| {
        m.failed_reads = (failed_reads > 0).then_some(failed_reads);
        m.read_error = read_error;
    }) {
        first.get_or_insert(e.into());
    }
    if let Err(e) = rec.writer.finish(end, rec.samples, rec.missed) {
        first.get_or_insert(e.into());
    }
    if let Some(e) = first {
        return Err(e);
    }
    if !opts.quiet {
        rec.print_summary(&out)?;
    }
    Ok(())
}

/// `line` cut to fit a terminal `width` columns wide, one column spare so that the cursor never
/// wraps, and its control characters shown escaped (a process name is untrusted text).
fn fit(line: &str, width: usize) -> String {
    let shown = memtide_render::escape_control(line);
    let room = width.saturating_sub(1).max(1);
    if shown.chars().count() <= room {
        return shown.into_owned();
    }
    let mut cut: String = shown.chars().take(room.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

struct Recorder {
    writer: TraceWriter,
    names: ModelNames,
    tracked: HashMap<ProcessId, Tracked>,
    order: Vec<ProcessId>,
    samples: u64,
    missed: u64,
    min_free_percent: Option<f64>,
    max_swap_used: Option<u64>,
    last_free_percent: Option<f64>,
    last_pressure: Option<&'static str>,
    start: Instant,
    /// Whether the user was told that an /api/ps answer had models left out.
    warned_dropped_models: bool,
    /// Samples in which a system read failed, and the first failure.
    failed_reads: u64,
    read_error: Option<String>,
    /// Polls of Ollama that answered, and that did not.
    polls_ok: u64,
    polls_failed: u64,
}

impl Recorder {
    fn run_loop(
        &mut self,
        sampler: &mut Sampler,
        opts: &Options,
        stop: &Receiver<()>,
        poller: Option<&Poller>,
        status: bool,
    ) -> Result<()> {
        let interval = opts.interval;
        let mut k: u64 = 0;
        let mut last_dir_check = Instant::now();
        loop {
            // Deadlines are absolute (start + k × interval), so the grid never drifts.
            let deadline = self.start + interval * k as u32;
            if let Some(d) = opts.duration {
                if deadline.duration_since(self.start) >= d {
                    return Ok(());
                }
            }
            let now = Instant::now();
            if deadline > now {
                match stop.recv_timeout(deadline - now) {
                    Err(RecvTimeoutError::Timeout) => {}
                    _ => return Ok(()),
                }
            } else if stop.try_recv().is_ok() {
                return Ok(());
            }
            self.tick(sampler)?;
            if let Some(p) = poller {
                while let Ok(m) = p.messages.try_recv() {
                    self.handle_message(m)?;
                }
            }
            self.writer.flush()?;
            // Once a second: is the trace directory still there?
            if last_dir_check.elapsed() >= Duration::from_secs(1) {
                self.writer.check_dir()?;
                last_dir_check = Instant::now();
            }
            if status {
                self.status_line();
            }
            // Ticks whose deadline passed while this one ran are missed, not taken late.
            k += 1;
            let behind = Instant::now().duration_since(self.start);
            let due = (behind.as_nanos() / interval.as_nanos().max(1)) as u64;
            if due > k {
                self.missed += due - k;
                k = due;
            }
        }
    }

    fn t_ms(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.start).as_millis() as u64
    }

    fn tick(&mut self, sampler: &mut Sampler) -> Result<()> {
        let taken = Instant::now();
        let t_ms = self.t_ms(taken);
        let tick = sampler.tick().context("sampling failed")?;
        let wall = tick.time.wall;
        let time_utc = trace::utc_ms(wall);
        self.samples += 1;

        let s = tick.system;
        if let Some(e) = tick.system_error {
            self.failed_reads += 1;
            if self.read_error.is_none() {
                eprintln!(
                    "memtide: a system read failed: {e}; recording goes on with that sample's \
                     fields empty (said once; counted in meta.json)"
                );
                self.read_error = Some(e.to_string());
            }
        }
        self.writer
            .system(&convert::system_row(&time_utc, t_ms, s))?;
        self.last_free_percent = s.free_percent;
        self.last_pressure = s.pressure.map(|p| p.as_str());
        if let Some(p) = s.free_percent {
            self.min_free_percent = Some(self.min_free_percent.map_or(p, |m: f64| m.min(p)));
        }
        if let Some(u) = s.swap_used_bytes {
            self.max_swap_used = Some(self.max_swap_used.map_or(u, |m: u64| m.max(u)));
        }

        let mut identities_changed = false;
        for info in tick.started {
            let models = self.names.for_argv(&info.argv);
            self.tracked.insert(
                info.id,
                Tracked {
                    row: convert::identity_row(info, &models, &time_utc),
                    last_seen: wall,
                    current: 0,
                    peak_footprint: None,
                    peak_rss: 0,
                },
            );
            self.order.push(info.id);
            identities_changed = true;
        }
        for p in tick.processes {
            self.writer
                .process(&convert::process_row(&time_utc, t_ms, p))?;
            if let Some(t) = self.tracked.get_mut(&p.id) {
                t.last_seen = wall;
                t.current = p.footprint_bytes.unwrap_or(p.rss_bytes);
                t.peak_rss = t.peak_rss.max(p.rss_bytes);
                if let Some(f) = p.footprint_bytes {
                    t.peak_footprint = Some(t.peak_footprint.map_or(f, |m| m.max(f)));
                }
            }
        }
        for id in tick.exited {
            if let Some(t) = self.tracked.get_mut(id) {
                t.row.exited = true;
                t.row.exited_utc = Some(time_utc.clone());
                identities_changed = true;
            }
        }
        for f in tick.failures {
            let t = self.tracked.entry(f.id).or_insert_with(|| Tracked {
                row: IdentityRow {
                    pid: f.id.pid,
                    start_time_us: f.id.start_time_us,
                    argv_json: "[]".into(),
                    first_seen_utc: time_utc.clone(),
                    ..IdentityRow::default()
                },
                last_seen: wall,
                current: 0,
                peak_footprint: None,
                peak_rss: 0,
            });
            t.row.error = Some(f.error.to_string());
            if !self.order.contains(&f.id) {
                self.order.push(f.id);
            }
            identities_changed = true;
            eprintln!("memtide: pid {}: {}", f.id.pid, f.error);
        }
        if identities_changed {
            self.write_identities()?;
        }
        Ok(())
    }

    fn write_identities(&mut self) -> Result<()> {
        let rows: Vec<IdentityRow> = self
            .order
            .iter()
            .filter_map(|id| self.tracked.get(id))
            .map(|t| {
                let mut row = t.row.clone();
                if row.error.is_none() {
                    row.last_seen_utc = trace::utc_ms(t.last_seen);
                }
                row
            })
            .collect();
        self.writer.set_identities(&rows)?;
        Ok(())
    }

    fn handle_message(&mut self, m: Message) -> Result<()> {
        match m {
            Message::Version(v) => self.writer.update_meta(|meta| {
                if let Some(o) = meta.ollama.as_mut() {
                    o.version = v;
                }
            })?,
            Message::Poll {
                sent,
                sent_mono,
                result,
                latency,
            } => {
                let (poll, models) = convert::poll_rows(
                    &trace::utc_ms(sent),
                    self.t_ms(sent_mono),
                    &result,
                    latency,
                );
                if poll.outcome == "ok" {
                    self.polls_ok += 1;
                } else {
                    self.polls_failed += 1;
                }
                if let (Some(why), false) = (&poll.error, self.warned_dropped_models) {
                    if poll.outcome == "ok" {
                        eprintln!("memtide: Ollama's /api/ps: {why}; said once, counted in ollama_polls.csv");
                        self.warned_dropped_models = true;
                    }
                }
                self.writer.poll(&poll, &models)?;
            }
        }
        Ok(())
    }

    /// Elapsed time, samples, free % and pressure now, and the largest process now.
    fn status_line(&self) {
        let largest = self
            .tracked
            .values()
            .filter(|t| !t.row.exited && t.row.error.is_none())
            .max_by_key(|t| t.current)
            .map_or_else(String::new, |t| {
                format!(
                    "  largest {} (pid {}) {}",
                    t.row.name,
                    t.row.pid,
                    format_bytes(t.current)
                )
            });
        let free = self
            .last_free_percent
            .map_or_else(|| "-".into(), |p| format!("{p:.1}%"));
        let line = format!(
            "{:>7.1}s  samples {}  free {}  pressure {}{}",
            self.start.elapsed().as_secs_f64(),
            self.samples,
            free,
            self.last_pressure.unwrap_or("-"),
            largest
        );
        let width = terminal_size::terminal_size_of(std::io::stderr())
            .map_or(80, |(w, _)| usize::from(w.0));
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[K{}", fit(&line, width));
        let _ = err.flush();
    }
}

impl Recorder {
    /// Duration, samples, missed ticks, lowest free %, most swap, and each process's peak.
    fn print_summary(&self, out: &std::path::Path) -> std::io::Result<()> {
        outln!(
            "recorded {:.1} s: {} samples, {} missed, into {}",
            self.start.elapsed().as_secs_f64(),
            self.samples,
            self.missed,
            out.display()
        )?;
        match self.min_free_percent {
            Some(p) => outln!("minimum free memory: {p:.1} %")?,
            None => outln!("minimum free memory: -")?,
        }
        match self.max_swap_used {
            Some(s) => outln!("maximum swap used: {}", format_bytes(s))?,
            None => outln!("maximum swap used: -")?,
        }
        // What the recording could not see, so that nobody trusts it for more than it holds.
        if self.order.is_empty() {
            outln!("warning: no process matched the selection; nothing was followed")?;
        }
        let polls = self.polls_ok + self.polls_failed;
        if self.polls_failed > 0 && self.polls_ok == 0 {
            outln!("warning: Ollama never answered ({polls} polls failed)")?;
        } else if self.polls_failed > 0 {
            outln!(
                "warning: Ollama did not answer {} of {polls} polls",
                self.polls_failed
            )?;
        }
        if self.missed > 0 {
            outln!(
                "warning: {} samples were missed (the recorder fell behind)",
                self.missed
            )?;
        }
        if self.failed_reads > 0 {
            outln!(
                "warning: {} system reads failed (the first: {})",
                self.failed_reads,
                self.read_error.as_deref().unwrap_or("-")
            )?;
        }
        for id in &self.order {
            let Some(t) = self.tracked.get(id) else {
                continue;
            };
            let peak = t
                .peak_footprint
                .map(|f| format!("peak footprint {}", format_bytes(f)))
                .unwrap_or_else(|| format!("peak RSS {}", format_bytes(t.peak_rss)));
            let models = if t.row.models.is_empty() {
                String::new()
            } else {
                format!(" [{}]", t.row.models.replace(';', ", "))
            };
            let state = match (&t.row.error, t.row.exited) {
                (Some(e), _) => format!(" (not readable: {e})"),
                (None, true) => " (exited)".into(),
                (None, false) => String::new(),
            };
            outln!(
                "  pid {:>7} {:<16} {}{}{}",
                t.row.pid,
                memtide_render::escape_control(&t.row.name),
                peak,
                memtide_render::escape_control(&models),
                state
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::fit;

    #[test]
    fn the_status_line_fits_the_terminal() {
        let line =
            "   12.3s  samples 49  free 87.0%  pressure normal  largest ollama (pid 4242) 3.14 GiB";
        assert_eq!(fit(line, 200), line);
        let cut = fit(line, 40);
        assert_eq!(cut.chars().count(), 39);
        assert!(cut.ends_with('…'));
        assert_eq!(fit("x\u{1b}[31my", 80), "x\\u{1b}[31my");
        assert_eq!(fit(line, 0).chars().count(), 1);
    }
}
