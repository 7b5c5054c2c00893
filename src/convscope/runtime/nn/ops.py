"""The torch pieces every layer module uses: Keras's activations by name, its
glorot_uniform initialiser, and explicit padding (SamePad) for TensorFlow's split of 'same'
padding, the odd pixel after (the numbers: core.explain.step.same_pads).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "linear": lambda x: x,
    "relu": F.relu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "elu": F.elu,
    "selu": F.selu,
    "gelu": lambda x: F.gelu(x, approximate="tanh"),  # Keras 3's gelu default is approximate
    "softplus": F.softplus,
    "softsign": F.softsign,
    "swish": F.silu,
    "silu": F.silu,
    "relu6": F.relu6,
    "leaky_relu": lambda x: F.leaky_relu(x, 0.2),  # keras.activations.leaky_relu's default
    "hard_sigmoid": lambda x: torch.clamp(x / 6 + 0.5, 0, 1),  # Keras 3's definition
    "exponential": torch.exp,
    "mish": F.mish,
}


def glorot_uniform_(weight: Tensor, fan_in: int, fan_out: int) -> None:
    """Keras's glorot_uniform: U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out))."""
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        weight.uniform_(-limit, limit)


def channel_activation(name: str, channel_dim: int) -> Callable[[Tensor], Tensor]:
    """An activation by Keras name; softmax runs over the channels (Keras's last axis)."""
    if name == "softmax":
        return lambda x: torch.softmax(x, dim=channel_dim)
    return ACTIVATIONS[name]


class SamePad(nn.Module):
    """Explicit zero (or -inf) padding: (top, bottom, left, right), TensorFlow's split."""

    def __init__(self, top: int, bottom: int, left: int, right: int, value: float = 0.0) -> None:
        super().__init__()
        self.pads = (left, right, top, bottom)
        self.value = value

    def forward(self, x: Tensor) -> Tensor:
        if not any(self.pads):
            return x
        return F.pad(x, self.pads, value=self.value)
