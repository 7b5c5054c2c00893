"""Every command's --json equals the dict of the API object that does the same work.

The CLI is a thin layer over `convscope.*`: these tests run each command as a user
would and the same call from Python, on real runs and real MNIST."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import convscope as cs
from convscope.runtime import data

from ..helpers import Cli

pytestmark = pytest.mark.slow  # trainings, figures, probes: seconds each

Run = tuple[Path, dict[str, object]]


def without(d: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k not in keys}


def test_train(cli: Cli, tmp_path: Path) -> None:
    small = {"epochs": 1, "train_images": 1000, "seed": 7, "batch_size": 50}
    flags = ["--epochs", "1", "--train-images", "1000", "--seed", "7", "--batch-size", "50"]
    r = cli("train", "chollet", *flags, "--quiet", "--json", "--runs-dir", str(tmp_path / "c"))
    assert r.code == 0, r.err
    run = cs.train("chollet", **small, quiet=True, runs_dir=tmp_path / "a")
    printed = json.loads(r.out)
    # seeded CPU runs repeat exactly; only the folder and the time differ
    assert without(run.to_dict(), "run_dir", "seconds") == without(printed, "run_dir", "seconds")
    assert run.path.parent == tmp_path / "a" and run.epochs == 1 and len(run.history) == 1
    assert 0.5 < run.test_accuracy < 1
    assert run.history[0]["val_accuracy"] == pytest.approx(run.test_accuracy, abs=1e-6)


def test_evaluate(cli: Cli, chollet_run: Run) -> None:
    path = chollet_run[0]
    r = cli("evaluate", str(path), "--json")
    assert r.code == 0, r.err
    result = cs.load(path).evaluate()
    assert result.to_dict() == json.loads(r.out)
    assert str(result) == cli("evaluate", str(path)).out
    assert result.accuracy == chollet_run[1]["test_accuracy"]


def test_predict(cli: Cli, chollet_run: Run, tmp_path: Path) -> None:
    dataset = data.load("mnist")
    png = tmp_path / "seven.png"
    Image.fromarray(255 - dataset.test_images[0]).save(png)  # dark ink on white, as drawn
    r = cli("predict", str(chollet_run[0]), str(png), "--json")
    assert r.code == 0, r.err
    model = cs.load(chollet_run[0])
    found = model.predict_image(png)
    assert found.to_dict() == json.loads(r.out)
    assert found.class_name == "7" and "inverted" in " ".join(found.steps)
    # the array route gives Keras's model.predict for the test images themselves
    outputs = model.predict(dataset.test_images[:500])
    correct = (outputs.argmax(1) == dataset.test_labels[:500]).mean()
    assert correct > 0.9


def test_show_and_report(cli: Cli, chollet_run: Run, tmp_path: Path) -> None:
    path = chollet_run[0]
    r = cli("show", str(path), "--image", "7", "--output", str(tmp_path / "f"), "--json")
    assert r.code == 0, r.err
    model = cs.load(path)
    figures = model.show(tmp_path / "f", image=7)
    assert figures.to_dict() == json.loads(r.out)
    assert len(figures) == 9 and figures["feature_maps"]._repr_png_().startswith(b"\x89PNG")
    r = cli("report", str(path), "--image", "7", "--output", str(tmp_path / "r.html"), "--json")
    assert r.code == 0, r.err
    cli_page = (tmp_path / "r.html").read_bytes()
    written = model.report(tmp_path / "r.html", image=7)
    assert written.to_dict() == json.loads(r.out)
    assert (tmp_path / "r.html").read_bytes() == cli_page  # the same page, byte for byte


def test_probe_and_occlusion(cli: Cli, chollet_run: Run, tmp_path: Path) -> None:
    path = tmp_path / "run"
    shutil.copytree(chollet_run[0], path)
    r = cli("experiment", "probe", str(path), "--train-images", "600", "--epochs", "1", "--json")
    assert r.code == 0, r.err
    model = cs.load(path)
    probe = model.probe(epochs=1, train_images=600)
    assert without(probe.to_dict(), "seconds") == without(json.loads(r.out), "seconds")
    assert set(probe.points) >= {"input", "conv2d", "dense_1"}
    r = cli("experiment", "occlusion", str(path), "--image", "7", "--patch", "7", "--json")
    assert r.code == 0, r.err
    occ = model.occlusion(7, patch=7)
    assert occ.to_dict() == json.loads(r.out)
    assert occ.drop.shape == (28, 28) and occ.path is not None and occ.path.exists()


def test_compare_and_pooling(cli: Cli, chollet_run: Run, tmp_path: Path) -> None:
    small = ["--epochs", "1", "--seeds", "1", "--train-images", "500", "--quiet"]
    out = tmp_path / "pooling"
    r = cli("experiment", "pooling", "--model", "chollet", "--output", str(out), *small, "--json")
    assert r.code == 0, r.err
    again = cs.pooling("chollet", seeds=1, epochs=1, train_images=500, output=out, quiet=True)
    assert again.to_dict() == json.loads(r.out)  # everything done: read back, not retrained
    assert again.complete and len(again.results.variants) == 4
    runs = [chollet_run[0], out / "runs" / "none-seed1"]
    r = cli("compare", *map(str, runs), "--output", str(tmp_path / "cmp"), "--json")
    assert r.code == 0, r.err
    comparison = cs.compare(runs, output=tmp_path / "cmp")
    assert comparison.to_dict() == json.loads(r.out)
    assert "parameters" in comparison.text()


def test_layer_outputs_of_a_trained_run_match_its_predictions(chollet_run: Run) -> None:
    model = cs.load(chollet_run[0])
    outputs = model.layer_outputs(7)  # test image 7
    image = data.load("mnist").test_images[7]
    np.testing.assert_allclose(outputs["dense_1"], model.predict(image)[0], atol=1e-6)
    assert outputs["conv2d_2"].shape == (3, 3, 64)


def test_predict_a_folder(cli: Cli, chollet_run: Run, tmp_path: Path) -> None:
    """Test digits drawn dark on white at 84 x 84, in folders named after their digits:
    the table's --json is the API's, each file's probabilities are predict_image's, and
    the folders' verdict is the accuracy a user would count by hand."""
    dataset = data.load("mnist")
    for i in range(40):
        folder = tmp_path / "digits" / str(dataset.test_labels[i])
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(255 - dataset.test_images[i]).resize((84, 84)).save(folder / f"{i}.png")
    r = cli("predict", str(chollet_run[0]), str(tmp_path / "digits"), "--json")
    assert r.code == 0, r.err
    model = cs.load(chollet_run[0])
    found = model.predict_images(tmp_path / "digits")
    assert found.to_dict() == json.loads(r.out)
    one = [model.predict_image(f).probabilities for f in found.files]
    # one photo at a time against batches of 64: float32 sums in another order (an
    # undecided digit at 0.39/0.61 moved by 1.2e-6)
    np.testing.assert_allclose(found.probabilities, np.array(one), rtol=1e-5, atol=1e-6)
    pairs = zip(found.files, found.labels, strict=True)
    by_hand = np.mean([Path(f).parent.name == str(y) for f, y in pairs])
    assert found.to_dict()["folder_accuracy"] == pytest.approx(by_hand) and by_hand >= 0.9
    text = cli("predict", str(chollet_run[0]), str(tmp_path / "digits")).out
    assert text == str(found) and f"{round(by_hand * 40)} ({by_hand:.1%})" in text
