//! The OS-independent part of sampling: which processes to follow, when they start and end, and
//! the buffers reused from tick to tick. The OS backends only read.

use crate::error::{ProcessFailure, Result};
use crate::selector::{Candidate, ProcessSelector, Verdict};
use crate::types::{HostInfo, ProcessId, ProcessInfo, ProcessSample, SystemSample, TickTime};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

/// What a backend learns of a PID the first time it sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Identity {
    pub start_time_us: u64,
    pub ppid: u32,
    /// The process group (0 where the backend cannot tell).
    pub pgid: u32,
    pub name: String,
}

/// The reads one OS offers. Implementations keep whatever handles they like in `Handle`.
pub(crate) trait Backend {
    /// What the backend keeps open per followed process.
    type Handle;
    fn host(&self) -> &HostInfo;
    /// Every PID alive now, into `out` (cleared first). Must not allocate once `out` is large
    /// enough.
    fn list_pids(&mut self, out: &mut Vec<u32>) -> Result<()>;
    /// Identity of `pid`; [`Error::ProcessGone`] if there is no such process.
    fn identify(&mut self, pid: u32) -> Result<Identity>;
    /// [`name_hash`] of `pid`'s short name now, without allocating: how the sampler notices
    /// that a process it knows has called `exec`. (A PID taken by a new process in the
    /// meantime shows as a new name too, and is then judged anew, which is right for it.)
    fn name_hash(&mut self, pid: u32) -> Result<u64>;
    /// Executable path (if known) and argv of `pid`.
    fn command_line(&mut self, pid: u32) -> Result<(Option<String>, Vec<String>)>;
    /// The argv of `pid` alone, for judging a process that is not followed: a backend that
    /// can read it for less than the whole command line does.
    fn arguments(&mut self, pid: u32) -> Result<Vec<String>> {
        self.command_line(pid).map(|(_, argv)| argv)
    }
    /// Prepares to sample `id`, failing with [`Error::ProcessGone`] if `id.pid` now belongs to
    /// another process.
    fn open(&mut self, id: ProcessId) -> Result<Self::Handle>;
    /// Reads the process's memory into `out` (whose `id`, `ppid` and `name` are set).
    fn read(&mut self, handle: &mut Self::Handle, out: &mut ProcessSample) -> Result<()>;
    /// Reads system memory into `out`.
    fn system(&mut self, out: &mut SystemSample) -> Result<()>;
    /// From the next read on, also counts the process's resident pages of `file` (see
    /// [`ProcessSample::weights_resident_bytes`]).
    fn watch_weights(&mut self, handle: &mut Self::Handle, file: &std::path::Path) -> Result<()>;
    /// CPU time (user + system) the process has used so far.
    fn cpu_time(&mut self, pid: u32) -> Result<std::time::Duration>;
    /// A number that changes whenever a process (or thread) is created, read far more
    /// cheaply than the process table is listed; `None` where the OS has none. While it stays
    /// the same, no process can have appeared and listing can wait.
    fn creation_marker(&mut self) -> Option<u64> {
        None
    }
    /// Now, on the clock and in the resolution of [`Identity::start_time_us`]: a process
    /// started after this call has a start time at least this.
    fn start_time_now(&mut self) -> u64;
}

/// A hash of a process's short name (FNV-1a), kept for every known process so that a change of
/// name, the trace an `exec` leaves, is seen without storing or comparing strings.
pub(crate) fn name_hash(name: impl IntoIterator<Item = u8>) -> u64 {
    name.into_iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// How often, under a selection by pattern (`--match`), the processes that are known but not
/// followed are asked whether they changed name, that is, called `exec` (a launch wrapper that
/// execs a runner after its first seconds, or a process that was there before recording
/// began). A pattern can match any command line, so every such process is asked, one small
/// read each (Linux: its `comm`; macOS: `PROC_PIDTBSDINFO`), whatever its age: a young table
/// costs what an old one does. A runner is followed within this long of its exec. The Ollama
/// selection needs no such check: its processes are started under their own names (the app,
/// `ollama serve` from a service or a shell) or by a followed server (the runners), whose
/// execs are watched ([`ExecWatch`]). `docs/benchmarks.md` states the cost.
pub(crate) const EXEC_CHECK_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// The first gap between two looks at a young process ([`YoungWatch`], [`ExecWatch`]); each
/// later gap is the process's age, so a process is asked about six times in its first
/// [`EXEC_RECHECK_WINDOW`] whatever the sampling rate.
pub(crate) const YOUNG_FIRST_GAP: std::time::Duration = std::time::Duration::from_millis(100);

/// When to look at a young process again, `age` after it was first seen at `born`: after a
/// gap as long as its age (at least [`YOUNG_FIRST_GAP`]), and no later than the end of its
/// [`EXEC_RECHECK_WINDOW`].
pub(crate) fn next_young_look(born: Instant, now: Instant) -> Instant {
    let age = now.saturating_duration_since(born);
    (now + age.max(YOUNG_FIRST_GAP)).min(born + EXEC_RECHECK_WINDOW)
}

/// Whether a look due now at a process first seen young at `born` comes too late to be made
/// (the last look, at the end of the window, is made up to a first gap late: ticks are not
/// exactly on time).
fn past_window(born: Instant, now: Instant) -> bool {
    now.saturating_duration_since(born) > EXEC_RECHECK_WINDOW + YOUNG_FIRST_GAP
}

/// The shortest time between two counts of a process's resident weights
/// ([`ProcessSample::weights_resident_bytes`]): a count looks at every page of the mapping
/// (on Linux about 1.2 µs per MiB, `memtide bench` on the project's machine: some 6 ms for a
/// 5 GB model), so it is made at most once a second, and only when the process's memory moved.
pub const WEIGHTS_MIN_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// The longest a count of resident weights is kept without counting again, even when nothing
/// seemed to move: pages can leave one mapping for another of the same count.
pub const WEIGHTS_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(60);

/// Whether a count of resident weights is due, given when the last was made (`None`: never),
/// and whether the process's memory moved since then.
pub(crate) fn weights_due(last: Option<Instant>, now: Instant, moved: bool) -> bool {
    last.is_none_or(|t| {
        let age = now.saturating_duration_since(t);
        age >= WEIGHTS_MAX_AGE || (moved && age >= WEIGHTS_MIN_INTERVAL)
    })
}

/// A backend's last count of one process's resident weights: when it was made, the figure
/// that tells whether the process's memory moved since (each OS reads its own), and what it
/// found.
#[derive(Debug, Default)]
pub(crate) struct WeightsCount {
    counted_at: Option<Instant>,
    memory_at: u64,
    value: Option<u64>,
}

impl WeightsCount {
    /// Counts again with `count` when [`weights_due`] (the process's memory is `memory` now),
    /// and returns the figure to report. A count that fails (the process exiting under it, a
    /// read refused) leaves the figure unknown until the next one; the sample itself stands.
    pub(crate) fn update<E>(
        &mut self,
        now: Instant,
        memory: u64,
        count: impl FnOnce() -> std::result::Result<u64, E>,
    ) -> Option<u64> {
        if weights_due(self.counted_at, now, memory != self.memory_at) {
            self.value = count().ok();
            self.memory_at = memory;
            self.counted_at = Some(now);
        }
        self.value
    }
}

/// What the sampler remembers of every PID in the process table, followed or not, so that
/// each process is judged once.
#[derive(Debug, Clone, Copy)]
struct Known {
    start_time_us: u64,
    /// [`name_hash`] of its short name when it was judged.
    name_hash: u64,
    /// Not asked whether it called exec: followed now (its exec, if any, was judged already),
    /// or with no command line when judged (kernel threads and zombies never exec).
    settled: bool,
    /// Inside a tree a rule selects (the root or a descendant).
    in_tree: bool,
    /// The tick in which this PID was last listed.
    seen: u64,
    /// When a process that was young when first seen ([`YoungWatch`]) started, on the
    /// monotonic clock; `None` for older processes, for followed ones, and for those that
    /// cannot be read.
    born: Option<Instant>,
}

/// How long a process first seen young and not selected is looked at again.
///
/// A new process is first a copy of its parent (`fork`), and becomes what it is only when it
/// calls `exec`, under the same PID and start time. A tick that lands between the two sees
/// the parent's name and command line: `ollama serve`'s, for a runner being started. Looking
/// at young processes again for two seconds catches the exec (which follows the fork within
/// milliseconds) at the cost of a few reads per new process ([`YoungWatch`]).
pub(crate) const EXEC_RECHECK_WINDOW: std::time::Duration = std::time::Duration::from_secs(2);

/// How old a process not selected may be when first seen to be looked at again for its exec
/// ([`YoungWatch`]): one listed later than this after its fork has, all but surely, called
/// `exec` already (a shell, Go's `os/exec`, Python's `subprocess` and launchd all exec within
/// milliseconds of the fork). On a machine that starts a hundred processes a second this
/// spares looking at the nine in ten a 1 s listing first sees older than this.
pub(crate) const FORK_EXEC_WINDOW: std::time::Duration = std::time::Duration::from_millis(250);

/// A process not selected, started less than [`FORK_EXEC_WINDOW`] before it was first seen
/// (born during sampling, or just before it began): it may have been listed between its
/// fork and its exec. It is looked at again on a widening schedule ([`next_young_look`]), not
/// at every tick: under a selection that decides by the kernel's name (the Ollama one) by its
/// name alone, one small read, and judged again only when the name changed; under one by
/// pattern, judged again each time (an exec may keep the name and change the arguments).
#[derive(Debug, Clone, Copy)]
struct YoungWatch {
    pid: u32,
    start_time_us: u64,
    born: Instant,
    name_hash: u64,
    next: Instant,
}

/// A process followed for its ancestry or group alone (not for its own name or command line),
/// started less than [`EXEC_RECHECK_WINDOW`] ago: if it was first listed between its fork and
/// its exec, it still carried its parent's name and command line, so until
/// [`EXEC_RECHECK_WINDOW`] after its start its command line is read again on the widening
/// schedule of [`next_young_look`], and an exec gives it its own
/// (reported in [`crate::Tick::started`] again, under the same identity).
#[derive(Debug, Clone)]
struct ExecWatch {
    id: ProcessId,
    argv: Vec<String>,
    born: Instant,
    next: Instant,
}

/// However still the creation marker stays, the table is listed at least this often: a marker
/// that comes back to the same value (the PID allocator wrapping around, or set by hand) hides
/// a new process for this long at most.
pub(crate) const MAX_LISTING_AGE: std::time::Duration = std::time::Duration::from_secs(2);

/// A process whose command line the OS could not give yet ([`crate::Error::NotReady`]): it
/// is judged again at the next listing, for at most [`EXEC_RECHECK_WINDOW`] from the first
/// refusal, and then taken with what could be read.
#[derive(Debug, Clone, Copy)]
struct Deferred {
    pid: u32,
    start_time_us: u64,
    since: Instant,
    preexisting: bool,
}

struct Followed<H> {
    info: Arc<ProcessInfo>,
    handle: H,
}

/// One tick's results, borrowed from the sampler until the next tick.
#[derive(Debug)]
pub struct Tick<'a> {
    /// When the tick was taken.
    pub time: TickTime,
    /// System memory.
    pub system: &'a SystemSample,
    /// One sample per followed process, in the order they were first seen.
    pub processes: &'a [ProcessSample],
    /// Processes selected for the first time in this tick (their samples are in `processes`),
    /// and followed ones seen to have called exec since (an identity already started, with its
    /// new name and command line: a process first listed between its fork and its exec).
    pub started: &'a [Arc<ProcessInfo>],
    /// Followed processes that ended since the previous tick. They are not in `processes`.
    pub exited: &'a [ProcessId],
    /// Selected processes that could not be read (for example another user's, without
    /// privileges). Each is reported once and then left alone.
    pub failures: &'a [ProcessFailure],
    /// A system read that failed in this tick (the first, when several did). The sample then
    /// holds what the other reads gave, and `None` where the failed one would have: a tick
    /// degrades, it does not end.
    pub system_error: Option<&'a crate::Error>,
}

impl Tick<'_> {
    /// The facts of a process that started in this tick (in the first tick, of every followed
    /// process).
    pub fn started_info(&self, id: ProcessId) -> Option<&Arc<ProcessInfo>> {
        self.started.iter().find(|i| i.id == id)
    }
}

pub(crate) struct Core<B: Backend> {
    backend: B,
    selector: ProcessSelector,
    created: Instant,
    tick_no: u64,
    known: HashMap<u32, Known>,
    followed: Vec<Followed<B::Handle>>,
    pids: Vec<u32>,
    fresh: Vec<(u32, Identity)>,
    /// Young unselected processes judged again this tick: PID, start time, first seen.
    young: Vec<(u32, u64, Option<Instant>)>,
    /// Young unselected processes looked at again for their exec (see [`YoungWatch`]).
    young_watch: Vec<YoungWatch>,
    /// Processes whose command line was not ready, judged again at the next listing.
    deferred: Vec<Deferred>,
    /// When known, unfollowed processes were last asked whether they called exec.
    last_exec_check: Option<Instant>,
    exec_check_interval: std::time::Duration,
    /// PIDs found to have changed name in this tick (reused buffer).
    renamed: Vec<u32>,
    /// Followed processes that may still call exec (see [`ExecWatch`]).
    exec_watch: Vec<ExecWatch>,
    /// Minimum time between two listings of the process table.
    discovery_interval: std::time::Duration,
    last_listing: Option<Instant>,
    /// The backend's creation marker at the last listing.
    last_marker: Option<u64>,
    /// When the table was last listed (not skipped).
    last_real_listing: Option<Instant>,
    /// Listings skipped because no process was created since the last one.
    skipped_listings: u64,
    /// Processes judged so far (see [`crate::Sampler::processes_judged`]).
    judged: u64,
    system: SystemSample,
    system_error: Option<crate::Error>,
    processes: Vec<ProcessSample>,
    started: Vec<Arc<ProcessInfo>>,
    exited: Vec<ProcessId>,
    failures: Vec<ProcessFailure>,
}

impl<B: Backend> Core<B> {
    pub(crate) fn new(backend: B, selector: ProcessSelector) -> Core<B> {
        Core {
            backend,
            selector,
            created: Instant::now(),
            tick_no: 0,
            known: HashMap::new(),
            followed: Vec::new(),
            pids: Vec::new(),
            fresh: Vec::new(),
            young: Vec::new(),
            young_watch: Vec::new(),
            deferred: Vec::new(),
            last_exec_check: None,
            exec_check_interval: EXEC_CHECK_INTERVAL,
            renamed: Vec::new(),
            exec_watch: Vec::new(),
            discovery_interval: std::time::Duration::ZERO,
            last_listing: None,
            last_marker: None,
            last_real_listing: None,
            skipped_listings: 0,
            judged: 0,
            system: SystemSample::default(),
            system_error: None,
            processes: Vec::new(),
            started: Vec::new(),
            exited: Vec::new(),
            failures: Vec::new(),
        }
    }

    pub(crate) fn host(&self) -> &HostInfo {
        self.backend.host()
    }

    pub(crate) fn selector(&self) -> &ProcessSelector {
        &self.selector
    }

    pub(crate) fn followed(&self) -> impl Iterator<Item = &Arc<ProcessInfo>> {
        self.followed.iter().map(|f| &f.info)
    }

    /// Listings of the process table skipped so far because no process was created.
    pub(crate) fn skipped_listings(&self) -> u64 {
        self.skipped_listings
    }

    /// See [`crate::Sampler::watch_weights`].
    pub(crate) fn watch_weights(&mut self, pid: u32, file: &std::path::Path) -> Result<()> {
        let f = self
            .followed
            .iter_mut()
            .find(|f| f.info.id.pid == pid)
            .ok_or(crate::Error::ProcessGone { pid })?;
        self.backend.watch_weights(&mut f.handle, file)
    }

    pub(crate) fn processes_judged(&self) -> u64 {
        self.judged
    }

    pub(crate) fn set_discovery_interval(&mut self, d: std::time::Duration) {
        self.discovery_interval = d;
    }

    /// Follows `root` and its descendants from the next tick on, besides what the selector
    /// already chooses; the next tick lists the process table whatever the discovery interval.
    pub(crate) fn follow_tree(&mut self, root: u32) {
        self.add_rule(ProcessSelector::TreeOf(root));
        // Judged again at the next listing, as a tree root now.
        self.known.remove(&root);
    }

    /// Follows, from the next tick on and besides what the selector already chooses, the
    /// processes of group `pgid` started at `since_us` or later (see
    /// [`ProcessSelector::GroupOf`]) and their descendants.
    pub(crate) fn follow_group(&mut self, pgid: u32, since_us: u64) {
        self.add_rule(ProcessSelector::GroupOf { pgid, since_us });
    }

    pub(crate) fn start_time_now(&mut self) -> u64 {
        self.backend.start_time_now()
    }

    /// Adds a rule to the selector; the next tick lists the process table whatever the
    /// discovery interval.
    fn add_rule(&mut self, rule: ProcessSelector) {
        self.selector = match std::mem::replace(&mut self.selector, ProcessSelector::All) {
            ProcessSelector::Any(mut rules) => {
                rules.push(rule);
                ProcessSelector::Any(rules)
            }
            other => ProcessSelector::Any(vec![other, rule]),
        };
        self.last_listing = None;
        self.last_marker = None;
    }

    pub(crate) fn set_exec_check_interval(&mut self, d: std::time::Duration) {
        self.exec_check_interval = d;
    }

    pub(crate) fn cpu_time(&mut self, pid: u32) -> Result<std::time::Duration> {
        self.backend.cpu_time(pid)
    }

    pub(crate) fn system(&mut self) -> Result<SystemSample> {
        let mut s = SystemSample::default();
        self.backend.system(&mut s)?;
        Ok(s)
    }

    pub(crate) fn sample_pid(&mut self, pid: u32) -> Result<(ProcessSample, ProcessInfo)> {
        let ident = self.backend.identify(pid)?;
        let id = ProcessId {
            pid,
            start_time_us: ident.start_time_us,
        };
        let mut handle = self.backend.open(id)?;
        let (exe, argv) = self.backend.command_line(pid).unwrap_or_default();
        let name: Arc<str> = Arc::from(ident.name.as_str());
        let mut sample = ProcessSample::empty(id, ident.ppid, name.clone());
        self.backend.read(&mut handle, &mut sample)?;
        let info = ProcessInfo {
            id,
            ppid: ident.ppid,
            name,
            exe,
            argv,
        };
        Ok((sample, info))
    }

    pub(crate) fn tick(&mut self) -> Result<Tick<'_>> {
        // One reading of the monotonic clock serves the tick's time and its schedule.
        let instant = Instant::now();
        let time = TickTime {
            wall: SystemTime::now(),
            elapsed: instant.saturating_duration_since(self.created),
        };
        self.tick_no += 1;
        let now = self.tick_no;
        self.processes.clear();
        self.started.clear();
        self.exited.clear();
        self.failures.clear();
        self.fresh.clear();

        self.system_error = self.backend.system(&mut self.system).err();
        if self.system.total_bytes == 0 {
            self.system.total_bytes = self.backend.host().total_memory_bytes;
        }
        // The process table is listed when discovery is due (every tick by default) and the
        // selector can take a process that was not there at the start, or one is waiting to be
        // judged again; followed processes are read every tick regardless, so exits are always
        // seen at once.
        let due = self.tick_no == 1
            || ((self.selector.takes_new() || !self.deferred.is_empty())
                && self
                    .last_listing
                    .is_none_or(|at| instant.duration_since(at) >= self.discovery_interval));
        let exec_check_due = self.selector.asks_after_exec()
            && self
                .last_exec_check
                .is_none_or(|at| instant.duration_since(at) >= self.exec_check_interval);
        // A listing that is due can still wait when no process was created since the last one
        // (the backend's marker) and none is deferred. Looking at young processes and the exec
        // check need no listing: they ask the processes already known.
        let mut list = due;
        let stale = self
            .last_real_listing
            .is_none_or(|at| instant.duration_since(at) >= MAX_LISTING_AGE);
        if due && self.tick_no > 1 && !stale && self.deferred.is_empty() {
            let marker = self.backend.creation_marker();
            if marker.is_some() && marker == self.last_marker {
                list = false;
                self.last_listing = Some(instant);
                self.skipped_listings += 1;
            }
        }
        if list {
            // Read before listing: a process created while the table is read changes it.
            self.last_marker = self.backend.creation_marker();
            self.last_real_listing = Some(instant);
            self.backend.list_pids(&mut self.pids)?;
            self.last_listing = Some(instant);
            let pids = &self.pids;
            self.deferred.retain(|d| pids.contains(&d.pid));
        }

        // Mark every listed PID and collect the ones never seen.
        let mut unseen = Vec::new();
        for &pid in self.pids.iter().filter(|_| list) {
            match self.known.get_mut(&pid) {
                Some(k) => k.seen = now,
                None => unseen.push(pid),
            }
        }
        if !self.young_watch.is_empty() {
            self.watch_young(instant, &mut unseen);
        }
        // Under a selection by pattern, every EXEC_CHECK_INTERVAL: has a known, unfollowed
        // process called exec since it was judged (a new name under the same identity)? Then
        // it is judged again, now. A PID that is gone answers nothing and is left to the next
        // listing.
        if exec_check_due {
            self.last_exec_check = Some(instant);
            self.renamed.clear();
            for (&pid, k) in &self.known {
                // A young process is looked at on its own schedule (above).
                let young = k
                    .born
                    .is_some_and(|b| instant.duration_since(b) < EXEC_RECHECK_WINDOW);
                if k.settled || young || k.start_time_us == 0 || (list && k.seen != now) {
                    continue;
                }
                if self.backend.name_hash(pid).is_ok_and(|h| h != k.name_hash) {
                    self.renamed.push(pid);
                }
            }
            for &pid in &self.renamed {
                self.known.remove(&pid);
                unseen.push(pid);
            }
        }

        if !self.exec_watch.is_empty() {
            self.watch_execs(instant);
        }

        // Read the followed processes. One that is gone leaves the series; if its PID is still
        // listed, the PID now belongs to a new process, judged below like any new one.
        let mut i = 0;
        while i < self.followed.len() {
            let f = &mut self.followed[i];
            let mut sample = ProcessSample::empty(f.info.id, f.info.ppid, f.info.name.clone());
            match self.backend.read(&mut f.handle, &mut sample) {
                Ok(()) => {
                    self.processes.push(sample);
                    i += 1;
                }
                Err(e) => {
                    let f = self.followed.remove(i);
                    let pid = f.info.id.pid;
                    if !e.is_gone() {
                        self.failures.push(ProcessFailure {
                            id: f.info.id,
                            error: e,
                        });
                    }
                    self.exited.push(f.info.id);
                    // Forgotten, so that a process that takes the PID later is judged anew;
                    // at once if the PID is listed again now, or when the listing was skipped
                    // (a PID given again leaves the creation marker where it was only when
                    // set by hand, as checkpoint-restore does: asking costs one `stat`).
                    if self
                        .known
                        .remove(&pid)
                        .is_some_and(|k| k.seen == now || !list)
                    {
                        unseen.push(pid);
                    }
                }
            }
        }

        // Forget PIDs that are no longer listed.
        if list {
            self.known.retain(|_, k| k.seen == now);
            let known = &self.known;
            self.young_watch.retain(|y| known.contains_key(&y.pid));
        }

        if !unseen.is_empty() {
            self.admit(unseen, now);
        }
        Ok(Tick {
            time,
            system: &self.system,
            processes: &self.processes,
            started: &self.started,
            exited: &self.exited,
            failures: &self.failures,
            system_error: self.system_error.as_ref(),
        })
    }

    /// Looks again at each young unselected process that is due (see [`YoungWatch`]); one to
    /// be judged again is forgotten and put in `unseen`, keeping when it was first seen.
    fn watch_young(&mut self, now: Instant, unseen: &mut Vec<u32>) {
        let by_pattern = self.selector.asks_after_exec();
        let mut i = 0;
        while i < self.young_watch.len() {
            let y = self.young_watch[i];
            if now < y.next {
                i += 1;
                continue;
            }
            if past_window(y.born, now) {
                self.young_watch.swap_remove(i);
                continue;
            }
            // A name that cannot be read (gone, or no descriptor for a moment) is no change:
            // the listing forgets a process that is gone.
            let changed = by_pattern
                || self
                    .backend
                    .name_hash(y.pid)
                    .is_ok_and(|h| h != y.name_hash);
            if changed {
                self.young_watch.swap_remove(i);
                if self.known.remove(&y.pid).is_some() {
                    self.young.push((y.pid, y.start_time_us, Some(y.born)));
                    unseen.push(y.pid);
                }
                continue;
            }
            let next = next_young_look(y.born, now);
            if next <= now {
                self.young_watch.swap_remove(i);
                continue;
            }
            self.young_watch[i].next = next;
            i += 1;
        }
    }

    /// Reads again the command line of each followed process that may still call exec (see
    /// [`ExecWatch`]); one that did is given its new name and command line, and is started
    /// again in this tick's report under the same identity.
    fn watch_execs(&mut self, now: Instant) {
        let mut watch = std::mem::take(&mut self.exec_watch);
        watch.retain_mut(|w| {
            if now < w.next {
                return true;
            }
            if past_window(w.born, now) {
                return false;
            }
            w.next = next_young_look(w.born, now);
            // Past its window, this look is the last.
            let more = w.next > now;
            let Ok((exe, argv)) = self.backend.command_line(w.id.pid) else {
                // Gone (the read of its memory says so), or not readable for a moment.
                return more;
            };
            if argv.is_empty() || argv == w.argv {
                return more;
            }
            let Ok(ident) = self.backend.identify(w.id.pid) else {
                return more;
            };
            if ident.start_time_us != w.id.start_time_us {
                return false;
            }
            let Some(f) = self.followed.iter_mut().find(|f| f.info.id == w.id) else {
                return false;
            };
            let info = Arc::new(ProcessInfo {
                id: w.id,
                ppid: ident.ppid,
                name: Arc::from(ident.name.as_str()),
                exe,
                argv: argv.clone(),
            });
            if let Some(k) = self.known.get_mut(&w.id.pid) {
                k.name_hash = name_hash(ident.name.bytes());
            }
            f.info = info.clone();
            self.started.push(info);
            w.argv = argv;
            more
        });
        self.exec_watch = watch;
    }

    /// Judges PIDs seen for the first time, parents before children.
    fn admit(&mut self, unseen: Vec<u32>, now: u64) {
        self.judged += unseen.len() as u64;
        for pid in unseen {
            match self.backend.identify(pid) {
                Ok(ident) => self.fresh.push((pid, ident)),
                // memtide had no descriptor to ask with: not remembered, so that the next
                // listing asks again.
                Err(e) if e.is_out_of_descriptors() => {}
                // Gone already (a zombie stays listed until reaped), or not ours to see:
                // nothing to follow. Remembered, so that it is not asked again every tick.
                Err(_) => {
                    self.known.insert(
                        pid,
                        Known {
                            start_time_us: 0,
                            name_hash: 0,
                            settled: true,
                            in_tree: false,
                            seen: now,
                            born: None,
                        },
                    );
                }
            }
        }
        // A parent always starts before its children.
        self.fresh.sort_by_key(|(_, ident)| ident.start_time_us);
        let clock_now = self.backend.start_time_now();
        let fresh = std::mem::take(&mut self.fresh);
        for (pid, ident) in &fresh {
            let (pid, ident) = (*pid, ident);
            let id = ProcessId {
                pid,
                start_time_us: ident.start_time_us,
            };
            // Every process listed in the first tick was alive when sampling began; any PID
            // first listed later belongs to a process born since (or was deferred since the
            // first tick).
            let preexisting = self.tick_no == 1
                || self.deferred.iter().any(|d| {
                    d.pid == pid && d.start_time_us == ident.start_time_us && d.preexisting
                });
            let is_self = pid == std::process::id();
            let mut candidate = Candidate {
                pid,
                pgid: ident.pgid,
                start_time_us: ident.start_time_us,
                name: &ident.name,
                argv: &[],
                preexisting,
                is_self,
            };
            let parent_in_tree = self.selector.has_trees()
                && self
                    .known
                    .get(&ident.ppid)
                    .is_some_and(|p| p.in_tree && p.start_time_us <= ident.start_time_us);
            // Cheapest first: the parent, then what `stat` gave (name, group, start); the
            // command line is read only when those cannot decide.
            let quick = if parent_in_tree && !is_self {
                Some(Verdict::default())
            } else {
                self.selector.judge_by_name(&candidate)
            };
            let (argv, verdict) = match quick {
                Some(v) => (None, v),
                None => {
                    let argv = match self.backend.arguments(pid) {
                        Ok(argv) => argv,
                        // Not in `known`, so the next listing judges it again.
                        Err(e) if e.is_not_ready() && self.defer(pid, ident, preexisting) => {
                            continue
                        }
                        Err(e) if e.is_out_of_descriptors() => continue,
                        Err(_) => Vec::new(),
                    };
                    candidate.argv = &argv;
                    let v = self.selector.judge(&candidate);
                    (Some(argv), v)
                }
            };
            let in_tree = verdict.tree_root || parent_in_tree;
            // A process judged again keeps the time it was first seen, if it is still the
            // same process. Any other is young if the kernel says it started less than
            // EXEC_RECHECK_WINDOW ago (born during sampling, or just before it began).
            let age =
                std::time::Duration::from_micros(clock_now.saturating_sub(ident.start_time_us));
            let again = self
                .young
                .iter()
                .find(|(p, start, _)| *p == pid && *start == ident.start_time_us);
            let rejudged = again.is_some();
            let born = match again {
                Some(&(_, _, born)) => born,
                _ if age < EXEC_RECHECK_WINDOW => {
                    let now = Instant::now();
                    Some(now.checked_sub(age).unwrap_or(now))
                }
                _ => None,
            };
            // This process as a tree's root (`memtide run` adopting what its command leaves
            // behind) stands for its descendants only.
            let selected = verdict.direct || (in_tree && !(is_self && verdict.tree_root));
            let hash = name_hash(ident.name.bytes());
            self.known.insert(
                pid,
                Known {
                    start_time_us: ident.start_time_us,
                    name_hash: hash,
                    // A process with no command line (a kernel thread, a zombie) never execs.
                    settled: selected || argv.as_ref().is_some_and(Vec::is_empty),
                    in_tree,
                    seen: now,
                    born: if selected { None } else { born },
                },
            );
            if !selected {
                self.deferred.retain(|d| d.pid != pid);
                // Looked at again when it may not have called exec yet: first seen within
                // FORK_EXEC_WINDOW of its start, or judged again after a look.
                let watch = age < FORK_EXEC_WINDOW || rejudged;
                if let Some(born) = born.filter(|_| watch && self.selector.can_change_at_exec()) {
                    let at = Instant::now();
                    if at.saturating_duration_since(born) < EXEC_RECHECK_WINDOW {
                        self.young_watch.push(YoungWatch {
                            pid,
                            start_time_us: ident.start_time_us,
                            born,
                            name_hash: hash,
                            next: next_young_look(born, at),
                        });
                    }
                }
                continue;
            }
            // What it runs, for the trace (read again when the arguments were read to judge:
            // once per followed process).
            let (exe, argv) = match self.backend.command_line(pid) {
                Ok(cmd) => cmd,
                Err(e) if e.is_not_ready() && self.defer(pid, ident, preexisting) => {
                    self.known.remove(&pid);
                    continue;
                }
                Err(e) if e.is_out_of_descriptors() => {
                    self.known.remove(&pid);
                    continue;
                }
                Err(_) => (None, argv.unwrap_or_default()),
            };
            self.deferred.retain(|d| d.pid != pid);
            let info = Arc::new(ProcessInfo {
                id,
                ppid: ident.ppid,
                name: Arc::from(ident.name.as_str()),
                exe,
                argv,
            });
            let opened = self.backend.open(id).and_then(|mut handle| {
                let mut sample = ProcessSample::empty(id, info.ppid, info.name.clone());
                self.backend.read(&mut handle, &mut sample)?;
                Ok((handle, sample))
            });
            match opened {
                Ok((handle, sample)) => {
                    // Young by the kernel's clock, so also one listed at the first tick.
                    if let Some(born) = born.filter(|_| !verdict.direct) {
                        self.exec_watch.push(ExecWatch {
                            id,
                            argv: info.argv.clone(),
                            born,
                            next: next_young_look(born, Instant::now()),
                        });
                    }
                    self.processes.push(sample);
                    self.started.push(info.clone());
                    self.followed.push(Followed { info, handle });
                }
                Err(e) if e.is_gone() => {}
                // memtide's own want of descriptors passes: forgotten, the process is judged
                // and opened again at the next listing.
                Err(e) if e.is_out_of_descriptors() => {
                    self.known.remove(&pid);
                }
                // Not retried: the PID stays in `known` and is judged again only when another
                // process takes it.
                Err(e) => self.failures.push(ProcessFailure { id, error: e }),
            }
        }
        self.fresh = fresh;
        self.fresh.clear();
        self.young.clear();
    }

    /// Notes that `pid`'s command line was not ready. `true` while it may be asked again
    /// (within [`EXEC_RECHECK_WINDOW`] of the first refusal); `false` once that has passed,
    /// when the process is judged with an empty command line.
    fn defer(&mut self, pid: u32, ident: &Identity, preexisting: bool) -> bool {
        let now = Instant::now();
        match self
            .deferred
            .iter_mut()
            .find(|d| d.pid == pid && d.start_time_us == ident.start_time_us)
        {
            Some(d) => now.duration_since(d.since) < EXEC_RECHECK_WINDOW,
            None => {
                self.deferred.retain(|d| d.pid != pid);
                self.deferred.push(Deferred {
                    pid,
                    start_time_us: ident.start_time_us,
                    since: now,
                    preexisting,
                });
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    /// A process table the test edits between ticks.
    #[derive(Default)]
    struct Table {
        host: Option<HostInfo>,
        procs: HashMap<u32, (Identity, Vec<String>, u64)>,
        identify_calls: usize,
        argv_calls: usize,
        name_calls: usize,
        /// The system read fails while set.
        system_fails: bool,
        /// PIDs whose command line is not ready yet.
        not_ready: std::collections::HashSet<u32>,
        /// Which call finds memtide out of descriptors (EMFILE) while set.
        out_of_fds: Option<&'static str>,
        /// How many times the table was listed.
        listings: usize,
        /// The creation marker, bumped by every spawn; `None`: the OS has none.
        marker: Option<u64>,
        /// What [`Backend::start_time_now`] answers.
        now_us: u64,
    }

    impl Table {
        fn spawn(&mut self, pid: u32, start: u64, ppid: u32, name: &str, rss: u64) {
            self.spawn_in_group(pid, start, ppid, 1, name, rss);
        }

        fn spawn_in_group(
            &mut self,
            pid: u32,
            start: u64,
            ppid: u32,
            pgid: u32,
            name: &str,
            rss: u64,
        ) {
            let ident = Identity {
                start_time_us: start,
                ppid,
                pgid,
                name: name.into(),
            };
            self.procs.insert(pid, (ident, vec![name.to_owned()], rss));
            self.marker = self.marker.map(|m| m + 1);
        }
    }

    impl Backend for Table {
        type Handle = ProcessId;
        fn host(&self) -> &HostInfo {
            self.host.as_ref().unwrap()
        }
        fn creation_marker(&mut self) -> Option<u64> {
            self.marker
        }
        fn start_time_now(&mut self) -> u64 {
            self.now_us
        }
        fn list_pids(&mut self, out: &mut Vec<u32>) -> Result<()> {
            self.listings += 1;
            out.clear();
            out.extend(self.procs.keys().copied());
            Ok(())
        }
        fn identify(&mut self, pid: u32) -> Result<Identity> {
            self.identify_calls += 1;
            if self.out_of_fds == Some("stat") {
                return Err(Error::OutOfDescriptors { pid, call: "stat" });
            }
            self.procs
                .get(&pid)
                .map(|p| p.0.clone())
                .ok_or(Error::ProcessGone { pid })
        }
        fn name_hash(&mut self, pid: u32) -> Result<u64> {
            self.name_calls += 1;
            let p = self.procs.get(&pid).ok_or(Error::ProcessGone { pid })?;
            Ok(name_hash(p.0.name.bytes()))
        }
        fn command_line(&mut self, pid: u32) -> Result<(Option<String>, Vec<String>)> {
            self.argv_calls += 1;
            if self.out_of_fds == Some("cmdline") {
                return Err(Error::OutOfDescriptors {
                    pid,
                    call: "cmdline",
                });
            }
            if self.not_ready.contains(&pid) {
                return Err(Error::NotReady { pid, call: "test" });
            }
            let p = self.procs.get(&pid).ok_or(Error::ProcessGone { pid })?;
            Ok((None, p.1.clone()))
        }
        fn open(&mut self, id: ProcessId) -> Result<ProcessId> {
            match self.out_of_fds {
                Some("statm") => Err(Error::OutOfDescriptors {
                    pid: id.pid,
                    call: "statm",
                }),
                _ => Ok(id),
            }
        }
        fn read(&mut self, h: &mut ProcessId, out: &mut ProcessSample) -> Result<()> {
            match self.procs.get(&h.pid) {
                Some(p) if p.0.start_time_us == h.start_time_us => {
                    out.rss_bytes = p.2;
                    Ok(())
                }
                _ => Err(Error::ProcessGone { pid: h.pid }),
            }
        }
        fn watch_weights(&mut self, _: &mut ProcessId, _: &std::path::Path) -> Result<()> {
            Err(crate::Error::Unsupported {
                what: "weights in the test table",
            })
        }
        fn system(&mut self, out: &mut SystemSample) -> Result<()> {
            if self.system_fails {
                *out = SystemSample::default();
                return Err(Error::Unsupported { what: "test" });
            }
            out.total_bytes = 1;
            out.free_bytes = Some(1);
            Ok(())
        }
        fn cpu_time(&mut self, _pid: u32) -> Result<std::time::Duration> {
            Ok(std::time::Duration::ZERO)
        }
    }

    fn core(selector: ProcessSelector) -> Core<Table> {
        let mut t = Table {
            host: Some(HostInfo {
                os: "test",
                os_version: None,
                arch: "test",
                total_memory_bytes: 1,
                page_size_bytes: Some(4096),
                gpu_wired_limit_bytes: None,
            }),
            // Long after every start time a test gives (under a second): all old, unless a
            // test says what time it is.
            now_us: 1 << 40,
            ..Table::default()
        };
        t.spawn(1, 10, 0, "init", 1);
        Core::new(t, selector)
    }

    /// Makes every look at a young process due now (as if time had passed).
    fn looks_due(c: &mut Core<Table>) {
        let now = Instant::now();
        for y in &mut c.young_watch {
            y.next = now;
        }
        for w in &mut c.exec_watch {
            w.next = now;
        }
    }

    fn pids(tick: &Tick<'_>) -> Vec<(u32, u64)> {
        tick.processes
            .iter()
            .map(|p| (p.id.pid, p.id.start_time_us))
            .collect()
    }

    #[test]
    fn a_reused_pid_is_a_new_identity() {
        let mut c = core(ProcessSelector::Match(vec!["runner".into()]));
        c.backend.spawn(100, 1_000, 1, "runner", 5);
        let t = c.tick().unwrap();
        assert_eq!(pids(&t), [(100, 1_000)]);
        assert_eq!(t.started.len(), 1);

        // The runner exits and, before the next tick, another runner gets PID 100.
        c.backend.spawn(100, 2_000, 1, "runner", 7);
        let t = c.tick().unwrap();
        let old = ProcessId {
            pid: 100,
            start_time_us: 1_000,
        };
        assert_eq!(t.exited, [old]);
        assert_eq!(pids(&t), [(100, 2_000)]);
        assert_eq!(t.started[0].id.start_time_us, 2_000);
        assert_eq!(t.processes[0].rss_bytes, 7);
    }

    #[test]
    fn command_lines_are_read_once_per_identity() {
        let mut c = core(ProcessSelector::Match(vec!["runner".into()]));
        c.backend.spawn(100, 1_000, 1, "runner", 5);
        c.backend.spawn(200, 1_000, 1, "other", 5);
        c.tick().unwrap();
        let (ids, argvs) = (c.backend.identify_calls, c.backend.argv_calls);
        assert_eq!((ids, argvs), (3, 3));
        for _ in 0..5 {
            c.tick().unwrap();
        }
        assert_eq!(
            (c.backend.identify_calls, c.backend.argv_calls),
            (ids, argvs)
        );
    }

    #[test]
    fn a_process_seen_between_fork_and_exec_is_judged_again() {
        let mut c = core(ProcessSelector::Match(vec!["runner".into()]));
        c.backend.now_us = 700;
        c.backend.spawn(50, 500, 1, "ollama", 1);
        c.backend.procs.get_mut(&50).unwrap().1 = vec!["ollama".into(), "serve".into()];
        assert!(c.tick().unwrap().processes.is_empty());
        // serve forks: the child is still a copy of serve when the tick sees it.
        c.backend.spawn(60, 600, 50, "ollama", 9);
        c.backend.procs.get_mut(&60).unwrap().1 = vec!["ollama".into(), "serve".into()];
        assert!(c.tick().unwrap().processes.is_empty());
        // Then it execs the runner: same PID, same start time, new command line. Not looked
        // at before its next look is due...
        c.backend.procs.get_mut(&60).unwrap().1 = vec![
            "ollama".into(),
            "runner".into(),
            "--port".into(),
            "1".into(),
        ];
        assert!(c.tick().unwrap().processes.is_empty());
        // ...and judged again then (a pattern can match new arguments under the same name).
        looks_due(&mut c);
        let t = c.tick().unwrap();
        assert_eq!(pids(&t), [(60, 600)]);
        assert_eq!(t.started[0].argv[1], "runner");
        // Once followed, its command line is not read again.
        let calls = c.backend.argv_calls;
        c.tick().unwrap();
        assert_eq!(c.backend.argv_calls, calls);
    }

    /// Under descriptor pressure (memtide's or the system's), a process is not "unreadable":
    /// once descriptors are back, it is followed from the next listing.
    #[test]
    fn a_process_met_while_out_of_descriptors_is_followed_once_they_are_back() {
        for call in ["stat", "cmdline", "statm"] {
            let mut c = core(ProcessSelector::Match(vec!["runner".into()]));
            c.tick().unwrap();
            c.backend.spawn(80, 800, 1, "runner", 3);
            c.backend.out_of_fds = Some(call);
            let t = c.tick().unwrap();
            assert!(t.processes.is_empty() && t.failures.is_empty(), "{call}");
            let t = c.tick().unwrap();
            assert!(t.processes.is_empty() && t.failures.is_empty(), "{call}");
            c.backend.out_of_fds = None;
            let t = c.tick().unwrap();
            assert_eq!(pids(&t), [(80, 800)], "{call}");
            assert_eq!(
                t.started[0].argv,
                ["runner"],
                "{call}: its real command line"
            );
        }
    }

    #[test]
    fn a_process_whose_command_line_is_not_ready_is_judged_again() {
        for selector in [
            ProcessSelector::Match(vec!["runner".into()]),
            ProcessSelector::Pids(vec![70]),
        ] {
            let mut c = core(selector.clone());
            // Already there when sampling starts, but still starting: no command line yet.
            c.backend.spawn(70, 700, 1, "runner", 3);
            c.backend.not_ready.insert(70);
            assert!(c.tick().unwrap().processes.is_empty(), "{selector:?}");
            assert!(c.tick().unwrap().processes.is_empty(), "{selector:?}");
            c.backend.not_ready.clear();
            let t = c.tick().unwrap();
            assert_eq!(pids(&t), [(70, 700)], "{selector:?}");
            assert_eq!(t.started[0].argv, ["runner"], "the real command line");
        }
        // One that never becomes readable is taken, after the window, with what there is.
        let mut c = core(ProcessSelector::Pids(vec![71]));
        c.backend.spawn(71, 710, 1, "stuck", 3);
        c.backend.not_ready.insert(71);
        assert!(c.tick().unwrap().processes.is_empty());
        c.deferred[0].since -= EXEC_RECHECK_WINDOW;
        let t = c.tick().unwrap();
        assert_eq!(pids(&t), [(71, 710)]);
        assert!(t.started[0].argv.is_empty());
    }

    #[test]
    fn a_process_born_while_sampling_that_execs_a_runner_later_is_followed() {
        let mut c = core(ProcessSelector::Match(vec!["runner".into()]));
        c.tick().unwrap();
        // A shell starts during sampling, and is not a runner.
        c.backend.now_us = 800;
        c.backend.spawn(70, 700, 1, "sh", 1);
        c.backend.procs.get_mut(&70).unwrap().1 = vec!["sh".into(), "-c".into(), "w".into()];
        assert!(c.tick().unwrap().started.is_empty());
        assert_eq!(
            c.young_watch.len(),
            1,
            "young: looked at again for its exec"
        );
        // Long past the window in which young processes are looked at again...
        let long_ago = Instant::now() - EXEC_RECHECK_WINDOW - std::time::Duration::from_secs(1);
        c.known.get_mut(&70).unwrap().born = Some(long_ago);
        c.young_watch.clear();
        // ...it execs a runner: same PID and start time, a new name.
        c.backend.procs.get_mut(&70).unwrap().0.name = "ollama".into();
        c.backend.procs.get_mut(&70).unwrap().1 = vec![
            "ollama".into(),
            "runner".into(),
            "--port".into(),
            "1".into(),
        ];
        c.last_exec_check = c.last_exec_check.map(|t| t - EXEC_CHECK_INTERVAL);
        let t = c.tick().unwrap();
        assert_eq!(t.started.len(), 1, "judged again at the exec check");
        assert_eq!(t.started[0].id.pid, 70);
    }

    #[test]
    fn a_process_that_execs_a_runner_long_after_it_started_is_followed() {
        let mut c = core(ProcessSelector::Match(vec!["runner".into()]));
        // A launch wrapper, there before sampling began.
        c.backend.spawn(80, 800, 1, "sh", 1);
        c.backend.procs.get_mut(&80).unwrap().1 = vec!["sh".into(), "-c".into(), "w".into()];
        c.backend.spawn(90, 900, 1, "bash", 1);
        assert!(c.tick().unwrap().processes.is_empty());
        assert!(c.tick().unwrap().processes.is_empty());
        let calls = c.backend.argv_calls;
        // It execs the runner minutes later: same PID and start time, new name.
        c.backend.procs.get_mut(&80).unwrap().0.name = "ollama".into();
        c.backend.procs.get_mut(&80).unwrap().1 = vec![
            "ollama".into(),
            "runner".into(),
            "--port".into(),
            "1".into(),
        ];
        // Not before the check is due...
        assert!(c.tick().unwrap().processes.is_empty());
        assert_eq!(
            c.backend.argv_calls, calls,
            "no command line read meanwhile"
        );
        // ...and at the next check, old as it is, it is followed.
        c.last_exec_check = c.last_exec_check.map(|t| t - EXEC_CHECK_INTERVAL);
        let t = c.tick().unwrap();
        assert_eq!(pids(&t), [(80, 800)]);
        assert_eq!(t.started[0].argv[1], "runner");
        // A process that keeps its name is never read again.
        let calls = c.backend.argv_calls;
        for _ in 0..3 {
            c.last_exec_check = c.last_exec_check.map(|t| t - EXEC_CHECK_INTERVAL);
            c.tick().unwrap();
        }
        assert_eq!(c.backend.argv_calls, calls);
    }

    #[test]
    fn young_and_old_processes_are_asked_alike_and_the_ollama_rule_asks_none() {
        let mut c = core(ProcessSelector::Match(vec!["runner".into()]));
        let now = c.backend.now_us;
        // One started a minute ago, one started a day ago; both unselected.
        c.backend.spawn(70, now - 60_000_000, 1, "sh", 1);
        c.backend.spawn(80, now - 86_400_000_000, 1, "sh", 1);
        for pid in [70, 80] {
            c.backend.procs.get_mut(&pid).unwrap().1 = vec!["sh".into(), "-c".into()];
        }
        c.tick().unwrap();
        // Both exec a runner: found at the same check.
        for pid in [70, 80] {
            let p = c.backend.procs.get_mut(&pid).unwrap();
            p.0.name = "ollama".into();
            p.1 = vec!["ollama".into(), "runner".into()];
        }
        c.last_exec_check = c.last_exec_check.map(|t| t - EXEC_CHECK_INTERVAL);
        let mut got: Vec<u32> = pids(&c.tick().unwrap()).iter().map(|p| p.0).collect();
        got.sort_unstable();
        assert_eq!(got, [70, 80]);

        // The Ollama rule reads no command line of a process it does not follow, looks at no
        // old one again, and finds Ollama by the kernel's name.
        let mut c = core(ProcessSelector::Ollama);
        c.backend.spawn(70, 700, 1, "sh", 1);
        c.backend.spawn(90, 900, 1, "ollama", 1);
        assert_eq!(pids(&c.tick().unwrap()), [(90, 900)]);
        assert_eq!(c.backend.argv_calls, 1, "the followed one's, for the trace");
        c.backend.procs.get_mut(&70).unwrap().0.name = "ollama".into();
        for _ in 0..3 {
            c.last_exec_check = c.last_exec_check.map(|t| t - EXEC_CHECK_INTERVAL);
            c.tick().unwrap();
        }
        assert_eq!((c.backend.argv_calls, c.backend.name_calls), (1, 0));
    }

    #[test]
    fn a_young_process_is_looked_at_by_name_on_a_widening_schedule() {
        let mut c = core(ProcessSelector::Ollama);
        c.tick().unwrap();
        c.backend.now_us = 1_000_000;
        // `ollama serve`'s shell forks; its child is listed before its exec.
        c.backend.spawn(70, 999_900, 1, "zsh", 1);
        // One first seen 300 ms after its start has called exec already: not looked at.
        c.backend.spawn(71, 700_000, 1, "zsh", 1);
        assert!(c.tick().unwrap().started.is_empty());
        assert_eq!(c.young_watch.len(), 1);
        assert_eq!(c.young_watch[0].pid, 70);
        // Ticks at any rate: no look before the first gap.
        for _ in 0..5 {
            c.tick().unwrap();
        }
        assert_eq!(c.backend.name_calls, 0);
        // A look that finds the same name reads nothing more and waits twice as long.
        looks_due(&mut c);
        let before = c.backend.identify_calls;
        c.tick().unwrap();
        assert_eq!(
            (c.backend.name_calls, c.backend.identify_calls),
            (1, before)
        );
        let y = c.young_watch[0];
        let gap = y.next.duration_since(Instant::now());
        assert!(gap >= YOUNG_FIRST_GAP.mul_f32(0.9), "{gap:?}");
        // Its exec gives it Ollama's name: judged again, and followed.
        c.backend.procs.get_mut(&70).unwrap().0.name = "ollama".into();
        looks_due(&mut c);
        assert_eq!(pids(&c.tick().unwrap()), [(70, 999_900)]);
        assert!(c.young_watch.is_empty());
        // The schedule: gaps as long as the age, the last look at the window's end.
        let born = Instant::now();
        let ms = std::time::Duration::from_millis;
        assert_eq!(next_young_look(born, born), born + YOUNG_FIRST_GAP);
        assert_eq!(next_young_look(born, born + ms(400)), born + ms(800));
        assert_eq!(
            next_young_look(born, born + ms(1_500)),
            born + EXEC_RECHECK_WINDOW
        );
        assert!(next_young_look(born, born + EXEC_RECHECK_WINDOW) <= born + EXEC_RECHECK_WINDOW);
    }

    #[test]
    fn a_failed_system_read_degrades_the_tick_and_sampling_goes_on() {
        let mut c = core(ProcessSelector::Match(vec!["runner".into()]));
        c.backend.spawn(100, 1_000, 1, "runner", 5);
        c.backend.system_fails = true;
        let t = c.tick().unwrap();
        assert!(t.system_error.is_some());
        assert_eq!(t.system.free_bytes, None, "no value, never a zero");
        assert_eq!(t.system.total_bytes, 1, "the machine's RAM from the host");
        assert_eq!(pids(&t), [(100, 1_000)], "processes are still read");
        c.backend.system_fails = false;
        let t = c.tick().unwrap();
        assert!(t.system_error.is_none());
        assert_eq!(t.system.free_bytes, Some(1));
    }

    #[test]
    fn the_table_is_listed_only_when_a_process_was_created() {
        // Every process: a selection by PID follows only those there at the start.
        let mut c = core(ProcessSelector::All);
        c.backend.marker = Some(7);
        c.set_exec_check_interval(std::time::Duration::from_secs(3600));
        c.backend.spawn(100, 1_000, 1, "runner", 5);
        c.tick().unwrap();
        assert_eq!(c.backend.listings, 1);
        for _ in 0..5 {
            assert_eq!(pids(&c.tick().unwrap()).len(), 2);
        }
        assert_eq!((c.backend.listings, c.skipped_listings()), (1, 5));
        // A process is created: the next tick lists, and finds it.
        c.backend.spawn(200, 2_000, 1, "runner", 5);
        assert_eq!(c.tick().unwrap().started.len(), 1);
        assert_eq!(c.backend.listings, 2);
        assert_eq!(pids(&c.tick().unwrap()).len(), 3);
        assert_eq!(c.backend.listings, 2);
        // Exits are seen at once all the same: followed processes are read every tick.
        c.backend.procs.remove(&100);
        assert_eq!(c.tick().unwrap().exited.len(), 1);
        assert_eq!(c.backend.listings, 2);
        // Without a marker, every due listing happens.
        c.backend.marker = None;
        c.tick().unwrap();
        c.tick().unwrap();
        assert_eq!(c.backend.listings, 4);
    }

    #[test]
    fn a_selection_by_pid_lists_the_table_once_until_a_rule_can_take_new_processes() {
        // No marker: without the selector's say, every tick would list.
        let mut c = core(ProcessSelector::Pids(vec![100]));
        c.backend.spawn(100, 1_000, 1, "runner", 5);
        assert_eq!(pids(&c.tick().unwrap()), [(100, 1_000)]);
        for n in 0..5 {
            // Processes keep being created; none can be selected.
            c.backend.spawn(300 + n, 3_000, 1, "runner", 5);
            assert_eq!(pids(&c.tick().unwrap()), [(100, 1_000)]);
        }
        assert_eq!(c.backend.listings, 1);
        // The followed process's exit is seen at once all the same.
        c.backend.procs.remove(&100);
        assert_eq!(c.tick().unwrap().exited.len(), 1);
        assert_eq!(c.backend.listings, 1);
        // A tree rule added later (what `run` does) can take new processes: listed again, and
        // the tree's process is found.
        c.backend.spawn(400, 4_000, 1, "child", 5);
        c.follow_tree(400);
        assert_eq!(pids(&c.tick().unwrap()), [(400, 4_000)]);
        assert_eq!(c.backend.listings, 2);
    }

    #[test]
    fn a_followed_pid_given_again_under_a_still_marker_is_found_at_once() {
        let mut c = core(ProcessSelector::All);
        c.backend.marker = Some(1);
        c.set_exec_check_interval(std::time::Duration::from_secs(3600));
        c.backend.spawn(100, 1_000, 1, "runner", 5);
        c.tick().unwrap();
        c.tick().unwrap();
        // The process exits and its PID goes to a new one, the marker set back by hand.
        c.backend.procs.remove(&100);
        c.backend.spawn(100, 2_000, 1, "runner", 5);
        c.backend.marker = Some(2);
        let t = c.tick().unwrap();
        assert_eq!(t.exited[0].start_time_us, 1_000);
        assert_eq!(t.started[0].id.start_time_us, 2_000);
        assert_eq!(c.skipped_listings(), 2);
    }

    #[test]
    fn an_exec_check_finds_an_exec_without_listing_the_table() {
        let mut c = core(ProcessSelector::Match(vec!["runner".into()]));
        c.backend.marker = Some(1);
        c.set_exec_check_interval(std::time::Duration::ZERO);
        c.backend.spawn(300, 3_000, 1, "bash", 5);
        c.tick().unwrap();
        // The shell execs a runner: the same PID and start time, a new name, no new process.
        c.backend.procs.get_mut(&300).unwrap().0.name = "runner".into();
        c.backend.procs.get_mut(&300).unwrap().1 = vec!["runner".into()];
        let t = c.tick().unwrap();
        assert_eq!(pids(&t), [(300, 3_000)]);
        assert_eq!((c.skipped_listings(), c.backend.listings), (1, 1));
    }

    #[test]
    fn a_discovery_interval_delays_new_processes_but_never_exits() {
        let mut c = core(ProcessSelector::Match(vec!["runner".into()]));
        c.set_discovery_interval(std::time::Duration::from_secs(3600));
        c.backend.spawn(100, 1_000, 1, "runner", 5);
        assert_eq!(pids(&c.tick().unwrap()), [(100, 1_000)]);
        c.backend.spawn(200, 2_000, 1, "runner", 5);
        c.backend.procs.remove(&100);
        let t = c.tick().unwrap();
        assert_eq!(t.exited.len(), 1, "the exit is seen at once");
        assert!(
            t.processes.is_empty(),
            "the new runner waits for the next listing"
        );
        c.set_discovery_interval(std::time::Duration::ZERO);
        assert_eq!(pids(&c.tick().unwrap()), [(200, 2_000)]);
    }

    #[test]
    fn descendants_born_later_are_followed_and_exits_reported() {
        let mut c = core(ProcessSelector::DescendantsOf(100));
        c.backend.spawn(100, 1_000, 1, "parent", 1);
        c.backend.spawn(300, 900, 1, "unrelated", 1);
        assert_eq!(pids(&c.tick().unwrap()), [(100, 1_000)]);
        // A child and a grandchild appear in the same tick.
        c.backend.spawn(102, 3_000, 101, "grandchild", 1);
        c.backend.spawn(101, 2_000, 100, "child", 1);
        let t = c.tick().unwrap();
        assert_eq!(pids(&t), [(100, 1_000), (101, 2_000), (102, 3_000)]);
        assert_eq!(t.started.len(), 2);
        c.backend.procs.remove(&101);
        let t = c.tick().unwrap();
        assert_eq!(t.exited.len(), 1);
        assert_eq!(t.exited[0].pid, 101);
        assert_eq!(pids(&t), [(100, 1_000), (102, 3_000)]);
        // A process that takes a PID given on the command line later is not selected.
        let mut c = core(ProcessSelector::Pids(vec![500]));
        c.tick().unwrap();
        c.backend.spawn(500, 5_000, 1, "late", 1);
        assert!(c.tick().unwrap().processes.is_empty());
    }

    #[test]
    fn a_tree_followed_later_is_found_at_the_next_tick_with_its_children() {
        let mut c = core(ProcessSelector::Match(vec!["ollama".into()]));
        c.set_discovery_interval(std::time::Duration::from_secs(3600));
        c.backend.spawn(10, 500, 1, "ollama", 1);
        assert_eq!(pids(&c.tick().unwrap()), [(10, 500)]);
        // A command started now, with a child at once: found at the next tick although the
        // listing interval has not passed, and what was followed stays followed.
        c.backend.spawn(100, 1_000, 1, "sh", 1);
        c.backend.spawn(101, 1_100, 100, "runner", 1);
        c.follow_tree(100);
        assert_eq!(
            pids(&c.tick().unwrap()),
            [(10, 500), (100, 1_000), (101, 1_100)]
        );
        // A command already listed (and not chosen) before is judged again as a root.
        c.backend.spawn(200, 2_000, 1, "bench", 1);
        c.set_discovery_interval(std::time::Duration::ZERO);
        c.tick().unwrap();
        c.follow_tree(200);
        let t = c.tick().unwrap();
        assert!(pids(&t).contains(&(200, 2_000)), "{:?}", pids(&t));
    }

    #[test]
    fn a_descendant_listed_before_its_exec_gets_its_own_command_line() {
        let mut c = core(ProcessSelector::DescendantsOf(50));
        c.backend.spawn(50, 500, 1, "ollama", 1);
        c.backend.procs.get_mut(&50).unwrap().1 = vec!["ollama".into(), "serve".into()];
        // Everything here started within the last two seconds by the kernel's clock.
        c.backend.now_us = 700;
        assert_eq!(pids(&c.tick().unwrap()), [(50, 500)]);
        // serve forks a runner, listed while it is still serve's copy (same name, same argv).
        c.backend.spawn(60, 600, 50, "ollama", 9);
        c.backend.procs.get_mut(&60).unwrap().1 = vec!["ollama".into(), "serve".into()];
        let t = c.tick().unwrap();
        assert_eq!(t.started.len(), 1);
        assert_eq!(t.started[0].argv, ["ollama", "serve"]);
        // Its exec: same PID, start time and short name, its own command line.
        c.backend.procs.get_mut(&60).unwrap().1 = vec![
            "ollama".into(),
            "runner".into(),
            "--model".into(),
            "/b/sha256-1".into(),
        ];
        looks_due(&mut c);
        let t = c.tick().unwrap();
        assert_eq!(pids(&t), [(50, 500), (60, 600)]);
        assert_eq!(t.started.len(), 1, "started again under the same identity");
        assert_eq!(t.started[0].id.start_time_us, 600);
        assert_eq!(t.started[0].argv[1], "runner");
        assert_eq!(
            c.followed().find(|i| i.id.pid == 60).unwrap().argv[1],
            "runner"
        );
        // Once is enough: nothing more while it stays the same, and nothing once it is old.
        assert!(c.tick().unwrap().started.is_empty());
        for w in &mut c.exec_watch {
            w.born -= EXEC_RECHECK_WINDOW * 2;
            w.next = Instant::now();
        }
        let calls = c.backend.argv_calls;
        c.backend.procs.get_mut(&60).unwrap().1 = vec!["other".into()];
        assert!(c.tick().unwrap().started.is_empty());
        assert_eq!(c.backend.argv_calls, calls);
        assert!(c.exec_watch.is_empty());
        // One that started more than two seconds ago is never watched.
        let mut c = core(ProcessSelector::DescendantsOf(50));
        c.backend.spawn(50, 500, 1, "sh", 1);
        c.backend.now_us = 500 + 2_000_001;
        c.tick().unwrap();
        assert!(c.exec_watch.is_empty());
    }

    #[test]
    fn a_group_followed_takes_its_orphans_but_not_what_was_there_before() {
        let me = std::process::id();
        let mut c = core(ProcessSelector::Match(vec!["ollama".into()]));
        // memtide leads job 50 (a shell's job: memtide and the pipeline's `tee`).
        c.backend.spawn_in_group(me, 400, 7, 50, "memtide", 1);
        c.backend.spawn_in_group(60, 450, 7, 50, "tee", 1);
        c.backend.spawn_in_group(70, 460, 1, 80, "elsewhere", 1);
        assert!(pids(&c.tick().unwrap()).is_empty());
        c.backend.now_us = 1_000;
        let since = c.start_time_now();
        c.follow_group(50, since);
        // The command (in the job), a daemon it left to launchd (parent 1, still in the job),
        // that daemon's child which left the group, and a stranger born as late elsewhere.
        c.backend.spawn_in_group(100, 1_000, me, 50, "sh", 1);
        c.backend.spawn_in_group(101, 1_200, 1, 50, "daemon", 1);
        c.backend.spawn_in_group(102, 1_300, 101, 102, "worker", 1);
        c.backend.spawn_in_group(103, 1_400, 1, 80, "stranger", 1);
        assert_eq!(
            pids(&c.tick().unwrap()),
            [(100, 1_000), (101, 1_200), (102, 1_300)],
            "neither memtide, nor the older `tee`, nor another group"
        );
    }

    #[test]
    fn weights_are_counted_first_then_when_memory_moved_after_a_second_else_each_minute() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + std::time::Duration::from_millis(ms);
        assert!(weights_due(None, t0, false), "never counted");
        assert!(
            !weights_due(Some(t0), at(999), true),
            "moved, but within a second"
        );
        assert!(
            weights_due(Some(t0), at(1_000), true),
            "moved, a second later"
        );
        assert!(
            !weights_due(Some(t0), at(59_999), false),
            "still, within the minute"
        );
        assert!(
            weights_due(Some(t0), at(60_000), false),
            "still, a minute later"
        );
    }
}
