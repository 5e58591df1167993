//! macOS (and any OS but Linux): there is no subreaper. xnu gives the children of an exiting
//! process to launchd (`proc_exit` in `bsd/kern/kern_exit.c` re-parents each child with
//! `proc_reparentlocked(q, initproc, …)`), so a process the command leaves behind is followed
//! only if memtide saw it while its parent was still in the tree: a daemon the command starts
//! and leaves within one sampling interval is not followed.

/// Nothing can be adopted here.
pub fn adopt_orphans() -> bool {
    false
}
