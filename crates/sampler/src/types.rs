//! The samples the sampler produces. These types are the same on every OS: a metric an OS does
//! not have is `None`, never `0` and never a missing field. `docs/metrics.md` lists, for every
//! field, where each OS reads it, its unit and the privileges it needs.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// The identity of a process: its PID together with its start time.
///
/// PIDs are reused by the kernel; a process that gets the PID of one that exited is a *new*
/// process, with a new start time, and so a new `ProcessId`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProcessId {
    /// The process ID.
    pub pid: u32,
    /// When the process started, in microseconds since the Unix epoch (UTC).
    ///
    /// macOS: `pbi_start_tvsec`/`pbi_start_tvusec` from `PROC_PIDTBSDINFO`, exact to the
    /// microsecond; for another user's process, which `PROC_PIDTBSDINFO` refuses, the same
    /// kernel field (`p_start`) read through the `KERN_PROC_PID` sysctl, which any user may
    /// read. Linux: the boot time from `/proc/stat` (`btime`, whole seconds, read once per
    /// sampler) plus field 22 of `/proc/[pid]/stat` (clock ticks since boot), so it is exact
    /// *relative to other processes of the same sampler*, and within about a second as a wall
    /// clock time. Its resolution is one clock tick (10 ms at the usual 100 Hz), so two
    /// processes would share an identity only if the kernel handed the same PID out twice
    /// within 10 ms, which takes a full wrap of the PID space (`pid_max`, 4 194 304 on 64-bit
    /// systems) in that time.
    pub start_time_us: u64,
}

impl fmt::Display for ProcessId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pid {} (started {} µs)", self.pid, self.start_time_us)
    }
}

/// The memory pressure level, in the three steps macOS reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PressureLevel {
    /// No pressure: macOS level 1; Linux PSI below [`crate::procfs::PSI_WARNING_SOME_AVG10`].
    Normal,
    /// The system is reclaiming memory hard: macOS level 2 (yellow in Activity Monitor).
    Warning,
    /// The system is thrashing or about to kill processes: macOS level 4 (red).
    Critical,
}

impl PressureLevel {
    /// The lowercase name used in files and reports: `normal`, `warning` or `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            PressureLevel::Normal => "normal",
            PressureLevel::Warning => "warning",
            PressureLevel::Critical => "critical",
        }
    }
}

impl fmt::Display for PressureLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// System-wide memory at one instant. Every byte value is in bytes.
///
/// The page-queue fields and cumulative counters are read on macOS from `host_statistics64`,
/// which the kernel rate-limits; [`SystemSample::stats_age`] says how old they are.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct SystemSample {
    /// Physical memory installed (macOS `hw.memsize`; Linux `MemTotal`).
    pub total_bytes: u64,
    /// Memory nobody uses (macOS `vm.page_free_count`, the `vm_stat` "Pages free" figure, which
    /// excludes speculative pages; Linux `MemFree`).
    pub free_bytes: Option<u64>,
    /// Memory that can be given to a new allocation without compressing or swapping (Linux
    /// `MemAvailable`; macOS free + file-backed + purgeable pages, see `docs/metrics.md`).
    pub available_bytes: Option<u64>,
    /// Pages on the active queue.
    pub active_bytes: Option<u64>,
    /// Pages on the inactive queue.
    pub inactive_bytes: Option<u64>,
    /// macOS speculative (read-ahead) pages, which the kernel counts as free. Linux: `None`.
    pub speculative_bytes: Option<u64>,
    /// Memory that cannot be paged out. macOS: wired pages, which on macOS include the
    /// throttled queue and Metal/GPU allocations. Linux: `Unevictable` (mlocked and ramfs
    /// pages); kernel allocations are not in it.
    pub wired_bytes: Option<u64>,
    /// macOS volatile purgeable pages, which the kernel may drop at any time. Linux: `None`.
    pub purgeable_bytes: Option<u64>,
    /// Physical memory the compressor occupies. macOS: "Pages occupied by compressor" ×
    /// page size, `compressor_page_count` of `host_statistics64` (the figure `vm_stat` and
    /// `top` print and Activity Monitor calls "Compressed"). Linux: `Zswap`, the zswap pool
    /// size.
    pub compressor_bytes: Option<u64>,
    /// macOS: the compressed data alone inside the compressor (`vm.compressor_bytes_used`, read
    /// every tick), below [`SystemSample::compressor_bytes`] by the segments' fragmentation.
    /// Linux: `None`.
    pub compressor_payload_bytes: Option<u64>,
    /// Logical size of what is stored compressed (macOS "Pages stored in compressor"; Linux
    /// `Zswapped`).
    pub compressed_bytes: Option<u64>,
    /// File-backed pageable pages (macOS `external_page_count` of `host_statistics64`,
    /// `vm_stat`'s "File-backed pages"; Linux `Active(file) + Inactive(file)`).
    pub file_backed_bytes: Option<u64>,
    /// Anonymous pageable pages (macOS `internal_page_count` of `host_statistics64`,
    /// `vm_stat`'s "Anonymous pages"; Linux `Active(anon) + Inactive(anon)`). On macOS
    /// file-backed + anonymous = active + inactive + speculative in every sample.
    pub anonymous_bytes: Option<u64>,
    /// Swap space that exists (macOS grows and shrinks it with swap files).
    pub swap_total_bytes: Option<u64>,
    /// Swap space in use.
    pub swap_used_bytes: Option<u64>,
    /// Cumulative bytes paged in from files since boot (macOS pageins × page size; Linux
    /// `pgpgin`, KiB read from block devices, × 1024).
    pub pageins_bytes: Option<u64>,
    /// Cumulative bytes paged out to files since boot (macOS pageouts; Linux `pgpgout`).
    pub pageouts_bytes: Option<u64>,
    /// Cumulative bytes swapped in since boot (macOS swapins; Linux `pswpin` pages).
    pub swapins_bytes: Option<u64>,
    /// Cumulative bytes swapped out since boot (macOS swapouts; Linux `pswpout` pages).
    pub swapouts_bytes: Option<u64>,
    /// Cumulative bytes (uncompressed size) put into the compressor since boot (macOS
    /// compressions; Linux `zswpout` pages).
    pub compressions_bytes: Option<u64>,
    /// Cumulative bytes (uncompressed size) taken out of the compressor since boot (macOS
    /// decompressions; Linux `zswpin` pages).
    pub decompressions_bytes: Option<u64>,
    /// Percentage of memory free, 0–100. macOS: `kern.memorystatus_level`, the figure
    /// `memory_pressure` prints as "System-wide memory free percentage". Linux:
    /// `MemAvailable / MemTotal × 100`.
    pub free_percent: Option<f64>,
    /// The pressure level. macOS: `kern.memorystatus_vm_pressure_level`. Linux: derived from
    /// PSI, see [`crate::procfs::pressure_from_psi`]; `None` without PSI.
    pub pressure: Option<PressureLevel>,
    /// Linux PSI: percentage of the last 10 s in which at least one task stalled on memory.
    pub psi_some_avg10: Option<f64>,
    /// Linux PSI: percentage of the last 10 s in which all non-idle tasks stalled on memory.
    pub psi_full_avg10: Option<f64>,
    /// Linux PSI: cumulative time at least one task stalled on memory, in microseconds.
    pub psi_some_total_us: Option<u64>,
    /// Linux PSI: cumulative time all non-idle tasks stalled on memory, in microseconds.
    pub psi_full_total_us: Option<u64>,
    /// How long ago the cumulative counters (and, on macOS, the page-queue fields: active,
    /// inactive, speculative, wired, anonymous, file-backed, compressor) were read fresh from
    /// the kernel; zero when they were read for this sample. macOS reads them with
    /// `host_statistics64` at most once per second; Linux reads `/proc/vmstat`, its costliest
    /// file, at most once per second too. Between reads they carry the last fresh values,
    /// with this age.
    ///
    /// On macOS this is a lower bound: the kernel rate-limits `host_statistics64` with one
    /// window, one budget of fresh answers and one cached copy shared by *every* process that
    /// is not an Apple platform binary (`osfmk/kern/host.c`, `rate_limit_host_statistics`).
    /// When another monitor polls too, an answer memtide takes as fresh can be the copy that
    /// monitor caused, up to about a second older than stated here.
    pub stats_age: Duration,
}

/// One process's memory at one instant. Every byte value is in bytes.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ProcessSample {
    /// Who this is.
    pub id: ProcessId,
    /// The parent's PID. Linux: read every tick (it changes when the parent exits and the
    /// process is re-parented). macOS: as it was when the process was first seen.
    pub ppid: u32,
    /// The short name the kernel keeps. macOS: `pbi_name` (up to 31 bytes), or `pbi_comm` (up
    /// to 16) when the name is empty or the process is another user's. Linux: `comm`,
    /// truncated to 15 bytes (e.g. `ollama_llama_se`).
    pub name: Arc<str>,
    /// Resident set size: pages of this process in RAM, shared and file-backed ones included.
    /// macOS `ri_resident_size`; Linux `statm`'s resident (`VmRSS`), every tick.
    pub rss_bytes: u64,
    /// What the process costs the system: its dirty private memory, compressed or swapped
    /// parts included. macOS `ri_phys_footprint` (Activity Monitor's "Memory" column; includes
    /// Metal buffers). Linux `RssAnon + RssShmem + VmSwap`: `RssAnon` from `statm` at every
    /// tick, the other two from `status` (see [`ProcessSample::status_age`]).
    pub footprint_bytes: Option<u64>,
    /// Highest footprint since the process started (macOS `ri_lifetime_max_phys_footprint`).
    /// Linux: `None` (the kernel keeps no such peak).
    pub peak_footprint_bytes: Option<u64>,
    /// Highest RSS since the process started (Linux `VmHWM`). macOS: `None`.
    pub peak_rss_bytes: Option<u64>,
    /// Virtual address space size (Linux `VmSize`). macOS: `None`; see `docs/metrics.md`.
    pub virtual_bytes: Option<u64>,
    /// Memory wired for this process (macOS `ri_wired_size`; Linux `VmLck`, mlocked pages).
    pub wired_bytes: Option<u64>,
    /// Memory of this process in swap (Linux `VmSwap`). macOS: `None` (compressed and swapped
    /// pages are inside the footprint and not reported apart).
    pub swapped_bytes: Option<u64>,
    /// The file-backed part of the RSS: pages of mapped files in RAM (an `mmap`ped model's
    /// weights), which the OS can drop and read again from disk. Linux `RssFile`. macOS: `None`
    /// (`proc_pid_rusage` gives resident size and footprint but no file-backed split; their
    /// difference is the nearest figure).
    pub rss_file_bytes: Option<u64>,
    /// Resident pages of the process's mappings of its model file (a runner's weights), once
    /// the caller has named that file with [`crate::Sampler::watch_weights`]; `None` before,
    /// and where it cannot be read. Linux: the pages of those mappings present in the process's
    /// page tables (`/proc/[pid]/pagemap` over the ranges `/proc/[pid]/maps` gives for the
    /// file's device and inode). macOS: `pri_pages_resident` of each region that maps the file
    /// (`proc_pidinfo(PROC_PIDREGIONPATHINFO)`): its pages in RAM, those wired for the GPU
    /// included. Counting costs time in proportion to the file's size, so it is read again only
    /// when the process's memory changed (Linux: its file-backed part), at most once per
    /// [`crate::WEIGHTS_MIN_INTERVAL`], and at least once per [`crate::WEIGHTS_MAX_AGE`];
    /// between reads it is the last one.
    pub weights_resident_bytes: Option<u64>,
    /// How old the fields read from a slower source are: on Linux `status` (swap, shared
    /// memory, the peak, the locked and file-backed parts), read at most once a second while
    /// `statm` gives RSS and the anonymous part every tick. `None` where every field is read
    /// every tick (macOS).
    pub status_age: Option<std::time::Duration>,
}

impl ProcessSample {
    /// An empty sample for `id` (every byte count 0 or absent), to be filled by a backend, or
    /// by a test with the fields it needs.
    pub fn empty(id: ProcessId, ppid: u32, name: Arc<str>) -> ProcessSample {
        ProcessSample {
            id,
            ppid,
            name,
            rss_bytes: 0,
            footprint_bytes: None,
            peak_footprint_bytes: None,
            peak_rss_bytes: None,
            virtual_bytes: None,
            wired_bytes: None,
            swapped_bytes: None,
            rss_file_bytes: None,
            weights_resident_bytes: None,
            status_age: None,
        }
    }
}

/// What the sampler knows of a process that does not change while it lives. Read once per
/// identity (the command line is never read again on later ticks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessInfo {
    /// Who this is.
    pub id: ProcessId,
    /// The parent's PID when the process was first seen.
    pub ppid: u32,
    /// The kernel's short name (see [`ProcessSample::name`]).
    pub name: Arc<str>,
    /// The executable's path, where the OS tells it (macOS: the path `KERN_PROCARGS2` starts
    /// with; Linux: the `/proc/[pid]/exe` link, which needs the same privileges as `ptrace`).
    pub exe: Option<String>,
    /// The full argument vector. Empty when the OS would not give it (another user's process
    /// on macOS, a kernel thread or zombie on Linux).
    pub argv: Vec<String>,
}

impl ProcessInfo {
    /// The command line joined with spaces, for display and for pattern matching.
    pub fn command_line(&self) -> String {
        self.argv.join(" ")
    }
}

/// Facts about the host that hold for the life of the sampler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostInfo {
    /// `linux`, `macos`, or whatever `std::env::consts::OS` says.
    pub os: &'static str,
    /// The kernel or OS release (Linux `/proc/sys/kernel/osrelease`; macOS `kern.osproductversion`).
    pub os_version: Option<String>,
    /// `x86_64`, `aarch64`, ...
    pub arch: &'static str,
    /// Physical memory, in bytes.
    pub total_memory_bytes: u64,
    /// The VM page size, in bytes (16384 on Apple Silicon, 4096 on most others); `None`
    /// where the backend cannot tell.
    pub page_size_bytes: Option<u64>,
    /// Apple Silicon: the limit on memory the GPU may wire, from `iogpu.wired_limit_mb`, in
    /// bytes. `Some(0)` means the system's default (a share of RAM macOS chooses, which
    /// Metal reports as `recommendedMaxWorkingSetSize`); a user raises it with `sudo sysctl iogpu.wired_limit_mb=N` to fit larger models.
    /// `None` where the sysctl does not exist (Intel Macs, macOS before 14, other OSes).
    pub gpu_wired_limit_bytes: Option<u64>,
}

/// When a tick was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TickTime {
    /// Wall clock time, taken at the start of the tick.
    pub wall: SystemTime,
    /// Monotonic time since the sampler was created.
    pub elapsed: Duration,
}

/// `getrusage`'s figures as the kernel gave them: times as (seconds, microseconds) and the
/// largest resident set in units of `max_rss_unit` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Raw {
    pub(crate) user: (i64, i64),
    pub(crate) system: (i64, i64),
    pub(crate) max_rss: i64,
    pub(crate) max_rss_unit: u64,
}

/// Whose usage `getrusage` is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Who {
    /// `RUSAGE_SELF`: this process, every thread.
    Itself,
    /// `RUSAGE_CHILDREN`: the children it has waited for.
    Children,
}

impl Who {
    /// The call, as an error names it.
    pub(crate) fn call(self) -> &'static str {
        match self {
            Who::Itself => "getrusage(RUSAGE_SELF)",
            Who::Children => "getrusage(RUSAGE_CHILDREN)",
        }
    }
}
