//! The report as a person reads it: plain text for a terminal, or Markdown for an issue. Times
//! are local, with the UTC offset stated once at the top.

use crate::{format_bytes, format_opt_bytes};
use memtide_model::events::mapped::Held;
use memtide_model::events::{Event, EventKind, ListedModel, Moment, PeakSeries, RunnerRef};
use memtide_model::report::Report;
use memtide_model::timeline::Measure;
use memtide_trace::NotificationSource;
use std::fmt::Write;

/// Text or Markdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Aligned plain text.
    Text,
    /// GitHub-flavoured Markdown.
    Markdown,
}

/// Formats UTC times of the report in one time zone.
pub struct Clock {
    tz: jiff::tz::TimeZone,
}

impl Clock {
    /// Times in `tz` (use `jiff::tz::TimeZone::system()` for the machine's zone).
    pub fn new(tz: jiff::tz::TimeZone) -> Clock {
        Clock { tz }
    }

    fn zoned(&self, utc: &str) -> Option<jiff::Zoned> {
        utc.parse::<jiff::Timestamp>()
            .ok()
            .map(|t| t.to_zoned(self.tz.clone()))
    }

    /// `HH:MM:SS.mmm` local.
    pub fn time(&self, utc: &str) -> String {
        self.zoned(utc)
            .map(|z| z.strftime("%H:%M:%S%.3f").to_string())
            .unwrap_or_else(|| utc.to_owned())
    }

    /// `YYYY-MM-DD HH:MM:SS` local.
    pub fn date_time(&self, utc: &str) -> String {
        self.zoned(utc)
            .map(|z| z.strftime("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_else(|| utc.to_owned())
    }

    /// A timestamp in this zone with a `strftime` format.
    pub fn format(&self, t: jiff::Timestamp, fmt: &str) -> String {
        t.to_zoned(self.tz.clone()).strftime(fmt).to_string()
    }

    /// The zone's offset from UTC at `t`, in seconds.
    pub fn offset_seconds(&self, t: jiff::Timestamp) -> i64 {
        i64::from(self.tz.to_offset(t).seconds())
    }

    /// `UTC+02:00`, at the given time (offsets change with daylight saving).
    pub fn offset(&self, utc: &str) -> String {
        self.zoned(utc)
            .map(|z| format!("UTC{}", z.strftime("%:z")))
            .unwrap_or_else(|| "UTC".into())
    }
}

fn runner(r: &RunnerRef) -> String {
    match &r.model {
        Some(m) => format!("runner PID {} for {m}", r.pid),
        None => format!("runner PID {} (model unknown)", r.pid),
    }
}

fn listed(models: &[ListedModel]) -> String {
    if models.is_empty() {
        return "no model".into();
    }
    models
        .iter()
        .map(|m| format!("{} ({})", m.name, format_bytes(m.size_bytes)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn memory(m: &Moment, clock: &Clock) -> String {
    let mut parts = Vec::new();
    if let Some(p) = m.free_percent {
        parts.push(format!("free memory was {p:.0} %"));
    }
    if let Some(w) = m.wired_bytes {
        parts.push(format!("wired memory was {}", format_bytes(w)));
    }
    if let Some(c) = m.compressor_bytes {
        parts.push(format!("compressor was {}", format_bytes(c)));
    }
    if let Some(s) = m.swap_used_bytes {
        parts.push(format!("swap used was {}", format_bytes(s)));
    }
    if parts.is_empty() {
        return String::new();
    }
    let last = parts.pop().unwrap_or_default();
    let list = if parts.is_empty() {
        last
    } else {
        format!("{}, and {last}", parts.join(", "))
    };
    format!("At {} {list}.", clock.time(&m.time_utc))
}

fn span(e: &Event, clock: &Clock) -> String {
    match &e.end_utc {
        Some(end) if end != &e.time_utc => {
            format!("{} to {}", clock.time(&e.time_utc), clock.time(end))
        }
        _ => clock.time(&e.time_utc),
    }
}

/// How a command ended, as a shell would say it.
fn command_end(exit_code: Option<i32>, signal: Option<i32>) -> String {
    match (exit_code, signal) {
        (_, Some(sig)) => format!("was ended by signal {sig}"),
        (Some(0), None) => "exited with status 0".into(),
        (Some(code), None) => format!("failed with status {code}"),
        (None, None) => "exited".into(),
    }
}

/// One sentence (or two) per event.
pub fn sentence(e: &Event, clock: &Clock) -> String {
    match &e.kind {
        EventKind::CommandStart { argv, pid } => format!(
            "memtide run started `{}` (pid {pid}){}.",
            argv.join(" "),
            match &e.end_utc {
                Some(end) => format!(", which ran until {}", clock.time(end)),
                None => ", which was still running when recording stopped".into(),
            }
        ),
        EventKind::CommandExit {
            pid,
            exit_code,
            signal,
            ran_ms,
        } => format!(
            "The command (pid {pid}) {} after {:.1} s.",
            command_end(*exit_code, *signal),
            *ran_ms as f64 / 1000.0
        ),
        EventKind::RunnerStart {
            runner: r,
            before_recording: true,
            started_utc,
        } => format!(
            "{} was already running when recording began{}.",
            capital(&runner(r)),
            started_utc
                .as_deref()
                .map(|t| format!(" (started {})", clock.date_time(t)))
                .unwrap_or_default()
        ),
        EventKind::RunnerStart { runner: r, .. } => format!("{} started.", capital(&runner(r))),
        EventKind::RunnerExit {
            runner: r,
            last_footprint_bytes,
            last_bytes,
        } => format!(
            "{} exited; its last {} was {}, its peak {}.",
            capital(&runner(r)),
            r.peak_metric.name(),
            format_opt_bytes(last_bytes.or(*last_footprint_bytes)),
            format_opt_bytes(r.peak_bytes)
        ),
        EventKind::ModelLoad {
            model,
            before_recording: true,
        } => format!(
            "{} was already loaded when recording began (Ollama: {}).",
            model.name,
            format_bytes(model.size_bytes)
        ),
        EventKind::ModelLoad { model, .. } => {
            format!(
                "Ollama loaded {} ({}).",
                model.name,
                format_bytes(model.size_bytes)
            )
        }
        EventKind::ModelUnload {
            name,
            last_size_bytes,
        } => {
            format!(
                "Ollama unloaded {name} ({}).",
                format_bytes(*last_size_bytes)
            )
        }
        EventKind::Overlap {
            runners,
            max_alive,
            worst,
            ollama_models,
            other_servers,
            from_start,
            ..
        } => {
            let until = e
                .end_utc
                .as_deref()
                .map_or_else(String::new, |t| clock.time(t));
            let metric = |r: &RunnerRef| r.peak_metric.name();
            let mut s = match runners.as_slice() {
                // The sentence the Ollama macOS Memory Trace Guide asks people to report; for
                // two runners both running when recording began, neither is said to start.
                [first, second] => format!(
                    "{} (until {until}; peak {}).",
                    if *from_start {
                        format!(
                            "From the start of the recording, {}, {} and {} were both alive",
                            clock.time(&e.time_utc),
                            runner(first),
                            runner(second)
                        )
                    } else {
                        format!(
                            "At {}, {} was still alive while {} started",
                            clock.time(&e.time_utc),
                            runner(first),
                            runner(second)
                        )
                    },
                    if first.peak_metric == second.peak_metric {
                        format!(
                            "{} {} and {}",
                            metric(first),
                            format_opt_bytes(first.peak_bytes),
                            format_opt_bytes(second.peak_bytes)
                        )
                    } else {
                        format!(
                            "{} {} and {} {}",
                            metric(first),
                            format_opt_bytes(first.peak_bytes),
                            metric(second),
                            format_opt_bytes(second.peak_bytes)
                        )
                    }
                ),
                many => format!(
                    "From {} to {until}, {} runners were alive, at most {max_alive} at once: {}.",
                    clock.time(&e.time_utc),
                    many.len(),
                    many.iter()
                        .map(|r| format!(
                            "PID {} for {} (peak {} {})",
                            r.pid,
                            r.model.as_deref().unwrap_or("an unknown model"),
                            metric(r),
                            format_opt_bytes(r.peak_bytes)
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            if let Some(m) = worst {
                let mem = memory(m, clock);
                if !mem.is_empty() {
                    s.push_str(" During the same interval: ");
                    s.push_str(&lower_first(&mem));
                }
            }
            if !ollama_models.is_empty() {
                let _ = write!(s, " ollama ps reported {}.", listed(ollama_models));
            }
            if !other_servers.is_empty() {
                let _ = write!(
                    s,
                    " Also alive, not started by Ollama: {}.",
                    other_servers
                        .iter()
                        .map(|r| format!(
                            "PID {} ({}, peak {} {})",
                            r.pid,
                            r.model.as_deref().unwrap_or("an unknown model"),
                            r.peak_metric.name(),
                            format_opt_bytes(r.peak_bytes)
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            s
        }
        EventKind::LowMemory {
            threshold_percent,
            worst,
        } => {
            let mut s = format!(
                "Free memory was under {threshold_percent:.0} % from {}.",
                span(e, clock)
            );
            if let Some(m) = worst {
                let mem = memory(m, clock);
                if !mem.is_empty() {
                    let _ = write!(s, " Lowest point: {}", lower_first(&mem));
                }
            }
            s
        }
        EventKind::Pressure { worst } => format!(
            "The kernel reported {worst} memory pressure from {}.",
            span(e, clock)
        ),
        EventKind::PressureNotification {
            source,
            level,
            detail,
        } => {
            let what = match source {
                NotificationSource::Psi => "Linux's pressure trigger fired",
                // macOS's level, polled: the change is the whole news.
                NotificationSource::Sysctl => {
                    return match level {
                        Some(l) => format!("The kernel's memory-pressure level became {l}."),
                        None => format!("The kernel's memory-pressure level changed: {detail}."),
                    };
                }
                // Traces recorded before memtide polled the level on macOS.
                NotificationSource::Dispatch => "macOS sent a memory-pressure notification",
            };
            let level = level.map(|l| format!(" (level {l})")).unwrap_or_default();
            format!("{what}{level}: {detail}.")
        }
        EventKind::SwapGrowth {
            from_bytes,
            to_bytes,
        } => format!(
            "Swap used grew from {} to {} ({}).",
            format_bytes(*from_bytes),
            format_bytes(*to_bytes),
            span(e, clock)
        ),
        EventKind::CompressorGrowth {
            from_bytes,
            to_bytes,
        } => format!(
            "The compressor grew from {} to {} ({}).",
            format_bytes(*from_bytes),
            format_bytes(*to_bytes),
            span(e, clock)
        ),
        EventKind::RunnerGrowth {
            runner: r,
            from_bytes,
            to_bytes,
            after_listing,
        } => format!(
            "{} grew by {} after its load, from {} to {} ({}): {}",
            capital(&runner(r)),
            format_bytes(to_bytes.saturating_sub(*from_bytes)),
            format_bytes(*from_bytes),
            format_bytes(*to_bytes),
            span(e, clock),
            if *after_listing {
                "its own memory (KV cache, context) grew while it served, after Ollama listed \
                 its model."
            } else {
                "its own memory grew after it had held steady for 3 s (a KV cache, a context, \
                 or a load that paused)."
            }
        ),
        EventKind::MappedFiles {
            runner: r,
            rss_bytes,
            footprint_bytes,
            rss_file_bytes,
            weights_bytes,
            held,
        } => {
            let mut s = format!(
                "{} had RSS {} but footprint {}: the difference, {}{}, is pages of mapped files, \
                 the model's weights read with mmap",
                capital(&runner(r)),
                format_bytes(*rss_bytes),
                format_bytes(*footprint_bytes),
                format_bytes(rss_bytes.saturating_sub(*footprint_bytes)),
                rss_file_bytes
                    .map(|f| format!(" (file-backed RSS {})", format_bytes(f)))
                    .unwrap_or_default()
            );
            if let Some(w) = weights_bytes {
                let _ = write!(
                    s,
                    " ({} of its model file resident in its mapping)",
                    format_bytes(*w)
                );
            }
            s.push_str(match held {
                Held::GpuWired => {
                    ", held resident (wired) for the GPU while the model is loaded: the OS \
                     cannot drop them"
                }
                Held::PageCache => {
                    ", page cache the OS can drop under pressure and read again from the file, \
                     at the cost of the reads"
                }
            });
            match weights_bytes {
                Some(w) => {
                    let _ = write!(
                        s,
                        ". Model memory, {}, counts them.",
                        format_bytes(footprint_bytes.saturating_add(*w))
                    );
                }
                None => s.push_str(". The footprint leaves them out."),
            }
            s
        }
        EventKind::OllamaPlan {
            runner: r,
            plan,
            swap_growth_bytes,
            swap_after_ms,
        } => {
            let mut s = match (&plan.prediction, plan.evicted) {
                (Some(p), evicted) => format!(
                    "Ollama predicted {} would {} in {} available{}, and started {}",
                    format_opt_bytes(p.predicted_bytes),
                    if evicted {
                        "not fit beside the loaded models"
                    } else {
                        "fit beside the loaded models"
                    },
                    format_opt_bytes(p.available_bytes),
                    if evicted {
                        ", evicted loaded models"
                    } else {
                        ""
                    },
                    runner(r)
                ),
                (None, _) => {
                    let free = plan.system_free_bytes.zip(plan.system_total_bytes);
                    match (&plan.estimate, free) {
                        (Some(e), free) => {
                            let mut s = estimated(e, &runner(r));
                            if let Some((free, total)) = free {
                                let _ = write!(
                                    s,
                                    "; the machine had {} of {} free",
                                    format_bytes(free),
                                    format_bytes(total)
                                );
                            }
                            s
                        }
                        (None, Some((free, total))) => format!(
                            "Ollama started {} with {} of {} free",
                            runner(r),
                            format_bytes(free),
                            format_bytes(total)
                        ),
                        (None, None) => format!("Ollama started {}", runner(r)),
                    }
                }
            };
            if let Some(why) = &plan.mmap_off {
                let _ = write!(
                    s,
                    "; it turned mmap off ({why}), so the weights were copied"
                );
            }
            if plan.too_large {
                s.push_str("; it then found the model too large for the machine's memory");
                let by = plan.too_large_by.unwrap_or_default();
                match (by.requested_bytes, by.available_bytes) {
                    (Some(n), Some(a)) => {
                        let _ = write!(
                            s,
                            " (it needed {}; {} of memory and swap was free)",
                            format_bytes(n),
                            format_bytes(a)
                        );
                    }
                    (Some(n), None) => {
                        let _ = write!(s, " (it needed {})", format_bytes(n));
                    }
                    (None, Some(a)) => {
                        let _ = write!(s, " ({} of memory and swap was free)", format_bytes(a));
                    }
                    (None, None) => {}
                }
                s.push_str(" and ended the load");
            }
            if let Some(t) = &plan.ready_seconds {
                let _ = write!(s, "; it answered after {t}");
            }
            let after = if *swap_after_ms >= 60_000 {
                "minute".to_owned()
            } else {
                format!(
                    "{:.0} s, until the recording ended",
                    *swap_after_ms as f64 / 1000.0
                )
            };
            match swap_growth_bytes {
                Some(0) => {
                    let _ = write!(s, "; swap did not grow in the next {after}");
                }
                Some(g) => {
                    let _ = write!(s, "; in the next {after} swap grew by {}", format_bytes(*g));
                }
                None => {}
            }
            s.push('.');
            s
        }
        EventKind::OllamaStopped {
            models,
            runners_exited_ms,
        } => {
            let mut s = format!(
                "Ollama stopped answering at {} while it listed {}",
                clock.time(&e.time_utc),
                models.join(", ")
            );
            if let Some(t) = runners_exited_ms {
                let _ = write!(
                    s,
                    "; its runners exited {} later, and the models with them",
                    crate::seconds(t.saturating_sub(e.t_ms) as f64)
                );
            }
            s.push('.');
            s
        }
        EventKind::OllamaOom { model } => format!(
            "Ollama detected an out-of-memory failure of {model} and expired its loaded models."
        ),
        EventKind::WiredStep {
            runner: r,
            from_bytes,
            to_bytes,
            weights_bytes,
        } => {
            let mut s = format!(
                "Wired memory rose by {} (from {} to {}) while {} loaded: its weights, held \
                 resident for the GPU",
                format_bytes(to_bytes.saturating_sub(*from_bytes)),
                format_bytes(*from_bytes),
                format_bytes(*to_bytes),
                r.model
                    .as_deref()
                    .map_or_else(|| runner(r), |m| format!("{m} (PID {})", r.pid)),
            );
            if let Some(w) = weights_bytes {
                let _ = write!(
                    s,
                    "; memtide counted {} of its model file resident in its mapping",
                    format_bytes(*w)
                );
            }
            s.push('.');
            s
        }
        EventKind::Peak {
            series,
            pid,
            model,
            value,
        } => {
            let bytes = format_bytes(*value as u64);
            match series {
                PeakSeries::FreePercent => format!("Lowest free memory: {value:.0} %."),
                PeakSeries::WiredBytes => format!("Peak wired memory: {bytes}."),
                PeakSeries::CompressorBytes => format!("Peak compressor: {bytes}."),
                PeakSeries::SwapUsedBytes => format!("Peak swap used: {bytes}."),
                PeakSeries::ModelMemoryBytes
                | PeakSeries::FootprintBytes
                | PeakSeries::RssBytes => {
                    let what = series.measure().map_or("memory", Measure::name);
                    match (pid, model) {
                        (Some(pid), Some(m)) => format!("Peak {what} of PID {pid} ({m}): {bytes}."),
                        (Some(pid), None) => format!("Peak {what} of PID {pid}: {bytes}."),
                        (None, _) => format!("Peak {what}: {bytes}."),
                    }
                }
            }
        }
        EventKind::SizeDivergence {
            runner: r,
            ollama_size_bytes,
            ratio,
        } => format!(
            "{} peaked at {} ({}) while Ollama reported {} ({ratio:.2}×){}.",
            capital(&runner(r)),
            format_opt_bytes(r.peak_bytes),
            r.peak_metric.name(),
            format_bytes(*ollama_size_bytes),
            if *ratio < 1.0 && r.peak_metric == Measure::Footprint {
                "; mmapped weights count in RSS, not in the footprint"
            } else {
                ""
            }
        ),
    }
}

pub(crate) fn capital(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn lower_first(s: &str) -> String {
    // "At 11:25:03 …" reads as "at 11:25:03 …" after a colon.
    match s.strip_prefix("At ") {
        Some(rest) => format!("at {rest}"),
        None => s.to_owned(),
    }
}

/// The report's first sentence: the machine, the RAM, how many samples when, and Ollama's
/// version: `Linux 6.8 x86_64, 23.5 GiB RAM; 70 system samples every 200 ms from … to …
/// (local time, UTC+00:00).`
pub fn summary(r: &Report, clock: &Clock) -> String {
    let t = &r.trace;
    let start = t.start_utc.as_deref().unwrap_or("");
    let end = t.end_utc.as_deref().unwrap_or("");
    let os = crate::os_words(&t.os, t.os_version.as_deref());
    let host: Vec<&str> = [os.as_str(), t.arch.as_str()]
        .into_iter()
        .filter(|s| !s.is_empty() && *s != "unknown")
        .collect();
    format!(
        "{}, {} RAM{}; {} system samples every {} ms from {} to {} (local time, {}){}.",
        host.join(" "),
        format_bytes(t.total_memory_bytes),
        crate::describe_gpu_wired_limit(t.gpu_wired_limit_bytes)
            .map(|g| format!(" ({g})"))
            .unwrap_or_default(),
        t.samples,
        t.system_step_ms,
        clock.date_time(start),
        clock.date_time(end),
        clock.offset(start),
        match &t.ollama_version {
            Some(v) => format!("; Ollama {v}"),
            None => String::new(),
        }
    )
}

/// Up to this many processes that are not runners get a line each in the report; more (a
/// command's shells and tools under `memtide run`) share one line.
pub const OTHERS_ONE_A_LINE: usize = 4;

/// The report, as text or Markdown.
pub fn render(r: &Report, style: Style, clock: &Clock) -> String {
    // Names and command lines are untrusted: none of their control characters reach the
    // terminal.
    let r = &crate::contained(r);
    let md = style == Style::Markdown;
    let safe;
    let r = if md {
        safe = crate::markdown_safe(r);
        &safe
    } else {
        r
    };
    let mut o = String::new();
    let t = &r.trace;
    if md {
        let _ = writeln!(o, "# memtide report\n");
    } else {
        let _ = writeln!(o, "memtide report: {}", t.dir);
    }
    let _ = writeln!(o, "{}", summary(r, clock));
    // What recorded it, when that was not `memtide record`: another front-end of the
    // recorder, or an import of files memtide did not record.
    match t.source.as_str() {
        "memtide record" => {}
        s @ ("memtide top" | "memtide serve" | "memtide run") => {
            let _ = writeln!(o, "Recorded by {s}.");
        }
        s => {
            let _ = writeln!(o, "Converted by {s}.");
        }
    }

    // Said once, instead of a peak of 0 B for each.
    let unused: Vec<&str> = t
        .unused
        .iter()
        .map(|u| match u {
            memtide_model::events::Unused::Swap => "no swap was used",
            memtide_model::events::Unused::Compressor => "the compressor held nothing",
        })
        .collect();
    if !unused.is_empty() {
        let _ = writeln!(
            o,
            "{}",
            capital(&format!("{} while it recorded.", unused.join(" and ")))
        );
    }

    let _ = writeln!(o, "\n{}Models", if md { "## " } else { "" });
    if r.models.is_empty() {
        let _ = writeln!(o, "\nNo model runner was recorded.");
    } else {
        let header = [
            "MODEL",
            "RUNNER (ENGINE)",
            "LIFETIME",
            "PEAK MODEL MEMORY",
            "MAPPED WEIGHTS",
            "PEAK FOOTPRINT",
            "PEAK RSS",
            "OLLAMA SIZE",
            "NAME FROM",
        ];
        let rows: Vec<Vec<String>> = r
            .models
            .iter()
            .map(|m| {
                vec![
                    m.model.clone().unwrap_or_else(|| "(unknown)".into()),
                    format!("{} ({})", m.runner_pid, m.engine),
                    format!(
                        "{} – {}",
                        m.first_utc
                            .as_deref()
                            .map(|t| clock.time(t))
                            .unwrap_or_default(),
                        m.last_utc
                            .as_deref()
                            .map(|t| clock.time(t))
                            .unwrap_or_default()
                    ),
                    format_opt_bytes(m.peak_bytes.filter(|_| m.metric == Measure::ModelMemory)),
                    format_opt_bytes(m.peak_weights_bytes),
                    format_opt_bytes(m.peak_footprint_bytes),
                    format_opt_bytes(m.peak_rss_bytes),
                    format_opt_bytes(m.ollama_size_bytes),
                    m.name_source.describe().to_owned(),
                ]
            })
            .collect();
        table(&mut o, &header, &rows, md);
        let _ = writeln!(
            o,
            "\n{}",
            if r.models.iter().any(|m| m.metric == Measure::ModelMemory) {
                "Model memory is the footprint plus the model's weights resident in the runner's \
                 mapping of its file (mapped weights), which the footprint leaves out."
            } else {
                "No runner's mapped weights were counted in this trace (runners whose --model \
                 is not a file, runners memtide may not read, an import, or a recording by an \
                 older memtide): the footprint leaves out weights read with mmap."
            }
        );
        for m in r.models.iter().filter(|m| !m.aliases.is_empty()) {
            let _ = writeln!(
                o,
                "{} (PID {}) is also named {}: one model file under several names.",
                m.model.as_deref().unwrap_or("(unknown)"),
                m.runner_pid,
                m.aliases.join(", ")
            );
        }
        let allocated: Vec<_> = r
            .models
            .iter()
            .filter_map(|m| Some((m, m.allocated.as_ref()?)))
            .collect();
        if !allocated.is_empty() {
            let _ = writeln!(
                o,
                "\nWhat the runners allocated, by Ollama's log, beside what memtide measured:\n"
            );
        }
        for (m, a) in allocated {
            let mut line = format!(
                "{}{} (PID {}): weights {}",
                if md { "- " } else { "  " },
                m.model.as_deref().unwrap_or("(unknown)"),
                m.runner_pid,
                format_bytes(a.weights_bytes)
            );
            if a.mapped_weights_bytes > 0 {
                let _ = write!(line, " (mapped {})", format_bytes(a.mapped_weights_bytes));
            }
            let _ = write!(
                line,
                ", KV cache {}, compute buffers {}",
                format_bytes(a.kv_bytes),
                format_bytes(a.compute_bytes)
            );
            if a.other_bytes > 0 {
                let _ = write!(line, ", output {}", format_bytes(a.other_bytes));
            }
            let _ = write!(line, ": {} in all", format_bytes(a.total_bytes()));
            if let Some((n, of)) = a.offloaded {
                let _ = write!(line, "; {n} of {of} layers on the GPU");
            }
            let _ = write!(
                line,
                ". Measured: footprint {}",
                format_opt_bytes(m.peak_footprint_bytes)
            );
            if m.metric == Measure::ModelMemory {
                let _ = write!(
                    line,
                    ", mapped weights {}, model memory {}",
                    format_opt_bytes(m.peak_weights_bytes),
                    format_opt_bytes(m.peak_bytes)
                );
            }
            line.push('.');
            let _ = writeln!(o, "{line}");
        }
    }

    let others: Vec<_> = r
        .processes
        .iter()
        .filter(|p| !p.role.is_model_runner())
        .collect();
    // A few helpers one to a line; many (a command's own shells and tools) in one line, their
    // peaks there and not among the events.
    if others.len() > OTHERS_ONE_A_LINE {
        let _ = writeln!(o, "\n{}Other processes", if md { "## " } else { "" });
        let _ = writeln!(o, "\n{} others, largest first: {}.", others.len(), {
            let mut by_peak = others.clone();
            by_peak.sort_by_key(|p| std::cmp::Reverse(p.peak_bytes));
            by_peak
                .iter()
                .map(|p| {
                    format!(
                        "{} {} ({}{})",
                        p.name,
                        p.pid,
                        format_opt_bytes(p.peak_bytes),
                        if p.exited { ", exited" } else { "" }
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        });
    } else if !others.is_empty() {
        let _ = writeln!(o, "\n{}Other processes", if md { "## " } else { "" });
        let _ = writeln!(o);
        for p in others.iter() {
            let _ = writeln!(
                o,
                "{}{} (PID {}, {}): peak {} {}{}",
                if md { "- " } else { "  " },
                p.role.label(),
                p.pid,
                p.name,
                p.metric.name(),
                format_opt_bytes(p.peak_bytes),
                if p.exited { ", exited" } else { "" }
            );
        }
    }

    let _ = writeln!(o, "\n{}What happened", if md { "## " } else { "" });
    let _ = writeln!(o);
    if r.events.is_empty() {
        let _ = writeln!(o, "Nothing: the trace has no samples.");
    }
    let runner_pids: Vec<u32> = r
        .processes
        .iter()
        .filter(|p| p.role.is_model_runner())
        .map(|p| p.pid)
        .collect();
    for e in &r.events {
        // A helper's peak is told in its section, not among what happened.
        if let EventKind::Peak { pid: Some(pid), .. } = &e.kind {
            if !runner_pids.contains(pid) {
                continue;
            }
        }
        if md {
            let _ = writeln!(
                o,
                "- **{}** {}",
                clock.time(&e.time_utc),
                sentence(e, clock)
            );
        } else {
            let _ = writeln!(o, "  {}  {}", clock.time(&e.time_utc), sentence(e, clock));
        }
    }
    for w in &r.warnings {
        let _ = writeln!(o, "\nwarning: {w}");
    }
    o
}

fn table(o: &mut String, header: &[&str], rows: &[Vec<String>], md: bool) {
    let _ = writeln!(o);
    if md {
        let _ = writeln!(o, "| {} |", header.join(" | "));
        let _ = writeln!(o, "|{}", "---|".repeat(header.len()));
        for r in rows {
            let cells: Vec<String> = r.iter().map(|c| c.replace('|', "\\|")).collect();
            let _ = writeln!(o, "| {} |", cells.join(" | "));
        }
        return;
    }
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
            .collect();
        format!("  {}", padded.join("  ").trim_end())
    };
    let _ = writeln!(o, "{}", line(header.to_vec()));
    for r in rows {
        let _ = writeln!(o, "{}", line(r.iter().map(String::as_str).collect()));
    }
}

/// Ollama's estimate of a load in words (its `offload` line, v0.1.33 to v0.12.10): what the
/// model would take with every layer on the GPU, what the GPU had available, and how many
/// layers Ollama gave the GPU (the `--n-gpu-layers` it started the runner with).
fn estimated(e: &memtide_model::ollama_log::Estimate, runner: &str) -> String {
    let at = e
        .full_bytes
        .map(|b| format!(" at {}", format_bytes(b)))
        .unwrap_or_default();
    // Ollama estimates for the CPU alone when it found no GPU or was asked for no GPU layer.
    if e.library.eq_ignore_ascii_case("cpu") {
        return format!("Ollama started {runner}, estimated{at} for the CPU alone");
    }
    // Before v0.1.45 Ollama wrote `gpu`, which names no library.
    let library = match e.library.to_ascii_lowercase().as_str() {
        "" | "gpu" => String::new(),
        "metal" => " (Metal)".to_owned(),
        "cuda" => " (CUDA)".to_owned(),
        "rocm" => " (ROCm)".to_owned(),
        _ => format!(" ({})", e.library),
    };
    let available = e
        .available_bytes
        .map(|b| format!(", with {} available there", format_bytes(b)))
        .unwrap_or_default();
    let gave = match (e.layers, e.of) {
        (Some(0), _) => ", and gave the GPU none of its layers".to_owned(),
        (Some(n), Some(m)) if n >= m => format!(", and gave the GPU all {m} layers"),
        (Some(n), Some(m)) => format!(
            ", and gave the GPU {n} of its {m} layers{}",
            e.partial_bytes
                .map(|b| format!(" ({})", format_bytes(b)))
                .unwrap_or_default()
        ),
        (Some(n), None) => format!(", and gave the GPU {n} layers"),
        (None, _) => String::new(),
    };
    format!("Ollama started {runner}, estimated{at} with every layer on the GPU{library}{available}{gave}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sentence of a notification whose source and level read as `source` and `level`
    /// in a trace.
    fn notification(source: &str, level: Option<&str>, detail: &str) -> String {
        let word = |w: &str| serde_json::Value::String(w.to_owned());
        let e = Event {
            t_ms: 1500,
            time_utc: "2026-12-06T07:00:01.500Z".into(),
            end_ms: None,
            end_utc: None,
            kind: EventKind::PressureNotification {
                source: serde_json::from_value(word(source)).unwrap(),
                level: level.map(|l| serde_json::from_value(word(l)).unwrap()),
                detail: detail.into(),
            },
        };
        sentence(&e, &Clock::new(jiff::tz::TimeZone::UTC))
    }

    /// A report meant for a public issue shows a hostile name as the text it is.
    #[test]
    fn markdown_shows_html_and_links_in_names_as_text() {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/trace-twelve-runners"
        );
        let tl = memtide_model::timeline::Timeline::load(std::path::Path::new(dir)).unwrap();
        let mut r = memtide_model::report::build(&tl, &Default::default());
        let hostile = "<img src=x onerror=alert(1)> [win](https://example.com) `rm` *big* a\\b";
        r.models[0].model = Some(hostile.into());
        let clock = Clock::new(jiff::tz::TimeZone::UTC);
        let md = render(&r, Style::Markdown, &clock);
        for raw in ["<img", "[win](", "`rm`", "*big*"] {
            assert!(!md.contains(raw), "{raw} reaches the Markdown:\n{md}");
        }
        assert!(
            md.contains(r"&lt;img src=x onerror=alert(1)&gt; \[win\](https://example.com) \`rm\` \*big\* a\\b"),
            "{md}"
        );
        // The text report, for a terminal, shows the name as it is.
        assert!(render(&r, Style::Text, &clock).contains(hostile));
    }

    #[test]
    fn each_source_of_a_pressure_signal_is_told_in_its_own_words() {
        assert_eq!(
            notification(
                "sysctl",
                Some("warning"),
                "a change of the kernel's memory-pressure level (read every 100 ms)"
            ),
            "The kernel's memory-pressure level became warning."
        );
        assert_eq!(
            notification("psi", None, "memory stalls of 150 ms or more within 2 s"),
            "Linux's pressure trigger fired: memory stalls of 150 ms or more within 2 s."
        );
        // Traces from versions that listened to libdispatch's source still read.
        assert_eq!(
            notification("dispatch", Some("critical"), "a change of level"),
            "macOS sent a memory-pressure notification (level critical): a change of level."
        );
    }

    #[test]
    fn a_load_too_large_for_the_machine_is_told_with_what_it_needed_where_ollama_said() {
        use memtide_model::ollama_log::{Plan, TooLargeBy};
        let told = |too_large_by: Option<TooLargeBy>| {
            let e = Event {
                t_ms: 0,
                time_utc: "2026-12-06T07:00:00.000Z".into(),
                end_ms: None,
                end_utc: None,
                kind: EventKind::OllamaPlan {
                    runner: RunnerRef {
                        pid: 7,
                        model: Some("qwen3:8b".into()),
                        peak_bytes: None,
                        peak_metric: Measure::ModelMemory,
                    },
                    plan: Plan {
                        too_large: true,
                        too_large_by,
                        ..Plan::default()
                    },
                    swap_growth_bytes: None,
                    swap_after_ms: 5000,
                },
            };
            sentence(&e, &Clock::new(jiff::tz::TimeZone::UTC))
        };
        // From v0.13, the scheduler's line, which gives no figures.
        assert!(
            told(None).contains(
                "; it then found the model too large for the machine's memory and ended the load"
            ),
            "{}",
            told(None)
        );
        // Off macOS, up to v0.2x, the load's own line, with what it needed and had.
        let by = told(Some(TooLargeBy {
            requested_bytes: Some(615 << 20),
            available_bytes: Some(416 << 20),
        }));
        assert!(
            by.contains("; it then found the model too large for the machine's memory (it needed 615 MiB; 416 MiB of memory and swap was free) and ended the load"),
            "{by}"
        );
    }

    #[test]
    fn two_runners_alive_from_the_start_are_not_told_as_one_starting() {
        let r = |pid: u32, model: &str| RunnerRef {
            pid,
            model: Some(model.into()),
            peak_bytes: Some(1 << 30),
            peak_metric: Measure::ModelMemory,
        };
        let overlap = |from_start: bool| Event {
            t_ms: 0,
            time_utc: "2026-12-06T07:00:00.000Z".into(),
            end_ms: Some(5000),
            end_utc: Some("2026-12-06T07:00:05.000Z".into()),
            kind: EventKind::Overlap {
                runners: vec![r(1, "a:1b"), r(2, "b:1b")],
                max_alive: 2,
                levels: Vec::new(),
                worst: None,
                ollama_models: Vec::new(),
                other_servers: Vec::new(),
                from_start,
            },
        };
        let clock = Clock::new(jiff::tz::TimeZone::UTC);
        let said = sentence(&overlap(true), &clock);
        assert!(said.starts_with("From the start of the recording, 07:00:00.000, runner PID 1 for a:1b and runner PID 2 for b:1b were both alive (until 07:00:05.000; peak model memory 1.00 GiB and 1.00 GiB)."), "{said}");
        assert!(!said.contains("started"), "{said}");
        let said = sentence(&overlap(false), &clock);
        assert!(
            said.contains("was still alive while runner PID 2 for b:1b started"),
            "{said}"
        );
    }

    /// Ollama's estimate in words, with the figures of a Mac's v0.12 load that did not fit on
    /// the GPU, one that did, and one for the CPU alone (the estimates of
    /// `crates/model/tests/fixtures/ollama-offload-lines-v0.1.45-to-v0.12.txt` and
    /// `macos-intel-2024-07-offload-to-cpu-then-start.log`).
    #[test]
    fn ollamas_estimate_says_what_it_gave_the_gpu() {
        use memtide_model::ollama_log::Estimate;
        let gib = |x: f64| Some((x * (1u64 << 30) as f64).round() as u64);
        let e = |library: &str, layers, of, full, partial, available| Estimate {
            library: library.into(),
            layers,
            of,
            full_bytes: gib(full),
            partial_bytes: gib(partial),
            available_bytes: gib(available),
        };
        assert_eq!(
            estimated(
                &e("Metal", Some(10), Some(29), 5.1, 2.6, 2.7),
                "runner PID 7 for qwen3:4b"
            ),
            "Ollama started runner PID 7 for qwen3:4b, estimated at 5.10 GiB with every layer on \
             the GPU (Metal), with 2.70 GiB available there, and gave the GPU 10 of its 29 layers \
             (2.60 GiB)"
        );
        assert_eq!(
            estimated(&e("metal", Some(33), Some(33), 6.3, 6.3, 16.0), "r"),
            "Ollama started r, estimated at 6.30 GiB with every layer on the GPU (Metal), with \
             16.0 GiB available there, and gave the GPU all 33 layers"
        );
        assert_eq!(
            estimated(&e("cpu", Some(0), Some(33), 5.8, 0.0, 65.5), "r"),
            "Ollama started r, estimated at 5.80 GiB for the CPU alone"
        );
        assert_eq!(
            estimated(&e("gpu", Some(33), None, 6.3, 6.3, 16.0), "r"),
            "Ollama started r, estimated at 6.30 GiB with every layer on the GPU, with 16.0 GiB \
             available there, and gave the GPU 33 layers"
        );
    }
}
