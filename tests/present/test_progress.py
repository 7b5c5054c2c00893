"""The Keras-style progress display: what a terminal and what a log file receive."""

from __future__ import annotations

import io

import pytest

from convscope.present.progress import KerasProgress, bar, duration

LOGS = {"loss": 0.25, "accuracy": 0.9, "samples_per_second": 8000.0, "seconds_left": 75.0}


@pytest.mark.parametrize(
    ("done", "total", "expected"),
    [(0, 10, "╸" + " " * 19), (5, 10, "━" * 10 + "╸" + " " * 9), (10, 10, "━" * 20)],
    ids=["start", "half", "done"],
)
def test_bar(done: int, total: int, expected: str) -> None:
    assert bar(done, total) == expected


@pytest.mark.parametrize(
    ("seconds", "text"), [(4.4, "4s"), (75, "1m15s"), (3725, "1h02m")], ids=["s", "min", "h"]
)
def test_duration(seconds: float, text: str) -> None:
    assert duration(seconds) == text


def test_a_log_file_gets_one_line_per_epoch() -> None:
    stream = io.StringIO()
    progress = KerasProgress(stream, interactive=False)
    progress.epoch_begin(0, 5, 938)
    for step in range(1, 939):
        progress.batch_end(step, LOGS)
    progress.epoch_end(0, {**LOGS, "val_loss": 0.1, "val_accuracy": 0.97, "seconds": 8.2})
    assert stream.getvalue().splitlines() == [
        "Epoch 1/5",
        "938/938 ━━━━━━━━━━━━━━━━━━━━ 8s 9ms/step, 8,000 samples/s - loss: 0.2500 - "
        "accuracy: 0.9000 - val_loss: 0.1000 - val_accuracy: 0.9700",
    ]


def test_a_terminal_gets_a_bar_redrawn_in_place() -> None:
    stream = io.StringIO()
    progress = KerasProgress(stream, interactive=True)
    progress.epoch_begin(1, 5, 100)
    progress.batch_end(50, LOGS)
    text = stream.getvalue()
    assert text.startswith("Epoch 2/5\n\r 50/100 ━━━━━━━━━━╸")
    assert "8,000 samples/s, 1m15s left - loss: 0.2500 - accuracy: 0.9000" in text
    assert "\n" not in text.split("\r", 1)[1]  # redrawn with \\r, no new line per batch
