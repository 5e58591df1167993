//! A runner whose resident size is far above its footprint: the difference is pages of mapped
//! files, a model's weights read from disk with `mmap`.
//!
//! RSS counts every page of the process in RAM, clean file pages included; the footprint (macOS
//! `phys_footprint`, Linux `RssAnon + RssShmem + VmSwap`) counts only what the process keeps
//! dirty. A runner that maps its GGUF file (llama.cpp's default) has its weights in RSS, not in
//! the footprint; model memory adds them back. Without this sentence a person sees "RSS
//! 349 MiB, footprint 101 MiB" for a 241 MiB model and cannot tell which to believe.
//!
//! Whether those pages can be given back depends on who holds them ([`Held`]). On Linux, a CPU
//! runner's mapped weights are page cache: the kernel can drop them under pressure and read
//! them again from the file, at the cost of the reads. On Apple Silicon, ggml-metal wraps the
//! mapping in Metal buffers without copying it (`newBufferWithBytesNoCopy`, llama.cpp
//! `ggml/src/ggml-metal/ggml-metal-device.m`) and asks for those buffers to stay resident
//! through a residency set while the model is loaded: the pages are wired, and show as a rise
//! of system wired memory, not as the runner's footprint (ollama/ollama#16642).

use serde::{Deserialize, Serialize};

/// The least difference between RSS and footprint that is reported: 64 MiB, far above a
/// runner's own shared libraries and a fraction of the smallest models' weights.
pub const MAPPED_MIN_BYTES: u64 = 64 << 20;

/// The ratio RSS ÷ footprint from which the difference is reported: 1.5, so that the mapped
/// part is a third or more of what the process shows.
pub const MAPPED_MIN_RATIO: f64 = 1.5;

/// One sample of a process: RSS, footprint, and the file-backed part of RSS where the OS
/// gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// `t_ms`.
    pub t_ms: u64,
    /// Resident set size.
    pub rss_bytes: u64,
    /// Footprint.
    pub footprint_bytes: u64,
    /// Linux `RssFile`.
    pub rss_file_bytes: Option<u64>,
    /// The runner's model file resident in its mappings, where counted.
    pub weights_bytes: Option<u64>,
}

/// Who holds a runner's mapped weights, from what system wired memory did while it loaded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Held {
    /// Page cache: the OS can drop the pages and read them again from the file (Linux, Intel
    /// Macs, a runner on the CPU, and traces from before this was told).
    #[default]
    PageCache,
    /// Wired for the GPU (Apple Silicon): resident while the model is loaded; they cannot be
    /// dropped.
    GpuWired,
}

impl Held {
    /// From the rise of system wired memory while the runner loaded (Apple Silicon only; see
    /// [`super::wired_step`]) against its mapped pages: wired for the GPU when wired memory
    /// rose by at least half of them, page cache otherwise (Linux, Intel Macs, a runner on the
    /// CPU).
    pub fn from_wired_rise(wired_rise: Option<u64>, mapped_bytes: u64) -> Held {
        match wired_rise {
            Some(rise) if rise >= mapped_bytes / 2 => Held::GpuWired,
            _ => Held::PageCache,
        }
    }
}

/// The sample of largest RSS when, there, RSS exceeds the footprint by
/// [`MAPPED_MIN_BYTES`] and [`MAPPED_MIN_RATIO`]; `None` otherwise (and for no samples).
pub fn mapped(samples: impl IntoIterator<Item = Sample>) -> Option<Sample> {
    let s = samples.into_iter().max_by_key(|s| s.rss_bytes)?;
    let diff = s.rss_bytes.saturating_sub(s.footprint_bytes);
    let ratio = s.rss_bytes as f64 / (s.footprint_bytes.max(1)) as f64;
    (diff >= MAPPED_MIN_BYTES && ratio >= MAPPED_MIN_RATIO).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    fn s(t_ms: u64, rss: u64, fp: u64) -> Sample {
        Sample {
            t_ms,
            rss_bytes: rss * MIB,
            footprint_bytes: fp * MIB,
            rss_file_bytes: None,
            weights_bytes: None,
        }
    }

    #[test]
    fn empty_one_flat_step_growth_noise() {
        assert_eq!(mapped([]), None);
        // The measured case: RSS 349 MiB, footprint 101 MiB for a 241 MiB model.
        assert_eq!(mapped([s(0, 349, 101)]).map(|x| x.t_ms), Some(0));
        // Flat, with no mapped file: RSS a little above footprint (libraries).
        assert_eq!(mapped([s(0, 120, 100), s(100, 120, 100)]), None);
        // A step: the weights are mapped in at 200 ms; the largest RSS is reported.
        let step = [
            s(0, 20, 10),
            s(100, 20, 10),
            s(200, 330, 100),
            s(300, 340, 101),
        ];
        assert_eq!(mapped(step.iter().copied()).map(|x| x.t_ms), Some(300));
        // Growth that is the process's own (KV cache): footprint follows RSS.
        assert_eq!(mapped([s(0, 500, 480), s(100, 1500, 1480)]), None);
        // Noise around a small difference stays under the threshold.
        assert_eq!(
            mapped([s(0, 150, 100), s(100, 160, 101), s(200, 155, 99)]),
            None
        );
        // Big in absolute terms but a small share: a 20 GiB KV cache beside 100 MiB of mapping.
        assert_eq!(mapped([s(0, 20_580, 20_480)]), None);
    }
}
