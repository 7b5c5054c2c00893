"""`convscope compare`: several runs side by side, read from their directories alone.

No torch: the settings, history and test results are JSON, and the parameter count comes
from the run's model.py through the same arithmetic as `explain`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..core.augment import Augment
from ..core.errors import ConvscopeError
from ..core.explain.rules import explain
from ..core.rundir import RunDir, is_run_dir, training_seconds
from ..core.source.read import read_model
from .plots.model import WIDTH, png
from .progress import duration
from .tables import COLOURS, table_markdown, table_text


@dataclass(frozen=True)
class RunSummary:
    dir: Path
    settings: dict[str, Any]
    history: list[dict[str, float]]
    metrics: dict[str, Any] | None  # None until the run is evaluated
    params: int

    @property
    def label(self) -> str:
        return self.dir.name

    @property
    def seconds(self) -> float:
        return training_seconds(self.history)

    def setting(self, key: str) -> str:
        """One setting as the table shows it; learning rates with Keras's default filled in."""
        s, t = self.settings, self.settings["training"]
        values = {
            "model": s["model"],
            "dataset": t["dataset"],
            "optimizer": t["optimizer"],
            "learning rate": f"{s.get('hyperparameters', {}).get('learning_rate', '?'):g}",
            "batch": str(t["batch_size"]),
            "epochs": f"{len(self.history)}/{t['epochs']}",
            "augment": str(Augment(**s.get("augment", {}))),
            "images": f"{s['train_images']:,}" if s.get("train_images") else "all",
            "seed": str(s["seed"]),
            "precision": s["precision"],
            "device": s["device"],
        }
        return str(values[key])


SETTINGS = (
    "model",
    "dataset",
    "optimizer",
    "learning rate",
    "batch",
    "epochs",
    "augment",
    "images",
    "seed",
    "precision",
    "device",
)


def read_run(run_dir: Path) -> RunSummary:
    """A run's settings, history and test results as saved; its parameters from model.py."""
    run = RunDir(run_dir)
    if not is_run_dir(run_dir):
        raise ConvscopeError(
            f"{run_dir} is not a run directory (no {run.settings_json.name})",
            hint="give folders that `convscope train` made, e.g. runs/<time>-<model>",
        )
    settings = run.raw_settings()
    shape = tuple(settings["input_shape"])
    spec = read_model(
        run.source(),
        str(run.model_py),
        input_shape=shape,
        classes=settings.get("classes"),
        pick=settings.get("pick"),
    ).spec
    return RunSummary(
        dir=run_dir,
        settings=settings,
        history=run.history(),
        metrics=run.metrics(),
        params=explain(spec).total_params,
    )


def differing(runs: list[RunSummary]) -> list[str]:
    return [k for k in SETTINGS if len({r.setting(k) for r in runs}) > 1]


def table(runs: list[RunSummary]) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """Run, the settings that differ, then parameters, time and test results."""
    keys = differing(runs)
    head = ("run", *keys, "parameters", "training time", "test loss", "test accuracy")
    rows = []
    for r in runs:
        m = r.metrics
        rows.append(
            (
                r.label,
                *(r.setting(k) for k in keys),
                f"{r.params:,}",
                duration(r.seconds),
                "-" if m is None else f"{m['loss']:.4f}",
                "not evaluated" if m is None else f"{m['accuracy']:.2%}",
            )
        )
    return head, rows


def shared_line(runs: list[RunSummary]) -> str:
    same = [k for k in SETTINGS if k not in differing(runs)]
    return "Shared: " + ", ".join(f"{k} {runs[0].setting(k)}" for k in same)


def compare_text(runs: list[RunSummary]) -> str:
    head, rows = table(runs)
    return table_text(head, rows) + shared_line(runs) + "\n"


def compare_markdown(runs: list[RunSummary]) -> str:
    head, rows = table(runs)
    return table_markdown(head, rows) + "\n" + shared_line(runs) + "\n"


def compare_json(runs: list[RunSummary]) -> dict[str, Any]:
    return {
        "runs": [
            {
                "run": str(r.dir),
                "settings": {k: r.setting(k) for k in SETTINGS},
                "parameters": r.params,
                "seconds": r.seconds,
                "test_accuracy": None if r.metrics is None else r.metrics["accuracy"],
                "test_loss": None if r.metrics is None else r.metrics["loss"],
                "history": r.history,
            }
            for r in runs
        ],
        "differing": differing(runs),
    }


def compare_png(runs: list[RunSummary]) -> bytes:
    """Loss and accuracy per epoch, every run overlaid: solid training, dashed validation."""
    fig = Figure(figsize=(WIDTH, 4.2), layout="constrained")
    fig.suptitle(f"{len(runs)} runs compared", fontsize=11, fontweight="bold")
    loss_ax, acc_ax = fig.subplots(1, 2)
    keys = differing(runs)
    for i, r in enumerate(runs):
        colour = COLOURS[i % len(COLOURS)]
        epochs = [int(h["epoch"]) for h in r.history]
        label = r.label + "".join(f", {k} {r.setting(k)}" for k in keys)
        for ax, key in ((loss_ax, "loss"), (acc_ax, "accuracy")):
            ax.plot(epochs, [h[key] for h in r.history], "-", color=colour, label=label)
            val = [h.get(f"val_{key}") for h in r.history]
            if val and all(v is not None for v in val):
                ax.plot(epochs, val, "--", color=colour, marker="o", markersize=3)
    for ax, name in ((loss_ax, "loss"), (acc_ax, "accuracy")):
        ax.set_title(f"{name} per epoch (solid: training, dashed: validation)", fontsize=9)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    acc_ax.legend(fontsize=7)
    return png(fig)
