//! What the recorder sees, as Prometheus metrics: system memory and the kernel's pressure
//! level, memory per model runner (labelled by model, not by process name), the other Ollama
//! processes by role, what Ollama has loaded, the events counted, and what the recorder costs.
//!
//! A front-end takes a [`Reading`] after each tick (a copy of the numbers, cheap) and
//! publishes it in a [`Latest`]; whoever answers a scrape encodes the latest reading with
//! [`encode`]. A scrape therefore never samples and never waits for the recorder: a slow or
//! flooding scraper cannot delay a tick or change what it reads, and the recorder waits for no
//! scraper (the lock between them is held only to swap or clone a pointer).
//!
//! Names follow Prometheus's naming guide: a `memtide_` prefix, base units (bytes, seconds,
//! ratios from 0 to 1) named in a suffix, `_total` on counters. Series are built afresh from
//! each reading, so a runner that exited is gone from the next scrape. `docs/fleet.md` lists
//! every metric.

use crate::live::{EventCounts, Live, LoadedModel};
use crate::Recorder;
use memtide_model::runner::Role;
use memtide_sampler::OwnUsage;
use memtide_trace::{PressureLevel, SystemRow};
use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The `Content-Type` of what [`encode`] writes: the Prometheus text format, version 0.0.4.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// One model runner alive at a tick.
#[derive(Debug, Clone, PartialEq)]
pub struct RunnerReading {
    /// The model it serves (see [`crate::live::LiveProcess::model`]); `unknown` when its
    /// command line names none.
    pub model: String,
    /// Its PID.
    pub pid: u32,
    /// Its runner family (`ollama runner`, `llama-server`, `mlx`, …).
    pub engine: memtide_model::runner::Engine,
    /// Started by Ollama.
    pub under_ollama: bool,
    /// Footprint, where the OS has one.
    pub footprint_bytes: Option<u64>,
    /// Resident set.
    pub rss_bytes: u64,
    /// Its model file resident in its mappings, where counted.
    pub weights_resident_bytes: Option<u64>,
    /// Model memory (footprint plus the mapped weights resident in RAM), where the footprint
    /// and the weights are both known.
    pub model_memory_bytes: Option<u64>,
    /// The highest [`crate::live::LiveProcess::memory`] seen.
    pub peak_bytes: u64,
}

/// The followed processes that are not model runners, summed by role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelperReading {
    /// `serve`, `app`, `client`, `discovery` or `other`.
    pub role: &'static str,
    /// How many are alive.
    pub processes: u64,
    /// Their footprints summed (RSS for any without one).
    pub memory_bytes: u64,
    /// Their resident sets summed.
    pub rss_bytes: u64,
}

/// Ollama at a tick, when it is asked.
#[derive(Debug, Clone, PartialEq)]
pub struct OllamaReading {
    /// Its last poll was answered.
    pub up: bool,
    /// What that answer listed; `None` while Ollama does not answer (the last listing is no
    /// longer known to hold).
    pub models: Option<Vec<LoadedModel>>,
    /// How long the last poll took.
    pub last_latency: Option<Duration>,
    /// Polls answered, and failed, since the recorder started.
    pub polls_ok: u64,
    /// See `polls_ok`.
    pub polls_failed: u64,
}

/// The numbers of one tick, as the metrics tell them.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// When the tick was taken.
    pub at: SystemTime,
    /// `macos`, `linux`, …
    pub os: &'static str,
    /// The machine's memory.
    pub total_memory_bytes: u64,
    /// macOS: the GPU's wired-memory limit, where set.
    pub gpu_wired_limit_bytes: Option<u64>,
    /// The system sample (none before the first tick).
    pub system: Option<SystemRow>,
    /// The runners alive.
    pub runners: Vec<RunnerReading>,
    /// Everything else followed, by role.
    pub helpers: Vec<HelperReading>,
    /// Ollama, when it is asked.
    pub ollama: Option<OllamaReading>,
    /// Samples taken since the recorder started.
    pub samples: u64,
    /// Ticks missed since then.
    pub missed: u64,
    /// The time between samples now (shorter while bursting).
    pub interval: Duration,
    /// The events since then, counted.
    pub counts: EventCounts,
    /// Whether a trace is being written.
    pub recording: Recording,
    /// The most file descriptors memtide may open (its soft limit), where the front-end tells.
    pub max_fds: Option<u64>,
    /// When memtide's process started, where the front-end tells.
    pub process_start: Option<SystemTime>,
}

/// Whether the recorder writes a trace, as `memtide_recording` tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Recording {
    /// No trace was asked for, or it was finished.
    #[default]
    Off,
    /// A trace is being written.
    On,
    /// The trace could not be written (a full disk) and recording stopped; sampling and
    /// exporting go on.
    Failed,
}

/// A role's name as a label value.
fn role_label(role: &Role) -> &'static str {
    match role {
        Role::Runner { .. } => "runner",
        Role::Discovery => "discovery",
        Role::Serve => "serve",
        Role::App => "app",
        Role::Client { .. } => "client",
        Role::Other => "other",
    }
}

impl Reading {
    /// What `rec` holds after its latest tick, taken at `at`.
    pub fn of(rec: &Recorder, at: SystemTime) -> Reading {
        let mut r = Reading::from_live(rec.live(), at);
        r.interval = rec.current_interval();
        r.recording = match (rec.trace_dir(), rec.write_failure()) {
            (Some(_), _) => Recording::On,
            (None, Some(_)) => Recording::Failed,
            (None, None) => Recording::Off,
        };
        r
    }

    /// What `live` holds, taken at `at`.
    pub fn from_live(live: &Live, at: SystemTime) -> Reading {
        let mut runners = Vec::new();
        let mut helpers: Vec<HelperReading> = Vec::new();
        for p in live.processes.iter().filter(|p| !p.exited) {
            if let Role::Runner {
                engine,
                under_ollama,
                ..
            } = &p.role
            {
                runners.push(RunnerReading {
                    model: p.model.clone().unwrap_or_else(|| "unknown".into()),
                    pid: p.id.pid,
                    engine: *engine,
                    under_ollama: *under_ollama,
                    footprint_bytes: p.footprint_bytes,
                    rss_bytes: p.rss_bytes,
                    weights_resident_bytes: p.weights_resident_bytes,
                    model_memory_bytes: p.model_memory(),
                    peak_bytes: p.peak_bytes,
                });
                continue;
            }
            let role = role_label(&p.role);
            let h = match helpers.iter_mut().position(|h| h.role == role) {
                Some(i) => &mut helpers[i],
                None => {
                    helpers.push(HelperReading {
                        role,
                        processes: 0,
                        memory_bytes: 0,
                        rss_bytes: 0,
                    });
                    helpers.last_mut().expect("just pushed")
                }
            };
            h.processes += 1;
            h.memory_bytes += p.memory();
            h.rss_bytes += p.rss_bytes;
        }
        let o = &live.ollama;
        Reading {
            at,
            os: live.host.os,
            total_memory_bytes: live.host.total_memory_bytes,
            gpu_wired_limit_bytes: live.host.gpu_wired_limit_bytes,
            system: live.system.clone(),
            runners,
            helpers,
            ollama: o.url.as_ref().map(|_| OllamaReading {
                up: o.last_ok.is_some() && o.failing_since.is_none(),
                // A listing older than the last failed poll is not what is loaded now.
                models: (o.failing_since.is_none() && o.last_ok.is_some())
                    .then(|| o.models.clone()),
                last_latency: o.last_latency,
                polls_ok: o.polls_ok,
                polls_failed: o.polls_failed,
            }),
            samples: live.samples,
            missed: live.missed,
            interval: live.interval(),
            recording: Recording::Off,
            max_fds: None,
            process_start: None,
            counts: live.counts,
        }
    }
}

/// The latest reading, shared between the recorder's thread (which publishes) and the threads
/// that answer scrapes (which read). Cloning it shares it.
#[derive(Debug, Clone, Default)]
pub struct Latest(Arc<Mutex<Option<Arc<Reading>>>>);

impl Latest {
    /// Makes `reading` the one scrapes see.
    pub fn publish(&self, reading: Reading) {
        let reading = Arc::new(reading);
        // A thread that panicked while holding the lock left a whole pointer behind: the lock
        // guards no invariant beyond it.
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(reading);
    }

    /// The latest reading, if one was published.
    pub fn get(&self) -> Option<Arc<Reading>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

type Labels = Vec<(&'static str, String)>;

/// A registry filled from one reading.
struct Exposition {
    reg: Registry,
}

impl Exposition {
    fn gauge(&mut self, name: &str, help: &str, unit: Option<Unit>, value: u64) {
        let g = Gauge::<i64>::default();
        g.set(i64::try_from(value).unwrap_or(i64::MAX));
        self.register(name, help, unit, g);
    }

    /// A gauge of a fraction: seconds, or a ratio.
    fn float(&mut self, name: &str, help: &str, unit: Unit, value: f64) {
        let g = Gauge::<f64, AtomicU64>::default();
        g.set(value);
        self.register(name, help, Some(unit), g);
    }

    fn counter(&mut self, name: &str, help: &str, value: u64) {
        let c = Counter::<u64>::default();
        c.inc_by(value);
        self.reg.register(name, help, c);
    }

    fn gauges<I>(&mut self, name: &str, help: &str, unit: Option<Unit>, rows: I)
    where
        I: IntoIterator<Item = (Labels, u64)>,
    {
        let f = Family::<Labels, Gauge>::default();
        for (labels, v) in rows {
            f.get_or_create(&labels)
                .set(i64::try_from(v).unwrap_or(i64::MAX));
        }
        self.register(name, help, unit, f);
    }

    fn register(
        &mut self,
        name: &str,
        help: &str,
        unit: Option<Unit>,
        metric: impl prometheus_client::registry::Metric,
    ) {
        match unit {
            Some(u) => self.reg.register_with_unit(name, help, u, metric),
            None => self.reg.register(name, help, metric),
        }
    }
}

/// Prometheus's naming guide spells the unit `ratio`; the crate's `Unit::Ratios` would append
/// `_ratios`.
fn ratio() -> Unit {
    Unit::Other("ratio".into())
}

fn since_epoch(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The pressure level's number: 0 normal, 1 warning, 2 critical.
fn pressure_number(level: PressureLevel) -> u64 {
    match level {
        PressureLevel::Normal => 0,
        PressureLevel::Warning => 1,
        PressureLevel::Critical => 2,
    }
}

/// `reading` (and, when given, what memtide itself costs now) in the Prometheus text format.
pub fn encode(reading: &Reading, own: Option<&OwnUsage>) -> String {
    let mut e = Exposition {
        reg: Registry::with_prefix("memtide"),
    };
    let r = reading;
    e.gauges(
        "build_info",
        "memtide's version and the OS it reads (always 1)",
        None,
        [(
            vec![
                ("version", env!("CARGO_PKG_VERSION").to_owned()),
                ("os", r.os.to_owned()),
            ],
            1,
        )],
    );
    system(&mut e, r);
    runners(&mut e, r);
    if let Some(o) = &r.ollama {
        ollama(&mut e, o);
    }
    events(&mut e, &r.counts);
    e.float(
        "last_sample_timestamp",
        "When the sample these figures come from was taken, seconds since the Unix epoch",
        Unit::Seconds,
        since_epoch(r.at),
    );
    e.float(
        "sample_interval",
        "The time between samples now (shorter while bursting after an event)",
        Unit::Seconds,
        r.interval.as_secs_f64(),
    );
    e.counter("samples", "Samples taken since memtide started", r.samples);
    e.gauge(
        "recording",
        "1 while memtide writes a trace (serve --record), 0 otherwise",
        None,
        u64::from(r.recording == Recording::On),
    );
    e.gauge(
        "recording_failed",
        "1 once the trace could not be written (a full disk) and recording stopped; \
         sampling and exporting go on",
        None,
        u64::from(r.recording == Recording::Failed),
    );
    e.counter(
        "missed_ticks",
        "Samples missed because memtide fell behind its schedule",
        r.missed,
    );
    if let Some(u) = own {
        e.gauge(
            "self_peak_rss",
            "The most resident memory memtide has used",
            Some(Unit::Bytes),
            u.usage.peak_rss_bytes,
        );
    }
    // memtide's own cost under the names every Prometheus client library's process collector
    // gives it, so that dashboards and alerts made for any exporter read memtide's too.
    let mut p = Exposition {
        reg: Registry::default(),
    };
    if let Some(u) = own {
        let c = Counter::<f64, AtomicU64>::default();
        c.inc_by(u.usage.cpu.as_secs_f64());
        p.reg.register_with_unit(
            "process_cpu",
            "CPU time memtide has used (user and system, every thread)",
            Unit::Seconds,
            c,
        );
        p.gauge(
            "process_resident_memory",
            "memtide's resident memory",
            Some(Unit::Bytes),
            u.rss_bytes,
        );
    }
    if let Some(n) = r.max_fds {
        p.gauge(
            "process_max_fds",
            "The most file descriptors memtide may have open (its soft limit)",
            None,
            n,
        );
    }
    if let Some(t) = r.process_start {
        p.float(
            "process_start_time",
            "When memtide's process started, seconds since the Unix epoch",
            Unit::Seconds,
            since_epoch(t),
        );
    }
    let mut text = String::new();
    // Writing into a String cannot fail. The text format has no end marker, so the two
    // registries' texts follow each other.
    let _ = prometheus_text::encode(&mut text, &e.reg);
    let _ = prometheus_text::encode(&mut text, &p.reg);
    text
}

fn system(e: &mut Exposition, r: &Reading) {
    e.gauge(
        "memory_total",
        "Physical memory installed",
        Some(Unit::Bytes),
        r.total_memory_bytes,
    );
    if let Some(v) = r.gpu_wired_limit_bytes {
        e.gauge(
            "gpu_wired_limit",
            "macOS: the most memory the GPU may wire (iogpu.wired_limit_mb), where it is set",
            Some(Unit::Bytes),
            v,
        );
    }
    let Some(s) = &r.system else {
        return;
    };
    let bytes: [(&str, &str, Option<u64>); 7] = [
        (
            "memory_available",
            "Memory obtainable without compressing or swapping",
            s.available_bytes,
        ),
        (
            "memory_free",
            "Unused memory (macOS: speculative pages excluded)",
            s.free_bytes,
        ),
        (
            "memory_wired",
            "Memory that cannot be paged out (macOS: includes GPU/Metal wired memory)",
            s.wired_bytes,
        ),
        (
            "memory_compressor",
            "Physical memory the compressor occupies (macOS: pages occupied by compressor; Linux: zswap)",
            s.compressor_bytes,
        ),
        ("swap_total", "Swap space", s.swap_total_bytes),
        ("swap_used", "Swap space in use", s.swap_used_bytes),
        (
            "memory_compressed_payload",
            "macOS: the compressed data inside the compressor (vm.compressor_bytes_used)",
            s.compressor_payload_bytes,
        ),
    ];
    for (name, help, v) in bytes {
        if let Some(v) = v {
            e.gauge(name, help, Some(Unit::Bytes), v);
        }
    }
    if let Some(p) = s.free_percent {
        e.float(
            "memory_free",
            "The kernel's free share (macOS: kern.memorystatus_level, as memory_pressure prints it; Linux: MemAvailable / MemTotal)",
            ratio(),
            p / 100.0,
        );
    }
    if let Some(level) = s.pressure {
        e.gauges(
            "pressure_level",
            "The kernel's memory pressure level: 0 normal, 1 warning, 2 critical (the level label names it)",
            None,
            [(vec![("level", level.as_str().to_owned())], pressure_number(level))],
        );
    }
    let stall: Vec<(Labels, f64)> = [("some", s.psi_some_avg10), ("full", s.psi_full_avg10)]
        .into_iter()
        .filter_map(|(kind, v)| Some((vec![("kind", kind.to_owned())], v? / 100.0)))
        .collect();
    if !stall.is_empty() {
        let f = Family::<Labels, Gauge<f64, AtomicU64>>::default();
        for (labels, v) in stall {
            f.get_or_create(&labels).set(v);
        }
        e.register(
            "memory_stall_avg10",
            "Linux: the share of the last 10 s in which some (or all) tasks stalled on memory (PSI)",
            Some(ratio()),
            f,
        );
    }
}

fn runners(e: &mut Exposition, r: &Reading) {
    let labels = |p: &RunnerReading| -> Labels {
        vec![
            ("model", p.model.clone()),
            ("pid", p.pid.to_string()),
            ("engine", p.engine.name().to_owned()),
            ("under_ollama", p.under_ollama.to_string()),
        ]
    };
    e.gauges(
        "runner_model_memory",
        "A model runner's model memory: its footprint plus its model file's pages resident in its mappings (the mapped weights, which the footprint leaves out); the figure memtide's report, charts and top show",
        Some(Unit::Bytes),
        r.runners
            .iter()
            .filter_map(|p| Some((labels(p), p.model_memory_bytes?))),
    );
    e.gauges(
        "runner_weights_resident",
        "A model runner's model file resident in its mappings (mapped weights), where memtide can count it",
        Some(Unit::Bytes),
        r.runners
            .iter()
            .filter_map(|p| Some((labels(p), p.weights_resident_bytes?))),
    );
    e.gauges(
        "runner_footprint",
        "A model runner's footprint: the memory it is charged for (macOS phys_footprint; Linux: anonymous resident plus swapped)",
        Some(Unit::Bytes),
        r.runners
            .iter()
            .filter_map(|p| Some((labels(p), p.footprint_bytes?))),
    );
    e.gauges(
        "runner_rss",
        "A model runner's resident set (RSS), mapped model weights included",
        Some(Unit::Bytes),
        r.runners.iter().map(|p| (labels(p), p.rss_bytes)),
    );
    e.gauges(
        "runner_peak_model_memory",
        "A model runner's highest model memory since memtide started following it (its footprint where its mapped weights are not counted, RSS where the OS has no footprint)",
        Some(Unit::Bytes),
        r.runners.iter().map(|p| (labels(p), p.peak_bytes)),
    );
    e.gauges(
        "runners",
        "Model runners alive",
        None,
        [(Vec::new(), r.runners.len() as u64)],
    );
    let role = |h: &HelperReading| vec![("role", h.role.to_owned())];
    e.gauges(
        "helper_processes",
        "Followed processes that are not model runners (ollama serve, the app, clients, discovery runners), by role",
        None,
        r.helpers.iter().map(|h| (role(h), h.processes)),
    );
    e.gauges(
        "helper_footprint",
        "Their footprints summed, by role (RSS for any without one)",
        Some(Unit::Bytes),
        r.helpers.iter().map(|h| (role(h), h.memory_bytes)),
    );
    e.gauges(
        "helper_rss",
        "Their resident sets summed, by role",
        Some(Unit::Bytes),
        r.helpers.iter().map(|h| (role(h), h.rss_bytes)),
    );
}

fn ollama(e: &mut Exposition, o: &OllamaReading) {
    e.gauge(
        "ollama_up",
        "1 when Ollama answered its last poll of /api/ps, else 0",
        None,
        u64::from(o.up),
    );
    // While Ollama does not answer, what it has loaded is unknown: no listing is exported.
    let listed = o.models.as_deref().unwrap_or_default();
    if let Some(models) = &o.models {
        e.gauge(
            "ollama_models_loaded",
            "Models Ollama's /api/ps listed in its last answer (absent while it does not answer)",
            None,
            models.len() as u64,
        );
    }
    let model = |m: &LoadedModel| vec![("model", m.name.clone())];
    e.gauges(
        "ollama_model_size",
        "A loaded model's size, as /api/ps gives it (size)",
        Some(Unit::Bytes),
        listed.iter().map(|m| (model(m), m.size_bytes)),
    );
    e.gauges(
        "ollama_model_size_vram",
        "The part of a loaded model's size in GPU memory, as /api/ps gives it (size_vram)",
        Some(Unit::Bytes),
        listed
            .iter()
            .filter_map(|m| Some((model(m), m.size_vram_bytes?))),
    );
    if let Some(l) = o.last_latency {
        e.float(
            "ollama_poll_latency",
            "How long Ollama took to answer (or fail) the last poll of /api/ps",
            Unit::Seconds,
            l.as_secs_f64(),
        );
    }
    let f = Family::<Labels, Counter>::default();
    f.get_or_create(&vec![("outcome", "ok".to_owned())])
        .inc_by(o.polls_ok);
    f.get_or_create(&vec![("outcome", "failed".to_owned())])
        .inc_by(o.polls_failed);
    e.reg.register(
        "ollama_polls",
        "Polls of Ollama's /api/ps since memtide started, by outcome",
        f,
    );
}

fn events(e: &mut Exposition, c: &EventCounts) {
    let counters: [(&str, &str, u64); 7] = [
        (
            "runner_starts",
            "Model runners that started while memtide watched (those already running when it started are not counted)",
            c.runner_starts,
        ),
        (
            "runner_overlaps",
            "Model runners that started while another was alive: an overlap began (what stalls a Mac)",
            c.overlaps,
        ),
        ("runner_exits", "Model runners that exited", c.runner_exits),
        ("model_loads", "Models Ollama's /api/ps started listing", c.model_loads),
        ("model_unloads", "Models it stopped listing", c.model_unloads),
        (
            "pressure_changes",
            "Changes of the kernel's memory pressure level",
            c.pressure_changes,
        ),
        (
            "pressure_notifications",
            "The kernel's memory pressure signals (each change of macOS's level; Linux's PSI trigger firing)",
            c.pressure_notifications,
        ),
    ];
    for (name, help, v) in counters {
        e.counter(name, help, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::tests::{live, sample, started, system, MIB, RUNNER_A, RUNNER_B};
    use memtide_model::ollama::{PsResponse, RunningModel};
    use memtide_sampler::PressureLevel;

    /// The sample lines of `text` whose name is `name`, as (labels, value), sorted (a family's
    /// series come in no set order).
    fn series<'t>(text: &'t str, name: &str) -> Vec<(&'t str, &'t str)> {
        let mut found: Vec<_> = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let (head, value) = l.rsplit_once(' ')?;
                let (n, labels) = match head.split_once('{') {
                    Some((n, rest)) => (n, rest.trim_end_matches('}')),
                    None => (head, ""),
                };
                (n == name).then_some((labels, value))
            })
            .collect();
        found.sort();
        found
    }

    /// Every sample line belongs to a family introduced by `# HELP` and `# TYPE`.
    fn assert_described(text: &str) {
        let mut family = String::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                family = rest.split(' ').next().unwrap().to_owned();
                let help = format!("# HELP {family} ");
                assert!(text.contains(&help), "no HELP for {family}");
            } else if !line.starts_with('#') {
                let name = line.split(['{', ' ']).next().unwrap();
                assert_eq!(name, family, "{line} outside its family");
            }
        }
    }

    #[test]
    fn runners_are_labelled_by_model_and_gone_once_they_exit() {
        let mut l = live();
        l.ollama.url = Some("http://127.0.0.1:11434".into());
        let t = Duration::from_secs;
        let now = SystemTime::now();
        let serve = started(
            50,
            &[
                "/Applications/Ollama.app/Contents/Resources/ollama",
                "serve",
            ],
        );
        l.update(
            t(0),
            now,
            &system(40.0, PressureLevel::Normal, 0),
            &[serve, started(100, &RUNNER_A)],
            &[sample(50, 30 * MIB), sample(100, 900 * MIB)],
            &[],
        );
        l.update(
            t(1),
            now,
            &system(12.5, PressureLevel::Warning, 2 << 30),
            &[started(200, &RUNNER_B)],
            &[
                sample(50, 30 * MIB),
                sample(100, 2048 * MIB),
                sample(200, 300 * MIB),
            ],
            &[],
        );
        let ps = PsResponse {
            models: vec![RunningModel {
                name: "llama3.2:3b".into(),
                size: 2 << 30,
                size_vram: Some(1 << 30),
                ..RunningModel::default()
            }],
            ..PsResponse::default()
        };
        l.poll(t(1), now, &Ok(ps));
        l.ollama.last_latency = Some(Duration::from_millis(12));
        l.counts.pressure_notifications = 3;

        let text = encode(&Reading::from_live(&l, now), None);
        assert_described(&text);
        let a = "model=\"llama3.2:3b\",pid=\"100\",engine=\"ollama runner\",under_ollama=\"true\"";
        assert_eq!(
            series(&text, "memtide_runner_footprint_bytes"),
            [
                (a, "2147483648"),
                (
                    "model=\"sha256:a80c4f17acd5…\",pid=\"200\",engine=\"ollama runner\",under_ollama=\"true\"",
                    "314572800"
                )
            ]
        );
        assert!(series(&text, "memtide_runner_rss_bytes").contains(&(a, "2157969408")));
        assert_eq!(series(&text, "memtide_runners"), [("", "2")]);
        assert_eq!(
            series(&text, "memtide_helper_footprint_bytes"),
            [("role=\"serve\"", "31457280")]
        );
        assert_eq!(
            series(&text, "memtide_pressure_level"),
            [("level=\"warning\"", "1")]
        );
        assert_eq!(series(&text, "memtide_memory_free_ratio"), [("", "0.125")]);
        assert_eq!(
            series(&text, "memtide_swap_used_bytes"),
            [("", "2147483648")]
        );
        assert_eq!(
            series(&text, "memtide_memory_total_bytes"),
            [("", "34359738368")]
        );
        // What the host lacks is absent, not zero.
        assert!(series(&text, "memtide_gpu_wired_limit_bytes").is_empty());
        assert!(series(&text, "memtide_memory_wired_bytes").is_empty());
        // Ollama's series.
        assert_eq!(series(&text, "memtide_ollama_up"), [("", "1")]);
        assert_eq!(
            series(&text, "memtide_ollama_model_size_vram_bytes"),
            [("model=\"llama3.2:3b\"", "1073741824")]
        );
        assert_eq!(
            series(&text, "memtide_ollama_poll_latency_seconds"),
            [("", "0.012")]
        );
        assert_eq!(
            series(&text, "memtide_ollama_polls_total"),
            [("outcome=\"failed\"", "0"), ("outcome=\"ok\"", "1")]
        );
        // The events, counted.
        assert_eq!(series(&text, "memtide_runner_overlaps_total"), [("", "1")]);
        // A, running at the first sample, was found, not started: one start, B's.
        assert_eq!(series(&text, "memtide_runner_starts_total"), [("", "1")]);
        assert_eq!(series(&text, "memtide_model_loads_total"), [("", "1")]);
        assert_eq!(series(&text, "memtide_pressure_changes_total"), [("", "1")]);
        assert_eq!(
            series(&text, "memtide_pressure_notifications_total"),
            [("", "3")]
        );

        // Runner A exits: its series leave the next exposition.
        l.update(
            t(2),
            now,
            &system(30.0, PressureLevel::Normal, 2 << 30),
            &[],
            &[sample(50, 30 * MIB), sample(200, 300 * MIB)],
            &[crate::live::tests::id(100)],
        );
        let text = encode(&Reading::from_live(&l, now), None);
        assert!(!text.contains("pid=\"100\""), "{text}");
        assert_eq!(series(&text, "memtide_runners"), [("", "1")]);
        assert_eq!(series(&text, "memtide_runner_exits_total"), [("", "1")]);
    }

    #[test]
    fn without_ollama_there_are_no_ollama_series_and_memtides_cost_is_told() {
        let l = live();
        let own = OwnUsage {
            usage: memtide_sampler::Usage {
                cpu: Duration::from_millis(1500),
                peak_rss_bytes: 9 << 20,
            },
            rss_bytes: 8 << 20,
        };
        let mut r = Reading::from_live(&l, SystemTime::now());
        r.max_fds = Some(10240);
        r.process_start = Some(UNIX_EPOCH + Duration::from_millis(1_780_000_000_250));
        let text = encode(&r, Some(&own));
        assert_described(&text);
        assert!(!text.contains("memtide_ollama_"), "{text}");
        // memtide's own cost, under the process collector's names.
        assert_eq!(series(&text, "process_cpu_seconds_total"), [("", "1.5")]);
        assert_eq!(
            series(&text, "process_resident_memory_bytes"),
            [("", "8388608")]
        );
        assert_eq!(series(&text, "process_max_fds"), [("", "10240")]);
        assert_eq!(
            series(&text, "process_start_time_seconds"),
            [("", "1780000000.25")]
        );
        assert!(
            text.contains("# TYPE process_cpu_seconds_total counter"),
            "{text}"
        );
        assert_eq!(
            series(&text, "memtide_self_peak_rss_bytes"),
            [("", "9437184")]
        );
        assert_eq!(series(&text, "memtide_samples_total"), [("", "0")]);
        // Before the first sample there is no system series but the machine's size.
        assert!(series(&text, "memtide_memory_available_bytes").is_empty());
        assert_eq!(series(&text, "memtide_runners"), [("", "0")]);
    }

    #[test]
    fn a_published_reading_is_the_one_read() {
        let latest = Latest::default();
        assert!(latest.get().is_none());
        let mut r = Reading::from_live(&live(), SystemTime::now());
        r.samples = 7;
        latest.clone().publish(r);
        assert_eq!(latest.get().unwrap().samples, 7);
    }

    #[test]
    fn docs_fleet_md_lists_every_metric_and_no_other() {
        // A reading with everything a machine can have: a Mac's GPU limit and compressor
        // payload, Linux's PSI, a helper, Ollama, memtide's own cost.
        let mut l = live();
        l.ollama.url = Some("http://127.0.0.1:11434".into());
        l.ollama.last_latency = Some(Duration::from_millis(5));
        l.host.gpu_wired_limit_bytes = Some(24 << 30);
        let now = SystemTime::now();
        let serve = started(50, &["/usr/local/bin/ollama", "serve"]);
        l.update(
            Duration::ZERO,
            now,
            &system(40.0, PressureLevel::Normal, 0),
            &[serve, started(100, &RUNNER_A)],
            &[sample(50, MIB), {
                let mut s = sample(100, MIB);
                s.weights_resident_bytes = Some(3 * MIB);
                s
            }],
            &[],
        );
        let mut ps = PsResponse::default();
        ps.models.push(RunningModel {
            name: "m".into(),
            size: 1,
            size_vram: Some(1),
            ..RunningModel::default()
        });
        l.poll(Duration::ZERO, now, &Ok(ps));
        let mut r = Reading::from_live(&l, now);
        let s = r.system.as_mut().unwrap();
        s.available_bytes = Some(1);
        s.free_bytes = Some(1);
        s.wired_bytes = Some(1);
        s.compressor_bytes = Some(1);
        s.compressor_payload_bytes = Some(1);
        s.swap_total_bytes = Some(1);
        s.psi_some_avg10 = Some(1.0);
        r.max_fds = Some(256);
        r.process_start = Some(SystemTime::now());
        let text = encode(&r, Some(&OwnUsage::default()));
        // Model memory is the footprint plus the mapped weights, as in every other view.
        let value = |name: &str| {
            text.lines()
                .find(|l| l.starts_with(name) && l.contains("pid=\"100\""))
                .and_then(|l| l.rsplit(' ').next())
                .unwrap_or_else(|| panic!("no {name} in\n{text}"))
                .to_owned()
        };
        assert_eq!(
            value("memtide_runner_model_memory_bytes"),
            (4 * MIB).to_string()
        );
        assert_eq!(
            value("memtide_runner_weights_resident_bytes"),
            (3 * MIB).to_string()
        );
        assert_eq!(value("memtide_runner_footprint_bytes"), MIB.to_string());
        let served: std::collections::BTreeSet<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .map(|l| l.split(' ').next().unwrap())
            .collect();
        let docs = include_str!("../../../docs/fleet.md");
        let listed: std::collections::BTreeSet<&str> = docs
            .lines()
            .filter(|l| l.starts_with("| `memtide_") || l.starts_with("| `process_"))
            .map(|l| &l[3..3 + l[3..].find('`').unwrap()])
            .collect();
        assert_eq!(
            served, listed,
            "docs/fleet.md's table and the exposition differ"
        );
    }

    #[test]
    fn while_ollama_does_not_answer_no_listing_is_exported_as_current() {
        let mut l = live();
        l.ollama.url = Some("http://127.0.0.1:11434".into());
        let now = SystemTime::now();
        let mut ps = PsResponse::default();
        ps.models.push(RunningModel {
            name: "m".into(),
            size: 1 << 30,
            ..RunningModel::default()
        });
        l.poll(Duration::ZERO, now, &Ok(ps));
        let text = encode(&Reading::from_live(&l, now), None);
        assert_eq!(series(&text, "memtide_ollama_models_loaded"), [("", "1")]);
        // Ollama closes its API (its runners still alive for a moment).
        l.poll(
            Duration::from_secs(1),
            now,
            &Err(crate::ollama::OllamaError::Unreachable {
                url: "http://127.0.0.1:11434".into(),
                detail: "connection refused".into(),
            }),
        );
        let text = encode(&Reading::from_live(&l, now), None);
        assert_eq!(series(&text, "memtide_ollama_up"), [("", "0")]);
        assert!(
            series(&text, "memtide_ollama_models_loaded").is_empty(),
            "{text}"
        );
        assert!(series(&text, "memtide_ollama_model_size_bytes").is_empty());
    }
}
