"""Early stopping (ASHA) against the full grid on about the same budget of epochs.

  python benchmarks/early_stop.py

Both sweep `chollet` on the first 6,000 MNIST training images for up to 9 epochs each,
validating on the test set after every epoch:
  grid   lr in {1e-4, 3e-4, 1e-3, 3e-3} x batch_size in {32, 128}: 8 trials, 72 epochs
  asha   24 random draws of lr (loguniform 1e-4..1e-2) and batch_size (32, 64 or 128),
         judged after 1 and 3 epochs, the top third going on (--early-stop asha)
The report: the best test accuracy each found, the epochs each trained (the sum of every
trial's history), and the wall time. Results: benchmarks/results/early_stop.json.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from pathlib import Path

from common import ENV, PYTHON, ROOT, cpu

RESULTS = ROOT / "benchmarks" / "results" / "early_stop.json"
COMMON = ["--epochs", "9", "--train-images", "6000", "--quiet"]
SWEEPS = {
    "grid": ["--grid", "lr=1e-4,3e-4,1e-3,3e-3", "--grid", "batch_size=32,128"],
    "asha": ["--random", "lr=loguniform(1e-4,1e-2)", "--random", "batch_size=choice(32,64,128)",
             "--trials", "24", "--early-stop", "asha"],
}  # fmt: skip


def sweep(name: str, folder: Path) -> dict[str, object]:
    started = time.perf_counter()
    cmd = [PYTHON, "-m", "convscope", "sweep", "chollet", *SWEEPS[name], *COMMON]
    subprocess.run([*cmd, "--output", str(folder)], check=True, env=ENV, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    table = json.loads((folder / "results.json").read_text())
    trials = table["trials"]
    epochs = sum(len(json.loads((Path(t["run_dir"]) / "history.json").read_text())) for t in trials)
    best = max(trials, key=lambda t: t["test_accuracy"] or 0)
    return {"trials": len(trials), "epochs": epochs, "seconds": seconds,
            "best_accuracy": best["test_accuracy"], "best": best["settings"],
            "full_trials": sum(t["state"] == "done" for t in trials)}  # fmt: skip


def main() -> int:
    found = {"cpu": cpu(), "images": 6000, "max_epochs": 9}
    with tempfile.TemporaryDirectory() as tmp:
        for name in SWEEPS:
            found[name] = sweep(name, Path(tmp) / name)
            print(name, json.dumps(found[name]))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(found, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
