"""Rendered tables against golden files (regenerate with CONVSCOPE_UPDATE_GOLDEN=1)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from convscope.core.explain.rules import explain
from convscope.core.presets import model
from convscope.present import render

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
