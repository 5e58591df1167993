//! A runner whose resident size is far above its footprint: the difference is pages of mapped
//! files, a model's weights read from disk with `mmap`.
//!
//! RSS counts every page of the process in RAM, clean file pages included; the footprint (macOS
//! `phys_footprint`, Linux `RssAnon + RssShmem + VmSwap`) counts only what the process keeps
//! dirty. A runner that maps its GGUF file (llama.cpp's default) reads its weights into the
//! page cache: they show in RSS, not in the footprint, and the OS can drop them under pressure
//! and read them again. Without this sentence a person sees "RSS 349 MiB, footprint 101 MiB"
//! for a 241 MiB model and cannot tell which to believe.

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
}

/// The sample of largest RSS when, there, RSS exceeds the footprint by
/// [`MAPPED_MIN_BYTES`] and [`MAPPED_MIN_RATIO`]; `None` otherwise (and for no samples).
pub fn mapped(samples: &[Sample]) -> Option<Sample> {
    let s = *samples.iter().max_by_key(|s| s.rss_bytes)?;
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
        }
    }

    #[test]
    fn empty_one_flat_step_growth_noise() {
        assert_eq!(mapped(&[]), None);
        // The measured case: RSS 349 MiB, footprint 101 MiB for a 241 MiB model.
        assert_eq!(mapped(&[s(0, 349, 101)]).map(|x| x.t_ms), Some(0));
        // Flat, with no mapped file: RSS a little above footprint (libraries).
        assert_eq!(mapped(&[s(0, 120, 100), s(100, 120, 100)]), None);
        // A step: the weights are mapped in at 200 ms; the largest RSS is reported.
        let step = [
            s(0, 20, 10),
            s(100, 20, 10),
            s(200, 330, 100),
            s(300, 340, 101),
        ];
        assert_eq!(mapped(&step).map(|x| x.t_ms), Some(300));
        // Growth that is the process's own (KV cache): footprint follows RSS.
        assert_eq!(mapped(&[s(0, 500, 480), s(100, 1500, 1480)]), None);
        // Noise around a small difference stays under the threshold.
        assert_eq!(
            mapped(&[s(0, 150, 100), s(100, 160, 101), s(200, 155, 99)]),
            None
        );
        // Big in absolute terms but a small share: a 20 GiB KV cache beside 100 MiB of mapping.
        assert_eq!(mapped(&[s(0, 20_580, 20_480)]), None);
    }
}
