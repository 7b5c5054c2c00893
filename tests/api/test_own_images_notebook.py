"""examples/own_images.ipynb in a real Jupyter kernel: arrays made with numpy trained as
Keras's fit() takes them (one sigmoid unit), then the trained network looked inside."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest

from ..helpers import Page, png_size
from .test_notebook import execute, outputs, rich

pytestmark = pytest.mark.slow  # a kernel start and a short training

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "own_images.ipynb"


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    return execute(NOTEBOOK, tmp_path_factory.mktemp("own-images"))


def test_every_cell_runs(executed: tuple[Any, Path]) -> None:
    cells = [c for c in executed[0].cells if c.cell_type == "code"]
    assert not [o for c in cells for o in c.outputs if o.output_type == "error"]


def test_the_arrays_train_and_predict(executed: tuple[Any, Path]) -> None:
    notebook, folder = executed
    found = outputs(notebook, "run = cs.train(")
    (summary,) = rich([o for o in found if o.output_type == "execute_result"], "text/html")
    accuracy = float(re.search(r"test accuracy</th><td[^>]*>([\d.]+)%", summary).group(1))  # type: ignore[union-attr]
    assert accuracy >= 90
    (plain,) = rich(outputs(notebook, "m = cs.load(run)"), "text/plain")
    predicted, labels = re.findall(r"array\(\[([\d, ]+)\]", plain)
    assert sum(p == t for p, t in zip(predicted.split(","), labels.split(","), strict=True)) >= 7
    assert list(folder.glob("runs/*/arrays.npz"))  # kept with the run


def test_the_figures_and_the_report(executed: tuple[Any, Path]) -> None:
    notebook, folder = executed
    (png,) = rich(outputs(notebook, 'figures["filters"]'), "image/png")
    assert png_size(base64.b64decode(png))[0] >= 600
    (shape,) = rich(outputs(notebook, "maps = m.attribute("), "text/plain")
    assert shape == "(4, 32, 32)"
    page = Page((folder / "shapes-report.html").read_text())
    assert "circle" in page.words and "square" in page.words
