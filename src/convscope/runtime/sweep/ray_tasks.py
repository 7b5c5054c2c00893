"""A sweep's trials as Ray tasks, on the cluster `ray.init()` finds or one it starts here.

Each unfinished trial is one task (runtime/sweep/on_node.py), submitted costliest first
(multiply-adds x images x epochs: see `cost`), asking for `cpus_per_trial` CPUs (default:
as many as the smallest node has, so one trial fills a node) or a GPU. The nodes need not
share a disk with the driver: the plan, the data set (once per node, checked by
SHA-256) and the run folders travel through Ray's object store (runtime/sweep/shipping.py),
and a keeper actor on the head node (runtime/sweep/keeper.py) holds each trial's run
folder after every epoch. The driver writes those into the sweep folder as they come,
prints which node runs which trial, and gets each finished run folder back.

A worker that dies (killed, out of memory, a lost node) is a system failure, which Ray
retries (`max_retries`) on any node left; the retried task resumes from the keeper's last
copy. A killed driver loses nothing either: `--resume` sends the sweep folder's copies
back to a new keeper. Nothing finished is trained again.

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
from .keeper import Keeper
from .on_node import on_a_node
from .shipping import Shipment, data_shipment, pack, restore, unpack

RETRIES = 3  # Ray's default for tasks: a worker may die three times per trial
LOCAL_OBJECT_STORE = 512 << 20  # bytes: the data set (MNIST 55 MB, CIFAR-10 184 MB) and
# the run folders pass through it; past this Ray spills objects to disk


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
    keeps its last epoch's checkpoint in the sweep folder."""
    ray = import_ray()
    plan = planned_trials(record, str(folder.plan_json))
    for planned in plan:  # a driver killed while writing a run folder: its last copy back
        restore(folder.run(planned.key).path)
    left = [p for p in plan if not folder.run(p.key).finished(p.settings.training.epochs)
            and "pruned" not in folder.attempts(p.key)]  # fmt: skip
    gpu = any(p.settings.device == "cuda" for p in plan)
    cluster = connect(ray, address)
    cpus = cpus_per_trial or cluster.cpus or 1
    gpus = " and a GPU" if gpu else ""
    on_event(
        f"Ray: {cluster.address}, {cluster.nodes} node(s), {cpus:g} CPU(s){gpus} a trial, "
        f"connected in {cluster.started_seconds:.1f} s"
    )
    if not left:
        return cluster
    keeper = start_keeper(ray, folder, left)
    shipped = ship_data(ray, left, on_event)
    task = ray.remote(on_a_node).options(num_cpus=cpus, num_gpus=1 if gpu else 0,
                                         max_retries=RETRIES)  # fmt: skip
    plan_ref = ray.put(record)
    pending: dict[Any, PlannedTrial] = {}
    for planned in sorted(left, key=cost, reverse=True):  # the longest first: less idle nodes
        shipment, data = shipped[planned.settings.training.dataset]
        ref = task.remote(plan_ref, planned.trial.index, shipment, [data], keeper)
        pending[ref] = planned
    by_key = {p.key: p for p in left}
    try:
        while pending:
            if stop.requested:
                for ref in pending:
                    ray.cancel(ref, force=True)
                take_news(ray, keeper, folder, by_key, on_event)
                on_event(f"stopped: {len(pending)} trial(s) cancelled, each keeps its last "
                         "epoch's checkpoint")  # fmt: skip
                return cluster
            done, _ = ray.wait(list(pending), num_returns=1, timeout=0.5)
            take_news(ray, keeper, folder, by_key, on_event)  # before the ends: in order
            for ref in done:
                ended(ray, ref, pending.pop(ref), folder, keeper, on_event)
                after_each()
    finally:
        ray.kill(keeper)
    return cluster


def start_keeper(ray: Any, folder: SweepDir, left: list[PlannedTrial]) -> Any:
    """The keeper on the head node (which a cluster keeps while it lives), given the sweep
    folder's copies of trials stopped before, and the rungs so far."""
    actor = ray.remote(Keeper).options(num_cpus=0, resources={"node:__internal_head__": 0.001})
    keeper = actor.remote(folder.rungs())
    for planned in left:
        run = folder.run(planned.key)
        if run.checkpoint.exists():
            keeper.seed.remote(planned.key, run.trained_epochs(), pack(run.path))
    return keeper


def ship_data(
    ray: Any, left: list[PlannedTrial], on_event: Callable[[str], None]
) -> dict[str, tuple[Shipment, Any]]:
    """Each data set the trials read, put in the object store once: the nodes fetch it from
    there the first time a trial needs it."""
    shipped: dict[str, tuple[Shipment, Any]] = {}
    for planned in left:
        dataset = planned.settings.training.dataset
        if dataset not in shipped:
            shipment, raw = data_shipment(planned.settings)
            shipped[dataset] = (shipment, ray.put(raw))
            on_event(f"data: {shipment.name}, {shipment.size / 1e6:.1f} MB, "
                     f"SHA-256 {shipment.sha256[:12]}..., sent to each node once")  # fmt: skip
    return shipped


def take_news(ray: Any, keeper: Any, folder: SweepDir, trials: dict[str, PlannedTrial],
              on_event: Callable[[str], None]) -> None:  # fmt: skip
    """Write what the keeper heard into the sweep folder: attempts, run folders, rungs."""
    news, fresh, rungs = ray.get(keeper.take.remote())
    for key, tar in fresh.items():
        unpack(tar, folder.run(key).path)
    if rungs:
        folder.write_rungs(rungs)
    for item in news:
        node = item["node"]
        if item["event"] == "fetched":
            on_event(f"data: node {node} fetched {item['what']}, checked")
            continue
        planned = trials[item["key"]]
        if item["event"] == "started":
            attempt = folder.record_attempt(item["key"], item["pid"], item["host"], node)
            again = f", attempt {attempt}" if attempt > 1 else ""
            resumes = f", from epoch {item['from_epoch']}" if item["from_epoch"] else ""
            on_event(f"started: {planned.trial.title} on node {node}{resumes}{again}")
        else:
            last = folder.run(item["key"]).history()[-1]
            on_event(f"epoch {item['epochs']}/{planned.settings.training.epochs}: "
                     f"{planned.trial.title} on node {node}, "
                     f"val_accuracy {float(last['val_accuracy']):.4f}")  # fmt: skip


def ended(ray: Any, ref: Any, planned: PlannedTrial, folder: SweepDir, keeper: Any,
          on_event: Callable[[str], None]) -> None:  # fmt: skip
    """A task's end: its run folder written into the sweep folder, or its failure."""
    try:
        found = ray.get(ref)
    except ray.exceptions.RayError as error:
        why = failure(ray, error)
        folder.record_failure(planned.key, why)
        on_event(f"failed: {planned.trial.title}: {why}")
        return
    unpack(found["run"], folder.run(planned.key).path)
    keeper.forget.remote(planned.key)
    if found["pruned"] is not None:
        folder.record_pruned(planned.key, int(found["pruned"]))
        on_event(f"stopped early: {planned.trial.title} after epoch {found['pruned']} "
                 f"on node {found['node']}")  # fmt: skip
    else:
        on_event(f"finished: {planned.trial.title} on node {found['node']}")
