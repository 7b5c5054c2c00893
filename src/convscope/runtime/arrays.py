"""The user's own arrays, as Keras's fit() takes them: from an .npz file or from memory.

An .npz holds x_train, y_train, x_test, y_test (as keras.datasets gives them), and may
hold class_names (strings). It is read with allow_pickle=False: an object array (a
pickle inside) is refused, never loaded. Images are (N, H, W) or (N, H, W, C), or
(N, F) for a model that starts flat, of any numeric type; the model receives them as
they are, as Keras's fit() does (no x / 255 added). Labels are integers (N,), a column
(N, 1) as CIFAR's, or one-hot rows (N, C).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import DataError
from ..core.files import atomic_write

KEYS = ("x_train", "y_train", "x_test", "y_test")


@dataclass(frozen=True)
class ArraysInfo:
    """What a data set of the user's arrays says of itself (data.SetInfo)."""

    name: str
    title: str
    class_names: tuple[str, ...]


def labels_of(y: np.ndarray, what: str, where: str) -> np.ndarray:
    """(N,) integer labels from (N,), (N, 1) or one-hot (N, C) labels."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    elif y.ndim == 2 and np.isin(y, (0, 1)).all() and (y.sum(1) == 1).all():
        y = y.argmax(1)  # one-hot rows, as to_categorical makes them
    if y.ndim != 1:
        raise DataError(
            f"{where}: {what} has shape {y.shape}; labels are (N,), (N, 1) or one-hot (N, C)"
        )
    if y.dtype.kind == "f" and len(y) and not np.array_equal(y, np.round(y)):
        raise DataError(f"{where}: {what} holds fractions; labels are whole class numbers")
    if y.dtype.kind not in "iuf b":
        raise DataError(f"{where}: {what} holds {y.dtype}; labels are whole class numbers")
    return y.astype(np.int64)


def images_of(x: np.ndarray, what: str, where: str) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype.kind not in "iuf b" or x.ndim not in (2, 3, 4):
        raise DataError(
            f"{where}: {what} is {x.dtype} of shape {x.shape}; images are numbers shaped "
            "(N, height, width), (N, height, width, channels) or (N, features)"
        )
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        raise DataError(f"{where}: {what} holds NaN or infinite values")
    return x


def checked(
    arrays: dict[str, np.ndarray], where: str, class_names: tuple[str, ...] | None = None
) -> tuple[tuple[np.ndarray, ...], tuple[str, ...]]:
    """(x_train, y_train, x_test, y_test) checked against each other, and the class names
    (given, else the numbers 0..max label)."""
    x_train, x_test = (images_of(arrays[k], k, where) for k in ("x_train", "x_test"))
    y_train, y_test = (labels_of(arrays[k], k, where) for k in ("y_train", "y_test"))
    for x, y, xs, ys in ((x_train, y_train, "x_train", "y_train"),
                         (x_test, y_test, "x_test", "y_test")):  # fmt: skip
        if len(x) != len(y):
            raise DataError(f"{where}: {xs} has {len(x):,} images but {ys} {len(y):,} labels")
        if not len(x):
            raise DataError(f"{where}: {xs} holds no images")
    if x_train.shape[1:] != x_test.shape[1:]:
        raise DataError(
            f"{where}: x_train's images are {x_train.shape[1:]}, x_test's {x_test.shape[1:]}"
        )
    low = min(int(y_train.min()), int(y_test.min()))
    top = max(int(y_train.max()), int(y_test.max()))
    count = len(class_names) if class_names else top + 1
    if low < 0 or top >= count:
        bad = low if low < 0 else top
        raise DataError(
            f"{where}: label {bad} is out of range: the {count} classes are numbered 0 to "
            f"{count - 1}"
        )
    if count < 2:
        raise DataError(f"{where}: every label is 0; a classifier needs two classes or more")
    names = class_names or tuple(str(i) for i in range(count))
    return (x_train, y_train, x_test, y_test), names


def read_npz(path: Path) -> tuple[tuple[np.ndarray, ...], tuple[str, ...]]:
    """An .npz of Keras-style arrays, checked; never unpickled."""
    with open(path, "rb") as head:
        if head.read(2) != b"PK":  # np.load would take anything else for a pickle
            raise DataError(f"{path}: not a readable .npz file (not a zip archive)")
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in KEYS if k not in npz.files]
            if missing:
                raise DataError(
                    f"{path}: no {', '.join(missing)} in it (it holds "
                    f"{', '.join(npz.files) or 'nothing'})",
                    hint="save it as np.savez(path, x_train=..., y_train=..., x_test=..., "
                    "y_test=...), as keras.datasets gives them",
                )
            arrays = {k: npz[k] for k in KEYS}
            names = tuple(str(n) for n in npz["class_names"]) if "class_names" in npz else None
    except (OSError, zipfile.BadZipFile, EOFError) as error:
        raise DataError(f"{path}: not a readable .npz file ({error})") from None
    except ValueError as error:  # an object array: loading it would unpickle
        raise DataError(f"{path}: holds Python objects, which are not read ({error})") from None
    return checked(arrays, str(path), names)


def class_names(path: Path) -> tuple[str, ...] | None:
    """An .npz's class_names, read alone (the images stay on disk); None when it has none."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            return tuple(str(n) for n in npz["class_names"]) if "class_names" in npz else None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise DataError(f"{path}: not a readable .npz file ({error})") from None


def save_npz(path: Path, arrays: tuple[np.ndarray, ...], names: tuple[str, ...]) -> None:
    """Arrays kept with a run (cs.train with arrays in memory), so it can be looked at and
    resumed later; written whole or not at all."""
    buffer = io.BytesIO()
    named: dict[str, Any] = dict(zip(KEYS, arrays, strict=True))
    np.savez(buffer, **named, class_names=np.array(names))
    atomic_write(path, buffer.getvalue())
