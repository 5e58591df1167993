//! Available memory: one definition for every view. On macOS the figure a person means by
//! "free" is the kernel's free % × RAM (what `memory_pressure` prints, and what Activity
//! Monitor's pressure follows); elsewhere what the OS reports as available (Linux:
//! `MemAvailable`). The report, the charts, the viewer, `top` and `compare` all take it from
//! here, each naming its source.

use crate::timeline::{Series, Timeline};
use memtide_trace::Os;

/// Available memory, and where the figure comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Available {
    /// Bytes over time.
    pub series: Series,
    /// What the legend says of it: `free % × RAM` or `MemAvailable`.
    pub source: &'static str,
}

/// Where an available-memory figure comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AvailableFrom {
    /// The kernel's free % × RAM (macOS: what `memory_pressure` prints).
    FreePercent,
    /// The sample's `available_bytes` (Linux: `MemAvailable`).
    Bytes,
}

impl AvailableFrom {
    /// The figure in one sample of a machine with `total_bytes` of RAM that gave these free %
    /// and available bytes.
    pub fn read(
        self,
        total_bytes: u64,
        free_percent: Option<f64>,
        available_bytes: Option<u64>,
    ) -> Option<u64> {
        match self {
            AvailableFrom::FreePercent => (total_bytes > 0)
                .then_some(free_percent?)
                .map(|p| (p / 100.0 * total_bytes as f64).round() as u64),
            AvailableFrom::Bytes => available_bytes,
        }
    }

    /// What a legend says of it on `os`.
    pub fn describe(self, os: &Os) -> &'static str {
        match (self, os) {
            (AvailableFrom::FreePercent, _) => "free % × RAM",
            (AvailableFrom::Bytes, Os::Linux) => "MemAvailable",
            (AvailableFrom::Bytes, Os::Macos) => "free + file-backed + purgeable",
            (AvailableFrom::Bytes, _) => "as the OS reports it",
        }
    }

    /// The sources in the order they are preferred on `os`: the figure a person means by
    /// "free" is, on macOS, the kernel's free % × RAM; elsewhere what the OS reports as
    /// available (Linux: `MemAvailable`).
    pub fn preferred(os: &Os) -> [AvailableFrom; 2] {
        match os {
            Os::Macos => [AvailableFrom::FreePercent, AvailableFrom::Bytes],
            _ => [AvailableFrom::Bytes, AvailableFrom::FreePercent],
        }
    }
}

/// Where a trace's available memory comes from: the first source of
/// [`AvailableFrom::preferred`] it has a figure of. `None` when it has neither.
pub fn source(tl: &Timeline) -> Option<AvailableFrom> {
    let total = tl.meta.total_memory_bytes;
    AvailableFrom::preferred(&tl.meta.os)
        .into_iter()
        .find(|from| {
            tl.system.iter().any(|r| {
                from.read(total, r.free_percent.get(), r.available_bytes.get())
                    .is_some()
            })
        })
}

/// Available memory over a trace, from [`source`]. `None` when it has neither source.
pub fn available(tl: &Timeline) -> Option<Available> {
    let total = tl.meta.total_memory_bytes;
    let from = source(tl)?;
    Some(Available {
        series: tl.system_series(|r| {
            from.read(total, r.free_percent.get(), r.available_bytes.get())
                .map(|v| v as f64)
        }),
        source: from.describe(&tl.meta.os),
    })
}
