"""What Ray costs on this machine: the same 4-trial sweep here and as Ray tasks.

The sweep: chollet, lr x batch size (2 x 2), 1 epoch on the first 10,000 MNIST images,
seed 1. Each contender is `convscope sweep` in a fresh process, as a user runs it, one
at a time and alternated round by round:

  local   the trials one after another in the sweep's process
  ray     --ray: a local Ray instance started by the command (no RAY_ADDRESS), each
          trial a task asking for both CPUs, so also one at a time

Measured: the whole command's wall time, the trials' own training seconds (their
history), and Ray's start-up alone (`ray.init()` to the first finished no-op task, in a
fresh process). The accuracies must agree trial for trial (the same seeds and threads).

  python benchmarks/sweep_ray.py [--rounds 2]

Results: benchmarks/results/sweep_ray.json and sweep_ray.md. The .md also spreads the
README's pooling experiment (3 seeds x 4 variants, each run's measured training time in
benchmarks/results/pooling.json) over N machines on paper: convscope submits the tasks
costliest first by multiply-adds (no pooling, then stride-2, then max and average) and
Ray starts the next one on whichever node is free first, plus the per-trial overhead
measured here.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time

from common import ENV, PYTHON, ROOT, cpu

RESULTS = ROOT / "benchmarks" / "results"
SWEEPS = ROOT / "benchmarks" / ".sweeps"
SWEEP = ["sweep", "chollet", "--grid", "lr=3e-4,1e-3", "--grid", "batch_size=32,64"]
SWEEP += ["--train-images", "10000", "--epochs", "1", "--seed", "1", "--quiet", "--json"]
RAY_START = """
import time
start = time.perf_counter()
import ray
ray.init(include_dashboard=False, object_store_memory=200 << 20, log_to_driver=False)
ray.get(ray.remote(lambda: 1).remote())
print(time.perf_counter() - start)
ray.shutdown()
"""


def sweep(engine: str, round_: int) -> tuple[float, float, list[float]]:
    """(wall seconds, the trials' training seconds, their accuracies)."""
    folder = SWEEPS / f"{engine}-{round_}"
    shutil.rmtree(folder, ignore_errors=True)
    command = [PYTHON, "-m", "convscope", *SWEEP, "--output", str(folder)]
    command += ["--ray"] if engine == "ray" else []
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=ENV, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{engine} sweep failed:\n{done.stderr[-3000:]}")
    trials = json.loads(done.stdout)["trials"]
    return wall, sum(t["seconds"] for t in trials), [t["test_accuracy"] for t in trials]


def ray_start() -> float:
    done = subprocess.run([PYTHON, "-c", RAY_START], capture_output=True, text=True, env=ENV,
                          check=True)  # fmt: skip
    return float(done.stdout.strip().splitlines()[-1])


def spread_over(machines: int, seconds: list[float], overhead: float) -> float:
    """The wall time of these tasks, in this order, on `machines` one-trial nodes: each
    task starts on the node that is free first (Ray's queue of pending tasks)."""
    loads = [0.0] * machines
    for task in seconds:
        loads[loads.index(min(loads))] += task + overhead
    return max(loads)


def pooling_on_paper(overhead: float, start: float) -> str:
    found = json.loads((RESULTS / "pooling.json").read_text())
    runs = [(-v["macs"], i, run["seed"], run["seconds"]) for i, v in enumerate(found["variants"])
            for run in v["runs"]]  # fmt: skip
    seconds = [s for *_, s in sorted(runs)]  # submitted costliest first, as run_on_ray does
    lines = ["| machines | wall time | speed-up |", "|---:|---:|---:|"]
    one = spread_over(1, seconds, overhead) + start
    for n in (1, 2, 3, 4, 6, 12):
        wall = spread_over(n, seconds, overhead) + start
        lines.append(f"| {n} | {wall / 60:.1f} min | {one / wall:.1f}x |")
    return (
        f"The pooling experiment's {len(seconds)} runs (chollet, 5 epochs, 3 seeds x 4 "
        f"variants; {sum(seconds) / 60:.1f} min of training, the longest run "
        f"{max(seconds):.0f} s) on N two-core nodes, one trial a node, costliest first, "
        f"with {overhead:.1f} s of overhead a trial and {start:.1f} s of Ray start-up:\n\n"
        + "\n".join(lines)
        + "\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    walls: dict[str, list[float]] = {"local": [], "ray": []}
    training: dict[str, list[float]] = {"local": [], "ray": []}
    accuracies: list[list[float]] = []
    starts = []
    for r in range(args.rounds):
        for engine in walls:
            wall, trained, found = sweep(engine, r)
            walls[engine].append(wall)
            training[engine].append(trained)
            accuracies.append(found)
            print(f"round {r + 1}: {engine:5} {wall:6.1f} s", file=sys.stderr)
        starts.append(ray_start())
        print(f"round {r + 1}: ray start-up {starts[-1]:.1f} s", file=sys.stderr)
    median = {e: statistics.median(v) for e, v in walls.items()}
    trained_median = {e: statistics.median(v) for e, v in training.items()}
    same = all(a == accuracies[0] for a in accuracies)
    start = statistics.median(starts)
    # what a trial costs beyond its training on Ray: a worker's start, imports, data, scoring
    per_trial = max((median["ray"] - start - trained_median["ray"]) / 4, 0.0)
    report = {
        "cpu": cpu(),
        "sweep": " ".join(SWEEP),
        "wall_seconds": walls,
        "training_seconds": training,
        "accuracies": accuracies,
        "median_wall_seconds": median,
        "median_training_seconds": trained_median,
        "ray_over_local": median["ray"] / median["local"],
        "ray_start_seconds": start,
        "ray_extra_per_trial_seconds": (median["ray"] - median["local"]) / 4,
        "ray_overhead_per_trial_seconds": per_trial,
        "same_accuracies": same,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "sweep_ray.json").write_text(json.dumps(report, indent=2) + "\n")
    local, ray = (f"{median[e]:.1f} s | {trained_median[e]:.1f} s" for e in ("local", "ray"))
    md = (
        "| 4 trials (chollet, 10,000 images, 1 epoch) | wall time | training |\n"
        "|---|---|---|\n"
        f"| here, one at a time | {local} |\n"
        f"| Ray tasks (local instance) | {ray} |\n\n"
        f"Ray is {report['ray_over_local']:.2f}x the local time; its start-up alone takes "
        f"{report['ray_start_seconds']:.1f} s. Same accuracies: {same}. CPU: {report['cpu']}.\n"
    )
    md += "\n" + pooling_on_paper(per_trial, start)
    (RESULTS / "sweep_ray.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
