"""Keras <-> torch weight layouts, so a model's weights map one-to-one onto Keras's.

Keras stores a Conv2D kernel as (kh, kw, in, out), a depthwise kernel as
(kh, kw, in, multiplier), a Dense kernel as (in, out), and BatchNormalization as
[gamma, beta, moving_mean, moving_variance] (gamma/beta only when scale/center); a
Conv2DTranspose kernel as (kh, kw, filters, in) and PReLU's alpha in the input's (H, W, C).
Arrays are plain numpy, in the order `keras_layer.get_weights()` returns them.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..nn.layers import ConvTranspose, PReLU
from ..nn.model import BatchNorm, Conv, Dense, KerasModel


def _copy(target: torch.Tensor, array: np.ndarray) -> None:
    value = torch.as_tensor(np.ascontiguousarray(array), dtype=target.dtype)
    if tuple(value.shape) != tuple(target.shape):
        raise ValueError(f"shape {tuple(value.shape)} does not fit {tuple(target.shape)}")
    with torch.no_grad():
        target.copy_(value)


def _depthwise(kernel: np.ndarray) -> np.ndarray:
    """(kh, kw, in, m) -> (in*m, 1, kh, kw); output channel c*m + j, as torch's groups order."""
    kh, kw, cin, m = kernel.shape
    return kernel.reshape(kh, kw, cin * m).transpose(2, 0, 1)[:, None]


def load_layer(module: nn.Module, arrays: list[np.ndarray]) -> None:
    """Copy one Keras layer's weights into the torch module built for it."""
    if not arrays:
        return
    queue = list(arrays)
    if isinstance(module, Conv):
        kernel = queue.pop(0)
        if module.depthwise:
            _copy(module.conv.weight, _depthwise(kernel))
        else:
            _copy(module.conv.weight, kernel.transpose(3, 2, 0, 1))  # (out, in / groups, kh, kw)
        if module.pointwise is not None:
            _copy(module.pointwise.weight, queue.pop(0).transpose(3, 2, 0, 1))
            target_bias = module.pointwise.bias
        else:
            target_bias = module.conv.bias
        if target_bias is not None:
            _copy(target_bias, queue.pop(0))
    elif isinstance(module, Dense):
        _copy(module.linear.weight, queue.pop(0).T)
        if module.linear.bias is not None:
            _copy(module.linear.bias, queue.pop(0))
    elif isinstance(module, BatchNorm):
        for target in (module.gamma, module.beta, module.running_mean, module.running_var):
            if target is not None:
                _copy(target, queue.pop(0))
    elif isinstance(module, ConvTranspose):  # (kh, kw, filters, in) -> (in, filters, kh, kw)
        _copy(module.conv.weight, queue.pop(0).transpose(3, 2, 0, 1))
        if module.bias is not None:
            _copy(module.bias, queue.pop(0))
    elif isinstance(module, PReLU):
        _copy(module.alpha, queue.pop(0))  # the same (H, W, C) layout as Keras's
    if queue:
        raise ValueError(f"{len(queue)} Keras weight arrays left over for {type(module).__name__}")


def load_keras_weights(model: KerasModel, per_layer: list[list[np.ndarray]]) -> None:
    """Copy weights given per Keras layer (`[layer.get_weights() for layer in model.layers]`)."""
    if len(per_layer) != len(model.layers):
        raise ValueError(f"{len(per_layer)} layers of weights for a model of {len(model.layers)}")
    for module, arrays in zip(model.layers, per_layer, strict=True):
        load_layer(module, arrays)


def layer_arrays(module: nn.Module) -> list[np.ndarray]:
    """The inverse of load_layer: a torch module's weights as Keras's get_weights() lists them."""

    def numpy(t: torch.Tensor) -> np.ndarray:
        return t.detach().float().cpu().numpy()

    if isinstance(module, Conv):
        weight = numpy(module.conv.weight)  # (out, in / groups, kh, kw)
        if module.depthwise:  # (in*m, 1, kh, kw) -> (kh, kw, in, m)
            cin = module.conv.in_channels
            arrays = [weight[:, 0].transpose(1, 2, 0).reshape(*weight.shape[2:], cin, -1)]
        else:
            arrays = [weight.transpose(2, 3, 1, 0)]  # (kh, kw, in, out)
        bias = module.conv.bias
        if module.pointwise is not None:
            arrays.append(numpy(module.pointwise.weight).transpose(2, 3, 1, 0))
            bias = module.pointwise.bias
        return arrays + ([] if bias is None else [numpy(bias)])
    if isinstance(module, Dense):
        bias = module.linear.bias
        return [numpy(module.linear.weight).T] + ([] if bias is None else [numpy(bias)])
    if isinstance(module, BatchNorm):
        targets = (module.gamma, module.beta, module.running_mean, module.running_var)
        return [numpy(t) for t in targets if t is not None]
    if isinstance(module, ConvTranspose):  # (in, filters, kh, kw) -> (kh, kw, filters, in)
        kernel = numpy(module.conv.weight).transpose(2, 3, 1, 0)
        return [kernel] + ([] if module.bias is None else [numpy(module.bias)])
    if isinstance(module, PReLU):
        return [numpy(module.alpha)]
    return []
