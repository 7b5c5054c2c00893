"""The figures of `convscope show` and of the report: a View (runtime.view) -> Drawers ->
Pictures (titled PNGs). Drawing only: the view already holds the data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.files import atomic_write
from ..runtime.runs import validation_name
from ..runtime.view import RunResults, View, field_grid, fields_at
from . import attribution
from .plots import fields as plots_fields
from .plots import model as plots
from .plots import results as plots_results

MISTAKES_SHOWN = 32
PAIRS_SHOWN, PAIR_EXAMPLES = 5, 8


@dataclass(frozen=True)
class Picture:
    key: str  # the file stem under figures/ and the anchor in the report
    title: str
    caption: str
    png: bytes


@dataclass(frozen=True)
class Drawer:
    """A figure not drawn yet: drawing is the slow part, so callers can time or skip it."""

    key: str
    title: str
    caption: str
    draw: Callable[[], bytes]

    def drawn(self) -> Picture:
        return Picture(self.key, self.title, self.caption, self.draw())


def _run_drawers(view: View, run: RunResults) -> Iterable[Drawer]:
    names = view.class_names
    report = run.report
    if run.history and run.settings is not None:
        validation = validation_name(run.settings)
        yield Drawer(
            "curves",
            "Training curves",
            f"Loss and accuracy per epoch, on the training images and on {validation}.",
            lambda: plots_results.curves_png(run.history, validation, "Training curves"),
        )
    yield Drawer(
        "confusion",
        "Confusion matrix",
        f"Rows: the true class; columns: the prediction; {report.count:,} test images, "
        f"{report.accuracy:.2%} on the diagonal.",
        lambda: plots_results.confusion_png(
            np.array(report.confusion), names, f"Confusion matrix: {report.accuracy:.2%} correct"
        ),
    )
    mistakes = run.mistakes()
    pairs = run.confused_pairs(PAIRS_SHOWN, PAIR_EXAMPLES)
    yield Drawer(
        "confused_pairs",
        "Most confused pairs",
        "The true class and the class it was read as, most frequent first, with the test "
        "images behind each count (number and confidence above each).",
        lambda: plots_results.confused_pairs_png(pairs, names, "Most confused pairs"),
    )
    yield Drawer(
        "misclassified",
        "Misclassified test images",
        f"{len(mistakes):,} of {report.count:,} test images are wrong; here the "
        f"{min(len(mistakes), MISTAKES_SHOWN)} the model was most sure of: test index, true "
        "and predicted class, and the probability it gave its prediction.",
        lambda: plots_results.misclassified_png(
            mistakes[:MISTAKES_SHOWN],
            names,
            f"The {min(len(mistakes), MISTAKES_SHOWN)} most confident mistakes "
            f"({len(mistakes):,} in all)",
        ),
    )


def drawers(view: View, position: str | None = None) -> list[Drawer]:
    """Every figure the view supports, in the order the report shows them, not yet drawn."""
    ex = view.explanation
    state = "trained" if view.run else "untrained (random initial weights)"
    found = [
        Drawer(
            "params",
            "Parameters per layer",
            f"{ex.total_params:,} parameters in all; convolutions in blue, Dense in orange.",
            lambda: plots.params_png(ex.rows, f"Parameters per layer ({ex.total_params:,} in all)"),
        )
    ]
    if view.filters:
        found.append(
            Drawer(
                "filters",
                "Filters",
                "The weights of every convolution, red positive, blue negative, on one scale "
                "per layer centred on 0. The first layer's kernels are small images; deeper "
                "filters have one kernel per input channel.",
                lambda: plots.filters_png(view.filters, f"Filters of {view.spec.name}, {state}"),
            )
        )
    image = view.image
    if image is not None and view.outputs:
        found.append(
            Drawer(
                "feature_maps",
                "Feature maps",
                f"{image.title} after every layer: every channel, each layer on its own colour "
                "scale. The output layer shows one bar per class.",
                lambda: plots.feature_maps_png(
                    view.outputs, view.class_names, f"Feature maps of {image.title}"
                ),
            )
        )
        if view.attributions:
            name = view.class_names[view.attribution_target or 0]
            heading = f"Attribution maps of {image.title}, for class {name}"
            found.append(
                Drawer(
                    "attribution",
                    "Which pixels it used",
                    f"{image.title}: how much each pixel counts for class {name}, by "
                    f"{len(view.attributions)} methods (each on its own scale). Gradient methods "
                    "follow the class's score before the softmax; occlusion, the probability's "
                    "drop when a 4x4 patch of background covers the pixel.",
                    lambda: attribution.maps_png(image.pixels, view.attributions, heading),
                )
            )
        grid = field_grid(ex)
        if grid is not None:
            found.append(
                Drawer(
                    "receptive_field",
                    "Receptive fields of the last map",
                    f"The input window that each position of {grid.layer} sees, on {image.title}.",
                    lambda: plots_fields.receptive_grid_png(image.pixels, grid, image.title),
                )
            )
        at = fields_at(view, position)
        if at:
            found.append(
                Drawer(
                    "receptive_fields_by_layer",
                    "One position per layer",
                    "For each layer with positions: its strongest channel at the chosen "
                    "position (top) and that position's window on the input (bottom).",
                    lambda: plots_fields.receptive_layers_png(
                        image.pixels,
                        at,
                        f"How far one position sees, layer by layer ({image.title})",
                    ),
                )
            )
    if view.run is not None:
        found += _run_drawers(view, view.run)
    return found


def pictures(view: View, position: str | None = None) -> list[Picture]:
    """Every figure the view supports, drawn."""
    return [d.drawn() for d in drawers(view, position)]


def write_pictures(folder: Path, found: Iterable[Picture]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for p in found:
        path = folder / f"{p.key}.png"
        atomic_write(path, p.png)
        paths.append(path)
    return paths
