"""Attribution speed and the attribution experiment on a 5-epoch chollet run.

Every method on one test image (the median of 5 calls after one warm-up; the issue's
bounds: under 1 s, integrated gradients and SmoothGrad under 3 s), then
`convscope experiment attribution RUN` as a user runs it (bound: 3 minutes), whose table
goes to benchmarks/results/attribution.md and .json for the README.

  python benchmarks/attribution_speed.py [--no-experiment]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time

import torch
from common import ENV, PYTHON, ROOT, cpu, trained_chollet

import convscope as cs
from convscope.core.rundir import RunDir
from convscope.runtime.attribution.methods import METHODS, attribute
from convscope.runtime.data import load

RESULTS = ROOT / "benchmarks" / "results"
BOUND = {"integrated_gradients": 3.0, "smoothgrad": 3.0}  # seconds; others 1 s


def one_image_seconds(run: object) -> dict[str, float]:
    model = cs.load(str(run)).subject.model.eval()
    image = load("mnist").test_images[:1]
    found = {}
    for method in METHODS:
        attribute(model, image, method)  # warm-up: first-call allocations
        times = []
        for _ in range(5):
            start = time.perf_counter()
            attribute(model, image, method)
            times.append(time.perf_counter() - start)
        found[method] = statistics.median(times)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-experiment", action="store_true", help="only the per-image times")
    args = parser.parse_args()
    torch.set_num_threads(2)
    run = trained_chollet()
    print(f"CPU: {cpu()}, torch threads {torch.get_num_threads()}; run {run.name}")
    per_image = one_image_seconds(run)
    print(f"{'method':22} {'one image':>10} {'bound':>6}")
    for method, seconds in per_image.items():
        bound = BOUND.get(method, 1.0)
        verdict = "ok" if seconds < bound else "OVER"
        print(f"{method:22} {seconds * 1000:8.0f} ms {bound:5.0f} s  {verdict}")
    summary = {"cpu": cpu(), "one_image_seconds": per_image}
    if not args.no_experiment:
        start = time.perf_counter()
        command = [PYTHON, "-m", "convscope", "experiment", "attribution", str(run)]
        code = subprocess.call(command, cwd=ROOT, env=ENV)
        seconds = time.perf_counter() - start
        print(f"experiment attribution: {seconds:.0f} s (bound 180 s), exit {code}")
        if code != 0:
            return code
        summary["experiment_seconds"] = seconds
        RESULTS.mkdir(parents=True, exist_ok=True)
        json_path, _, md_path = RunDir(run).attribution_files
        shutil.copyfile(json_path, RESULTS / "attribution.json")
        shutil.copyfile(md_path, RESULTS / "attribution.md")
    (RESULTS / "attribution_speed.json").write_text(json.dumps(summary, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
