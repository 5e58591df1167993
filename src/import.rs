//! `memtide import`: turns the seed's two shell-loop files into a trace directory that
//! `report` and `render` read like a recorded one.

use anyhow::{bail, Context, Result};
use memtide_model::ollama::PsResponse;
use memtide_model::seed::{self, Block, PsRow, Warning};
use memtide_model::trace::{self, IdentityRow, Meta, ProcessRow, Selection, TraceWriter};
use memtide_record::convert;
use memtide_sampler::darwin::VmCounts;
use memtide_sampler::SystemSample;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn read(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn warn(path: &Path, warnings: &[Warning]) {
    for w in warnings {
        eprintln!("memtide: {}:{}: {}", path.display(), w.line, w.message);
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

/// The median gap between consecutive distinct times, in ms.
fn median_step(times: impl Iterator<Item = jiff::Timestamp>) -> Option<u64> {
    let mut ts: Vec<i64> = times.map(|t| t.as_millisecond()).collect();
    ts.sort_unstable();
    ts.dedup();
    let mut gaps: Vec<i64> = ts.windows(2).map(|w| w[1] - w[0]).collect();
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
            eprintln!(
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
fn block_poll(b: &Block) -> Option<Result<PsResponse, memtide_model::ollama::OllamaError>> {
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
        Err(memtide_model::ollama::OllamaError::Unreachable {
            url: "ollama ps".into(),
            detail: e.clone(),
        })
    })
}

/// How far from the trace's median time a row or block may lie: a week. A shell loop runs for
/// hours, at most days; a time further off is a broken line (`===== 0000-01-01… =====`), and
/// keeping it would stretch the trace, and its chart, over centuries.
const MAX_DAYS_FROM_MEDIAN: i64 = 7;

/// Drops, with a warning naming the line, the rows and blocks whose time is more than
/// [`MAX_DAYS_FROM_MEDIAN`] from the median time of all of them.
fn drop_far_times(
    rows: &mut Vec<seed::PsRow>,
    blocks: &mut [seed::Block],
    ps_tsv: Option<&Path>,
    system_log: Option<&Path>,
) {
    let mut times: Vec<i64> = rows
        .iter()
        .map(|r| r.time.as_second())
        .chain(blocks.iter().filter_map(|b| b.time).map(|t| t.as_second()))
        .collect();
    if times.is_empty() {
        return;
    }
    times.sort_unstable();
    let median = times[times.len() / 2];
    let far = |t: jiff::Timestamp| (t.as_second() - median).abs() > MAX_DAYS_FROM_MEDIAN * 86_400;
    let before = rows.len();
    rows.retain(|r| !far(r.time));
    if rows.len() < before {
        eprintln!(
            "memtide: {}: {} rows skipped whose time is more than {MAX_DAYS_FROM_MEDIAN} days from the others",
            ps_tsv.map_or("ps TSV".into(), |p| p.display().to_string()),
            before - rows.len()
        );
    }
    for b in blocks.iter_mut() {
        if b.time.is_some_and(far) {
            eprintln!(
                "memtide: {}:{}: block skipped: its time is more than {MAX_DAYS_FROM_MEDIAN} days from the others",
                system_log.map_or("system log".into(), |p| p.display().to_string()),
                b.line
            );
            b.time = None;
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
    let (mut ps_rows, mut blocks) = {
        let ps_rows = match ps_tsv {
            Some(p) => {
                let (rows, w) = seed::parse_ps_tsv(&read(p)?);
                warn(p, &w);
                if rows.is_empty() {
                    bail!(
                        "{}: no readable process row: is it the TSV of the Guide's `ps` loop \
                         (ts, pid, ppid, comm, rss_kb, vsz_kb, command)?",
                        p.display()
                    );
                }
                rows
            }
            None => Vec::new(),
        };
        let blocks = match system_log {
            Some(p) => {
                let (blocks, w) = seed::parse_system_log(&read(p)?);
                warn(p, &w);
                if !blocks.iter().any(|b| b.time.is_some()) {
                    bail!(
                        "{}: no readable block: is it the system log of the Guide's loop \
                         (blocks opened by `===== <UTC time> =====`)?",
                        p.display()
                    );
                }
                blocks
            }
            None => Vec::new(),
        };
        (ps_rows, blocks)
    };
    drop_far_times(&mut ps_rows, &mut blocks, ps_tsv, system_log);
    let times = || {
        ps_rows
            .iter()
            .map(|r| r.time)
            .chain(blocks.iter().filter_map(|b| b.time))
    };
    let Some(t0) = times().min() else {
        bail!("nothing to import: no process row and no system block was readable");
    };
    let t_end = times().max().unwrap_or(t0);
    let t_ms = |t: jiff::Timestamp| t.duration_since(t0).as_millis().max(0) as u64;
    let utc = |t: jiff::Timestamp| trace::timestamp_utc_ms(t);

    let samples: Vec<(jiff::Timestamp, SystemSample, Option<u64>)> = blocks
        .iter()
        .filter_map(|b| {
            let (s, page) = block_sample(b, system_log.unwrap_or(Path::new("system log")));
            Some((b.time?, s?, page))
        })
        .collect();
    let total = samples.iter().map(|s| s.1.total_bytes).max().unwrap_or(0);
    if total > 0 {
        // No process holds more than the machine has.
        let before = ps_rows.len();
        ps_rows.retain(|r| r.rss_bytes <= total);
        if ps_rows.len() < before {
            eprintln!(
                "memtide: {}: {} rows skipped whose RSS is more than the machine's {}",
                ps_tsv.map_or("ps TSV".into(), |p| p.display().to_string()),
                before - ps_rows.len(),
                memtide_render::format_bytes(total)
            );
        }
    }
    let page = samples.iter().find_map(|s| s.2);
    let interval = median_step(ps_rows.iter().map(|r| r.time))
        .or_else(|| median_step(blocks.iter().filter_map(|b| b.time)))
        .unwrap_or(1000);
    let files: Vec<String> = [ps_tsv, system_log]
        .into_iter()
        .flatten()
        .map(|p| p.display().to_string())
        .collect();
    let meta = Meta {
        format_version: trace::FORMAT_VERSION,
        memtide_version: env!("CARGO_PKG_VERSION").into(),
        os: if samples.is_empty() {
            "unknown".into()
        } else {
            "macos".into()
        },
        os_version: None,
        arch: "unknown".into(),
        total_memory_bytes: total,
        page_size_bytes: page,
        gpu_wired_limit_bytes: None,
        interval_ms: interval,
        selection: Selection {
            // The seed's awk filter: /[o]llama|[m]lx|[r]unner/.
            patterns: vec!["ollama".into(), "mlx".into(), "runner".into()],
            ..Selection::default()
        },
        start_utc: utc(t0),
        end_utc: None,
        samples: None,
        missed_ticks: None,
        failed_reads: None,
        read_error: None,
        ollama: None,
        source: Some(format!("memtide import ({})", files.join(", "))),
    };
    // Claimed only now that the inputs have been read: a bad input leaves no directory behind.
    crate::outdir::claim(Some(out), "", force, &[])?;
    let mut w = TraceWriter::create(out, meta)?;

    for (t, s, _) in &samples {
        w.system(&convert::system_row(&utc(*t), t_ms(*t), s))?;
    }
    for b in &blocks {
        let (Some(t), Some(result)) = (b.time, block_poll(b)) else {
            continue;
        };
        let (poll, models) = convert::poll_rows(&utc(t), t_ms(t), &result, Duration::ZERO);
        w.poll(&poll, &models)?;
    }

    let identities = processes(&ps_rows, &mut w, &t_ms, &utc)?;
    w.set_identities(&identities)?;
    w.finish(system_time(t_end), samples.len() as u64, 0)?;
    eprintln!(
        "memtide: imported {} system samples, {} process rows ({} processes) into {}",
        samples.len(),
        ps_rows.len(),
        identities.len(),
        out.display()
    );
    Ok(())
}

/// Writes the process rows and returns one identity per (PID, command line): the seed did
/// not record start times, so an identity starts when it is first seen, and it exited if it
/// was gone before the last sample of the file.
fn processes(
    rows: &[PsRow],
    w: &mut TraceWriter,
    t_ms: &dyn Fn(jiff::Timestamp) -> u64,
    utc: &dyn Fn(jiff::Timestamp) -> String,
) -> Result<Vec<IdentityRow>> {
    let mut sorted: Vec<&PsRow> = rows.iter().collect();
    sorted.sort_by_key(|r| r.time);
    let mut ids: BTreeMap<(u32, &str), IdentityRow> = BTreeMap::new();
    let mut last_seen: BTreeMap<(u32, &str), jiff::Timestamp> = BTreeMap::new();
    for r in &sorted {
        let key = (r.pid, r.command.as_str());
        let id = ids.entry(key).or_insert_with(|| {
            let argv = seed::split_command(&r.command);
            let name = r.comm.rsplit('/').next().unwrap_or(&r.comm).to_owned();
            IdentityRow {
                pid: r.pid,
                start_time_us: (r.time.as_microsecond()).max(0) as u64,
                start_utc: String::new(),
                ppid: r.ppid,
                name,
                exe: r.comm.starts_with('/').then(|| r.comm.clone()),
                argv_json: serde_json::to_string(&argv).unwrap_or_else(|_| "[]".into()),
                models: String::new(),
                first_seen_utc: utc(r.time),
                last_seen_utc: utc(r.time),
                exited: false,
                exited_utc: None,
                error: None,
            }
        });
        id.last_seen_utc = utc(r.time);
        last_seen.insert(key, r.time);
        w.process(&ProcessRow {
            time_utc: utc(r.time),
            t_ms: t_ms(r.time),
            pid: r.pid,
            start_time_us: id.start_time_us,
            ppid: r.ppid,
            rss_bytes: r.rss_bytes,
            virtual_bytes: Some(r.vsz_bytes),
            ..ProcessRow::default()
        })?;
    }
    // Exited: gone at a later sample of the file.
    let sample_times: Vec<jiff::Timestamp> = {
        let mut t: Vec<_> = sorted.iter().map(|r| r.time).collect();
        t.dedup();
        t
    };
    let mut out: Vec<IdentityRow> = Vec::new();
    for (key, mut id) in ids {
        if let Some(next) = last_seen
            .get(&key)
            .and_then(|last| sample_times.iter().find(|t| *t > last))
        {
            id.exited = true;
            id.exited_utc = Some(utc(*next));
        }
        out.push(id);
    }
    out.sort_by(|a, b| {
        a.first_seen_utc
            .cmp(&b.first_seen_utc)
            .then(a.pid.cmp(&b.pid))
    });
    Ok(out)
}
