"""What a process has spent on a CPU, every thread's, from the kernel's counts: shared by the
scripts that measure memtide's cost (bench-flight, check-serve, check-top). Linux only."""

import os


def cpu_ns(pid):
    """Every thread's time on a CPU so far, nanoseconds: the sum of
    /proc/PID/task/TID/schedstat (/proc/PID/schedstat is the main thread's alone, without the
    poller, the listener or the HTTP threads). A thread that ended is not counted; memtide
    starts its threads when it starts."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


def cpu_seconds(pid):
    """cpu_ns in seconds."""
    return cpu_ns(pid) / 1e9
