"""Random shifts and rotations of a training batch, on its device, without Python loops.

A rotation is one affine_grid + grid_sample over the batch (bilinear); a shift is an exact
gather of whole pixels, so a shifted digit keeps its values bit for bit. Settings and
their meaning: core/augment.py.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor
from torch.nn import functional as F

from ..core.augment import Augment


def rotate_batch(x: Tensor, degrees: Tensor) -> Tensor:
    """(B, C, H, W) images turned about their centres; uncovered corners become 0."""
    n, _, height, width = x.shape
    angle = torch.deg2rad(degrees).to(x.device, x.dtype)  # (B,)
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.zeros(n, 2, 3, device=x.device, dtype=x.dtype)  # output -> input coordinates
    # grid_sample's x runs over the width and y over the height, each in [-1, 1]: scale the
    # off-diagonal terms so that non-square images turn as true rotations in pixels
    theta[:, 0, 0], theta[:, 0, 1] = cos, -sin * height / width
    theta[:, 1, 0], theta[:, 1, 1] = sin * width / height, cos
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)  # (B, H, W, 2)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def shift_batch(x: Tensor, dy: Tensor, dx: Tensor, most: int) -> Tensor:
    """(B, C, H, W) images moved down by dy and right by dx whole pixels (|d| <= most)."""
    n, _, height, width = x.shape
    padded = F.pad(x, (most, most, most, most)).permute(0, 2, 3, 1)  # (B, H+2m, W+2m, C)
    rows = torch.arange(height, device=x.device) + most - dy.to(x.device)[:, None]  # (B, H)
    cols = torch.arange(width, device=x.device) + most - dx.to(x.device)[:, None]  # (B, W)
    batch = torch.arange(n, device=x.device)[:, None, None]  # (B, 1, 1)
    moved = padded[batch, rows[:, :, None], cols[:, None, :]]  # (B, H, W, C)
    return moved.permute(0, 3, 1, 2)  # (B, C, H, W)


def augment_batch(x: Tensor, aug: Augment, rng: torch.Generator) -> Tensor:
    """(B, C, H, W) or flattened (B, H*W) images -> the same, randomly turned and shifted.

    Per image: an angle uniform in [-rotate, rotate] degrees, then a shift of whole pixels
    in [-shift, shift] on each axis. The random numbers come from `rng` (on the CPU), so
    a run's checkpoint can store its state and a resumed run draws the same ones.
    """
    flat = x.dim() == 2
    if flat:  # a model that starts with Dense takes (B, 784): a square one-channel image
        side = math.isqrt(x.shape[1])
        x = x.view(-1, 1, side, side)  # (B, 1, H, W)
    n = x.shape[0]
    degrees = (torch.rand(n, generator=rng) * 2 - 1) * aug.rotate  # (B,)
    dy = torch.randint(-aug.shift, aug.shift + 1, (n,), generator=rng)  # (B,)
    dx = torch.randint(-aug.shift, aug.shift + 1, (n,), generator=rng)  # (B,)
    if aug.rotate:
        x = rotate_batch(x, degrees)
    if aug.shift:
        x = shift_batch(x, dy, dx, aug.shift)
    if flat:
        return x.flatten(1)  # (B, H*W)
    return x.contiguous(memory_format=torch.channels_last)  # (B, C, H, W)
