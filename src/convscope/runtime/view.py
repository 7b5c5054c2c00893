"""What `show`, `report` and the Python API look at: a model (`subject.Subject`) and its view.

A `View` adds to the model being looked at one
chosen image's activations, the filters and, for a run, fresh test-set predictions:
everything the figures draw and the report states, as data (numpy), drawn by
`present.figures` and rendered by `present.report`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..core import spec as s
from ..core.errors import ConvscopeError, DataError
from ..core.explain.answers import RunFacts
from ..core.explain.rules import explain
from ..core.explain.table import (
    Explanation,
    ReceptiveField,
    Row,
    Window,
    field_window,
    fmt_shape,
    last_map,
    spatial_rows,
)
from ..core.settings import Settings
from ..core.training import DEFAULT_TRAINING
from . import data, sources
from .attribution.methods import Attribution, attribution_maps
from .inspect import ChosenImage, LayerFilters, LayerOutput, choose_image, conv_filters
from .inspect import layer_outputs as outputs_for
from .metrics import TestReport
from .runs import score, test_evaluation
from .subject import Subject
from .train import Evaluation


@dataclass(frozen=True)
class Mistake:
    index: int  # in the test set
    image: np.ndarray  # (28, 28) uint8
    true: int
    predicted: int
    confidence: float  # probability of the predicted class


@dataclass(frozen=True)
class ConfusedPair:
    true: int
    predicted: int
    count: int
    examples: tuple[Mistake, ...]


@dataclass
class RunResults:
    """What a trained run adds to a view: settings, history and fresh test-set results."""

    dir: Path  # the run directory, or the Keras file
    settings: Settings | None  # None for a model trained in Keras
    epochs: int | None  # None: the file does not say
    history: list[dict[str, float]]
    evaluation: Evaluation
    report: TestReport
    test_images: np.ndarray  # (N, 28, 28) uint8
    test_labels: np.ndarray  # (N,)

    def mistakes(self) -> list[Mistake]:
        """Every wrong test prediction, the most confident first."""
        labels = self.test_labels
        predicted = self.evaluation.predictions.numpy()
        confidence = self.evaluation.probabilities.numpy().max(1)
        wrong = np.flatnonzero(predicted != labels)
        wrong = wrong[np.argsort(-confidence[wrong], kind="stable")]
        return [
            Mistake(
                int(i), self.test_images[i], int(labels[i]), int(predicted[i]), float(confidence[i])
            )
            for i in wrong
        ]

    def confused_pairs(self, pairs: int, examples: int) -> list[ConfusedPair]:
        """The most frequent (true, predicted) pairs, each with its most confident images."""
        mistakes = self.mistakes()
        return [
            ConfusedPair(
                c.true,
                c.predicted,
                c.count,
                tuple(m for m in mistakes if (m.true, m.predicted) == (c.true, c.predicted))[
                    :examples
                ],
            )
            for c in self.report.most_confused[:pairs]
        ]


@dataclass
class View:
    subject: Subject
    explanation: Explanation
    image: ChosenImage | None
    outputs: list[LayerOutput]
    filters: list[LayerFilters]
    run: RunResults | None = None
    notes: list[str] = field(default_factory=list)  # what could not be shown, and why
    attributions: dict[str, np.ndarray] = field(default_factory=dict)  # method -> (H, W) map
    attribution_target: int | None = None  # the class the maps follow

    @property
    def spec(self) -> s.ModelSpec:
        return self.subject.spec

    @property
    def dataset(self) -> str:
        return self.subject.need_dataset()

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.subject.class_names

    @property
    def dataset_title(self) -> str:
        """'MNIST', 'Fashion-MNIST': the first word of the data set's title."""
        return sources.title_of(self.dataset)

    @property
    def facts(self) -> RunFacts | None:
        if self.run is None:
            return None
        report = self.run.report
        return RunFacts(self.dataset_title, report.accuracy, report.count, self.run.epochs)


def run_results(subject: Subject, dataset: data.Dataset) -> RunResults:
    assert subject.origin is not None
    training = subject.spec.training or DEFAULT_TRAINING
    evaluation = test_evaluation(subject.model, training, dataset)
    return RunResults(
        subject.origin,
        subject.settings,
        subject.epochs,
        [] if subject.run is None else subject.run.history(),
        evaluation,
        score(dataset, evaluation),
        dataset.test_images,
        dataset.test_labels,
    )


def build_view(
    subject: Subject,
    image: str | None = None,
    data_dir: str | None = None,
    stream: Any = None,
    attribution: Attribution | None = None,
) -> View:
    """A trained run with its results on the full test set, or an untrained model; the
    chosen image (a test index or a PNG/JPEG; default test image 0) through every layer;
    with `attribution`, that image's maps by every method."""
    notes: list[str] = []
    chosen, dataset = None, None
    shape = subject.spec.input_shape
    if subject.trained:
        subject.check_images()
    if image is not None and not image.isdigit():
        chosen = choose_image(image, subject.photo_preparation(), None, shape)  # the user's file
        if subject.trained:
            dataset = subject.load_data(data_dir, stream=stream)
    else:
        # A run needs its test set; an untrained model's default image only if at hand.
        try:
            allow = subject.trained or image is not None
            dataset = subject.load_data(data_dir, allow_download=allow, stream=stream)
            if subject.trained or subject.fits_data(dataset):
                chosen = choose_image(image or "0", subject.need_dataset(), dataset, shape)
            else:
                notes.append(
                    f"No feature maps: the model takes {fmt_shape(shape)}, {dataset.info.name}'s"
                    f" images are {fmt_shape(tuple(dataset.test_images.shape[1:]))}."
                )
        except DataError as error:
            if subject.trained or image is not None:
                raise
            notes.append(f"No feature maps: {error.message}.")
    maps: dict[str, np.ndarray] = {}
    target = None
    if chosen is not None and attribution is not None:
        maps, target = attribution_maps(
            subject.model, chosen.pixels, attribution, notes, subject.scale
        )
    return View(
        subject,
        explain(subject.spec),
        chosen,
        [] if chosen is None else outputs_for(subject.model, chosen.pixels, subject.scale),
        conv_filters(subject.model),
        run_results(subject, dataset) if subject.trained and dataset is not None else None,
        notes,
        maps,
        target,
    )


# ---- receptive fields: which input pixels a position sees ----


def sample_positions(count: int, most: int = 4) -> list[int]:
    """All positions of a small map, else `most` spread evenly from edge to edge."""
    if count <= most:
        return list(range(count))
    return sorted({round(i * (count - 1) / (most - 1)) for i in range(most)})


@dataclass(frozen=True)
class FieldGrid:
    """The windows of the last layer that still has positions (all, or a spread sample)."""

    layer: str
    layer_type: str
    map_shape: tuple[int, ...]
    field: ReceptiveField
    windows: dict[tuple[int, int], Window]  # (row, col) -> its input window


@dataclass(frozen=True)
class FieldAt:
    """One chosen position of one layer, its window, and the layer's strongest channel there."""

    row: Row
    position: tuple[int, int]
    window: Window
    channel: int
    channel_map: np.ndarray  # (H, W) of that layer's output


def field_grid(ex: Explanation) -> FieldGrid | None:
    last = last_map(ex.rows)
    if last is None or last.receptive_field is None:
        return None
    h, w = last.output_shape[:2]
    windows = {
        (r, c): field_window(last.receptive_field, r, c)
        for r in sample_positions(h)
        for c in sample_positions(w)
    }
    return FieldGrid(last.name, last.layer_type, last.output_shape, last.receptive_field, windows)


def parse_position(text: str) -> tuple[str, int, int]:
    """`conv2d_1:5,5` -> ('conv2d_1', 5, 5)."""
    name, _, where = text.partition(":")
    parts = where.split(",")
    if not name or len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise ConvscopeError(
            f"--position must look like LAYER:ROW,COL (e.g. conv2d_1:5,5), got {text!r}"
        )
    return name, int(parts[0]), int(parts[1])


def fields_at(view: View, position: str | None) -> list[FieldAt]:
    """Each spatial layer's centre position (or the one the user chose), with its window."""
    rows = spatial_rows(view.explanation.rows)
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
        window = field_window(row.receptive_field, r, c)
        found.append(FieldAt(row, (r, c), window, channel, maps[..., channel]))
    return found
