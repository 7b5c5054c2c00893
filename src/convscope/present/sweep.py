"""A sweep's results as a table (text, Markdown, CSV) and one figure.

The figure: test accuracy per value of each swept setting (every trial a dot, the mean
with its seeds' spread), the validation curves overlaid (mean over seeds per
configuration), and the training time of each configuration.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from ..core.experiments import plural
from ..core.sweep_grammar import SETTINGS, shown
from ..core.sweep_results import SweepResults, TrialResult, by_configuration, by_value, findings
from .plots import WIDTH, png
from .tables import COLOURS, table_markdown, table_text


def title(results: SweepResults) -> str:
    swept = " x ".join(results.swept) or "seeds"
    return (
        f"Sweep of {results.model} on {results.dataset}: {swept}, "
        f"{plural(len(results.seeds), 'seed')}, {plural(len(results.trials), 'trial')}"
    )


def head(results: SweepResults) -> tuple[str, ...]:
    return ("#", *results.swept, "seed", "test accuracy", "seconds", "state", "run")


def cells(results: SweepResults, t: TrialResult) -> tuple[str, ...]:
    accuracy = "" if t.test_accuracy is None else f"{t.test_accuracy:.2%}"
    seconds = "" if t.seconds is None else f"{t.seconds:.1f}"
    state = t.state if t.attempts <= 1 else f"{t.state} ({t.attempts} attempts)"
    values = (shown(t.settings[k]) for k in results.swept)
    return (str(t.index), *values, str(t.seed), accuracy, seconds, state, t.key)


def rows(results: SweepResults) -> list[tuple[str, ...]]:
    return [cells(results, t) for t in results.trials]


def summary_rows(results: SweepResults) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """One row per configuration: the mean over its seeds, lowest..highest."""
    groups = sorted(by_configuration(results), key=lambda g: -g.accuracy.mean)
    table: list[tuple[str, ...]] = [
        (g.label, str(len(g.trials)), f"{g.accuracy.mean:.2%}",
         f"{g.accuracy.low:.2%}..{g.accuracy.high:.2%}", f"{g.seconds.mean:.1f}")
        for g in groups
    ]  # fmt: skip
    columns = ("configuration", "seeds", "mean accuracy", "seeds' range", "seconds")
    return columns, table


def sweep_text(results: SweepResults) -> str:
    out = [title(results), "", table_text(head(results), rows(results)).rstrip("\n")]
    if by_configuration(results):
        out += ["", table_text(*summary_rows(results)).rstrip("\n")]
    out += ["", *findings(results)]
    return "\n".join(out) + "\n"


def sweep_markdown(results: SweepResults) -> str:
    out = [f"## {title(results)}", "", table_markdown(head(results), rows(results))]
    if by_configuration(results):
        out += ["", table_markdown(*summary_rows(results))]
    out += ["", *findings(results)]
    return "\n".join(out) + "\n"


def sweep_csv(results: SweepResults) -> str:
    """One line per trial, machine-readable: full-precision numbers, no formatting."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["index", *results.swept, "seed", "test_accuracy", "test_loss", "seconds",
                     "state", "attempts", "run_dir"])  # fmt: skip
    for t in results.trials:
        writer.writerow([t.index, *(t.settings[k] for k in results.swept), t.seed,
                         t.test_accuracy, t.test_loss, t.seconds, t.state, t.attempts,
                         t.run_dir])  # fmt: skip
    return out.getvalue()


def sweep_png(results: SweepResults) -> bytes | None:
    """None until a trial has finished."""
    if not results.done:
        return None
    settings = results.swept or ("seed",)
    fig = Figure(figsize=(WIDTH, 3.4 * (1 + (len(settings) + 1) // 2)), layout="constrained")
    fig.suptitle(title(results), fontsize=11, fontweight="bold")
    columns = 2
    grid = fig.subplots(1 + (len(settings) + 1) // 2, columns, squeeze=False)
    axes = [ax for row in grid for ax in row]
    for ax, setting in zip(axes, results.swept, strict=False):
        accuracy_per_value(ax, results, setting)
    curves_ax, time_ax = axes[-2], axes[-1]
    if not results.swept:
        accuracy_per_value(axes[0], results, "")
    for ax in axes[len(settings) : -2]:
        ax.set_visible(False)
    curves(curves_ax, results)
    times(time_ax, results)
    return png(fig)


def accuracy_per_value(ax: Axes, results: SweepResults, setting: str) -> None:
    """Each trial a dot at its value; the mean and the seeds' spread beside it."""
    groups = by_value(results, setting) if setting else by_configuration(results)
    numeric = bool(setting) and SETTINGS[setting].numeric == "float"  # else one tick a value
    for i, g in enumerate(groups):
        value = g.trials[0].settings[setting] if setting else i
        x = float(value) if numeric else float(i)
        acc = np.array(g.accuracy.values) * 100
        ax.scatter(np.full(len(acc), x), acc, color=COLOURS[0], alpha=0.5, s=20)
        ax.errorbar(x, acc.mean(), yerr=[[acc.mean() - acc.min()], [acc.max() - acc.mean()]],
                    fmt="_", color="black", markersize=12, capsize=4)  # fmt: skip
    if setting == "lr":  # rates are tried on a log scale: 1e-4, 3e-4, 1e-3
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    if not numeric:
        ax.set_xticks(range(len(groups)), [g.label.split("=", 1)[-1] for g in groups],
                      fontsize=8)  # fmt: skip
    ax.set_title(f"test accuracy by {setting or 'configuration'}: trials, mean, range",
                 fontsize=10)  # fmt: skip
    ax.set_xlabel(setting)
    ax.set_ylabel("%")
    ax.grid(alpha=0.3)


def curves(ax: Axes, results: SweepResults) -> None:
    groups = by_configuration(results)
    for i, g in enumerate(groups):
        lengths = {len(t.val_accuracy) for t in g.trials}
        if len(lengths) != 1 or not next(iter(lengths)):
            continue
        mean = np.array([t.val_accuracy for t in g.trials]).mean(0) * 100  # (epochs,)
        ax.plot(np.arange(1, len(mean) + 1), mean, "o-", color=COLOURS[i % len(COLOURS)],
                label=g.label, markersize=3)  # fmt: skip
    ax.set_title("validation accuracy per epoch (mean over seeds)", fontsize=10)
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("%")
    ax.grid(alpha=0.3)
    if len(groups) <= 12:
        ax.legend(fontsize=7)


def times(ax: Axes, results: SweepResults) -> None:
    groups = by_configuration(results)
    labels: Sequence[str] = [g.label for g in groups]
    for i, g in enumerate(groups):
        ax.bar(i, g.seconds.mean, color=COLOURS[i % len(COLOURS)])
    ax.set_xticks(range(len(labels)), [label.replace(", ", "\n") for label in labels],
                  fontsize=7)  # fmt: skip
    ax.set_title("training time per trial (seconds, mean over seeds)", fontsize=10)
    ax.grid(alpha=0.3, axis="y")
