"""Day-long synthetic traces for the benchmarks and the viewer check: a day at 1 Hz of ten
processes in memtide's trace format, and a day of the Ollama macOS Memory Trace Guide's shell
loops (the `ps` TSV every second, a system block every 5 s), both built from captures in
`tests/fixtures/`."""

import csv
import json
import os
import shutil
from datetime import datetime, timedelta, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rows(trace, name):
    with open(os.path.join(trace, name), newline="") as f:
        return list(csv.DictReader(f))


def write_day(trace, processes=10, seconds=86400):
    """A day at 1 Hz of `processes` runners, in memtide's trace format (for the size and load
    time figures): memory rising and falling in waves, every process alive all day."""
    os.makedirs(trace, exist_ok=True)
    fixture = os.path.join(ROOT, "tests", "fixtures", "trace-twelve-runners")
    meta = json.load(open(os.path.join(fixture, "meta.json")))
    start = datetime(2026, 5, 14, 0, 0, tzinfo=timezone.utc)
    meta.update(start_utc=start.strftime("%Y-%m-%dT%H:%M:%S.000Z"), interval_ms=1000,
                end_utc=(start + timedelta(seconds=seconds - 1)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                samples=seconds, os="linux", total_memory_bytes=64 << 30)
    json.dump(meta, open(os.path.join(trace, "meta.json"), "w"), indent=2)
    for name in ("models.csv", "ollama_polls.csv"):
        shutil.copy(os.path.join(fixture, name), os.path.join(trace, name))
    ids = rows(fixture, "identities.csv")[:processes]
    with open(os.path.join(fixture, "identities.csv")) as f:
        id_header = f.readline().strip().split(",")
    with open(os.path.join(trace, "identities.csv"), "w", newline="") as f:
        wr = csv.DictWriter(f, id_header)
        wr.writeheader()
        for i, r in enumerate(ids):
            r.update(pid=str(1000 + i), first_seen_utc=meta["start_utc"], exited="false", exited_utc="")
            wr.writerow(r)
    with open(os.path.join(fixture, "system.csv")) as f:
        sys_header = f.readline().strip().split(",")
    with open(os.path.join(fixture, "processes.csv")) as f:
        proc_header = f.readline().strip().split(",")
    sys_row = rows(fixture, "system.csv")[0]
    proc_rows = {r["pid"]: r for r in rows(fixture, "processes.csv")}
    with open(os.path.join(trace, "system.csv"), "w", newline="") as fs, \
            open(os.path.join(trace, "processes.csv"), "w", newline="") as fp:
        ws, wp = csv.DictWriter(fs, sys_header), csv.DictWriter(fp, proc_header)
        ws.writeheader()
        wp.writeheader()
        for s in range(seconds):
            t = start + timedelta(seconds=s)
            stamp = t.strftime("%Y-%m-%dT%H:%M:%S.000Z")
            wave = (s % 3600) / 3600
            r = dict(sys_row, time_utc=stamp, t_ms=str(s * 1000), total_bytes=str(64 << 30),
                     available_bytes=str(int((40 - 30 * wave) * (1 << 30))),
                     free_percent=f"{(40 - 30 * wave) / 64 * 100:.0f}",
                     swap_used_bytes=str(int(wave * (2 << 30))))
            ws.writerow(r)
            for i, ident in enumerate(ids):
                base = proc_rows[ident["pid"]] if ident["pid"] in proc_rows else next(iter(proc_rows.values()))
                size = int((1 + i) * (1 << 29) * (0.5 + 0.5 * ((s + i * 700) % 5400) / 5400))
                wp.writerow(dict(base, time_utc=stamp, t_ms=str(s * 1000), pid=str(1000 + i),
                                 start_time_us=ident["start_time_us"], rss_bytes=str(size + (50 << 20)),
                                 footprint_bytes=str(size), peak_footprint_bytes="", peak_rss_bytes=""))


def write_shell_day(out, seconds=86400, processes=10):
    """The Guide's two files for a day: `ps.tsv` (every second, `processes` Ollama processes,
    half of them runners) and `system.log` (a block every 5 s, repeating the 09:25:20 block of
    the Guide capture in tests/fixtures/seed/, which has every section)."""
    os.makedirs(out, exist_ok=True)
    seed = os.path.join(ROOT, "tests", "fixtures", "seed", "system-memtrace-20260514-092500.log")
    log = open(seed).read()
    at = log.index("===== 2026-05-14T09:25:20Z =====")
    body = log[at:]
    first = body.index("\n") + 1
    nxt = body.find("\n=====", first)
    block = body[first:] if nxt < 0 else body[first:nxt + 1]
    start = datetime(2026, 5, 14, 0, 0, tzinfo=timezone.utc)
    exe = "/Applications/Ollama.app/Contents/Resources/ollama"
    cmds = []
    for p in range(processes):
        if p % 2 == 0:
            cmds.append(f"{exe} serve")
        else:
            cmds.append(f"{exe} runner --ollama-engine --model /Users/a/.ollama/models/blobs/"
                        f"sha256-{p:064x} --port {50000 + p}")
    with open(os.path.join(out, "ps.tsv"), "w") as f:
        f.write("ts\tpid\tppid\tcomm\trss_kb\tvsz_kb\tcommand\n")
        for s in range(seconds):
            ts = (start + timedelta(seconds=s)).strftime("%Y-%m-%dT%H:%M:%SZ")
            rss = 100_000 + (s % 600) * 1000
            f.write("".join(f"{ts}\t{1000 + p}\t1\t{exe}\t{rss}\t436878528\t{cmds[p]}\n"
                            for p in range(processes)))
    with open(os.path.join(out, "system.log"), "w") as f:
        for s in range(0, seconds, 5):
            ts = (start + timedelta(seconds=s)).strftime("%Y-%m-%dT%H:%M:%SZ")
            f.write(f"===== {ts} =====\n{block}")
