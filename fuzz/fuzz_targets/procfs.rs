//! Every `/proc` parser on the same input: what a kernel (or a container's fake `/proc`) could
//! put in those files.
#![no_main]
use libfuzzer_sys::fuzz_target;
use memtide_sampler::procfs;

fuzz_target!(|bytes: &[u8]| {
    let _ = procfs::parse_cmdline(bytes);
    let _ = procfs::parse_comm(bytes);
    let _ = procfs::count_present(bytes);
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let _ = procfs::parse_stat(text);
    let _ = procfs::parse_statm(text, 4096);
    let _ = procfs::parse_status(text);
    let _ = procfs::parse_schedstat(text);
    for (start, end) in procfs::file_ranges(text, 0xfe, 0, 10149969) {
        assert!(end > start);
    }
    let _ = procfs::parse_boot_time(text);
    let _ = procfs::user_name(text, 999);
    let meminfo = procfs::parse_meminfo(text);
    let vmstat = procfs::parse_vmstat(text);
    let psi = procfs::parse_psi(text);
    if let (Ok(m), Ok(v)) = (meminfo, vmstat) {
        let psi = psi.ok();
        if let Some(p) = &psi {
            let _ = procfs::pressure_from_psi(p);
        }
        let _ = procfs::system_sample(&m, &v, psi.as_ref(), 4096);
    }
});
