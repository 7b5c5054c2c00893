"""A model as the shared page's JavaScript runs it (web/forward.js): each layer's type,
arguments, the nodes it reads, its output shape and window pads, and its arrays in
Keras's layouts, encoded as base64 little-endian float32 or float16.

float16 halves the folder; it is used only where the page's predictions stay within
`HALF_TOLERANCE` of float32's on the bundled images (checked here, in torch, with the
weights rounded), else the weights stay float32, and the page says which.
"""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

import numpy as np
import torch

from ..core import arith
from ..core import graph as g
from ..core import spec as s
from ..core.errors import ConvscopeError
from ..core.explain.grid import prelu_shape
from ..core.explain.rules import explain
from .keras.weights import layer_arrays, load_layer
from .nn.model import KerasModel

HALF_TOLERANCE = 1e-3  # the largest change of a predicted probability float16 may make
BROWSER = {  # what web/forward.js runs; anything else is named before a file is written
    "Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Conv2DTranspose", "MaxPooling2D",
    "AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "ZeroPadding2D",
    "Flatten", "Reshape", "Dense", "Dropout", "SpatialDropout2D", "RandomFlip",
    "RandomRotation", "RandomZoom", "RandomTranslation", "BatchNormalization", "Activation",
    "Softmax", "ReLU", "LeakyReLU", "ELU", "PReLU", "Rescaling", "UpSampling2D", "Resizing",
    "CenterCrop", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate",
}  # fmt: skip


def plain(value: Any) -> Any:
    """A layer argument as JSON: pairs as [h, w], tuples as lists."""
    if isinstance(value, s.Pair):
        return [value.h, value.w]
    if isinstance(value, tuple):
        return [plain(v) for v in value]
    return value


def check_browser(model: s.ModelSpec) -> None:
    """Every layer runs in the browser, or one message naming the first that does not."""
    for layer in model.layers:
        known = layer.keras_class in BROWSER
        if isinstance(layer, (s.UpSampling2D, s.Resizing)):
            known = layer.interpolation in ("nearest", "bilinear", "bicubic")
        if not known:
            how = getattr(layer, "interpolation", "")
            raise ConvscopeError(
                f"{layer.label}{f' ({how} interpolation)' if how else ''} has no forward pass "
                "in the shared page's JavaScript",
                where=model.source,
                hint="the live page (convscope serve) and the report show this model",
            )


def layer_json(model: s.ModelSpec, i: int, row: Any, shapes: list[tuple[int, ...]]) -> dict:  # type: ignore[type-arg]
    layer = model.layers[i]
    found = {
        f.name: plain(getattr(layer, f.name))
        for f in dataclasses.fields(layer)
        if f.name not in ("name", "line", "trainable")
    }
    found |= {"type": layer.keras_class, "name": layer.name, "kind": str(layer.kind),
              "reads": list(g.sources(model, i)), "out": list(row.output_shape)}  # fmt: skip
    if row.window is not None:
        found["pad"] = [row.window[2].h, row.window[2].w]  # (span, stride, pad before)
    if isinstance(layer, s.Conv2DTranspose):
        op = layer.output_padding
        found["crop"] = [
            arith.transposed_crop(k, st, layer.padding, None if op is None else o, d)
            for k, st, o, d in zip(
                layer.kernel_size.astuple(), layer.strides.astuple(),
                (op or s.ONE).astuple(), layer.dilation_rate.astuple(), strict=True,
            )
        ]  # fmt: skip
    if isinstance(layer, s.PReLU):
        found["alpha_shape"] = list(prelu_shape(layer, shapes[g.sources(model, i)[0]], ""))
    return found


def model_json(model: s.ModelSpec) -> dict[str, Any]:
    """The architecture forward.js runs: the input shape and every layer."""
    check_browser(model)
    rows = explain(model).rows
    shapes = [model.input_shape, *(row.output_shape for row in rows)]
    return {
        "input_shape": list(model.input_shape),
        "layers": [layer_json(model, i, row, shapes) for i, row in enumerate(rows)],
    }


def encode(array: np.ndarray, dtype: str) -> str:
    """An array as little-endian `dtype` (f4, f2, or u1 for image bytes), base64."""
    return base64.b64encode(np.ascontiguousarray(array, dtype=f"<{dtype}").tobytes()).decode()


def arrays_json(model: KerasModel, dtype: str = "f4") -> list[list[dict[str, Any]]]:
    """Each layer's arrays as Keras lists them: shape and data."""
    return [
        [{"shape": list(a.shape), "dtype": dtype, "data": encode(a, dtype)} for a in arrays]
        for arrays in (layer_arrays(module) for module in model.layers)
    ]


@torch.no_grad()
def half_is_close(model: KerasModel, images: torch.Tensor) -> float:
    """The largest change float16 weights make to the probabilities of `images`
    ((N, H, W, C) as the model takes them): the model rounded, run in float32."""
    model.eval()
    before = model(images)  # (N, classes)
    rounded = KerasModel(model.spec).eval()
    rounded.load_state_dict(model.state_dict())
    for module, arrays in zip(rounded.layers, map(layer_arrays, model.layers), strict=True):
        load_layer(module, [a.astype(np.float16).astype(np.float32) for a in arrays])
    return float((rounded(images) - before).abs().max())
