"""A sweep's trials as Ray tasks, on the cluster `ray.init()` finds or one it starts here.

Each unfinished trial is one task (`runtime.sweep.worker_trial`), submitted costliest
first (multiply-adds x images x epochs: see `cost`), asking for
`cpus_per_trial` CPUs (default: as many as the smallest node has, so one trial fills a
node) or a GPU. The task reads its plan from the sweep folder and writes its ordinary run
directory there, so the folder must be on storage every node sees; a node that cannot
see it fails the trial with that message before writing anything. A worker that dies
(killed, out of memory, a lost node) is a system failure, which Ray retries
(`max_retries`); the retried task resumes the trial from its last epoch's checkpoint.
Nothing finished is lost: finished run directories are skipped.

Ray is an optional extra (`pip install convscope[ray]`), imported only here.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...core.errors import ConvscopeError, missing_extra
from ...core.explain.rules import explain
from ...core.sweep.folder import SweepDir
from ...core.sweep.plan import PlannedTrial, planned_trials
from ..train import StopFlag
from .local import worker_trial

RETRIES = 3  # Ray's default for tasks: a worker may die three times per trial
LOCAL_OBJECT_STORE = 200 << 20  # bytes: trials return a few numbers, nothing large


def check_address(address: str) -> str:
    """host:port, ray://host:port or auto; a model's name after --ray is read as one."""
    if ":" not in address and address != "auto":
        raise ConvscopeError(
            f"--ray {address!r} is not a Ray address (host:port, ray://host:10001 or auto)",
            hint="--ray takes the next word as its address: put --ray after the model",
        )
    return address


def check_ray(ray: bool | str) -> None:
    """Before a sweep is planned or written: the address reads as one, Ray is installed."""
    if isinstance(ray, str):
        check_address(ray)
    if ray:
        import_ray()


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise missing_extra("--ray", "ray", "Ray (on every node)") from None
    return ray


@dataclass(frozen=True)
class Cluster:
    address: str  # what was connected to ("a local instance" when started here)
    nodes: int
    cpus: float  # the smallest node's
    started_seconds: float  # ray.init's time


def connect(ray: Any, address: str | None) -> Cluster:
    """Connect to RAY_ADDRESS or `address`; without either, start a local instance."""
    start = time.perf_counter()
    if not ray.is_initialized():
        try:
            if address is None and "RAY_ADDRESS" not in os.environ:
                ray.init(include_dashboard=False, object_store_memory=LOCAL_OBJECT_STORE,
                         logging_level="ERROR", log_to_driver=False)  # fmt: skip
            else:
                ray.init(address=address, logging_level="ERROR", log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as error:
            where = address or os.environ.get("RAY_ADDRESS", "")
            raise ConvscopeError(f"cannot connect to the Ray cluster at {where!r} ({error})",
                                 hint="start it with: ray start --head") from None  # fmt: skip
    alive = [n for n in ray.nodes() if n.get("Alive")]
    cpus = min((float(n["Resources"].get("CPU", 0)) for n in alive), default=0.0)
    shown = address or os.environ.get("RAY_ADDRESS") or "a local instance"
    return Cluster(shown, len(alive), cpus, time.perf_counter() - start)


def failure(ray: Any, error: Exception) -> str:
    """A failed task's reason, in one line: the trial's own message when it raised one."""
    cause = getattr(error, "cause", None)
    if isinstance(cause, ConvscopeError):
        return str(cause)
    if isinstance(error, ray.exceptions.WorkerCrashedError | ray.exceptions.NodeDiedError):
        return f"its worker died {RETRIES + 1} times ({type(error).__name__})"
    return f"{type(cause or error).__name__}: {cause or error}".splitlines()[0]


def cost(planned: PlannedTrial) -> float:
    """A trial's training work, roughly: multiply-adds per image x images x epochs. Ray
    starts tasks in the order they are submitted, so submitting the costliest first keeps
    a long trial from starting last while the other nodes wait (Graham's LPT rule)."""
    s = planned.settings
    spec = s.read_model(planned.source_text, planned.key)
    return float(explain(spec).total_macs) * (s.train_images or 60_000) * s.training.epochs


def on_a_node(folder_path: str, sweep_id: str, index: int) -> dict[str, Any]:
    """What a Ray task runs: the trial, and which node ran it (the first 8 hex digits of
    its node id, as `ray status` and the dashboard show it)."""
    import ray

    return {**worker_trial(folder_path, sweep_id, index),
            "node": ray.get_runtime_context().get_node_id()[:8]}  # fmt: skip


def run_on_ray(
    folder: SweepDir,
    record: dict[str, Any],
    stop: StopFlag,
    *,
    address: str | None,
    cpus_per_trial: float | None,
    on_event: Callable[[str], None],
    after_each: Callable[[], None],
) -> Cluster:
    """Every unfinished trial as a task (with a GPU when the trials train on cuda); the
    table rewritten as each one ends. On `stop` the running tasks are cancelled: each
    keeps its last epoch's checkpoint."""
    ray = import_ray()
    plan = planned_trials(record, str(folder.plan_json))
    gpu = any(p.settings.device == "cuda" for p in plan)
    cluster = connect(ray, address)
    cpus = cpus_per_trial or cluster.cpus or 1
    task = ray.remote(on_a_node).options(num_cpus=cpus, num_gpus=1 if gpu else 0,
                                         max_retries=RETRIES)  # fmt: skip
    gpus = " and a GPU" if gpu else ""
    on_event(
        f"Ray: {cluster.address}, {cluster.nodes} node(s), {cpus:g} CPU(s){gpus} a trial, "
        f"connected in {cluster.started_seconds:.1f} s"
    )
    path = str(folder.path.resolve())  # the workers' working directory is not ours
    pending: dict[Any, PlannedTrial] = {}
    left = [p for p in plan if not folder.run(p.key).finished(p.settings.training.epochs)]
    for planned in sorted(left, key=cost, reverse=True):  # the longest first: less idle nodes
        pending[task.remote(path, record["id"], planned.trial.index)] = planned
    while pending:
        if stop.requested:
            for ref in pending:
                ray.cancel(ref, force=True)
            on_event(f"stopped: {len(pending)} trial(s) cancelled, each keeps its checkpoint")
            return cluster
        done, _ = ray.wait(list(pending), num_returns=1, timeout=0.5)
        for ref in done:
            planned = pending.pop(ref)
            try:
                found = ray.get(ref)
                on_event(f"finished: {planned.trial.title} on node {found['node']}")
            except ray.exceptions.RayError as error:
                why = failure(ray, error)
                folder.record_failure(planned.key, why)
                on_event(f"failed: {planned.trial.title}: {why}")
            after_each()
    return cluster
