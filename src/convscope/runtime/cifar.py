"""CIFAR-10 and CIFAR-100 as `keras.datasets.cifar10.load_data()` gives them: uint8 images
(N, 32, 32, 3) and uint8 labels, 50,000 for training and 10,000 for testing, in the files'
order (CIFAR-100: the fine labels, Keras's default label_mode).

The official binary version (https://www.cs.toronto.edu/~kriz/cifar.html): each record
is its label byte (CIFAR-100: coarse, then fine) and 3,072 pixel bytes, the red, green
and blue 32x32 planes row by row. Looked for, in order: `--data-dir`,
`$CONVSCOPE_DATA/<name>`, the cache (`~/.cache/convscope/<name>`), `/usr/share/datasets/
<name>`, each holding the archive or its extracted folder; then Keras's own cache (see
runtime.keras.datasets); last, the archive is downloaded once into the cache. An archive
is used only when its SHA-256 is the official one; its members are read from the tar
without extracting anything to disk.
"""

from __future__ import annotations

import hashlib
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TextIO

import numpy as np

from ..core.errors import ConvscopeError, DataError
from ..core.files import atomic_write
from .data import Dataset, cache_dir, candidate_dirs, remembered
from .download import Progress, fetch
from .keras.datasets import cifar_batch, cifar_folder

PIXELS = 32 * 32 * 3
TRAIN, TEST = 50_000, 10_000
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                   "ship", "truck")  # fmt: skip
CIFAR100_CLASSES = tuple(  # the fine labels, in their numbers' order
    """
    apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge
    bus butterfly camel can castle caterpillar cattle chair chimpanzee clock cloud
    cockroach couch crab crocodile cup dinosaur dolphin elephant flatfish forest fox
    girl hamster house kangaroo keyboard lamp lawn_mower leopard lion lizard lobster man
    maple_tree motorcycle mountain mouse mushroom oak_tree orange orchid otter palm_tree
    pear pickup_truck pine_tree plain plate poppy porcupine possum rabbit raccoon ray
    road rocket rose sea seal shark shrew skunk skyscraper snail snake spider squirrel
    streetcar sunflower sweet_pepper table tank telephone television tiger tractor train
    trout tulip turtle wardrobe whale willow_tree wolf woman worm
    """.split()  # noqa: SIM905
)


@dataclass(frozen=True)
class CifarInfo:
    name: str
    title: str
    class_names: tuple[str, ...]
    archive: str  # the official binary archive
    sha256: str  # of the archive
    folder: str  # its one folder
    train: tuple[str, ...]  # its members, in Keras's order
    test: tuple[str, ...]
    label_bytes: int  # before each image; the label used is the last of them (fine)
    keras: tuple[str, tuple[str, ...], tuple[str, ...], bytes]  # Keras's cache: folder,
    # train and test batches, the label key
    mirrors: tuple[str, ...] = ("https://www.cs.toronto.edu/~kriz/",)

    @property
    def record(self) -> int:
        return self.label_bytes + PIXELS

    @property
    def batches(self) -> list[tuple[str, int]]:
        """The archive's batch files with their image counts, training then test."""
        return list(zip((*self.train, *self.test), counts(len(self.train)), strict=True))


CIFAR = {
    "cifar10": CifarInfo(
        "cifar10", "CIFAR-10", CIFAR10_CLASSES, "cifar-10-binary.tar.gz",
        "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
        "cifar-10-batches-bin", tuple(f"data_batch_{i}.bin" for i in range(1, 6)),
        ("test_batch.bin",), 1,
        ("cifar-10-batches-py", tuple(f"data_batch_{i}" for i in range(1, 6)), ("test_batch",),
         b"labels"),
    ),
    "cifar100": CifarInfo(
        "cifar100", "CIFAR-100", CIFAR100_CLASSES, "cifar-100-binary.tar.gz",
        "58a81ae192c23a4be8b1804d68e518ed807d710a4eb253b1f2a199162a40d8ec",
        "cifar-100-binary", ("train.bin",), ("test.bin",), 2,
        ("cifar-100-python", ("train",), ("test",), b"fine_labels"),
    ),
}  # fmt: skip


def records(info: CifarInfo, raw: bytes, count: int, where: str) -> tuple[np.ndarray, np.ndarray]:
    """count records of the binary format -> images (N, 32, 32, 3), labels (N,)."""
    if len(raw) != count * info.record:
        raise DataError(
            f"{where}: {len(raw):,} bytes, not {count:,} records of {info.record:,} bytes"
        )
    table = np.frombuffer(raw, np.uint8).reshape(count, info.record)
    labels = table[:, info.label_bytes - 1].copy()
    if labels.max() >= len(info.class_names):
        raise DataError(
            f"{where}: a label of {labels.max()}; {info.title} has {len(info.class_names)} classes"
        )
    planes = table[:, info.label_bytes :].reshape(count, 3, 32, 32)
    return np.ascontiguousarray(planes.transpose(0, 2, 3, 1)), labels  # (N, H, W, C)


def split(info: CifarInfo, files: list[tuple[np.ndarray, np.ndarray]], source: Path) -> Dataset:
    """The train files' records then the test file's, joined as Keras joins them."""
    train = files[: len(info.train)]
    (x_test, y_test) = files[-1]
    x_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train])
    if len(x_train) != TRAIN or len(x_test) != TEST:
        raise DataError(f"{source}: {len(x_train):,} training and {len(x_test):,} test images, "
                        f"not {TRAIN:,} and {TEST:,}")  # fmt: skip
    return Dataset(info, x_train, y_train, x_test, y_test, source)


def counts(train_batches: int) -> list[int]:
    """Images in each batch file: the training set split evenly, then the test set."""
    return [TRAIN // train_batches] * train_batches + [TEST]


def read_archive(info: CifarInfo, path: Path) -> Dataset:
    """The official archive's members, read in place (nothing extracted to disk)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    if digest.hexdigest() != info.sha256:
        raise DataError(f"{path}: its SHA-256 is not the official {info.archive}'s: refused")
    files = []
    try:
        with tarfile.open(path, "r:gz") as tar:
            for member, count in info.batches:
                entry = tar.getmember(f"{info.folder}/{member}")
                handle = tar.extractfile(entry) if entry.isfile() else None
                if handle is None or entry.size != count * info.record:
                    raise DataError(f"{path}: {info.folder}/{member} is not a batch of {count:,}")
                files.append(records(info, handle.read(), count, f"{path}:{member}"))
    except (tarfile.TarError, KeyError, OSError, EOFError) as error:
        raise DataError(f"{path}: not a readable {info.archive} ({error})") from None
    return split(info, files, path)


def read_folder(info: CifarInfo, folder: Path) -> Dataset:
    """The archive's folder, extracted by the user: each batch file checked by its size."""
    files = []
    for member, count in info.batches:
        path = folder / member
        try:
            size = path.stat().st_size
            if size != count * info.record:  # checked before a byte is read
                raise DataError(f"{path}: {size:,} bytes, not {count:,} records of {info.record:,}")
            raw = path.read_bytes()
        except OSError as error:
            raise DataError(f"cannot read {path} ({error.strerror or error})") from None
        files.append(records(info, raw, count, str(path)))
    return split(info, files, folder)


def read_keras_cache(info: CifarInfo, folder: Path) -> Dataset:
    """Keras's downloaded pickles, read by the arrays-only unpickler."""
    _, train, test, key = info.keras
    batches = zip((*train, *test), counts(len(train)), strict=True)
    files = [cifar_batch(folder / member, key, count) for member, count in batches]
    return split(info, files, folder)


def download(info: CifarInfo, mirrors: Iterable[str] | None, stream: TextIO | None) -> Path:
    """The archive into the cache, checked by SHA-256 before it is written."""
    target = cache_dir() / info.name / info.archive
    errors = []
    for mirror in mirrors or info.mirrors:
        url = f"{mirror.rstrip('/')}/{info.archive}"
        bar = Progress(f"downloading {info.archive}", stream)
        try:
            content = fetch(url, timeout=60.0, progress=bar)
        except DataError as error:
            errors.append(error.message)
            continue
        finally:
            bar.close()
        if hashlib.sha256(content).hexdigest() != info.sha256:
            errors.append(f"{url}: the SHA-256 is not the official one")
            continue
        atomic_write(target, content)
        return target
    raise DataError(f"could not download {info.archive}: " + "; ".join(errors))


def load(
    name: str,
    data_dir: str | Path | None = None,
    *,
    allow_download: bool = True,
    mirrors: Iterable[str] | None = None,
    stream: TextIO | None = None,
) -> Dataset:
    """Find (or download) and read CIFAR-10 or CIFAR-100, checked."""
    info = CIFAR[name]
    places = candidate_dirs(name, data_dir)
    for place in places:
        archive, folder = place / info.archive, place / info.folder
        if archive.is_file():
            return remembered([archive], partial(read_archive, info, archive))
        if folder.is_dir():
            files = [folder / member for member, _ in info.batches]
            return remembered(files, partial(read_folder, info, folder))
    keras = cifar_folder(info.keras[0])
    if keras is not None:
        files = [keras / m for m in (*info.keras[1], *info.keras[2])]
        return remembered(files, partial(read_keras_cache, info, keras))
    if not allow_download:
        raise DataError(f"{info.title}: not found in {', '.join(map(str, places))}, and "
                        "downloading is off")  # fmt: skip
    try:
        return read_archive(info, download(info, mirrors, stream))
    except DataError as error:
        raise ConvscopeError(
            f"{info.title}: not found in {', '.join(map(str, places))} or Keras's cache, and "
            f"{error.message}",
            hint=f"put {info.archive} (from {info.mirrors[0]}) in one of those folders",
        ) from None
