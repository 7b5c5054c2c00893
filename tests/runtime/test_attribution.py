"""Attribution maps against Captum on the same trained weights and test images.

Where the definitions agree the maps agree to 1e-5 (relative to the map's scale):
saliency = Captum's Saliency (abs=True), gradient_x_input = InputXGradient,
smoothgrad = NoiseTunnel(Saliency, smoothgrad) drawing the same noise,
integrated_gradients = IntegratedGradients (Gauss-Legendre, black baseline),
gradcam = LayerGradCam with relu_attributions=True, interpolated bilinearly (Captum's own
default is no ReLU and nearest-neighbour upsampling: the original paper has the ReLU),
occlusion = Occlusion of the softmax probability with a background (0) patch.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import convscope as cs
from convscope.runtime.attribution.methods import METHODS, Settings, attribute
from convscope.runtime.splits import pixels


@pytest.fixture(scope="module")
def trained(chollet_run: tuple[Path, dict[str, object]]) -> tuple[Any, np.ndarray, np.ndarray]:
    """The session's chollet run (1 epoch), its model and eight test images with labels."""
    model = cs.load(chollet_run[0])
    from convscope.runtime.data import load

    dataset = load("mnist")
    return model.subject.model.eval(), dataset.test_images[:8], dataset.test_labels[:8]


def close(ours: np.ndarray, theirs: np.ndarray) -> None:
    scale = float(np.abs(theirs).max())
    assert scale > 0
    np.testing.assert_allclose(ours, theirs, atol=1e-5 * scale, rtol=1e-4)


def captum_maps(model: Any, images: np.ndarray, method: str, targets: np.ndarray) -> np.ndarray:
    import captum.attr as ca

    x = pixels(images, model.spec, torch.device("cpu")).requires_grad_()  # (N, 1, 28, 28)
    target = torch.as_tensor(targets)
    logits = model.logits_nchw
    if method == "saliency":
        out = ca.Saliency(logits).attribute(x, target=target)
    elif method == "gradient_x_input":
        out = ca.InputXGradient(logits).attribute(x, target=target)
    elif method == "smoothgrad":
        torch.manual_seed(0)  # our smoothgrad's default seed: the same normal draws
        tunnel = ca.NoiseTunnel(ca.Saliency(logits))
        out = tunnel.attribute(x, nt_type="smoothgrad", nt_samples=50, nt_samples_batch_size=1,
                               stdevs=0.15, target=target)  # fmt: skip
    elif method == "integrated_gradients":
        out = ca.IntegratedGradients(logits).attribute(
            x, baselines=torch.zeros_like(x), target=target, n_steps=50, method="gausslegendre"
        )
    elif method == "gradcam":
        last_conv = max(i for i, layer in enumerate(model.spec.layers) if layer.kind == "conv")
        cam = ca.LayerGradCam(logits, model.layers[last_conv])
        found = cam.attribute(x, target=target, relu_attributions=True)
        out = ca.LayerAttribution.interpolate(found, (28, 28), interpolate_mode="bilinear")
    else:
        probabilities = lambda inputs: torch.softmax(logits(inputs), -1)  # noqa: E731
        out = ca.Occlusion(probabilities).attribute(
            x, sliding_window_shapes=(1, 4, 4), strides=(1, 2, 2), baselines=0, target=target
        )
    return out.detach().reshape(len(images), 28, 28).numpy()


@pytest.mark.parametrize("method", METHODS)
def test_each_method_equals_captum(
    method: str, trained: tuple[Any, np.ndarray, np.ndarray]
) -> None:
    model, images, _ = trained
    ours = attribute(model, images, method)
    assert ours.maps.shape == (8, 28, 28) and ours.maps.dtype == np.float32
    close(ours.maps, captum_maps(model, images, method, ours.targets))


def test_maps_follow_the_predicted_class_unless_told(
    trained: tuple[Any, np.ndarray, np.ndarray],
) -> None:
    model, images, _ = trained
    ours = attribute(model, images, "saliency")
    with torch.no_grad():
        predicted = model.logits_nchw(pixels(images, model.spec, torch.device("cpu"))).argmax(-1)
    assert ours.targets.tolist() == predicted.tolist()
    other = attribute(model, images, "saliency", target=3)
    assert set(other.targets.tolist()) == {3}
    assert not np.allclose(other.maps, ours.maps)


def test_integrated_gradients_is_complete_within_one_percent(
    trained: tuple[Any, np.ndarray, np.ndarray],
) -> None:
    model, images, _ = trained
    ig = attribute(model, images, "integrated_gradients", settings=Settings(steps=50))
    assert ig.completeness is not None and ig.completeness < 0.01
    coarse = attribute(model, images, "integrated_gradients", settings=Settings(steps=2))
    assert coarse.completeness is not None and coarse.completeness > ig.completeness


def test_gradcam_on_any_conv_layer(trained: tuple[Any, np.ndarray, np.ndarray]) -> None:
    model, images, _ = trained
    first = attribute(model, images, "gradcam", settings=Settings(layer="conv2d"))
    last = attribute(model, images, "gradcam")
    assert first.layer == "conv2d" and last.layer == "conv2d_2"
    assert first.maps.min() >= 0 and not np.allclose(first.maps, last.maps)


@pytest.mark.parametrize(
    ("method", "target", "layer", "message"),
    [
        ("gradient", None, None, "unknown attribution method 'gradient'; the methods: saliency"),
        ("saliency", 10, None, "--target must be a class from 0 to 9, got 10"),
        ("gradcam", None, "flatten", "--layer flatten is a Flatten; gradcam reads a conv"),
        ("gradcam", None, "conv9", "no layer named 'conv9'; the conv layers are conv2d"),
    ],
    ids=["unknown-method", "target-past-classes", "not-a-conv-layer", "no-such-layer"],
)
def test_bad_requests_are_refused_clearly(
    method: str,
    target: int | None,
    layer: str | None,
    message: str,
    trained: tuple[Any, np.ndarray, np.ndarray],
) -> None:
    model, images, _ = trained
    with pytest.raises(cs.ConvscopeError, match=message.replace("(", r"\(")):
        attribute(model, images, method, target, Settings(layer=layer))


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ([1, 2, 3, 4], [10, 20, 30, 40], 1.0),
        ([1, 2, 3, 4], [4, 3, 2, 1], -1.0),
        ([0, 0, 0, 1], [0, 0, 0, 5], 1.0),  # ties share their mean rank
        ([3, 3, 3, 3], [1, 2, 3, 4], 0.0),  # a constant map ranks nothing
    ],
    ids=["same-order", "reversed", "ties", "constant"],
)
def test_rank_correlation(a: list[float], b: list[float], expected: float) -> None:
    from convscope.runtime.attribution.checks import correlation, ranks

    assert ranks(np.array([5.0, 1.0, 5.0])).tolist() == [1.5, 0.0, 1.5]
    assert correlation(np.array(a, float), np.array(b, float)) == pytest.approx(expected)


@pytest.fixture(scope="module")
def experiment(chollet_run: tuple[Path, dict[str, object]]) -> dict[str, Any]:
    from ..helpers import run_cli

    result = run_cli("experiment", "attribution", str(chollet_run[0]), "--images", "12",
                     "--deletion-images", "200", "--json")  # fmt: skip
    assert result.code == 0, result.err
    return dict(json.loads(result.out))


@pytest.mark.slow
def test_the_experiment_measures_every_method_against_random(experiment: dict[str, Any]) -> None:
    methods = [c["method"] for c in experiment["cascade"]]
    assert methods == list(METHODS)
    areas = experiment["areas"]
    assert set(areas) == {*METHODS, "random", "random ink"}
    assert all(areas[m] > areas["random"] for m in ("saliency", "integrated_gradients"))
    for c in experiment["cascade"]:  # one correlation per randomised layer, top first
        assert c["layers"] == ["dense_1", "dense", "conv2d_2", "conv2d_1", "conv2d"]
        assert len(c["correlations"]) == len(c["ink"]) == 5
        assert all(-1 <= r <= 1 for r in c["correlations"])
    assert experiment["completeness"] < 0.01
    flagged = {c["method"] for c in experiment["cascade"] if c["correlations"][-1] > 0.8}
    assert set(experiment["flagged"]) == flagged


@pytest.mark.slow
def test_the_experiment_is_saved_and_reported(
    experiment: dict[str, Any], chollet_run: tuple[Path, dict[str, object]], tmp_path: Path
) -> None:
    run = chollet_run[0]
    saved = json.loads((run / "experiments" / "attribution.json").read_text())
    assert saved["areas"] == experiment["areas"]
    assert (run / "experiments" / "attribution.png").stat().st_size > 10_000
    markdown = (run / "experiments" / "attribution.md").read_text()
    assert "| integrated_gradients |" in markdown
    report = cs.load(run).report(tmp_path / "report.html")
    page = report.path.read_text()
    assert "Attribution maps checked: sanity and deletion" in page
    assert 'id="attribution"' in page or "Which pixels it used" in page


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["show", "{run}", "--attribution", "--target", "10"], "--target must be a class from 0 to 9"),
        (["show", "{run}", "--attribution", "--layer", "dense"], "--layer dense is a Dense"),
        (["experiment", "attribution", "{run}", "--images", "0"], "must be a positive integer"),
        (["show", "{run}", "--attribution", "--method", "gradcam,gradient"],
         "unknown attribution method 'gradient'; the methods: saliency"),
    ],
    ids=["target-past-classes", "layer-not-conv", "no-images", "unknown-method"],
)  # fmt: skip
def test_bad_commands_are_refused_clearly(
    argv: list[str], message: str, chollet_run: tuple[Path, dict[str, object]]
) -> None:
    from ..helpers import run_cli

    result = run_cli(*(a.format(run=chollet_run[0]) for a in argv))
    assert result.code == 2 and message in result.err and "Traceback" not in result.err


@pytest.mark.slow
def test_show_draws_the_maps(chollet_run: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    figures = cs.load(chollet_run[0]).figures(7, attribution=True, target=4)
    assert "attribution" in figures.keys()  # noqa: SIM118 (Figures is not a dict)
    assert "for class 4" in figures["attribution"].caption
    two = cs.load(chollet_run[0]).figures(7, attribution=True, methods=["gradcam", "saliency"])
    assert "by 2 methods" in two["attribution"].caption
    maps = cs.load(chollet_run[0]).attribute(np.zeros((2, 28, 28), np.uint8) + 30, "saliency")
    assert maps.shape == (2, 28, 28)


@pytest.mark.parametrize("method", ["saliency", "integrated_gradients", "gradcam"])
def test_a_residual_graph_equals_captum(method: str) -> None:
    """Through shortcuts too: Captum's hooks see every layer of the graph run."""
    import captum.attr as ca

    from convscope.runtime.data import load

    model = cs.load("residual-mnist", seed=1).subject.model.eval()
    images = load("mnist").test_images[:4]
    layer = "conv2d_4"  # the first convolution after the first shortcut's Add
    ours = attribute(model, images, method, settings=Settings(layer=layer, steps=50))
    if method != "gradcam":
        close(ours.maps, captum_maps(model, images, method, ours.targets))
        return
    index = [lay.name for lay in model.spec.layers].index(layer)
    x = pixels(images, model.spec, torch.device("cpu")).requires_grad_()
    cam = ca.LayerGradCam(model.logits_nchw, model.layers[index])
    found = cam.attribute(x, target=torch.as_tensor(ours.targets), relu_attributions=True)
    theirs = ca.LayerAttribution.interpolate(found, (28, 28), interpolate_mode="bilinear")
    close(ours.maps, theirs.detach().reshape(4, 28, 28).numpy())
