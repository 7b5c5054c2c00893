"""What the live page and the notebook widget ask of a model: one input through every
layer, encoded compactly; one position's value worked out from its window; one channel's
filter. Numpy out; the transport (HTTP or a widget's messages) is api.live's.

Layer outputs travel as float16, little-endian, base64: chollet's 37,600 values are 75 KB,
and float16's 3 significant digits are more than a colour map shows.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..core import graph as g
from ..core import spec as s
from ..core.errors import ConvscopeError
from ..core.explain.rules import explain
from ..core.explain.table import Window
from .images import as_rgb
from .inspect import LayerOutput, layer_outputs, model_outputs
from .keras.weights import layer_arrays
from .nn.model import KerasModel


def encode(values: np.ndarray) -> str:
    return base64.b64encode(values.astype("<f2").tobytes()).decode("ascii")


def encoded_outputs(outputs: list[LayerOutput]) -> list[dict[str, Any]]:
    return [
        {
            "name": o.name,
            "type": o.layer_type,
            "shape": list(o.shape),
            "max": float(np.abs(o.values).max()) if o.values.size else 0.0,
            "data": encode(o.values),
        }
        for o in outputs
    ]


@dataclass(frozen=True)
class Forward:
    """One prepared input through the model."""

    pixels: np.ndarray  # (H, W[, C]) as the data set stores images: what the network sees
    outputs: list[LayerOutput]  # the input, then every layer
    probabilities: np.ndarray  # (classes,); one sigmoid unit: (1 - p, p)

    def as_dict(self) -> dict[str, Any]:
        """MNIST's 28 x 28 as rows of numbers (the page draws over them); any other image
        as base64 RGB bytes, (H, W, 3), for the page to show."""
        found: dict[str, Any] = {
            "predicted": int(self.probabilities.argmax()),
            "probabilities": [round(float(p), 6) for p in self.probabilities],
            "layers": encoded_outputs(self.outputs),
        }
        if self.pixels.shape == (28, 28):
            return found | {"pixels": self.pixels.astype(int).tolist()}
        rgb = (as_rgb(self.pixels) * 255).round().astype(np.uint8)  # (H, W, 3)
        data = base64.b64encode(rgb.tobytes()).decode("ascii")
        return found | {"image": data, "shape": list(rgb.shape)}


@torch.no_grad()
def forward(model: KerasModel, pixels: np.ndarray, scale: bool = True) -> Forward:
    """Every layer's output and the class probabilities for one image."""
    outputs = layer_outputs(model, pixels, scale)
    found = model_outputs(model, pixels[None].astype(np.float32), scale=scale)[0]  # (classes,)
    probabilities = np.array([1 - found[0], found[0]]) if model.sigmoid_output else found
    return Forward(pixels, outputs, probabilities)


def layer_index(model: KerasModel, name: str) -> int:
    names = [layer.name for layer in model.spec.layers]
    if name not in names:
        raise ConvscopeError(f"no layer {name!r}; the layers are: {', '.join(names)}")
    return names.index(name)


def channel(model: KerasModel, name: str, k: int) -> dict[str, Any]:
    """A conv or dense layer's filter k in Keras's layout (kh, kw, in) and its bias."""
    i = layer_index(model, name)
    layer, arrays = model.spec.layers[i], layer_arrays(model.layers[i])
    if not isinstance(layer, s.Conv2D | s.Dense) or not arrays:
        raise ConvscopeError(f"{layer.label} has no filters of its own")
    kernel = arrays[0][..., k]  # (kh, kw, in) or (in,)
    bias = float(arrays[1][k]) if len(arrays) > 1 else 0.0
    return {"layer": name, "channel": k, "shape": list(kernel.shape), "bias": bias,
            "max": float(np.abs(kernel).max()), "data": encode(kernel)}  # fmt: skip


def padded_window(
    values: np.ndarray, top: int, left: int, kh: int, kw: int, fill: float = 0.0
) -> np.ndarray:
    """values[top:top+kh, left:left+kw], `fill` where the window hangs over the edge."""
    h, w = values.shape[:2]
    out = np.full((kh, kw, *values.shape[2:]), fill, dtype=values.dtype)
    t, lo = max(top, 0), max(left, 0)
    b, r = min(top + kh, h), min(left + kw, w)
    if b > t and r > lo:
        out[t - top : b - top, lo - left : r - left] = values[t:b, lo:r]
    return out


def position(
    model: KerasModel,
    pixels: np.ndarray,
    name: str,
    row: int,
    col: int,
    k: int,
    scale: bool = True,
) -> dict[str, Any]:
    """How one output value comes about: its window in the layer before and the arithmetic."""
    i = layer_index(model, name)
    layer, geometry = model.spec.layers[i], explain(model.spec).rows[i]
    outputs = layer_outputs(model, pixels, scale)
    before = outputs[g.sources(model.spec, i)[0]].values  # the node it reads (node 0: input)
    after = outputs[i + 1].values
    if after.ndim == 3:
        h, w, c = after.shape
        if not (0 <= row < h and 0 <= col < w and 0 <= k < c):
            raise ConvscopeError(f"{name} is {h}x{w}x{c}: ({row}, {col}, {k}) is outside")
        value = float(after[row, col, k])
    else:
        if not 0 <= k < after.shape[0]:
            raise ConvscopeError(f"{name} has {after.shape[0]} values: {k} is outside")
        value = float(after[k])
    found: dict[str, Any] = {"layer": name, "row": row, "col": col, "channel": k, "value": value}
    window = geometry.read_at(row, col) if after.ndim == 3 else None
    if isinstance(layer, s.Conv2D) and layer.groups == 1 and window is not None:
        found |= conv_terms(model, i, layer, before, window, k)
    elif isinstance(layer, s.Pooling2D) and window is not None:
        found |= pool_terms(layer, before, window, k)
    elif isinstance(layer, s.Dense) and before.ndim == 1:
        kernel, *bias = layer_arrays(model.layers[i])
        pre = float(before @ kernel[:, k] + (bias[0][k] if bias else 0.0))
        found["formula"] = (f"{layer.activation}(b + sum of {before.size:,} weights x inputs) = "
                            f"{layer.activation}({pre:.4g}) = {value:.4g}")  # fmt: skip
    else:
        found["formula"] = f"{layer.keras_class} at this position: {value:.4g}"
    return found


def conv_terms(
    model: KerasModel, i: int, layer: s.Conv2D, before: np.ndarray, window: Window, k: int
) -> dict[str, Any]:
    kernel, *bias = layer_arrays(model.layers[i])  # (kh, kw, in, out)
    values = padded_window(before, window.top, window.left, window.height, window.width)
    values = values[:: layer.dilation_rate.h, :: layer.dilation_rate.w]  # (kh, kw, in)
    products = float((values * kernel[..., k]).sum())
    b = float(bias[0][k]) if bias else 0.0
    return {
        "window": [window.top, window.left, window.bottom, window.right],
        "bias": b,
        "sum": products,
        "terms": int(values.size),
        "formula": f"{layer.activation}(b + sum of {values.size:,} weights x inputs) = "
        f"{layer.activation}({b:.4g} + {products:.4g}) = {layer.activation}({b + products:.4g})",
    }


def pool_terms(layer: s.Pooling2D, before: np.ndarray, window: Window, k: int) -> dict[str, Any]:
    h, w = window.height, window.width
    # 'same' padding takes no part: Keras's pooling reads only the real values
    values = padded_window(before[..., k : k + 1], window.top, window.left, h, w, np.nan)[..., 0]
    verb = "max" if layer.op == "max" else "mean"
    value = float(np.nanmax(values) if layer.op == "max" else np.nanmean(values))
    return {
        "window": [window.top, window.left, window.bottom, window.right],
        "formula": f"{verb} of the {h}x{w} window = {value:.4g}",
    }
