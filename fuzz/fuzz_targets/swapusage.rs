//! `sysctl vm.swapusage`'s text, in every locale and from every tool that prints it.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|line: &str| {
    let _ = memtide_model::seed::parse_swapusage(line);
});
