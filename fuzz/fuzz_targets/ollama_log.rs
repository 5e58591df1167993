//! Any text in Ollama's server log: each line parsed, joined to a runner, turned into a trace
//! row, and the rows read back as each runner's allocations and Ollama's plan for its load.
#![no_main]
use libfuzzer_sys::fuzz_target;
use memtide_model::ollama_log::{self, Joiner};

fuzz_target!(|text: &str| {
    let mut joiner = Joiner::default();
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if let Some(p) = ollama_log::parse(line) {
            let port = joiner.port(&p.line);
            rows.push(ollama_log::row(&p.line, String::new(), i as u64, port));
        }
    }
    for port in rows.iter().filter_map(|r| r.port) {
        if let Some(a) = ollama_log::allocated(&rows, port, 0, u64::MAX) {
            assert!(a.mapped_weights_bytes <= a.weights_bytes);
            let _ = a.total_bytes();
        }
        let _ = ollama_log::plan(&rows, port, 0, u64::MAX);
    }
});
