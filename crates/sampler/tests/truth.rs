//! Truth tests: real child processes do known things, and the sampler must see exactly that.
//!
//! The children are this test binary run again with `MEMTIDE_TRUTH_CHILD=1`, which makes the
//! ignored test `child` obey commands on its standard input. A counting allocator checks that
//! a tick with a stable set of processes allocates nothing.

use memtide_sampler::{Error, ProcessSelector, Sampler};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const MIB: u64 = 1024 * 1024;

/// How much the child allocates and touches.
const ALLOC_MIB: u64 = 256;

/// How far below 256 MiB a reading may fall. Linux keeps RSS counters per CPU and folds them
/// into the total in batches, so a reading may lag the truth by a few hundred KiB per CPU;
/// 4 MiB covers that on machines with up to a few dozen CPUs, and is still 1.6 % of the
/// allocation.
const TOLERANCE_BELOW: u64 = 4 * MIB;

/// How far above 256 MiB a reading may go: the allocator's and the test harness's own pages.
/// A reading twice as high (a unit counted twice) fails.
const TOLERANCE_ABOVE: u64 = 64 * MIB;

/// Forks are serialised, so that the PID-reuse test can predict the next PID.
static SPAWN: Mutex<()> = Mutex::new(());

struct Kid {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Kid {
    fn spawn() -> Kid {
        let _guard = SPAWN.lock().unwrap_or_else(|e| e.into_inner());
        Kid::spawn_unlocked()
    }

    fn spawn_unlocked() -> Kid {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "child",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("MEMTIDE_TRUTH_CHILD", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn the child");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut kid = Kid {
            child,
            stdin,
            stdout,
        };
        assert_eq!(kid.answer(), "ready");
        kid
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The child's next answer (lines the test harness prints are skipped).
    fn answer(&mut self) -> String {
        let mut line = String::new();
        loop {
            line.clear();
            assert!(self.stdout.read_line(&mut line).unwrap() > 0, "child died");
            // The harness may print `test child ... ` on the same line first.
            if let Some((_, a)) = line.trim_end().split_once("memtide-child: ") {
                return a.to_owned();
            }
        }
    }

    fn ask(&mut self, command: &str) -> String {
        writeln!(self.stdin, "{command}").unwrap();
        self.stdin.flush().unwrap();
        self.answer()
    }
}

impl Drop for Kid {
    /// Asks the child to exit (so that it ends its own children first), and kills it if it
    /// has not within two seconds.
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "exit");
        let _ = self.stdin.flush();
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The child's side: obeys `alloc N`, `spawn` and `exit`.
#[test]
#[ignore = "run by the truth tests as their child process"]
fn child() {
    if std::env::var_os("MEMTIDE_TRUTH_CHILD").is_none() {
        return;
    }
    let mut held: Vec<Vec<u8>> = Vec::new();
    let mut kids: Vec<Kid> = Vec::new();
    println!("memtide-child: ready");
    for line in std::io::stdin().lock().lines() {
        let line = line.unwrap();
        let mut words = line.split_whitespace();
        match words.next() {
            Some("alloc") => {
                let mib: usize = words.next().unwrap().parse().unwrap();
                let mut v = vec![0u8; mib << 20];
                // Write one byte in every 4 KiB so that every page is really there.
                for i in (0..v.len()).step_by(4096) {
                    v[i] = 1;
                }
                held.push(std::hint::black_box(v));
                println!("memtide-child: ok");
            }
            Some("map") => {
                // `map MIB PATH`: map the file read-only and shared, as llama.cpp maps a model,
                // and read one byte of each page of its first MIB MiB.
                let mib: usize = words.next().unwrap().parse().unwrap();
                let path = words.collect::<Vec<_>>().join(" ");
                let file = std::fs::File::open(&path).unwrap();
                let len = file.metadata().unwrap().len() as usize;
                // SAFETY: a new read-only mapping of a whole file that nothing changes while
                // this process lives; it is never unmapped (the process ends with it).
                let at = unsafe {
                    libc::mmap(
                        std::ptr::null_mut(),
                        len,
                        libc::PROT_READ,
                        libc::MAP_SHARED,
                        std::os::fd::AsRawFd::as_raw_fd(&file),
                        0,
                    )
                };
                assert_ne!(at, libc::MAP_FAILED);
                // SAFETY: the mapping is `len` readable bytes (above).
                let bytes = unsafe { std::slice::from_raw_parts(at as *const u8, len) };
                let sum: u64 = (0..(mib << 20).min(len))
                    .step_by(4096)
                    .map(|i| u64::from(bytes[i]))
                    .sum();
                std::hint::black_box(sum);
                println!("memtide-child: ok");
            }
            Some("spawn") => {
                let kid = Kid::spawn_unlocked();
                println!("memtide-child: {}", kid.pid());
                kids.push(kid);
            }
            _ => break,
        }
    }
    drop(kids);
    std::process::exit(0);
}

#[test]
fn touching_256_mib_raises_rss_and_footprint_by_256_mib() {
    let mut kid = Kid::spawn();
    let mut sampler = Sampler::new(ProcessSelector::Pids(vec![kid.pid()])).unwrap();
    let before = sampler.tick().unwrap().processes[0].clone();
    assert_eq!(before.id.pid, kid.pid());
    assert_eq!(kid.ask(&format!("alloc {ALLOC_MIB}")), "ok");
    let after = sampler.tick().unwrap().processes[0].clone();
    assert_eq!(after.id, before.id, "same process, same identity");

    let range = ALLOC_MIB * MIB - TOLERANCE_BELOW..=ALLOC_MIB * MIB + TOLERANCE_ABOVE;
    let rss_rise = after.rss_bytes.saturating_sub(before.rss_bytes);
    // macOS compresses a process's pages under pressure, and a compressed page leaves its
    // resident size (but not its footprint): a correct RSS may rise by less, never by more.
    // Footprint is the figure that must move by the allocation.
    let rss_range = if cfg!(target_os = "macos") {
        0..=ALLOC_MIB * MIB + TOLERANCE_ABOVE
    } else {
        range.clone()
    };
    assert!(
        rss_range.contains(&rss_rise),
        "rss rose by {} MiB",
        rss_rise / MIB
    );
    if cfg!(any(target_os = "linux", target_os = "macos")) {
        let fp_rise = after.footprint_bytes.unwrap() - before.footprint_bytes.unwrap();
        assert!(
            range.contains(&fp_rise),
            "footprint rose by {} MiB",
            fp_rise / MIB
        );
        // The peak follows the rise on each OS that has one.
        let peak = after.peak_rss_bytes.or(after.peak_footprint_bytes).unwrap();
        assert!(peak >= after.rss_bytes.min(after.footprint_bytes.unwrap()));
    }
}

/// A rise is in the very next tick's footprint, on every OS. Linux: RSS and the anonymous part
/// of the footprint come from `statm` at every tick, the slower fields from `status` at most
/// once a second, so a rise too small to make the sampler read `status` again is there with
/// the age of `status` shown. macOS: every figure comes from one `proc_pid_rusage` a tick, so
/// nothing has an age.
#[test]
fn a_small_rise_is_in_the_next_ticks_footprint() {
    let linux = cfg!(target_os = "linux");
    let mut kid = Kid::spawn();
    let mut sampler = Sampler::new(ProcessSelector::Pids(vec![kid.pid()])).unwrap();
    let before = sampler.tick().unwrap().processes[0].clone();
    let first_age = linux.then_some(Duration::ZERO);
    assert_eq!(
        before.status_age, first_age,
        "status read at the first tick"
    );
    assert_eq!(kid.ask("alloc 32"), "ok");
    let after = sampler.tick().unwrap().processes[0].clone();
    match after.status_age {
        Some(age) => assert!(
            linux && age > Duration::ZERO && age < Duration::from_secs(1),
            "{age:?}"
        ),
        None => assert!(!linux, "no age of status on Linux"),
    }
    let rise = after.footprint_bytes.unwrap() - before.footprint_bytes.unwrap();
    assert!(
        (32 * MIB - TOLERANCE_BELOW..=32 * MIB + TOLERANCE_ABOVE).contains(&rise),
        "footprint rose by {} MiB",
        rise / MIB
    );
    if linux {
        // After a second, status is read again.
        std::thread::sleep(Duration::from_millis(1_050));
        let later = sampler.tick().unwrap().processes[0].clone();
        assert_eq!(later.status_age, Some(Duration::ZERO));
    }
}

/// A runner's mapped weights: the child maps a file and reads it. Linux: a 64 MiB file, 40 MiB
/// of it read; the count is at least what was read and at most the file. macOS: a 256 MiB
/// file, all of it read (the count there is the region's resident pages, read or not); the
/// count rises by 256 MiB, within a few pages.
#[test]
fn a_mapped_model_file_is_counted_as_resident_weights() {
    let linux = cfg!(target_os = "linux");
    let file_mib: u64 = if linux { 64 } else { 256 };
    let touch_mib = if linux { 40 } else { file_mib };
    let dir = std::env::temp_dir().join(format!("memtide-truth-weights-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("sha256-weights with a space.gguf");
    std::fs::write(&path, vec![7u8; (file_mib * MIB) as usize]).unwrap();
    let mut kid = Kid::spawn();
    let mut sampler = Sampler::new(ProcessSelector::Pids(vec![kid.pid()])).unwrap();
    assert_eq!(
        sampler.tick().unwrap().processes[0].weights_resident_bytes,
        None
    );
    sampler.watch_weights(kid.pid(), &path).unwrap();
    // Before the file is mapped: nothing of it is resident in the process.
    assert_eq!(
        sampler.tick().unwrap().processes[0].weights_resident_bytes,
        Some(0)
    );
    assert_eq!(
        kid.ask(&format!("map {touch_mib} {}", path.display())),
        "ok"
    );
    // Counted again once the process's memory moved and a second passed.
    std::thread::sleep(memtide_sampler::WEIGHTS_MIN_INTERVAL);
    let weights = sampler.tick().unwrap().processes[0]
        .weights_resident_bytes
        .unwrap();
    if linux {
        // What was read, and at most the file (the kernel maps a few pages around each fault);
        // tests/trust.rs holds the count to smaps' Rss of the mapping, to the page.
        assert!(
            (touch_mib * MIB..=file_mib * MIB).contains(&weights),
            "{weights}"
        );
    } else {
        assert!(
            weights.abs_diff(file_mib * MIB) <= 16 * 16384,
            "{} MiB of {file_mib}",
            weights / MIB
        );
    }
    // A file that is not there cannot be watched.
    assert!(sampler
        .watch_weights(kid.pid(), &dir.join("absent.gguf"))
        .is_err());
    drop(kid);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_exited_child_is_gone_and_dropped() {
    let mut kid = Kid::spawn();
    let pid = kid.pid();
    let mut sampler = Sampler::new(ProcessSelector::Pids(vec![pid])).unwrap();
    let id = sampler.tick().unwrap().processes[0].id;
    writeln!(kid.stdin, "exit").unwrap();

    // Not reaped yet (a zombie): already gone, since its memory is.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let tick = sampler.tick().unwrap();
        if !tick.exited.is_empty() {
            assert_eq!(tick.exited, [id]);
            assert!(tick.processes.is_empty());
            break;
        }
        assert_eq!(tick.processes.len(), 1);
        assert!(Instant::now() < deadline, "the exit was never noticed");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(matches!(sampler.inspect(pid), Err(Error::ProcessGone { pid: p }) if p == pid));
    kid.child.wait().unwrap();
    // Reaped: still gone, and the selector never takes it up again.
    assert!(matches!(
        sampler.inspect(pid),
        Err(Error::ProcessGone { .. })
    ));
    let tick = sampler.tick().unwrap();
    assert!(tick.processes.is_empty() && tick.exited.is_empty());
    assert_eq!(sampler.followed().count(), 0);
}

#[test]
fn a_grandchild_born_after_sampling_began_is_found() {
    let mut kid = Kid::spawn();
    let mut sampler = Sampler::new(ProcessSelector::DescendantsOf(kid.pid())).unwrap();
    let first: Vec<u32> = sampler
        .tick()
        .unwrap()
        .processes
        .iter()
        .map(|p| p.id.pid)
        .collect();
    assert_eq!(first, [kid.pid()]);

    let grandchild: u32 = kid.ask("spawn").parse().unwrap();
    let tick = sampler.tick().unwrap();
    let pids: Vec<u32> = tick.processes.iter().map(|p| p.id.pid).collect();
    assert_eq!(pids, [kid.pid(), grandchild]);
    assert_eq!(tick.started.len(), 1);
    let info = &tick.started[0];
    assert_eq!((info.id.pid, info.ppid), (grandchild, kid.pid()));
    assert!(
        info.argv.iter().any(|a| a == "--exact"),
        "argv {:?}",
        info.argv
    );
    assert!(tick.processes[1].rss_bytes > 0);
}

/// What `memtide run` relies on where the OS has no subreaper (macOS): a process the command
/// leaves behind, re-parented to init, is still found by its process group; the test's own
/// processes, in another group, are not.
#[test]
fn a_daemon_its_command_left_is_found_by_the_commands_process_group() {
    use std::os::unix::process::CommandExt;
    let mut sampler = Sampler::new(ProcessSelector::Pids(Vec::new())).unwrap();
    let since = sampler.start_time_now();
    let mut command = {
        let _fork = SPAWN.lock().unwrap_or_else(|e| e.into_inner());
        Command::new("sh")
            // The daemon is a copy of the shell until it calls exec, a moment later.
            .args(["-c", "( sleep 0.3; exec sleep 30 ) & echo $!"])
            .stdout(Stdio::piped())
            .process_group(0)
            .spawn()
            .unwrap()
    };
    let group = command.id();
    let mut daemon = String::new();
    BufReader::new(command.stdout.take().unwrap())
        .read_line(&mut daemon)
        .unwrap();
    let daemon: u32 = daemon.trim().parse().unwrap();
    // The command has exited (and is reaped) before the sampler ever lists the table.
    assert!(command.wait().unwrap().success());
    sampler.follow_group(group, since);
    let tick = sampler.tick().unwrap();
    let found: Vec<(u32, u32)> = tick.processes.iter().map(|p| (p.id.pid, p.ppid)).collect();
    let rss = tick
        .processes
        .iter()
        .find(|p| p.id.pid == daemon)
        .map_or(0, |p| p.rss_bytes);
    // Listed as a copy of the shell, it is named as it becomes once its exec is seen.
    let deadline = Instant::now() + Duration::from_secs(10);
    let name = loop {
        let name = sampler
            .followed()
            .find(|i| i.id.pid == daemon)
            .map(|i| i.name.to_string());
        if name.as_deref() != Some("sh") || Instant::now() > deadline {
            break name;
        }
        std::thread::sleep(Duration::from_millis(20));
        sampler.tick().unwrap();
    };
    // Ended before the assertion can fail, so that nothing is left running.
    let _ = Command::new("kill").arg(daemon.to_string()).status();
    // The daemon (re-parented), and the `sleep 0.3` it may still be waiting for: nothing of
    // the test's own, which is in another group.
    let me = std::process::id();
    assert!(
        found
            .iter()
            .any(|&(pid, ppid)| pid == daemon && ppid != group),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .all(|&(pid, ppid)| pid != me && (pid == daemon || ppid == daemon)),
        "{found:?}"
    );
    assert!(rss > 0);
    assert_eq!(name.as_deref(), Some("sleep"));
}

#[test]
fn a_pattern_finds_the_child_by_name_but_not_the_sampler_itself() {
    let kid = Kid::spawn();
    let exe = std::env::current_exe().unwrap();
    let name = exe.file_name().unwrap().to_str().unwrap();
    // The kernel keeps the first 15 bytes of the name; match on a shorter piece.
    let mut sampler = Sampler::new(ProcessSelector::Match(vec![name[..6].to_owned()])).unwrap();
    let tick = sampler.tick().unwrap();
    let me = std::process::id();
    assert!(tick.processes.iter().any(|p| p.id.pid == kid.pid()));
    // A pattern never selects the sampling process itself.
    assert!(!tick.processes.iter().any(|p| p.id.pid == me));
    let sys = tick.system;
    assert!(sys.total_bytes > 0);
    assert!(sys.free_percent.is_some_and(|p| (0.0..=100.0).contains(&p)));
    assert!(sys.available_bytes.unwrap() <= sys.total_bytes);
}

/// Forces the kernel to give a dead child's PID to a new child (Linux, as root: the next PID
/// is set through `/proc/sys/kernel/ns_last_pid`), and checks that the sampler ends the first
/// identity and starts a second one under the same PID.
#[cfg(target_os = "linux")]
#[test]
fn a_new_process_under_a_reused_pid_is_a_new_identity() {
    const NS_LAST_PID: &str = "/proc/sys/kernel/ns_last_pid";
    if std::fs::OpenOptions::new()
        .write(true)
        .open(NS_LAST_PID)
        .is_err()
    {
        eprintln!("skipped: {NS_LAST_PID} is not writable (needs root)");
        return;
    }
    let _guard = SPAWN.lock().unwrap_or_else(|e| e.into_inner());
    let exe = std::env::current_exe().unwrap();
    let name = exe.file_name().unwrap().to_str().unwrap()[..6].to_owned();
    let mut sampler = Sampler::new(ProcessSelector::Match(vec![name])).unwrap();
    sampler.tick().unwrap();

    for _attempt in 0..20 {
        let mut first = Kid::spawn_unlocked();
        let pid = first.pid();
        let tick = sampler.tick().unwrap();
        let old: memtide_sampler::ProcessId =
            tick.started.iter().find(|i| i.id.pid == pid).unwrap().id;
        first.child.kill().unwrap();
        first.child.wait().unwrap();
        // Linux keeps start times in clock ticks (10 ms at the usual 100 Hz): let one pass, so
        // that the two processes differ in start time as well as in being two processes.
        std::thread::sleep(Duration::from_millis(30));

        std::fs::write(NS_LAST_PID, (pid - 1).to_string()).unwrap();
        let second = Kid::spawn_unlocked();
        if second.pid() != pid {
            continue; // another fork on the machine took it; try again
        }
        let tick = sampler.tick().unwrap();
        // (Other tests' children match the name too, and come and go.)
        let exited: Vec<_> = tick.exited.iter().filter(|i| i.pid == pid).collect();
        assert_eq!(exited, [&old]);
        let new = tick.started.iter().find(|i| i.id.pid == pid).unwrap().id;
        assert_ne!(new.start_time_us, old.start_time_us);
        assert!(new.start_time_us > old.start_time_us);
        assert_eq!(tick.processes.iter().filter(|p| p.id.pid == pid).count(), 1);
        return;
    }
    panic!("the kernel never handed out the same PID twice in 20 attempts");
}

/// macOS: the kernel's free percentage and pressure level, read by sysctl, are in range, and the
/// page-queue fields from host_statistics64 are there with their age.
#[cfg(target_os = "macos")]
#[test]
fn macos_free_percent_pressure_and_page_queues() {
    let mut sampler = Sampler::new(ProcessSelector::Pids(vec![])).unwrap();
    let s = sampler.tick().unwrap().system.clone();
    let pct = s.free_percent.expect("kern.memorystatus_level");
    assert!((0.0..=100.0).contains(&pct), "{pct}");
    assert!(s.pressure.is_some(), "kern.memorystatus_vm_pressure_level");
    assert!(s.wired_bytes.unwrap() > 0 && s.active_bytes.unwrap() > 0);
    assert!(s.wired_bytes.unwrap() < s.total_bytes);
    assert!(s.swap_total_bytes.is_some());
    assert!(s.stats_age < Duration::from_secs(1));
    // The next tick, well within a second, reuses that reading and says how old it is.
    let again = sampler.tick().unwrap().system.clone();
    assert!(again.stats_age < Duration::from_secs(2));
    assert_eq!(sampler.host().page_size_bytes.map(|p| p % 4096), Some(0));
}

/// macOS: the page queues, anonymous and file-backed pages and the compressor all come from one
/// host_statistics64 answer, so vm_stat's identity holds inside every sample (within what
/// moves while the kernel copies the counters), and the
/// compressor's size is whole pages (vm_stat's "Pages occupied by compressor").
#[cfg(target_os = "macos")]
#[test]
fn macos_page_identity_and_compressor_in_pages() {
    let mut sampler = Sampler::new(ProcessSelector::Pids(vec![])).unwrap();
    let page = sampler.host().page_size_bytes.unwrap();
    for _ in 0..5 {
        let s = sampler.tick().unwrap().system.clone();
        let queues =
            s.active_bytes.unwrap() + s.inactive_bytes.unwrap() + s.speculative_bytes.unwrap();
        // The kernel copies each counter on its own, without a lock (`osfmk/kern/host.c`,
        // `vm_stats`), so pages that move between queues meanwhile can unbalance one answer by
        // a few pages; a field decoded from the wrong place would be off by many thousands.
        let kinds = s.file_backed_bytes.unwrap() + s.anonymous_bytes.unwrap();
        assert!(
            kinds.abs_diff(queues) <= 256 * page,
            "anonymous + file-backed {kinds} against the queues {queues}"
        );
        let pool = s.compressor_bytes.unwrap();
        assert_eq!(pool % page, 0, "compressor {pool} is not whole pages");
        if let Some(payload) = s.compressor_payload_bytes {
            assert!(
                payload <= pool + page,
                "payload {payload} above pool {pool}"
            );
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// macOS: another user's process (launchd, root) has a real start time, so a reused PID among
/// such processes is a new identity; reading its memory is refused with a hint, unless we are
/// root.
#[cfg(target_os = "macos")]
#[test]
fn macos_another_users_process_has_a_real_identity() {
    let mut sampler = Sampler::new(ProcessSelector::Pids(vec![1])).unwrap();
    let t = sampler.tick().unwrap();
    let id = t
        .processes
        .first()
        .map(|p| p.id)
        .or_else(|| t.failures.first().map(|f| f.id))
        .expect("launchd is followed or reported");
    assert_eq!(id.pid, 1);
    assert!(id.start_time_us > 1_000_000_000_000_000, "{id}");
    if let Some(f) = t.failures.first() {
        assert!(f.error.to_string().contains("sudo"), "{}", f.error);
    }
}

/// Counts the allocations of threads that ask for it; forwards everything to the system.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

// SAFETY: every call is forwarded unchanged to the system allocator; counting has no effect
// on the memory handed out.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn a_stable_tick_allocates_nothing() {
    // Hold off the other tests' children while counting: each new PID costs an allocation.
    let _guard = SPAWN.lock().unwrap_or_else(|e| e.into_inner());
    let mut children: Vec<_> = (0..10)
        .map(|_| {
            Command::new("sleep")
                .arg("60")
                .stdin(Stdio::null())
                .spawn()
                .expect("spawn sleep")
        })
        .collect();
    let pids: Vec<u32> = children.iter().map(|c| c.id()).collect();
    let by_pid = Sampler::new(ProcessSelector::Pids(pids.clone())).unwrap();
    // A selection by name, with the exec check of every other process due at every tick: the
    // check must not allocate either.
    let mut by_name = Sampler::new(ProcessSelector::Any(vec![
        ProcessSelector::Pids(pids),
        ProcessSelector::Match(vec!["memtide-truth-matches-nothing".into()]),
    ]))
    .unwrap();
    by_name.set_exec_check_interval(Duration::ZERO);
    for mut sampler in [by_pid, by_name] {
        count_quiet_ticks(&mut sampler);
    }
    for c in &mut children {
        let _ = c.kill();
        let _ = c.wait();
    }
}

fn count_quiet_ticks(sampler: &mut Sampler) {
    for _ in 0..3 {
        assert_eq!(sampler.tick().unwrap().processes.len(), 10);
    }

    // Other processes on the machine start, exit and call exec during the run, and a tick
    // that judges a process against the selection (a PID met for the first time, one that may
    // have called exec: young, or found under a new name) reads its identity, which
    // allocates. Every other tick must allocate nothing, every time, on every OS. Ticks go on
    // until 50 were quiet (at most 2 000, a busy machine's share).
    let (mut quiet, mut judging) = (0, 0);
    for _ in 0..2000 {
        let judged_before = sampler.processes_judged();
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        COUNTING.with(|c| c.set(true));
        let n = sampler.tick().unwrap().processes.len();
        COUNTING.with(|c| c.set(false));
        assert_eq!(n, 10);
        let allocated = ALLOCATIONS.load(Ordering::Relaxed) != before;
        if sampler.processes_judged() != judged_before {
            judging += 1;
            continue;
        }
        assert!(!allocated, "a tick that judged no process allocated");
        quiet += 1;
        if quiet == 50 {
            return;
        }
    }
    panic!(
        "only {quiet} of {} ticks judged no process",
        quiet + judging
    );
}
