//! Pure parsers for the Linux `/proc` files the sampler reads.
//!
//! They take the text of a file and return typed values with units already converted to bytes
//! (the kernel's "kB" means KiB: `fs/proc/task_mmu.c` and `fs/proc/meminfo.c` print
//! `pages << (PAGE_SHIFT - 10)`). They compile and are tested on every OS; only the reads in the
//! Linux backend are Linux-only. They parse by label, ignore labels they do not know, and
//! return an error (never a zero) when a value they need is missing or malformed.
//!
//! Field meanings follow the kernel's `Documentation/filesystems/proc.rst` and
//! `Documentation/accounting/psi.rst`.

use crate::error::{Error, Result};
use crate::types::{PressureLevel, SystemSample};
use std::time::Duration;

/// PSI `some avg10` (in %) at or above which the pressure level is [`PressureLevel::Warning`].
///
/// `some` is the share of time in which at least one runnable task was stalled waiting for
/// memory (reclaim, refaults, swap-in). At 10 % of the last ten seconds, reclaim is costing
/// user-visible latency: the Linux counterpart of macOS's yellow state, where the compressor and
/// the page-out daemon are busy. Idle and lightly loaded machines sit at 0.00.
pub const PSI_WARNING_SOME_AVG10: f64 = 10.0;

/// PSI `full avg10` (in %) at or above which the pressure level is [`PressureLevel::Critical`].
///
/// `full` is the share of time in which *all* non-idle tasks were stalled on memory at once: the
/// machine did no useful work. A tenth of the last ten seconds lost that way is thrashing, the
/// counterpart of macOS's red state. It is deliberately far below the 60 % that systemd-oomd
/// uses by default before it kills a cgroup: we want to show the stall, not the kill.
pub const PSI_CRITICAL_FULL_AVG10: f64 = 10.0;

/// The lines of a procfs file, each split at its first byte `sep` takes: the part before it,
/// and the rest from its first byte that is neither a space nor a tab. Lines without such a
/// byte are skipped, and `\r` ends no line.
///
/// One pass over the bytes. `str::lines` and `split_once` each call `memchr` once per line,
/// and on lines this short that call costs more than the bytes it skips: with them, parsing
/// `status` and `meminfo` took half of the recorder's instructions per tick (callgrind).
fn split_lines(text: &str, sep: impl Fn(u8) -> bool) -> impl Iterator<Item = (&str, &str)> {
    let mut rest = text;
    std::iter::from_fn(move || loop {
        if rest.is_empty() {
            return None;
        }
        let bytes = rest.as_bytes();
        // The key, up to the separator or the line's end; then the value, up to the line's end.
        let at = bytes.iter().position(|&b| b == b'\n' || sep(b));
        let at = at.filter(|&i| bytes[i] != b'\n');
        let from = at.map_or(0, |i| i + 1);
        let end = bytes[from..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |n| from + n);
        // Every cut is at an ASCII byte, so at a character boundary.
        let line = &rest[..end];
        rest = rest.get(end + 1..).unwrap_or("");
        if let Some(i) = at {
            let value = &line[i + 1..];
            let blanks = value
                .bytes()
                .take_while(|&b| b == b' ' || b == b'\t')
                .count();
            return Some((&line[..i], &value[blanks..]));
        }
    })
}

/// `v` up to its first ASCII whitespace.
fn first_word(v: &str) -> &str {
    let end = v
        .bytes()
        .position(|b| b.is_ascii_whitespace())
        .unwrap_or(v.len());
    &v[..end]
}

/// `v` as a whole number in decimal digits alone, `None` when it is empty, holds anything
/// else or overflows. The kernel prints its counters so (`seq_put_decimal_ull`); `str::parse`
/// also takes a sign, and costs more per number than a file of them takes to read.
fn whole_number(v: &str) -> Option<u64> {
    if v.is_empty() {
        return None;
    }
    v.bytes().try_fold(0u64, |n, b| {
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        n.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

fn kib(what: &'static str, v: &str) -> Result<u64> {
    let n = whole_number(v)
        .ok_or_else(|| Error::decode(what, format!("`{v}` is not a whole number")))?;
    n.checked_mul(1024)
        .ok_or_else(|| Error::decode(what, format!("{v} kB overflows")))
}

/// The fields of `/proc/[pid]/stat` the sampler uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat<'a> {
    /// Field 1.
    pub pid: u32,
    /// Field 2, without the parentheses. It may contain spaces and parentheses itself.
    pub comm: &'a str,
    /// Field 3: `R`, `S`, `D`, `Z`, ...
    pub state: char,
    /// Field 4.
    pub ppid: u32,
    /// Field 5: the process group.
    pub pgrp: u32,
    /// Field 14: CPU time in user mode, clock ticks.
    pub utime_ticks: u64,
    /// Field 15: CPU time in kernel mode, clock ticks.
    pub stime_ticks: u64,
    /// Field 22: when the process started, in clock ticks since boot.
    pub start_ticks: u64,
}

/// Parses `/proc/[pid]/stat`. The command name is found between the first `(` and the *last*
/// `)`, since a process may name itself `a) b (c`.
pub fn parse_stat(text: &str) -> Result<Stat<'_>> {
    const WHAT: &str = "/proc/[pid]/stat";
    let open = text
        .find('(')
        .ok_or_else(|| Error::decode(WHAT, "no `(` before the command name"))?;
    let close = text
        .rfind(')')
        .filter(|&c| c > open)
        .ok_or_else(|| Error::decode(WHAT, "no `)` after the command name"))?;
    let pid = text[..open]
        .trim()
        .parse()
        .map_err(|_| Error::decode(WHAT, "field 1 (pid) is not a number"))?;
    let comm = &text[open + 1..close];
    // Fields from 3 on, so field N is at index N - 3.
    let mut rest = text[close + 1..].split_ascii_whitespace();
    let state = rest
        .next()
        .and_then(|s| s.chars().next())
        .ok_or_else(|| Error::decode(WHAT, "field 3 (state) is missing"))?;
    let ppid = rest
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Error::decode(WHAT, "field 4 (ppid) is missing or not a number"))?;
    let pgrp = rest
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Error::decode(WHAT, "field 5 (pgrp) is missing or not a number"))?;
    let mut number = |skip: usize, field: &str| -> Result<u64> {
        rest.nth(skip)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| Error::decode(WHAT, format!("field {field} is missing or not a number")))
    };
    // Fields 6 to 13 skipped, then 14 and 15; 16 to 21 skipped, then 22.
    let utime_ticks = number(8, "14 (utime)")?;
    let stime_ticks = number(0, "15 (stime)")?;
    let start_ticks = number(6, "22 (starttime)")?;
    Ok(Stat {
        pid,
        comm,
        state,
        ppid,
        pgrp,
        utime_ticks,
        stime_ticks,
        start_ticks,
    })
}

/// `/proc/[pid]/statm`, converted to bytes: counters the kernel keeps, so that reading it costs
/// a fraction of `status` (fs/proc/task_mmu.c `task_statm`: size = total_vm, resident = file +
/// anon + shmem pages, shared = file + shmem pages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Statm {
    /// Virtual size (same as `VmSize`).
    pub size_bytes: u64,
    /// Resident set size (same as `VmRSS`).
    pub resident_bytes: u64,
    /// Resident shared pages (`RssFile + RssShmem`).
    pub shared_bytes: u64,
    /// Text (code).
    pub text_bytes: u64,
    /// Data and stack.
    pub data_bytes: u64,
}

impl Statm {
    /// Resident anonymous memory (`RssAnon`): resident less shared.
    pub fn anon_bytes(&self) -> u64 {
        self.resident_bytes.saturating_sub(self.shared_bytes)
    }
}

/// The name of user `uid` in the text of `/etc/passwd` (`name:x:uid:gid:…` lines; comments and
/// malformed lines are skipped). `None` when it is not listed there.
pub fn user_name(passwd: &str, uid: u32) -> Option<&str> {
    passwd
        .lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let _password = f.next()?;
            (f.next()?.parse::<u32>().ok()? == uid && !name.is_empty()).then_some(name)
        })
}

/// The last PID allocated, from `/proc/loadavg`: its fifth and last field. The kernel prints
/// the cursor of the PID allocator of the *reading* process's PID namespace, less one
/// (fs/proc/loadavg.c: `idr_get_cursor(&task_active_pid_ns(current)->idr) - 1`); threads take
/// their IDs from the same allocator, so it moves at every process or thread created in that
/// namespace, which is the namespace whose processes this process's `/proc` lists.
pub fn parse_loadavg_last_pid(text: &str) -> Option<u32> {
    let mut fields = text.split_ascii_whitespace();
    let last = fields.nth(4)?;
    // Exactly five fields, the fourth `running/threads`.
    if fields.next().is_some() || !text.split_ascii_whitespace().nth(3)?.contains('/') {
        return None;
    }
    last.parse().ok()
}

/// The name in `/proc/[pid]/comm`: the file's bytes without the line end (the same name as
/// field 2 of `stat`, without parentheses; it may hold any byte but NUL and `\n`).
pub fn parse_comm(bytes: &[u8]) -> &[u8] {
    bytes.strip_suffix(b"\n").unwrap_or(bytes)
}

/// Parses `/proc/[pid]/statm`: seven numbers in pages. Needs the page size to give bytes.
pub fn parse_statm(text: &str, page_size: u64) -> Result<Statm> {
    const WHAT: &str = "/proc/[pid]/statm";
    let mut nums = [0u64; 7];
    let mut fields = text.split_ascii_whitespace();
    for (i, slot) in nums.iter_mut().enumerate() {
        let f = fields
            .next()
            .ok_or_else(|| Error::decode(WHAT, format!("{} numbers, expected 7", i)))?;
        *slot = whole_number(f)
            .ok_or_else(|| Error::decode(WHAT, format!("field {} `{f}` is not a number", i + 1)))?
            .saturating_mul(page_size);
    }
    Ok(Statm {
        size_bytes: nums[0],
        resident_bytes: nums[1],
        shared_bytes: nums[2],
        text_bytes: nums[3],
        data_bytes: nums[5],
    })
}

/// The fields of `/proc/[pid]/status` the sampler uses, in bytes.
///
/// The memory lines are absent for kernel threads and zombies; then the `Option`s are `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Status<'a> {
    /// `Name`.
    pub name: &'a str,
    /// First letter of `State`.
    pub state: Option<char>,
    /// `PPid`.
    pub ppid: Option<u32>,
    /// `VmSize`.
    pub vm_size: Option<u64>,
    /// `VmLck`: mlocked memory.
    pub vm_lck: Option<u64>,
    /// `VmHWM`: peak RSS.
    pub vm_hwm: Option<u64>,
    /// `VmRSS` = `RssAnon + RssFile + RssShmem`.
    pub vm_rss: Option<u64>,
    /// `RssAnon`.
    pub rss_anon: Option<u64>,
    /// `RssFile`.
    pub rss_file: Option<u64>,
    /// `RssShmem`.
    pub rss_shmem: Option<u64>,
    /// `VmSwap`: private anonymous memory in swap (zswap included).
    pub vm_swap: Option<u64>,
}

impl Status<'_> {
    /// The footprint as the sampler defines it on Linux: `RssAnon + RssShmem + VmSwap`.
    ///
    /// That is the memory the process alone keeps dirty: its anonymous pages in RAM, its shared
    /// memory pages, and what of its anonymous memory was pushed to swap or zswap. Clean
    /// file-backed pages (an mmapped model file that is only read) are left out, as macOS's
    /// `phys_footprint` leaves them out. `None` when any of the three is missing.
    pub fn footprint(&self) -> Option<u64> {
        Some(self.rss_anon? + self.rss_shmem? + self.vm_swap?)
    }
}

/// Parses `/proc/[pid]/status`. Reading stops once every line used was seen: the second half
/// of the file (signal masks, capabilities, CPU lists) is never needed.
pub fn parse_status(text: &str) -> Result<Status<'_>> {
    const WHAT: &str = "/proc/[pid]/status";
    const ALL: u16 = (1 << 11) - 1;
    let mut s = Status::default();
    let mut seen = 0u16;
    for (key, value) in split_lines(text, |b| b == b':') {
        let (bit, slot) = match key {
            "Name" => {
                s.name = value.trim_end();
                (0, None)
            }
            "State" => {
                s.state = value.chars().next();
                (1, None)
            }
            "PPid" => {
                let value = value.trim_end();
                s.ppid =
                    Some(value.parse().map_err(|_| {
                        Error::decode(WHAT, format!("PPid `{value}` is not a number"))
                    })?);
                (2, None)
            }
            "VmSize" => (3, Some(&mut s.vm_size)),
            "VmLck" => (4, Some(&mut s.vm_lck)),
            "VmHWM" => (5, Some(&mut s.vm_hwm)),
            "VmRSS" => (6, Some(&mut s.vm_rss)),
            "RssAnon" => (7, Some(&mut s.rss_anon)),
            "RssFile" => (8, Some(&mut s.rss_file)),
            "RssShmem" => (9, Some(&mut s.rss_shmem)),
            "VmSwap" => (10, Some(&mut s.vm_swap)),
            _ => continue,
        };
        if let Some(slot) = slot {
            *slot = Some(kib(WHAT, first_word(value))?);
        }
        seen |= 1 << bit;
        if seen == ALL {
            break;
        }
    }
    if seen & 1 == 0 {
        return Err(Error::decode(WHAT, "no `Name:` line"));
    }
    Ok(s)
}

/// Splits `/proc/[pid]/cmdline` into its arguments.
///
/// The file holds the arguments each ended by a NUL. A process that rewrites its own argv
/// (setproctitle) may leave one string with spaces and no NUL; that comes back as one argument.
/// Kernel threads and zombies have an empty file, which gives an empty vector. Bytes that are
/// not UTF-8 are replaced, so that a strange argument never hides the others.
pub fn parse_cmdline(bytes: &[u8]) -> Vec<String> {
    let bytes = bytes.strip_suffix(b"\0").unwrap_or(bytes);
    if bytes.is_empty() {
        return Vec::new();
    }
    bytes
        .split(|&b| b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

/// The fields of `/proc/meminfo` the sampler uses, in bytes. A line the kernel did not print
/// (older kernels have no `Zswap`, a truncated capture may stop anywhere) is `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Meminfo {
    /// `MemTotal`.
    pub mem_total: Option<u64>,
    /// `MemFree`.
    pub mem_free: Option<u64>,
    /// `MemAvailable` (Linux ≥ 3.14).
    pub mem_available: Option<u64>,
    /// `Active`.
    pub active: Option<u64>,
    /// `Inactive`.
    pub inactive: Option<u64>,
    /// `Active(anon)`.
    pub active_anon: Option<u64>,
    /// `Inactive(anon)`.
    pub inactive_anon: Option<u64>,
    /// `Active(file)`.
    pub active_file: Option<u64>,
    /// `Inactive(file)`.
    pub inactive_file: Option<u64>,
    /// `Unevictable`.
    pub unevictable: Option<u64>,
    /// `SwapTotal`.
    pub swap_total: Option<u64>,
    /// `SwapFree`.
    pub swap_free: Option<u64>,
    /// `Zswap`: memory the zswap pool occupies.
    pub zswap: Option<u64>,
    /// `Zswapped`: uncompressed size of what zswap holds.
    pub zswapped: Option<u64>,
}

/// Parses `/proc/meminfo`.
pub fn parse_meminfo(text: &str) -> Result<Meminfo> {
    const WHAT: &str = "/proc/meminfo";
    const ALL: u16 = (1 << 14) - 1;
    let mut m = Meminfo::default();
    let mut seen = 0u16;
    // The number is looked for only on the lines used, and reading stops once each was seen:
    // where the kernel has zswap, the last of them is the 18th of some 55 lines.
    for (key, rest) in split_lines(text, |b| b == b':') {
        let (bit, slot) = match key {
            "MemTotal" => (0, &mut m.mem_total),
            "MemFree" => (1, &mut m.mem_free),
            "MemAvailable" => (2, &mut m.mem_available),
            "Active" => (3, &mut m.active),
            "Inactive" => (4, &mut m.inactive),
            "Active(anon)" => (5, &mut m.active_anon),
            "Inactive(anon)" => (6, &mut m.inactive_anon),
            "Active(file)" => (7, &mut m.active_file),
            "Inactive(file)" => (8, &mut m.inactive_file),
            "Unevictable" => (9, &mut m.unevictable),
            "SwapTotal" => (10, &mut m.swap_total),
            "SwapFree" => (11, &mut m.swap_free),
            "Zswap" => (12, &mut m.zswap),
            "Zswapped" => (13, &mut m.zswapped),
            _ => continue,
        };
        // `Key:   value kB`: the unit is dropped, every line with one says `kB`.
        let value = first_word(rest);
        if value.is_empty() {
            continue;
        }
        *slot = Some(kib(WHAT, value)?);
        seen |= 1 << bit;
        if seen == ALL {
            break;
        }
    }
    if m.mem_total.is_none() {
        return Err(Error::decode(WHAT, "no `MemTotal:` line"));
    }
    Ok(m)
}

/// The cumulative counters of `/proc/vmstat` the sampler uses. `pgpgin`/`pgpgout` are in KiB,
/// the others in pages, as the kernel prints them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Vmstat {
    /// `pgpgin`: KiB read in from block devices.
    pub pgpgin_kib: Option<u64>,
    /// `pgpgout`: KiB written out to block devices.
    pub pgpgout_kib: Option<u64>,
    /// `pswpin`: pages swapped in.
    pub pswpin: Option<u64>,
    /// `pswpout`: pages swapped out.
    pub pswpout: Option<u64>,
    /// `zswpin`: pages loaded back from zswap.
    pub zswpin: Option<u64>,
    /// `zswpout`: pages stored into zswap.
    pub zswpout: Option<u64>,
}

/// Parses `/proc/vmstat` (`name value` per line).
pub fn parse_vmstat(text: &str) -> Result<Vmstat> {
    const WHAT: &str = "/proc/vmstat";
    let mut v = Vmstat::default();
    for (key, rest) in split_lines(text, |b| b.is_ascii_whitespace()) {
        let value = first_word(rest);
        if value.is_empty() {
            continue;
        }
        let slot = match key {
            "pgpgin" => &mut v.pgpgin_kib,
            "pgpgout" => &mut v.pgpgout_kib,
            "pswpin" => &mut v.pswpin,
            "pswpout" => &mut v.pswpout,
            "zswpin" => &mut v.zswpin,
            "zswpout" => &mut v.zswpout,
            _ => continue,
        };
        *slot = Some(
            value
                .parse()
                .map_err(|_| Error::decode(WHAT, format!("{key} `{value}` is not a number")))?,
        );
    }
    Ok(v)
}

/// One line of a PSI file.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PsiLine {
    /// Share of the last 10 s stalled, in %.
    pub avg10: f64,
    /// Share of the last 60 s stalled, in %.
    pub avg60: f64,
    /// Share of the last 300 s stalled, in %.
    pub avg300: f64,
    /// Cumulative stall time in microseconds; some dumpers (Android ANR reports) omit it.
    pub total_us: Option<u64>,
}

/// `/proc/pressure/memory`: the `some` and `full` lines.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Psi {
    /// At least one task stalled.
    pub some: Option<PsiLine>,
    /// All non-idle tasks stalled.
    pub full: Option<PsiLine>,
}

/// Parses a PSI file (`some avg10=… avg60=… avg300=… total=…`, then a `full` line). Lines
/// that start with neither word are ignored; `total=` may be missing.
pub fn parse_psi(text: &str) -> Result<Psi> {
    const WHAT: &str = "/proc/pressure/memory";
    let mut psi = Psi::default();
    for line in text.lines() {
        let mut words = line.split_ascii_whitespace();
        let slot = match words.next() {
            Some("some") => &mut psi.some,
            Some("full") => &mut psi.full,
            _ => continue,
        };
        let mut l = PsiLine::default();
        let (mut a10, mut a60, mut a300) = (false, false, false);
        for word in words {
            let Some((k, v)) = word.split_once('=') else {
                continue;
            };
            let bad = || Error::decode(WHAT, format!("`{word}` is not a number"));
            match k {
                "avg10" => (l.avg10, a10) = (percent(v).ok_or_else(bad)?, true),
                "avg60" => (l.avg60, a60) = (percent(v).ok_or_else(bad)?, true),
                "avg300" => (l.avg300, a300) = (percent(v).ok_or_else(bad)?, true),
                "total" => l.total_us = Some(v.parse().map_err(|_| bad())?),
                _ => {}
            }
        }
        if !(a10 && a60 && a300) {
            return Err(Error::decode(WHAT, format!("`{line}` lacks an average")));
        }
        *slot = Some(l);
    }
    if psi.some.is_none() {
        return Err(Error::decode(WHAT, "no `some` line"));
    }
    Ok(psi)
}

/// A PSI average: the kernel prints it as a whole number, a point and two digits
/// (`psi_show` in kernel/sched/psi.c: `avg10=%lu.%02lu`), read here without the general float
/// parser, which costs more than the rest of the file's parsing. The value is the same: a
/// correctly rounded division of two exact integers is the double nearest the decimal, as
/// `str::parse` gives. Any other form is parsed as a float.
fn percent(v: &str) -> Option<f64> {
    if let Some((whole, frac)) = v.split_once('.') {
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if frac.len() == 2 && whole.len() <= 9 && digits(whole) && digits(frac) {
            let hundredths = whole.parse::<u64>().ok()? * 100 + frac.parse::<u64>().ok()?;
            return Some(hundredths as f64 / 100.0);
        }
    }
    v.parse().ok()
}

/// The pressure level PSI implies: critical when `full avg10` reaches
/// [`PSI_CRITICAL_FULL_AVG10`], warning when `some avg10` reaches [`PSI_WARNING_SOME_AVG10`],
/// else normal. `None` when there is no `some` line to judge by.
pub fn pressure_from_psi(psi: &Psi) -> Option<PressureLevel> {
    let some = psi.some?;
    if psi.full.is_some_and(|f| f.avg10 >= PSI_CRITICAL_FULL_AVG10) {
        Some(PressureLevel::Critical)
    } else if some.avg10 >= PSI_WARNING_SOME_AVG10 {
        Some(PressureLevel::Warning)
    } else {
        Some(PressureLevel::Normal)
    }
}

/// The first field of `/proc/[pid]/schedstat`: nanoseconds the process has run on a CPU.
pub fn parse_schedstat(text: &str) -> Option<u64> {
    text.split_ascii_whitespace().next()?.parse().ok()
}

/// Reads `btime` (boot time, seconds since the Unix epoch) from `/proc/stat`.
pub fn parse_boot_time(proc_stat: &str) -> Result<u64> {
    proc_stat
        .lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| Error::decode("/proc/stat", "no numeric `btime` line"))
}

/// Converts a start time in clock ticks since boot to microseconds since the Unix epoch.
pub fn start_time_us(boot_time_s: u64, start_ticks: u64, ticks_per_s: u64) -> u64 {
    let ticks_per_s = ticks_per_s.max(1);
    let secs = start_ticks / ticks_per_s;
    let frac_us = (start_ticks % ticks_per_s) * 1_000_000 / ticks_per_s;
    (boot_time_s + secs) * 1_000_000 + frac_us
}

/// Builds a [`SystemSample`] from the three system files. `psi` is `None` when the kernel has
/// no PSI (built without `CONFIG_PSI` or booted with `psi=0`).
pub fn system_sample(
    meminfo: &Meminfo,
    vmstat: &Vmstat,
    psi: Option<&Psi>,
    page_size: u64,
) -> SystemSample {
    let add = |a: Option<u64>, b: Option<u64>| Some(a? + b?);
    let pages = |p: Option<u64>| p.map(|p| p.saturating_mul(page_size));
    let total = meminfo.mem_total.unwrap_or(0);
    let free_percent = match (meminfo.mem_available, meminfo.mem_total) {
        (Some(a), Some(t)) if t > 0 => Some(a as f64 * 100.0 / t as f64),
        _ => None,
    };
    SystemSample {
        total_bytes: total,
        free_bytes: meminfo.mem_free,
        available_bytes: meminfo.mem_available,
        active_bytes: meminfo.active,
        inactive_bytes: meminfo.inactive,
        speculative_bytes: None,
        wired_bytes: meminfo.unevictable,
        purgeable_bytes: None,
        compressor_bytes: meminfo.zswap,
        compressor_payload_bytes: None,
        compressed_bytes: meminfo.zswapped,
        file_backed_bytes: add(meminfo.active_file, meminfo.inactive_file),
        anonymous_bytes: add(meminfo.active_anon, meminfo.inactive_anon),
        swap_total_bytes: meminfo.swap_total,
        swap_used_bytes: match (meminfo.swap_total, meminfo.swap_free) {
            (Some(t), Some(f)) => Some(t.saturating_sub(f)),
            _ => None,
        },
        pageins_bytes: vmstat.pgpgin_kib.map(|k| k.saturating_mul(1024)),
        pageouts_bytes: vmstat.pgpgout_kib.map(|k| k.saturating_mul(1024)),
        swapins_bytes: pages(vmstat.pswpin),
        swapouts_bytes: pages(vmstat.pswpout),
        compressions_bytes: pages(vmstat.zswpout),
        decompressions_bytes: pages(vmstat.zswpin),
        free_percent,
        pressure: psi.and_then(pressure_from_psi),
        psi_some_avg10: psi.and_then(|p| p.some).map(|l| l.avg10),
        psi_full_avg10: psi.and_then(|p| p.full).map(|l| l.avg10),
        psi_some_total_us: psi.and_then(|p| p.some).and_then(|l| l.total_us),
        psi_full_total_us: psi.and_then(|p| p.full).and_then(|l| l.total_us),
        stats_age: Duration::ZERO,
    }
}

/// The address ranges in `/proc/[pid]/maps` that map the file with this device (`major`,
/// `minor`) and inode: the fields `start-end perms offset major:minor inode path` of each line
/// (`Documentation/filesystems/proc.rst`, hex addresses and device numbers, a decimal inode).
/// Matching by device and inode, not by path, finds the file whatever path the process opened
/// it by (a link, a relative path, a path with spaces). Lines that do not parse are skipped.
pub fn file_ranges(
    maps: &str,
    major: u32,
    minor: u32,
    inode: u64,
) -> impl Iterator<Item = (u64, u64)> + '_ {
    maps.lines().filter_map(move |line| {
        let mut f = line.split_ascii_whitespace();
        let (range, _perms, _offset, dev, ino) =
            (f.next()?, f.next()?, f.next()?, f.next()?, f.next()?);
        let (maj, min) = dev.split_once(':')?;
        let same = u32::from_str_radix(maj, 16).ok()? == major
            && u32::from_str_radix(min, 16).ok()? == minor
            && ino.parse::<u64>().ok()? == inode;
        let (start, end) = range.split_once('-')?;
        let (start, end) = (
            u64::from_str_radix(start, 16).ok()?,
            u64::from_str_radix(end, 16).ok()?,
        );
        // Inode 0 is no file: anonymous memory, the stack, the heap.
        (same && inode != 0 && end > start).then_some((start, end))
    })
}

/// How many `/proc/[pid]/pagemap` entries in `entries` say their page is in RAM and is a page
/// of the file: each entry is a native-endian `u64` per virtual page, bit 63 "page present" and
/// bit 61 "page is file-page or shared-anon" (`Documentation/admin-guide/mm/pagemap.rst`;
/// both readable without privileges, unlike the frame numbers). A page the process wrote in a
/// private mapping of the file is a copy of its own, anonymous (bit 61 clear): it is in the
/// footprint already (`RssAnon`), and not counted here, so footprint + this count holds no page
/// twice. A trailing partial entry is not counted.
pub fn count_present(entries: &[u8]) -> u64 {
    const PRESENT_FILE_PAGE: u64 = 1 << 63 | 1 << 61;
    entries
        .chunks_exact(8)
        .filter(|e| {
            let v = u64::from_ne_bytes([e[0], e[1], e[2], e[3], e[4], e[5], e[6], e[7]]);
            v & PRESENT_FILE_PAGE == PRESENT_FILE_PAGE
        })
        .count() as u64
}

#[cfg(test)]
mod tests {

    #[test]
    fn statm_and_its_anonymous_part() {
        // A process with VmRSS 15128 kB (RssAnon 11260 + RssFile 0 + RssShmem 3868), in 4 KiB
        // pages, as task_statm prints it: resident 3782 = 2815 anonymous + 967 shared.
        let m = parse_statm("5300 3782 967 1 0 3100 0\n", 4096).unwrap();
        assert_eq!(m.resident_bytes, 15128 * 1024);
        assert_eq!(m.anon_bytes(), 11260 * 1024);
        // A zombie's statm is all zeros.
        assert_eq!(
            parse_statm("0 0 0 0 0 0 0", 4096).unwrap().resident_bytes,
            0
        );
    }

    #[test]
    fn the_last_pid_of_loadavg() {
        // The kernel's format: "%lu.%02lu %lu.%02lu %lu.%02lu %u/%d %d\n".
        assert_eq!(
            parse_loadavg_last_pid("0.52 0.58 0.59 3/971 123456\n"),
            Some(123_456)
        );
        assert_eq!(parse_loadavg_last_pid("0.00 0.01 0.05 1/89 7"), Some(7));
        for bad in [
            "",
            "0.52 0.58 0.59 3/971",
            "0.52 0.58 0.59 3 971 12",
            "a b c d/e f g",
            "0.5 0.5 0.5 1/2 x",
        ] {
            assert_eq!(parse_loadavg_last_pid(bad), None, "{bad:?}");
        }
    }

    use super::*;

    const MIB: u64 = 1024 * 1024;

    macro_rules! fixture {
        ($name:literal) => {
            include_str!(concat!("../tests/fixtures/", $name))
        };
    }

    #[test]
    fn stat_takes_the_name_between_first_and_last_parenthesis() {
        let s = parse_stat(fixture!("proc-pid-stat-comm-with-parens.txt")).unwrap();
        assert_eq!(s.pid, 2711);
        assert_eq!(s.comm, "a) b (c");
        assert_eq!(s.state, 'R');
        assert_eq!((s.ppid, s.pgrp), (2708, 2708));
        assert_eq!(s.start_ticks, 22971);
    }

    #[test]
    fn user_names_from_passwd() {
        let passwd = "# local users\nroot:x:0:0:root:/root:/bin/bash\n\
                      ollama:x:999:996::/usr/share/ollama:/bin/false\nbroken line\n::5:5::/:\n";
        assert_eq!(user_name(passwd, 999), Some("ollama"));
        assert_eq!(user_name(passwd, 0), Some("root"));
        assert_eq!(user_name(passwd, 5), None, "no name");
        assert_eq!(user_name(passwd, 1000), None);
    }

    #[test]
    fn comm_is_the_same_name_as_stat_gives() {
        let stat = parse_stat(fixture!("proc-pid-stat-comm-with-parens.txt")).unwrap();
        assert_eq!(parse_comm(b"a) b (c\n"), stat.comm.as_bytes());
        assert_eq!(parse_comm(b"ollama"), b"ollama");
        assert_eq!(parse_comm(b""), b"");
    }

    #[test]
    fn stat_of_a_running_and_a_zombie_process() {
        let s = parse_stat(fixture!("proc-pid-stat-python.txt")).unwrap();
        assert_eq!(
            (s.pid, s.comm, s.state, s.ppid),
            (2752, "python3", 'S', 2708)
        );
        assert_eq!(s.start_ticks, 22984);
        // Fields 14 and 15 of the capture: 3 and 2 ticks of CPU.
        assert_eq!((s.utime_ticks, s.stime_ticks), (3, 2));
        let z = parse_stat(fixture!("proc-pid-stat-zombie.txt")).unwrap();
        assert_eq!((z.comm, z.state, z.start_ticks), ("sleep", 'Z', 22427));
        // A process whose group is not its parent's: field 5 is read, not field 4 again.
        assert_eq!((z.ppid, z.pgrp), (2657, 2639));
    }

    #[test]
    fn stat_rejects_truncated_and_garbage_text() {
        let full = fixture!("proc-pid-stat-python.txt");
        for cut in [0, 5, 14, 20, 60] {
            assert!(parse_stat(&full[..cut]).is_err(), "cut at {cut}");
        }
        assert!(parse_stat("garbage").is_err());
        assert!(parse_stat("12 (x) S notanumber").is_err());
    }

    #[test]
    fn schedstat_run_time() {
        // `/proc/self/schedstat` on this project's Linux host: run ns, wait ns, timeslices.
        assert_eq!(parse_schedstat("4208571 105672 52\n"), Some(4_208_571));
        assert_eq!(parse_schedstat(""), None);
        assert_eq!(parse_schedstat("x 1 2"), None);
    }

    #[test]
    fn start_time_joins_boot_time_and_ticks() {
        let btime = parse_boot_time(fixture!("proc-stat-btime.txt")).unwrap();
        assert_eq!(btime, 1_795_401_048);
        // 22984 ticks at 100 Hz = 229.84 s after boot.
        assert_eq!(start_time_us(btime, 22984, 100), 1_795_401_277_840_000);
        assert!(parse_boot_time("cpu 1 2 3\n").is_err());
    }

    #[test]
    fn statm_is_pages_times_page_size_and_matches_status() {
        let m = parse_statm(fixture!("proc-pid-statm-python.txt"), 4096).unwrap();
        assert_eq!(m.resident_bytes, 16175 * 4096);
        assert_eq!(m.size_bytes, 16942 * 4096);
        assert_eq!(m.shared_bytes, 1659 * 4096);
        let st = parse_status(fixture!("proc-pid-status-python.txt")).unwrap();
        // Taken a moment apart from the same process: RSS and VmSize agree exactly.
        assert_eq!(Some(m.resident_bytes), st.vm_rss);
        assert_eq!(Some(m.size_bytes), st.vm_size);
        assert!(parse_statm("1 2 3", 4096).is_err());
        assert!(parse_statm("1 2 x 4 5 6 7", 4096).is_err());
    }

    #[test]
    fn status_fields_are_kib_times_1024() {
        let s = parse_status(fixture!("proc-pid-status-ubuntu-6.14-aarch64.txt")).unwrap();
        assert_eq!(s.name, "gnome-terminal-");
        assert_eq!(s.state, Some('S'));
        assert_eq!(s.ppid, Some(1875));
        assert_eq!(s.vm_rss, Some(56284 * 1024));
        assert_eq!(s.vm_hwm, Some(56420 * 1024));
        assert_eq!(s.vm_size, Some(645228 * 1024));
        assert_eq!(s.vm_lck, Some(0));
        assert_eq!(s.vm_swap, Some(0));
        // proc.rst: VmRSS = RssAnon + RssFile + RssShmem.
        assert_eq!(
            s.vm_rss.unwrap(),
            s.rss_anon.unwrap() + s.rss_file.unwrap() + s.rss_shmem.unwrap()
        );
        assert_eq!(s.footprint(), Some((11260 + 3868) * 1024));
    }

    #[test]
    fn status_footprint_of_a_process_holding_50_mib() {
        let s = parse_status(fixture!("proc-pid-status-python.txt")).unwrap();
        assert_eq!(s.name, "python3");
        let fp = s.footprint().unwrap();
        assert!(fp >= 50 * MIB, "footprint {fp}");
        assert_eq!(fp, 58064 * 1024);
    }

    #[test]
    fn zombie_status_has_no_memory() {
        let s = parse_status(fixture!("proc-pid-status-zombie.txt")).unwrap();
        assert_eq!(s.state, Some('Z'));
        assert_eq!(s.vm_rss, None);
        assert_eq!(s.footprint(), None);
    }

    #[test]
    fn status_errors_name_the_field() {
        let e = parse_status("Name:\tx\nVmRSS:\t12x kB\n").unwrap_err();
        assert!(e.to_string().contains("12x"), "{e}");
        assert!(parse_status("").is_err());
        assert!(parse_status("\u{0}\u{1}garbage").is_err());
    }

    #[test]
    fn cmdline_splits_on_nul_and_keeps_spaces() {
        let argv = parse_cmdline(include_bytes!(
            "../tests/fixtures/proc-pid-cmdline-bash-arg-with-space.bin"
        ));
        assert_eq!(argv, ["bash", "-c", "sleep 300; true", "arg with space"]);
        assert!(parse_cmdline(b"").is_empty());
        // setproctitle style: one string, no trailing NUL.
        assert_eq!(
            parse_cmdline(b"nginx: worker process"),
            ["nginx: worker process"]
        );
        assert_eq!(parse_cmdline(b"a\0\xff\0"), ["a", "\u{fffd}"]);
    }

    #[test]
    fn meminfo_full_and_truncated() {
        let m = parse_meminfo(fixture!("proc-meminfo-full.txt")).unwrap();
        assert_eq!(m.mem_total, Some(24684092 * 1024));
        assert_eq!(m.mem_available, Some(24360256 * 1024));
        assert_eq!(m.zswap, Some(0));
        assert_eq!(m.unevictable, Some(10224 * 1024));

        let p = parse_meminfo(fixture!("proc-meminfo-uutils-389-32g-PARTIAL.txt")).unwrap();
        assert_eq!(p.mem_total, Some(32582172 * 1024));
        assert_eq!(p.swap_total, Some(23437308 * 1024));
        assert_eq!(p.active_anon, Some(7464 * 1024));
        // Active = Active(anon) + Active(file) in the kernel's own figures.
        assert_eq!(p.active, Some((7464 + 2982988) * 1024));

        // A capture cut in the middle: lines present are read, the rest are None.
        let text = fixture!("proc-meminfo-uutils-389-32g-PARTIAL.txt");
        let cut = &text[..text.find("SwapTotal").unwrap()];
        let c = parse_meminfo(cut).unwrap();
        assert_eq!(c.mem_free, Some(14404020 * 1024));
        assert_eq!((c.swap_total, c.zswap), (None, None));

        assert!(parse_meminfo("Buffers: 5 kB\n").is_err(), "no MemTotal");
        assert!(parse_meminfo("MemTotal: lots kB\n").is_err());
    }

    /// `split_lines` against what `str::lines` and `split_once` give, on real files and on
    /// lines a capture may bend: empty, unended, CRLF, no separator, blanks and tabs.
    #[test]
    fn the_one_pass_line_reader_splits_as_lines_and_split_once_do() {
        let plain = |text: &str, sep: char| -> Vec<(String, String)> {
            text.lines()
                .filter_map(|l| l.split_once(sep))
                .map(|(k, v)| (k.to_owned(), v.trim_start_matches([' ', '\t']).to_owned()))
                .collect()
        };
        let ours = |text: &str, sep: u8| -> Vec<(String, String)> {
            split_lines(text, |b| b == sep)
                .map(|(k, v)| (k.to_owned(), v.trim_end_matches('\r').to_owned()))
                .collect()
        };
        let live: Vec<String> = ["/proc/meminfo", "/proc/self/status", "/proc/vmstat"]
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .collect();
        let mut texts: Vec<&str> = vec![
            fixture!("proc-meminfo-full.txt"),
            fixture!("proc-meminfo-uutils-389-32g-PARTIAL.txt"),
            fixture!("proc-pid-status-python.txt"),
            fixture!("proc-pid-status-ubuntu-6.14-aarch64.txt"),
            fixture!("proc-pid-status-zombie.txt"),
            fixture!("proc-vmstat.txt"),
            "",
            "\n\n",
            "MemTotal: 5 kB",
            "MemTotal:\t\t5 kB\r\nNo colon here\r\n:\n a: b : c\nName:\t\u{e9}t\u{e9}: x\n",
            "pgpgin 5\npswpin  7\nlone\n\npgpgout\t9 \n",
        ];
        texts.extend(live.iter().map(String::as_str));
        for text in texts {
            assert_eq!(ours(text, b':'), plain(text, ':'), "{text:?}");
            assert_eq!(ours(text, b' '), plain(text, ' '), "{text:?}");
        }
        assert_eq!(first_word("123 kB"), "123");
        assert_eq!(first_word("7\r"), "7");
        assert_eq!(first_word(""), "");
    }

    #[test]
    fn a_whole_number_is_read_as_the_integer_parser_reads_digits() {
        for v in [
            "0",
            "7",
            "0012",
            "18446744073709551615",
            "4096",
            "123456789",
        ] {
            assert_eq!(whole_number(v), v.parse::<u64>().ok(), "{v}");
        }
        let mut x = 1u64;
        while let Some(next) = x.checked_mul(7) {
            assert_eq!(whole_number(&x.to_string()), Some(x));
            x = next + 3;
        }
        for bad in [
            "",
            "18446744073709551616",
            "99999999999999999999",
            "12x",
            "-1",
            "+1",
            " 1",
        ] {
            assert_eq!(whole_number(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn status_meminfo_and_vmstat_read_crlf_captures_as_the_kernel_s_own() {
        let crlf = |t: &str| t.replace('\n', "\r\n");
        let status = fixture!("proc-pid-status-ubuntu-6.14-aarch64.txt");
        assert_eq!(
            parse_status(&crlf(status)).unwrap(),
            parse_status(status).unwrap()
        );
        let meminfo = fixture!("proc-meminfo-full.txt");
        assert_eq!(
            parse_meminfo(&crlf(meminfo)).unwrap(),
            parse_meminfo(meminfo).unwrap()
        );
        let vmstat = fixture!("proc-vmstat.txt");
        assert_eq!(
            parse_vmstat(&crlf(vmstat)).unwrap(),
            parse_vmstat(vmstat).unwrap()
        );
    }

    #[test]
    fn vmstat_counters() {
        let v = parse_vmstat(fixture!("proc-vmstat.txt")).unwrap();
        assert_eq!(v.pgpgin_kib, Some(1033817));
        assert_eq!(v.pgpgout_kib, Some(2360912));
        assert_eq!(
            (v.pswpin, v.pswpout, v.zswpin, v.zswpout),
            (Some(0), Some(0), Some(0), Some(0))
        );
        assert!(parse_vmstat("pswpin x\n").is_err());
        assert_eq!(parse_vmstat("").unwrap(), Vmstat::default());
    }

    /// The lines of one resource's block in a capture that holds several.
    fn section(text: &str, header: &str) -> String {
        text.lines()
            .skip_while(|l| !l.contains(header))
            .skip(1)
            .take_while(|l| l.starts_with("some") || l.starts_with("full"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn psi_averages_read_as_the_float_parser_reads_them() {
        let mut x: u64 = 7;
        let mut texts: Vec<String> = ["0.00", "100.00", "99.99", "0.01", "12.5", "7", "1e2"]
            .map(String::from)
            .to_vec();
        for _ in 0..100_000 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let h = (x >> 33) % 100_000_000;
            texts.push(format!("{}.{:02}", h / 100, h % 100));
        }
        for t in texts {
            assert_eq!(percent(&t), Some(t.parse::<f64>().unwrap()), "{t}");
        }
        for bad in ["", ".", "1.", ".25", "a.bc", "1.2.3", "-"] {
            assert_eq!(percent(bad), bad.parse::<f64>().ok(), "{bad:?}");
        }
    }

    #[test]
    fn psi_with_and_without_totals() {
        let idle = parse_psi(fixture!("proc-pressure-memory.txt")).unwrap();
        assert_eq!(idle.some.unwrap().total_us, Some(0));
        assert_eq!(pressure_from_psi(&idle), Some(PressureLevel::Normal));

        let text = section(
            fixture!("proc-pressure-samples-android-kernel-comment.txt"),
            "cat memory",
        );
        let p = parse_psi(&text).unwrap();
        assert_eq!(p.some.unwrap().total_us, Some(29705314));
        assert_eq!(p.full.unwrap().total_us, Some(17234456));

        let text = section(
            fixture!("proc-pressure-memory-android-anr-no-total.txt"),
            "/proc/pressure/memory",
        );
        let anr = parse_psi(&text).unwrap();
        let (some, full) = (anr.some.unwrap(), anr.full.unwrap());
        assert_eq!((some.avg10, some.avg60, some.avg300), (82.71, 58.68, 20.55));
        assert_eq!((full.avg10, full.total_us), (51.17, None));
        assert_eq!(pressure_from_psi(&anr), Some(PressureLevel::Critical));
    }

    #[test]
    fn psi_levels_follow_the_named_thresholds() {
        let line = |avg10| PsiLine {
            avg10,
            ..PsiLine::default()
        };
        let level = |some, full| {
            pressure_from_psi(&Psi {
                some: Some(line(some)),
                full: Some(line(full)),
            })
        };
        assert_eq!(level(0.0, 0.0), Some(PressureLevel::Normal));
        assert_eq!(
            level(PSI_WARNING_SOME_AVG10 - 0.01, 0.0),
            Some(PressureLevel::Normal)
        );
        assert_eq!(
            level(PSI_WARNING_SOME_AVG10, 0.0),
            Some(PressureLevel::Warning)
        );
        assert_eq!(
            level(50.0, PSI_CRITICAL_FULL_AVG10),
            Some(PressureLevel::Critical)
        );
        assert_eq!(pressure_from_psi(&Psi::default()), None);
        assert!(parse_psi("some avg10=1.0\n").is_err(), "missing averages");
        assert!(
            parse_psi("full avg10=0.00 avg60=0.00 avg300=0.00\n").is_err(),
            "no some line"
        );
        assert!(parse_psi("some avg10=x avg60=0 avg300=0\n").is_err());
    }

    #[test]
    fn system_sample_from_real_files() {
        let m = parse_meminfo(fixture!("proc-meminfo-uutils-389-32g-PARTIAL.txt")).unwrap();
        let v = parse_vmstat(fixture!("proc-vmstat.txt")).unwrap();
        let s = system_sample(&m, &v, None, 4096);
        assert_eq!(s.total_bytes, 32582172 * 1024);
        let pct = s.free_percent.unwrap();
        assert!((pct - 21731464.0 * 100.0 / 32582172.0).abs() < 1e-9);
        assert_eq!(s.swap_used_bytes, Some(0));
        assert_eq!(s.anonymous_bytes, Some((7464 + 8366504) * 1024));
        assert_eq!(s.file_backed_bytes, Some((2982988 + 4637776) * 1024));
        assert_eq!(s.pageins_bytes, Some(1033817 * 1024));
        // What Linux lacks is None, never 0.
        assert_eq!(s.speculative_bytes, None);
        assert_eq!(s.purgeable_bytes, None);
        assert_eq!((s.pressure, s.psi_some_avg10), (None, None));
        assert_eq!(s.stats_age, Duration::ZERO);
    }

    #[test]
    fn the_mapping_of_a_file_is_found_by_device_and_inode() {
        let maps = include_str!("../tests/fixtures/linux-maps-runner-with-mapped-model.txt");
        let found: Vec<(u64, u64)> = file_ranges(maps, 0xfe, 0x00, 10149969).collect();
        assert_eq!(found, [(0x7f209ee00000, 0x7f209f600000)]);
        assert_eq!(found[0].1 - found[0].0, 8 << 20);
        // Another inode on the same device, or the same inode on another device: none.
        assert_eq!(file_ranges(maps, 0xfe, 0x00, 10149970).count(), 0);
        assert_eq!(file_ranges(maps, 0xfe, 0x01, 10149969).count(), 0);
        // Anonymous lines (device 00:00, inode 0) and torn lines are passed over.
        assert_eq!(
            file_ranges("7f00-7f10 rw-p 0 00:00 0\nnot a line\n", 0, 0, 0).count(),
            0
        );
    }

    #[test]
    fn present_file_pages_are_counted_by_bits_63_and_61() {
        let mut entries = Vec::new();
        for e in [
            1u64 << 63 | 1 << 61 | 0x1234,
            0,
            1 << 62 | 1 << 61,
            1 << 63 | 1 << 61,
            1 << 63,
            0x7fff_ffff_ffff_ffff,
        ] {
            entries.extend_from_slice(&e.to_ne_bytes());
        }
        // A file page in RAM; absent; swapped (bit 62); a file page in RAM without its frame
        // number (an unprivileged reader's view); the process's own copy of a page (present,
        // anonymous: in the footprint already); absent.
        assert_eq!(count_present(&entries), 2);
        assert_eq!(count_present(&entries[..12]), 1);
        assert_eq!(count_present(&[]), 0);
    }
}
