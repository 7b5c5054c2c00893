"""The pooling experiment behind the README's table: chollet on MNIST, 4 variants x 3 seeds.

Runs `convscope experiment pooling` as a user would (one fresh process, runs one at a
time). The experiment folder keeps finished runs, so an interrupted benchmark continues
where it stopped when started again.

  python benchmarks/pooling_experiment.py [--seeds 3] [--epochs 5] [--augment shift=2,rotate=10]

Results: benchmarks/results/pooling[-augmented].json and .md (the table in the README).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
RUNS = ROOT / "benchmarks" / ".runs"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="chollet")
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--augment", default="")
    args = parser.parse_args()
    name = "pooling" + ("-augmented" if args.augment else "")
    folder = RUNS / f"{name}-{args.model}-{args.dataset}-e{args.epochs}"
    command = [
        sys.executable, "-m", "convscope", "experiment", "pooling",
        "--model", args.model, "--dataset", args.dataset, "--epochs", str(args.epochs),
        "--seeds", str(args.seeds), "--output", str(folder),
    ]  # fmt: skip
    if args.augment:
        command += ["--augment", args.augment]
    code = subprocess.call(command, cwd=ROOT)
    if code == 0:
        RESULTS.mkdir(parents=True, exist_ok=True)
        for suffix in (".json", ".md", ".png"):
            shutil.copyfile(folder / f"pooling{suffix}", RESULTS / f"{name}{suffix}")
        print(f"results: {RESULTS / name}.json, .md, .png")
    return code


if __name__ == "__main__":
    sys.exit(main())
