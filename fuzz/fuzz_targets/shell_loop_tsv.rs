//! The `ps` TSV of the shell loops of the Ollama macOS Memory Trace Guide.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let (rows, _) = memtide_model::seed::parse_ps_tsv(text);
    for r in rows {
        let argv = memtide_model::seed::split_command(&r.command);
        let _ = memtide_model::runner::classify(&r.comm, &argv);
    }
});
