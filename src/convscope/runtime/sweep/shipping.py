"""What travels between a sweep's driver and its Ray nodes, which share no disk: run
folders and data sets, as bytes through Ray's object store.

- A run folder goes as an uncompressed tar (`pack`): to the driver after each epoch (so a
  lost node's trial resumes elsewhere from it) and at the end; to a node when a trial
  resumes. `unpack` replaces a folder whole: extracted beside it, then renamed into place.
- A data set goes once per node (`place_data`), as the driver read and checked it: a named
  set (MNIST, CIFAR) as an .npz of its four arrays, the user's .npz as its file, a folder
  of photos as a tar of it (without its decoded cache). The node checks the SHA-256 before
  it writes `.complete`, under a lock, so two trials starting on one node fetch it once.

Tars are made here and read with tarfile's "data" filter (no links out, no devices).
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import shutil
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from ...core.errors import ConvscopeError
from ...core.files import atomic_write
from ...core.settings import Settings
from ...core.sweep.folder import NodeDir
from ...core.training import data_kind
from .. import data


def sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def pack(folder: Path) -> bytes:
    """A folder's files as an uncompressed tar, names relative to it; hidden entries (a
    photo folder's .convscope-cache) left out."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path in sorted(folder.rglob("*")):
            relative = path.relative_to(folder)
            if any(part.startswith(".") for part in relative.parts) or not path.is_file():
                continue
            tar.add(path, arcname=str(relative), recursive=False)
    return buffer.getvalue()


def unpack(raw: bytes, folder: Path) -> None:
    """Replace `folder` with the tar's files: extracted beside it, then renamed in, so a
    reader sees the old folder or the new one, never half of one."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    restore(folder)
    fresh = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r") as tar:
        tar.extractall(fresh, filter="data")
    old = _old(folder)
    if folder.exists():
        shutil.rmtree(old, ignore_errors=True)
        folder.rename(old)
    fresh.rename(folder)  # killed just before: `old` and the new copy, no folder (restore)
    shutil.rmtree(old, ignore_errors=True)


def restore(folder: Path) -> None:
    """Undo what a process killed inside `unpack` left: the old folder put back when it
    was moved aside but the new one never renamed in, and half-extracted copies removed.
    Directories cannot be swapped in one rename, so this is the other half of `unpack`."""
    old = _old(folder)
    if old.exists() and not folder.exists():
        old.rename(folder)
    for leftover in folder.parent.glob(f".{folder.name}.*"):
        if "." not in leftover.name[len(folder.name) + 2 :]:  # not .{name}.x.old, another's
            shutil.rmtree(leftover, ignore_errors=True)


def _old(folder: Path) -> Path:
    return folder.with_name(f".{folder.name}.old")


# ---- data sets ----


@dataclass(frozen=True)
class Shipment:
    """A data set on its way to the nodes: what the trials' settings call it, the name it
    gets on a node, its bytes' SHA-256, and whether those bytes are a folder's tar."""

    dataset: str
    name: str
    sha256: str
    folder: bool
    size: int


def data_shipment(settings: Settings, stream: TextIO | None = None) -> tuple[Shipment, bytes]:
    """The driver's copy of the trials' data set, read (and for a named set checked, or
    downloaded) here, as the bytes every node gets."""
    name = settings.training.dataset
    kind = data_kind(name)
    if kind == "named":
        found = data.load(name, settings.data_dir, stream=stream)
        buffer = io.BytesIO()
        np.savez(buffer, x_train=found.train_images, y_train=found.train_labels,
                 x_test=found.test_images, y_test=found.test_labels)  # fmt: skip
        raw, shipped_as, folder = buffer.getvalue(), f"{name}.npz", False
    elif kind == "arrays":
        raw, shipped_as, folder = Path(name).read_bytes(), Path(name).name, False
    else:
        raw, shipped_as, folder = pack(Path(name)), Path(name).name, True
    return Shipment(name, shipped_as, sha256(raw), folder, len(raw)), raw


def place_data(node: NodeDir, shipment: Shipment, fetch: Callable[[], bytes]) -> tuple[Path, bool]:
    """The data set's path on this node: fetched (`fetch`: from the driver, through Ray)
    and checked the first time, found whole after that. True when it was fetched now."""
    folder = node.data(shipment.sha256)
    placed = folder / shipment.name
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f"{shipment.sha256}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second trial on this node waits, then finds it
        if node.data_complete(shipment.sha256).exists():
            return placed, False
        raw = fetch()
        if sha256(raw) != shipment.sha256:
            raise ConvscopeError(
                f"{shipment.name} arrived damaged on this node: its SHA-256 is {sha256(raw)}, "
                f"the driver's is {shipment.sha256}"
            )
        if shipment.folder:
            unpack(raw, placed)
        else:
            atomic_write(placed, raw)
        atomic_write(node.data_complete(shipment.sha256), shipment.sha256.encode())
    return placed, True
