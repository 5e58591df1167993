//! # memtide-record
//!
//! memtide's one recorder: the sampler, the Ollama poller, the trace writer and the live
//! state, driven tick by tick. `memtide record` drives it to write a trace; `memtide top`
//! drives it to draw the live screen (and writes a trace while it does, when asked);
//! `memtide serve` publishes a [`metrics::Reading`] of it after each tick for Prometheus to
//! scrape. Other Rust tools can embed it the same way: no front-end samples on its own.
//!
//! A program that only wants a trace of itself while it works needs one line:
//! [`trace_if_requested`] records when `MEMTIDE_TRACE=DIR` is set, and [`Recorder::spawn`]
//! records on a thread of its own until its handle is finished or dropped. This crate
//! re-exports what an embedder needs ([`ProcessSelector`], the [`trace`] format, the
//! [`model`] that reads it back), so it is the one dependency to add.
//!
//! ```no_run
//! use memtide_record::{Options, ProcessSelector, Recorder};
//! use std::time::Duration;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut rec = Recorder::new(Options::new(Duration::from_millis(250), ProcessSelector::Ollama))?;
//! rec.start_trace(std::path::Path::new("mytrace"), "my tool")?;
//! for _ in 0..40 {
//!     rec.wait_for_tick();
//!     let report = rec.tick()?;
//!     for notice in &report.notices {
//!         eprintln!("{notice}");
//!     }
//! }
//! let summary = rec.finish()?;
//! println!("{} samples", summary.map_or(0, |s| s.samples));
//! # Ok(())
//! # }
//! ```
//!
//! The loop keeps its deadlines on an absolute grid (start + k × interval), so it never
//! drifts; a tick that comes after its deadline has passed counts the ticks it skipped as
//! missed rather than taking them late. Ollama is polled on its own thread, so a slow server
//! never delays a sample. The library prints nothing: what a person should be told comes back
//! as [`Notice`]s.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod burst;
pub mod convert;
mod embed;
pub mod live;
pub mod metrics;
pub mod ollama;
pub(crate) mod ollama_log;
pub(crate) mod poller;
pub(crate) mod pressure;

pub use embed::{trace_if_requested, Recording, EMBEDDED_INTERVAL, TRACE_ENV};
pub use poller::request_timeout;
// What an embedder needs besides the recorder, so that this crate is its one dependency.
pub use memtide_model as model;
pub use memtide_sampler::{self as sampler, ProcessSelector};
pub use memtide_trace::{self as trace, Meta, Selection, TraceError};

use crate::ollama::Client;
use convert::ModelNames;
use live::Live;
use memtide_sampler::{HostInfo, ProcessId, Sampler};
use memtide_trace::{IdentityRow, OllamaMeta, Resumed, TraceWriter};
use poller::{Message, Poller};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant, SystemTime};

/// How often the recorder lists the process table to find new processes: a runner is found
/// within this long of its start. Followed processes are read at every tick regardless.
/// Listing `/proc` costs more than reading ten processes' memory, so at 10 Hz listing every
/// tick would be most of the recorder's cost.
pub const DISCOVERY_INTERVAL: Duration = Duration::from_millis(250);

/// How often a trace's directory is checked to still be there.
const DIR_CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// Why the recorder stopped or could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The sampler could not start (the OS refused the first reads).
    #[error("cannot start sampling: {0}")]
    Start(memtide_sampler::Error),
    /// A tick could not be taken at all.
    #[error("sampling failed: {0}")]
    Sample(memtide_sampler::Error),
    /// Writing the trace failed (a full disk, a directory removed while recording).
    #[error(transparent)]
    Trace(#[from] TraceError),
    /// The poller thread could not be started.
    #[error("cannot start the Ollama poller: {0}")]
    Poller(std::io::Error),
    /// The thread that follows Ollama's log could not be started.
    #[error("cannot start following Ollama's log: {0}")]
    OllamaLog(std::io::Error),
    /// [`Recorder::start_trace`] while a trace is being written.
    #[error("already recording to {0}")]
    AlreadyRecording(PathBuf),
    /// [`Recorder::spawn`] was given a directory that holds files already.
    #[error("{0} is not empty: memtide writes a new trace only where it overwrites nothing")]
    DirNotEmpty(PathBuf),
    /// [`Recorder::spawn`] could not start its thread.
    #[error("cannot start the recording thread: {0}")]
    Thread(std::io::Error),
    /// The recording thread of [`Recorder::spawn`] panicked (a bug in memtide).
    #[error("the recording thread panicked")]
    RecorderPanicked,
    /// [`trace_if_requested`] could not create the directory `MEMTIDE_TRACE` names.
    #[error("cannot create {0} (MEMTIDE_TRACE): {1}")]
    TraceParent(PathBuf, std::io::Error),
}

/// Where Ollama is and how often to ask it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OllamaOptions {
    /// Its base URL, as [`memtide_model::ollama::base_url`] reads it.
    pub url: String,
    /// Time between polls of `/api/ps`.
    pub interval: Duration,
}

impl OllamaOptions {
    /// Ollama at `url`, asked every `interval`.
    pub fn new(url: String, interval: Duration) -> OllamaOptions {
        OllamaOptions { url, interval }
    }
}

/// How to record.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    /// Time between samples.
    pub interval: Duration,
    /// Which processes to follow.
    pub selector: ProcessSelector,
    /// The same selection as the trace's `meta.json` states it.
    pub selection: trace::Selection,
    /// Ollama, or `None` not to ask it anything.
    pub ollama: Option<OllamaOptions>,
    /// Where to look for model names when a runner's blob path does not say (see
    /// [`convert::default_models_dir`]).
    pub models_dir: Option<PathBuf>,
    /// How often to list the process table for new processes.
    pub discovery_interval: Duration,
    /// How much history [`Live`] keeps for sparklines ([`Live::system_history`] and each
    /// process's); zero keeps none, and spares a recorder that draws none the copies. The
    /// live detectors keep what they need whatever this is.
    pub history: Duration,
    /// Write traces in segments, keeping what this says (`None`: one piece).
    pub segments: Option<trace::SegmentPolicy>,
    /// Listen for the kernel's pressure notifications with this trigger (`None`: do not).
    pub pressure: Option<memtide_sampler::pressure::Trigger>,
    /// Sample faster for a while when something happens (`None`: always at `interval`).
    pub burst: Option<Burst>,
    /// Follow this Ollama server log into `ollama_log.csv`, from its current end (`None`: no
    /// log).
    pub ollama_log: Option<PathBuf>,
    /// What a failed write of the trace (a full disk) does.
    pub on_write_failure: OnWriteFailure,
}

/// What the recorder does when the trace cannot be written (a full disk, a file size limit, a
/// directory removed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnWriteFailure {
    /// The tick fails with the error: `memtide record` and `run` end there, finishing what
    /// can be finished.
    #[default]
    Fail,
    /// The trace is finished as far as it can be and recording stops; sampling goes on, and
    /// the tick reports [`Notice::RecordingStopped`] once: `memtide serve` keeps exporting.
    StopRecording,
}

/// Faster sampling after an event: every `interval` for `hold` after a runner starts or
/// exits, a model loads or unloads, the pressure level changes or the kernel notifies
/// pressure, free memory falls under the low-memory threshold, or available memory falls by
/// a sixteenth of the machine within ten seconds ([`burst::FallWatch`]); each new event
/// extends it. What was already there when recording started starts none ([`burst`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Burst {
    /// The interval while bursting.
    pub interval: Duration,
    /// How long a burst lasts after its last cause.
    pub hold: Duration,
}

impl Options {
    /// Every `interval`, the processes `selector` chooses, without Ollama.
    pub fn new(interval: Duration, selector: ProcessSelector) -> Options {
        Options {
            interval,
            selector,
            selection: trace::Selection::default(),
            ollama: None,
            models_dir: None,
            discovery_interval: DISCOVERY_INTERVAL,
            history: live::HISTORY,
            segments: None,
            pressure: Some(memtide_sampler::pressure::Trigger::DEFAULT),
            burst: None,
            ollama_log: None,
            on_write_failure: OnWriteFailure::Fail,
        }
    }
}

/// Something a person should be told, from one tick. Each kind that could repeat every tick
/// is sent once per trace and counted in the trace instead.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Notice {
    /// A system read failed; the sample's fields stay empty.
    SystemReadFailed(String),
    /// A followed process could not be read.
    ProcessUnreadable {
        /// Its PID.
        pid: u32,
        /// Why.
        error: String,
    },
    /// An `/api/ps` answer had models left out.
    ModelsLeftOut(String),
    /// The kernel's pressure notifications cannot be had (why): the level is still sampled
    /// every tick.
    PressureSignalUnavailable(String),
    /// They stopped coming (why).
    PressureSignalFailed(String),
    /// Ollama's server log cannot be read (why); memtide tries again every 250 ms and says
    /// nothing more until it could read it again.
    OllamaLogUnreadable {
        /// The log.
        path: PathBuf,
        /// Why.
        error: String,
    },
    /// A runner's mapped model weights cannot be counted (another user's runner without the
    /// privilege to read its page map, a model file gone): its other figures are recorded.
    WeightsNotCounted {
        /// The runner's PID.
        pid: u32,
        /// Why.
        error: String,
    },
    /// The trace could not be written and recording stopped (see
    /// [`OnWriteFailure::StopRecording`]); sampling goes on.
    RecordingStopped {
        /// The trace.
        dir: PathBuf,
        /// Why.
        error: String,
    },
}

impl std::fmt::Display for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Notice::SystemReadFailed(e) => write!(
                f,
                "a system read failed: {e}; recording goes on with that sample's fields empty \
                 (said once; counted in meta.json)"
            ),
            Notice::ProcessUnreadable { pid, error } => write!(f, "pid {pid}: {error}"),
            Notice::OllamaLogUnreadable { path, error } => write!(
                f,
                "Ollama's log {} cannot be read ({error}); memtide goes on trying, and records \
                 its lines from when it can",
                path.display()
            ),
            Notice::WeightsNotCounted { pid, error } => write!(
                f,
                "pid {pid}: its mapped model weights cannot be counted ({error}); its footprint \
                 and RSS are recorded, weights_resident_bytes stays empty"
            ),
            Notice::ModelsLeftOut(why) => write!(
                f,
                "Ollama's /api/ps: {why}; said once, counted in ollama_polls.csv"
            ),
            Notice::PressureSignalUnavailable(why) => write!(
                f,
                "the kernel's pressure notifications are not available ({why}); the pressure \
                 level is still sampled at every tick"
            ),
            Notice::PressureSignalFailed(why) => write!(
                f,
                "the kernel's pressure notifications stopped ({why}); the pressure level is \
                 still sampled at every tick"
            ),
            Notice::RecordingStopped { dir, error } => write!(
                f,
                "recording to {} stopped: {error}; what was written is kept and readable, and \
                 sampling goes on",
                dir.display()
            ),
        }
    }
}

/// How one [`Recorder::step`] ended.
#[derive(Debug)]
pub enum Step<E> {
    /// A tick fell due and was taken.
    Ticked(TickReport),
    /// The caller's wait returned this before the tick fell due.
    Woken(E),
    /// `until` came before the tick fell due.
    Ended,
}

/// What one tick did.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct TickReport {
    /// What to tell a person.
    pub notices: Vec<Notice>,
    /// The events the live detectors found in this tick (also in [`Live::events`]).
    pub events: Vec<live::LiveEvent>,
}

/// What the recorder keeps per identity, for `identities.csv` and the summary.
#[derive(Debug, Clone)]
struct Tracked {
    row: IdentityRow,
    last_seen: SystemTime,
    /// The same on the trace's clock: an exited process whose rows all went with deleted
    /// segments leaves `identities.csv` too.
    last_seen_t_ms: u64,
    peak_footprint: Option<u64>,
    /// Only where its mapped weights were counted.
    peak_model_memory: Option<u64>,
    peak_rss: u64,
}

/// A trace being written: its writer, its clock and what it has seen.
struct Sink {
    dir: PathBuf,
    writer: TraceWriter,
    start: Instant,
    /// `t_ms` at `start`: 0 for a new trace, later for one continued.
    t0_ms: u64,
    /// The identities a continued trace had before this recorder.
    inherited: Vec<IdentityRow>,
    /// Its samples and missed ticks before this recorder.
    before: (u64, u64),
    tracked: HashMap<ProcessId, Tracked>,
    order: Vec<ProcessId>,
    stats: Stats,
    last_dir_check: Instant,
    /// The `t_ms` of the last tick's rows.
    last_tick_t_ms: Option<u64>,
}

#[derive(Debug, Clone, Default)]
struct Stats {
    samples: u64,
    missed: u64,
    min_free_percent: Option<f64>,
    max_swap_used: Option<u64>,
    failed_reads: u64,
    read_error: Option<String>,
    polls_ok: u64,
    polls_failed: u64,
    warned_dropped_models: bool,
}

/// One process as a trace's summary lists it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SummaryProcess {
    /// The PID.
    pub pid: u32,
    /// The kernel's short name.
    pub name: String,
    /// The model names its command line points at.
    pub models: Vec<String>,
    /// Its highest model memory (footprint plus its mapped weights resident in RAM), where
    /// its mapped weights were counted.
    pub peak_model_memory_bytes: Option<u64>,
    /// Its highest footprint, where the OS has one.
    pub peak_footprint_bytes: Option<u64>,
    /// Its highest RSS.
    pub peak_rss_bytes: u64,
    /// It exited while recording.
    pub exited: bool,
    /// It could not be read.
    pub error: Option<String>,
}

/// What a finished trace holds, for a front-end to tell.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TraceSummary {
    /// The trace directory.
    pub dir: PathBuf,
    /// How long it recorded.
    pub elapsed: Duration,
    /// Ticks taken.
    pub samples: u64,
    /// Ticks missed (the recorder fell behind).
    pub missed: u64,
    /// The lowest free % seen.
    pub min_free_percent: Option<f64>,
    /// The most swap used seen.
    pub max_swap_used_bytes: Option<u64>,
    /// Polls of Ollama that answered, and that did not.
    pub polls_ok: u64,
    /// See `polls_ok`.
    pub polls_failed: u64,
    /// Samples in which a system read failed, and the first failure.
    pub failed_reads: u64,
    /// See `failed_reads`.
    pub read_error: Option<String>,
    /// Every process followed, in the order first seen.
    pub processes: Vec<SummaryProcess>,
}

/// The recorder.
pub struct Recorder {
    sampler: Sampler,
    poller: Option<Poller>,
    ollama: Option<OllamaOptions>,
    interval: Duration,
    selection: trace::Selection,
    start: Instant,
    /// The next tick's index on the grid.
    /// When the next tick is due.
    next: Instant,
    burst: Option<Burst>,
    /// Bursting until then.
    burst_until: Option<Instant>,
    /// Something happened in this tick that starts (or extends) a burst.
    burst_wanted: bool,
    on_write_failure: OnWriteFailure,
    /// Why the last trace stopped on a failed write, if it did.
    write_failure: Option<String>,
    /// Available memory's falls, for the one that starts a burst.
    falls: Option<burst::FallWatch>,
    names: ModelNames,
    sink: Option<Sink>,
    live: Live,
    segments: Option<trace::SegmentPolicy>,
    pressure: Option<pressure::Listener>,
    /// Told at the next tick: why the pressure notifications are not listened to.
    pressure_notice: Option<Notice>,
    /// Follows Ollama's server log.
    log: Option<ollama_log::Follower>,
}

impl Recorder {
    /// Starts the sampler and, if asked, the Ollama poller. Nothing is written until
    /// [`Recorder::start_trace`].
    pub fn new(opts: Options) -> Result<Recorder, RecordError> {
        let mut sampler = Sampler::new(opts.selector).map_err(RecordError::Start)?;
        sampler.set_discovery_interval(opts.discovery_interval);
        // The URL as the client reads it, for the trace and the live state alike.
        let mut ollama = opts.ollama;
        let poller = match &mut ollama {
            Some(o) => {
                let client = Client::new(&o.url, poller::request_timeout(o.interval));
                o.url = client.base_url().to_owned();
                Some(Poller::start(client, o.interval).map_err(RecordError::Poller)?)
            }
            None => None,
        };
        let (pressure, pressure_notice) = match opts.pressure {
            None => (None, None),
            Some(t) => match memtide_sampler::pressure::PressureWatch::start(t)
                .map_err(|e| e.to_string())
                .and_then(|w| pressure::Listener::start(w).map_err(|e| e.to_string()))
            {
                Ok(l) => (Some(l), None),
                Err(why) => (None, Some(Notice::PressureSignalUnavailable(why))),
            },
        };
        let log = match &opts.ollama_log {
            Some(path) => Some(
                ollama_log::Follower::start(ollama_log::Tail::from_end(path))
                    .map_err(RecordError::OllamaLog)?,
            ),
            None => None,
        };
        let live = Live::new(
            sampler.host().clone(),
            ollama.as_ref().map(|o| o.url.clone()),
            opts.interval,
            opts.history,
        );
        Ok(Recorder {
            sampler,
            poller,
            ollama,
            interval: opts.interval,
            selection: opts.selection,
            start: Instant::now(),
            next: Instant::now(),
            burst: opts.burst,
            burst_until: None,
            burst_wanted: false,
            falls: None,
            names: ModelNames::new(opts.models_dir),
            sink: None,
            live,
            segments: opts.segments,
            pressure,
            pressure_notice,
            on_write_failure: opts.on_write_failure,
            write_failure: None,
            log,
        })
    }

    /// Listens on `watch` for pressure notifications instead of the kernel's trigger: for
    /// an embedder with a source of its own, and for tests, which drive it.
    pub fn listen_on(
        &mut self,
        watch: memtide_sampler::pressure::PressureWatch,
    ) -> std::io::Result<()> {
        self.pressure = Some(pressure::Listener::start(watch)?);
        self.pressure_notice = None;
        Ok(())
    }

    /// What fires the pressure notifications listened to, in words; `None` when none are.
    pub fn pressure_signal(&self) -> Option<&str> {
        self.pressure.as_ref().map(|l| l.condition.as_str())
    }

    /// The machine.
    pub fn host(&self) -> &HostInfo {
        self.sampler.host()
    }

    /// What the recorder sees now: the system, the processes, Ollama, the events.
    pub fn live(&self) -> &Live {
        &self.live
    }

    /// The sampling interval.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// The trace directory being written, if any.
    pub fn trace_dir(&self) -> Option<&Path> {
        self.sink.as_ref().map(|s| s.dir.as_path())
    }

    /// Follows `root` and its descendants from the next tick on, besides the selection (see
    /// [`Sampler::follow_tree`]): `memtide run` follows the command it started.
    pub fn follow_tree(&mut self, root: u32) {
        self.sampler.follow_tree(root);
    }

    /// Follows the processes of group `pgid` started at `since_us` or later, and their
    /// descendants, from the next tick on (see [`Sampler::follow_group`]): `memtide run` finds
    /// there what its command leaves behind where the OS re-parents it to init.
    pub fn follow_group(&mut self, pgid: u32, since_us: u64) {
        self.sampler.follow_group(pgid, since_us);
    }

    /// Now, on the clock of process start times ([`Sampler::start_time_now`]).
    pub fn process_clock_now(&mut self) -> u64 {
        self.sampler.start_time_now()
    }

    /// `at` on the clock of the trace being written (its `t_ms`), if one is.
    pub fn trace_t_ms(&self, at: Instant) -> Option<u64> {
        self.sink.as_ref().map(|s| s.t_ms(at))
    }

    /// Changes the `meta.json` of the trace being written (and writes it), if one is.
    pub fn update_trace_meta(&mut self, f: impl FnOnce(&mut Meta)) -> Result<(), RecordError> {
        if let Some(s) = &mut self.sink {
            s.writer.update_meta(f)?;
        }
        Ok(())
    }

    /// When the next tick is due.
    pub fn next_deadline(&self) -> Instant {
        self.next
    }

    /// The interval in force now: the burst interval while bursting, else the base one.
    pub fn current_interval(&self) -> Duration {
        match (self.burst, self.burst_until) {
            (Some(b), Some(until)) if Instant::now() < until => b.interval,
            _ => self.interval,
        }
    }

    /// Sleeps until the next tick is due.
    pub fn wait_for_tick(&self) {
        let now = Instant::now();
        let deadline = self.next_deadline();
        if deadline > now {
            std::thread::sleep(deadline - now);
        }
    }

    /// Starts writing a trace into `dir` (which must exist and be the caller's to write:
    /// see `memtide`'s output-directory rules), its `meta.json` naming `source` as what wrote
    /// it. Processes already followed are in it from now on.
    pub fn start_trace(&mut self, dir: &Path, source: &str) -> Result<(), RecordError> {
        if let Some(s) = &self.sink {
            return Err(RecordError::AlreadyRecording(s.dir.clone()));
        }
        let now = SystemTime::now();
        let meta = self.meta_now(now, source);
        let writer = match self.segments {
            Some(policy) => TraceWriter::create_segmented(dir, meta, policy)?,
            None => TraceWriter::create(dir, meta)?,
        };
        self.open_sink(dir, writer, now, Resumed::default())
    }

    /// Continues the trace kept in segments in `dir` (a flight recorder restarted into its
    /// directory): see [`TraceWriter::resume_segmented`]. Needs [`Options::segments`].
    pub fn continue_trace(&mut self, dir: &Path, source: &str) -> Result<(), RecordError> {
        if let Some(s) = &self.sink {
            return Err(RecordError::AlreadyRecording(s.dir.clone()));
        }
        let Some(policy) = self.segments else {
            return Err(RecordError::Trace(trace::TraceError::Invalid {
                path: dir.to_owned(),
                detail: "only a trace kept in segments can be continued".into(),
            }));
        };
        let now = SystemTime::now();
        let fresh = self.meta_now(now, source);
        let (writer, resumed) = TraceWriter::resume_segmented(dir, policy, now, |m| {
            m.memtide_version = fresh.memtide_version;
            m.interval_ms = fresh.interval_ms;
            m.selection = fresh.selection;
            m.ollama = fresh.ollama;
            m.source = fresh.source;
            m.burst_interval_ms = fresh.burst_interval_ms;
            m.burst_hold_ms = fresh.burst_hold_ms;
            m.gpu_wired_limit_bytes = fresh.gpu_wired_limit_bytes;
        })?;
        self.open_sink(dir, writer, now, resumed)
    }

    fn meta_now(&self, now: SystemTime, source: &str) -> Meta {
        let host = self.sampler.host();
        let mut m = Meta::new(
            host.os,
            host.arch,
            host.total_memory_bytes,
            self.interval.as_millis() as u64,
            trace::utc_ms(now),
        );
        m.os_version = host.os_version.clone();
        m.page_size_bytes = host.page_size_bytes;
        m.gpu_wired_limit_bytes = host.gpu_wired_limit_bytes;
        m.selection = self.selection.clone();
        m.ollama = self.ollama.as_ref().map(|o| OllamaMeta {
            url: o.url.clone(),
            version: self.live.ollama.version.clone(),
            poll_interval_ms: o.interval.as_millis() as u64,
        });
        m.source = Some(source.into());
        m.burst_interval_ms = self.burst.map(|b| b.interval.as_millis() as u64);
        m.burst_hold_ms = self.burst.map(|b| b.hold.as_millis() as u64);
        m.ollama_log = self.log.as_ref().map(|l| l.path.display().to_string());
        m
    }

    fn open_sink(
        &mut self,
        dir: &Path,
        writer: TraceWriter,
        now: SystemTime,
        resumed: Resumed,
    ) -> Result<(), RecordError> {
        self.write_failure = None;
        let seen = trace::utc_ms(now);
        let mut sink = Sink {
            dir: dir.to_owned(),
            writer,
            start: Instant::now(),
            t0_ms: resumed.t0_ms,
            inherited: resumed.identities,
            before: (resumed.samples, resumed.missed_ticks),
            tracked: HashMap::new(),
            order: Vec::new(),
            stats: Stats::default(),
            last_dir_check: Instant::now(),
            last_tick_t_ms: None,
        };
        // What is already followed belongs in this trace too, first seen now.
        for p in self.live.processes.iter().filter(|p| !p.exited) {
            let mut row = p.identity.clone();
            row.first_seen_utc = seen.clone();
            row.last_seen_utc = seen.clone();
            sink.tracked.insert(
                p.id,
                Tracked {
                    row,
                    last_seen: now,
                    last_seen_t_ms: sink.t0_ms,
                    peak_footprint: None,
                    peak_model_memory: None,
                    peak_rss: 0,
                },
            );
            sink.order.push(p.id);
        }
        if !sink.order.is_empty() {
            sink.write_identities()?;
        }
        self.sink = Some(sink);
        Ok(())
    }

    /// Finishes the trace being written, if any: identities, `meta.json` with its end, the
    /// files flushed. The files are completed as far as they can be even when a write fails;
    /// the first error is the one returned.
    pub fn stop_trace(&mut self) -> Result<Option<TraceSummary>, RecordError> {
        let Some(mut sink) = self.sink.take() else {
            return Ok(None);
        };
        let mut first: Option<RecordError> = None;
        if let Err(e) = sink.write_identities() {
            first.get_or_insert(e);
        }
        let (failed_reads, read_error) = (sink.stats.failed_reads, sink.stats.read_error.clone());
        if let Err(e) = sink.writer.update_meta(|m| {
            m.failed_reads = (failed_reads > 0).then_some(failed_reads);
            m.read_error = read_error;
        }) {
            first.get_or_insert(e.into());
        }
        let summary = sink.summary();
        if let Err(e) = sink.writer.finish(
            SystemTime::now(),
            sink.before.0 + sink.stats.samples,
            sink.before.1 + sink.stats.missed,
        ) {
            first.get_or_insert(e.into());
        }
        match first {
            Some(e) => Err(e),
            None => Ok(Some(summary)),
        }
    }

    /// Takes one sample now: the system and every followed process, Ollama's answers since
    /// the last tick, into the trace (if one is being written) and the live state. Ticks whose
    /// deadline passed meanwhile are counted as missed.
    pub fn tick(&mut self) -> Result<TickReport, RecordError> {
        let mut report = TickReport::default();
        let result = self.sample(&mut report);
        // Ollama's answers, even after a failed sample: they are recorded either way; and the
        // kernel's pressure notifications since the last tick. Models listed at Ollama's first
        // answer were loaded before: no burst.
        let answered_before = self.live.ollama.polls_ok > 0;
        let drained = self
            .drain_polls(&mut report)
            .and(self.drain_pressure(&mut report))
            .and(self.drain_log(&mut report));
        // A runner that started or exited changes what Ollama lists: asked at once.
        let runners_moved = report.events.iter().any(|e| {
            matches!(
                e.kind,
                live::LiveKind::RunnerStarted { .. } | live::LiveKind::RunnerExited { .. }
            )
        });
        if let (true, Some(p)) = (runners_moved, &self.poller) {
            p.poll_now();
        }
        // A cause of a burst (see `burst`).
        let now = Instant::now();
        if let Some(b) = self.burst {
            let news = report.events.iter().any(|e| {
                burst::starts_burst(&e.kind)
                    && (answered_before || !matches!(e.kind, live::LiveKind::ModelLoaded { .. }))
            });
            if self.burst_wanted || news {
                // The faster rate starts with the next tick.
                self.burst_until = Some(now + b.hold);
            }
        }
        self.burst_wanted = false;
        // The next deadline, one interval on; slots that passed meanwhile are missed.
        let step = self.current_interval().max(Duration::from_millis(1));
        let mut next = self.next + step;
        if next <= now {
            let skipped = ((now - next).as_nanos() / step.as_nanos()) as u64 + 1;
            if let Some(s) = &mut self.sink {
                s.stats.missed += skipped;
            }
            self.live.missed += skipped;
            next += step * skipped as u32;
        }
        self.next = next;
        let written = result.and(drained).and_then(|()| {
            if let Some(s) = &mut self.sink {
                s.writer.flush()?;
                if s.last_dir_check.elapsed() >= DIR_CHECK_INTERVAL {
                    s.writer.check_dir()?;
                    s.last_dir_check = Instant::now();
                }
            }
            Ok(())
        });
        match written {
            Err(RecordError::Trace(e))
                if self.on_write_failure == OnWriteFailure::StopRecording
                    && self.sink.is_some() =>
            {
                let dir = self.trace_dir().map(Path::to_path_buf).unwrap_or_default();
                // What can still be finished is; a second failure says nothing new.
                let _ = self.stop_trace();
                self.write_failure = Some(e.to_string());
                report.notices.push(Notice::RecordingStopped {
                    dir,
                    error: e.to_string(),
                });
                Ok(report)
            }
            Err(e) => Err(e),
            Ok(()) => Ok(report),
        }
    }

    /// Why the last trace stopped on a failed write, when it did (see
    /// [`OnWriteFailure::StopRecording`]); cleared when a trace starts.
    pub fn write_failure(&self) -> Option<&str> {
        self.write_failure.as_deref()
    }

    fn sample(&mut self, report: &mut TickReport) -> Result<(), RecordError> {
        let taken = Instant::now();
        let tick = self.sampler.tick().map_err(RecordError::Sample)?;
        let wall = tick.time.wall;
        let time_utc = trace::utc_ms(wall);
        let s = tick.system;
        if let Some(available) = s.available_bytes {
            let falls = self
                .falls
                .get_or_insert_with(|| burst::FallWatch::new(s.total_bytes));
            self.burst_wanted |= falls.observe(taken, available);
        }
        // One row per tick, for the trace and the live state; without a trace its clock is
        // the recorder's.
        let mut system_row = memtide_trace::SystemRow::default();
        let had_sink = self.sink.is_some();
        let tick_t_ms = self.sink.as_mut().map(|s| s.tick_t_ms(taken));
        if let (Some(sink), Some(t_ms)) = (&mut self.sink, tick_t_ms) {
            sink.stats.samples += 1;
            if let Some(e) = tick.system_error {
                sink.stats.failed_reads += 1;
                if sink.stats.read_error.is_none() {
                    report.notices.push(Notice::SystemReadFailed(e.to_string()));
                    sink.stats.read_error = Some(e.to_string());
                }
            }
            system_row = convert::system_row(&time_utc, t_ms, s);
            sink.writer.system(&system_row)?;
            if let Some(p) = s.free_percent {
                sink.stats.min_free_percent =
                    Some(sink.stats.min_free_percent.map_or(p, |m| m.min(p)));
            }
            if let Some(u) = s.swap_used_bytes {
                sink.stats.max_swap_used = Some(sink.stats.max_swap_used.map_or(u, |m| m.max(u)));
            }
        }

        let mut identities_changed = false;
        let mut started = Vec::new();
        let mut weights = Vec::new();
        let t_ms = tick_t_ms.unwrap_or(0);
        for info in tick.started {
            weights.extend(convert::model_file(info).map(|f| (info.id.pid, f)));
            let models = self.names.for_argv(&info.argv);
            let mut row = convert::identity_row(info, &models, &time_utc);
            if let Some(sink) = &mut self.sink {
                match sink.tracked.get_mut(&info.id) {
                    // Started again after its exec: the same identity, now named as it is.
                    Some(t) => {
                        row.first_seen_utc = t.row.first_seen_utc.clone();
                        row.error = t.row.error.take();
                        t.row = row.clone();
                    }
                    None => {
                        sink.tracked.insert(
                            info.id,
                            Tracked {
                                row: row.clone(),
                                last_seen: wall,
                                last_seen_t_ms: t_ms,
                                peak_footprint: None,
                                peak_model_memory: None,
                                peak_rss: 0,
                            },
                        );
                        sink.order.push(info.id);
                    }
                }
                identities_changed = true;
            }
            started.push((info.id, row, info.argv.clone()));
        }
        if let Some(sink) = &mut self.sink {
            for p in tick.processes {
                sink.writer
                    // The row's own time is left empty: the tick's is written for it.
                    .process_at(&time_utc, &convert::process_row("", t_ms, p))?;
                if let Some(t) = sink.tracked.get_mut(&p.id) {
                    t.last_seen = wall;
                    t.last_seen_t_ms = t_ms;
                    t.peak_rss = t.peak_rss.max(p.rss_bytes);
                    if let Some(f) = p.footprint_bytes {
                        t.peak_footprint = Some(t.peak_footprint.map_or(f, |m| m.max(f)));
                        if let Some(w) = p.weights_resident_bytes {
                            t.peak_model_memory = t.peak_model_memory.max(Some(f + w));
                        }
                    }
                }
            }
            for id in tick.exited {
                if let Some(t) = sink.tracked.get_mut(id) {
                    t.row.exited = true;
                    t.row.exited_utc = Some(time_utc.clone());
                    identities_changed = true;
                }
            }
            for f in tick.failures {
                let t = sink.tracked.entry(f.id).or_insert_with(|| Tracked {
                    row: IdentityRow {
                        pid: f.id.pid,
                        start_time_us: f.id.start_time_us,
                        first_seen_utc: time_utc.clone(),
                        ..IdentityRow::default()
                    },
                    last_seen: wall,
                    last_seen_t_ms: t_ms,
                    peak_footprint: None,
                    peak_model_memory: None,
                    peak_rss: 0,
                });
                t.row.error = Some(f.error.to_string());
                if !sink.order.contains(&f.id) {
                    sink.order.push(f.id);
                }
                identities_changed = true;
            }
        }
        for f in tick.failures {
            report.notices.push(Notice::ProcessUnreadable {
                pid: f.id.pid,
                error: f.error.to_string(),
            });
        }
        let at = taken.saturating_duration_since(self.start);
        if !had_sink {
            system_row = convert::system_row(&time_utc, at.as_millis() as u64, s);
        }
        report.events.extend(self.live.update_with_row(
            at,
            wall,
            s,
            system_row,
            &started,
            tick.processes,
            tick.exited,
        ));
        if identities_changed {
            if let Some(sink) = &mut self.sink {
                sink.write_identities()?;
            }
        }
        // A runner's mapped weights are counted from the next tick on. Where they cannot be,
        // the column stays empty, and the user is told why, unless the OS has no such count
        // (then docs/metrics.md says so) or the runner is already gone.
        for (pid, file) in weights {
            match self.sampler.watch_weights(pid, &file) {
                Ok(()) => {}
                Err(memtide_sampler::Error::Unsupported { .. })
                | Err(memtide_sampler::Error::ProcessGone { .. }) => {}
                Err(e) => report.notices.push(Notice::WeightsNotCounted {
                    pid,
                    error: e.to_string(),
                }),
            }
        }
        Ok(())
    }

    fn drain_log(&mut self, report: &mut TickReport) -> Result<(), RecordError> {
        let Some(f) = &self.log else {
            return Ok(());
        };
        let got: Vec<ollama_log::Followed> = f.lines.try_iter().collect();
        for g in got {
            match g {
                ollama_log::Followed::Line {
                    at,
                    wall,
                    port,
                    parsed,
                } => {
                    if let Some(sink) = &mut self.sink {
                        let time_utc = match parsed.time {
                            Some(t) => trace::timestamp_utc_ms(t),
                            None => trace::utc_ms(wall),
                        };
                        let row = memtide_model::ollama_log::row(
                            &parsed.line,
                            time_utc,
                            sink.t_ms(at),
                            port,
                        );
                        sink.writer.ollama_log(&row)?;
                    }
                }
                ollama_log::Followed::Unreadable(error) => {
                    report.notices.push(Notice::OllamaLogUnreadable {
                        path: f.path.clone(),
                        error,
                    });
                }
            }
        }
        Ok(())
    }

    fn drain_pressure(&mut self, report: &mut TickReport) -> Result<(), RecordError> {
        report.notices.extend(self.pressure_notice.take());
        let Some(l) = &self.pressure else {
            return Ok(());
        };
        let heard: Vec<pressure::Heard> = l.heard.try_iter().collect();
        let (source, detail) = (l.source, l.condition.clone());
        for h in heard {
            match h {
                pressure::Heard::Notification { at, wall, what: n } => {
                    self.burst_wanted = true;
                    self.live.counts.pressure_notifications += 1;
                    if let Some(sink) = &mut self.sink {
                        sink.writer.pressure(&trace::PressureRow {
                            time_utc: trace::utc_ms(wall),
                            t_ms: sink.t_ms(at),
                            source: convert::notification_source(source),
                            level: n.level.map(convert::pressure_level),
                            detail: detail.clone(),
                        })?;
                    }
                }
                pressure::Heard::Failed(why) => {
                    report.notices.push(Notice::PressureSignalFailed(why));
                    self.pressure = None;
                    break;
                }
            }
        }
        Ok(())
    }

    fn drain_polls(&mut self, report: &mut TickReport) -> Result<(), RecordError> {
        let Some(p) = &self.poller else {
            return Ok(());
        };
        let messages: Vec<Message> = p.messages.try_iter().collect();
        for m in messages {
            self.handle_message(m, report)?;
        }
        Ok(())
    }

    fn handle_message(&mut self, m: Message, report: &mut TickReport) -> Result<(), RecordError> {
        match m {
            Message::Version(v) => {
                self.live.ollama.version = v.clone();
                if let Some(sink) = &mut self.sink {
                    sink.writer.update_meta(|meta| {
                        if let Some(o) = meta.ollama.as_mut() {
                            o.version = v;
                        }
                    })?;
                }
            }
            Message::Poll {
                sent,
                sent_mono,
                result,
                latency,
            } => {
                let since_start = sent_mono.saturating_duration_since(self.start);
                self.live.ollama.last_latency = Some(latency);
                report
                    .events
                    .extend(self.live.poll(since_start, sent, &result));
                if let Some(sink) = &mut self.sink {
                    let t_ms = sink.t_ms(sent_mono);
                    let (poll, models) =
                        convert::poll_rows(&trace::utc_ms(sent), t_ms, &result, latency);
                    if poll.outcome.is_ok() {
                        sink.stats.polls_ok += 1;
                    } else {
                        sink.stats.polls_failed += 1;
                    }
                    if let (Some(why), false) = (&poll.error, sink.stats.warned_dropped_models) {
                        if poll.outcome.is_ok() {
                            report.notices.push(Notice::ModelsLeftOut(why.clone()));
                            sink.stats.warned_dropped_models = true;
                        }
                    }
                    sink.writer.poll(&poll, &models)?;
                }
            }
        }
        Ok(())
    }

    /// One turn of a recording loop: waits with `wait` (given how long it may wait) until the
    /// next tick falls due, `until` comes, or `wait` returns something the caller is waiting
    /// for; then ticks if the tick is due. An embedder with its own events (a child process, a
    /// terminal, a socket) drives the recorder with this; [`Recorder::run`] is this with a
    /// stop channel.
    pub fn step<E, X: From<RecordError>>(
        &mut self,
        until: Option<Instant>,
        mut wait: impl FnMut(Duration) -> Result<Option<E>, X>,
    ) -> Result<Step<E>, X> {
        loop {
            let now = Instant::now();
            if until.is_some_and(|u| now >= u) {
                return Ok(Step::Ended);
            }
            let due = self.next_deadline();
            let wake = until.map_or(due, |u| u.min(due));
            if let Some(e) = wait(wake.saturating_duration_since(now))? {
                return Ok(Step::Woken(e));
            }
            if Instant::now() >= self.next_deadline() {
                return Ok(Step::Ticked(self.tick()?));
            }
        }
    }

    /// Ticks until `stop` receives (or its sender is dropped), `duration` has passed since
    /// the recorder started, or `on_tick`, called after each tick, breaks. The first error
    /// ends it; the trace is not finished here (see [`Recorder::finish`]).
    pub fn run(
        &mut self,
        stop: &Receiver<()>,
        duration: Option<Duration>,
        mut on_tick: impl FnMut(&Recorder, &TickReport) -> std::ops::ControlFlow<()>,
    ) -> Result<(), RecordError> {
        loop {
            if let Some(d) = duration {
                if self.next_deadline().duration_since(self.start) >= d {
                    return Ok(());
                }
            }
            let step = self.step(None, |t| match stop.recv_timeout(t) {
                Err(RecvTimeoutError::Timeout) => Ok::<_, RecordError>(None),
                _ => Ok(Some(())),
            })?;
            match step {
                Step::Ticked(report) => {
                    if on_tick(self, &report).is_break() {
                        return Ok(());
                    }
                }
                Step::Woken(()) | Step::Ended => return Ok(()),
            }
        }
    }

    /// Stops the poller (its last answers are recorded) and finishes the trace, if one is
    /// being written.
    pub fn finish(mut self) -> Result<Option<TraceSummary>, RecordError> {
        let mut first: Option<RecordError> = None;
        if let Some(p) = self.poller.take() {
            let rest = p.stop();
            let mut report = TickReport::default();
            while let Ok(m) = rest.try_recv() {
                if let Err(e) = self.handle_message(m, &mut report) {
                    first.get_or_insert(e);
                }
            }
        }
        let summary = self.stop_trace();
        match (first, summary) {
            (Some(e), _) => Err(e),
            (None, s) => s,
        }
    }
}

/// A tick's `t_ms` from its clock reading `t` and the last tick's: strictly after the last.
fn next_tick_t_ms(last: Option<u64>, t: u64) -> u64 {
    match last {
        Some(l) if t <= l => l + 1,
        _ => t,
    }
}

impl Sink {
    /// `at` on the trace's clock.
    fn t_ms(&self, at: Instant) -> u64 {
        self.t0_ms + at.saturating_duration_since(self.start).as_millis() as u64
    }

    /// The `t_ms` of a tick taken at `at`: its time on the trace's clock, or one millisecond
    /// after the last tick's when that is not later. A tick that ran late can be followed by
    /// the next one within the same millisecond (at 10 ms on a loaded machine); readers take
    /// `t_ms` as the rows' order, so no two ticks share one.
    fn tick_t_ms(&mut self, at: Instant) -> u64 {
        let t = next_tick_t_ms(self.last_tick_t_ms, self.t_ms(at));
        self.last_tick_t_ms = Some(t);
        t
    }

    fn write_identities(&mut self) -> Result<(), RecordError> {
        // In a segmented trace, a process that exited before the oldest row kept has no row
        // left: its identity goes with them.
        let oldest = self.writer.oldest_t_ms();
        let t0 = self.t0_ms;
        // A continued trace's earlier processes first (those followed again are written with
        // what this recorder saw); they all ended with the recorder before, at `t0_ms` at the
        // latest.
        let earlier = self.inherited.iter().filter(|r| {
            !self.tracked.contains_key(&ProcessId {
                pid: r.pid,
                start_time_us: r.start_time_us,
            }) && oldest.is_none_or(|o| o < t0)
        });
        let rows: Vec<IdentityRow> = earlier
            .cloned()
            .chain(
                self.order
                    .iter()
                    .filter_map(|id| self.tracked.get(id))
                    .filter(|t| !(t.row.exited && oldest.is_some_and(|o| t.last_seen_t_ms < o)))
                    .map(|t| {
                        let mut row = t.row.clone();
                        if row.error.is_none() {
                            row.last_seen_utc = trace::utc_ms(t.last_seen);
                        }
                        row
                    }),
            )
            .collect();
        self.writer.set_identities(&rows)?;
        Ok(())
    }

    fn summary(&self) -> TraceSummary {
        TraceSummary {
            dir: self.dir.clone(),
            elapsed: self.start.elapsed(),
            samples: self.stats.samples,
            missed: self.stats.missed,
            min_free_percent: self.stats.min_free_percent,
            max_swap_used_bytes: self.stats.max_swap_used,
            polls_ok: self.stats.polls_ok,
            polls_failed: self.stats.polls_failed,
            failed_reads: self.stats.failed_reads,
            read_error: self.stats.read_error.clone(),
            processes: self
                .order
                .iter()
                .filter_map(|id| self.tracked.get(id))
                .map(|t| SummaryProcess {
                    pid: t.row.pid,
                    name: t.row.name.clone(),
                    models: t.row.models.clone(),
                    peak_model_memory_bytes: t.peak_model_memory,
                    peak_footprint_bytes: t.peak_footprint,
                    peak_rss_bytes: t.peak_rss,
                    exited: t.row.exited,
                    error: t.row.error.clone(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own_recorder(interval: Duration) -> Recorder {
        let me = ProcessSelector::Pids(vec![std::process::id()]);
        let mut o = Options::new(interval, me);
        o.pressure = None;
        Recorder::new(o).unwrap()
    }

    #[test]
    fn a_step_ticks_when_due_and_waits_the_rest_of_the_interval_for_the_next() {
        let mut rec = own_recorder(Duration::from_millis(200));
        let mut asked = Vec::new();
        // Due at once: the wait is asked for nothing, then the tick is taken.
        let step = rec.step(None, |t| {
            asked.push(t);
            Ok::<Option<()>, RecordError>(None)
        });
        assert!(matches!(step, Ok(Step::Ticked(_))), "{step:?}");
        assert_eq!(asked, [Duration::ZERO]);
        assert_eq!(rec.live().system_history.len(), 1);
        // The next one is an interval away: the wait is offered the rest of it.
        asked.clear();
        let step = rec.step(None, |t| {
            asked.push(t);
            std::thread::sleep(t);
            Ok::<Option<()>, RecordError>(None)
        });
        assert!(matches!(step, Ok(Step::Ticked(_))), "{step:?}");
        assert_eq!(asked.len(), 1, "{asked:?}");
        assert!(
            asked[0] > Duration::from_millis(100) && asked[0] <= Duration::from_millis(200),
            "{asked:?}"
        );
        assert_eq!(rec.live().system_history.len(), 2);
    }

    #[test]
    fn a_step_gives_back_what_its_wait_returned_or_ends_at_until_without_a_tick() {
        let mut rec = own_recorder(Duration::from_secs(3600));
        assert!(matches!(
            rec.step(None, |_| Ok::<_, RecordError>(None::<()>)),
            Ok(Step::Ticked(_))
        ));
        let step = rec.step(None, |_| Ok::<_, RecordError>(Some("a key")));
        assert!(matches!(step, Ok(Step::Woken("a key"))), "{step:?}");
        // The next tick is an hour away; `until` is sooner: the wait is offered only that.
        let until = Instant::now() + Duration::from_millis(20);
        let mut asked = Vec::new();
        let step = rec.step(Some(until), |t| {
            asked.push(t);
            std::thread::sleep(t);
            Ok::<Option<()>, RecordError>(None)
        });
        assert!(matches!(step, Ok(Step::Ended)), "{step:?}");
        assert!(
            asked.iter().all(|t| *t <= Duration::from_millis(20)),
            "{asked:?}"
        );
        assert_eq!(rec.live().system_history.len(), 1, "no tick was taken");
        // An error from the wait is the step's error.
        let step = rec.step(None, |_| -> Result<Option<()>, RecordError> {
            Err(RecordError::Poller(std::io::Error::other("gone")))
        });
        assert!(step.is_err());
    }

    /// Ticks taken back to back, within a millisecond, as a tick that ran late and the next
    /// one on time can be: each writes its rows at its own `t_ms`, in order.
    #[test]
    fn ticks_within_one_millisecond_get_rows_in_order() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("t");
        let mut rec = own_recorder(Duration::from_millis(10));
        rec.start_trace(&dir, "test").unwrap();
        for _ in 0..20 {
            rec.tick().unwrap();
        }
        rec.finish().unwrap();
        let times = |file: &str| -> Vec<u64> {
            let text = std::fs::read_to_string(dir.join(file)).unwrap();
            let mut lines = text.lines();
            let header: Vec<&str> = lines.next().unwrap().split(',').collect();
            let col = header.iter().position(|h| *h == "t_ms").unwrap();
            lines
                .map(|l| l.split(',').nth(col).unwrap().parse().unwrap())
                .collect()
        };
        let system = times(trace::SYSTEM_FILE);
        assert_eq!(system.len(), 20);
        assert!(system.windows(2).all(|w| w[0] < w[1]), "{system:?}");
        // This process's row of each tick is at its tick's time.
        assert_eq!(times(trace::PROCESSES_FILE), system);
    }

    #[test]
    fn a_runner_whose_weights_cannot_be_counted_is_named_with_why() {
        let n = Notice::WeightsNotCounted {
            pid: 4242,
            error: "permission denied: /proc/[pid]/pagemap for pid 4242 (run by user ollama)"
                .into(),
        };
        let said = n.to_string();
        assert!(
            said.starts_with(
                "pid 4242: its mapped model weights cannot be counted (permission denied"
            ),
            "{said}"
        );
        assert!(
            said.ends_with("weights_resident_bytes stays empty"),
            "{said}"
        );
    }
}
