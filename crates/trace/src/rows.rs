//! Reading the rows of a trace's files one at a time, in the memory of one row, across its
//! segments: a row that cannot be read, or whose clocks disagree, is skipped and said once per
//! file with its line, never taken for a reading.

use crate::segments::{self, Part};
use crate::{Meta, TraceError};
use serde::de::DeserializeOwned;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

/// How far a row's `t_ms` may disagree with its `time_utc` (both taken from one instant by the
/// recorder) before the row is taken as damaged: 400 days. The two clocks part for real: the
/// recorder's clock does not count time asleep where the wall clock does (a laptop asleep for
/// two nights), and the wall clock is set (by hand, by NTP, across time zones of a dead
/// battery); such rows are read, ordered and spaced by `t_ms`. Only a gap no sleep or clock
/// setting makes is refused, far below the jumps that corrupt a chart (a `t_ms` of 10¹⁵
/// would size it to 30 000 years).
pub const MAX_CLOCK_DISAGREEMENT_MS: u64 = 400 * 24 * 3600 * 1000;

/// How far the two clocks may part before a reader says so: a minute, beyond the drift of a
/// recording of days and the adjustments NTP makes by slewing.
pub const CLOCKS_PARTED_MS: u64 = 60 * 1000;

/// How many skipped lines a warning names before it only counts the rest.
const NAMED_LINES: usize = 5;

/// The rows skipped in one file, for one warning.
struct Skips<'a> {
    path: &'a Path,
    lines: Vec<(u64, String)>,
    count: usize,
}

impl<'a> Skips<'a> {
    fn new(path: &'a Path) -> Self {
        Skips {
            path,
            lines: Vec::new(),
            count: 0,
        }
    }

    fn skip(&mut self, line: u64, why: impl Into<String>) {
        self.count += 1;
        if self.lines.len() < NAMED_LINES {
            self.lines.push((line, why.into()));
        }
    }

    fn warn(self, warnings: &mut Vec<String>) {
        if self.count == 0 {
            return;
        }
        let named: Vec<String> = self
            .lines
            .iter()
            .map(|(l, why)| format!("line {l}: {why}"))
            .collect();
        let more = self.count - self.lines.len();
        warnings.push(format!(
            "{}: {} skipped ({}{})",
            self.path.display(),
            if self.count == 1 {
                "1 row".to_owned()
            } else {
                format!("{} rows", self.count)
            },
            named.join("; "),
            if more > 0 {
                format!("; and {more} more")
            } else {
                String::new()
            }
        ));
    }
}

/// Reads a CSV file of `T` rows one at a time, handing each to `each`, so that a file of any
/// length is read in the memory of one row. A row that cannot be read, or that `each`
/// refuses (with why), is skipped, and the skips are warned about once per file, naming the
/// lines: a last line without its line end (what a recorder killed mid-write leaves, even
/// when what is left happens to parse, like `…,6419` for `…,64190`), a short or long row, a
/// value that is not a number. `quoting` is off for the files that hold only numbers and
/// fixed words, so that a stray `"` spoils one row and not all the rows after it. A segment
/// that cannot be read (a corrupt `.gz`, a line of megabytes, not a regular file) is left out
/// with a warning, from where it stops reading; the trace is never refused for a part of it.
/// Returns how many rows were kept and skipped.
pub fn each_row<T: DeserializeOwned>(
    part: &Part,
    quoting: bool,
    warnings: &mut Vec<String>,
    mut each: impl FnMut(T) -> Result<(), String>,
) -> Result<Counted, TraceError> {
    let mut record = csv::ByteRecord::new();
    each_record(
        part,
        quoting,
        warnings,
        |h| Ok(h.byte_record()),
        |fields, headers| {
            fields.fill(&mut record);
            each(
                record
                    .deserialize::<T>(Some(headers))
                    .map_err(|e| e.to_string())?,
            )
        },
    )
}

/// One row's fields as read: its bytes, and where each field lies in them. Reused from row to
/// row, so that reading a file allocates nothing per row.
#[derive(Debug, Clone, Default)]
pub struct Fields {
    text: Vec<u8>,
    bounds: Vec<std::ops::Range<usize>>,
}

impl Fields {
    /// Field `i`, `None` past the last.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        self.text.get(self.bounds.get(i)?.clone())
    }

    /// How many fields.
    pub fn len(&self) -> usize {
        self.bounds.len()
    }

    /// `true` with no field (an empty file's header).
    pub fn is_empty(&self) -> bool {
        self.bounds.is_empty()
    }

    /// Every field, in order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.bounds.iter().map(|b| &self.text[b.clone()])
    }

    /// The fields from a record of the `csv` crate.
    fn set(&mut self, record: &csv::ByteRecord) {
        self.text.clear();
        self.bounds.clear();
        for f in record {
            let start = self.text.len();
            self.text.extend_from_slice(f);
            self.bounds.push(start..self.text.len());
        }
    }

    /// The next line of a file without quoting, without its `\n`, cut at its commas as it is
    /// read: each byte is looked at once, from the reader's buffer (a line's fields are a few
    /// bytes each, too short for a vectorised search to pay for itself, and reading up to the
    /// line end first would look at each byte twice). `false` at the end of the input.
    fn read_line(&mut self, input: &mut impl BufRead) -> io::Result<bool> {
        self.text.clear();
        self.bounds.clear();
        let mut start = 0;
        let mut any = false;
        loop {
            let buf = input.fill_buf()?;
            if buf.is_empty() {
                break;
            }
            any = true;
            let base = self.text.len();
            let mut used = buf.len();
            let mut ended = false;
            for (i, &b) in buf.iter().enumerate() {
                if b == b',' {
                    self.bounds.push(start..base + i);
                    start = base + i + 1;
                } else if b == b'\n' {
                    used = i + 1;
                    ended = true;
                    break;
                }
            }
            self.text
                .extend_from_slice(&buf[..used - usize::from(ended)]);
            input.consume(used);
            if ended {
                break;
            }
        }
        // At the end of the input there is no line, not a line of one empty field: an empty
        // file (a recorder killed between creating a segment's file and writing its header)
        // has no header to judge.
        if any {
            self.bounds.push(start..self.text.len());
        }
        Ok(any)
    }

    /// The fields into a record of the `csv` crate (for `serde`).
    fn fill(&self, record: &mut csv::ByteRecord) {
        record.clear();
        for f in self.iter() {
            record.push_field(f);
        }
    }

    /// The fields as a new record of the `csv` crate.
    fn byte_record(&self) -> csv::ByteRecord {
        let mut r = csv::ByteRecord::new();
        self.fill(&mut r);
        r
    }
}

/// [`each_row`] for a caller that reads the fields itself: `header` reads the header into
/// what `each` needs (a refusal is an error for the whole file), then `each` gets each record
/// of the header's width.
pub fn each_record<H>(
    part: &Part,
    quoting: bool,
    warnings: &mut Vec<String>,
    header: impl FnOnce(&Fields) -> Result<H, String>,
    mut each: impl FnMut(&Fields, &H) -> Result<(), String>,
) -> Result<Counted, TraceError> {
    let path = part.path.as_path();
    let read_err = |e| TraceError::Read {
        path: path.to_owned(),
        error: e,
    };
    // A compressed segment is whole (it is renamed into place once written); a plain file
    // may end in a line the recorder did not finish.
    let opened = if part.compressed {
        segments::open(part).map(|r| (r, 1, 1))
    } else {
        segments::open_regular(path).and_then(|mut file| {
            let len = file.metadata()?.len();
            let complete = crate::complete_length(&mut file, len)?;
            let r: Box<dyn Read + Send> =
                Box::new(segments::Bounded::new(file.take(complete), u64::MAX));
            Ok((r, complete, len))
        })
    };
    let (source, complete, len) = match opened {
        Ok(o) => o,
        // A closed segment that cannot be opened, or a file that is not a regular file (a
        // FIFO would block the reader for ever), is left out; the rest of the trace reads.
        Err(e) if part.number.is_some() || e.kind() == io::ErrorKind::InvalidInput => {
            return Ok(left_out(path, &e, warnings));
        }
        Err(e) => return Err(read_err(e)),
    };
    let mut input = BufReader::with_capacity(256 * 1024, source);
    // A UTF-8 byte order mark (a file saved by a spreadsheet) is not part of the first name.
    match input.fill_buf() {
        Ok(b) if b.starts_with(b"\xef\xbb\xbf") => input.consume(3),
        Ok(_) => {}
        // A segment whose first bytes do not read (a `.gz` corrupt from its header on).
        Err(e) if part.number.is_some() => return Ok(left_out(path, &e, warnings)),
        Err(e) => return Err(read_err(e)),
    }
    let mut skips = Skips::new(path);
    let mut rows = if quoting {
        Rows::Csv(
            csv::ReaderBuilder::new()
                .flexible(true)
                .has_headers(false)
                .from_reader(input),
            csv::ByteRecord::new(),
        )
    } else {
        Rows::Plain { input, line: 0 }
    };
    let mut headers = Fields::default();
    let width = match rows.next(&mut headers) {
        Ok(Some(_)) => headers.len(),
        Ok(None) => 0,
        // A closed segment that does not even start right (a corrupt `.gz`) is left out.
        Err(e) if part.number.is_some() => return Ok(left_out(path, &e, warnings)),
        Err(e) => {
            return Err(TraceError::Invalid {
                path: path.to_owned(),
                detail: format!("line 1: {e}"),
            })
        }
    };
    let headers = header(&headers).map_err(|detail| TraceError::Invalid {
        path: path.to_owned(),
        detail: format!("line 1: {detail}"),
    })?;
    let mut kept = 0usize;
    let mut record = Fields::default();
    let mut lines = 1u64;
    loop {
        let line = match rows.next(&mut record) {
            Ok(None) => break,
            Ok(Some(line)) => line,
            Err(RowError::Io(io)) => {
                // A corrupt `.gz`, a line of megabytes, a disk error: what was read so far is
                // kept, the rest of this file is left out and said.
                warnings.push(format!(
                    "{}: cannot be read past line {lines} ({io}); the rows after it are \
                     left out",
                    path.display()
                ));
                break;
            }
            Err(RowError::Row { line, why }) => {
                lines = lines.max(line);
                skips.skip(line, why);
                continue;
            }
        };
        lines = lines.max(line);
        if record.len() != width {
            skips.skip(
                line,
                format!("{} fields where the header has {width}", record.len()),
            );
            continue;
        }
        match each(&record, &headers) {
            Ok(()) => kept += 1,
            Err(why) => skips.skip(line, why),
        }
    }
    if complete < len && complete > 0 {
        skips.skip(
            lines + 1,
            "incomplete: the recorder stopped while writing it",
        );
    }
    let skipped = skips.count;
    skips.warn(warnings);
    Ok(Counted {
        kept,
        skipped,
        left_out: false,
    })
}

/// A file left out whole, said with why.
fn left_out(path: &Path, why: &dyn std::fmt::Display, warnings: &mut Vec<String>) -> Counted {
    warnings.push(format!(
        "{}: cannot be read ({why}); its rows are left out",
        path.display()
    ));
    Counted {
        left_out: true,
        ..Counted::default()
    }
}

/// How many rows of a file were kept, and how many skipped (unreadable or refused).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counted {
    /// Rows handed on.
    pub kept: usize,
    /// Rows left out.
    pub skipped: usize,
    /// Whether the file was left out whole (it could not be opened or did not start right).
    pub left_out: bool,
}

/// Why a row could not be read.
enum RowError {
    /// The file could not be read from here on (a corrupt `.gz`, a line of megabytes, a disk
    /// error), which is not a bad row.
    Io(io::Error),
    /// This row is not CSV (an unclosed quote).
    Row { line: u64, why: String },
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RowError::Io(e) => e.fmt(f),
            RowError::Row { why, .. } => f.write_str(why),
        }
    }
}

/// The records of a file, one at a time. A file with quoted fields (names, command lines) is
/// read by the `csv` crate; a file of numbers and fixed words (`quoting` off) line by line,
/// each line cut at its commas: such a line is its fields, and reading it so takes a third
/// of the time (a week's `processes.csv` is 650 MB).
enum Rows<R> {
    /// The reader, and its record (reused).
    Csv(csv::Reader<R>, csv::ByteRecord),
    Plain {
        input: R,
        /// The number of the last line read.
        line: u64,
    },
}

impl<R: BufRead> Rows<R> {
    /// The next record into `record`, with its line number; `None` at the end. Empty lines
    /// are passed over, as the `csv` crate does; a line may end in `\n` or `\r\n`.
    fn next(&mut self, fields: &mut Fields) -> Result<Option<u64>, RowError> {
        match self {
            Rows::Csv(reader, record) => match reader.read_byte_record(record) {
                Ok(false) => Ok(None),
                Ok(true) => {
                    fields.set(record);
                    Ok(Some(record.position().map_or(0, |p| p.line())))
                }
                Err(e) => match e.kind() {
                    csv::ErrorKind::Io(io) => {
                        Err(RowError::Io(io::Error::new(io.kind(), io.to_string())))
                    }
                    _ => Err(RowError::Row {
                        line: e.position().map_or(0, |p| p.line()),
                        why: e.to_string(),
                    }),
                },
            },
            Rows::Plain { input, line } => loop {
                if !fields.read_line(input).map_err(RowError::Io)? {
                    return Ok(None);
                }
                *line += 1;
                if fields.text.last() == Some(&b'\r') {
                    fields.text.pop();
                    if let Some(last) = fields.bounds.last_mut() {
                        last.end = last.end.min(fields.text.len());
                    }
                }
                if fields.text.is_empty() {
                    continue;
                }
                return Ok(Some(*line));
            },
        }
    }
}

/// Reads the (small) CSV files of `T` rows of `base`, as [`each_row`] does, keeping the rows
/// `keep` accepts (`Ok(true)`), skipping those it passes over (`Ok(false)`).
pub fn read_rows<T: DeserializeOwned>(
    parts: &[Part],
    quoting: bool,
    warnings: &mut Vec<String>,
    keep: impl Fn(&T) -> Result<bool, String>,
) -> Result<Vec<T>, TraceError> {
    let mut rows = Vec::new();
    for part in parts {
        each_row(part, quoting, warnings, |row: T| {
            if keep(&row)? {
                rows.push(row);
            }
            Ok(())
        })?;
    }
    Ok(rows)
}

/// The stretch of a trace to load: rows with `t_ms` in `[from_ms, to_ms]`; `None` is open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    /// From (ms since the recording started), inclusive.
    pub from_ms: Option<u64>,
    /// To, inclusive.
    pub to_ms: Option<u64>,
}

impl Window {
    /// The whole trace.
    pub const ALL: Window = Window {
        from_ms: None,
        to_ms: None,
    };

    /// Whether `t_ms` is inside.
    pub fn contains(&self, t_ms: u64) -> bool {
        self.from_ms.is_none_or(|f| t_ms >= f) && self.to_ms.is_none_or(|t| t_ms <= t)
    }

    /// Whether any of `[first, last]` is inside.
    pub fn overlaps(&self, first: u64, last: u64) -> bool {
        self.from_ms.is_none_or(|f| last >= f) && self.to_ms.is_none_or(|t| first <= t)
    }
}

/// The parts of `base` worth opening for `window`: closed segments whose span (from
/// `meta.json`) misses the window are left shut; a segment `meta.json` does not list (it was
/// closed by a recorder killed before it could say so) and the live file are always read.
pub fn parts_for(
    dir: &Path,
    base: &str,
    meta: &Meta,
    window: Window,
) -> Result<Vec<Part>, TraceError> {
    let all = segments::parts(dir, base).map_err(|e| TraceError::Read {
        path: dir.to_owned(),
        error: e,
    })?;
    let closed = meta
        .segments
        .as_ref()
        .map(|s| s.closed.as_slice())
        .unwrap_or(&[]);
    Ok(all
        .into_iter()
        .filter(|p| {
            let Some(n) = p.number else { return true };
            closed
                .iter()
                .find(|c| c.number == n)
                .is_none_or(|c| window.overlaps(c.first_t_ms, c.last_t_ms))
        })
        .collect())
}

/// Where the fields the timeline keeps sit in a `processes.csv` row, found by name in its
/// header: the rows are read by position, without building a whole row for each (a day of ten
/// processes is 864 000 rows).
pub struct ProcessColumns {
    /// `time_utc`.
    pub time_utc: usize,
    /// `t_ms`.
    pub t_ms: usize,
    /// `pid`.
    pub pid: usize,
    /// `start_time_us`.
    pub start_time_us: usize,
    /// `rss_bytes`.
    pub rss_bytes: usize,
    /// `footprint_bytes`, where the file has it.
    pub footprint_bytes: Option<usize>,
    /// `rss_file_bytes`, where the file has it.
    pub rss_file_bytes: Option<usize>,
    /// `weights_resident_bytes`, where the file has it.
    pub weights_resident_bytes: Option<usize>,
}

impl ProcessColumns {
    /// Finds the columns in `headers`; an error names a column that is missing.
    pub fn find(headers: &Fields) -> Result<ProcessColumns, String> {
        if headers.is_empty() {
            // An empty file (a recorder stopped before its first write): no rows to read.
            return Ok(ProcessColumns {
                time_utc: 0,
                t_ms: 0,
                pid: 0,
                start_time_us: 0,
                rss_bytes: 0,
                footprint_bytes: None,
                rss_file_bytes: None,
                weights_resident_bytes: None,
            });
        }
        let at = |name: &str| headers.iter().position(|h| h == name.as_bytes());
        let need = |name: &str| at(name).ok_or_else(|| format!("no `{name}` column"));
        Ok(ProcessColumns {
            time_utc: need("time_utc")?,
            t_ms: need("t_ms")?,
            pid: need("pid")?,
            start_time_us: need("start_time_us")?,
            rss_bytes: need("rss_bytes")?,
            footprint_bytes: at("footprint_bytes"),
            rss_file_bytes: at("rss_file_bytes"),
            weights_resident_bytes: at("weights_resident_bytes"),
        })
    }
}

/// The field of `name` at `i`, as a whole number; `None` when empty.
pub fn number(r: &Fields, i: usize, name: &str) -> Result<Option<u64>, String> {
    let b = r.get(i).unwrap_or_default();
    if b.is_empty() {
        return Ok(None);
    }
    // Digits only, as the recorder writes them (what `str::parse` accepts, less its `+`),
    // read from the bytes: the text check and the parse in one pass. Up to 19 digits cannot
    // overflow, so the common case needs no checked arithmetic (a week of rows has 40
    // million of these fields).
    let parsed = if b.len() <= 19 {
        short_number(b)
    } else {
        b.iter().try_fold(0u64, |n, &d| {
            d.is_ascii_digit()
                .then(|| n.checked_mul(10)?.checked_add(u64::from(d - b'0')))
                .flatten()
        })
    };
    parsed.map(Some).ok_or_else(|| {
        format!(
            "{name}: `{}` is not a whole number",
            String::from_utf8_lossy(b)
        )
    })
}

/// The number up to 19 digits in `b` (which cannot overflow), `None` if a byte is not a digit:
/// eight digits at a time where there are eight (a microsecond start time has sixteen), the
/// rest one at a time.
fn short_number(b: &[u8]) -> Option<u64> {
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    const HIGH: u64 = 0xf0f0_f0f0_f0f0_f0f0;
    let mut n = 0u64;
    let mut chunks = b.chunks_exact(8);
    for chunk in &mut chunks {
        let mut v = u64::from_le_bytes(chunk.try_into().ok()?);
        // Each byte 0x30 to 0x39: its high half 3, and still 3 with 6 added to it.
        if v & HIGH != ZEROS || v.wrapping_add(0x0606_0606_0606_0606) & HIGH != ZEROS {
            return None;
        }
        // The first byte is the highest digit: pairs, then fours, then the eight.
        v = ((v & 0x0f00_0f00_0f00_0f00) >> 8) + (v & 0x000f_000f_000f_000f) * 10;
        v = ((v & 0x00ff_0000_00ff_0000) >> 16) + (v & 0x0000_00ff_0000_00ff) * 100;
        v = ((v & 0x0000_ffff_0000_0000) >> 32) + (v & 0x0000_0000_0000_ffff) * 10_000;
        n = n * 100_000_000 + v;
    }
    for &d in chunks.remainder() {
        let digit = d.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        n = n * 10 + u64::from(digit);
    }
    Some(n)
}

/// The field of `name` at `i`, a whole number that must be there.
pub fn required(r: &Fields, i: usize, name: &str) -> Result<u64, String> {
    number(r, i, name)?.ok_or_else(|| format!("{name} is empty"))
}

/// The last time string read and what it said: the rows of one tick share one time, so each
/// is parsed once, not once per process.
#[derive(Default)]
pub struct LastTime {
    text: Vec<u8>,
    utc_ms: i64,
}

impl LastTime {
    /// [`clocks_agree`] for `text`, parsing it only when it differs from the last one.
    pub fn check(&mut self, start_ms: i64, text: &[u8], t_ms: u64) -> Result<(), String> {
        if text != self.text.as_slice() || self.text.is_empty() {
            let s = std::str::from_utf8(text).map_err(|_| "time_utc is not text".to_owned())?;
            let wall = s
                .parse::<jiff::Timestamp>()
                .map_err(|_| format!("`{s}` is not a UTC time"))?
                .as_millisecond();
            self.text.clear();
            self.text.extend_from_slice(text);
            self.utc_ms = wall;
        }
        clock_offset(start_ms, self.utc_ms, t_ms, text)
    }
}

/// Whether `t_ms` agrees with a row's time (`wall`, ms since the epoch) within
/// [`MAX_CLOCK_DISAGREEMENT_MS`].
fn clock_offset(start_ms: i64, wall: i64, t_ms: u64, text: &[u8]) -> Result<(), String> {
    let off = (wall - start_ms).abs_diff(i64::try_from(t_ms).unwrap_or(i64::MAX));
    if off > MAX_CLOCK_DISAGREEMENT_MS {
        return Err(format!(
            "t_ms {t_ms} is {} days away from its time {}",
            off / 86_400_000,
            String::from_utf8_lossy(text)
        ));
    }
    Ok(())
}

/// Whether a row's two clocks agree: `time_utc` − the trace's start is `t_ms`, within
/// [`MAX_CLOCK_DISAGREEMENT_MS`].
pub fn clocks_agree(start_ms: i64, time_utc: &str, t_ms: u64) -> Result<i64, String> {
    let wall = time_utc
        .parse::<jiff::Timestamp>()
        .map_err(|_| format!("`{time_utc}` is not a UTC time"))?
        .as_millisecond();
    clock_offset(start_ms, wall, t_ms, time_utc.as_bytes())?;
    Ok(wall)
}

/// A span of milliseconds as a person reads it: `2 d 3 h`, `13 h 5 min`, `4 min 10 s`.
pub fn format_apart(ms: u64) -> String {
    let s = ms / 1000;
    let (d, h, m, sec) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    match (d, h, m) {
        (0, 0, m) => format!("{m} min {sec} s"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

/// Whether a share `v` lies within 0 and `max`.
pub fn in_range(what: &str, v: Option<f64>, max: f64) -> Result<(), String> {
    match v {
        Some(x) if !(0.0..=max).contains(&x) => Err(format!("{what} {x} is outside 0–{max}")),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_line_is_cut_at_its_commas_across_the_readers_buffer() {
        // A buffer of three bytes: every line and most fields span two or more fills.
        let text = b"t,pid,rss\n1,22,333\r\n\n,,\n4444,5,66";
        let mut input = BufReader::with_capacity(3, &text[..]);
        let mut rows = Rows::Plain {
            input: &mut input,
            line: 0,
        };
        let mut f = Fields::default();
        let mut got = Vec::new();
        while let Some(line) = rows.next(&mut f).ok().flatten() {
            got.push((line, f.iter().map(|x| x.to_vec()).collect::<Vec<_>>()));
        }
        let v = |s: &[&str]| s.iter().map(|x| x.as_bytes().to_vec()).collect::<Vec<_>>();
        assert_eq!(
            got,
            [
                (1, v(&["t", "pid", "rss"])),
                (2, v(&["1", "22", "333"])),
                // Line 3 is empty: passed over, and counted.
                (4, v(&["", "", ""])),
                (5, v(&["4444", "5", "66"])),
            ]
        );
    }

    /// A recorder killed between creating a segment's live file and writing its header leaves
    /// an empty file: it reads as a file with no header and no rows, both ways of reading.
    #[test]
    fn an_empty_file_has_no_header_and_no_rows() {
        let mut input = BufReader::new(&b""[..]);
        let mut rows = Rows::Plain {
            input: &mut input,
            line: 0,
        };
        let mut f = Fields::default();
        assert_eq!(rows.next(&mut f).ok(), Some(None));
        assert!(f.is_empty());
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join(crate::PROCESSES_FILE);
        std::fs::write(&path, "").unwrap();
        let part = Part {
            path,
            number: None,
            compressed: false,
        };
        for quoting in [false, true] {
            let mut warnings = Vec::new();
            let mut rows = 0;
            let read = each_record(
                &part,
                quoting,
                &mut warnings,
                ProcessColumns::find,
                |_, _| {
                    rows += 1;
                    Ok(())
                },
            );
            assert!(read.is_ok(), "{read:?}");
            assert_eq!((rows, warnings.len()), (0, 0), "{warnings:?}");
        }
    }

    #[test]
    fn a_field_is_a_whole_number_up_to_the_largest_u64_and_nothing_else() {
        let mut record = Fields::default();
        record.set(&csv::ByteRecord::from(vec![
            "0",
            "9999999999999999999",
            "18446744073709551615",
            "18446744073709551616",
            "99999999999999999999",
            "+1",
            "1a",
            "-3",
            "",
            " 7",
            "12345678",
            "0000000012345678",
            "1796126170390000",
            "1234567:",
            "12345/78",
            "123456789012345678",
        ]));
        let n = |i| number(&record, i, "f");
        assert_eq!(n(0), Ok(Some(0)));
        assert_eq!(n(1), Ok(Some(9_999_999_999_999_999_999)));
        assert_eq!(n(2), Ok(Some(u64::MAX)));
        for i in [3, 4, 5, 6, 7, 9] {
            let e = n(i).unwrap_err();
            assert!(
                e.starts_with("f: `") && e.ends_with("` is not a whole number"),
                "{e}"
            );
        }
        assert_eq!(n(8), Ok(None));
        assert_eq!(required(&record, 8, "f"), Err("f is empty".to_owned()));
        // Eight digits at a time, and the rest.
        assert_eq!(n(10), Ok(Some(12_345_678)));
        assert_eq!(n(11), Ok(Some(12_345_678)));
        assert_eq!(n(12), Ok(Some(1_796_126_170_390_000)));
        assert!(n(13).is_err() && n(14).is_err());
        assert_eq!(n(15), Ok(Some(123_456_789_012_345_678)));
        // Every length up to 19 digits, against the standard library.
        for len in 1..=19 {
            let text: String = (0..len)
                .map(|k| char::from(b'1' + (k * 7 % 9) as u8))
                .collect();
            let one = csv::ByteRecord::from(vec![text.as_str()]);
            let mut f = Fields::default();
            f.set(&one);
            assert_eq!(
                number(&f, 0, "f"),
                Ok(Some(text.parse().unwrap())),
                "{text}"
            );
        }
        // A field past the end of the row reads as empty.
        assert_eq!(n(16), Ok(None));
    }
}
