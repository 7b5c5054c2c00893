"""Keras's Dropout with a CPU mask drawn eight or four values per random number.

torch's CPU dropout draws one Mersenne-Twister number per element, on one thread
(`bernoulli_`): on `keras-mnist-cnn` at batch 128 the two Dropout layers took 12.6 ms a
step of 87, more than its Dense layers (benchmarks/train_speed.py). Here one 64-bit draw
gives eight 8-bit lanes where the rate is a multiple of 1/256 (0.25, 0.5, 0.125: exact),
else four 16-bit lanes, each compared with the rate. A value is kept with probability
1 - round(rate * L) / L for L = 256 or 65536 lanes (exactly 1 - rate for 0.25 and 0.5)
and scaled by 1 / (1 - rate) as Keras does. The draws come from torch's default
generator, so `--seed` and a resumed checkpoint repeat the masks. On a GPU, torch's own
dropout (Philox, parallel) is used.

The kept values are multiplied by one float mask (0 or 1 / (1 - rate)), forward and
backward: a single vectorised pass each way, where torch.where then a scaling took two
forward and two backward (4.7 against 3.3 ms a step for the 128x64x12x12 map). The mask
is written by the comparison itself (`torch.ge(..., out=float)`), over memory in order:
with 8-bit lanes, making the masks went from 1.26 to 0.82 ms a keras-cifar10-cnn step and
from 1.48 to 1.19 ms a chollet step (timed inside the training loop), where 16-bit lanes,
a bool mask through 4-D views and its conversion took the longer times.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def lane_bits(rate: float) -> int:
    """8 where `rate` is a whole number of 256ths (kept exactly at 1 - rate), else 16."""
    return 8 if (rate * 256).is_integer() else 16


def lanes(count: int, bits: int, device: torch.device) -> Tensor:
    """`count` uniform int8 or int16 values, 64 // bits per full-range 64-bit draw."""
    per_draw = 64 // bits
    draws = torch.randint(
        -(2**63), 2**63 - 1, (-(-count // per_draw),), dtype=torch.int64, device=device
    )
    return draws.view(torch.int8 if bits == 8 else torch.int16)[:count]


def scaled_mask(x: Tensor, rate: float) -> Tensor | None:
    """0 or 1 / (1 - rate) for each value of x, in x's memory layout and dtype; None for a
    layout this does not handle (the caller then uses torch's dropout)."""
    bits = lane_bits(rate)
    threshold = round(rate * 2**bits) - 2 ** (bits - 1)  # signed lanes start at -L/2
    if x.is_contiguous():
        mask = torch.empty(x.shape, dtype=x.dtype, device=x.device)
        in_memory_order = mask.view(-1)
    elif x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last):
        mask = torch.empty_like(x, memory_format=torch.channels_last)  # (N, C, H, W)
        in_memory_order = mask.permute(0, 2, 3, 1).view(-1)  # (N * H * W * C,)
    else:
        return None
    # Compared flat, in memory order: through the 4-D channels_last views the same
    # comparison ran 8 times slower (232 against 29 us on a 32x32x15x15 map).
    drawn = lanes(x.numel(), bits, x.device)
    torch.ge(drawn, threshold, out=in_memory_order)  # 1.0 where kept, 0.0 where dropped
    return mask.mul_(1.0 / (1.0 - rate))


class Masked(torch.autograd.Function):
    """x * mask with the mask kept for the backward pass: d(x * m)/dx = m."""

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, x: Tensor, mask: Tensor) -> Tensor:
        ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad: Tensor) -> tuple[Tensor, None]:
        (mask,) = ctx.saved_tensors  # type: ignore[attr-defined]
        return grad * mask, None


class Dropout(nn.Module):
    def __init__(self, rate: float) -> None:
        super().__init__()
        self.rate = rate

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.rate == 0:
            return x
        mask = scaled_mask(x, self.rate) if x.device.type == "cpu" else None
        if mask is None:
            return F.dropout(x, self.rate, training=True)
        out: Tensor = Masked.apply(x, mask)  # type: ignore[no-untyped-call]
        return out
