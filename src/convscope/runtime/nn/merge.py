"""Keras's merge layers in torch (keras/src/layers/merging): several tensors in, one out.

Tensors are (N, C, H, W) inside the model, so Concatenate's axis, which Keras counts in
(N, H, W, C) with the batch axis, is moved to torch's dimension; element-wise merges
broadcast an axis of 1 as Keras's do.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from ...core import graph as g

OPS: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "add": torch.add,
    "subtract": torch.sub,
    "multiply": torch.mul,
    "maximum": torch.maximum,
    "minimum": torch.minimum,
    "average": torch.add,  # then divided by the count
}
KERAS_TO_TORCH = {1: 2, 2: 3, 3: 1}  # (N, H, W, C) axis -> (N, C, H, W) dimension


class Elementwise(nn.Module):
    """Add, Subtract, Multiply, Average, Maximum, Minimum, folded left to right as Keras."""

    def __init__(self, layer: g.Merge) -> None:
        super().__init__()
        self.op = layer.op

    def forward(self, xs: list[Tensor]) -> Tensor:
        op = OPS[self.op]
        out = xs[0]
        for x in xs[1:]:
            out = op(out, x)
        return out / len(xs) if self.op == "average" else out  # Keras: the sum, then / count


class Concatenate(nn.Module):
    def __init__(self, layer: g.Concatenate, rank: int) -> None:
        super().__init__()
        axis = layer.axis + rank + 1 if layer.axis < 0 else layer.axis  # batch axis counted
        self.dim = KERAS_TO_TORCH[axis] if rank == 3 else axis

    def forward(self, xs: list[Tensor]) -> Tensor:
        return torch.cat(xs, dim=self.dim)


def merge_module(layer: g.Merge | g.Concatenate, rank: int) -> nn.Module:
    if isinstance(layer, g.Concatenate):
        return Concatenate(layer, rank)
    return Elementwise(layer)
