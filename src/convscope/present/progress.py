"""Keras-style training progress: one bar per epoch, then the validation metrics.

    Epoch 1/5
    938/938 ━━━━━━━━━━━━━━━━━━━━ 9s 10ms/step, 6,512 samples/s - loss: 0.1712
        - accuracy: 0.9468 - val_loss: 0.0494 - val_accuracy: 0.9844   (one line)

On a terminal the bar redraws in place (at most 10 times a second); into a file or
pipe only each epoch's final line is written, so logs stay readable.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

WIDTH = 20
METRICS = ("loss", "accuracy", "val_loss", "val_accuracy")


def bar(done: int, total: int, width: int = WIDTH) -> str:
    filled = width * done // max(total, 1)
    return "━" * filled + ("╸" if filled < width else "") + " " * max(width - filled - 1, 0)


def duration(seconds: float) -> str:
    seconds = max(seconds, 0.0)
    if seconds < 60:
        return f"{seconds:.0f}s"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


def metrics(logs: dict[str, float]) -> str:
    return "".join(f" - {k}: {logs[k]:.4f}" for k in METRICS if k in logs)


class KerasProgress:
    """Implements runtime.train.Observer for a text stream."""

    def __init__(self, stream: TextIO, *, interactive: bool | None = None) -> None:
        self.stream = stream
        self.interactive = stream.isatty() if interactive is None else interactive
        self.steps = 0
        self.last_draw = 0.0

    def epoch_begin(self, epoch: int, epochs: int, steps: int) -> None:
        self.steps = steps
        self.stream.write(f"Epoch {epoch + 1}/{epochs}\n")
        self.stream.flush()

    def batch_end(self, step: int, logs: dict[str, float]) -> None:
        now = time.monotonic()
        if not self.interactive or (now - self.last_draw < 0.1 and step < self.steps):
            return
        self.last_draw = now
        width = len(str(self.steps))
        self.stream.write(
            f"\r{step:>{width}}/{self.steps} {bar(step, self.steps)} "
            f"{logs['samples_per_second']:,.0f} samples/s, {duration(logs['seconds_left'])} "
            f"left{metrics(logs)}\033[K"
        )
        self.stream.flush()

    def epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        seconds = logs["seconds"]
        per_step = 1000 * seconds / max(self.steps, 1)
        line = (
            f"{self.steps}/{self.steps} {bar(self.steps, self.steps)} {duration(seconds)} "
            f"{per_step:.0f}ms/step, {logs['samples_per_second']:,.0f} samples/s{metrics(logs)}"
        )
        self.stream.write(("\r" + line + "\033[K\n") if self.interactive else line + "\n")
        self.stream.flush()


class NotebookProgress:
    """Implements runtime.train.Observer in Jupyter: one static HTML bar per epoch, redrawn
    in place through a display handle (no widget, no script), then the epoch's line."""

    def __init__(self) -> None:
        from IPython.display import HTML, display  # only in a notebook, where it is present

        self._html: Any = HTML
        self._display: Any = display
        self.handle: Any = None
        self.steps, self.epochs, self.epoch = 0, 0, 0
        self.last_draw = 0.0

    def _show(self, done: int, text: str) -> None:
        from .html import progress_html

        page = self._html(
            progress_html(f"Epoch {self.epoch + 1}/{self.epochs}", done, self.steps, text)
        )
        if self.handle is None:
            self.handle = self._display(page, display_id=True)
        else:
            self.handle.update(page)

    def epoch_begin(self, epoch: int, epochs: int, steps: int) -> None:
        self.steps, self.epochs, self.epoch, self.handle = steps, epochs, epoch, None
        self._show(0, "")

    def batch_end(self, step: int, logs: dict[str, float]) -> None:
        now = time.monotonic()
        if now - self.last_draw < 0.25 and step < self.steps:
            return
        self.last_draw = now
        self._show(
            step,
            f"{step}/{self.steps} {logs['samples_per_second']:,.0f} samples/s, "
            f"{duration(logs['seconds_left'])} left{metrics(logs)}",
        )

    def epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        self._show(
            self.steps,
            f"{duration(logs['seconds'])}, {logs['samples_per_second']:,.0f} samples/s"
            f"{metrics(logs)}",
        )


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where a terminal's carriage returns do not redraw)."""
    shell = sys.modules.get("IPython")
    if shell is None or "ipykernel" not in sys.modules:
        return False
    ipython = getattr(shell, "get_ipython", lambda: None)()
    return type(ipython).__name__ == "ZMQInteractiveShell"  # Jupyter's, not a terminal IPython
