//! Any buffer the kernel could return for `KERN_PROCARGS2`, or for `PROC_PIDREGIONPATHINFO`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|buf: &[u8]| {
    if let Ok(args) = memtide_sampler::darwin::decode_procargs2(buf) {
        let _ = memtide_model::runner::classify("x", &args.argv);
    }
    let _ = memtide_sampler::darwin::c_name(buf);
    let _ = memtide_sampler::darwin::decode_region_with_path(buf);
});
