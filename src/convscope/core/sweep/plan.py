"""A sweep's plan: which settings vary, over which values and seeds, trial by trial.

`SweepRequest` is what the user asked (flags, keywords or a sweep.toml), checked once;
`plan_sweep` turns it into `Trial`s, each an ordinary training run's `Plan` (settings,
model, source) as `convscope train` would make it with those options. The grid's points
are crossed, every random draw is combined with every grid point (Ray Tune's
num_samples), and the trials go seed by seed, so an interrupted sweep has every
configuration for its first seeds. Standard library only.
"""

from __future__ import annotations

import itertools
import json
import random
import tomllib
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..augment import parse_augment
from ..errors import ConvscopeError
from ..keras.write import to_source
from ..rundir import safe_stem
from ..settings import Options, Plan, Settings, plan_training
from ..variants import POOLING_VARIANTS, with_dropout, with_width
from .grammar import SETTINGS, Distribution, Value, distribution, grid_values, setting, shown

MOST_TRIALS = 10_000  # a plan beyond this is a typo (a grid of 10 settings x 10 values)


@dataclass(frozen=True)
class SweepRequest:
    target: str  # a preset or a Keras .py file
    grid: tuple[tuple[str, tuple[Value, ...]], ...] = ()
    random: tuple[Distribution, ...] = ()
    trials: int = 1  # random draws (each with every grid point)
    seeds: tuple[int, ...] = (1,)
    sample_seed: int = 0  # the random draws' own generator: the same command, same trials
    options: dict[str, Any] = field(default_factory=dict)  # train's, fixed for every trial

    def __post_init__(self) -> None:
        names = [n for n, _ in self.grid] + [d.setting for d in self.random]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ConvscopeError(f"{twice[0]} is swept twice (in --grid or --random)")
        fixed = sorted(set(names) & {k for k, v in self.options.items() if v is not None})
        if fixed:
            raise ConvscopeError(
                f"{fixed[0]} is both swept and given as an option ({self.options[fixed[0]]!r})",
                hint="drop one of them",
            )
        if not names and len(self.seeds) < 2:
            raise ConvscopeError(
                "nothing to sweep: give --grid SETTING=V1,V2,..., --random "
                "SETTING=DISTRIBUTION(...) or --seeds N (N >= 2)"
            )
        if self.random and self.trials < 1:
            raise ConvscopeError(f"--trials must be a positive integer, got {self.trials!r}")
        if len(set(self.seeds)) < len(self.seeds):
            raise ConvscopeError(f"the seeds repeat: {list(self.seeds)}")
        configs = (self.trials if self.random else 1) * len(list(self.grid_points()))
        if configs * len(self.seeds) > MOST_TRIALS:
            raise ConvscopeError(
                f"{configs * len(self.seeds):,} trials is more than {MOST_TRIALS:,}",
                hint="sweep fewer values, or fewer settings at once",
            )
        Options.given(**self.options)  # train's own checks, before anything trains

    @property
    def swept(self) -> tuple[str, ...]:
        return tuple(n for n, _ in self.grid) + tuple(d.setting for d in self.random)

    def grid_points(self) -> list[dict[str, Value]]:
        names = [n for n, _ in self.grid]
        return [
            dict(zip(names, p, strict=True)) for p in itertools.product(*(v for _, v in self.grid))
        ]

    def configurations(self) -> list[dict[str, Value]]:
        """Every combination of values the trials train, in the order they are numbered."""
        rng = random.Random(self.sample_seed)
        draws = [
            {d.setting: d.draw(rng) for d in self.random}
            for _ in range(self.trials if self.random else 1)
        ]
        return [{**point, **draw} for draw in draws for point in self.grid_points()]

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "grid": {n: list(v) for n, v in self.grid},
            "random": {d.setting: str(d) for d in self.random},
            "trials": self.trials,
            "seeds": list(self.seeds),
            "sample_seed": self.sample_seed,
            "options": {k: str(v) if k == "augment" else v for k, v in self.options.items()},
        }


def request(
    target: str,
    *,
    grid: dict[str, Any] | list[str] | None = None,
    random: dict[str, str] | list[str] | None = None,
    trials: int | None = None,
    seeds: int | None = None,
    seed: int | None = None,
    sample_seed: int = 0,
    options: dict[str, Any] | None = None,
    where: str = "",
) -> SweepRequest:
    """A checked request from flags (["lr=1e-4,1e-3"]) or mappings ({"lr": [1e-4, 1e-3]})."""
    from .grammar import parse_grid, parse_random

    grids: list[tuple[str, tuple[Value, ...]]] = []
    for item in grid.items() if isinstance(grid, dict) else grid or ():
        if isinstance(item, str):
            grids.append(parse_grid(item))
        else:
            name, values = item
            if not isinstance(values, list | tuple):
                raise ConvscopeError(
                    f"{where}grid: {name} must be a list of values, got {values!r}"
                )
            grids.append(grid_values(setting(name, f"{where}grid"), list(values), f"{where}grid"))
    draws: list[Distribution] = []
    for item in random.items() if isinstance(random, dict) else random or ():
        if isinstance(item, str):
            draws.append(parse_random(item))
        else:
            draws.append(distribution(item[0], str(item[1]), f"{where}random: {item[0]}"))
    if trials is not None and not draws:
        raise ConvscopeError("--trials counts random draws: give --random SETTING=DIST(...)")
    if draws and trials is None:
        raise ConvscopeError("--random needs --trials N: how many values to draw")
    if seeds is not None and seed is not None:
        raise ConvscopeError("give --seed S (one seed) or --seeds N (seeds 1..N), not both")
    for name, value in (("trials", trials), ("seeds", seeds)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1
        ):
            raise ConvscopeError(f"{where}{name} must be a positive integer, got {value!r}")
    chosen = (seed,) if seed is not None else tuple(range(1, (seeds or 1) + 1))
    return SweepRequest(
        target, tuple(grids), tuple(draws), trials or 1, chosen, sample_seed, dict(options or {})
    )


# ---- sweep.toml ----

TOML_KEYS = {"model", "grid", "random", "trials", "seeds", "seed", "sample_seed", "output", "ray"}
RAY_KEYS = {"address", "cpus_per_trial"}


def read_config(path: Path, option_names: set[str]) -> tuple[SweepRequest, dict[str, Any]]:
    """A sweep.toml -> its request, and {"output", "ray", "cpus_per_trial"} as given."""
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConvscopeError(f"{path}: no such file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConvscopeError(f"{path}: not valid TOML ({error})") from None
    where = f"{path}: "
    unknown = sorted(set(config) - TOML_KEYS - option_names)
    if unknown:
        raise ConvscopeError(
            f"{where}unknown key {unknown[0]!r}",
            hint=f"the keys: {', '.join(sorted(TOML_KEYS | option_names))}",
        )
    for table in ("grid", "random"):
        if not isinstance(config.get(table, {}), dict):
            raise ConvscopeError(f"{where}{table} must be a table ([{table}])")
    if not isinstance(config.get("model"), str):
        raise ConvscopeError(f'{where}model = "..." is missing (a preset or a Keras .py file)')
    ray = config.get("ray", False)
    run: dict[str, Any] = {"output": config.get("output"), "ray": None, "cpus_per_trial": None}
    if isinstance(ray, dict):
        extra = sorted(set(ray) - RAY_KEYS)
        if extra:
            raise ConvscopeError(f"{where}unknown key {extra[0]!r} in [ray]")
        run |= {"ray": ray.get("address", True), "cpus_per_trial": ray.get("cpus_per_trial")}
    elif ray is not False:
        run["ray"] = ray if isinstance(ray, str) else True
    target = config["model"]
    if not Path(target).is_absolute() and target.endswith(".py"):
        target = str(path.parent / target)  # relative to the config file, as a user expects
    found = request(
        target,
        grid=config.get("grid"),
        random=config.get("random"),
        trials=config.get("trials"),
        seeds=config.get("seeds"),
        seed=config.get("seed"),
        sample_seed=config.get("sample_seed", 0),
        options={k: v for k, v in config.items() if k in option_names},
        where=where,
    )
    return found, run


# ---- trials ----


@dataclass(frozen=True)
class Trial:
    index: int  # 1, 2, ...: the plan's order
    values: dict[str, Value]  # the swept settings' values
    seed: int
    name: str = ""  # its run directory's name, when not the sweep's own (an experiment's)
    label: str = ""  # its title, likewise

    @property
    def key(self) -> str:
        """Its run directory's name: 03-lr0.001-batch_size64-seed1."""
        parts = "-".join(f"{k}{shown(v)}" for k, v in self.values.items()) or "base"
        return self.name or safe_stem(f"{self.index:02d}-{parts}-seed{self.seed}")

    @property
    def title(self) -> str:
        values = ", ".join(f"{k}={shown(v)}" for k, v in self.values.items())
        return self.label or f"{values}, seed {self.seed}"


def plan_trials(req: SweepRequest) -> list[Trial]:
    """Seed by seed, every configuration."""
    configs = req.configurations()
    return [
        Trial(i * len(configs) + j + 1, values, seed)
        for i, seed in enumerate(req.seeds)
        for j, values in enumerate(configs)
    ]


def trial_plan(req: SweepRequest, trial: Trial) -> Plan:
    """The run a trial trains: train's plan with the trial's options, its model changed
    by the swept model settings (its model.py is then the changed model's Keras source)."""
    training_values: dict[str, Any] = {
        k: v for k, v in trial.values.items() if not SETTINGS[k].model
    }
    if "augment" in training_values:
        training_values["augment"] = parse_augment(str(training_values["augment"]), "augment")
    options = replace(Options.given(**req.options), **training_values, seed=trial.seed)
    plan = plan_training(req.target, options)
    changes = {k: v for k, v in trial.values.items() if SETTINGS[k].model}
    if not changes:
        return plan
    spec = plan.spec
    for name, value in changes.items():
        spec = model_change(spec, name, value)
    how = ", ".join(f"{k}={shown(v)}" for k, v in changes.items())
    source = to_source(
        spec,
        comment=f"{plan.settings.model} with {how}.\n"
        "Written by convscope sweep; training settings: settings.json.",
    )
    return replace(plan, spec=spec, source_text=source)


def model_change(spec: Any, name: str, value: Value) -> Any:
    if name == "pooling":
        variant = next(v for v in POOLING_VARIANTS if v.key == value)
        return replace(variant.build(spec), training=spec.training)
    if name == "width":
        return with_width(spec, float(value))
    return with_dropout(spec, float(value))


# ---- sweep.json: the plan as data, for a resume or a worker on another machine ----


@dataclass(frozen=True)
class PlannedTrial:
    """A trial as sweep.json keeps it: everything its run directory will start from."""

    trial: Trial
    settings: Settings
    source_text: str

    @property
    def key(self) -> str:
        return self.trial.key


def sweep_record(req: SweepRequest) -> dict[str, Any]:
    """The plan, every trial's settings and model source worked out now, so that a bad
    value (a dropout on a model with nowhere to put it) fails before anything trains."""
    trials = plan_trials(req)
    plans: dict[str, Plan] = {}
    stored = []
    for trial in trials:
        config = json.dumps(trial.values, sort_keys=True)
        if config not in plans:
            plans[config] = trial_plan(req, replace(trial, seed=req.seeds[0]))
        plan = plans[config]
        settings = replace(plan.settings, seed=trial.seed)
        stored.append(stored_trial(trial, settings, plan.source_text))
    first = next(iter(plans.values()))
    return {
        "id": uuid.uuid4().hex,
        "model": first.settings.model,
        "dataset": first.settings.training.dataset,
        "request": req.as_dict(),
        "notes": list(first.notes),
        "trials": stored,
    }


def stored_trial(trial: Trial, settings: Settings, source_text: str) -> dict[str, Any]:
    """One trial as sweep.json keeps it."""
    return {"index": trial.index, "values": trial.values, "seed": trial.seed,
            "key": trial.key, "title": trial.title, "settings": settings.as_dict(),
            "source": source_text}  # fmt: skip


def planned_trials(record: dict[str, Any], where: str) -> list[PlannedTrial]:
    try:
        return [
            PlannedTrial(
                Trial(
                    int(t["index"]),
                    dict(t["values"]),
                    int(t["seed"]),
                    str(t.get("key", "")),
                    str(t.get("title", "")),
                ),
                Settings.from_dict(t["settings"]),
                str(t["source"]),
            )
            for t in record["trials"]
        ]
    except (KeyError, TypeError, ValueError) as error:
        raise ConvscopeError(f"{where}: an unreadable trial in the plan ({error})") from None
