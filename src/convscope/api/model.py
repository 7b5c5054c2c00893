"""`convscope.load`: a model to look inside, from a run directory or a preset / Keras file.

    m = cs.load("runs/20261201-120000-chollet")   # trained: its latest weights
    m = cs.load("chollet")                        # untrained: Keras's initial weights
    m.predict(images); m.evaluate(); m.figures(image=7); m.report("report.html")

A thin layer: the runtime computes (runtime.view, inspect, runs), present draws and
renders, core.rundir knows where files go.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ..core.errors import ConvscopeError
from ..core.files import atomic_write
from ..core.keras.archive import is_keras_file
from ..core.rundir import RunDir
from ..core.settings import one_of
from ..core.training import DATASETS, DEFAULT_TRAINING
from ..present import html
from ..present.figures import pictures
from ..present.report import render_html
from ..runtime import inspect, predicting, runs
from ..runtime.attribution import methods as attributing
from ..runtime.attribution import occlusion as occluding
from ..runtime.attribution.methods import Attribution
from ..runtime.keras import export as keras_export
from ..runtime.keras import read as keras_read
from ..runtime.keras.load import load_keras
from ..runtime.subject import Subject, open_model, open_run
from ..runtime.view import View, build_view
from .experiments import Attribution as AttributionExperiment
from .experiments import OcclusionMap, Probe
from .explaining import Explanation
from .results import Exported, Figure, Figures, Prediction, Predictions, Report, TestResults
from .shown import Shown
from .training import Run

if TYPE_CHECKING:
    import numpy as np

Target = str | os.PathLike[str]
Image = int | str | os.PathLike[str] | Any  # a test index, a PNG/JPEG, or a numpy image


class Model(Shown):
    """A model with its weights: a trained run's, or an untrained preset's or file's."""

    def __init__(self, subject: Subject) -> None:
        self.subject = subject

    # ---- what it is ----
    @property
    def name(self) -> str:
        return self.subject.name

    @property
    def trained(self) -> bool:
        return self.subject.trained

    @property
    def path(self) -> Path | None:
        """The run directory or the Keras file; None for an untrained model."""
        return self.subject.origin

    @property
    def dataset(self) -> str | None:
        """The data set it is for; None for a Keras file loaded without dataset=."""
        return self.subject.dataset

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.subject.class_names

    @property
    def epochs(self) -> int | None:
        """Epochs behind the weights: 0 untrained, None when a Keras file does not say."""
        return self.subject.epochs

    def explain(self) -> Explanation:
        """The explain table of this model."""
        return Explanation.of(self.subject.spec)

    # ---- predictions ----
    def predict(self, images: Any) -> np.ndarray:
        """What Keras's model.predict gives, of (N, *input_shape) as the model takes it (CIFAR's
        (N, 32, 32, 3), your own arrays as fit() took them) or MNIST's (N, 28, 28); or of
        image files and folders (a path or a list of them), each prepared as `predict_image`
        prepares one, in the order `predict_images` lists them."""
        if predicting.are_paths(images):
            return self.predict_images(images).outputs
        s = self.subject
        if s.scale and not inspect.fits_input(images, s.spec.input_shape):
            s.check_images()  # grey images, prepared as MNIST's
        return inspect.predict_arrays(s.model, images, s.scale)

    def predict_image(self, path: str | os.PathLike[str]) -> Prediction:
        """A PNG or JPEG of your own, prepared as the data set's images were (`predict`)."""
        s = self.subject
        s.check_images()
        found = inspect.predict_file(s.model, s.photo_preparation(), Path(path), s.class_names,
                                     s.scale)  # fmt: skip
        return Prediction(found, os.fspath(path))

    def predict_images(
        self, paths: Any, *, skip_bad_images: bool = False, stream: TextIO | None = None
    ) -> Predictions:
        """Image files and folders (walked as image_dataset_from_directory walks them), each
        prepared as `predict_image` prepares one, CHUNK at a time: any number in bounded
        memory. A file that cannot be read stops it, naming them all, unless skip_bad_images."""
        found = predicting.predict_subject(self.subject, paths, skip_bad_images, stream)
        return Predictions(found, self.subject.class_names)

    def evaluate(self, *, data_dir: str | None = None) -> TestResults:
        """Loss and accuracy on the full test set, per class, with the confusion matrix.

        For a run the results are also saved to its metrics (as `convscope evaluate` does).
        """
        s = self.subject
        dataset = s.load_data(data_dir)
        result = runs.test_evaluation(s.model, s.spec.training or DEFAULT_TRAINING, dataset)
        if s.run is None:  # untrained, or trained in Keras: nowhere to keep the metrics
            return TestResults(runs.score(dataset, result), str(s.origin or self.name), s.epochs)
        report = runs.write_test_report(s.run, dataset, result)
        return TestResults(report, str(s.run.path), s.epochs)

    def layer_outputs(self, image: Image, *, data_dir: str | None = None) -> dict[str, np.ndarray]:
        """{layer name: its output} for one image, in Keras's layout without the batch axis:
        (H, W, C) maps, (F,) vectors. image: a test index, a PNG/JPEG, or a (28, 28) array."""
        pixels = self._pixels(image, data_dir)
        found = inspect.layer_outputs(self.subject.model, pixels, self.subject.scale)
        return {o.name: o.values for o in found[1:]}

    def _pixels(self, image: Image, data_dir: str | None) -> np.ndarray:
        s = self.subject
        s.check_images()  # one image, however it is given
        if isinstance(image, int | str | os.PathLike):
            choice = str(image) if isinstance(image, int) else os.fspath(image)
            dataset = s.load_data(data_dir) if choice.isdigit() else None
            shape = s.spec.input_shape
            return inspect.choose_image(choice, s.photo_preparation(), dataset, shape).pixels
        return inspect.one_input(image, s.spec.input_shape, s.scale)  # (H, W[, C])

    # ---- figures and the report ----
    def view(
        self,
        image: Image | None = None,
        data_dir: str | None = None,
        attribution: Attribution | None = None,
    ) -> View:
        """The data behind the figures: activations of `image`, filters, test results."""
        choice = None if image is None else str(image) if isinstance(image, int) else image
        if choice is not None and not isinstance(choice, str | os.PathLike):
            raise ConvscopeError(
                f"image must be a test-set index or a PNG/JPEG path, got {type(image).__name__}"
            )
        chosen = os.fspath(choice) if choice else None
        return build_view(self.subject, chosen, data_dir, sys.stderr, attribution)

    def figures(
        self,
        image: Image | None = None,
        *,
        position: str | None = None,
        data_dir: str | None = None,
        attribution: bool = False,
        target: int | None = None,
        layer: str | None = None,
        methods: Sequence[str] | None = None,
    ) -> Figures:
        """The figures of `convscope show`: filters, feature maps of `image` (a test index
        or a PNG/JPEG; default test image 0), receptive fields and, for a run, its results.
        position: LAYER:ROW,COL, the position whose window to draw for that layer.
        attribution: also the image's map by every method (`attribute`) or by `methods`,
        for the predicted class or `target`; layer: Grad-CAM's conv layer (default: the
        last)."""
        asked = None
        if attribution:
            chosen = tuple(attributing.check_method(m) for m in methods or attributing.METHODS)
            asked = Attribution(chosen, target, layer)
        view = self.view(image, data_dir, asked)
        return Figures([Figure(p) for p in pictures(view, position)], view.notes)

    def show(
        self,
        output: str | os.PathLike[str] | None = None,
        *,
        image: Image | None = None,
        position: str | None = None,
        data_dir: str | None = None,
        attribution: bool = False,
        target: int | None = None,
        layer: str | None = None,
        methods: Sequence[str] | None = None,
    ) -> Figures:
        """The figures, saved as PNGs: into RUN/figures (default) or `output`."""
        figures = self.figures(
            image, position=position, data_dir=data_dir, attribution=attribution, target=target,
            layer=layer, methods=methods,
        )  # fmt: skip
        figures.save(self._where(output, lambda run: run.figures, "{name}-figures"))
        return figures

    def report(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        image: Image | None = None,
        position: str | None = None,
        pooling: str | os.PathLike[str] | None = None,
        data_dir: str | None = None,
    ) -> Report:
        """Write the self-contained HTML report: RUN/report.html or <name>-report.html by
        default. pooling: a pooling experiment's folder whose results it includes."""
        view = self.view(image, data_dir, Attribution())
        drawn = pictures(view, position)
        measured = None
        if self.subject.run is not None:
            measured = self.subject.run.measured(Path(pooling) if pooling else None)
        page = render_html(view, drawn, measured)
        target = self._where(path, lambda run: run.report, "{name}-report.html")
        data = page.encode()
        atomic_write(target, data)
        return Report(target, len(data), len(drawn))

    def _where(
        self,
        given: str | os.PathLike[str] | None,
        in_run: Callable[[RunDir], Path],
        untrained: str,
    ) -> Path:
        """The path given, else the run's own place, else <name>... in the current folder."""
        if given is not None:
            return Path(given)
        if self.subject.run is not None:
            return in_run(self.subject.run)
        return Path(untrained.format(name=self.name))

    # ---- experiments on this model ----
    def probe(
        self,
        *,
        epochs: int = 5,
        train_images: int | None = None,
        data_dir: str | None = None,
        stream: TextIO | None = None,
    ) -> Probe:
        """A linear probe (logistic regression) on the input pixels and on every layer's
        frozen output, scored on the test set; saved in RUN/experiments for a run."""
        return Probe.of(self.subject, epochs, train_images, data_dir, stream)

    def occlusion(
        self,
        image: Image = 0,
        *,
        patch: int = 5,
        stride: int = 1,
        fill: int = occluding.GREY,
        data_dir: str | None = None,
    ) -> OcclusionMap:
        """Slide a patch over a test image (or a PNG/JPEG) and map how the predicted class's
        probability drops: the pixels the prediction relies on (Zeiler & Fergus 2014).
        fill=128 grey (default); 0 is the background, which only erases ink."""
        return OcclusionMap.of(self.subject, image, patch, stride, fill, data_dir)

    def attribute(
        self,
        images: Any,
        method: str = "gradcam",
        *,
        target: int | None = None,
        layer: str | None = None,
    ) -> np.ndarray:
        """(N, H, W) maps of how much each pixel counts for the predicted class (or
        `target`): saliency, gradient_x_input, smoothgrad, integrated_gradients, gradcam
        (on `layer`, default the last conv layer) or occlusion. images as `predict` takes."""
        s = self.subject
        s.check_images()
        x = inspect.predict_input(images, s.spec.input_shape, s.scale)
        settings = attributing.Settings(layer=layer)
        return attributing.attribute(s.model, x, method, target, settings, s.scale).maps

    def attribution(
        self,
        *,
        images: int = 100,
        deletion_images: int = 1000,
        data_dir: str | None = None,
        stream: TextIO | None = None,
    ) -> AttributionExperiment:
        """Each method's sanity check (Adebayo et al. 2018: maps of the same network with
        its weights randomised from the top, on `images` test images) and deletion
        measurement (accuracy with its top 5-50% pixels removed, on `deletion_images`);
        saved in RUN/experiments for a run."""
        return AttributionExperiment.of(self.subject, images, deletion_images, data_dir, stream)

    # ---- back out ----
    def export(
        self, path: str | os.PathLike[str], *, format: str | None = None, force: bool = False
    ) -> Exported:
        """The model with its weights as .keras (keras.models.load_model reads it), ONNX or a
        shared page's folder ("site"; default: the suffix's). Replaced only if force=True."""
        target = Path(path)
        fmt = format or target.suffix.lower().lstrip(".") or "site"
        if fmt == "site":
            from .site import export_site

            return export_site(self, target, force)
        size = keras_export.export(self.subject.model, target, fmt, force)
        return Exported(target, fmt, size, keras_export.takes(self.subject.spec.input_shape,
                                                              self.subject.scale))  # fmt: skip

    # ---- live ----
    def widget(self) -> Any:
        """The live page in a notebook cell (anywidget): draw a digit, watch every layer."""
        from .widget import widget

        return widget(self)

    def serve(
        self, *, host: str = "127.0.0.1", port: int = 8765, open_browser: bool = False
    ) -> None:
        """The live page at http://127.0.0.1:8765/ until Ctrl-C (`convscope serve`)."""
        from .server import serve

        serve(self, host=host, port=port, open_browser=open_browser)

    # ---- Shown ----
    def data(self) -> dict[str, Any]:
        return {
            "model": self.name,
            "trained": self.trained,
            "run_dir": None if self.path is None else str(self.path),
            "epochs": self.epochs,
            "dataset": self.dataset,
            "input_shape": list(self.subject.spec.input_shape),
            "parameters": self.explain().total_params,
        }

    def text(self) -> str:
        return self.summary() + "\n"

    def html(self) -> str:
        d = self.data()
        facts = [(k.replace("_", " "), str(v)) for k, v in d.items() if v is not None]
        return html.facts_html(f"convscope model: {self.name}", facts)

    def summary(self) -> str:
        state = "untrained"
        if self.trained:
            state = "trained in Keras" if self.epochs is None else f"trained {self.epochs} epochs"
            state += f", {self.path}"
        return f"{self.name} ({state}; {self.dataset})"


def load(target: Target | Run | Any, *, dataset: str | None = None, seed: int = 0) -> Model:
    """A model to look inside.

    target: a run directory (its latest weights), the object `convscope.train` returned,
    a model trained in Keras (a .keras or .h5 file, or a live keras.Model), or a preset
    name / Keras .py file (untrained: Keras's initial weights for `seed`).
    dataset: the data set a Keras model learnt ("mnist", "cifar10"...; a file does not say).
    """
    if dataset is not None:
        one_of(dataset, DATASETS, "dataset")
    if isinstance(target, Run):
        target = target.path
    if keras_read.is_keras_model(target):
        return Model(load_keras(keras_read.from_keras_model(target), dataset))
    path = Path(os.fspath(target))
    if is_keras_file(path):
        return Model(load_keras(keras_read.open_keras_file(path), dataset))
    if path.is_dir():
        subject = open_run(RunDir(path).check().path)
        if dataset is not None and dataset != subject.dataset:
            raise ConvscopeError(
                f"{path} was trained on {subject.dataset}, not {dataset}",
                hint="a run knows its data set: leave dataset out",
            )
        return Model(subject)
    subject = open_model(os.fspath(target), seed)
    subject.dataset = dataset or subject.dataset
    return Model(subject)
