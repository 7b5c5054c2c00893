"""`convscope export RUN --format site -o my-convnet/`: the live page as a folder of static
files anyone can open, from file:// or any static host, with no Python and no network.

    index.html   the live page: app.js, forward.js and site.js in one inline module (a
                 file:// page may not import modules), the styles inline
    data.js      window.CONVSCOPE_SITE: the model for forward.js, its arrays (float16 where
                 predictions move by under 1e-3, else float32), a sample of test images
                 (mistakes included), their attribution maps computed ahead, explain's table
    report.html  the run's report;  explain.html  the explain table and notes

The folder is written beside the target and renamed into place: nothing half written.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..core.errors import ConvscopeError
from ..core.rundir import REPORT
from ..present.attribution import SIGNED
from ..present.html import explanation_html
from ..runtime.attribution import methods as attributing
from ..runtime.heads import output_classes
from ..runtime.inspect import model_outputs
from ..runtime.site import (
    HALF_TOLERANCE,
    arrays_json,
    check_browser,
    encode,
    half_is_close,
    model_json,
)
from ..runtime.splits import pixels
from .live import Live
from .results import Exported

if TYPE_CHECKING:
    from .model import Model

WEB = Path(__file__).resolve().parents[1] / "web"
SAMPLES, MISTAKES = 100, 20  # bundled test images, of which at most this many misclassified


def choose_samples(model: Model) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Test indices, images and labels: the first misclassified test images (up to
    MISTAKES), then the first correctly classified ones, in test-set order."""
    subject = model.subject
    dataset = subject.load_data()
    images, labels = dataset.test_images[:2000], dataset.test_labels[:2000]
    predicted = output_classes(model_outputs(subject.model, images, scale=subject.scale))
    wrong = np.flatnonzero(predicted != labels)[:MISTAKES]
    right = np.flatnonzero(predicted == labels)[: SAMPLES - len(wrong)]
    chosen = np.sort(np.concatenate([wrong, right]))
    return chosen, images[chosen], labels[chosen]


def attributions(model: Model, images: np.ndarray) -> list[dict[str, Any]]:
    """Every method's map of every bundled image, float16, for its predicted class."""
    subject = model.subject
    found: list[dict[str, Any]] = [{} for _ in images]
    for method in attributing.METHODS:
        maps = attributing.attribute(subject.model, images, method, None, attributing.DEFAULTS,
                                     subject.scale)  # fmt: skip
        for i, values in enumerate(maps.maps):
            top = float(np.abs(values).max())
            found[i][method] = {"target": int(maps.targets[i]), "signed": method in SIGNED,
                                "max": top, "data": encode(values, "f2")}  # fmt: skip
    return found


def bundle(model: Model) -> dict[str, Any]:
    """Everything data.js holds."""
    subject = model.subject
    chosen, images, labels = choose_samples(model)
    inputs = pixels(images, subject.spec, torch.device("cpu"), subject.scale)  # (N, C, H, W)
    inputs = inputs.permute(0, 2, 3, 1) if inputs.dim() == 4 else inputs  # Keras's layout
    change = half_is_close(subject.model, inputs.contiguous())
    dtype = "f2" if change < HALF_TOLERANCE else "f4"
    about = Live(model).describe() | {"test_images": len(chosen)}
    accuracy = model.evaluate().accuracy if subject.run is not None else None
    about["site"] = {
        "accuracy": accuracy,
        "weights": f"float16 (predictions move by at most {change:.1e} from float32's)"
        if dtype == "f2"
        else f"float32 (float16 would move predictions by {change:.1e})",
    }
    return {
        "about": about,
        "model": model_json(subject.spec),
        "arrays": arrays_json(subject.model, dtype),
        "scale": bool(subject.scale),
        "sigmoid": bool(subject.model.sigmoid_output),
        "occlusion": {"patch": attributing.DEFAULTS.patch, "stride": attributing.DEFAULTS.stride},
        "samples": [
            {"test_index": int(t), "label": int(y), "pixels": encode(x, "u1")}
            for t, x, y in zip(chosen, images, labels, strict=True)
        ],
        "attributions": attributions(model, images),
    }


def page(about: dict[str, Any]) -> str:
    """index.html: the three scripts as one module, forward.js wrapped as FORWARD."""
    forward = re.sub(r"^export ", "", (WEB / "forward.js").read_text(), flags=re.M)
    app = (WEB / "app.js").read_text()
    local = re.sub(r"^export ", "", (WEB / "site.js").read_text(), flags=re.M)
    script = (
        f"const FORWARD = (() => {{\n{forward}\nreturn {{ forward, supported }};\n}})();\n"
        f"{app}\n{local}\n"
        "const root = document.getElementById('app');\n"
        "mount(root, localTransport(window.CONVSCOPE_SITE)).catch((error) => {\n"
        "  root.textContent = `convscope: ${error.message}`;\n});\n"
    )
    site = about["site"]
    accuracy = f"{100 * site['accuracy']:.2f}% on the test set" if site["accuracy"] else "untested"
    what = (f"{about['name']}, trained on {about['dataset']} ({accuracy}); weights "
            f"{site['weights']}")  # fmt: skip
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>convscope: {html.escape(about["name"])}</title>
<style>{(WEB / "style.css").read_text()}</style>
</head>
<body>
<p class="convscope-live sub" id="about">{html.escape(what)}. Also: <a href="{REPORT}">the
report</a>, <a href="explain.html">every layer explained</a>. Made with convscope; runs in
this browser, nothing is sent anywhere.</p>
<main id="app"><noscript>This page needs JavaScript.</noscript></main>
<script src="data.js"></script>
<script type="module">
{script}</script>
</body>
</html>
"""


def export_site(model: Model, target: Path, force: bool) -> Exported:
    """Write the folder (atomically: built beside it, then renamed into place)."""
    if not model.trained:
        raise ConvscopeError(f"{model.name} has no trained weights to share", hint="train it first")
    if target.exists() and not force:
        raise ConvscopeError(f"{target} exists", hint="pass --force (force=True) to replace it")
    check_browser(model.subject.spec)  # a layer the browser cannot run, named before any work
    data = bundle(model)
    target.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    building.chmod(0o755)  # a folder to publish: readable by a web server, as mkdir makes it
    try:
        (building / "data.js").write_text(f"window.CONVSCOPE_SITE = {json.dumps(data)};\n")
        (building / "index.html").write_text(page(data["about"]))
        explained = model.explain()
        (building / "explain.html").write_text(
            f"<!doctype html><meta charset='utf-8'><title>{html.escape(model.name)}</title>"
            f"<body style='font-family:system-ui;margin:1em'>{explanation_html(explained)}"
        )
        model.report(building / REPORT)
        if target.exists():
            shutil.rmtree(target)
        building.rename(target)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    size = sum(f.stat().st_size for f in target.iterdir())
    return Exported(target, "site", size)
