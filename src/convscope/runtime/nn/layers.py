"""Torch modules for the layers that change the grid (Reshape, UpSampling2D, Resizing,
CenterCrop, Conv2DTranspose), PReLU, and Keras's random augmentation layers.

Tensors are (N, C, H, W) inside, as in runtime.nn.model; each module computes what
Keras 3 computes (tested layer by layer against Keras with the same weights). The random
layers change images only in training mode and use torch's global generator, as Dropout
does, so `--seed` repeats a run.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...core import arith
from ...core import spec as s
from ...core.explain.grid import prelu_shape
from ...core.explain.rules import step
from ...core.explain.table import Shape
from .ops import channel_activation, glorot_uniform_

# Keras's torch backend resizes with these interpolate() modes (keras/src/backend/torch/image.py)
RESIZE_MODES = {"nearest": "nearest-exact", "bilinear": "bilinear", "bicubic": "bicubic"}
FILL_MODES = {"reflect": "reflection", "nearest": "border", "constant": "zeros"}


class ReshapeHWC(nn.Module):
    """Keras's Reshape: the values in (H, W, C) order, laid out in the target shape."""

    def __init__(self, target: Shape) -> None:
        super().__init__()
        self.target = target

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() == 4:
            x = x.permute(0, 2, 3, 1)  # (N, H, W, C): Keras's order of the values
        y = x.reshape(x.shape[0], *self.target)  # (N, *target)
        return y.permute(0, 3, 1, 2) if y.dim() == 4 else y  # back to (N, C, H, W)


class Resample(nn.Module):
    """UpSampling2D and Resizing: a new (height, width) grid, interpolated as Keras does."""

    def __init__(self, size: tuple[int, int], interpolation: str) -> None:
        super().__init__()
        self.size, self.mode = size, RESIZE_MODES[interpolation]
        self.align = False if interpolation in ("bilinear", "bicubic") else None

    def forward(self, x: Tensor) -> Tensor:
        return F.interpolate(x, size=self.size, mode=self.mode, align_corners=self.align)


class CenterCrop(nn.Module):
    def __init__(self, layer: s.CenterCrop, shape: Shape) -> None:
        super().__init__()
        self.top, self.left = (shape[0] - layer.height) // 2, (shape[1] - layer.width) // 2
        self.height, self.width = layer.height, layer.width

    def forward(self, x: Tensor) -> Tensor:
        return x[:, :, self.top : self.top + self.height, self.left : self.left + self.width]


def _transposed_pads(layer: s.Conv2DTranspose, size: int, axis: int) -> tuple[int, int]:
    """(before, after) for F.pad on torch's full transposed output: negative cuts values,
    positive adds the positions no input reaches (zeros before the bias)."""
    k, st, d = (p.astuple()[axis] for p in (layer.kernel_size, layer.strides, layer.dilation_rate))
    op = None if layer.output_padding is None else layer.output_padding.astuple()[axis]
    full = (size - 1) * st + arith.effective_kernel(k, d)
    out = arith.transposed_output_size(size, k, st, layer.padding, op, d)
    crop = arith.transposed_crop(k, st, layer.padding, op, d)
    return -crop, out - (full - crop)


class ConvTranspose(nn.Module):
    """Keras's Conv2DTranspose: torch's full transposed convolution, cut (or padded) to the
    size and offset Keras's padding gives, then the bias and the activation."""

    def __init__(self, layer: s.Conv2DTranspose, shape: Shape) -> None:
        super().__init__()
        cin, k = shape[2], layer.kernel_size
        self.conv = nn.ConvTranspose2d(
            cin,
            layer.filters,
            k.astuple(),
            layer.strides.astuple(),
            dilation=layer.dilation_rate.astuple(),
            bias=False,
        )
        # Keras's kernel is (kh, kw, filters, in): fan_in kh*kw*filters, fan_out kh*kw*in.
        glorot_uniform_(self.conv.weight, k.h * k.w * layer.filters, k.h * k.w * cin)
        self.bias = nn.Parameter(torch.zeros(layer.filters)) if layer.use_bias else None
        top, bottom = _transposed_pads(layer, shape[0], 0)
        left, right = _transposed_pads(layer, shape[1], 1)
        self.pads = (left, right, top, bottom)
        self.activation = channel_activation(layer.activation, 1)

    def pre_activation(self, x: Tensor) -> Tensor:
        y = F.pad(self.conv(x), self.pads)  # (N, filters, H_out, W_out)
        return y if self.bias is None else y + self.bias[:, None, None]

    def forward(self, x: Tensor) -> Tensor:
        return self.activation(self.pre_activation(x))


class PReLU(nn.Module):
    """max(0, x) - alpha * max(0, -x), alpha kept in Keras's (H, W, C) layout."""

    def __init__(self, alpha_shape: Shape) -> None:
        super().__init__()
        self.alpha = nn.Parameter(torch.zeros(alpha_shape))  # Keras's alpha_initializer: zeros

    def forward(self, x: Tensor) -> Tensor:
        alpha = self.alpha.permute(2, 0, 1) if self.alpha.dim() == 3 else self.alpha  # (C, H, W)
        return F.relu(x) - alpha * F.relu(-x)


class RandomFlip(nn.Module):
    def __init__(self, mode: str) -> None:
        super().__init__()
        self.horizontal, self.vertical = "horizontal" in mode, "vertical" in mode

    def forward(self, x: Tensor) -> Tensor:
        if not self.training:
            return x
        for on, dim in ((self.horizontal, 3), (self.vertical, 2)):
            if on:
                flip = torch.rand(x.shape[0], device=x.device) < 0.5  # (N,)
                x = torch.where(flip[:, None, None, None], x.flip(dim), x)
        return x


def _uniform(n: int, bounds: tuple[float, float], device: torch.device) -> Tensor:
    low, high = bounds
    return low + (high - low) * torch.rand(n, device=device)  # (N,)


class RandomAffine(nn.Module):
    """RandomRotation, RandomZoom and RandomTranslation: one random affine map per image,
    sampled as Keras fills (reflect, nearest or a constant) and interpolates."""

    def __init__(self, layer: s.RandomTransform) -> None:
        super().__init__()
        self.layer = layer
        self.mode, self.fill = layer.interpolation, FILL_MODES[layer.fill_mode]

    def theta(self, n: int, height: int, width: int, device: torch.device) -> Tensor:
        """(N, 2, 3): output coordinates -> input coordinates, both in [-1, 1] per axis."""
        layer, theta = self.layer, torch.zeros(n, 2, 3, device=device)
        theta[:, 0, 0] = theta[:, 1, 1] = 1.0
        if isinstance(layer, s.RandomRotation):
            angle = _uniform(n, layer.factor, device) * 2 * math.pi  # counter-clockwise
            cos, sin = torch.cos(angle), torch.sin(angle)
            theta[:, 0, 0], theta[:, 0, 1] = cos, -sin * height / width
            theta[:, 1, 0], theta[:, 1, 1] = sin * width / height, cos
        elif isinstance(layer, s.RandomZoom):  # a zoom above 1 reads a wider area: zoomed out
            zoom_h = 1.0 + _uniform(n, layer.height_factor, device)
            zoom_w = (
                zoom_h
                if layer.width_factor is None
                else 1.0 + _uniform(n, layer.width_factor, device)
            )
            theta[:, 0, 0], theta[:, 1, 1] = zoom_w, zoom_h
        elif isinstance(layer, s.RandomTranslation):  # positive moves the image down / right
            theta[:, 0, 2] = -2 * _uniform(n, layer.width_factor, device)
            theta[:, 1, 2] = -2 * _uniform(n, layer.height_factor, device)
        return theta

    def forward(self, x: Tensor) -> Tensor:
        if not self.training:
            return x
        n, _, height, width = x.shape
        theta = self.theta(n, height, width, x.device).to(x.dtype)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)  # (N, H, W, 2)
        moved = F.grid_sample(x, grid, mode=self.mode, padding_mode=self.fill, align_corners=False)
        if self.layer.fill_mode == "constant" and self.layer.fill_value:
            inside = F.grid_sample(
                torch.ones_like(x[:, :1]), grid, mode=self.mode, align_corners=False
            )
            moved = moved + (1 - inside) * self.layer.fill_value
        return moved


def grid_module(layer: s.Layer, shape: Shape) -> nn.Module | None:
    """The module for one of this file's layers, or None for the others."""
    match layer:
        case s.Reshape():
            return ReshapeHWC(step(layer, shape, "").output_shape)
        case s.UpSampling2D():
            return Resample((shape[0] * layer.size.h, shape[1] * layer.size.w), layer.interpolation)
        case s.Resizing():
            return Resample((layer.height, layer.width), layer.interpolation)
        case s.CenterCrop():
            return CenterCrop(layer, shape)
        case s.Conv2DTranspose():
            return ConvTranspose(layer, shape)
        case s.PReLU():
            return PReLU(prelu_shape(layer, shape, ""))
        case s.RandomFlip():
            return RandomFlip(layer.mode)
        case s.RandomTransform():
            return RandomAffine(layer)
    return None
