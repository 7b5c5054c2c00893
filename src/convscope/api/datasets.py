"""`convscope.load_data`: MNIST or Fashion-MNIST as Keras's `load_data()` gives them.

    (x_train, y_train), (x_test, y_test) = cs.load_data("mnist")

The same arrays as keras.datasets.mnist.load_data(): uint8 images (N, 28, 28), 0-255,
and uint8 labels (N,), read from the official IDX files (checked) where convscope finds
them ($CONVSCOPE_DATA, the cache, /usr/share/datasets), else downloaded once.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from ..core.settings import one_of
from ..core.training import DATASETS
from ..runtime import data

if TYPE_CHECKING:
    import numpy as np

Pair = tuple["np.ndarray", "np.ndarray"]


def load_data(
    name: str = "mnist", *, data_dir: str | os.PathLike[str] | None = None
) -> tuple[Pair, Pair]:
    """((x_train, y_train), (x_test, y_test)) of "mnist" or "fashion-mnist"."""
    folder = None if data_dir is None else os.fspath(data_dir)
    found = data.load(one_of(name, DATASETS, "name"), folder, stream=sys.stderr)
    return (found.train_images, found.train_labels), (found.test_images, found.test_labels)
