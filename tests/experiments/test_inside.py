"""Probes, occlusion, compare and the report's experiments section, on a real trained run."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from convscope.runtime import data, runs
from convscope.runtime.splits import pixels

from ..helpers import Cli, Page, png_size, run_cli

pytestmark = pytest.mark.slow  # real trainings and reports: the full suite runs them


@pytest.fixture(scope="module")
def run_copy(
    chollet_run: tuple[Path, dict[str, object]], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The session's trained chollet run, copied: the experiments write into it."""
    copy = tmp_path_factory.mktemp("inside") / chollet_run[0].name
    shutil.copytree(chollet_run[0], copy)
    return copy


@pytest.fixture(scope="module")
def probe(run_copy: Path) -> dict[str, object]:
    code, out, err = run_cli(
        "experiment", "probe", str(run_copy), "--train-images", "6000", "--epochs", "3", "--json"
    )
    assert code == 0, err
    result: dict[str, object] = json.loads(out)
    return result


def test_probe_at_the_input_and_after_every_layer(probe: dict[str, object]) -> None:
    points = {p["name"]: p for p in probe["points"]}  # type: ignore[attr-defined]
    assert list(points) == [
        "input", "conv2d", "max_pooling2d", "conv2d_1", "max_pooling2d_1", "conv2d_2",
        "flatten", "dense", "dense_1",
    ]  # fmt: skip
    sizes = [p["features"] for p in points.values()]
    assert sizes == [784, 21_632, 5_408, 7_744, 1_600, 576, 576, 64, 10]
    # Flatten only reorders conv2d_2's numbers: a linear probe cannot tell them apart
    assert points["flatten"]["same_as"] == "conv2d_2"
    assert points["flatten"]["test_accuracy"] == points["conv2d_2"]["test_accuracy"]


def test_probe_accuracies_are_sane(probe: dict[str, object]) -> None:
    points = {p["name"]: p for p in probe["points"]}  # type: ignore[attr-defined]
    pixels_only = points["input"]["test_accuracy"]
    last_map = points["conv2d_2"]["test_accuracy"]
    assert 0.80 < pixels_only < last_map  # raw pixels are fairly separable; features more
    assert last_map > 0.95
    # read off the network's own output, a probe does about as well as the network
    assert abs(points["dense_1"]["test_accuracy"] - probe["model_accuracy"]) < 0.02  # type: ignore[operator]


def test_probe_files_and_table(run_copy: Path, probe: dict[str, object]) -> None:
    saved = json.loads((run_copy / "experiments" / "probe.json").read_text())
    assert saved == probe
    assert png_size((run_copy / "experiments" / "probe.png").read_bytes())[0] == 1000


@pytest.fixture(scope="module")
def occlusion(run_copy: Path) -> dict[str, object]:
    code, out, err = run_cli("experiment", "occlusion", str(run_copy), "--image", "7", "--json")
    assert code == 0, err
    result: dict[str, object] = json.loads(out)
    return result


def test_occlusion_matches_a_direct_computation(
    run_copy: Path, occlusion: dict[str, object]
) -> None:
    _, model, _ = runs.load_trained(run_copy)
    image = data.load("mnist").test_images[7]  # (28, 28) uint8
    covered = image.copy()
    covered[10:15, 12:17] = 128  # the patch with its corner at row 10, column 12
    x = pixels(np.stack([image, covered]), model.spec, torch.device("cpu"))
    with torch.no_grad():
        p = torch.softmax(model.logits_nchw(x), -1)  # (2, 10)
    target = int(p[0].argmax())
    assert occlusion["target"] == target == occlusion["label"] == 9
    assert occlusion["probability"] == pytest.approx(float(p[0, target]), abs=1e-6)
    at = np.array(occlusion["at_positions"])
    assert at.shape == (24, 24)  # 28 - 5 + 1 positions a side at stride 1
    assert at[10, 12] == pytest.approx(float(p[1, target]), abs=1e-5)


def far_from_ink(image: np.ndarray, patch: int = 5) -> np.ndarray:
    """Pixels whose every covering patch misses the ink: at least `patch` px from any ink."""
    ink = image > 0
    near = np.zeros_like(ink)
    for dy in range(1 - patch, patch):
        for dx in range(1 - patch, patch):
            near |= np.roll(np.roll(ink, dy, 0), dx, 1)
    return ~near


def test_grey_occlusion_hurts_most_on_the_ink(occlusion: dict[str, object]) -> None:
    image = data.load("mnist").test_images[7]
    drop = np.array(occlusion["drop"])
    assert drop.shape == (28, 28) and occlusion["fill"] == 128
    far = far_from_ink(image)
    assert far.sum() > 50
    # grey on black is half-strength ink, so it matters a little even off the digit
    assert drop[image > 0].mean() > 3 * max(drop[far].mean(), 1e-4)


def test_background_occlusion_changes_nothing_off_the_digit(run_copy: Path) -> None:
    code, out, err = run_cli(
        "experiment", "occlusion", str(run_copy), "--image", "7", "--fill", "0", "--json"
    )
    assert code == 0, err
    result = json.loads(out)
    image = data.load("mnist").test_images[7]
    drop = np.array(result["drop"])
    # a black patch on black background leaves the image as it was: exactly no change
    assert np.all(drop[far_from_ink(image)] == 0)
    assert drop[image > 0].mean() > 0.005


def test_compare_two_runs_without_loading_torch(
    run_copy: Path, chollet_run: tuple[Path, dict[str, object]], tmp_path: Path
) -> None:
    other = tmp_path / "other"
    shutil.copytree(chollet_run[0], other)
    settings = json.loads((other / "settings.json").read_text())
    settings["seed"] = 99  # a run that differs in one setting
    (other / "settings.json").write_text(json.dumps(settings))
    code = (
        "import sys, io\n"
        "from convscope.cli import main\n"
        "out = io.StringIO()\n"
        f"code = main(['compare', {str(run_copy)!r}, {str(other)!r}, '--output', "
        f"{str(tmp_path / 'cmp')!r}], stdout=out)\n"
        "print(out.getvalue())\n"
        "print('torch' in sys.modules, code)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == "False 0"  # JSON and arithmetic only: no torch
    table = "\n".join(lines)
    assert "seed" in lines[0] and "93,322" in table and "Shared: model chollet" in table
    compared = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    assert compared["differing"] == ["seed"]
    accuracy = json.loads((run_copy / "metrics.json").read_text())["accuracy"]
    assert compared["runs"][0]["test_accuracy"] == accuracy
    assert png_size((tmp_path / "cmp" / "compare.png").read_bytes())[0] == 1000


def test_report_includes_probe_and_occlusion(
    run_copy: Path, probe: dict[str, object], occlusion: dict[str, object], tmp_path: Path
) -> None:
    out = tmp_path / "r.html"
    code, _, err = run_cli("report", str(run_copy), "--output", str(out))
    assert code == 0, err
    page = Page(out.read_text())
    ids = {a.get("id") for a in page.all("figure")}
    assert {"probes", "occlusion-7"} <= ids
    assert "A linear classifier on the raw pixels (784 numbers) scores" in page.words
    assert any(a.get("id") == "probe-table" for a in page.all("div"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["experiment", "probe", "/no/such/run"], "is not a run directory"),
        (["experiment", "occlusion", "RUN", "--patch", "40"], "--patch must be from 1 to 28"),
        (["experiment", "occlusion", "RUN", "--image", "10000"], "has images 0 to 9999"),
        (["experiment", "occlusion", "RUN", "--fill", "300"], "--fill must be a pixel value"),
        (["compare", "RUN"], "compare needs at least two runs, got 1"),
        (["compare", "RUN", "/no/such/run"], "/no/such/run is not a run directory"),
        (["report", "RUN", "--pooling", "/no/such/exp"], "no pooling.json there"),
    ],
    ids=["probe-no-run", "patch-too-big", "image-out-of-range", "bad-fill", "compare-one", "compare-bad",
         "report-bad-pooling"],
)  # fmt: skip
def test_mistakes_are_one_clear_message(
    cli: Cli, run_copy: Path, args: list[str], message: str
) -> None:
    code, out, err = cli(*(str(run_copy) if a == "RUN" else a for a in args))
    assert code == 2 and message in err and not out
    assert len(err.strip().splitlines()) <= 2
