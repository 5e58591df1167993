//! The command line: every command's flags and their checks (clap), and the one conversion
//! of the shared ones into the recorder's options. `main.rs` dispatches.

use crate::{render, report};
use anyhow::Result;
use clap::{Args, Parser, Subcommand, ValueEnum};
use memtide_sampler::ProcessSelector;
use memtide_trace as trace;
use std::path::PathBuf;
use std::time::Duration;

/// What did memory do while my local models ran?
#[derive(Parser)]
#[command(name = "memtide", version, about, long_about = None)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Record system and process memory, and Ollama's loaded models, into a trace directory.
    ///
    /// With no selection it follows every Ollama process: `ollama serve`, every runner
    /// kind (`ollama runner`, `ollama_llama_server`, `llama-server`, MLX runners) and
    /// their descendants, including those started during the recording. Stop it with Ctrl-C
    /// (or SIGTERM, or --duration): the files are complete either way, and a recorder killed
    /// outright loses at most its last sample.
    #[command(after_help = "\
Examples:
  memtide record                                  every Ollama process, until Ctrl-C
  memtide record --duration 10m --interval 100ms
  memtide record --pid 4242 --no-ollama --out trace-4242
  memtide record --match llama-server --ollama http://127.0.0.1:11435

The trace directory holds meta.json, system.csv, processes.csv, identities.csv,
ollama_polls.csv and models.csv; docs/trace-format.md describes every column.")]
    Record(RecordArgs),
    /// Watch memory and models live, in the terminal, while you reproduce a problem.
    ///
    /// The screen shows the machine's available memory as a gauge coloured by the kernel's
    /// pressure level, wired, compressor and swap with a minute of history, every runner (model,
    /// PID, engine, footprint, RSS, peak, age) with its helpers below, the models Ollama has
    /// loaded, and the events as they happen (a runner starting while another is alive,
    /// pressure changes, low memory). Keys: q quits, f footprint/RSS, s sort, p pause,
    /// r records to a new trace, ? lists them. With --record it writes the same trace as
    /// `memtide record` while it shows it. NO_COLOR turns colours off.
    #[command(after_help = "\
Examples:
  memtide top
  memtide top --interval 1s --record trace
  memtide top --match llama-server --ollama http://127.0.0.1:11435")]
    Top(TopArgs),
    /// Export memory per model to Prometheus: serve /metrics while sampling.
    ///
    /// The metrics: system memory (total, available, free, wired, compressor, swap, the free
    /// ratio and the kernel's pressure level), every model runner's footprint, RSS and peak
    /// labelled by model, PID and engine, the other Ollama processes summed by role, the
    /// models Ollama has loaded, the events counted (runner overlaps, pressure notifications,
    /// model loads), and what memtide itself costs. A scrape reads the latest sample; it never
    /// samples. With --record it also writes the trace `memtide record` would.
    ///
    /// It listens on loopback (127.0.0.1) unless --listen says otherwise: only this machine
    /// can scrape it. Listening on another address is your choice to make: anyone who can
    /// reach the port reads the metrics, which name your models and processes.
    /// docs/fleet.md has the Prometheus job, an alert rule and a Grafana dashboard.
    #[command(after_help = "\
Examples:
  memtide serve                                   http://127.0.0.1:9464/metrics
  memtide serve --listen 0.0.0.0:9464             for a Prometheus on another machine
  memtide serve --record /var/tmp/memtide --keep 24h --burst 100ms")]
    Serve(ServeArgs),
    /// Record while a command runs: `memtide run -- ollama run qwen3:8b 'Why is the sky blue?'`.
    ///
    /// Starts recording, runs the command with your terminal (its input and output are
    /// yours; memtide writes only to standard error), follows its processes besides Ollama's,
    /// goes on for --tail after it exits, prints the report and exits with the command's
    /// status. The command's start and exit are events in the trace. Ctrl-C reaches the
    /// command, as in a shell; the recording ends after it exits.
    #[command(after_help = "\
Examples:
  memtide run -- ollama run qwen3:8b 'Why is the sky blue?'
  memtide run --out bench --tail 10s -- ./benchmark.sh
  memtide run --match llama-server -- python load_test.py")]
    Run(RunArgs),
    /// Print system memory, the selected processes and Ollama's loaded models, once.
    ///
    /// What people ran `vm_stat`, `memory_pressure`, `sysctl vm.swapusage` and `ollama ps`
    /// for, in one reading. With no selection it shows every Ollama process.
    #[command(after_help = "\
Examples:
  memtide snapshot
  memtide snapshot --json | jq .system.free_percent
  memtide snapshot --pid 4242 --no-ollama")]
    Snapshot(SnapshotArgs),
    /// Tell what happened in a trace: which runner served which model, when runners overlapped,
    /// when memory ran low, what grew, and the peaks.
    ///
    /// Works on traces written by `memtide record` and by `memtide import`. Times are shown in
    /// local time, with the UTC offset stated.
    #[command(after_help = "\
Examples:
  memtide report memtide-20260514-092503
  memtide report trace --format markdown > report.md
  memtide report trace --format markdown --redact    for a public issue
  memtide report trace --format json | jq '.events[] | select(.type == \"overlap\")'")]
    Report(ReportArgs),
    /// Tell what changed between two traces: per model (matched by name, then by its blob's
    /// digest) the peak footprint and RSS, the load time and how long its runners lived; per
    /// trace the least available memory, the lowest free %, the time under pressure, swap
    /// growth, the longest runner overlap and Ollama's version; each change with its sign and
    /// ratio (B ÷ A).
    #[command(after_help = "\
Examples:
  memtide compare before-upgrade after-upgrade
  memtide compare ctx-4k ctx-32k --format markdown > compare.md
  memtide compare a b --format json | jq '.models[].differences'
  memtide compare a b -o compare.png --align first-load --layout overlay")]
    Compare(CompareArgs),
    /// Convert the trace files of the shell loops of the Ollama macOS Memory Trace Guide into a
    /// trace directory.
    ///
    /// Reads the `ps` TSV (`ts pid ppid comm rss_kb vsz_kb command`) and the system log of
    /// `===== <UTC time> =====` blocks holding `vm_stat`, `memory_pressure`,
    /// `sysctl vm.swapusage`, `ollama ps` and `/api/ps` output. Either file alone is enough.
    /// Malformed rows and blocks are skipped with a warning naming their line.
    #[command(after_help = "\
Examples:
  memtide import --ps-tsv ollama-process-memtrace-20260514-092503.tsv \\
                 --system-log system-memtrace-20260514-092503.log --out trace
  memtide report trace")]
    Import(ImportArgs),
    /// Draw a trace: memory per process on top, system memory below, with low-memory,
    /// pressure and overlap intervals shaded and runner and model events marked.
    ///
    /// The format follows the output file's extension (svg, png, html) unless --format says.
    /// PNGs are the SVG drawn with a font built into memtide. HTML is the viewer (see
    /// `memtide view`): one self-contained page to zoom, point and filter, with the report.
    /// A file memtide did not draw is never replaced without --force.
    #[command(after_help = "\
Examples:
  memtide render trace                          writes trace/memtide.svg
  memtide render trace -o chart.png --width 2400 --height 1400
  memtide render trace -o view.html --metric rss  the viewer
  memtide render trace --from 11:25:00 --to 11:40:00 -o zoom.svg")]
    Render(RenderArgs),
    /// Explore a trace in the browser: write the viewer (DIR/view.html unless --out says)
    /// and open it.
    ///
    /// The viewer is one self-contained page that works offline: memory per process, system
    /// memory and swap on one time axis; drag to zoom, double-click to show all, point at a
    /// moment to see every process alive then, click an event to zoom to it. Its address can
    /// name a moment: view.html#t=2026-05-14T09:25:20Z.
    #[command(after_help = "\
Examples:
  memtide view trace
  memtide view trace --from 11:25:00 --to 11:40:00 -o zoom.html
  memtide view trace --no-open                  writes trace/view.html only")]
    View(ViewArgs),
    /// Show memtide's main job on a built-in scenario: no Ollama needed.
    ///
    /// Two stand-in runners load memory the way Ollama's do when a second model loads before
    /// the first runner exits (the overlap that stalls a Mac), a local server answers
    /// /api/ps for them, and memtide records it at 100 ms, then writes the report and the
    /// SVG, PNG and HTML charts. The runners hold at most 10 % of the memory available (at
    /// most 1.5 GiB) and are always stopped, also on Ctrl-C.
    #[command(after_help = "\
Examples:
  memtide demo
  memtide demo --out demo --duration 30s")]
    Demo(DemoArgs),
    /// Measure what a sample costs on this machine, against the bare kernel reads, sysinfo and
    /// the `ps | awk` pipeline of the Ollama macOS Memory Trace Guide's shell loop, then the
    /// recorder's own CPU and memory at 10 Hz. Each ratio is printed with its target and
    /// whether it meets it; with --check, a missed target makes the exit status 1. Its files
    /// go in the temporary directory and are removed when it ends, also on Ctrl-C; those of a
    /// bench killed outright are removed at the next run.
    #[command(
        after_help = "Examples:\n  memtide bench\n  memtide bench --processes 50 --samples 2000 --check"
    )]
    Bench(BenchArgs),
    /// Print a shell completion script: `memtide completions zsh > ~/.zfunc/_memtide`.
    #[command(after_help = "\
Examples:
  memtide completions bash > ~/.local/share/bash-completion/completions/memtide
  memtide completions zsh > ~/.zfunc/_memtide
  memtide completions fish > ~/.config/fish/completions/memtide.fish")]
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Keep memtide running from login: a launchd agent on macOS, a systemd user unit on
    /// Linux.
    #[command(after_help = "\
Examples:
  memtide service install record     the flight recorder of docs/always-on.md
  memtide service install serve      the exporter, on 127.0.0.1:9464
  memtide service install serve -- --listen 0.0.0.0:9464 --interval 2s
  memtide service status
  memtide service uninstall")]
    Service {
        #[command(subcommand)]
        action: ServiceAction,
    },
    /// Print memtide's manual page (roff), or write the page of memtide and of every
    /// subcommand into a directory: `memtide man > memtide.1`, `memtide man
    /// ~/.local/share/man/man1`.
    Man {
        /// Write `memtide.1`, `memtide-record.1`, … here (created if missing) instead of
        /// printing the top page.
        dir: Option<std::path::PathBuf>,
        /// Replace pages already in DIR.
        #[arg(long, requires = "dir")]
        force: bool,
    },
    /// A stand-in for an Ollama runner, for memtide's demo and tests: holds memory with an
    /// argv shaped like a real runner's (`runner --model <name> --port <n>`).
    #[command(hide = true)]
    Runner(RunnerArgs),
    /// A stand-in for Ollama's HTTP API, for memtide's tests and checks: answers /api/ps with
    /// what the file ANSWERS holds (read at each request) and prints its URL.
    #[command(hide = true, name = "ollama-standin")]
    OllamaStandin {
        /// The file of answers (see the stand-in's source); missing: no model loaded.
        #[arg(long)]
        answers: PathBuf,
        /// What /api/version says.
        #[arg(long, default_value = "0.30.7")]
        ollama_version: String,
    },
}

#[derive(Args)]
pub(crate) struct RenderArgs {
    /// The trace directory.
    pub(crate) dir: PathBuf,
    /// Output file [default: DIR/memtide.svg, or .png/.html with --format]
    #[arg(long, short)]
    pub(crate) out: Option<PathBuf>,
    /// svg, png or html [default: from the output's extension, else svg]
    #[arg(long, value_enum)]
    pub(crate) format: Option<render::Format>,
    /// What the per-process panel shows.
    #[arg(long, value_enum, default_value = "model-memory")]
    pub(crate) metric: render::MetricArg,
    #[command(flatten)]
    pub(crate) span: SpanArgs,
    /// Width in pixels (320 to 8192).
    #[arg(long, default_value_t = 1600, value_parser = render::side)]
    pub(crate) width: u32,
    /// Height in pixels (320 to 8192).
    #[arg(long, default_value_t = 1000, value_parser = render::side)]
    pub(crate) height: u32,
    /// Free memory (in %) under which an interval is shaded as low.
    #[arg(long, default_value_t = memtide_model::events::low_memory::LOW_MEMORY_FREE_PERCENT)]
    pub(crate) low_free_percent: f64,
    /// Replace the output even if memtide did not draw it.
    #[arg(long)]
    pub(crate) force: bool,
    #[command(flatten)]
    pub(crate) redact: RedactArg,
}

#[derive(Args)]
pub(crate) struct ViewArgs {
    /// The trace directory.
    pub(crate) dir: PathBuf,
    /// Output file [default: DIR/view.html]
    #[arg(long, short)]
    pub(crate) out: Option<PathBuf>,
    /// Replace the output even if memtide did not write it.
    #[arg(long)]
    pub(crate) force: bool,
    /// Write the page but do not open it.
    #[arg(long)]
    pub(crate) no_open: bool,
    /// What the per-process panel shows.
    #[arg(long, value_enum, default_value = "model-memory")]
    pub(crate) metric: render::MetricArg,
    #[command(flatten)]
    pub(crate) span: SpanArgs,
    /// Free memory (in %) under which an interval is shaded as low.
    #[arg(long, default_value_t = memtide_model::events::low_memory::LOW_MEMORY_FREE_PERCENT)]
    pub(crate) low_free_percent: f64,
    #[command(flatten)]
    pub(crate) redact: RedactArg,
}

#[derive(Args)]
pub(crate) struct BenchArgs {
    /// Idle child processes to follow.
    #[arg(long, default_value_t = 10)]
    pub(crate) processes: usize,
    /// Samples per hot-loop measurement.
    #[arg(long, default_value_t = 500, alias = "ticks")]
    pub(crate) samples: usize,
    /// Rounds of each measurement at 10 Hz (the median and range are printed).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=20))]
    pub(crate) rounds: u16,
    /// Seconds at 10 Hz measured in each round: a run this much longer than a 1 s run.
    #[arg(long, default_value_t = 3.0, value_parser = bench_seconds)]
    pub(crate) seconds: f64,
    /// Exit with status 1 when a measured ratio misses its target.
    #[arg(long)]
    pub(crate) check: bool,
    /// Also measure a table of old processes against a young one: waits until 900 processes
    /// the bench started are ten minutes old.
    #[arg(long)]
    pub(crate) age_table: bool,
}

#[derive(Args)]
pub(crate) struct DemoArgs {
    /// Where to write the trace, report and charts [default: memtide-demo-YYYYMMDD-HHMMSS]
    #[arg(long, short, value_name = "DIR")]
    pub(crate) out: Option<PathBuf>,
    /// How long the scenario runs, e.g. 12s, 1m (6s to 10m).
    #[arg(long, default_value = "12s", value_parser = demo_length)]
    pub(crate) duration: Duration,
    /// Write into --out even if it holds files: memtide's own files there are replaced,
    /// nothing else is touched.
    #[arg(long)]
    pub(crate) force: bool,
}

#[derive(Args)]
pub(crate) struct RunnerArgs {
    /// The model it pretends to serve.
    #[arg(long)]
    pub(crate) model: String,
    /// The port it pretends to listen on.
    #[arg(long)]
    pub(crate) port: u16,
    /// MiB to allocate and touch.
    #[arg(long, default_value_t = 0)]
    pub(crate) mib: usize,
    /// Spread the allocation over this many ms, as a model load is.
    #[arg(long, default_value_t = 0)]
    pub(crate) ramp_ms: u64,
    /// MiB to add later, as a KV cache grows.
    #[arg(long, default_value_t = 0)]
    pub(crate) grow_mib: usize,
    /// When to add them, ms after start.
    #[arg(long, default_value_t = 0)]
    pub(crate) grow_after_ms: u64,
    /// Tags the process as the demo's.
    #[arg(long)]
    pub(crate) demo_id: Option<String>,
    /// Exit when standard input reaches its end (the demo's pipe closes when the demo dies).
    #[arg(long)]
    pub(crate) exit_with_stdin: bool,
    /// Map this file and read every page of it, as a runner maps its model's weights.
    #[arg(long, value_name = "FILE")]
    pub(crate) map_file: Option<PathBuf>,
    /// Read only the first MIB MiB of --map-file's pages (the rest stays mapped, unread).
    #[arg(long, value_name = "MIB", requires = "map_file")]
    pub(crate) map_read_mib: Option<usize>,
    /// As llama.cpp's `--no-mmap`: the weights are read into memory it allocates (here,
    /// --mib and --grow-mib), never mapped; refused beside --map-file.
    #[arg(long, conflicts_with = "map_file")]
    pub(crate) no_mmap: bool,
    /// Print `loaded` on standard output once all of its memory is held (after --grow-mib
    /// too), as a server says it is ready: a test's cue to list the model as Ollama would.
    #[arg(long)]
    pub(crate) say_loaded: bool,
}

#[derive(Args)]
pub(crate) struct ImportArgs {
    /// The per-process TSV the Guide's `ps` loop writes.
    #[arg(long, value_name = "FILE")]
    pub(crate) ps_tsv: Option<PathBuf>,
    /// The system log the Guide's `vm_stat`/`memory_pressure`/`ollama ps` loop writes.
    #[arg(long, value_name = "FILE")]
    pub(crate) system_log: Option<PathBuf>,
    /// The trace directory to write (created; refused if it already holds files).
    #[arg(long, short, value_name = "DIR")]
    pub(crate) out: PathBuf,
    /// Write into --out even if it holds a trace: memtide's own files there are replaced,
    /// nothing else is touched.
    #[arg(long)]
    pub(crate) force: bool,
}

#[derive(Args)]
pub(crate) struct CompareArgs {
    /// The first trace directory (A: before).
    pub(crate) a: PathBuf,
    /// The second (B: after).
    pub(crate) b: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub(crate) format: report::Format,
    /// Also draw the two traces on one time axis into this file: .svg, .png, or .html (the
    /// chart with the comparison, one self-contained page).
    #[arg(long, short, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
    /// Where each trace's time axis starts: at its own start, or at its first model load.
    #[arg(long, value_enum, default_value = "start")]
    pub(crate) align: Align,
    /// A above B, or both in one panel (B dashed).
    #[arg(long, value_enum, default_value = "stacked")]
    pub(crate) layout: CompareLayout,
    /// Width in pixels (320 to 8192).
    #[arg(long, default_value_t = 1600, value_parser = render::side)]
    pub(crate) width: u32,
    /// Height in pixels (320 to 8192).
    #[arg(long, default_value_t = 1000, value_parser = render::side)]
    pub(crate) height: u32,
    /// Replace the output even if memtide did not draw it.
    #[arg(long, requires = "out")]
    pub(crate) force: bool,
    #[command(flatten)]
    pub(crate) redact: RedactArg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Align {
    /// Each trace's first sample.
    Start,
    /// Each trace's first model load (a runner starting, else Ollama listing a model).
    FirstLoad,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum CompareLayout {
    Stacked,
    Overlay,
}

#[derive(Args)]
pub(crate) struct ReportArgs {
    /// The trace directory.
    pub(crate) dir: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub(crate) format: report::Format,
    /// Free memory (in %) under which an interval is reported as low.
    #[arg(long, default_value_t = memtide_model::events::low_memory::LOW_MEMORY_FREE_PERCENT)]
    pub(crate) low_free_percent: f64,
    #[command(flatten)]
    pub(crate) redact: RedactArg,
    #[command(flatten)]
    pub(crate) span: SpanArgs,
}

/// `--redact`, for every output a person may paste or attach.
#[derive(Args)]
pub(crate) struct RedactArg {
    /// For pasting into a public issue: your home directory becomes `~` and your user name
    /// `user`, in commands, paths, names and the trace directory.
    #[arg(long)]
    pub(crate) redact: bool,
}

impl RedactArg {
    /// The redaction asked for: this user's home directory and name, from `HOME` and `USER`
    /// (the last part of `HOME` where `USER` is not set).
    pub(crate) fn redaction(&self) -> Option<memtide_render::redact::Redaction> {
        self.redact.then(|| {
            let home = std::env::var("HOME").unwrap_or_default();
            let user = std::env::var("USER")
                .ok()
                .filter(|u| !u.is_empty())
                .or_else(|| home.rsplit('/').next().map(str::to_owned))
                .unwrap_or_default();
            memtide_render::redact::Redaction::new(&home, &user)
        })
    }
}

/// Which stretch of the trace to read.
#[derive(Args, Clone)]
pub(crate) struct SpanArgs {
    /// Start of the window: a duration from the start (90s, 5m), a UTC time, or a local time
    /// of day (11:25:30) on the trace's first day.
    #[arg(long)]
    pub(crate) from: Option<String>,
    /// End of the window, as for --from.
    #[arg(long)]
    pub(crate) to: Option<String>,
    /// Only the last part of the trace, e.g. 10m: from this long before its newest sample
    /// (only the segments that hold it are read).
    #[arg(long, value_parser = duration, conflicts_with = "from", value_name = "DURATION")]
    pub(crate) last: Option<Duration>,
}

impl SpanArgs {
    pub(crate) fn span(&self) -> report::Span {
        report::Span {
            from: self.from.clone(),
            to: self.to.clone(),
            last: self.last,
        }
    }
}

/// Which processes to follow.
#[derive(Args, Clone)]
pub(crate) struct Selection {
    /// Processes whose name or command line contains PATTERN (ASCII case ignored). Repeatable.
    #[arg(long = "match", value_name = "PATTERN")]
    pub(crate) patterns: Vec<String>,
    /// This process. Repeatable.
    #[arg(long = "pid", value_name = "PID")]
    pub(crate) pids: Vec<u32>,
    /// This process and all its descendants, including those born later.
    #[arg(long, value_name = "PID")]
    pub(crate) children_of: Option<u32>,
    /// Every process.
    #[arg(long)]
    pub(crate) all: bool,
}

impl Selection {
    /// Processes whose name or command line contains `pattern`.
    pub(crate) fn matching(pattern: String) -> Selection {
        Selection {
            patterns: vec![pattern],
            pids: Vec::new(),
            children_of: None,
            all: false,
        }
    }

    pub(crate) fn selector(&self) -> ProcessSelector {
        let mut rules = Vec::new();
        if !self.patterns.is_empty() {
            rules.push(ProcessSelector::Match(self.patterns.clone()));
        }
        if !self.pids.is_empty() {
            rules.push(ProcessSelector::Pids(self.pids.clone()));
        }
        if let Some(root) = self.children_of {
            rules.push(ProcessSelector::DescendantsOf(root));
        }
        if self.all {
            rules.push(ProcessSelector::All);
        }
        match rules.len() {
            0 => ProcessSelector::Ollama,
            1 => rules.remove(0),
            _ => ProcessSelector::Any(rules),
        }
    }

    pub(crate) fn to_meta(&self) -> trace::Selection {
        trace::Selection {
            ollama_default: self.patterns.is_empty()
                && self.pids.is_empty()
                && self.children_of.is_none()
                && !self.all,
            patterns: self.patterns.clone(),
            pids: self.pids.clone(),
            children_of: self.children_of,
            all: self.all,
        }
    }
}

/// Where Ollama is.
#[derive(Args, Clone)]
pub(crate) struct OllamaArgs {
    /// Ollama's URL [default: $OLLAMA_HOST, read as Ollama reads it, else http://127.0.0.1:11434]
    #[arg(long, value_name = "URL")]
    pub(crate) ollama: Option<String>,
    /// Do not ask Ollama anything.
    #[arg(long, conflicts_with = "ollama")]
    pub(crate) no_ollama: bool,
}

/// What the recorder follows and asks: the selection, Ollama, and how often to poll it.
#[derive(Args, Clone)]
pub(crate) struct WatchArgs {
    #[command(flatten)]
    pub(crate) selection: Selection,
    #[command(flatten)]
    pub(crate) ollama: OllamaArgs,
    /// Time between polls of Ollama's /api/ps while its answer changes (polls are spaced up
    /// to eight times this while it stays the same, and made at once when a runner starts or
    /// exits).
    #[arg(long, default_value = "1s", value_parser = interval)]
    pub(crate) ollama_interval: Duration,
    /// Ollama's server log, to record what Ollama planned and each runner allocated for each
    /// load [default on macOS: the app's ~/.ollama/logs/server.log or Homebrew's
    /// var/log/ollama.log, whichever was written last]
    #[arg(long, value_name = "PATH")]
    pub(crate) ollama_log: Option<PathBuf>,
    /// Do not follow Ollama's server log.
    #[arg(long, conflicts_with = "ollama_log")]
    pub(crate) no_ollama_log: bool,
}

impl WatchArgs {
    /// The recorder's options for sampling every `interval`.
    pub(crate) fn recorder(&self, interval: Duration) -> memtide_record::Options {
        let mut o = recorder_options(
            interval,
            &self.selection,
            self.ollama.ollama.as_deref(),
            self.ollama.no_ollama,
            self.ollama_interval,
        );
        // A log given is followed, with or without polling; the app's, by default, only along
        // with Ollama itself.
        o.ollama_log = match &self.ollama_log {
            Some(path) => Some(path.clone()),
            None if self.no_ollama_log || self.ollama.no_ollama => None,
            // Of the usual places, the log written to last (the app's and Homebrew's service's
            // can both exist after a switch from one to the other).
            None => memtide_record::convert::ollama_log_candidates(
                &memtide_trace::Os::current(),
                std::env::var("HOME").ok().as_deref(),
            )
            .into_iter()
            .filter_map(|p| Some((std::fs::metadata(&p).ok()?.modified().ok()?, p)))
            .max()
            .map(|(_, p)| p),
        };
        o
    }
}

/// The longest `--duration` a recording takes: a year, past which a number is a typo.
pub(crate) const MAX_DURATION: Duration = Duration::from_secs(366 * 24 * 3600);
/// The longest time between two samples or polls.
pub(crate) const MAX_INTERVAL: Duration = Duration::from_secs(3600);

/// A duration in the one syntax every option takes (`250ms`, `1s`, `10m`, `2h`), within
/// `min..=max`.
pub(crate) fn duration_within(s: &str, min: Duration, max: Duration) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| format!("{e} (try 250ms, 1s, 10m)"))?;
    let show = |d: Duration| humantime::format_duration(d).to_string();
    if d < min || d.is_zero() {
        return Err(format!(
            "must be at least {}",
            show(min.max(Duration::from_millis(1)))
        ));
    }
    if d > max {
        return Err(format!("must be at most {}", show(max)));
    }
    Ok(d)
}

pub(crate) fn duration(s: &str) -> Result<Duration, String> {
    duration_within(s, Duration::from_millis(1), MAX_DURATION)
}

pub(crate) fn interval(s: &str) -> Result<Duration, String> {
    duration_within(s, Duration::from_millis(10), MAX_INTERVAL)
}

/// A size on disk: a number with a unit, in bytes (B), decimal (kB, MB, GB) or binary (KiB,
/// MiB, GiB) multiples; from 16 kB, since a smaller segment would hold a header and little
/// else.
pub(crate) fn size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a size such as 500MB or 1GB"))?;
    let mult: f64 = match unit.trim() {
        "B" => 1.0,
        "kB" | "KB" | "k" | "K" => 1e3,
        "MB" | "M" => 1e6,
        "GB" | "G" => 1e9,
        "TB" | "T" => 1e12,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        "" => return Err(format!("`{s}` has no unit: say 500MB, 1GB or 64KiB")),
        u => {
            return Err(format!(
                "`{u}` is not a unit of size (B, kB, MB, GB, KiB, MiB, GiB)"
            ))
        }
    };
    let bytes = (n * mult).round();
    if !(16_000.0..=1e15).contains(&bytes) {
        return Err(format!("{s} is outside 16kB–1PB"));
    }
    Ok(bytes as u64)
}

/// How `record --keep/--max-size/--segment-size` cut and keep a trace.
pub(crate) fn segment_policy(a: &KeepArgs) -> Option<memtide_trace::SegmentPolicy> {
    if a.keep.is_none() && a.max_size.is_none() {
        return None;
    }
    let hour = 3_600_000u64;
    let segment_ms = a
        .keep
        .map_or(hour, |k| (k.as_millis() as u64 / 8).clamp(1000, hour));
    let segment_bytes = a.segment_size.unwrap_or_else(|| {
        a.max_size
            .map_or(64_000_000, |m| (m / 8).clamp(16_000, 64_000_000))
    });
    Some(memtide_trace::SegmentPolicy {
        segment_bytes,
        segment_ms,
        keep_ms: a.keep.map(|k| k.as_millis() as u64),
        max_size_bytes: a.max_size,
    })
}

pub(crate) fn bench_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.5..=60.0).contains(&v) => Ok(v),
        _ => Err(format!("`{s}` is not a number of seconds from 0.5 to 60")),
    }
}

pub(crate) fn tail(s: &str) -> Result<Duration, String> {
    if s.trim() == "0" || s.trim() == "0s" {
        return Ok(Duration::ZERO);
    }
    duration_within(s, Duration::from_millis(1), Duration::from_secs(3600))
}

pub(crate) fn demo_length(s: &str) -> Result<Duration, String> {
    duration_within(s, Duration::from_secs(6), Duration::from_secs(600))
}

#[derive(Args)]
pub(crate) struct RecordArgs {
    /// Time between samples, e.g. 100ms, 1s.
    #[arg(long, default_value = "250ms", value_parser = interval)]
    pub(crate) interval: Duration,
    /// Stop after this long, e.g. 30s, 10m [default: until Ctrl-C]
    #[arg(long, value_parser = duration)]
    pub(crate) duration: Option<Duration>,
    #[command(flatten)]
    pub(crate) out: OutArgs,
    #[command(flatten)]
    pub(crate) watch: WatchArgs,
    /// No status line and no summary.
    #[arg(long, short)]
    pub(crate) quiet: bool,
    /// Also write one JSON object per sample, a line each, to this new file or to standard
    /// output (`-`): the system, every followed process with its model, and Ollama's listing
    /// when it changed (docs/trace-format.md, "Streaming"). With `-` and no --out, no trace
    /// directory is written.
    #[arg(long, value_name = "FILE")]
    pub(crate) jsonl: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) keep: KeepArgs,
    #[command(flatten)]
    pub(crate) burst: BurstArgs,
}

/// Where a recording goes.
#[derive(Args, Clone)]
pub(crate) struct OutArgs {
    /// The trace directory [default: memtide-YYYYMMDD-HHMMSS in the current directory, with
    /// -2, -3, … added if it exists]. Refused if it already holds files, unless --force.
    #[arg(long, short, value_name = "DIR")]
    pub(crate) out: Option<PathBuf>,
    /// Write into --out even if it holds a trace: memtide's own files there are replaced,
    /// nothing else is touched.
    #[arg(long)]
    pub(crate) force: bool,
}

/// How a trace is cut into segments and how much of it is kept.
#[derive(Args, Clone)]
pub(crate) struct KeepArgs {
    /// Keep only this much history, e.g. 24h: the trace is written in segments and the
    /// oldest are deleted (see --segment-size).
    #[arg(long, value_parser = duration, value_name = "DURATION")]
    pub(crate) keep: Option<Duration>,
    /// Keep the trace under this size on disk, e.g. 500MB, 1GB: the oldest segments are
    /// deleted.
    #[arg(long, value_parser = size, value_name = "SIZE")]
    pub(crate) max_size: Option<u64>,
    /// With --keep or --max-size: close a segment (and compress it) once its files hold this
    /// much [default: an eighth of --max-size, at most 64MB], or once it spans an hour (an
    /// eighth of --keep when that is shorter).
    #[arg(long, value_parser = size, value_name = "SIZE")]
    pub(crate) segment_size: Option<u64>,
}

/// Faster sampling after events.
#[derive(Args, Clone)]
pub(crate) struct BurstArgs {
    /// Sample at this faster interval for a while (--burst-for) after a runner starts or
    /// exits, a model loads or unloads, the pressure level changes or the kernel notifies
    /// pressure, free memory falls under the low-memory threshold, or available memory falls
    /// by a sixteenth of the machine within 10 s: e.g. --interval 1s --burst 100ms. What was
    /// already running when recording began starts none.
    #[arg(long, value_parser = interval, value_name = "INTERVAL")]
    pub(crate) burst: Option<Duration>,
    /// How long a burst lasts after its last cause.
    #[arg(long, value_parser = duration, default_value = "30s", requires = "burst")]
    pub(crate) burst_for: Duration,
}

/// `--keep`/`--max-size`/`--segment-size` and `--burst`/`--burst-for` checked against each
/// other and `interval`, as the recorder takes them.
pub(crate) fn trace_policy(
    k: &KeepArgs,
    b: &BurstArgs,
    interval: Duration,
) -> Result<(
    Option<memtide_trace::SegmentPolicy>,
    Option<memtide_record::Burst>,
)> {
    if k.segment_size.is_some() && k.keep.is_none() && k.max_size.is_none() {
        anyhow::bail!("--segment-size cuts a trace kept with --keep or --max-size: give one");
    }
    let segments = segment_policy(k);
    if let (Some(p), Some(max)) = (segments, k.max_size) {
        if max < 2 * p.segment_bytes {
            anyhow::bail!(
                "--max-size {max} B cannot hold two segments of {} B (the one being written and \
                 the last one closed): give a larger --max-size or a smaller --segment-size",
                p.segment_bytes
            );
        }
    }
    Ok((segments, burst_policy(b, interval)?))
}

/// `--burst`/`--burst-for`, checked against `interval`.
pub(crate) fn burst_policy(
    b: &BurstArgs,
    interval: Duration,
) -> Result<Option<memtide_record::Burst>> {
    if b.burst.is_some_and(|d| d >= interval) {
        anyhow::bail!("--burst must be shorter than --interval: it is the faster rate");
    }
    Ok(b.burst.map(|interval| memtide_record::Burst {
        interval,
        hold: b.burst_for,
    }))
}

#[derive(Args)]
pub(crate) struct TopArgs {
    /// Time between samples, e.g. 250ms, 1s.
    #[arg(long, default_value = "250ms", value_parser = interval)]
    pub(crate) interval: Duration,
    /// Also record the trace into DIR (as `memtide record --out DIR`); quitting finishes it.
    #[arg(long, value_name = "DIR")]
    pub(crate) record: Option<PathBuf>,
    /// Write into --record's directory even if it holds a trace: memtide's own files there
    /// are replaced, nothing else is touched.
    #[arg(long, requires = "record")]
    pub(crate) force: bool,
    #[command(flatten)]
    pub(crate) watch: WatchArgs,
}

#[derive(Args)]
pub(crate) struct RunArgs {
    /// Time between samples, e.g. 100ms, 1s.
    #[arg(long, default_value = "250ms", value_parser = interval)]
    pub(crate) interval: Duration,
    /// Go on recording this long after the command exits, so that what follows it (a runner
    /// unloading its model) is in the trace.
    #[arg(long, default_value = "5s", value_parser = tail)]
    pub(crate) tail: Duration,
    #[command(flatten)]
    pub(crate) out: OutArgs,
    #[command(flatten)]
    pub(crate) watch: WatchArgs,
    /// Say nothing on standard error but errors (no report at the end).
    #[arg(long, short)]
    pub(crate) quiet: bool,
    #[command(flatten)]
    pub(crate) burst: BurstArgs,
    /// Follow only the command and the processes it starts, not Ollama's (for a command that
    /// runs its own llama.cpp server, or an experiment that must not see other runners).
    #[arg(long, conflicts_with_all = ["patterns", "pids", "children_of", "all"])]
    pub(crate) only_command: bool,
    /// The command to run, after `--`, with its arguments.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub(crate) command: Vec<String>,
}

#[derive(Args)]
pub(crate) struct ServeArgs {
    /// The address and port to answer scrapes on. Loopback by default: only this machine can
    /// scrape. 0.0.0.0:9464 answers on every interface, to anyone who can reach it.
    #[arg(long, default_value = "127.0.0.1:9464", value_name = "ADDR:PORT")]
    pub(crate) listen: std::net::SocketAddr,
    /// Time between samples, e.g. 1s, 250ms.
    #[arg(long, default_value = "1s", value_parser = interval)]
    pub(crate) interval: Duration,
    #[command(flatten)]
    pub(crate) watch: WatchArgs,
    /// Also record the trace into DIR (as `memtide record --out DIR`); stopping finishes it.
    #[arg(long, value_name = "DIR")]
    pub(crate) record: Option<PathBuf>,
    /// Write into --record's directory even if it holds a trace: memtide's own files there
    /// are replaced, nothing else is touched.
    #[arg(long, requires = "record")]
    pub(crate) force: bool,
    #[command(flatten)]
    pub(crate) keep: KeepArgs,
    #[command(flatten)]
    pub(crate) burst: BurstArgs,
    /// Say nothing on standard error but errors.
    #[arg(long, short)]
    pub(crate) quiet: bool,
}

#[derive(Args)]
pub(crate) struct SnapshotArgs {
    #[command(flatten)]
    pub(crate) selection: Selection,
    #[command(flatten)]
    pub(crate) ollama: OllamaArgs,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
}

/// The recorder's options from the command line's: the selection, Ollama as Ollama finds
/// itself (`--ollama`, else `OLLAMA_HOST`), and the models directory as Ollama finds it.
pub(crate) fn recorder_options(
    interval: Duration,
    selection: &Selection,
    ollama_url: Option<&str>,
    no_ollama: bool,
    ollama_interval: Duration,
) -> memtide_record::Options {
    let mut o = memtide_record::Options::new(interval, selection.selector());
    o.selection = selection.to_meta();
    o.ollama = (!no_ollama).then(|| {
        let env = std::env::var("OLLAMA_HOST").ok();
        memtide_record::OllamaOptions::new(
            memtide_model::ollama::base_url(ollama_url, env.as_deref()),
            ollama_interval,
        )
    });
    o.models_dir = memtide_record::convert::default_models_dir(
        std::env::var("OLLAMA_MODELS").ok().as_deref(),
        std::env::var("HOME").ok().as_deref(),
    );
    o
}

/// Adds a tip to a parse error where a user's slip is common: `memtide run sleep 1`, which
/// clap refuses because the command must come after `--`.
pub fn with_tips(mut e: clap::Error, args: impl IntoIterator<Item = String>) -> clap::Error {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let args: Vec<String> = args.into_iter().collect();
    if e.kind() != ErrorKind::UnknownArgument || args.get(1).map(String::as_str) != Some("run") {
        return e;
    }
    let Some(ContextValue::String(unknown)) = e.get(ContextKind::InvalidArg) else {
        return e;
    };
    // Where the command begins: the first argument clap did not know, if it is not a flag.
    let Some(at) = args
        .iter()
        .skip(2)
        .position(|a| a == unknown)
        .map(|i| i + 2)
        .filter(|_| !unknown.starts_with('-'))
    else {
        return e;
    };
    let program = std::path::Path::new(&args[0])
        .file_name()
        .map_or_else(|| "memtide".into(), |n| n.to_string_lossy().into_owned());
    let options = args[2..at].join(" ");
    let command = args[at..].join(" ");
    let spaced = if options.is_empty() {
        String::new()
    } else {
        format!("{options} ")
    };
    let tip = format!("the command to run goes after `--`: `{program} run {spaced}-- {command}`");
    e.insert(
        ContextKind::Suggested,
        ContextValue::StyledStrs(vec![tip.into()]),
    );
    e
}

/// What `memtide service` does.
#[derive(Subcommand, Clone)]
pub(crate) enum ServiceAction {
    /// Write the service's file and start it (at once and at every login).
    Install {
        /// `record` (a flight recorder kept within a disk budget) or `serve` (the exporter).
        kind: ServiceKind,
        /// Write the file but start nothing.
        #[arg(long)]
        no_start: bool,
        /// Replace an installed service of this kind.
        #[arg(long)]
        force: bool,
        /// Write the file of this service manager instead of this OS's (with --no-start):
        /// how memtide's checks read a launchd agent on Linux.
        #[arg(long, hide = true, requires = "no_start")]
        manager: Option<ServiceManager>,
        /// The flags of `memtide record` or `memtide serve` to run with, after `--`
        /// [default: record --keep 24h --max-size 1GB --interval 1s --burst 100ms, into the
        /// user's state directory; serve --interval 1s --listen 127.0.0.1:9464].
        #[arg(last = true, value_name = "FLAGS")]
        flags: Vec<String>,
    },
    /// Stop and remove a service (both kinds when none is named).
    Uninstall {
        /// `record` or `serve`.
        kind: Option<ServiceKind>,
    },
    /// Say which services are installed, what they run and whether they run.
    Status,
}

/// A service manager memtide writes files for.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ServiceManager {
    Launchd,
    Systemd,
}

/// Which front-end a service runs.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ServiceKind {
    Record,
    Serve,
}
