//! # memtide-sampler
//!
//! Reads per-process and system memory straight from the kernel, cheaply enough to run at
//! sub-second intervals for hours, and without ever spawning a subprocess. It is the part of
//! [memtide](https://github.com/memtide/memtide) that other Rust tools can embed.
//!
//! ```
//! use memtide_sampler::{ProcessSelector, Sampler};
//!
//! # fn main() -> Result<(), memtide_sampler::Error> {
//! // Follow every Ollama process (serve, runners, their children).
//! let mut sampler = Sampler::new(ProcessSelector::Ollama)?;
//! for _ in 0..3 {
//!     let tick = sampler.tick()?;
//!     println!("free: {:?} %", tick.system.free_percent);
//!     for p in tick.processes {
//!         println!("{} {}: rss {} B, footprint {:?} B", p.id.pid, p.name, p.rss_bytes, p.footprint_bytes);
//!     }
//!     for gone in tick.exited {
//!         println!("{gone} exited");
//!     }
//!     std::thread::sleep(std::time::Duration::from_millis(100));
//! }
//! # Ok(())
//! # }
//! ```
//!
//! A [`Sampler`] follows the processes a [`ProcessSelector`] picks: by name or command line, by
//! PID, by descent from a PID (children born later included), or all. Each call to
//! [`Sampler::tick`] reads the system and every followed process once and says which processes
//! started and which exited since the last tick. A process is known by its [`ProcessId`],
//! PID *and* start time, so a reused PID is a new process.
//!
//! ## Platform support
//!
//! - **Linux**: `/proc`. Each followed process's `status` file and the system's `meminfo`,
//!   `pressure/memory` are opened once and re-read from offset 0 on every tick; `vmstat`'s
//!   cumulative counters at most once a second.
//!   Pressure levels are derived from PSI (see [`procfs::pressure_from_psi`]).
//! - **macOS**: `proc_listallpids` and one `proc_pid_rusage` per followed process per tick;
//!   `sysctl` for the counters that are cheap and fresh (free and purgeable pages, the
//!   compressor's payload, free %, pressure level, swap); and `host_statistics64` at most once
//!   a second for the page queues, anonymous and file-backed pages, the compressor's size and
//!   the cumulative counters, because the kernel rate-limits it (see
//!   [`SystemSample::stats_age`]). `PROC_PIDTBSDINFO` and `KERN_PROCARGS2` once per process.
//!   The decoders ([`darwin`]) are tested on every OS.
//! - **Other OSes**: the `sysinfo` crate, with fewer fields (the rest are `None`).
//!
//! A field an OS does not have is `None`; `docs/metrics.md` in the repository lists every
//! field's source on each OS, its unit, and the privileges it needs. The parsers and decoders
//! for each OS's raw data ([`procfs`], [`darwin`]) are plain functions that compile and are tested
//! everywhere.
//!
//! ## Overhead
//!
//! A new process is judged from its cheapest record first (Linux: `stat`; macOS:
//! `PROC_PIDTBSDINFO`): its parent, group and kernel name decide for the Ollama selection and
//! for selections by PID or tree; a command line is read only when a pattern needs it, and for
//! the processes followed. A process first seen less than 250 ms after its start may have
//! been listed between its fork and its `exec`: it is looked at again about six times in its
//! first two seconds, by its name alone under the Ollama selection. Under a selection
//! by pattern, the short names of the known, unfollowed processes are compared with what they
//! were every five seconds, so that one that calls `exec` later, a launch wrapper, is judged
//! again ([`Sampler::set_exec_check_interval`]). None of these looks lists the process table.
//! Listing PIDs and reading
//! the followed processes reuse the same buffers and open files, so once the set of processes
//! is stable a tick allocates nothing (apart from the reference counts of process names). On
//! Linux a tick of ten processes costs about 1.2 times the bare kernel reads ([`Floor`]);
//! `docs/benchmarks.md` in the repository has the numbers. Listing the process table is the
//! largest fixed cost of a tick: [`Sampler::set_discovery_interval`] spaces it out, and on
//! Linux a due listing is skipped when no process was created since the last one (the last PID
//! of `/proc/loadavg`; [`Sampler::skipped_listings`] counts them).
//!
//! ## Errors
//!
//! Every error is an [`Error`], classified by what to do about it: [`Error::ProcessGone`] is
//! the normal end of a process's series; [`Error::PermissionDenied`] says how to get access;
//! [`Error::Unsupported`] means the OS lacks the thing; [`Error::Io`] names the file. A failed
//! read is never reported as a zero. Inside a tick, a followed process that ends is listed in
//! [`Tick::exited`], and one that cannot be read in [`Tick::failures`], once.

#![deny(missing_docs)]
// Unsafe code lives only in each OS backend's `ffi` module, which allows it.
#![deny(unsafe_code)]

pub mod darwin;
mod error;
pub mod pressure;
pub mod procfs;
mod sampler;
mod selector;
mod types;
mod usage;

pub use error::{Error, ProcessFailure, Result};
pub use sampler::{Tick, WEIGHTS_MAX_AGE, WEIGHTS_MIN_INTERVAL};
pub use selector::ProcessSelector;
pub use types::{
    HostInfo, PressureLevel, ProcessId, ProcessInfo, ProcessSample, SystemSample, TickTime,
};
pub use usage::{children_usage, own_usage, ChildrenUsage, OwnUsage, Usage};

use std::sync::Arc;

// The one place that picks the OS backend.
#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
use linux::{
    own_rss as os_own_rss, pressure_watch as os_pressure_watch, rusage as os_rusage,
    Floor as OsFloor, Linux as Os,
};

#[cfg(target_os = "macos")]
mod macos;
#[cfg(target_os = "macos")]
use macos::{
    own_rss as os_own_rss, pressure_watch as os_pressure_watch, rusage as os_rusage,
    Floor as OsFloor, Macos as Os,
};

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
mod fallback;
#[cfg(not(any(target_os = "linux", target_os = "macos")))]
use fallback::{
    own_rss as os_own_rss, pressure_watch as os_pressure_watch, rusage as os_rusage,
    Fallback as Os, Floor as OsFloor,
};

/// Samples system memory and the memory of selected processes.
///
/// Create one, then call [`Sampler::tick`] at the interval you want. It keeps files and
/// buffers open between ticks, so keep it rather than making a new one each time.
pub struct Sampler {
    core: sampler::Core<Os>,
}

impl Sampler {
    /// A sampler following the processes `selector` picks. Fails if the OS's memory
    /// interfaces cannot be opened (for example `/proc` is not mounted).
    pub fn new(selector: ProcessSelector) -> Result<Sampler> {
        Ok(Sampler {
            core: sampler::Core::new(Os::new()?, selector),
        })
    }

    /// Facts about this machine: OS, architecture, RAM, page size.
    pub fn host(&self) -> &HostInfo {
        self.core.host()
    }

    /// The selector this sampler was made with.
    pub fn selector(&self) -> &ProcessSelector {
        self.core.selector()
    }

    /// Takes one sample of the system and of every followed process, finding processes that
    /// started or exited since the last tick. The result borrows the sampler's buffers until
    /// the next call.
    pub fn tick(&mut self) -> Result<Tick<'_>> {
        self.core.tick()
    }

    /// Reads system memory alone.
    pub fn system(&mut self) -> Result<SystemSample> {
        self.core.system()
    }

    /// Reads one process once, whether the selector picks it or not, with its command line.
    /// An exited process gives [`Error::ProcessGone`].
    pub fn inspect(&mut self, pid: u32) -> Result<(ProcessSample, ProcessInfo)> {
        self.core.sample_pid(pid)
    }

    /// Listings of the process table skipped because no process was created since the last
    /// one (Linux; always 0 elsewhere).
    pub fn skipped_listings(&self) -> u64 {
        self.core.skipped_listings()
    }

    /// Counts, from the next tick on, how much of `file` (a runner's model file) the followed
    /// process `pid` holds resident through its mappings of it, into
    /// [`ProcessSample::weights_resident_bytes`]. [`Error::ProcessGone`] when no followed
    /// process has that PID; [`Error::Unsupported`] where the OS gives no such count; an I/O
    /// error when the file cannot be found (its device and inode identify its mappings).
    pub fn watch_weights(&mut self, pid: u32, file: &std::path::Path) -> Result<()> {
        self.core.watch_weights(pid, file)
    }

    /// Processes judged against the selector so far: each PID met for the first time, and
    /// each known process judged again because it may have called `exec` (young, or found
    /// with a new name). Each reads the process's identity, and is the only work of a tick
    /// that allocates; a tick that judges nothing allocates nothing.
    pub fn processes_judged(&self) -> u64 {
        self.core.processes_judged()
    }

    /// Lists the process table (to find processes that started) at most once per `interval`
    /// instead of every tick. Followed processes are still read every tick, and their exits
    /// seen at once; a new process is found up to `interval` late. Listing is a large part of
    /// a tick's cost when few processes are followed (on Linux the kernel builds the `/proc`
    /// directory afresh on every read).
    pub fn set_discovery_interval(&mut self, interval: std::time::Duration) {
        self.core.set_discovery_interval(interval);
    }

    /// How often, under a selection by pattern ([`ProcessSelector::Match`]), processes that
    /// are known but not followed are asked whether they called `exec` since they were judged
    /// (by their short name), so that one that becomes a match long after it started, or that
    /// was there before sampling began, is followed within `interval` of its exec. Default
    /// 5 s, for every such process whatever its age; each check is one small read per
    /// process. Other selections make no such check (see [`ProcessSelector::Ollama`]).
    pub fn set_exec_check_interval(&mut self, interval: std::time::Duration) {
        self.core.set_exec_check_interval(interval);
    }

    /// Follows `root` and all its descendants (those born later too) from the next tick on,
    /// besides what the selector already chooses: for a front-end that starts a command and
    /// wants its process tree. The next tick lists the process table at once.
    pub fn follow_tree(&mut self, root: u32) {
        self.core.follow_tree(root);
    }

    /// Follows, from the next tick on and besides what the selector already chooses, the
    /// processes of process group `pgid` started at `since_us` or later, and their
    /// descendants ([`ProcessSelector::GroupOf`]): for a front-end that starts a command where
    /// the OS re-parents what the command leaves behind to init (macOS has no subreaper), so
    /// that a daemon the command starts and leaves is still found by its group. Take
    /// `since_us` from [`Sampler::start_time_now`] before the command starts.
    pub fn follow_group(&mut self, pgid: u32, since_us: u64) {
        self.core.follow_group(pgid, since_us);
    }

    /// Now, on the clock and in the resolution of process start times
    /// ([`ProcessId::start_time_us`]: the wall clock in microseconds on macOS; on Linux the
    /// boot time plus `CLOCK_BOOTTIME` in clock ticks, as `/proc/[pid]/stat` counts): every
    /// process started after this call has a start time at least this.
    pub fn start_time_now(&mut self) -> u64 {
        self.core.start_time_now()
    }

    /// CPU time (user and system) the process has used since it started, all its threads
    /// together (Linux: the sum of `/proc/[pid]/task/*/schedstat`, which leaves out threads
    /// that have ended; macOS: `proc_pid_rusage`, which counts them). For this process itself,
    /// [`own_usage`] counts ended threads on every OS.
    pub fn cpu_time(&mut self, pid: u32) -> Result<std::time::Duration> {
        self.core.cpu_time(pid)
    }

    /// The processes followed now, in the order they were first seen.
    pub fn followed(&self) -> impl Iterator<Item = &Arc<ProcessInfo>> {
        self.core.followed()
    }
}

/// The floor a tick is measured against: the same kernel reads as a tick of a sampler that
/// follows `pids` (listing the process table, each process's memory, the system's counters),
/// from handles kept open, with no parsing and no bookkeeping. For benchmarks: the ratio of a
/// tick to [`Floor::read`] is memtide's own overhead.
pub struct Floor(OsFloor);

impl Floor {
    /// Opens what the reads need. [`Error::Unsupported`] on OSes served by sysinfo.
    pub fn new(pids: &[u32]) -> Result<Floor> {
        Ok(Floor(OsFloor::new(pids)?))
    }

    /// The cheapest reads the OS offers for the same figures (Linux: `statm` of each process
    /// and `meminfo`; macOS: `proc_pid_rusage` of each and `kern.memorystatus_level`), every
    /// round: a second, lower floor, under which no sampler of these figures can go.
    pub fn cheapest(pids: &[u32]) -> Result<Floor> {
        Ok(Floor(OsFloor::cheapest(pids)?))
    }

    /// One round of reads; returns a number derived from what was read, so that a benchmark
    /// cannot optimise the reads away.
    pub fn read(&mut self) -> Result<u64> {
        self.0.read()
    }
}
