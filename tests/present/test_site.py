"""The shared page's forward pass (web/forward.js, plain JavaScript) in Chromium against
torch: every layer's output of every parity model, chains and graphs, on the same stored
weights, to 1e-4."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from convscope.core.source.read import read_model
from convscope.runtime.nn.model import KerasModel
from convscope.runtime.site import arrays_json, model_json

from ..helpers import BROWSER_ARGS, CHROMIUM
from ..parity.cases import CASES
from ..parity.graph_cases import GRAPH_CASES

pytestmark = pytest.mark.slow  # a real browser

FORWARD = Path(__file__).resolve().parents[2] / "src" / "convscope" / "web" / "forward.js"
RUN = """([model, arrays, input]) => {
  const f32 = (b64) => new Float32Array(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)).buffer);
  const weights = arrays.map((layer) => layer.map((a) => f32(a.data)));
  const outputs = window.forwardPass(model, weights, f32(input));
  const b64 = (f) => {
    const u = new Uint8Array(new Float32Array(f).buffer);
    let text = "";
    for (let i = 0; i < u.length; i += 8192) text += String.fromCharCode.apply(null, u.subarray(i, i + 8192));
    return btoa(text);
  };
  return outputs.map(b64);
}"""


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One browser for the module (Playwright's sync API cannot be nested)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def page(chromium: Any) -> Any:
    """A tab holding forward.js, as window.forwardPass."""
    tab = chromium.new_page()
    script = FORWARD.read_text() + "\nwindow.forwardPass = forward;\n"
    tab.set_content(f'<script type="module">{script}</script>')
    tab.wait_for_function("window.forwardPass !== undefined")
    return tab


def decode(b64: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(b64), dtype="<f4")


@pytest.mark.parametrize("case", [*CASES, *GRAPH_CASES])
def test_every_layer_in_the_browser_equals_torch(case: str, page: Any) -> None:
    source = CASES.get(case) or GRAPH_CASES[case]
    spec = read_model(source, f"{case}.py").spec
    torch.manual_seed(0)
    model = KerasModel(spec).eval()
    with torch.no_grad():  # non-trivial statistics, biases and PReLU slopes: all compared
        for name, buffer in model.named_buffers():
            if name.endswith("running_var"):
                buffer.uniform_(0.5, 1.5)
            elif name.endswith("running_mean"):
                buffer.uniform_(-0.5, 0.5)
        for p in model.parameters():
            if p.dim() <= 1 or p.shape[0] == 1:
                p.uniform_(-0.5, 0.5)
    image = torch.rand(1, *spec.input_shape)
    with torch.no_grad():
        expected = [t[0].contiguous().numpy() for t in model.activations(image)]
    payload = [
        model_json(spec),
        arrays_json(model),
        base64.b64encode(image.numpy().astype("<f4").tobytes()).decode(),
    ]
    got = page.evaluate(RUN, json.loads(json.dumps(payload)))
    assert len(got) == len(expected)
    for layer, want, found in zip(spec.layers, expected, got, strict=True):
        values = decode(found)
        assert values.size == want.size, layer.name
        scale = max(1.0, float(np.abs(want).max()))
        np.testing.assert_allclose(
            values, want.ravel(), atol=1e-4 * scale, rtol=1e-4, err_msg=layer.name
        )


@pytest.fixture(scope="module")
def shared(
    chollet_run: tuple[Path, dict[str, object]], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The session's chollet run exported as a shared page."""
    import convscope as cs

    folder = tmp_path_factory.mktemp("site") / "my-convnet"
    cs.load(chollet_run[0]).export(folder, format="site")
    return folder


@pytest.mark.parametrize("width", [1366, 390])
def test_the_shared_page_from_file(shared: Path, width: int, tmp_path: Path, chromium: Any) -> None:
    """Opened from file://: a bundled image, a drawing and its prediction, a position's
    arithmetic, a precomputed map and a drawing's occlusion, nothing from any network."""
    from PIL import Image

    from convscope.runtime import data

    from ..helpers import screenshots, watch
    from .test_live import ONE, position_formula, stroke, wait_for_class

    shots = Path(str(screenshots(tmp_path)))
    page = chromium.new_page(viewport={"width": width, "height": 900})
    try:
        log = watch(page)
        page.goto((shared / "index.html").as_uri())
        assert wait_for_class(page, "7") == "7"  # bundled image 0: test image 0, a 7
        about = page.locator("#about").inner_text()
        assert "chollet, trained on mnist" in about and "on the test set" in about
        page.wait_for_function("document.querySelector('#used-note')?.textContent")
        assert page.locator("#used-note").inner_text().startswith("Grad-CAM, for class 7")
        assert "relu(" in position_formula(page, "conv2d_1", 20, 20)
        page.get_by_role("button", name="Clear").click()
        stroke(page, ONE)
        assert wait_for_class(page, "1") == "1"
        page.wait_for_function(
            "document.querySelector('#used-note').textContent.startsWith('Occlusion, for class 1')",
            timeout=30000,
        )
        redraw = page.evaluate("Math.max(...window.__convscope.timings)")
        digit = data.load("mnist").test_images[3]  # a 0, as a photo of ink on paper
        png = tmp_path / "upload.png"
        Image.fromarray(255 - digit).resize((140, 140)).save(png)
        page.locator('input[type="file"]').set_input_files(str(png))
        assert wait_for_class(page, "0") == "0"
        assert "resized to 28x28 in the browser" in page.locator(".steps").inner_text()
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        page.screenshot(path=str(shots / f"site-{width}.png"), full_page=False)
    finally:
        page.close()
    assert log.errors == [] and log.failed == []
    assert all(r.startswith("file://") or r.startswith("data:") for r in log.requests), log.requests
    assert overflow == 0 and redraw < 10_000  # a sanity bound; benchmarks/site_speed.py measures it


def test_the_folder_is_small_and_complete(shared: Path) -> None:
    names = sorted(p.name for p in shared.iterdir())
    assert names == ["data.js", "explain.html", "index.html", "report.html"]
    assert sum(p.stat().st_size for p in shared.iterdir()) <= 3_000_000
    text = (shared / "data.js").read_text()
    assert text.startswith("window.CONVSCOPE_SITE = ") and '"dtype": "f2"' in text
    assert "chollet" in (shared / "explain.html").read_text()


def test_bad_exports_are_refused_and_leave_nothing(
    chollet_run: tuple[Path, dict[str, object]],
    shared: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import convscope as cs
    import convscope.runtime.site as site

    from ..helpers import run_cli

    with pytest.raises(cs.ConvscopeError, match="chollet has no trained weights to share"):
        cs.load("chollet").export(tmp_path / "a", format="site")  # an untrained preset
    r = run_cli("export", str(chollet_run[0]), "--format", "site", "-o", str(shared))
    assert r.code == 2 and f"{shared} exists" in r.err and "--force" in r.err
    monkeypatch.setattr(site, "BROWSER", site.BROWSER - {"Conv2D"})  # as if it could not
    with pytest.raises(cs.ConvscopeError, match=r"conv2d \(Conv2D\) has no forward pass in"):
        cs.load(chollet_run[0]).export(tmp_path / "b", format="site")
    assert not list(tmp_path.iterdir())  # nothing half written
