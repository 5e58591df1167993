//! The macOS backend: libproc, sysctl and Mach, never a subprocess.
//!
//! Per tick: `proc_listallpids`, one `proc_pid_rusage` per followed process, and the plain
//! sysctls that are cheap and not rate-limited (`vm.page_free_count`,
//! `vm.page_purgeable_count`, `vm.compressor_bytes_used`, `kern.memorystatus_level`,
//! `kern.memorystatus_vm_pressure_level`, `vm.swapusage`). At most once a second:
//! `host_statistics64(HOST_VM_INFO64)` for the page queues, anonymous and file-backed pages,
//! the compressor's size and the cumulative counters. Once per process: `PROC_PIDTBSDINFO`
//! (`PROC_PIDT_SHORTBSDINFO` and `KERN_PROC_PID` for another user's) and `KERN_PROCARGS2`.

#[allow(unsafe_code)]
pub(crate) mod ffi;
mod pressure;

pub(crate) use pressure::pressure_watch;

use crate::darwin::{
    self, ArgsRefusal, CpuTimebase, DarwinSystem, FastCounters, SlowCounts, VmCounts,
    VmStatistics64,
};
use crate::error::{Error, Result};
use crate::sampler::{Backend, Identity};
use crate::types::{HostInfo, ProcessId, ProcessSample, SystemSample};
use ffi::Mib;
use std::io;
use std::time::{Duration, Instant};

const PERMISSION_HINT: &str =
    "run memtide as the user that runs Ollama (the Ollama app and Homebrew run it as you), or with sudo";

/// How often `host_statistics64` is asked. xnu serves the processes that are not Apple
/// platform binaries, all of them together, a random 2 to 10 fresh answers per flavor per
/// second and a cached copy after that (`osfmk/kern/host.c`, `rate_limit_host_statistics`:
/// one window and one cache for all such callers), so asking more often than once a second
/// buys nothing and risks stale data passing as fresh.
const HOST_STATS_INTERVAL: Duration = Duration::from_secs(1);

fn os_error(call: &'static str, e: &io::Error) -> Error {
    Error::Os {
        call,
        code: e.raw_os_error().unwrap_or(0),
    }
}

/// Who runs `pid` (`PROC_PIDT_SHORTBSDINFO`, which needs no privilege), by name from the user
/// database, else as `uid N`.
fn owner_of(pid: u32) -> Option<String> {
    let uid = ffi::short_bsd_info(pid).ok()?.state.uid;
    Some(ffi::user_name(uid).unwrap_or_else(|| format!("uid {uid}")))
}

/// Maps a failed per-process call to what the caller should do.
// The names the errors give Mach's codes are Mach's own: each code of the portable table
// (`darwin::KERN_RETURN_NAMES`, written from xnu's `osfmk/mach/kern_return.h`) is mach2's.
const _: () = {
    use mach2::kern_return as kr;
    let mach = [
        kr::KERN_INVALID_ADDRESS,
        kr::KERN_PROTECTION_FAILURE,
        kr::KERN_NO_SPACE,
        kr::KERN_INVALID_ARGUMENT,
        kr::KERN_FAILURE,
        kr::KERN_RESOURCE_SHORTAGE,
        kr::KERN_NOT_RECEIVER,
        kr::KERN_NO_ACCESS,
        kr::KERN_MEMORY_FAILURE,
        kr::KERN_MEMORY_ERROR,
        kr::KERN_ABORTED,
        kr::KERN_INVALID_NAME,
        kr::KERN_INVALID_TASK,
        kr::KERN_INVALID_RIGHT,
        kr::KERN_INVALID_VALUE,
        kr::KERN_INVALID_HOST,
        kr::KERN_TERMINATED,
        kr::KERN_NOT_SUPPORTED,
        kr::KERN_OPERATION_TIMED_OUT,
        kr::KERN_INSUFFICIENT_BUFFER_SIZE,
        kr::KERN_DENIED,
        kr::KERN_NOT_FOUND,
    ];
    let mut i = 0;
    while i < mach.len() {
        assert!(crate::darwin::KERN_RETURN_NAMES[i].0 == mach[i]);
        i += 1;
    }
};

/// `getrusage` for `who`, as the kernel gave it.
pub(crate) fn rusage(who: crate::types::Who) -> Result<crate::types::Raw> {
    ffi::rusage_of(who).map_err(|e| Error::Os {
        call: who.call(),
        code: e.raw_os_error().unwrap_or(0),
    })
}

/// This process's resident set now (`proc_pid_rusage` of its own PID, `ri_resident_size`).
pub(crate) fn own_rss() -> Result<u64> {
    let pid = std::process::id();
    ffi::rusage(pid)
        .map(|r| r.resident_size)
        .map_err(|e| process_error(pid, "proc_pid_rusage", e))
}

fn process_error(pid: u32, call: &'static str, e: io::Error) -> Error {
    match e.raw_os_error() {
        Some(libc::ESRCH) => Error::ProcessGone { pid },
        Some(libc::EMFILE | libc::ENFILE) => Error::OutOfDescriptors { pid, call },
        Some(libc::EPERM) => Error::PermissionDenied {
            pid,
            call,
            owner: owner_of(pid),
            hint: PERMISSION_HINT,
        },
        _ => os_error(call, &e),
    }
}

struct FastMibs {
    free: Option<Mib>,
    purgeable: Option<Mib>,
    compressor_payload: Option<Mib>,
    memorystatus_level: Option<Mib>,
    pressure_level: Option<Mib>,
    swapusage: Option<Mib>,
}

pub(crate) struct Macos {
    host: HostInfo,
    /// rusage CPU times to durations, Rosetta included.
    timebase: CpuTimebase,
    /// Our effective user, to tell another user's process from one that is not ready.
    uid: u32,
    host_port: ffi::HostPort,
    page_size: u64,
    pid_buf: Vec<libc::pid_t>,
    args_buf: Vec<u8>,
    /// One `proc_regionwithpathinfo`, reused by the counts of resident weights.
    region_buf: Box<[u8; darwin::REGION_WITH_PATH_SIZE]>,
    mibs: FastMibs,
    /// The last fresh `host_statistics64` reading, when it was read, and the raw struct (to
    /// recognise the kernel's cached copy, which repeats it exactly).
    slow: Option<(VmCounts, Instant, VmStatistics64)>,
    last_ask: Option<Instant>,
}

/// What is kept per followed process: the start time the kernel reports in
/// `proc_pid_rusage`, so that a PID taken by another process is noticed on the next read.
pub(crate) struct Handle {
    start_abstime: u64,
    weights: Option<Weights>,
}

/// A followed process's model file, whose resident pages in the regions that map it are
/// counted (see `ProcessSample::weights_resident_bytes`).
struct Weights {
    /// The file's device and inode, as the kernel's `vinfo_stat` gives them.
    dev: u32,
    inode: u64,
    /// The addresses of the regions that mapped it at the last count, asked first next time.
    regions: Vec<u64>,
    /// The last count, against the resident size: the weights can only have moved if it did.
    count: crate::sampler::WeightsCount,
}

/// The most regions one walk asks about (a process has a few thousand at most).
const MAX_REGIONS: usize = 65_536;

/// Pages of the file (its device and inode) resident in `pid`'s regions that map it, in bytes.
/// The regions found last time (`regions`) are asked again first, one call each; when one no
/// longer maps the file, every region is walked, from address 0 to the last (`EINVAL` past
/// it, `bsd/kern/proc_info.c`).
fn count_weights(
    pid: u32,
    (dev, inode): (u32, u64),
    regions: &mut Vec<u64>,
    page: u64,
    buf: &mut [u8; darwin::REGION_WITH_PATH_SIZE],
) -> Result<u64> {
    let file = Some((dev, inode));
    let mut region_at = |address: u64| -> Result<Option<darwin::Region>> {
        match ffi::region_with_path(pid, address, buf) {
            Ok(()) => darwin::decode_region_with_path(&buf[..]).map(Some),
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => Ok(None),
            Err(e) => Err(process_error(
                pid,
                "proc_pidinfo(PROC_PIDREGIONPATHINFO)",
                e,
            )),
        }
    };
    if !regions.is_empty() {
        let mut pages = 0u64;
        let mut same = true;
        for &address in regions.iter() {
            match region_at(address)? {
                Some(r) if r.address == address && r.file == file => {
                    pages += u64::from(r.pages_resident);
                }
                _ => {
                    same = false;
                    break;
                }
            }
        }
        if same {
            return Ok(pages * page);
        }
    }
    regions.clear();
    let (mut address, mut pages) = (0u64, 0u64);
    for _ in 0..MAX_REGIONS {
        let Some(r) = region_at(address)? else {
            break;
        };
        if r.file == file {
            regions.push(r.address);
            pages += u64::from(r.pages_resident);
        }
        match r.address.checked_add(r.size) {
            Some(next) if r.size > 0 => address = next,
            _ => break,
        }
    }
    Ok(pages * page)
}

impl Macos {
    pub(crate) fn new() -> Result<Macos> {
        let resolve = |name: &'static std::ffi::CStr| Mib::resolve(name).ok();
        let memsize = Mib::resolve(c"hw.memsize")
            .and_then(|m| m.read_uint())
            .map_err(|e| os_error("sysctl hw.memsize", &e))?;
        let os_version = resolve(c"kern.osproductversion").and_then(|m| m.read_string().ok());
        let page_size = ffi::kernel_page_size();
        // 1 under Rosetta; the name does not exist on Intel Macs, which translate nothing.
        let translated = resolve(c"sysctl.proc_translated")
            .and_then(|m| m.read_int().ok())
            .is_some_and(|v| v == 1);
        let tb_frequency = resolve(c"hw.tbfrequency").and_then(|m| m.read_uint().ok());
        // Apple Silicon on macOS 14 and later; absent elsewhere.
        let gpu_wired_limit_bytes = resolve(c"iogpu.wired_limit_mb")
            .and_then(|m| m.read_int().ok())
            .and_then(|v| darwin::decode_gpu_wired_limit_mb(v).ok());
        let argmax = Mib::from_parts(&[libc::CTL_KERN, libc::KERN_ARGMAX], c"kern.argmax")
            .read_int()
            .map_err(|e| os_error("sysctl kern.argmax", &e))?;
        Ok(Macos {
            host: HostInfo {
                os: std::env::consts::OS,
                os_version,
                arch: std::env::consts::ARCH,
                total_memory_bytes: memsize,
                page_size_bytes: Some(page_size),
                gpu_wired_limit_bytes,
            },
            host_port: ffi::HostPort::new(),
            timebase: CpuTimebase::new(ffi::timebase(), translated, tb_frequency),
            uid: ffi::effective_uid(),
            page_size,
            pid_buf: Vec::new(),
            region_buf: Box::new([0; darwin::REGION_WITH_PATH_SIZE]),
            args_buf: vec![0; usize::try_from(argmax).unwrap_or(0).max(4096)],
            mibs: FastMibs {
                free: resolve(c"vm.page_free_count"),
                purgeable: resolve(c"vm.page_purgeable_count"),
                compressor_payload: resolve(c"vm.compressor_bytes_used"),
                memorystatus_level: resolve(c"kern.memorystatus_level"),
                pressure_level: resolve(c"kern.memorystatus_vm_pressure_level"),
                swapusage: resolve(c"vm.swapusage"),
            },
            slow: None,
            last_ask: None,
        })
    }

    /// Asks `host_statistics64` if a second has passed since the last ask, and returns the
    /// freshest real reading with its age. An answer identical to the previous one, cumulative
    /// fault counter included, is the kernel's cached copy and does not reset the age.
    /// A failed ask keeps the last reading (its age grows) and returns the error beside it.
    fn slow_counts(&mut self, now: Instant) -> (Option<SlowCounts>, Option<Error>) {
        let due = self
            .last_ask
            .is_none_or(|t| now.duration_since(t) >= HOST_STATS_INTERVAL);
        let mut failed = None;
        if due {
            self.last_ask = Some(now);
            match self.host_port.vm_statistics() {
                Err(kr) => {
                    failed = Some(Error::Kern {
                        call: "host_statistics64(HOST_VM_INFO64)",
                        code: kr,
                        name: crate::darwin::kern_return_name(kr),
                    })
                }
                Ok((raw, count)) => {
                    let repeated = self.slow.as_ref().is_some_and(|(_, _, prev)| *prev == raw);
                    if !repeated {
                        match raw.decode(count, ffi::VM_INFO64_REQUIRED_COUNT) {
                            Ok(counts) => self.slow = Some((counts, now, raw)),
                            Err(e) => failed = Some(e),
                        }
                    }
                }
            }
        }
        let slow = self.slow.as_ref().map(|(counts, at, _)| SlowCounts {
            counts: *counts,
            age: now.duration_since(*at),
        });
        (slow, failed)
    }
}

fn read_pages(m: &Option<Mib>) -> Result<Option<u64>> {
    m.as_ref()
        .map(|m| m.read_uint())
        .transpose()
        .map_err(|e| os_error("sysctl vm.*", &e))
}

/// An integer sysctl (`call` names it in errors), decoded; `None` where the kernel lacks it.
fn read_decoded<T>(
    m: &Option<Mib>,
    call: &'static str,
    decode: fn(i64) -> Result<T>,
) -> Result<Option<T>> {
    m.as_ref()
        .map(|m| {
            m.read_int()
                .map_err(|e| os_error(call, &e))
                .and_then(decode)
        })
        .transpose()
}

/// The value of a read, or `None` with its error kept in `first` (the first failure wins).
fn keep<T>(r: Result<Option<T>>, first: &mut Option<Error>) -> Option<T> {
    r.unwrap_or_else(|e| {
        first.get_or_insert(e);
        None
    })
}

impl Backend for Macos {
    type Handle = Handle;

    fn host(&self) -> &HostInfo {
        &self.host
    }

    fn list_pids(&mut self, out: &mut Vec<u32>) -> Result<()> {
        ffi::list_all_pids(&mut self.pid_buf, out).map_err(|e| os_error("proc_listallpids", &e))
    }

    fn identify(&mut self, pid: u32) -> Result<Identity> {
        match ffi::bsd_info(pid) {
            Ok(info) => Ok(Identity {
                start_time_us: info.start_us,
                ppid: info.ppid,
                pgid: info.pgid,
                name: info.name,
            }),
            // Another user's process: its parent and name are public, and so is its start
            // time through KERN_PROC_PID, so a reused PID is still a new identity. It can be
            // selected, and then reports PermissionDenied when read.
            Err(e) if e.raw_os_error() == Some(libc::EPERM) => {
                let short = ffi::short_bsd_info(pid)
                    .map_err(|e| process_error(pid, "proc_pidinfo(PROC_PIDT_SHORTBSDINFO)", e))?;
                let (sec, usec) = ffi::kinfo_start_time(pid)
                    .map_err(|e| process_error(pid, "sysctl KERN_PROC_PID", e))?
                    .ok_or(Error::ProcessGone { pid })?;
                Ok(Identity {
                    start_time_us: darwin::decode_start_time(sec, usec)?,
                    ppid: short.ppid,
                    pgid: short.pgid,
                    name: short.name,
                })
            }
            Err(e) => Err(process_error(pid, "proc_pidinfo(PROC_PIDTBSDINFO)", e)),
        }
    }

    fn name_hash(&mut self, pid: u32) -> Result<u64> {
        // Same-user processes only: another user's cannot be followed anyway.
        ffi::bsd_name_hash(pid).map_err(|e| process_error(pid, "proc_pidinfo(PROC_PIDTBSDINFO)", e))
    }

    fn command_line(&mut self, pid: u32) -> Result<(Option<String>, Vec<String>)> {
        let mib = Mib::from_parts(
            &[libc::CTL_KERN, libc::KERN_PROCARGS2, pid as libc::c_int],
            c"kern.procargs2",
        );
        let bytes = match mib.read_bytes(&mut self.args_buf) {
            Ok(b) => b,
            // kern_sysctl.c answers EINVAL alike for a gone PID, another user's process, a
            // zombie and a process still starting: ask who it is to tell them apart.
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                const CALL: &str = "sysctl KERN_PROCARGS2";
                let state = ffi::short_bsd_info(pid).ok().map(|s| s.state);
                return Err(match darwin::classify_procargs_refusal(state, self.uid) {
                    ArgsRefusal::Gone => Error::ProcessGone { pid },
                    ArgsRefusal::OtherUser => Error::PermissionDenied {
                        pid,
                        call: CALL,
                        owner: owner_of(pid),
                        hint: PERMISSION_HINT,
                    },
                    ArgsRefusal::NotYet => Error::NotReady { pid, call: CALL },
                });
            }
            Err(e) => return Err(process_error(pid, "sysctl KERN_PROCARGS2", e)),
        };
        let args = darwin::decode_procargs2(bytes)?;
        Ok((Some(args.exe), args.argv))
    }

    fn open(&mut self, id: ProcessId) -> Result<Handle> {
        let r = ffi::rusage(id.pid).map_err(|e| process_error(id.pid, "proc_pid_rusage", e))?;
        // Identify again after: if the PID still has the start time we identified, the
        // rusage start time above belongs to the same process.
        let info = ffi::bsd_info(id.pid)
            .map_err(|e| process_error(id.pid, "proc_pidinfo(PROC_PIDTBSDINFO)", e))?;
        if info.start_us != id.start_time_us || r.proc_exit_abstime != 0 {
            return Err(Error::ProcessGone { pid: id.pid });
        }
        Ok(Handle {
            start_abstime: r.proc_start_abstime,
            weights: None,
        })
    }

    fn read(&mut self, handle: &mut Handle, out: &mut ProcessSample) -> Result<()> {
        let pid = out.id.pid;
        let r = ffi::rusage(pid).map_err(|e| process_error(pid, "proc_pid_rusage", e))?;
        // A zombie still answers, with its exit time set; a new process under the same PID
        // answers with another start time.
        if r.proc_exit_abstime != 0 || r.proc_start_abstime != handle.start_abstime {
            return Err(Error::ProcessGone { pid });
        }
        out.rss_bytes = r.resident_size;
        out.footprint_bytes = Some(r.phys_footprint);
        out.peak_footprint_bytes = Some(r.lifetime_max_phys_footprint);
        out.peak_rss_bytes = None;
        // pti_virtual_size would need a second call per process per tick, and on arm64 it is
        // dominated by the shared-region reservation (hundreds of GB) rather than the process.
        out.virtual_bytes = None;
        out.wired_bytes = Some(r.wired_size);
        out.swapped_bytes = None;
        out.rss_file_bytes = None;
        if let Some(w) = &mut handle.weights {
            let (page, buf) = (self.page_size, &mut self.region_buf);
            let (file, regions) = ((w.dev, w.inode), &mut w.regions);
            out.weights_resident_bytes = w.count.update(Instant::now(), r.resident_size, || {
                count_weights(pid, file, regions, page, buf)
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
        handle.weights = Some(Weights {
            // `st_dev` is a 32-bit `dev_t` on macOS, as `vst_dev` is.
            dev: meta.dev() as u32,
            inode: meta.ino(),
            regions: Vec::new(),
            count: crate::sampler::WeightsCount::default(),
        });
        Ok(())
    }

    fn start_time_now(&mut self) -> u64 {
        // A start time is the wall clock at fork in microseconds (`fork_create_child`'s
        // `microtime_with_abstime(&child_proc->p_start, …)`, `bsd/kern/kern_fork.c` l. 1139).
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
    }

    fn cpu_time(&mut self, pid: u32) -> Result<Duration> {
        let r = ffi::rusage(pid).map_err(|e| process_error(pid, "proc_pid_rusage", e))?;
        Ok(self
            .timebase
            .to_duration(r.user_time.saturating_add(r.system_time)))
    }

    /// Each read that fails leaves its fields empty; the first failure is returned, after
    /// `out` holds what the others gave.
    fn system(&mut self, out: &mut SystemSample) -> Result<()> {
        let now = Instant::now();
        let (slow, mut first) = self.slow_counts(now);
        let m = &self.mibs;
        let fast = FastCounters {
            free_pages: keep(read_pages(&m.free), &mut first),
            purgeable_pages: keep(read_pages(&m.purgeable), &mut first),
            compressor_payload_bytes: keep(read_pages(&m.compressor_payload), &mut first),
        };
        let free_percent = keep(
            read_decoded(
                &m.memorystatus_level,
                "sysctl kern.memorystatus_level",
                darwin::decode_free_percent,
            ),
            &mut first,
        );
        let pressure = keep(
            read_decoded(
                &m.pressure_level,
                "sysctl kern.memorystatus_vm_pressure_level",
                darwin::decode_pressure_level,
            ),
            &mut first,
        );
        // xnu reads the swap file count twice without a lock while a swap file is being
        // created, so one answer in a while does not add up: it is asked once more.
        let swap = keep(
            m.swapusage
                .as_ref()
                .map(|mib| {
                    let read = || mib.read_swap().ok();
                    darwin::decode_swap_twice(read(), read)
                })
                .transpose(),
            &mut first,
        );
        *out = DarwinSystem {
            memsize: self.host.total_memory_bytes,
            page_size: self.page_size,
            slow,
            fast,
            free_percent,
            pressure,
            swap,
        }
        .to_system();
        match first {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// The floor of a tick: the same kernel calls (`proc_listallpids`; `proc_pid_rusage` for each
/// process; the per-tick sysctls), with no decoding and no bookkeeping.
pub(crate) struct Floor {
    /// Only the per-process call and one sysctl ([`Floor::cheapest`]).
    cheapest: bool,
    pids: Vec<u32>,
    all: Vec<libc::pid_t>,
    listed: Vec<u32>,
    mibs: Vec<Mib>,
}

impl Floor {
    pub(crate) fn new(pids: &[u32]) -> Result<Floor> {
        let names = [
            c"vm.page_free_count",
            c"vm.page_purgeable_count",
            c"vm.compressor_bytes_used",
            c"kern.memorystatus_level",
            c"kern.memorystatus_vm_pressure_level",
        ];
        Ok(Floor {
            cheapest: false,
            pids: pids.to_vec(),
            all: Vec::new(),
            listed: Vec::new(),
            mibs: names.iter().filter_map(|n| Mib::resolve(n).ok()).collect(),
        })
    }

    /// The cheapest reads that give each process's memory and the system's:
    /// `proc_pid_rusage` of each and the kernel's free level, nothing else.
    pub(crate) fn cheapest(pids: &[u32]) -> Result<Floor> {
        let mut f = Floor::new(pids)?;
        f.mibs = Mib::resolve(c"kern.memorystatus_level")
            .into_iter()
            .collect();
        f.cheapest = true;
        Ok(f)
    }

    pub(crate) fn read(&mut self) -> Result<u64> {
        if self.cheapest {
            let mut total = 0u64;
            for &pid in &self.pids {
                let r = ffi::rusage(pid).map_err(|e| process_error(pid, "proc_pid_rusage", e))?;
                total = total.wrapping_add(r.phys_footprint);
            }
            for m in &self.mibs {
                total = total.wrapping_add(m.read_uint().map_err(|e| os_error("sysctl", &e))?);
            }
            return Ok(total);
        }
        ffi::list_all_pids(&mut self.all, &mut self.listed)
            .map_err(|e| os_error("proc_listallpids", &e))?;
        let mut total = self.listed.len() as u64;
        for &pid in &self.pids {
            let r = ffi::rusage(pid).map_err(|e| process_error(pid, "proc_pid_rusage", e))?;
            total = total.wrapping_add(r.phys_footprint);
        }
        for m in &self.mibs {
            total = total.wrapping_add(m.read_uint().map_err(|e| os_error("sysctl", &e))?);
        }
        Ok(total)
    }
}
