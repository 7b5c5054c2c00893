"""Receptive fields against an oracle: the input pixels that reach one output position.

With all-ones kernels, average pooling and linear activations, every pixel inside the
window moves the output, so the gradient's non-zero bounding box is the window (clipped
to the image). Max pooling has the same window geometry, so models here use average
pooling in its place.
"""

from __future__ import annotations

import pytest
import torch

from convscope.core.explain.rules import explain
from convscope.core.explain.table import field_window
from convscope.core.source.read import read_model
from convscope.runtime.nn.model import KerasModel

from .cases import seq
from .graph_cases import graph

FIELD_CASES = {
    "chollet-geometry": seq(
        (28, 28, 1),
        "layers.Conv2D(2, 3)",
        "layers.AveragePooling2D(2)",
        "layers.Conv2D(2, 3)",
        "layers.AveragePooling2D(2)",
        "layers.Conv2D(2, 3)",
    ),
    "same-padding-strided": seq(
        (27, 27, 1),
        "layers.Conv2D(2, 3, strides=2, padding='same')",
        "layers.Conv2D(2, 5, padding='same')",
        "layers.AveragePooling2D(3, strides=2, padding='same')",
    ),
    "dilated-nonsquare": seq(
        (30, 24, 1),
        "layers.Conv2D(2, (3, 5), dilation_rate=(2, 1))",
        "layers.AveragePooling2D((2, 3))",
        "layers.Conv2D(2, 3, dilation_rate=2)",
    ),
    "zero-padding-depthwise": seq(
        (20, 20, 1),
        "layers.ZeroPadding2D(((2, 0), (1, 3)))",
        "layers.DepthwiseConv2D(3, strides=2)",
        "layers.SeparableConv2D(2, 3, padding='same')",
    ),
    # Graphs: where paths meet, the field is the largest window over all of them.
    "residual-unequal-paths": graph(
        (21, 21, 1),
        "a = layers.Conv2D(2, 3)(inputs)\na = layers.Conv2D(2, 3)(a)\n"
        "b = layers.Conv2D(2, 5)(inputs)\nm = layers.add([a, b])\n"
        "y = layers.Conv2D(2, 3, strides=2)(m)",
    ),
    "inception-concatenation": graph(
        (19, 19, 1),
        "a = layers.Conv2D(2, 1, padding='same')(inputs)\n"
        "b = layers.Conv2D(2, 5, padding='same')(inputs)\n"
        "c = layers.AveragePooling2D(3, strides=1, padding='same')(inputs)\n"
        "m = layers.Concatenate()([a, b, c])\ny = layers.Conv2D(2, 3, strides=2)(m)",
    ),
    "projection-shortcut-strided": graph(
        (24, 24, 1),
        "a = layers.Conv2D(2, 3, strides=2, padding='same')(inputs)\n"
        "a = layers.Conv2D(2, 3, padding='same')(a)\n"
        "b = layers.Conv2D(2, 1, strides=2)(inputs)\ny = layers.add([a, b])",
    ),
}


def gradient_box(
    model: KerasModel, shape: tuple[int, ...], i: int, j: int
) -> tuple[int, int, int, int]:
    image = torch.rand(1, *shape, requires_grad=True)
    output = model(image)  # (1, H', W', C')
    output[0, i, j].sum().backward()
    assert image.grad is not None
    touched = (image.grad[0].abs().sum(dim=-1) > 0).nonzero()
    return (
        int(touched[:, 0].min()),
        int(touched[:, 0].max()),
        int(touched[:, 1].min()),
        int(touched[:, 1].max()),
    )


@pytest.mark.parametrize("case", FIELD_CASES)
def test_receptive_field_matches_gradient(case: str) -> None:
    spec = read_model(FIELD_CASES[case], f"{case}.py").spec
    last = explain(spec).rows[-1]
    field = last.receptive_field
    assert field is not None
    model = KerasModel(spec).double()
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(1.0 if p.dim() > 1 else 0.0)
    model = model.float()
    height, width = spec.input_shape[:2]
    out_h, out_w = last.output_shape[:2]
    checked_inside = 0
    for i in range(out_h):
        for j in range(out_w):
            window = field_window(field, i, j)  # the window the report's figures draw
            top, left, bottom, right = window.top, window.left, window.bottom, window.right
            box = gradient_box(model, spec.input_shape, i, j)
            if top >= 0 and left >= 0 and bottom < height and right < width:
                assert box == (top, bottom, left, right), (i, j)
                checked_inside += 1
            else:
                # At the border the window reaches into padding; what reaches the output
                # lies inside the window's part on the image (intermediate padding may
                # clip it further).
                assert max(top, 0) <= box[0] <= box[1] <= min(bottom, height - 1), (i, j)
                assert max(left, 0) <= box[2] <= box[3] <= min(right, width - 1), (i, j)
    assert checked_inside > 0


def test_chollet_last_conv_sees_18x18_moving_4() -> None:
    from convscope.core.presets import model

    rows = {r.name: r for r in explain(model("chollet")).rows}
    field = rows["conv2d_2"].receptive_field
    assert field is not None
    assert (field.size.astuple(), field.jump.astuple(), field.start.astuple()) == (
        (18, 18),
        (4, 4),
        (0, 0),
    )
