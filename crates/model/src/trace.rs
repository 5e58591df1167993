//! The trace directory: what `memtide record` writes and `memtide report`/`render` read.
//!
//! `docs/trace-format.md` in the repository specifies every file and column. In short:
//! `meta.json`, and CSV files with a header row, one record per line, byte values as
//! integers, times as UTC RFC 3339 with milliseconds (`time_utc`) plus milliseconds since the
//! recording started on a monotonic clock (`t_ms`). An empty cell is a value the OS or the
//! source does not have.

use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The version of the trace format this crate writes for a trace in one piece.
pub const FORMAT_VERSION: u32 = 1;

/// The version it writes for a trace in segments (`docs/trace-format.md`), and the newest it
/// reads: a reader that knows only version 1 would miss every segment but the live one.
pub const SEGMENTED_FORMAT_VERSION: u32 = 2;

/// `meta.json`.
pub const META_FILE: &str = "meta.json";
/// One row per tick.
pub const SYSTEM_FILE: &str = "system.csv";
/// One row per followed process per tick.
pub const PROCESSES_FILE: &str = "processes.csv";
/// One row per process identity.
pub const IDENTITIES_FILE: &str = "identities.csv";
/// One row per `/api/ps` poll.
pub const POLLS_FILE: &str = "ollama_polls.csv";
/// One row per loaded model per successful poll.
pub const MODELS_FILE: &str = "models.csv";
/// One row per pressure notification from the kernel. Absent from traces written before it
/// existed, which read as having none.
pub const PRESSURE_FILE: &str = "pressure_events.csv";

/// One row per line of Ollama's server log that says something of memory, when the recorder
/// followed the log. Absent from traces written before it existed.
pub const OLLAMA_LOG_FILE: &str = "ollama_log.csv";

/// Every file of a trace directory, `meta.json` first.
pub const FILES: [&str; 8] = [
    META_FILE,
    SYSTEM_FILE,
    PROCESSES_FILE,
    IDENTITIES_FILE,
    POLLS_FILE,
    MODELS_FILE,
    PRESSURE_FILE,
    OLLAMA_LOG_FILE,
];

/// Formats a time as UTC RFC 3339 with milliseconds: `2026-05-14T09:25:03.250Z`.
pub fn utc_ms(t: SystemTime) -> String {
    match jiff::Timestamp::try_from(t) {
        Ok(ts) => ts.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        // Outside jiff's range (years before -9999 or after 9999): not a clock reading.
        Err(_) => String::new(),
    }
}

/// Formats a timestamp like [`utc_ms`].
pub fn timestamp_utc_ms(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// `meta.json`: what was recorded, where, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// [`FORMAT_VERSION`] of the writer.
    pub format_version: u32,
    /// The memtide version that wrote the trace.
    pub memtide_version: String,
    /// `linux`, `macos`, ...
    pub os: String,
    /// Kernel or OS release.
    pub os_version: Option<String>,
    /// `aarch64`, `x86_64`, ...
    pub arch: String,
    /// Physical memory, bytes (macOS `hw.memsize`; Linux `MemTotal`).
    pub total_memory_bytes: u64,
    /// VM page size, bytes.
    pub page_size_bytes: Option<u64>,
    /// Apple Silicon: the GPU wired-memory limit (`iogpu.wired_limit_mb` × 1 MiB), bytes; 0
    /// when it is the system's default. Absent where the sysctl does not exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_wired_limit_bytes: Option<u64>,
    /// The sampling interval, milliseconds.
    pub interval_ms: u64,
    /// Which processes were followed, as the user asked for them.
    pub selection: Selection,
    /// When recording started (UTC, ms).
    pub start_utc: String,
    /// When recording ended; absent while recording, or if the recorder was killed.
    pub end_utc: Option<String>,
    /// Ticks recorded (written at the end).
    pub samples: Option<u64>,
    /// Ticks that could not be taken on time (written at the end).
    pub missed_ticks: Option<u64>,
    /// Samples in which a system read failed (their affected fields are empty); written at
    /// the end, absent when none did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_reads: Option<u64>,
    /// The first such failure, as the OS told it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_error: Option<String>,
    /// The Ollama server polled, if any.
    pub ollama: Option<OllamaMeta>,
    /// What wrote the trace: `memtide record`, or `memtide import` for a trace converted from
    /// the seed's shell-loop files. Absent means `memtide record`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// With `record --burst`: the faster interval, ms, used for `burst_hold_ms` after each
    /// event (so rows are `interval_ms` apart at rest and closer after an event).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst_interval_ms: Option<u64>,
    /// How long a burst lasts after its last cause, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst_hold_ms: Option<u64>,
    /// A trace kept in segments: its limits and its closed segments. Absent for a trace in
    /// one piece.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segments: Option<SegmentsMeta>,
    /// `memtide run`: the command it ran while recording. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<CommandMeta>,
    /// The Ollama server log the recorder followed into `ollama_log.csv`. Absent when it
    /// followed none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ollama_log: Option<String>,
}

/// The command `memtide run` ran, with when it started and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandMeta {
    /// Its command line.
    pub argv: Vec<String>,
    /// Its PID.
    pub pid: u32,
    /// When it was started (UTC, ms).
    pub start_utc: String,
    /// The same, `t_ms`.
    pub start_t_ms: u64,
    /// When it was seen to exit (UTC, ms); absent if recording stopped first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_utc: Option<String>,
    /// The same, `t_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_t_ms: Option<u64>,
    /// Its exit status, when it exited by itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// The signal that ended it, when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
}

/// How a segmented trace is cut and kept, and which segments it has closed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentsMeta {
    /// A segment is closed once its files hold this many bytes...
    pub segment_bytes: u64,
    /// ...or its rows span this many milliseconds.
    pub segment_ms: u64,
    /// Segments whose last row is older than this (ms before the newest) are deleted.
    pub keep_ms: Option<u64>,
    /// The oldest segments are deleted to keep the trace under this many bytes.
    pub max_size_bytes: Option<u64>,
    /// The closed segments still on disk, oldest first.
    pub closed: Vec<SegmentInfo>,
}

/// A closed segment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentInfo {
    /// Its number (in its file names).
    pub number: u32,
    /// The `t_ms` of its first and last rows.
    pub first_t_ms: u64,
    /// See `first_t_ms`.
    pub last_t_ms: u64,
}

/// How to cut a recording into segments and how much of it to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentPolicy {
    /// Close a segment once its files hold this many bytes.
    pub segment_bytes: u64,
    /// Or once its rows span this long, ms.
    pub segment_ms: u64,
    /// Delete segments that ended longer ago than this, ms.
    pub keep_ms: Option<u64>,
    /// Delete the oldest segments to stay under this many bytes.
    pub max_size_bytes: Option<u64>,
}

/// The files that are cut into segments (all but `meta.json` and `identities.csv`).
pub const SEGMENTED_FILES: [&str; 6] = [
    SYSTEM_FILE,
    PROCESSES_FILE,
    POLLS_FILE,
    MODELS_FILE,
    PRESSURE_FILE,
    OLLAMA_LOG_FILE,
];

/// The process selection of a recording.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Selection {
    /// `true` when no rule was given and every Ollama process was followed.
    pub ollama_default: bool,
    /// `--match` patterns.
    pub patterns: Vec<String>,
    /// `--pid` values.
    pub pids: Vec<u32>,
    /// `--children-of`.
    pub children_of: Option<u32>,
    /// `--all`.
    pub all: bool,
}

/// The Ollama server a recording polled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OllamaMeta {
    /// Base URL.
    pub url: String,
    /// `/api/version` at the start, if it answered.
    pub version: Option<String>,
    /// Polling interval, milliseconds.
    pub poll_interval_ms: u64,
}

/// A row of `system.csv`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct SystemRow {
    pub time_utc: String,
    pub t_ms: u64,
    pub total_bytes: u64,
    pub free_bytes: Option<u64>,
    pub available_bytes: Option<u64>,
    pub active_bytes: Option<u64>,
    pub inactive_bytes: Option<u64>,
    pub speculative_bytes: Option<u64>,
    pub wired_bytes: Option<u64>,
    pub purgeable_bytes: Option<u64>,
    pub compressor_bytes: Option<u64>,
    /// macOS: the compressed data inside the compressor (`vm.compressor_bytes_used`).
    /// Absent from traces written before this column existed.
    #[serde(default)]
    pub compressor_payload_bytes: Option<u64>,
    pub compressed_bytes: Option<u64>,
    pub file_backed_bytes: Option<u64>,
    pub anonymous_bytes: Option<u64>,
    pub swap_total_bytes: Option<u64>,
    pub swap_used_bytes: Option<u64>,
    pub pageins_bytes: Option<u64>,
    pub pageouts_bytes: Option<u64>,
    pub swapins_bytes: Option<u64>,
    pub swapouts_bytes: Option<u64>,
    pub compressions_bytes: Option<u64>,
    pub decompressions_bytes: Option<u64>,
    pub free_percent: Option<f64>,
    /// `normal`, `warning` or `critical`.
    pub pressure: Option<String>,
    pub psi_some_avg10: Option<f64>,
    pub psi_full_avg10: Option<f64>,
    pub psi_some_total_us: Option<u64>,
    pub psi_full_total_us: Option<u64>,
    /// Age of the page-queue fields and counters, milliseconds (0 where read every tick).
    pub stats_age_ms: u64,
}

/// A row of `processes.csv`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct ProcessRow {
    pub time_utc: String,
    pub t_ms: u64,
    pub pid: u32,
    /// With `pid`, the identity: microseconds since the Unix epoch.
    pub start_time_us: u64,
    pub ppid: u32,
    pub rss_bytes: u64,
    pub footprint_bytes: Option<u64>,
    pub peak_footprint_bytes: Option<u64>,
    pub peak_rss_bytes: Option<u64>,
    pub virtual_bytes: Option<u64>,
    pub wired_bytes: Option<u64>,
    pub swapped_bytes: Option<u64>,
    /// The file-backed part of `rss_bytes` (Linux `RssFile`); empty on macOS and in traces
    /// written before the column existed.
    #[serde(default)]
    pub rss_file_bytes: Option<u64>,
    /// How old the fields read from a slower source are, ms (Linux: `status`, read at most
    /// once a second; see `docs/metrics.md`). Empty where every field is read every tick, and
    /// in traces written before this column.
    #[serde(default)]
    pub status_age_ms: Option<u64>,
    /// The runner's model file resident in its mappings of it, bytes: the mapped weights
    /// (Linux: the mappings' pages present in the process, from `pagemap`; macOS: the regions'
    /// resident pages, `PROC_PIDREGIONPATHINFO`). Counted for runners whose `--model` is a
    /// file, again only when the process's memory moved (at most once a second, at least once
    /// a minute); between counts the last one. Empty for other processes, before the first
    /// count, and in traces written before the column.
    #[serde(default)]
    pub weights_resident_bytes: Option<u64>,
}

/// A row of `identities.csv`: one process, for its whole life.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityRow {
    /// The PID.
    pub pid: u32,
    /// With `pid`, the identity: microseconds since the Unix epoch.
    pub start_time_us: u64,
    /// The start time as UTC RFC 3339 with milliseconds (empty when unknown).
    pub start_utc: String,
    /// Parent PID when first seen.
    pub ppid: u32,
    /// The kernel's short name.
    pub name: String,
    /// The executable's path, where known.
    pub exe: Option<String>,
    /// The argument vector, as a JSON array of strings.
    pub argv_json: String,
    /// Model names resolved at record time from the runner's `--model` blob path through
    /// Ollama's manifests, separated by `;` (several names can share one blob).
    pub models: String,
    /// First tick in which it was sampled (UTC, ms).
    pub first_seen_utc: String,
    /// Last tick in which it was sampled.
    pub last_seen_utc: String,
    /// `true` once it exited during the recording.
    pub exited: bool,
    /// The first tick in which it was found gone.
    pub exited_utc: Option<String>,
    /// Set when the process was selected but could not be read, with why.
    pub error: Option<String>,
}

impl IdentityRow {
    /// The argument vector decoded from [`IdentityRow::argv_json`].
    pub fn argv(&self) -> Vec<String> {
        serde_json::from_str(&self.argv_json).unwrap_or_default()
    }
}

/// A row of `ollama_polls.csv`: what one `/api/ps` poll gave.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollRow {
    /// When the poll was sent.
    pub time_utc: String,
    /// The same on the recording's monotonic clock.
    pub t_ms: u64,
    /// `ok`, `unreachable`, `timeout`, `http_error` or `bad_response`.
    pub outcome: String,
    /// How long the answer took, milliseconds.
    pub latency_ms: u64,
    /// Models loaded (0 with outcome `ok` means none; empty when the poll failed).
    pub models_loaded: Option<u32>,
    /// The error, when the poll failed.
    pub error: Option<String>,
}

/// A row of `models.csv`: one loaded model in one successful poll.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct ModelRow {
    /// The poll's time, as in `ollama_polls.csv`.
    pub time_utc: String,
    pub t_ms: u64,
    pub name: String,
    pub model: String,
    /// The manifest digest.
    pub digest: String,
    pub size_bytes: u64,
    pub size_vram_bytes: Option<u64>,
    pub context_length: Option<u64>,
    /// UTC, ms; far in the future (year 2318) for `keep_alive: -1`.
    pub expires_at_utc: Option<String>,
    pub format: String,
    pub family: String,
    /// `families` joined with `;`.
    pub families: String,
    pub parameter_size: String,
    pub quantization_level: String,
    pub parent_model: String,
}

/// A row of `pressure_events.csv`: the kernel said memory is under pressure, at this moment
/// (between samples, to the millisecond).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PressureRow {
    /// When the notification arrived.
    pub time_utc: String,
    /// The same on the recording's monotonic clock.
    pub t_ms: u64,
    /// `psi` (a Linux PSI trigger), `sysctl` (macOS's pressure level, polled; a row at each
    /// change), or, in traces of earlier versions, `dispatch` (libdispatch's source).
    pub source: String,
    /// The level announced (`normal`, `warning`, `critical`), where the source gives one.
    pub level: Option<String>,
    /// What fires it, in words (`memory stalls of 150 ms or more within 2 s`).
    pub detail: String,
}

/// What a row of `ollama_log.csv` says (see [`crate::ollama_log::Line`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogEvent {
    /// Ollama started a runner (`port` is its port).
    #[default]
    RunnerStart,
    /// llama.cpp begins to load the weights; the buffer lines after it are this load's.
    LoadStart,
    /// The runner answered; `detail` is the load's seconds.
    RunnerReady,
    /// llama.cpp allocated a buffer: `component`, `backend`, `kind`, `bytes`.
    Buffer,
    /// `offloaded N/M layers to GPU`: `detail` is `N/M`.
    Offloaded,
    /// A device's free memory before the load: `backend` is the device, `gpu_free_bytes`.
    DeviceFree,
    /// The scheduler's view of the machine: `bytes` total, `system_free_bytes`, `detail`
    /// `free_swap=N`.
    SystemMemory,
    /// The scheduler's view of a GPU: `backend` its id, `available_bytes`, `gpu_free_bytes`,
    /// `detail` its library.
    GpuMemory,
    /// The next model fits beside those loaded: the prediction columns.
    Fits,
    /// The next model would not fit; Ollama evicts first: the prediction columns.
    Evict,
    /// Ollama turned mmap off for the next load: `detail` is why.
    MmapOff,
    /// The model is too large for system memory.
    TooLarge,
    /// Ollama detected an out-of-memory failure: `detail` is the model.
    RuntimeOom,
}

/// A row of `ollama_log.csv`: a line of Ollama's server log that says something of memory,
/// with the runner it belongs to (by port). Bytes are whole bytes, converted from the log's
/// `GiB`/`MiB` figures (whose precision is the log's: a tenth of a GiB for the scheduler's,
/// a hundredth of a MiB for llama.cpp's).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OllamaLogRow {
    /// The line's own time where it has one (Ollama's lines), else when memtide read it.
    pub time_utc: String,
    /// When memtide read it, on the recording's clock.
    pub t_ms: u64,
    /// The runner's port, for a runner's start and for llama.cpp's lines of its load.
    pub port: Option<u16>,
    /// What the line says.
    pub event: LogEvent,
    /// llama.cpp's component (`load_tensors`, `llama_kv_cache`, ...), for a buffer.
    pub component: String,
    /// The backend of a buffer (`CPU_Mapped`, `MTL0`, ...), a device, or a GPU's id.
    pub backend: String,
    /// What a buffer holds.
    pub kind: Option<crate::ollama_log::BufferKind>,
    /// A buffer's size, or the machine's total memory.
    pub bytes: Option<u64>,
    /// What the scheduler predicted the next model would take.
    pub predicted_bytes: Option<u64>,
    /// What the scheduler counted as available for it (a GPU's available memory).
    pub available_bytes: Option<u64>,
    /// Free GPU memory (a device's, before a load).
    pub gpu_free_bytes: Option<u64>,
    /// Free system memory, as the scheduler saw it.
    pub system_free_bytes: Option<u64>,
    /// The rest, in the log's words.
    pub detail: String,
}

/// Why a trace file could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// A file could not be created or written (disk full, directory removed, ...).
    #[error("cannot write {}: {error}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// What the OS said (in the message, so not also a `source`, which would print
        /// it twice in a chain of errors).
        error: io::Error,
    },
    /// The trace directory disappeared while it was being written.
    #[error("the trace directory {} is gone ({error}): recording stopped", path.display())]
    Gone {
        /// The directory.
        path: PathBuf,
        /// What the OS said when asked for it.
        error: io::Error,
    },
    /// A file could not be read.
    #[error("cannot read {}: {error}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said (in the message, so not also a `source`, which would print
        /// it twice in a chain of errors).
        error: io::Error,
    },
    /// A file was read but is not what the format says.
    #[error("{}: {detail}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line when known.
        detail: String,
    },
}

fn write_err(path: &Path, source: impl Into<io::Error>) -> TraceError {
    TraceError::Write {
        path: path.to_owned(),
        error: source.into(),
    }
}

/// Writes `bytes` to `path` through a temporary file and a rename, so that a reader (or a
/// crash) sees the old file or the new one, never half of one.
/// A failure leaves no temporary file behind, and the error names `path`, the file the user
/// knows.
fn replace_file(path: &Path, bytes: &[u8]) -> Result<(), TraceError> {
    let tmp = path.with_extension("tmp");
    let written = File::create(&tmp)
        .and_then(|mut f| {
            f.write_all(bytes)?;
            f.flush()
        })
        .and_then(|()| std::fs::rename(&tmp, path));
    written.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        write_err(path, e)
    })
}

/// A CSV line built field by field into a buffer, formatted as the `csv` crate formats a
/// serialised row (integers by `itoa`, floats by `ryu`, an absent value as an empty field, a
/// field quoted only when it holds a comma, a quote or a line end): the recorder's rows are
/// written this way, without building a row value or a string per field, and
/// `hand_written_rows_are_what_csv_writes` checks the two agree byte for byte.
struct Line<'a> {
    buf: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Line<'a> {
    fn new(buf: &'a mut Vec<u8>) -> Line<'a> {
        Line { buf, first: true }
    }

    fn sep(&mut self) {
        if !self.first {
            self.buf.push(b',');
        }
        self.first = false;
    }

    fn u64(&mut self, v: u64) -> &mut Self {
        self.sep();
        self.buf
            .extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
        self
    }

    fn opt_u64(&mut self, v: Option<u64>) -> &mut Self {
        match v {
            Some(v) => self.u64(v),
            None => {
                self.sep();
                self
            }
        }
    }

    fn opt_f64(&mut self, v: Option<f64>) -> &mut Self {
        self.sep();
        if let Some(v) = v {
            self.buf
                .extend_from_slice(ryu::Buffer::new().format(v).as_bytes());
        }
        self
    }

    fn str(&mut self, v: &str) -> &mut Self {
        self.sep();
        if v.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
            self.buf.push(b'"');
            for b in v.bytes() {
                if b == b'"' {
                    self.buf.push(b'"');
                }
                self.buf.push(b);
            }
            self.buf.push(b'"');
        } else {
            self.buf.extend_from_slice(v.as_bytes());
        }
        self
    }

    fn opt_str(&mut self, v: Option<&str>) -> &mut Self {
        match v {
            Some(v) => self.str(v),
            None => {
                self.sep();
                self
            }
        }
    }

    fn end(&mut self) {
        self.buf.push(b'\n');
    }
}

/// A `system.csv` row, formatted by hand (see [`Line`]).
fn format_system(buf: &mut Vec<u8>, r: &SystemRow) {
    Line::new(buf)
        .str(&r.time_utc)
        .u64(r.t_ms)
        .u64(r.total_bytes)
        .opt_u64(r.free_bytes)
        .opt_u64(r.available_bytes)
        .opt_u64(r.active_bytes)
        .opt_u64(r.inactive_bytes)
        .opt_u64(r.speculative_bytes)
        .opt_u64(r.wired_bytes)
        .opt_u64(r.purgeable_bytes)
        .opt_u64(r.compressor_bytes)
        .opt_u64(r.compressor_payload_bytes)
        .opt_u64(r.compressed_bytes)
        .opt_u64(r.file_backed_bytes)
        .opt_u64(r.anonymous_bytes)
        .opt_u64(r.swap_total_bytes)
        .opt_u64(r.swap_used_bytes)
        .opt_u64(r.pageins_bytes)
        .opt_u64(r.pageouts_bytes)
        .opt_u64(r.swapins_bytes)
        .opt_u64(r.swapouts_bytes)
        .opt_u64(r.compressions_bytes)
        .opt_u64(r.decompressions_bytes)
        .opt_f64(r.free_percent)
        .opt_str(r.pressure.as_deref())
        .opt_f64(r.psi_some_avg10)
        .opt_f64(r.psi_full_avg10)
        .opt_u64(r.psi_some_total_us)
        .opt_u64(r.psi_full_total_us)
        .u64(r.stats_age_ms)
        .end();
}

/// A `processes.csv` row at `time_utc` (the tick's time, given once for all its rows; the
/// row's own `time_utc` is not read).
fn format_process(buf: &mut Vec<u8>, time_utc: &str, v: &ProcessRow) {
    Line::new(buf)
        .str(time_utc)
        .u64(v.t_ms)
        .u64(u64::from(v.pid))
        .u64(v.start_time_us)
        .u64(u64::from(v.ppid))
        .u64(v.rss_bytes)
        .opt_u64(v.footprint_bytes)
        .opt_u64(v.peak_footprint_bytes)
        .opt_u64(v.peak_rss_bytes)
        .opt_u64(v.virtual_bytes)
        .opt_u64(v.wired_bytes)
        .opt_u64(v.swapped_bytes)
        .opt_u64(v.rss_file_bytes)
        .opt_u64(v.status_age_ms)
        .opt_u64(v.weights_resident_bytes)
        .end();
}

/// How many bytes of rows a file's buffer holds before they are written without a flush.
const SPILL_BYTES: usize = 256 * 1024;

/// A CSV file of the trace: rows are formatted into `buf` and handed to the OS in one write
/// when flushed.
struct CsvOut {
    path: PathBuf,
    file: File,
    buf: Vec<u8>,
    header: Vec<String>,
    /// Bytes handed to the OS since the file was created.
    written: u64,
}

impl CsvOut {
    fn create(path: PathBuf, header: Vec<String>) -> Result<CsvOut, TraceError> {
        let file = File::create(&path).map_err(|e| write_err(&path, e))?;
        let mut out = CsvOut {
            file,
            buf: Vec::with_capacity(16 * 1024),
            path,
            header,
            written: 0,
        };
        // The header is written at creation, so that a file with no rows still has one.
        let mut line = Line::new(&mut out.buf);
        for h in &out.header {
            line.str(h);
        }
        line.end();
        Ok(out)
    }

    /// Appends a row by serde (for the rarer rows: polls and models).
    fn serialize<T: Serialize>(&mut self, row: &T) -> Result<(), TraceError> {
        let mut w = csv::WriterBuilder::new()
            .has_headers(false)
            .buffer_capacity(1024)
            .from_writer(&mut self.buf);
        w.serialize(row)
            .and_then(|()| w.flush().map_err(csv::Error::from))
            .map_err(|e| write_err(&self.path, e))
    }

    /// Writes the buffer out once it holds [`SPILL_BYTES`]: a writer that is not flushed every
    /// tick (`memtide import` writing a day of rows) holds no more than that.
    fn spill(&mut self) -> Result<(), TraceError> {
        if self.buf.len() >= SPILL_BYTES {
            self.flush()
        } else {
            Ok(())
        }
    }

    fn flush(&mut self) -> Result<(), TraceError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let written = self.file.write_all(&self.buf);
        self.written += self.buf.len() as u64;
        // What could not be written is not kept to be written twice: the error says the file
        // is short from here.
        self.buf.clear();
        written.map_err(|e| write_err(&self.path, e))
    }
}

/// Writes a trace directory. Rows go out as they come; [`TraceWriter::flush`] hands them to
/// the OS (call it every tick, so that a killed recorder loses at most one tick). `meta.json`
/// and `identities.csv` are replaced whole, atomically, whenever they change.
pub struct TraceWriter {
    dir: PathBuf,
    meta: Meta,
    system: CsvOut,
    processes: CsvOut,
    polls: CsvOut,
    models: CsvOut,
    pressure: CsvOut,
    ollama_log: CsvOut,
    seg: Option<Segmenting>,
}

/// The live segment of a segmented trace.
struct Segmenting {
    policy: SegmentPolicy,
    /// The live segment's number: the one its files get when it closes.
    number: u32,
    first_t_ms: Option<u64>,
    last_t_ms: u64,
    /// The closed segment being compressed, and the thread doing it.
    compressing: Option<(u32, std::thread::JoinHandle<()>)>,
}

impl TraceWriter {
    /// A writer with fresh CSV files (each its header row, so that files that stay empty
    /// still have one).
    fn with_new_files(
        dir: &Path,
        meta: Meta,
        seg: Option<Segmenting>,
    ) -> Result<TraceWriter, TraceError> {
        Ok(TraceWriter {
            dir: dir.to_owned(),
            system: CsvOut::create(dir.join(SYSTEM_FILE), header::<SystemRow>())?,
            processes: CsvOut::create(dir.join(PROCESSES_FILE), header::<ProcessRow>())?,
            polls: CsvOut::create(dir.join(POLLS_FILE), header::<PollRow>())?,
            models: CsvOut::create(dir.join(MODELS_FILE), header::<ModelRow>())?,
            pressure: CsvOut::create(dir.join(PRESSURE_FILE), header::<PressureRow>())?,
            ollama_log: CsvOut::create(dir.join(OLLAMA_LOG_FILE), header::<OllamaLogRow>())?,
            meta,
            seg,
        })
    }

    /// Creates `dir` (and its parents) and every file of the trace, and writes `meta`.
    pub fn create(dir: &Path, meta: Meta) -> Result<TraceWriter, TraceError> {
        std::fs::create_dir_all(dir).map_err(|e| write_err(dir, e))?;
        let mut w = TraceWriter::with_new_files(dir, meta, None)?;
        w.set_identities(&[])?;
        w.write_meta()?;
        w.flush()?;
        Ok(w)
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The metadata as written so far.
    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// Changes `meta.json` (for example once Ollama's version is known) and rewrites it.
    pub fn update_meta(&mut self, change: impl FnOnce(&mut Meta)) -> Result<(), TraceError> {
        change(&mut self.meta);
        self.write_meta()
    }

    fn write_meta(&self) -> Result<(), TraceError> {
        let path = self.dir.join(META_FILE);
        let mut json = serde_json::to_vec_pretty(&self.meta).map_err(|e| write_err(&path, e))?;
        json.push(b'\n');
        replace_file(&path, &json)
    }

    /// Appends a row to `system.csv` (it reaches the file at the next flush).
    pub fn system(&mut self, row: &SystemRow) -> Result<(), TraceError> {
        format_system(&mut self.system.buf, row);
        self.saw(row.t_ms);
        self.system.spill()
    }

    fn saw(&mut self, t_ms: u64) {
        if let Some(s) = &mut self.seg {
            s.first_t_ms.get_or_insert(t_ms);
            s.last_t_ms = s.last_t_ms.max(t_ms);
        }
    }

    /// Appends a row to `processes.csv`.
    pub fn process(&mut self, row: &ProcessRow) -> Result<(), TraceError> {
        self.process_at(&row.time_utc, row)
    }

    /// Appends a row to `processes.csv` at `time_utc` instead of the row's own: the
    /// recorder's way, which formats the tick's time once for all its processes and leaves
    /// each row's `time_utc` empty (an empty `String` allocates nothing).
    pub fn process_at(&mut self, time_utc: &str, v: &ProcessRow) -> Result<(), TraceError> {
        format_process(&mut self.processes.buf, time_utc, v);
        self.saw(v.t_ms);
        self.processes.spill()
    }

    /// Appends a poll, and its models, to `ollama_polls.csv` and `models.csv`.
    pub fn poll(&mut self, poll: &PollRow, models: &[ModelRow]) -> Result<(), TraceError> {
        self.polls.serialize(poll)?;
        for m in models {
            self.models.serialize(m)?;
        }
        Ok(())
    }

    /// Appends a pressure notification to `pressure_events.csv`.
    pub fn pressure(&mut self, row: &PressureRow) -> Result<(), TraceError> {
        self.saw(row.t_ms);
        self.pressure.serialize(row)
    }

    /// Appends a line of Ollama's server log to `ollama_log.csv`.
    pub fn ollama_log(&mut self, row: &OllamaLogRow) -> Result<(), TraceError> {
        self.saw(row.t_ms);
        self.ollama_log.serialize(row)
    }

    /// Replaces `identities.csv` with these rows.
    pub fn set_identities(&mut self, rows: &[IdentityRow]) -> Result<(), TraceError> {
        let path = self.dir.join(IDENTITIES_FILE);
        let mut w = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(Vec::new());
        w.write_record(header::<IdentityRow>())
            .map_err(|e| write_err(&path, e))?;
        for r in rows {
            w.serialize(r).map_err(|e| write_err(&path, e))?;
        }
        let bytes = w
            .into_inner()
            .map_err(|e| write_err(&path, e.into_error()))?;
        replace_file(&path, &bytes)
    }

    /// Hands every row written so far to the OS: one write per file that has new rows. Every
    /// file is tried even when one fails; the first failure is returned. In a segmented trace,
    /// a full live segment is then closed (see [`crate::segments`]).
    pub fn flush(&mut self) -> Result<(), TraceError> {
        let results = [
            self.system.flush(),
            self.processes.flush(),
            self.polls.flush(),
            self.models.flush(),
            self.pressure.flush(),
            self.ollama_log.flush(),
        ];
        results.into_iter().collect::<Result<(), TraceError>>()?;
        if let Some(s) = &self.seg {
            let bytes = self.system.written
                + self.processes.written
                + self.polls.written
                + self.models.written
                + self.pressure.written
                + self.ollama_log.written;
            let span = s.first_t_ms.map_or(0, |f| s.last_t_ms - f);
            if s.first_t_ms.is_some()
                && (bytes >= s.policy.segment_bytes || span >= s.policy.segment_ms)
            {
                self.rotate()?;
            }
        }
        Ok(())
    }

    /// Creates a segmented trace: as [`TraceWriter::create`], with `policy` recorded in
    /// `meta.json` and applied at every flush.
    pub fn create_segmented(
        dir: &Path,
        mut meta: Meta,
        policy: SegmentPolicy,
    ) -> Result<TraceWriter, TraceError> {
        meta.format_version = SEGMENTED_FORMAT_VERSION;
        meta.segments = Some(SegmentsMeta {
            segment_bytes: policy.segment_bytes,
            segment_ms: policy.segment_ms,
            keep_ms: policy.keep_ms,
            max_size_bytes: policy.max_size_bytes,
            closed: Vec::new(),
        });
        let mut w = TraceWriter::create(dir, meta)?;
        w.seg = Some(Segmenting {
            policy,
            number: 1,
            first_t_ms: None,
            last_t_ms: 0,
            compressing: None,
        });
        Ok(w)
    }

    /// Continues the segmented trace in `dir` (a flight recorder restarted): its live
    /// segment, left by the recorder that stopped, is closed and compressed like any other,
    /// fresh live files are started, and `meta.json` keeps the trace's start and its closed
    /// segments, with `update` applied (this recorder's version, interval, selection, limits).
    /// Rows go on from the returned `t_ms` (the wall-clock time since the trace's start, and
    /// never before its last row), so that the trace stays in time order. Also returns the
    /// identities written so far, and the samples and missed ticks counted so far.
    pub fn resume_segmented(
        dir: &Path,
        policy: SegmentPolicy,
        now: SystemTime,
        update: impl FnOnce(&mut Meta),
    ) -> Result<(TraceWriter, Resumed), TraceError> {
        let meta_path = dir.join(META_FILE);
        let bytes = std::fs::read(&meta_path).map_err(|e| TraceError::Read {
            path: meta_path.clone(),
            error: e,
        })?;
        let mut meta: Meta = serde_json::from_slice(&bytes).map_err(|e| TraceError::Invalid {
            path: meta_path.clone(),
            detail: e.to_string(),
        })?;
        if meta.segments.is_none() || meta.format_version != SEGMENTED_FORMAT_VERSION {
            return Err(TraceError::Invalid {
                path: meta_path,
                detail: "not a trace kept in segments (record --keep or --max-size): it cannot be \
                         continued"
                    .into(),
            });
        }
        let last_t_ms = crate::timeline::Timeline::end_t_ms(dir)?.unwrap_or(0);
        let start_ms = meta
            .start_utc
            .parse::<jiff::Timestamp>()
            .map(|t| t.as_millisecond())
            .unwrap_or(0);
        let wall_ms = jiff::Timestamp::try_from(now).map_or(0, |t| t.as_millisecond());
        let t0_ms = u64::try_from(wall_ms - start_ms)
            .unwrap_or(0)
            .max(last_t_ms + 1);
        // The segment the stopped recorder was writing becomes the newest closed one.
        let segs = meta.segments.get_or_insert_with(SegmentsMeta::default);
        let mut number = segs.closed.iter().map(|c| c.number).max().unwrap_or(0);
        for base in SEGMENTED_FILES {
            for part in crate::segments::parts(dir, base).map_err(|e| write_err(dir, e))? {
                number = number.max(part.number.unwrap_or(0));
            }
        }
        let n = number + 1;
        let first_t_ms = segs.closed.last().map_or(0, |c| c.last_t_ms + 1);
        let mut plain = Vec::new();
        for base in SEGMENTED_FILES {
            let live = dir.join(base);
            if live.exists() {
                let closed = crate::segments::segment_path(dir, base, n, false);
                std::fs::rename(&live, &closed).map_err(|e| write_err(&live, e))?;
                plain.push(closed);
            }
        }
        if !plain.is_empty() {
            segs.closed.push(SegmentInfo {
                number: n,
                first_t_ms: first_t_ms.min(last_t_ms),
                last_t_ms,
            });
        }
        let resumed = Resumed {
            t0_ms,
            identities: read_identities(dir)?,
            samples: meta.samples.unwrap_or(0),
            missed_ticks: meta.missed_ticks.unwrap_or(0),
        };
        update(&mut meta);
        meta.format_version = SEGMENTED_FORMAT_VERSION;
        meta.end_utc = None;
        if let Some(m) = meta.segments.as_mut() {
            m.segment_bytes = policy.segment_bytes;
            m.segment_ms = policy.segment_ms;
            m.keep_ms = policy.keep_ms;
            m.max_size_bytes = policy.max_size_bytes;
        }
        let seg = Segmenting {
            policy,
            number: n + 1,
            first_t_ms: None,
            last_t_ms: t0_ms,
            compressing: None,
        };
        let mut w = TraceWriter::with_new_files(dir, meta, Some(seg))?;
        if !plain.is_empty() {
            w.compress_in_background(n, plain)?;
        }
        w.write_meta()?;
        w.flush()?;
        Ok((w, resumed))
    }

    /// The `t_ms` of the oldest row still on disk (`None` before the first row): the
    /// identities of processes whose rows all went with deleted segments can go too.
    pub fn oldest_t_ms(&self) -> Option<u64> {
        let s = self.seg.as_ref()?;
        self.meta
            .segments
            .as_ref()
            .and_then(|m| m.closed.first().map(|c| c.first_t_ms))
            .or(s.first_t_ms)
    }

    /// Compresses the plain files of closed segment `number` on a thread of its own, which
    /// the next rotation (or the finish) waits for.
    fn compress_in_background(
        &mut self,
        number: u32,
        plain: Vec<PathBuf>,
    ) -> Result<(), TraceError> {
        let handle = std::thread::Builder::new()
            .name("memtide-compress".into())
            .spawn(move || {
                for p in plain {
                    // A file that cannot be compressed stays plain, and reads as it is.
                    let _ = crate::segments::compress(&p);
                }
            })
            .map_err(|e| write_err(&self.dir, e))?;
        if let Some(s) = self.seg.as_mut() {
            s.compressing = Some((number, handle));
        }
        Ok(())
    }

    /// Closes the live segment: renames its files to numbered ones, starts new live files,
    /// compresses the closed ones on a thread of their own, deletes the oldest segments past
    /// the limits, and records it all in `meta.json`.
    fn rotate(&mut self) -> Result<(), TraceError> {
        let Some(s) = self.seg.as_mut() else {
            return Ok(());
        };
        let n = s.number;
        // One compression at a time: a recorder that fills segments faster than they
        // compress waits here rather than piling up threads.
        if let Some((_, h)) = s.compressing.take() {
            let _ = h.join();
        }
        let info = SegmentInfo {
            number: n,
            first_t_ms: s.first_t_ms.unwrap_or(s.last_t_ms),
            last_t_ms: s.last_t_ms,
        };
        let now = s.last_t_ms;
        let policy = s.policy;
        s.number += 1;
        s.first_t_ms = None;
        let dir = self.dir.clone();
        for out in [
            &mut self.system,
            &mut self.processes,
            &mut self.polls,
            &mut self.models,
            &mut self.pressure,
            &mut self.ollama_log,
        ] {
            let base = out
                .path
                .file_name()
                .and_then(|b| b.to_str())
                .unwrap_or_default()
                .to_owned();
            let closed = crate::segments::segment_path(&dir, &base, n, false);
            std::fs::rename(&out.path, &closed).map_err(|e| write_err(&out.path, e))?;
            *out = CsvOut::create(out.path.clone(), std::mem::take(&mut out.header))?;
        }
        let plain: Vec<PathBuf> = SEGMENTED_FILES
            .iter()
            .map(|b| crate::segments::segment_path(&dir, b, n, false))
            .collect();
        self.compress_in_background(n, plain)?;
        let segs = self.meta.segments.get_or_insert_with(SegmentsMeta::default);
        segs.closed.push(info);
        // Retention: the oldest whole segments beyond the limits go; never the live one, nor
        // the one being compressed.
        let closed: Vec<crate::segments::Closed> = segs
            .closed
            .iter()
            .map(|c| crate::segments::Closed {
                number: c.number,
                last_t_ms: c.last_t_ms,
                bytes: crate::segments::segment_bytes(&dir, &SEGMENTED_FILES, c.number),
            })
            .collect();
        // Room is kept for the live segment, which grows to a full segment before the next
        // look.
        let gone = crate::segments::to_delete(
            &closed,
            policy.segment_bytes,
            now,
            policy.keep_ms,
            policy.max_size_bytes,
            Some(n),
        );
        for g in &gone {
            crate::segments::delete(&dir, &SEGMENTED_FILES, *g).map_err(|e| write_err(&dir, e))?;
        }
        segs.closed.retain(|c| !gone.contains(&c.number));
        self.write_meta()
    }

    /// Flushes, and rewrites `meta.json` with the end time and the counts. `meta.json` is
    /// finished even when the flush fails (a full disk, say), so that what was recorded reads
    /// as a complete trace; the flush's error is returned then.
    pub fn finish(
        &mut self,
        end: SystemTime,
        samples: u64,
        missed_ticks: u64,
    ) -> Result<(), TraceError> {
        let flushed = self.flush();
        // A segment being compressed is finished first, so that the trace left behind is
        // whole (its plain file reads as well, if the compression is cut short).
        if let Some((_, h)) = self.seg.as_mut().and_then(|s| s.compressing.take()) {
            let _ = h.join();
        }
        self.meta.end_utc = Some(utc_ms(end));
        self.meta.samples = Some(samples);
        self.meta.missed_ticks = Some(missed_ticks);
        let meta = self.write_meta();
        flushed.and(meta)
    }

    /// Fails when the trace directory is gone (removed or renamed while recording): on Unix
    /// the open files can still be written, into nothing a person can find, so the recorder
    /// asks this from time to time and stops.
    pub fn check_dir(&self) -> Result<(), TraceError> {
        match std::fs::metadata(self.dir.join(META_FILE)) {
            Ok(_) => Ok(()),
            Err(e) => Err(TraceError::Gone {
                path: self.dir.clone(),
                error: e,
            }),
        }
    }
}

/// What a continued trace had before this recorder: see [`TraceWriter::resume_segmented`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resumed {
    /// Where this recorder's `t_ms` starts.
    pub t0_ms: u64,
    /// The identities written so far.
    pub identities: Vec<IdentityRow>,
    /// Samples counted so far.
    pub samples: u64,
    /// Missed ticks counted so far.
    pub missed_ticks: u64,
}

fn read_identities(dir: &Path) -> Result<Vec<IdentityRow>, TraceError> {
    let path = dir.join(IDENTITIES_FILE);
    let mut r = match csv::Reader::from_path(&path) {
        Ok(r) => r,
        Err(_) => return Ok(Vec::new()),
    };
    // A row that does not read is left out: the rows it describes still read, under a bare
    // identity.
    Ok(r.deserialize::<IdentityRow>()
        .filter_map(Result::ok)
        .collect())
}

/// The column names of a row type, in order, from its serde field names.
pub fn header<T: Serialize + Default>() -> Vec<String> {
    // Serialising a default row with headers on gives the header line first.
    let mut w = csv::WriterBuilder::new()
        .has_headers(true)
        .from_writer(Vec::new());
    if w.serialize(T::default()).is_err() {
        return Vec::new();
    }
    let bytes = w.into_inner().unwrap_or_default();
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(&bytes[..]);
    r.records()
        .next()
        .and_then(Result::ok)
        .map(|rec| rec.iter().map(str::to_owned).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn meta() -> Meta {
        Meta {
            format_version: FORMAT_VERSION,
            memtide_version: "0.1.0".into(),
            os: "linux".into(),
            os_version: Some("6.1".into()),
            arch: "x86_64".into(),
            total_memory_bytes: 1 << 34,
            page_size_bytes: Some(4096),
            gpu_wired_limit_bytes: None,
            interval_ms: 250,
            selection: Selection {
                ollama_default: true,
                ..Selection::default()
            },
            start_utc: utc_ms(UNIX_EPOCH + Duration::from_millis(1_747_214_703_250)),
            end_utc: None,
            samples: None,
            missed_ticks: None,
            failed_reads: None,
            read_error: None,
            ollama: None,
            source: None,
            burst_interval_ms: None,
            burst_hold_ms: None,
            segments: None,
            command: None,
            ollama_log: None,
        }
    }

    #[test]
    fn hand_written_rows_are_what_csv_writes() {
        let system = [
            SystemRow::default(),
            SystemRow {
                time_utc: "2026-05-14T09:25:03.250Z".into(),
                t_ms: 1,
                total_bytes: u64::MAX,
                free_bytes: Some(0),
                compressor_bytes: Some(123_456_789),
                free_percent: Some(40.0),
                psi_some_avg10: Some(0.1),
                psi_full_avg10: Some(1e-7),
                pressure: Some("warning".into()),
                stats_age_ms: 250,
                ..SystemRow::default()
            },
            SystemRow {
                time_utc: "a \"quoted\", two-line\nvalue".into(),
                free_percent: Some(12.34),
                psi_some_total_us: Some(7),
                pressure: Some(String::new()),
                ..SystemRow::default()
            },
        ];
        let processes = [
            ProcessRow::default(),
            ProcessRow {
                time_utc: "2026-05-14T09:25:03.250Z".into(),
                t_ms: 100,
                pid: u32::MAX,
                start_time_us: 1_747_214_703_250_999,
                ppid: 1,
                rss_bytes: 5,
                footprint_bytes: Some(6),
                swapped_bytes: Some(0),
                rss_file_bytes: Some(7),
                status_age_ms: Some(1000),
                weights_resident_bytes: Some(253 << 20),
                ..ProcessRow::default()
            },
        ];
        let by_csv = |rows: &mut dyn FnMut(&mut csv::Writer<Vec<u8>>)| {
            let mut w = csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(Vec::new());
            rows(&mut w);
            w.into_inner().unwrap()
        };
        let mut hand = Vec::new();
        for r in &system {
            format_system(&mut hand, r);
        }
        let serde = by_csv(&mut |w| system.iter().for_each(|r| w.serialize(r).unwrap()));
        assert_eq!(
            String::from_utf8_lossy(&hand),
            String::from_utf8_lossy(&serde)
        );
        let mut hand = Vec::new();
        for r in &processes {
            format_process(&mut hand, &r.time_utc, r);
        }
        let serde = by_csv(&mut |w| processes.iter().for_each(|r| w.serialize(r).unwrap()));
        assert_eq!(
            String::from_utf8_lossy(&hand),
            String::from_utf8_lossy(&serde)
        );
        // The header lines too.
        let dir = tempfile::tempdir().unwrap();
        let mut w = TraceWriter::create(dir.path(), meta()).unwrap();
        w.flush().unwrap();
        let serde = by_csv(&mut |w| w.write_record(header::<ProcessRow>()).unwrap());
        assert_eq!(
            std::fs::read(dir.path().join(PROCESSES_FILE)).unwrap(),
            serde
        );
    }

    #[test]
    fn a_writer_that_is_not_flushed_holds_a_bounded_buffer() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = TraceWriter::create(dir.path(), meta()).unwrap();
        let row = ProcessRow {
            time_utc: "2026-05-14T09:25:03.250Z".into(),
            rss_bytes: 1 << 30,
            ..ProcessRow::default()
        };
        for _ in 0..20_000 {
            w.process(&row).unwrap();
        }
        assert!(w.processes.buf.len() < SPILL_BYTES + 200);
        let on_disk = std::fs::metadata(dir.path().join(PROCESSES_FILE))
            .unwrap()
            .len();
        assert!(on_disk > 0, "rows went out before the flush");
        w.flush().unwrap();
        let mut r = csv::Reader::from_path(dir.path().join(PROCESSES_FILE)).unwrap();
        assert_eq!(r.deserialize::<ProcessRow>().count(), 20_000);
    }

    #[test]
    fn utc_milliseconds() {
        let t = UNIX_EPOCH + Duration::from_micros(1_747_214_703_250_999);
        assert_eq!(utc_ms(t), "2025-05-14T09:25:03.250Z");
        assert_eq!(utc_ms(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn headers_follow_the_row_types() {
        let h = header::<ProcessRow>();
        assert_eq!(&h[..4], ["time_utc", "t_ms", "pid", "start_time_us"]);
        assert_eq!(header::<SystemRow>().len(), 30);
        assert!(header::<IdentityRow>().contains(&"argv_json".to_owned()));
    }

    #[test]
    fn a_written_trace_reads_back_and_meta_is_finished() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = TraceWriter::create(dir.path(), meta()).unwrap();
        let row = SystemRow {
            time_utc: "2025-05-14T09:25:03.250Z".into(),
            t_ms: 0,
            total_bytes: 1 << 34,
            free_bytes: Some(5),
            pressure: Some("normal".into()),
            ..SystemRow::default()
        };
        w.system(&row).unwrap();
        w.set_identities(&[IdentityRow {
            pid: 7,
            argv_json: serde_json::to_string(&["a b", "c"]).unwrap(),
            ..IdentityRow::default()
        }])
        .unwrap();
        w.flush().unwrap();

        // Before finish: readable, no end time.
        let m: Meta =
            serde_json::from_slice(&std::fs::read(dir.path().join(META_FILE)).unwrap()).unwrap();
        assert_eq!(m.end_utc, None);
        let mut r = csv::Reader::from_path(dir.path().join(SYSTEM_FILE)).unwrap();
        let back: Vec<SystemRow> = r.deserialize().collect::<Result<_, _>>().unwrap();
        assert_eq!(back, [row]);
        let text = std::fs::read_to_string(dir.path().join(SYSTEM_FILE)).unwrap();
        // A missing value is an empty cell, never 0.
        assert!(text.lines().nth(1).unwrap().contains(",5,,"), "{text}");
        let mut r = csv::Reader::from_path(dir.path().join(IDENTITIES_FILE)).unwrap();
        let ids: Vec<IdentityRow> = r.deserialize().collect::<Result<_, _>>().unwrap();
        assert_eq!(ids[0].argv(), ["a b", "c"]);

        w.finish(UNIX_EPOCH + Duration::from_secs(1_747_214_710), 4, 1)
            .unwrap();
        let m: Meta =
            serde_json::from_slice(&std::fs::read(dir.path().join(META_FILE)).unwrap()).unwrap();
        assert_eq!(m.end_utc.as_deref(), Some("2025-05-14T09:25:10.000Z"));
        assert_eq!((m.samples, m.missed_ticks), (Some(4), Some(1)));
        let empty = std::fs::read_to_string(dir.path().join(MODELS_FILE)).unwrap();
        assert!(empty.starts_with("time_utc,t_ms,name,"));
    }

    #[test]
    fn the_gpu_wired_limit_is_kept_where_there_is_one_and_old_traces_read() {
        let mut m = meta();
        let json = serde_json::to_string(&m).unwrap();
        assert!(!json.contains("gpu_wired_limit_bytes"), "{json}");
        m.gpu_wired_limit_bytes = Some(0);
        let back: Meta = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(
            back.gpu_wired_limit_bytes,
            Some(0),
            "0, the system default, is kept"
        );
        // A system.csv written before compressor_payload_bytes existed still reads.
        let old = "time_utc,t_ms,total_bytes,compressor_bytes,stats_age_ms\n\
                   2026-05-14T09:25:03.250Z,0,100,7,0\n";
        let mut r = csv::Reader::from_reader(old.as_bytes());
        let rows: Vec<SystemRow> = r.deserialize().collect::<Result<_, _>>().unwrap();
        assert_eq!(
            (rows[0].compressor_bytes, rows[0].compressor_payload_bytes),
            (Some(7), None)
        );
    }

    #[test]
    fn a_write_error_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = TraceWriter::create(&dir.path().join("t"), meta()).unwrap();
        std::fs::remove_dir_all(dir.path().join("t")).unwrap();
        let e = w.set_identities(&[]).unwrap_err().to_string();
        assert!(
            e.contains("identities.csv") && !e.contains("identities.tmp"),
            "{e}"
        );
        let e = w.check_dir().unwrap_err().to_string();
        assert!(
            e.contains("is gone") && e.contains("recording stopped"),
            "{e}"
        );
    }

    #[test]
    fn a_failed_replace_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = TraceWriter::create(dir.path(), meta()).unwrap();
        assert!(w.check_dir().is_ok());
        // identities.csv is a directory now: the rename fails.
        std::fs::remove_file(dir.path().join(IDENTITIES_FILE)).unwrap();
        std::fs::create_dir(dir.path().join(IDENTITIES_FILE)).unwrap();
        std::fs::write(dir.path().join(IDENTITIES_FILE).join("x"), "x").unwrap();
        assert!(w.set_identities(&[]).is_err());
        assert!(!dir.path().join("identities.tmp").exists());
    }
}
