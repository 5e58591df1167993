//! Pure decoders for what the macOS kernel returns, and for the text of Apple's `vm_stat`.
//!
//! The macOS backend copies the kernel's structures (laid out by the `libc` and `mach2`
//! crates, never by hand) field by field into the plain types here, and these functions turn
//! them into memtide's types. They compile and are tested on every OS, on buffers built like
//! the kernel's and on real `vm_stat`, `memory_pressure` and `sysctl` outputs.
//!
//! Semantics follow xnu and Apple's `system_cmds` (the repository's platform notes cite the
//! lines): `host_statistics64(HOST_VM_INFO64)` is filled by `vm_stats()` in
//! `osfmk/kern/host.c`, and `vm_stat` prints it in `vm_stat/vm_stat.c`.

use crate::error::{Error, Result};
use crate::types::{PressureLevel, SystemSample};
use std::time::Duration;

/// The fields of the kernel's `vm_statistics64` that memtide reads, as the kernel returns them
/// (in pages; counters cumulative since boot). The backend copies them by name from `mach2`'s
/// struct.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct VmStatistics64 {
    /// Free pages *including* speculative ones (`host.c`: `vm_page_free_count +
    /// vm_page_speculative_count`).
    pub free_count: u64,
    pub active_count: u64,
    pub inactive_count: u64,
    /// Wired pages; on macOS the kernel already adds the throttled queue and the low-memory
    /// free pages (`host.c` `vm_stats()`).
    pub wire_count: u64,
    pub speculative_count: u64,
    pub throttled_count: u64,
    pub purgeable_count: u64,
    pub compressor_page_count: u64,
    pub external_page_count: u64,
    pub internal_page_count: u64,
    pub total_uncompressed_pages_in_compressor: u64,
    pub faults: u64,
    pub zero_fill_count: u64,
    pub purges: u64,
    pub pageins: u64,
    pub pageouts: u64,
    pub swapins: u64,
    pub swapouts: u64,
    pub compressions: u64,
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FastCounters {
    /// `vm.page_free_count`: free pages, speculative excluded (vm_stat's "Pages free").
    pub free_pages: Option<u64>,
    /// `vm.page_speculative_count`.
    pub speculative_pages: Option<u64>,
    /// `vm.page_purgeable_count`.
    pub purgeable_pages: Option<u64>,
    /// `vm.page_pageable_internal_count`: anonymous pageable pages.
    pub internal_pages: Option<u64>,
    /// `vm.page_pageable_external_count`: file-backed pageable pages.
    pub external_pages: Option<u64>,
    /// `vm.compressor_bytes_used`: physical bytes the compressor occupies.
    pub compressor_bytes_used: Option<u64>,
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
    /// Joins the readings into one sample. The fast counters, read this tick, take the place
    /// of the matching `host_statistics64` fields; the rest of those fields carry the reading's
    /// age in [`SystemSample::stats_age`].
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
        let or = |fresh: Option<u64>, old: Option<u64>| fresh.or(old);
        s.free_bytes = or(b(f.free_pages), s.free_bytes);
        s.speculative_bytes = or(b(f.speculative_pages), s.speculative_bytes);
        s.purgeable_bytes = or(b(f.purgeable_pages), s.purgeable_bytes);
        s.anonymous_bytes = or(b(f.internal_pages), s.anonymous_bytes);
        s.file_backed_bytes = or(b(f.external_pages), s.file_backed_bytes);
        s.compressor_bytes = or(f.compressor_bytes_used, s.compressor_bytes);
        if let (Some(free), Some(ext), Some(purg)) =
            (s.free_bytes, s.file_backed_bytes, s.purgeable_bytes)
        {
            s.available_bytes = Some(free + ext + purg);
        }
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

/// Decodes the buffer `sysctl {CTL_KERN, KERN_PROCARGS2, pid}` fills
/// (`bsd/kern/kern_sysctl.c` `sysctl_procargsx`): a native-endian 32-bit `argc`, the
/// executable path ended by a NUL and padded with more NULs, then `argc` NUL-terminated
/// arguments, then the environment and the "apple" strings, which are ignored (recent kernels
/// omit the environment for other processes anyway).
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
    let mut at = path_end;
    while at < rest.len() && rest[at] == 0 {
        at += 1;
    }
    let mut argv = Vec::with_capacity(argc as usize);
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

/// Reads a fixed-size C name field (`pbi_name`, `pbi_comm`): up to the first NUL, or the whole
/// field when it is full.
pub fn c_name(field: &[u8]) -> String {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
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

        // The memory_pressure run of the same report read 15123 free pages and 120555 pages
        // in the compressor: the fast counters win where they exist.
        d.fast = FastCounters {
            free_pages: Some(15123),
            compressor_bytes_used: Some(120555 * page),
            ..FastCounters::default()
        };
        let s = d.to_system();
        assert_eq!(s.free_bytes, Some(15123 * page));
        assert_eq!(s.compressor_bytes, Some(120555 * page));
        assert_eq!(s.active_bytes, Some(892723 * page), "from the slow reading");

        // Before any host_statistics64 answer: the fast fields alone, the rest None.
        d.slow = None;
        let s = d.to_system();
        assert_eq!(s.free_bytes, Some(15123 * page));
        assert_eq!((s.active_bytes, s.wired_bytes), (None, None));
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
    fn procargs(argc: i32, exe: &str, pad: usize, strings: &[&str]) -> Vec<u8> {
        let mut b = argc.to_ne_bytes().to_vec();
        b.extend_from_slice(exe.as_bytes());
        b.extend(std::iter::repeat_n(0u8, 1 + pad));
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
        let buf = procargs(words.len() as i32, words[0], 7, &strings);
        let got = decode_procargs2(&buf).unwrap();
        assert_eq!(got.exe, words[0]);
        assert_eq!(
            got.argv, words,
            "environment and apple strings are not argv"
        );

        let mlx = fixture!("macos-mlx-engine-prod-host-observed.txt").trim();
        let words: Vec<&str> = mlx.split(' ').collect();
        let got = decode_procargs2(&procargs(words.len() as i32, words[0], 0, &words)).unwrap();
        assert_eq!(got.argv[3], "--model");
        assert_eq!(got.argv[4], "qwen3.5:4b-nvfp4");
    }

    #[test]
    fn procargs2_paths_with_spaces_stay_whole() {
        let exe = "/Users/First Last/bin/ollama";
        let model = "/Users/First Last/.ollama/models/blobs/sha256-ab12";
        let buf = procargs(4, exe, 3, &[exe, "runner", "--model", model]);
        let got = decode_procargs2(&buf).unwrap();
        assert_eq!(got.argv, [exe, "runner", "--model", model]);
    }

    #[test]
    fn procargs2_argc_larger_than_the_strings_present() {
        let buf = procargs(9, "/bin/x", 2, &["x", "a"]);
        assert_eq!(decode_procargs2(&buf).unwrap().argv, ["x", "a"]);
        // Cut inside the last argument: what is there is kept.
        let mut cut = procargs(3, "/bin/x", 0, &["x", "abc"]);
        cut.truncate(cut.len() - 2);
        assert_eq!(decode_procargs2(&cut).unwrap().argv, ["x", "ab"]);
    }

    #[test]
    fn procargs2_truncated_or_garbage_is_an_error() {
        assert!(decode_procargs2(&[]).is_err());
        assert!(decode_procargs2(&[1, 0]).is_err());
        assert!(decode_procargs2(&(-1i32).to_ne_bytes()).is_err());
        let full = procargs(2, "/bin/x", 4, &["x", "y"]);
        for cut in [4, 6, 10] {
            assert!(decode_procargs2(&full[..cut]).is_err(), "cut at {cut}");
        }
        assert!(
            decode_procargs2(&procargs(1, "", 0, &["x"])).is_err(),
            "empty path"
        );
        // argc 0 is an odd but valid process.
        assert!(decode_procargs2(&procargs(0, "/bin/x", 0, &[]))
            .unwrap()
            .argv
            .is_empty());
        // Noise that happens to start with a small argc and a NUL-free tail.
        let mut noise = 2i32.to_ne_bytes().to_vec();
        noise.extend(std::iter::repeat_n(0xAB, 64));
        assert!(decode_procargs2(&noise).is_err());
    }

    #[test]
    fn c_names() {
        assert_eq!(c_name(b"ollama\0\0\0\0\0\0\0\0\0\0"), "ollama");
        assert_eq!(c_name(b"ollama_llama_ser"), "ollama_llama_ser");
        assert_eq!(c_name(b""), "");
    }
}
