//! Segments of a long trace: the flight recorder's way to keep a bounded amount of history.
//!
//! A segmented trace keeps the newest rows in the ordinary files (`system.csv`, ...), the live
//! segment. When that segment is full (its size or its length), each of its files is renamed
//! to a numbered one (`system.000007.csv`), fresh live files are started, and the numbered
//! files are compressed (`system.000007.csv.gz`, gzip) beside the recording. The oldest whole
//! segments are deleted to stay within the trace's limits. A reader reads, for each kind of
//! file, the numbered segments in order and then the live file: the rows come out in the order
//! they were written, whichever segment holds them, so a crash between two renames loses
//! nothing.
//!
//! Compression writes `NAME.gz.tmp`, renames it to `NAME.gz` once complete, and only then
//! removes the plain file: a crash leaves the plain segment, the compressed one, or both
//! (readers then take the compressed one), never neither.

use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

/// The file of segment `number` of the live file `base` (`system.csv`): `system.000007.csv`,
/// or with `.gz` when compressed.
pub fn segment_path(dir: &Path, base: &str, number: u32, compressed: bool) -> PathBuf {
    let stem = base.strip_suffix(".csv").unwrap_or(base);
    let gz = if compressed { ".gz" } else { "" };
    dir.join(format!("{stem}.{number:06}.csv{gz}"))
}

/// The segment number and compression of a file name of `base`'s segments, if it is one.
pub fn parse_segment_name(base: &str, name: &str) -> Option<(u32, bool)> {
    let stem = base.strip_suffix(".csv").unwrap_or(base);
    let rest = name.strip_prefix(stem)?.strip_prefix('.')?;
    let (digits, compressed) = if let Some(d) = rest.strip_suffix(".csv.gz") {
        (d, true)
    } else {
        (rest.strip_suffix(".csv")?, false)
    };
    if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((digits.parse().ok()?, compressed))
}

/// One file to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The file.
    pub path: PathBuf,
    /// Its segment number; `None` for the live file.
    pub number: Option<u32>,
    /// Whether it is gzip-compressed.
    pub compressed: bool,
}

/// The files that hold `base`'s rows, in the order they were written: each numbered segment
/// once (compressed when both forms exist), then the live file when it exists. A trace that
/// was never segmented gives just its file.
pub fn parts(dir: &Path, base: &str) -> io::Result<Vec<Part>> {
    let mut numbered: Vec<(u32, bool)> = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if let Some(found) = parse_segment_name(base, &name) {
            numbered.push(found);
        }
    }
    // Compressed first among equals, so that dedup keeps it.
    numbered.sort_by_key(|&(n, gz)| (n, !gz));
    numbered.dedup_by_key(|&mut (n, _)| n);
    let mut out: Vec<Part> = numbered
        .into_iter()
        .map(|(n, gz)| Part {
            path: segment_path(dir, base, n, gz),
            number: Some(n),
            compressed: gz,
        })
        .collect();
    let live = dir.join(base);
    if live.exists() || out.is_empty() {
        out.push(Part {
            path: live,
            number: None,
            compressed: false,
        });
    }
    Ok(out)
}

/// Opens `path` for reading if it is a regular file: a FIFO would block every reader until
/// something writes to it, a device would never end, a directory is not a file.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file (a FIFO, a device or a directory)",
        ));
    }
    File::open(path)
}

/// The longest line a trace file may hold: a row is a few hundred bytes, and the longest
/// (an identity with its command line) is bounded by the kernel's limit on arguments
/// (`kern.argmax`, 1 MiB on macOS; 2 MiB on Linux by default).
pub const MAX_LINE_BYTES: u64 = 4 << 20;

/// The most a compressed segment may give when decompressed: eight times the largest segment
/// memtide writes (64 MB), far beyond any it wrote, far below what a gzip bomb gives.
pub const MAX_DECOMPRESSED_BYTES: u64 = 512 << 20;

/// A reader that fails (`InvalidData`, saying which) at a line longer than [`MAX_LINE_BYTES`]
/// or after `total` bytes, so that a damaged or hostile file costs bounded memory and time.
pub struct Bounded<R> {
    inner: R,
    line: u64,
    left: u64,
}

impl<R: Read> Bounded<R> {
    /// `inner`, bounded to `total` bytes.
    pub fn new(inner: R, total: u64) -> Bounded<R> {
        Bounded {
            inner,
            line: 0,
            left: total,
        }
    }
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let got = &buf[..n];
        if n as u64 > self.left {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "more than {} MiB once decompressed: not a segment memtide wrote",
                    MAX_DECOMPRESSED_BYTES >> 20
                ),
            ));
        }
        self.left -= n as u64;
        // Each stretch up to a line end (the first continuing the line before), found by
        // memchr: every byte of every trace read passes here.
        let mut start = 0;
        let mut too_long = false;
        for end in memchr::memchr_iter(b'\n', got) {
            too_long |= self.line + (end - start) as u64 > MAX_LINE_BYTES;
            self.line = 0;
            start = end + 1;
        }
        self.line += (n - start) as u64;
        if too_long || self.line > MAX_LINE_BYTES {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "a line longer than {} MiB: not a trace row",
                    MAX_LINE_BYTES >> 20
                ),
            ));
        }
        Ok(n)
    }
}

/// Opens a part for reading, decompressing it when it is compressed; only a regular file,
/// bounded as [`Bounded`] says.
pub fn open(part: &Part) -> io::Result<Box<dyn Read + Send>> {
    let f = open_regular(&part.path)?;
    Ok(if part.compressed {
        Box::new(Bounded::new(
            GzDecoder::new(BufReader::with_capacity(64 * 1024, f)),
            MAX_DECOMPRESSED_BYTES,
        ))
    } else {
        Box::new(Bounded::new(f, u64::MAX))
    })
}

/// `path` with `suffix` added to its file name (`x.csv` → `x.csv.gz`).
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(suffix);
    path.with_file_name(name)
}

/// The bytes `path` takes on disk, as `du` counts them: its blocks (a file of a few bytes still
/// takes one), or its length where that is more (a file system that compresses). 0 when it
/// does not exist.
pub fn disk_bytes(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).map_or(0, |m| m.len().max(m.blocks() * 512))
}

/// What a crash leaves among `bases`' segments in `dir`, cleared: a compression cut short
/// (`NAME.gz.tmp`) is removed, and so is a plain segment whose compressed one is complete (the
/// `.gz` appears only once written whole). Returns the numbers of the segments on disk, in
/// order.
pub fn clear_crash_leftovers(dir: &Path, bases: &[&str]) -> io::Result<Vec<u32>> {
    let mut numbers = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        let Some(name) = name.to_str() else { continue };
        for base in bases {
            if name
                .strip_suffix(".tmp")
                .and_then(|done| parse_segment_name(base, done))
                .is_some()
            {
                remove_if_there(&dir.join(name))?;
            } else if let Some((n, _)) = parse_segment_name(base, name) {
                numbers.push(n);
            }
        }
    }
    numbers.sort_unstable();
    numbers.dedup();
    for &n in &numbers {
        for base in bases {
            if segment_path(dir, base, n, true).exists() {
                remove_if_there(&segment_path(dir, base, n, false))?;
            }
        }
    }
    Ok(numbers)
}

fn remove_if_there(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Compresses a closed plain segment file into `PATH.gz`, then removes the plain one. A
/// failure leaves the plain file (and no `.gz`).
pub fn compress(plain: &Path) -> io::Result<PathBuf> {
    let gz = with_suffix(plain, ".gz");
    let tmp = with_suffix(&gz, ".tmp");
    let written = (|| {
        let mut input = File::open(plain)?;
        let mut enc = GzEncoder::new(File::create(&tmp)?, Compression::default());
        io::copy(&mut input, &mut enc)?;
        let f = enc.finish()?;
        f.sync_all()?;
        std::fs::rename(&tmp, &gz)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::remove_file(plain)?;
    Ok(gz)
}

/// A closed segment as retention sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed {
    /// Its number.
    pub number: u32,
    /// Its last row's `t_ms`.
    pub last_t_ms: u64,
    /// Its bytes on disk, all its files.
    pub bytes: u64,
}

/// Which closed segments to delete, oldest first, so that what is kept (with the live
/// segment's `live_bytes`) is at most `max_bytes` and no kept segment ended more than `keep_ms`
/// before `now_t_ms`. `spare` (the segment being compressed) is never chosen.
pub fn to_delete(
    closed: &[Closed],
    live_bytes: u64,
    now_t_ms: u64,
    keep_ms: Option<u64>,
    max_bytes: Option<u64>,
    spare: Option<u32>,
) -> Vec<u32> {
    let mut sorted: Vec<Closed> = closed.to_vec();
    sorted.sort_by_key(|c| c.number);
    let mut total: u64 = live_bytes + sorted.iter().map(|c| c.bytes).sum::<u64>();
    let mut out = Vec::new();
    for c in &sorted {
        if Some(c.number) == spare {
            break;
        }
        let too_old = keep_ms.is_some_and(|k| c.last_t_ms.saturating_add(k) < now_t_ms);
        let too_big = max_bytes.is_some_and(|m| total > m);
        if !(too_old || too_big) {
            break;
        }
        total -= c.bytes;
        out.push(c.number);
    }
    out
}

/// The bytes on disk of segment `number` of each of `bases` (plain or compressed, whichever
/// exist; a leftover `.tmp` counts too), as [`disk_bytes`] counts them.
pub fn segment_bytes(dir: &Path, bases: &[&str], number: u32) -> u64 {
    let mut total = 0;
    for base in bases {
        for p in [
            segment_path(dir, base, number, false),
            segment_path(dir, base, number, true),
        ] {
            total += disk_bytes(&p) + disk_bytes(&with_suffix(&p, ".tmp"));
        }
    }
    total
}

/// Removes every file of segment `number` of each of `bases`.
pub fn delete(dir: &Path, bases: &[&str], number: u32) -> io::Result<()> {
    for base in bases {
        for p in [
            segment_path(dir, base, number, false),
            segment_path(dir, base, number, true),
        ] {
            remove_if_there(&p)?;
            remove_if_there(&with_suffix(&p, ".tmp"))?;
        }
    }
    Ok(())
}

/// Writes `bytes` gzip-compressed (for tests and tools that build segmented traces).
pub fn gzip(bytes: &[u8]) -> io::Result<Vec<u8>> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(bytes)?;
    enc.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bounded_read_stops_at_a_long_line_or_its_total() {
        let read_all = |bytes: &[u8], total: u64| {
            let mut out = Vec::new();
            Bounded::new(bytes, total)
                .read_to_end(&mut out)
                .map(|_| out)
        };
        let rows = b"a,b\n1,2\n".repeat(1000);
        assert!(read_all(&rows, u64::MAX).is_ok_and(|r| r == rows));
        assert!(read_all(&rows, rows.len() as u64).is_ok_and(|r| r == rows));
        let e = read_all(&rows, 100).err().map(|e| e.kind());
        assert_eq!(e, Some(io::ErrorKind::InvalidData));
        // A line of the limit reads; one byte more does not, in the middle of the input
        // or at its end, read whole or a little at a time.
        let long = |extra: usize, tail: &[u8]| {
            let mut v = b"a,b\n".to_vec();
            v.resize(v.len() + MAX_LINE_BYTES as usize + extra, b'x');
            v.extend_from_slice(tail);
            v
        };
        let small_reads = |bytes: &[u8]| {
            let mut out = Vec::new();
            io::BufReader::with_capacity(4096, Bounded::new(bytes, u64::MAX))
                .read_to_end(&mut out)
                .map(|_| out.len())
        };
        for tail in [&b"\n1,2\n"[..], b""] {
            assert!(read_all(&long(0, tail), u64::MAX).is_ok());
            assert!(small_reads(&long(0, tail)).is_ok());
            let e = read_all(&long(1, tail), u64::MAX)
                .err()
                .map(|e| e.to_string());
            assert!(
                e.as_deref()
                    .is_some_and(|e| e.contains("longer than 4 MiB")),
                "{e:?}"
            );
            assert!(small_reads(&long(1, tail)).is_err());
        }
    }

    #[test]
    fn names_round_trip_and_strangers_are_not_segments() {
        let dir = Path::new("/t");
        let p = segment_path(dir, "system.csv", 7, true);
        assert_eq!(p, Path::new("/t/system.000007.csv.gz"));
        assert_eq!(
            parse_segment_name("system.csv", "system.000007.csv.gz"),
            Some((7, true))
        );
        assert_eq!(
            parse_segment_name("system.csv", "system.000012.csv"),
            Some((12, false))
        );
        for stranger in [
            "system.csv",
            "system.7.csv",
            "system.00000x.csv",
            "system.000007.csv.gz.tmp",
            "processes.000007.csv",
            "system.000007.txt",
        ] {
            assert_eq!(
                parse_segment_name("system.csv", stranger),
                None,
                "{stranger}"
            );
        }
    }

    #[test]
    fn parts_come_in_order_compressed_preferred_live_last() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for name in [
            "system.000002.csv",
            "system.000002.csv.gz",
            "system.000010.csv.gz",
            "system.000001.csv",
            "system.000003.csv.gz.tmp",
            "system.csv",
            "processes.000001.csv",
        ] {
            std::fs::write(d.join(name), "x").unwrap();
        }
        let got: Vec<String> = parts(d, "system.csv")
            .unwrap()
            .iter()
            .map(|p| p.path.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            got,
            [
                "system.000001.csv",
                "system.000002.csv.gz",
                "system.000010.csv.gz",
                "system.csv"
            ]
        );
        // No live file (a crash between renames): only the segments.
        std::fs::remove_file(d.join("processes.csv")).ok();
        assert_eq!(parts(d, "processes.csv").unwrap().len(), 1);
        // Nothing at all: the live name, so the reader says which file is missing.
        assert_eq!(
            parts(d, "models.csv").unwrap()[0].path,
            d.join("models.csv")
        );
    }

    #[test]
    fn compression_keeps_the_bytes_and_removes_the_plain_file_last() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("system.000001.csv");
        let text = "time_utc,t_ms\n".to_owned() + &"2026-05-14T09:25:03.250Z,100\n".repeat(500);
        std::fs::write(&plain, &text).unwrap();
        let gz = compress(&plain).unwrap();
        assert!(!plain.exists());
        assert!(std::fs::metadata(&gz).unwrap().len() < text.len() as u64 / 5);
        let mut back = String::new();
        open(&Part {
            path: gz,
            number: Some(1),
            compressed: true,
        })
        .unwrap()
        .read_to_string(&mut back)
        .unwrap();
        assert_eq!(back, text);
        // A plain file that cannot be read stays, and no .gz appears.
        let missing = dir.path().join("system.000002.csv");
        assert!(compress(&missing).is_err());
        assert!(!dir.path().join("system.000002.csv.gz").exists());
        assert!(!dir.path().join("system.000002.csv.gz.tmp").exists());
    }

    #[test]
    fn retention_deletes_the_oldest_whole_segments_only() {
        let c = |number, last_t_ms, bytes| Closed {
            number,
            last_t_ms,
            bytes,
        };
        let closed = [
            c(1, 1000, 50),
            c(2, 2000, 50),
            c(3, 3000, 50),
            c(4, 4000, 50),
        ];
        // Size: 4 × 50 + 30 live = 230 > 150: the two oldest go.
        assert_eq!(to_delete(&closed, 30, 4000, None, Some(150), None), [1, 2]);
        // Age: kept 1500 ms back from 4000: segments ending before 2500 go.
        assert_eq!(to_delete(&closed, 30, 4000, Some(1500), None, None), [1, 2]);
        // Both limits: whichever removes more.
        assert_eq!(
            to_delete(&closed, 30, 4000, Some(2500), Some(100), None),
            [1, 2, 3]
        );
        // Within both: nothing.
        assert!(to_delete(&closed, 30, 4000, Some(10_000), Some(1000), None).is_empty());
        // The segment being compressed is never chosen, nor anything after it.
        assert_eq!(to_delete(&closed, 30, 4000, None, Some(0), Some(2)), [1]);
    }
}
