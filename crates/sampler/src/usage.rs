//! What this process, and its finished children, cost: the kernel's own count (`getrusage`).
//! A benchmark runs a recorder as a child and takes its whole CPU, start to end, with
//! [`children_usage`]; an exporter tells what it costs itself with [`own_usage`].

use crate::types::{Raw, Who};
use crate::Result;
use std::time::Duration;

/// CPU time and peak memory, of this process or of the children it has waited for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// User plus system CPU time: of this process, or of every child waited for so far (and
    /// of their children that they waited for).
    pub cpu: Duration,
    /// The largest resident set reached (by any one child), bytes.
    pub peak_rss_bytes: u64,
}

/// What [`children_usage`] returns.
pub type ChildrenUsage = Usage;

/// What this process costs now: [`Usage`] and its resident set at this moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OwnUsage {
    /// CPU time and peak resident set since this process started.
    pub usage: Usage,
    /// Its resident set now, bytes.
    pub rss_bytes: u64,
}

fn time((s, us): (i64, i64)) -> Duration {
    Duration::from_secs(s.max(0) as u64) + Duration::from_micros(us.clamp(0, 999_999) as u64)
}

impl From<Raw> for Usage {
    fn from(r: Raw) -> Usage {
        Usage {
            cpu: time(r.user) + time(r.system),
            peak_rss_bytes: (r.max_rss.max(0) as u64).saturating_mul(r.max_rss_unit),
        }
    }
}

/// What this process's children that it has waited for have used so far. The CPU time only
/// grows; take it before and after waiting for a child to get that child's.
pub fn children_usage() -> Result<ChildrenUsage> {
    crate::os_rusage(Who::Children).map(Usage::from)
}

/// What this process has used so far (every thread), and its resident set now: two small
/// kernel reads (`getrusage`, and `/proc/self/statm` on Linux or `proc_pid_rusage` on macOS),
/// cheap enough for every scrape of an exporter.
pub fn own_usage() -> Result<OwnUsage> {
    let usage = Usage::from(crate::os_rusage(Who::Itself)?);
    Ok(OwnUsage::of(usage, crate::os_own_rss()?))
}

impl OwnUsage {
    /// `usage` and the resident set `rss_bytes` read just after it. The two come from two
    /// reads a moment apart, which the kernel keeps in different counters: the peak is at
    /// least what is resident now, whichever read came first.
    pub fn of(mut usage: Usage, rss_bytes: u64) -> OwnUsage {
        usage.peak_rss_bytes = usage.peak_rss_bytes.max(rss_bytes);
        OwnUsage { usage, rss_bytes }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peak_is_never_below_what_is_resident_now() {
        let usage = Usage {
            cpu: Duration::ZERO,
            peak_rss_bytes: 7 << 20,
        };
        assert_eq!(OwnUsage::of(usage, 8 << 20).usage.peak_rss_bytes, 8 << 20);
        assert_eq!(OwnUsage::of(usage, 6 << 20).usage.peak_rss_bytes, 7 << 20);
        // Read from this process: the invariant a scraper checks.
        let own = own_usage().unwrap();
        assert!(own.usage.peak_rss_bytes >= own.rss_bytes, "{own:?}");
    }

    #[test]
    fn the_kernels_units_become_ours() {
        // Linux: ru_maxrss in KiB; macOS: in bytes.
        let linux = Raw {
            user: (1, 250_000),
            system: (0, 750_000),
            max_rss: 6144,
            max_rss_unit: 1024,
        };
        assert_eq!(
            ChildrenUsage::from(linux),
            ChildrenUsage {
                cpu: Duration::from_secs(2),
                peak_rss_bytes: 6 << 20
            }
        );
        let macos = Raw {
            max_rss_unit: 1,
            max_rss: 6 << 20,
            ..linux
        };
        assert_eq!(ChildrenUsage::from(macos).peak_rss_bytes, 6 << 20);
        // Nonsense from a broken kernel is clamped, never a panic.
        let bad = Raw {
            user: (-1, 5_000_000),
            system: (0, -3),
            max_rss: -7,
            max_rss_unit: 1024,
        };
        assert_eq!(
            ChildrenUsage::from(bad),
            ChildrenUsage {
                cpu: Duration::from_micros(999_999),
                peak_rss_bytes: 0
            }
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_waited_child_adds_its_cpu_time() {
        let before = children_usage().unwrap();
        // A child that spins for a moment of CPU.
        let st = std::process::Command::new("sh")
            .args(["-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done"])
            .status()
            .unwrap();
        assert!(st.success());
        let after = children_usage().unwrap();
        assert!(after.cpu > before.cpu, "{before:?} → {after:?}");
        assert!(after.peak_rss_bytes > 0);
    }

    #[test]
    fn own_usage_grows_with_work_and_holds_what_is_touched() {
        let before = match own_usage() {
            // An OS memtide reads through sysinfo has no such figures, and says so.
            Err(crate::Error::Unsupported { .. }) => return,
            r => r.unwrap(),
        };
        // Work on this thread, and 32 MiB touched page by page.
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        let block = std::hint::black_box(vec![1u8; 32 << 20]);
        let after = own_usage().unwrap();
        assert!(after.usage.cpu > before.usage.cpu, "{before:?} → {after:?}");
        assert!(after.rss_bytes >= 32 << 20, "{after:?}");
        // The resident set now never exceeds the most it has been.
        assert!(
            after.rss_bytes <= after.usage.peak_rss_bytes + (1 << 20),
            "{after:?}"
        );
        drop(block);
    }
}
