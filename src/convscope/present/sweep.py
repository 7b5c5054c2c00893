"""A sweep's results as a table (text, Markdown, CSV) and one figure.

The figure: test accuracy per value of each swept setting (every trial a dot, the mean
with its seeds' spread), the validation curves overlaid (mean over seeds per
configuration), and the training time of each configuration.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, NullFormatter

from ..core.experiments import plural
from ..core.sweep.grammar import SETTINGS, shown
from ..core.sweep.results import SweepResults, TrialResult, by_configuration, by_value, findings
from .plots.model import WIDTH, png
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
    """None until a trial has finished. Panels: accuracy by each swept setting, a heat
    map of the mean for two settings, the curves (more than one epoch), the time."""
    if not results.done:
        return None
    panels: list[Callable[[Axes], None]] = [
        partial(accuracy_per_value, results=results, setting=s) for s in results.swept or ("",)
    ]
    if len(results.swept) == 2:
        panels.append(partial(heat_map, results=results))
    if max(len(t.val_accuracy) for t in results.done) > 1:
        panels.append(partial(curves, results=results))
    panels.append(partial(times, results=results))
    rows = (len(panels) + 1) // 2
    fig = Figure(figsize=(WIDTH, 3.4 * rows + 0.4), layout="constrained")
    fig.suptitle(title(results), fontsize=11, fontweight="bold")
    axes = [ax for row in fig.subplots(rows, 2, squeeze=False) for ax in row]
    for ax, draw in zip(axes, panels, strict=False):
        draw(ax)
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    return png(fig)


def heat_map(ax: Axes, results: SweepResults) -> None:
    """The mean test accuracy of every combination of the two swept settings."""
    first, second = results.swept
    rows = [g.label.split("=", 1)[1] for g in by_value(results, first)]
    cols = [g.label.split("=", 1)[1] for g in by_value(results, second)]
    means = np.full((len(rows), len(cols)), np.nan)
    for g in by_configuration(results):
        t = g.trials[0]
        means[rows.index(shown(t.settings[first])), cols.index(shown(t.settings[second]))] = (
            g.accuracy.mean * 100
        )
    image = ax.imshow(means, cmap="viridis", aspect="auto")
    for (i, j), value in np.ndenumerate(means):
        if not np.isnan(value):
            bright = value > np.nanmean(means)
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=8,
                    color="black" if bright else "white")  # fmt: skip
    ax.set_xticks(range(len(cols)), cols, fontsize=8)
    ax.set_yticks(range(len(rows)), rows, fontsize=8)
    ax.set_xlabel(second)
    ax.set_ylabel(first)
    ax.set_title("mean test accuracy (%) of each combination", fontsize=10)
    ax.figure.colorbar(image, ax=ax, shrink=0.8)


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
    if numeric and len(groups) <= 8:  # a tick at each value tried, written as typed
        values = [float(g.trials[0].settings[setting]) for g in groups]
        ax.set_xticks(values, [shown(v) for v in values], fontsize=8)
        ax.xaxis.set_minor_formatter(NullFormatter())
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
    palette = colours(len(groups))
    for i, g in enumerate(groups):
        lengths = {len(t.val_accuracy) for t in g.trials}
        if len(lengths) != 1 or not next(iter(lengths)):
            continue
        mean = np.array([t.val_accuracy for t in g.trials]).mean(0) * 100  # (epochs,)
        ax.plot(np.arange(1, len(mean) + 1), mean, "o-", color=palette[i],
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
    palette = colours(len(groups))
    for i, g in enumerate(groups):
        ax.bar(i, g.seconds.mean, color=palette[i])
    labels: Sequence[str] = [", ".join(shown(t) for t in g.trials[0].settings.values())
                             for g in groups]  # fmt: skip
    ax.set_xticks(range(len(labels)), labels, fontsize=7, rotation=40, ha="right")
    ax.set_xlabel(", ".join(results.swept), fontsize=8)
    ax.set_title("training time per trial (seconds, mean over seeds)", fontsize=10)
    ax.grid(alpha=0.3, axis="y")


def colours(n: int) -> list[Any]:
    """The report's colours for a few lines; a colour map's for many (tab20: 20)."""
    if n <= len(COLOURS):
        return list(COLOURS[:n])
    cmap = matplotlib.colormaps["tab20"]
    return [cmap(i % 20) for i in range(n)]
