"""The presets by name: each is its Keras source (read by the same importer as a user's
file, so the code shown is the code explained) plus the training settings its origin used.
Origins: ../shared/seeds/ in the project's steering repository, and each preset's own.
"""

from __future__ import annotations

from dataclasses import replace

from ..errors import ConvscopeError
from ..source.read import read_model
from ..spec import ModelSpec
from .classic import CHOLLET, COURSERA_FASHION, KERAS_MNIST_CNN, TF_COURSE
from .colour import CHOLLET_CATS_DOGS, KERAS_CIFAR10_CNN
from .preset import Preset
from .residual import RESIDUAL_MNIST, RESNET20_CIFAR
from .tuned import BEST_FASHION, BEST_MNIST, SPEEDRUN

PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        CHOLLET,
        KERAS_MNIST_CNN,
        TF_COURSE,
        COURSERA_FASHION,
        SPEEDRUN,
        BEST_MNIST,
        BEST_FASHION,
        KERAS_CIFAR10_CNN,
        CHOLLET_CATS_DOGS,
        RESIDUAL_MNIST,
        RESNET20_CIFAR,
    )
}


def get(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise ConvscopeError(f"no preset named {name!r}; presets: {', '.join(PRESETS)}") from None


def model(name: str, input_shape: tuple[int, ...] | None = None) -> ModelSpec:
    """The preset's model, read from its Keras source, with its training settings."""
    preset = get(name)
    spec = read_model(preset.source, preset.name, input_shape=input_shape).spec
    return replace(spec, training=preset.training)
