//! The `memtide` command line.

/// `println!` that hands back the write's error instead of panicking: when the reader goes
/// away (`memtide … | head`), the command ends through `main`'s broken-pipe path, with status 0
/// and no message, and guards (child processes) are dropped on the way.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}

/// A line to the person, on standard error. A closed or full standard error (`… 2>&1 | head -1`,
/// a full disk behind launchd's `StandardErrorPath`) loses the line and nothing else:
/// diagnostics never end a recording.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

/// `print!` likewise.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout().lock(), $($arg)*)
    }};
}

/// What `memtide run` can do about the processes its command leaves behind: the binary's one
/// OS choice besides the bench's.
#[cfg_attr(target_os = "linux", path = "adopt/linux.rs")]
#[cfg_attr(not(target_os = "linux"), path = "adopt/other.rs")]
mod adopt;
mod bench;
mod cli;
mod compare;
mod demo;
mod import;
mod jsonl;
mod outdir;
mod record;
mod render;
mod report;
mod run;
mod serve;
mod service;
mod snapshot;
mod standin;
mod standin_ollama;
mod top;

use anyhow::{Context, Result};
use clap::Parser;
use cli::{Align, Cli, Command, CompareLayout};

fn completions(shell: clap_complete::Shell) -> Result<()> {
    let mut cmd = <Cli as clap::CommandFactory>::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "memtide", &mut script);
    out!("{}", String::from_utf8_lossy(&script))?;
    Ok(())
}

fn manual_page() -> Result<()> {
    let cmd = <Cli as clap::CommandFactory>::command();
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut page)?;
    out!("{}", String::from_utf8_lossy(&page))?;
    Ok(())
}

/// Writes the page of memtide and of each subcommand a user sees into `dir`, refusing to
/// replace a page there unless `force`; names what it wrote.
fn manual_pages(dir: &std::path::Path, force: bool) -> Result<()> {
    let mut top = <Cli as clap::CommandFactory>::command().disable_help_subcommand(true);
    top.build();
    let mut pages = vec![clap_mangen::Man::new(top.clone())];
    pages.extend(
        top.get_subcommands()
            .filter(|c| !c.is_hide_set())
            .map(|c| clap_mangen::Man::new(c.clone())),
    );
    if !force {
        if let Some(taken) = pages
            .iter()
            .map(|p| dir.join(p.get_filename()))
            .find(|p| p.exists())
        {
            anyhow::bail!(
                "{} exists: give --force to replace memtide's pages in {}",
                taken.display(),
                dir.display()
            );
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for page in &pages {
        let path = page
            .generate_to(dir)
            .with_context(|| format!("cannot write {}", dir.join(page.get_filename()).display()))?;
        outln!("{}", path.display())?;
    }
    Ok(())
}

/// Whether an error is, somewhere in its chain, a write to a reader that went away (also inside
/// serde_json's writer errors).
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    let pipe = Some(std::io::ErrorKind::BrokenPipe);
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().map(|io| io.kind()) == pipe
            || c.downcast_ref::<serde_json::Error>()
                .and_then(|j| j.io_error_kind())
                == pipe
    })
}

fn main() {
    // A file size limit (ulimit -f) makes a write fail with EFBIG instead of killing memtide
    // with SIGXFSZ, so that a recording ends with its files finished and the file named.
    // Having a handler (one that only sets a flag nobody reads) is what turns the signal into
    // the error.
    let _ = signal_hook::flag::register(
        signal_hook::consts::SIGXFSZ,
        std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)),
    );
    let cli = Cli::try_parse().unwrap_or_else(|e| cli::with_tips(e, std::env::args()).exit());
    let result = match cli.command {
        Command::Record(a) => {
            raise_fd_limit();
            record::command(a)
        }
        Command::Top(a) => stop_signals().and_then(|stop| {
            raise_fd_limit();
            top::run(
                top::Options {
                    recorder: a.watch.recorder(a.interval),
                    record: a.record,
                    force: a.force,
                },
                stop,
            )
        }),
        Command::Serve(a) => {
            raise_fd_limit();
            serve::command(a)
        }
        Command::Run(a) => run::command(a),
        Command::Snapshot(a) => snapshot::run(&a.selection, &a.ollama, a.json),
        Command::Report(a) => report::run(
            &a.dir,
            a.format,
            a.low_free_percent,
            a.redact.redaction().as_ref(),
            &a.span.span(),
        ),
        Command::Compare(a) => compare::run(
            &a.a,
            &a.b,
            a.format,
            a.out.map(|out| compare::Chart {
                out,
                align_first_load: a.align == Align::FirstLoad,
                overlay: a.layout == CompareLayout::Overlay,
                width: a.width,
                height: a.height,
                force: a.force,
            }),
            a.redact.redaction().as_ref(),
        ),
        Command::Import(a) => import::run(
            a.ps_tsv.as_deref(),
            a.system_log.as_deref(),
            &a.out,
            a.force,
        ),
        Command::Runner(a) => standin::run(&a),
        Command::OllamaStandin {
            answers,
            ollama_version,
        } => standin_ollama::run(answers, ollama_version),
        // Both are made in memory and written in one go: clap_complete panics on a failed
        // write, and a closed pipe must stay a normal end.
        Command::Completions { shell } => completions(shell),
        Command::Service { action } => service::command(action),
        Command::Man { dir: None, .. } => manual_page(),
        Command::Man {
            dir: Some(dir),
            force,
        } => manual_pages(&dir, force),
        Command::Demo(a) => demo::command(a),
        Command::Bench(a) => bench::run(
            a.processes,
            a.samples,
            a.check,
            bench::Pacing {
                rounds: usize::from(a.rounds),
                short_s: 1.0,
                long_s: 1.0 + a.seconds,
            },
            a.age_table,
        ),
        Command::Render(a) => render::run(
            &a.dir,
            render::Drawing {
                out: a.out,
                format: a.format,
                metric: a.metric,
                span: a.span.span(),
                width: a.width,
                height: a.height,
                low_free_percent: a.low_free_percent,
                force: a.force,
                redaction: a.redact.redaction(),
            },
        )
        .and_then(|out| Ok(outln!("{}", out.display())?)),
        Command::View(a) => render::view(
            &a.dir,
            render::Drawing {
                out: a.out,
                format: None,
                metric: a.metric,
                span: a.span.span(),
                width: 1600,
                height: 1000,
                low_free_percent: a.low_free_percent,
                force: a.force,
                redaction: a.redact.redaction(),
            },
            !a.no_open,
        )
        .and_then(|out| Ok(outln!("{}", out.display())?)),
    };
    if let Err(e) = result {
        // A closed pipe (`memtide snapshot | head`) is not an error.
        if is_broken_pipe(&e) {
            std::process::exit(0);
        }
        say!("memtide: {e:#}");
        std::process::exit(1);
    }
}

/// macOS's `OPEN_MAX` (`sys/syslimits.h`): what its setrlimit(2) says to ask for at most when the
/// hard limit on descriptors is unlimited, a soft limit it refuses.
const OPEN_MAX: u64 = 10240;

/// The soft limits on open descriptors to ask for, in turn, given the current soft and hard
/// ones (`None`: unlimited): the hard limit, then `OPEN_MAX` where that is below it and above
/// the current one. Empty when the soft limit is the hard one already.
fn fd_limits_to_try(current: Option<u64>, maximum: Option<u64>) -> Vec<Option<u64>> {
    if current == maximum {
        return Vec::new();
    }
    let mut out = vec![maximum];
    if maximum.is_none_or(|m| m > OPEN_MAX) && current.is_some_and(|c| c < OPEN_MAX) {
        out.push(Some(OPEN_MAX));
    }
    out
}

/// Raises the soft limit on open descriptors to the hard one, as Go's runtime does for every Go
/// program (`os/rlimit.go`; on macOS capped as `os/rlimit_darwin.go` caps it): a recorder that
/// follows hundreds of processes, and an exporter with many clients, must not stop at macOS's
/// default soft limit of 256. For `record`, `serve` and `top` only: the command `memtide run`
/// starts keeps the limit it was given.
fn raise_fd_limit() {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let now = getrlimit(Resource::Nofile);
    for current in fd_limits_to_try(now.current, now.maximum) {
        let want = Rlimit {
            current,
            maximum: now.maximum,
        };
        if setrlimit(Resource::Nofile, want).is_ok() {
            return;
        }
    }
}

/// A channel that receives a message each time a signal arrives that a terminal or a service
/// manager sends to stop a program: SIGINT (Ctrl-C), SIGTERM (launchd, systemd, kill), SIGHUP
/// (a closed terminal, a lost ssh session), SIGQUIT (Ctrl-\). Each ends a recording cleanly,
/// its files finished. The handlers only write to a pipe; a thread turns that into messages.
pub(crate) fn stop_signals() -> Result<std::sync::mpsc::Receiver<()>> {
    let mut signals = catch_stop_signals()?;
    let (tx, stop) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for _ in signals.forever() {
            if tx.send(()).is_err() {
                break;
            }
        }
    });
    Ok(stop)
}

/// The signals [`stop_signals`] names, caught: each arrives on the iterator (its handler only
/// writes to a pipe) instead of ending the program.
pub(crate) fn catch_stop_signals() -> Result<signal_hook::iterator::Signals> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
    signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP, SIGQUIT])
        .context("cannot install the Ctrl-C handler")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_descriptor_limit_is_raised_to_the_hard_one_or_to_open_max() {
        // Linux's usual 1024 / 524288, and a lowered hard limit.
        assert_eq!(
            fd_limits_to_try(Some(1024), Some(524_288)),
            [Some(524_288), Some(OPEN_MAX)]
        );
        assert_eq!(fd_limits_to_try(Some(64), Some(256)), [Some(256)]);
        // macOS: 256 under an unlimited hard limit, which its setrlimit refuses for descriptors.
        assert_eq!(fd_limits_to_try(Some(256), None), [None, Some(OPEN_MAX)]);
        // Nothing to raise.
        assert!(fd_limits_to_try(Some(256), Some(256)).is_empty());
        assert!(fd_limits_to_try(None, None).is_empty());
        assert_eq!(fd_limits_to_try(Some(20_000), None), [None]);
    }
}
