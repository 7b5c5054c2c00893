"""Training a sweep's trials: one at a time here, or (runtime/sweep/ray_tasks.py) as Ray tasks.

A trial is trained the same way wherever it runs (`train_trial`, in a sweep folder here
or in a Ray node's own copy of it): it records the attempt (host, process), then opens
its run directory by the experiments' rule (runtime/trials.py): a finished trial is
kept, a stopped or killed one resumes from its last checkpoint, a new one starts from
the settings and model source sweep.json gives it. So a retried Ray task, a resumed
sweep and a first run all end with the same run directory.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from ...core.errors import Diverged
from ...core.sweep.asha import Asha, from_record
from ...core.sweep.folder import SweepDir
from ...core.sweep.plan import PlannedTrial, planned_trials
from .. import runs
from ..train import Observer, StopFlag
from .trials import open_planned


def start_trial(folder: SweepDir, planned: PlannedTrial, stream: Any) -> runs.Run:
    return runs.start(
        planned.settings.read_model(planned.source_text, planned.key),
        planned.source_text,
        planned.settings,
        folder.runs_root,
        stream=stream,
        run_dir=folder.run(planned.key).path,
    )


Judge = Callable[[int, str, float], list[float]]  # (rung, trial, value) -> the rung's values


class Rungs(StopFlag):
    """A trial's stop flag under early stopping: the sweep's (Ctrl-C), or its own, set when
    it falls behind at a rung (core/sweep/asha.py); it passes each epoch on to `observer`.
    `judge` records the value where every trial's is kept: the sweep folder here, the
    driver's keeper on Ray (runtime/sweep/keeper.py)."""

    def __init__(self, sweep: StopFlag, judge: Judge, key: str, asha: Asha, epochs: int,
                 observer: Observer) -> None:  # fmt: skip
        self.sweep, self.judge, self.key, self.asha = sweep, judge, key, asha
        self.rungs, self.observer = asha.rungs(epochs), observer
        self.pruned: int | None = None  # the epoch it stopped after

    @property  # read-only here: the sweep's flag or a rung's verdict
    def requested(self) -> bool:  # type: ignore[override]
        return self.sweep.requested or self.pruned is not None

    def epoch_begin(self, epoch: int, epochs: int, steps: int) -> None:
        self.observer.epoch_begin(epoch, epochs, steps)

    def batch_end(self, step: int, logs: dict[str, float]) -> None:
        self.observer.batch_end(step, logs)

    def epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        self.observer.epoch_end(epoch, logs)
        done = epoch + 1
        if done in self.rungs:
            value = float(logs[self.asha.metric])
            recorded = self.judge(done, self.key, value)
            if not self.asha.keeps(recorded, value):
                self.pruned = done


def train_trial(
    folder: SweepDir,
    planned: PlannedTrial,
    stop: StopFlag,
    on_open: Callable[[runs.Run | None], Observer],
    stream: Any = None,
    *,
    after_epoch: Callable[[], None] | None = None,
    judge: Judge | None = None,
) -> bool:
    """Train (or resume, or skip) one trial; True when it has finished (or stopped early)
    and been scored. `on_open` hears of the run once it is open (None: already done) and
    gives its observer; `after_epoch` runs once each epoch's files are written; `judge`
    keeps the rungs (default: the sweep folder's rungs.json)."""
    run_dir = folder.run(planned.key)
    epochs = planned.settings.training.epochs
    if run_dir.finished(epochs) or "pruned" in folder.attempts(planned.key):
        on_open(None)
        return True
    folder.record_attempt(planned.key, os.getpid())
    run = open_planned(run_dir, epochs, lambda: start_trial(folder, planned, stream), stream)
    observer = on_open(run)
    if run is None:
        return True
    asha = from_record(folder.plan())
    if asha is not None:
        judged = judge or folder.record_rung
        stop = observer = Rungs(stop, judged, planned.key, asha, epochs, observer)
    if not run.fit(observer, stop, after_epoch):
        if not isinstance(stop, Rungs) or stop.pruned is None:
            return False
        folder.record_pruned(planned.key, stop.pruned)
    run.score()
    return True


TrialOpened = Callable[[int, int, PlannedTrial, "runs.Run | None"], Observer]


def run_here(
    folder: SweepDir,
    record: dict[str, Any],
    stop: StopFlag,
    on_trial: TrialOpened,
    after_each: Callable[[], None],
    stream: Any = None,
) -> None:
    """Every trial in turn in this process (2 cores: one training at a time is fastest);
    `stop` (Ctrl-C) ends the current one after its batch, checkpointed."""
    plan = planned_trials(record, str(folder.plan_json))
    for number, planned in enumerate(plan, 1):

        def opened(
            run: runs.Run | None, number: int = number, planned: PlannedTrial = planned
        ) -> Observer:
            return on_trial(number, len(plan), planned, run)

        already = folder.run(planned.key).finished(planned.settings.training.epochs)
        try:
            train_trial(folder, planned, stop, opened, stream)
        except Diverged as error:  # too high a rate, say: a result, and the sweep goes on
            folder.record_failure(planned.key, error.message)
            if stream is not None:
                stream.write(f"convscope: {planned.trial.title}: {error.message}\n")
        if not already:
            after_each()  # the table and figures, rewritten
        if stop.requested:
            return


def run_trials(
    folder: SweepDir,
    record: dict[str, Any],
    stop: StopFlag,
    on_trial: TrialOpened,
    after_each: Callable[[], None],
    stream: Any = None,
    *,
    ray: bool | str = False,
    cpus_per_trial: float | None = None,
) -> None:
    """Every unfinished trial: here one at a time, or with `ray` (True, or the cluster's
    address) as Ray tasks, whose progress lines go to `stream`."""
    if not ray:
        run_here(folder, record, stop, on_trial, after_each, stream)
        return
    from .ray_tasks import run_on_ray

    run_on_ray(folder, record, stop, address=ray if isinstance(ray, str) else None,
               cpus_per_trial=cpus_per_trial, on_event=lambda line: print(line, file=stream),
               after_each=after_each)  # fmt: skip
