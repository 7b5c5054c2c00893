"""`convscope serve` and its page: the JSON API's answers and refusals, many clients at
once, and the page in Debian's Chromium (Playwright) on a real trained run."""

from __future__ import annotations

import base64
import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib import request

import numpy as np
import pytest
from PIL import Image

import convscope as cs
from convscope.api.server import app
from convscope.runtime import data

from ..helpers import BROWSER_ARGS, CHROMIUM, screenshots, watch

pytestmark = pytest.mark.slow  # a real server, a real browser


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(model: cs.Model) -> Iterator[str]:
    """The live page of a model on a free port of 127.0.0.1, in a thread of this process."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(app(model), host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60  # a loaded machine: seconds, not the usual 0.1
    while not running.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert running.started and thread.is_alive(), f"the page did not start on port {port}"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        running.should_exit = True
        thread.join(10)


@pytest.fixture(scope="module")
def server(chollet_run: tuple[Path, dict[str, object]]) -> Iterator[str]:
    """The live page of a trained chollet run."""
    with serving(cs.load(chollet_run[0])) as url:
        yield url


def post(url: str, body: bytes, content_type: str = "application/json") -> tuple[int, Any]:
    req = request.Request(url, data=body, headers={"content-type": content_type}, method="POST")
    try:
        with request.urlopen(req, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except request.HTTPError as error:
        return error.code, json.loads(error.read())


def png_of(pixels: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def test_the_api_answers(server: str) -> None:
    with request.urlopen(f"{server}/api/model", timeout=30) as answer:
        about = json.loads(answer.read())
    assert about["explain"]["total_params"] == 93_322 and about["live"]
    conv = next(layer for layer in about["explain"]["layers"] if layer["name"] == "conv2d_2")
    assert conv["receptive_field"]["size"] == [18, 18] and conv["reads"]["span"] == [3, 3]
    mnist = data.load("mnist")
    status, found = post(
        f"{server}/api/predict", json.dumps({"pixels": mnist.test_images[7].tolist()}).encode()
    )
    assert status == 200 and found["predicted"] == int(mnist.test_labels[7])
    shapes = [layer["shape"] for layer in found["layers"]]
    assert shapes[0] == [28, 28, 1] and [3, 3, 64] in shapes and shapes[-1] == [10]
    decoded = np.frombuffer(base64.b64decode(found["layers"][-1]["data"]), "<f2")
    np.testing.assert_allclose(decoded, found["probabilities"], atol=2e-3)
    status, from_png = post(
        f"{server}/api/predict", json.dumps({"image": png_of(255 - mnist.test_images[7])}).encode()
    )
    assert (
        status == 200
        and from_png["predicted"] == found["predicted"]
        and "inverted" in " ".join(from_png["steps"])
    )
    body = {
        "pixels": mnist.test_images[7].tolist(),
        "layer": "conv2d_1",
        "row": 5,
        "col": 5,
        "channel": 3,
    }
    status, where = post(f"{server}/api/position", json.dumps(body).encode())
    assert status == 200 and where["window"] == [5, 5, 7, 7] and "relu(" in where["formula"]
    status, filt = post(
        f"{server}/api/channel", json.dumps({"layer": "conv2d_1", "channel": 3}).encode()
    )
    assert status == 200 and filt["shape"] == [3, 3, 32]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"x" * (9 * 2**20), 413, "over 8,388,608 bytes"),
        (b"{not json", 400, "not JSON"),
        (json.dumps({"image": "%%%"}).encode(), 400, "not valid base64"),
        (
            json.dumps({"image": base64.b64encode(b"not an image").decode()}).encode(),
            400,
            "not an image",
        ),
        (json.dumps({"pixels": [[0] * 28] * 27}).encode(), 422, "28 rows of 28 numbers"),
        (json.dumps({"pixels": [[300] * 28] * 28}).encode(), 422, "from 0 to 255"),
        (json.dumps([1, 2]).encode(), 422, "a JSON object"),
        (json.dumps({"nothing": 1}).encode(), 422, '"pixels"'),
    ],
    ids=[
        "too-large",
        "bad-json",
        "bad-base64",
        "bad-image",
        "wrong-shape",
        "out-of-range",
        "not-object",
        "no-input",
    ],
)
def test_bad_requests(server: str, body: bytes, status: int, message: str) -> None:
    got, answer = post(f"{server}/api/predict", body)
    assert got == status and message in answer["error"] and "Traceback" not in answer["error"]


def test_many_clients_at_once(server: str) -> None:
    mnist = data.load("mnist")
    bodies = [json.dumps({"pixels": mnist.test_images[i].tolist()}).encode() for i in range(8)]

    def client(i: int) -> list[int]:
        return [post(f"{server}/api/predict", bodies[i])[1]["predicted"] for _ in range(10)]

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(client, range(8)))
    alone = [post(f"{server}/api/predict", b)[1]["predicted"] for b in bodies]
    assert all(a == [alone[i]] * 10 for i, a in enumerate(answers))  # nothing leaks between clients


def position_formula(page: Any, layer: str, x: int, y: int) -> str:
    """Click a cell of a layer's first map; the arithmetic the page shows for it."""
    cell = page.locator(f'[data-layer="{layer}"] canvas').first
    cell.scroll_into_view_if_needed()
    cell.click(position={"x": x, "y": y})
    page.wait_for_function("document.querySelector('.detail .formula')", timeout=15000)
    return str(page.locator(".detail .formula").inner_text())


def stroke(page: Any, points: list[tuple[float, float]]) -> None:
    box = page.locator("canvas.pad").bounding_box()
    x0, y0, scale = box["x"], box["y"], box["width"] / 280
    page.mouse.move(x0 + points[0][0] * scale, y0 + points[0][1] * scale)
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(x0 + x * scale, y0 + y * scale, steps=2)
    page.mouse.up()


def wait_for_class(page: Any, expected: str) -> str:
    page.wait_for_function(
        f"document.querySelector('#predicted').dataset.class === '{expected}'", timeout=15000
    )
    return str(page.locator("#predicted").get_attribute("data-class"))


ZERO = [(140 + 70 * np.sin(t), 140 - 95 * np.cos(t)) for t in np.linspace(0, 2 * np.pi, 40)]
ONE = [(150, 50), (146, 120), (142, 230)]


@pytest.mark.parametrize("width", [1366, 390])
def test_the_page_in_chromium(server: str, width: int, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    shots = Path(str(screenshots(tmp_path)))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            log = watch(page)
            page.goto(server + "/", wait_until="networkidle")
            wait_for_class(page, "7")  # test image 0 to start with
            page.get_by_role("button", name="Clear").click()
            stroke(page, ONE)
            assert wait_for_class(page, "1") == "1"
            page.screenshot(path=str(shots / f"live-{width}-one.png"))
            page.get_by_role("button", name="Clear").click()
            stroke(page, [(float(x), float(y)) for x, y in ZERO])
            assert wait_for_class(page, "0") == "0"
            cell = page.locator('[data-layer="conv2d_2"] canvas').first
            cell.scroll_into_view_if_needed()
            cell.hover(position={"x": 30, "y": 30})
            window = page.locator("#input-window")
            assert (window.get_attribute("data-rows"), window.get_attribute("data-cols")) == (
                "18",
                "18",
            )
            page.screenshot(path=str(shots / f"live-{width}-hover.png"))
            cell.click(position={"x": 30, "y": 30})
            page.wait_for_function("document.querySelector('.detail .formula')", timeout=15000)
            assert "relu(" in page.locator(".detail .formula").inner_text()
            page.locator(".detail .enlarged").hover(position={"x": 5, "y": 5})
            assert page.locator(".detail .readout").inner_text().startswith("[0, 0] = ")
            assert page.locator(".detail .kernel").count() == 64  # conv2d_2's 64 input channels
            digit = data.load("mnist").test_images[3]  # a 0
            png = tmp_path / "upload.png"
            Image.fromarray(255 - digit).resize((140, 140)).save(png)
            # the upload's map is the last request it makes: its answer, before the checks
            with page.expect_response(lambda r: "/api/attribution" in r.url, timeout=30000):
                page.locator('input[type="file"]').set_input_files(str(png))
            assert wait_for_class(page, str(int(data.load("mnist").test_labels[3])))
            steps = page.locator(".steps").inner_text()
            assert "inverted" in steps  # the upload's steps, not the drawn 0's
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            page.screenshot(path=str(shots / f"live-{width}-upload.png"), full_page=True)
        finally:
            browser.close()
    assert log.errors == [] and log.failed == []
    assert all(r.startswith(server) for r in log.requests), log.requests  # nothing from a network
    assert overflow == 0


def test_the_page_switches_attribution_method_in_one_click(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    shots = Path(str(screenshots(tmp_path)))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 1200})
            log = watch(page)
            page.goto(server + "/", wait_until="networkidle")
            wait_for_class(page, "7")
            page.wait_for_function(
                "document.querySelector('#used-note').textContent.includes('Grad-CAM')",
                timeout=15000,
            )
            assert (
                page.locator("#used-note").inner_text()
                == "Grad-CAM, for class 7: bright counts most"
            )
            seen = {}
            for method, label in (
                ("integrated_gradients", "Integrated gradients"),
                ("occlusion", "Occlusion"),
            ):
                page.get_by_role("button", name=label).click()
                page.wait_for_function(
                    f"document.querySelector('#used-note').textContent.startsWith('{label}')",
                    timeout=15000,
                )
                assert (
                    page.get_by_role("button", name=label).get_attribute("aria-pressed") == "true"
                )
                seen[method] = page.evaluate(
                    "Array.from(document.querySelector('canvas.used').getContext('2d').getImageData(0, 0, 28, 28).data)"
                )
            page.locator("canvas.used").scroll_into_view_if_needed()
            page.screenshot(path=str(shots / "live-attribution.png"))
        finally:
            browser.close()
    assert seen["integrated_gradients"] != seen["occlusion"]  # a new map, not the old one
    assert log.errors == []


def test_an_untrained_model_says_so() -> None:
    from convscope.api.live import Live

    about = Live(cs.load("chollet")).describe()
    assert (
        about["trained"] is False and about["live"] and about["explain"]["total_params"] == 93_322
    )


def test_a_port_in_use_and_a_remote_host_are_refused(cli: Any) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = cli("serve", "chollet", "--port", str(port))
    assert r.code == 2 and f"port {port} on 127.0.0.1 is in use" in r.err and "try --port" in r.err
    r = cli("serve", "chollet", "--host", "0.0.0.0")
    assert r.code == 2 and "--allow-remote" in r.err


def test_ctrl_c_stops_the_server_cleanly(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "convscope", "serve", "chollet", "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        answered, deadline = False, time.monotonic() + 120  # a loaded machine starts slowly
        while not answered and process.poll() is None and time.monotonic() < deadline:
            try:
                request.urlopen(f"http://127.0.0.1:{port}/api/model", timeout=1).read()
                answered = True
            except OSError:
                time.sleep(0.1)
        assert answered, process.stderr.read() if process.poll() is not None else "no answer"
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert f"http://127.0.0.1:{port}/" in out and "Stopped." in out and "Traceback" not in err
    assert "random initial weights" not in out  # the page says so, the terminal names the state
    assert "untrained" in out


@pytest.mark.parametrize("op", ["Max", "Average"])
def test_a_same_padded_pooling_value_is_worked_out_as_keras_pools(op: str) -> None:
    from convscope.runtime.live import position

    source = (
        "from keras import layers, Sequential, Input\nmodel = Sequential([Input((28, 28, 1)), "
        f"layers.Conv2D(2, 3, activation='tanh'), layers.{op}Pooling2D(3, padding='same')])\n"
    )
    from convscope.core.source.read import read_model
    from convscope.runtime.nn.model import KerasModel

    torch_model = KerasModel(read_model(source, "p.py").spec).eval()
    pixels = np.full((28, 28), 255, dtype=np.uint8)  # every conv value the same, non-zero
    name = torch_model.spec.layers[1].name
    corner = position(torch_model, pixels, name, 8, 8, 1)  # 26 -> 9: the last window overhangs
    assert corner["window"] == [24, 24, 26, 26] and abs(corner["value"]) > 1e-3
    assert corner["formula"].endswith(f"= {corner['value']:.4g}")


def test_the_page_works_without_the_data_set(
    chollet_run: tuple[Path, dict[str, object]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No CONVSCOPE_DATA, no caches, no network: the test images cannot be read, and the
    page says the server's reason where they would be; drawing and uploading still work."""
    import dataclasses

    from playwright.sync_api import sync_playwright

    dead = free_port()  # nothing listens there
    monkeypatch.setenv("CONVSCOPE_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))  # nor Keras's cache
    unreachable = (f"http://127.0.0.1:{dead}/",)
    info = dataclasses.replace(data.DATASETS["mnist"], mirrors=unreachable)
    monkeypatch.setitem(data.DATASETS, "mnist", info)
    shots = Path(str(screenshots(tmp_path)))
    with serving(cs.load(chollet_run[0])) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.goto(url + "/", wait_until="networkidle")
        page.wait_for_function(
            "document.querySelector('#test-note').textContent.length > 0", timeout=30000
        )
        note = page.locator("#test-note").inner_text()
        status = page.locator(".status").inner_text()
        page.screenshot(path=str(shots / "live-without-data.png"))
        stroke(page, ONE)
        drawn = wait_for_class(page, "1")
        browser.close()
    assert note.startswith("convscope: mnist: the four IDX files are not in any of"), note
    assert "Cannot read properties" not in note + status and status == ""
    assert drawn == "1"


@pytest.mark.parametrize("width", [1366, 390])
def test_a_residual_graph_in_chromium(width: int, tmp_path: Path) -> None:
    """A graph's page: the projection beside the block's first convolution, each layer
    saying what it reads, one position's arithmetic read from the layer's own input."""
    from playwright.sync_api import sync_playwright

    shots = Path(str(screenshots(tmp_path)))
    with serving(cs.load("residual-mnist", seed=2)) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            log = watch(page)
            page.goto(url + "/", wait_until="networkidle")
            page.wait_for_function("document.querySelectorAll('.level').length > 20", timeout=30000)
            side = page.locator(".level", has=page.locator('[data-layer="conv2d_5"]'))
            assert side.locator(".layer").evaluate_all("s => s.map(x => x.dataset.layer)") == [
                "conv2d_3", "conv2d_5",
            ]  # fmt: skip
            reads = page.locator('[data-layer="add_1"] .reads').inner_text()
            assert reads == "reads batch_normalization_4, batch_normalization_5"
            assert "sum of 16 weights x inputs" in position_formula(page, "conv2d_5", 20, 20)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            page.screenshot(path=str(shots / f"live-graph-{width}.png"))
        finally:
            browser.close()
    assert log.errors == [] and log.failed == [] and overflow == 0
