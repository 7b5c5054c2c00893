"""What a Ray task runs on its node: one trial, in the node's own working folder.

The node shares no disk with the driver (core.sweep.folder.NodeDir): the task gets the
sweep's plan and the data set through Ray (runtime/sweep/shipping.py), trains in a sweep
folder of its own for this attempt, sends the run folder to the keeper after every epoch
(runtime/sweep/keeper.py) and back to the driver at the end, then removes its folder. A
task Ray runs again after its node died starts from the keeper's last copy of the run
folder, so it resumes from that epoch's checkpoint. Attempts never share a folder: a
task of a killed driver that Ray has not stopped yet cannot touch a new attempt's files.
"""

from __future__ import annotations

import os
import shutil
import socket
from typing import Any

from ...core.sweep.folder import NodeDir, SweepDir
from ...core.sweep.plan import planned_trials
from .. import sources
from ..train import Silent, StopFlag
from .local import train_trial
from .shipping import Shipment, pack, place_data, unpack


def on_a_node(record: dict[str, Any], index: int, shipment: Shipment, data: list[Any],
              keeper: Any) -> dict[str, Any]:  # fmt: skip
    """Train trial `index` of the sweep `record` here; `data` holds the data set's object
    reference (in a list, so that Ray passes the reference, fetched only if needed)."""
    import ray

    node = NodeDir.here()
    where = {"node": ray.get_runtime_context().get_node_id()[:8], "host": socket.gethostname(),
             "pid": os.getpid()}  # fmt: skip
    placed, fetched = place_data(node, shipment, lambda: ray.get(data[0]))
    sources.place(shipment.dataset, placed)
    if fetched:
        ray.get(keeper.fetched.remote(f"{shipment.name} ({shipment.size / 1e6:.1f} MB)", where))
    folder = node.attempt(str(record["id"]))
    try:
        return attempt(record, index, folder, keeper, where)
    finally:
        shutil.rmtree(folder.path, ignore_errors=True)


def attempt(record: dict[str, Any], index: int, folder: SweepDir, keeper: Any,
            where: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    """Trial `index` in this attempt's own folder, from the keeper's copy if it has one."""
    import ray

    folder.write_plan(record)
    planned = next(p for p in planned_trials(record, str(folder.plan_json))
                   if p.trial.index == index)  # fmt: skip
    key, run_dir = planned.key, folder.run(planned.key).path
    saved = ray.get(keeper.latest.remote(key))
    if saved is not None:
        unpack(saved[1], run_dir)  # the epochs trained before, wherever that was
    ray.get(keeper.started.remote(key, {**where, "from_epoch": saved[0] if saved else 0}))

    def after_epoch() -> None:
        trained = folder.run(key).trained_epochs()
        ray.get(keeper.epoch.remote(key, trained, pack(run_dir), where))

    def judge(epoch: int, trial: str, value: float) -> list[float]:
        return list(ray.get(keeper.rung.remote(epoch, trial, value)))

    finished = train_trial(folder, planned, StopFlag(), lambda run: Silent(),
                           after_epoch=after_epoch, judge=judge)  # fmt: skip
    pruned = folder.attempts(key).get("pruned")
    return {"key": key, "finished": finished, "pruned": pruned, "run": pack(run_dir), **where}
