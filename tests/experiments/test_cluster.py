"""Sweeps on a Ray cluster of three nodes (ray.cluster_utils.Cluster on this machine, each
node with one CPU, a working folder and a data folder of its own, as separate machines
would have, and no data set: the nodes share no disk with the driver).

- 12 trials spread over the three nodes and give the same accuracies as the same sweep
  run here (same seeds, one thread each); each node fetched the data set once, checked;
- a node removed while its trial trains: the trial resumes on another node from its last
  epoch, every epoch is trained once, and the table equals the local one;
- the driver killed mid-sweep: `--resume` finishes it from the epochs it had received;
- Ray Client (`--ray ray://...`) from another process; early stopping judged on Ray.

Every node and the driver bind 127.0.0.1: Ray otherwise picks this machine's outward
address, which cannot be reached here (RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 makes Ray's
node address the loopback one). A real cluster needs each node's reachable address
instead (`ray start --node-ip-address`)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from convscope.core.sweep.folder import SweepDir
from convscope.core.sweep.plan import request, sweep_record
from convscope.runtime.sweep.ray_tasks import run_on_ray
from convscope.runtime.train import StopFlag

from ..helpers import run_cli
from .test_sweep import judged_at_the_first_rung

pytestmark = pytest.mark.slow  # three Ray nodes and a few dozen short trainings

GRID = ["--grid", "lr=3e-4,1e-3,3e-3", "--grid", "batch_size=32,64"]
GRID_DICT = {"lr": [3e-4, 1e-3, 3e-3], "batch_size": [32, 64]}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    import ray
    from ray.cluster_utils import Cluster

    saved = {k: os.environ.get(k) for k in ("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "OMP_NUM_THREADS")}
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # every address 127.0.0.1
    os.environ["OMP_NUM_THREADS"] = "1"  # the nodes' workers inherit it: one thread a trial
    root = tmp_path_factory.mktemp("nodes")

    def node(name: str) -> dict[str, Any]:
        """A node's own folders, and no data set where convscope looks for one."""
        home = root / name
        env = {"CONVSCOPE_NODE_DIR": str(home / "work"), "CONVSCOPE_DATA": str(home / "none"),
               "XDG_CACHE_HOME": str(home / "cache"), "KERAS_HOME": str(home / "keras")}  # fmt: skip
        return {"num_cpus": 1, "object_store_memory": 100 << 20, "env_vars": env}

    head = {**node("head"), "include_dashboard": False, "ray_client_server_port": free_port()}
    nodes = Cluster(initialize_head=True, head_node_args=head)
    nodes.client_port = head["ray_client_server_port"]  # Ray Client's server on the head
    nodes.root = root
    for n in range(2):
        nodes.add_node(**node(f"worker{n + 1}"))
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


def epochs_trained(folder: Path) -> dict[str, list[int]]:
    return {run.name: [h["epoch"] for h in json.loads((run / "history.json").read_text())]
            for run in sorted((folder / "runs").iterdir())}  # fmt: skip


@pytest.fixture(scope="module")
def here(cluster: Any, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """The same sweep run in this process (OMP_NUM_THREADS=1, as the nodes), per epochs
    and seeds."""
    done: dict[tuple[int, int], Path] = {}

    def sweep(epochs: int, seeds: int = 1) -> Path:
        if (epochs, seeds) not in done:
            folder = tmp_path_factory.mktemp(f"here-e{epochs}-s{seeds}") / "sweep"
            argv = ["sweep", "chollet", *GRID, "--train-images", "600", "--epochs", str(epochs),
                    "--seeds", str(seeds), "--quiet", "--output", str(folder)]  # fmt: skip
            result = run_cli(*argv)
            assert result.code == 0, result.err
            done[epochs, seeds] = folder
        return done[epochs, seeds]

    return sweep


def sweep_on_ray(
    cluster: Any, folder: SweepDir, epochs: int, lines: list[str], seeds: int = 1
) -> Any:
    from convscope.api.sweeping import write_results
    from convscope.core.sweep.results import collect

    record = sweep_record(request("chollet", grid=GRID_DICT, seeds=seeds,
                                  options={"train_images": 600, "epochs": epochs}))  # fmt: skip
    folder.write_plan(record)
    run_on_ray(folder, record, StopFlag(), address=cluster.address, cpus_per_trial=1,
               on_event=lines.append,
               after_each=lambda: write_results(folder, collect(folder, record, "ray")))  # fmt: skip
    results = collect(folder, record, "ray")
    write_results(folder, results)
    return results


def test_a_sweep_spreads_over_three_nodes_without_a_shared_disk(
    cluster: Any, here: Callable[..., Path], tmp_path: Path
) -> None:
    import ray

    assert len([n for n in ray.nodes() if n["Alive"]]) == 3
    folder = SweepDir(tmp_path / "on-ray")
    lines: list[str] = []
    sweep_on_ray(cluster, folder, 1, lines, seeds=2)  # 3 rates x 2 batch sizes x 2 seeds
    assert "3 node(s)" in lines[0]
    finished = [line for line in lines if line.startswith("finished:")]
    assert len(finished) == 12, lines
    nodes = {m.group(1) for line in finished if (m := re.search(r"on node (\w{8})$", line))}
    assert len(nodes) == 3, lines  # every node ran trials
    assert accuracies(folder.path) == accuracies(here(1, seeds=2))
    # no shared disk: each node trained in folders of its own (removed once the run came
    # back through Ray), from its own checked copy of the data set, fetched once
    fetched = [line for line in lines if re.match(r"data: node \w{8} fetched mnist.npz", line)]
    assert len(fetched) == len(nodes), lines
    sweep_id = folder.plan()["id"]
    for name in ("head", "worker1", "worker2"):
        work = cluster.root / name / "work"
        assert not list((work / "sweeps" / sweep_id).glob("attempt-*"))
        assert len(list((work / "data").glob("*/.complete"))) <= 1
        assert not (cluster.root / name / "none").exists()  # its CONVSCOPE_DATA: nothing
    assert all(
        (folder.run(key).path / "weights.safetensors").exists() for key in accuracies(folder.path)
    )


def test_ray_client_runs_the_sweep_from_another_process(
    cluster: Any, here: Callable[..., Path], tmp_path: Path
) -> None:
    """`--ray ray://127.0.0.1:PORT`: a driver connected through Ray Client (a fresh
    process, as on a laptop outside the cluster) runs the same sweep to the same table."""
    folder = tmp_path / "client"
    address = f"ray://127.0.0.1:{cluster.client_port}"
    argv = ["sweep", "chollet", *GRID, "--train-images", "600", "--epochs", "1", "--quiet",
            "--cpus-per-trial", "1", "--ray", address, "--output", str(folder)]  # fmt: skip
    done = convscope(argv)
    if "Starting Ray client server failed" in done.stderr:
        # Ray's proxy forks one server per client; in a long pytest run that fork has failed
        # once here (Ray's own startup, before any trial): the sweep resumed, as a user
        # would, and it must then work.
        done = convscope(["sweep", "--resume", str(folder), "--quiet", "--cpus-per-trial", "1",
                          "--ray", address])  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"Ray: {address}" in done.stderr
    assert len(re.findall(r"finished: .* on node \w{8}", done.stderr)) == 6
    assert accuracies(folder) == accuracies(here(1))


def convscope(argv: list[str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "convscope", *argv]
    return subprocess.run(command, capture_output=True, text=True, timeout=600,
                          env=os.environ.copy())  # fmt: skip


def test_ctrl_c_cancels_the_running_trials_and_keeps_the_finished(
    cluster: Any, here: Callable[..., Path], tmp_path: Path
) -> None:
    """The sweep's stop flag (Ctrl-C) set when the first trial finishes: the others are
    cancelled, the finished one stays, and the sweep resumed ends as the local one."""
    from convscope.api.sweeping import write_results
    from convscope.core.sweep.results import collect

    folder = SweepDir(tmp_path / "stopped")
    record = sweep_record(request("chollet", grid=GRID_DICT,
                                  options={"train_images": 600, "epochs": 1}))  # fmt: skip
    folder.write_plan(record)
    stop, lines = StopFlag(), []

    def heard(line: str) -> None:
        lines.append(line)
        if line.startswith("finished:"):
            stop.request()

    def after_each() -> None:
        write_results(folder, collect(folder, record, "ray"))

    run_on_ray(folder, record, stop, address=cluster.address, cpus_per_trial=1,
               on_event=heard, after_each=after_each)  # fmt: skip
    cancelled = re.search(r"stopped: (\d) trial\(s\) cancelled", lines[-1])
    assert cancelled and 1 <= int(cancelled.group(1)) <= 5, lines
    done = collect(folder, record, "ray").done
    assert len(done) == 6 - int(cancelled.group(1))
    run_on_ray(folder, record, StopFlag(), address=cluster.address, cpus_per_trial=1,
               on_event=lines.append, after_each=after_each)  # fmt: skip
    again = collect(folder, record, "ray")
    assert again.complete
    for trial in done:  # finished before the stop: not trained again
        assert next(t for t in again.trials if t.key == trial.key).attempts == 1
    write_results(folder, again)
    assert accuracies(folder.path) == accuracies(here(1))


def test_early_stopping_is_judged_on_ray(cluster: Any, tmp_path: Path) -> None:
    """ASHA with the trials on three nodes: the keeper judges each rung for all of them."""
    folder = tmp_path / "asha"
    argv = ["sweep", "chollet", "--random", "lr=loguniform(1e-5,1e-2)", "--trials", "6",
            "--epochs", "3", "--train-images", "600", "--early-stop", "asha", "--quiet",
            "--cpus-per-trial", "1", "--ray", cluster.address, "--output", str(folder)]  # fmt: skip
    result = run_cli(*argv)
    assert result.code == 0, result.err
    rung, stopped, done = judged_at_the_first_rung(folder, 6)
    assert len(re.findall(r"stopped early: .* after epoch 1 on node \w{8}", result.err)) == len(
        stopped
    )
    for t in stopped:
        assert epochs_trained(folder)[Path(t["run_dir"]).name] == [1]
    assert max(rung, key=rung.get) in {t["key"] for t in done}  # the best at the rung went on


def test_a_killed_driver_resumes_from_the_epochs_it_received(
    cluster: Any, here: Callable[..., Path], tmp_path: Path
) -> None:
    """The driver (a `convscope sweep --ray` process) killed once a trial's first epoch has
    come back; `--resume` with a new driver finishes every trial, resuming the stopped
    ones from their last epoch, and the table equals the local one."""
    folder = tmp_path / "killed"
    argv = ["sweep", "chollet", *GRID, "--train-images", "600", "--epochs", "3", "--quiet",
            "--cpus-per-trial", "1", "--ray", cluster.address, "--output", str(folder)]  # fmt: skip
    driver = subprocess.Popen([sys.executable, "-m", "convscope", *argv],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              env=os.environ.copy())  # fmt: skip
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not received_an_epoch(folder):
        time.sleep(0.05)
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    assert received_an_epoch(folder), driver.stderr.read() if driver.stderr else ""
    again = run_cli("sweep", "--resume", str(folder), "--quiet", "--cpus-per-trial", "1",
                    "--ray", cluster.address)  # fmt: skip
    assert again.code == 0, again.err
    assert re.search(r"started: .* from epoch [12]", again.err), again.err
    assert all(e == [1, 2, 3] for e in epochs_trained(folder).values())
    assert accuracies(folder) == accuracies(here(3))


def received_an_epoch(folder: Path) -> bool:
    """A trial's run folder in place with a checkpoint (not a hidden copy being unpacked)."""
    runs = folder / "runs"
    return runs.exists() and any(
        (r / "checkpoint.safetensors").exists() for r in runs.iterdir() if r.name[0] != "."
    )


def test_a_node_lost_mid_sweep_resumes_its_trial_elsewhere(
    cluster: Any, here: Callable[..., Path], tmp_path: Path
) -> None:
    """A worker node removed once a trial on it has trained an epoch: Ray runs the task
    again on a node left, which resumes from the keeper's copy of that epoch; every epoch
    is trained once and the table equals the same sweep run here (the last test here:
    the node stays gone)."""
    folder = SweepDir(tmp_path / "node-lost")
    lines: list[str] = []
    ids = {node.node_id[:8]: node for node in cluster.worker_nodes}
    lost: list[str] = []

    def remove_a_busy_worker() -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not finished.is_set():
            for key, run in trained(folder).items():
                node = folder.attempts(key)["runs"][-1].get("node")
                if 1 <= run < 3 and node in ids:  # mid-trial: a finished one has no retry
                    lost.append(key)
                    cluster.remove_node(ids[node])
                    return
            time.sleep(0.05)

    finished = threading.Event()
    watcher = threading.Thread(target=remove_a_busy_worker)
    watcher.start()
    try:
        results = sweep_on_ray(cluster, folder, 3, lines)
    finally:
        finished.set()
        watcher.join()
    assert lost, lines
    assert results.complete and len(results.done) == 6, lines
    assert folder.attempts(lost[0])["attempts"] >= 2, lines
    resumed = [line for line in lines if line.startswith("started:") and "attempt 2" in line]
    assert any(re.search(r", from epoch [12], attempt 2$", line) for line in resumed), lines
    assert all(e == [1, 2, 3] for e in epochs_trained(folder.path).values())
    assert accuracies(folder.path) == accuracies(here(3))


def trained(folder: SweepDir) -> dict[str, int]:
    """Each trial's epochs in the driver's folder, for trials started there."""
    if not (folder.path / "attempts").exists():
        return {}
    keys = [p.stem for p in (folder.path / "attempts").glob("*.json")]
    return {key: folder.run(key).trained_epochs() for key in keys}
