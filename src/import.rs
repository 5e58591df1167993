//! `memtide import`: turns the two files of the Guide's shell loops into a trace directory that
//! `report` and `render` read like a recorded one.

use anyhow::{bail, Context, Result};
use memtide_model::ollama::PsResponse;
use memtide_model::seed::{self, Block, PsRow, Warning};
use memtide_record::convert;
use memtide_sampler::darwin::VmCounts;
use memtide_sampler::SystemSample;
use memtide_trace::{self as trace, IdentityRow, Meta, ProcessRow, Selection, TraceWriter};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Opens an input for reading a line at a time.
fn open(path: &Path) -> Result<std::io::BufReader<std::fs::File>> {
    let f = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(std::io::BufReader::with_capacity(256 * 1024, f))
}

/// Calls `each` with every line of the file at `path`, numbered from 1.
fn lines(path: &Path, each: impl FnMut(usize, &str)) -> Result<()> {
    seed::each_line(open(path)?, each).with_context(|| format!("cannot read {}", path.display()))
}

fn warn(path: &Path, warnings: &[Warning]) {
    for w in warnings {
        say!("memtide: {}:{}: {}", path.display(), w.line, w.message);
    }
}

fn system_time(t: jiff::Timestamp) -> SystemTime {
    let ns = t.as_nanosecond();
    if ns >= 0 {
        UNIX_EPOCH + Duration::from_nanos(ns as u64)
    } else {
        UNIX_EPOCH
    }
}

/// The median gap between consecutive distinct times (in order), in ms.
fn median_step(times: impl Iterator<Item = i64>) -> Option<u64> {
    let mut gaps: Vec<i64> = Vec::new();
    let mut last: Option<i64> = None;
    for t in times {
        if let Some(l) = last.filter(|&l| l != t) {
            gaps.push(t - l);
        }
        last = Some(t);
    }
    gaps.sort_unstable();
    gaps.get(gaps.len() / 2).map(|&g| g as u64)
}

/// The system sample a block describes: `vm_stat` decoded by the sampler's macOS decoder,
/// the free percentage and RAM size from `memory_pressure`, swap from `sysctl`.
fn block_sample(b: &Block, path: &Path) -> (Option<SystemSample>, Option<u64>) {
    let mut page = None;
    let mut s = match b.vm_stat.as_deref().map(VmCounts::parse_vm_stat) {
        Some(Ok((page_size, counts))) => {
            page = Some(page_size);
            let mut s = counts.to_system(page_size);
            // Without memory_pressure's figure, RAM in use by the page queues stands in.
            let pages = [
                counts.free,
                counts.active,
                counts.inactive,
                counts.speculative,
                counts.wired,
                counts.occupied_by_compressor,
            ];
            s.total_bytes = pages.iter().map(|p| p.unwrap_or(0)).sum::<u64>() * page_size;
            s
        }
        Some(Err(e)) => {
            say!(
                "memtide: {}:{}: vm_stat skipped: {e}",
                path.display(),
                b.line
            );
            SystemSample::default()
        }
        None => SystemSample::default(),
    };
    let mut useful = b.vm_stat.is_some();
    if let Some(mp) = b.memory_pressure {
        if let Some(t) = mp.total_bytes {
            s.total_bytes = t;
        }
        s.free_percent = mp.free_percent;
        useful |= mp.free_percent.is_some();
    }
    if let Some(sw) = b.swap {
        s.swap_total_bytes = Some(sw.total_bytes);
        s.swap_used_bytes = Some(sw.used_bytes);
        useful = true;
    }
    (useful.then_some(s), page)
}

/// What a block says of Ollama, as an `/api/ps` result: the JSON when present, else the
/// `ollama ps` table, else the client's error.
fn block_poll(b: &Block) -> Option<Result<PsResponse, memtide_record::ollama::OllamaError>> {
    if let Some(ps) = &b.api_ps {
        return Some(Ok(ps.clone()));
    }
    if let Some(rows) = &b.ollama_ps {
        return Some(Ok(PsResponse {
            models: rows.iter().map(|r| r.to_running_model()).collect(),
            dropped: 0,
        }));
    }
    b.ollama_error.as_ref().map(|e| {
        Err(memtide_record::ollama::OllamaError::Unreachable {
            url: "ollama ps".into(),
            detail: e.clone(),
        })
    })
}

/// How far from the trace's median time a row or block may lie: a week. A shell loop runs for
/// hours, at most days; a time further off is a broken line (`===== 0000-01-01… =====`), and
/// keeping it would stretch the trace, and its chart, over centuries.
const MAX_DAYS_FROM_MEDIAN: i64 = 7;

/// A block of the system log, as the trace takes it.
struct Taken {
    line: usize,
    time: jiff::Timestamp,
    sample: Option<SystemSample>,
    page: Option<u64>,
    poll: Option<Result<PsResponse, memtide_record::ollama::OllamaError>>,
}

/// What the first reading of the process TSV found: how many rows of each time (in ms) it
/// holds, whether they are in time order, and the largest RSS.
#[derive(Default)]
struct PsTimes {
    rows_at: BTreeMap<i64, u64>,
    in_order: bool,
    rows: u64,
}

/// The first reading of the process TSV: every row checked (and warned about), its time
/// counted; nothing kept but the count of rows per time.
fn ps_times(path: &Path) -> Result<PsTimes> {
    let mut out = PsTimes {
        in_order: true,
        ..PsTimes::default()
    };
    let mut last_time = None;
    let mut last_ms = i64::MIN;
    lines(path, |n, line| {
        match seed::parse_ps_line(line, &mut last_time) {
            None => {}
            Some(Ok(r)) => {
                let ms = r.time.as_millisecond();
                *out.rows_at.entry(ms).or_default() += 1;
                out.in_order &= ms >= last_ms;
                last_ms = ms;
                out.rows += 1;
            }
            Some(Err(message)) => say!("memtide: {}:{n}: {message}", path.display()),
        }
    })?;
    Ok(out)
}

/// The median of the times of the process rows and the blocks, in ms.
fn median_time(rows_at: &BTreeMap<i64, u64>, blocks: &[Taken]) -> Option<i64> {
    let mut block_times: Vec<i64> = blocks.iter().map(|b| b.time.as_millisecond()).collect();
    block_times.sort_unstable();
    let total = rows_at.values().sum::<u64>() + block_times.len() as u64;
    if total == 0 {
        return None;
    }
    // The (total / 2)th time of the two sorted lists merged.
    let mut want = total / 2;
    let mut rows = rows_at.iter().peekable();
    let mut blocks = block_times.iter().peekable();
    loop {
        let from_rows = match (rows.peek(), blocks.peek()) {
            (Some((t, _)), Some(b)) => **t <= **b,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => return None,
        };
        if from_rows {
            let (&t, &count) = rows.next()?;
            if want < count {
                return Some(t);
            }
            want -= count;
        } else {
            let &t = blocks.next()?;
            if want == 0 {
                return Some(t);
            }
            want -= 1;
        }
    }
}

pub fn run(
    ps_tsv: Option<&Path>,
    system_log: Option<&Path>,
    out: &Path,
    force: bool,
) -> Result<()> {
    if ps_tsv.is_none() && system_log.is_none() {
        bail!("give --ps-tsv, --system-log, or both");
    }
    let log_name = system_log.unwrap_or(Path::new("system log"));
    // The system log, a block at a time: each kept as the few figures the trace takes.
    let mut blocks: Vec<Taken> = Vec::new();
    if let Some(p) = system_log {
        let mut log = seed::SystemLog::default();
        let mut take = |b: Option<Block>, w: Vec<Warning>| {
            warn(p, &w);
            if let Some(b) = b {
                let (sample, page) = block_sample(&b, p);
                if let Some(time) = b.time {
                    blocks.push(Taken {
                        line: b.line,
                        time,
                        sample,
                        page,
                        poll: block_poll(&b),
                    });
                }
            }
        };
        lines(p, |n, line| log.line(n, line, &mut take))?;
        log.finish(&mut take);
        if blocks.is_empty() {
            bail!(
                "{}: no readable block: is it the system log of the Guide's loop \
                 (blocks opened by `===== <UTC time> =====`)?",
                p.display()
            );
        }
    }
    // The process TSV, first reading: checked, and its times counted.
    let times = match ps_tsv {
        Some(p) => {
            let t = ps_times(p)?;
            if t.rows == 0 {
                bail!(
                    "{}: no readable process row: is it the TSV of the Guide's `ps` loop \
                     (ts, pid, ppid, comm, rss_kb, vsz_kb, command)?",
                    p.display()
                );
            }
            t
        }
        None => PsTimes::default(),
    };
    // Rows and blocks far from the others are broken lines.
    let median = median_time(&times.rows_at, &blocks);
    let far =
        |t_ms: i64| median.is_some_and(|m| (t_ms - m).abs() > MAX_DAYS_FROM_MEDIAN * 86_400_000);
    let far_rows: u64 = times
        .rows_at
        .iter()
        .filter(|(t, _)| far(**t))
        .map(|(_, n)| n)
        .sum();
    if far_rows > 0 {
        say!(
            "memtide: {}: {far_rows} rows skipped whose time is more than {MAX_DAYS_FROM_MEDIAN} days from the others",
            ps_tsv.map_or("ps TSV".into(), |p| p.display().to_string()),
        );
    }
    blocks.retain(|b| {
        let keep = !far(b.time.as_millisecond());
        if !keep {
            say!(
                "memtide: {}:{}: block skipped: its time is more than {MAX_DAYS_FROM_MEDIAN} days from the others",
                log_name.display(),
                b.line
            );
        }
        keep
    });
    let kept_times = || times.rows_at.keys().copied().filter(|t| !far(*t));
    let first = kept_times()
        .next()
        .into_iter()
        .chain(blocks.iter().map(|b| b.time.as_millisecond()))
        .min();
    let Some(t0_ms) = first else {
        bail!("nothing to import: no process row and no system block was readable");
    };
    let t_end_ms = kept_times()
        .next_back()
        .into_iter()
        .chain(blocks.iter().map(|b| b.time.as_millisecond()))
        .max()
        .unwrap_or(t0_ms);
    let stamp =
        |ms: i64| jiff::Timestamp::from_millisecond(ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let (t0, t_end) = (stamp(t0_ms), stamp(t_end_ms));
    let t_ms = |t: jiff::Timestamp| t.duration_since(t0).as_millis().max(0) as u64;
    let utc = |t: jiff::Timestamp| trace::timestamp_utc_ms(t);

    let samples: Vec<(jiff::Timestamp, &SystemSample, Option<u64>)> = blocks
        .iter()
        .filter_map(|b| Some((b.time, b.sample.as_ref()?, b.page)))
        .collect();
    let total = samples.iter().map(|s| s.1.total_bytes).max().unwrap_or(0);
    let page = blocks
        .iter()
        .find_map(|b| b.page.filter(|_| b.sample.is_some()));
    let interval = median_step(kept_times())
        .or_else(|| median_step(blocks.iter().map(|b| b.time.as_millisecond())))
        .unwrap_or(1000);
    let files: Vec<String> = [ps_tsv, system_log]
        .into_iter()
        .flatten()
        .map(|p| p.display().to_string())
        .collect();
    let os = if samples.is_empty() {
        "unknown"
    } else {
        "macos"
    };
    let mut meta = Meta::new(os, "unknown", total, interval, utc(t0));
    meta.page_size_bytes = page;
    meta.selection = Selection {
        // The Guide's awk filter: /[o]llama|[m]lx|[r]unner/.
        patterns: vec!["ollama".into(), "mlx".into(), "runner".into()],
        ..Selection::default()
    };
    meta.source = Some(format!("memtide import ({})", files.join(", ")));
    // Claimed only now that the inputs have been read: a bad input leaves no directory behind.
    crate::outdir::claim(Some(out), "", force, &[])?;
    let mut w = TraceWriter::create(out, meta)?;

    for (t, s, _) in &samples {
        w.system(&convert::system_row(&utc(*t), t_ms(*t), s))?;
    }
    for b in &blocks {
        let Some(result) = &b.poll else {
            continue;
        };
        let (poll, models) = convert::poll_rows(&utc(b.time), t_ms(b.time), result, Duration::ZERO);
        w.poll(&poll, &models)?;
    }

    let mut ps = Processes::default();
    if let Some(p) = ps_tsv {
        let keep = |r: &seed::PsLine| {
            !far(r.time.as_millisecond()) && (total == 0 || r.rss_bytes <= total)
        };
        if times.in_order {
            // The second reading: each row converted and written as it is read.
            let mut last_time = None;
            let mut failed = None;
            lines(p, |_, line| {
                if failed.is_some() {
                    return;
                }
                if let Some(Ok(r)) = seed::parse_ps_line(line, &mut last_time) {
                    if keep(&r) {
                        if let Err(e) = ps.add(&r, &mut w, &t_ms, &utc) {
                            failed = Some(e);
                        }
                    }
                }
            })?;
            if let Some(e) = failed {
                return Err(e);
            }
        } else {
            // Rows out of time order (files joined by hand): read them all, then in order.
            let mut rows: Vec<PsRow> = Vec::new();
            let mut last_time = None;
            lines(p, |_, line| {
                if let Some(Ok(r)) = seed::parse_ps_line(line, &mut last_time) {
                    if keep(&r) {
                        rows.push(r.to_row());
                    }
                }
            })?;
            rows.sort_by_key(|r| r.time);
            for r in &rows {
                ps.add(&r.as_line(), &mut w, &t_ms, &utc)?;
            }
        }
        let over = times.rows - far_rows - ps.rows;
        if over > 0 {
            say!(
                "memtide: {}: {over} rows skipped whose RSS is more than the machine's {}",
                p.display(),
                memtide_render::format_bytes(total)
            );
        }
    }
    let (rows, identities) = (ps.rows, ps.finish(&utc));
    w.set_identities(&identities)?;
    w.finish(system_time(t_end), samples.len() as u64, 0)?;
    say!(
        "memtide: imported {} system samples, {} process rows ({} processes) into {}",
        samples.len(),
        rows,
        identities.len(),
        out.display()
    );
    Ok(())
}

/// The process rows as they are written, and one identity per (PID, command line): the
/// Guide's loop did not record start times, so an identity starts when it is first seen, and
/// it exited if it was gone before the last sample of the file.
#[derive(Default)]
struct Processes {
    ids: BTreeMap<(u32, String), IdentityRow>,
    last_seen: BTreeMap<(u32, String), jiff::Timestamp>,
    /// The distinct times of the rows written, in order.
    times: Vec<jiff::Timestamp>,
    /// The last of them as text (the rows of a sample share it).
    last_utc: String,
    rows: u64,
}

impl Processes {
    /// Writes a row (rows come in time order).
    fn add(
        &mut self,
        r: &seed::PsLine,
        w: &mut TraceWriter,
        t_ms: &dyn Fn(jiff::Timestamp) -> u64,
        utc: &dyn Fn(jiff::Timestamp) -> String,
    ) -> Result<()> {
        let key = (r.pid, r.command.to_owned());
        if self.times.last() != Some(&r.time) {
            self.times.push(r.time);
            self.last_utc = utc(r.time);
        }
        let time_utc = self.last_utc.clone();
        let id = self.ids.entry(key.clone()).or_insert_with(|| {
            let argv = seed::split_command(r.command);
            let name = r.comm.rsplit('/').next().unwrap_or(r.comm).to_owned();
            IdentityRow {
                pid: r.pid,
                start_time_us: (r.time.as_microsecond()).max(0) as u64,
                start_utc: String::new(),
                ppid: r.ppid,
                name,
                exe: r.comm.starts_with('/').then(|| r.comm.to_owned()),
                argv: argv.clone(),
                models: Vec::new(),
                first_seen_utc: time_utc.clone(),
                last_seen_utc: time_utc.clone(),
                exited: false,
                exited_utc: None,
                error: None,
            }
        });
        id.last_seen_utc.clone_from(&time_utc);
        let start_time_us = id.start_time_us;
        self.last_seen.insert(key, r.time);
        self.rows += 1;
        w.process(&ProcessRow {
            time_utc,
            t_ms: t_ms(r.time),
            pid: r.pid,
            start_time_us,
            ppid: r.ppid,
            rss_bytes: r.rss_bytes,
            virtual_bytes: Some(r.vsz_bytes),
            ..ProcessRow::default()
        })?;
        Ok(())
    }

    /// The identities, each marked exited if the file has a later sample without it.
    fn finish(self, utc: &dyn Fn(jiff::Timestamp) -> String) -> Vec<IdentityRow> {
        let mut out: Vec<IdentityRow> = Vec::new();
        for (key, mut id) in self.ids {
            if let Some(last) = self.last_seen.get(&key) {
                let i = self.times.partition_point(|t| t <= last);
                if let Some(next) = self.times.get(i) {
                    id.exited = true;
                    id.exited_utc = Some(utc(*next));
                }
            }
            out.push(id);
        }
        out.sort_by(|a, b| {
            a.first_seen_utc
                .cmp(&b.first_seen_utc)
                .then(a.pid.cmp(&b.pid))
        });
        out
    }
}
