"""Experiment results as tables (text, Markdown) and figures: one set of cells, many renderings."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from ..core.experiments import PoolingResults, VariantResult, accuracy_text, finding, plural
from .plots import WIDTH, png
from .progress import duration

POOLING_HEAD = (
    "variant",
    "parameters",
    "multiply-adds",
    "activations",
    "last map",
    "its window",
    "training time",
    "test accuracy",
)
COLOURS = ("#1f77b4", "#2ca02c", "#9467bd", "#d62728", "#ff7f0e", "#8c564b")


def pooling_cells(v: VariantResult) -> tuple[str, ...]:
    seconds = v.seconds
    return (
        v.title,
        f"{v.params:,}",
        f"{v.macs:,}",
        f"{v.activations:,}",
        v.last_map,
        v.receptive_field,
        "-" if seconds is None else duration(seconds.mean),
        accuracy_text(v.accuracy),
    )


def title(results: PoolingResults) -> str:
    extra = f", augmented ({results.augment})" if results.augment != "none" else ""
    images = "the full training set"
    if results.train_images:
        images = f"the first {results.train_images:,} training images"
    return (
        f"Pooling experiment: {results.model} on {results.dataset}, "
        f"{plural(results.epochs, 'epoch')}, "
        f"seeds {', '.join(map(str, results.seeds))}, {images}{extra}"
    )


def table_text(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(r[i]) for r in (head, *rows)) for i in range(len(head))]
    right = [i > 0 and i < len(head) - 1 for i in range(len(head))]  # numbers align right

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True)
        ).rstrip()

    return "\n".join([line(head), line(["-" * w for w in widths]), *map(line, rows)]) + "\n"


def table_markdown(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    align = ["---" if i in (0, len(head) - 1) else "---:" for i in range(len(head))]
    lines = [head, align, *rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines) + "\n"


def shapes_lines(results: PoolingResults) -> list[str]:
    width = max(len(v.title) for v in results.variants)
    return [f"  {v.title:<{width}}  {' > '.join(v.shapes)}" for v in results.variants]


def pooling_text(results: PoolingResults) -> str:
    rows = [pooling_cells(v) for v in results.variants]
    parts = [
        title(results),
        "",
        table_text(POOLING_HEAD, rows),
        "Each layer's output, per variant (activations: their sum per image):",
        *shapes_lines(results),
        "",
        *finding(results),
    ]
    if not results.complete:
        parts.append("Not complete: repeat the command to train the remaining runs.")
    return "\n".join(parts).rstrip() + "\n"


def pooling_markdown(results: PoolingResults) -> str:
    rows = [pooling_cells(v) for v in results.variants]
    parts = [
        f"**{title(results)}**",
        "",
        table_markdown(POOLING_HEAD, rows),
        "Each layer's output shape:",
        "",
        *(f"- {v.title}: {' > '.join(v.shapes)}" for v in results.variants),
        "",
        *finding(results),
    ]
    return "\n".join(parts).rstrip() + "\n"


def pooling_png(results: PoolingResults) -> bytes:
    """Accuracy per seed and its mean; validation curves; parameters; training time."""
    fig = Figure(figsize=(WIDTH, 7.2), layout="constrained")
    fig.suptitle(title(results), fontsize=11, fontweight="bold")
    (acc_ax, curve_ax), (param_ax, time_ax) = fig.subplots(2, 2)
    names = [v.title for v in results.variants]
    x = np.arange(len(names))
    for i, v in enumerate(results.variants):
        colour = COLOURS[i % len(COLOURS)]
        spread = v.accuracy
        if spread is not None:
            values = np.array(spread.values) * 100
            acc_ax.scatter(np.full(len(values), i), values, color=colour, alpha=0.6, s=25)
            acc_ax.errorbar(
                i + 0.15, spread.mean * 100, yerr=spread.std * 100, fmt="_", color="black",
                markersize=14, capsize=4,
            )  # fmt: skip
            acc_ax.annotate(
                f"{spread.mean:.2%}", (i + 0.2, spread.mean * 100), fontsize=8, va="center"
            )
            curves = np.array([r.val_accuracy for r in v.runs]) * 100  # (seeds, epochs)
            epochs = np.arange(1, curves.shape[1] + 1)
            curve_ax.plot(epochs, curves.mean(0), "o-", color=colour, label=v.title)
        param_ax.bar(i, v.params, color=colour)
        param_ax.annotate(f"{v.params:,}", (i, v.params), ha="center", va="bottom", fontsize=8)
        if v.seconds is not None:
            time_ax.bar(i, v.seconds.mean, yerr=v.seconds.std, color=colour, capsize=4)
    for ax in (acc_ax, param_ax, time_ax):
        ax.set_xticks(x, names, fontsize=8)
        ax.grid(alpha=0.3, axis="y")
    acc_ax.set_title("test accuracy: each seed, mean ± std", fontsize=10)
    acc_ax.set_ylabel("%")
    acc_ax.set_xlim(-0.5, len(names) - 0.2)
    curve_ax.set_title("validation accuracy per epoch (mean over seeds)", fontsize=10)
    curve_ax.set_xlabel("epoch")
    curve_ax.set_ylabel("%")
    curve_ax.grid(alpha=0.3)
    if curve_ax.lines:
        curve_ax.legend(fontsize=8)
    param_ax.set_yscale("log")
    param_ax.set_title("parameters (log scale)", fontsize=10)
    time_ax.set_title("training time (seconds, mean ± std)", fontsize=10)
    return png(fig)
