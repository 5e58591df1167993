//! `memtide record`: a front-end of memtide's recorder (`memtide-record`), which samples on a
//! fixed grid of deadlines, polls Ollama on the side and writes the trace directory; this
//! front-end names the directory, shows a status line, stops cleanly on Ctrl-C, SIGTERM or
//! `--duration`, and prints the summary.

use crate::cli::RecordArgs;
use anyhow::{Context, Result};
use memtide_record::{Recorder, TickReport, TraceSummary};
use memtide_render::format_bytes;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::mpsc::Receiver;
use std::time::Duration;

pub struct Options {
    /// What to sample, how often, and how to keep the trace (see [`crate::cli::recorder_options`]).
    pub recorder: memtide_record::Options,
    pub duration: Option<Duration>,
    pub out: Option<PathBuf>,
    /// Replace memtide's own files in `out` if it holds a trace.
    pub force: bool,
    pub quiet: bool,
    /// Stream a JSON line per sample to this new file, or to standard output (`-`).
    pub jsonl: Option<PathBuf>,
}

/// Where `--jsonl` writes.
enum JsonlTarget {
    Stdout,
    File(PathBuf),
}

pub fn run(opts: Options, stop: Receiver<()>) -> Result<()> {
    let jsonl = opts.jsonl.as_ref().map(|p| {
        if p.as_os_str() == "-" {
            JsonlTarget::Stdout
        } else {
            JsonlTarget::File(p.clone())
        }
    });
    let to_stdout = matches!(jsonl, Some(JsonlTarget::Stdout));
    // A file is never replaced: it is created, or the recording does not start.
    let mut stream: Option<crate::jsonl::Stream<Box<dyn Write>>> = match &jsonl {
        None => None,
        Some(JsonlTarget::Stdout) => Some(crate::jsonl::Stream::new(Box::new(
            std::io::stdout().lock(),
        ))),
        Some(JsonlTarget::File(path)) => {
            let file = std::fs::File::create_new(path).with_context(|| {
                format!(
                    "cannot create {} for --jsonl (it is never replaced)",
                    path.display()
                )
            })?;
            Some(crate::jsonl::Stream::new(Box::new(
                std::io::BufWriter::new(file),
            )))
        }
    };
    let kept = opts.recorder.segments.is_some();
    let mut rec = Recorder::new(opts.recorder)?;
    // Streaming to standard output is the whole recording unless a trace is asked for.
    let out = if to_stdout && opts.out.is_none() {
        None
    } else {
        Some(open_trace(
            &mut rec,
            opts.out.as_deref(),
            kept,
            opts.force,
            "memtide record",
            opts.quiet,
        )?)
    };
    let status = !opts.quiet && std::io::stderr().is_terminal();
    if !opts.quiet {
        let to = match (&out, &jsonl) {
            (Some(dir), _) => dir.display().to_string(),
            (None, _) => "standard output (JSON lines)".to_owned(),
        };
        say!(
            "memtide: recording to {to} every {:?} (Ctrl-C to stop)",
            rec.interval()
        );
    }
    let mut stream_error = None;
    let result = rec.run(&stop, opts.duration, |rec, report| {
        tell(report);
        if status {
            status_line(rec);
        }
        if let Some(s) = &mut stream {
            if let Err(e) = s.write(rec.live()) {
                // A reader that went away ends the recording as Ctrl-C does.
                stream_error = Some(e);
                return std::ops::ControlFlow::Break(());
            }
        }
        std::ops::ControlFlow::Continue(())
    });
    if status {
        say!();
    }
    // Whatever ended the loop, the files are completed as far as they can be; the first
    // error is the one reported (a full disk fails system.csv first, not identities.csv).
    let finished = rec.finish();
    result?;
    let summary = finished?;
    match stream_error {
        Some(e) if e.kind() != std::io::ErrorKind::BrokenPipe || !to_stdout => {
            return Err(anyhow::Error::new(e).context("cannot write the JSON lines"));
        }
        _ => {}
    }
    // The summary goes to standard output, which the JSON lines own when they go there.
    if let (false, false, Some(s)) = (opts.quiet, to_stdout, summary) {
        print_summary(&s)?;
    }
    Ok(())
}

/// Starts the trace `rec` writes, named by `source` in its `meta.json`: into `out` (or a new
/// `memtide-YYYYMMDD-HHMMSS`), which must be empty unless `force`. A kept trace (`kept`: the
/// recorder writes segments) is continued when its directory is given again: the flight
/// recorder restarted (a reboot, a login) keeps its history; `force` starts afresh.
pub fn open_trace(
    rec: &mut Recorder,
    out: Option<&std::path::Path>,
    kept: bool,
    force: bool,
    source: &str,
    quiet: bool,
) -> Result<PathBuf> {
    if let (Some(dir), true, false) = (out, kept, force) {
        if is_kept_trace(dir) {
            rec.continue_trace(dir, source)?;
            if !quiet {
                say!("memtide: continuing the kept trace in {}", dir.display());
            }
            return Ok(dir.to_owned());
        }
    }
    let dir = crate::outdir::claim(out, "memtide", force, &[])?;
    rec.start_trace(&dir, source)?;
    Ok(dir)
}

/// Whether `dir` holds a trace kept in segments, which `record --keep/--max-size` continues.
fn is_kept_trace(dir: &std::path::Path) -> bool {
    memtide_model::timeline::Timeline::meta(dir).is_ok_and(|m| m.segments.is_some())
}

/// A tick's notices, on standard error.
pub fn tell(report: &TickReport) {
    for n in &report.notices {
        say!("memtide: {n}");
    }
}

/// `line` cut to fit a terminal `width` columns wide, one column spare so that the cursor never
/// wraps, and its control characters shown escaped (a process name is untrusted text).
fn fit(line: &str, width: usize) -> String {
    cut(
        &memtide_render::escape_control(line),
        width.saturating_sub(1).max(1),
    )
}

/// `text` in at most `room` characters, the last a `…` when it was cut.
pub fn cut(text: &str, room: usize) -> String {
    if text.chars().count() <= room {
        return text.to_owned();
    }
    let mut s: String = text.chars().take(room.saturating_sub(1)).collect();
    s.push('…');
    s
}

/// Elapsed time, samples, free % and pressure now, and the largest process now.
fn status_line(rec: &Recorder) {
    let live = rec.live();
    let largest = live
        .processes
        .iter()
        .filter(|p| !p.exited)
        .max_by_key(|p| p.memory())
        .map_or_else(String::new, |p| {
            format!(
                "  largest {} (pid {}) {}",
                p.identity.name,
                p.id.pid,
                format_bytes(p.memory())
            )
        });
    let system = live.system.as_ref();
    let free = system
        .and_then(|s| s.free_percent)
        .map_or_else(|| "-".into(), |p| format!("{p:.1}%"));
    // Said at once, not only at the end: a recording of Ollama that cannot ask Ollama has no
    // model names.
    let ollama = match (&live.ollama.url, live.ollama.failing_since) {
        (Some(_), Some(_)) => "  no answer from Ollama".to_owned(),
        _ => String::new(),
    };
    let line = format!(
        "{:>7.1}s  samples {}  free {}  pressure {}{}{}",
        live.system_at.as_secs_f64(),
        live.samples,
        free,
        system
            .and_then(|s| s.pressure)
            .map_or("-", memtide_trace::PressureLevel::as_str),
        ollama,
        largest
    );
    let width =
        terminal_size::terminal_size_of(std::io::stderr()).map_or(80, |(w, _)| usize::from(w.0));
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "\r\x1b[K{}", fit(&line, width));
    let _ = err.flush();
}

/// Duration, samples, missed ticks, lowest free %, most swap, and each process's peak.
pub fn print_summary(s: &TraceSummary) -> std::io::Result<()> {
    outln!(
        "recorded {:.1} s: {} samples, {} missed, into {}",
        s.elapsed.as_secs_f64(),
        s.samples,
        s.missed,
        s.dir.display()
    )?;
    match s.min_free_percent {
        Some(p) => outln!("minimum free memory: {p:.1} %")?,
        None => outln!("minimum free memory: -")?,
    }
    match s.max_swap_used_bytes {
        Some(b) => outln!("maximum swap used: {}", format_bytes(b))?,
        None => outln!("maximum swap used: -")?,
    }
    // What the recording could not see, so that nobody trusts it for more than it holds.
    if s.processes.is_empty() {
        outln!("warning: no process matched the selection; nothing was followed")?;
    }
    let polls = s.polls_ok + s.polls_failed;
    if s.polls_failed > 0 && s.polls_ok == 0 {
        outln!("warning: Ollama never answered ({polls} polls failed)")?;
    } else if s.polls_failed > 0 {
        outln!(
            "warning: Ollama did not answer {} of {polls} polls",
            s.polls_failed
        )?;
    }
    if s.missed > 0 {
        outln!(
            "warning: {} samples were missed (the recorder fell behind)",
            s.missed
        )?;
    }
    if s.failed_reads > 0 {
        outln!(
            "warning: {} system reads failed (the first: {})",
            s.failed_reads,
            s.read_error.as_deref().unwrap_or("-")
        )?;
    }
    for p in &s.processes {
        let peak = match (p.peak_model_memory_bytes, p.peak_footprint_bytes) {
            (Some(m), _) => format!("peak model memory {}", format_bytes(m)),
            (None, Some(f)) => format!("peak footprint {}", format_bytes(f)),
            (None, None) => format!("peak RSS {}", format_bytes(p.peak_rss_bytes)),
        };
        let models = if p.models.is_empty() {
            String::new()
        } else {
            format!(" [{}]", p.models.join(", "))
        };
        let state = match (&p.error, p.exited) {
            (Some(e), _) => format!(" (not readable: {e})"),
            (None, true) => " (exited)".into(),
            (None, false) => String::new(),
        };
        outln!(
            "  pid {:>7} {:<16} {}{}{}",
            p.pid,
            memtide_render::escape_control(&p.name),
            peak,
            memtide_render::escape_control(&models),
            state
        )?;
    }
    let dir = shell_word(&s.dir.to_string_lossy());
    outln!("next: `memtide report {dir}` tells what happened, `memtide view {dir}` draws it in your browser")?;
    Ok(())
}

/// `word` as a shell reads it back: as it is when it holds nothing a shell would split or
/// expand, else in single quotes.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:@,%".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// `memtide record`, from its flags.
pub fn command(a: RecordArgs) -> Result<()> {
    let (segments, burst) = crate::cli::trace_policy(&a.keep, &a.burst, a.interval)?;
    let stop = crate::stop_signals()?;
    run(
        Options {
            recorder: {
                let mut o = a.watch.recorder(a.interval);
                o.segments = segments;
                o.burst = burst;
                // No sparklines to draw: the live state keeps no history of samples.
                o.history = std::time::Duration::ZERO;
                o
            },
            duration: a.duration,
            out: a.out.out,
            force: a.out.force,
            quiet: a.quiet,
            jsonl: a.jsonl,
        },
        stop,
    )
}

#[cfg(test)]
mod tests {
    use super::{fit, shell_word};

    #[test]
    fn the_next_commands_name_the_directory_as_a_shell_reads_it_back() {
        assert_eq!(shell_word("traces/run-1"), "traces/run-1");
        assert_eq!(shell_word("my trace"), "'my trace'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word("$HOME"), "'$HOME'");
        assert_eq!(shell_word(""), "''");
    }

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
