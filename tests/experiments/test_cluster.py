"""A sweep on a Ray cluster of three nodes (ray.cluster_utils.Cluster on this machine,
each node with one CPU of its own): the trials spread over the nodes and give the same
accuracies as the same sweep run here, with the same seeds and one thread each.

Every node and the driver bind 127.0.0.1: Ray otherwise picks this machine's outward
address, which cannot be reached here (RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 makes Ray's
node address the loopback one). A real cluster needs each node's reachable address
instead (`ray start --node-ip-address`)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from convscope.core.sweep.folder import SweepDir
from convscope.core.sweep.plan import request, sweep_record
from convscope.runtime.sweep.ray_tasks import run_on_ray
from convscope.runtime.train import StopFlag

from ..helpers import run_cli

pytestmark = pytest.mark.slow  # three Ray nodes and six trainings

OPTIONS = {"train_images": 600, "epochs": 1}
GRID = {"lr": [3e-4, 1e-3, 3e-3], "batch_size": [32, 64]}


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    import ray
    from ray.cluster_utils import Cluster

    saved = {k: os.environ.get(k) for k in ("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "OMP_NUM_THREADS")}
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # every address 127.0.0.1
    os.environ["OMP_NUM_THREADS"] = "1"  # the nodes' workers inherit it: one thread a trial
    node = {"num_cpus": 1, "object_store_memory": 100 << 20}
    head = {**node, "include_dashboard": False, "ray_client_server_port": free_port()}
    nodes = Cluster(initialize_head=True, head_node_args=head)
    nodes.client_port = head["ray_client_server_port"]  # Ray Client's server on the head
    for _ in range(2):
        nodes.add_node(**node)
    ray.init(address=nodes.address, logging_level="ERROR", log_to_driver=False)
    try:
        yield nodes
    finally:
        ray.shutdown()
        nodes.shutdown()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def accuracies(folder: Path) -> dict[str, float]:
    table = json.loads((folder / "results.json").read_text())
    return {t["key"]: t["test_accuracy"] for t in table["trials"]}


def test_a_sweep_spreads_over_three_nodes_and_equals_the_local_one(
    cluster: Any, tmp_path: Path
) -> None:
    from convscope.api.sweeping import write_results
    from convscope.core.sweep.results import collect

    assert len([n for n in __import__("ray").nodes() if n["Alive"]]) == 3
    folder = SweepDir(tmp_path / "on-ray")
    record = sweep_record(request("chollet", grid=GRID, options=OPTIONS))
    folder.write_plan(record)
    lines: list[str] = []
    run_on_ray(folder, record, StopFlag(), address=cluster.address, cpus_per_trial=1,
               on_event=lines.append,
               after_each=lambda: write_results(folder, collect(folder, record, "ray")))  # fmt: skip
    finished = [line for line in lines if line.startswith("finished:")]
    assert len(finished) == 6
    nodes = {m.group(1) for line in finished if (m := re.search(r"on node (\w{8})$", line))}
    assert len(nodes) >= 2, lines  # the trials ran on more than one node
    assert "3 node(s)" in lines[0]
    local = tmp_path / "here"
    argv = ["sweep", "chollet", "--grid", "lr=3e-4,1e-3,3e-3", "--grid", "batch_size=32,64",
            "--train-images", "600", "--epochs", "1", "--quiet", "--output", str(local)]  # fmt: skip
    result = run_cli(*argv)  # in this process, with OMP_NUM_THREADS=1 as the nodes have
    assert result.code == 0, result.err
    assert accuracies(folder.path) == accuracies(local)


def test_ray_client_runs_the_sweep_from_another_process(cluster: Any, tmp_path: Path) -> None:
    """`--ray ray://127.0.0.1:PORT`: a driver connected through Ray Client (a fresh
    process, as on a laptop outside the cluster) runs the same sweep to the same table."""
    import subprocess
    import sys

    folder = tmp_path / "client"
    argv = ["sweep", "chollet", "--grid", "lr=3e-4,1e-3,3e-3", "--grid", "batch_size=32,64",
            "--train-images", "600", "--epochs", "1", "--quiet", "--cpus-per-trial", "1",
            "--ray", f"ray://127.0.0.1:{cluster.client_port}", "--output", str(folder)]  # fmt: skip
    command = [sys.executable, "-m", "convscope", *argv]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600,
                          env=os.environ.copy())  # fmt: skip
    if "Starting Ray client server failed" in done.stderr:
        # Ray's proxy forks one server per client; in a long pytest run that fork has failed
        # once here (Ray's own startup, before any trial): the sweep resumed, as a user
        # would, and it must then work.
        again = [
            sys.executable,
            "-m",
            "convscope",
            "sweep",
            "--resume",
            str(folder),
            "--quiet",
            "--cpus-per-trial",
            "1",
            "--ray",
            f"ray://127.0.0.1:{cluster.client_port}",
        ]
        done = subprocess.run(again, capture_output=True, text=True, timeout=600,
                              env=os.environ.copy())  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"Ray: ray://127.0.0.1:{cluster.client_port}" in done.stderr
    assert len(re.findall(r"finished: .* on node \w{8}", done.stderr)) == 6
    here = tmp_path / "here"
    local = [a for a in argv if not a.startswith("ray://") and a not in ("--ray",)]
    local[local.index("--output") + 1] = str(here)
    assert run_cli(*local).code == 0
    assert accuracies(folder) == accuracies(here)


def test_a_node_lost_mid_sweep_costs_no_trial(cluster: Any, tmp_path: Path) -> None:
    """A worker node removed while trials run on it: Ray runs its tasks again on the nodes
    left, each trial resumes from what its run folder holds, every trial ends once, and
    the table equals the same sweep run here (the last test here: the node stays gone)."""
    import threading

    from convscope.api.sweeping import write_results
    from convscope.core.sweep.results import collect

    options = {"train_images": 600, "epochs": 2}
    folder = SweepDir(tmp_path / "node-lost")
    record = sweep_record(request("chollet", grid=GRID, options=options))
    folder.write_plan(record)
    lines: list[str] = []
    victim = next(iter(cluster.worker_nodes))
    threading.Timer(10.0, lambda: cluster.remove_node(victim)).start()
    run_on_ray(folder, record, StopFlag(), address=cluster.address, cpus_per_trial=1,
               on_event=lines.append,
               after_each=lambda: write_results(folder, collect(folder, record, "ray")))  # fmt: skip
    results = collect(folder, record, "ray")
    assert results.complete and len(results.done) == 6, lines
    assert max(t.attempts for t in results.trials) >= 2, lines  # someone was run again
    for trial in results.trials:
        history = json.loads((Path(trial.run_dir) / "history.json").read_text())
        assert [h["epoch"] for h in history] == [1, 2]  # each epoch once: nothing twice
    local = tmp_path / "here"
    argv = ["sweep", "chollet", "--grid", "lr=3e-4,1e-3,3e-3", "--grid", "batch_size=32,64",
            "--train-images", "600", "--epochs", "2", "--quiet", "--output", str(local)]  # fmt: skip
    assert run_cli(*argv).code == 0
    write_results(folder, results)
    assert accuracies(folder.path) == accuracies(local)
