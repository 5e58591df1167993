//! Recording on a thread of its own, for a program that embeds memtide: [`Recorder::spawn`]
//! and [`trace_if_requested`].

use crate::{OllamaOptions, Options, RecordError, Recorder, TraceSummary};
use memtide_sampler::ProcessSelector;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

/// The environment variable [`trace_if_requested`] reads: the directory under which each run
/// writes its trace.
pub const TRACE_ENV: &str = "MEMTIDE_TRACE";

/// How often [`trace_if_requested`] samples: fast enough to see a model load (a few seconds)
/// in detail, as `memtide run` does by default.
pub const EMBEDDED_INTERVAL: Duration = Duration::from_millis(100);

/// A recorder running on its own thread, writing a trace until [`Recording::finish`] is called
/// or the handle is dropped.
///
/// Dropping it finishes the trace too, so a program that returns early, or panics and unwinds,
/// still leaves a complete trace (a program built with `panic = "abort"` does not unwind, and
/// its trace is left as a crash leaves it: readable up to its last flushed row).
#[derive(Debug)]
#[must_use = "the recording stops when the handle is dropped: keep it in a named variable"]
pub struct Recording {
    dir: PathBuf,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<Result<Option<TraceSummary>, RecordError>>>,
}

impl Recorder {
    /// Starts recording to a new trace at `dir` (created; an existing directory must be
    /// empty) with `options`, on a thread of its own, and returns once the trace exists and
    /// the first sample is taken. The recorder's notices
    /// are not shown anywhere (a library prints nothing); what went wrong is in the trace and
    /// in [`Recording::finish`]'s error.
    ///
    /// ```
    /// use memtide_record::{Options, ProcessSelector, Recorder};
    /// use std::time::Duration;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let tmp = tempfile::tempdir()?;
    /// # let dir = tmp.path().join("bench-trace");
    /// let me = std::process::id();
    /// let options = Options::new(Duration::from_millis(100), ProcessSelector::Pids(vec![me]));
    /// let recording = Recorder::spawn(options, &dir)?;
    /// let work: Vec<u8> = vec![1; 64 << 20]; // what is being measured
    /// # std::thread::sleep(Duration::from_millis(300));
    /// let summary = recording.finish()?.expect("a trace was written");
    /// assert!(summary.samples >= 1);
    /// # drop(work);
    /// # Ok(())
    /// # }
    /// ```
    pub fn spawn(options: Options, dir: impl AsRef<Path>) -> Result<Recording, RecordError> {
        let dir = dir.as_ref().to_path_buf();
        // A trace is written only where nothing would be overwritten.
        if std::fs::read_dir(&dir).is_ok_and(|mut entries| entries.next().is_some()) {
            return Err(RecordError::DirNotEmpty(dir));
        }
        let source = source_name();
        let (ready_tx, ready) = mpsc::sync_channel(1);
        let (stop, stopped) = mpsc::channel();
        let trace_dir = dir.clone();
        let thread = std::thread::Builder::new()
            .name("memtide-recorder".into())
            .spawn(move || {
                let started = Recorder::new(options).and_then(|mut rec| {
                    rec.start_trace(&trace_dir, &source)?;
                    rec.tick()?;
                    Ok(rec)
                });
                let mut rec = match started {
                    Ok(rec) => {
                        let _ = ready_tx.send(Ok(()));
                        rec
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return Ok(None);
                    }
                };
                let ran = rec.run(&stopped, None, |_, _| std::ops::ControlFlow::Continue(()));
                // Whatever ended the loop, the trace is finished.
                let finished = rec.finish();
                ran?;
                finished
            })
            .map_err(RecordError::Thread)?;
        match ready.recv() {
            Ok(Ok(())) => Ok(Recording {
                dir,
                stop: Some(stop),
                thread: Some(thread),
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            // The thread ended without a word: it panicked.
            Err(_) => Err(RecordError::RecorderPanicked),
        }
    }
}

impl Recording {
    /// The trace directory being written.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Stops recording, finishes the trace and says what it holds.
    pub fn finish(mut self) -> Result<Option<TraceSummary>, RecordError> {
        self.stop_and_join()
    }

    fn stop_and_join(&mut self) -> Result<Option<TraceSummary>, RecordError> {
        // Dropping the sender wakes the loop as a stop does.
        self.stop.take();
        match self.thread.take() {
            Some(t) => t.join().map_err(|_| RecordError::RecorderPanicked)?,
            None => Ok(None),
        }
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        // Nowhere to report to: the trace says what it could.
        let _ = self.stop_and_join();
    }
}

/// Records this program while it runs when the environment variable `MEMTIDE_TRACE` names a
/// directory, and does nothing otherwise: one line and one variable give a benchmark harness
/// a trace per run.
///
/// Each run writes a new trace inside that directory (created if needed), named after the
/// program, the start time (UTC) and the process ID, so runs never overwrite each other. It
/// follows this process and its descendants, and Ollama's processes with their models, as
/// `memtide run` does: every 100 ms, asking Ollama (`OLLAMA_HOST`, else
/// `http://127.0.0.1:11434`) every second. Keep the handle until the work is done; dropping it
/// (or [`Recording::finish`]) finishes the trace, which `memtide report DIR` then reads.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let _memtide = memtide_record::trace_if_requested()?;
/// // … the benchmark …
/// # Ok(())
/// # }
/// ```
pub fn trace_if_requested() -> Result<Option<Recording>, RecordError> {
    let Some(parent) = std::env::var_os(TRACE_ENV).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let parent = PathBuf::from(parent);
    std::fs::create_dir_all(&parent).map_err(|e| RecordError::TraceParent(parent.clone(), e))?;
    let me = std::process::id();
    let dir = parent.join(run_name(&source_name(), SystemTime::now(), me));
    let mut options = Options::new(
        EMBEDDED_INTERVAL,
        ProcessSelector::Any(vec![
            ProcessSelector::Pids(vec![me]),
            ProcessSelector::DescendantsOf(me),
            ProcessSelector::Ollama,
        ]),
    );
    options.selection = memtide_trace::Selection {
        ollama_default: true,
        pids: vec![me],
        children_of: Some(me),
        ..Default::default()
    };
    let host = std::env::var("OLLAMA_HOST").ok();
    options.ollama = Some(OllamaOptions::new(
        memtide_model::ollama::base_url(None, host.as_deref()),
        Duration::from_secs(1),
    ));
    Recorder::spawn(options, dir).map(Some)
}

/// The program's file name, for the trace's `source` and directory name.
fn source_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "memtide-record".into())
}

/// `PROGRAM-YYYY-MM-DDTHH-MM-SS.mmmZ-PID`: a directory name that sorts by time and holds no
/// character a file system refuses (`:` on macOS's Finder and on Windows).
fn run_name(program: &str, at: SystemTime, pid: u32) -> String {
    let safe: String = program
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "{safe}-{}-{pid}",
        memtide_trace::utc_ms(at).replace(':', "-")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_names_sort_by_time_and_are_safe_file_names() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_millis(1_780_000_000_123);
        assert_eq!(
            run_name("my bench/1", at, 42),
            "my_bench_1-2026-05-28T20-26-40.123Z-42"
        );
    }

    #[test]
    fn a_failed_start_is_an_error_and_leaves_no_thread() {
        let tmp = tempfile::tempdir().unwrap();
        let taken = tmp.path().join("taken");
        std::fs::create_dir(&taken).unwrap();
        std::fs::write(taken.join("keep.txt"), "a user's file").unwrap();
        let options = Options::new(Duration::from_millis(50), ProcessSelector::Pids(vec![]));
        let err = Recorder::spawn(options, &taken).unwrap_err();
        assert!(err.to_string().contains("taken"), "{err}");
        assert_eq!(
            std::fs::read_to_string(taken.join("keep.txt")).unwrap(),
            "a user's file"
        );
    }
}
