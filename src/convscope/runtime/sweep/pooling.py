"""The pooling experiment: the same network with max, average, stride-2 conv or no pooling.

The experiment's folder (core.rundir.PoolingDir) holds what is compared, one ordinary run
directory per variant and seed, and the results, rewritten after each run. Every variant
trains with the same data, settings and seeds; only the pooling layers differ
(core.variants). The experiment is a sweep over the variants: its plan is a sweep's
(sweep.json, under the experiment's run names) and the sweep's runners train it, one run
at a time here or as Ray tasks; a rerun of the same command skips finished runs and
resumes a stopped one.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, replace
from typing import Any

from ...core import spec as s
from ...core.errors import ConvscopeError
from ...core.experiments import PoolingResults, SeedResult, describe_variant
from ...core.keras.write import to_source
from ...core.rundir import PoolingDir, RunDir
from ...core.settings import Settings
from ...core.sweep.folder import SweepDir
from ...core.sweep.plan import Trial, stored_trial
from ...core.variants import POOLING_VARIANTS, Variant, pooling_layers
from ..train import StopFlag
from .local import TrialOpened, run_trials

# what makes two experiments the same one; seeds may grow, the device may change
IDENTITY = ("input_shape", "training", "validation_split", "precision", "train_images", "augment")


@dataclass(frozen=True)
class PlannedRun:
    variant: Variant
    seed: int
    run: RunDir

    @property
    def title(self) -> str:
        return f"{self.variant.title}, seed {self.seed}"


@dataclass
class PoolingExperiment:
    folder: PoolingDir
    base: Settings  # the settings every run shares; each run sets its own seed
    model: s.ModelSpec
    seeds: tuple[int, ...]

    def plan(self) -> list[PlannedRun]:
        """Seed by seed, every variant: an interrupted experiment has comparable parts."""
        return [
            PlannedRun(v, seed, self.folder.run(v.key, seed))
            for seed in self.seeds
            for v in POOLING_VARIANTS
        ]

    def results(self) -> PoolingResults:
        """Arithmetic for every variant, measurements for the runs that finished."""
        done: dict[str, list[SeedResult]] = {}
        for planned in self.plan():
            if planned.run.finished(self.base.training.epochs):
                done.setdefault(planned.variant.key, []).append(seed_result(planned))
        variants = tuple(
            replace(describe_variant(v, self.model), runs=tuple(done.get(v.key, ())))
            for v in POOLING_VARIANTS
        )
        return PoolingResults(
            model=self.base.model,
            dataset=self.base.training.dataset,
            epochs=self.base.training.epochs,
            seeds=self.seeds,
            augment=str(self.base.augment),
            train_images=self.base.train_images or 0,
            variants=variants,
        )


def open_experiment(
    folder: PoolingDir, base: Settings, model: s.ModelSpec, source_text: str, seeds: int
) -> PoolingExperiment:
    """A new experiment folder, or the same experiment's folder to continue."""
    if not pooling_layers(model):
        raise ConvscopeError(
            f"{base.source} has no MaxPooling2D or AveragePooling2D layer: there is no "
            "pooling to compare",
            hint="try a preset with pooling, e.g. chollet",
        )
    identity = {"kind": "pooling", "model": base.model, "source": source_text}
    identity |= {k: v for k, v in base.as_dict().items() if k in IDENTITY}
    identity = json.loads(json.dumps(identity))  # tuples -> lists, as read back
    saved = folder.identity()
    if saved is not None:
        changed = [k for k in identity if saved.get(k) != identity[k]]
        if changed:
            raise ConvscopeError(
                f"{folder.path} holds a pooling experiment with other settings "
                f"({', '.join(changed)} differ)",
                hint="repeat its command to continue it, or pass --output for a new folder",
            )
    else:
        folder.write_identity(identity)
    return PoolingExperiment(folder, base, model, tuple(range(1, seeds + 1)))


def seed_result(planned: PlannedRun) -> SeedResult:
    metrics = planned.run.metrics()
    assert metrics is not None  # only finished runs are read
    history = planned.run.history()
    return SeedResult(
        seed=planned.seed,
        accuracy=float(metrics["accuracy"]),
        loss=float(metrics["loss"]),
        seconds=planned.run.seconds(),
        val_accuracy=tuple(float(h["val_accuracy"]) for h in history),
    )


def record(experiment: PoolingExperiment) -> dict[str, Any]:
    """The experiment as a sweep over the variants (core.sweep's plan, sweep.json): each
    run's settings and its variant's Keras source, under the experiment's run names."""
    stored = []
    for index, planned in enumerate(experiment.plan(), 1):
        variant = planned.variant.build(experiment.model)
        source = to_source(
            variant,
            comment=f"{experiment.base.model}, {planned.variant.title}: {planned.variant.how}.\n"
            "Written by convscope's pooling experiment; training settings: settings.json.",
        )
        settings = replace(experiment.base, seed=planned.seed, model=planned.variant.key)
        trial = Trial(index, {"pooling": planned.variant.key}, planned.seed,
                      planned.run.path.name, planned.title)  # fmt: skip
        stored.append(stored_trial(trial, settings, source))
    return {
        "id": uuid.uuid4().hex,
        "model": experiment.base.model,
        "dataset": experiment.base.training.dataset,
        "request": {
            "grid": {"pooling": [v.key for v in POOLING_VARIANTS]},
            "random": {},
            "seeds": list(experiment.seeds),
        },
        "notes": [],
        "trials": stored,
    }


def run_all(
    experiment: PoolingExperiment,
    stop: StopFlag,
    on_trial: TrialOpened,
    stream: Any = None,
    *,
    ray: bool | str = False,
    cpus_per_trial: float | None = None,
) -> PoolingResults:
    """Train what is left: a sweep over the variants (runtime/sweep.py), one run at a time
    here or as Ray tasks, saving the results after each.

    When `stop` is requested the current run keeps its checkpoint and the results so far
    come back (`complete` is False); the same call later goes on from there.
    """
    sweep = SweepDir(experiment.folder.path)
    found = record(experiment)
    sweep.write_plan(found)

    def after_each() -> None:
        experiment.folder.write_results(experiment.results())

    run_trials(sweep, found, stop, on_trial, after_each, stream, ray=ray,
               cpus_per_trial=cpus_per_trial)  # fmt: skip
    experiment.folder.write_results(experiment.results())
    return experiment.results()
