"""Rendered tables against golden files (regenerate with CONVSCOPE_UPDATE_GOLDEN=1)."""

from __future__ import annotations

import html
import os
from pathlib import Path

import numpy as np
import pytest

from convscope.api.results import Predictions
from convscope.core.explain.rules import explain
from convscope.core.presets import model
from convscope.present import render
from convscope.runtime.predicting import FilePredictions

GOLDEN = Path(__file__).parent / "golden"
RENDERERS = {"txt": render.to_text, "md": render.to_markdown, "json": render.to_json}
CASES = [
    ("chollet", "txt"),
    ("keras-mnist-cnn", "txt"),
    ("keras-mnist-cnn", "md"),
    ("tf-course", "json"),
]


@pytest.mark.parametrize(("preset", "ext"), CASES, ids=[f"{p}.{e}" for p, e in CASES])
def test_matches_golden(preset: str, ext: str) -> None:
    text = RENDERERS[ext](explain(model(preset)))
    path = GOLDEN / f"{preset}.{ext}"
    if os.environ.get("CONVSCOPE_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


def test_every_row_renders_in_every_format() -> None:
    ex = explain(model("chollet"))
    for renderer in RENDERERS.values():
        text = renderer(ex)
        assert all(row.name in text for row in ex.rows)


@pytest.mark.parametrize(("n", "text"), [(999, "999"), (194_688, "194.7K"), (10_616_832, "10.6M")])
def test_compact_numbers(n: int, text: str) -> None:
    assert render.compact(n) == text


def predictions(steps: list[tuple[str, ...]]) -> Predictions:
    """Four photos' fixed probabilities: two in folders named after a class, one skipped."""
    probabilities = np.array(
        [[0.9, 0.05, 0.05], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8], [0.6, 0.3, 0.1]], np.float32
    )
    found = FilePredictions(
        ("photos/cat/1.jpg", "photos/dog/2.jpg", "photos/dog/3.png", "holiday.jpg"),
        probabilities, probabilities, tuple(steps),
        ("broken.jpg: not a readable image (cannot identify image file 'broken.jpg')",),
    )  # fmt: skip
    return Predictions(found, ("cat", "dog", "fox"))


RESIZED = ("resized from 500x375 to 180x180 (bilinear)",)
STEPS = {  # how the four were prepared -> the golden file
    "one-way": [RESIZED] * 4,
    "own-ways": [(f"resized from {w}x300 to 180x180 (bilinear)",) for w in (400, 500, 600, 700)],
}


@pytest.mark.parametrize("ways", STEPS)
def test_predictions_match_golden(ways: str) -> None:
    shown = predictions(STEPS[ways])
    path = GOLDEN / f"predictions-{ways}.txt"
    if os.environ.get("CONVSCOPE_UPDATE_GOLDEN"):
        path.write_text(shown.text())
    assert shown.text() == path.read_text()
    head, rows = shown.rows()
    page = shown.html()
    assert all(html.escape(cell) in page for row in [head, *rows] for cell in row)
    assert shown.to_dict()["folder_accuracy"] == pytest.approx(2 / 3)  # dog/3.png: a fox
