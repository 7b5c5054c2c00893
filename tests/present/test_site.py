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
def page() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            tab = browser.new_page()
            script = FORWARD.read_text() + "\nwindow.forwardPass = forward;\n"
            tab.set_content(f'<script type="module">{script}</script>')
            tab.wait_for_function("window.forwardPass !== undefined")
            yield tab
        finally:
            browser.close()


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
