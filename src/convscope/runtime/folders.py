"""A folder of images read by `keras.utils.image_dataset_from_directory`'s rules.

Keras 3 (keras/src/utils/dataset_utils.py, index_directory and
get_training_or_validation_split; image_dataset_utils.py):

- the classes are the folder's subfolders in sorted order, those starting with "." left
  out; each is walked to any depth (os.walk, folders and files sorted), keeping files
  whose lower-cased name ends in .bmp, .gif, .jpeg, .jpg or .png;
- the files are listed class by class, then shuffled with np.random.RandomState(seed);
- validation_split v keeps the last int(v * n) shuffled files for validation.

Two layouts are read: one folder of class subfolders, split as above (the validation
part is also the test set), or Chollet's train/ + validation/ (+ test/) folders, each
holding the same class subfolders, used as they are.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from ..core.errors import DataError
from .imagecache import Decoded, decoded

FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
SUBSETS = ("train", "validation", "test")  # Chollet's layout (Deep Learning with Python, 8.2)
DEFAULT_VALIDATION = 0.2  # when one folder is split and the user names no fraction


@dataclass(frozen=True)
class Indexed:
    """The files of one folder as Keras lists them before shuffling."""

    folder: Path
    class_names: tuple[str, ...]
    files: tuple[str, ...]  # relative to the folder: "cats/cat.1.jpg"
    labels: np.ndarray  # (N,) int64


def class_folders(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def images_in(folder: Path) -> list[str]:
    """Keras's iter_valid_files without following links: roots sorted, files sorted."""
    found = []
    for root, _, files in sorted(os.walk(folder), key=lambda walked: walked[0]):
        for name in sorted(files):
            if name.lower().endswith(FORMATS):
                found.append(os.path.relpath(os.path.join(root, name), folder.parent))
    return found


def index_folder(folder: Path, where: str) -> Indexed:
    """Every image of every class subfolder, with its label; a clear error for a folder
    that is not one a classifier can learn from."""
    if not folder.is_dir():
        raise DataError(f"{where}: not a folder")
    names = class_folders(folder)
    if len(names) < 2:
        found = f"one, {names[0]}/" if names else "none"
        raise DataError(
            f"{where}: a folder of images needs one subfolder per class, at least two; "
            f"found {found}",
            hint="as keras.utils.image_dataset_from_directory reads it: photos/cats/*.jpg, "
            "photos/dogs/*.jpg",
        )
    files: list[str] = []
    labels: list[int] = []
    for label, name in enumerate(names):
        images = images_in(folder / name)
        if not images:
            raise DataError(
                f"{where}: the class folder {name}/ holds no images ({', '.join(FORMATS)})",
                hint="remove the empty folder, or put its images in it",
            )
        files += images
        labels += [label] * len(images)
    return Indexed(folder, tuple(names), tuple(files), np.array(labels, dtype=np.int64))


def keras_split(n: int, validation_split: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(training, validation) indices into the unshuffled list, as Keras picks them for
    this seed: RandomState(seed) shuffles the list (the same permutation as
    `permutation(n)`), the last int(v * n) validate."""
    order = np.random.RandomState(seed).permutation(n)
    held = int(validation_split * n)
    if held == 0 or held == n:
        raise DataError(
            f"validation_split {validation_split:g} of {n} images leaves "
            f"{'no validation' if held == 0 else 'no training'} images",
            hint="give a fraction that keeps at least one image on each side",
        )
    return order[: n - held], order[n - held :]


class Rows:
    """Some rows of an array or of a cache file, read only when indexed: a split of a
    cache without copying it."""

    def __init__(self, array: Any, index: np.ndarray) -> None:
        self.array, self.index = array, np.asarray(index, dtype=np.int64)
        self.shape = (len(self.index), *array.shape[1:])
        self.dtype, self.ndim = array.dtype, array.ndim

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, key: Any) -> np.ndarray:
        rows = self.index[key]
        if np.ndim(rows) == 0:
            return np.asarray(self.array[int(rows)])
        order = np.argsort(rows)  # read the file forwards, hand back in the order asked
        out = np.empty((len(rows), *self.array.shape[1:]), self.array.dtype)
        out[order] = self.array[rows[order]]
        return out

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self[np.arange(len(self))] if dtype is None else self[:].astype(dtype)


@dataclass(frozen=True)
class FolderData:
    """A folder's images split for training: arrays, labels and what was left out."""

    class_names: tuple[str, ...]
    train: tuple[Rows, np.ndarray]
    validation: tuple[Rows, np.ndarray]
    test: tuple[Rows, np.ndarray]
    validation_name: str
    skipped: tuple[str, ...]  # files that are not readable images, with --skip-bad-images


def subsets(folder: Path) -> dict[str, Path]:
    """Chollet's train/ validation/ test/ folders, when `folder` holds train/ and one more."""
    found = {name: folder / name for name in SUBSETS if (folder / name).is_dir()}
    return found if "train" in found and len(found) > 1 else {}


def read_folder(
    folder: Path,
    size: tuple[int, int],
    channels: int,
    *,
    validation_split: float | None,
    seed: int,
    skip_bad: bool,
    stream: TextIO | None = None,
) -> FolderData:
    """The folder's images at `size` (bilinear) with `channels`, decoded once into a
    cache file, split as Keras splits them (or as the subfolders say)."""
    parts = subsets(folder)
    if not parts:
        return split_one(folder, size, channels, validation_split, seed, skip_bad, stream)
    kept: dict[str, tuple[Rows, np.ndarray, Indexed, Decoded]] = {}  # rows, labels, files
    for name, path in parts.items():
        indexed = index_folder(path, str(path))
        cache = decoded(indexed, size, channels, skip_bad, stream)
        good = np.flatnonzero(cache.good)
        kept[name] = (Rows(cache.images, good), indexed.labels[good], indexed, cache)
    names = kept["train"][2].class_names
    for name, (_, _, indexed, _) in kept.items():
        if indexed.class_names != names:
            raise DataError(
                f"{folder / name}: its classes {list(indexed.class_names)} differ from "
                f"train/'s {list(names)}",
                hint="each of train/, validation/ and test/ needs the same class subfolders",
            )
    validation = kept.get("validation", kept.get("test"))
    test = kept.get("test", validation)
    assert validation is not None and test is not None
    return FolderData(
        names,
        kept["train"][:2],
        validation[:2],
        test[:2],
        f"{validation[2].folder.name}/",
        tuple(f for *_, c in kept.values() for f in c.bad_files),
    )


def split_one(
    folder: Path,
    size: tuple[int, int],
    channels: int,
    validation_split: float | None,
    seed: int,
    skip_bad: bool,
    stream: TextIO | None,
) -> FolderData:
    """One folder of classes: Keras's shuffled split, the validation part also tested."""
    indexed = index_folder(folder, str(folder))
    cache = decoded(indexed, size, channels, skip_bad, stream)
    fraction = validation_split or DEFAULT_VALIDATION
    train, held = keras_split(len(indexed.files), fraction, seed)
    train, held = train[cache.good[train]], held[cache.good[held]]  # bad files left out
    validation = (Rows(cache.images, held), indexed.labels[held])
    return FolderData(
        indexed.class_names,
        (Rows(cache.images, train), indexed.labels[train]),
        validation,
        validation,
        f"{fraction:.0%} of the images (validation_split={fraction:g}, seed={seed})",
        cache.bad_files,
    )
