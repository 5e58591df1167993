//! Two traces side by side: what changed between two experiments (an Ollama upgrade, another
//! context size, `OLLAMA_MAX_LOADED_MODELS`).
//!
//! Models are matched by name, then, for a runner whose model is named in one trace and not
//! in the other, by its blob's digest (the `sha256-…` file its `--model` argument points at,
//! the same bytes whatever the name). Per model: the peak model memory (where both traces
//! counted the mapped weights), footprint and RSS, whether the weights were mapped or copied
//! (and so why the footprint moved when that changed), the time from
//! the runner's start to Ollama listing the model (its load), and how long its runners lived.
//! Per trace: the least available memory and free %, the time under warning or critical
//! pressure, how much swap grew, the longest runner overlap, Ollama's version. Each figure
//! found in both traces becomes a [`Difference`]: B − A with its sign, and B ÷ A.

use crate::events::{EventKind, API_PS_MATCH_AFTER_MS};
use crate::manifests;
use crate::report::Report;
use crate::runner::{NameSource, Role};
use crate::timeline::{Measure, Timeline};
use serde::{Deserialize, Serialize};

/// The version of the comparison's JSON.
pub const COMPARE_VERSION: u32 = 1;

/// A figure a comparison compares, named in the JSON as it has always been
/// (`peak_footprint_bytes`, `min_free_percent`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Figure {
    /// A model's highest model memory.
    PeakModelMemoryBytes,
    /// A model's highest footprint.
    PeakFootprintBytes,
    /// A model's highest RSS.
    PeakRssBytes,
    /// A model's load: its runner's start to Ollama listing it.
    LoadMs,
    /// How long a model's runners were alive.
    LifetimeMs,
    /// How many model runners a trace has.
    Runners,
    /// A trace's least available memory.
    MinAvailableBytes,
    /// A trace's lowest free %.
    MinFreePercent,
    /// How long a trace was under warning or critical pressure.
    PressureMs,
    /// How much swap grew in a trace.
    SwapGrowthBytes,
    /// A trace's longest overlap of runners.
    LongestOverlapMs,
}

/// What a figure counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FigureUnit {
    /// Bytes.
    Bytes,
    /// Milliseconds.
    Ms,
    /// Percent of RAM.
    Percent,
    /// A count.
    Count,
}

impl Figure {
    /// What it counts.
    pub fn unit(self) -> FigureUnit {
        match self {
            Figure::PeakModelMemoryBytes
            | Figure::PeakFootprintBytes
            | Figure::PeakRssBytes
            | Figure::MinAvailableBytes
            | Figure::SwapGrowthBytes => FigureUnit::Bytes,
            Figure::LoadMs | Figure::LifetimeMs | Figure::PressureMs | Figure::LongestOverlapMs => {
                FigureUnit::Ms
            }
            Figure::MinFreePercent => FigureUnit::Percent,
            Figure::Runners => FigureUnit::Count,
        }
    }
}

/// How a model of one trace was found in the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// By its name.
    Name,
    /// By its blob's digest (a name in one trace, a digest in the other).
    Digest,
    /// Only A has it.
    OnlyA,
    /// Only B has it.
    OnlyB,
}

/// One figure in both traces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Difference {
    /// What it measures.
    pub what: Figure,
    /// In A.
    pub a: f64,
    /// In B.
    pub b: f64,
    /// B − A.
    pub delta: f64,
    /// B ÷ A, when A is not 0.
    pub ratio: Option<f64>,
}

impl Difference {
    fn new(what: Figure, a: f64, b: f64) -> Difference {
        Difference {
            what,
            a,
            b,
            delta: b - a,
            ratio: (a != 0.0).then(|| b / a),
        }
    }

    /// Whether the two differ at all.
    pub fn differs(&self) -> bool {
        self.delta != 0.0
    }
}

/// How a model's weights were held, from what memtide counted in its runners' mappings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Weights {
    /// Mapped from the model file (llama.cpp's default): resident pages of the file, outside
    /// the footprint.
    Mapped,
    /// Copied into the runner's own memory (`--no-mmap`, `--load-mode none`, Ollama's choice
    /// for a partial GPU offload): inside the footprint; the mapping holds next to nothing.
    Copied,
}

/// The least resident weights, and share of model memory, for a model's weights to count as
/// mapped: 16 MiB and a quarter. A copied load leaves a few pages of the file mapped (its
/// header, read before the copy).
pub const WEIGHTS_MAPPED_MIN_BYTES: u64 = 16 << 20;

/// See [`WEIGHTS_MAPPED_MIN_BYTES`].
pub const WEIGHTS_MAPPED_MIN_FRACTION: f64 = 0.25;

/// Why a model's footprint moved between the traces, when its weights moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightsMove {
    /// A mapped them, B copied them: B's footprint holds the weights A's left out.
    MappedToCopied,
    /// A copied them, B mapped them.
    CopiedToMapped,
}

/// A model as one trace saw it: every runner that served it, together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ModelFigures {
    /// Its runners' PIDs, in order of start.
    pub runner_pids: Vec<u32>,
    /// The highest model memory of any of them (footprint plus the mapped weights resident in
    /// RAM); `None` where the weights were not counted.
    pub peak_model_memory_bytes: Option<u64>,
    /// The most of the model file resident in a runner's mappings; `None` where not counted.
    pub peak_weights_bytes: Option<u64>,
    /// How the weights were held, where they were counted.
    pub weights: Option<Weights>,
    /// The highest footprint of any of them.
    pub peak_footprint_bytes: Option<u64>,
    /// The highest RSS.
    pub peak_rss_bytes: Option<u64>,
    /// From the first runner's first sample to Ollama's first listing of the model after it,
    /// ms: the load, as Ollama tells it. Absent without Ollama, or when the model was listed
    /// before recording began.
    pub load_ms: Option<u64>,
    /// How long its runners were seen alive, summed, ms.
    pub lifetime_ms: u64,
}

/// A model in either trace or both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ModelComparison {
    /// Its name (`sha256:…` where only the digest tells).
    pub model: String,
    /// How A's and B's were matched (`name`, `digest`); `only_a` or `only_b` when one of
    /// the traces does not have it.
    pub matched_by: MatchedBy,
    /// In A.
    pub a: Option<ModelFigures>,
    /// In B.
    pub b: Option<ModelFigures>,
    /// The figures both have.
    pub differences: Vec<Difference>,
    /// The weights were mapped in one trace and copied in the other: why the footprint moved
    /// while model memory did not.
    pub weights_moved: Option<WeightsMove>,
}

/// A trace's own figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TraceFigures {
    /// The trace directory.
    pub dir: String,
    /// Its first sample (UTC).
    pub start_utc: Option<String>,
    /// From its first sample to its last, ms.
    pub duration_ms: u64,
    /// Ollama's version, where it answered.
    pub ollama_version: Option<String>,
    /// Whether Ollama answered `/api/ps` at least once (an imported trace has its listings
    /// and no version).
    #[serde(default)]
    pub ollama_answered: bool,
    /// The least available memory, by the one definition every view uses
    /// ([`crate::available`]: free % × RAM on macOS, `MemAvailable` on Linux).
    pub min_available_bytes: Option<u64>,
    /// Where that figure comes from (`free % × RAM`, `MemAvailable`, ...).
    #[serde(default)]
    pub available_source: Option<String>,
    /// The lowest free %.
    pub min_free_percent: Option<f64>,
    /// Time under warning or critical pressure, ms; `None` where the trace has no pressure
    /// level at all (an import of the Guide's loops, a Linux without PSI): unknown, not zero.
    pub pressure_ms: Option<u64>,
    /// The most swap used, less what was used at the first sample.
    pub swap_growth_bytes: Option<u64>,
    /// The longest stretch with two or more runners alive, ms (0 when none overlapped).
    pub longest_overlap_ms: u64,
    /// Runners seen.
    pub runners: usize,
}

/// Two traces compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Comparison {
    /// [`COMPARE_VERSION`].
    pub compare_version: u32,
    /// The first trace.
    pub a: TraceFigures,
    /// The second.
    pub b: TraceFigures,
    /// The traces' figures both have.
    pub differences: Vec<Difference>,
    /// Every model of either, A's in order of first start, then B's others.
    pub models: Vec<ModelComparison>,
    /// Ollama's version changed (both known and different).
    pub ollama_changed: bool,
}

impl Comparison {
    /// Whether anything differs: a figure, a model only one trace has, Ollama's version.
    pub fn any_difference(&self) -> bool {
        self.ollama_changed
            || self.differences.iter().any(Difference::differs)
            || self.models.iter().any(|m| {
                m.a.is_none() || m.b.is_none() || m.differences.iter().any(Difference::differs)
            })
    }
}

/// A model's name and blob digest in one trace, with its figures.
struct Found {
    name: String,
    named: bool,
    digest: Option<String>,
    figures: ModelFigures,
}

fn models_of(r: &Report) -> Vec<Found> {
    let mut out: Vec<Found> = Vec::new();
    for m in &r.models {
        let p = r
            .processes
            .iter()
            .find(|p| p.pid == m.runner_pid && p.start_time_us == m.start_time_us);
        let digest = p.and_then(|p| match &p.role {
            Role::Runner { model_arg, .. } => manifests::blob_digest(model_arg).map(str::to_owned),
            _ => None,
        });
        let name = m
            .model
            .clone()
            .or_else(|| digest.as_ref().map(|d| format!("sha256:{d}")))
            .unwrap_or_else(|| format!("unnamed model of runner {}", m.runner_pid));
        let named = !matches!(m.name_source, NameSource::Digest | NameSource::Unknown);
        let (first, last) = (
            p.and_then(|p| p.first_ms).unwrap_or(0),
            p.and_then(|p| p.last_ms).unwrap_or(0),
        );
        let load_ms = m.model.as_ref().and_then(|n| load_time(r, n, first));
        let i = match out.iter().position(|f| f.name == name) {
            Some(i) => i,
            None => {
                out.push(Found {
                    name,
                    named,
                    digest,
                    figures: ModelFigures {
                        runner_pids: Vec::new(),
                        peak_model_memory_bytes: None,
                        peak_weights_bytes: None,
                        weights: None,
                        peak_footprint_bytes: None,
                        peak_rss_bytes: None,
                        load_ms,
                        lifetime_ms: 0,
                    },
                });
                out.len() - 1
            }
        };
        let f = &mut out[i].figures;
        f.runner_pids.push(m.runner_pid);
        if m.metric == Measure::ModelMemory {
            f.peak_model_memory_bytes = f.peak_model_memory_bytes.max(m.peak_bytes);
            f.peak_weights_bytes = f.peak_weights_bytes.max(m.peak_weights_bytes);
            f.weights = weights_held(f.peak_weights_bytes, f.peak_model_memory_bytes);
        }
        f.peak_footprint_bytes = f.peak_footprint_bytes.max(m.peak_footprint_bytes);
        f.peak_rss_bytes = f.peak_rss_bytes.max(m.peak_rss_bytes);
        f.lifetime_ms += last.saturating_sub(first);
    }
    out
}

/// Mapped or copied, from the most weights resident and the peak model memory.
fn weights_held(weights: Option<u64>, model_memory: Option<u64>) -> Option<Weights> {
    let (w, m) = (weights?, model_memory?);
    Some(
        if w >= WEIGHTS_MAPPED_MIN_BYTES && w as f64 >= m as f64 * WEIGHTS_MAPPED_MIN_FRACTION {
            Weights::Mapped
        } else {
            Weights::Copied
        },
    )
}

/// From a runner's first sample at `first_ms` to the first listing of `model` by `/api/ps`
/// after it (within [`API_PS_MATCH_AFTER_MS`]).
fn load_time(r: &Report, model: &str, first_ms: u64) -> Option<u64> {
    r.events.iter().find_map(|e| match &e.kind {
        EventKind::ModelLoad {
            model: m,
            before_recording: false,
        } if m.name == model
            && e.t_ms >= first_ms
            && e.t_ms - first_ms <= API_PS_MATCH_AFTER_MS =>
        {
            Some(e.t_ms - first_ms)
        }
        _ => None,
    })
}

fn trace_figures(tl: &Timeline, r: &Report) -> TraceFigures {
    let span = tl.span().unwrap_or((0, 0));
    let lengths = |pick: fn(&EventKind) -> bool| {
        r.events
            .iter()
            .filter(move |e| pick(&e.kind))
            .map(|e| e.end_ms.unwrap_or(e.t_ms).saturating_sub(e.t_ms))
    };
    let pressure_ms = tl
        .system
        .iter()
        .any(|s| s.pressure.is_some())
        .then(|| lengths(|k| matches!(k, EventKind::Pressure { .. })).sum());
    let available = crate::available::available(tl);
    let longest_overlap_ms = lengths(|k| matches!(k, EventKind::Overlap { .. }))
        .max()
        .unwrap_or(0);
    let swap: Vec<u64> = tl
        .system
        .iter()
        .filter_map(|s| s.swap_used_bytes.get())
        .collect();
    TraceFigures {
        dir: r.trace.dir.clone(),
        start_utc: r.trace.start_utc.clone(),
        duration_ms: span.1.saturating_sub(span.0),
        ollama_version: r.trace.ollama_version.clone(),
        ollama_answered: tl.polls.iter().any(|p| p.outcome.is_ok()),
        min_available_bytes: available
            .as_ref()
            .and_then(|a| a.series.min())
            .map(|(_, v)| v as u64),
        available_source: available.map(|a| a.source.to_owned()),
        min_free_percent: tl
            .system
            .iter()
            .filter_map(|s| s.free_percent.get())
            .min_by(f64::total_cmp),
        pressure_ms,
        swap_growth_bytes: swap
            .first()
            .zip(swap.iter().max())
            .map(|(first, max)| max - first),
        longest_overlap_ms,
        runners: r.models.len(),
    }
}

fn both<T: Copy>(
    out: &mut Vec<Difference>,
    what: Figure,
    a: Option<T>,
    b: Option<T>,
    f: impl Fn(T) -> f64,
) {
    if let (Some(a), Some(b)) = (a, b) {
        out.push(Difference::new(what, f(a), f(b)));
    }
}

fn trace_differences(a: &TraceFigures, b: &TraceFigures) -> Vec<Difference> {
    let mut d = Vec::new();
    let n = |v: u64| v as f64;
    both(
        &mut d,
        Figure::MinAvailableBytes,
        a.min_available_bytes,
        b.min_available_bytes,
        n,
    );
    both(
        &mut d,
        Figure::MinFreePercent,
        a.min_free_percent,
        b.min_free_percent,
        |v| v,
    );
    both(&mut d, Figure::PressureMs, a.pressure_ms, b.pressure_ms, n);
    both(
        &mut d,
        Figure::SwapGrowthBytes,
        a.swap_growth_bytes,
        b.swap_growth_bytes,
        n,
    );
    both(
        &mut d,
        Figure::LongestOverlapMs,
        Some(a.longest_overlap_ms),
        Some(b.longest_overlap_ms),
        n,
    );
    both(
        &mut d,
        Figure::Runners,
        Some(a.runners),
        Some(b.runners),
        |v| v as f64,
    );
    d
}

fn model_differences(a: &ModelFigures, b: &ModelFigures) -> Vec<Difference> {
    let mut d = Vec::new();
    let n = |v: u64| v as f64;
    both(
        &mut d,
        Figure::PeakModelMemoryBytes,
        a.peak_model_memory_bytes,
        b.peak_model_memory_bytes,
        n,
    );
    both(
        &mut d,
        Figure::PeakFootprintBytes,
        a.peak_footprint_bytes,
        b.peak_footprint_bytes,
        n,
    );
    both(
        &mut d,
        Figure::PeakRssBytes,
        a.peak_rss_bytes,
        b.peak_rss_bytes,
        n,
    );
    both(&mut d, Figure::LoadMs, a.load_ms, b.load_ms, n);
    both(
        &mut d,
        Figure::LifetimeMs,
        Some(a.lifetime_ms),
        Some(b.lifetime_ms),
        n,
    );
    both(
        &mut d,
        Figure::Runners,
        Some(a.runner_pids.len()),
        Some(b.runner_pids.len()),
        |v| v as f64,
    );
    d
}

/// Compares trace A (`ta`, its report `ra`) with trace B.
pub fn compare(ta: &Timeline, ra: &Report, tb: &Timeline, rb: &Report) -> Comparison {
    let (a, b) = (trace_figures(ta, ra), trace_figures(tb, rb));
    let mut in_b: Vec<Option<Found>> = models_of(rb).into_iter().map(Some).collect();
    let mut models = Vec::new();
    for fa in models_of(ra) {
        // By name when both traces name it; then by the blob's digest.
        let by_name = in_b.iter().position(|f| {
            f.as_ref()
                .is_some_and(|f| fa.named && f.named && f.name == fa.name)
        });
        let by_digest = || {
            in_b.iter().position(|f| {
                f.as_ref()
                    .is_some_and(|f| fa.digest.is_some() && f.digest == fa.digest)
            })
        };
        let (found, how) = match by_name {
            Some(i) => (in_b[i].take(), MatchedBy::Name),
            None => match by_digest() {
                Some(i) => (in_b[i].take(), MatchedBy::Digest),
                None => (None, MatchedBy::OnlyA),
            },
        };
        let name = match &found {
            // A name is better than a digest, from whichever trace has it.
            Some(fb) if !fa.named && fb.named => fb.name.clone(),
            _ => fa.name.clone(),
        };
        models.push(ModelComparison {
            model: name,
            matched_by: how,
            differences: found
                .as_ref()
                .map(|fb| model_differences(&fa.figures, &fb.figures))
                .unwrap_or_default(),
            weights_moved: found.as_ref().and_then(|fb| {
                match (fa.figures.weights?, fb.figures.weights?) {
                    (Weights::Mapped, Weights::Copied) => Some(WeightsMove::MappedToCopied),
                    (Weights::Copied, Weights::Mapped) => Some(WeightsMove::CopiedToMapped),
                    _ => None,
                }
            }),
            a: Some(fa.figures),
            b: found.map(|f| f.figures),
        });
    }
    for fb in in_b.into_iter().flatten() {
        models.push(ModelComparison {
            model: fb.name,
            matched_by: MatchedBy::OnlyB,
            a: None,
            b: Some(fb.figures),
            differences: Vec::new(),
            weights_moved: None,
        });
    }
    Comparison {
        compare_version: COMPARE_VERSION,
        differences: trace_differences(&a, &b),
        ollama_changed: matches!((&a.ollama_version, &b.ollama_version), (Some(x), Some(y)) if x != y),
        a,
        b,
        models,
    }
}
