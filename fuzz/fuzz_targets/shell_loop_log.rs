//! The system log of the shell loops: `vm_stat`, `memory_pressure`, `sysctl vm.swapusage`,
//! `ollama ps` and `/api/ps` output in `===== time =====` blocks.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = memtide_model::seed::parse_system_log(text);
});
