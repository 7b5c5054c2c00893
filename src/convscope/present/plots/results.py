"""A run's results as figures: training curves, the confusion matrix, its mistakes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from .model import WIDTH, no_ticks, picture, png

if TYPE_CHECKING:
    from ...runtime.view import ConfusedPair, Mistake


def curves_png(history: Sequence[dict[str, float]], validation_name: str, title: str) -> bytes:
    fig = Figure(figsize=(WIDTH, 3.6), layout="constrained")
    fig.suptitle(title, fontsize=12, fontweight="bold")
    loss_ax, acc_ax = fig.subplots(1, 2)
    epochs = [int(h["epoch"]) for h in history]
    for ax, key, label in ((loss_ax, "loss", "loss"), (acc_ax, "accuracy", "accuracy")):
        ax.plot(epochs, [h[key] for h in history], "o-", label="training", color="#1f77b4")
        val = [h.get(f"val_{key}") for h in history]
        if all(v is not None for v in val):
            ax.plot(epochs, val, "s--", label=f"validation ({validation_name})", color="#ff7f0e")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.set_xticks(epochs)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    loss_ax.set_title("loss per epoch (lower is better)", fontsize=10)
    acc_ax.set_title("accuracy per epoch", fontsize=10)
    return png(fig)


def confusion_png(confusion: np.ndarray, class_names: Sequence[str], title: str) -> bytes:
    """Counts in each cell; colour by the share of that true class (rows add up to 1)."""
    k = len(class_names)
    share = confusion / np.maximum(confusion.sum(1, keepdims=True), 1)
    fig = Figure(figsize=(7.5, 6.6), layout="constrained")
    ax = fig.subplots()
    im = ax.imshow(np.sqrt(share), cmap=matplotlib.colormaps["Blues"], vmin=0, vmax=1)
    for t in range(k):
        for p in range(k):
            n = int(confusion[t, p])
            if n:
                colour = "white" if share[t, p] > 0.5 else "black"
                ax.text(p, t, f"{n:,}", ha="center", va="center", fontsize=7, color=colour)
    ax.set_xticks(
        range(k), class_names, rotation=45 if max(map(len, class_names)) > 2 else 0, fontsize=8
    )
    ax.set_yticks(range(k), class_names, fontsize=8)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title, fontsize=11, fontweight="bold")
    bar = fig.colorbar(im, ax=ax, shrink=0.8, label="share of the true class")
    ticks = [0, 0.01, 0.1, 0.5, 1]
    bar.set_ticks([t**0.5 for t in ticks], labels=[f"{t:.0%}" for t in ticks])
    return png(fig)


def _mistake_cell(ax: object, m: Mistake, class_names: Sequence[str], *, index: bool) -> None:
    picture(ax, m.image)
    no_ticks(ax)
    where = f"#{m.index}\n" if index else ""
    ax.set_title(  # type: ignore[attr-defined]
        f"{where}true {class_names[m.true]}\npred {class_names[m.predicted]} {m.confidence:.0%}",
        fontsize=7,
    )


def misclassified_png(
    mistakes: Sequence[Mistake], class_names: Sequence[str], title: str, columns: int = 8
) -> bytes:
    rows = max(1, -(-len(mistakes) // columns))
    fig = Figure(figsize=(WIDTH, 0.5 + rows * 1.75), layout="constrained")
    fig.suptitle(title, fontsize=12, fontweight="bold")
    axes = fig.subplots(rows, columns, squeeze=False)
    for k in range(rows * columns):
        ax = axes[k // columns][k % columns]
        if k < len(mistakes):
            _mistake_cell(ax, mistakes[k], class_names, index=True)
        else:
            ax.set_visible(False)
    return png(fig)


def confused_pairs_png(
    pairs: Sequence[ConfusedPair], class_names: Sequence[str], title: str
) -> bytes:
    """One line per pair: how often, and the test images behind the count."""
    columns = 1 + max([len(p.examples) for p in pairs] or [1])
    fig = Figure(figsize=(WIDTH, 0.6 + 1.45 * max(len(pairs), 1)), layout="constrained")
    fig.suptitle(title, fontsize=12, fontweight="bold")
    axes = fig.subplots(
        max(len(pairs), 1), columns, squeeze=False, width_ratios=[2.2] + [1] * (columns - 1)
    )
    for i, pair in enumerate(pairs):
        label = axes[i][0]
        label.axis("off")
        label.text(
            0.0,
            0.5,
            f"true {class_names[pair.true]}\nread as {class_names[pair.predicted]}\n"
            f"{pair.count} image{'s' if pair.count != 1 else ''}",
            fontsize=10,
            va="center",
        )
        for j in range(1, columns):
            ax = axes[i][j]
            if j - 1 < len(pair.examples):
                m = pair.examples[j - 1]
                picture(ax, m.image)
                no_ticks(ax)
                ax.set_title(f"#{m.index}, {m.confidence:.0%}", fontsize=7)
            else:
                ax.axis("off")
    if not pairs:
        axes[0][0].text(0.5, 0.5, "no mistakes on the test set", ha="center")
    return png(fig)
