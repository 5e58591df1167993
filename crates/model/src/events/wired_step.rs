//! macOS on Apple Silicon: the rise of system wired memory while a runner loads its model.
//!
//! With the weights mapped (Ollama's default for a model fully on the GPU), ggml-metal wraps
//! the mapping in Metal buffers and keeps them resident through a residency set: the pages are
//! wired for the GPU and never enter the runner's footprint (see [`super::mapped`]). What a
//! person sees is system wired memory stepping up by about the model's size as it loads. This
//! detector finds that step in each runner's load window and attributes it to the runner, so
//! that the report can put it beside the weights memtide counted in the runner's mappings.
//! On Linux nothing of the kind happens (a CPU runner's mapped weights are page cache), and
//! the analysis does not run it there.

/// The least rise of wired memory attributed to a load: 64 MiB, far above the wired memory's
/// own wandering at rest and below the weights of the smallest models.
pub const WIRED_STEP_MIN_BYTES: u64 = 64 << 20;

/// The longest load window looked at, from the runner's first sample: 120 s, as long as
/// memtide waits for Ollama to list a model after its runner started
/// ([`super::API_PS_MATCH_AFTER_MS`]).
pub const WIRED_STEP_WINDOW_MS: u64 = 120_000;

/// How long after Ollama first lists the model the window still runs: 5 s, for the last
/// buffers made resident and a poll that is not simultaneous with the samples.
pub const WIRED_STEP_AFTER_LISTING_MS: u64 = 5_000;

/// A step of wired memory over a load window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// Wired memory at the last sample at or before the window's start.
    pub from_bytes: u64,
    /// Its highest value in the window.
    pub to_bytes: u64,
    /// When it was highest, `t_ms`.
    pub at_ms: u64,
}

/// The rise of wired memory in `[start_ms, end_ms]`, from `wired` (`(t_ms, bytes)` in time
/// order), when it is at least [`WIRED_STEP_MIN_BYTES`]; `None` otherwise, or without a
/// sample before the window to start from.
pub fn step(wired: &[(u64, u64)], start_ms: u64, end_ms: u64) -> Option<Step> {
    let before = wired.iter().rev().find(|(t, _)| *t <= start_ms)?;
    let (at_ms, to_bytes) = wired
        .iter()
        .filter(|(t, _)| *t > start_ms && *t <= end_ms)
        .fold(None, |best: Option<(u64, u64)>, &(t, v)| match best {
            Some((_, bv)) if bv >= v => best,
            _ => Some((t, v)),
        })?;
    (to_bytes >= before.1.saturating_add(WIRED_STEP_MIN_BYTES)).then_some(Step {
        from_bytes: before.1,
        to_bytes,
        at_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    #[test]
    fn a_load_that_wires_its_weights_is_a_step() {
        // Wired memory at 3 GiB, then a 1.9 GiB model made resident over three seconds.
        let wired = [
            (0, 3072 * MIB),
            (1_000, 3072 * MIB),
            (2_000, 3900 * MIB),
            (3_000, 4700 * MIB),
            (4_000, 5018 * MIB),
            (5_000, 5010 * MIB),
        ];
        let s = step(&wired, 1_000, 5_000).unwrap();
        assert_eq!(s.from_bytes, 3072 * MIB);
        assert_eq!(s.to_bytes, 5018 * MIB);
        assert_eq!(s.at_ms, 4_000);
    }

    #[test]
    fn wandering_and_steps_outside_the_window_are_not() {
        let wired = [
            (0, 3072 * MIB),
            (1_000, 3100 * MIB),
            (2_000, 3090 * MIB),
            (9_000, 5000 * MIB),
        ];
        assert_eq!(step(&wired, 0, 5_000), None, "28 MiB of wandering");
        assert_eq!(
            step(&[(2_000, 0), (3_000, 5000 * MIB)], 1_000, 5_000),
            None,
            "no sample before"
        );
        assert_eq!(step(&[], 0, 1), None);
    }
}
