//! Every `unsafe` call of the Linux backend. Each wraps one libc call in a safe function.

use std::ffi::CStr;
use std::io;
use std::ptr::NonNull;

fn sysconf(name: libc::c_int) -> io::Result<u64> {
    // SAFETY: sysconf takes a plain integer and touches no memory of ours.
    let v = unsafe { libc::sysconf(name) };
    if v <= 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(v as u64)
}

/// The page size in bytes (`statm` counts in pages).
pub(super) fn page_size() -> io::Result<u64> {
    sysconf(libc::_SC_PAGESIZE)
}

/// Clock ticks per second, the unit of `/proc/[pid]/stat` field 22 (`proc(5)`: "expressed in
/// clock ticks (divide by sysconf(_SC_CLK_TCK))").
pub(super) fn clock_ticks_per_second() -> io::Result<u64> {
    sysconf(libc::_SC_CLK_TCK)
}

/// `/proc` kept open as a directory stream, rewound and read again on every listing, so that
/// listing PIDs allocates nothing (std's `read_dir` allocates a name per entry).
pub(super) struct ProcDir {
    dir: NonNull<libc::DIR>,
}

// SAFETY: the stream is only used through `&mut self`, so never from two threads at once; a
// `DIR` has no affinity to the thread that opened it.
unsafe impl Send for ProcDir {}

impl ProcDir {
    pub(super) fn open() -> io::Result<ProcDir> {
        // SAFETY: the path is a valid NUL-terminated string; the result is checked for NULL.
        let dir = unsafe { libc::opendir(c"/proc".as_ptr()) };
        NonNull::new(dir)
            .map(|dir| ProcDir { dir })
            .ok_or_else(io::Error::last_os_error)
    }

    /// Clears `out` and fills it with the numeric entries of `/proc`.
    pub(super) fn pids(&mut self, out: &mut Vec<u32>) -> io::Result<()> {
        out.clear();
        // SAFETY: `self.dir` is an open stream (it is closed only in `drop`).
        unsafe { libc::rewinddir(self.dir.as_ptr()) };
        loop {
            // readdir returns NULL both at the end and on error; errno tells them apart.
            // SAFETY: __errno_location returns this thread's errno slot, always valid.
            unsafe { *libc::__errno_location() = 0 };
            // SAFETY: `self.dir` is an open stream, used by this thread alone (`&mut self`).
            let entry = unsafe { libc::readdir(self.dir.as_ptr()) };
            if entry.is_null() {
                // SAFETY: as above.
                let errno = unsafe { *libc::__errno_location() };
                if errno != 0 {
                    return Err(io::Error::from_raw_os_error(errno));
                }
                return Ok(());
            }
            // SAFETY: a non-NULL entry points to a dirent that stays valid until the next
            // readdir on this stream, and `d_name` is NUL-terminated.
            let name = unsafe { CStr::from_ptr((*entry).d_name.as_ptr()) };
            if let Some(pid) = parse_pid(name.to_bytes()) {
                out.push(pid);
            }
        }
    }
}

impl Drop for ProcDir {
    fn drop(&mut self) {
        // SAFETY: the stream is open and is never used again.
        unsafe { libc::closedir(self.dir.as_ptr()) };
    }
}

fn parse_pid(name: &[u8]) -> Option<u32> {
    if name.is_empty() || !name.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(name).ok()?.parse().ok()
}

/// `getrusage(RUSAGE_CHILDREN)`: the CPU time of this process's children (and theirs) that
/// have been waited for, and the largest resident set any of them reached, in the kernel's
/// units (seconds and microseconds; `ru_maxrss` in KiB on Linux, getrusage(2)).
// The field types differ between targets (`suseconds_t` is i32 on macOS, i64 on Linux), so a
// cast that is a no-op on one is needed on another.
#[allow(clippy::unnecessary_cast)]
pub(crate) fn children_rusage() -> io::Result<crate::usage::Raw> {
    let mut r = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `r` is a valid, writable rusage; RUSAGE_CHILDREN is a valid `who`.
    if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, r.as_mut_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: getrusage succeeded, so it filled the struct (which was zeroed anyway).
    let r = unsafe { r.assume_init() };
    Ok(crate::usage::Raw {
        user: (r.ru_utime.tv_sec as i64, r.ru_utime.tv_usec as i64),
        system: (r.ru_stime.tv_sec as i64, r.ru_stime.tv_usec as i64),
        max_rss: r.ru_maxrss as i64,
        max_rss_unit: 1024,
    })
}
