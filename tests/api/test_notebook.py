"""examples/quickstart.ipynb, executed by a real Jupyter kernel (nbclient + ipykernel).

What a notebook user sees: the explain table as HTML with its formulas, a training with a
bar, test results, predictions, figures as PNG images, and the written report."""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path
from typing import Any

import pytest

from ..helpers import Page, png_size

pytestmark = pytest.mark.slow  # a kernel start and a short training

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "quickstart.ipynb"


def execute(path: Path, folder: Path) -> tuple[Any, Path]:
    """A notebook run cell by cell in a real kernel, in `folder`: (its outputs, folder)."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        iopub_timeout=60,  # a loaded machine can send a cell's output seconds after its reply
        raise_on_iopub_timeout=True,  # and output still missing then is an error, not a skip
        resources={"metadata": {"path": str(folder)}},
    )
    client.execute(env={**os.environ})
    return notebook, folder


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    return execute(NOTEBOOK, tmp_path_factory.mktemp("notebook"))


def outputs(notebook: Any, source: str) -> list[dict[str, Any]]:
    """The outputs of the code cell whose source starts with `source`."""
    cells = [c for c in notebook.cells if c.cell_type == "code" and c.source.startswith(source)]
    assert len(cells) == 1, source
    return list(cells[0].outputs)


def rich(found: list[dict[str, Any]], mime: str) -> list[Any]:
    return [o["data"][mime] for o in found if mime in o.get("data", {})]


def test_no_cell_fails(executed: tuple[Any, Path]) -> None:
    notebook, _ = executed
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in errors if o.output_type == "error"]


def test_explain_shows_the_table_with_counts_and_formulas(executed: tuple[Any, Path]) -> None:
    (html,) = rich(outputs(executed[0], 'cs.explain("chollet")'), "text/html")
    page = Page(html)
    for text in ("320", "18,496", "36,928", "93,322", "(3*3*1 + 1) * 32 = 320", "28 - 3 + 1 = 26"):
        assert text in page.words, text
    assert len(page.all("details")) == 8 and not page.all("script")


def test_training_shows_a_bar_and_the_run(executed: tuple[Any, Path]) -> None:
    found = outputs(executed[0], "run = cs.train(")
    bars = [o for o in found if o.output_type in ("display_data", "update_display_data")]
    assert bars and "<progress" in bars[-1]["data"]["text/html"]
    (summary,) = rich([o for o in found if o.output_type == "execute_result"], "text/html")
    accuracy = float(re.search(r"test accuracy</th><td[^>]*>([\d.]+)%", summary).group(1))  # type: ignore[union-attr]
    assert 40 < accuracy < 100  # one epoch on 2,000 images
    (numbers,) = rich(outputs(executed[0], "run.test_accuracy"), "text/plain")
    assert float(numbers[1:].split(",")[0]) == pytest.approx(accuracy / 100, abs=1e-4)
    assert "PosixPath('runs/" in numbers  # the run directory, under the notebook's folder


def test_evaluate_and_predict(executed: tuple[Any, Path]) -> None:
    (html,) = rich(outputs(executed[0], "m = cs.load(run)"), "text/html")
    assert "Confusion matrix" in Page(html).words
    (plain,) = rich(outputs(executed[0], "(x_train, y_train)"), "text/plain")
    predicted, labels = re.findall(r"array\(\[([\d, ]+)\]", plain)
    agree = sum(p == t for p, t in zip(predicted.split(","), labels.split(","), strict=True))
    assert agree >= 5  # of 8, after a short training
    (shapes,) = rich(outputs(executed[0], "{name: values.shape"), "text/plain")
    assert "'conv2d_2': (3, 3, 64)" in shapes


def test_figures_are_png_images(executed: tuple[Any, Path]) -> None:
    (html,) = rich(outputs(executed[0], "figures = m.figures(image=7)"), "text/html")
    sources = [img["src"] or "" for img in Page(html).all("img")]
    assert len(sources) == 9 and all(s.startswith("data:image/png;base64,") for s in sources)
    width, height = png_size(base64.b64decode(sources[0].split(",", 1)[1]))
    assert width >= 600 and height >= 100
    (png,) = rich(outputs(executed[0], 'figures["feature_maps"]'), "image/png")
    assert png_size(base64.b64decode(png))[0] >= 600


def test_the_report_is_written_and_self_contained(executed: tuple[Any, Path]) -> None:
    (html,) = rich(outputs(executed[0], "m.report("), "text/html")
    assert "quickstart-report.html" in html
    page = Page((executed[1] / "quickstart-report.html").read_text())
    assert not page.all("script") and not page.all("link")
    sources = [img["src"] or "" for img in page.all("img")]
    assert len(sources) >= 9 and all(s.startswith("data:image/png;base64,") for s in sources)
    assert "Where are the 93,322 parameters?" in page.words
