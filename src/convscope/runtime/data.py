"""MNIST and Fashion-MNIST from their IDX files: find, validate, download, load.

IDX (LeCun's format): a 4-byte magic `0x00 0x00 <type> <ndim>`, then `ndim` big-endian
uint32 sizes, then the values; 0x08 is unsigned bytes. Files may be gzip-compressed.
Known files are checked against the SHA-256 of their decompressed content, because the
`.gz` bytes differ between mirrors.

Where a data set is looked for, in order: `--data-dir`, `$CONVSCOPE_DATA/<name>`, the
per-user cache (`$XDG_CACHE_HOME/convscope/<name>`, else `~/.cache/convscope/<name>`),
`/usr/share/datasets/<name>` (Debian's dataset-fashion-mnist), Keras's own cache
(`~/.keras/datasets`: fashion-mnist/'s IDX files, mnist.npz read without pickle and
checked array by array against the IDX files' checksums), and last a download from the
public mirrors into the cache, checked and written atomically.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Protocol, TextIO

import numpy as np

from ..core.errors import DataError
from ..core.files import atomic_write
from .download import Progress, fetch
from .keras.datasets import keras_datasets

IDX_UBYTE = 0x08


@dataclass(frozen=True)
class IdxFile:
    """One of a data set's four files: its name, expected shape and content checksum."""

    stem: str  # e.g. train-images-idx3-ubyte
    shape: tuple[int, ...]
    sha256: str  # of the decompressed content


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    title: str
    class_names: tuple[str, ...]
    train_images: IdxFile
    train_labels: IdxFile
    test_images: IdxFile
    test_labels: IdxFile
    mirrors: tuple[str, ...]

    @property
    def files(self) -> tuple[IdxFile, ...]:
        return self.train_images, self.train_labels, self.test_images, self.test_labels


DATASETS = {
    "mnist": DatasetInfo(
        name="mnist",
        title="MNIST handwritten digits",
        class_names=tuple(str(d) for d in range(10)),
        train_images=IdxFile(
            "train-images-idx3-ubyte",
            (60000, 28, 28),
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        ),
        train_labels=IdxFile(
            "train-labels-idx1-ubyte",
            (60000,),
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        ),
        test_images=IdxFile(
            "t10k-images-idx3-ubyte",
            (10000, 28, 28),
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        ),
        test_labels=IdxFile(
            "t10k-labels-idx1-ubyte",
            (10000,),
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        ),
        mirrors=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
        ),
    ),
    "fashion-mnist": DatasetInfo(
        name="fashion-mnist",
        title="Fashion-MNIST (Zalando Research)",
        class_names=(
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ),
        train_images=IdxFile(
            "train-images-idx3-ubyte",
            (60000, 28, 28),
            "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        ),
        train_labels=IdxFile(
            "train-labels-idx1-ubyte",
            (60000,),
            "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        ),
        test_images=IdxFile(
            "t10k-images-idx3-ubyte",
            (10000, 28, 28),
            "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        ),
        test_labels=IdxFile(
            "t10k-labels-idx1-ubyte",
            (10000,),
            "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        ),
        mirrors=(
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
        ),
    ),
}


class SetInfo(Protocol):
    """What every data set says of itself (MNIST's IDX files, CIFAR's archive)."""

    @property
    def name(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def class_names(self) -> tuple[str, ...]: ...


def dataset_info(name: str) -> SetInfo:
    from .cifar import CIFAR  # CIFAR's reader builds on this module

    known: dict[str, SetInfo] = {**DATASETS, **CIFAR}
    if name not in known:
        raise DataError(f"unknown data set {name!r}; data sets: {', '.join(known)}")
    return known[name]


# ---- reading and validating one IDX file ----


def gunzip(raw: bytes, where: str) -> bytes:
    """The content of an IDX file, whether gzip-compressed (magic 1f 8b) or raw."""
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as error:
        raise DataError(f"{where}: not a valid gzip file ({error})") from None


def parse_idx(content: bytes, where: str) -> np.ndarray:
    """The array an IDX file holds; DataError naming exactly what is wrong otherwise."""
    if len(content) < 4:
        raise DataError(f"{where}: {len(content)} bytes is too short for an IDX header")
    zero, dtype, ndim = struct.unpack(">HBB", content[:4])
    if zero != 0 or dtype != IDX_UBYTE or not 1 <= ndim <= 4:
        raise DataError(
            f"{where}: bad IDX magic number 0x{content[:4].hex()} "
            f"(expected 0x000008 followed by 1-4 dimensions, i.e. 0x00000801 or 0x00000803)"
        )
    header = 4 + 4 * ndim
    if len(content) < header:
        raise DataError(f"{where}: the header needs {header} bytes, the file has {len(content)}")
    shape = struct.unpack(f">{ndim}I", content[4:header])
    expected = header + int(np.prod(shape, dtype=np.int64))
    if len(content) < expected:
        raise DataError(
            f"{where}: truncated: the header says {shape} ({expected:,} bytes), the file has "
            f"{len(content):,}"
        )
    if len(content) > expected:
        raise DataError(
            f"{where}: {len(content) - expected:,} bytes more than the header's {shape} allows"
        )
    return np.frombuffer(content, dtype=np.uint8, offset=header).reshape(shape)


def verify(content: bytes, known: IdxFile | None, where: str) -> np.ndarray:
    """Parse IDX content and, for a known file, check its shape and content checksum."""
    array = parse_idx(content, where)
    if known is None:
        return array
    if array.shape != known.shape:
        raise DataError(f"{where}: shape {array.shape}, expected {known.shape} for {known.stem}")
    digest = hashlib.sha256(content).hexdigest()
    if digest != known.sha256:
        raise DataError(
            f"{where}: SHA-256 of the content is {digest[:16]}..., expected "
            f"{known.sha256[:16]}... for {known.stem}: the file is corrupt or a different one"
        )
    return array


def read_idx(path: Path, known: IdxFile | None = None) -> np.ndarray:
    """Read an IDX file (.gz or raw), checking shape and checksum when it is a known file."""
    return verify(gunzip(path.read_bytes(), str(path)), known, str(path))


# ---- finding a data set ----


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "convscope"


def candidate_dirs(name: str, data_dir: str | Path | None = None) -> list[Path]:
    """Where the data set is looked for, in order (download aside)."""
    places: list[Path] = []
    if data_dir is not None:
        given = Path(data_dir)
        places += [given / name, given]  # --data-dir may name the set's folder or its parent
    if os.environ.get("CONVSCOPE_DATA"):
        places.append(Path(os.environ["CONVSCOPE_DATA"]) / name)
    places += [cache_dir() / name, Path("/usr/share/datasets") / name]
    return [*places, keras_datasets() / name]  # Keras's own (fashion-mnist/*-ubyte.gz)


def file_in(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.is_file():
            return candidate
    return None


def locate(info: DatasetInfo, places: Iterable[Path]) -> dict[str, Path] | None:
    """The first folder holding all four files (each .gz or raw)."""
    for folder in places:
        found = {f.stem: file_in(folder, f.stem) for f in info.files}
        if all(found.values()):
            return {stem: path for stem, path in found.items() if path is not None}
    return None


# ---- downloading ----


def download(
    info: DatasetInfo,
    target: Path,
    mirrors: Iterable[str] | None = None,
    stream: TextIO | None = None,
) -> dict[str, Path]:
    """Fetch the four files into `target`, each checked before it is written."""
    paths: dict[str, Path] = {}
    for known in info.files:
        path = target / f"{known.stem}.gz"
        if path.is_file():
            read_idx(path, known)  # an earlier, complete download
            paths[known.stem] = path
            continue
        errors = []
        for mirror in mirrors or info.mirrors:
            url = f"{mirror.rstrip('/')}/{known.stem}.gz"
            bar = Progress(f"downloading {known.stem}.gz", stream)
            try:
                content = fetch(url, progress=bar)
                verify(gunzip(content, url), known, url)
            except DataError as error:
                errors.append(error.message)
                continue
            finally:
                bar.close()
            atomic_write(path, content)
            paths[known.stem] = path
            break
        else:
            raise DataError(f"could not download {known.stem}.gz: " + "; ".join(errors))
    return paths


# ---- the data set, loaded ----


@dataclass(frozen=True)
class Dataset:
    """A data set in memory: images and labels (N,) as the files hold them; uint8 images
    (N, 28, 28) for MNIST's grey, (N, 32, 32, 3) for CIFAR's colour, the user's arrays as
    given, a folder's photos as rows of its cache file (folders.Rows)."""

    info: SetInfo
    train_images: Any  # np.ndarray, or folders.Rows of a cache
    train_labels: np.ndarray
    test_images: Any
    test_labels: np.ndarray
    source: Path
    scale: bool = True  # x / 255 as the seeds do; the user's own arrays and photos: as given
    validation: tuple[Any, np.ndarray] | None = None  # a folder's own validation images
    validation_name: str | None = None  # what the run says it validates on, then
    skipped: tuple[str, ...] = ()  # files left out (--skip-bad-images), with the reason


def load(
    name: str,
    data_dir: str | Path | None = None,
    *,
    allow_download: bool = True,
    mirrors: Iterable[str] | None = None,
    stream: TextIO | None = None,
) -> Dataset:
    """Find (or download) and read a data set, validating every file."""
    from . import cifar  # CIFAR's reader builds on this module

    if name in cifar.CIFAR:
        return cifar.load(
            name, data_dir, allow_download=allow_download, mirrors=mirrors, stream=stream
        )
    dataset_info(name)  # an unknown name: one message listing the data sets
    info = DATASETS[name]
    places = candidate_dirs(name, data_dir)
    found = locate(info, places)
    npz = keras_datasets() / "mnist.npz"
    if found is None and name == "mnist" and npz.is_file():
        return remembered([npz], partial(keras_mnist, info, npz))
    if found is None and allow_download:
        try:
            found = download(info, cache_dir() / name, mirrors, stream)
        except DataError as error:
            raise _not_found(info, places, error.message) from None
    if found is None:
        raise _not_found(info, places, "downloading is off")
    return read_dataset(info, tuple(found[f.stem] for f in info.files))


LOADED: dict[tuple[tuple[str, int, int], ...], Dataset] = {}  # the last data set read


def remembered(paths: Iterable[Path], read: Callable[[], Dataset]) -> Dataset:
    """A data set read and checked once, kept in memory for the next run in this process
    (a sweep or an experiment trains many) until one of its files changes (size or time)."""
    stamp = tuple((str(p.resolve()), p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(paths))
    if stamp not in LOADED:
        dataset = read()
        for array in (dataset.train_images, dataset.train_labels, dataset.test_images,
                      dataset.test_labels):  # fmt: skip
            array.flags.writeable = False  # shared by every run that reads it
        LOADED.clear()  # one data set at a time: 55 MB for MNIST, 184 MB for CIFAR
        LOADED[stamp] = dataset
    return LOADED[stamp]


def read_dataset(info: DatasetInfo, paths: tuple[Path, ...]) -> Dataset:
    """The four IDX files, read and checked (once: `remembered`)."""

    def read() -> Dataset:
        x_train, y_train, x_test, y_test = (
            read_idx(p, f) for p, f in zip(paths, info.files, strict=True)
        )
        return Dataset(info, x_train, y_train, x_test, y_test, source=paths[0].parent)

    return remembered(paths, read)


def keras_mnist(info: DatasetInfo, path: Path) -> Dataset:
    """Keras's own mnist.npz (no pickle allowed), each array checked by the SHA-256 of the
    IDX file it came from: the same bytes, or refused."""
    keys = ("x_train", "y_train", "x_test", "y_test")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = [npz[key] for key in keys]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
        raise DataError(f"{path}: not Keras's mnist.npz ({error})") from None
    checked = []
    for key, array, known in zip(keys, arrays, info.files, strict=True):
        if array.dtype != np.uint8:
            raise DataError(f"{path}: {key} holds {array.dtype}, not uint8")
        head = struct.pack(f">BBBB{array.ndim}I", 0, 0, IDX_UBYTE, array.ndim, *array.shape)
        checked.append(verify(head + array.tobytes(), known, f"{path}: {key}"))
    x_train, y_train, x_test, y_test = checked
    return Dataset(info, x_train, y_train, x_test, y_test, source=path.parent)


def _not_found(info: DatasetInfo, places: list[Path], why: str) -> DataError:
    looked = ", ".join(str(p) for p in places)
    return DataError(
        f"{info.name}: the four IDX files are not in any of {looked}, and {why}",
        hint=f"put {', '.join(f.stem + '.gz' for f in info.files)} in one of those folders "
        "(or pass --data-dir, or set CONVSCOPE_DATA to their parent)",
    )
