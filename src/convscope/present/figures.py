"""What `convscope show` and `convscope report` look at: a run (or an untrained model), its
chosen image, and the figures drawn from them.

`view_run` / `view_model` gather the data (real weights, real activations, real test-set
predictions); `pictures` turns a view into titled PNGs; `write_pictures` saves them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..core import spec as s
from ..core.answers import RunFacts
from ..core.errors import ConvscopeError
from ..core.explain import Explanation, Row, explain, field_window, fmt_shape
from ..core.load import load_with_source
from ..core.notes import last_map
from ..core.training import DEFAULT_TRAINING
from ..runtime import data
from ..runtime.files import atomic_write
from ..runtime.inspect import (
    ChosenImage,
    LayerFilters,
    LayerOutput,
    choose_image,
    conv_filters,
    layer_outputs,
)
from ..runtime.metrics import TestReport
from ..runtime.runs import Settings, load_trained, score, test_evaluation, validation_name
from ..runtime.torch_model import KerasModel
from ..runtime.train import Evaluation
from . import plots

MISTAKES_SHOWN = 32
IMAGE_SHAPE = (28, 28, 1)  # MNIST's and Fashion-MNIST's images, as the model sees them
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


@dataclass
class RunResults:
    """What a trained run adds to a view: settings, history and fresh test-set results."""

    dir: Path
    settings: Settings
    epochs: int
    history: list[dict[str, float]]
    evaluation: Evaluation
    report: TestReport
    test_images: np.ndarray  # (N, 28, 28) uint8
    test_labels: np.ndarray  # (N,)


@dataclass
class View:
    spec: s.ModelSpec
    source_text: str  # the Keras source the model was read from
    explanation: Explanation
    model: KerasModel
    dataset: str  # "mnist"
    class_names: tuple[str, ...]
    image: ChosenImage | None
    outputs: list[LayerOutput]
    filters: list[LayerFilters]
    run: RunResults | None = None
    notes: list[str] = field(default_factory=list)  # what could not be shown, and why

    @property
    def dataset_title(self) -> str:
        """'MNIST', 'Fashion-MNIST': the first word of the data set's title."""
        return data.dataset_info(self.dataset).title.split(" ")[0]

    @property
    def facts(self) -> RunFacts | None:
        if self.run is None:
            return None
        report = self.run.report
        return RunFacts(self.dataset_title, report.accuracy, report.count, self.run.epochs)


def _outputs(model: KerasModel, image: ChosenImage | None) -> list[LayerOutput]:
    return [] if image is None else layer_outputs(model, image.pixels)


def view_run(
    run_dir: Path, image: str = "0", data_dir: str | None = None, stream: Any = None
) -> View:
    """A trained run: its weights, its history, and its results on the full test set."""
    settings, model, epochs = load_trained(run_dir)
    spec = model.spec  # read from the run's model.py by load_trained
    name = settings.training.dataset
    dataset = data.load(name, data_dir or settings.data_dir, stream=stream)
    evaluation = test_evaluation(model, settings, dataset)
    report = score(settings, dataset, evaluation)
    history_path = run_dir / "history.json"
    history = json.loads(history_path.read_text()) if history_path.exists() else []
    chosen = choose_image(image, name, dataset)
    return View(
        spec,
        (run_dir / "model.py").read_text(encoding="utf-8"),
        explain(spec),
        model,
        name,
        dataset.info.class_names,
        chosen,
        _outputs(model, chosen),
        conv_filters(model),
        RunResults(
            run_dir,
            settings,
            epochs,
            history,
            evaluation,
            report,
            dataset.test_images,
            dataset.test_labels,
        ),
    )


def view_model(
    target: str,
    name: str,
    image: str | None = None,
    data_dir: str | None = None,
    seed: int = 0,
    stream: Any = None,
) -> View:
    """An untrained model (a preset or a Keras file): Keras's initial weights for `seed`."""
    source, text = load_with_source(target)
    spec = replace(source.spec, name=name)
    dataset_name = (spec.training or DEFAULT_TRAINING).dataset
    torch.manual_seed(seed)
    model = KerasModel(spec).eval()
    notes: list[str] = []
    chosen = None
    if spec.input_shape != IMAGE_SHAPE:
        notes.append(
            f"No feature maps: the model takes {fmt_shape(spec.input_shape)}, the data sets' "
            f"images are {fmt_shape(IMAGE_SHAPE)}."
        )
    elif image is not None and not image.isdigit():
        chosen = choose_image(image, dataset_name, None)  # the user's own file
    else:
        try:  # a test image the user named may be downloaded; the default one only if at hand
            dataset = data.load(
                dataset_name, data_dir, allow_download=image is not None, stream=stream
            )
            chosen = choose_image(image or "0", dataset_name, dataset)
        except data.DataError as error:
            if image is not None:
                raise
            notes.append(f"No feature maps: {error.message}.")
    return View(
        spec,
        text,
        explain(spec),
        model,
        dataset_name,
        data.dataset_info(dataset_name).class_names,
        chosen,
        _outputs(model, chosen),
        conv_filters(model),
        notes=notes,
    )


# ---- receptive fields ----


def field_grid(ex: Explanation) -> plots.FieldGrid | None:
    """The windows of the last layer that still has positions (all, or a spread sample)."""
    last = last_map(ex)
    if last is None or last.receptive_field is None:
        return None
    h, w = last.output_shape[:2]
    windows = {
        (r, c): field_window(last.receptive_field, r, c)
        for r in plots.sample_positions(h)
        for c in plots.sample_positions(w)
    }
    return plots.FieldGrid(
        last.name, last.layer_type, last.output_shape, last.receptive_field, windows
    )


def spatial_rows(ex: Explanation) -> list[Row]:
    """Layers that change the window: convolutions and pooling (not Dropout or BN)."""
    return [
        r
        for r in ex.rows
        if len(r.output_shape) == 3
        and r.receptive_field is not None
        and ("Conv" in r.layer_type or "Pooling" in r.layer_type or "Padding" in r.layer_type)
    ]


def parse_position(text: str) -> tuple[str, int, int]:
    """`conv2d_1:5,5` -> ('conv2d_1', 5, 5)."""
    name, _, where = text.partition(":")
    parts = where.split(",")
    if not name or len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise ConvscopeError(
            f"--position must look like LAYER:ROW,COL (e.g. conv2d_1:5,5), got {text!r}"
        )
    return name, int(parts[0]), int(parts[1])


def fields_at(view: View, position: str | None) -> list[plots.FieldAt]:
    """Each spatial layer's centre position (or the one the user chose), with its window."""
    rows = spatial_rows(view.explanation)
    chosen: tuple[str, int, int] | None = parse_position(position) if position else None
    if chosen and chosen[0] not in {r.name for r in rows}:
        names = ", ".join(r.name for r in rows)
        raise ConvscopeError(
            f"--position: {chosen[0]!r} is not a layer with positions; these are: {names}"
        )
    values = {o.name: o.values for o in view.outputs}
    found = []
    for row in rows:
        h, w, _ = row.output_shape
        r, c = h // 2, w // 2
        if chosen and chosen[0] == row.name:
            r, c = chosen[1], chosen[2]
            if r >= h or c >= w:
                raise ConvscopeError(
                    f"--position {position}: {row.name} is {h}x{w}, so rows and columns run "
                    f"0-{h - 1} and 0-{w - 1}"
                )
        assert row.receptive_field is not None
        maps = values[row.name]  # (H, W, C)
        channel = int(np.argmax(maps[r, c]))
        found.append(
            plots.FieldAt(
                row, (r, c), field_window(row.receptive_field, r, c), channel, maps[..., channel]
            )
        )
    return found


# ---- all pictures ----


def misclassified(run: RunResults) -> list[plots.Mistake]:
    """Every wrong test prediction, the most confident first."""
    labels = run.test_labels
    predicted = run.evaluation.predictions.numpy()
    confidence = run.evaluation.probabilities.numpy().max(1)
    wrong = np.flatnonzero(predicted != labels)
    wrong = wrong[np.argsort(-confidence[wrong], kind="stable")]
    return [
        plots.Mistake(
            int(i), run.test_images[i], int(labels[i]), int(predicted[i]), float(confidence[i])
        )
        for i in wrong
    ]


def _run_drawers(view: View, run: RunResults) -> Iterable[Drawer]:
    names = view.class_names
    report = run.report
    if run.history:
        validation = validation_name(run.settings)
        yield Drawer(
            "curves",
            "Training curves",
            f"Loss and accuracy per epoch, on the training images and on {validation}.",
            lambda: plots.curves_png(run.history, validation, "Training curves"),
        )
    yield Drawer(
        "confusion",
        "Confusion matrix",
        f"Rows: the true class; columns: the prediction; {report.count:,} test images, "
        f"{report.accuracy:.2%} on the diagonal.",
        lambda: plots.confusion_png(
            np.array(report.confusion), names, f"Confusion matrix: {report.accuracy:.2%} correct"
        ),
    )
    mistakes = misclassified(run)
    pairs = [
        plots.ConfusedPair(
            c.true,
            c.predicted,
            c.count,
            tuple(m for m in mistakes if (m.true, m.predicted) == (c.true, c.predicted))[
                :PAIR_EXAMPLES
            ],
        )
        for c in report.most_confused[:PAIRS_SHOWN]
    ]
    yield Drawer(
        "confused_pairs",
        "Most confused pairs",
        "The true class and the class it was read as, most frequent first, with the test "
        "images behind each count (number and confidence above each).",
        lambda: plots.confused_pairs_png(pairs, names, "Most confused pairs"),
    )
    yield Drawer(
        "misclassified",
        "Misclassified test images",
        f"{len(mistakes):,} of {report.count:,} test images are wrong; here the "
        f"{min(len(mistakes), MISTAKES_SHOWN)} the model was most sure of: test index, true "
        "and predicted class, and the probability it gave its prediction.",
        lambda: plots.misclassified_png(
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
        grid = field_grid(ex)
        if grid is not None:
            found.append(
                Drawer(
                    "receptive_field",
                    "Receptive fields of the last map",
                    f"The input window that each position of {grid.layer} sees, on {image.title}.",
                    lambda: plots.receptive_grid_png(image.pixels, grid, image.title),
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
                    lambda: plots.receptive_layers_png(
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
