//! The Linux backend: `/proc`, with the files of followed processes and of the system kept open
//! and re-read from offset 0 on every tick (`pread`), into buffers that are reused.

#[allow(unsafe_code)]
pub(crate) mod ffi;
mod pressure;

pub(crate) use pressure::pressure_watch;

use crate::error::{Error, Result};
use crate::procfs;
use crate::sampler::{Backend, Identity};
use crate::types::{HostInfo, ProcessId, ProcessSample, SystemSample};
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const PERMISSION_HINT: &str =
    "run memtide as the user that runs the process (for Ollama's systemd service, `ollama`), or with sudo";

/// A file opened once and re-read from the start on every tick; or, past the budget of kept
/// descriptors, opened again for each read.
struct Kept {
    file: Option<File>,
    path: PathBuf,
    /// Its place in the budget, given back when it is dropped.
    _slot: Option<Slot>,
}

/// How many process files memtide keeps open, against half its descriptor limit: the other
/// half is for the trace, the system's files, the exporter's connections. A process followed
/// past it is read by path instead, a few more system calls per tick, rather than not at all.
#[derive(Debug, Clone)]
struct Budget {
    open: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    max: usize,
}

/// One kept descriptor of the budget.
#[derive(Debug)]
struct Slot(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Budget {
    fn new(max: usize) -> Budget {
        Budget {
            open: Default::default(),
            max,
        }
    }

    fn take(&self) -> Option<Slot> {
        use std::sync::atomic::Ordering::Relaxed;
        let before = self.open.fetch_add(1, Relaxed);
        if before >= self.max {
            self.open.fetch_sub(1, Relaxed);
            return None;
        }
        Some(Slot(self.open.clone()))
    }
}

impl Kept {
    fn open(path: PathBuf) -> io::Result<Kept> {
        Ok(Kept {
            file: Some(File::open(&path)?),
            path,
            _slot: None,
        })
    }

    /// A process's file: kept open while the budget has room; opened here either way, so that
    /// a process that cannot be read is found out now.
    fn open_within(path: PathBuf, budget: &Budget) -> io::Result<Kept> {
        let file = File::open(&path)?;
        let slot = budget.take();
        Ok(Kept {
            file: slot.is_some().then_some(file),
            path,
            _slot: slot,
        })
    }

    /// Whether the file is kept open (`false`: read by path).
    fn kept(&self) -> bool {
        self.file.is_some()
    }

    /// Reads the whole file into `buf` (grown when a read fills it) and returns the text.
    fn read<'b>(&self, buf: &'b mut Vec<u8>) -> io::Result<&'b str> {
        if buf.len() < READ_BUFFER_BYTES {
            buf.resize(READ_BUFFER_BYTES, 0);
        }
        let reopened;
        let file = match &self.file {
            Some(f) => f,
            None => {
                reopened = File::open(&self.path)?;
                &reopened
            }
        };
        loop {
            let n = file.read_at(buf, 0)?;
            if n < buf.len() {
                // These files are ASCII but for process names, which may hold any byte; a name
                // that is not UTF-8 is rare enough to fail the read rather than allocate.
                return std::str::from_utf8(&buf[..n])
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e));
            }
            let grown = buf.len() * 2;
            buf.resize(grown, 0);
        }
    }
}

/// The size of a read buffer from its first use: four times `/proc/vmstat` (about 4 KiB on
/// Linux 6, the largest file read at every sample), so that counters gaining digits over
/// months of recording never make a sample grow it (a sample allocates nothing once running).
const READ_BUFFER_BYTES: usize = 16 * 1024;

/// Turns an I/O error on a process's file into the error the caller should act on.
fn process_error(pid: u32, what: &'static str, path: PathBuf, e: io::Error) -> Error {
    match (e.kind(), e.raw_os_error()) {
        (io::ErrorKind::NotFound, _) | (_, Some(libc::ESRCH)) => Error::ProcessGone { pid },
        (_, Some(libc::EMFILE | libc::ENFILE)) => Error::OutOfDescriptors { pid, call: what },
        (io::ErrorKind::PermissionDenied, _) => Error::PermissionDenied {
            pid,
            call: what,
            owner: owner_of(pid),
            hint: PERMISSION_HINT,
        },
        _ => Error::Io { path, error: e },
    }
}

/// Who runs `pid`: the owner of its `/proc` directory, named from `/etc/passwd` where it is
/// listed there (users from a directory service show as `uid N`).
fn owner_of(pid: u32) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata(format!("/proc/{pid}")).ok()?.uid();
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    Some(procfs::user_name(&passwd, uid).map_or_else(|| format!("uid {uid}"), str::to_owned))
}

fn system_error(path: &str, e: io::Error) -> Error {
    Error::Io {
        path: path.into(),
        error: e,
    }
}

fn proc_path(pid: u32, file: &str) -> PathBuf {
    PathBuf::from(format!("/proc/{pid}/{file}"))
}

pub(crate) struct Linux {
    host: HostInfo,
    page_size: u64,
    boot_time_s: u64,
    ticks_per_s: u64,
    proc_dir: ffi::ProcDir,
    meminfo: Kept,
    vmstat: Kept,
    /// `None` on kernels without PSI.
    psi: Option<Kept>,
    /// `/proc/loadavg`, for the last PID allocated (see [`Backend::creation_marker`]); `None`
    /// where it cannot be opened.
    loadavg: Option<Kept>,
    buf: Vec<u8>,
    buf2: Vec<u8>,
    /// The address ranges of a model file's mappings, and a chunk of `pagemap`: reused.
    ranges: Vec<(u64, u64)>,
    chunk: Vec<u8>,
    /// The path of a `/proc/[pid]/stat` being read, reused so that the exec check does not
    /// allocate.
    path: String,
    /// The last `/proc/vmstat` reading and when it was taken.
    counters: Option<(procfs::Vmstat, Instant)>,
    /// The process files kept open, against half the descriptor limit.
    budget: Budget,
}

/// How often `/proc/vmstat` is read. It holds only the cumulative counters (pages in and out,
/// swapped, through zswap), which serve rates over seconds; and it is the costliest file of a
/// tick (about 170 counters, each computed on every read: 22 µs here against 5 µs for
/// `meminfo`). Between reads its fields keep their values, with their age in
/// `SystemSample::stats_age`.
pub(crate) const COUNTERS_INTERVAL: Duration = Duration::from_secs(1);

/// How often a followed process's `status` is read; `statm` is read every tick.
///
/// `statm` is seven counters (fs/proc/task_mmu.c `task_statm`); `status` is some fifty lines
/// the kernel formats on every read, signal masks and CPU lists among them, for the few values
/// `statm` lacks: shared memory, swap, the peak RSS, locked memory. Generating `status` cost
/// about 8 times what `statm` does here (docs/benchmarks.md), and swap and shared memory move
/// slowly next to a runner's anonymous memory, which `statm` gives at every tick.
pub(crate) const STATUS_INTERVAL: Duration = Duration::from_secs(1);

/// `status` is read again before [`STATUS_INTERVAL`] when the RSS moved by more than this since
/// it was last read: a load or a release under way, when swap and shared memory may move too.
pub(crate) const STATUS_REFRESH_BYTES: u64 = 64 << 20;

/// What `status` gives that `statm` does not, and when it was read.
#[derive(Debug, Clone, Copy)]
struct Slow {
    ppid: Option<u32>,
    shmem: Option<u64>,
    swap: Option<u64>,
    hwm: Option<u64>,
    lck: Option<u64>,
    rss_file: Option<u64>,
    /// `statm`'s resident bytes when it was read.
    resident_at: u64,
    read_at: Instant,
}

/// The handle of a followed process: its `statm` and `status` files, kept open. An open file
/// belongs to the process, not to the PID: once the process is reaped, reads fail with `ESRCH`
/// even if the PID has been given to another process.
pub(crate) struct Handle {
    pid: u32,
    /// Its start time: a handle read by path checks that the PID is still its process.
    start_time_us: u64,
    statm: Kept,
    status: Kept,
    slow: Option<Slow>,
    weights: Option<Weights>,
}

/// A followed process's model file, whose pages resident in the process's mappings of it are
/// counted (see `ProcessSample::weights_resident_bytes`).
struct Weights {
    /// The file's device and inode, as `/proc/[pid]/maps` shows them.
    major: u32,
    minor: u32,
    inode: u64,
    maps: Kept,
    pagemap: File,
    /// The last count, against `statm`'s file-backed and shared part: the weights can only
    /// have moved if it did.
    count: crate::sampler::WeightsCount,
}

/// What one read of `/proc/[pid]/pagemap` takes: 8 bytes per page, 32 MiB of mapping.
const PAGEMAP_CHUNK: usize = 64 * 1024;

/// Pages of a file (its device and inode) present in a process's mappings of it: the ranges
/// from its `maps`, then
/// their `pagemap` entries, a chunk at a time into `chunk`.
fn count_weights(
    (maps, pagemap, major, minor, inode): (&Kept, &File, u32, u32, u64),
    page: u64,
    text_buf: &mut Vec<u8>,
    ranges: &mut Vec<(u64, u64)>,
    chunk: &mut Vec<u8>,
) -> io::Result<u64> {
    let text = maps.read(text_buf)?;
    ranges.clear();
    ranges.extend(procfs::file_ranges(text, major, minor, inode));
    chunk.resize(PAGEMAP_CHUNK, 0);
    let mut present = 0;
    for &(start, end) in ranges.iter() {
        let (mut at, stop) = (start / page * 8, end / page * 8);
        while at < stop {
            let want = (stop - at).min(PAGEMAP_CHUNK as u64) as usize;
            let got = pagemap.read_at(&mut chunk[..want], at)?;
            if got == 0 {
                break;
            }
            present += procfs::count_present(&chunk[..got]);
            at += got as u64;
        }
    }
    Ok(present * page)
}

impl Linux {
    pub(crate) fn new() -> Result<Linux> {
        let page_size = ffi::page_size().map_err(|e| Error::Os {
            call: "sysconf(_SC_PAGESIZE)",
            code: e.raw_os_error().unwrap_or(0),
        })?;
        let ticks_per_s = ffi::clock_ticks_per_second().map_err(|e| Error::Os {
            call: "sysconf(_SC_CLK_TCK)",
            code: e.raw_os_error().unwrap_or(0),
        })?;
        let stat =
            std::fs::read_to_string("/proc/stat").map_err(|e| system_error("/proc/stat", e))?;
        let boot_time_s = procfs::parse_boot_time(&stat)?;
        let open = |p: &str| Kept::open(p.into()).map_err(|e| system_error(p, e));
        let meminfo = open("/proc/meminfo")?;
        let vmstat = open("/proc/vmstat")?;
        let mut buf = Vec::new();
        // The file exists but fails to read when PSI was disabled at boot (`psi=0`).
        let psi = Kept::open("/proc/pressure/memory".into())
            .ok()
            .filter(|k| k.read(&mut buf).is_ok());
        let total = procfs::parse_meminfo(
            meminfo
                .read(&mut buf)
                .map_err(|e| system_error("/proc/meminfo", e))?,
        )?
        .mem_total
        .unwrap_or(0);
        let os_version = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .ok()
            .map(|s| s.trim().to_owned());
        Ok(Linux {
            host: HostInfo {
                os: std::env::consts::OS,
                os_version,
                arch: std::env::consts::ARCH,
                total_memory_bytes: total,
                page_size_bytes: Some(page_size),
                gpu_wired_limit_bytes: None,
            },
            page_size,
            boot_time_s,
            ticks_per_s,
            proc_dir: ffi::ProcDir::open().map_err(|e| system_error("/proc", e))?,
            meminfo,
            vmstat,
            psi,
            loadavg: Kept::open("/proc/loadavg".into()).ok(),
            buf,
            buf2: Vec::new(),
            ranges: Vec::new(),
            chunk: Vec::new(),
            path: String::with_capacity(32),
            counters: None,
            budget: Budget::new(
                ffi::fd_soft_limit()
                    .map_or(usize::MAX, |n| usize::try_from(n / 2).unwrap_or(usize::MAX)),
            ),
        })
    }

    /// Reads `/proc/[pid]/stat` and calls `f` with it (its name borrows the read buffer).
    fn with_stat<T>(&mut self, pid: u32, f: impl FnOnce(&procfs::Stat<'_>) -> T) -> Result<T> {
        let path = proc_path(pid, "stat");
        let text = Kept::open(path.clone())
            .and_then(|k| k.read(&mut self.buf))
            .map_err(|e| process_error(pid, "/proc/[pid]/stat", path, e))?;
        Ok(f(&procfs::parse_stat(text)?))
    }

    fn read_stat(&mut self, pid: u32) -> Result<Identity> {
        let (boot, tps) = (self.boot_time_s, self.ticks_per_s);
        let (state, ppid, pgid, start, name) = self.with_stat(pid, |s| {
            (s.state, s.ppid, s.pgrp, s.start_ticks, s.comm.to_owned())
        })?;
        if state == 'Z' || state == 'X' {
            // Exited; only the parent's wait() is missing.
            return Err(Error::ProcessGone { pid });
        }
        Ok(Identity {
            start_time_us: procfs::start_time_us(boot, start, tps),
            ppid,
            pgid,
            name,
        })
    }
}

impl Backend for Linux {
    type Handle = Handle;

    fn host(&self) -> &HostInfo {
        &self.host
    }

    fn list_pids(&mut self, out: &mut Vec<u32>) -> Result<()> {
        self.proc_dir
            .pids(out)
            .map_err(|e| system_error("/proc", e))
    }

    fn identify(&mut self, pid: u32) -> Result<Identity> {
        self.read_stat(pid)
    }

    fn name_hash(&mut self, pid: u32) -> Result<u64> {
        use std::fmt::Write as _;
        self.path.clear();
        let _ = write!(self.path, "/proc/{pid}/comm");
        if self.buf.len() < 4096 {
            self.buf.resize(4096, 0);
        }
        // `comm` is the cheapest file that changes at exec: the kernel copies the name out,
        // where `stat` computes some fifty fields. One read of a fresh handle (std opens short
        // paths without allocating).
        let n = File::open(&self.path)
            .and_then(|f| f.read_at(&mut self.buf, 0))
            .map_err(|_| Error::ProcessGone { pid })?;
        Ok(crate::sampler::name_hash(
            procfs::parse_comm(&self.buf[..n]).iter().copied(),
        ))
    }

    fn command_line(&mut self, pid: u32) -> Result<(Option<String>, Vec<String>)> {
        let path = proc_path(pid, "cmdline");
        let bytes =
            std::fs::read(&path).map_err(|e| process_error(pid, "/proc/[pid]/cmdline", path, e))?;
        // The exe link needs ptrace access; without it the path is simply unknown.
        let exe = std::fs::read_link(proc_path(pid, "exe"))
            .ok()
            .map(|p| p.to_string_lossy().into_owned());
        Ok((exe, procfs::parse_cmdline(&bytes)))
    }

    fn arguments(&mut self, pid: u32) -> Result<Vec<String>> {
        use std::fmt::Write as _;
        use std::io::Read as _;
        self.path.clear();
        let _ = write!(self.path, "/proc/{pid}/cmdline");
        let error = |path: &str, e| process_error(pid, "/proc/[pid]/cmdline", path.into(), e);
        // Into the reused buffer, read to its end: no `statx` for a size `/proc` does not
        // know, and no `exe` link, which only a followed process needs.
        let mut f = File::open(&self.path).map_err(|e| error(&self.path, e))?;
        if self.buf.len() < 4096 {
            self.buf.resize(4096, 0);
        }
        let mut len = 0;
        loop {
            if len == self.buf.len() {
                self.buf.resize(len * 2, 0);
            }
            match f.read(&mut self.buf[len..]) {
                Ok(0) => break,
                Ok(n) => len += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(error(&self.path, e)),
            }
        }
        Ok(procfs::parse_cmdline(&self.buf[..len]))
    }

    fn open(&mut self, id: ProcessId) -> Result<Handle> {
        let path = proc_path(id.pid, "status");
        let status = Kept::open_within(path.clone(), &self.budget)
            .map_err(|e| process_error(id.pid, "/proc/[pid]/status", path, e))?;
        let path = proc_path(id.pid, "statm");
        let statm = Kept::open_within(path.clone(), &self.budget)
            .map_err(|e| process_error(id.pid, "/proc/[pid]/statm", path, e))?;
        // The files were opened before this check, so if the PID still has the start time we
        // identified, the open files belong to that process.
        if self.read_stat(id.pid)?.start_time_us != id.start_time_us {
            return Err(Error::ProcessGone { pid: id.pid });
        }
        Ok(Handle {
            pid: id.pid,
            start_time_us: id.start_time_us,
            statm,
            status,
            slow: None,
            weights: None,
        })
    }

    fn read(&mut self, handle: &mut Handle, out: &mut ProcessSample) -> Result<()> {
        let pid = out.id.pid;
        let page = self.page_size;
        // A file read by path belongs to whatever holds the PID now: asked whose it is first.
        if !(handle.statm.kept() && handle.status.kept())
            && self.read_stat(pid)?.start_time_us != handle.start_time_us
        {
            return Err(Error::ProcessGone { pid });
        }
        let m = match handle.statm.read(&mut self.buf) {
            Ok(t) => procfs::parse_statm(t, page)?,
            Err(e) => {
                let path = handle.statm.path.clone();
                return Err(process_error(pid, "/proc/[pid]/statm", path, e));
            }
        };
        // A zombie has no memory left: its statm is all zeros (task_statm is not called
        // without an mm).
        if m.size_bytes == 0 && m.resident_bytes == 0 {
            return Err(Error::ProcessGone { pid });
        }
        let now = Instant::now();
        let due = handle.slow.as_ref().is_none_or(|s| {
            now.duration_since(s.read_at) >= STATUS_INTERVAL
                || m.resident_bytes.abs_diff(s.resident_at) > STATUS_REFRESH_BYTES
        });
        if due {
            let text = match handle.status.read(&mut self.buf) {
                Ok(t) => t,
                Err(e) => {
                    let path = handle.status.path.clone();
                    return Err(process_error(pid, "/proc/[pid]/status", path, e));
                }
            };
            let st = procfs::parse_status(text)?;
            if st.vm_rss.is_none() || st.state == Some('Z') {
                return Err(Error::ProcessGone { pid });
            }
            handle.slow = Some(Slow {
                ppid: st.ppid,
                shmem: st.rss_shmem,
                swap: st.vm_swap,
                hwm: st.vm_hwm,
                lck: st.vm_lck,
                rss_file: st.rss_file,
                resident_at: m.resident_bytes,
                read_at: now,
            });
        }
        let Some(slow) = handle.slow else {
            return Err(Error::ProcessGone { pid });
        };
        if let Some(ppid) = slow.ppid {
            out.ppid = ppid;
        }
        let rss = m.resident_bytes;
        out.rss_bytes = rss;
        // RssAnon from this tick's statm; RssShmem and VmSwap from the last status. Kernels
        // before 4.5 print no RssShmem: then there is no footprint, as before.
        out.footprint_bytes = match (slow.shmem, slow.swap) {
            (Some(shmem), Some(swap)) => Some(m.anon_bytes() + shmem + swap),
            _ => None,
        };
        out.peak_footprint_bytes = None;
        // The peak can only be at least what is resident now.
        out.peak_rss_bytes = slow.hwm.map(|h| h.max(rss));
        out.virtual_bytes = Some(m.size_bytes);
        out.wired_bytes = slow.lck;
        out.swapped_bytes = slow.swap;
        // statm's shared part is RssFile + RssShmem, of this tick.
        out.rss_file_bytes = match slow.shmem {
            Some(shmem) => Some(m.shared_bytes.saturating_sub(shmem)),
            None => slow.rss_file,
        };
        out.status_age = Some(now.duration_since(slow.read_at));
        if let Some(w) = &mut handle.weights {
            let (buf, ranges, chunk) = (&mut self.buf2, &mut self.ranges, &mut self.chunk);
            let file = (&w.maps, &w.pagemap, w.major, w.minor, w.inode);
            out.weights_resident_bytes = w.count.update(now, m.shared_bytes, || {
                count_weights(file, page, buf, ranges, chunk)
            });
        }
        Ok(())
    }

    fn watch_weights(&mut self, handle: &mut Handle, file: &std::path::Path) -> Result<()> {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(file).map_err(|error| Error::Io {
            path: file.to_owned(),
            error,
        })?;
        let pid = handle.pid;
        let maps_path = proc_path(pid, "maps");
        let maps = Kept::open(maps_path.clone())
            .map_err(|e| process_error(pid, "/proc/[pid]/maps", maps_path, e))?;
        let pagemap_path = proc_path(pid, "pagemap");
        let pagemap = File::open(&pagemap_path)
            .map_err(|e| process_error(pid, "/proc/[pid]/pagemap", pagemap_path, e))?;
        handle.weights = Some(Weights {
            major: libc::major(meta.dev()),
            minor: libc::minor(meta.dev()),
            inode: meta.ino(),
            maps,
            pagemap,
            count: crate::sampler::WeightsCount::default(),
        });
        Ok(())
    }

    /// The last PID allocated in this process's PID namespace (`/proc/loadavg`): about 1 µs,
    /// where listing `/proc` costs tens of µs per hundred processes.
    fn creation_marker(&mut self) -> Option<u64> {
        let text = self.loadavg.as_ref()?.read(&mut self.buf2).ok()?;
        procfs::parse_loadavg_last_pid(text).map(u64::from)
    }

    fn start_time_now(&mut self) -> u64 {
        // A start time is the boot-time clock at fork in whole clock ticks (`do_task_stat` in
        // fs/proc/array.c: `nsec_to_clock_t(timens_add_boottime_ns(task->start_boottime))`),
        // so now is counted the same way, rounded down as the kernel rounds.
        let tps = self.ticks_per_s.max(1);
        let ticks = u64::try_from(u128::from(ffi::boottime_ns()) * u128::from(tps) / 1_000_000_000)
            .unwrap_or(u64::MAX);
        procfs::start_time_us(self.boot_time_s, ticks, tps)
    }

    fn cpu_time(&mut self, pid: u32) -> Result<Duration> {
        // `schedstat`'s first field is the time on a CPU in nanoseconds, exact; `stat`'s
        // utime and stime are sampled at clock ticks (10 ms), too coarse for short bursts.
        // The process's own `schedstat` is its main thread's alone: every thread's is summed.
        if let Ok(tasks) = std::fs::read_dir(proc_path(pid, "task")) {
            let mut ns = 0u64;
            let mut any = false;
            for task in tasks.flatten() {
                let Ok(text) = std::fs::read_to_string(task.path().join("schedstat")) else {
                    continue; // a thread that ended meanwhile
                };
                if let Some(n) = procfs::parse_schedstat(&text) {
                    ns = ns.saturating_add(n);
                    any = true;
                }
            }
            if any {
                return Ok(Duration::from_nanos(ns));
            }
        }
        let tps = self.ticks_per_s.max(1);
        let ticks = self.with_stat(pid, |s| s.utime_ticks + s.stime_ticks)?;
        Ok(Duration::from_nanos(
            ticks.saturating_mul(1_000_000_000 / tps),
        ))
    }

    /// Each file that fails leaves its fields empty; the first failure is returned, after
    /// `out` holds what the others gave.
    fn system(&mut self, out: &mut SystemSample) -> Result<()> {
        let mut first: Option<Error> = None;
        let mut note = |e: Error| {
            first.get_or_insert(e);
        };
        let meminfo = self
            .meminfo
            .read(&mut self.buf)
            .map_err(|e| system_error("/proc/meminfo", e))
            .and_then(procfs::parse_meminfo)
            .unwrap_or_else(|e| {
                note(e);
                procfs::Meminfo::default()
            });
        let now = Instant::now();
        let stale = self
            .counters
            .as_ref()
            .is_none_or(|(_, at)| now.duration_since(*at) >= COUNTERS_INTERVAL);
        if stale {
            // A failed read keeps the last counters, whose age then grows.
            match self
                .vmstat
                .read(&mut self.buf2)
                .map_err(|e| system_error("/proc/vmstat", e))
                .and_then(procfs::parse_vmstat)
            {
                Ok(v) => self.counters = Some((v, now)),
                Err(e) => note(e),
            }
        }
        let (vmstat, read_at) = self.counters.unwrap_or((procfs::Vmstat::default(), now));
        let psi = match &self.psi {
            Some(k) => k
                .read(&mut self.buf)
                .map_err(|e| system_error("/proc/pressure/memory", e))
                .and_then(procfs::parse_psi)
                .map_err(&mut note)
                .ok(),
            None => None,
        };
        // A meminfo that failed leaves total_bytes 0; the sampler's core fills in the host's.
        *out = procfs::system_sample(&meminfo, &vmstat, psi.as_ref(), self.page_size);
        out.stats_age = now.duration_since(read_at);
        match first {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// The floor of a tick: the same kernel reads (list `/proc`; `status` of each process;
/// `meminfo` and `pressure/memory`, and `vmstat` once per [`COUNTERS_INTERVAL`]), from files
/// kept open, with no parsing and no bookkeeping. What a tick costs above this is memtide's
/// own work.
pub(crate) struct Floor {
    /// Only `statm` and `meminfo`, every round ([`Floor::cheapest`]).
    cheapest: bool,
    dir: ffi::ProcDir,
    /// Each process's `statm`, read every round.
    statm: Vec<File>,
    /// Each process's `status`, read at most once per [`STATUS_INTERVAL`].
    status: Vec<File>,
    status_at: Option<Instant>,
    /// `meminfo` and `pressure/memory`, every round.
    system: Vec<File>,
    vmstat: File,
    vmstat_at: Option<Instant>,
    loadavg: File,
    last_marker: Option<u32>,
    listed_at: Option<Instant>,
    pids: Vec<u32>,
    buf: Vec<u8>,
}

impl Floor {
    pub(crate) fn new(pids: &[u32]) -> Result<Floor> {
        let open = |pid: u32, file: &'static str| {
            let path = proc_path(pid, file);
            File::open(&path).map_err(|e| process_error(pid, file, path, e))
        };
        let statm = pids
            .iter()
            .map(|&p| open(p, "statm"))
            .collect::<Result<_>>()?;
        let status = pids
            .iter()
            .map(|&p| open(p, "status"))
            .collect::<Result<_>>()?;
        let system = ["/proc/meminfo", "/proc/pressure/memory"]
            .iter()
            .filter_map(|p| File::open(p).ok())
            .collect();
        Ok(Floor {
            cheapest: false,
            dir: ffi::ProcDir::open().map_err(|e| system_error("/proc", e))?,
            statm,
            status,
            status_at: None,
            system,
            vmstat: File::open("/proc/vmstat").map_err(|e| system_error("/proc/vmstat", e))?,
            vmstat_at: None,
            loadavg: File::open("/proc/loadavg").map_err(|e| system_error("/proc/loadavg", e))?,
            last_marker: None,
            listed_at: None,
            pids: Vec::new(),
            buf: vec![0; 16 * 1024],
        })
    }

    /// The cheapest reads that give each process's memory and the system's: `statm` of each
    /// and `meminfo`, every round, nothing else.
    pub(crate) fn cheapest(pids: &[u32]) -> Result<Floor> {
        let mut f = Floor::new(pids)?;
        f.cheapest = true;
        f.system.truncate(1);
        Ok(f)
    }

    /// One round of the reads a tick makes, at the tick's cadences, with no parsing and no
    /// bookkeeping: `statm` of each process and the system files every round; each `status`
    /// and `vmstat` at most once a second; `loadavg`, and the process table only when its last
    /// PID moved (or every [`crate::sampler::MAX_LISTING_AGE`]). Returns the bytes read (so
    /// that nothing is optimised away).
    pub(crate) fn read(&mut self) -> Result<u64> {
        let now = Instant::now();
        let mut total = 0u64;
        let read = |f: &File, buf: &mut Vec<u8>| -> Result<u64> {
            Ok(f.read_at(buf, 0).map_err(|e| system_error("/proc", e))? as u64)
        };
        for f in self.statm.iter().chain(&self.system) {
            total += read(f, &mut self.buf)?;
        }
        if self.cheapest {
            return Ok(total);
        }
        let due = |at: Option<Instant>, every: Duration| {
            at.is_none_or(|a| now.duration_since(a) >= every)
        };
        if due(self.status_at, STATUS_INTERVAL) {
            self.status_at = Some(now);
            for f in &self.status {
                total += read(f, &mut self.buf)?;
            }
        }
        if due(self.vmstat_at, COUNTERS_INTERVAL) {
            self.vmstat_at = Some(now);
            total += read(&self.vmstat, &mut self.buf)?;
        }
        let n = read(&self.loadavg, &mut self.buf)? as usize;
        let marker = std::str::from_utf8(&self.buf[..n.min(self.buf.len())])
            .ok()
            .and_then(procfs::parse_loadavg_last_pid);
        let moved = marker.is_none() || self.last_marker != marker;
        if moved || due(self.listed_at, crate::sampler::MAX_LISTING_AGE) {
            self.last_marker = marker;
            self.listed_at = Some(now);
            self.dir
                .pids(&mut self.pids)
                .map_err(|e| system_error("/proc", e))?;
            total += self.pids.len() as u64;
        }
        Ok(total)
    }
}

/// `getrusage` for `who`, as the kernel gave it.
pub(crate) fn rusage(who: crate::types::Who) -> Result<crate::types::Raw> {
    ffi::rusage(who).map_err(|e| Error::Os {
        call: who.call(),
        code: e.raw_os_error().unwrap_or(0),
    })
}

/// This process's resident set now, from `/proc/self/statm`.
pub(crate) fn own_rss() -> Result<u64> {
    let page = ffi::page_size().map_err(|e| Error::Os {
        call: "sysconf(_SC_PAGESIZE)",
        code: e.raw_os_error().unwrap_or(0),
    })?;
    let path = std::path::Path::new("/proc/self/statm");
    let text = std::fs::read_to_string(path).map_err(|error| Error::Io {
        path: path.to_owned(),
        error,
    })?;
    Ok(procfs::parse_statm(&text, page)?.resident_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Past the budget a process is still read, from files opened for each read, and keeps no
    /// descriptor; within it each keeps its two.
    #[test]
    fn past_the_descriptor_budget_a_process_is_read_by_path() {
        let mut linux = Linux::new().unwrap();
        let me = std::process::id();
        let id = ProcessId {
            pid: me,
            start_time_us: linux.read_stat(me).unwrap().start_time_us,
        };
        for (max, kept) in [(usize::MAX, true), (0, false), (3, false)] {
            linux.budget = Budget::new(max);
            let mut handles: Vec<Handle> = (0..20).map(|_| linux.open(id).unwrap()).collect();
            let open = linux.budget.open.load(std::sync::atomic::Ordering::Relaxed);
            assert_eq!(open, 40.min(max), "budget {max}");
            assert_eq!(handles[19].statm.kept(), kept, "budget {max}");
            assert_eq!(handles[19].status.kept(), kept, "budget {max}");
            for h in &mut handles {
                let mut s = ProcessSample::empty(id, 0, "test".into());
                linux.read(h, &mut s).unwrap();
                assert!(s.rss_bytes > 1 << 20, "budget {max}: {}", s.rss_bytes);
            }
            drop(handles);
            assert_eq!(
                linux.budget.open.load(std::sync::atomic::Ordering::Relaxed),
                0
            );
        }
        // A handle read by path whose PID now names another start time is gone.
        linux.budget = Budget::new(0);
        let mut h = linux.open(id).unwrap();
        h.start_time_us += 1;
        let mut s = ProcessSample::empty(id, 0, "test".into());
        assert!(linux.read(&mut h, &mut s).is_err_and(|e| e.is_gone()));
    }
}
