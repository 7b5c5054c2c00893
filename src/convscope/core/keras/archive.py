"""A .keras file (a zip) opened as data, standard library only: its members size-checked
before they are read and read with a limit, since a zip's declared sizes can lie.

    my_model.keras: config.json (the architecture), metadata.json (Keras version, date),
    model.weights.h5 (the weights; runtime.keras.read opens them with h5py)

`explain` reads config.json alone, so explaining a .keras file needs no numpy or torch.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from ..errors import ConvscopeError

KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")
MAX_CONFIG = 16 * 2**20  # bytes of config.json: a large CNN's is well under 1 MB
MAX_WEIGHTS = 2**30  # bytes of weights: 1 GiB, far above any model convscope trains
MAX_RATIO = 200  # uncompressed / compressed: a zip bomb's is in the thousands
MEMBERS = {"config.json": MAX_CONFIG, "metadata.json": 2**20, "model.weights.h5": MAX_WEIGHTS}


def is_keras_file(target: str | Path) -> bool:
    return Path(target).suffix.lower() in KERAS_SUFFIXES


def fail(path: Path, message: str, hint: str = "") -> ConvscopeError:
    return ConvscopeError(message, where=str(path), hint=hint)


def open_zip(path: Path) -> zipfile.ZipFile:
    if not path.is_file():
        raise ConvscopeError(f"no such file: {path}")
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise fail(
            path, "not a readable .keras file (a zip archive): truncated or damaged"
        ) from None


def read_member(path: Path, archive: zipfile.ZipFile, name: str) -> bytes:
    """One member of a .keras zip, within its size limit however its header lies."""
    limit = MEMBERS[name]
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise fail(
            path, f"the .keras file has no {name}", "is it a file model.save() wrote?"
        ) from None
    if info.file_size > limit:
        raise fail(path, f"{name} declares {info.file_size:,} bytes; the limit is {limit:,}")
    if info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
        raise fail(
            path,
            f"{name} would expand {info.file_size / info.compress_size:,.0f} times "
            f"(limit {MAX_RATIO}): refused as a zip bomb",
        )
    try:
        with archive.open(info) as member:
            data = member.read(limit + 1)
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise fail(
            path, f"{name} cannot be read: the file is truncated or damaged ({error})"
        ) from None
    if len(data) > limit:
        raise fail(path, f"{name} holds more than its declared {info.file_size:,} bytes")
    return data


def parse_json(path: Path, what: str, data: bytes | str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:  # a number of over
        raise fail(path, f"{what} is not readable JSON ({error})") from None  # 4,300 digits too


def archive_config(path: Path, archive: zipfile.ZipFile) -> tuple[Any, str | None]:
    """(config.json, the Keras version that wrote it) of an open .keras archive."""
    config = parse_json(path, "config.json", read_member(path, archive, "config.json"))
    meta = parse_json(path, "metadata.json", read_member(path, archive, "metadata.json"))
    version = meta.get("keras_version") if isinstance(meta, dict) else None
    return config, version if isinstance(version, str) else None


def read_archive_config(path: Path) -> tuple[Any, str | None]:
    """(config.json, the Keras version that wrote it) of a .keras file."""
    with open_zip(path) as archive:
        return archive_config(path, archive)
