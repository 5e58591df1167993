//! `vm_stat`'s text (as the shell loops capture it) through its parser and into a sample.
#![no_main]
use libfuzzer_sys::fuzz_target;
use memtide_sampler::darwin::VmCounts;

fuzz_target!(|text: &str| {
    if let Ok((page, counts)) = VmCounts::parse_vm_stat(text) {
        let _ = counts.to_system(page);
    }
});
