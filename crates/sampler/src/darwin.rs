//! Pure decoders for what the macOS kernel returns, and for the text of Apple's `vm_stat`.
//!
//! The macOS backend copies the kernel's structures (laid out by the `libc` and `mach2`
//! crates, never by hand) field by field into the plain types here, and these functions turn
//! them into memtide's types. They compile and are tested on every OS, on buffers built like
//! the kernel's and on real `vm_stat`, `memory_pressure` and `sysctl` outputs.
//!
//! Semantics follow xnu and Apple's `system_cmds`, cited at each decoder:
//! `host_statistics64(HOST_VM_INFO64)` is filled by `vm_stats()` in
//! `osfmk/kern/host.c`, and `vm_stat` prints it in `vm_stat/vm_stat.c`.

use crate::error::{Error, Result};
use crate::types::{PressureLevel, SystemSample};
use std::time::Duration;

/// The fields of the kernel's `vm_statistics64` that memtide reads, as the kernel returns them
/// (in pages; counters cumulative since boot). The backend copies them by name from `mach2`'s
/// struct.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VmStatistics64 {
    /// Free pages *including* speculative ones (`host.c`: `vm_page_free_count +
    /// vm_page_speculative_count`).
    pub free_count: u64,
    /// Active pages (`vm_stat` "Pages active").
    pub active_count: u64,
    /// Inactive pages (`vm_stat` "Pages inactive").
    pub inactive_count: u64,
    /// Wired pages; on macOS the kernel already adds the throttled queue and the low-memory
    /// free pages (`host.c` `vm_stats()`).
    pub wire_count: u64,
    /// Speculative pages (read ahead, not yet used), counted in `free_count` too.
    pub speculative_count: u64,
    /// Pages on the throttled queue, counted in `wire_count` too.
    pub throttled_count: u64,
    /// `vm_stat` "Pages purgeable".
    pub purgeable_count: u64,
    /// Physical pages the compressor occupies (`vm_stat` "Pages occupied by compressor").
    pub compressor_page_count: u64,
    /// `vm_stat` "File-backed pages".
    pub external_page_count: u64,
    /// `vm_stat` "Anonymous pages".
    pub internal_page_count: u64,
    /// The pages stored in the compressor, as their uncompressed size (`vm_stat` "Pages stored in
    /// compressor").
    pub total_uncompressed_pages_in_compressor: u64,
    /// `vm_stat` "Translation faults" (cumulative).
    pub faults: u64,
    /// `vm_stat` "Pages zero filled" (cumulative).
    pub zero_fill_count: u64,
    /// `vm_stat` "Pages purged" (cumulative).
    pub purges: u64,
    /// `vm_stat` "Pageins" (cumulative).
    pub pageins: u64,
    /// `vm_stat` "Pageouts" (cumulative).
    pub pageouts: u64,
    /// `vm_stat` "Swapins" (cumulative).
    pub swapins: u64,
    /// `vm_stat` "Swapouts" (cumulative).
    pub swapouts: u64,
    /// `vm_stat` "Compressions" (cumulative).
    pub compressions: u64,
    /// `vm_stat` "Decompressions" (cumulative).
    pub decompressions: u64,
}

/// Page counts with `vm_stat`'s meanings, one per line `vm_stat` prints. `None` where a
/// source did not have the line (a truncated capture).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VmCounts {
    /// "Pages free": free pages *excluding* speculative ones.
    pub free: Option<u64>,
    /// "Pages active".
    pub active: Option<u64>,
    /// "Pages inactive".
    pub inactive: Option<u64>,
    /// "Pages speculative".
    pub speculative: Option<u64>,
    /// "Pages throttled".
    pub throttled: Option<u64>,
    /// "Pages wired down" (throttled included, on macOS).
    pub wired: Option<u64>,
    /// "Pages purgeable".
    pub purgeable: Option<u64>,
    /// "Translation faults" (cumulative).
    pub faults: Option<u64>,
    /// "Pages zero filled" (cumulative).
    pub zero_filled: Option<u64>,
    /// "Pages purged" (cumulative).
    pub purged: Option<u64>,
    /// "File-backed pages".
    pub file_backed: Option<u64>,
    /// "Anonymous pages".
    pub anonymous: Option<u64>,
    /// "Pages stored in compressor": logical (uncompressed) size of its contents.
    pub stored_in_compressor: Option<u64>,
    /// "Pages occupied by compressor": physical pages it uses.
    pub occupied_by_compressor: Option<u64>,
    /// "Decompressions" (cumulative).
    pub decompressions: Option<u64>,
    /// "Compressions" (cumulative).
    pub compressions: Option<u64>,
    /// "Pageins" (cumulative).
    pub pageins: Option<u64>,
    /// "Pageouts" (cumulative).
    pub pageouts: Option<u64>,
    /// "Swapins" (cumulative).
    pub swapins: Option<u64>,
    /// "Swapouts" (cumulative).
    pub swapouts: Option<u64>,
}

impl VmStatistics64 {
    /// Decodes what `host_statistics64(HOST_VM_INFO64)` returned. `returned_count` is the
    /// count (in `integer_t`s) the kernel wrote back; `required_count` is the count up to and
    /// including `total_uncompressed_pages_in_compressor` (revision 1 of the structure, 38 on
    /// every macOS since 10.9). A shorter answer, or counts that contradict each other, are an
    /// error rather than numbers.
    pub fn decode(&self, returned_count: u32, required_count: u32) -> Result<VmCounts> {
        const WHAT: &str = "vm_statistics64";
        if returned_count < required_count {
            return Err(Error::decode(
                WHAT,
                format!("the kernel filled {returned_count} of the {required_count} words needed"),
            ));
        }
        if self.free_count < self.speculative_count {
            return Err(Error::decode(
                WHAT,
                format!(
                    "free_count {} is below speculative_count {}, which it includes",
                    self.free_count, self.speculative_count
                ),
            ));
        }
        Ok(VmCounts {
            // vm_stat.c prints free_count - speculative_count as "Pages free".
            free: Some(self.free_count - self.speculative_count),
            active: Some(self.active_count),
            inactive: Some(self.inactive_count),
            speculative: Some(self.speculative_count),
            throttled: Some(self.throttled_count),
            wired: Some(self.wire_count),
            purgeable: Some(self.purgeable_count),
            faults: Some(self.faults),
            zero_filled: Some(self.zero_fill_count),
            purged: Some(self.purges),
            file_backed: Some(self.external_page_count),
            anonymous: Some(self.internal_page_count),
            stored_in_compressor: Some(self.total_uncompressed_pages_in_compressor),
            occupied_by_compressor: Some(self.compressor_page_count),
            decompressions: Some(self.decompressions),
            compressions: Some(self.compressions),
            pageins: Some(self.pageins),
            pageouts: Some(self.pageouts),
            swapins: Some(self.swapins),
            swapouts: Some(self.swapouts),
        })
    }
}

impl VmCounts {
    /// Reads the text `vm_stat` prints: a header with the page size, then `Label: N.` lines.
    ///
    /// Lines are matched by label, never by column, so both the 48- and the 53-character
    /// layouts work; labels it does not know (the memory-tagging lines of recent macOS, lines
    /// added later) are skipped; lines a capture lacks stay `None`. Returns the page size from
    /// the header and the counts.
    pub fn parse_vm_stat(text: &str) -> Result<(u64, VmCounts)> {
        const WHAT: &str = "vm_stat output";
        let mut lines = text.lines().skip_while(|l| l.trim().is_empty());
        let header = lines.next().unwrap_or("");
        let page_size = header
            .split_once("page size of ")
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .and_then(|n| n.parse::<u64>().ok())
            .filter(|&n| n > 0)
            .ok_or_else(|| {
                Error::decode(WHAT, format!("no page size in the header line `{header}`"))
            })?;
        let mut c = VmCounts::default();
        for (i, line) in lines.enumerate() {
            let Some((label, value)) = line.rsplit_once(':') else {
                continue;
            };
            let slot = match label.trim().trim_matches('"') {
                "Pages free" => &mut c.free,
                "Pages active" => &mut c.active,
                "Pages inactive" => &mut c.inactive,
                "Pages speculative" => &mut c.speculative,
                "Pages throttled" => &mut c.throttled,
                "Pages wired down" => &mut c.wired,
                "Pages purgeable" => &mut c.purgeable,
                "Translation faults" => &mut c.faults,
                "Pages zero filled" => &mut c.zero_filled,
                "Pages purged" => &mut c.purged,
                "File-backed pages" => &mut c.file_backed,
                "Anonymous pages" => &mut c.anonymous,
                "Pages stored in compressor" => &mut c.stored_in_compressor,
                "Pages occupied by compressor" => &mut c.occupied_by_compressor,
                "Decompressions" => &mut c.decompressions,
                "Compressions" => &mut c.compressions,
                "Pageins" => &mut c.pageins,
                "Pageouts" => &mut c.pageouts,
                "Swapins" => &mut c.swapins,
                "Swapouts" => &mut c.swapouts,
                _ => continue,
            };
            let number = value.trim().trim_end_matches('.');
            *slot = Some(number.parse().map_err(|_| {
                Error::decode(
                    WHAT,
                    format!("line {}: `{}` is not a page count", i + 2, value.trim()),
                )
            })?);
        }
        if c == VmCounts::default() {
            return Err(Error::decode(WHAT, "no `Pages …: N.` line"));
        }
        Ok((page_size, c))
    }

    /// The system sample these counts describe, bytes = pages × `page_size`. Only the fields
    /// `vm_stat` has are set: total, free percent, pressure and swap come from elsewhere.
    pub fn to_system(&self, page_size: u64) -> SystemSample {
        let b = |p: Option<u64>| p.map(|p| p.saturating_mul(page_size));
        // What can be had without compressing or swapping: free pages, file-backed pages
        // (clean cache; speculative pages are among them) and volatile purgeable pages. The
        // same family of terms Ollama uses for its own free-memory estimate on macOS.
        let available = match (self.free, self.file_backed, self.purgeable) {
            (Some(f), Some(e), Some(p)) => Some(f + e + p),
            _ => None,
        };
        SystemSample {
            free_bytes: b(self.free),
            available_bytes: b(available),
            active_bytes: b(self.active),
            inactive_bytes: b(self.inactive),
            speculative_bytes: b(self.speculative),
            wired_bytes: b(self.wired),
            purgeable_bytes: b(self.purgeable),
            compressor_bytes: b(self.occupied_by_compressor),
            compressed_bytes: b(self.stored_in_compressor),
            file_backed_bytes: b(self.file_backed),
            anonymous_bytes: b(self.anonymous),
            pageins_bytes: b(self.pageins),
            pageouts_bytes: b(self.pageouts),
            swapins_bytes: b(self.swapins),
            swapouts_bytes: b(self.swapouts),
            compressions_bytes: b(self.compressions),
            decompressions_bytes: b(self.decompressions),
            ..SystemSample::default()
        }
    }
}

/// The counters that plain `sysctl`s give on every tick, without `host_statistics64`'s rate
/// limit (xnu `bsd/vm/vm_unix.c` and `bsd/kern/kern_sysctl.c`). Each is `None` when the kernel
/// lacks the name.
///
/// The page-queue family (active, inactive, speculative, anonymous, file-backed) is *not*
/// read here, although `vm.page_speculative_count` and `vm.page_pageable_{internal,external}_count`
/// exist: those sysctls leave out the per-CPU page queues that `host_statistics64` adds
/// (`osfmk/kern/host.c`), so they run tens of MiB below `vm_stat`, and mixing them with the
/// queues of a `host_statistics64` answer would break the identity
/// file-backed + anonymous = active + inactive + speculative inside one sample.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FastCounters {
    /// `vm.page_free_count`: free pages, speculative excluded (vm_stat's "Pages free").
    pub free_pages: Option<u64>,
    /// `vm.page_purgeable_count`.
    pub purgeable_pages: Option<u64>,
    /// `vm.compressor_bytes_used`: the sum of the compressed payloads held in the compressor's
    /// in-memory segments, in bytes. It is *not* the memory the compressor occupies, which is
    /// larger by the segments' fragmentation (`osfmk/vm/vm_compressor.c` computes that
    /// fragmentation as `VM_PAGE_COMPRESSOR_COUNT * PAGE_SIZE - compressor_bytes_used`).
    pub compressor_payload_bytes: Option<u64>,
}

/// The last fresh `host_statistics64` reading and how old it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlowCounts {
    /// The counts.
    pub counts: VmCounts,
    /// Time since they were read fresh.
    pub age: Duration,
}

/// Everything the macOS backend read for one system sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DarwinSystem {
    /// `hw.memsize`.
    pub memsize: u64,
    /// The kernel's page size (`vm_kernel_page_size`).
    pub page_size: u64,
    /// The last fresh `host_statistics64` reading, if any succeeded yet.
    pub slow: Option<SlowCounts>,
    /// This tick's fast counters.
    pub fast: FastCounters,
    /// `kern.memorystatus_level`, decoded.
    pub free_percent: Option<f64>,
    /// `kern.memorystatus_vm_pressure_level`, decoded.
    pub pressure: Option<PressureLevel>,
    /// `vm.swapusage`, decoded.
    pub swap: Option<Swap>,
}

impl DarwinSystem {
    /// Joins the readings into one sample. Free and purgeable pages, read this tick, take the
    /// place of the `host_statistics64` figures; the page queues, anonymous and file-backed
    /// pages and the compressor's size all come from one `host_statistics64` answer (so they
    /// agree with each other and with `vm_stat`), with its age in [`SystemSample::stats_age`].
    pub fn to_system(&self) -> SystemSample {
        let mut s = match &self.slow {
            Some(slow) => {
                let mut s = slow.counts.to_system(self.page_size);
                s.stats_age = slow.age;
                s
            }
            None => SystemSample::default(),
        };
        let b = |p: Option<u64>| p.map(|p| p.saturating_mul(self.page_size));
        let f = &self.fast;
        s.free_bytes = b(f.free_pages).or(s.free_bytes);
        s.purgeable_bytes = b(f.purgeable_pages).or(s.purgeable_bytes);
        s.compressor_payload_bytes = f.compressor_payload_bytes;
        s.available_bytes = match (s.free_bytes, s.file_backed_bytes, s.purgeable_bytes) {
            (Some(free), Some(ext), Some(purg)) => Some(free + ext + purg),
            _ => None,
        };
        s.total_bytes = self.memsize;
        s.free_percent = self.free_percent;
        s.pressure = self.pressure;
        if let Some(swap) = self.swap {
            s.swap_total_bytes = Some(swap.total_bytes);
            s.swap_used_bytes = Some(swap.used_bytes);
        }
        s
    }
}

/// Swap space, from `vm.swapusage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Swap {
    /// Swap files' total size.
    pub total_bytes: u64,
    /// In use.
    pub used_bytes: u64,
}

/// Decodes `struct xsw_usage` (`bsd/sys/sysctl.h`): `xsu_total`, `xsu_avail`, `xsu_used`, in
/// bytes. The kernel computes `used = total - avail` (`macx_swapinfo()`), so figures that do
/// not add up are an error.
pub fn decode_swap(total: u64, avail: u64, used: u64) -> Result<Swap> {
    if used > total || avail > total || used + avail != total {
        return Err(Error::decode(
            "xsw_usage",
            format!("total {total} is not used {used} + available {avail}"),
        ));
    }
    Ok(Swap {
        total_bytes: total,
        used_bytes: used,
    })
}

/// Decodes `vm.swapusage` (total, available, used) read once and, when that answer is missing
/// or does not add up, once more with `again`. `macx_swapinfo()` (`bsd/vm/dp_backing_file.c`)
/// reads the swap file count twice without a lock, so while a swap file is being created (under
/// memory pressure, exactly when it matters) an answer can be inconsistent; a second read a
/// moment later is nearly always right. Two bad answers are an error.
pub fn decode_swap_twice(
    first: Option<(u64, u64, u64)>,
    again: impl FnOnce() -> Option<(u64, u64, u64)>,
) -> Result<Swap> {
    let decode = |r: Option<(u64, u64, u64)>| match r {
        Some((t, a, u)) => decode_swap(t, a, u),
        None => Err(Error::decode("xsw_usage", "vm.swapusage could not be read")),
    };
    decode(first).or_else(|_| decode(again()))
}

/// Decodes `kern.memorystatus_vm_pressure_level`: 1 normal, 2 warning, 4 critical (the
/// `NOTE_MEMORYSTATUS_PRESSURE_*` values; `kern_memorystatus_notify.c` never returns others).
/// Any other value is an error, not a guess.
pub fn decode_pressure_level(value: i64) -> Result<PressureLevel> {
    match value {
        1 => Ok(PressureLevel::Normal),
        2 => Ok(PressureLevel::Warning),
        4 => Ok(PressureLevel::Critical),
        other => Err(Error::decode(
            "kern.memorystatus_vm_pressure_level",
            format!("{other} is none of 1, 2, 4"),
        )),
    }
}

/// Decodes `kern.memorystatus_level`, the percentage `memory_pressure` prints as
/// "System-wide memory free percentage": it must lie in 0–100.
pub fn decode_free_percent(value: i64) -> Result<f64> {
    if (0..=100).contains(&value) {
        Ok(value as f64)
    } else {
        Err(Error::decode(
            "kern.memorystatus_level",
            format!("{value} is outside 0–100"),
        ))
    }
}

/// A process's command line, from `KERN_PROCARGS2`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcArgs {
    /// The executable's path, as the kernel recorded it at exec.
    pub exe: String,
    /// The argument vector.
    pub argv: Vec<String>,
}

/// The alignment of what follows the executable path in `KERN_PROCARGS2`: the pointer size of
/// the process, 8 for every process a current Mac runs (64-bit only since macOS 10.15).
const PROCARGS_PATH_ALIGN: usize = 8;

/// Decodes the buffer `sysctl {CTL_KERN, KERN_PROCARGS2, pid}` fills
/// (`bsd/kern/kern_sysctl.c` `sysctl_procargsx`): a native-endian 32-bit `argc`, the
/// executable path ended by a NUL, then `argc` NUL-terminated arguments, then the environment
/// and the "apple" strings, which are not arguments and are ignored. The kernel returns the
/// environment for most processes (any that is not `CS_RESTRICT`, among others), so `argc`,
/// not the end of the buffer, says where the arguments stop.
///
/// The path is padded with NULs only up to the next multiple of the pointer size, counted from
/// its first byte (`exec_extract_strings` in `bsd/kern/kern_exec.c` pads the string area so
/// that what follows the path is pointer-aligned; `sysctl_procargsx` strips a 16-byte
/// `executable_path=` prefix, which keeps that alignment). So the first argument starts at
/// that boundary, and an empty `argv[0]` is a real empty string there, not more padding. The
/// one layout with less padding, the kernel's stand-in answer for processes with the
/// `no-read-procargs` entitlement (`path NUL NUL path NUL`), is read too: an argument that
/// starts before the boundary is taken where it starts.
///
/// A buffer too short for `argc`, with no path, or with no argument at all is an error. When
/// `argc` is larger than the strings present (the kernel truncates to `kern.argmax`), the
/// arguments present are returned.
pub fn decode_procargs2(buf: &[u8]) -> Result<ProcArgs> {
    const WHAT: &str = "KERN_PROCARGS2 buffer";
    let (argc, rest) = buf
        .split_first_chunk::<4>()
        .ok_or_else(|| Error::decode(WHAT, format!("{} bytes, too short for argc", buf.len())))?;
    let argc = i32::from_ne_bytes(*argc);
    if argc < 0 {
        return Err(Error::decode(WHAT, format!("argc {argc} is negative")));
    }
    let path_end = rest
        .iter()
        .position(|&b| b == 0)
        .ok_or_else(|| Error::decode(WHAT, "the executable path has no terminating NUL"))?;
    if path_end == 0 {
        return Err(Error::decode(WHAT, "the executable path is empty"));
    }
    let exe = String::from_utf8_lossy(&rest[..path_end]).into_owned();
    let aligned = (path_end + 1).next_multiple_of(PROCARGS_PATH_ALIGN);
    let first_byte = rest[path_end + 1..]
        .iter()
        .position(|&b| b != 0)
        .map_or(rest.len(), |i| path_end + 1 + i);
    let at = aligned.min(first_byte).min(rest.len());
    // Each argument takes at least its NUL: a huge argc in a short buffer (garbage, or a torn
    // read) must not size the vector.
    let mut argv = Vec::with_capacity((argc as usize).min(rest.len() - at + 1));
    let mut pos = at;
    while argv.len() < argc as usize && pos < rest.len() {
        let end = rest[pos..]
            .iter()
            .position(|&b| b == 0)
            .map_or(rest.len(), |e| pos + e);
        argv.push(String::from_utf8_lossy(&rest[pos..end]).into_owned());
        pos = end + 1;
    }
    if argv.is_empty() && argc > 0 {
        return Err(Error::decode(
            WHAT,
            format!("argc is {argc} but no argument follows the path"),
        ));
    }
    Ok(ProcArgs { exe, argv })
}

/// Decodes a process start time (`struct timeval`, as `p_start` is kept by the kernel and
/// returned in `kinfo_proc.kp_proc.p_starttime` by `KERN_PROC_PID` and in
/// `pbi_start_tvsec`/`pbi_start_tvusec` by `PROC_PIDTBSDINFO`) into microseconds since the
/// Unix epoch. A negative time or microseconds outside 0–999 999 are an error, and so is 0:
/// every process but the kernel's has a start time.
pub fn decode_start_time(tv_sec: i64, tv_usec: i64) -> Result<u64> {
    const WHAT: &str = "process start time";
    if tv_sec < 0 || !(0..1_000_000).contains(&tv_usec) {
        return Err(Error::decode(WHAT, format!("{tv_sec} s {tv_usec} µs")));
    }
    let us = (tv_sec as u64)
        .checked_mul(1_000_000)
        .and_then(|us| us.checked_add(tv_usec as u64))
        .ok_or_else(|| Error::decode(WHAT, format!("{tv_sec} s is out of range")))?;
    if us == 0 {
        return Err(Error::decode(WHAT, "zero"));
    }
    Ok(us)
}

/// What a process looks like from outside, for telling apart the reasons `KERN_PROCARGS2`
/// refused it (from `PROC_PIDT_SHORTBSDINFO`, which needs no privilege).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessState {
    /// `pbsi_uid`: the effective user the process runs as.
    pub uid: u32,
    /// `pbsi_status`: `p_stat` (`SIDL` 1 while being created, `SZOMB` 5 once exited).
    pub status: u32,
}

/// `p_stat` of a process being created (`bsd/sys/proc.h`).
pub const SIDL: u32 = 1;
/// `p_stat` of a process that exited and was not reaped yet (`bsd/sys/proc.h`).
pub const SZOMB: u32 = 5;

/// Why `KERN_PROCARGS2` gave no arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgsRefusal {
    /// The process is gone, or a zombie (which has no arguments left to read).
    Gone,
    /// Another user's process, and we are not root.
    OtherUser,
    /// The process is still starting (no user stack yet, or its task is not IPC-active), or
    /// is in the middle of an `exec`: asking again on a later sample will succeed.
    NotYet,
}

/// Classifies an `EINVAL` from `KERN_PROCARGS2`. `sysctl_procargsx` (`bsd/kern/kern_sysctl.c`)
/// answers `EINVAL` alike for a missing PID, another user's process (unless the caller is
/// root), a process with no user stack and a task that is not IPC-active (still starting or
/// exiting). `state` is what `PROC_PIDT_SHORTBSDINFO` said right after, `None` when it found no
/// such process; `our_uid` is our effective user.
pub fn classify_procargs_refusal(state: Option<ProcessState>, our_uid: u32) -> ArgsRefusal {
    match state {
        None => ArgsRefusal::Gone,
        Some(s) if s.status == SZOMB => ArgsRefusal::Gone,
        Some(s) if s.uid != our_uid && our_uid != 0 => ArgsRefusal::OtherUser,
        Some(_) => ArgsRefusal::NotYet,
    }
}

/// How CPU times from `proc_pid_rusage` (`ri_user_time`, `ri_system_time`, in Mach absolute
/// time units) become nanoseconds.
///
/// Natively `mach_timebase_info`'s `numer / denom` converts them (1/1 on Intel, 125/3 on Apple
/// Silicon). Under Rosetta (`sysctl.proc_translated` = 1), `mach_timebase_info` answers 1/1 for
/// the translated process while the kernel still counts rusage in the hardware's ticks, so
/// the ratio would make CPU times 41.67 times too small; there the hardware timer frequency
/// `hw.tbfrequency` (24 MHz on Apple Silicon, not translated) converts them, or 125/3 when it
/// cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuTimebase {
    numer: u64,
    denom: u64,
}

impl CpuTimebase {
    /// The conversion for this process, from `mach_timebase_info` (`numer`, `denom`),
    /// whether it runs translated, and `hw.tbfrequency` in Hz where it could be read.
    pub fn new(timebase: (u32, u32), translated: bool, tb_frequency_hz: Option<u64>) -> Self {
        if translated {
            match tb_frequency_hz {
                Some(hz) if hz > 0 => CpuTimebase {
                    numer: 1_000_000_000,
                    denom: hz,
                },
                // Apple Silicon's timer runs at 24 MHz: 125/3 ns per tick.
                _ => CpuTimebase {
                    numer: 125,
                    denom: 3,
                },
            }
        } else {
            CpuTimebase {
                numer: u64::from(timebase.0.max(1)),
                denom: u64::from(timebase.1.max(1)),
            }
        }
    }

    /// `ticks` as a duration.
    pub fn to_duration(self, ticks: u64) -> Duration {
        let ns = u128::from(ticks) * u128::from(self.numer) / u128::from(self.denom);
        Duration::from_nanos(u64::try_from(ns).unwrap_or(u64::MAX))
    }
}

/// Decodes `iogpu.wired_limit_mb` (Apple Silicon, macOS 14 and later): the most memory the
/// GPU may wire, in MiB, 0 for the system's default. Returns bytes (0 kept as 0).
pub fn decode_gpu_wired_limit_mb(value: i64) -> Result<u64> {
    u64::try_from(value)
        .ok()
        .and_then(|mb| mb.checked_mul(1024 * 1024))
        .ok_or_else(|| Error::decode("iogpu.wired_limit_mb", format!("{value} MiB")))
}

/// Reads a fixed-size C name field (`pbi_name`, `pbi_comm`): up to the first NUL, or the whole
/// field when it is full.
pub fn c_name(field: &[u8]) -> String {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

/// `PROC_PIDREGIONPATHINFO`, the `proc_pidinfo` flavor that returns the region at or after an
/// address with the file it maps (xnu `bsd/sys/proc_info.h`).
pub const PROC_PIDREGIONPATHINFO: i32 = 8;

/// `struct proc_regioninfo` followed by `struct vnode_info_path`, as xnu's
/// `bsd/sys/proc_info.h` declares them (`struct proc_regionwithpathinfo`); `libc` has no
/// binding. Only the layout matters here: it is the buffer [`decode_region_with_path`] reads,
/// and its size and offsets are checked against the header's at compile time below.
#[repr(C)]
#[allow(non_camel_case_types, dead_code)]
pub struct proc_regionwithpathinfo {
    /// `pri_protection`, `pri_max_protection`, `pri_inheritance`, `pri_flags`.
    pri_head: [u32; 4],
    pri_offset: u64,
    pri_behavior: u32,
    pri_user_wired_count: u32,
    pri_user_tag: u32,
    pri_pages_resident: u32,
    /// `pri_pages_shared_now_private` … `pri_depth`: ten `uint32_t`s.
    pri_tail: [u32; 10],
    pri_address: u64,
    pri_size: u64,
    /// `struct vinfo_stat`: `vst_dev` (u32), `vst_mode`, `vst_nlink` (u16), `vst_ino` (u64),
    /// `vst_uid`, `vst_gid`, eight `int64_t` times, `vst_size`, `vst_blocks`, four `uint32_t`,
    /// `vst_qspare[2]`.
    vst_dev: u32,
    vst_mode: u16,
    vst_nlink: u16,
    vst_ino: u64,
    vst_uid_gid: [u32; 2],
    vst_times: [i64; 8],
    vst_size_blocks: [i64; 2],
    vst_blksize_flags_gen_rdev: [u32; 4],
    vst_qspare: [i64; 2],
    /// `vi_type`, `vi_pad`, `vi_fsid` (`fsid_t`: two `int32_t`).
    vi_rest: [i32; 4],
    /// `vip_path[MAXPATHLEN]`, MAXPATHLEN being 1024 (`sys/param.h`).
    vip_path: [u8; 1024],
}

/// The byte size of [`proc_regionwithpathinfo`]: 96 for the region, 152 for the vnode, 1024
/// for the path.
pub const REGION_WITH_PATH_SIZE: usize = 1272;
const PAGES_RESIDENT_AT: usize = 36;
const ADDRESS_AT: usize = 80;
const SIZE_AT: usize = 88;
const DEV_AT: usize = 96;
const INO_AT: usize = 104;

const _: () = {
    use std::mem::{offset_of, size_of};
    assert!(size_of::<proc_regionwithpathinfo>() == REGION_WITH_PATH_SIZE);
    assert!(offset_of!(proc_regionwithpathinfo, pri_pages_resident) == PAGES_RESIDENT_AT);
    assert!(offset_of!(proc_regionwithpathinfo, pri_address) == ADDRESS_AT);
    assert!(offset_of!(proc_regionwithpathinfo, pri_size) == SIZE_AT);
    assert!(offset_of!(proc_regionwithpathinfo, vst_dev) == DEV_AT);
    assert!(offset_of!(proc_regionwithpathinfo, vst_ino) == INO_AT);
    // `struct proc_regioninfo` is 96 bytes and `struct vnode_info` 152 (248 before the path).
    assert!(offset_of!(proc_regionwithpathinfo, vst_dev) == 96);
    assert!(offset_of!(proc_regionwithpathinfo, vip_path) == 248);
};

/// One region of a process's address space, as `PROC_PIDREGIONPATHINFO` describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// Where it starts (`pri_address`).
    pub address: u64,
    /// Its length in bytes (`pri_size`); the next region is at or after `address + size`.
    pub size: u64,
    /// Pages of the region's memory object that are in RAM (`pri_pages_resident`): xnu
    /// counts them by looking each page of the range up in the object
    /// (`osfmk/kern/bsd_kern.c`, `fill_procregioninfo`, from `vm_map_region_walk`), so for a
    /// mapped file they are its pages in the cache, wired ones (held for the GPU) included.
    pub pages_resident: u32,
    /// The device and inode of the file it maps; `None` for memory that maps no file (the
    /// kernel leaves the vnode part zeroed).
    pub file: Option<(u32, u64)>,
}

/// Decodes the buffer `proc_pidinfo(pid, PROC_PIDREGIONPATHINFO, address, …)` filled.
pub fn decode_region_with_path(buf: &[u8]) -> Result<Region> {
    const WHAT: &str = "proc_pidinfo(PROC_PIDREGIONPATHINFO)";
    if buf.len() < REGION_WITH_PATH_SIZE {
        return Err(Error::decode(
            WHAT,
            format!("{} bytes, expected {REGION_WITH_PATH_SIZE}", buf.len()),
        ));
    }
    let u32_at = |at: usize| u32::from_ne_bytes(buf[at..at + 4].try_into().unwrap_or_default());
    let u64_at = |at: usize| u64::from_ne_bytes(buf[at..at + 8].try_into().unwrap_or_default());
    let (dev, ino) = (u32_at(DEV_AT), u64_at(INO_AT));
    Ok(Region {
        address: u64_at(ADDRESS_AT),
        size: u64_at(SIZE_AT),
        pages_resident: u32_at(PAGES_RESIDENT_AT),
        file: (ino != 0).then_some((dev, ino)),
    })
}

/// The names of the Mach `kern_return_t` codes, for an error a person reads: the values of
/// xnu's `osfmk/mach/kern_return.h`, which the macOS build checks against `mach2`'s constants
/// at compile time (`macos/mod.rs`). The ones a host or task call can return; any other is
/// shown by its number.
pub const KERN_RETURN_NAMES: [(i32, &str); 22] = [
    (1, "KERN_INVALID_ADDRESS"),
    (2, "KERN_PROTECTION_FAILURE"),
    (3, "KERN_NO_SPACE"),
    (4, "KERN_INVALID_ARGUMENT"),
    (5, "KERN_FAILURE"),
    (6, "KERN_RESOURCE_SHORTAGE"),
    (7, "KERN_NOT_RECEIVER"),
    (8, "KERN_NO_ACCESS"),
    (9, "KERN_MEMORY_FAILURE"),
    (10, "KERN_MEMORY_ERROR"),
    (14, "KERN_ABORTED"),
    (15, "KERN_INVALID_NAME"),
    (16, "KERN_INVALID_TASK"),
    (17, "KERN_INVALID_RIGHT"),
    (18, "KERN_INVALID_VALUE"),
    (22, "KERN_INVALID_HOST"),
    (37, "KERN_TERMINATED"),
    (46, "KERN_NOT_SUPPORTED"),
    (49, "KERN_OPERATION_TIMED_OUT"),
    (52, "KERN_INSUFFICIENT_BUFFER_SIZE"),
    (53, "KERN_DENIED"),
    (56, "KERN_NOT_FOUND"),
];

/// The Mach name of `code` (`KERN_INVALID_ARGUMENT`), where [`KERN_RETURN_NAMES`] has it.
pub fn kern_return_name(code: i32) -> Option<&'static str> {
    KERN_RETURN_NAMES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, n)| *n)
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! fixture {
        ($name:literal) => {
            include_str!(concat!("../tests/fixtures/macos/", $name))
        };
    }

    /// Every shared `vm_stat` capture, with the page size its header states.
    const VM_STATS: [(&str, &str, u64); 5] = [
        ("ollama-7255", fixture!("ollama-7255-m1-16k.txt"), 16384),
        (
            "openclaw",
            fixture!("openclaw-mini2-macmini-32g-16k.txt"),
            16384,
        ),
        (
            "slotstream (53 columns, MTE lines)",
            fixture!("slotstream-2026-09-09-mte-tagged-16k-wide.txt"),
            16384,
        ),
        (
            "timnewmac (53 columns, first 12 lines)",
            fixture!("timnewmac-16g-first12lines-wide.txt"),
            16384,
        ),
        ("wazuh", fixture!("wazuh-22113-4k.txt"), 4096),
    ];

    /// The value a labelled line of a capture prints, read independently of the parser.
    fn printed(text: &str, label: &str) -> Option<u64> {
        text.lines().find(|l| l.starts_with(label)).map(|l| {
            l.split_whitespace()
                .last()
                .unwrap()
                .trim_end_matches('.')
                .parse()
                .unwrap()
        })
    }

    #[test]
    fn every_vm_stat_capture_parses_into_bytes_of_its_page_size() {
        for (name, text, page) in VM_STATS {
            let (page_size, c) = VmCounts::parse_vm_stat(text).unwrap();
            assert_eq!(page_size, page, "{name}");
            let s = c.to_system(page_size);
            let pairs = [
                ("Pages free:", s.free_bytes),
                ("Pages active:", s.active_bytes),
                ("Pages inactive:", s.inactive_bytes),
                ("Pages speculative:", s.speculative_bytes),
                ("Pages wired down:", s.wired_bytes),
                ("Pages purgeable:", s.purgeable_bytes),
                ("File-backed pages:", s.file_backed_bytes),
                ("Anonymous pages:", s.anonymous_bytes),
                ("Pages stored in compressor:", s.compressed_bytes),
                ("Pages occupied by compressor:", s.compressor_bytes),
                ("Pageins:", s.pageins_bytes),
                ("Pageouts:", s.pageouts_bytes),
                ("Swapins:", s.swapins_bytes),
                ("Swapouts:", s.swapouts_bytes),
                ("Compressions:", s.compressions_bytes),
                ("Decompressions:", s.decompressions_bytes),
            ];
            for (label, bytes) in pairs {
                assert_eq!(
                    bytes,
                    printed(text, label).map(|p| p * page),
                    "{name}: {label}"
                );
            }
            // A truncated capture leaves what it lacks as None, never 0.
            if name.starts_with("timnewmac") {
                assert!(s.free_bytes.is_some() && s.anonymous_bytes.is_none());
                assert_eq!((s.compressor_bytes, s.swapouts_bytes), (None, None));
            }
        }
    }

    #[test]
    fn file_backed_plus_anonymous_is_active_inactive_speculative() {
        for (name, text, _) in VM_STATS {
            let (_, c) = VmCounts::parse_vm_stat(text).unwrap();
            let (Some(fb), Some(an)) = (c.file_backed, c.anonymous) else {
                continue; // the truncated capture stops before these lines
            };
            assert_eq!(c.throttled, Some(0), "{name}");
            let queues = c.active.unwrap() + c.inactive.unwrap() + c.speculative.unwrap();
            assert_eq!(fb + an, queues, "{name}");
        }
    }

    #[test]
    fn kernel_struct_decodes_with_vm_stat_semantics() {
        // The kernel's numbers behind the ollama-7255 capture: free_count includes speculative.
        let (_, want) = VmCounts::parse_vm_stat(fixture!("ollama-7255-m1-16k.txt")).unwrap();
        let raw = VmStatistics64 {
            free_count: 355378 + 56413,
            active_count: 222569,
            inactive_count: 166967,
            wire_count: 143109,
            speculative_count: 56413,
            throttled_count: 0,
            purgeable_count: 3946,
            compressor_page_count: 55586,
            external_page_count: 148451,
            internal_page_count: 297498,
            total_uncompressed_pages_in_compressor: 950231,
            faults: 587255247,
            zero_fill_count: 362639528,
            purges: 4050873,
            pageins: 18811038,
            pageouts: 1571431,
            swapins: 729059,
            swapouts: 6987980,
            compressions: 29079259,
            decompressions: 17560851,
        };
        assert_eq!(raw.decode(38, 38).unwrap(), want);
        assert!(raw.decode(37, 38).is_err(), "short answer");
        let garbage = VmStatistics64 {
            free_count: 1,
            speculative_count: 2,
            ..raw
        };
        assert!(garbage.decode(38, 38).is_err());
    }

    #[test]
    fn vm_stat_garbage_is_an_error_naming_the_line() {
        assert!(VmCounts::parse_vm_stat("").is_err());
        assert!(
            VmCounts::parse_vm_stat("hello\nPages free: 5.\n").is_err(),
            "no page size"
        );
        let e = VmCounts::parse_vm_stat(
            "Mach Virtual Memory Statistics: (page size of 16384 bytes)\nPages free: 12x.\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
        assert!(
            VmCounts::parse_vm_stat("Mach Virtual Memory Statistics: (page size of 4096 bytes)\n")
                .is_err(),
            "no counts"
        );
    }

    #[test]
    fn fast_counters_replace_the_slower_reading() {
        let (page, counts) =
            VmCounts::parse_vm_stat(fixture!("openclaw-mini2-macmini-32g-16k.txt")).unwrap();
        let mut d = DarwinSystem {
            memsize: 34359738368,
            page_size: page,
            slow: Some(SlowCounts {
                counts,
                age: Duration::from_millis(750),
            }),
            fast: FastCounters::default(),
            // memory_pressure printed 87 % two seconds later on the same host.
            free_percent: Some(decode_free_percent(87).unwrap()),
            pressure: Some(decode_pressure_level(1).unwrap()),
            swap: Some(decode_swap(0, 0, 0).unwrap()),
        };
        let s = d.to_system();
        assert_eq!(s.total_bytes, 34359738368);
        assert_eq!(s.wired_bytes, Some(142222 * page));
        assert_eq!(s.free_bytes, Some(15160 * page));
        assert_eq!(s.available_bytes, Some((15160 + 516277 + 11748) * page));
        assert_eq!(s.stats_age, Duration::from_millis(750));
        assert_eq!(
            (s.free_percent, s.pressure),
            (Some(87.0), Some(PressureLevel::Normal))
        );
        assert_eq!((s.swap_total_bytes, s.swap_used_bytes), (Some(0), Some(0)));
        assert_eq!(s.psi_some_avg10, None);

        // The memory_pressure run of the same report read 15123 free pages: free pages from
        // the fast counters win. The compressor's payload (vm.compressor_bytes_used, here 5 %
        // below the pool, as the kernel's own fragmentation figure allows) is its own field and
        // never stands in for the pool's size, which stays vm_stat's "Pages occupied by
        // compressor" × page size.
        let payload = 120555 * page / 100 * 95;
        d.fast = FastCounters {
            free_pages: Some(15123),
            compressor_payload_bytes: Some(payload),
            ..FastCounters::default()
        };
        let s = d.to_system();
        assert_eq!(s.free_bytes, Some(15123 * page));
        assert_eq!(s.compressor_bytes, Some(120555 * page));
        assert_eq!(s.compressor_payload_bytes, Some(payload));
        assert_eq!(s.active_bytes, Some(892723 * page), "from the slow reading");
        // Anonymous and file-backed pages come from the same answer as the queues.
        assert_eq!(
            s.file_backed_bytes.unwrap() + s.anonymous_bytes.unwrap(),
            s.active_bytes.unwrap() + s.inactive_bytes.unwrap() + s.speculative_bytes.unwrap()
        );

        // Before any host_statistics64 answer: the fast fields alone, the rest None.
        d.slow = None;
        let s = d.to_system();
        assert_eq!(s.free_bytes, Some(15123 * page));
        assert_eq!((s.active_bytes, s.wired_bytes), (None, None));
        assert_eq!((s.compressor_bytes, s.anonymous_bytes), (None, None));
        assert_eq!(s.available_bytes, None, "no file-backed count yet");
    }

    #[test]
    fn the_page_identity_holds_in_every_sample_built_from_a_capture() {
        for (name, text, _) in VM_STATS {
            let (page, counts) = VmCounts::parse_vm_stat(text).unwrap();
            let d = DarwinSystem {
                memsize: 1 << 34,
                page_size: page,
                slow: Some(SlowCounts {
                    counts,
                    age: Duration::ZERO,
                }),
                // Fast counters that differ from the capture, as a later read would.
                fast: FastCounters {
                    free_pages: counts.free.map(|f| f + 7),
                    purgeable_pages: counts.purgeable.map(|p| p + 3),
                    compressor_payload_bytes: Some(1),
                },
                free_percent: None,
                pressure: None,
                swap: None,
            };
            let s = d.to_system();
            let (Some(fb), Some(an)) = (s.file_backed_bytes, s.anonymous_bytes) else {
                continue; // the truncated capture
            };
            let queues =
                s.active_bytes.unwrap() + s.inactive_bytes.unwrap() + s.speculative_bytes.unwrap();
            assert_eq!(fb + an, queues, "{name}");
            assert_eq!(
                s.compressor_bytes,
                counts.occupied_by_compressor.map(|c| c * page),
                "{name}"
            );
        }
    }

    #[test]
    fn swap_from_the_sysctl_captures() {
        // `sysctl vm.swapusage` printed these (in MiB) from the same struct.
        let m = 1024 * 1024;
        let s = decode_swap(4096 * m, 1352 * m + m / 2, 2743 * m + m / 2).unwrap();
        assert_eq!((s.total_bytes, s.used_bytes), (4096 * m, 2743 * m + m / 2));
        assert_eq!(decode_swap(0, 0, 0).unwrap().used_bytes, 0);
        assert!(decode_swap(2048 * m, 0, 4096 * m).is_err());
        assert!(decode_swap(100, 60, 60).is_err());
    }

    #[test]
    fn an_inconsistent_swap_answer_is_read_once_more() {
        let m = 1024 * 1024;
        let good = (2048 * m, 1057 * m, 991 * m);
        let torn = (3072 * m, 1057 * m, 991 * m); // the count changed between the two reads
        let mut asked = 0;
        let s = decode_swap_twice(Some(torn), || {
            asked += 1;
            Some(good)
        })
        .unwrap();
        assert_eq!((s.total_bytes, asked), (2048 * m, 1));
        // A good first answer is not asked again.
        let s = decode_swap_twice(Some(good), || panic!("asked twice")).unwrap();
        assert_eq!(s.used_bytes, 991 * m);
        assert!(decode_swap_twice(Some(torn), || Some(torn)).is_err());
        assert!(decode_swap_twice(None, || None).is_err());
        assert!(decode_swap_twice(None, || Some(good)).is_ok());
    }

    #[test]
    fn pressure_level_and_free_percent() {
        assert_eq!(decode_pressure_level(1).unwrap(), PressureLevel::Normal);
        assert_eq!(decode_pressure_level(2).unwrap(), PressureLevel::Warning);
        assert_eq!(decode_pressure_level(4).unwrap(), PressureLevel::Critical);
        for bad in [0, 3, 5, -1, 1 << 40] {
            assert!(decode_pressure_level(bad).is_err(), "{bad}");
        }
        // The percentages memory_pressure printed in the captures.
        for (text, pct) in [
            (fixture!("openclaw-mini2-32g-2026-05-26.txt"), 87),
            (fixture!("quiet-Q-16g-2026-09-01.txt"), 66),
        ] {
            assert!(text.contains(&format!("free percentage: {pct}%")));
            assert_eq!(decode_free_percent(pct).unwrap(), pct as f64);
        }
        assert!(decode_free_percent(101).is_err());
        assert!(decode_free_percent(-1).is_err());
    }

    /// Builds a buffer the way `sysctl_procargsx` lays it out.
    /// The path is padded with NULs to the next multiple of 8 bytes from its start, as
    /// `exec_extract_strings` pads it for a 64-bit process.
    fn procargs(argc: i32, exe: &str, strings: &[&str]) -> Vec<u8> {
        let mut b = argc.to_ne_bytes().to_vec();
        b.extend_from_slice(exe.as_bytes());
        b.extend(std::iter::repeat_n(
            0u8,
            (exe.len() + 1).next_multiple_of(8) - exe.len(),
        ));
        for s in strings {
            b.extend_from_slice(s.as_bytes());
            b.push(0);
        }
        b
    }

    #[test]
    fn procargs2_runner_command_lines() {
        let line = fixture!("macos-app-ollama-runner-model-ctx-no-mmap-psaux.txt").trim();
        // ps joins argv with spaces; the app path has none, so split it back.
        let words: Vec<&str> = line.split(' ').collect();
        let mut strings = words.clone();
        strings.extend(["HOME=/Users/someone", "executable_path=/x", "ptr_munge="]);
        let buf = procargs(words.len() as i32, words[0], &strings);
        let got = decode_procargs2(&buf).unwrap();
        assert_eq!(got.exe, words[0]);
        assert_eq!(
            got.argv, words,
            "environment and apple strings are not argv"
        );

        let mlx = fixture!("macos-mlx-engine-prod-host-observed.txt").trim();
        let words: Vec<&str> = mlx.split(' ').collect();
        let got = decode_procargs2(&procargs(words.len() as i32, words[0], &words)).unwrap();
        assert_eq!(got.argv[3], "--model");
        assert_eq!(got.argv[4], "qwen3.5:4b-nvfp4");
    }

    #[test]
    fn procargs2_an_empty_argv0_does_not_swallow_the_first_argument() {
        // A launcher may exec with argv[0] = "": the kernel pads the path to 8 bytes and the
        // empty string sits right at the boundary.
        for exe in ["/bin/x", "/bin/xy1", "/usr/local/bin/ollama"] {
            let buf = procargs(3, exe, &["", "runner", "--port"]);
            let got = decode_procargs2(&buf).unwrap();
            assert_eq!(got.argv, ["", "runner", "--port"], "{exe}");
        }
        // Two empty arguments in a row are two arguments.
        let got = decode_procargs2(&procargs(3, "/bin/x", &["", "", "z"])).unwrap();
        assert_eq!(got.argv, ["", "", "z"]);
        // A path whose NUL ends exactly on the boundary has no padding at all.
        let exe = "/bin/ab"; // 7 bytes + NUL = 8
        let buf = procargs(2, exe, &["ab", "-v"]);
        assert_eq!(buf[4 + 8], b'a', "argv[0] right after the NUL");
        assert_eq!(decode_procargs2(&buf).unwrap().argv, ["ab", "-v"]);
    }

    #[test]
    fn procargs2_the_kernels_stand_in_for_unreadable_arguments() {
        // sysctl_procargs_no_read: argc 1, path, two NULs, the path again.
        let exe = "/usr/libexec/secretd"; // 20 bytes: the boundary would be at 24
        let mut buf = 1i32.to_ne_bytes().to_vec();
        buf.extend_from_slice(exe.as_bytes());
        buf.extend_from_slice(&[0, 0]);
        buf.extend_from_slice(exe.as_bytes());
        buf.push(0);
        let got = decode_procargs2(&buf).unwrap();
        assert_eq!((got.exe.as_str(), got.argv), (exe, vec![exe.to_owned()]));
    }

    #[test]
    fn procargs2_paths_with_spaces_stay_whole() {
        let exe = "/Users/First Last/bin/ollama";
        let model = "/Users/First Last/.ollama/models/blobs/sha256-ab12";
        let buf = procargs(4, exe, &[exe, "runner", "--model", model]);
        let got = decode_procargs2(&buf).unwrap();
        assert_eq!(got.argv, [exe, "runner", "--model", model]);
    }

    #[test]
    fn procargs2_argc_larger_than_the_strings_present() {
        let buf = procargs(9, "/bin/x", &["x", "a"]);
        assert_eq!(decode_procargs2(&buf).unwrap().argv, ["x", "a"]);
        // Cut inside the last argument: what is there is kept.
        let mut cut = procargs(3, "/bin/x", &["x", "abc"]);
        cut.truncate(cut.len() - 2);
        assert_eq!(decode_procargs2(&cut).unwrap().argv, ["x", "ab"]);
    }

    #[test]
    fn procargs2_a_huge_argc_does_not_allocate_for_it() {
        // Found by the fuzzer: argc 1 819 308 079 in a 120-byte buffer asked for 43 GB.
        let mut buf = 0x6c70_7041i32.to_ne_bytes().to_vec();
        buf.extend_from_slice(b"/bin/x\0\0ab\0cd\0");
        let got = decode_procargs2(&buf).unwrap();
        assert_eq!(got.argv, ["ab", "cd"]);
        assert!(got.argv.capacity() < 64);
    }

    #[test]
    fn procargs2_truncated_or_garbage_is_an_error() {
        assert!(decode_procargs2(&[]).is_err());
        assert!(decode_procargs2(&[1, 0]).is_err());
        assert!(decode_procargs2(&(-1i32).to_ne_bytes()).is_err());
        let full = procargs(2, "/bin/x", &["x", "y"]);
        for cut in [4, 6, 10] {
            assert!(decode_procargs2(&full[..cut]).is_err(), "cut at {cut}");
        }
        assert!(
            decode_procargs2(&procargs(1, "", &["x"])).is_err(),
            "empty path"
        );
        // argc 0 is an odd but valid process.
        assert!(decode_procargs2(&procargs(0, "/bin/x", &[]))
            .unwrap()
            .argv
            .is_empty());
        // Noise that happens to start with a small argc and a NUL-free tail.
        let mut noise = 2i32.to_ne_bytes().to_vec();
        noise.extend(std::iter::repeat_n(0xAB, 64));
        assert!(decode_procargs2(&noise).is_err());
    }

    #[test]
    fn start_times_in_microseconds() {
        // ps -o lstart and PROC_PIDTBSDINFO read the same p_start.
        assert_eq!(
            decode_start_time(1_747_214_703, 250_999).unwrap(),
            1_747_214_703_250_999
        );
        for (s, us) in [(0, 0), (-1, 0), (5, -1), (5, 1_000_000), (i64::MAX, 0)] {
            assert!(decode_start_time(s, us).is_err(), "{s} {us}");
        }
    }

    #[test]
    fn why_procargs_refused() {
        let me = 501;
        let state = |uid, status| Some(ProcessState { uid, status });
        assert_eq!(classify_procargs_refusal(None, me), ArgsRefusal::Gone);
        assert_eq!(
            classify_procargs_refusal(state(me, SZOMB), me),
            ArgsRefusal::Gone
        );
        // The Linux service user, or a LaunchDaemon's root, seen by a normal user.
        assert_eq!(
            classify_procargs_refusal(state(0, 2), me),
            ArgsRefusal::OtherUser
        );
        // Root reads everyone's: a refusal then means the process is not ready yet.
        assert_eq!(
            classify_procargs_refusal(state(me, 2), 0),
            ArgsRefusal::NotYet
        );
        assert_eq!(
            classify_procargs_refusal(state(me, SIDL), me),
            ArgsRefusal::NotYet
        );
        assert_eq!(
            classify_procargs_refusal(state(me, 2), me),
            ArgsRefusal::NotYet
        );
    }

    #[test]
    fn cpu_time_natively_and_under_rosetta() {
        let second = Duration::from_secs(1);
        // Apple Silicon natively: 24 million ticks a second, mach_timebase_info 125/3.
        assert_eq!(
            CpuTimebase::new((125, 3), false, None).to_duration(24_000_000),
            second
        );
        // Intel: ticks are nanoseconds.
        assert_eq!(
            CpuTimebase::new((1, 1), false, Some(1_000_000_000)).to_duration(1_000_000_000),
            second
        );
        // An x86_64 build under Rosetta: mach_timebase_info says 1/1, the ticks stay native.
        let rosetta = CpuTimebase::new((1, 1), true, Some(24_000_000));
        assert_eq!(rosetta.to_duration(24_000_000), second);
        let naive = CpuTimebase::new((1, 1), false, None).to_duration(24_000_000);
        assert_eq!(
            second.as_nanos() * 3 / naive.as_nanos(),
            125,
            "the 41.67× error"
        );
        // Without hw.tbfrequency, Apple Silicon's 125/3.
        assert_eq!(
            CpuTimebase::new((1, 1), true, None).to_duration(24_000_000),
            second
        );
        assert_eq!(
            CpuTimebase::new((0, 0), false, None).to_duration(5),
            Duration::from_nanos(5),
            "a zero timebase is not a division by zero"
        );
    }

    #[test]
    fn gpu_wired_limit() {
        assert_eq!(decode_gpu_wired_limit_mb(0).unwrap(), 0);
        assert_eq!(decode_gpu_wired_limit_mb(57344).unwrap(), 56 << 30);
        assert!(decode_gpu_wired_limit_mb(-1).is_err());
    }

    #[test]
    fn c_names() {
        assert_eq!(c_name(b"ollama\0\0\0\0\0\0\0\0\0\0"), "ollama");
        assert_eq!(c_name(b"ollama_llama_ser"), "ollama_llama_ser");
        assert_eq!(c_name(b""), "");
    }

    /// A buffer laid out as `struct proc_regionwithpathinfo`, the kernel's answer.
    fn region_buffer(address: u64, size: u64, resident: u32, dev: u32, ino: u64) -> Vec<u8> {
        let mut b = vec![0u8; REGION_WITH_PATH_SIZE];
        b[0..4].copy_from_slice(&1u32.to_ne_bytes()); // VM_PROT_READ
        b[36..40].copy_from_slice(&resident.to_ne_bytes());
        b[80..88].copy_from_slice(&address.to_ne_bytes());
        b[88..96].copy_from_slice(&size.to_ne_bytes());
        b[96..100].copy_from_slice(&dev.to_ne_bytes());
        b[104..112].copy_from_slice(&ino.to_ne_bytes());
        let path = b"/Users/a/.ollama/models/blobs/sha256-74701a8c";
        b[248..248 + path.len()].copy_from_slice(path);
        b
    }

    #[test]
    fn a_region_decodes_with_its_file_and_resident_pages() {
        let b = region_buffer(0x1_2000_0000, 256 << 20, 16_384, 0x1000010, 8_812_345);
        assert_eq!(
            decode_region_with_path(&b).unwrap(),
            Region {
                address: 0x1_2000_0000,
                size: 256 << 20,
                pages_resident: 16_384,
                file: Some((0x1000010, 8_812_345)),
            }
        );
        // Anonymous memory: the vnode part is left zeroed.
        let anon = region_buffer(0x1_0000_0000, 1 << 20, 3, 0, 0);
        assert_eq!(decode_region_with_path(&anon).unwrap().file, None);
        // A short answer is refused, saying what was read.
        let e = decode_region_with_path(&b[..96]).unwrap_err().to_string();
        assert!(
            e.contains("PROC_PIDREGIONPATHINFO") && e.contains("96 bytes"),
            "{e}"
        );
    }

    #[test]
    fn a_mach_error_is_named_as_mach_names_it_not_as_an_errno() {
        let e = Error::Kern {
            call: "host_statistics64(HOST_VM_INFO64)",
            code: 4,
            name: kern_return_name(4),
        };
        assert_eq!(
            e.to_string(),
            "host_statistics64(HOST_VM_INFO64) failed: KERN_INVALID_ARGUMENT (Mach error 4)"
        );
        // errno 4 is EINTR: the old message read "Interrupted system call".
        assert!(!e.to_string().contains("Interrupted"));
        let unknown = Error::Kern {
            call: "host_statistics64(HOST_VM_INFO64)",
            code: 300,
            name: kern_return_name(300),
        };
        assert_eq!(
            unknown.to_string(),
            "host_statistics64(HOST_VM_INFO64) failed with Mach error 300"
        );
        // Each name once, each code once.
        for (i, (c, n)) in KERN_RETURN_NAMES.iter().enumerate() {
            assert!(KERN_RETURN_NAMES[i + 1..]
                .iter()
                .all(|(c2, n2)| c2 != c && n2 != n));
        }
    }
}
