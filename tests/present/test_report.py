"""`convscope show` and `convscope report` as a user runs them, on a real trained run."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from ..helpers import Cli, Page, png_size, run_cli

pytestmark = pytest.mark.slow  # real trainings and reports: the full suite runs them

FIGURES = [
    "params",
    "filters",
    "feature_maps",
    "receptive_field",
    "receptive_fields_by_layer",
    "curves",
    "confusion",
    "confused_pairs",
    "misclassified",
]


@pytest.fixture(scope="module")
def report(chollet_run: tuple[Path, dict[str, object]]) -> tuple[Path, Page, str]:
    run_dir = chollet_run[0]
    code, out, err = run_cli("report", str(run_dir), "--image", "7")
    assert code == 0, err
    path = run_dir / "report.html"
    assert f"Report written to {path}" in out
    html = path.read_text(encoding="utf-8")
    return path, Page(html), html


def test_show_writes_every_figure_as_a_png(
    cli: Cli, chollet_run: tuple[Path, dict[str, object]]
) -> None:
    run_dir = chollet_run[0]
    code, out, err = cli("show", str(run_dir), "--image", "7", "--position", "conv2d_1:2,3")
    assert code == 0, err
    folder = run_dir / "figures"
    assert out.splitlines()[0] == f"{len(FIGURES)} figures in {folder}:"
    for name in FIGURES:
        width, height = png_size((folder / f"{name}.png").read_bytes())
        assert width == 1000 or name == "confusion", name  # 10 inches at 100 dpi
        assert height > 250, name


def test_report_is_one_self_contained_file(report: tuple[Path, Page, str]) -> None:
    _, page, html = report
    assert not page.all("script") and not page.all("link") and not page.all("iframe")
    assert "@import" not in html and "url(" not in html  # no fonts or images from CSS
    for tag, attrs in page.tags:
        for name in ("src", "href"):
            value = attrs.get(name)
            if value is not None:
                assert value.startswith(("data:image/png;base64,", "#")), (tag, value[:60])
    images = page.all("img")
    assert [i["alt"] for i in images] == [
        "Parameters per layer",
        "Filters",
        "Feature maps",
        "Which pixels it used",
        "Receptive fields of the last map",
        "One position per layer",
        "Training curves",
        "Confusion matrix",
        "Most confused pairs",
        "Misclassified test images",
    ]
    for image in images:
        src = str(image["src"])
        width, height = png_size(base64.b64decode(src.split(",", 1)[1]))
        assert width >= 750 and height > 250
    anchors = {str(a["href"])[1:] for a in page.all("a")}
    ids = {str(a["id"]) for _, a in page.tags if "id" in a}
    assert anchors <= ids  # every contents link lands somewhere


def test_report_answers_with_this_runs_numbers(
    report: tuple[Path, Page, str], chollet_run: tuple[Path, dict[str, object]]
) -> None:
    _, page, _ = report
    words = page.words
    accuracy = float(str(chollet_run[1]["test_accuracy"]))
    for expected in (
        "Why is each output shape what it is?",
        "28 - 3 + 1 = 26",
        "(3*3*32 + 1) * 64 = 18,496",
        "How can a final 3 x 3 x 64 map classify?",
        f"this run classifies {accuracy:.2%} of the 10,000 MNIST test images correctly after 1 epoch",
        "an 18 x 18 window of the 28 x 28 input, 4 pixels apart",
        "from 2,038,922 to 93,322 parameters",
        f"{accuracy:.2%} on 10,000 MNIST test images after 1 epoch",
        "test image 7 (class 9)",
        "Receptive fields of the last map",
        "Total params: 93,322",
    ):
        assert expected in words, expected


def test_report_holds_the_explain_table_settings_and_results(
    report: tuple[Path, Page, str], chollet_run: tuple[Path, dict[str, object]]
) -> None:
    path, page, _ = report
    words = page.words
    for row in ("conv2d", "max_pooling2d", "conv2d_1", "max_pooling2d_1", "conv2d_2", "dense_1"):
        assert f"{row} " in words
    assert "(None, 26, 26, 32)" in words and "18x18, jump 4" in words
    assert "rmsprop" in words and "Batch size 64" in words and "Seed 3" in words
    assert "the first 20,000" in words  # --train-images
    history = json.loads((path.parent / "history.json").read_text())
    assert f"{history[0]['loss']:.4f}" in words
    assert (
        "model.add(layers.Conv2D(32, (3, 3), activation='relu', input_shape=(28, 28, 1)))" in words
    )


def test_untrained_preset_report(cli: Cli, tmp_path: Path) -> None:
    out_path = tmp_path / "chollet.html"
    code, _, err = cli("report", "chollet", "--output", str(out_path))
    assert code == 0, err
    page = Page(out_path.read_text(encoding="utf-8"))
    assert [i["alt"] for i in page.all("img")] == [
        "Parameters per layer",
        "Filters",
        "Feature maps",
        "Which pixels it used",
        "Receptive fields of the last map",
        "One position per layer",
    ]
    words = page.words
    assert "untrained: the initial (random) weights Keras would start from" in words
    assert "Filters of chollet, untrained" not in words  # the title is inside the PNG
    assert "This model is untrained" in words and "Confusion" not in words


def test_untrained_report_default_path(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = cli("report", "tf-course")
    assert code == 0, err
    assert (tmp_path / "tf-course-report.html").stat().st_size > 100_000


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("report", "no/such/run"), "no preset or file named 'no/such/run'"),
        (("show", "{run}", "--image", "10000"), "the mnist test set has images 0 to 9999"),
        (("show", "{run}", "--image", "missing.png"), "missing.png"),
        (("report", "{run}", "--position", "dense:0,0"), "'dense' is not a layer with positions"),
        (("report", "{empty}"), "is not a run directory"),
    ],
    ids=["unknown-target", "image-index", "image-file", "position-layer", "empty-folder"],
)
def test_user_mistakes_are_one_clear_message(
    cli: Cli,
    chollet_run: tuple[Path, dict[str, object]],
    tmp_path: Path,
    argv: tuple[str, ...],
    message: str,
) -> None:
    values = {"run": str(chollet_run[0]), "empty": str(tmp_path)}
    code, _, err = cli(*(a.format(**values) for a in argv))
    assert code == 2
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) <= 2
