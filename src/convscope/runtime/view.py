"""What `show`, `report` and the Python API look at: a model with its weights, and its view.

A `Subject` is the model being looked at: a trained run's (its latest weights), a model
trained in Keras (runtime.keras_file), or an untrained preset's or file's (Keras's
initial weights for a seed). A `View` adds one
chosen image's activations, the filters and, for a run, fresh test-set predictions:
everything the figures draw and the report states, as data (numpy), drawn by
`present.figures` and rendered by `present.report`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

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
from ..core.load import load_with_source
from ..core.rundir import RunDir
from ..core.settings import Settings, model_name
from ..core.training import DEFAULT_TRAINING
from . import data, sources
from .attribution.methods import Attribution, attribution_maps
from .heads import is_binary
from .inspect import ChosenImage, LayerFilters, LayerOutput, choose_image, conv_filters
from .inspect import layer_outputs as outputs_for
from .metrics import TestReport
from .nn.model import KerasModel
from .runs import load_trained, score, test_evaluation
from .train import Evaluation

IMAGE_SHAPE = (28, 28, 1)  # MNIST's and Fashion-MNIST's images, as the model sees them
DATA_SHAPES = (IMAGE_SHAPE, (784,))  # the same, or flattened for a model that starts flat


@dataclass
class Subject:
    """A model to look at, with the weights it has now."""

    spec: s.ModelSpec
    source_text: str  # the Keras source the model was read from (or written for it)
    model: KerasModel  # in inference mode
    dataset: str | None  # "mnist": the run's, the preset's / file's, or the user's choice
    run: RunDir | None = None
    settings: Settings | None = None
    epochs: int | None = 0  # behind the weights; 0 for initial weights, None: unknown
    origin: Path | None = None  # the run directory or the Keras file the weights came from

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def trained(self) -> bool:
        """Weights from a run or a Keras file, not initial ones."""
        return self.origin is not None

    def need_dataset(self) -> str:
        """The data set, or a clear error for a Keras file that does not say which."""
        if self.dataset is None:
            raise ConvscopeError(
                f"{self.origin or self.name} does not say which data set the model learnt",
                hint="pass --dataset mnist or --dataset fashion-mnist (dataset= in Python)",
            )
        return self.dataset

    @property
    def class_names(self) -> tuple[str, ...]:
        units = 2 if is_binary(self.model) else self.model.shapes[-1][-1]
        if self.dataset is None:  # a Keras file without --dataset: the outputs by number
            return tuple(str(i) for i in range(units))
        if self.settings is not None:
            return sources.class_names_of(self.settings, self.origin, units)
        return data.dataset_info(self.dataset).class_names

    @property
    def data_dir(self) -> str | None:
        return None if self.settings is None else self.settings.data_dir

    def load_data(
        self, data_dir: str | None = None, allow_download: bool = True, stream: Any = None
    ) -> data.Dataset:
        """The data set the model is for (data_dir, else the run's own, else the usual places);
        a model that does not fit its images is refused where they meet (train.pixels)."""
        if self.settings is not None and self.dataset == self.settings.training.dataset:
            return sources.load_for(
                self.settings,
                self.origin,
                data_dir=data_dir,
                allow_download=allow_download,
                stream=stream,
            )
        name, folder = self.need_dataset(), data_dir or self.data_dir
        return data.load(name, folder, allow_download=allow_download, stream=stream)

    def check_images(self) -> None:
        """A clear error unless the model takes 28 x 28 grey images: looking inside (the
        figures, the live page, attribution, predict) draws and prepares only those so far."""
        if self.spec.input_shape not in DATA_SHAPES:
            raise ConvscopeError(
                f"{self.name} takes {fmt_shape(self.spec.input_shape)}; looking inside a "
                "model (predict, show, report, serve, attribution, occlusion) needs "
                f"{fmt_shape(IMAGE_SHAPE)} images so far",
                hint="explain, train and evaluate work on any input shape and data set",
            )


def open_run(run_dir: Path) -> Subject:
    """A trained run: its model.py with its latest weights."""
    settings, model, epochs = load_trained(run_dir)
    run = RunDir(run_dir)
    return Subject(
        model.spec,
        run.source(),
        model,
        settings.training.dataset,
        run,
        settings,
        epochs,
        origin=run.path,
    )


def open_model(target: str, seed: int = 0) -> Subject:
    """An untrained model (a preset or a Keras file): Keras's initial weights for `seed`."""
    source, text = load_with_source(target)
    spec = replace(source.spec, name=model_name(target))
    torch.manual_seed(seed)
    model = KerasModel(spec).eval()
    return Subject(spec, text, model, (spec.training or DEFAULT_TRAINING).dataset)


# ---- the view: one image, the filters, the test set ----


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
    if subject.spec.input_shape not in DATA_SHAPES:
        if subject.trained:
            subject.check_images()
        notes.append(
            f"No feature maps: the model takes {fmt_shape(subject.spec.input_shape)}, the data "
            f"sets' images are {fmt_shape(IMAGE_SHAPE)}."
        )
    elif image is not None and not image.isdigit():
        chosen = choose_image(image, subject.need_dataset(), None)  # the user's own file
        if subject.trained:
            dataset = subject.load_data(data_dir, stream=stream)
    else:
        # A run needs its test set; an untrained model's default image only if at hand.
        try:
            allow = subject.trained or image is not None
            dataset = subject.load_data(data_dir, allow_download=allow, stream=stream)
            chosen = choose_image(image or "0", subject.need_dataset(), dataset)
        except DataError as error:
            if subject.trained or image is not None:
                raise
            notes.append(f"No feature maps: {error.message}.")
    maps: dict[str, np.ndarray] = {}
    target = None
    if chosen is not None and attribution is not None:
        maps, target = attribution_maps(subject.model, chosen.pixels, attribution, notes)
    return View(
        subject,
        explain(subject.spec),
        chosen,
        [] if chosen is None else outputs_for(subject.model, chosen.pixels),
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
