//! What happened in a trace: which runner served which model, and the events a person looks
//! for. Each detector lives in its own module with its thresholds as named constants;
//! `docs/events.md` explains each. [`analyze`] runs them all over a [`Timeline`].

pub mod divergence;
pub mod growth;
pub mod low_memory;
pub mod mapped;
pub mod model_changes;
pub mod overlap;
pub mod pressure;
pub mod runner_growth;
pub mod wired_step;

use crate::runner::{self, Engine, NameSource, Role};
use crate::timeline::{Measure, ProcessTimeline, SystemPoint, Timeline};
use memtide_trace::{timestamp_utc_ms, NotificationSource, Os, PressureLevel};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// How far before a runner's first sample a model's first appearance in `/api/ps` may be and
/// still be matched to it: 5 s, for polls and samples that are not simultaneous.
pub const API_PS_MATCH_BEFORE_MS: u64 = 5_000;

/// How far after a runner's first sample a model's first appearance may be and still be
/// matched to it: 120 s, because `/api/ps` lists a model only once its runner has loaded it,
/// and a large model can take a minute or more to load from disk.
pub const API_PS_MATCH_AFTER_MS: u64 = 120_000;

/// How long after a load Ollama planned the report looks at swap, to put what happened beside
/// what was predicted: 60 s, long enough for a load and its first request.
pub const OLLAMA_PLAN_AFTER_MS: u64 = 60_000;

/// Options of the analysis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// Free percentage under which memory counts as low (default
    /// [`low_memory::LOW_MEMORY_FREE_PERCENT`]).
    pub low_free_percent: f64,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            low_free_percent: low_memory::LOW_MEMORY_FREE_PERCENT,
        }
    }
}

/// A process of the trace with its role, and for runners the model it served.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ProcessReport {
    /// The PID.
    pub pid: u32,
    /// With the PID, the identity.
    pub start_time_us: u64,
    /// Its role.
    pub role: Role,
    /// The kernel's short name.
    pub name: String,
    /// The command line, joined with spaces.
    pub command: String,
    /// The model it served (runners only).
    pub model: Option<String>,
    /// Where that name came from.
    pub name_source: NameSource,
    /// Other names of the same model (one blob under several manifests, as `ollama cp`
    /// makes): `model` is the one Ollama listed while the runner lived, where it did.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// First sample (UTC).
    pub first_utc: Option<String>,
    /// Last sample (UTC).
    pub last_utc: Option<String>,
    /// First sample, `t_ms`.
    pub first_ms: Option<u64>,
    /// Last sample, `t_ms`.
    pub last_ms: Option<u64>,
    /// Whether it exited during the recording.
    pub exited: bool,
    /// Its highest memory by `metric`: model memory where its mapped weights were counted,
    /// else footprint, else RSS (report version 3).
    pub peak_bytes: Option<u64>,
    /// Highest footprint (`None` where the trace has none, as in imported traces).
    pub peak_footprint_bytes: Option<u64>,
    /// Highest RSS.
    pub peak_rss_bytes: Option<u64>,
    /// The most of its model file it held resident in its mappings (`None` where they were
    /// not counted: not a runner, or a trace from before memtide counted them).
    pub peak_weights_bytes: Option<u64>,
    /// Its last memory sampled, by `metric` (report version 3).
    pub last_bytes: Option<u64>,
    /// The last footprint sampled (RSS where the trace has no footprint).
    pub last_footprint_bytes: Option<u64>,
    /// What `peak_bytes` and `last_bytes` measure.
    pub metric: Measure,
    /// The largest `size` `/api/ps` reported for its model while it lived.
    pub ollama_size_bytes: Option<u64>,
}

/// System memory at one moment, for the sentences of a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Moment {
    /// `t_ms`.
    pub t_ms: u64,
    /// UTC, ms.
    pub time_utc: String,
    /// Free %.
    pub free_percent: Option<f64>,
    /// Wired bytes.
    pub wired_bytes: Option<u64>,
    /// Compressor bytes.
    pub compressor_bytes: Option<u64>,
    /// Swap used.
    pub swap_used_bytes: Option<u64>,
    /// Pressure level.
    pub pressure: Option<PressureLevel>,
}

/// A model `/api/ps` listed, with its size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListedModel {
    /// Its name.
    pub name: String,
    /// Its `size`.
    pub size_bytes: u64,
    /// Its `size_vram`.
    pub size_vram_bytes: Option<u64>,
}

/// A stretch of an overlap with a constant number of runners alive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverlapLevel {
    /// From, `t_ms`.
    pub start_ms: u64,
    /// To, `t_ms`.
    pub end_ms: u64,
    /// Runners alive.
    pub alive: usize,
}

/// A runner as an event refers to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunnerRef {
    /// Its PID.
    pub pid: u32,
    /// The model it served, if known.
    pub model: Option<String>,
    /// Its highest memory within the event's interval, by `peak_metric`.
    pub peak_bytes: Option<u64>,
    /// What `peak_bytes` measures: model memory, footprint, or RSS.
    pub peak_metric: Measure,
}

/// The series a [`EventKind::Peak`] is the extreme of, named as in the report's JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeakSeries {
    /// Free memory, in percent: its minimum.
    FreePercent,
    /// Wired memory.
    WiredBytes,
    /// The compressor (zswap on Linux).
    CompressorBytes,
    /// Swap used.
    SwapUsedBytes,
    /// A process's model memory.
    ModelMemoryBytes,
    /// A process's footprint.
    FootprintBytes,
    /// A process's RSS.
    RssBytes,
}

impl PeakSeries {
    /// The series of a process told by `m`.
    pub fn of(m: Measure) -> PeakSeries {
        match m {
            Measure::ModelMemory => PeakSeries::ModelMemoryBytes,
            Measure::Footprint => PeakSeries::FootprintBytes,
            Measure::Rss => PeakSeries::RssBytes,
        }
    }

    /// What a process's series measures; `None` for the machine's.
    pub fn measure(self) -> Option<Measure> {
        match self {
            PeakSeries::ModelMemoryBytes => Some(Measure::ModelMemory),
            PeakSeries::FootprintBytes => Some(Measure::Footprint),
            PeakSeries::RssBytes => Some(Measure::Rss),
            PeakSeries::FreePercent
            | PeakSeries::WiredBytes
            | PeakSeries::CompressorBytes
            | PeakSeries::SwapUsedBytes => None,
        }
    }
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// A model runner's first sample.
    RunnerStart {
        /// Which.
        runner: RunnerRef,
        /// It was already running when recording began: its first sample is the trace's
        /// first, so this is not when it started.
        #[serde(default)]
        before_recording: bool,
        /// When it really started (UTC, ms), where the OS told it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        started_utc: Option<String>,
    },
    /// A model runner exited.
    RunnerExit {
        /// Which.
        runner: RunnerRef,
        /// Its footprint in its last sample.
        last_footprint_bytes: Option<u64>,
        /// Its memory in its last sample, by the runner's `peak_metric` (report version 3).
        #[serde(default)]
        last_bytes: Option<u64>,
    },
    /// `/api/ps` listed a model.
    ModelLoad {
        /// Which.
        model: ListedModel,
        /// It was already loaded at the first poll.
        before_recording: bool,
    },
    /// `/api/ps` stopped listing a model.
    ModelUnload {
        /// Its name.
        name: String,
        /// Its size at the last poll that listed it.
        last_size_bytes: u64,
    },
    /// A maximal interval in which two or more of Ollama's runners were alive at once (of any
    /// runners, where the trace has none of Ollama's; see [`overlap`]).
    Overlap {
        /// Every runner alive in it, in order of start, each with its peak in the interval.
        runners: Vec<RunnerRef>,
        /// The most that were alive at once.
        max_alive: usize,
        /// How many were alive when.
        levels: Vec<OverlapLevel>,
        /// The system at the worst moment of the overlap (lowest free %).
        worst: Option<Moment>,
        /// What `/api/ps` listed closest to that moment.
        ollama_models: Vec<ListedModel>,
        /// Other engines' servers (a `llama-server` no Ollama started) alive in the interval,
        /// each with its peak there: named, not counted in `runners` or `max_alive`.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        other_servers: Vec<RunnerRef>,
        /// It began at the trace's first sample: its runners were running when recording
        /// began, and none of them started in it.
        #[serde(default)]
        from_start: bool,
    },
    /// Free memory under the threshold.
    LowMemory {
        /// The threshold, %.
        threshold_percent: f64,
        /// The system at the lowest point.
        worst: Option<Moment>,
    },
    /// The kernel's pressure level at warning or critical.
    Pressure {
        /// Warning or critical.
        worst: PressureLevel,
    },
    /// The kernel notified memory pressure at this moment (a Linux PSI trigger, a macOS
    /// memory-pressure source), between samples.
    PressureNotification {
        /// `psi`, `sysctl` or (earlier traces) `dispatch`.
        source: NotificationSource,
        /// The level it announced, where it announces one.
        level: Option<PressureLevel>,
        /// What fires it.
        detail: String,
    },
    /// `memtide run` started its command.
    CommandStart {
        /// Its command line.
        argv: Vec<String>,
        /// Its PID.
        pid: u32,
    },
    /// The command of `memtide run` exited.
    CommandExit {
        /// Its PID.
        pid: u32,
        /// Its exit status, when it exited by itself.
        exit_code: Option<i32>,
        /// The signal that ended it, when one did.
        signal: Option<i32>,
        /// How long it ran, ms.
        ran_ms: u64,
    },
    /// Swap used grew.
    SwapGrowth {
        /// From, bytes.
        from_bytes: u64,
        /// To, bytes.
        to_bytes: u64,
    },
    /// The compressor grew.
    CompressorGrowth {
        /// From, bytes.
        from_bytes: u64,
        /// To, bytes.
        to_bytes: u64,
    },
    /// A runner's own memory grew after its load: after Ollama listed its model where the
    /// trace has Ollama's listings, else after the load settled (KV cache, context, another
    /// request); see [`runner_growth`].
    RunnerGrowth {
        /// The runner, with its peak.
        runner: RunnerRef,
        /// The settled level after the load, bytes.
        from_bytes: u64,
        /// The peak, bytes.
        to_bytes: u64,
        /// Ollama had listed its model: the growth came while it served.
        #[serde(default)]
        after_listing: bool,
    },
    /// A runner's RSS far above its footprint: mapped file pages, its model's weights read
    /// with `mmap` (see [`mapped`]). Whether the OS can drop them depends on who holds them:
    /// `held`.
    MappedFiles {
        /// The runner.
        runner: RunnerRef,
        /// RSS at its largest.
        rss_bytes: u64,
        /// Footprint at that sample.
        footprint_bytes: u64,
        /// The file-backed part of RSS there (Linux `RssFile`); absent on macOS.
        rss_file_bytes: Option<u64>,
        /// Its model file resident in its mappings there, where memtide counted it (report
        /// version 3).
        #[serde(default)]
        weights_bytes: Option<u64>,
        /// Who holds the mapped pages (report version 3).
        #[serde(default)]
        held: mapped::Held,
    },
    /// macOS on Apple Silicon: system wired memory rose while a runner loaded its model,
    /// the weights held resident for the GPU (see [`wired_step`]).
    WiredStep {
        /// The runner.
        runner: RunnerRef,
        /// Wired memory just before the runner's first sample.
        from_bytes: u64,
        /// Wired memory at its highest in the load window.
        to_bytes: u64,
        /// The runner's model file resident in its mappings at the end of the load window,
        /// where memtide counted it.
        weights_bytes: Option<u64>,
    },
    /// The extreme of a series.
    Peak {
        /// Which series.
        series: PeakSeries,
        /// The process, for per-process peaks.
        pid: Option<u32>,
        /// The model, for runners.
        model: Option<String>,
        /// The value.
        value: f64,
    },
    /// Ollama's scheduler planned a runner's load, as its server log tells (see
    /// [`crate::ollama_log::plan`]).
    OllamaPlan {
        /// The runner it started.
        runner: RunnerRef,
        /// What it predicted and decided.
        plan: crate::ollama_log::Plan,
        /// How much swap used grew in the `swap_after_ms` after the start, where the trace
        /// samples swap.
        swap_growth_bytes: Option<u64>,
        /// The time looked at after the start: [`OLLAMA_PLAN_AFTER_MS`], or less where the
        /// recording ended sooner.
        swap_after_ms: u64,
    },
    /// Ollama stopped answering `/api/ps` for good (to the end of the trace) while it still
    /// listed models, and their runners then exited: Ollama closes its API before it stops its
    /// runners, so its last answer still lists them.
    OllamaStopped {
        /// What its last answer listed.
        models: Vec<String>,
        /// When the last of their runners exited, `t_ms`.
        runners_exited_ms: Option<u64>,
    },
    /// Ollama detected an out-of-memory failure and expired its loaded models (its log).
    OllamaOom {
        /// The model whose request failed.
        model: String,
    },
    /// Ollama's size and the measured memory (model memory, or footprint where the weights
    /// were not counted) of the same runner differ by the ratio in
    /// [`divergence::SIZE_DIVERGENCE_RATIO`] or more.
    SizeDivergence {
        /// The runner.
        runner: RunnerRef,
        /// `/api/ps` `size`.
        ollama_size_bytes: u64,
        /// Measured ÷ reported.
        ratio: f64,
    },
}

/// An event at a time (and for intervals, until a time).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// `t_ms` of the start.
    pub t_ms: u64,
    /// UTC of the start.
    pub time_utc: String,
    /// `t_ms` of the end, for intervals.
    pub end_ms: Option<u64>,
    /// UTC of the end.
    pub end_utc: Option<String>,
    /// What.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// The analysis of a trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Analysis {
    /// Every process, with its role.
    pub processes: Vec<ProcessReport>,
    /// The events, in time order.
    pub events: Vec<Event>,
}

fn utc(tl: &Timeline, t_ms: u64) -> String {
    tl.wall(t_ms).map(timestamp_utc_ms).unwrap_or_default()
}

/// The system at `row`, without the stores the trace never used (`unused`): a sentence leaves
/// out what the report says once the machine did not use.
fn moment(row: &SystemPoint, unused: &[Unused]) -> Moment {
    let used = |store: Unused, v: Option<u64>| v.filter(|_| !unused.contains(&store));
    Moment {
        t_ms: row.t_ms,
        time_utc: row.time_utc(),
        free_percent: row.free_percent.get(),
        wired_bytes: row.wired_bytes.get(),
        compressor_bytes: used(Unused::Compressor, row.compressor_bytes.get()),
        swap_used_bytes: used(Unused::Swap, row.swap_used_bytes.get()),
        pressure: row.pressure,
    }
}

/// The system row with the lowest free % in `[start, end]` (the latest row at or before
/// `start` when none falls inside).
fn worst_moment(tl: &Timeline, start: u64, end: u64, unused: &[Unused]) -> Option<Moment> {
    let inside = tl.system_between(start, end).iter().min_by(|a, b| {
        let fa = a.free_percent.get().unwrap_or(f64::INFINITY);
        let fb = b.free_percent.get().unwrap_or(f64::INFINITY);
        fa.total_cmp(&fb)
    });
    let row = inside.or_else(|| tl.system_between(0, start).last())?;
    Some(moment(row, unused))
}

/// The models the successful poll closest to `t_ms` listed.
fn listed_near(tl: &Timeline, t_ms: u64) -> Vec<ListedModel> {
    let Some(poll) = tl
        .polls
        .iter()
        .filter(|p| p.outcome.is_ok())
        .min_by_key(|p| p.t_ms.abs_diff(t_ms))
    else {
        return Vec::new();
    };
    tl.models
        .iter()
        .filter(|m| m.t_ms == poll.t_ms && m.time_utc == poll.time_utc)
        .map(|m| ListedModel {
            name: m.name.clone(),
            size_bytes: m.size_bytes,
            size_vram_bytes: m.size_vram_bytes,
        })
        .collect()
}

fn peak_in(p: &ProcessTimeline, start: u64, end: u64) -> Option<u64> {
    p.rows
        .iter()
        .filter(|r| r.t_ms >= start && r.t_ms <= end)
        .map(|r| r.value(Measure::ModelMemory))
        .max()
}

/// When Ollama first listed one of `names` (a runner's model) within the match window of a
/// runner that started at `first`: the end of its load, as Ollama tells it.
fn listed_at(changes: &[model_changes::Change], names: &[&str], first: u64) -> Option<u64> {
    changes
        .iter()
        .filter_map(model_changes::Change::load)
        .find(|l| !l.before_recording && names.contains(&l.name) && in_match_window(l.t_ms, first))
        .map(|l| l.t_ms)
}

/// Whether Ollama's listing at `listed_ms` can be the load of a runner that started at
/// `start`: from [`API_PS_MATCH_BEFORE_MS`] before the start to [`API_PS_MATCH_AFTER_MS`]
/// after it.
fn in_match_window(listed_ms: u64, start: u64) -> bool {
    listed_ms + API_PS_MATCH_BEFORE_MS >= start && listed_ms <= start + API_PS_MATCH_AFTER_MS
}

fn peak_in_opt(p: Option<&ProcessTimeline>, start: u64, end: u64) -> Option<u64> {
    p.and_then(|p| peak_in(p, start, end))
}

/// Successful polls as [`model_changes::Poll`]s.
fn successful_polls(tl: &Timeline) -> Vec<model_changes::Poll> {
    let mut by_poll: BTreeMap<(u64, &str), Vec<(String, u64)>> = BTreeMap::new();
    for p in tl.polls.iter().filter(|p| p.outcome.is_ok()) {
        by_poll.entry((p.t_ms, p.time_utc.as_str())).or_default();
    }
    for m in &tl.models {
        if let Some(v) = by_poll.get_mut(&(m.t_ms, m.time_utc.as_str())) {
            v.push((m.name.clone(), m.size_bytes));
        }
    }
    by_poll
        .into_iter()
        .map(|((t_ms, _), models)| model_changes::Poll { t_ms, models })
        .collect()
}

/// How much of a model's `/api/ps` size a runner must hold (its peak RSS or footprint,
/// whichever is larger: mapped weights show in RSS) to be credited with it by timing: a
/// quarter. A process holding 5 % of a model is not the one that loaded it.
pub const API_PS_MIN_PLAUSIBLE_FRACTION: f64 = 0.25;

/// Whether a runner holding `held_bytes` could be the one that loaded a model of
/// `size_bytes` ([`API_PS_MIN_PLAUSIBLE_FRACTION`]): the one rule of the report's and the live
/// view's naming from `/api/ps`.
pub fn plausibly_holds(held_bytes: u64, size_bytes: u64) -> bool {
    held_bytes as f64 >= size_bytes as f64 * API_PS_MIN_PLAUSIBLE_FRACTION
}

/// What a runner held at most, for [`plausibly_holds`]: its peak RSS or footprint, whichever
/// is larger (mapped weights show in RSS).
fn held(p: &ProcessReport) -> u64 {
    p.peak_footprint_bytes.max(p.peak_rss_bytes).unwrap_or(0)
}

/// How many hex digits of a blob's digest name a runner that no manifest names.
pub const DIGEST_NAME_HEX: usize = 12;

/// Decides, for each `llama-server`, whether Ollama started it: its binary is Ollama's, or an
/// Ollama process (serve or the app) is among its ancestors in the trace. One that is not is
/// another engine (`llama.cpp server`: LM Studio's, llama.cpp's own).
fn mark_other_engines(tl: &Timeline, procs: &mut [ProcessReport]) {
    let parent: BTreeMap<u32, u32> = tl
        .processes
        .iter()
        .map(|t| (t.identity.pid, t.identity.ppid))
        .collect();
    let ollama: BTreeSet<u32> = procs
        .iter()
        .filter(|p| matches!(p.role, Role::Serve | Role::App))
        .map(|p| p.pid)
        .collect();
    let under = |pid: u32| {
        let mut at = pid;
        // Bounded: a process table has no cycles, but a broken trace may.
        for _ in 0..64 {
            match parent.get(&at) {
                Some(&pp) if ollama.contains(&pp) => return true,
                Some(&pp) if pp > 1 && pp != at => at = pp,
                _ => return false,
            }
        }
        false
    };
    for p in procs.iter_mut() {
        let pid = p.pid;
        if let Role::Runner {
            engine,
            under_ollama,
            ..
        } = &mut p.role
        {
            if *engine == Engine::LlamaServer && !*under_ollama {
                if under(pid) {
                    *under_ollama = true;
                } else {
                    *engine = Engine::LlamaCppServer;
                }
            }
        }
    }
}

/// Names each model runner: from its argv (MLX, and a model file's name for engines other
/// than Ollama's), from the manifests resolved while recording, from `/api/ps` on evidence,
/// or else by its blob's digest.
///
/// The join with `/api/ps` credits a model to a runner only when the runner is Ollama's, was
/// not already running when recording began, started within [`API_PS_MATCH_BEFORE_MS`] before
/// to [`API_PS_MATCH_AFTER_MS`] after the model first appeared, and holds at least
/// [`API_PS_MIN_PLAUSIBLE_FRACTION`] of its size; of several candidates the closest in time,
/// then in size, wins, and a model is credited once.
fn name_runners(tl: &Timeline, procs: &mut [ProcessReport], loads: &[model_changes::Change]) {
    let trace_start = tl.system.first().map(|r| r.t_ms);
    for (p, timeline) in procs.iter_mut().zip(&tl.processes) {
        if let Role::Runner {
            engine,
            model_arg,
            under_ollama,
        } = &p.role
        {
            // A `--model` that is not a path is the model's name (MLX and image runners;
            // also any runner started with a name).
            let is_path = model_arg.starts_with('/')
                || model_arg.contains('\\')
                || crate::manifests::blob_digest(model_arg).is_some();
            if engine.names_its_model() || !is_path {
                p.model = Some(model_arg.clone());
                p.name_source = NameSource::Argv;
            } else if !timeline.identity.models.is_empty() {
                // Several names for one blob are aliases (`ollama cp`): the one Ollama listed
                // while the runner lived is its name in every output, the others are kept.
                let names: Vec<&str> = timeline
                    .identity
                    .models
                    .iter()
                    .map(String::as_str)
                    .collect();
                let (first, last) = (p.first_ms.unwrap_or(0), p.last_ms.unwrap_or(0));
                let listed = tl
                    .models
                    .iter()
                    .filter(|m| {
                        m.t_ms + API_PS_MATCH_BEFORE_MS >= first
                            && m.t_ms <= last + API_PS_MATCH_BEFORE_MS
                    })
                    .find(|m| names.contains(&m.name.as_str()))
                    .map(|m| m.name.as_str());
                let chosen = listed.or(names.first().copied()).unwrap_or_default();
                p.model = Some(chosen.to_owned());
                p.aliases = names
                    .iter()
                    .filter(|n| **n != chosen)
                    .map(|n| (*n).to_owned())
                    .collect();
                p.name_source = NameSource::Manifest;
            } else if !*under_ollama && crate::manifests::blob_digest(model_arg).is_none() {
                // Another engine's model file: its name is the best name there is.
                let file = model_arg.rsplit(['/', '\\']).next().unwrap_or(model_arg);
                p.model = Some(file.to_owned());
                p.name_source = NameSource::Argv;
            }
        }
    }
    let mut claimed: BTreeSet<String> = procs.iter().filter_map(|p| p.model.clone()).collect();
    let mut order: Vec<usize> = (0..procs.len())
        .filter(|&i| {
            matches!(procs[i].role, Role::Runner { under_ollama: true, .. })
                && procs[i].model.is_none()
                // One already running when recording began has no start to match a load to.
                && procs[i].first_ms.is_some_and(|f| Some(f) > trace_start)
        })
        .collect();
    order.sort_by_key(|&i| procs[i].first_ms);
    for i in order {
        let Some(start) = procs[i].first_ms else {
            continue;
        };
        let held = held(&procs[i]);
        let best = loads
            .iter()
            .filter_map(model_changes::Change::load)
            .filter(|l| {
                !l.before_recording
                    && !claimed.contains(l.name)
                    && in_match_window(l.t_ms, start)
                    && plausibly_holds(held, l.size_bytes)
            })
            .map(|l| (l.t_ms.abs_diff(start), l.size_bytes.abs_diff(held), l.name))
            .min();
        if let Some((_, _, name)) = best {
            procs[i].model = Some(name.to_owned());
            procs[i].name_source = NameSource::ApiPs;
            claimed.insert(name.to_owned());
        }
    }
    // A runner alive from the first sample has no start to match a load to; it is named by
    // elimination, when Ollama's first listing holds exactly one model nothing else claims
    // and it is the only unnamed runner of Ollama's then, holding a plausible share of it.
    let at_start = || {
        loads
            .iter()
            .filter_map(model_changes::Change::load)
            .filter(|l| l.before_recording)
    };
    if let Some(first_poll) = at_start().next().map(|l| l.t_ms) {
        let listed: Vec<(&str, u64)> = at_start()
            .filter(|l| l.t_ms == first_poll)
            .map(|l| (l.name, l.size_bytes))
            .collect();
        let unnamed: Vec<usize> = (0..procs.len())
            .filter(|&i| {
                matches!(
                    procs[i].role,
                    Role::Runner {
                        under_ollama: true,
                        ..
                    }
                ) && procs[i].model.is_none()
                    && procs[i].first_ms.is_some_and(|f| Some(f) <= trace_start)
            })
            .collect();
        if let ([(name, size)], [i]) = (listed.as_slice(), unnamed.as_slice()) {
            if plausibly_holds(held(&procs[*i]), *size) && !claimed.contains(*name) {
                procs[*i].model = Some((*name).to_owned());
                procs[*i].name_source = NameSource::ApiPsOnlyOne;
            }
        }
    }
    // What is still unnamed but has a blob: its digest.
    for p in procs.iter_mut().filter(|p| p.model.is_none()) {
        if let Role::Runner { model_arg, .. } = &p.role {
            if let Some(hex) = crate::manifests::blob_digest(model_arg) {
                p.model = Some(format!("sha256:{}…", &hex[..DIGEST_NAME_HEX]));
                p.name_source = NameSource::Digest;
            }
        }
    }
}

/// What the machine's memory never used in a trace: sampled, and zero at every sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unused {
    /// Swap (none configured, or none needed).
    Swap,
    /// The compressor (macOS) or zswap (Linux).
    Compressor,
}

/// The value of `points` that `beats` every other, and when it came first: the extreme of a
/// series read as it comes ([`crate::timeline::Series::max`] and `min` without the series).
fn first_extreme(
    points: impl Iterator<Item = (u64, Option<f64>)>,
    beats: impl Fn(f64, f64) -> bool,
) -> Option<(u64, f64)> {
    points
        .filter_map(|(t, v)| Some((t, v?)))
        .fold(None, |best, (t, v)| match best {
            Some((_, b)) if !beats(v, b) => best,
            _ => Some((t, v)),
        })
}

/// The stores `tl` sampled that held nothing throughout.
pub fn unused(tl: &Timeline) -> Vec<Unused> {
    let never = |f: fn(&SystemPoint) -> Option<u64>| {
        let mut seen = tl.system.iter().filter_map(f).peekable();
        seen.peek().is_some() && seen.all(|v| v == 0)
    };
    let mut v = Vec::new();
    if never(|r| r.swap_used_bytes.get()) {
        v.push(Unused::Swap);
    }
    if never(|r| r.compressor_bytes.get()) {
        v.push(Unused::Compressor);
    }
    v
}

/// Runs every detector over the timeline.
pub fn analyze(tl: &Timeline, opts: &Options) -> Analysis {
    let unused = unused(tl);
    // Each process's highest memory and when it came first, for its peak event.
    let mut peaks: Vec<Option<(u64, u64)>> = Vec::with_capacity(tl.processes.len());
    let mut procs: Vec<ProcessReport> = tl
        .processes
        .iter()
        .map(|p| {
            let argv = &p.identity.argv;
            let span = p.span();
            let summary = p.summary();
            let peak = summary.peak_memory;
            peaks.push(peak);
            ProcessReport {
                pid: p.identity.pid,
                start_time_us: p.identity.start_time_us,
                role: runner::classify(&p.identity.name, argv),
                name: p.identity.name.clone(),
                command: argv.join(" "),
                model: None,
                name_source: NameSource::Unknown,
                aliases: Vec::new(),
                first_utc: span.map(|s| utc(tl, s.0)),
                last_utc: span.map(|s| utc(tl, s.1)),
                first_ms: span.map(|s| s.0),
                last_ms: span.map(|s| s.1),
                exited: p.identity.exited,
                peak_bytes: peak.map(|(_, v)| v),
                peak_footprint_bytes: summary.max_footprint_bytes,
                peak_rss_bytes: summary.max_rss_bytes,
                peak_weights_bytes: summary.max_weights_bytes,
                last_bytes: p.last_memory(),
                last_footprint_bytes: p
                    .rows
                    .last()
                    .map(|r| r.footprint_bytes.unwrap_or(r.rss_bytes)),
                metric: summary.measure,
                ollama_size_bytes: None,
            }
        })
        .collect();

    let polls = successful_polls(tl);
    let changes = model_changes::changes(&polls);
    mark_other_engines(tl, &mut procs);
    name_runners(tl, &mut procs, &changes);
    for p in procs.iter_mut() {
        let (Some(model), Some(first), Some(last)) = (&p.model, p.first_ms, p.last_ms) else {
            continue;
        };
        let names: Vec<&str> = std::iter::once(model.as_str())
            .chain(p.aliases.iter().map(String::as_str))
            .collect();
        p.ollama_size_bytes = tl
            .models
            .iter()
            .filter(|m| names.contains(&m.name.as_str()))
            .filter(|m| {
                m.t_ms + API_PS_MATCH_BEFORE_MS >= first && m.t_ms <= last + API_PS_MATCH_BEFORE_MS
            })
            .map(|m| m.size_bytes)
            .max();
    }

    let mut events = Vec::new();
    let mut push = |t_ms: u64, end_ms: Option<u64>, kind: EventKind| {
        events.push(Event {
            t_ms,
            time_utc: utc(tl, t_ms),
            end_ms,
            end_utc: end_ms.map(|e| utc(tl, e)),
            kind,
        })
    };
    let runner_ref = |p: &ProcessReport, peak: Option<u64>| RunnerRef {
        pid: p.pid,
        model: p.model.clone(),
        peak_bytes: peak,
        peak_metric: p.metric,
    };

    // Runner starts and exits, and each runner's size against Ollama's.
    let apple_silicon = tl.meta.os == Os::Macos && tl.meta.arch == "aarch64";
    for p in procs.iter().filter(|p| p.role.is_model_runner()) {
        let (Some(first), Some(last)) = (p.first_ms, p.last_ms) else {
            continue;
        };
        // Alive at the trace's first sample: already running when recording began.
        let before_recording = match tl.system.first() {
            Some(s) => first <= s.t_ms,
            None => tl
                .processes
                .iter()
                .all(|t| t.rows.first().is_none_or(|r| r.t_ms >= first)),
        };
        let identity = tl
            .processes
            .iter()
            .find(|t| t.identity.pid == p.pid && t.identity.start_time_us == p.start_time_us)
            .map(|t| &t.identity);
        push(
            first,
            None,
            EventKind::RunnerStart {
                runner: runner_ref(p, None),
                before_recording,
                started_utc: identity
                    .map(|i| i.start_utc.clone())
                    .filter(|s| !s.is_empty()),
            },
        );
        if p.exited {
            push(
                last,
                None,
                EventKind::RunnerExit {
                    runner: runner_ref(p, p.peak_bytes),
                    last_footprint_bytes: p.last_footprint_bytes,
                    last_bytes: p.last_bytes,
                },
            );
        }
        let timeline = tl
            .processes
            .iter()
            .find(|t| t.identity.pid == p.pid && t.identity.start_time_us == p.start_time_us);
        // The samples with a footprint, read again where needed rather than kept.
        let samples = || {
            timeline
                .into_iter()
                .flat_map(|t| t.rows.iter())
                .filter_map(|r| {
                    Some(mapped::Sample {
                        t_ms: r.t_ms,
                        rss_bytes: r.rss_bytes,
                        footprint_bytes: r.footprint_bytes?,
                        rss_file_bytes: r.rss_file_bytes,
                        weights_bytes: r.weights_resident_bytes,
                    })
                })
        };
        // Its model memory over time, and its sample of largest RSS, in one pass.
        let mut memory: Vec<(u64, u64)> = Vec::new();
        let biggest = mapped::mapped(samples().inspect(|s| {
            memory.push((s.t_ms, s.footprint_bytes + s.weights_bytes.unwrap_or(0)));
        }));
        // Where Ollama listed the runner's model, its load ended there: only what came after
        // is its own growth (a load that paused is not). Without a listing, the settle rule
        // alone tells the load from what follows.
        let names: Vec<&str> = p.model.as_deref().map_or(Vec::new(), |m| {
            std::iter::once(m)
                .chain(p.aliases.iter().map(String::as_str))
                .collect()
        });
        let listed_at = listed_at(&changes, &names, first);
        let grew = match listed_at {
            Some(l) => runner_growth::growth_after_listing(&memory, l),
            None => runner_growth::growth(&memory),
        };
        if let Some(g) = grew {
            push(
                g.start_ms,
                Some(g.end_ms),
                EventKind::RunnerGrowth {
                    runner: runner_ref(p, Some(g.to)),
                    from_bytes: g.from,
                    to_bytes: g.to,
                    after_listing: listed_at.is_some(),
                },
            );
        }
        // Ollama's plan for its load, from its log.
        if let Some(plan) = crate::ollama_log::port_of(&p.command).and_then(|port| {
            crate::ollama_log::plan(
                &tl.ollama_log,
                port,
                first.saturating_sub(crate::ollama_log::PLAN_WINDOW_MS),
                last,
            )
        }) {
            let swap_at = |t: u64| {
                tl.system_between(0, t)
                    .last()
                    .and_then(|r| r.swap_used_bytes.get())
            };
            let until = tl
                .system
                .last()
                .map_or(plan.start_ms, |r| r.t_ms)
                .min(plan.start_ms + OLLAMA_PLAN_AFTER_MS);
            let swap_growth_bytes = swap_at(plan.start_ms).map(|before| {
                tl.system_between(plan.start_ms.saturating_add(1), until)
                    .iter()
                    .filter_map(|r| r.swap_used_bytes.get())
                    .max()
                    .map_or(0, |m| m.saturating_sub(before))
            });
            let swap_after_ms = until.saturating_sub(plan.start_ms);
            push(
                plan.start_ms,
                None,
                EventKind::OllamaPlan {
                    runner: runner_ref(p, p.peak_bytes),
                    plan,
                    swap_growth_bytes,
                    swap_after_ms,
                },
            );
        }
        // Apple Silicon: the wired step of its load, its weights made resident for the GPU.
        let mut wired_rise = None;
        if apple_silicon && !before_recording {
            let listed = listed_at.map(|t| t + wired_step::WIRED_STEP_AFTER_LISTING_MS);
            // Another runner's start ends the window: what follows may be its load.
            let next_start = procs
                .iter()
                .filter(|o| o.role.is_model_runner())
                .filter_map(|o| o.first_ms)
                .filter(|&f| f > first)
                .min()
                .map(|f| f - 1);
            let end = [
                Some(last),
                Some(first + wired_step::WIRED_STEP_WINDOW_MS),
                listed,
                next_start,
            ]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(last);
            // Wired memory from its last sample at the start to the window's end: what the
            // step is read from, not a week of it.
            let before = tl
                .system_between(0, first)
                .iter()
                .rev()
                .find_map(|r| Some((r.t_ms, r.wired_bytes.get()?)));
            let wired: Vec<(u64, u64)> = before
                .into_iter()
                .chain(
                    tl.system_between(first.saturating_add(1), end)
                        .iter()
                        .filter_map(|r| Some((r.t_ms, r.wired_bytes.get()?))),
                )
                .collect();
            if let Some(step) = wired_step::step(&wired, first, end) {
                wired_rise = Some(step.to_bytes - step.from_bytes);
                let weights = timeline.and_then(|t| {
                    t.rows
                        .iter()
                        .filter(|r| r.t_ms <= end)
                        .filter_map(|r| r.weights_resident_bytes)
                        .max()
                });
                push(
                    first,
                    Some(step.at_ms),
                    EventKind::WiredStep {
                        runner: runner_ref(p, peak_in_opt(timeline, first, end)),
                        from_bytes: step.from_bytes,
                        to_bytes: step.to_bytes,
                        weights_bytes: weights,
                    },
                );
            }
        }
        if let Some(m) = biggest {
            push(
                m.t_ms,
                None,
                EventKind::MappedFiles {
                    runner: runner_ref(p, Some(m.footprint_bytes + m.weights_bytes.unwrap_or(0))),
                    rss_bytes: m.rss_bytes,
                    footprint_bytes: m.footprint_bytes,
                    rss_file_bytes: m.rss_file_bytes,
                    weights_bytes: m.weights_bytes,
                    held: mapped::Held::from_wired_rise(
                        wired_rise,
                        m.weights_bytes
                            .unwrap_or(m.rss_bytes.saturating_sub(m.footprint_bytes)),
                    ),
                },
            );
        }
        if let (Some(size), Some(fp)) = (p.ollama_size_bytes, p.peak_bytes) {
            if let Some(ratio) = divergence::diverges(size, fp) {
                // Told once Ollama had a size to compare: at its listing of the model.
                let at = listed_at.unwrap_or(first).clamp(first, last);
                push(
                    at,
                    Some(last),
                    EventKind::SizeDivergence {
                        runner: runner_ref(p, Some(fp)),
                        ollama_size_bytes: size,
                        ratio,
                    },
                );
            }
        }
    }

    // Ollama stopped answering and did not answer again: a model its last answer listed is
    // unloaded when its runner exits.
    let ok = |p: &&memtide_trace::PollRow| p.outcome.is_ok();
    if let (Some(last_ok), Some(first_failed)) = (
        tl.polls.iter().rev().find(ok).map(|p| p.t_ms),
        tl.polls
            .iter()
            .rev()
            .take_while(|p| !ok(p))
            .last()
            .map(|p| p.t_ms),
    ) {
        let listed: Vec<&memtide_trace::ModelRow> =
            tl.models.iter().filter(|m| m.t_ms == last_ok).collect();
        let mut exited: Vec<(String, u64, u64)> = Vec::new();
        for m in &listed {
            let runner = procs.iter().find(|p| {
                p.exited
                    && p.last_ms
                        .is_some_and(|l| l + API_PS_MATCH_BEFORE_MS >= first_failed)
                    && p.model
                        .as_deref()
                        .is_some_and(|n| n == m.name || p.aliases.contains(&m.name))
            });
            if let Some(r) = runner.and_then(|r| r.last_ms) {
                exited.push((m.name.clone(), m.size_bytes, r));
            }
        }
        if !exited.is_empty() {
            push(
                first_failed,
                None,
                EventKind::OllamaStopped {
                    models: listed.iter().map(|m| m.name.clone()).collect(),
                    runners_exited_ms: exited.iter().map(|e| e.2).max(),
                },
            );
            for (name, size, at) in exited {
                push(
                    at,
                    None,
                    EventKind::ModelUnload {
                        name,
                        last_size_bytes: size,
                    },
                );
            }
        }
    }

    for c in &changes {
        match c {
            model_changes::Change::Load {
                t_ms,
                name,
                size_bytes,
                before_recording,
            } => {
                let vram = tl
                    .models
                    .iter()
                    .find(|m| m.t_ms == *t_ms && &m.name == name)
                    .and_then(|m| m.size_vram_bytes);
                push(
                    *t_ms,
                    None,
                    EventKind::ModelLoad {
                        model: ListedModel {
                            name: name.clone(),
                            size_bytes: *size_bytes,
                            size_vram_bytes: vram,
                        },
                        before_recording: *before_recording,
                    },
                )
            }
            model_changes::Change::Unload {
                t_ms,
                name,
                last_size_bytes,
            } => push(
                *t_ms,
                None,
                EventKind::ModelUnload {
                    name: name.clone(),
                    last_size_bytes: *last_size_bytes,
                },
            ),
        }
    }

    for r in tl
        .ollama_log
        .iter()
        .filter(|r| r.event == memtide_trace::LogEvent::RuntimeOom)
    {
        push(
            r.t_ms,
            None,
            EventKind::OllamaOom {
                model: r.detail.clone(),
            },
        );
    }

    // Overlaps of Ollama's runners (of every runner where none is Ollama's: another engine's
    // user overlaps their own servers); other servers alive meanwhile are named, not counted.
    let ollamas = |i: usize| {
        matches!(
            procs[i].role,
            Role::Runner {
                under_ollama: true,
                ..
            }
        )
    };
    let any_ollama = (0..procs.len()).any(|i| ollamas(i) && procs[i].first_ms.is_some());
    let counted = |i: usize| {
        procs[i].role.is_model_runner()
            && procs[i].first_ms.is_some()
            && (ollamas(i) || !any_ollama)
    };
    let runners: Vec<usize> = (0..procs.len()).filter(|&i| counted(i)).collect();
    let others: Vec<usize> = (0..procs.len())
        .filter(|&i| procs[i].role.is_model_runner() && procs[i].first_ms.is_some() && !counted(i))
        .collect();
    let lives: Vec<overlap::Life> = runners
        .iter()
        .map(|&i| overlap::Life {
            start_ms: procs[i].first_ms.unwrap_or(0),
            end_ms: procs[i].last_ms.unwrap_or(0),
        })
        .collect();
    for o in overlap::overlaps(&lives) {
        let worst = worst_moment(tl, o.start_ms, o.end_ms, &unused);
        let listed = listed_near(tl, worst.as_ref().map_or(o.start_ms, |w| w.t_ms));
        push(
            o.start_ms,
            Some(o.end_ms),
            EventKind::Overlap {
                runners: o
                    .members
                    .iter()
                    .map(|&m| {
                        let i = runners[m];
                        runner_ref(&procs[i], peak_in(&tl.processes[i], o.start_ms, o.end_ms))
                    })
                    .collect(),
                max_alive: o.max_alive,
                levels: o
                    .levels
                    .iter()
                    .map(|l| OverlapLevel {
                        start_ms: l.start_ms,
                        end_ms: l.end_ms,
                        alive: l.alive,
                    })
                    .collect(),
                worst,
                ollama_models: listed,
                from_start: tl.system.first().is_some_and(|s| o.start_ms <= s.t_ms),
                other_servers: others
                    .iter()
                    .filter(|&&i| {
                        procs[i].first_ms.unwrap_or(0) <= o.end_ms
                            && procs[i].last_ms.unwrap_or(0) >= o.start_ms
                    })
                    .map(|&i| {
                        runner_ref(&procs[i], peak_in(&tl.processes[i], o.start_ms, o.end_ms))
                    })
                    .collect(),
            },
        );
    }

    // System: low memory, pressure, growth, peaks.
    // The system's series are read as their points come, never held (a week's takes 15 MB).
    let free_min = first_extreme(
        tl.system.iter().map(|r| (r.t_ms, r.free_percent.get())),
        |a, b| a < b,
    );
    for i in low_memory::intervals(
        tl.system_points(|r| r.free_percent.get()),
        opts.low_free_percent,
    ) {
        let worst = tl
            .system_between(i.min_at_ms, i.min_at_ms)
            .first()
            .map(|r| moment(r, &unused));
        push(
            i.start_ms,
            Some(i.end_ms),
            EventKind::LowMemory {
                threshold_percent: opts.low_free_percent,
                worst,
            },
        );
    }
    for i in pressure::intervals(tl.system.iter().map(|r| (r.t_ms, r.pressure))) {
        push(
            i.start_ms,
            Some(i.end_ms),
            EventKind::Pressure { worst: i.worst },
        );
    }
    // The kernel's own notifications, each at the moment it came.
    for n in &tl.pressure {
        push(
            n.t_ms,
            None,
            EventKind::PressureNotification {
                source: n.source,
                level: n.level,
                detail: n.detail.clone(),
            },
        );
    }
    // The command `memtide run` ran, from its start to its exit.
    if let Some(c) = &tl.meta.command {
        push(
            c.start_t_ms,
            c.exit_t_ms,
            EventKind::CommandStart {
                argv: c.argv.clone(),
                pid: c.pid,
            },
        );
        if let Some(end) = c.exit_t_ms {
            push(
                end,
                None,
                EventKind::CommandExit {
                    pid: c.pid,
                    exit_code: c.exit_code,
                    signal: c.signal,
                    ran_ms: end.saturating_sub(c.start_t_ms),
                },
            );
        }
    }
    let bytes =
        |f: fn(&SystemPoint) -> Option<u64>| tl.system_points(move |r| f(r).map(|v| v as f64));
    let highest = |f: fn(&SystemPoint) -> Option<u64>| {
        first_extreme(
            tl.system.iter().map(|r| (r.t_ms, f(r).map(|v| v as f64))),
            |a, b| a > b,
        )
    };
    let swap_max = highest(|r| r.swap_used_bytes.get());
    for g in growth::episodes(
        bytes(|r| r.swap_used_bytes.get()),
        growth::SWAP_GROWTH_MIN_BYTES,
    ) {
        push(
            g.start_ms,
            Some(g.end_ms),
            EventKind::SwapGrowth {
                from_bytes: g.from as u64,
                to_bytes: g.to as u64,
            },
        );
    }
    let comp_max = highest(|r| r.compressor_bytes.get());
    for g in growth::episodes(
        bytes(|r| r.compressor_bytes.get()),
        growth::COMPRESSOR_GROWTH_MIN_BYTES,
    ) {
        push(
            g.start_ms,
            Some(g.end_ms),
            EventKind::CompressorGrowth {
                from_bytes: g.from as u64,
                to_bytes: g.to as u64,
            },
        );
    }
    let wired_max = highest(|r| r.wired_bytes.get());
    let peak = |series: PeakSeries, found: Option<(u64, f64)>| {
        found.map(|(t, v)| {
            (
                t,
                EventKind::Peak {
                    series,
                    pid: None,
                    model: None,
                    value: v,
                },
            )
        })
    };
    let system_peaks = [
        peak(PeakSeries::FreePercent, free_min),
        peak(PeakSeries::WiredBytes, wired_max),
        // A store that held nothing throughout has no peak to tell (the report says once that
        // it stayed empty: [`unused`]).
        peak(
            PeakSeries::CompressorBytes,
            comp_max.filter(|(_, v)| *v > 0.0),
        ),
        peak(
            PeakSeries::SwapUsedBytes,
            swap_max.filter(|(_, v)| *v > 0.0),
        ),
    ];
    for (t, kind) in system_peaks.into_iter().flatten() {
        push(t, None, kind);
    }
    for (p, peak) in procs.iter().zip(&peaks) {
        if let Some((t, v)) = peak.map(|(t, v)| (t, v as f64)) {
            push(
                t,
                None,
                EventKind::Peak {
                    series: PeakSeries::of(p.metric),
                    pid: Some(p.pid),
                    model: p.model.clone(),
                    value: v,
                },
            );
        }
    }

    events.sort_by_key(|e| e.t_ms);
    Analysis {
        processes: procs,
        events,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::{ProcessTimeline, Sample, SystemPoint};
    use memtide_trace::PollOutcome;
    use memtide_trace::{IdentityRow, Meta, ModelRow, PollRow};

    const GIB: u64 = 1 << 30;

    fn meta() -> Meta {
        serde_json::from_str(
            r#"{"format_version":1,"memtide_version":"t","os":"linux","os_version":null,
                "arch":"x86_64","total_memory_bytes":68719476736,"page_size_bytes":4096,
                "interval_ms":1000,"selection":{"ollama_default":true,"patterns":[],"pids":[],
                "children_of":null,"all":false},"start_utc":"2026-05-14T09:25:00.000Z",
                "end_utc":null,"samples":null,"missed_ticks":null,"ollama":null}"#,
        )
        .unwrap()
    }

    /// A runner of blob `hex` (no manifest names it) sampled every second over `span` (s),
    /// holding `bytes`.
    fn runner(pid: u32, hex: char, span: std::ops::Range<u64>, bytes: u64) -> ProcessTimeline {
        let argv = vec![
            "/usr/bin/ollama".to_owned(),
            "runner".into(),
            "--model".into(),
            format!("/m/blobs/sha256-{}", hex.to_string().repeat(64)),
            "--port".into(),
            "1".into(),
        ];
        ProcessTimeline {
            identity: IdentityRow {
                pid,
                start_time_us: u64::from(pid),
                argv,
                ..IdentityRow::default()
            },
            rows: span
                .map(|s| Sample {
                    t_ms: s * 1000,
                    rss_bytes: bytes,
                    footprint_bytes: Some(bytes),
                    rss_file_bytes: None,
                    weights_resident_bytes: None,
                })
                .collect(),
        }
    }

    fn timeline(processes: Vec<ProcessTimeline>, loads: &[(&str, u64)]) -> Timeline {
        let poll = |t_ms| PollRow {
            t_ms,
            outcome: PollOutcome::Ok,
            ..PollRow::default()
        };
        Timeline {
            dir: "t".into(),
            meta: meta(),
            system: (0..20)
                .map(|s| SystemPoint {
                    t_ms: s * 1000,
                    ..SystemPoint::default()
                })
                .collect(),
            processes,
            polls: vec![poll(0), poll(7000)],
            models: loads
                .iter()
                .map(|(name, size)| ModelRow {
                    t_ms: 7000,
                    name: (*name).into(),
                    size_bytes: *size,
                    ..ModelRow::default()
                })
                .collect(),
            pressure: Vec::new(),
            ollama_log: Vec::new(),
            warnings: Vec::new(),
            system_step_ms: 1000,
        }
    }

    fn named(tl: &Timeline) -> Vec<(u32, Option<String>, NameSource)> {
        analyze(tl, &Options::default())
            .processes
            .into_iter()
            .map(|p| (p.pid, p.model, p.name_source))
            .collect()
    }

    #[test]
    fn two_loads_at_once_go_to_the_runners_whose_size_they_fit() {
        let tl = timeline(
            vec![
                runner(10, 'a', 5..15, 3 * GIB),
                runner(11, 'b', 5..15, 5 * GIB),
            ],
            &[
                ("small:3b", 3 * GIB + GIB / 10),
                ("big:8b", 5 * GIB + GIB / 10),
            ],
        );
        assert_eq!(
            named(&tl),
            [
                (10, Some("small:3b".into()), NameSource::ApiPs),
                (11, Some("big:8b".into()), NameSource::ApiPs)
            ]
        );
    }

    #[test]
    fn timing_alone_never_credits_a_runner_that_was_there_before_or_holds_too_little() {
        let tl = timeline(
            vec![
                // Already running when recording began.
                runner(20, 'c', 0..15, 3 * GIB),
                // Started with the load, but holding 5 % of the model.
                runner(21, 'd', 5..15, GIB / 20),
            ],
            &[("llama3.2:3b", GIB)],
        );
        assert_eq!(
            named(&tl),
            [
                (20, Some("sha256:cccccccccccc…".into()), NameSource::Digest),
                (21, Some("sha256:dddddddddddd…".into()), NameSource::Digest)
            ]
        );
    }

    /// A runner that maps a 1.9 GiB model: footprint 300 MiB, the weights paged in over its
    /// first three seconds; system wired memory steps up by the weights as they are read.
    fn mapped_load(os: &str, arch: &str, wires: bool) -> Timeline {
        const MIB: u64 = 1 << 20;
        let mut r = runner(30, 'e', 5..15, 300 * MIB);
        let weights = |t: u64| (t.saturating_sub(5) * 650 * MIB).min(1900 * MIB);
        r.rows = (5..15)
            .map(|s| Sample {
                t_ms: s * 1000,
                rss_bytes: 300 * MIB + weights(s),
                footprint_bytes: Some(300 * MIB),
                rss_file_bytes: None,
                weights_resident_bytes: Some(weights(s)),
            })
            .collect();
        let mut tl = timeline(vec![r], &[("gemma3:4b", 2300 * MIB)]);
        tl.meta.os = os.into();
        tl.meta.arch = arch.into();
        for p in &mut tl.system {
            p.wired_bytes = Some(3 * GIB + if wires { weights(p.t_ms / 1000) } else { 0 }).into();
        }
        tl
    }

    #[test]
    fn a_mapped_runners_memory_is_its_footprint_plus_its_weights_everywhere() {
        const MIB: u64 = 1 << 20;
        let a = analyze(&mapped_load("macos", "aarch64", true), &Options::default());
        let p = &a.processes[0];
        assert_eq!(p.metric, Measure::ModelMemory);
        assert_eq!(p.peak_bytes, Some(2200 * MIB));
        assert_eq!(p.peak_footprint_bytes, Some(300 * MIB));
        assert_eq!(p.peak_weights_bytes, Some(1900 * MIB));
        assert_eq!(p.last_bytes, Some(2200 * MIB));
        // Ollama's 2.25 GiB against model memory: no divergence (against the footprint alone
        // it would be 7.7×).
        assert!(!a
            .events
            .iter()
            .any(|e| matches!(e.kind, EventKind::SizeDivergence { .. })));
        let peak = a.events.iter().find_map(|e| match &e.kind {
            EventKind::Peak {
                series,
                pid: Some(30),
                value,
                ..
            } => Some((*series, *value)),
            _ => None,
        });
        assert_eq!(
            peak,
            Some((PeakSeries::ModelMemoryBytes, (2200 * MIB) as f64))
        );
    }

    #[test]
    fn on_apple_silicon_the_wired_step_of_a_load_goes_to_its_runner() {
        const MIB: u64 = 1 << 20;
        let a = analyze(&mapped_load("macos", "aarch64", true), &Options::default());
        let step = a.events.iter().find_map(|e| match &e.kind {
            EventKind::WiredStep {
                runner,
                from_bytes,
                to_bytes,
                weights_bytes,
            } => Some((runner.pid, *from_bytes, *to_bytes, *weights_bytes, e.t_ms)),
            _ => None,
        });
        assert_eq!(
            step,
            Some((30, 3 * GIB, 3 * GIB + 1900 * MIB, Some(1900 * MIB), 5000))
        );
        let held = a.events.iter().find_map(|e| match &e.kind {
            EventKind::MappedFiles {
                held,
                weights_bytes,
                ..
            } => Some((*held, *weights_bytes)),
            _ => None,
        });
        assert_eq!(held, Some((mapped::Held::GpuWired, Some(1900 * MIB))));
    }

    fn has_wired_step(a: &Analysis) -> bool {
        a.events
            .iter()
            .any(|e| matches!(e.kind, EventKind::WiredStep { .. }))
    }

    fn held(a: &Analysis) -> Option<mapped::Held> {
        a.events.iter().find_map(|e| match &e.kind {
            EventKind::MappedFiles { held, .. } => Some(*held),
            _ => None,
        })
    }

    #[test]
    fn on_linux_no_wired_step_and_the_mapped_weights_are_page_cache() {
        let a = analyze(&mapped_load("linux", "x86_64", true), &Options::default());
        assert!(!has_wired_step(&a));
        assert_eq!(held(&a), Some(mapped::Held::PageCache));
        // An Intel Mac's runners run on the CPU: page cache too.
        let a = analyze(&mapped_load("macos", "x86_64", true), &Options::default());
        assert!(!has_wired_step(&a));
    }

    #[test]
    fn on_apple_silicon_a_load_that_wires_nothing_is_page_cache() {
        // A runner on the CPU (or a stand-in) maps its file; wired memory does not move.
        let a = analyze(&mapped_load("macos", "aarch64", false), &Options::default());
        assert!(!has_wired_step(&a));
        assert_eq!(held(&a), Some(mapped::Held::PageCache));
    }

    /// A `llama-server` that no Ollama started, sampled every second over `span` (s).
    fn other_server(pid: u32, span: std::ops::Range<u64>, bytes: u64) -> ProcessTimeline {
        let argv = [
            "/opt/llama.cpp/llama-server",
            "--model",
            "/models/tiny.gguf",
            "--port",
            "9",
        ];
        let mut p = runner(pid, 'f', span, bytes);
        p.identity.argv = argv.map(str::to_owned).to_vec();
        p.identity.name = "llama-server".into();
        p
    }

    /// Each overlap: its runners' PIDs, the most alive at once, the other engines' servers
    /// named beside it, and when it began.
    fn overlaps(a: &Analysis) -> Vec<(Vec<u32>, usize, Vec<u32>, u64)> {
        a.events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Overlap {
                    runners,
                    max_alive,
                    other_servers,
                    ..
                } => Some((
                    runners.iter().map(|r| r.pid).collect(),
                    *max_alive,
                    other_servers.iter().map(|r| r.pid).collect(),
                    e.t_ms,
                )),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn servers_no_ollama_started_are_named_beside_an_overlap_not_counted_in_it() {
        let tl = timeline(
            vec![
                runner(40, 'a', 2..12, GIB),
                runner(41, 'b', 6..15, GIB),
                other_server(42, 0..20, GIB / 2),
                other_server(43, 0..20, GIB / 2),
            ],
            &[],
        );
        let a = analyze(&tl, &Options::default());
        assert_eq!(overlaps(&a), [(vec![40, 41], 2, vec![42, 43], 6000)]);
        // Without any runner of Ollama's, another engine's servers overlap among themselves.
        let tl = timeline(
            vec![
                other_server(42, 0..20, GIB / 2),
                other_server(43, 5..20, GIB / 2),
            ],
            &[],
        );
        let a = analyze(&tl, &Options::default());
        assert!(a.events.iter().any(|e| matches!(
            &e.kind,
            EventKind::Overlap { runners, .. } if runners.len() == 2
        )));
    }

    /// The trace of `runners` whose first poll (at 0) listed `models`.
    fn listed_at_start(runners: Vec<ProcessTimeline>, models: &[(&str, u64)]) -> Timeline {
        let mut tl = timeline(runners, models);
        for m in &mut tl.models {
            m.t_ms = 0;
        }
        tl
    }

    #[test]
    fn a_runner_there_from_the_first_sample_is_named_by_elimination_or_not_at_all() {
        let tl = listed_at_start(
            vec![runner(50, 'a', 0..15, 3 * GIB)],
            &[("llama3.2:3b", 3 * GIB)],
        );
        assert_eq!(
            named(&tl),
            [(50, Some("llama3.2:3b".into()), NameSource::ApiPsOnlyOne)]
        );
        // Two unnamed runners alive then: either could be it, so neither is named.
        let tl = listed_at_start(
            vec![
                runner(50, 'a', 0..15, 3 * GIB),
                runner(51, 'b', 0..15, 3 * GIB),
            ],
            &[("llama3.2:3b", 3 * GIB)],
        );
        assert!(named(&tl)
            .iter()
            .all(|(_, _, source)| *source == NameSource::Digest));
        // Two models listed: no elimination either.
        let tl = listed_at_start(
            vec![runner(50, 'a', 0..15, 3 * GIB)],
            &[("llama3.2:3b", 3 * GIB), ("qwen3:8b", 5 * GIB)],
        );
        assert_eq!(named(&tl)[0].2, NameSource::Digest);
        // A runner holding a twentieth of the model is not its runner.
        let tl = listed_at_start(
            vec![runner(50, 'a', 0..15, GIB / 20)],
            &[("llama3.2:3b", GIB)],
        );
        assert_eq!(named(&tl)[0].2, NameSource::Digest);
    }

    #[test]
    fn a_load_that_pauses_before_ollama_lists_the_model_is_not_growth() {
        const MIB: u64 = 1 << 20;
        // A no-mmap runner: 20 MiB for 5 s (waiting), then it reads its 266 MiB of weights;
        // Ollama lists the model at 10 s; flat after.
        let mut r = runner(60, 'c', 0..20, 0);
        r.rows = (1..20)
            .map(|s| Sample {
                t_ms: s * 1000,
                rss_bytes: 0,
                footprint_bytes: Some(if s < 9 { 20 * MIB } else { 286 * MIB }),
                rss_file_bytes: None,
                weights_resident_bytes: None,
            })
            .collect();
        let mut tl = timeline(vec![r], &[("qwen3:0.6b", 300 * MIB)]);
        tl.polls.push(PollRow {
            t_ms: 10_000,
            outcome: PollOutcome::Ok,
            ..PollRow::default()
        });
        tl.polls.sort_by_key(|p| p.t_ms);
        for m in &mut tl.models {
            m.t_ms = 10_000;
        }
        let a = analyze(&tl, &Options::default());
        assert_eq!(a.processes[0].model.as_deref(), Some("qwen3:0.6b"));
        assert!(
            !a.events
                .iter()
                .any(|e| matches!(e.kind, EventKind::RunnerGrowth { .. })),
            "{:?}",
            a.events
        );
        // Without Ollama's listing the settle rule alone cannot tell, and the sentence does
        // not claim the runner served.
        tl.models.clear();
        let a = analyze(&tl, &Options::default());
        assert!(a.events.iter().any(|e| matches!(
            e.kind,
            EventKind::RunnerGrowth {
                after_listing: false,
                ..
            }
        )));
    }

    #[test]
    fn what_held_nothing_throughout_is_said_once_and_has_no_peak() {
        let mut tl = timeline(vec![runner(70, 'a', 1..5, GIB)], &[]);
        for p in &mut tl.system {
            p.swap_used_bytes = Some(0).into();
            p.compressor_bytes = Some(0).into();
        }
        let a = analyze(&tl, &Options::default());
        assert!(!a.events.iter().any(|e| matches!(
            &e.kind,
            EventKind::Peak {
                series: PeakSeries::SwapUsedBytes | PeakSeries::CompressorBytes,
                ..
            }
        )));
        assert_eq!(unused(&tl), [Unused::Swap, Unused::Compressor]);
        // Used once: a peak, and not unused. Not sampled at all: neither.
        tl.system[3].swap_used_bytes = Some(1 << 20).into();
        for p in &mut tl.system {
            p.compressor_bytes = None.into();
        }
        assert_eq!(unused(&tl), []);
        assert!(analyze(&tl, &Options::default())
            .events
            .iter()
            .any(|e| matches!(
                &e.kind,
                EventKind::Peak {
                    series: PeakSeries::SwapUsedBytes,
                    ..
                }
            )));
    }

    #[test]
    fn an_overlaps_moment_leaves_out_what_was_never_used() {
        let mut tl = timeline(
            vec![runner(71, 'a', 1..8, GIB), runner(72, 'b', 4..10, GIB)],
            &[],
        );
        for p in &mut tl.system {
            p.swap_used_bytes = Some(0).into();
            p.compressor_bytes = Some(0).into();
            p.wired_bytes = Some(GIB).into();
        }
        let worst = |tl: &Timeline| {
            analyze(tl, &Options::default())
                .events
                .into_iter()
                .find_map(|e| match e.kind {
                    EventKind::Overlap { worst, .. } => worst,
                    _ => None,
                })
                .expect("an overlap with its moment")
        };
        let w = worst(&tl);
        assert_eq!((w.compressor_bytes, w.swap_used_bytes), (None, None));
        assert!(w.wired_bytes.is_some());
        // Swap used once in the trace: its 0 at the moment is told.
        tl.system[0].swap_used_bytes = Some(1 << 20).into();
        assert_eq!(worst(&tl).swap_used_bytes, Some(0));
    }

    #[test]
    fn when_ollama_stops_answering_its_models_unload_as_their_runners_exit() {
        // Ollama listed the model at 7 s, stopped answering at 12 s, and its runner exited at
        // 14 s: Ollama closes its API before it stops its runners.
        let mut r = runner(80, 'a', 5..15, 3 * GIB);
        r.identity.exited = true;
        let mut tl = timeline(vec![r], &[("llama3.2:3b", 3 * GIB)]);
        for t in [12_000, 13_000, 16_000] {
            tl.polls.push(PollRow {
                t_ms: t,
                outcome: PollOutcome::Unreachable,
                ..PollRow::default()
            });
        }
        let a = analyze(&tl, &Options::default());
        let stopped = a.events.iter().find_map(|e| match &e.kind {
            EventKind::OllamaStopped {
                models,
                runners_exited_ms,
            } => Some((e.t_ms, models.clone(), *runners_exited_ms)),
            _ => None,
        });
        assert_eq!(
            stopped,
            Some((12_000, vec!["llama3.2:3b".into()], Some(14_000)))
        );
        let unload = a.events.iter().find_map(|e| match &e.kind {
            EventKind::ModelUnload { name, .. } => Some((e.t_ms, name.clone())),
            _ => None,
        });
        assert_eq!(unload, Some((14_000, "llama3.2:3b".into())));
        // Ollama answered again (and no longer lists it): its own listing tells the unload.
        tl.polls.push(PollRow {
            t_ms: 17_000,
            outcome: PollOutcome::Ok,
            ..PollRow::default()
        });
        let a = analyze(&tl, &Options::default());
        assert!(!a
            .events
            .iter()
            .any(|e| matches!(e.kind, EventKind::OllamaStopped { .. })));
    }

    #[test]
    fn a_model_under_two_names_is_called_by_the_one_ollama_listed() {
        let mut r = runner(90, 'a', 5..15, GIB);
        r.identity.models = vec!["gemma3:270m".into(), "tiny:latest".into()];
        let tl = timeline(vec![r], &[("tiny:latest", GIB)]);
        let a = analyze(&tl, &Options::default());
        let p = &a.processes[0];
        assert_eq!(p.model.as_deref(), Some("tiny:latest"));
        assert_eq!(p.aliases, ["gemma3:270m"]);
        assert_eq!(p.ollama_size_bytes, Some(GIB));
        // Without a listing, the first name, the other kept.
        let mut r = runner(90, 'a', 5..15, GIB);
        r.identity.models = vec!["gemma3:270m".into(), "tiny:latest".into()];
        let a = analyze(&timeline(vec![r], &[]), &Options::default());
        assert_eq!(a.processes[0].model.as_deref(), Some("gemma3:270m"));
        assert_eq!(a.processes[0].aliases, ["tiny:latest"]);
    }

    #[test]
    fn the_size_sentence_comes_when_ollama_listed_the_model_not_at_the_runners_start() {
        let tl = timeline(vec![runner(95, 'a', 5..15, 3 * GIB)], &[("m:1b", GIB)]);
        let a = analyze(&tl, &Options::default());
        let at = a.events.iter().find_map(|e| match e.kind {
            EventKind::SizeDivergence { .. } => Some(e.t_ms),
            _ => None,
        });
        assert_eq!(at, Some(7_000));
    }

    #[test]
    fn an_overlap_of_runners_running_before_recording_is_marked_so() {
        let overlap_from_start = |a: std::ops::Range<u64>, b: std::ops::Range<u64>| {
            let tl = timeline(vec![runner(1, 'a', a, GIB), runner(2, 'b', b, GIB)], &[]);
            analyze(&tl, &Options::default())
                .events
                .iter()
                .find_map(|e| match e.kind {
                    EventKind::Overlap { from_start, .. } => Some(from_start),
                    _ => None,
                })
        };
        assert_eq!(overlap_from_start(0..12, 0..15), Some(true));
        assert_eq!(overlap_from_start(0..12, 4..15), Some(false));
    }

    /// `ps -Ao pid=,ppid=,command=` on a Mac mini with Ollama 0.30's app: two runners left
    /// behind by an `ollama serve` that died (parent 1), two under the live one (an MLX runner
    /// and the app's `llama-server`), and Homebrew's own `llama-server`.
    #[test]
    fn a_mac_minis_process_table_orphans_included() {
        let table = include_str!(
            "../../tests/fixtures/macos-mac-mini-ps-Ao-pid-ppid-command-mlx-and-llama-server.txt"
        );
        let processes: Vec<ProcessTimeline> = table
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|line| {
                let mut words = line.split_whitespace();
                let pid: u32 = words.next().unwrap().parse().unwrap();
                let ppid: u32 = words.next().unwrap().parse().unwrap();
                let argv: Vec<String> = words.map(str::to_owned).collect();
                // Ollama's server and the other engine ran throughout; the runners started
                // during the recording.
                let span = if argv.iter().any(|a| a == "serve") || pid == 4242 {
                    0..20
                } else {
                    2..12
                };
                let mut p = runner(pid, 'a', span, GIB);
                p.identity.ppid = ppid;
                p.identity.name = argv[0].rsplit('/').next().unwrap().to_owned();
                p.identity.argv = argv;
                p
            })
            .collect();
        assert_eq!(processes.len(), 6, "{table}");
        let a = analyze(&timeline(processes, &[]), &Options::default());
        let roles: Vec<(u32, String, Option<bool>, Option<&str>)> = a
            .processes
            .iter()
            .map(|p| match &p.role {
                Role::Runner {
                    engine,
                    under_ollama,
                    ..
                } => (
                    p.pid,
                    engine.name().to_owned(),
                    Some(*under_ollama),
                    p.model.as_deref(),
                ),
                other => (p.pid, other.label().to_owned(), None, None),
            })
            .collect();
        let mlx = Some("gemma4:e2b-mlx");
        assert_eq!(
            roles,
            [
                (10447, "mlx".to_owned(), Some(true), mlx),
                (10459, "llama-server".to_owned(), Some(true), None),
                (91552, "llama-server".to_owned(), Some(true), None),
                (64901, "mlx".to_owned(), Some(true), mlx),
                (91511, "ollama serve".to_owned(), None, None),
                (
                    4242,
                    "llama.cpp server".to_owned(),
                    Some(false),
                    Some("model.gguf")
                ),
            ]
        );
        // The four runners of Ollama's overlap, orphans included; Homebrew's server is named
        // beside them.
        assert_eq!(
            overlaps(&a),
            [(vec![10447, 10459, 91552, 64901], 4, vec![4242], 2000)]
        );
    }
}
