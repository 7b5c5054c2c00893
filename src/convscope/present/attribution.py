"""Attribution maps and the attribution experiment as figures and tables.

The maps of one image share a figure: the image, then one map per method, each scaled
to its own largest value (methods measure different things: a gradient, a probability
drop); signed maps (x times a gradient) in red and blue around 0, the others from dark
to bright.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ..core.attribution import (
    FLAG_AT,
    FRACTIONS,
    RANDOM,
    RANDOM_INK,
    REFERENCES,
    AttributionResults,
    attribution_finding,
)
from .plots.model import WEIGHTS, WIDTH, picture, png
from .progress import duration
from .tables import COLOURS, table_markdown, table_text

SIGNED = ("gradient_x_input", "integrated_gradients")
REFERENCE_COLOURS = {RANDOM: "gray", RANDOM_INK: "black"}
NAMES = {
    "saliency": "saliency |gradient|",
    "gradient_x_input": "gradient x input",
    "smoothgrad": "SmoothGrad",
    "integrated_gradients": "integrated gradients",
    "gradcam": "Grad-CAM",
    "occlusion": "occlusion (drop in p)",
}


def maps_png(image: np.ndarray, maps: Mapping[str, np.ndarray], title: str) -> bytes:
    """One image (28, 28) and its map by each method, in a row (two rows past four)."""
    panels = len(maps) + 1
    columns = min(panels, 4)
    rows = -(-panels // columns)
    fig = Figure(figsize=(WIDTH, 2.75 * rows + 0.4), layout="constrained")
    fig.suptitle(title, fontsize=10, fontweight="bold")
    axes = np.atleast_1d(fig.subplots(rows, columns)).ravel()
    picture(axes[0], image)
    axes[0].set_title("the image", fontsize=9)
    for ax, (method, values) in zip(axes[1:], maps.items(), strict=False):
        limit = max(float(np.abs(values).max()), 1e-12)
        if method in SIGNED:
            shown = ax.imshow(values, cmap=WEIGHTS, vmin=-limit, vmax=limit)
        else:
            shown = ax.imshow(values, cmap="magma", vmin=0, vmax=limit)
        ax.set_title(NAMES.get(method, method), fontsize=9)
        fig.colorbar(shown, ax=ax, shrink=0.75)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes[panels:]:
        ax.set_visible(False)
    return png(fig)


# ---- the experiment ----

HEAD = (
    "method",
    "rank corr., all random",
    "on the ink",
    "sanity",
    "accuracy, 10% removed",
    "25% removed",
    "50% removed",
    "deletion area",
    "time",
)


def cells(results: AttributionResults) -> list[tuple[str, ...]]:
    """One row per method, then the random ranking's (deletion only)."""
    cascade = {c.method: c for c in results.cascade}
    at = {k: FRACTIONS.index(k) for k in (0.10, 0.25, 0.50)}
    rows = []
    for d in results.deletion:
        c = cascade.get(d.method)
        seconds = sum(v for k, v in results.seconds.items() if k.startswith(f"{d.method} "))
        rows.append(
            (
                d.method,
                "-" if c is None else f"{c.correlations[-1]:.2f}",
                "-" if c is None else f"{c.ink[-1]:.2f}",
                "-" if c is None else ("FLAGGED" if c.flagged else "changes"),
                *(f"{d.accuracies[i]:.1%}" for i in at.values()),
                f"{results.area(d):.1%}",
                "-" if d.method in REFERENCES else duration(seconds),
            )
        )
    return rows


def title(results: AttributionResults) -> str:
    return (
        f"Attribution: {results.model} ({Path(results.run).name}, {results.model_epochs} "
        f"epochs) on {results.dataset}: sanity check on {results.sanity_images} test images, "
        f"deletion on {results.deletion_images:,} (accuracy {results.full_accuracy:.1%} "
        "with nothing removed)"
    )


def explanation(results: AttributionResults) -> list[str]:
    ig = results.completeness
    return [
        "Sanity check (Adebayo et al. 2018): the weights randomised layer by layer from the "
        f"top; the rank correlation of |map| with the trained model's, with every layer random "
        f"(flagged above {FLAG_AT}). Deletion: the accuracy with the top-ranked pixels set to "
        "the background; the deletion area is the mean accuracy drop over 5-50% removed "
        "(higher: the method found the pixels that matter)."
        + (f" Integrated gradients' completeness error: {ig:.2%}." if ig is not None else "")
    ]


def experiment_text(results: AttributionResults) -> str:
    lines = [title(results), *explanation(results), "", table_text(HEAD, cells(results))]
    return "\n".join([*lines, "", *attribution_finding(results)]).rstrip() + "\n"


def experiment_markdown(results: AttributionResults) -> str:
    parts = [f"**{title(results)}**", "", *explanation(results), ""]
    parts.append(table_markdown(HEAD, cells(results)))
    return "\n".join([*parts, *attribution_finding(results)]).rstrip() + "\n"


def experiment_png(results: AttributionResults) -> bytes:
    """Left: accuracy against pixels removed, per ranking. Right: the cascade."""
    fig = Figure(figsize=(WIDTH, 4.4), layout="constrained")
    fig.suptitle(
        f"Attribution maps checked: {results.model}, {results.model_epochs} epochs, "
        f"{results.dataset} ({results.sanity_images} images for the sanity check, "
        f"{results.deletion_images:,} for deletion)",
        fontsize=10,
        fontweight="bold",
    )
    deletion_ax, cascade_ax = fig.subplots(1, 2)
    k = [f * 100 for f in FRACTIONS]
    for i, d in enumerate(results.deletion):
        random = d.method in REFERENCES
        curve = [results.full_accuracy * 100, *(a * 100 for a in d.accuracies)]
        colour = (
            ("gray" if d.method == RANDOM else "black") if random else COLOURS[i % len(COLOURS)]
        )
        deletion_ax.plot([0, *k], curve, "--" if random else "o-", ms=3, color=colour,
                         label=f"{d.method} ({results.area(d):.0%})")  # fmt: skip
    deletion_ax.set_xlabel("pixels removed, highest-ranked first (%)")
    deletion_ax.set_ylabel("test accuracy (%)")
    deletion_ax.set_title("deletion: the faster it falls, the better the ranking", fontsize=9)
    deletion_ax.grid(alpha=0.3)
    deletion_ax.legend(fontsize=7, title="method (deletion area)", title_fontsize=7)
    for i, c in enumerate(results.cascade):
        steps = range(len(c.correlations) + 1)
        cascade_ax.plot(steps, [1.0, *c.correlations], "o-", ms=3, color=COLOURS[i % len(COLOURS)],
                        label=c.method + (" (flagged)" if c.flagged else ""))  # fmt: skip
    cascade_ax.axhline(FLAG_AT, color="gray", ls=":", label=f"flagged above {FLAG_AT}")
    layers = cascade_labels(results.cascade[0].layers) if results.cascade else []
    cascade_ax.set_xticks(range(len(layers) + 1), ["trained", *layers], fontsize=7, rotation=20)
    cascade_ax.set_ylabel("rank correlation with the trained maps")
    cascade_ax.set_title("sanity: layers randomised from the top", fontsize=9)
    cascade_ax.set_ylim(-0.2, 1.05)
    cascade_ax.grid(alpha=0.3)
    cascade_ax.legend(fontsize=7)
    return png(fig)


def cascade_labels(layers: Sequence[str]) -> list[str]:
    return [f"+{name}" for name in layers]
