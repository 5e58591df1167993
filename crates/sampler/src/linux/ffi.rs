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

/// The soft limit on this process's open descriptors (`None`: unlimited or unknown).
pub(super) fn fd_soft_limit() -> Option<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one `struct rlimit` into the one we pass, which lives for the
    // call.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
    (rc == 0 && lim.rlim_cur != libc::RLIM_INFINITY).then_some(lim.rlim_cur)
}

/// The page size in bytes (`statm` counts in pages).
pub(crate) fn page_size() -> io::Result<u64> {
    sysconf(libc::_SC_PAGESIZE)
}

/// Clock ticks per second, the unit of `/proc/[pid]/stat` field 22 (`proc(5)`: "expressed in
/// clock ticks (divide by sysconf(_SC_CLK_TCK))").
pub(super) fn clock_ticks_per_second() -> io::Result<u64> {
    sysconf(libc::_SC_CLK_TCK)
}

/// `CLOCK_BOOTTIME` in nanoseconds: the clock process start times are taken on.
pub(super) fn boottime_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one `struct timespec` into the one we pass, which lives for
    // the call. CLOCK_BOOTTIME exists since Linux 2.6.39; it cannot fail with a valid pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut ts) };
    u64::try_from(ts.tv_sec)
        .unwrap_or(0)
        .saturating_mul(1_000_000_000)
        .saturating_add(u64::try_from(ts.tv_nsec).unwrap_or(0))
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

/// `getrusage(RUSAGE_SELF)` or `getrusage(RUSAGE_CHILDREN)`: the CPU time of this process, or
/// of its children (and theirs) that have been waited for, and the largest resident set, in the kernel's
/// units (seconds and microseconds; `ru_maxrss` in KiB on Linux, getrusage(2)).
// The field types differ between targets (`suseconds_t` is i32 on macOS, i64 on Linux), so a
// cast that is a no-op on one is needed on another.
#[allow(clippy::unnecessary_cast)]
pub(crate) fn rusage(who: crate::types::Who) -> io::Result<crate::types::Raw> {
    let who = match who {
        crate::types::Who::Children => libc::RUSAGE_CHILDREN,
        crate::types::Who::Itself => libc::RUSAGE_SELF,
    };
    let mut r = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `r` is a valid, writable rusage; `who` is RUSAGE_SELF or RUSAGE_CHILDREN.
    if unsafe { libc::getrusage(who, r.as_mut_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: getrusage succeeded, so it filled the struct (which was zeroed anyway).
    let r = unsafe { r.assume_init() };
    Ok(crate::types::Raw {
        user: (r.ru_utime.tv_sec as i64, r.ru_utime.tv_usec as i64),
        system: (r.ru_stime.tv_sec as i64, r.ru_stime.tv_usec as i64),
        max_rss: r.ru_maxrss as i64,
        max_rss_unit: 1024,
    })
}

/// A descriptor polled for one kind of event: a PSI trigger (`POLLPRI`), or, in tests, any
/// descriptor (`POLLIN`).
pub(crate) struct PollFd {
    fd: std::os::fd::OwnedFd,
    events: libc::c_short,
    /// A pipe whose write end, written to, ends a wait at once: how another thread stops the
    /// waiter without it waking on a timer.
    wake_read: std::io::PipeReader,
    wake_write: std::io::PipeWriter,
}

/// Ends the waits of a [`PollFd`] from another thread.
pub(crate) struct Waker(std::io::PipeWriter);

impl Waker {
    pub(crate) fn wake(&self) {
        use std::io::Write;
        let _ = (&self.0).write_all(b"w");
    }
}

impl PollFd {
    /// Opens `/proc/pressure/memory` and registers `line` as its trigger (psi.rst: the
    /// string is written with its terminating NUL; the trigger lives as long as the file is
    /// open).
    pub(crate) fn psi_trigger(line: &str) -> io::Result<PollFd> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open("/proc/pressure/memory")?;
        let mut bytes = line.as_bytes().to_vec();
        bytes.push(0);
        f.write_all(&bytes)?;
        PollFd::new(f.into(), libc::POLLPRI)
    }

    pub(crate) fn readable(fd: std::os::fd::OwnedFd) -> io::Result<PollFd> {
        PollFd::new(fd, libc::POLLIN)
    }

    fn new(fd: std::os::fd::OwnedFd, events: libc::c_short) -> io::Result<PollFd> {
        let (wake_read, wake_write) = std::io::pipe()?;
        Ok(PollFd {
            fd,
            events,
            wake_read,
            wake_write,
        })
    }

    pub(crate) fn waker(&self) -> io::Result<Waker> {
        Ok(Waker(self.wake_write.try_clone()?))
    }

    /// Waits up to `timeout` for the event; `Ok(false)` on time-out or when woken.
    /// `POLLERR` (the trigger's file gone) is an error.
    pub(crate) fn wait(&mut self, timeout: std::time::Duration) -> io::Result<bool> {
        use std::os::fd::AsRawFd;
        let mut fds = [
            libc::pollfd {
                fd: self.fd.as_raw_fd(),
                events: self.events,
                revents: 0,
            },
            libc::pollfd {
                fd: self.wake_read.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        let ms = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
        // SAFETY: `fds` is an array of two valid pollfds and the count says two.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, ms) };
        if n > 0 && fds[1].revents != 0 {
            return Ok(false);
        }
        let p = fds[0];
        if n < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::Interrupted {
                Ok(false)
            } else {
                Err(e)
            };
        }
        if p.revents & (libc::POLLERR | libc::POLLNVAL) != 0 {
            return Err(io::Error::from_raw_os_error(libc::EBADF));
        }
        if n > 0 && p.revents & self.events != 0 && self.events == libc::POLLIN {
            // A test descriptor: take what made it readable, so that it is not seen again.
            let mut buf = [0u8; 64];
            // SAFETY: reading at most 64 bytes into a 64-byte buffer.
            let _ = unsafe { libc::read(p.fd, buf.as_mut_ptr().cast(), buf.len()) };
        }
        Ok(n > 0 && p.revents & self.events != 0)
    }
}
