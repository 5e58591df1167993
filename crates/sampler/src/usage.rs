//! What this process's finished children cost: the kernel's own count (`getrusage` with
//! `RUSAGE_CHILDREN`), for benchmarks that run a recorder as a child and want its whole CPU,
//! start to end, rather than samples of it while it runs.

use crate::{Error, Result};
use std::time::Duration;

/// `getrusage`'s figures as the kernel gave them: times as (seconds, microseconds) and the
/// largest resident set in units of `max_rss_unit` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Raw {
    pub(crate) user: (i64, i64),
    pub(crate) system: (i64, i64),
    pub(crate) max_rss: i64,
    pub(crate) max_rss_unit: u64,
}

/// The CPU time and peak memory of the children this process has waited for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChildrenUsage {
    /// User plus system CPU time of every child waited for so far (and of their children
    /// that they waited for).
    pub cpu: Duration,
    /// The largest resident set any of them reached, bytes.
    pub peak_rss_bytes: u64,
}

fn time((s, us): (i64, i64)) -> Duration {
    Duration::from_secs(s.max(0) as u64) + Duration::from_micros(us.clamp(0, 999_999) as u64)
}

impl From<Raw> for ChildrenUsage {
    fn from(r: Raw) -> ChildrenUsage {
        ChildrenUsage {
            cpu: time(r.user) + time(r.system),
            peak_rss_bytes: (r.max_rss.max(0) as u64).saturating_mul(r.max_rss_unit),
        }
    }
}

/// What this process's children that it has waited for have used so far. The CPU time only
/// grows; take it before and after waiting for a child to get that child's.
pub fn children_usage() -> Result<ChildrenUsage> {
    #[cfg(target_os = "linux")]
    let raw = crate::linux::ffi::children_rusage();
    #[cfg(target_os = "macos")]
    let raw = crate::macos::ffi::children_rusage();
    #[cfg(not(any(target_os = "linux", target_os = "macos")))]
    return Err(Error::Unsupported {
        what: "the CPU time of child processes",
    });
    #[cfg(any(target_os = "linux", target_os = "macos"))]
    raw.map(ChildrenUsage::from).map_err(|e| Error::Os {
        call: "getrusage(RUSAGE_CHILDREN)",
        code: e.raw_os_error().unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
