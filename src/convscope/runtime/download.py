"""Fetching a data set's files over HTTP(S): one GET at a time, whole, bounded in size,
with a one-line progress bar on a terminal. What is fetched is checked by its caller
(SHA-256) before anything is written."""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import TextIO

from ..core.errors import DataError

MOST = 300_000_000  # bytes of one file: CIFAR-100's archive is 169 MB


class Progress:
    """A one-line progress bar on stderr (a terminal), silent otherwise."""

    def __init__(self, label: str, stream: TextIO | None = None, unit: str = "MB") -> None:
        self.label, self.stream, self.unit = label, stream or sys.stderr, unit
        self.live = self.stream.isatty()

    def __call__(self, done: int, total: int | None) -> None:
        if not self.live:
            return
        if total:
            filled = int(30 * done / total)
            bar = "#" * filled + "." * (30 - filled)
            amount = f"{done / 2**20:5.1f}/{total / 2**20:.1f} MB"
            if self.unit != "MB":  # counted things: images decoded
                amount = f"{done:,}/{total:,} {self.unit}"
            text = f"\r{self.label} [{bar}] {amount}"
        else:
            text = f"\r{self.label} {done / 2**20:5.1f} MB"
        self.stream.write(text)
        self.stream.flush()

    def close(self) -> None:
        if self.live:
            self.stream.write("\n")


def fetch(
    url: str,
    timeout: float = 30.0,
    progress: Callable[[int, int | None], None] | None = None,
    most: int = MOST,
) -> bytes:
    """GET a URL whole; DataError if it fails, arrives short of its Content-Length, or
    would be larger than `most` bytes (checked as it arrives: memory stays bounded)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            length_header = response.headers.get("Content-Length")
            total = int(length_header) if length_header else None
            chunks, done = [], 0
            while True:
                try:
                    chunk = response.read(1 << 16)
                except Exception as error:  # http.client.IncompleteRead and friends
                    raise DataError(
                        f"{url}: the transfer broke off after {done:,} bytes ({error})"
                    ) from None
                if not chunk:
                    break
                chunks.append(chunk)
                done += len(chunk)
                if done > most or (total or 0) > most:
                    raise DataError(f"{url}: larger than {most:,} bytes: not the data set")
                if progress:
                    progress(done, total)
    except urllib.error.HTTPError as error:
        raise DataError(f"{url}: HTTP {error.code} {error.reason}") from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        reason = getattr(error, "reason", error)
        raise DataError(f"{url}: cannot connect ({reason})") from None
    if total is not None and done != total:
        raise DataError(f"{url}: truncated transfer: {done:,} of {total:,} bytes")
    return b"".join(chunks)
