"""The shapes of the data sets a script loads, so `input_shape=x_train.shape[1:]` and
`num_classes = len(np.unique(y_train))` have values without running the file.

`mnist.load_data()` (and fashion_mnist, cifar10, cifar100) gives arrays whose shapes
Keras documents; the few numpy and Keras operations scripts apply to them before
building a model (reshape, expand_dims, x[..., None], x / 255, astype, to_categorical,
np.unique, slicing, len, and normalising with a reduction: (x - np.mean(x, axis=...)) /
np.std(x)) are followed on the shape alone. `keras.utils.image_dataset_from_directory`
gives batches of a size its arguments say (image_size, default 256x256; color_mode, default
rgb). Anything else is unknown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

# name in keras.datasets -> (train images, test images, labels' shape after N, classes)
DATASETS: dict[str, tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], int]] = {
    "mnist": ((60000, 28, 28), (10000, 28, 28), (), 10),
    "fashion_mnist": ((60000, 28, 28), (10000, 28, 28), (), 10),
    "cifar10": ((50000, 32, 32, 3), (10000, 32, 32, 3), (1,), 10),
    "cifar100": ((50000, 32, 32, 3), (10000, 32, 32, 3), (1,), 100),
}


@dataclass(frozen=True)
class DataArray:
    """An array known by its shape only: images, or labels with their class count."""

    shape: tuple[int, ...]
    what: str  # "mnist's training images", for notes
    classes: int | None = None  # labels: how many classes their values run over


@dataclass(frozen=True)
class ImageFolder:
    """`image_dataset_from_directory(...)`: batches of images of one known shape (H, W, C)."""

    image_shape: tuple[int, int, int]
    what: str


@dataclass(frozen=True)
class DataMethod:
    array: DataArray | ImageFolder
    name: str


REDUCTIONS = frozenset({"mean", "std", "var", "min", "max", "sum", "median", "amin", "amax"})
# tf.data.Dataset methods that keep the batches as they are
KEEPS_BATCHES = frozenset(
    {"cache", "shuffle", "prefetch", "repeat", "take", "skip", "with_options", "apply_options"}
)
COLOR_CHANNELS = {"rgb": 3, "grayscale": 1, "rgba": 4}  # image_dataset_from_directory's


def image_folder(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """`image_dataset_from_directory(directory, labels, label_mode, class_names, color_mode,
    batch_size, image_size, ...)` with Keras's defaults (keras/src/utils/image_dataset_utils.py):
    image_size (256, 256), color_mode "rgb"; subset="both" gives (train, validation)."""
    params = ("directory", "labels", "label_mode", "class_names", "color_mode", "batch_size",
              "image_size", "shuffle", "seed", "validation_split", "subset")  # fmt: skip
    bound = {**dict(zip(params, args, strict=False)), **kwargs}
    size, color = bound.get("image_size", (256, 256)), bound.get("color_mode", "rgb")
    if not (
        isinstance(size, (tuple, list))
        and len(size) == 2
        and all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in size)
        and color in COLOR_CHANNELS
    ):
        return None
    h, w = size
    folder = ImageFolder((h, w, COLOR_CHANNELS[color]), f"image_dataset_from_directory's "
                         f"{h}x{w} {color} images")  # fmt: skip
    return (folder, folder) if bound.get("subset") == "both" else folder


def reduce(array: DataArray, axis: Any, keepdims: Any = False) -> DataArray | None:
    """np.mean(x, axis=(0, 1, 2)) and the like: the shape that is left (a statistic)."""
    rank = len(array.shape)
    if axis is None:
        axes = set(range(rank))
    elif isinstance(axis, int) and not isinstance(axis, bool):
        axes = {axis % rank} if -rank <= axis < rank else set()
    elif isinstance(axis, (tuple, list)) and all(isinstance(a, int) for a in axis):
        axes = {a % rank for a in axis if -rank <= a < rank}
        if len(axes) != len(axis):
            return None
    else:
        return None
    if not axes or keepdims not in (True, False):
        return None
    kept = tuple(
        1 if i in axes else d for i, d in enumerate(array.shape) if keepdims or i not in axes
    )
    return DataArray(kept, f"a statistic of {array.what}")


def broadcast(left: DataArray, right: DataArray) -> DataArray | None:
    """x - mean: numpy's broadcasting of two shapes; the larger array's description."""
    a, b = left.shape[::-1], right.shape[::-1]
    shape = []
    for i in range(max(len(a), len(b))):
        x, y = a[i] if i < len(a) else 1, b[i] if i < len(b) else 1
        if x != y and 1 not in (x, y):
            return None
        shape.append(max(x, y))
    big = left if len(left.shape) >= len(right.shape) else right
    return replace(big, shape=tuple(shape[::-1]))


def load_data(dataset: str) -> tuple[tuple[DataArray, DataArray], tuple[DataArray, DataArray]]:
    train, test, label, classes = DATASETS[dataset]
    return (
        (DataArray(train, f"{dataset}'s training images"),
         DataArray((train[0], *label), f"{dataset}'s training labels", classes)),
        (DataArray(test, f"{dataset}'s test images"),
         DataArray((test[0], *label), f"{dataset}'s test labels", classes)),
    )  # fmt: skip


def dataset_of(path: str) -> str | None:
    """`keras.datasets.mnist.load_data` -> 'mnist'."""
    parts = path.split(".")
    if parts[-1] != "load_data" or len(parts) < 2:
        return None
    return parts[-2] if parts[-2] in DATASETS else None


def reshaped(array: DataArray, shape: Any) -> DataArray | None:
    """x.reshape(-1, 28, 28, 1): one -1 is worked out from the size."""
    dims = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
    if not all(isinstance(d, int) and not isinstance(d, bool) for d in dims):
        return None
    size = math.prod(array.shape)
    known = math.prod(d for d in dims if d != -1)
    if dims.count(-1) > 1 or known <= 0 or size % known:
        return None
    full = tuple(size // known if d == -1 else d for d in dims)
    return replace(array, shape=full) if math.prod(full) == size else None


def expand(array: DataArray, axis: Any) -> DataArray | None:
    if not isinstance(axis, int):
        return None
    rank = len(array.shape) + 1
    where = axis if axis >= 0 else rank + axis
    if not 0 <= where < rank:
        return None
    return replace(array, shape=(*array.shape[:where], 1, *array.shape[where:]))


def method(call: DataMethod, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """x.reshape(...), x.astype(...), y.max(), x.mean(axis=...), ds.cache(): on the shape
    alone; None when unknown."""
    array, name = call.array, call.name
    if isinstance(array, ImageFolder):
        return array if name in KEEPS_BATCHES else None
    if name == "max" and array.classes is not None and not args:
        return array.classes - 1
    if name in REDUCTIONS:
        return reduce(array, args[0] if args else kwargs.get("axis"), kwargs.get("keepdims", False))
    if name == "reshape" and args:
        return reshaped(array, args[0] if len(args) == 1 else args)
    if name in ("astype", "copy"):
        return array
    return None


def module_call(leaf: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """np.expand_dims, np.reshape, np.unique, to_categorical, np.asarray on a DataArray."""
    if not args or not isinstance(args[0], DataArray):
        return None
    array = args[0]
    if leaf == "expand_dims":
        return expand(array, args[1] if len(args) > 1 else kwargs.get("axis"))
    if leaf == "reshape" and len(args) > 1:
        return reshaped(array, args[1])
    if leaf in ("asarray", "array", "float32"):
        return array
    if leaf == "unique" and array.classes is not None:
        return DataArray((array.classes,), f"the classes of {array.what}")
    if leaf == "max" and array.classes is not None:
        return array.classes - 1
    if leaf in REDUCTIONS:
        axis = args[1] if len(args) > 1 else kwargs.get("axis")
        return reduce(array, axis, kwargs.get("keepdims", False))
    if leaf == "to_categorical" and array.classes is not None:
        given = args[1] if len(args) > 1 else kwargs.get("num_classes")
        classes = given if isinstance(given, int) else array.classes
        return DataArray((array.shape[0], classes), f"{array.what}, one-hot", classes)
    return None


def subscript(array: DataArray, index: Any) -> DataArray | None:
    """x[:1000], x[..., None], x[..., np.newaxis]: the shape that indexing gives."""
    if isinstance(index, slice):
        return replace(array, shape=(len(range(array.shape[0])[index]), *array.shape[1:]))
    if isinstance(index, tuple) and len(index) == 2 and index[0] is Ellipsis and index[1] is None:
        return replace(array, shape=(*array.shape, 1))
    return None


def attribute(array: DataArray | ImageFolder, name: str) -> Any:
    if isinstance(array, ImageFolder):
        return DataMethod(array, name) if name in KEEPS_BATCHES else None
    if name == "shape":
        return array.shape
    if name == "ndim":
        return len(array.shape)
    if name == "size":
        return math.prod(array.shape)
    if name == "T":
        return None
    return DataMethod(array, name)
