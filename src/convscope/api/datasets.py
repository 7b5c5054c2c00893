"""`convscope.load_data`: MNIST, Fashion-MNIST, CIFAR-10 or CIFAR-100 as Keras's
`load_data()` gives them.

    (x_train, y_train), (x_test, y_test) = cs.load_data("mnist")
    (x_train, y_train), (x_test, y_test) = cs.load_data("cifar10")

The same arrays as keras.datasets: MNIST's uint8 images (N, 28, 28) and labels (N,);
CIFAR's uint8 images (N, 32, 32, 3) and labels (N, 1) (CIFAR-100: the fine labels). Read
from the official files (checked) where convscope finds them ($CONVSCOPE_DATA, the cache,
/usr/share/datasets, Keras's own cache), else downloaded once.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from ..core.settings import one_of
from ..core.training import COLOUR, DATASETS
from ..runtime import data

if TYPE_CHECKING:
    import numpy as np

Pair = tuple["np.ndarray", "np.ndarray"]


def load_data(
    name: str = "mnist", *, data_dir: str | os.PathLike[str] | None = None
) -> tuple[Pair, Pair]:
    """((x_train, y_train), (x_test, y_test)) of "mnist", "fashion-mnist", "cifar10" or
    "cifar100"."""
    folder = None if data_dir is None else os.fspath(data_dir)
    found = data.load(one_of(name, DATASETS, "name"), folder, stream=sys.stderr)
    if name in COLOUR:  # keras.datasets gives CIFAR's labels as a column
        return (found.train_images, found.train_labels[:, None]), (
            found.test_images,
            found.test_labels[:, None],
        )
    return (found.train_images, found.train_labels), (found.test_images, found.test_labels)
