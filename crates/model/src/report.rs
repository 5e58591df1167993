//! The report of a trace as data: what `memtide report --format json` prints, and what the
//! text and Markdown reports are written from. `docs/events.md` documents the JSON; fields are
//! only ever added, under the same `report_version`.

use crate::events::{self, Analysis, Event, ProcessReport};
use crate::runner::NameSource;
use crate::timeline::Timeline;
use serde::{Deserialize, Serialize};

/// Bumped only when a field changes meaning or disappears.
pub const REPORT_VERSION: u32 = 1;

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
pub struct TraceInfo {
    /// The directory.
    pub dir: String,
    /// OS, release, architecture.
    pub os: String,
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
}

/// One model and the runners that served it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSummary {
    /// The model's name; `None` when no source tells.
    pub model: Option<String>,
    /// Where the name came from (the most trusted source among its runners).
    pub name_source: NameSource,
    /// Its runners' PIDs, in order of start.
    pub runner_pids: Vec<u32>,
    /// First sample of its first runner (UTC).
    pub first_utc: Option<String>,
    /// Last sample of its last runner (UTC).
    pub last_utc: Option<String>,
    /// Highest footprint of any of its runners.
    pub peak_footprint_bytes: Option<u64>,
    /// Highest RSS of any of its runners.
    pub peak_rss_bytes: Option<u64>,
    /// The largest size `/api/ps` reported for it.
    pub ollama_size_bytes: Option<u64>,
}

/// Builds the report of a loaded trace.
pub fn build(tl: &Timeline, opts: &events::Options) -> Report {
    let Analysis { processes, events } = events::analyze(tl, opts);
    let mut models: Vec<ModelSummary> = Vec::new();
    for p in processes.iter().filter(|p| p.role.is_model_runner()) {
        let entry = match models.iter_mut().find(|m| m.model == p.model) {
            Some(m) => m,
            None => {
                models.push(ModelSummary {
                    model: p.model.clone(),
                    name_source: p.name_source,
                    runner_pids: Vec::new(),
                    first_utc: p.first_utc.clone(),
                    last_utc: p.last_utc.clone(),
                    peak_footprint_bytes: None,
                    peak_rss_bytes: None,
                    ollama_size_bytes: None,
                });
                models.last_mut().expect("just pushed")
            }
        };
        entry.runner_pids.push(p.pid);
        entry.last_utc = p.last_utc.clone().or(entry.last_utc.take());
        entry.peak_footprint_bytes = entry.peak_footprint_bytes.max(p.peak_footprint_bytes);
        entry.peak_rss_bytes = entry.peak_rss_bytes.max(p.peak_rss_bytes);
        entry.ollama_size_bytes = entry.ollama_size_bytes.max(p.ollama_size_bytes);
    }
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
            start_utc: tl.system.first().map(|r| r.time_utc.clone()),
            end_utc: tl.system.last().map(|r| r.time_utc.clone()),
            samples: tl.system.len(),
            missed_ticks: tl.meta.missed_ticks,
            ollama_url: tl.meta.ollama.as_ref().map(|o| o.url.clone()),
            ollama_version: tl.meta.ollama.as_ref().and_then(|o| o.version.clone()),
            source: tl
                .meta
                .source
                .clone()
                .unwrap_or_else(|| "memtide record".into()),
        },
        models,
        processes,
        events,
        warnings: tl.warnings.clone(),
    }
}
