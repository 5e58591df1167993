//! The trace directory's files and their rows: what `memtide record` writes and `memtide
//! report`/`render` read.
//!
//! `docs/trace-format.md` in the repository specifies every file and column. In short:
//! `meta.json`, and CSV files with a header row, one record per line, byte values as
//! integers, times as UTC RFC 3339 with milliseconds (`time_utc`) plus milliseconds since the
//! recording started on a monotonic clock (`t_ms`). An empty cell is a value the OS or the
//! source does not have.

use crate::vocab::{BufferKind, LogEvent, NotificationSource, Os, PollOutcome, PressureLevel};
use serde::{Deserialize, Serialize};
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
        Ok(ts) => timestamp_utc_ms(ts),
        // Outside jiff's range (years before -9999 or after 9999): not a clock reading.
        Err(_) => String::new(),
    }
}

/// The layout of [`utc_ms`] for jiff's `strftime`: what the digits below write.
const UTC_MS_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.3fZ";

/// Formats a timestamp like [`utc_ms`]. jiff finds the date and time of day; the 24 bytes
/// are written here, digit by digit, because the recorder formats a time every tick and
/// `strftime` reads its format string each time (a measurable share of a tick). Years
/// outside 0–9999, which need a sign or a fifth digit, go through `strftime`.
pub fn timestamp_utc_ms(t: jiff::Timestamp) -> String {
    let d = jiff::tz::Offset::UTC.to_datetime(t);
    let Ok(year) = u16::try_from(d.year()) else {
        return t.strftime(UTC_MS_FORMAT).to_string();
    };
    // Each field with its digits and what follows it.
    let fields: [(u32, u32, char); 7] = [
        (u32::from(year), 4, '-'),
        (d.month().unsigned_abs().into(), 2, '-'),
        (d.day().unsigned_abs().into(), 2, 'T'),
        (d.hour().unsigned_abs().into(), 2, ':'),
        (d.minute().unsigned_abs().into(), 2, ':'),
        (d.second().unsigned_abs().into(), 2, '.'),
        // Truncated to the millisecond, as `%.3f` does.
        (d.subsec_nanosecond().unsigned_abs() / 1_000_000, 3, 'Z'),
    ];
    let mut s = String::with_capacity(24);
    for (value, digits, then) in fields {
        for k in (0..digits).rev() {
            let digit = value / 10u32.pow(k) % 10;
            s.push(char::from(b'0' + digit as u8));
        }
        s.push(then);
    }
    s
}

/// `meta.json`: what was recorded, where, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Meta {
    /// [`FORMAT_VERSION`] of the writer.
    pub format_version: u32,
    /// The memtide version that wrote the trace.
    pub memtide_version: String,
    /// `linux`, `macos`, ...
    pub os: Os,
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
    /// the files of the shell loops of the Ollama macOS Memory Trace Guide. Absent means
    /// `memtide record`.
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

impl Meta {
    /// The metadata of a trace that starts at `start_utc`, sampled every `interval_ms` on a
    /// machine of this OS, architecture and RAM: this format version and this memtide's
    /// version, everything else unknown or absent until set (struct update syntax:
    /// `Meta { page_size_bytes: Some(16384), ..Meta::new(…) }`).
    pub fn new(
        os: impl Into<Os>,
        arch: impl Into<String>,
        total_memory_bytes: u64,
        interval_ms: u64,
        start_utc: impl Into<String>,
    ) -> Meta {
        Meta {
            format_version: FORMAT_VERSION,
            memtide_version: env!("CARGO_PKG_VERSION").into(),
            os: os.into(),
            os_version: None,
            arch: arch.into(),
            total_memory_bytes,
            page_size_bytes: None,
            gpu_wired_limit_bytes: None,
            interval_ms,
            selection: Selection::default(),
            start_utc: start_utc.into(),
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
pub struct SystemRow {
    /// When the tick was taken: UTC RFC 3339 with milliseconds.
    pub time_utc: String,
    /// When the tick was taken: milliseconds since the recording started, on a monotonic clock.
    pub t_ms: u64,
    /// Physical memory, bytes (macOS `hw.memsize`, Linux `MemTotal`).
    pub total_bytes: u64,
    /// Unused memory, bytes (macOS: speculative pages excluded).
    pub free_bytes: Option<u64>,
    /// Memory obtainable without compressing or swapping, bytes (Linux `MemAvailable`; macOS
    /// free + file-backed + purgeable pages, docs/metrics.md).
    pub available_bytes: Option<u64>,
    /// The active page queue, bytes.
    pub active_bytes: Option<u64>,
    /// The inactive page queue, bytes.
    pub inactive_bytes: Option<u64>,
    /// macOS read-ahead pages, bytes; empty on Linux.
    pub speculative_bytes: Option<u64>,
    /// Memory that cannot be paged out, bytes (macOS wired pages, GPU and Metal memory
    /// included; Linux `Unevictable`).
    pub wired_bytes: Option<u64>,
    /// macOS volatile purgeable pages, bytes; empty on Linux.
    pub purgeable_bytes: Option<u64>,
    /// Physical memory the compressor occupies, bytes (macOS "Pages occupied by compressor" ×
    /// page size; Linux zswap's pool).
    pub compressor_bytes: Option<u64>,
    /// macOS: the compressed data inside the compressor (`vm.compressor_bytes_used`).
    /// Absent from traces written before this column existed.
    #[serde(default)]
    pub compressor_payload_bytes: Option<u64>,
    /// The uncompressed size of what the compressor holds, bytes.
    pub compressed_bytes: Option<u64>,
    /// Pageable file-backed pages, bytes.
    pub file_backed_bytes: Option<u64>,
    /// Pageable anonymous pages, bytes.
    pub anonymous_bytes: Option<u64>,
    /// Swap space, bytes.
    pub swap_total_bytes: Option<u64>,
    /// Swap in use, bytes.
    pub swap_used_bytes: Option<u64>,
    /// Pages read in from files since boot, bytes.
    pub pageins_bytes: Option<u64>,
    /// Pages written out to files since boot, bytes.
    pub pageouts_bytes: Option<u64>,
    /// Pages read in from swap since boot, bytes.
    pub swapins_bytes: Option<u64>,
    /// Pages written out to swap since boot, bytes.
    pub swapouts_bytes: Option<u64>,
    /// Pages compressed since boot, bytes.
    pub compressions_bytes: Option<u64>,
    /// Pages decompressed since boot, bytes.
    pub decompressions_bytes: Option<u64>,
    /// The kernel's free share, % (macOS `kern.memorystatus_level`, what `memory_pressure`
    /// prints; Linux `MemAvailable` ÷ `MemTotal`).
    pub free_percent: Option<f64>,
    /// `normal`, `warning` or `critical`.
    pub pressure: Option<PressureLevel>,
    /// Linux PSI: the share of the last 10 s in which some task stalled on memory, %.
    pub psi_some_avg10: Option<f64>,
    /// Linux PSI: the share of the last 10 s in which every task stalled on memory, %.
    pub psi_full_avg10: Option<f64>,
    /// Linux PSI: time some task stalled on memory since boot, µs.
    pub psi_some_total_us: Option<u64>,
    /// Linux PSI: time every task stalled on memory since boot, µs.
    pub psi_full_total_us: Option<u64>,
    /// Age of the page-queue fields and counters, milliseconds (0 where read every tick).
    pub stats_age_ms: u64,
}

/// A row of `processes.csv`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessRow {
    /// The tick, UTC RFC 3339 with milliseconds (the recorder writes the tick's time for all its
    /// rows; a row built elsewhere carries its own).
    pub time_utc: String,
    /// The tick, milliseconds since the recording started.
    pub t_ms: u64,
    /// With `start_time_us`, the process's identity (`identities.csv` has its names).
    pub pid: u32,
    /// With `pid`, the identity: microseconds since the Unix epoch.
    pub start_time_us: u64,
    /// The parent's PID.
    pub ppid: u32,
    /// Resident set size, bytes.
    pub rss_bytes: u64,
    /// What the process is charged for, bytes: macOS `phys_footprint` (Activity Monitor's
    /// "Memory"); Linux `RssAnon` + `RssShmem` + `VmSwap`.
    pub footprint_bytes: Option<u64>,
    /// macOS: the process's lifetime maximum footprint, bytes.
    pub peak_footprint_bytes: Option<u64>,
    /// Linux: `VmHWM`, the highest resident set, bytes.
    pub peak_rss_bytes: Option<u64>,
    /// Linux: `VmSize`, bytes.
    pub virtual_bytes: Option<u64>,
    /// Locked memory, bytes (macOS wired; Linux `VmLck`).
    pub wired_bytes: Option<u64>,
    /// Linux: `VmSwap`, bytes.
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
    /// The argument vector; the column `argv_json` holds it as a JSON array of strings.
    #[serde(rename = "argv_json", with = "crate::lists::json")]
    pub argv: Vec<String>,
    /// Model names resolved at record time from the runner's `--model` blob path through
    /// Ollama's manifests (several names can share one blob); the column holds them
    /// separated by `;`.
    #[serde(with = "crate::lists::semicolons")]
    pub models: Vec<String>,
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

/// A row of `ollama_polls.csv`: what one `/api/ps` poll gave.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollRow {
    /// When the poll was sent.
    pub time_utc: String,
    /// The same on the recording's monotonic clock.
    pub t_ms: u64,
    /// `ok`, `unreachable`, `timeout`, `http_error` or `bad_response`.
    pub outcome: PollOutcome,
    /// How long the answer took, milliseconds.
    pub latency_ms: u64,
    /// Models loaded (0 with outcome `ok` means none; empty when the poll failed).
    pub models_loaded: Option<u32>,
    /// The error, when the poll failed.
    pub error: Option<String>,
}

/// A row of `models.csv`: one loaded model in one successful poll.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelRow {
    /// The poll's time, as in `ollama_polls.csv`.
    pub time_utc: String,
    /// The poll's time, milliseconds since the recording started.
    pub t_ms: u64,
    /// The model's name as Ollama lists it (`qwen3:8b`).
    pub name: String,
    /// The model's name in `/api/ps`'s `model` field (the same as `name` in every Ollama so far).
    pub model: String,
    /// The manifest digest.
    pub digest: String,
    /// Ollama's estimate of the runner's memory, bytes (it grows with the context).
    pub size_bytes: u64,
    /// The part of `size_bytes` on the GPU, bytes (all of it on Apple Silicon); empty before
    /// Ollama v0.1.42 for models on the CPU.
    pub size_vram_bytes: Option<u64>,
    /// The context length the model was loaded with; empty before Ollama v0.10.
    pub context_length: Option<u64>,
    /// UTC, ms; far in the future (year 2318) for `keep_alive: -1`.
    pub expires_at_utc: Option<String>,
    /// `details.format` (`gguf`).
    pub format: String,
    /// `details.family`.
    pub family: String,
    /// `details.families`; the column holds them separated by `;`.
    #[serde(with = "crate::lists::semicolons")]
    pub families: Vec<String>,
    /// `details.parameter_size` (`8.2B`).
    pub parameter_size: String,
    /// `details.quantization_level` (`Q4_K_M`).
    pub quantization_level: String,
    /// `details.parent_model`.
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
    pub source: NotificationSource,
    /// The level announced (`normal`, `warning`, `critical`), where the source gives one.
    pub level: Option<PressureLevel>,
    /// What fires it, in words (`memory stalls of 150 ms or more within 2 s`).
    pub detail: String,
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
    pub kind: Option<BufferKind>,
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
