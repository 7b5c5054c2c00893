"""Looking inside a model trained on a folder of photos (generated coloured shapes): the
report, predict of a photo prepared as the training photos were, the live page's JSON
and the page itself in Chromium with an uploaded photo, at a desktop and a phone width."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

import convscope as cs
from convscope.api.live import Live

from ..helpers import (
    BROWSER_ARGS,
    CHROMIUM,
    Cli,
    run_cli,
    screenshots,
    shapes_folder,
    shapes_model,
    watch,
)
from .test_live import position_formula, serving

pytestmark = pytest.mark.slow  # a real training, a report, a browser


@pytest.fixture(scope="module")
def photo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(run directory, photos folder): three classes of shapes, 10 epochs at 32 x 32."""
    root = tmp_path_factory.mktemp("photos")
    photos = shapes_folder(root / "shapes", 200)
    model = shapes_model(root / "model.py")
    result = run_cli("train", str(model), "--data", str(photos), "--epochs", "10",
                     "--batch-size", "16", "--seed", "1", "--quiet", "--json",
                     "--runs-dir", str(root / "runs"))  # fmt: skip
    assert result.code == 0, result.err
    return Path(json.loads(result.out)["run_dir"]), photos


def big_square(path: Path) -> Path:
    """A photo of another size than the training ones: a green square on a dark ground."""
    image = Image.new("RGB", (300, 220), (30, 40, 20))
    ImageDraw.Draw(image).rectangle([100, 50, 200, 150], fill=(90, 255, 110))
    image.save(path, quality=95)
    return path


def test_the_report_of_a_folder_run(photo_run: tuple[Path, Path], cli: Cli) -> None:
    run, _ = photo_run
    result = cli("report", str(run))
    assert result.code == 0, result.err
    page = (run / "report.html").read_text()
    for name in ("circle", "square", "triangle"):
        assert name in page
    assert "32x32" in page and "an edge, a colour, a texture" in page
    assert "a stroke, a curve" not in page and "A digit shifted" not in page
    assert "the folder&#39;s validation images" in page or "the folder's validation images" in page


def test_a_photo_is_prepared_as_the_training_photos_were(
    photo_run: tuple[Path, Path], tmp_path: Path, cli: Cli
) -> None:
    run, _ = photo_run
    photo = big_square(tmp_path / "square.jpg")
    result = cli("predict", str(run), str(photo))
    assert result.code == 0, result.err
    assert "square" in result.out.splitlines()[0]
    assert "resized from 300x220 to 32x32 (bilinear" in result.out
    assert "divided by 255" not in result.out  # the model's own Rescaling does it


def test_predict_takes_arrays_as_fit_took_them(photo_run: tuple[Path, Path]) -> None:
    """The folder's test photos (0..255, as image_dataset_from_directory gives them)
    through cs.load(run).predict equal the model run directly in torch."""
    run, _ = photo_run
    model = cs.load(run)
    dataset = model.subject.load_data()
    x = np.asarray(dataset.test_images[:20], dtype=np.float32)  # (20, 32, 32, 3)
    found = model.predict(x)
    with torch.no_grad():
        direct = model.subject.model(torch.from_numpy(x)).numpy()  # Keras's layout in
    np.testing.assert_allclose(found, direct, atol=1e-6)
    assert (found.argmax(1) == dataset.test_labels[:20]).mean() >= 0.9


def test_the_live_page_answers_for_photos(photo_run: tuple[Path, Path], tmp_path: Path) -> None:
    run, _ = photo_run
    live = Live(cs.load(run))
    about = live.handle("model", None)
    assert about["live"] and not about["drawable"] and about["test_images"] == 120
    raw = big_square(tmp_path / "square.jpg").read_bytes()
    answer = live.handle("predict", {"image": base64.b64encode(raw).decode()})
    assert about["classes"][answer["predicted"]] == "square"
    assert answer["shape"] == [32, 32, 3] and len(base64.b64decode(answer["image"])) == 32 * 32 * 3
    assert any("resized from 300x220" in step for step in answer["steps"])
    test = live.handle("test", {"index": 3})
    assert test["label"] == int(live.model.subject.load_data().test_labels[3])
    shown = live.handle("attribution", {"index": 3, "method": "saliency"})
    assert len(base64.b64decode(shown["data"])) == 32 * 32 * 2  # float16 (H, W)
    where = live.handle("position", {"index": 3, "layer": "conv2d", "row": 4, "col": 5,
                                     "channel": 0})  # fmt: skip
    assert "3x3" in where["formula"] or "sum" in where["formula"]


@pytest.fixture(scope="module")
def photo_server(photo_run: tuple[Path, Path]) -> Iterator[str]:
    with serving(cs.load(photo_run[0])) as url:
        yield url


@pytest.mark.parametrize("width", [1366, 390])
def test_the_page_with_an_uploaded_photo(photo_server: str, width: int, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    shots = Path(str(screenshots(tmp_path)))
    photo = big_square(tmp_path / "square.jpg")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            log = watch(page)
            page.goto(photo_server + "/", wait_until="networkidle")
            page.wait_for_function("document.querySelector('#predicted')?.dataset.class")
            assert page.locator("canvas.pad").count() == 0  # no drawing for photos
            page.locator('input[type="file"]').set_input_files(str(photo))
            page.wait_for_function(
                "document.querySelector('.steps')?.textContent.includes('300x220')"
            )
            assert page.locator("#predicted").get_attribute("data-class") == "square"
            page.wait_for_function("document.querySelector('#used-note')?.textContent")
            assert "for class square" in page.locator("#used-note").inner_text()
            assert "relu(" in position_formula(page, "conv2d_1", 10, 10)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            page.screenshot(path=str(shots / f"live-photo-{width}.png"), full_page=True)
        finally:
            browser.close()
    assert log.errors == [] and log.failed == []
    assert overflow == 0


@pytest.mark.parametrize(
    "argv, made",
    [
        (["experiment", "probe", "--train-images", "300", "--epochs", "2"], "probe.json"),
        (["experiment", "occlusion", "--image", "5", "--stride", "2"], "occlusion-5.json"),
        (["experiment", "attribution", "--images", "4", "--deletion-images", "40"],
         "attribution.json"),
    ],
    ids=["probe", "occlusion", "attribution"],
)  # fmt: skip
def test_the_experiments_on_photos(
    photo_run: tuple[Path, Path], cli: Cli, argv: list[str], made: str
) -> None:
    run, _ = photo_run
    result = cli(*argv[:2], str(run), *argv[2:])
    assert result.code == 0 and "Traceback" not in result.err, result.err
    assert (run / "experiments" / made).is_file()


def test_a_photo_that_is_not_an_image(
    photo_run: tuple[Path, Path], tmp_path: Path, cli: Cli
) -> None:
    fake = tmp_path / "holiday.jpg"
    fake.write_text("not a picture")
    result = cli("predict", str(photo_run[0]), str(fake))
    assert result.code == 2 and "holiday.jpg: not a readable image" in result.err
    assert len(result.err.strip().splitlines()) <= 2


def test_a_photo_model_exports_and_keras_predicts_the_same(
    photo_run: tuple[Path, Path], tmp_path: Path, cli: Cli
) -> None:
    """Rescaling included, on the folder's own test photos as they are (0..255)."""
    import keras

    run, _ = photo_run
    result = cli("export", str(run), "--output", str(tmp_path / "shapes.keras"))
    assert result.code == 0, result.err
    model = cs.load(run)
    x = np.asarray(model.subject.load_data().test_images[:16], dtype=np.float32)
    theirs = np.asarray(keras.models.load_model(tmp_path / "shapes.keras").predict(x, verbose=0))
    np.testing.assert_allclose(model.predict(x), theirs, atol=1e-5)
    # ONNX takes what the message says: the photos as the folder gave them, not x / 255
    import onnxruntime

    # the .keras file predicts a photo without --dataset: a colour model's photo is resized
    photo = str(big_square(tmp_path / "square.jpg"))
    from_file = json.loads(cli("predict", str(tmp_path / "shapes.keras"), photo, "--json").out)
    from_run = json.loads(cli("predict", str(run), photo, "--json").out)
    assert list(from_file["probabilities"].values()) == pytest.approx(
        list(from_run["probabilities"].values()), abs=1e-6
    )  # the same numbers, named 0, 1, 2: the file does not keep the folder's names
    written = cli("export", str(run), "--output", str(tmp_path / "shapes.onnx"))
    assert "input (N, 32, 32, 3) floats as the training data gave them" in written.out
    session = onnxruntime.InferenceSession(str(tmp_path / "shapes.onnx"))
    onnx_out = session.run(None, {"images": x})[0]
    np.testing.assert_allclose(onnx_out, theirs, atol=1e-5)


def test_a_photo_run_shared_as_a_page(photo_run: tuple[Path, Path], tmp_path: Path) -> None:
    """A colour model's shared page from file://: a bundled photo, then an upload resized
    in the browser, predicted as the served page predicts it."""
    from playwright.sync_api import sync_playwright

    folder = tmp_path / "shapes-site"
    cs.load(photo_run[0]).export(folder, format="site")
    photo = big_square(tmp_path / "square.jpg")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            log = watch(page)
            page.goto((folder / "index.html").as_uri())
            page.wait_for_function("document.querySelector('#predicted')?.dataset.class")
            assert "bundled image 0" in page.locator(".steps").inner_text()
            page.locator('input[type="file"]').set_input_files(str(photo))
            page.wait_for_function(
                "document.querySelector('.steps')?.textContent.includes('in the browser')"
            )
            assert page.locator("#predicted").get_attribute("data-class") == "square"
            assert "relu(" in position_formula(page, "conv2d_1", 10, 10)
        finally:
            browser.close()
    assert log.errors == [] and log.failed == []
