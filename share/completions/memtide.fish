# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_memtide_global_optspecs
    string join \n h/help V/version
end

function __fish_memtide_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_memtide_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_memtide_using_subcommand
    set -l cmd (__fish_memtide_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c memtide -n "__fish_memtide_needs_command" -s h -l help -d 'Print help'
complete -c memtide -n "__fish_memtide_needs_command" -s V -l version -d 'Print version'
complete -c memtide -n "__fish_memtide_needs_command" -f -a "record" -d 'Record system and process memory, and Ollama\'s loaded models, into a trace directory'
complete -c memtide -n "__fish_memtide_needs_command" -f -a "top" -d 'Watch memory and models live, in the terminal, while you reproduce a problem'
complete -c memtide -n "__fish_memtide_needs_command" -f -a "serve" -d 'Export memory per model to Prometheus: serve /metrics while sampling'
complete -c memtide -n "__fish_memtide_needs_command" -f -a "run" -d 'Record while a command runs: `memtide run -- ollama run qwen3:8b \'Why is the sky blue?\'`'
complete -c memtide -n "__fish_memtide_needs_command" -f -a "snapshot" -d 'Print system memory, the selected processes and Ollama\'s loaded models, once'
complete -c memtide -n "__fish_memtide_needs_command" -f -a "report" -d 'Tell what happened in a trace: which runner served which model, when runners overlapped, when memory ran low, what grew, and the peaks'
complete -c memtide -n "__fish_memtide_needs_command" -f -a "compare" -d 'Tell what changed between two traces: per model (matched by name, then by its blob\'s digest) the peak footprint and RSS, the load time and how long its runners lived; per trace the least available memory, the lowest free %, the time under pressure, swap growth, the longest runner overlap and Ollama\'s version; each change with its sign and ratio (B ÷ A)'
complete -c memtide -n "__fish_memtide_needs_command" -f -a "import" -d 'Convert the trace files of the shell loops of the Ollama macOS Memory Trace Guide into a trace directory'
complete -c memtide -n "__fish_memtide_needs_command" -f -a "render" -d 'Draw a trace: memory per process on top, system memory below, with low-memory, pressure and overlap intervals shaded and runner and model events marked'
complete -c memtide -n "__fish_memtide_needs_command" -f -a "view" -d 'Explore a trace in the browser: write the viewer (DIR/view.html unless --out says) and open it'
complete -c memtide -n "__fish_memtide_needs_command" -f -a "demo" -d 'Show memtide\'s main job on a built-in scenario: no Ollama needed'
complete -c memtide -n "__fish_memtide_needs_command" -f -a "bench" -d 'Measure what a sample costs on this machine, against the bare kernel reads, sysinfo and the `ps | awk` pipeline of the Ollama macOS Memory Trace Guide\'s shell loop, then the recorder\'s own CPU and memory at 10 Hz. Each ratio is printed with its target and whether it meets it; with --check, a missed target makes the exit status 1. Its files go in the temporary directory and are removed when it ends, also on Ctrl-C; those of a bench killed outright are removed at the next run'
complete -c memtide -n "__fish_memtide_needs_command" -f -a "completions" -d 'Print a shell completion script: `memtide completions zsh > ~/.zfunc/_memtide`'
complete -c memtide -n "__fish_memtide_needs_command" -f -a "service" -d 'Keep memtide running from login: a launchd agent on macOS, a systemd user unit on Linux'
complete -c memtide -n "__fish_memtide_needs_command" -f -a "man" -d 'Print memtide\'s manual page (roff), or write the page of memtide and of every subcommand into a directory: `memtide man > memtide.1`, `memtide man ~/.local/share/man/man1`'
complete -c memtide -n "__fish_memtide_needs_command" -f -a "runner" -d 'A stand-in for an Ollama runner, for memtide\'s demo and tests: holds memory with an argv shaped like a real runner\'s (`runner --model <name> --port <n>`)'
complete -c memtide -n "__fish_memtide_needs_command" -f -a "ollama-standin" -d 'A stand-in for Ollama\'s HTTP API, for memtide\'s tests and checks: answers /api/ps with what the file ANSWERS holds (read at each request) and prints its URL'
complete -c memtide -n "__fish_memtide_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c memtide -n "__fish_memtide_using_subcommand record" -l interval -d 'Time between samples, e.g. 100ms, 1s' -r
complete -c memtide -n "__fish_memtide_using_subcommand record" -l duration -d 'Stop after this long, e.g. 30s, 10m [default: until Ctrl-C]' -r
complete -c memtide -n "__fish_memtide_using_subcommand record" -s o -l out -d 'The trace directory [default: memtide-YYYYMMDD-HHMMSS in the current directory, with -2, -3, … added if it exists]. Refused if it already holds files, unless --force' -r -F
complete -c memtide -n "__fish_memtide_using_subcommand record" -l match -d 'Processes whose name or command line contains PATTERN (ASCII case ignored). Repeatable' -r
complete -c memtide -n "__fish_memtide_using_subcommand record" -l pid -d 'This process. Repeatable' -r
complete -c memtide -n "__fish_memtide_using_subcommand record" -l children-of -d 'This process and all its descendants, including those born later' -r
complete -c memtide -n "__fish_memtide_using_subcommand record" -l ollama -d 'Ollama\'s URL [default: $OLLAMA_HOST, read as Ollama reads it, else http://127.0.0.1:11434]' -r
complete -c memtide -n "__fish_memtide_using_subcommand record" -l ollama-interval -d 'Time between polls of Ollama\'s /api/ps while its answer changes (polls are spaced up to eight times this while it stays the same, and made at once when a runner starts or exits)' -r
complete -c memtide -n "__fish_memtide_using_subcommand record" -l ollama-log -d 'Ollama\'s server log, to record what Ollama planned and each runner allocated for each load [default on macOS: the app\'s ~/.ollama/logs/server.log or Homebrew\'s var/log/ollama.log, whichever was written last]' -r -F
complete -c memtide -n "__fish_memtide_using_subcommand record" -l jsonl -d 'Also write one JSON object per sample, a line each, to this new file or to standard output (`-`): the system, every followed process with its model, and Ollama\'s listing when it changed (docs/trace-format.md, "Streaming"). With `-` and no --out, no trace directory is written' -r -F
complete -c memtide -n "__fish_memtide_using_subcommand record" -l keep -d 'Keep only this much history, e.g. 24h: the trace is written in segments and the oldest are deleted (see --segment-size)' -r
complete -c memtide -n "__fish_memtide_using_subcommand record" -l max-size -d 'Keep the trace under this size on disk, e.g. 500MB, 1GB: the oldest segments are deleted' -r
complete -c memtide -n "__fish_memtide_using_subcommand record" -l segment-size -d 'With --keep or --max-size: close a segment (and compress it) once its files hold this much [default: an eighth of --max-size, at most 64MB], or once it spans an hour (an eighth of --keep when that is shorter)' -r
complete -c memtide -n "__fish_memtide_using_subcommand record" -l burst -d 'Sample at this faster interval for a while (--burst-for) after a runner starts or exits, a model loads or unloads, the pressure level changes or the kernel notifies pressure, free memory falls under the low-memory threshold, or available memory falls by a sixteenth of the machine within 10 s: e.g. --interval 1s --burst 100ms. What was already running when recording began starts none' -r
complete -c memtide -n "__fish_memtide_using_subcommand record" -l burst-for -d 'How long a burst lasts after its last cause' -r
complete -c memtide -n "__fish_memtide_using_subcommand record" -l force -d 'Write into --out even if it holds a trace: memtide\'s own files there are replaced, nothing else is touched'
complete -c memtide -n "__fish_memtide_using_subcommand record" -l all -d 'Every process'
complete -c memtide -n "__fish_memtide_using_subcommand record" -l no-ollama -d 'Do not ask Ollama anything'
complete -c memtide -n "__fish_memtide_using_subcommand record" -l no-ollama-log -d 'Do not follow Ollama\'s server log'
complete -c memtide -n "__fish_memtide_using_subcommand record" -s q -l quiet -d 'No status line and no summary'
complete -c memtide -n "__fish_memtide_using_subcommand record" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c memtide -n "__fish_memtide_using_subcommand top" -l interval -d 'Time between samples, e.g. 250ms, 1s' -r
complete -c memtide -n "__fish_memtide_using_subcommand top" -l record -d 'Also record the trace into DIR (as `memtide record --out DIR`); quitting finishes it' -r -F
complete -c memtide -n "__fish_memtide_using_subcommand top" -l match -d 'Processes whose name or command line contains PATTERN (ASCII case ignored). Repeatable' -r
complete -c memtide -n "__fish_memtide_using_subcommand top" -l pid -d 'This process. Repeatable' -r
complete -c memtide -n "__fish_memtide_using_subcommand top" -l children-of -d 'This process and all its descendants, including those born later' -r
complete -c memtide -n "__fish_memtide_using_subcommand top" -l ollama -d 'Ollama\'s URL [default: $OLLAMA_HOST, read as Ollama reads it, else http://127.0.0.1:11434]' -r
complete -c memtide -n "__fish_memtide_using_subcommand top" -l ollama-interval -d 'Time between polls of Ollama\'s /api/ps while its answer changes (polls are spaced up to eight times this while it stays the same, and made at once when a runner starts or exits)' -r
complete -c memtide -n "__fish_memtide_using_subcommand top" -l ollama-log -d 'Ollama\'s server log, to record what Ollama planned and each runner allocated for each load [default on macOS: the app\'s ~/.ollama/logs/server.log or Homebrew\'s var/log/ollama.log, whichever was written last]' -r -F
complete -c memtide -n "__fish_memtide_using_subcommand top" -l force -d 'Write into --record\'s directory even if it holds a trace: memtide\'s own files there are replaced, nothing else is touched'
complete -c memtide -n "__fish_memtide_using_subcommand top" -l all -d 'Every process'
complete -c memtide -n "__fish_memtide_using_subcommand top" -l no-ollama -d 'Do not ask Ollama anything'
complete -c memtide -n "__fish_memtide_using_subcommand top" -l no-ollama-log -d 'Do not follow Ollama\'s server log'
complete -c memtide -n "__fish_memtide_using_subcommand top" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c memtide -n "__fish_memtide_using_subcommand serve" -l listen -d 'The address and port to answer scrapes on. Loopback by default: only this machine can scrape. 0.0.0.0:9464 answers on every interface, to anyone who can reach it' -r
complete -c memtide -n "__fish_memtide_using_subcommand serve" -l interval -d 'Time between samples, e.g. 1s, 250ms' -r
complete -c memtide -n "__fish_memtide_using_subcommand serve" -l match -d 'Processes whose name or command line contains PATTERN (ASCII case ignored). Repeatable' -r
complete -c memtide -n "__fish_memtide_using_subcommand serve" -l pid -d 'This process. Repeatable' -r
complete -c memtide -n "__fish_memtide_using_subcommand serve" -l children-of -d 'This process and all its descendants, including those born later' -r
complete -c memtide -n "__fish_memtide_using_subcommand serve" -l ollama -d 'Ollama\'s URL [default: $OLLAMA_HOST, read as Ollama reads it, else http://127.0.0.1:11434]' -r
complete -c memtide -n "__fish_memtide_using_subcommand serve" -l ollama-interval -d 'Time between polls of Ollama\'s /api/ps while its answer changes (polls are spaced up to eight times this while it stays the same, and made at once when a runner starts or exits)' -r
complete -c memtide -n "__fish_memtide_using_subcommand serve" -l ollama-log -d 'Ollama\'s server log, to record what Ollama planned and each runner allocated for each load [default on macOS: the app\'s ~/.ollama/logs/server.log or Homebrew\'s var/log/ollama.log, whichever was written last]' -r -F
complete -c memtide -n "__fish_memtide_using_subcommand serve" -l record -d 'Also record the trace into DIR (as `memtide record --out DIR`); stopping finishes it' -r -F
complete -c memtide -n "__fish_memtide_using_subcommand serve" -l keep -d 'Keep only this much history, e.g. 24h: the trace is written in segments and the oldest are deleted (see --segment-size)' -r
complete -c memtide -n "__fish_memtide_using_subcommand serve" -l max-size -d 'Keep the trace under this size on disk, e.g. 500MB, 1GB: the oldest segments are deleted' -r
complete -c memtide -n "__fish_memtide_using_subcommand serve" -l segment-size -d 'With --keep or --max-size: close a segment (and compress it) once its files hold this much [default: an eighth of --max-size, at most 64MB], or once it spans an hour (an eighth of --keep when that is shorter)' -r
complete -c memtide -n "__fish_memtide_using_subcommand serve" -l burst -d 'Sample at this faster interval for a while (--burst-for) after a runner starts or exits, a model loads or unloads, the pressure level changes or the kernel notifies pressure, free memory falls under the low-memory threshold, or available memory falls by a sixteenth of the machine within 10 s: e.g. --interval 1s --burst 100ms. What was already running when recording began starts none' -r
complete -c memtide -n "__fish_memtide_using_subcommand serve" -l burst-for -d 'How long a burst lasts after its last cause' -r
complete -c memtide -n "__fish_memtide_using_subcommand serve" -l all -d 'Every process'
complete -c memtide -n "__fish_memtide_using_subcommand serve" -l no-ollama -d 'Do not ask Ollama anything'
complete -c memtide -n "__fish_memtide_using_subcommand serve" -l no-ollama-log -d 'Do not follow Ollama\'s server log'
complete -c memtide -n "__fish_memtide_using_subcommand serve" -l force -d 'Write into --record\'s directory even if it holds a trace: memtide\'s own files there are replaced, nothing else is touched'
complete -c memtide -n "__fish_memtide_using_subcommand serve" -s q -l quiet -d 'Say nothing on standard error but errors'
complete -c memtide -n "__fish_memtide_using_subcommand serve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c memtide -n "__fish_memtide_using_subcommand run" -l interval -d 'Time between samples, e.g. 100ms, 1s' -r
complete -c memtide -n "__fish_memtide_using_subcommand run" -l tail -d 'Go on recording this long after the command exits, so that what follows it (a runner unloading its model) is in the trace' -r
complete -c memtide -n "__fish_memtide_using_subcommand run" -s o -l out -d 'The trace directory [default: memtide-YYYYMMDD-HHMMSS in the current directory, with -2, -3, … added if it exists]. Refused if it already holds files, unless --force' -r -F
complete -c memtide -n "__fish_memtide_using_subcommand run" -l match -d 'Processes whose name or command line contains PATTERN (ASCII case ignored). Repeatable' -r
complete -c memtide -n "__fish_memtide_using_subcommand run" -l pid -d 'This process. Repeatable' -r
complete -c memtide -n "__fish_memtide_using_subcommand run" -l children-of -d 'This process and all its descendants, including those born later' -r
complete -c memtide -n "__fish_memtide_using_subcommand run" -l ollama -d 'Ollama\'s URL [default: $OLLAMA_HOST, read as Ollama reads it, else http://127.0.0.1:11434]' -r
complete -c memtide -n "__fish_memtide_using_subcommand run" -l ollama-interval -d 'Time between polls of Ollama\'s /api/ps while its answer changes (polls are spaced up to eight times this while it stays the same, and made at once when a runner starts or exits)' -r
complete -c memtide -n "__fish_memtide_using_subcommand run" -l ollama-log -d 'Ollama\'s server log, to record what Ollama planned and each runner allocated for each load [default on macOS: the app\'s ~/.ollama/logs/server.log or Homebrew\'s var/log/ollama.log, whichever was written last]' -r -F
complete -c memtide -n "__fish_memtide_using_subcommand run" -l burst -d 'Sample at this faster interval for a while (--burst-for) after a runner starts or exits, a model loads or unloads, the pressure level changes or the kernel notifies pressure, free memory falls under the low-memory threshold, or available memory falls by a sixteenth of the machine within 10 s: e.g. --interval 1s --burst 100ms. What was already running when recording began starts none' -r
complete -c memtide -n "__fish_memtide_using_subcommand run" -l burst-for -d 'How long a burst lasts after its last cause' -r
complete -c memtide -n "__fish_memtide_using_subcommand run" -l force -d 'Write into --out even if it holds a trace: memtide\'s own files there are replaced, nothing else is touched'
complete -c memtide -n "__fish_memtide_using_subcommand run" -l all -d 'Every process'
complete -c memtide -n "__fish_memtide_using_subcommand run" -l no-ollama -d 'Do not ask Ollama anything'
complete -c memtide -n "__fish_memtide_using_subcommand run" -l no-ollama-log -d 'Do not follow Ollama\'s server log'
complete -c memtide -n "__fish_memtide_using_subcommand run" -s q -l quiet -d 'Say nothing on standard error but errors (no report at the end)'
complete -c memtide -n "__fish_memtide_using_subcommand run" -l only-command -d 'Follow only the command and the processes it starts, not Ollama\'s (for a command that runs its own llama.cpp server, or an experiment that must not see other runners)'
complete -c memtide -n "__fish_memtide_using_subcommand run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c memtide -n "__fish_memtide_using_subcommand snapshot" -l match -d 'Processes whose name or command line contains PATTERN (ASCII case ignored). Repeatable' -r
complete -c memtide -n "__fish_memtide_using_subcommand snapshot" -l pid -d 'This process. Repeatable' -r
complete -c memtide -n "__fish_memtide_using_subcommand snapshot" -l children-of -d 'This process and all its descendants, including those born later' -r
complete -c memtide -n "__fish_memtide_using_subcommand snapshot" -l ollama -d 'Ollama\'s URL [default: $OLLAMA_HOST, read as Ollama reads it, else http://127.0.0.1:11434]' -r
complete -c memtide -n "__fish_memtide_using_subcommand snapshot" -l all -d 'Every process'
complete -c memtide -n "__fish_memtide_using_subcommand snapshot" -l no-ollama -d 'Do not ask Ollama anything'
complete -c memtide -n "__fish_memtide_using_subcommand snapshot" -l json -d 'Print JSON instead of a table'
complete -c memtide -n "__fish_memtide_using_subcommand snapshot" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c memtide -n "__fish_memtide_using_subcommand report" -l format -d 'Output format' -r -f -a "text\t''
markdown\t''
json\t''"
complete -c memtide -n "__fish_memtide_using_subcommand report" -l low-free-percent -d 'Free memory (in %) under which an interval is reported as low' -r
complete -c memtide -n "__fish_memtide_using_subcommand report" -l from -d 'Start of the window: a duration from the start (90s, 5m), a UTC time, or a local time of day (11:25:30) on the trace\'s first day' -r
complete -c memtide -n "__fish_memtide_using_subcommand report" -l to -d 'End of the window, as for --from' -r
complete -c memtide -n "__fish_memtide_using_subcommand report" -l last -d 'Only the last part of the trace, e.g. 10m: from this long before its newest sample (only the segments that hold it are read)' -r
complete -c memtide -n "__fish_memtide_using_subcommand report" -l redact -d 'For pasting into a public issue: your home directory becomes `~` and your user name `user`, in commands, paths, names and the trace directory'
complete -c memtide -n "__fish_memtide_using_subcommand report" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c memtide -n "__fish_memtide_using_subcommand compare" -l format -d 'Output format' -r -f -a "text\t''
markdown\t''
json\t''"
complete -c memtide -n "__fish_memtide_using_subcommand compare" -s o -l out -d 'Also draw the two traces on one time axis into this file: .svg, .png, or .html (the chart with the comparison, one self-contained page)' -r -F
complete -c memtide -n "__fish_memtide_using_subcommand compare" -l align -d 'Where each trace\'s time axis starts: at its own start, or at its first model load' -r -f -a "start\t'Each trace\'s first sample'
first-load\t'Each trace\'s first model load (a runner starting, else Ollama listing a model)'"
complete -c memtide -n "__fish_memtide_using_subcommand compare" -l layout -d 'A above B, or both in one panel (B dashed)' -r -f -a "stacked\t''
overlay\t''"
complete -c memtide -n "__fish_memtide_using_subcommand compare" -l width -d 'Width in pixels (320 to 8192)' -r
complete -c memtide -n "__fish_memtide_using_subcommand compare" -l height -d 'Height in pixels (320 to 8192)' -r
complete -c memtide -n "__fish_memtide_using_subcommand compare" -l force -d 'Replace the output even if memtide did not draw it'
complete -c memtide -n "__fish_memtide_using_subcommand compare" -l redact -d 'For pasting into a public issue: your home directory becomes `~` and your user name `user`, in commands, paths, names and the trace directory'
complete -c memtide -n "__fish_memtide_using_subcommand compare" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c memtide -n "__fish_memtide_using_subcommand import" -l ps-tsv -d 'The per-process TSV the Guide\'s `ps` loop writes' -r -F
complete -c memtide -n "__fish_memtide_using_subcommand import" -l system-log -d 'The system log the Guide\'s `vm_stat`/`memory_pressure`/`ollama ps` loop writes' -r -F
complete -c memtide -n "__fish_memtide_using_subcommand import" -s o -l out -d 'The trace directory to write (created; refused if it already holds files)' -r -F
complete -c memtide -n "__fish_memtide_using_subcommand import" -l force -d 'Write into --out even if it holds a trace: memtide\'s own files there are replaced, nothing else is touched'
complete -c memtide -n "__fish_memtide_using_subcommand import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c memtide -n "__fish_memtide_using_subcommand render" -s o -l out -d 'Output file [default: DIR/memtide.svg, or .png/.html with --format]' -r -F
complete -c memtide -n "__fish_memtide_using_subcommand render" -l format -d 'svg, png or html [default: from the output\'s extension, else svg]' -r -f -a "svg\t''
png\t''
html\t''"
complete -c memtide -n "__fish_memtide_using_subcommand render" -l metric -d 'What the per-process panel shows' -r -f -a "model-memory\t'Footprint plus a runner\'s mapped weights resident in RAM'
footprint\t'What the process is charged for, mapped files left out'
rss\t'Resident set size'"
complete -c memtide -n "__fish_memtide_using_subcommand render" -l from -d 'Start of the window: a duration from the start (90s, 5m), a UTC time, or a local time of day (11:25:30) on the trace\'s first day' -r
complete -c memtide -n "__fish_memtide_using_subcommand render" -l to -d 'End of the window, as for --from' -r
complete -c memtide -n "__fish_memtide_using_subcommand render" -l last -d 'Only the last part of the trace, e.g. 10m: from this long before its newest sample (only the segments that hold it are read)' -r
complete -c memtide -n "__fish_memtide_using_subcommand render" -l width -d 'Width in pixels (320 to 8192)' -r
complete -c memtide -n "__fish_memtide_using_subcommand render" -l height -d 'Height in pixels (320 to 8192)' -r
complete -c memtide -n "__fish_memtide_using_subcommand render" -l low-free-percent -d 'Free memory (in %) under which an interval is shaded as low' -r
complete -c memtide -n "__fish_memtide_using_subcommand render" -l force -d 'Replace the output even if memtide did not draw it'
complete -c memtide -n "__fish_memtide_using_subcommand render" -l redact -d 'For pasting into a public issue: your home directory becomes `~` and your user name `user`, in commands, paths, names and the trace directory'
complete -c memtide -n "__fish_memtide_using_subcommand render" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c memtide -n "__fish_memtide_using_subcommand view" -s o -l out -d 'Output file [default: DIR/view.html]' -r -F
complete -c memtide -n "__fish_memtide_using_subcommand view" -l metric -d 'What the per-process panel shows' -r -f -a "model-memory\t'Footprint plus a runner\'s mapped weights resident in RAM'
footprint\t'What the process is charged for, mapped files left out'
rss\t'Resident set size'"
complete -c memtide -n "__fish_memtide_using_subcommand view" -l from -d 'Start of the window: a duration from the start (90s, 5m), a UTC time, or a local time of day (11:25:30) on the trace\'s first day' -r
complete -c memtide -n "__fish_memtide_using_subcommand view" -l to -d 'End of the window, as for --from' -r
complete -c memtide -n "__fish_memtide_using_subcommand view" -l last -d 'Only the last part of the trace, e.g. 10m: from this long before its newest sample (only the segments that hold it are read)' -r
complete -c memtide -n "__fish_memtide_using_subcommand view" -l low-free-percent -d 'Free memory (in %) under which an interval is shaded as low' -r
complete -c memtide -n "__fish_memtide_using_subcommand view" -l force -d 'Replace the output even if memtide did not write it'
complete -c memtide -n "__fish_memtide_using_subcommand view" -l no-open -d 'Write the page but do not open it'
complete -c memtide -n "__fish_memtide_using_subcommand view" -l redact -d 'For pasting into a public issue: your home directory becomes `~` and your user name `user`, in commands, paths, names and the trace directory'
complete -c memtide -n "__fish_memtide_using_subcommand view" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c memtide -n "__fish_memtide_using_subcommand demo" -s o -l out -d 'Where to write the trace, report and charts [default: memtide-demo-YYYYMMDD-HHMMSS]' -r -F
complete -c memtide -n "__fish_memtide_using_subcommand demo" -l duration -d 'How long the scenario runs, e.g. 12s, 1m (6s to 10m)' -r
complete -c memtide -n "__fish_memtide_using_subcommand demo" -l force -d 'Write into --out even if it holds files: memtide\'s own files there are replaced, nothing else is touched'
complete -c memtide -n "__fish_memtide_using_subcommand demo" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c memtide -n "__fish_memtide_using_subcommand bench" -l processes -d 'Idle child processes to follow' -r
complete -c memtide -n "__fish_memtide_using_subcommand bench" -l samples -d 'Samples per hot-loop measurement' -r
complete -c memtide -n "__fish_memtide_using_subcommand bench" -l rounds -d 'Rounds of each measurement at 10 Hz (the median and range are printed)' -r
complete -c memtide -n "__fish_memtide_using_subcommand bench" -l seconds -d 'Seconds at 10 Hz measured in each round: a run this much longer than a 1 s run' -r
complete -c memtide -n "__fish_memtide_using_subcommand bench" -l check -d 'Exit with status 1 when a measured ratio misses its target'
complete -c memtide -n "__fish_memtide_using_subcommand bench" -l age-table -d 'Also measure a table of old processes against a young one: waits until 900 processes the bench started are ten minutes old'
complete -c memtide -n "__fish_memtide_using_subcommand bench" -s h -l help -d 'Print help'
complete -c memtide -n "__fish_memtide_using_subcommand completions" -s h -l help -d 'Print help'
complete -c memtide -n "__fish_memtide_using_subcommand service; and not __fish_seen_subcommand_from install uninstall status help" -s h -l help -d 'Print help'
complete -c memtide -n "__fish_memtide_using_subcommand service; and not __fish_seen_subcommand_from install uninstall status help" -f -a "install" -d 'Write the service\'s file and start it (at once and at every login)'
complete -c memtide -n "__fish_memtide_using_subcommand service; and not __fish_seen_subcommand_from install uninstall status help" -f -a "uninstall" -d 'Stop and remove a service (both kinds when none is named)'
complete -c memtide -n "__fish_memtide_using_subcommand service; and not __fish_seen_subcommand_from install uninstall status help" -f -a "status" -d 'Say which services are installed, what they run and whether they run'
complete -c memtide -n "__fish_memtide_using_subcommand service; and not __fish_seen_subcommand_from install uninstall status help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c memtide -n "__fish_memtide_using_subcommand service; and __fish_seen_subcommand_from install" -l manager -d 'Write the file of this service manager instead of this OS\'s (with --no-start): how memtide\'s checks read a launchd agent on Linux' -r -f -a "launchd\t''
systemd\t''"
complete -c memtide -n "__fish_memtide_using_subcommand service; and __fish_seen_subcommand_from install" -l no-start -d 'Write the file but start nothing'
complete -c memtide -n "__fish_memtide_using_subcommand service; and __fish_seen_subcommand_from install" -l force -d 'Replace an installed service of this kind'
complete -c memtide -n "__fish_memtide_using_subcommand service; and __fish_seen_subcommand_from install" -s h -l help -d 'Print help'
complete -c memtide -n "__fish_memtide_using_subcommand service; and __fish_seen_subcommand_from uninstall" -s h -l help -d 'Print help'
complete -c memtide -n "__fish_memtide_using_subcommand service; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c memtide -n "__fish_memtide_using_subcommand service; and __fish_seen_subcommand_from help" -f -a "install" -d 'Write the service\'s file and start it (at once and at every login)'
complete -c memtide -n "__fish_memtide_using_subcommand service; and __fish_seen_subcommand_from help" -f -a "uninstall" -d 'Stop and remove a service (both kinds when none is named)'
complete -c memtide -n "__fish_memtide_using_subcommand service; and __fish_seen_subcommand_from help" -f -a "status" -d 'Say which services are installed, what they run and whether they run'
complete -c memtide -n "__fish_memtide_using_subcommand service; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c memtide -n "__fish_memtide_using_subcommand man" -l force -d 'Replace pages already in DIR'
complete -c memtide -n "__fish_memtide_using_subcommand man" -s h -l help -d 'Print help'
complete -c memtide -n "__fish_memtide_using_subcommand runner" -l model -d 'The model it pretends to serve' -r
complete -c memtide -n "__fish_memtide_using_subcommand runner" -l port -d 'The port it pretends to listen on' -r
complete -c memtide -n "__fish_memtide_using_subcommand runner" -l mib -d 'MiB to allocate and touch' -r
complete -c memtide -n "__fish_memtide_using_subcommand runner" -l ramp-ms -d 'Spread the allocation over this many ms, as a model load is' -r
complete -c memtide -n "__fish_memtide_using_subcommand runner" -l grow-mib -d 'MiB to add later, as a KV cache grows' -r
complete -c memtide -n "__fish_memtide_using_subcommand runner" -l grow-after-ms -d 'When to add them, ms after start' -r
complete -c memtide -n "__fish_memtide_using_subcommand runner" -l demo-id -d 'Tags the process as the demo\'s' -r
complete -c memtide -n "__fish_memtide_using_subcommand runner" -l map-file -d 'Map this file and read every page of it, as a runner maps its model\'s weights' -r -F
complete -c memtide -n "__fish_memtide_using_subcommand runner" -l map-read-mib -d 'Read only the first MIB MiB of --map-file\'s pages (the rest stays mapped, unread)' -r
complete -c memtide -n "__fish_memtide_using_subcommand runner" -l exit-with-stdin -d 'Exit when standard input reaches its end (the demo\'s pipe closes when the demo dies)'
complete -c memtide -n "__fish_memtide_using_subcommand runner" -l no-mmap -d 'As llama.cpp\'s `--no-mmap`: the weights are read into memory it allocates (here, --mib and --grow-mib), never mapped; refused beside --map-file'
complete -c memtide -n "__fish_memtide_using_subcommand runner" -l say-loaded -d 'Print `loaded` on standard output once all of its memory is held (after --grow-mib too), as a server says it is ready: a test\'s cue to list the model as Ollama would'
complete -c memtide -n "__fish_memtide_using_subcommand runner" -s h -l help -d 'Print help'
complete -c memtide -n "__fish_memtide_using_subcommand ollama-standin" -l answers -d 'The file of answers (see the stand-in\'s source); missing: no model loaded' -r -F
complete -c memtide -n "__fish_memtide_using_subcommand ollama-standin" -l ollama-version -d 'What /api/version says' -r
complete -c memtide -n "__fish_memtide_using_subcommand ollama-standin" -s h -l help -d 'Print help'
complete -c memtide -n "__fish_memtide_using_subcommand help; and not __fish_seen_subcommand_from record top serve run snapshot report compare import render view demo bench completions service man runner ollama-standin help" -f -a "record" -d 'Record system and process memory, and Ollama\'s loaded models, into a trace directory'
complete -c memtide -n "__fish_memtide_using_subcommand help; and not __fish_seen_subcommand_from record top serve run snapshot report compare import render view demo bench completions service man runner ollama-standin help" -f -a "top" -d 'Watch memory and models live, in the terminal, while you reproduce a problem'
complete -c memtide -n "__fish_memtide_using_subcommand help; and not __fish_seen_subcommand_from record top serve run snapshot report compare import render view demo bench completions service man runner ollama-standin help" -f -a "serve" -d 'Export memory per model to Prometheus: serve /metrics while sampling'
complete -c memtide -n "__fish_memtide_using_subcommand help; and not __fish_seen_subcommand_from record top serve run snapshot report compare import render view demo bench completions service man runner ollama-standin help" -f -a "run" -d 'Record while a command runs: `memtide run -- ollama run qwen3:8b \'Why is the sky blue?\'`'
complete -c memtide -n "__fish_memtide_using_subcommand help; and not __fish_seen_subcommand_from record top serve run snapshot report compare import render view demo bench completions service man runner ollama-standin help" -f -a "snapshot" -d 'Print system memory, the selected processes and Ollama\'s loaded models, once'
complete -c memtide -n "__fish_memtide_using_subcommand help; and not __fish_seen_subcommand_from record top serve run snapshot report compare import render view demo bench completions service man runner ollama-standin help" -f -a "report" -d 'Tell what happened in a trace: which runner served which model, when runners overlapped, when memory ran low, what grew, and the peaks'
complete -c memtide -n "__fish_memtide_using_subcommand help; and not __fish_seen_subcommand_from record top serve run snapshot report compare import render view demo bench completions service man runner ollama-standin help" -f -a "compare" -d 'Tell what changed between two traces: per model (matched by name, then by its blob\'s digest) the peak footprint and RSS, the load time and how long its runners lived; per trace the least available memory, the lowest free %, the time under pressure, swap growth, the longest runner overlap and Ollama\'s version; each change with its sign and ratio (B ÷ A)'
complete -c memtide -n "__fish_memtide_using_subcommand help; and not __fish_seen_subcommand_from record top serve run snapshot report compare import render view demo bench completions service man runner ollama-standin help" -f -a "import" -d 'Convert the trace files of the shell loops of the Ollama macOS Memory Trace Guide into a trace directory'
complete -c memtide -n "__fish_memtide_using_subcommand help; and not __fish_seen_subcommand_from record top serve run snapshot report compare import render view demo bench completions service man runner ollama-standin help" -f -a "render" -d 'Draw a trace: memory per process on top, system memory below, with low-memory, pressure and overlap intervals shaded and runner and model events marked'
complete -c memtide -n "__fish_memtide_using_subcommand help; and not __fish_seen_subcommand_from record top serve run snapshot report compare import render view demo bench completions service man runner ollama-standin help" -f -a "view" -d 'Explore a trace in the browser: write the viewer (DIR/view.html unless --out says) and open it'
complete -c memtide -n "__fish_memtide_using_subcommand help; and not __fish_seen_subcommand_from record top serve run snapshot report compare import render view demo bench completions service man runner ollama-standin help" -f -a "demo" -d 'Show memtide\'s main job on a built-in scenario: no Ollama needed'
complete -c memtide -n "__fish_memtide_using_subcommand help; and not __fish_seen_subcommand_from record top serve run snapshot report compare import render view demo bench completions service man runner ollama-standin help" -f -a "bench" -d 'Measure what a sample costs on this machine, against the bare kernel reads, sysinfo and the `ps | awk` pipeline of the Ollama macOS Memory Trace Guide\'s shell loop, then the recorder\'s own CPU and memory at 10 Hz. Each ratio is printed with its target and whether it meets it; with --check, a missed target makes the exit status 1. Its files go in the temporary directory and are removed when it ends, also on Ctrl-C; those of a bench killed outright are removed at the next run'
complete -c memtide -n "__fish_memtide_using_subcommand help; and not __fish_seen_subcommand_from record top serve run snapshot report compare import render view demo bench completions service man runner ollama-standin help" -f -a "completions" -d 'Print a shell completion script: `memtide completions zsh > ~/.zfunc/_memtide`'
complete -c memtide -n "__fish_memtide_using_subcommand help; and not __fish_seen_subcommand_from record top serve run snapshot report compare import render view demo bench completions service man runner ollama-standin help" -f -a "service" -d 'Keep memtide running from login: a launchd agent on macOS, a systemd user unit on Linux'
complete -c memtide -n "__fish_memtide_using_subcommand help; and not __fish_seen_subcommand_from record top serve run snapshot report compare import render view demo bench completions service man runner ollama-standin help" -f -a "man" -d 'Print memtide\'s manual page (roff), or write the page of memtide and of every subcommand into a directory: `memtide man > memtide.1`, `memtide man ~/.local/share/man/man1`'
complete -c memtide -n "__fish_memtide_using_subcommand help; and not __fish_seen_subcommand_from record top serve run snapshot report compare import render view demo bench completions service man runner ollama-standin help" -f -a "runner" -d 'A stand-in for an Ollama runner, for memtide\'s demo and tests: holds memory with an argv shaped like a real runner\'s (`runner --model <name> --port <n>`)'
complete -c memtide -n "__fish_memtide_using_subcommand help; and not __fish_seen_subcommand_from record top serve run snapshot report compare import render view demo bench completions service man runner ollama-standin help" -f -a "ollama-standin" -d 'A stand-in for Ollama\'s HTTP API, for memtide\'s tests and checks: answers /api/ps with what the file ANSWERS holds (read at each request) and prints its URL'
complete -c memtide -n "__fish_memtide_using_subcommand help; and not __fish_seen_subcommand_from record top serve run snapshot report compare import render view demo bench completions service man runner ollama-standin help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c memtide -n "__fish_memtide_using_subcommand help; and __fish_seen_subcommand_from service" -f -a "install" -d 'Write the service\'s file and start it (at once and at every login)'
complete -c memtide -n "__fish_memtide_using_subcommand help; and __fish_seen_subcommand_from service" -f -a "uninstall" -d 'Stop and remove a service (both kinds when none is named)'
complete -c memtide -n "__fish_memtide_using_subcommand help; and __fish_seen_subcommand_from service" -f -a "status" -d 'Say which services are installed, what they run and whether they run'
