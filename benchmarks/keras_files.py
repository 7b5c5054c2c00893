"""Reading the user's own Keras files: cold `explain` of a .keras against a preset, and the
time to load a trained chollet's weights from .keras and .h5 into torch.

  python benchmarks/keras_files.py [--rounds 9]

The files: a 1-epoch chollet run trained here (benchmarks/.runs, made on first use),
exported by convscope to .keras, and the same model saved by Keras 3 itself as .keras and
.h5 when keras is installed (the dev tools). Cold runs are fresh processes, interleaved
round by round; loading is timed inside one process after torch is imported (what a
notebook user waits for). Results: benchmarks/results/keras_files.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ENV, PYTHON, ROOT, cpu, trained_run

RESULTS = ROOT / "benchmarks" / "results" / "keras_files.json"

LOAD = """
import sys, time, json
import torch, numpy
import convscope as cs
times = {}
for path in sys.argv[1:]:
    cs.load(path, dataset="mnist")  # warm the file cache
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        cs.load(path, dataset="mnist")
        runs.append(time.perf_counter() - start)
    times[path] = sorted(runs)[2]
print(json.dumps(times))
"""

KERAS_SAVE = """
import sys, keras, numpy as np
import convscope as cs
model = keras.models.load_model(sys.argv[1])
model.save(sys.argv[2])
model.save(sys.argv[3])
"""


def cold(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=ENV)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp())
    files = {"convscope export (.keras)": scratch / "chollet.keras"}
    subprocess.run([PYTHON, "-m", "convscope", "export", str(trained_run()), "-o",
                    str(files["convscope export (.keras)"])], check=True, env=ENV)  # fmt: skip
    made = subprocess.run([PYTHON, "-c", KERAS_SAVE, str(files["convscope export (.keras)"]),
                           str(scratch / "k.keras"), str(scratch / "k.h5")], env=ENV,
                          stderr=subprocess.DEVNULL)  # fmt: skip
    if made.returncode == 0:
        files["Keras 3 model.save (.keras)"] = scratch / "k.keras"
        files["Keras 3 model.save (.h5)"] = scratch / "k.h5"
    cs = [PYTHON, "-m", "convscope", "explain"]
    explain = {
        "explain chollet (preset)": [*cs, "chollet"],
        "explain chollet.keras": [*cs, str(scratch / "chollet.keras")],
    }
    for command in explain.values():
        cold(command)
    times: dict[str, list[float]] = {name: [] for name in explain}
    for _ in range(args.rounds):
        for name, command in explain.items():
            times[name].append(cold(command))
    medians = {name: statistics.median(v) for name, v in times.items()}
    ratio = medians["explain chollet.keras"] / medians["explain chollet (preset)"]
    command = [PYTHON, "-c", LOAD, *map(str, files.values())]
    found = subprocess.run(command, check=True, capture_output=True, text=True, env=ENV)
    loaded = json.loads(found.stdout)
    load_times = {name: loaded[str(path)] for name, path in files.items()}
    print(f"CPU: {cpu()}")
    for name, median in medians.items():
        print(f"{name:32} cold {median:6.3f} s")
    print(f"explain .keras / explain preset: {ratio:.2f}x")
    for name, seconds in load_times.items():
        print(f"load {name:32} {seconds:6.3f} s (torch already imported)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "cpu": cpu(),
        "rounds": args.rounds,
        "explain_cold_median_seconds": medians,
        "explain_keras_over_preset": ratio,
        "load_seconds": load_times,
        "all_explain_seconds": times,
    }
    RESULTS.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
