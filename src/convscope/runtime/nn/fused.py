"""The training forward pass, rearranged where that computes the same numbers for less.

Max pooling and ReLU commute: max(relu(a), relu(b)) = relu(max(a, b)), because ReLU never
reorders values. So a convolution with activation='relu' followed by MaxPooling2D can pool
first and apply the ReLU to a map a quarter the size. The gradients are the same too: a
positive maximum is the same pixel either way; a window whose maximum is <= 0 passes no
gradient either way (ReLU's derivative is 0 there). On `chollet` this skips the ReLU and
its backward pass over the two largest maps (about 8% of a CPU step, measured side by
side). The ReLU then runs in place on the pooled map, which no other operation keeps for
its backward pass; a convolution or Dense layer's own ReLU runs in place on its output,
and so does a ReLU layer written after a linear one (Conv2D(32, 3), Activation('relu')).

Training runs these stages (`KerasModel.logits_nchw` in train mode, without `keep`), and
so does inference where nothing looks at a layer's own output (no gradient, no tracer, no
forward hook: predict, evaluate, validation), with a convolution and the ReLU after it as
one oneDNN pass there (inference.py): 13% off keras-cifar10-cnn's validation pass, whose
Conv2D and Activation('relu') are separate layers. Feature maps, probes, attribution and
forward hooks (Captum's) see every layer's own output through the plain layer-by-layer
pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch.nn.functional as F
from torch import Tensor, nn

from ...core import spec as s
from .crop import CroppedConv

Stage = Callable[[Tensor], Tensor]


def ends_in_relu(layer: s.Layer) -> bool:
    """A layer whose last step is a plain max(x, 0)."""
    match layer:
        case s.ConvBase() | s.Dense():
            return layer.activation == "relu"
        case s.Activation():
            return layer.activation == "relu"
        case s.ReLU():
            return layer.max_value is None and layer.negative_slope == 0 and layer.threshold == 0
    return False


def is_max_pool(layer: s.Layer) -> bool:
    return isinstance(layer, s.Pooling2D) and layer.op == "max"


@dataclass(frozen=True)
class PoolThenReLU:
    """relu(pool(z)) for a layer `before` that computes relu(z), then the max pool `pool`."""

    before: nn.Module | CroppedConv
    pool: Stage

    def __call__(self, x: Tensor) -> Tensor:
        pre = getattr(self.before, "pre_activation", None)
        z = pre(x) if pre is not None else x  # a ReLU/Activation layer: z is its input
        pooled: Tensor = self.pool(z)  # (N, C, H/2, W/2) for pool_size 2
        return F.relu(pooled, inplace=True)


@dataclass(frozen=True)
class ReLUInPlace:
    """relu(z) written over z for a convolution or Dense layer: their backward passes keep
    their input, not their output, so z is free to overwrite (one map fewer per step)."""

    layer: nn.Module | CroppedConv

    def __call__(self, x: Tensor) -> Tensor:
        with_relu = getattr(self.layer, "with_relu", None)  # fused when inferring
        if with_relu is not None:
            return with_relu(x)  # type: ignore[no-any-return]
        z: Tensor = self.layer.pre_activation(x)  # type: ignore[operator]
        return F.relu(z, inplace=True)


def stages(layers: Sequence[s.Layer], modules: Sequence[nn.Module | CroppedConv]) -> list[Stage]:
    """The modules as a list of steps: each ReLU-then-max-pool pair merged into one, and
    the other convolutions and Dense layers with activation='relu' applying it in place."""
    out: list[Stage] = []
    i = 0
    while i < len(modules):
        nxt = i + 1
        if nxt < len(modules) and ends_in_relu(layers[i]) and is_max_pool(layers[nxt]):
            out.append(PoolThenReLU(modules[i], modules[nxt]))
            i += 2
            continue
        in_place = isinstance(layers[i], (s.ConvBase, s.Dense)) and ends_in_relu(layers[i])
        if relu_layer_follows(layers, i):  # Conv2D(...), Activation('relu'): one in-place step
            out.append(ReLUInPlace(modules[i]))
            i += 2
            continue
        out.append(ReLUInPlace(modules[i]) if in_place else modules[i])
        i += 1
    return out


def relu_layer_follows(layers: Sequence[s.Layer], i: int) -> bool:
    """A linear convolution or Dense layer, then a ReLU layer that no max pool follows
    (that pair pools first instead): the ReLU can overwrite the layer's output, as the
    layer's own activation='relu' would (Keras's cifar10_cnn.py writes them apart)."""
    if i + 1 >= len(layers) or not isinstance(layers[i], (s.ConvBase, s.Dense)):
        return False
    pooled_next = i + 2 < len(layers) and is_max_pool(layers[i + 2])
    linear = getattr(layers[i], "activation", None) == "linear"
    return linear and ends_in_relu(layers[i + 1]) and not pooled_next
