//! `ollama ps`'s table, as the shell loops capture it.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let lines: Vec<&str> = text.lines().collect();
    if let Some(rows) = memtide_model::seed::parse_ollama_ps(&lines) {
        for r in rows {
            let _ = r.to_running_model();
        }
    }
});
