//! Writing a trace directory: [`TraceWriter`], with segments for a flight recorder and the
//! continuation of a kept trace.

use crate::schema::*;
use crate::vocab::PressureLevel;
use crate::TraceError;
use serde::Serialize;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

pub(crate) fn write_err(path: &Path, source: impl Into<io::Error>) -> TraceError {
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
        .opt_str(r.pressure.map(PressureLevel::as_str))
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
        let bytes = crate::read::read_regular(&meta_path).map_err(|e| TraceError::Read {
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
        let mut last_t_ms = crate::read::end_t_ms(dir)?.unwrap_or(0);
        // What a crash left: a temporary meta.json or identities.csv, compressions cut short,
        // plain segments whose compressed ones are complete.
        for f in [META_FILE, IDENTITIES_FILE] {
            let tmp = dir.join(f).with_extension("tmp");
            if tmp.exists() {
                std::fs::remove_file(&tmp).map_err(|e| write_err(&tmp, e))?;
            }
        }
        let on_disk = crate::segments::clear_crash_leftovers(dir, &SEGMENTED_FILES)
            .map_err(|e| write_err(dir, e))?;
        let segs = meta.segments.get_or_insert_with(SegmentsMeta::default);
        // Segments renamed by a recorder killed before meta.json listed them are adopted, with
        // the times of their rows, and compressed like the others.
        let mut plain = Vec::new();
        let system_parts =
            crate::segments::parts(dir, SYSTEM_FILE).map_err(|e| write_err(dir, e))?;
        for &k in &on_disk {
            if segs.closed.iter().any(|c| c.number == k) {
                continue;
            }
            let before = segs
                .closed
                .iter()
                .filter(|c| c.number < k)
                .map(|c| c.last_t_ms)
                .max();
            let span = system_parts
                .iter()
                .find(|p| p.number == Some(k))
                .and_then(crate::read::part_span);
            let (first_t_ms, last_t_ms) = match span {
                Some((first, last, _)) => (first, last),
                None => {
                    let t = before.map_or(0, |b| b + 1).min(last_t_ms);
                    (t, t)
                }
            };
            segs.closed.push(SegmentInfo {
                number: k,
                first_t_ms,
                last_t_ms,
            });
            plain.extend(
                SEGMENTED_FILES
                    .iter()
                    .map(|b| crate::segments::segment_path(dir, b, k, false))
                    .filter(|p| p.exists()),
            );
        }
        segs.closed.sort_by_key(|c| c.number);
        // The segment the stopped recorder was writing becomes the newest closed one; a file
        // of it with no row (only its header) is removed rather than kept as a segment.
        let number = segs
            .closed
            .iter()
            .map(|c| c.number)
            .chain(on_disk.iter().copied())
            .max()
            .unwrap_or(0);
        let n = number + 1;
        let first_t_ms = segs.closed.last().map_or(0, |c| c.last_t_ms + 1);
        // The newest row of any file: a poll answered or a process row written after the
        // last system row, or a segment a crash left unlisted, is later than `end_t_ms` says.
        // Rows go on after it, so that no time is written twice at the join.
        for base in SEGMENTED_FILES {
            if let Ok(Some(t)) = crate::read::last_t_ms(&dir.join(base)) {
                last_t_ms = last_t_ms.max(t);
            }
        }
        last_t_ms = last_t_ms.max(segs.closed.iter().map(|c| c.last_t_ms).max().unwrap_or(0));
        let start_ms = meta
            .start_utc
            .parse::<jiff::Timestamp>()
            .map(|t| t.as_millisecond())
            .unwrap_or(0);
        let wall_ms = jiff::Timestamp::try_from(now).map_or(0, |t| t.as_millisecond());
        let t0_ms = u64::try_from(wall_ms - start_ms)
            .unwrap_or(0)
            .max(last_t_ms + 1);
        let mut closed_live = false;
        for base in SEGMENTED_FILES {
            let live = dir.join(base);
            if !live.exists() {
                continue;
            }
            if has_rows(&live).map_err(|e| write_err(&live, e))? {
                let closed = crate::segments::segment_path(dir, base, n, false);
                std::fs::rename(&live, &closed).map_err(|e| write_err(&live, e))?;
                plain.push(closed);
                closed_live = true;
            } else {
                std::fs::remove_file(&live).map_err(|e| write_err(&live, e))?;
            }
        }
        if closed_live {
            segs.closed.push(SegmentInfo {
                number: n,
                first_t_ms: first_t_ms.min(last_t_ms),
                last_t_ms,
            });
        }
        // The limits hold from the start, not from the next switch: a recorder restarted
        // over and over would otherwise add a segment each time.
        let gone = retention(dir, segs, &policy, last_t_ms, closed_live.then_some(n));
        for g in &gone {
            crate::segments::delete(dir, &SEGMENTED_FILES, *g).map_err(|e| write_err(dir, e))?;
        }
        plain.retain(|p| p.exists());
        segs.closed.retain(|c| !gone.contains(&c.number));
        // Processes whose rows all went with deleted segments go from identities.csv too.
        let oldest = segs.closed.first().map(|c| c.first_t_ms);
        let start = meta.start_utc.parse::<jiff::Timestamp>().ok();
        let identities: Vec<IdentityRow> = read_identities(dir)?
            .into_iter()
            .filter(|r| {
                let last_seen = r.last_seen_utc.parse::<jiff::Timestamp>().ok();
                match (oldest, start, last_seen) {
                    (Some(o), Some(s), Some(l)) => {
                        (l.as_millisecond() - s.as_millisecond()) >= o as i64
                    }
                    _ => true,
                }
            })
            .collect();
        let resumed = Resumed {
            t0_ms,
            identities,
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
        let gone = retention(&dir, segs, &policy, now, Some(n));
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

/// A writer dropped without [`TraceWriter::finish`] (an error, an embedder's early return)
/// still waits for the segment being compressed, so that no file appears in the directory
/// after its writer is gone.
impl Drop for TraceWriter {
    fn drop(&mut self) {
        if let Some((_, h)) = self.seg.as_mut().and_then(|s| s.compressing.take()) {
            let _ = h.join();
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

/// The closed segments to delete, oldest first, for the trace in `dir` to stay within
/// `policy`'s limits at `now_t_ms`. Every file memtide writes counts, as it takes room on disk:
/// `meta.json`, `identities.csv`, and room for the live segment, which grows to a full one
/// before the next look. `spare` (being compressed) is never chosen.
fn retention(
    dir: &Path,
    segs: &SegmentsMeta,
    policy: &SegmentPolicy,
    now_t_ms: u64,
    spare: Option<u32>,
) -> Vec<u32> {
    let closed: Vec<crate::segments::Closed> = segs
        .closed
        .iter()
        .map(|c| crate::segments::Closed {
            number: c.number,
            last_t_ms: c.last_t_ms,
            bytes: crate::segments::segment_bytes(dir, &SEGMENTED_FILES, c.number),
        })
        .collect();
    let others = crate::segments::disk_bytes(&dir.join(META_FILE))
        + crate::segments::disk_bytes(&dir.join(IDENTITIES_FILE));
    crate::segments::to_delete(
        &closed,
        policy.segment_bytes + others,
        now_t_ms,
        policy.keep_ms,
        policy.max_size_bytes,
        spare,
    )
}

/// Whether a CSV file has a line after its header.
fn has_rows(path: &Path) -> io::Result<bool> {
    use std::io::BufRead;
    let mut r = io::BufReader::new(crate::segments::open_regular(path)?);
    let mut header = Vec::new();
    r.read_until(b'\n', &mut header)?;
    Ok(!r.fill_buf()?.is_empty())
}

fn read_identities(dir: &Path) -> Result<Vec<IdentityRow>, TraceError> {
    let path = dir.join(IDENTITIES_FILE);
    let mut r = match crate::segments::open_regular(&path) {
        Ok(f) => csv::Reader::from_reader(crate::segments::Bounded::new(f, u64::MAX)),
        Err(_) => return Ok(Vec::new()),
    };
    // A row that does not read is left out: the rows it describes still read, under a bare
    // identity.
    Ok(r.deserialize::<IdentityRow>()
        .filter_map(Result::ok)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn meta() -> Meta {
        Meta {
            memtide_version: "0.1.0".into(),
            os_version: Some("6.1".into()),
            page_size_bytes: Some(4096),
            selection: Selection {
                ollama_default: true,
                ..Selection::default()
            },
            ..Meta::new(
                "linux",
                "x86_64",
                1 << 34,
                250,
                utc_ms(UNIX_EPOCH + Duration::from_millis(1_747_214_703_250)),
            )
        }
    }

    /// What a recorder killed with SIGKILL leaves, over and over: a segment renamed but never
    /// listed, a compression cut short, a plain segment beside its finished `.gz`, a temporary
    /// `meta.json`, live files with no row.
    #[test]
    fn a_continuation_adopts_or_removes_what_a_crash_left_and_keeps_the_limits() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let policy = SegmentPolicy {
            segment_bytes: 1 << 30,
            segment_ms: u64::MAX,
            keep_ms: Some(100),
            max_size_bytes: None,
        };
        let start = UNIX_EPOCH + Duration::from_millis(1_747_214_703_250);
        let row = |t_ms: u64| SystemRow {
            time_utc: utc_ms(start + Duration::from_millis(t_ms)),
            t_ms,
            total_bytes: 1 << 34,
            ..SystemRow::default()
        };
        let identity = |pid: u32, last_ms: u64| IdentityRow {
            pid,
            last_seen_utc: utc_ms(start + Duration::from_millis(last_ms)),
            ..IdentityRow::default()
        };
        let mut w = TraceWriter::create_segmented(dir, meta(), policy).unwrap();
        for t in 0..100 {
            w.system(&row(t)).unwrap();
        }
        w.flush().unwrap();
        w.rotate().unwrap();
        // Seen only while segment 1 was written, and alive at the crash.
        w.set_identities(&[identity(11, 50), identity(12, 265)])
            .unwrap();
        if let Some((_, h)) = w.seg.as_mut().and_then(|s| s.compressing.take()) {
            h.join().unwrap();
        }
        drop(w);
        let csv = |rows: std::ops::Range<u64>| {
            let mut out = header::<SystemRow>().join(",").into_bytes();
            out.push(b'\n');
            for t in rows {
                format_system(&mut out, &row(t));
            }
            out
        };
        let seg = |n, gz| crate::segments::segment_path(dir, SYSTEM_FILE, n, gz);
        // Segment 2: renamed, the kill before meta.json listed it, its compression cut short.
        std::fs::write(seg(2, false), csv(100..200)).unwrap();
        std::fs::write(dir.join("system.000002.csv.gz.tmp"), b"\x1f\x8b cut").unwrap();
        // Segment 3: compressed whole, the plain file not yet removed; also never listed.
        std::fs::write(seg(3, false), csv(200..250)).unwrap();
        std::fs::write(seg(3, true), crate::segments::gzip(&csv(200..250)).unwrap()).unwrap();
        std::fs::write(dir.join("meta.tmp"), b"{").unwrap();
        // The live segment: rows in system.csv (the last one cut), none in the others.
        let mut live = csv(250..271);
        live.extend_from_slice(b"2026-05-14T09:25");
        std::fs::write(dir.join(SYSTEM_FILE), live).unwrap();

        let now = start + Duration::from_millis(10_000);
        let (mut w, resumed) = TraceWriter::resume_segmented(dir, policy, now, |_| {}).unwrap();
        // Once the compressions it started are done.
        if let Some((_, h)) = w.seg.as_mut().and_then(|s| s.compressing.take()) {
            h.join().unwrap();
        }
        let names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert!(!names.iter().any(|n| n.ends_with(".tmp")), "{names:?}");
        assert!(
            !seg(3, false).exists(),
            "the plain copy of a finished .gz goes"
        );
        // Segment 1 ended more than keep_ms before the newest row: it goes, and with it the
        // process seen only then. 2 and 3 are adopted with their rows' times; the live
        // segment becomes 4, of system.csv only (the other files had no row).
        let closed: Vec<(u32, u64, u64)> = w
            .meta()
            .segments
            .as_ref()
            .unwrap()
            .closed
            .iter()
            .map(|c| (c.number, c.first_t_ms, c.last_t_ms))
            .collect();
        assert_eq!(closed, [(2, 100, 199), (3, 200, 249), (4, 250, 270)]);
        assert!(!seg(1, true).exists() && !seg(1, false).exists());
        assert!(!crate::segments::segment_path(dir, PRESSURE_FILE, 4, false).exists());
        assert_eq!(
            resumed.identities.iter().map(|r| r.pid).collect::<Vec<_>>(),
            [12]
        );
        assert_eq!(resumed.t0_ms, 10_000);
        w.finish(now, 0, 0).unwrap();
        // Every segment on disk is listed, and the rows read in order.
        let parts = crate::segments::parts(dir, SYSTEM_FILE).unwrap();
        let numbers: Vec<Option<u32>> = parts.iter().map(|p| p.number).collect();
        assert_eq!(numbers, [Some(2), Some(3), Some(4), None]);
        let spans: Vec<_> = parts.iter().filter_map(crate::read::part_span).collect();
        assert_eq!(spans, [(100, 199, 100), (200, 249, 50), (250, 270, 21)]);
    }

    /// A poll answered after the last system row was written, then the kill: the continued
    /// trace's rows start after the poll, not after the system row.
    #[test]
    fn a_continuation_starts_after_the_newest_row_of_any_file() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let policy = SegmentPolicy {
            segment_bytes: 1 << 30,
            segment_ms: u64::MAX,
            keep_ms: None,
            max_size_bytes: None,
        };
        let start = UNIX_EPOCH + Duration::from_millis(1_747_214_703_250);
        let at = |t_ms: u64| utc_ms(start + Duration::from_millis(t_ms));
        let mut w = TraceWriter::create_segmented(dir, meta(), policy).unwrap();
        for t_ms in [0, 100] {
            w.system(&SystemRow {
                time_utc: at(t_ms),
                t_ms,
                ..SystemRow::default()
            })
            .unwrap();
        }
        let poll = PollRow {
            time_utc: at(150),
            t_ms: 150,
            ..PollRow::default()
        };
        w.poll(&poll, &[]).unwrap();
        w.flush().unwrap();
        drop(w);
        // The wall clock says less time has passed than the rows do (a clock set back).
        let (_, resumed) =
            TraceWriter::resume_segmented(dir, policy, start + Duration::from_millis(120), |_| {})
                .unwrap();
        assert_eq!(resumed.t0_ms, 151);
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
                pressure: Some(PressureLevel::Warning),
                stats_age_ms: 250,
                ..SystemRow::default()
            },
            SystemRow {
                time_utc: "a \"quoted\", two-line\nvalue".into(),
                free_percent: Some(12.34),
                psi_some_total_us: Some(7),
                pressure: Some(PressureLevel::Critical),
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

    /// The digits written by hand are jiff's `strftime`'s, across its whole range: before
    /// 1970, leap days, the first and last millisecond of a second, and the years before 0
    /// that go through `strftime`.
    #[test]
    fn utc_milliseconds_are_strftimes() {
        let (min, max) = (
            jiff::Timestamp::MIN.as_second(),
            jiff::Timestamp::MAX.as_second(),
        );
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut seconds: Vec<i64> = vec![
            min,
            max,
            -1,
            0,
            951_782_400,     // 2000-02-29
            -62_167_219_200, // 0000-01-01
            -62_167_219_201, // the second before
            253_402_300_799, // 9999-12-31T23:59:59
        ];
        for _ in 0..20_000 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let span = (max - min) as u64;
            seconds.push(min + (x >> 1).rem_euclid(span) as i64);
        }
        for sec in seconds {
            for nanos in [0, 999_999, 1_000_000, 250_999_999, 999_999_999] {
                let Ok(t) = jiff::Timestamp::new(sec, nanos) else {
                    continue;
                };
                assert_eq!(
                    crate::timestamp_utc_ms(t),
                    t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
                    "{sec} s {nanos} ns"
                );
            }
        }
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
            pressure: Some(PressureLevel::Normal),
            ..SystemRow::default()
        };
        w.system(&row).unwrap();
        w.set_identities(&[IdentityRow {
            pid: 7,
            argv: vec!["a b".into(), "c".into()],
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
        assert_eq!(ids[0].argv, ["a b", "c"]);

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
