"""How many threads a training uses: the cores that are free when it starts.

On 2 cores with another busy program, PyTorch's two OpenMP threads keep waiting for each
other: measured here, a chollet epoch on 20,000 images took 4.5 s quiet and 17.8 s
beside one `yes > /dev/null` (3.9x), but 7.7 s on one thread (1.7x). So before training
convscope samples the CPUs it may run on for a moment (/proc/stat) and trains on as many
threads as cores are not taken (niced time is not counted, but in a container the
sample still saw 0.7 of a core for `nice yes`, so a niced program can cost a thread).
OMP_NUM_THREADS, when set, is the user's choice and is kept.
The thread count changes the order of floating-point sums, so a seeded run repeats
exactly with the same number of threads; the run records it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path

import torch

STAT = Path("/proc/stat")
SAMPLE_SECONDS = 0.25


def cpu_times(cpus: set[int]) -> dict[int, tuple[int, int]]:
    """{cpu: (busy, total) jiffies} for the given CPUs; empty where /proc/stat is absent."""
    try:
        lines = STAT.read_text().splitlines()
    except OSError:
        return {}
    found = {}
    for line in lines:
        name, *fields = line.split()
        if name.startswith("cpu") and name[3:].isdigit() and int(name[3:]) in cpus:
            # user nice system idle iowait irq softirq steal (guest time is inside user)
            v = [int(x) for x in fields[:8]] + [0] * (8 - len(fields[:8]))
            # niced programs yield the core to us when we need it: they do not count
            found[int(name[3:])] = (v[0] + v[2] + v[5] + v[6] + v[7], sum(v))
    return found


def busy_cores(cpus: set[int], seconds: float = SAMPLE_SECONDS) -> float:
    """How many of `cpus` other programs (not niced ones) kept busy over a short sample."""
    before = cpu_times(cpus)
    time.sleep(seconds)
    after = cpu_times(cpus)
    busy = 0.0
    for cpu, (b0, t0) in before.items():
        b1, t1 = after.get(cpu, (b0, t0))
        busy += (b1 - b0) / (t1 - t0) if t1 > t0 else 0.0
    return busy


def free_threads(cores: int, busy: float) -> int:
    """The idle cores, at least one: 2 cores with one busy program -> 1."""
    return max(1, min(cores, round(cores - busy)))


def choose_threads(env: Mapping[str, str] = os.environ) -> str | None:
    """Set torch's threads to the free cores; a note when that is fewer than all of them."""
    given = env.get("OMP_NUM_THREADS", "")
    if given.isdigit() and int(given) > 0:  # set after torch started (a notebook, a test)
        if int(given) != torch.get_num_threads():
            torch.set_num_threads(int(given))
        return None
    if given or not hasattr(os, "sched_getaffinity"):
        return None
    cpus = os.sched_getaffinity(0)
    busy = busy_cores(cpus)
    threads = free_threads(len(cpus), busy)
    if threads >= torch.get_num_threads():
        return None
    torch.set_num_threads(threads)
    return (
        f"other programs keep {busy:.1f} of {len(cpus)} cores busy: training on {threads} "
        f"thread{'s' if threads > 1 else ''}, faster than sharing them (OMP_NUM_THREADS "
        "sets it yourself)"
    )
