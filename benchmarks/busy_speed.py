"""One chollet epoch on a quiet machine and beside one busy program, convscope and plain PyTorch.

A laptop that trains also runs a browser. Here one `yes > /dev/null` stands for it, at
normal priority and niced (nice -n 19). Contenders, each a fresh process, one at a time:

  convscope          `convscope train chollet --epochs 1` as a user runs it: before training
                     it samples the cores for 0.25 s and trains on the free ones
  convscope-2-threads  the same with OMP_NUM_THREADS=2 (always both cores: how it was before)
  torch-dataloader   the straightforward PyTorch loop (benchmarks/train_speed.py's worker,
                     torch's default threads)

The epoch's seconds are the training's own (convscope: the run's history; PyTorch: the
timed epoch), so start-up and the busy program's own start are not in them.

  python benchmarks/busy_speed.py [--rounds 1]

Results: benchmarks/results/busy_speed.json and busy_speed.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from common import PYTHON, ROOT, cpu

RESULTS = ROOT / "benchmarks" / "results"
RUNS = ROOT / "benchmarks" / ".runs"
BACKGROUNDS = {
    "quiet": None,
    "one busy program": ["yes"],
    "one niced busy program": ["nice", "-n", "19", "yes"],
}
QUIET_ENV = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}


def convscope_epoch(threads: str | None) -> float:
    env = {**QUIET_ENV, **({"OMP_NUM_THREADS": threads} if threads else {})}
    command = [PYTHON, "-m", "convscope", "train", "chollet", "--epochs", "1", "--seed", "1"]
    command += ["--quiet", "--json", "--runs-dir", str(RUNS)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    run = Path(json.loads(done.stdout)["run_dir"])
    history = json.loads((run / "history.json").read_text())
    return float(history[0]["seconds"])


def torch_epoch() -> float:
    command = [PYTHON, str(ROOT / "benchmarks" / "train_speed.py"), "--worker", "torch-dataloader"]
    done = subprocess.run(command, capture_output=True, text=True, env=QUIET_ENV, check=True)
    return float(json.loads(done.stdout.strip().splitlines()[-1])["seconds"])


CONTENDERS = {
    "convscope": lambda: convscope_epoch(None),
    "convscope-2-threads": lambda: convscope_epoch("2"),
    "torch-dataloader": torch_epoch,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    seconds: dict[str, dict[str, list[float]]] = {
        b: {c: [] for c in CONTENDERS} for b in BACKGROUNDS
    }
    for r in range(args.rounds):
        for background, command in BACKGROUNDS.items():
            busy = None
            if command:
                busy = subprocess.Popen(command, stdout=subprocess.DEVNULL)
            try:
                for name, epoch in CONTENDERS.items():
                    seconds[background][name].append(epoch())
                    took = seconds[background][name][-1]
                    print(
                        f"round {r + 1}, {background}: {name} {took:.2f} s",
                        file=sys.stderr,
                        flush=True,
                    )
            finally:
                if busy is not None:
                    busy.kill()
                    busy.wait()
    median = {b: {c: statistics.median(v) for c, v in cs.items()} for b, cs in seconds.items()}
    report = {"cpu": cpu(), "cores": os.cpu_count(), "seconds": seconds, "median": median}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "busy_speed.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / "busy_speed.md").write_text(markdown(report))
    print(markdown(report))


def markdown(report: dict) -> str:  # type: ignore[type-arg]
    median = report["median"]
    quiet = median["quiet"]
    lines = [
        f"CPU: {report['cpu']}, {report['cores']} cores; one chollet epoch (60,000 images).",
        "",
        "| background | " + " | ".join(quiet) + " |",
        "|---|" + "---|" * len(quiet),
    ]
    for background, row in median.items():
        cells = [
            f"{t:.1f} s" + ("" if background == "quiet" else f" ({t / quiet[c]:.1f}x)")
            for c, t in row.items()
        ]
        lines.append(f"| {background} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
