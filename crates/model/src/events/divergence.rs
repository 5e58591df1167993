//! Ollama's size against the measured footprint of the runner serving the same model.
//!
//! `/api/ps`'s `size` is Ollama's estimate (or, since v0.30, llama-server's buffer sizes) of
//! the runner's memory. The kernel's footprint counts what the runner really keeps dirty. They
//! diverge for good reasons worth seeing: mmapped weights are clean file pages, counted in RSS
//! but not in the footprint (ollama#16642), and KV cache grows with use.

/// The ratio (larger ÷ smaller) beyond which the two are reported as diverging: 1.5, so a
/// difference of a third of the model or more. Smaller differences are the normal slack of
/// Ollama's estimate (graph buffers, allocator rounding).
pub const SIZE_DIVERGENCE_RATIO: f64 = 1.5;

/// `Some(measured ÷ reported)` when the two diverge by [`SIZE_DIVERGENCE_RATIO`] or more.
pub fn diverges(reported_bytes: u64, measured_bytes: u64) -> Option<f64> {
    if reported_bytes == 0 || measured_bytes == 0 {
        return None;
    }
    let ratio = measured_bytes as f64 / reported_bytes as f64;
    (ratio >= SIZE_DIVERGENCE_RATIO || ratio <= 1.0 / SIZE_DIVERGENCE_RATIO).then_some(ratio)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios() {
        assert_eq!(diverges(100, 100), None);
        assert_eq!(diverges(100, 140), None);
        assert_eq!(diverges(100, 150), Some(1.5));
        assert!(
            diverges(35, 25).is_none(),
            "25 GB of a 35 GB model: within the slack"
        );
        assert_eq!(diverges(100, 10), Some(0.1));
        assert_eq!(diverges(0, 10), None);
    }
}
