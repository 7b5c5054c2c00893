"""Keras's own dataset cache (`$KERAS_HOME/datasets`, else `~/.keras/datasets`), read as
data: what `keras.datasets.*.load_data()` downloaded is used rather than fetched again.

    mnist.npz                                   x_train, y_train, x_test, y_test (npy, no pickle)
    fashion-mnist/*-ubyte.gz                    the IDX files (runtime.data reads them)
    cifar-10-batches-py[-target/cifar-10-batches-py]/data_batch_1..5, test_batch
    cifar-100-python[-target/cifar-100-python]/train, test
                                                Python pickles (Keras 2's layout, Keras 3's)

The CIFAR batches are pickles written by Python 2. They are read with an unpickler that
may build numpy arrays and plain containers and nothing else (as Keras's own
RestrictedUnpickler and torch.load(weights_only=True) do): any other global, such as
os.system in a hostile file, is refused before it is looked up, so nothing in the file
runs. What comes out is then checked: the keys, dtypes and sizes a CIFAR batch has.
"""

from __future__ import annotations

import io
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from ...core.errors import ConvscopeError

MAX_PICKLE = 200_000_000  # bytes of one batch file: CIFAR-100's train is 155 MB
# the only globals a pickled numpy array needs (numpy < 2 and >= 2 spell multiarray apart)
ARRAY_GLOBALS = frozenset(
    {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
    }
)


def keras_datasets() -> Path:
    """Where Keras keeps its downloads: $KERAS_HOME/datasets, else ~/.keras/datasets."""
    home = os.environ.get("KERAS_HOME") or str(Path.home() / ".keras")
    return Path(home) / "datasets"


class ArraysOnly(pickle.Unpickler):
    """Builds numpy arrays, dicts, lists, tuples, numbers and strings; refuses anything else."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in ARRAY_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"it names {module}.{name}, which is not a numpy array")


def read_pickle(path: Path) -> Any:
    """A pickle of arrays and plain containers; ConvscopeError naming the file otherwise."""
    try:
        size = path.stat().st_size
        if size > MAX_PICKLE:
            raise ConvscopeError(f"{path}: {size:,} bytes is larger than a CIFAR batch")
        data = path.read_bytes()
    except OSError as error:
        raise ConvscopeError(f"cannot read {path} ({error.strerror or error})") from None
    try:
        return ArraysOnly(io.BytesIO(data), encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as error:
        raise ConvscopeError(
            f"{path}: refused: not a pickle of numpy arrays ({error}); nothing in it was run",
            hint="delete it, and convscope (or Keras) downloads the data set again",
        ) from None


def cifar_batch(path: Path, label_key: bytes, records: int) -> tuple[np.ndarray, np.ndarray]:
    """One batch of Keras's cache: images (N, 32, 32, 3) and labels (N,), both uint8."""
    found = read_pickle(path)
    data = found.get(b"data") if isinstance(found, dict) else None
    labels = found.get(label_key) if isinstance(found, dict) else None
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.shape != (records, 3072):
        shape = getattr(data, "shape", None)
        raise ConvscopeError(
            f"{path}: not a CIFAR batch: its data is {shape}, not ({records}, 3072)"
        )
    if not isinstance(labels, list) or len(labels) != records:
        raise ConvscopeError(f"{path}: not a CIFAR batch: no {records} labels under {label_key!r}")
    y = np.asarray(labels)
    if y.dtype.kind not in "iu" or y.min() < 0 or y.max() > 99:
        raise ConvscopeError(f"{path}: labels must be class numbers 0-99")
    x = data.reshape(records, 3, 32, 32).transpose(0, 2, 3, 1)  # planes -> (N, H, W, C)
    return np.ascontiguousarray(x), y.astype(np.uint8)


def cifar_folder(name: str) -> Path | None:
    """Keras's extracted CIFAR folder, as Keras 3 (…-target/…) or Keras 2 left it."""
    base = keras_datasets()
    for folder in (base / f"{name}-target" / name, base / name):
        if folder.is_dir():
            return folder
    return None
