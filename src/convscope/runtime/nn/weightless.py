"""Torch modules for Keras's weightless layers: global pooling, Flatten in Keras's order,
element-wise functions (activations, Rescaling, ReLU's options) and SpatialDropout2D.

Tensors are (N, C, H, W) inside, as in runtime.nn.model.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from ...core import spec as s


class GlobalPool(nn.Module):
    def __init__(self, layer: s.GlobalPooling2D) -> None:
        super().__init__()
        self.op, self.keepdims = layer.op, layer.keepdims

    def forward(self, x: Tensor) -> Tensor:
        if self.op == "max":
            return torch.amax(x, dim=(2, 3), keepdim=self.keepdims)
        return torch.mean(x, dim=(2, 3), keepdim=self.keepdims)


class FlattenHWC(nn.Module):
    """Keras's Flatten: (N, C, H, W) read in (H, W, C) order, so Dense weights match Keras."""

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() == 4:
            x = x.permute(0, 2, 3, 1)  # (N, H, W, C)
        return x.flatten(1)


class Lambda(nn.Module):
    """A weightless element-wise layer (activation, dropout at inference, rescaling)."""

    def __init__(self, fn: Callable[[Tensor], Tensor]) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, x: Tensor) -> Tensor:
        return self.fn(x)


class SpatialDropout(nn.Module):
    def __init__(self, rate: float) -> None:
        super().__init__()
        self.dropout = nn.Dropout2d(rate)

    def forward(self, x: Tensor) -> Tensor:
        output: Tensor = self.dropout(x)
        return output


def relu_layer(layer: s.ReLU) -> Callable[[Tensor], Tensor]:
    def relu(x: Tensor) -> Tensor:
        # Keras ReLU: x >= threshold -> x (capped at max_value); below -> slope * (x - threshold)
        y = torch.where(x >= layer.threshold, x, layer.negative_slope * (x - layer.threshold))
        return y if layer.max_value is None else torch.clamp(y, max=layer.max_value)

    return relu
