"""The model being looked at: a `Subject` is a model with the weights it has now, a
trained run's (its latest weights), a model trained in Keras (runtime.keras.load), or
an untrained preset's or file's (Keras's initial weights for a seed), with the data set
it is for and how that data reaches it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from ..core import spec as s
from ..core.errors import ConvscopeError
from ..core.explain.table import fmt_shape
from ..core.load import load_with_source
from ..core.rundir import RunDir
from ..core.settings import Settings, model_name
from ..core.training import DEFAULT_TRAINING, data_kind
from . import data, sources
from .heads import is_binary
from .keras.pretrained import load_pretrained
from .nn.model import KerasModel
from .runs import load_trained


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
                hint="pass --dataset with the data set it learnt: mnist, fashion-mnist, cifar10 "
                "or cifar100 (dataset= in Python)",
            )
        return self.dataset

    def photo_preparation(self) -> str:
        """What a user's own image is prepared for: a grey model's data set (MNIST's
        centring, Fashion-MNIST's), which a Keras file must be told; a colour model's photo
        is resized to its input whatever it learnt ("" where a Keras file does not say)."""
        if len(self.spec.input_shape) == 3 and self.spec.input_shape[-1] != 1:
            return self.dataset or ""
        return self.need_dataset()

    @property
    def class_names(self) -> tuple[str, ...]:
        units = 2 if is_binary(self.model) else self.model.shapes[-1][-1]
        if self.dataset is None or (self.settings is None and data_kind(self.dataset) != "named"):
            return tuple(str(i) for i in range(units))  # a Keras file, an untrained photo preset
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

    @property
    def scale(self) -> bool:
        """x / 255 before the model, as for MNIST and CIFAR; the user's own arrays and
        photos go in as they are (Keras's fit and image_dataset_from_directory)."""
        return self.dataset is None or data_kind(self.dataset) == "named"

    def check_images(self) -> None:
        """A clear error unless the model takes images: (H, W, C), or MNIST's 784 pixels
        flattened; looking inside draws them."""
        if len(self.spec.input_shape) != 3 and self.spec.input_shape != (784,):
            raise ConvscopeError(
                f"{self.name} takes {fmt_shape(self.spec.input_shape)}, not images; looking "
                "inside a model (predict of a photo, show, report, serve, attribution, "
                "occlusion) draws (height, width, channels) images",
                hint="explain, train, evaluate and predict of arrays work on any input",
            )

    def fits_data(self, dataset: data.Dataset) -> bool:
        """The data set's images are the model's input (or MNIST's, flattened)."""
        shape = tuple(dataset.test_images.shape[1:])
        shape = (*shape, 1) if len(shape) == 2 else shape
        wanted = self.spec.input_shape
        return shape == wanted or (len(wanted) == 1 and math.prod(shape) == wanted[0])


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
    load_pretrained(model, required=False)  # keras.applications' weights, when Keras has them
    return Subject(spec, text, model, (spec.training or DEFAULT_TRAINING).dataset)


# ---- the view: one image, the filters, the test set ----
