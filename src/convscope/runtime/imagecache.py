"""A folder's images decoded once into a memory-mapped cache beside them.

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

import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TextIO

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, UnidentifiedImageError

from ..core.errors import DataError
from ..core.files import atomic_write
from .download import Progress
from .images import MAX_PIXELS

if TYPE_CHECKING:
    from .folders import Indexed

CACHE = ".convscope-cache"
MODES = {1: "L", 3: "RGB", 4: "RGBA"}
LISTED = 10  # bad files named in the message; the rest are counted


@dataclass(frozen=True)
class Decoded:
    images: np.ndarray  # (N, H, W, C) uint8, memory-mapped, in the index's order
    good: np.ndarray  # (N,) bool: False for a file that is not a readable image
    bad_files: tuple[str, ...]


def decode(
    path: Path | BinaryIO, size: tuple[int, int], channels: int, steps: list[str] | None = None
) -> np.ndarray:
    """One image file -> (H, W, C) uint8 at `size`; OSError/ValueError for a bad one.
    `steps`, when given, receives what was done to it, for the user to read."""
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
    images = np.load(array_path, mmap_mode="r")
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
    """Decode every file into a new .npy, written in place through a memory map (memory
    stays at one image per thread), then renamed; the list of bad files last."""
    n = len(indexed.files)
    part = array_path.with_name(f".{array_path.name}.{os.getpid()}.part")
    try:
        out = np.lib.format.open_memmap(part, "w+", np.uint8, (n, *size, channels))
    except OSError as error:
        raise DataError(
            f"{part.parent}: cannot write the decoded images ({n:,} x {size[0]}x{size[1]}x"
            f"{channels} bytes: {error.strerror or error})"
        ) from None
    bad: list[tuple[str, str]] = []
    bar = Progress(f"decoding {indexed.folder.name}/ once into {CACHE}/", stream, "images")

    def one(i: int, out: np.ndarray = out) -> None:
        name = indexed.files[i]
        try:
            out[i] = decode(indexed.folder / name, size, channels)
        except (OSError, ValueError, UnidentifiedImageError, Image.DecompressionBombError) as e:
            out[i] = 0
            bad.append((name, str(e).split("\n")[0][:120] or type(e).__name__))

    try:
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            for done, _ in enumerate(pool.map(one, range(n)), 1):
                if done % 64 == 0 or done == n:
                    bar(done, n)
        out.flush()
        del out  # the map closed before the file is renamed
        os.replace(part, array_path)
    finally:
        bar.close()
        part.unlink(missing_ok=True)
    bad.sort()
    atomic_write(list_path, json.dumps({"files": n, "bad": bad}).encode())
