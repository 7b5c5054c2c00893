"""`convscope.sweep`: many runs of one model, a grid or random draws of settings x seeds.

    cs.sweep("chollet", grid={"lr": [1e-4, 1e-3], "batch_size": [32, 128]}, seeds=3, epochs=5)
    cs.sweep("my_model.py", grid=["optimizer=adam,sgd"], random=["lr=loguniform(1e-4,1e-2)"],
             trials=12)
    cs.sweep(config="sweep.toml")            # the same in a file
    cs.sweep(resume="sweeps/<sweep>")        # finish an interrupted sweep
    cs.sweep(..., ray=True)                  # trials as Ray tasks (RAY_ADDRESS or a local one)

Every trial is an ordinary run directory in the sweep's folder; the folder also keeps the
plan (sweep.json), the table (results.json/.csv/.md) and sweep.png, rewritten after each
trial. Without Ray the trials run one at a time here; the first Ctrl-C stops after the
current batch, with its checkpoint, and `resume=` goes on from there.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, TextIO

from ..core.errors import ConvscopeError
from ..core.settings import Options
from ..core.sweep.asha import early_stop as early_stop_rule
from ..core.sweep.folder import SweepDir, new_sweep_dir
from ..core.sweep.plan import SweepRequest, planned_trials, read_config, request, sweep_record
from ..core.sweep.results import SweepResults, collect, findings
from ..present import html
from ..present import sweep as shown
from ..runtime.sweep.local import run_trials
from ..runtime.sweep.ray_tasks import check_ray
from ..runtime.sweep.tensorboard import write_sweep, writer_class
from ..runtime.train import StopFlag
from .shown import Shown
from .training import Stopped, default_stream, first_interrupt_stops, trial_lines

__all__ = ["Sweep", "sweep"]


class Sweep(Shown):
    """A sweep's results: one row per trial, and what they show."""

    def __init__(self, folder: SweepDir, results: SweepResults) -> None:
        self.folder = folder.path
        self.results = results
        self.files = (*folder.table_files, folder.png)

    @property
    def complete(self) -> bool:
        return self.results.complete

    @property
    def table(self) -> list[dict[str, Any]]:
        """One dict per trial: the swept settings, seed, test accuracy, seconds, run_dir."""
        return [
            {**t.settings, "seed": t.seed, "test_accuracy": t.test_accuracy,
             "seconds": t.seconds, "state": t.state, "run_dir": t.run_dir}
            for t in self.results.trials
        ]  # fmt: skip

    def dataframe(self) -> Any:
        """The table as a pandas DataFrame (pandas is not a dependency: install it)."""
        try:
            import pandas  # type: ignore[import-untyped]
        except ImportError:
            raise ConvscopeError("dataframe() needs pandas: pip install pandas") from None
        return pandas.DataFrame(self.table)

    def data(self) -> dict[str, Any]:
        return self.results.as_dict()

    def text(self) -> str:
        names = ", ".join(f.name for f in self.files if f.exists())
        return shown.sweep_text(self.results) + f"Saved in {self.folder}: {names}\n"

    def html(self) -> str:
        body = f"<p><b>{html.escape(shown.title(self.results))}</b></p>"
        body += html.table(shown.head(self.results), shown.rows(self.results))
        body += "".join(f"<p>{html.escape(line)}</p>" for line in findings(self.results))
        png = shown.sweep_png(self.results)
        return html.with_figure(body, "Sweep", png) if png else body

    def summary(self) -> str:
        done = len(self.results.done)
        return f"sweep in {self.folder}, {done} of {len(self.results.trials)} trials finished"


def sweep(
    model: str | os.PathLike[str] | None = None,
    *,
    grid: dict[str, Any] | list[str] | None = None,
    random: dict[str, str] | list[str] | None = None,
    trials: int | None = None,
    seeds: int | None = None,
    seed: int | None = None,
    sample_seed: int = 0,
    config: str | os.PathLike[str] | None = None,
    resume: str | os.PathLike[str] | None = None,
    output: str | os.PathLike[str] | None = None,
    ray: bool | str = False,
    cpus_per_trial: float | None = None,
    tensorboard: bool = False,
    early_stop: str | None = None,
    quiet: bool = False,
    stream: TextIO | None = None,
    **options: Any,
) -> Sweep:
    """Train the model once per trial: every combination of the `grid` values (with each
    `random` draw, `trials` of them) for seeds 1..`seeds` (or the one `seed`). Other
    keywords are train's (epochs=, dataset=, train_images=, ...), the same for every
    trial. `ray=True` runs the trials as Ray tasks (`ray="ray://host:10001"` to name the
    cluster); the nodes need not share a disk with this machine. `tensorboard`
    writes each finished trial's curves and settings for `tensorboard --logdir`;
    `early_stop="asha"` stops the trials behind the others at each rung (core/sweep/asha)."""
    err = stream or default_stream()
    check_ray(ray)  # a clear message before anything is planned or written
    asha = early_stop_rule(early_stop)
    if tensorboard:
        writer_class()  # the extra's one line, before any training
    if resume is not None:
        given = [k for k, v in {"model": model, "grid": grid, "random": random, "trials": trials,
                 "seeds": seeds, "seed": seed, "config": config, "output": output,
                 **options}.items() if v]  # fmt: skip
        if given:
            raise ConvscopeError(
                f"--resume finishes a sweep as it was planned; {given[0]} cannot be given with it",
                hint="to sweep other settings, start a new sweep",
            )
        folder = SweepDir(Path(resume))
        record = folder.plan()
    else:
        req, run = plan_request(model, grid, random, trials, seeds, seed, sample_seed, config,
                                options)  # fmt: skip
        output = output or run["output"]
        ray = ray or run["ray"] or False
        check_ray(ray)
        cpus_per_trial = cpus_per_trial or run["cpus_per_trial"]
        record = sweep_record(req)
        if asha is not None:
            record["early_stop"] = asha.as_dict()
        folder = SweepDir(Path(output)) if output else new_sweep_dir(str(record["model"]))
        if folder.plan_json.exists():
            raise ConvscopeError(
                f"{folder.path} already holds a sweep",
                hint=f"continue it: convscope sweep --resume {folder.path} (or choose another "
                "--output)",
            )
        for note in record["notes"]:
            err.write(f"convscope: {note}\n")
        folder.write_plan(record)
    engine = "ray" if ray else "local"
    plan = planned_trials(record, str(folder.plan_json))
    left = sum(
        not folder.run(p.key).finished(p.settings.training.epochs)
        and "pruned" not in folder.attempts(p.key)  # stopped early: final
        for p in plan
    )
    how = "as Ray tasks" if ray else "one at a time"
    err.write(f"Sweep in {folder.path}: {len(plan)} trials, {left} to train, {how}\n")

    def after_each() -> None:
        write_results(folder, collect(folder, record, engine), tensorboard)

    stop = StopFlag()
    with first_interrupt_stops(stop, err):
        run_trials(folder, record, stop, trial_lines(quiet, err), after_each, err, ray=ray,
                   cpus_per_trial=cpus_per_trial)  # fmt: skip
    results = collect(folder, record, engine)
    write_results(folder, results, tensorboard)
    outcome = Sweep(folder, results)
    if stop.requested and not results.complete:
        raise Stopped(
            folder.path,
            f"stopped with {len(results.done)} of {len(plan)} trials finished; the stopped "
            f"trial kept its checkpoint\n  continue: convscope sweep --resume {folder.path}",
            outcome,
        )
    failed = [t for t in results.trials if t.state == "failed"]
    if failed and not results.done:
        raise ConvscopeError(f"every trial failed; the first: {failed[0].error}",
                             hint=f"the table: {folder.table_files[2]}")  # fmt: skip
    return outcome


def plan_request(
    model: Any, grid: Any, random: Any, trials: Any, seeds: Any, seed: Any,
    sample_seed: int, config: Any, options: dict[str, Any],
) -> tuple[SweepRequest, dict[str, Any]]:  # fmt: skip
    """The request from keywords, or from a sweep.toml (keywords may not add to it)."""
    names = set(Options.__dataclass_fields__) - {"seed"}
    unknown = sorted(set(options) - names)
    if unknown:
        raise ConvscopeError(f"unknown training option {unknown[0]!r}",
                             hint=f"the options are: {', '.join(sorted(names))}")  # fmt: skip
    given = {k: v for k, v in options.items() if v is not None}
    if config is not None:
        if model is not None or grid or random or given:
            raise ConvscopeError("give the sweep in its config file or as options, not both")
        return read_config(Path(config), names)
    if model is None:
        raise ConvscopeError("sweep needs a model (a preset or a Keras .py file), --config or "
                             "--resume")  # fmt: skip
    req = request(os.fspath(model), grid=grid, random=random, trials=trials, seeds=seeds,
                  seed=seed, sample_seed=sample_seed, options=given)  # fmt: skip
    return req, {"output": None, "ray": None, "cpus_per_trial": None}


def write_results(folder: SweepDir, results: SweepResults, tensorboard: bool = False) -> None:
    folder.write_results(results.as_dict(), shown.sweep_csv(results), shown.sweep_markdown(results))
    if tensorboard:
        write_sweep(results)
    png = shown.sweep_png(results)
    if png is not None:
        folder.write_png(png)
