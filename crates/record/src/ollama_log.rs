//! Follows Ollama's server log on a thread of its own, without a subprocess: reads what was
//! appended since the last look, from a kept offset, across rotation and truncation, with each
//! line capped in length, and hands back the lines that say something of memory, parsed
//! ([`memtide_model::ollama_log`]) and joined to their runner's port. A huge log or a slow disk
//! delays only this thread, never a sample.
//!
//! Rotation: the macOS app renames `server.log` to `server-1.log` when it starts and opens a
//! new `server.log` (`app/server/server.go` l.293-294, `app/logrotate/logrotate.go`); a
//! service manager's logrotate may do the same or truncate the file in place. The follower
//! notices a new file at the path by its device and inode, reads the old one to its end (it is
//! still open), then reads the new one from its start; a file shorter than the kept offset has
//! been truncated and is read again from its start.

use memtide_model::ollama_log::{self, Joiner, Parsed};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

/// The longest line kept: 64 KiB. The lines memtide reads are under 1 KiB; a longer one (a
/// prompt echoed at debug level, binary garbage) is cut there and the rest of it skipped.
pub const MAX_LINE_BYTES: usize = 64 << 10;

/// The most read in one look: 4 MiB, so that a log that grew by gigabytes is worked through in
/// steps the thread can be stopped between.
pub const READ_BUDGET_BYTES: usize = 4 << 20;

/// How often the follower looks at the log: every 250 ms, as often as the recorder lists new
/// processes, so that a runner's lines arrive with its first samples.
pub const LOOK_INTERVAL: Duration = Duration::from_millis(250);

/// The file's identity: device and inode.
fn identity(m: &std::fs::Metadata) -> (u64, u64) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        (m.dev(), m.ino())
    }
    #[cfg(not(unix))]
    {
        // No inode: a rotation shows as a file shorter than the offset, or not at all.
        let _ = m;
        (0, 0)
    }
}

/// A log file followed from a kept offset.
#[derive(Debug)]
pub struct Tail {
    path: PathBuf,
    open: Option<(File, (u64, u64))>,
    offset: u64,
    partial: Vec<u8>,
    /// Inside a line longer than [`MAX_LINE_BYTES`]: what is left of it is skipped.
    skipping: bool,
}

impl Tail {
    /// Follows `path` from its current end: what Ollama writes from now on. A file that does
    /// not exist yet is followed from its start once it appears.
    pub fn from_end(path: &Path) -> Tail {
        let mut t = Tail::from_start(path);
        if let Ok(f) = File::open(path) {
            if let Ok(m) = f.metadata() {
                t.offset = m.len();
                t.open = Some((f, identity(&m)));
            }
        }
        t
    }

    /// Follows `path` from its start.
    pub fn from_start(path: &Path) -> Tail {
        Tail {
            path: path.to_owned(),
            open: None,
            offset: 0,
            partial: Vec::new(),
            skipping: false,
        }
    }

    /// The file followed.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends to `lines` every complete line written since the last call (at most
    /// [`READ_BUDGET_BYTES`] of them), each cut to [`MAX_LINE_BYTES`]. An error says the path
    /// cannot be opened or read now; the next call tries again.
    pub fn read(&mut self, lines: &mut Vec<String>) -> io::Result<()> {
        let now = match std::fs::metadata(&self.path) {
            Ok(m) => Some((identity(&m), m.len())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        let mut budget = READ_BUDGET_BYTES;
        if let Some((file, id)) = &mut self.open {
            if now.is_some_and(|(new_id, _)| new_id != *id) || now.is_none() {
                // Rotated (or removed): the old file is still open; read what it has left.
                Self::drain(
                    file,
                    &mut self.offset,
                    &mut self.partial,
                    &mut self.skipping,
                    lines,
                    &mut budget,
                )?;
                if budget == 0 {
                    return Ok(());
                }
                // A last line without its line end was complete.
                self.flush_partial(lines);
                self.open = None;
                self.offset = 0;
            }
        }
        let Some((new_id, len)) = now else {
            return Ok(());
        };
        if self.open.is_none() {
            let f = File::open(&self.path)?;
            self.open = Some((f, new_id));
            self.offset = 0;
            self.partial.clear();
            self.skipping = false;
        }
        if len < self.offset {
            // Truncated in place: read again from the start.
            self.offset = 0;
            self.partial.clear();
            self.skipping = false;
        }
        if let Some((file, _)) = &mut self.open {
            Self::drain(
                file,
                &mut self.offset,
                &mut self.partial,
                &mut self.skipping,
                lines,
                &mut budget,
            )?;
        }
        Ok(())
    }

    fn flush_partial(&mut self, lines: &mut Vec<String>) {
        if !self.partial.is_empty() && !self.skipping {
            lines.push(String::from_utf8_lossy(&self.partial).into_owned());
        }
        self.partial.clear();
        self.skipping = false;
    }

    fn drain(
        file: &mut File,
        offset: &mut u64,
        partial: &mut Vec<u8>,
        skipping: &mut bool,
        lines: &mut Vec<String>,
        budget: &mut usize,
    ) -> io::Result<()> {
        file.seek(SeekFrom::Start(*offset))?;
        let mut buf = vec![0u8; 64 << 10];
        while *budget > 0 {
            let want = buf.len().min(*budget);
            let n = match file.read(&mut buf[..want]) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            *offset += n as u64;
            *budget -= n;
            for piece in buf[..n].split_inclusive(|&b| b == b'\n') {
                let (body, ended) = match piece.strip_suffix(b"\n") {
                    Some(b) => (b, true),
                    None => (piece, false),
                };
                if !*skipping {
                    let room = MAX_LINE_BYTES - partial.len();
                    if body.len() > room {
                        partial.extend_from_slice(&body[..room]);
                        *skipping = true;
                    } else {
                        partial.extend_from_slice(body);
                    }
                }
                if ended {
                    lines.push(String::from_utf8_lossy(partial).into_owned());
                    partial.clear();
                    *skipping = false;
                }
            }
        }
        Ok(())
    }
}

/// What the follower sends.
#[derive(Debug)]
pub enum Followed {
    /// A line that says something of memory, and when it was read.
    Line {
        /// On the monotonic clock.
        at: Instant,
        /// On the wall clock.
        wall: SystemTime,
        /// The runner's port it is joined to.
        port: Option<u16>,
        /// What it says.
        parsed: Parsed,
    },
    /// The log could not be read (said once, until it can be again).
    Unreadable(String),
}

/// The follower thread.
pub struct Follower {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    /// The log followed.
    pub path: PathBuf,
    /// The lines, in the order they were written.
    pub lines: Receiver<Followed>,
}

impl Follower {
    /// Starts following `tail`.
    pub fn start(mut tail: Tail) -> io::Result<Follower> {
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, lines) = mpsc::channel();
        let path = tail.path().to_owned();
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("ollama-log".into())
            .spawn(move || {
                let mut joiner = Joiner::default();
                let mut said = false;
                let mut got = Vec::new();
                while !flag.load(Ordering::Relaxed) {
                    got.clear();
                    match tail.read(&mut got) {
                        Ok(()) => said = false,
                        Err(e) if !said => {
                            said = true;
                            if tx.send(Followed::Unreadable(e.to_string())).is_err() {
                                return;
                            }
                        }
                        Err(_) => {}
                    }
                    let (at, wall) = (Instant::now(), SystemTime::now());
                    for text in &got {
                        let Some(parsed) = ollama_log::parse(text) else {
                            continue;
                        };
                        let port = joiner.port(&parsed.line);
                        let msg = Followed::Line {
                            at,
                            wall,
                            port,
                            parsed,
                        };
                        if tx.send(msg).is_err() {
                            return;
                        }
                    }
                    // A full budget means more is waiting: look again at once.
                    if got.len() < 1024 {
                        std::thread::park_timeout(LOOK_INTERVAL);
                    }
                }
            })?;
        Ok(Follower {
            stop,
            thread: Some(thread),
            path,
            lines,
        })
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn read(t: &mut Tail) -> Vec<String> {
        let mut v = Vec::new();
        t.read(&mut v).unwrap();
        v
    }

    /// A directory to hold a log, and the log's path in it (not created).
    fn log_dir() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("server.log");
        (dir, log)
    }

    fn append(path: &Path, text: &str) {
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }

    #[test]
    fn from_the_end_only_what_is_written_after() {
        let (_dir, log) = log_dir();
        append(&log, "old 1\nold 2\n");
        let mut t = Tail::from_end(&log);
        assert!(read(&mut t).is_empty());
        append(&log, "new 1\nnew ");
        assert_eq!(read(&mut t), ["new 1"]);
        append(&log, "2\n");
        assert_eq!(
            read(&mut t),
            ["new 2"],
            "a line written in two pieces is one line"
        );
    }

    #[test]
    fn a_log_that_appears_later_is_read_from_its_start() {
        let (_dir, log) = log_dir();
        let mut t = Tail::from_end(&log);
        assert!(read(&mut t).is_empty());
        append(&log, "first\n");
        assert_eq!(read(&mut t), ["first"]);
    }

    #[test]
    fn rotation_reads_the_old_file_to_its_end_then_the_new_one() {
        let (dir, log) = log_dir();
        append(&log, "a\n");
        let mut t = Tail::from_start(&log);
        assert_eq!(read(&mut t), ["a"]);
        // The old file gets its last lines (the last without its line end), then is renamed
        // as the app does, and a new one starts.
        append(&log, "b\nc");
        std::fs::rename(&log, dir.path().join("server-1.log")).unwrap();
        append(&log, "d\n");
        assert_eq!(read(&mut t), ["b", "c", "d"]);
        append(&log, "e\n");
        assert_eq!(read(&mut t), ["e"]);
    }

    #[test]
    fn truncation_reads_again_from_the_start() {
        let (_dir, log) = log_dir();
        append(&log, "a long first line\n");
        let mut t = Tail::from_start(&log);
        assert_eq!(read(&mut t), ["a long first line"]);
        std::fs::OpenOptions::new()
            .write(true)
            .open(&log)
            .unwrap()
            .set_len(0)
            .unwrap();
        append(&log, "x\n");
        assert_eq!(read(&mut t), ["x"]);
    }

    #[test]
    fn a_line_longer_than_the_cap_is_cut_and_the_next_is_whole() {
        let (_dir, log) = log_dir();
        let mut t = Tail::from_start(&log);
        append(&log, &"y".repeat(MAX_LINE_BYTES * 3));
        append(&log, "\nnext\n");
        let got = read(&mut t);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].len(), MAX_LINE_BYTES);
        assert_eq!(got[1], "next");
    }

    #[test]
    fn a_huge_log_is_read_in_budgets() {
        let (_dir, log) = log_dir();
        let line = format!("{}\n", "z".repeat(1023));
        let n = READ_BUDGET_BYTES / 1024 * 2 + 10;
        append(&log, &line.repeat(n));
        let mut t = Tail::from_start(&log);
        let mut total = 0;
        let mut looks = 0;
        loop {
            let got = read(&mut t).len();
            if got == 0 {
                break;
            }
            total += got;
            looks += 1;
        }
        assert_eq!(total, n);
        assert_eq!(looks, 3, "two full budgets and the rest");
    }

    #[test]
    fn the_follower_hands_back_parsed_lines_joined_to_their_runner() {
        let (_dir, log) = log_dir();
        append(&log, "");
        let f = Follower::start(Tail::from_end(&log)).unwrap();
        append(
            &log,
            "time=2026-08-21T18:48:22.123-07:00 level=INFO source=llama_server.go:433 \
             msg=\"starting llama-server\" cmd=\"/x/llama-server --model /m --port 4242\"\n\
             [GIN] nothing\n\
             load_tensors:   CPU_Mapped model buffer size =   235.16 MiB\n",
        );
        let mut got = Vec::new();
        while got.len() < 2 {
            match f.lines.recv_timeout(Duration::from_secs(20)).unwrap() {
                Followed::Line { port, parsed, .. } => got.push((port, parsed.line)),
                Followed::Unreadable(e) => panic!("{e}"),
            }
        }
        assert_eq!(got[0].0, Some(4242));
        assert_eq!(got[1].0, Some(4242));
        assert!(matches!(got[1].1, ollama_log::Line::Buffer { .. }));
    }
}
