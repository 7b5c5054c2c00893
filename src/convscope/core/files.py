"""Writing files so that an interruption never leaves half of one."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .errors import ConvscopeError


def atomic_write(path: Path, content: bytes) -> None:
    """Write via a temporary file in the same folder, synced, then rename: never a half
    file, and a file already there stays as it was when the write fails (a full disk, a
    read-only folder) or the process is killed."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            write_synced(tmp, content)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    except OSError as error:
        raise ConvscopeError(
            f"{path}: cannot be written ({error.strerror or error}); what was there before "
            "is unchanged"
        ) from None


def write_synced(path: Path, content: bytes) -> None:
    """The bytes on the disk, not only in the page cache, before the rename makes them count."""
    with open(path, "wb") as f:
        f.write(content)
        f.flush()
        os.fsync(f.fileno())


def write_json(path: Path, value: Any) -> None:
    atomic_write(path, (json.dumps(value, indent=2) + "\n").encode())


def write_text(path: Path, text: str) -> None:
    atomic_write(path, text.encode())
