//! macOS (and any OS but Linux): there is no subreaper. xnu gives the children of an exiting
//! process to launchd (`proc_exit` in `bsd/kern/kern_exit.c` re-parents each child with
//! `proc_reparentlocked(q, initproc, 0, 1)`, l. 2454), so a process the command leaves behind is
//! out of the command's tree. `run` finds it by its process group instead (see `run::Group`),
//! unless it left the group (`setsid`, `setpgid`) before memtide first saw it. Nor can a
//! kqueue follow the forks for memtide: `filt_procattach` (`bsd/kern/kern_event.c` l. 1104)
//! refuses `NOTE_TRACK` and `NOTE_CHILD` with `ENOTSUP`.

/// Nothing can be adopted here.
pub fn adopt_orphans() -> bool {
    false
}
