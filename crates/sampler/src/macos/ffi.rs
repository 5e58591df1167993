//! Every `unsafe` call of the macOS backend. Each function wraps one kernel interface, with the
//! structures laid out by the `libc` and `mach2` crates, and hands back plain values for the
//! decoders in `crate::darwin`. Out-parameters are read only after the return code says they
//! were written.
//!
//! References are to xnu (`bsd/kern/proc_info.c`, `bsd/kern/kern_sysctl.c`,
//! `osfmk/kern/host.c`) and Apple's `libproc.h`, as summarised in the repository's platform
//! notes.

use crate::darwin::VmStatistics64;
use std::ffi::CStr;
use std::io;
use std::mem::{offset_of, size_of, size_of_val, MaybeUninit};

use mach2::kern_return::{kern_return_t, KERN_SUCCESS};
use mach2::message::mach_msg_type_number_t;
use mach2::port::mach_port_t;
use mach2::vm_statistics::vm_statistics64;
use mach2::vm_types::integer_t;

/// `proc_listallpids` into `pids` (grown as needed), then the positive PIDs into `out`.
///
/// libproc's `proc_listallpids` returns the number of PIDs written (it divides
/// `proc_listpids`'s byte count by `sizeof(int)`); a full buffer may mean more were left out,
/// so it is grown and the call repeated.
pub(super) fn list_all_pids(pids: &mut Vec<libc::pid_t>, out: &mut Vec<u32>) -> io::Result<()> {
    if pids.len() < 1024 {
        pids.resize(1024, 0);
    }
    loop {
        let bytes = libc::c_int::try_from(pids.len() * size_of::<libc::pid_t>())
            .map_err(|_| io::Error::from_raw_os_error(libc::ENOMEM))?;
        // SAFETY: the buffer is `pids.len()` initialised pid_t's, and `bytes` is its size.
        let n = unsafe { libc::proc_listallpids(pids.as_mut_ptr().cast(), bytes) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let n = n as usize;
        if n < pids.len() {
            out.clear();
            out.extend(pids[..n].iter().filter(|&&p| p > 0).map(|&p| p as u32));
            return Ok(());
        }
        let grown = pids.len() * 2;
        pids.resize(grown, 0);
    }
}

/// What `PROC_PIDTBSDINFO` tells of a process.
pub(super) struct BsdInfo {
    pub ppid: u32,
    /// `pbi_pgid`: the process group (`proc_pidbsdinfo` in `bsd/kern/proc_info.c` l. 791
    /// copies `p_pgrpid`).
    pub pgid: u32,
    /// `pbi_name` (up to 31 bytes and a NUL), or `pbi_comm` (16) when the longer name is empty.
    pub name: String,
    /// `pbi_start_tvsec`/`pbi_start_tvusec` in microseconds since the Unix epoch.
    pub start_us: u64,
}

fn c_chars(field: &[libc::c_char]) -> Vec<u8> {
    field.iter().map(|&c| c as u8).collect()
}

/// `proc_pidinfo(pid, flavor, arg, …)` into `buf`, which must be the structure the kernel
/// writes for `flavor`. The kernel returns the bytes it wrote; fewer than all of `buf` is an
/// error.
fn pidinfo_into(pid: u32, flavor: libc::c_int, arg: u64, buf: &mut [u8]) -> io::Result<()> {
    let size = libc::c_int::try_from(buf.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "buffer too large"))?;
    // SAFETY: `buf` is writable for `size` bytes, the size of the structure `flavor` writes
    // (the callers' contract); the kernel writes at most `size` bytes.
    let n = unsafe {
        libc::proc_pidinfo(
            pid as libc::c_int,
            flavor,
            arg,
            buf.as_mut_ptr().cast(),
            size,
        )
    };
    if n <= 0 {
        return Err(io::Error::last_os_error());
    }
    if n != size {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("proc_pidinfo flavor {flavor} wrote {n} of {size} bytes"),
        ));
    }
    Ok(())
}

/// `proc_pidinfo(pid, flavor, 0, …)` into a `T`, which must be the structure the kernel
/// returns for `flavor` (as `libc` lays it out).
fn pidinfo<T: Copy>(pid: u32, flavor: libc::c_int) -> io::Result<T> {
    let mut info = MaybeUninit::<T>::zeroed();
    // SAFETY: the zeroed `T` is `size_of::<T>()` initialised bytes, seen as bytes only while
    // this function holds it.
    let bytes =
        unsafe { std::slice::from_raw_parts_mut(info.as_mut_ptr().cast::<u8>(), size_of::<T>()) };
    pidinfo_into(pid, flavor, 0, bytes)?;
    // SAFETY: every byte was written (checked by pidinfo_into), and T is a plain C structure.
    Ok(unsafe { info.assume_init() })
}

/// `proc_pidinfo(pid, PROC_PIDREGIONPATHINFO, address, …)`: the region at or after `address`
/// and the file it maps, as the kernel's bytes (`struct proc_regionwithpathinfo`, decoded by
/// `darwin::decode_region_with_path`). `EINVAL` past the last region; the same-user rule of
/// the other flavors (`EPERM` for another user's process without root).
pub(super) fn region_with_path(
    pid: u32,
    address: u64,
    buf: &mut [u8; crate::darwin::REGION_WITH_PATH_SIZE],
) -> io::Result<()> {
    // `buf` is exactly `struct proc_regionwithpathinfo` (its size asserted against xnu's
    // layout at compile time in darwin.rs), the structure this flavor writes.
    pidinfo_into(
        pid,
        crate::darwin::PROC_PIDREGIONPATHINFO,
        address,
        &mut buf[..],
    )
}

/// `PROC_PIDTBSDINFO`. Needs the same user as the target, or root (`proc_security_policy`
/// with `CHECK_SAME_USER`): `EPERM` otherwise. Zombies give `ESRCH` (they are returned only
/// when the argument is non-zero).
pub(super) fn bsd_info(pid: u32) -> io::Result<BsdInfo> {
    let info: libc::proc_bsdinfo = pidinfo(pid, libc::PROC_PIDTBSDINFO)?;
    let mut name = crate::darwin::c_name(&c_chars(&info.pbi_name));
    if name.is_empty() {
        name = crate::darwin::c_name(&c_chars(&info.pbi_comm));
    }
    Ok(BsdInfo {
        ppid: info.pbi_ppid,
        pgid: info.pbi_pgid,
        name,
        start_us: info
            .pbi_start_tvsec
            .saturating_mul(1_000_000)
            .saturating_add(info.pbi_start_tvusec),
    })
}

/// [`crate::sampler::name_hash`] of the name [`bsd_info`] would give, without allocating.
pub(super) fn bsd_name_hash(pid: u32) -> io::Result<u64> {
    let info: libc::proc_bsdinfo = pidinfo(pid, libc::PROC_PIDTBSDINFO)?;
    let name_bytes = |field: &[libc::c_char]| {
        let end = field.iter().position(|&c| c == 0).unwrap_or(field.len());
        crate::sampler::name_hash(field[..end].iter().map(|&c| c as u8))
    };
    Ok(if info.pbi_name[0] != 0 {
        name_bytes(&info.pbi_name)
    } else {
        name_bytes(&info.pbi_comm)
    })
}

/// What `PROC_PIDT_SHORTBSDINFO` tells of a process.
pub(super) struct ShortBsdInfo {
    pub ppid: u32,
    /// `pbsi_pgid` (`proc_pidshortbsdinfo`, `bsd/kern/proc_info.c` l. 813).
    pub pgid: u32,
    /// `pbsi_comm` (16 bytes).
    pub name: String,
    pub state: crate::darwin::ProcessState,
}

/// `PROC_PIDT_SHORTBSDINFO`: parent, short name, user and state, without the same-user check
/// (`proc_info.c` serves this flavor to anyone), for processes of other users. Gives no start
/// time.
pub(super) fn short_bsd_info(pid: u32) -> io::Result<ShortBsdInfo> {
    let info: libc::proc_bsdshortinfo = pidinfo(pid, libc::PROC_PIDT_SHORTBSDINFO)?;
    Ok(ShortBsdInfo {
        ppid: info.pbsi_ppid,
        pgid: info.pbsi_pgid,
        name: crate::darwin::c_name(&c_chars(&info.pbsi_comm)),
        state: crate::darwin::ProcessState {
            uid: info.pbsi_uid,
            status: info.pbsi_status,
        },
    })
}

/// The start time of any process, whoever owns it: `sysctl {CTL_KERN, KERN_PROC,
/// KERN_PROC_PID, pid}` fills a `struct kinfo_proc` (`sys/sysctl.h`) for every user, as `ps`
/// relies on. Neither `libc` nor `mach2` defines `kinfo_proc`, so only its first member is
/// read: `kp_proc` is a `struct extern_proc` (`sys/proc.h`), which begins with the union
/// `p_un`, whose member `__p_starttime` is a `struct timeval` at offset 0 (the kernel fills it
/// from `p_start` in `fill_user64_externproc`, `bsd/kern/kern_sysctl.c`). The buffer is larger
/// than the whole structure (648 bytes on 64-bit systems), so the kernel never refuses it as
/// too small. `Ok(None)` when there is no such process (the kernel then writes nothing).
pub(super) fn kinfo_start_time(pid: u32) -> io::Result<Option<(i64, i64)>> {
    let mut buf = [0u64; 512];
    let mut len: libc::size_t = size_of_val(&buf);
    let mut mib = [
        libc::CTL_KERN,
        libc::KERN_PROC,
        libc::KERN_PROC_PID,
        pid as libc::c_int,
    ];
    // SAFETY: the MIB has 4 valid entries; `buf` has room for `len` bytes, the kernel writes
    // at most that and stores the size it wrote in `len`.
    let rc = unsafe {
        libc::sysctl(
            mib.as_mut_ptr(),
            mib.len() as libc::c_uint,
            buf.as_mut_ptr().cast(),
            &mut len,
            std::ptr::null_mut(),
            0,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    if len < size_of::<libc::timeval>() {
        return Ok(None);
    }
    // SAFETY: the kernel wrote at least a timeval at the start of `buf` (checked above), which
    // is 8-byte aligned (an array of u64), as timeval requires.
    let tv = unsafe { std::ptr::read(buf.as_ptr().cast::<libc::timeval>()) };
    Ok(Some((i64::from(tv.tv_sec), i64::from(tv.tv_usec))))
}

/// The name of user `uid` from the user database (`getpwuid_r`: Directory Services on macOS),
/// or `None`.
pub(super) fn user_name(uid: u32) -> Option<String> {
    let mut pw = MaybeUninit::<libc::passwd>::zeroed();
    let mut buf = vec![0 as libc::c_char; 4096];
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: `pw` and `buf` are ours and sized as passed; getpwuid_r writes the entry into
    // them and sets `found` to `pw` on success, or to null.
    let rc = unsafe {
        libc::getpwuid_r(
            uid,
            pw.as_mut_ptr(),
            buf.as_mut_ptr(),
            buf.len(),
            &mut found,
        )
    };
    if rc != 0 || found.is_null() {
        return None;
    }
    // SAFETY: success: `pw` was filled, and its `pw_name` points into `buf`, NUL-terminated.
    let name = unsafe { CStr::from_ptr((*pw.as_ptr()).pw_name) };
    Some(name.to_string_lossy().into_owned())
}

/// Our effective user ID.
pub(super) fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// The `rusage_info_v4` fields the sampler uses (`bsd/sys/resource.h`).
pub(super) struct Rusage {
    pub resident_size: u64,
    pub phys_footprint: u64,
    pub wired_size: u64,
    pub lifetime_max_phys_footprint: u64,
    /// In `mach_absolute_time` units; used only to tell one process from another.
    pub proc_start_abstime: u64,
    /// Non-zero once the process has exited (a zombie).
    pub proc_exit_abstime: u64,
    /// CPU time in user mode, in `mach_absolute_time` units (not nanoseconds on Apple
    /// Silicon: convert with [`timebase`]).
    pub user_time: u64,
    /// CPU time in kernel mode, same units.
    pub system_time: u64,
}

/// `proc_pid_rusage(pid, RUSAGE_INFO_V4, …)`. Same-user or root, else `EPERM`; `ESRCH` when
/// there is no such process.
pub(super) fn rusage(pid: u32) -> io::Result<Rusage> {
    let mut info = MaybeUninit::<libc::rusage_info_v4>::zeroed();
    // SAFETY: for RUSAGE_INFO_V4 the kernel writes one rusage_info_v4, which the buffer is.
    // libc declares the parameter as `*mut rusage_info_t` (a `void **`) although the kernel
    // takes a pointer to the structure, hence the cast.
    let rc = unsafe {
        libc::proc_pid_rusage(
            pid as libc::c_int,
            libc::RUSAGE_INFO_V4,
            info.as_mut_ptr().cast::<libc::rusage_info_t>(),
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the call returned 0, so the structure was filled.
    let info = unsafe { info.assume_init() };
    Ok(Rusage {
        resident_size: info.ri_resident_size,
        phys_footprint: info.ri_phys_footprint,
        wired_size: info.ri_wired_size,
        lifetime_max_phys_footprint: info.ri_lifetime_max_phys_footprint,
        proc_start_abstime: info.ri_proc_start_abstime,
        proc_exit_abstime: info.ri_proc_exit_abstime,
        user_time: info.ri_user_time,
        system_time: info.ri_system_time,
    })
}

/// A sysctl name resolved once to its numeric MIB, so that each later read is one `sysctl`
/// call with no name lookup in the kernel.
pub(super) struct Mib {
    /// Room for the deepest name: the kernel's `CTL_MAXNAME` is 12 (`sys/sysctl.h`).
    mib: [libc::c_int; 16],
    len: usize,
    pub name: &'static CStr,
}

impl Mib {
    /// `sysctlnametomib`; `ENOENT` when this kernel has no such name.
    pub(super) fn resolve(name: &'static CStr) -> io::Result<Mib> {
        let mut mib = [0 as libc::c_int; 16];
        let mut len: libc::size_t = mib.len();
        // SAFETY: `name` is NUL-terminated; `mib` has room for `len` entries, and the kernel
        // writes back how many it used.
        let rc = unsafe { libc::sysctlnametomib(name.as_ptr(), mib.as_mut_ptr(), &mut len) };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Mib { mib, len, name })
    }

    pub(super) fn from_parts(parts: &[libc::c_int], name: &'static CStr) -> Mib {
        let mut mib = [0 as libc::c_int; 16];
        mib[..parts.len()].copy_from_slice(parts);
        Mib {
            mib,
            len: parts.len(),
            name,
        }
    }

    /// Reads the value into `buf`, returning how many bytes the kernel wrote.
    fn read_into(&self, buf: *mut libc::c_void, capacity: usize) -> io::Result<usize> {
        let mut len: libc::size_t = capacity;
        // SAFETY: the MIB holds `self.len` valid entries; `buf` has room for `capacity` bytes
        // and the kernel writes at most `len`, then stores the size it wrote in `len`.
        let rc = unsafe {
            libc::sysctl(
                self.mib.as_ptr() as *mut libc::c_int,
                self.len as libc::c_uint,
                buf,
                &mut len,
                std::ptr::null_mut(),
                0,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(len)
    }

    /// An integer sysctl of 4 or 8 bytes (`SYSCTL_INT`, `SYSCTL_UINT`, `SYSCTL_QUAD`), as raw
    /// native-endian bytes widened to 8.
    fn read_word(&self) -> io::Result<([u8; 8], usize)> {
        let mut v = [0u8; 8];
        match self.read_into(v.as_mut_ptr().cast(), v.len())? {
            n @ (4 | 8) => Ok((v, n)),
            n => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{:?} returned {n} bytes, not an integer", self.name),
            )),
        }
    }

    /// A signed integer sysctl (levels are `SYSCTL_INT`).
    pub(super) fn read_int(&self) -> io::Result<i64> {
        Ok(match self.read_word()? {
            (v, 4) => i64::from(i32::from_ne_bytes([v[0], v[1], v[2], v[3]])),
            (v, _) => i64::from_ne_bytes(v),
        })
    }

    /// An unsigned integer sysctl (page counts are `SYSCTL_UINT`, byte counts `SYSCTL_QUAD`).
    pub(super) fn read_uint(&self) -> io::Result<u64> {
        Ok(match self.read_word()? {
            (v, 4) => u64::from(u32::from_ne_bytes([v[0], v[1], v[2], v[3]])),
            (v, _) => u64::from_ne_bytes(v),
        })
    }

    /// `vm.swapusage`: a `struct xsw_usage`. Returns total, available and used bytes.
    pub(super) fn read_swap(&self) -> io::Result<(u64, u64, u64)> {
        let mut x = MaybeUninit::<libc::xsw_usage>::zeroed();
        let size = size_of::<libc::xsw_usage>();
        let n = self.read_into(x.as_mut_ptr().cast(), size)?;
        if n != size {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("vm.swapusage returned {n} bytes, not {size}"),
            ));
        }
        // SAFETY: the kernel wrote the whole structure (checked above).
        let x = unsafe { x.assume_init() };
        Ok((x.xsu_total, x.xsu_avail, x.xsu_used))
    }

    /// A string sysctl such as `kern.osproductversion`.
    pub(super) fn read_string(&self) -> io::Result<String> {
        let mut buf = [0u8; 256];
        let n = self.read_into(buf.as_mut_ptr().cast(), buf.len())?;
        Ok(crate::darwin::c_name(&buf[..n]))
    }

    /// `KERN_PROCARGS2` for the MIB's process into `buf` (sized to `kern.argmax`); the bytes
    /// the kernel wrote.
    pub(super) fn read_bytes<'b>(&self, buf: &'b mut [u8]) -> io::Result<&'b [u8]> {
        let n = self.read_into(buf.as_mut_ptr().cast(), buf.len())?;
        Ok(&buf[..n.min(buf.len())])
    }
}

/// The host port, obtained once. `mach_host_self` adds a send right each time it is called,
/// so the sampler keeps one and releases it when dropped.
pub(super) struct HostPort(mach_port_t);

impl HostPort {
    pub(super) fn new() -> HostPort {
        // SAFETY: mach_host_self has no preconditions.
        HostPort(unsafe { mach2::mach_init::mach_host_self() })
    }

    /// `host_statistics64(HOST_VM_INFO64)`: the counts and how many `integer_t`s the kernel
    /// filled. Processes that are not Apple platform binaries share one rate limit per flavor:
    /// a random 2 to 10 fresh answers a second among all of them, then the cached copy the
    /// last of them stored (`osfmk/kern/host.c`, `rate_limit_host_statistics`).
    pub(super) fn vm_statistics(&self) -> Result<(VmStatistics64, u32), kern_return_t> {
        let mut s = MaybeUninit::<vm_statistics64>::zeroed();
        let mut count: mach_msg_type_number_t = mach2::host_info::HOST_VM_INFO64_COUNT;
        // SAFETY: `s` is a vm_statistics64 of HOST_VM_INFO64_COUNT integer_t's, which `count`
        // says; the kernel fills at most that and writes back how much it filled.
        let kr = unsafe {
            libc::host_statistics64(
                self.0,
                libc::HOST_VM_INFO64,
                s.as_mut_ptr().cast::<integer_t>(),
                &mut count,
            )
        };
        if kr != KERN_SUCCESS {
            return Err(kr);
        }
        // SAFETY: the call succeeded; the structure was zeroed, so fields past `count` (which
        // the decoder refuses to read) are zero rather than uninitialised.
        let s = unsafe { s.assume_init() };
        let v = VmStatistics64 {
            free_count: u64::from(s.free_count),
            active_count: u64::from(s.active_count),
            inactive_count: u64::from(s.inactive_count),
            wire_count: u64::from(s.wire_count),
            speculative_count: u64::from(s.speculative_count),
            throttled_count: u64::from(s.throttled_count),
            purgeable_count: u64::from(s.purgeable_count),
            compressor_page_count: u64::from(s.compressor_page_count),
            external_page_count: u64::from(s.external_page_count),
            internal_page_count: u64::from(s.internal_page_count),
            total_uncompressed_pages_in_compressor: s.total_uncompressed_pages_in_compressor,
            faults: s.faults,
            zero_fill_count: s.zero_fill_count,
            purges: s.purges,
            pageins: s.pageins,
            pageouts: s.pageouts,
            swapins: s.swapins,
            swapouts: s.swapouts,
            compressions: s.compressions,
            decompressions: s.decompressions,
        };
        Ok((v, count))
    }
}

/// The count of `integer_t`s up to and including `total_uncompressed_pages_in_compressor`,
/// the last field the sampler reads (revision 1 of `vm_statistics64`).
pub(super) const VM_INFO64_REQUIRED_COUNT: u32 =
    (offset_of!(vm_statistics64, swapped_count) / size_of::<integer_t>()) as u32;

impl Drop for HostPort {
    fn drop(&mut self) {
        // SAFETY: the port is a send right this value owns and never uses again.
        unsafe {
            mach2::mach_port::mach_port_deallocate(mach2::traps::mach_task_self(), self.0);
        }
    }
}

/// The kernel's page size, the unit of `host_statistics64` and of the `vm.page_*` counts
/// (`vm_stat` prints `vm_kernel_page_size` in its header).
pub(super) fn kernel_page_size() -> u64 {
    // SAFETY: a constant the runtime initialises before main; reading it has no side effect.
    unsafe { mach2::vm_page_size::vm_kernel_page_size as u64 }
}

/// `mach_timebase_info`: `numer / denom` converts `mach_absolute_time` units to nanoseconds
/// (1/1 on Intel, 125/3 on Apple Silicon).
pub(super) fn timebase() -> (u32, u32) {
    let mut info = mach2::mach_time::mach_timebase_info { numer: 0, denom: 0 };
    // SAFETY: the structure is ours and the call only writes it.
    let kr = unsafe { mach2::mach_time::mach_timebase_info(&mut info) };
    if kr != KERN_SUCCESS || info.denom == 0 {
        return (1, 1);
    }
    (info.numer, info.denom)
}

/// `getrusage(RUSAGE_SELF)` or `getrusage(RUSAGE_CHILDREN)`: the CPU time of this process, or
/// of its children (and theirs) that have been waited for, and the largest resident set. On macOS
/// `ru_maxrss` is in bytes (Apple's getrusage(2): "the maximum resident set size utilized (in
/// bytes)"; getrusage(2) on Linux says KiB, which is why the unit travels).
// The field types differ between targets (`suseconds_t` is i32 on macOS, i64 on Linux), so a
// cast that is a no-op on one is needed on another.
#[allow(clippy::unnecessary_cast)]
pub(crate) fn rusage_of(who: crate::types::Who) -> std::io::Result<crate::types::Raw> {
    let who = match who {
        crate::types::Who::Children => libc::RUSAGE_CHILDREN,
        crate::types::Who::Itself => libc::RUSAGE_SELF,
    };
    let mut r = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `r` is a valid, writable rusage; `who` is RUSAGE_SELF or RUSAGE_CHILDREN.
    if unsafe { libc::getrusage(who, r.as_mut_ptr()) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: getrusage succeeded, so it filled the struct (which was zeroed anyway).
    let r = unsafe { r.assume_init() };
    Ok(crate::types::Raw {
        user: (r.ru_utime.tv_sec as i64, r.ru_utime.tv_usec as i64),
        system: (r.ru_stime.tv_sec as i64, r.ru_stime.tv_usec as i64),
        max_rss: r.ru_maxrss as i64,
        max_rss_unit: 1,
    })
}
