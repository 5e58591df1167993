//! The report of a trace as data: what `memtide report --format json` prints, and what the
//! text and Markdown reports are written from. `docs/events.md` documents the JSON; fields are
//! only ever added, under the same `report_version`.

use crate::events::{self, Analysis, Event, ProcessReport};
use crate::runner::NameSource;
use crate::timeline::Timeline;
use serde::{Deserialize, Serialize};

/// Bumped only when a field changes meaning or disappears.
pub const REPORT_VERSION: u32 = 3;

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Report {
    /// [`REPORT_VERSION`].
    pub report_version: u32,
    /// What was recorded.
    pub trace: TraceInfo,
    /// One entry per model served by a runner (and one for runners whose model is unknown).
    pub models: Vec<ModelSummary>,
    /// Every process, with its role.
    pub processes: Vec<ProcessReport>,
    /// What happened, in time order.
    pub events: Vec<Event>,
    /// Anything skipped while reading the trace.
    pub warnings: Vec<String>,
}

/// The recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TraceInfo {
    /// The directory.
    pub dir: String,
    /// The OS (`linux`, `macos`, ...).
    pub os: memtide_trace::Os,
    /// OS release.
    pub os_version: Option<String>,
    /// Architecture.
    pub arch: String,
    /// Physical memory.
    pub total_memory_bytes: u64,
    /// Apple Silicon: the GPU wired-memory limit, bytes (0: the system's default), where the
    /// recording machine has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_wired_limit_bytes: Option<u64>,
    /// Sampling interval the recorder was given (for an import, the `ps` loop's period).
    pub interval_ms: u64,
    /// The usual step between system samples (for an import, the system loop's period).
    pub system_step_ms: u64,
    /// First sample (UTC).
    pub start_utc: Option<String>,
    /// Last sample (UTC).
    pub end_utc: Option<String>,
    /// Samples.
    pub samples: usize,
    /// Ticks missed, when the recorder said.
    pub missed_ticks: Option<u64>,
    /// The Ollama server polled and its version.
    pub ollama_url: Option<String>,
    /// Its version.
    pub ollama_version: Option<String>,
    /// Where this trace came from: `memtide record` or `memtide import`.
    pub source: String,
    /// What the machine's memory never used in the recording (sampled and zero throughout).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unused: Vec<crate::events::Unused>,
}

/// One model runner and the model it served: one entry per runner identity, also when two
/// runners serve the same model or neither is named (report version 2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ModelSummary {
    /// The model's name (`sha256:…` when only its blob's digest tells); `None` when nothing
    /// does.
    pub model: Option<String>,
    /// Where the name came from.
    pub name_source: NameSource,
    /// The model's other names (see [`ProcessReport::aliases`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// The runner's PID.
    pub runner_pid: u32,
    /// With the PID, the runner's identity.
    pub start_time_us: u64,
    /// The runner's PID, as a list (as version 1 gave it, for tools that read that).
    pub runner_pids: Vec<u32>,
    /// Which engine: Ollama's runner families, or `llama.cpp server` for another engine's.
    pub engine: crate::runner::Engine,
    /// Started by Ollama.
    pub under_ollama: bool,
    /// Its first sample (UTC).
    pub first_utc: Option<String>,
    /// Its last sample (UTC).
    pub last_utc: Option<String>,
    /// Its highest memory, by `metric`: model memory (footprint plus its mapped weights
    /// resident in RAM) where the weights were counted (report version 3).
    pub peak_bytes: Option<u64>,
    /// What `peak_bytes` measures.
    pub metric: crate::timeline::Measure,
    /// The most of its model file it held resident in its mappings, where counted.
    pub peak_weights_bytes: Option<u64>,
    /// Its highest footprint.
    pub peak_footprint_bytes: Option<u64>,
    /// Its highest RSS.
    pub peak_rss_bytes: Option<u64>,
    /// The largest size `/api/ps` reported for its model while it lived.
    pub ollama_size_bytes: Option<u64>,
    /// What it allocated, by Ollama's server log, where the trace followed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocated: Option<crate::ollama_log::Allocated>,
}

/// Builds the report of a loaded trace.
pub fn build(tl: &Timeline, opts: &events::Options) -> Report {
    let Analysis { processes, events } = events::analyze(tl, opts);
    let models: Vec<ModelSummary> = processes
        .iter()
        .filter_map(|p| match &p.role {
            crate::runner::Role::Runner {
                engine,
                under_ollama,
                ..
            } => Some(ModelSummary {
                model: p.model.clone(),
                name_source: p.name_source,
                aliases: p.aliases.clone(),
                runner_pid: p.pid,
                start_time_us: p.start_time_us,
                runner_pids: vec![p.pid],
                engine: *engine,
                under_ollama: *under_ollama,
                first_utc: p.first_utc.clone(),
                last_utc: p.last_utc.clone(),
                peak_bytes: p.peak_bytes,
                metric: p.metric,
                peak_weights_bytes: p.peak_weights_bytes,
                peak_footprint_bytes: p.peak_footprint_bytes,
                peak_rss_bytes: p.peak_rss_bytes,
                ollama_size_bytes: p.ollama_size_bytes,
                allocated: crate::ollama_log::port_of(&p.command).and_then(|port| {
                    crate::ollama_log::allocated(
                        &tl.ollama_log,
                        port,
                        p.first_ms?
                            .saturating_sub(crate::ollama_log::PLAN_WINDOW_MS),
                        p.last_ms?,
                    )
                }),
            }),
            _ => None,
        })
        .collect();
    Report {
        report_version: REPORT_VERSION,
        trace: TraceInfo {
            dir: tl.dir.display().to_string(),
            os: tl.meta.os.clone(),
            os_version: tl.meta.os_version.clone(),
            arch: tl.meta.arch.clone(),
            total_memory_bytes: tl.meta.total_memory_bytes,
            gpu_wired_limit_bytes: tl.meta.gpu_wired_limit_bytes,
            interval_ms: tl.meta.interval_ms,
            system_step_ms: tl.system_step_ms,
            start_utc: tl.system.first().map(|r| r.time_utc()),
            end_utc: tl.system.last().map(|r| r.time_utc()),
            samples: tl.system.len(),
            missed_ticks: tl.meta.missed_ticks,
            ollama_url: tl.meta.ollama.as_ref().map(|o| o.url.clone()),
            ollama_version: tl.meta.ollama.as_ref().and_then(|o| o.version.clone()),
            source: tl
                .meta
                .source
                .clone()
                .unwrap_or_else(|| "memtide record".into()),
            unused: events::unused(tl),
        },
        models,
        warnings: recording_warnings(tl, &processes),
        processes,
        events,
    }
}

/// What a person must know to trust the report: rows the loader skipped, and what the
/// recording could not see (no process matched, Ollama down, samples missed, reads failed).
fn recording_warnings(tl: &Timeline, processes: &[ProcessReport]) -> Vec<String> {
    let mut w = tl.warnings.clone();
    let m = &tl.meta;
    if processes.is_empty() && !tl.system.is_empty() {
        let sel = &m.selection;
        let what = if sel.ollama_default {
            "no Ollama process was running".to_owned()
        } else {
            let mut rules: Vec<String> = sel.patterns.iter().map(|p| format!("`{p}`")).collect();
            rules.extend(sel.pids.iter().map(|p| format!("PID {p}")));
            rules.extend(sel.children_of.map(|p| format!("descendants of PID {p}")));
            if rules.is_empty() {
                // `memtide run --only-command`: the command's tree was all it followed.
                "the command's processes were all it was to follow, and none was seen".to_owned()
            } else {
                format!("nothing matched {}", rules.join(", "))
            }
        };
        w.push(format!("No process was followed: {what}."));
    }
    let failed = tl.polls.iter().filter(|p| !p.outcome.is_ok()).count();
    if let (Some(o), true) = (&m.ollama, failed > 0) {
        if failed == tl.polls.len() {
            let last = tl.polls.last().map_or("", |p| p.outcome.as_str());
            w.push(format!(
                "Ollama never answered at {}: all {failed} polls failed ({last}).",
                o.url
            ));
        } else {
            // Down from each failed poll to the next poll that answered.
            let mut down_ms = 0u64;
            let mut since: Option<u64> = None;
            for p in &tl.polls {
                match (p.outcome.is_ok(), since) {
                    (false, None) => since = Some(p.t_ms),
                    (true, Some(s)) => {
                        down_ms += p.t_ms.saturating_sub(s);
                        since = None;
                    }
                    _ => {}
                }
            }
            if let (Some(s), Some(last)) = (since, tl.polls.last()) {
                down_ms += last.t_ms.saturating_sub(s) + o.poll_interval_ms;
            }
            w.push(format!(
                "Ollama did not answer {failed} of {} polls, for {:.1} s in all.",
                tl.polls.len(),
                down_ms as f64 / 1000.0
            ));
        }
    }
    if let Some(n) = m.missed_ticks.filter(|&n| n > 0) {
        w.push(format!(
            "{n} samples were missed: the recorder fell behind its {} ms interval.",
            m.interval_ms
        ));
    }
    if let Some(n) = m.failed_reads.filter(|&n| n > 0) {
        w.push(format!(
            "{n} system reads failed{}; those samples have empty fields where the read would have \
             filled them.",
            m.read_error
                .as_deref()
                .map(|e| format!(" (the first: {e})"))
                .unwrap_or_default()
        ));
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::SystemPoint;
    use memtide_trace::{PollOutcome, PollRow};

    fn timeline() -> Timeline {
        let meta: memtide_trace::Meta = serde_json::from_str(
            r#"{"format_version":1,"memtide_version":"t","os":"linux","os_version":null,
                "arch":"x86_64","total_memory_bytes":100,"page_size_bytes":4096,
                "interval_ms":250,"selection":{"ollama_default":true,"patterns":[],"pids":[],
                "children_of":null,"all":false},"start_utc":"2026-05-14T09:25:00.000Z",
                "end_utc":null,"samples":null,"missed_ticks":3,"failed_reads":2,
                "read_error":"cannot read /proc/meminfo: I/O error",
                "ollama":{"url":"http://x","version":null,"poll_interval_ms":1000}}"#,
        )
        .unwrap();
        let poll = |t_ms, outcome| PollRow {
            t_ms,
            outcome,
            ..PollRow::default()
        };
        Timeline {
            dir: "t".into(),
            meta,
            system: vec![SystemPoint::default()],
            processes: Vec::new(),
            polls: vec![
                poll(0, PollOutcome::Ok),
                poll(1000, PollOutcome::Unreachable),
                poll(2000, PollOutcome::Unreachable),
                poll(3000, PollOutcome::Ok),
            ],
            models: Vec::new(),
            pressure: Vec::new(),
            ollama_log: Vec::new(),
            warnings: Vec::new(),
            system_step_ms: 250,
        }
    }

    #[test]
    fn the_report_says_what_the_recording_could_not_see() {
        let tl = timeline();
        let w = recording_warnings(&tl, &[]);
        assert_eq!(
            w,
            [
                "No process was followed: no Ollama process was running.",
                "Ollama did not answer 2 of 4 polls, for 2.0 s in all.",
                "3 samples were missed: the recorder fell behind its 250 ms interval.",
                "2 system reads failed (the first: cannot read /proc/meminfo: I/O error); those \
                 samples have empty fields where the read would have filled them."
            ]
        );
    }
}
