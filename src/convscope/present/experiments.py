"""Experiment results as tables (text, Markdown) and figures: one set of cells, many renderings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..core.attribution import attribution_finding
from ..core.experiments import (
    Measured,
    PoolingResults,
    ProbePoint,
    ProbeResults,
    VariantResult,
    accuracy_text,
    compact_shape,
    finding,
    plural,
    probe_finding,
)
from ..runtime.attribution.occlusion import Occlusion
from . import attribution
from .figures import Picture
from .plots.model import VALUES, WEIGHTS, WIDTH, picture, png
from .progress import duration
from .tables import COLOURS, table_markdown, table_text

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
        ax.set_xticks(x, [n.replace(" ", "\n", 1) for n in names], fontsize=8)
        ax.grid(alpha=0.3, axis="y")
    acc_ax.set_title("test accuracy: each seed, mean ± std", fontsize=10)
    acc_ax.set_ylabel("%")
    acc_ax.set_xlim(-0.5, len(names) - 0.2)
    curve_ax.set_title("validation accuracy per epoch (mean over seeds)", fontsize=10)
    curve_ax.set_xlabel("epoch")
    curve_ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    curve_ax.set_ylabel("%")
    curve_ax.grid(alpha=0.3)
    if curve_ax.lines:
        curve_ax.legend(fontsize=8)
    param_ax.set_yscale("log")
    param_ax.set_title("parameters (log scale)", fontsize=10)
    time_ax.set_title("training time (seconds, mean ± std)", fontsize=10)
    return png(fig)


# ---- probes ----

PROBE_HEAD = ("point", "layer", "output", "numbers", "probe train", "probe test")


def probe_cells(p: ProbePoint) -> tuple[str, ...]:
    test = f"{p.test_accuracy:.2%}"
    if p.same_as is not None:
        test += f" (same numbers as {p.same_as})"
    return (
        p.name,
        p.layer_type,
        compact_shape(p.shape),
        f"{p.features:,}",
        f"{p.train_accuracy:.2%}",
        test,
    )


def probe_title(results: ProbeResults) -> str:
    return (
        f"Linear probes: {results.model} ({Path(results.run).name}) on {results.dataset}, "
        f"{results.train_images:,} training images, {plural(results.probe_epochs, 'epoch')}"
        + (f", {duration(results.seconds)}" if results.seconds else "")
    )


def probe_text(results: ProbeResults) -> str:
    rows = [probe_cells(p) for p in results.points]
    return (
        "\n".join(
            [
                probe_title(results),
                "A logistic regression on each point's frozen numbers, trained on the training "
                "images and scored on the test images:",
                "",
                table_text(PROBE_HEAD, rows),
                *probe_finding(results),
            ]
        ).rstrip()
        + "\n"
    )


def probe_markdown(results: ProbeResults) -> str:
    rows = [probe_cells(p) for p in results.points]
    parts = [f"**{probe_title(results)}**", "", table_markdown(PROBE_HEAD, rows)]
    return "\n".join([*parts, *probe_finding(results)]).rstrip() + "\n"


def probe_png(results: ProbeResults) -> bytes:
    """Probe accuracy against depth, with each point's number of features beneath."""
    points = [p for p in results.points if p.same_as is None]
    fig = Figure(figsize=(WIDTH, 5.2), layout="constrained")
    fig.suptitle(probe_title(results), fontsize=10, fontweight="bold")
    acc_ax, size_ax = fig.subplots(2, 1, sharex=True, height_ratios=(2.2, 1))
    x = np.arange(len(points))
    test = [p.test_accuracy * 100 for p in points]
    acc_ax.plot(x, test, "o-", color=COLOURS[0], label="probe, test images")
    acc_ax.plot(x, [p.train_accuracy * 100 for p in points], "s--", color=COLOURS[4],
                alpha=0.7, label="probe, training images (last epoch)")  # fmt: skip
    acc_ax.axhline(results.model_accuracy * 100, color="gray", ls=":",
                   label=f"the network itself: {results.model_accuracy:.2%}")  # fmt: skip
    for i, value in enumerate(test):
        acc_ax.annotate(f"{value:.1f}%", (i, value), textcoords="offset points", xytext=(0, 8),
                        ha="center", fontsize=8)  # fmt: skip
    acc_ax.set_ylabel("accuracy (%)")
    acc_ax.set_ylim(min(test) - 3, 101)
    acc_ax.grid(alpha=0.3)
    acc_ax.legend(fontsize=8, loc="lower right")
    acc_ax.set_title("how much of the label a linear classifier can read at each depth", fontsize=9)
    sizes = [p.features for p in points]
    size_ax.bar(x, sizes, color="#999999")
    for i, n in enumerate(sizes):
        size_ax.annotate(f"{n:,}", (i, n), ha="center", va="bottom", fontsize=7)
    size_ax.set_yscale("log")
    size_ax.set_ylabel("numbers (log)")
    size_ax.set_xticks(x, [f"{p.name}\n{compact_shape(p.shape)}" for p in points], fontsize=7)
    return png(fig)


# ---- occlusion ----


def patch_name(occ: Occlusion) -> str:
    """'5x5 grey patch' (128), '5x5 background patch' (0), or the value."""
    colour = {128: "grey", 0: "background (0)"}.get(occ.fill, f"value-{occ.fill}")
    return f"{occ.patch}x{occ.patch} {colour} patch"


def occlusion_text(occ: Occlusion) -> str:
    d = occ.as_dict()
    name = occ.class_names[occ.target]
    return (
        f"{occ.image.title}: predicted {name} at {occ.probability:.1%}. A {patch_name(occ)} "
        f"at {d['positions']} positions (every {occ.stride} px): the probability of "
        f"{name} drops by up to {d['largest_drop']:.1%}; the prediction changes at "
        f"{d['flips']} of {d['positions']} positions.\n"
    )


def occlusion_png(occ: Occlusion) -> bytes:
    """The image; where covering it hurts the prediction; the probability per position."""
    fig = Figure(figsize=(WIDTH, 3.9), layout="constrained")
    name = occ.class_names[occ.target]
    fig.suptitle(
        f"Occlusion: {occ.image.title}, predicted {name} at {occ.probability:.1%} "
        f"({patch_name(occ)}, every {occ.stride} px)",
        fontsize=10,
        fontweight="bold",
    )
    image_ax, drop_ax, at_ax = fig.subplots(1, 3)
    picture(image_ax, occ.image.pixels)
    image_ax.set_title("the image", fontsize=9)
    limit = max(float(np.abs(occ.drop).max()), 1e-6)
    picture(drop_ax, occ.image.pixels)
    shown = drop_ax.imshow(occ.drop, cmap=WEIGHTS, vmin=-limit, vmax=limit, alpha=0.75)
    drop_ax.set_title(f"drop in p({name}) when covered\n(red: relied on)", fontsize=9)
    fig.colorbar(shown, ax=drop_ax, shrink=0.8)
    at = at_ax.imshow(occ.at_positions, cmap=VALUES, vmin=0, vmax=1)
    flips = np.argwhere(occ.predicted_at != occ.target)
    for r, c in flips:
        at_ax.text(c, r, occ.class_names[int(occ.predicted_at[r, c])], ha="center",
                   va="center", fontsize=6, color="white")  # fmt: skip
    at_ax.set_title(f"p({name}), patch's corner here\n(labels: a new prediction)", fontsize=9)
    fig.colorbar(at, ax=at_ax, shrink=0.8)
    for ax in (image_ax, drop_ax, at_ax):
        ax.set_xticks([])
        ax.set_yticks([])
    return png(fig)


# ---- in a run's report ----


def experiment_pictures(measured: Measured) -> list[Picture]:
    """The experiments' figures: redrawn from their results, occlusion maps as saved."""
    found = []
    if measured.pooling is not None and any(v.runs for v in measured.pooling.variants):
        found.append(
            Picture(
                "pooling-experiment",
                "Pooling experiment: max, average, stride-2 conv, none",
                " ".join(finding(measured.pooling)) or title(measured.pooling),
                pooling_png(measured.pooling),
            )
        )
    if measured.probe is not None:
        found.append(
            Picture(
                "probes",
                "Linear probes: what each layer still knows about the label",
                " ".join(probe_finding(measured.probe)),
                probe_png(measured.probe),
            )
        )
    if measured.attribution is not None:
        found.append(
            Picture(
                "attribution-experiment",
                "Attribution maps checked: sanity and deletion",
                " ".join(attribution_finding(measured.attribution)),
                attribution.experiment_png(measured.attribution),
            )
        )
    for saved in measured.occlusions:
        about = saved.about
        found.append(
            Picture(
                saved.key,
                f"Occlusion: {about.get('image', saved.key)}",
                f"Where covering the image with a {about.get('patch', '?')} px patch of value "
                f"{about.get('fill', '?')} "
                f"lowers the probability of {about.get('target_name', 'the prediction')}: "
                "the pixels this prediction relies on.",
                saved.png,
            )
        )
    return found


def experiment_tables(measured: Measured) -> list[dict[str, Any]]:
    """Tables for the report's experiments section: the same cells as the terminal's."""
    tables = []
    if measured.pooling is not None:
        tables.append(
            {
                "key": "pooling-table",
                "title": title(measured.pooling),
                "head": POOLING_HEAD,
                "rows": [pooling_cells(v) for v in measured.pooling.variants],
                "lines": finding(measured.pooling),
            }
        )
    if measured.probe is not None:
        tables.append(
            {
                "key": "probe-table",
                "title": probe_title(measured.probe),
                "head": PROBE_HEAD,
                "rows": [probe_cells(p) for p in measured.probe.points],
                "lines": probe_finding(measured.probe),
            }
        )
    if measured.attribution is not None:
        tables.append(
            {
                "key": "attribution-table",
                "title": attribution.title(measured.attribution),
                "head": attribution.HEAD,
                "rows": attribution.cells(measured.attribution),
                "lines": attribution.explanation(measured.attribution),
            }
        )
    return tables
