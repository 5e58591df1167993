//! `memtide snapshot`: one reading of everything, as a table or as JSON.

use crate::cli::{OllamaArgs, Selection};
use crate::record::cut;
use anyhow::{Context, Result};
use memtide_model::ollama::{self, PsResponse};
use memtide_record::convert::{self, ModelNames};
use memtide_record::ollama::{Client, OllamaError};
use memtide_render::{describe_gpu_wired_limit, escape_control, format_bytes, format_opt_bytes};
use memtide_sampler::{HostInfo, Sampler};
use memtide_trace::{self as trace, PollOutcome, PressureLevel, ProcessRow, SystemRow};
use serde::Serialize;
use std::io::{IsTerminal, Write};
use std::time::Duration;

#[derive(Serialize)]
struct Snapshot {
    time_utc: String,
    host: Host,
    system: SystemRow,
    processes: Vec<Process>,
    ollama: Option<Ollama>,
}

#[derive(Serialize)]
struct Host {
    os: memtide_trace::Os,
    os_version: Option<String>,
    arch: String,
    total_memory_bytes: u64,
    page_size_bytes: Option<u64>,
    /// Apple Silicon: `iogpu.wired_limit_mb` in bytes, 0 for the system's default.
    #[serde(skip_serializing_if = "Option::is_none")]
    gpu_wired_limit_bytes: Option<u64>,
}

#[derive(Serialize, Clone)]
struct Process {
    #[serde(flatten)]
    sample: ProcessRow,
    name: String,
    exe: Option<String>,
    argv: Vec<String>,
    /// Model names resolved from the `--model` blob path.
    models: Vec<String>,
}

#[derive(Serialize)]
struct Ollama {
    url: String,
    /// `ok`, `unreachable`, `timeout`, `http_error` or `bad_response`.
    outcome: PollOutcome,
    error: Option<String>,
    models: Vec<ollama::RunningModel>,
}

fn host(h: &HostInfo) -> Host {
    Host {
        os: h.os.into(),
        os_version: h.os_version.clone(),
        arch: h.arch.into(),
        total_memory_bytes: h.total_memory_bytes,
        page_size_bytes: h.page_size_bytes,
        gpu_wired_limit_bytes: h.gpu_wired_limit_bytes,
    }
}

pub fn run(sel: &Selection, ollama_args: &OllamaArgs, json: bool) -> Result<()> {
    let mut sampler = Sampler::new(sel.selector()).context("cannot start sampling")?;
    let host = host(sampler.host());
    let poll = (!ollama_args.no_ollama).then(|| {
        let env = std::env::var("OLLAMA_HOST").ok();
        let url = ollama::base_url(ollama_args.ollama.as_deref(), env.as_deref());
        let client = Client::new(
            &url,
            memtide_record::request_timeout(Duration::from_secs(2)),
        );
        // Asked on its own thread while the sampler reads the kernel.
        std::thread::spawn(move || (url, client.ps().0))
    });
    let tick = sampler.tick().context("cannot take a sample")?;
    let time_utc = trace::utc_ms(tick.time.wall);
    let mut names = ModelNames::new(convert::default_models_dir(
        std::env::var("OLLAMA_MODELS").ok().as_deref(),
        std::env::var("HOME").ok().as_deref(),
    ));
    let processes = tick
        .processes
        .iter()
        .map(|p| {
            let info = tick.started_info(p.id);
            let argv = info.map(|i| i.argv.clone()).unwrap_or_default();
            Process {
                sample: convert::process_row(&time_utc, 0, p),
                name: p.name.to_string(),
                exe: info.and_then(|i| i.exe.clone()),
                models: names.for_argv(&argv),
                argv,
            }
        })
        .collect();
    let snap = Snapshot {
        system: convert::system_row(&time_utc, 0, tick.system),
        time_utc: time_utc.clone(),
        host,
        processes,
        ollama: poll.map(|h| {
            let (url, result) = h.join().unwrap_or_else(|_| {
                (
                    String::new(),
                    Err(OllamaError::Unreachable {
                        url: String::new(),
                        detail: "poller failed".into(),
                    }),
                )
            });
            ollama_view(url, result)
        }),
    };
    for f in tick.failures {
        say!("memtide: pid {}: {}", f.id.pid, f.error);
    }
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &snap)?;
        writeln!(out)?;
    } else {
        let width = std::io::stdout()
            .is_terminal()
            .then(|| terminal_size::terminal_size().map(|(w, _)| usize::from(w.0)))
            .flatten();
        print_table(&mut out, &snap, width)?;
    }
    Ok(())
}

/// How many characters of a command line a row shows when no terminal's width bounds it.
const COMMAND_CHARS: usize = 100;

/// The widest the MODEL column gets; longer names are cut.
const MODEL_CHARS: usize = 28;

fn ollama_view(url: String, result: Result<PsResponse, OllamaError>) -> Ollama {
    match result {
        Ok(ps) => Ollama {
            url,
            outcome: PollOutcome::Ok,
            error: None,
            models: ps.models,
        },
        Err(e) => Ollama {
            url,
            outcome: e.outcome(),
            error: Some(e.to_string()),
            models: Vec::new(),
        },
    }
}

/// The snapshot as text; `width` is the terminal's, which the COMMAND column then fits.
fn print_table(out: &mut impl Write, snap: &Snapshot, width: Option<usize>) -> std::io::Result<()> {
    let h = &snap.host;
    let s = &snap.system;
    writeln!(
        out,
        "{} {}, {} RAM{}, at {}",
        memtide_render::os_words(&h.os, h.os_version.as_deref()),
        h.arch,
        format_bytes(h.total_memory_bytes),
        describe_gpu_wired_limit(h.gpu_wired_limit_bytes)
            .map(|g| format!(", {g}"))
            .unwrap_or_default(),
        snap.time_utc
    )?;
    let pct = s
        .free_percent
        .map_or_else(|| "-".to_owned(), |p| format!("{p:.1} %"));
    writeln!(
        out,
        "free {pct}, pressure {}",
        s.pressure.map_or("-", PressureLevel::as_str)
    )?;
    let rows = [
        ("free", s.free_bytes),
        ("available", s.available_bytes),
        ("active", s.active_bytes),
        ("inactive", s.inactive_bytes),
        ("speculative", s.speculative_bytes),
        ("wired", s.wired_bytes),
        ("purgeable", s.purgeable_bytes),
        ("compressor", s.compressor_bytes),
        ("comp payload", s.compressor_payload_bytes),
        ("compressed", s.compressed_bytes),
        ("file-backed", s.file_backed_bytes),
        ("anonymous", s.anonymous_bytes),
        ("swap used", s.swap_used_bytes),
        ("swap total", s.swap_total_bytes),
    ];
    for (label, v) in rows {
        writeln!(out, "  {label:<12} {:>10}", format_opt_bytes(v))?;
    }
    writeln!(out)?;
    // Only the peaks this OS keeps, each under its own name: macOS keeps the peak footprint,
    // Linux the peak RSS.
    let has_peak_fp = snap
        .processes
        .iter()
        .any(|p| p.sample.peak_footprint_bytes.is_some());
    let has_peak_rss = snap
        .processes
        .iter()
        .any(|p| p.sample.peak_rss_bytes.is_some());
    let mut header = format!(
        "{:>7} {:>7} {:<16} {:>10} {:>10}",
        "PID", "PPID", "NAME", "RSS", "FOOTPRINT"
    );
    if has_peak_fp {
        header.push_str(&format!(" {:>14}", "PEAK FOOTPRINT"));
    }
    if has_peak_rss {
        header.push_str(&format!(" {:>10}", "PEAK RSS"));
    }
    let model_of = |p: &Process| {
        if p.models.is_empty() {
            "-".to_owned()
        } else {
            cut(&escape_control(&p.models.join(", ")), MODEL_CHARS)
        }
    };
    let model_width = snap
        .processes
        .iter()
        .map(|p| model_of(p).chars().count())
        .max()
        .unwrap_or(0)
        .max("MODEL".len());
    header.push_str(&format!("  {:<model_width$}", "MODEL"));
    writeln!(out, "{header}  COMMAND")?;
    for p in &snap.processes {
        let r = &p.sample;
        let mut line = format!(
            "{:>7} {:>7} {:<16} {:>10} {:>10}",
            r.pid,
            r.ppid,
            escape_control(&p.name),
            format_bytes(r.rss_bytes),
            format_opt_bytes(r.footprint_bytes),
        );
        if has_peak_fp {
            line.push_str(&format!(
                " {:>14}",
                format_opt_bytes(r.peak_footprint_bytes)
            ));
        }
        if has_peak_rss {
            line.push_str(&format!(" {:>10}", format_opt_bytes(r.peak_rss_bytes)));
        }
        line.push_str(&format!("  {:<model_width$}", model_of(p)));
        let room = width.map_or(COMMAND_CHARS, |w| {
            w.saturating_sub(line.chars().count() + 3).max(20)
        });
        writeln!(
            out,
            "{line}  {}",
            cut(&escape_control(&p.argv.join(" ")), room)
        )?;
    }
    if snap.processes.is_empty() {
        writeln!(out, "(no process matched)")?;
    }
    if let Some(o) = &snap.ollama {
        writeln!(out)?;
        match &o.error {
            Some(e) => writeln!(out, "ollama: {e}")?,
            None if o.models.is_empty() => writeln!(out, "ollama at {}: no model loaded", o.url)?,
            None => {
                writeln!(out, "ollama at {}:", o.url)?;
                writeln!(
                    out,
                    "  {:<28} {:<12} {:>10} {:>10} {:>8}  UNTIL (UTC)",
                    "NAME", "ID", "SIZE", "VRAM", "CONTEXT"
                )?;
                for m in &o.models {
                    writeln!(
                        out,
                        "  {:<28} {:<12} {:>10} {:>10} {:>8}  {}",
                        escape_control(&m.name),
                        escape_control(m.digest.get(..12).unwrap_or(&m.digest)),
                        format_bytes(m.size),
                        format_opt_bytes(m.size_vram),
                        m.context_length
                            .map_or_else(|| "-".into(), |c| c.to_string()),
                        m.expires_at
                            .map(trace::timestamp_utc_ms)
                            .unwrap_or_default()
                    )?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(gpu: Option<u64>) -> Snapshot {
        Snapshot {
            time_utc: "2026-12-01T09:00:00.000Z".into(),
            host: Host {
                os: "macos".into(),
                os_version: Some("15.5".into()),
                arch: "aarch64".into(),
                total_memory_bytes: 64 << 30,
                page_size_bytes: Some(16384),
                gpu_wired_limit_bytes: gpu,
            },
            system: SystemRow::default(),
            processes: Vec::new(),
            ollama: None,
        }
    }

    fn first_line(s: &Snapshot) -> String {
        let mut out = Vec::new();
        print_table(&mut out, s, None).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .to_owned()
    }

    fn table(s: &Snapshot) -> String {
        let mut out = Vec::new();
        print_table(&mut out, s, None).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn each_process_has_its_model_and_a_command_cut_to_fit() {
        let mut s = snap(None);
        let runner = Process {
            sample: ProcessRow {
                pid: 8,
                rss_bytes: 1 << 30,
                ..ProcessRow::default()
            },
            name: "ollama".into(),
            exe: None,
            argv: std::iter::once("ollama runner --model".to_owned())
                .chain((0..40).map(|i| format!("/Users/me/.ollama/models/blobs/sha256-{i}")))
                .collect(),
            models: vec!["qwen3:8b".into()],
        };
        let server = Process {
            models: Vec::new(),
            argv: vec!["ollama".into(), "serve".into()],
            ..runner.clone()
        };
        s.processes = vec![runner, server];
        let t = table(&s);
        let header = t.lines().find(|l| l.contains("PID")).unwrap();
        let model_at = header.find("MODEL").unwrap();
        let rows: Vec<&str> = t.lines().filter(|l| l.contains("ollama")).collect();
        assert_eq!(rows.len(), 2, "{t}");
        assert_eq!(&rows[0][model_at..model_at + 8], "qwen3:8b", "{t}");
        assert_eq!(&rows[1][model_at..model_at + 1], "-", "{t}");
        // No terminal: the command line is cut at 100 characters.
        let command = rows[0].split("qwen3:8b").nth(1).unwrap().trim_start();
        assert_eq!(command.chars().count(), COMMAND_CHARS, "{command}");
        assert!(command.ends_with('…'));
        // A terminal 120 columns wide: every row fits it.
        let mut out = Vec::new();
        print_table(&mut out, &s, Some(120)).unwrap();
        let t = String::from_utf8(out).unwrap();
        for row in t.lines().filter(|l| l.contains("ollama")) {
            assert!(row.chars().count() < 120, "{row}");
        }
    }

    #[test]
    fn peak_columns_say_which_peak_they_are() {
        let mut s = snap(None);
        let row = |peak_fp, peak_rss| Process {
            sample: ProcessRow {
                pid: 7,
                rss_bytes: 1 << 20,
                footprint_bytes: Some(1 << 20),
                peak_footprint_bytes: peak_fp,
                peak_rss_bytes: peak_rss,
                ..ProcessRow::default()
            },
            name: "ollama".into(),
            exe: None,
            argv: vec!["ollama".into(), "serve".into()],
            models: Vec::new(),
        };
        // Linux: peak RSS only.
        s.processes = vec![row(None, Some(3 << 20))];
        let t = table(&s);
        assert!(
            t.contains("PEAK RSS") && !t.contains("PEAK FOOTPRINT"),
            "{t}"
        );
        let bare = t.lines().any(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            w.windows(2)
                .any(|p| p[0] == "PEAK" && p[1] != "RSS" && p[1] != "FOOTPRINT")
        });
        assert!(!bare, "never a bare PEAK: {t}");
        // macOS: peak footprint only.
        s.processes = vec![row(Some(5 << 20), None)];
        let t = table(&s);
        assert!(
            t.contains("PEAK FOOTPRINT") && !t.contains("PEAK RSS"),
            "{t}"
        );
        assert!(t.contains("5.00 MiB"), "{t}");
    }

    #[test]
    fn the_header_shows_a_gpu_wired_limit_where_the_mac_has_one() {
        assert_eq!(
            first_line(&snap(Some(56 << 30))),
            "macOS 15.5 aarch64, 64.0 GiB RAM, GPU wired limit 56.0 GiB, at 2026-12-01T09:00:00.000Z"
        );
        assert!(first_line(&snap(Some(0))).contains("GPU wired limit: the system default"));
        assert!(!first_line(&snap(None)).contains("GPU"));
        let json = serde_json::to_value(snap(Some(0))).unwrap();
        assert_eq!(json["host"]["gpu_wired_limit_bytes"], 0);
        let json = serde_json::to_value(snap(None)).unwrap();
        assert!(json["host"].get("gpu_wired_limit_bytes").is_none());
    }
}
