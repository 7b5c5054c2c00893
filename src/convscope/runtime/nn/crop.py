"""Pixels that no output reads, left uncomputed in training and inference.

A 'valid' 2x2 max pool over an odd map drops its last row and column. On Keras's
cifar10_cnn.py the fourth convolution's 13x13 map is pooled to 6x6, so its row 12 and
column 12 reach nothing; that convolution then reads only 14 of the third one's 15 rows,
and the third computes 14x14 of its 15x15 outputs. Chollet's MNIST convnet drops a row
the same way (11 -> 5), and with it 2 of the first convolution's 26 rows. Reading the
chain backwards from the Flatten, core/explain/unread.py finds how many leading rows and
columns of each layer's output some later layer reads; a convolution computes only those
(`CroppedConv`): 144 instead of 169 and 196 instead of 225 positions on cifar10_cnn.

The numbers are the ones the whole maps give: each output the loss sees is computed from
the same pixels and weights (a 'same' convolution keeps the zero padding before it and
pads after only where it read padding), and the outputs left out would have received a
zero gradient. Only the sums over positions (the kernels' gradients) may add in another
order (tests/runtime/test_crop.py: to 1e-5 of their scale). Inference runs the same
stages (fused.py); every view of a layer's output (feature maps, probes, attribution's
hooks) runs the whole maps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch.nn.functional as F
from torch import Tensor, nn

from ...core import spec as s
from ...core.explain.table import Shape
from ...core.explain.unread import conv_reads, cropped
from . import inference

if TYPE_CHECKING:  # model.py builds the stages from this module
    from .model import Conv


@dataclass(frozen=True)
class CroppedConv:
    """A convolution layer (`Conv`) computing only its first rows x cols outputs: it reads
    the input's first `rows_in` x `cols_in` pixels with `pads` (top, bottom, left, right)
    around them, the zeros before as the whole map has them and after only where the
    whole map's windows read padding too."""

    layer: Conv  # whose weights it uses
    rows_in: int
    cols_in: int
    pads: tuple[int, int, int, int]

    def read(self, x: Tensor) -> tuple[Tensor, tuple[int, int]]:
        """The pixels read, padded, and the padding left to the convolution."""
        x = x[:, :, : self.rows_in, : self.cols_in]  # (N, C, rows_in, cols_in)
        top, bottom, left, right = self.pads
        if (top, left) != (bottom, right):  # torch's own padding is the same on both sides
            return F.pad(x, (left, right, top, bottom)), (0, 0)
        return x, (top, left)

    def pre_activation(self, x: Tensor) -> Tensor:
        conv = self.layer.conv
        x, padding = self.read(x)
        y = F.conv2d(x, conv.weight, conv.bias, conv.stride, padding, conv.dilation, conv.groups)
        pointwise = self.layer.pointwise
        return y if pointwise is None else pointwise(y)  # (N, C_out, rows, cols)

    def __call__(self, x: Tensor) -> Tensor:
        if self.layer.relu:
            return self.with_relu(x)
        return self.layer.activation(self.pre_activation(x))

    def with_relu(self, x: Tensor) -> Tensor:
        """As Conv.with_relu."""
        conv = self.layer.conv
        if self.layer.pointwise is None and inference.can_fuse(x, conv.weight):
            return inference.conv_relu(conv, *self.read(x))
        return F.relu(self.pre_activation(x), inplace=True)


def crop(
    layers: Sequence[s.Layer], modules: Sequence[nn.Module], shapes: Sequence[Shape]
) -> list[nn.Module | CroppedConv]:
    """The chain's modules, each convolution whose later layers read only part of its
    output replaced by one computing that part."""
    out: list[nn.Module | CroppedConv] = list(modules)
    for i, wanted in cropped(layers, shapes).items():
        layer = layers[i]
        assert isinstance(layer, s.ConvBase)
        out[i] = CroppedConv(modules[i], *conv_reads(layer, shapes[i], wanted))  # type: ignore[arg-type]
    return out
