"""A 27-trial sweep on 1, 2 and 3 simulated Ray nodes, and here, one at a time.

  python benchmarks/cluster_sweep.py

The sweep: chollet, lr in {3e-4, 1e-3, 3e-3} x batch_size in {32, 64, 128} x 3 seeds,
1 epoch on the first 1,000 MNIST training images, each trial scored on the 10,000 test
images. Every contender trains on one thread a trial (OMP_NUM_THREADS=1):

  here     `convscope sweep` in a fresh process, the trials one after another
  N nodes  ray.cluster_utils.Cluster on this machine: N nodes of 1 CPU each, each with a
           working folder of its own (no shared disk: data and run folders through Ray),
           every address 127.0.0.1; the sweep driven from this process with
           --cpus-per-trial 1, so N trials at a time

Measured: the sweep's wall time (the cluster already started), the trials' own training
seconds (their history), and the overhead a trial on Ray adds: (1 node - here) / 27.
On this machine's 2 cores, 3 one-CPU nodes share 2 cores: the 3-node figure shows the
scheduling, not a third machine's speed. The accuracies must agree trial for trial.
Results: benchmarks/results/cluster_sweep.json.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from common import ENV, PYTHON, ROOT, cpu

RESULTS = ROOT / "benchmarks" / "results" / "cluster_sweep.json"
GRID = {"lr": [3e-4, 1e-3, 3e-3], "batch_size": [32, 64, 128]}
OPTIONS = {"train_images": 1000, "epochs": 1}
SEEDS = 3


def table(folder: Path) -> dict[str, Any]:
    trials = json.loads((folder / "results.json").read_text())["trials"]
    return {
        "accuracies": {t["key"]: t["test_accuracy"] for t in trials},
        "training_seconds": sum(float(t["seconds"] or 0) for t in trials),
        "trials": len(trials),
    }


def here(folder: Path) -> dict[str, Any]:
    grid = [a for k, v in GRID.items() for a in ("--grid", f"{k}={','.join(map(str, v))}")]
    cmd = [PYTHON, "-m", "convscope", "sweep", "chollet", *grid, "--seeds", str(SEEDS),
           "--train-images", str(OPTIONS["train_images"]), "--epochs", str(OPTIONS["epochs"]),
           "--quiet", "--output", str(folder)]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(cmd, check=True, env={**ENV, "OMP_NUM_THREADS": "1"}, stdout=subprocess.DEVNULL)
    return {"seconds": time.perf_counter() - started, **table(folder)}


def on_nodes(count: int, root: Path) -> dict[str, Any]:
    import ray
    from ray.cluster_utils import Cluster

    import convscope as cs

    def node(name: str) -> dict[str, Any]:
        env = {"CONVSCOPE_NODE_DIR": str(root / name), "CONVSCOPE_DATA": str(root / "none")}
        return {"num_cpus": 1, "object_store_memory": 150 << 20, "env_vars": env}

    head = {**node("head"), "include_dashboard": False}
    nodes = Cluster(initialize_head=True, head_node_args=head)
    for n in range(count - 1):
        nodes.add_node(**node(f"worker{n + 1}"))
    ray.init(address=nodes.address, logging_level="ERROR", log_to_driver=False)
    try:
        started = time.perf_counter()
        cs.sweep("chollet", grid=GRID, seeds=SEEDS, output=root / "sweep", ray=nodes.address,
                 cpus_per_trial=1, quiet=True, **OPTIONS)  # fmt: skip
        seconds = time.perf_counter() - started
    finally:
        ray.shutdown()
        nodes.shutdown()
    return {"seconds": seconds, **table(root / "sweep")}


def main() -> int:
    os.environ.update({"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "OMP_NUM_THREADS": "1",
                       "KERAS_BACKEND": "torch"})  # fmt: skip
    found: dict[str, Any] = {"cpu": cpu(), "trials": 27, **OPTIONS}
    with tempfile.TemporaryDirectory() as tmp:
        found["here"] = here(Path(tmp) / "here")
        print("here", round(found["here"]["seconds"], 1), flush=True)
        for count in (1, 2, 3):
            found[f"{count}_nodes"] = on_nodes(count, Path(tmp) / f"n{count}")
            print(count, "node(s)", round(found[f"{count}_nodes"]["seconds"], 1), flush=True)
    base = found["1_nodes"]["seconds"]
    found["speedup"] = {n: base / found[f"{n}_nodes"]["seconds"] for n in (1, 2, 3)}
    found["overhead_per_trial"] = (base - found["here"]["seconds"]) / 27
    found["same_accuracies"] = all(
        found[f"{n}_nodes"]["accuracies"] == found["here"]["accuracies"] for n in (1, 2, 3)
    )
    for key in ("here", "1_nodes", "2_nodes", "3_nodes"):
        found[key].pop("accuracies")
    RESULTS.write_text(json.dumps(found, indent=2) + "\n")
    print(json.dumps(found, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
