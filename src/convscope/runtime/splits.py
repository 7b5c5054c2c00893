"""A data set's images as the model's input: scaled, in the model's layout, on the device.

A small data set (MNIST, CIFAR) becomes one float tensor, so batches are gathered by
index with no per-sample Python. One whose float copy would pass `LAZY_BYTES` (a folder
of 25,000 photos at 180 x 180 is 9.7 GB as float32) stays as uint8 rows, often a
cache file, and each batch is made float when it is taken: memory stays
bounded by the cache, which the operating system pages in and out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..core import spec as s
from ..core.errors import ConvscopeError

LAZY_BYTES = 1 << 30  # a float32 copy above 1 GiB is made batch by batch


def divides_by_255(model: s.ModelSpec, scale: bool) -> bool:
    """x / 255 as the seeds do for MNIST and CIFAR (`scale`), unless the model rescales
    itself: a Rescaling layer, after any augmentation layers, receives 0..255 as Keras
    gives it. Arrays and folders of the user's own are never scaled: Keras's fit() and
    image_dataset_from_directory hand the model the values as they are."""
    if not scale:
        return False
    for layer in model.layers:
        if isinstance(layer, s.Rescaling):
            return False
        if layer.kind is not s.LayerKind.AUGMENT:
            return True
    return True


def as_input(x: Tensor, model: s.ModelSpec) -> Tensor:
    """float (N, H, W[, C]) or (N, F) -> (N, C, H, W) channels_last, or (N, F) for a model
    that starts flat (Keras's flattening order); a clear error when the shapes differ."""
    shape, expected = tuple(x.shape[1:]), model.input_shape
    if x.dim() == 2:  # (N, F): a flat model's own input, as given
        if expected == shape:
            return x
        raise ConvscopeError(f"the model takes {expected}, these inputs are {shape}")
    if x.dim() == 3:
        x = x.unsqueeze(-1)  # (N, H, W, 1)
        shape = (*shape, 1)
    if expected == shape:
        return x.permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)  # (N, C, H, W)
    if expected == (math.prod(shape),):
        return x.flatten(1)  # (N, H*W*C) for models that start with Dense
    h, w, c = shape
    raise ConvscopeError(
        f"the model takes inputs of shape {expected}, but these images are {h}x{w} with "
        f"{c} channel{'s' * (c > 1)}",
        where=model.source,
        hint=f"use input_shape=({h}, {w}, {c}), or --input-shape {h},{w},{c}; for a folder "
        "of images, --image-size and --color-mode make them fit the model instead",
    )


def pixels(
    images: np.ndarray, model: s.ModelSpec, device: torch.device, scale: bool = True
) -> Tensor:
    """Images (N, H, W) grey or (N, H, W, C), uint8 or float, -> the model's input."""
    x = torch.tensor(np.asarray(images), dtype=torch.float32, device=device)  # (N, H, W[, C])
    if divides_by_255(model, scale):
        x = x / 255.0
    return as_input(x, model)


class LazyImages:
    """Rows of images kept as they are stored; each batch taken becomes the model's input."""

    def __init__(
        self, rows: Any, model: s.ModelSpec, device: torch.device, scale: bool,
        start: int = 0, stop: int | None = None,
    ) -> None:  # fmt: skip
        self.rows, self.model, self.device, self.scale = rows, model, device, scale
        self.start, self.stop = start, len(rows) if stop is None else stop
        if len(self):
            self[torch.zeros(1, dtype=torch.int64)]  # a shape that does not fit fails now

    def __len__(self) -> int:
        return self.stop - self.start

    def part(self, start: int, stop: int) -> LazyImages:
        return LazyImages(self.rows, self.model, self.device, self.scale,
                          self.start + start, self.start + min(stop, len(self)))  # fmt: skip

    def __getitem__(self, key: slice | Tensor) -> Tensor:
        index = np.arange(len(self))[key] if isinstance(key, slice) else key.cpu().numpy()
        return pixels(self.rows[self.start + index], self.model, self.device, self.scale)


@dataclass
class Split:
    """Inputs for one purpose, (N, C, H, W) or (N, F) (whole, or LazyImages), labels (N,)."""

    x: Tensor | LazyImages
    y: Tensor

    def __len__(self) -> int:
        return int(self.y.shape[0])

    @property
    def device(self) -> torch.device:
        return self.x.device

    def part(self, start: int, stop: int) -> Split:
        """Samples start..stop, sharing memory."""
        x = self.x.part(start, stop) if isinstance(self.x, LazyImages) else self.x[start:stop]
        return Split(x, self.y[start:stop])


def to_split(
    images: Any,
    labels: np.ndarray,
    model: s.ModelSpec,
    device: torch.device,
    scale: bool = True,
) -> Split:
    """A data set's images and integer labels as the model's input and targets."""
    targets = torch.from_numpy(np.asarray(labels).astype(np.int64)).to(device)  # (N,)
    if math.prod(images.shape) * 4 > LAZY_BYTES:
        return Split(LazyImages(images, model, device, scale), targets)
    return Split(pixels(images, model, device, scale), targets)


def validation_split(train: Split, fraction: float) -> tuple[Split, Split]:
    """Keras's validation_split: the *last* fraction of the training data, before shuffling."""
    if not 0.0 < fraction < 1.0:
        raise ConvscopeError(f"--validation-split must be between 0 and 1, got {fraction}")
    split_at = math.floor(len(train) * (1.0 - fraction))
    return train.part(0, split_at), train.part(split_at, len(train))
