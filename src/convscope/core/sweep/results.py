"""A sweep's results as data, and what they show in sentences.

Each trial's row comes from its run directory (metrics.json, history.json), so the table
is the same however the trials ran (here, or as Ray tasks on other machines). Whether a
difference is real is judged against the seeds: two configurations whose seeds' ranges
do not overlap differ by more than chance of initialisation and batch order did.
Standard library only.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, replace
from typing import Any

from ..experiments import Spread, accuracy_text, plural, points
from .folder import SweepDir
from .grammar import Value, shown
from .plan import planned_trials


@dataclass(frozen=True)
class TrialResult:
    index: int
    key: str
    settings: dict[str, Value]  # the swept settings' values
    seed: int
    run_dir: str
    state: str  # "done", "stopped early (epoch k)", "stopped" (a checkpoint), "pending", "failed"
    test_accuracy: float | None = None
    test_loss: float | None = None
    seconds: float | None = None  # training: the sum of its epochs
    val_accuracy: tuple[float, ...] = ()  # per epoch, for the curves
    attempts: int = 0  # starts: more than one when a worker died and Ray retried it
    error: str = ""

    @property
    def config(self) -> str:
        return ", ".join(f"{k}={shown(v)}" for k, v in self.settings.items()) or "as given"


@dataclass(frozen=True)
class SweepResults:
    sweep_dir: str
    model: str
    dataset: str
    swept: tuple[str, ...]
    seeds: tuple[int, ...]
    trials: tuple[TrialResult, ...]
    engine: str = "local"  # "local" or "ray"

    @property
    def complete(self) -> bool:
        return all(t.state == "done" or t.state.startswith("stopped early") for t in self.trials)

    @property
    def done(self) -> tuple[TrialResult, ...]:
        return tuple(t for t in self.trials if t.state == "done")

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["complete"] = self.complete
        d["findings"] = findings(self)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SweepResults:
        trials = tuple(
            TrialResult(**{**t, "val_accuracy": tuple(t.get("val_accuracy", ()))})
            for t in d["trials"]
        )
        return cls(d["sweep_dir"], d["model"], d["dataset"], tuple(d["swept"]),
                   tuple(d["seeds"]), trials, d.get("engine", "local"))  # fmt: skip


@dataclass(frozen=True)
class Group:
    """The finished trials that share one value (or one configuration)."""

    label: str
    trials: tuple[TrialResult, ...]

    @property
    def accuracy(self) -> Spread:
        return Spread(tuple(t.test_accuracy or 0.0 for t in self.trials))

    @property
    def seconds(self) -> Spread:
        return Spread(tuple(t.seconds or 0.0 for t in self.trials))


def by_configuration(results: SweepResults) -> list[Group]:
    groups: dict[str, list[TrialResult]] = {}
    for t in results.done:
        groups.setdefault(t.config, []).append(t)
    return [Group(label, tuple(ts)) for label, ts in groups.items()]


def by_value(results: SweepResults, setting: str) -> list[Group]:
    """Every value the setting took, over all the other settings' values and the seeds."""
    groups: dict[Value, list[TrialResult]] = {}
    for t in results.done:
        groups.setdefault(t.settings[setting], []).append(t)
    ordered = sorted(groups.items(), key=lambda kv: (isinstance(kv[0], str), kv[0]))
    return [Group(f"{setting}={shown(value)}", tuple(ts)) for value, ts in ordered]


def seed_spread(results: SweepResults) -> float | None:
    """The seeds' spread: highest minus lowest seed, averaged over the configurations."""
    ranges = [g.accuracy.high - g.accuracy.low for g in by_configuration(results)
              if len(g.trials) > 1]  # fmt: skip
    return statistics.fmean(ranges) if ranges else None


def seeds_text(g: Group) -> str:
    return accuracy_text(g.accuracy) if len(g.trials) == 1 else (
        f"{accuracy_text(g.accuracy)} over {plural(len(g.trials), 'seed')}"
    )  # fmt: skip


def apart(a: Group, b: Group) -> str:
    """Whether the seeds tell a from b: do their ranges overlap?"""
    if len(a.trials) < 2 or len(b.trials) < 2:
        return "one seed each: not enough to tell them apart"
    if a.accuracy.low > b.accuracy.high:
        return (
            "larger than the seeds' spread: every seed of the first is above every seed of "
            "the second"
        )
    return "within the seeds' spread: their seeds' ranges overlap"


def findings(results: SweepResults) -> list[str]:
    configs = sorted(by_configuration(results), key=lambda g: -g.accuracy.mean)
    if not configs:
        return []
    found = []
    spread = seed_spread(results)
    if len(configs) > 1:
        best, second = configs[0], configs[1]
        gap = best.accuracy.mean - second.accuracy.mean
        found.append(
            f"Best: {best.label}, {seeds_text(best)}; next: {second.label}, "
            f"{seeds_text(second)}. The difference, {points(gap)}, is "
            f"{apart(best, second)}."
        )
        worst = configs[-1]
        if worst is not second:
            found.append(f"Worst: {worst.label}, {accuracy_text(worst.accuracy)}.")
    for setting in results.swept:
        groups = by_value(results, setting)
        if len(groups) < 2:
            continue
        ranked = sorted(groups, key=lambda g: -g.accuracy.mean)
        effect = ranked[0].accuracy.mean - ranked[-1].accuracy.mean
        scale = "" if spread is None else (
            f", {'larger' if effect > spread else 'no larger'} than the seeds' spread of "
            f"{points(spread)}"
        )  # fmt: skip
        found.append(
            f"{setting}: {ranked[0].label.split('=', 1)[1]} is best on average "
            f"({ranked[0].accuracy.mean:.2%} over {plural(len(ranked[0].trials), 'trial')}), "
            f"{ranked[-1].label.split('=', 1)[1]} worst ({ranked[-1].accuracy.mean:.2%}): "
            f"{points(effect)} apart{scale}."
        )
    fast = sorted(configs, key=lambda g: g.seconds.mean)
    if len(fast) > 1 and fast[0].seconds.mean > 0:
        found.append(
            f"Time: {fast[0].label} trained fastest ({fast[0].seconds.mean:.1f} s a trial), "
            f"{fast[-1].label} slowest ({fast[-1].seconds.mean:.1f} s, "
            f"{fast[-1].seconds.mean / fast[0].seconds.mean:.1f}x)."
        )
    if not results.complete:
        found.append(f"{len(results.done)} of {len(results.trials)} trials have finished so far.")
    return found


def collect(folder: SweepDir, record: dict[str, Any], engine: str = "local") -> SweepResults:
    """Every trial's row, read from its run directory as it is now."""
    rows = []
    for planned in planned_trials(record, str(folder.plan_json)):
        run, trial = folder.run(planned.key), planned.trial
        attempts = folder.attempts(planned.key)
        row = TrialResult(trial.index, planned.key, trial.values, trial.seed, str(run.path),
                          "pending", attempts=int(attempts["attempts"]),
                          error=str(attempts.get("error", "")))  # fmt: skip
        pruned = "pruned" in attempts and run.metrics() is not None
        if run.finished(planned.settings.training.epochs) or pruned:
            metrics = run.metrics() or {}
            history = run.history()
            row = replace(
                row,
                state=f"stopped early (epoch {attempts['pruned']})" if pruned else "done",
                test_accuracy=float(metrics["accuracy"]),
                test_loss=float(metrics["loss"]),
                seconds=run.seconds(),
                val_accuracy=tuple(float(h["val_accuracy"]) for h in history),
            )
        elif row.error:
            row = replace(row, state="failed")
        elif run.checkpoint.exists():
            row = replace(row, state="stopped")
        rows.append(row)
    return SweepResults(
        str(folder.path),
        str(record["model"]),
        str(record["dataset"]),
        tuple(record["request"]["grid"]) + tuple(record["request"]["random"]),
        tuple(record["request"]["seeds"]),
        tuple(rows),
        engine,
    )
