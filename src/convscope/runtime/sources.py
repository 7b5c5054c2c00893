"""Where a run's data comes from, read the one way every command reads it.

`settings.training.dataset` is a data set's name (MNIST, CIFAR: `data.load`), the
absolute path of the user's folder of photos (`folders`) or .npz (`arrays`), or
`arrays.npz` relative to the run directory: the arrays cs.train was given in memory.
On a Ray node a sweep's data set is the copy the driver shipped (`place`).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TextIO

import numpy as np

from ..core.errors import DataError
from ..core.rundir import ARRAYS
from ..core.settings import Settings
from ..core.training import COLOR_MODES, data_kind
from . import arrays, data, folders

PLACED: dict[str, Path] = {}  # data set -> this node's copy (runtime/sweep/shipping.py)


def place(dataset: str, path: Path) -> None:
    """From now on, in this process, read `dataset` from `path`: on a Ray node, the copy
    of the driver's data (a named set as an .npz of its arrays, the user's file or folder)."""
    PLACED[dataset] = path


def folder_shape(settings: Settings) -> tuple[tuple[int, int], int]:
    """(size, channels) a folder's photos are read at: --image-size and --color-mode, else
    the model's own input (the image_size=... its script gives Keras)."""
    shape = settings.input_shape
    size = settings.image_size or (tuple(shape[:2]) if len(shape) == 3 else None)
    mode = settings.color_mode
    channels = COLOR_MODES[mode] if mode else (shape[2] if len(shape) == 3 else None)
    if size is None or channels is None:
        raise DataError(
            f"the model takes {shape}, not images: say how to read the folder's photos",
            hint="pass --image-size H,W and --color-mode grayscale|rgb|rgba",
        )
    if channels not in COLOR_MODES.values():
        raise DataError(
            f"the model takes {channels} channels; photos are read with 1 (grayscale), "
            "3 (rgb) or 4 (rgba)",
            hint="pass --color-mode, and an input shape that matches it",
        )
    return (int(size[0]), int(size[1])), int(channels)


def load_for(
    settings: Settings,
    run_dir: Path | None = None,
    *,
    data_dir: str | None = None,
    allow_download: bool = True,
    stream: TextIO | None = None,
) -> data.Dataset:
    """The data a run trains and is tested on, from wherever its settings say."""
    name = settings.training.dataset
    kind = data_kind(name)
    if kind == "named" and name in PLACED:
        (x_train, y_train, x_test, y_test), _ = arrays.read_npz(PLACED[name])
        info = data.dataset_info(name)
        return data.Dataset(info, x_train, y_train, x_test, y_test, source=PLACED[name])
    if kind == "named":
        return data.load(
            name, data_dir or settings.data_dir, allow_download=allow_download, stream=stream
        )
    path = located(name, run_dir)
    if kind == "arrays":
        return from_arrays(path, *arrays.read_npz(path))
    size, channels = folder_shape(settings)
    read = folders.read_folder(
        path,
        size,
        channels,
        validation_split=settings.validation_split,
        seed=settings.seed,
        skip_bad=settings.skip_bad_images,
        stream=stream,
    )
    info = arrays.ArraysInfo(path.name, f"{path.name} (your photos)", read.class_names)
    return data.Dataset(
        info,
        *read.train,
        *read.test,
        source=path,
        scale=False,  # image_dataset_from_directory gives 0..255 floats
        validation=read.validation,
        validation_name=read.validation_name,
        skipped=read.skipped,
    )


def located(name: str, run_dir: Path | None) -> Path:
    """The user's folder or .npz (absolute), or arrays kept in the run directory."""
    path = PLACED.get(name, Path(name))
    if not path.is_absolute():
        if run_dir is None:
            raise DataError(f"{name}: the run's own arrays, but no run directory was given")
        path = run_dir / path
    if not path.exists():
        raise DataError(
            f"{path}: the run's data is no longer there",
            hint="put it back where it was trained from",
        )
    return path


def class_names_of(settings: Settings, run_dir: Path | None, units: int) -> tuple[str, ...]:
    """A run's class names without reading its images: the data set's, the folder's class
    subfolders, the .npz's class_names, else the numbers of the model's outputs."""
    name = settings.training.dataset
    kind = data_kind(name)
    if kind == "named":
        return data.dataset_info(name).class_names
    path = located(name, run_dir)
    if kind == "folder":
        return tuple(folders.class_folders(folders.subsets(path).get("train", path)))
    return arrays.class_names(path) or tuple(str(i) for i in range(units))


def title_of(dataset: str) -> str:
    """'MNIST', 'CIFAR-10', or the user's folder's or file's name."""
    if data_kind(dataset) == "named":
        return data.dataset_info(dataset).title.split(" ")[0]
    return "your arrays" if dataset == ARRAYS else Path(dataset).name


def from_arrays(path: Path, split: tuple[np.ndarray, ...], names: tuple[str, ...]) -> data.Dataset:
    x_train, y_train, x_test, y_test = split
    stem = "your arrays" if path.name == "arrays.npz" else path.name
    info = arrays.ArraysInfo(stem, stem, names)
    return data.Dataset(info, x_train, y_train, x_test, y_test, source=path, scale=False)


def numbered_to(dataset: data.Dataset, units: int) -> data.Dataset:
    """Arrays without class names are numbered up to their highest label; a model with more
    outputs (a class missing from a small sample) numbers them up to its own count."""
    names = dataset.info.class_names
    numbered = names == tuple(str(i) for i in range(len(names)))
    if not isinstance(dataset.info, arrays.ArraysInfo) or not numbered or units <= len(names):
        return dataset
    info = replace(dataset.info, class_names=tuple(str(i) for i in range(units)))
    return replace(dataset, info=info)
