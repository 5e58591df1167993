//! Reading what a trace directory says of itself without reading its rows: `meta.json`, and
//! where the newest sample is.

use crate::{Meta, TraceError};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// The whole of `path`, if it is a regular file of at most 16 MiB (a `meta.json` is a few
/// kilobytes, even with years of segments listed).
pub(crate) fn read_regular(path: &Path) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    crate::segments::open_regular(path)?
        .take(16 << 20)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Reads `meta.json` of the trace in `dir`.
pub fn read_meta(dir: &Path) -> Result<Meta, TraceError> {
    let meta_path = dir.join(crate::META_FILE);
    let bytes = read_regular(&meta_path).map_err(|e| TraceError::Read {
        path: meta_path.clone(),
        error: e,
    })?;
    let meta: Meta = serde_json::from_slice(&bytes).map_err(|e| TraceError::Invalid {
        path: meta_path.clone(),
        detail: e.to_string(),
    })?;
    if meta.format_version > crate::SEGMENTED_FORMAT_VERSION {
        return Err(TraceError::Invalid {
            path: meta_path,
            detail: format!(
                "format version {} is newer than this memtide reads ({})",
                meta.format_version,
                crate::SEGMENTED_FORMAT_VERSION
            ),
        });
    }
    Ok(meta)
}

/// Where a CSV header line names `t_ms`.
fn t_ms_column(header: &str) -> Option<usize> {
    header.trim_end().split(',').position(|h| h == "t_ms")
}

/// The `t_ms` of the first and the last complete row of one part of a file (a segment, plain or
/// compressed), and its number of rows; `None` when it has no row with a time (only its header,
/// or not readable). For a segment a crash left unlisted in `meta.json`.
pub fn part_span(part: &crate::segments::Part) -> Option<(u64, u64, usize)> {
    let mut reader = BufReader::new(crate::segments::open(part).ok()?);
    let mut line = Vec::new();
    reader.read_until(b'\n', &mut line).ok()?;
    let col = t_ms_column(std::str::from_utf8(&line).ok()?)?;
    let mut span: Option<(u64, u64, usize)> = None;
    loop {
        line.clear();
        // A line the crash cut (no line end, or not readable) is not counted.
        match reader.read_until(b'\n', &mut line) {
            Ok(n) if n > 0 && line.ends_with(b"\n") => {}
            _ => break,
        }
        let t = std::str::from_utf8(&line)
            .ok()
            .and_then(|l| l.split(',').nth(col))
            .and_then(|v| v.trim_end().parse::<u64>().ok());
        if let Some(t) = t {
            span = Some(match span {
                None => (t, t, 1),
                Some((first, _, n)) => (first, t, n + 1),
            });
        }
    }
    span
}

/// The `t_ms` of the newest system sample of the trace in `dir`, read from the end of the
/// live `system.csv` (or, when it has no rows yet, from the last closed segment in
/// `meta.json`) without reading the rest: where `--last 10m` counts back from.
pub fn end_t_ms(dir: &Path) -> Result<Option<u64>, TraceError> {
    let meta = read_meta(dir)?;
    let path = dir.join(crate::SYSTEM_FILE);
    let from_meta = meta
        .segments
        .as_ref()
        .and_then(|s| s.closed.last().map(|c| c.last_t_ms));
    match last_t_ms(&path) {
        Ok(t) => Ok(t.or(from_meta)),
        Err(e) if e.kind() == io::ErrorKind::NotFound && from_meta.is_some() => Ok(from_meta),
        Err(e) => Err(TraceError::Read { path, error: e }),
    }
}

/// The `t_ms` of the last complete row of the CSV file `path`, read from its end without
/// reading the rest; `None` when it has no such row (only its header, or no `t_ms` column).
pub fn last_t_ms(path: &Path) -> io::Result<Option<u64>> {
    let mut file = crate::segments::open_regular(path)?;
    let mut first = String::new();
    BufReader::new(&mut file).read_line(&mut first)?;
    let Some(col) = t_ms_column(&first) else {
        return Ok(None);
    };
    let len = file.metadata()?.len();
    let end = complete_length(&mut file, len)?;
    if end <= first.len() as u64 {
        return Ok(None);
    }
    // The last complete line: back from its end to the line end before it.
    let from = end.saturating_sub(4096);
    let mut tail = vec![0u8; (end - from) as usize];
    file.seek(SeekFrom::Start(from))?;
    file.read_exact(&mut tail)?;
    let body = tail.strip_suffix(b"\n").unwrap_or(&tail);
    let line = body.rsplit(|&b| b == b'\n').next().unwrap_or_default();
    Ok(std::str::from_utf8(line)
        .ok()
        .and_then(|l| l.split(',').nth(col))
        .and_then(|v| v.parse::<u64>().ok()))
}

/// Where the complete lines of a file end: after its last line end. A file whose last line
/// has no line end is what a recorder killed mid-write leaves; that line is not read.
pub fn complete_length(file: &mut File, len: u64) -> io::Result<u64> {
    let mut end = len;
    let mut chunk = vec![0u8; 64 * 1024];
    while end > 0 {
        let from = end.saturating_sub(chunk.len() as u64);
        let n = (end - from) as usize;
        file.seek(SeekFrom::Start(from))?;
        file.read_exact(&mut chunk[..n])?;
        if let Some(i) = chunk[..n].iter().rposition(|&b| b == b'\n') {
            file.seek(SeekFrom::Start(0))?;
            return Ok(from + i as u64 + 1);
        }
        end = from;
    }
    file.seek(SeekFrom::Start(0))?;
    Ok(0)
}
