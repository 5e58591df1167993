//! What the recorder sees now, for a live front-end: the latest system sample with a minute
//! of history, every followed process with its role, model and a minute of its memory,
//! Ollama's loaded models, and the events of the recording as they happen.
//!
//! The events come from detectors that run tick by tick, with the thresholds of the report's
//! detectors (`memtide_model::events`): a runner starting while others are alive (the
//! report's overlap), runners exiting, models loaded and unloaded by `/api/ps`, the kernel's
//! pressure level changing, free memory under [`LOW_MEMORY_FREE_PERCENT`] (and back above it
//! by the report's hysteresis), and swap growing by [`SWAP_GROWTH_MIN_BYTES`] within a
//! minute. The report, reading the whole trace afterwards, can say more (peaks, the worst
//! moment of an overlap); these are what can be said the moment they happen.

use crate::convert;
use crate::ollama::OllamaError;
use memtide_model::events::growth::SWAP_GROWTH_MIN_BYTES;
use memtide_model::events::low_memory::{LOW_MEMORY_FREE_PERCENT, LOW_MEMORY_HYSTERESIS_PERCENT};
use memtide_model::events::{plausibly_holds, API_PS_MATCH_AFTER_MS};
use memtide_model::manifests;
use memtide_model::ollama::PsResponse;
use memtide_model::runner::{self, Role};
use memtide_model::timeline::{Measure, Sample};
use memtide_sampler::{HostInfo, PressureLevel, ProcessId, ProcessSample, SystemSample};
use memtide_trace::{IdentityRow, SystemRow};
use std::collections::VecDeque;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How much history the live state keeps by default.
pub const HISTORY: Duration = Duration::from_secs(60);
/// How many events it keeps.
pub const MAX_EVENTS: usize = 200;
/// How long an exited process stays in the list.
pub const EXITED_KEPT: Duration = Duration::from_secs(30);

/// One followed process.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct LiveProcess {
    /// Its identity.
    pub id: ProcessId,
    /// Its row of `identities.csv`, as it would be written.
    pub identity: IdentityRow,
    /// What it is.
    pub role: Role,
    /// The model it serves, for a runner: a name from Ollama's manifests or its command line,
    /// else its blob's digest (`sha256:0123456789ab…`).
    pub model: Option<String>,
    /// Footprint in the last sample (where the OS has one).
    pub footprint_bytes: Option<u64>,
    /// RSS in the last sample.
    pub rss_bytes: u64,
    /// A runner's model file resident in its mappings, as last counted (`None` where it is
    /// not counted).
    pub weights_resident_bytes: Option<u64>,
    /// The highest [`LiveProcess::memory`] seen.
    pub peak_bytes: u64,
    /// When it started, where the OS says.
    pub started: Option<SystemTime>,
    /// Since the recorder started, when it was first seen.
    pub first_seen: Duration,
    /// The last minute: (since the recorder started, memory, RSS).
    pub history: VecDeque<(Duration, u64, u64)>,
    /// It started while the recorder ran (not found at its first sample).
    pub found_later: bool,
    /// It exited, and when (since the recorder started).
    pub exited: bool,
    /// See `exited`.
    pub exited_at: Option<Duration>,
}

impl LiveProcess {
    /// Its memory, as the report and the charts tell it: model memory (footprint plus the
    /// mapped weights resident in RAM), or RSS where the OS has no footprint.
    pub fn memory(&self) -> u64 {
        self.sample().value(Measure::ModelMemory)
    }

    /// Its model memory where its mapped weights are counted, `None` otherwise: the footprint
    /// alone, or the RSS, is not model memory, and no view shows it under that name.
    pub fn model_memory(&self) -> Option<u64> {
        (self.measure() == Measure::ModelMemory).then(|| self.memory())
    }

    /// What [`LiveProcess::memory`] measures now.
    pub fn measure(&self) -> Measure {
        match (self.footprint_bytes, self.weights_resident_bytes) {
            (Some(_), Some(_)) => Measure::ModelMemory,
            (Some(_), None) => Measure::Footprint,
            (None, _) => Measure::Rss,
        }
    }

    fn sample(&self) -> Sample {
        Sample {
            t_ms: 0,
            rss_bytes: self.rss_bytes,
            footprint_bytes: self.footprint_bytes,
            rss_file_bytes: None,
            weights_resident_bytes: self.weights_resident_bytes,
        }
    }
}

/// A model `/api/ps` lists.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct LoadedModel {
    /// Its name.
    pub name: String,
    /// `size`, bytes.
    pub size_bytes: u64,
    /// `size_vram`, bytes.
    pub size_vram_bytes: Option<u64>,
    /// `context_length`.
    pub context_length: Option<u64>,
    /// `expires_at`.
    pub expires_at: Option<SystemTime>,
}

/// Ollama as the poller sees it.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct OllamaLive {
    /// Its URL, when it is asked.
    pub url: Option<String>,
    /// `/api/version`.
    pub version: Option<String>,
    /// The last answer to `/api/ps`.
    pub last_ok: Option<SystemTime>,
    /// Since when polls have failed (none while it answers).
    pub failing_since: Option<SystemTime>,
    /// The last failure.
    pub last_error: Option<String>,
    /// What the last answer listed.
    pub models: Vec<LoadedModel>,
    /// How long the last poll took to be answered (or to fail).
    pub last_latency: Option<Duration>,
    /// Polls answered since the recorder started.
    pub polls_ok: u64,
    /// Polls that failed since the recorder started.
    pub polls_failed: u64,
}

/// What happened, the moment it could be said.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveKind {
    /// A runner already running when the recorder started (its first sample): not a start,
    /// and never an overlap, whatever else was running then.
    RunnerFound {
        /// Its PID.
        pid: u32,
        /// Its model.
        model: Option<String>,
        /// When it started, where the OS says.
        since: Option<SystemTime>,
    },
    /// A runner started; `alive_with` are the runners alive at that moment (an overlap).
    RunnerStarted {
        /// Its PID.
        pid: u32,
        /// Its model.
        model: Option<String>,
        /// The other runners alive: PID and model.
        alive_with: Vec<(u32, Option<String>)>,
    },
    /// A runner exited.
    RunnerExited {
        /// Its PID.
        pid: u32,
        /// Its model.
        model: Option<String>,
        /// Its footprint in its last sample.
        last_bytes: u64,
    },
    /// `/api/ps` listed a model it did not list before.
    ModelLoaded {
        /// Its name.
        name: String,
        /// Its size.
        size_bytes: u64,
    },
    /// `/api/ps` stopped listing a model.
    ModelUnloaded {
        /// Its name.
        name: String,
    },
    /// The kernel's pressure level changed.
    Pressure {
        /// The level before (none at the first sample).
        from: Option<PressureLevel>,
        /// The level now.
        to: PressureLevel,
    },
    /// Free memory fell under the threshold.
    LowMemory {
        /// Free % now.
        free_percent: f64,
        /// The threshold.
        threshold_percent: f64,
    },
    /// Free memory is back above the threshold (plus the hysteresis).
    MemoryRecovered {
        /// Free % now.
        free_percent: f64,
    },
    /// Swap used grew within the last minute.
    SwapGrew {
        /// The least swap used in the last minute, bytes.
        from_bytes: u64,
        /// Now.
        to_bytes: u64,
    },
    /// Ollama stopped answering.
    OllamaDown {
        /// Why.
        error: String,
    },
    /// Ollama answers again.
    OllamaBack,
}

/// An event, with when it happened.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct LiveEvent {
    /// Wall-clock time.
    pub at: SystemTime,
    /// Since the recorder started.
    pub since_start: Duration,
    /// What.
    pub kind: LiveKind,
}

/// How many of each event the recorder has seen since it started (the lists of events keep
/// only the latest [`MAX_EVENTS`]): for counters that only grow, such as an exporter's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventCounts {
    /// Runners that started.
    pub runner_starts: u64,
    /// Of those, the ones that started while another runner was alive: an overlap began.
    pub overlaps: u64,
    /// Runners that exited.
    pub runner_exits: u64,
    /// Models `/api/ps` started listing.
    pub model_loads: u64,
    /// Models it stopped listing.
    pub model_unloads: u64,
    /// Changes of the kernel's pressure level (the first reading is not a change).
    pub pressure_changes: u64,
    /// The kernel's pressure notifications heard.
    pub pressure_notifications: u64,
}

impl EventCounts {
    fn count(&mut self, kind: &LiveKind) {
        match kind {
            LiveKind::RunnerStarted { alive_with, .. } => {
                self.runner_starts += 1;
                self.overlaps += u64::from(!alive_with.is_empty());
            }
            LiveKind::RunnerExited { .. } => self.runner_exits += 1,
            LiveKind::ModelLoaded { .. } => self.model_loads += 1,
            LiveKind::ModelUnloaded { .. } => self.model_unloads += 1,
            LiveKind::Pressure { from: Some(_), .. } => self.pressure_changes += 1,
            _ => {}
        }
    }
}

/// The live state.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Live {
    /// The machine.
    pub host: HostInfo,
    /// Ollama.
    pub ollama: OllamaLive,
    /// The latest system sample, as a row of `system.csv`.
    pub system: Option<SystemRow>,
    /// When it was taken, since the recorder started.
    pub system_at: Duration,
    /// The system samples of the history this state keeps (a minute by default, none for a
    /// recorder without sparklines): (since the recorder started, row).
    pub system_history: VecDeque<(Duration, SystemRow)>,
    /// Every followed process, in the order first seen (exited ones for a while).
    pub processes: Vec<LiveProcess>,
    /// The most recent events, oldest first.
    pub events: VecDeque<LiveEvent>,
    /// Samples taken.
    pub samples: u64,
    /// Ticks missed.
    pub missed: u64,
    /// Every event since the recorder started, counted.
    pub counts: EventCounts,
    interval: Duration,
    history: Duration,
    low_memory: bool,
    swap_growing: bool,
    /// Swap used in the last [`SWAP_WINDOW`], kept rising from front to back: its front is
    /// the least (a minimum over the window in constant time, where a scan of the history at
    /// every sample took longer than the rest of the sample's bookkeeping).
    swap_low: VecDeque<(Duration, u64)>,
    pressure: Option<PressureLevel>,
}

/// How far back swap's growth is measured: "swap used grew within the last minute".
pub const SWAP_WINDOW: Duration = Duration::from_secs(60);

impl Live {
    /// Nothing seen yet.
    pub fn new(
        host: HostInfo,
        ollama_url: Option<String>,
        interval: Duration,
        history: Duration,
    ) -> Live {
        Live {
            host,
            ollama: OllamaLive {
                url: ollama_url,
                ..OllamaLive::default()
            },
            system: None,
            system_at: Duration::ZERO,
            system_history: VecDeque::new(),
            processes: Vec::new(),
            events: VecDeque::new(),
            samples: 0,
            missed: 0,
            counts: EventCounts::default(),
            interval,
            history,
            low_memory: false,
            swap_growing: false,
            swap_low: VecDeque::new(),
            pressure: None,
        }
    }

    /// The sampling interval.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// The runners alive now.
    pub fn runners(&self) -> impl Iterator<Item = &LiveProcess> {
        self.processes
            .iter()
            .filter(|p| !p.exited && p.role.is_model_runner())
    }

    fn push(&mut self, at: SystemTime, since_start: Duration, kind: LiveKind) -> LiveEvent {
        self.counts.count(&kind);
        let e = LiveEvent {
            at,
            since_start,
            kind,
        };
        self.events.push_back(e.clone());
        while self.events.len() > MAX_EVENTS {
            self.events.pop_front();
        }
        e
    }

    /// One tick's samples. Returns the events it gave.
    pub fn update(
        &mut self,
        at: Duration,
        wall: SystemTime,
        system: &SystemSample,
        started: &[(ProcessId, IdentityRow, Vec<String>)],
        processes: &[ProcessSample],
        exited: &[ProcessId],
    ) -> Vec<LiveEvent> {
        let row = convert::system_row(&memtide_trace::utc_ms(wall), at.as_millis() as u64, system);
        self.update_with_row(at, wall, system, row, started, processes, exited)
    }

    /// [`Live::update`] with the system sample's row already made (the recorder makes it once
    /// per tick, for the trace and for this).
    #[allow(clippy::too_many_arguments)]
    pub fn update_with_row(
        &mut self,
        at: Duration,
        wall: SystemTime,
        system: &SystemSample,
        row: SystemRow,
        started: &[(ProcessId, IdentityRow, Vec<String>)],
        processes: &[ProcessSample],
        exited: &[ProcessId],
    ) -> Vec<LiveEvent> {
        let mut out = Vec::new();
        self.samples += 1;
        // The kernel's pressure level.
        if let Some(level) = system.pressure {
            if self.pressure != Some(level)
                && (self.pressure.is_some() || level != PressureLevel::Normal)
            {
                out.push(self.push(
                    wall,
                    at,
                    LiveKind::Pressure {
                        from: self.pressure,
                        to: level,
                    },
                ));
            }
            self.pressure = Some(level);
        }
        // Free memory under the report's threshold, and back above it with its hysteresis.
        if let Some(p) = system.free_percent {
            if !self.low_memory && p < LOW_MEMORY_FREE_PERCENT {
                self.low_memory = true;
                out.push(self.push(
                    wall,
                    at,
                    LiveKind::LowMemory {
                        free_percent: p,
                        threshold_percent: LOW_MEMORY_FREE_PERCENT,
                    },
                ));
            } else if self.low_memory
                && p >= LOW_MEMORY_FREE_PERCENT + LOW_MEMORY_HYSTERESIS_PERCENT
            {
                self.low_memory = false;
                out.push(self.push(wall, at, LiveKind::MemoryRecovered { free_percent: p }));
            }
        }
        if !self.history.is_zero() {
            self.system_history.push_back((at, row.clone()));
        }
        while self
            .system_history
            .front()
            .is_some_and(|(t, _)| at.saturating_sub(*t) > self.history)
        {
            self.system_history.pop_front();
        }
        // Swap growing within the last minute: once per stretch of growth.
        if let Some(now) = row.swap_used_bytes {
            while self.swap_low.back().is_some_and(|&(_, v)| v >= now) {
                self.swap_low.pop_back();
            }
            self.swap_low.push_back((at, now));
            while self
                .swap_low
                .front()
                .is_some_and(|&(t, _)| at.saturating_sub(t) > SWAP_WINDOW)
            {
                self.swap_low.pop_front();
            }
            let least = self.swap_low.front().map_or(now, |&(_, v)| v);
            let grew = now.saturating_sub(least) as f64 >= SWAP_GROWTH_MIN_BYTES;
            if grew && !self.swap_growing {
                out.push(self.push(
                    wall,
                    at,
                    LiveKind::SwapGrew {
                        from_bytes: least,
                        to_bytes: now,
                    },
                ));
            }
            self.swap_growing = grew;
        }
        self.system = Some(row);
        self.system_at = at;

        // New processes; a runner starting while others are alive is an overlap. Those of the
        // first sample were running before: found, not started (a restarted `serve` or `top`
        // must not count them again).
        let first_sample = self.samples == 1;
        for (id, identity, argv) in started {
            let role = runner::classify(&identity.name, argv);
            let model = model_of(&role, identity);
            let started_at = (id.start_time_us > 0)
                .then(|| UNIX_EPOCH + Duration::from_micros(id.start_time_us));
            // Started again after its exec (first seen as its parent's copy): the same process,
            // now what it is; a runner's start is told now, when it is known to be one.
            let known = self.processes.iter().position(|p| p.id == *id && !p.exited);
            let was_runner = known.is_some_and(|i| self.processes[i].role.is_model_runner());
            let becomes_runner = role.is_model_runner() && !was_runner;
            if becomes_runner && first_sample {
                out.push(self.push(
                    wall,
                    at,
                    LiveKind::RunnerFound {
                        pid: id.pid,
                        model: model.clone(),
                        since: started_at,
                    },
                ));
            } else if becomes_runner {
                let alive_with: Vec<(u32, Option<String>)> = self
                    .runners()
                    .map(|r| (r.id.pid, r.model.clone()))
                    .collect();
                out.push(self.push(
                    wall,
                    at,
                    LiveKind::RunnerStarted {
                        pid: id.pid,
                        model: model.clone(),
                        alive_with,
                    },
                ));
            }
            if let Some(i) = known {
                let p = &mut self.processes[i];
                p.identity = identity.clone();
                p.role = role;
                p.model = model;
                continue;
            }
            self.processes.push(LiveProcess {
                id: *id,
                identity: identity.clone(),
                role,
                model,
                footprint_bytes: None,
                rss_bytes: 0,
                weights_resident_bytes: None,
                peak_bytes: 0,
                started: started_at,
                first_seen: at,
                found_later: !first_sample,
                history: VecDeque::new(),
                exited: false,
                exited_at: None,
            });
        }
        for s in processes {
            if let Some(p) = self.processes.iter_mut().find(|p| p.id == s.id) {
                p.footprint_bytes = s.footprint_bytes;
                p.rss_bytes = s.rss_bytes;
                p.weights_resident_bytes = s.weights_resident_bytes;
                let m = p.memory();
                p.peak_bytes = p.peak_bytes.max(m);
                p.history.push_back((at, m, s.rss_bytes));
                while p
                    .history
                    .front()
                    .is_some_and(|(t, _, _)| at.saturating_sub(*t) > self.history)
                {
                    p.history.pop_front();
                }
            }
        }
        for id in exited {
            let Some(i) = self.processes.iter().position(|p| p.id == *id) else {
                continue;
            };
            self.processes[i].exited = true;
            self.processes[i].exited_at = Some(at);
            if self.processes[i].role.is_model_runner() {
                let p = &self.processes[i];
                let kind = LiveKind::RunnerExited {
                    pid: p.id.pid,
                    model: p.model.clone(),
                    last_bytes: p.memory(),
                };
                out.push(self.push(wall, at, kind));
            }
        }
        // Exited processes leave the list after a while.
        self.processes.retain(|p| {
            p.exited_at
                .is_none_or(|t| at.saturating_sub(t) <= EXITED_KEPT)
        });
        out
    }

    /// One answer (or failure) of `/api/ps`, sent `since_start` after the recorder started.
    /// Returns the events it gave.
    pub fn poll(
        &mut self,
        since_start: Duration,
        sent: SystemTime,
        result: &Result<PsResponse, OllamaError>,
    ) -> Vec<LiveEvent> {
        let mut out = Vec::new();
        match result {
            Ok(ps) => {
                self.ollama.polls_ok += 1;
                if self.ollama.failing_since.take().is_some() {
                    out.push(self.push(sent, since_start, LiveKind::OllamaBack));
                }
                self.ollama.last_ok = Some(sent);
                self.ollama.last_error = None;
                let models: Vec<LoadedModel> = ps
                    .models
                    .iter()
                    .map(|m| LoadedModel {
                        name: m.name.clone(),
                        size_bytes: m.size,
                        size_vram_bytes: m.size_vram,
                        context_length: m.context_length,
                        expires_at: m.expires_at.and_then(|t| {
                            u64::try_from(t.as_millisecond())
                                .ok()
                                .map(|ms| UNIX_EPOCH + Duration::from_millis(ms))
                        }),
                    })
                    .collect();
                for m in &models {
                    if !self.ollama.models.iter().any(|o| o.name == m.name) {
                        self.name_by_listing(since_start, m);
                        out.push(self.push(
                            sent,
                            since_start,
                            LiveKind::ModelLoaded {
                                name: m.name.clone(),
                                size_bytes: m.size_bytes,
                            },
                        ));
                    }
                }
                let gone: Vec<String> = self
                    .ollama
                    .models
                    .iter()
                    .filter(|o| !models.iter().any(|m| m.name == o.name))
                    .map(|o| o.name.clone())
                    .collect();
                for name in gone {
                    out.push(self.push(sent, since_start, LiveKind::ModelUnloaded { name }));
                }
                // A model under several names is called by the one Ollama lists, as the
                // report calls it.
                for p in self.processes.iter_mut().filter(|p| !p.exited) {
                    let listed = p
                        .identity
                        .models
                        .iter()
                        .find(|n| models.iter().any(|m| m.name == **n));
                    if let Some(name) = listed {
                        p.model = Some(name.to_owned());
                    }
                }
                self.ollama.models = models;
            }
            Err(e) => {
                self.ollama.polls_failed += 1;
                if self.ollama.failing_since.is_none() {
                    self.ollama.failing_since = Some(sent);
                    out.push(self.push(
                        sent,
                        since_start,
                        LiveKind::OllamaDown {
                            error: e.to_string(),
                        },
                    ));
                }
                self.ollama.last_error = Some(e.to_string());
            }
        }
        out
    }
}

impl Live {
    /// Names, by its first listing, a model whose runner nothing else named (no manifest, no
    /// name in its command line: its blob's digest), as the report does
    /// (`memtide_model::events`, by timing and size): of Ollama's runners that started within
    /// [`API_PS_MATCH_AFTER_MS`] before the listing, were not running when the recorder
    /// started, and hold a quarter of its size or more, the one that started closest to it.
    fn name_by_listing(&mut self, now: Duration, m: &LoadedModel) {
        if self
            .processes
            .iter()
            .any(|p| p.model.as_deref() == Some(m.name.as_str()))
        {
            return;
        }
        let window = Duration::from_millis(API_PS_MATCH_AFTER_MS);
        let best = self
            .processes
            .iter_mut()
            .filter(|p| {
                !p.exited
                    && p.found_later
                    && matches!(
                        p.role,
                        Role::Runner {
                            under_ollama: true,
                            ..
                        }
                    )
                    && p.identity.models.is_empty()
                    && p.model.as_deref().is_some_and(|n| n.starts_with("sha256:"))
                    && now.saturating_sub(p.first_seen) <= window
                    && plausibly_holds(p.peak_bytes, m.size_bytes)
            })
            .min_by_key(|p| now.saturating_sub(p.first_seen));
        if let Some(p) = best {
            p.model = Some(m.name.clone());
        }
    }
}

/// A runner's model as the live view names it: the names its blob has in Ollama's manifests,
/// else a `--model` argument that is a name (MLX runners pass names), else its blob's digest.
fn model_of(role: &Role, identity: &IdentityRow) -> Option<String> {
    let Role::Runner { model_arg, .. } = role else {
        return None;
    };
    if let Some(first) = identity.models.first() {
        return Some(first.clone());
    }
    if let Some(hex) = manifests::blob_digest(model_arg) {
        let short: String = hex
            .chars()
            .take(memtide_model::events::DIGEST_NAME_HEX)
            .collect();
        return Some(format!("sha256:{short}…"));
    }
    // A path names a file, not a model; anything else is a name (`mlx-community/…`, `qwen3:8b`).
    let path =
        model_arg.starts_with('/') || model_arg.starts_with('.') || model_arg.ends_with(".gguf");
    (!path && !model_arg.is_empty()).then(|| model_arg.clone())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use memtide_model::ollama::RunningModel;
    use memtide_sampler::PressureLevel;

    pub(crate) const MIB: u64 = 1 << 20;

    pub(crate) fn host() -> HostInfo {
        HostInfo {
            os: "macos",
            os_version: Some("15.1".into()),
            arch: "aarch64",
            total_memory_bytes: 32 << 30,
            page_size_bytes: Some(16384),
            gpu_wired_limit_bytes: None,
        }
    }

    pub(crate) fn id(pid: u32) -> ProcessId {
        ProcessId {
            pid,
            start_time_us: 1_700_000_000_000_000 + u64::from(pid),
        }
    }

    /// A process as the sampler reports it starting: the row `convert` makes of it.
    pub(crate) fn started(pid: u32, argv: &[&str]) -> (ProcessId, IdentityRow, Vec<String>) {
        let argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
        let info = memtide_sampler::ProcessInfo {
            id: id(pid),
            ppid: 1,
            name: argv[0].rsplit('/').next().unwrap().into(),
            exe: None,
            argv: argv.clone(),
        };
        (id(pid), convert::identity_row(&info, &[], "x"), argv)
    }

    pub(crate) fn sample(pid: u32, footprint: u64) -> ProcessSample {
        let mut s = ProcessSample::empty(id(pid), 1, "ollama".into());
        s.rss_bytes = footprint + 10 * MIB;
        s.footprint_bytes = Some(footprint);
        s
    }

    pub(crate) fn system(free: f64, pressure: PressureLevel, swap: u64) -> SystemSample {
        let mut s = SystemSample::default();
        s.total_bytes = 32 << 30;
        s.free_percent = Some(free);
        s.pressure = Some(pressure);
        s.swap_used_bytes = Some(swap);
        s
    }

    pub(crate) fn live() -> Live {
        Live::new(host(), None, Duration::from_millis(250), HISTORY)
    }

    pub(crate) const RUNNER_A: [&str; 6] = [
        "/Applications/Ollama.app/Contents/Resources/ollama",
        "runner",
        "--model",
        "llama3.2:3b",
        "--port",
        "50100",
    ];
    pub(crate) const RUNNER_B: [&str; 6] = [
        "/Applications/Ollama.app/Contents/Resources/ollama",
        "runner",
        "--model",
        "/Users/me/.ollama/models/blobs/sha256-a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72",
        "--port",
        "50101",
    ];

    #[test]
    fn a_process_started_again_after_its_exec_is_one_process_and_one_runner_start() {
        let mut l = live();
        let now = SystemTime::now();
        let serve = [
            "/Applications/Ollama.app/Contents/Resources/ollama",
            "serve",
        ];
        let sys = system(80.0, PressureLevel::Normal, 0);
        l.update(
            Duration::ZERO,
            now,
            &sys,
            &[started(50, &serve)],
            &[sample(50, MIB)],
            &[],
        );
        // serve's child, listed before its exec: a copy of serve.
        let t = Duration::from_secs(1);
        let e = l.update(
            t,
            now,
            &sys,
            &[started(100, &serve)],
            &[sample(100, MIB)],
            &[],
        );
        assert!(e.is_empty(), "{e:?}");
        // Its exec makes it runner A: its start is told now, once.
        let t = Duration::from_secs(2);
        let e = l.update(
            t,
            now,
            &sys,
            &[started(100, &RUNNER_A)],
            &[sample(100, MIB)],
            &[],
        );
        assert!(
            matches!(
                &e[..],
                [LiveEvent {
                    kind: LiveKind::RunnerStarted { pid: 100, .. },
                    ..
                }]
            ),
            "{e:?}"
        );
        assert_eq!(l.processes.len(), 2);
        assert_eq!(l.processes[1].model.as_deref(), Some("llama3.2:3b"));
        assert_eq!(l.counts.runner_starts, 1);
    }

    #[test]
    fn a_model_under_two_names_is_called_by_the_one_ollama_lists() {
        let mut l = live();
        let now = SystemTime::now();
        let mut runner = started(100, &RUNNER_A);
        runner.1.models = vec!["gemma3:270m".into(), "tiny:latest".into()];
        l.update(
            Duration::ZERO,
            now,
            &system(80.0, PressureLevel::Normal, 0),
            &[runner],
            &[sample(100, MIB)],
            &[],
        );
        assert_eq!(l.processes[0].model.as_deref(), Some("gemma3:270m"));
        let mut ps = PsResponse::default();
        ps.models.push(memtide_model::ollama::RunningModel {
            name: "tiny:latest".into(),
            size: 1 << 30,
            ..Default::default()
        });
        l.poll(Duration::from_secs(1), now, &Ok(ps));
        assert_eq!(l.processes[0].model.as_deref(), Some("tiny:latest"));
    }

    #[test]
    fn runners_running_at_the_first_sample_are_found_not_started_nor_overlaps() {
        // A `serve` or `top` (re)started while two runners run.
        let mut l = live();
        let now = SystemTime::now();
        let sys = system(80.0, PressureLevel::Normal, 0);
        let e = l.update(
            Duration::ZERO,
            now,
            &sys,
            &[started(100, &RUNNER_A), started(200, &RUNNER_B)],
            &[sample(100, 900 * MIB), sample(200, 300 * MIB)],
            &[],
        );
        assert!(e
            .iter()
            .all(|e| matches!(e.kind, LiveKind::RunnerFound { .. })));
        assert_eq!(e.len(), 2);
        assert_eq!((l.counts.runner_starts, l.counts.overlaps), (0, 0));
        assert_eq!(l.runners().count(), 2);
        // One that starts later is a start, and an overlap with them.
        let e = l.update(
            Duration::from_secs(1),
            now,
            &sys,
            &[started(300, &RUNNER_A)],
            &[
                sample(100, 900 * MIB),
                sample(200, 300 * MIB),
                sample(300, MIB),
            ],
            &[],
        );
        assert!(
            matches!(&e[0].kind, LiveKind::RunnerStarted { alive_with, .. } if alive_with.len() == 2)
        );
        assert_eq!((l.counts.runner_starts, l.counts.overlaps), (1, 1));
    }

    #[test]
    fn a_runner_starting_while_another_is_alive_is_an_overlap_and_exits_are_seen() {
        let mut l = live();
        let t = |s: u64| Duration::from_secs(s);
        let now = SystemTime::now();
        let sys = system(80.0, PressureLevel::Normal, 0);
        // The first sample: nothing running yet.
        assert!(l.update(t(0), now, &sys, &[], &[], &[]).is_empty());
        let e = l.update(
            t(0),
            now,
            &sys,
            &[started(100, &RUNNER_A)],
            &[sample(100, 900 * MIB)],
            &[],
        );
        assert_eq!(
            e.iter().map(|e| e.kind.clone()).collect::<Vec<_>>(),
            [LiveKind::RunnerStarted {
                pid: 100,
                model: Some("llama3.2:3b".into()),
                alive_with: vec![]
            }]
        );
        let e = l.update(
            t(1),
            now,
            &sys,
            &[started(200, &RUNNER_B)],
            &[sample(100, 2048 * MIB), sample(200, 300 * MIB)],
            &[],
        );
        assert_eq!(
            e[0].kind,
            LiveKind::RunnerStarted {
                pid: 200,
                // No manifests to name the blob: its digest, as the report shows it.
                model: Some("sha256:a80c4f17acd5…".into()),
                alive_with: vec![(100, Some("llama3.2:3b".into()))]
            }
        );
        assert_eq!(l.runners().count(), 2);
        let a = l.processes.iter().find(|p| p.id.pid == 100).unwrap();
        assert_eq!(
            (a.memory(), a.peak_bytes, a.history.len()),
            (2048 * MIB, 2048 * MIB, 2)
        );
        let e = l.update(t(2), now, &sys, &[], &[sample(200, 400 * MIB)], &[id(100)]);
        assert_eq!(
            e[0].kind,
            LiveKind::RunnerExited {
                pid: 100,
                model: Some("llama3.2:3b".into()),
                last_bytes: 2048 * MIB
            }
        );
        assert_eq!(l.runners().count(), 1);
        // The exited one stays listed for a while, then goes.
        assert_eq!(l.processes.len(), 2);
        l.update(
            t(2) + EXITED_KEPT + t(1),
            now,
            &sys,
            &[],
            &[sample(200, 400 * MIB)],
            &[],
        );
        assert_eq!(l.processes.len(), 1);
    }

    #[test]
    fn pressure_low_memory_and_swap_growth_are_said_once_each() {
        let mut l = live();
        let now = SystemTime::now();
        let mut kinds = Vec::new();
        let steps = [
            (80.0, PressureLevel::Normal, 1024 * MIB),
            (40.0, PressureLevel::Normal, 1024 * MIB),
            (22.0, PressureLevel::Warning, 1100 * MIB),
            (21.0, PressureLevel::Warning, 1400 * MIB),
            (20.0, PressureLevel::Warning, 1500 * MIB),
            // Back over 30 % but not by the hysteresis: still low.
            (31.0, PressureLevel::Normal, 1500 * MIB),
            (33.0, PressureLevel::Normal, 1500 * MIB),
        ];
        for (i, (free, p, swap)) in steps.into_iter().enumerate() {
            let e = l.update(
                Duration::from_secs(i as u64),
                now,
                &system(free, p, swap),
                &[],
                &[],
                &[],
            );
            kinds.extend(e.into_iter().map(|e| e.kind));
        }
        assert_eq!(
            kinds,
            [
                LiveKind::Pressure {
                    from: Some(PressureLevel::Normal),
                    to: PressureLevel::Warning
                },
                LiveKind::LowMemory {
                    free_percent: 22.0,
                    threshold_percent: LOW_MEMORY_FREE_PERCENT
                },
                LiveKind::SwapGrew {
                    from_bytes: 1024 * MIB,
                    to_bytes: 1400 * MIB
                },
                LiveKind::Pressure {
                    from: Some(PressureLevel::Warning),
                    to: PressureLevel::Normal
                },
                LiveKind::MemoryRecovered { free_percent: 33.0 },
            ]
        );
        assert_eq!(l.system_history.len(), 7);
    }

    #[test]
    fn swap_growth_is_measured_over_the_last_minute_whatever_the_history_kept() {
        // No history kept (a recorder without sparklines): the same growth is told.
        let mut l = Live::new(host(), None, Duration::from_secs(1), Duration::ZERO);
        let now = SystemTime::now();
        let mut grew = Vec::new();
        // Swap falls to 900 MiB, then creeps up 100 MiB a minute (never growth), then grows
        // 300 MiB within 30 s; the low 90 s before that is out of the window.
        let steps = [
            (0, 1000),
            (10, 900),
            (70, 1000),
            (130, 1100),
            (190, 1200),
            (200, 1300),
            (220, 1500),
        ];
        for (secs, swap) in steps {
            let e = l.update(
                Duration::from_secs(secs),
                now,
                &system(50.0, PressureLevel::Normal, swap * MIB),
                &[],
                &[],
                &[],
            );
            grew.extend(e.into_iter().filter_map(|e| match e.kind {
                LiveKind::SwapGrew {
                    from_bytes,
                    to_bytes,
                } => Some((secs, from_bytes / MIB, to_bytes / MIB)),
                _ => None,
            }));
        }
        assert_eq!(grew, [(220, 1200, 1500)]);
        assert!(l.system_history.is_empty());
        assert!(l.system.is_some(), "the latest sample is kept all the same");
    }

    fn down() -> OllamaError {
        OllamaError::Unreachable {
            url: "http://127.0.0.1:11434".into(),
            detail: "connection refused".into(),
        }
    }

    #[test]
    fn polls_give_loads_unloads_and_ollama_going_down_and_back() {
        let mut l = live();
        let now = SystemTime::now();
        let ps = |names: &[&str]| {
            Ok(PsResponse {
                models: names
                    .iter()
                    .map(|n| RunningModel {
                        name: n.to_string(),
                        size: 3 << 30,
                        ..RunningModel::default()
                    })
                    .collect(),
                dropped: 0,
            })
        };
        let mut kinds = Vec::new();
        for r in [
            ps(&["llama3.2:3b"]),
            ps(&["llama3.2:3b", "qwen3:8b"]),
            Err(down()),
            Err(down()),
            ps(&["qwen3:8b"]),
        ] {
            kinds.extend(l.poll(Duration::ZERO, now, &r).into_iter().map(|e| e.kind));
        }
        assert_eq!(
            kinds,
            [
                LiveKind::ModelLoaded {
                    name: "llama3.2:3b".into(),
                    size_bytes: 3 << 30
                },
                LiveKind::ModelLoaded {
                    name: "qwen3:8b".into(),
                    size_bytes: 3 << 30
                },
                LiveKind::OllamaDown {
                    error: down().to_string()
                },
                LiveKind::OllamaBack,
                LiveKind::ModelUnloaded {
                    name: "llama3.2:3b".into()
                },
            ]
        );
        assert_eq!(l.ollama.models.len(), 1);
        assert!(l.ollama.failing_since.is_none() && l.ollama.last_ok.is_some());
    }
}
