//! Any body a server at Ollama's address could answer `/api/ps` with.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &str| {
    if let Ok(ps) = memtide_model::ollama::parse_ps(body) {
        assert!(ps.models.len() <= memtide_model::ollama::MAX_PS_MODELS);
    }
});
