//! `memtide run -- COMMAND`: a front-end of memtide's recorder that records exactly while a
//! command runs.
//!
//! It starts the trace, takes a first sample, starts the command with the user's terminal
//! (standard input, output and error are the command's), follows the command's process tree
//! besides the selection (Ollama's processes unless told otherwise), writes the command's
//! start and exit into `meta.json` (the report's `command_start` and `command_exit` events),
//! records a tail after the command exits (so that a runner's unload is seen), and exits with
//! the command's status. Everything memtide says goes to standard error, so that the
//! command's standard output stays its own.
//!
//! Signals are handled as a shell handles them for a foreground job: Ctrl-C in the terminal
//! reaches the command directly (it is in memtide's process group), so memtide only keeps
//! recording until the command exits; a SIGINT, SIGTERM or SIGHUP sent to memtide alone
//! (`kill`, no terminal) is passed on to the command. A signal after the command exited ends
//! the tail at once. Starting the command is this front-end's job: the sampler spawns nothing.
//!
//! What the command leaves running when it exits (a daemon it started) is found two ways. On
//! Linux memtide is a child subreaper while it runs (see `adopt`), so such a process stays in
//! its tree whatever it does. On every OS the command's process group is followed too (see
//! [`Group`]): xnu has no subreaper and gives an orphan to launchd, but the orphan keeps its
//! group unless it calls `setsid` or `setpgid`, so on macOS a process that leaves the group
//! before memtide first lists it (within one sampling interval) is not followed.

use crate::cli::RunArgs;
use crate::record::{open_trace, tell};
use anyhow::{Context, Result};
use memtide_record::{Recorder, Step};
use memtide_trace::{self as trace, CommandMeta};
use std::io::IsTerminal;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant, SystemTime};

pub struct Options {
    /// What to sample and how often.
    pub recorder: memtide_record::Options,
    pub out: Option<PathBuf>,
    pub force: bool,
    /// How long to go on recording after the command exits.
    pub tail: Duration,
    /// The command and its arguments.
    pub command: Vec<String>,
    pub quiet: bool,
}

/// What wakes the loop besides a sample falling due.
enum Wake {
    Exited(std::io::Result<ExitStatus>),
    Signal(i32),
    /// Nothing is left to send (never while the command runs).
    Gone,
}

/// The status a shell gives a command that ended this way: its exit code, or 128 + the signal
/// that ended it.
pub fn shell_status(status: &ExitStatus) -> i32 {
    match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(sig)) => 128 + sig,
        (None, None) => 1,
    }
}

/// The status a shell gives a command it could not start: 127 when there is no such
/// command, 126 when it cannot be run.
fn spawn_status(e: &std::io::Error) -> i32 {
    match e.kind() {
        std::io::ErrorKind::NotFound => 127,
        _ => 126,
    }
}

/// Which process group the command runs in, and so where memtide looks for what the command
/// leaves behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    /// memtide leads its process group: a shell started it as a job, in the foreground or the
    /// background (or a service manager as a session of its own). The command stays in it, so
    /// that job control (Ctrl-C, Ctrl-Z, `fg`, the terminal's input) works as for any job, and
    /// what is in that group and started after the command is the command's: memtide itself
    /// and the rest of a pipeline (`memtide run … | tee`) started before it.
    Job(u32),
    /// memtide is in the terminal's foreground group but does not lead it (a script run from a
    /// terminal): the command stays there for the terminal's sake, and no group is followed,
    /// since the script's other work shares it.
    Shared,
    /// No terminal is memtide's (a service, a script without a terminal, a test harness): the
    /// command leads a group of its own, and that group is followed.
    Own,
}

impl Group {
    fn choose() -> Group {
        let group = rustix::process::getpgrp();
        if group == rustix::process::getpid() {
            Group::Job(group.as_raw_nonzero().get().unsigned_abs())
        } else if terminal_sends_signals() {
            Group::Shared
        } else {
            Group::Own
        }
    }
}

/// Whether a Ctrl-C typed now would reach the command without memtide's help: memtide (and
/// so the command, started in its process group) is the terminal's foreground job.
fn terminal_sends_signals() -> bool {
    let stdin = std::io::stdin();
    stdin.is_terminal()
        && rustix::termios::tcgetpgrp(&stdin).is_ok_and(|g| g == rustix::process::getpgrp())
}

fn pass_on(pid: u32, sig: i32) {
    use rustix::process::{kill_process, Pid, Signal};
    let signal = match sig {
        signal_hook::consts::SIGINT => Signal::INT,
        signal_hook::consts::SIGHUP => Signal::HUP,
        signal_hook::consts::SIGQUIT => Signal::QUIT,
        _ => Signal::TERM,
    };
    if let Some(pid) = i32::try_from(pid).ok().and_then(Pid::from_raw) {
        // The command may have exited meanwhile: nothing to pass it to then.
        let _ = kill_process(pid, signal);
    }
}

/// Records while `opts.command` runs; returns the status memtide should exit with.
pub fn run(opts: Options) -> Result<i32> {
    let (tx, wake) = mpsc::channel();
    let mut signals = crate::catch_stop_signals()?;
    let signal_tx = tx.clone();
    std::thread::spawn(move || {
        for sig in signals.forever() {
            if signal_tx.send(Wake::Signal(sig)).is_err() {
                break;
            }
        }
    });

    let kept = opts.recorder.segments.is_some();
    let mut rec = Recorder::new(opts.recorder)?;
    let dir = open_trace(
        &mut rec,
        opts.out.as_deref(),
        kept,
        opts.force,
        "memtide run",
        opts.quiet,
    )?;
    // A first sample: the machine as it was before the command.
    tell(&rec.tick()?);
    let shown = opts.command.join(" ");
    let started = Instant::now();
    let started_wall = SystemTime::now();
    // What the command leaves behind, re-parented to memtide where the OS allows it (see
    // `adopt`), is followed as memtide's own descendants; asked before the command starts,
    // so that nothing it leaves at once escapes.
    if crate::adopt::adopt_orphans() {
        rec.follow_tree(std::process::id());
    }
    let group = Group::choose();
    let since = rec.process_clock_now();
    let mut command = std::process::Command::new(&opts.command[0]);
    command.args(&opts.command[1..]);
    if group == Group::Own {
        command.process_group(0);
    }
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => {
            // The trace holds the sample before; it is finished, and the failure named.
            rec.finish()?;
            say!("memtide: cannot run `{}`: {e}", opts.command[0]);
            return Ok(spawn_status(&e));
        }
    };
    let pid = child.id();
    rec.follow_tree(pid);
    match group {
        Group::Job(pgid) => rec.follow_group(pgid, since),
        // The command leads it: the group's ID is its PID.
        Group::Own => rec.follow_group(pid, since),
        Group::Shared => {}
    }
    let start_t_ms = rec.trace_t_ms(started).unwrap_or(0);
    let argv = opts.command.clone();
    rec.update_trace_meta(|m| {
        m.command = Some(CommandMeta {
            argv,
            pid,
            start_utc: trace::utc_ms(started_wall),
            start_t_ms,
            exit_utc: None,
            exit_t_ms: None,
            exit_code: None,
            signal: None,
        })
    })?;
    if !opts.quiet {
        say!(
            "memtide: recording to {} while `{shown}` (pid {pid}) runs",
            dir.display()
        );
    }
    std::thread::spawn(move || {
        let _ = tx.send(Wake::Exited(child.wait()));
    });

    let mut exited: Option<(ExitStatus, Instant)> = None;
    let result = (|| -> Result<()> {
        loop {
            let until = exited.map(|(_, at)| at + opts.tail);
            let step = rec.step(until, |t| match wake.recv_timeout(t) {
                Ok(w) => Ok::<_, anyhow::Error>(Some(w)),
                Err(RecvTimeoutError::Timeout) => Ok(None),
                Err(RecvTimeoutError::Disconnected) => Ok(Some(Wake::Gone)),
            })?;
            let woken = match step {
                Step::Ticked(report) => {
                    tell(&report);
                    continue;
                }
                Step::Ended => return Ok(()),
                Step::Woken(w) => w,
            };
            match woken {
                Wake::Gone => return Ok(()),
                Wake::Exited(status) => {
                    let at = Instant::now();
                    let status = status.context("cannot wait for the command")?;
                    let t_ms = rec.trace_t_ms(at);
                    rec.update_trace_meta(|m| {
                        if let Some(c) = m.command.as_mut() {
                            c.exit_utc = Some(trace::utc_ms(SystemTime::now()));
                            c.exit_t_ms = t_ms;
                            c.exit_code = status.code();
                            c.signal = status.signal();
                        }
                    })?;
                    exited = Some((status, at));
                    // The exit itself, sampled now.
                    tell(&rec.tick()?);
                }
                Wake::Signal(sig) => match exited {
                    // After the command: the tail ends now.
                    Some(_) => return Ok(()),
                    None if sig == signal_hook::consts::SIGTERM
                        || group == Group::Own
                        || !terminal_sends_signals() =>
                    {
                        pass_on(pid, sig)
                    }
                    // The terminal sent it to the command as well: wait for the command.
                    None => {}
                },
            }
        }
    })();
    let finished = rec.finish();
    result?;
    let summary = finished?;
    if !opts.quiet {
        tell_report(&dir, summary.as_ref())?;
    }
    Ok(exited.map_or(1, |(s, _)| shell_status(&s)))
}

/// The report of the trace, on standard error (standard output is the command's).
fn tell_report(dir: &Path, summary: Option<&memtide_record::TraceSummary>) -> Result<()> {
    let text = crate::report::text(dir)?;
    let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), text.as_bytes());
    if let Some(s) = summary {
        say!(
            "memtide: {} samples in {:.1} s, written to {}",
            s.samples,
            s.elapsed.as_secs_f64(),
            dir.display()
        );
    }
    Ok(())
}

/// `memtide run`, from its flags: exits with the command's status.
pub fn command(a: RunArgs) -> Result<()> {
    let burst = crate::cli::burst_policy(&a.burst, a.interval)?;
    let mut recorder = a.watch.recorder(a.interval);
    recorder.burst = burst;
    // No sparklines to draw: the live state keeps no history of samples.
    recorder.history = std::time::Duration::ZERO;
    if a.only_command {
        // Nothing besides the tree the command starts, which run follows itself.
        recorder.selector = memtide_sampler::ProcessSelector::Pids(Vec::new());
        recorder.selection.ollama_default = false;
    }
    let code = run(Options {
        recorder,
        out: a.out.out,
        force: a.out.force,
        tail: a.tail,
        command: a.command,
        quiet: a.quiet,
    })?;
    // Everything is written and finished; the command's status is memtide's.
    std::process::exit(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_a_shells() {
        assert_eq!(shell_status(&ExitStatus::from_raw(3 << 8)), 3);
        assert_eq!(shell_status(&ExitStatus::from_raw(0)), 0);
        // Killed by SIGINT (2): 130, as a shell says.
        assert_eq!(shell_status(&ExitStatus::from_raw(2)), 130);
        let missing = std::io::Error::from(std::io::ErrorKind::NotFound);
        assert_eq!(spawn_status(&missing), 127);
        let denied = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        assert_eq!(spawn_status(&denied), 126);
    }
}
