//! Linux: while `memtide run` runs its command, memtide is a child subreaper
//! (`prctl(PR_SET_CHILD_SUBREAPER)`, Linux 3.4 and later): a process the command leaves behind
//! when it exits (a daemon it starts before it returns) is re-parented to memtide rather than
//! to init, so that it stays in the tree memtide follows. memtide never waits for those
//! processes: each that exits stays a zombie until memtide does, and init reaps it then.

/// Makes memtide the subreaper of what its children leave behind; whether that worked.
pub fn adopt_orphans() -> bool {
    let me = i32::try_from(std::process::id())
        .ok()
        .and_then(rustix::process::Pid::from_raw);
    me.is_some() && rustix::process::set_child_subreaper(me).is_ok()
}
