"""A folder's images decoded once into a cache file beside them, read row by row.

Each image is decoded as TensorFlow's decode_image does it for image_dataset_from_directory
(the first frame of a GIF; channels converted: 1 grey, 3 RGB with any alpha dropped, 4
RGBA), then resized to `size` bilinearly with half-pixel centres and no antialiasing
(tf.image.resize's default, which torch's interpolate matches) and rounded to uint8:
Keras keeps the float values, so each pixel here differs from Keras's by at most half a
grey level, for a quarter of the memory (25,000 photos at 180 x 180: 2.4 GB, not 9.7).

The cache is `<folder>/.convscope-cache/<key>.npy` (Keras skips folders whose names start
with "."; a read-only folder's cache goes to the user's cache folder instead) with a JSON
file beside it listing the files that are not readable images. The key covers every
file's path, size and modification time, the size and the channels: change a photo and
the folder is decoded again. Both are written under temporary names and renamed when
complete, so an interrupted decode leaves no cache that looks whole.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, UnidentifiedImageError

from ..core.errors import DataError
from ..core.files import atomic_write
from .download import Progress
from .images import MAX_PIXELS, NOT_REGULAR, regular

if TYPE_CHECKING:
    from .folders import Indexed

CACHE = ".convscope-cache"
MODES = {1: "L", 3: "RGB", 4: "RGBA"}
LISTED = 10  # bad files named in the message; the rest are counted


class CacheFile:
    """The cache's images, read row by row with pread as they are asked for: the pages
    stay in the operating system's file cache, shared and dropped when memory is short,
    not in this process's memory as a memory map's would (25,000 photos: 2.4 GB)."""

    def __init__(self, path: Path) -> None:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                    else np.lib.format.read_array_header_2_0)  # fmt: skip
            shape, _, dtype = read(f)
            self.offset = f.tell()
        self.path, self.shape, self.dtype, self.ndim = path, tuple(shape), dtype, len(shape)
        self.row = int(np.prod(shape[1:])) * dtype.itemsize  # bytes per image
        self.fd = os.open(path, os.O_RDONLY)

    def __del__(self) -> None:
        with contextlib.suppress(OSError, AttributeError):
            os.close(self.fd)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: Any) -> np.ndarray:
        index = np.arange(len(self))[key]
        one: np.ndarray = self.read(np.atleast_1d(index))
        return one[0] if np.ndim(index) == 0 else one

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        whole = self.read(range(len(self)))
        return whole if dtype is None else whole.astype(dtype)

    def read(self, index: Any) -> np.ndarray:
        out = np.empty((len(index), *self.shape[1:]), self.dtype)
        for k, i in enumerate(index):
            raw = os.pread(self.fd, self.row, self.offset + int(i) * self.row)
            out[k] = np.frombuffer(raw, self.dtype).reshape(self.shape[1:])
        return out


@dataclass(frozen=True)
class Decoded:
    images: CacheFile  # (N, H, W, C) uint8 in the index's order
    good: np.ndarray  # (N,) bool: False for a file that is not a readable image
    bad_files: tuple[str, ...]


def decode(
    path: Path | BinaryIO, size: tuple[int, int], channels: int, steps: list[str] | None = None
) -> np.ndarray:
    """One image file -> (H, W, C) uint8 at `size`; OSError/ValueError for a bad one.
    `steps`, when given, receives what was done to it, for the user to read."""
    if not regular(path):
        raise ValueError(NOT_REGULAR)
    with Image.open(path) as opened:
        if opened.width * opened.height > MAX_PIXELS:
            raise ValueError(f"{opened.width}x{opened.height} pixels is more than {MAX_PIXELS:,}")
        opened.seek(0)  # a GIF's first frame, as decode_image(expand_animations=False)
        if steps is not None and opened.mode != MODES[channels]:
            steps.append(f"read as {MODES[channels]} ({channels} channels) from {opened.mode}")
        array = np.asarray(opened.convert(MODES[channels]))  # (h, w) or (h, w, C)
    array = array.reshape(*array.shape[:2], channels)
    if array.shape[:2] == size:
        return array
    if steps is not None:
        steps.append(
            f"resized from {array.shape[1]}x{array.shape[0]} to {size[1]}x{size[0]} "
            "(bilinear, as image_dataset_from_directory resizes the training photos)"
        )
    x = torch.tensor(array, dtype=torch.float32).permute(2, 0, 1)[None]  # (1, C, h, w)
    x = F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=False)
    return x[0].permute(1, 2, 0).round().clamp(0, 255).to(torch.uint8).numpy()  # (H, W, C)


def cache_key(indexed: Indexed, size: tuple[int, int], channels: int) -> str:
    digest = hashlib.sha256(f"1 {size} {channels}\n".encode())
    for name in indexed.files:
        info = (indexed.folder / name).stat()
        digest.update(f"{name}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:20]


def cache_folder(folder: Path) -> Path:
    """Beside the data when it can be written there, else the user's cache."""
    beside = folder / CACHE
    try:
        beside.mkdir(exist_ok=True)
        probe = beside / f".probe.{os.getpid()}"
        probe.touch()
        probe.unlink()
        return beside
    except OSError:
        from .data import cache_dir  # the per-user cache the data sets share

        name = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:12]
        elsewhere = cache_dir() / "folders" / name
        try:
            elsewhere.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise DataError(
                f"{folder}: nowhere to keep the decoded images: neither {beside} nor "
                f"{elsewhere} can be made ({error.strerror or error})"
            ) from None
        return elsewhere


def decoded(
    indexed: Indexed, size: tuple[int, int], channels: int, skip_bad: bool,
    stream: TextIO | None = None,
) -> Decoded:  # fmt: skip
    """The folder's images from its cache, decoded first when there is none."""
    where = cache_folder(indexed.folder)
    key = cache_key(indexed, size, channels)
    array_path, list_path = where / f"{key}.npy", where / f"{key}.json"
    if not (array_path.is_file() and list_path.is_file()):
        decode_all(indexed, size, channels, array_path, list_path, stream)
    bad = tuple(json.loads(list_path.read_text())["bad"])
    bad_files = tuple(f"{name} ({why})" for name, why in bad)
    if bad and not skip_bad:
        listed = "; ".join(bad_files[:LISTED])
        more = f"; and {len(bad) - LISTED} more" if len(bad) > LISTED else ""
        raise DataError(
            f"{indexed.folder}: {len(bad)} of {len(indexed.files):,} files are not readable "
            f"images: {listed}{more}",
            hint="remove or fix them, or pass --skip-bad-images to train without them",
        )
    images = CacheFile(array_path)
    good = np.ones(len(indexed.files), dtype=bool)
    positions = {name: i for i, name in enumerate(indexed.files)}
    good[[positions[name] for name, _ in bad]] = False
    return Decoded(images, good, bad_files)


def decode_all(
    indexed: Indexed,
    size: tuple[int, int],
    channels: int,
    array_path: Path,
    list_path: Path,
    stream: TextIO | None,
) -> None:
    """Decode every file into a new .npy, each image written at its place (os.pwrite:
    memory stays at one image per thread), then renamed; the list of bad files last."""
    n = len(indexed.files)
    part = array_path.with_name(f".{array_path.name}.{os.getpid()}.part")
    row = size[0] * size[1] * channels
    try:
        header = np.lib.format.open_memmap(part, "w+", np.uint8, (n, *size, channels))
        del header  # the file, sized, with its header; no page of it is touched
        offset = part.stat().st_size - n * row
        fd = os.open(part, os.O_WRONLY)
    except OSError as error:
        raise DataError(
            f"{part.parent}: cannot write the decoded images ({n:,} x {size[0]}x{size[1]}x"
            f"{channels} bytes: {error.strerror or error})"
        ) from None
    bad: list[tuple[str, str]] = []
    bar = Progress(f"decoding {indexed.folder.name}/ once into {CACHE}/", stream, "images")

    def one(i: int) -> None:
        name = indexed.files[i]
        try:
            image = decode(indexed.folder / name, size, channels)
        except (OSError, ValueError, UnidentifiedImageError, Image.DecompressionBombError) as e:
            image = np.zeros((*size, channels), np.uint8)
            bad.append((name, str(e).split("\n")[0][:120] or type(e).__name__))
        os.pwrite(fd, np.ascontiguousarray(image).tobytes(), offset + i * row)

    try:
        try:
            with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
                for done, _ in enumerate(pool.map(one, range(n)), 1):
                    if done % 64 == 0 or done == n:
                        bar(done, n)
            os.fsync(fd)
        finally:
            bar.close()
            os.close(fd)
        os.replace(part, array_path)
    except OSError as error:
        raise DataError(f"{part.parent}: cannot write the decoded images ({error})") from None
    finally:
        part.unlink(missing_ok=True)  # gone once renamed; an interrupted decode leaves none
    bad.sort()
    atomic_write(list_path, json.dumps({"files": n, "bad": bad}).encode())
